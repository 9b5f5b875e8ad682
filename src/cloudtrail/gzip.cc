#include "cloudtrail/gzip.h"

#include <isa-l/igzip_lib.h>

#include <algorithm>
#include <cstring>

namespace cairn::cloudtrail {

namespace {

constexpr size_t kInputBufferBytes = 256 << 10;

std::string_view InflateErrorName(int rc) {
  switch (rc) {
    case ISAL_INVALID_BLOCK:
      return "invalid deflate block";
    case ISAL_INVALID_SYMBOL:
      return "invalid deflate symbol";
    case ISAL_INVALID_LOOKBACK:
      return "invalid deflate back-reference distance";
    case ISAL_INVALID_WRAPPER:
      return "invalid gzip header or trailer";
    case ISAL_UNSUPPORTED_METHOD:
      return "unsupported compression method";
    case ISAL_INCORRECT_CHECKSUM:
      return "CRC-32 or length mismatch in the gzip trailer";
    case ISAL_NEED_DICT:
      return "stream needs a preset dictionary";
    default:
      return "inflate failed";
  }
}

class GunzipFile final : public SequentialFile {
 public:
  GunzipFile(std::unique_ptr<SequentialFile> in, std::string name, uint64_t max_out)
      : in_(std::move(in)),
        name_(std::move(name)),
        max_out_(max_out),
        state_(new inflate_state),  // not value-initialised: isal_inflate_init sets it up
        in_buf_(new uint8_t[kInputBufferBytes]) {
    isal_inflate_init(state_.get());
    state_->next_in = in_buf_.get();
    state_->avail_in = 0;
  }

  Result<size_t> Read(char* buf, size_t n) override {
    if (!error_.ok()) return error_;
    size_t produced = 0;
    while (produced < n && !finished_) {
      Status st = Step(buf + produced, n - produced, &produced);
      if (!st.ok()) {
        error_ = st;
        return error_;
      }
    }
    return produced;
  }

 private:
  // Compressed offset of the next unread input byte.
  uint64_t InputOffset() const {
    return in_base_ + static_cast<uint64_t>(state_->next_in - in_buf_.get());
  }

  // Moves the unread input to the front of the buffer and reads more. Sets
  // in_eof_ at the end.
  Status FillInput() {
    size_t left = state_->avail_in;
    if (left == kInputBufferBytes) {
      return InvalidArgument("{}: gzip decoder stalled at compressed byte {}", name_,
                             InputOffset());
    }
    size_t consumed = static_cast<size_t>(state_->next_in - in_buf_.get());
    if (left > 0 && consumed > 0) std::memmove(in_buf_.get(), state_->next_in, left);
    in_base_ += consumed;
    state_->next_in = in_buf_.get();
    auto got = in_->Read(reinterpret_cast<char*>(in_buf_.get()) + left, kInputBufferBytes - left);
    if (!got.ok()) return got.status();
    if (*got == 0) in_eof_ = true;
    state_->avail_in = static_cast<uint32_t>(left + *got);
    return Status::Ok();
  }

  // One unit of progress: start a member, feed input, or inflate into [out,
  // out+room).
  Status Step(char* out, size_t room, size_t* produced) {
    if (between_members_) {
      // Need two bytes to tell another member from garbage (or one byte to see
      // the end).
      if (state_->avail_in < 2 && !in_eof_) return FillInput();
      if (state_->avail_in == 0) {
        if (members_ == 0) return InvalidArgument("{}: empty input, not a gzip stream", name_);
        finished_ = true;
        return Status::Ok();
      }
      if (!LooksGzipped(
              std::string_view(reinterpret_cast<const char*>(state_->next_in), state_->avail_in))) {
        if (members_ == 0) {
          return InvalidArgument("{}: not a gzip stream (no 1f 8b magic at compressed byte {})",
                                 name_, InputOffset());
        }
        return InvalidArgument(
            "{}: trailing garbage after gzip member {} at "
            "compressed byte {} (expected end of "
            "input or another gzip member)",
            name_, members_, InputOffset());
      }
      uint8_t* next_in = state_->next_in;
      uint32_t avail_in = state_->avail_in;
      isal_inflate_reset(state_.get());
      state_->next_in = next_in;
      state_->avail_in = avail_in;
      state_->crc_flag = ISAL_GZIP;
      member_start_ = InputOffset();
      between_members_ = false;
      ++members_;
      return Status::Ok();
    }

    if (state_->avail_in == 0 && !in_eof_) RETURN_IF_ERROR(FillInput());

    // Allow one byte more than the cap so that exceeding it is seen, not
    // silently cut.
    uint64_t left = max_out_ - std::min(max_out_, total_out_);
    uint64_t allowed = left == UINT64_MAX ? left : left + 1;
    size_t chunk = static_cast<size_t>(std::min<uint64_t>({room, allowed, UINT32_MAX}));
    state_->next_out = reinterpret_cast<uint8_t*>(out);
    state_->avail_out = static_cast<uint32_t>(chunk);
    uint32_t in_before = state_->avail_in;
    int rc = isal_inflate(state_.get());
    size_t got = chunk - state_->avail_out;
    *produced += got;
    total_out_ += got;
    if (rc < 0) {
      // ISA-L reads ahead, so where it notices the damage is approximate; discount the bits it
      // holds but has not decoded.
      uint64_t at = InputOffset() - std::min<uint64_t>(InputOffset(), state_->read_in_length / 8);
      return InvalidArgument(
          "{}: corrupt gzip data at about compressed byte {} (member {} starts at {}): {}", name_,
          at, members_, member_start_, InflateErrorName(rc));
    }
    if (total_out_ > max_out_) {
      return ResourceExhausted(
          "{}: decompressed size exceeds the cap of {} bytes "
          "(max_decompressed_bytes) at "
          "compressed byte {}; a gzip bomb, or raise the cap",
          name_, max_out_, InputOffset());
    }
    if (state_->block_state == ISAL_BLOCK_FINISH) {
      between_members_ = true;
      return Status::Ok();
    }
    if (got == 0 && state_->avail_in == in_before) {
      // No progress: ISA-L wants more input than it has (e.g. a header split
      // across reads).
      if (!in_eof_) return FillInput();
      return InvalidArgument(
          "{}: truncated gzip stream: input ends at "
          "compressed byte {} inside member {} (which "
          "starts at compressed byte {})",
          name_, InputOffset(), members_, member_start_);
    }
    return Status::Ok();
  }

  std::unique_ptr<SequentialFile> in_;
  std::string name_;
  uint64_t max_out_;
  std::unique_ptr<inflate_state> state_;
  std::unique_ptr<uint8_t[]> in_buf_;
  uint64_t in_base_ = 0;       // compressed offset of in_buf_[0]
  uint64_t member_start_ = 0;  // compressed offset of the current member's header
  uint64_t total_out_ = 0;
  int members_ = 0;
  bool in_eof_ = false;
  bool between_members_ = true;
  bool finished_ = false;
  Status error_;
};

}  // namespace

std::unique_ptr<SequentialFile> NewGunzipFile(std::unique_ptr<SequentialFile> compressed,
                                              std::string name, uint64_t max_decompressed) {
  return std::make_unique<GunzipFile>(std::move(compressed), std::move(name), max_decompressed);
}

}  // namespace cairn::cloudtrail
