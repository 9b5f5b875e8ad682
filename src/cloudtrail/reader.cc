#include "cloudtrail/reader.h"

#include <openssl/evp.h>
#include <openssl/sha.h>
#include <simdjson.h>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <cstring>
#include <functional>
#include <new>
#include <optional>
#include <vector>

#include "cloudtrail/gzip.h"
#include "cloudtrail/scan.h"
#include "common/digest.h"
#include "common/json_util.h"
#include "common/time_util.h"

namespace cairn::cloudtrail {

namespace {

// Bytes kept allocated after the buffer's end: simdjson reads up to
// SIMDJSON_PADDING bytes past a document (their content does not matter), so
// every record parsed in place needs them.
constexpr size_t kPad = 64;
static_assert(kPad >= simdjson::SIMDJSON_PADDING && kPad >= kScanPadding && kPad >= kJsonPadding);
constexpr size_t kInitialBuffer = 1 << 20;
constexpr size_t kMinRead = 128 << 10;
constexpr size_t kArenaBytes = 1 << 20;  // streamed records are copied into arenas of this size
constexpr uint64_t kNoPin = UINT64_MAX;

// ---------------------------------------------------------------------------------------------
// Source wrappers.

// Counts the bytes read from the underlying source (compressed bytes for gzip
// input).
class CountingFile final : public SequentialFile {
 public:
  CountingFile(std::unique_ptr<SequentialFile> in, uint64_t* count)
      : in_(std::move(in)), count_(count) {}
  Result<size_t> Read(char* buf, size_t n) override {
    auto got = in_->Read(buf, n);
    if (got.ok()) *count_ += *got;
    return got;
  }

 private:
  std::unique_ptr<SequentialFile> in_;
  uint64_t* count_;
};

// Passes a file's bytes through SHA-256 as they are read (ReaderOptions::sha256): the hash costs
// no second pass over the decoded text.
class HashingFile final : public SequentialFile {
 public:
  HashingFile(std::unique_ptr<SequentialFile> in, EVP_MD_CTX* ctx)
      : in_(std::move(in)), ctx_(ctx) {}
  Result<size_t> Read(char* buf, size_t n) override {
    auto got = in_->Read(buf, n);
    if (got.ok() && *got > 0) EVP_DigestUpdate(ctx_, buf, *got);
    return got;
  }

 private:
  std::unique_ptr<SequentialFile> in_;
  EVP_MD_CTX* ctx_;
};

// SHA-256 fetched once: EVP_sha256() makes OpenSSL 3 look the implementation up again at every
// EVP_DigestInit_ex, a cost paid per file.
const EVP_MD* Sha256Md() {
  static EVP_MD* md = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
  return md != nullptr ? md : EVP_sha256();
}

struct DigestCtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

// Serves bytes already read from a source, then what reading them ended with: an error, the end
// of input, or more of the source. Used for the magic-number peek (owning both) and to hand a
// whole-file read that did not take the fast path to the streaming reader.
class ReplayFile final : public SequentialFile {
 public:
  ReplayFile(std::string head, std::unique_ptr<SequentialFile> in)
      : owned_head_(std::move(head)), owned_in_(std::move(in)) {
    head_ = owned_head_;
    in_ = owned_in_.get();
  }
  ReplayFile(std::string_view head, Status after, bool at_end, SequentialFile* in)
      : head_(head), after_(std::move(after)), at_end_(at_end), in_(in) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (used_ < head_.size()) {
      size_t k = std::min(n, head_.size() - used_);
      std::memcpy(buf, head_.data() + used_, k);
      used_ += k;
      return k;
    }
    if (!after_.ok()) return after_;
    if (at_end_) return size_t{0};
    return in_->Read(buf, n);
  }

 private:
  std::string owned_head_;
  std::unique_ptr<SequentialFile> owned_in_;
  std::string_view head_;
  Status after_;
  bool at_end_ = false;
  size_t used_ = 0;
  SequentialFile* in_ = nullptr;
};

inline bool IsJsonSpace(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// Where the raw member `key` of the (valid) JSON object text [p, p+n) has its
// value, as an offset and length within the text. Member names are compared as
// written (not unescaped).
bool FindMemberSpan(const char* p, size_t n, std::string_view key, size_t* value_off,
                    size_t* value_len) {
  const char* end = p + n;
  const char* q = p;
  auto skip_space = [&] {
    while (q < end && IsJsonSpace(*q)) ++q;
  };
  ScanState st;
  auto skip_value = [&]() -> bool {
    if (q < end && (*q == '"' || *q == '{' || *q == '[')) {
      st.Start(*q);
      return ScanValue(q, end, st) == Scan::kDone;
    }
    while (q < end && !IsJsonSpace(*q) && *q != ',' && *q != '}' && *q != ']') ++q;
    return true;
  };
  skip_space();
  if (q == end || *q != '{') return false;
  ++q;
  for (;;) {
    skip_space();
    if (q == end || *q != '"') return false;
    const char* key_begin = q + 1;
    if (!skip_value()) return false;
    std::string_view name(key_begin, static_cast<size_t>(q - 1 - key_begin));
    skip_space();
    if (q == end || *q != ':') return false;
    ++q;
    skip_space();
    const char* value_begin = q;
    if (!skip_value()) return false;
    if (name == key) {
      *value_off = static_cast<size_t>(value_begin - p);
      *value_len = static_cast<size_t>(q - value_begin);
      return true;
    }
    skip_space();
    if (q == end || *q != ',') return false;
    ++q;
  }
}

// "'x'" for a printable byte, "byte 0xNN" otherwise, "end of input" for -1.
std::string Describe(int c) {
  if (c < 0) return "end of input";
  if (c >= 0x20 && c < 0x7f) return fmt::format("'{}'", static_cast<char>(c));
  return fmt::format("byte 0x{:02x}", c);
}

// Where a record sits, which decides what it may be besides a plain event.
enum class Ctx {
  kTop,        // the file's only top-level object: may also be a digest or a
               // notification
  kElement,    // an element of a top-level array, "Records" or "Events"
  kLine,       // a later top-level object of an NDJSON file
  kUnwrapped,  // the event inside a CloudTrailEvent string or an EventBridge
               // "detail"
};

inline bool AsString(simdjson::dom::element value, std::string_view* out) {
  return value.get_string().get(*out) == simdjson::SUCCESS;
}

// The top-level members of one record that the reader looks at.
struct Fields {
  std::string_view event_time, event_id, event_type, event_source, recipient_account,
      identity_account, cloudtrail_event, detail_type;
  bool has_time = false, time_not_string = false, has_event_id = false;
  bool has_cloudtrail_event = false, has_detail_object = false, has_detail_type = false;
  bool has_records = false, has_digest_start = false, has_log_files = false;
  bool has_s3_bucket = false, has_s3_object_key = false, has_topic_arn = false, has_message = false;
};

// Reads the members of one record that the reader looks at; `detail` receives an object-valued
// "detail" member (an EventBridge envelope).
void ReadFields(simdjson::dom::object obj, Fields* f, simdjson::dom::element* detail) {
  for (simdjson::dom::key_value_pair member : obj) {
    std::string_view k = member.key;
    switch (k.size()) {
      case 6:
        if (k == "detail" && member.value.is_object()) {
          f->has_detail_object = true;
          *detail = member.value;
        }
        break;
      case 7:
        if (k == "eventID") {
          f->has_event_id = AsString(member.value, &f->event_id);
        } else if (k == "Records") {
          f->has_records = true;
        } else if (k == "Message") {
          f->has_message = true;
        }
        break;
      case 8:
        if (k == "logFiles") {
          f->has_log_files = true;
        } else if (k == "s3Bucket") {
          f->has_s3_bucket = true;
        } else if (k == "TopicArn") {
          f->has_topic_arn = true;
        }
        break;
      case 9:
        if (k == "eventTime") {
          f->has_time = AsString(member.value, &f->event_time);
          f->time_not_string = !f->has_time;
        } else if (k == "eventType") {
          AsString(member.value, &f->event_type);
        }
        break;
      case 11:
        if (k == "eventSource") {
          AsString(member.value, &f->event_source);
        } else if (k == "detail-type") {
          f->has_detail_type = AsString(member.value, &f->detail_type);
        } else if (k == "s3ObjectKey") {
          f->has_s3_object_key = true;
        }
        break;
      case 12:
        if (k == "userIdentity") {
          simdjson::dom::object identity;
          if (member.value.get_object().get(identity) == simdjson::SUCCESS) {
            simdjson::dom::element account;
            if (identity["accountId"].get(account) == simdjson::SUCCESS) {
              AsString(account, &f->identity_account);
            }
          }
        }
        break;
      case 15:
        if (k == "CloudTrailEvent") {
          f->has_cloudtrail_event = AsString(member.value, &f->cloudtrail_event);
        } else if (k == "digestStartTime") {
          f->has_digest_start = true;
        }
        break;
      case 18:
        if (k == "recipientAccountId") {
          AsString(member.value, &f->recipient_account);
        }
        break;
      default: break;
    }
  }
}

// Whether a record with an eventTime is an event: not when it is another service's notification
// (eventSource "aws:...") or its eventTime is not ISO 8601. Sets *time_ms when it is one.
enum class EventCheck { kEvent, kNotification, kBadTime };
EventCheck CheckEvent(const Fields& f, int64_t* time_ms) {
  if (f.event_source.size() > 4 && f.event_source.substr(0, 4) == "aws:") {
    return EventCheck::kNotification;
  }
  std::optional<int64_t> t = ParseIso8601Millis(f.event_time);
  if (!t) return EventCheck::kBadTime;
  *time_ms = *t;
  return EventCheck::kEvent;
}

// What an event carries besides its bytes and time, from its fields: the account
// (recipientAccountId, else userIdentity.accountId), the eventID ("" when absent: then a content
// hash) and whether it is an Insights event.
struct Identity {
  std::string_view account, event_id;
  bool insight = false;
};
Identity IdentityOf(const Fields& f) {
  return {!f.recipient_account.empty() ? f.recipient_account : f.identity_account,
          f.has_event_id ? f.event_id : std::string_view(), f.event_type == "AwsCloudTrailInsight"};
}

// A member name's text as written (not unescaped): between the opening quote at `quote` and the
// last quote before the colon at `colon`.
std::string_view RawKey(const char* doc, uint32_t quote, uint32_t colon) {
  uint32_t end = colon;
  while (end > quote + 1 && IsJsonSpace(doc[end - 1])) --end;
  if (end <= quote + 1 || doc[end - 1] != '"') return {};
  return std::string_view(doc + quote + 1, end - 1 - (quote + 1));
}

struct FreeBuffer {
  void operator()(const char* p) const { std::free(const_cast<char*>(p)); }
};

// Per reader thread: the whole-file buffer and the parser that reads files whole, kept across
// files so neither is allocated (nor its pages faulted in) once per file.
struct WholeFile {
  struct Record {
    uint32_t off = 0, len = 0;  // the record's span in the document, from the structural walk
    int64_t time_ms = 0;        // the rest from the parsed document
    Identity id;
  };
  std::unique_ptr<char, FreeBuffer> buf;  // malloc'd, so it can grow by realloc
  size_t cap = 0;
  simdjson::dom::parser parser;
  std::vector<Record> records;
};

WholeFile& ThreadWholeFile() {
  thread_local WholeFile w;
  return w;
}

// ---------------------------------------------------------------------------------------------

class FileReader {
 public:
  FileReader(SequentialFile* in, std::string_view source, const ReaderOptions& options,
             const EventFn& fn, FileSummary* summary, uint64_t size_hint)
      : in_(in), size_hint_(size_hint), source_(source), opt_(options), fn_(fn), sum_(summary) {
    std::unique_ptr<char[]> name(new char[source_.size() + kJsonPadding]);  // SharedText's padding
    std::memcpy(name.get(), source_.data(), source_.size());
    source_view_ = std::string_view(name.get(), source_.size());
    source_buffer_ = std::shared_ptr<const char[]>(name.release());
  }

  Status Run();
  uint64_t decoded() const { return decoded_; }

 private:
  Result<bool> TryWholeFile();
  bool ParseWholeRecords(WholeFile& w, const char* doc, size_t n);
  Status Deliver(const char* p, size_t n, int64_t time_ms, const Identity& id);
  uint64_t Abs(size_t index) const { return base_ + index; }
  char* At(uint64_t abs) { return buf_.get() + (abs - base_); }

  Result<bool> More();
  Result<int> PeekNonSpace();
  // `check_kinds`: see ScanState; off for values simdjson parses afterwards (records).
  Status ScanAt(uint64_t start, std::string_view what, bool check_kinds = true);
  Status SkipMemberValue(uint64_t object_start);
  Status ReadArray(FileShape shape);
  Status ReadTopObject();
  Status ReadNdjsonTail(uint64_t first_end);
  Status ExpectEnd(std::string_view what, uint64_t doc_end);
  Status ProcessRecord(const char* p, size_t n, uint64_t off, Ctx ctx);
  Status Emit(const char* p, size_t n, uint64_t off, const Fields& f);
  Status JsonError(simdjson::error_code err, const char* p, size_t n, uint64_t off, Ctx ctx);

  SequentialFile* in_;
  std::unique_ptr<ReplayFile>
      replay_;          // in_ after a whole-file read that did not take the fast path
  uint64_t size_hint_;  // the expected decoded size, 0 when unknown
  std::string source_;
  const ReaderOptions& opt_;
  const EventFn& fn_;
  FileSummary* sum_;

  // The read buffer: bytes [0, end_) hold decoded stream offsets [base_, base_
  // + end_). Everything before pos_ has been consumed; bytes from pin_ on (an
  // absolute offset) are kept across refills because a value that starts there
  // is still being scanned.
  std::unique_ptr<char[]> buf_;
  size_t cap_ = 0;
  size_t pos_ = 0;
  size_t end_ = 0;
  uint64_t base_ = 0;
  uint64_t decoded_ = 0;
  uint64_t pin_ = kNoPin;
  bool eof_ = false;
  bool saw_newline_ = false;

  ScanState scan_;
  simdjson::dom::parser parser_;
  std::shared_ptr<const char[]> shared_;  // the whole file, when events are views into it
  // Where streamed records are copied (written only here, before the views are handed out).
  std::shared_ptr<const char[]> arena_;
  size_t arena_size_ = 0, arena_used_ = 0;
  std::shared_ptr<const char[]> source_buffer_;  // source_, shared by every event of the file
  std::string_view source_view_;
  std::unique_ptr<char[]> scratch_;  // an unescaped CloudTrailEvent string, padded
  size_t scratch_cap_ = 0;
  Event ev_;
};

// Appends more of the stream to the buffer, compacting or growing it first.
// False at the end.
Result<bool> FileReader::More() {
  if (eof_) return false;
  if (!buf_) {  // the streaming buffer is made on first use: the whole-file path needs none
    buf_.reset(new char[kInitialBuffer + kPad]);
    cap_ = kInitialBuffer;
    sum_->peak_buffer_bytes = std::max(sum_->peak_buffer_bytes, cap_);
  }
  size_t keep = pos_;
  if (pin_ != kNoPin) {
    size_t pinned = static_cast<size_t>(pin_ - base_);
    if (end_ - pinned > opt_.max_event_bytes) {
      return ResourceExhausted(
          "{}: the JSON value at byte {} is larger than "
          "max_event_bytes ({} bytes)",
          source_, pin_, opt_.max_event_bytes);
    }
    keep = std::min(keep, pinned);
  }
  if (cap_ - end_ < kMinRead) {
    if (keep > 0) {
      std::memmove(buf_.get(), buf_.get() + keep, end_ - keep);
      pos_ -= keep;
      end_ -= keep;
      base_ += keep;
    }
    if (cap_ - end_ < kMinRead) {
      size_t cap = std::max(cap_ * 2, end_ + kMinRead);
      std::unique_ptr<char[]> bigger(new char[cap + kPad]);
      std::memcpy(bigger.get(), buf_.get(), end_);
      buf_ = std::move(bigger);
      cap_ = cap;
      sum_->peak_buffer_bytes = std::max(sum_->peak_buffer_bytes, cap_);
    }
  }
  ASSIGN_OR_RETURN(size_t got, in_->Read(buf_.get() + end_, cap_ - end_));
  if (got == 0) {
    eof_ = true;
    return false;
  }
  end_ += got;
  decoded_ += got;
  if (decoded_ > opt_.max_decompressed_bytes) {
    return ResourceExhausted("{}: file is larger than max_decompressed_bytes ({} bytes)", source_,
                             opt_.max_decompressed_bytes);
  }
  return true;
}

// Skips JSON whitespace (noting newlines) and returns the next byte without
// consuming it, or -1 at the end of input.
Result<int> FileReader::PeekNonSpace() {
  for (;;) {
    while (pos_ < end_) {
      char c = buf_[pos_];
      if (c == '\n') {
        saw_newline_ = true;
      } else if (c != ' ' && c != '\t' && c != '\r') {
        return static_cast<unsigned char>(c);
      }
      ++pos_;
    }
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) return -1;
  }
}

// Scans the string, object or array that starts at pos_ (absolute offset
// `start`), refilling as needed; leaves pos_ just past it. The caller pins
// `start` when it needs the bytes afterwards.
Status FileReader::ScanAt(uint64_t start, std::string_view what, bool check_kinds) {
  scan_.Start(buf_[pos_], check_kinds);
  for (;;) {
    const char* p = buf_.get() + pos_;
    Scan r = ScanValue(p, buf_.get() + end_, scan_);
    pos_ = static_cast<size_t>(p - buf_.get());
    switch (r) {
      case Scan::kDone: return Status::Ok();
      case Scan::kMismatch:
        return InvalidArgument("{}: mismatched {} at byte {} in {} that starts at byte {}", source_,
                               Describe(static_cast<unsigned char>(*p)), Abs(pos_), what, start);
      case Scan::kTooDeep:
        return InvalidArgument("{}: JSON nested deeper than {} levels at byte {} in {}", source_,
                               kMaxScanDepth, Abs(pos_), what);
      case Scan::kNeedMore: break;
    }
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) {
      return InvalidArgument(
          "{}: unexpected end of input at byte {}: {} that "
          "starts at byte {} is not closed{}",
          source_, Abs(pos_), what, start, scan_.in_string ? " (inside a string)" : "");
    }
  }
}

// Skips and validates one member value of the top-level object (not
// "Records"/"Events").
Status FileReader::SkipMemberValue(uint64_t object_start) {
  ASSIGN_OR_RETURN(int c, PeekNonSpace());
  uint64_t start = Abs(pos_);
  uint64_t saved_pin = pin_;
  if (pin_ == kNoPin) pin_ = start;
  if (c == '"' || c == '{' || c == '[') {
    RETURN_IF_ERROR(ScanAt(start, "the value"));
  } else {
    for (;;) {
      while (pos_ < end_) {
        char b = buf_[pos_];
        if (IsJsonSpace(b) || b == ',' || b == '}' || b == ']' || b == '{' || b == '[' ||
            b == '"') {
          break;
        }
        ++pos_;
      }
      if (pos_ < end_) break;
      ASSIGN_OR_RETURN(bool more, More());
      if (!more) break;
    }
    if (Abs(pos_) == start) {
      return InvalidArgument(
          "{}: expected a value at byte {} in the object "
          "that starts at byte {}, found {}",
          source_, start, object_start, Describe(c));
    }
  }
  const char* p = At(start);
  size_t n = static_cast<size_t>(Abs(pos_) - start);
  simdjson::dom::element ignored;
  auto err = parser_.parse(p, n, false).get(ignored);
  pin_ = saved_pin;
  if (err) return JsonError(err, p, n, start, Ctx::kElement);
  return Status::Ok();
}

Status FileReader::Run() {
  if (opt_.whole_file_bytes > 0) {
    ASSIGN_OR_RETURN(bool done, TryWholeFile());
    if (done) return Status::Ok();
  }
  // A UTF-8 byte order mark is tolerated at the very start.
  while (end_ - pos_ < 3) {
    ASSIGN_OR_RETURN(bool more, More());
    if (!more) break;
  }
  if (end_ - pos_ >= 3 && std::memcmp(buf_.get() + pos_, "\xEF\xBB\xBF", 3) == 0) pos_ += 3;

  ASSIGN_OR_RETURN(int c, PeekNonSpace());
  if (c < 0) {
    sum_->shape = FileShape::kEmpty;
    return Status::Ok();
  }
  if (c == '[') {
    sum_->shape = FileShape::kArray;
    RETURN_IF_ERROR(ReadArray(FileShape::kArray));
    return ExpectEnd("top-level array", Abs(pos_));
  }
  if (c == '{') return ReadTopObject();
  return InvalidArgument(
      "{}: not a CloudTrail file: expected a JSON object or "
      "array at byte {}, found {}",
      source_, Abs(pos_), Describe(c));
}

// Reads the array that starts at pos_ ('['), each element a record.
Status FileReader::ReadArray(FileShape shape) {
  uint64_t array_start = Abs(pos_);
  std::string_view what = shape == FileShape::kLookupEvents ? "\"Events\" array"
                          : shape == FileShape::kRecords    ? "\"Records\" array"
                                                            : "array";
  ++pos_;
  ASSIGN_OR_RETURN(int c, PeekNonSpace());
  if (c == ']') {
    ++pos_;
    return Status::Ok();
  }
  for (uint64_t index = 0;; ++index) {
    if (c < 0) {
      return InvalidArgument(
          "{}: unexpected end of input at byte {}: the {} "
          "that starts at byte {} is not closed",
          source_, Abs(pos_), what, array_start);
    }
    if (c != '{') {
      return InvalidArgument(
          "{}: record {} of the {} at byte {} is not a JSON "
          "object: it starts with {} at byte {}",
          source_, index, what, array_start, Describe(c), Abs(pos_));
    }
    uint64_t start = Abs(pos_);
    pin_ = start;
    RETURN_IF_ERROR(ScanAt(start, "the record", /*check_kinds=*/false));
    const char* p = At(start);
    size_t n = static_cast<size_t>(Abs(pos_) - start);
    Status st = ProcessRecord(p, n, start, Ctx::kElement);
    pin_ = kNoPin;
    RETURN_IF_ERROR(st);
    uint64_t record_end = Abs(pos_);
    ASSIGN_OR_RETURN(c, PeekNonSpace());
    if (c == ',') {
      ++pos_;
      ASSIGN_OR_RETURN(c, PeekNonSpace());
      if (c == ']') {
        return InvalidArgument("{}: trailing ',' before ']' at byte {} in the {} at byte {}",
                               source_, Abs(pos_), what, array_start);
      }
      continue;
    }
    if (c == ']') {
      ++pos_;
      return Status::Ok();
    }
    if (c == '{') {
      return InvalidArgument(
          "{}: two JSON objects pasted together at byte {}: "
          "expected ',' or ']' after the record "
          "that ends at byte {} in the {} at byte {}",
          source_, Abs(pos_), record_end, what, array_start);
    }
    if (c < 0) {
      return InvalidArgument(
          "{}: unexpected end of input at byte {}: the {} "
          "that starts at byte {} is not closed",
          source_, Abs(pos_), what, array_start);
    }
    return InvalidArgument(
        "{}: expected ',' or ']' at byte {} after the "
        "record that ends at byte {}, found {}",
        source_, Abs(pos_), record_end, Describe(c));
  }
}

// A top-level object: a delivery file ("Records"), lookup-events output
// ("Events"), a digest, or a single event that may be the first line of an
// NDJSON file.
Status FileReader::ReadTopObject() {
  uint64_t start = Abs(pos_);
  pin_ = start;  // kept whole until we know it is not a Records/Events document
  ++pos_;
  bool streamed = false;
  ASSIGN_OR_RETURN(int c, PeekNonSpace());
  if (c == '}') {
    ++pos_;
  } else {
    for (;;) {
      if (c != '"') {
        return InvalidArgument(
            "{}: expected a member name at byte {} in the "
            "object that starts at byte {}, found {}",
            source_, Abs(pos_), start, Describe(c));
      }
      uint64_t key_start = Abs(pos_);
      uint64_t saved_pin = pin_;
      if (pin_ == kNoPin) pin_ = key_start;
      RETURN_IF_ERROR(ScanAt(key_start, "the member name"));
      std::string_view key(At(key_start) + 1, static_cast<size_t>(Abs(pos_) - key_start - 2));
      int kind = key == "Records" ? 1 : key == "Events" ? 2 : 0;
      pin_ = saved_pin;
      ASSIGN_OR_RETURN(c, PeekNonSpace());
      if (c != ':') {
        return InvalidArgument(
            "{}: expected ':' at byte {} after the member "
            "name at byte {}, found {}",
            source_, Abs(pos_), key_start, Describe(c));
      }
      ++pos_;
      ASSIGN_OR_RETURN(c, PeekNonSpace());
      if (kind != 0 && c == '[') {
        if (streamed) {
          return InvalidArgument(
              "{}: a second \"Records\" or \"Events\" array "
              "at byte {}; a file holds one",
              source_, Abs(pos_));
        }
        streamed = true;
        pin_ = kNoPin;  // the members before this one are no longer needed
        FileShape shape = kind == 1 ? FileShape::kRecords : FileShape::kLookupEvents;
        sum_->shape = shape;
        RETURN_IF_ERROR(ReadArray(shape));
      } else if (kind == 1) {
        return InvalidArgument("{}: \"Records\" at byte {} is not an array: it starts with {}",
                               source_, Abs(pos_), Describe(c));
      } else {
        RETURN_IF_ERROR(SkipMemberValue(start));
      }
      ASSIGN_OR_RETURN(c, PeekNonSpace());
      if (c == ',') {
        ++pos_;
        ASSIGN_OR_RETURN(c, PeekNonSpace());
        continue;
      }
      if (c == '}') {
        ++pos_;
        break;
      }
      if (c < 0) {
        return InvalidArgument(
            "{}: unexpected end of input at byte {}: the "
            "object that starts at byte {} is not "
            "closed",
            source_, Abs(pos_), start);
      }
      return InvalidArgument(
          "{}: expected ',' or '}}' at byte {} in the "
          "object that starts at byte {}, found {}",
          source_, Abs(pos_), start, Describe(c));
    }
  }
  uint64_t doc_end = Abs(pos_);
  if (streamed) {
    return ExpectEnd(
        sum_->shape == FileShape::kRecords ? "\"Records\" document" : "\"Events\" document",
        doc_end);
  }
  const char* p = At(start);
  Status st = ProcessRecord(p, static_cast<size_t>(doc_end - start), start, Ctx::kTop);
  pin_ = kNoPin;
  RETURN_IF_ERROR(st);
  if (sum_->shape == FileShape::kDigest) return ExpectEnd("digest document", doc_end);
  sum_->shape = FileShape::kSingleEvent;
  return ReadNdjsonTail(doc_end);
}

// After a first top-level event: more objects, each on a new line, make the
// file NDJSON.
Status FileReader::ReadNdjsonTail(uint64_t prev_end) {
  for (;;) {
    saw_newline_ = false;
    ASSIGN_OR_RETURN(int c, PeekNonSpace());
    if (c < 0) return Status::Ok();
    if (c != '{') {
      return InvalidArgument(
          "{}: unexpected {} at byte {} after the JSON "
          "object that ends at byte {}",
          source_, Describe(c), Abs(pos_), prev_end);
    }
    if (!saw_newline_) {
      return InvalidArgument(
          "{}: two JSON objects pasted together at byte {}: "
          "a second top-level object starts on "
          "the line of the one that ends at byte {} (NDJSON "
          "puts one object per line)",
          source_, Abs(pos_), prev_end);
    }
    uint64_t start = Abs(pos_);
    pin_ = start;
    RETURN_IF_ERROR(ScanAt(start, "the object", /*check_kinds=*/false));
    const char* p = At(start);
    Status st = ProcessRecord(p, static_cast<size_t>(Abs(pos_) - start), start, Ctx::kLine);
    pin_ = kNoPin;
    RETURN_IF_ERROR(st);
    sum_->shape = FileShape::kNdjson;
    prev_end = Abs(pos_);
  }
}

Status FileReader::ExpectEnd(std::string_view what, uint64_t doc_end) {
  ASSIGN_OR_RETURN(int c, PeekNonSpace());
  if (c < 0) return Status::Ok();
  return InvalidArgument(
      "{}: unexpected {} at byte {} after the end of the {} "
      "(which ends at byte {})",
      source_, Describe(c), Abs(pos_), what, doc_end);
}

Status FileReader::JsonError(simdjson::error_code err, const char* p, size_t n, uint64_t off,
                             Ctx ctx) {
  std::string_view what =
      ctx == Ctx::kUnwrapped ? "the event unwrapped from the record" : "the JSON value";
  if (err == simdjson::UTF8_ERROR) {
    size_t bad = 0;
    if (!ValidUtf8(std::string_view(p, n), &bad)) {
      if (ctx == Ctx::kUnwrapped) {
        return InvalidArgument("{}: invalid UTF-8 at byte {} of {} at byte {}", source_, bad, what,
                               off);
      }
      return InvalidArgument("{}: invalid UTF-8 at byte {} (in {} that starts at byte {})", source_,
                             off + bad, what, off);
    }
  }
  if (err == simdjson::CAPACITY || err == simdjson::MEMALLOC) {
    return ResourceExhausted("{}: {} at byte {} is too large to parse ({} bytes): {}", source_,
                             what, off, n, simdjson::error_message(err));
  }
  if (ctx != Ctx::kUnwrapped && n > 0 && (p[0] == '{' || p[0] == '[')) {
    // Records are cut by depth alone (ScanState::check_kinds); say where a close bracket of the
    // wrong kind is, as the checking scan would have.
    ScanState exact;
    exact.Start(p[0]);
    const char* q = p;
    if (ScanValueSimple(q, p + n, exact) == Scan::kMismatch) {
      return InvalidArgument("{}: mismatched {} at byte {} in {} that starts at byte {}", source_,
                             Describe(static_cast<unsigned char>(*q)), off + (q - p),
                             ctx == Ctx::kLine ? "the object" : "the record", off);
    }
  }
  return InvalidArgument("{}: invalid JSON in {} that starts at byte {}: {}", source_, what, off,
                         simdjson::error_message(err));
}

Status FileReader::ProcessRecord(const char* p, size_t n, uint64_t off, Ctx ctx) {
  if (n > opt_.max_event_bytes) {
    return ResourceExhausted("{}: the event at byte {} is larger than max_event_bytes ({} bytes)",
                             source_, off, opt_.max_event_bytes);
  }
  simdjson::dom::element root;
  auto err = parser_.parse(p, n, false).get(root);
  if (err) return JsonError(err, p, n, off, ctx);
  simdjson::dom::object obj;
  if (root.get_object().get(obj) != simdjson::SUCCESS) {
    return InvalidArgument(
        "{}: the event unwrapped from the record at byte {} "
        "is not a JSON object",
        source_, off);
  }

  Fields f;
  simdjson::dom::element detail;
  ReadFields(obj, &f, &detail);

  if (f.has_time) return Emit(p, n, off, f);

  if (f.time_not_string) {
    return InvalidArgument("{}: the record at byte {} has an \"eventTime\" that is not a string",
                           source_, off);
  }
  if (ctx == Ctx::kTop && (f.has_digest_start || f.has_log_files ||
                           source_.find("CloudTrail-Digest") != std::string::npos)) {
    sum_->shape = FileShape::kDigest;
    sum_->digest_json.assign(p, n);
    return Status::Ok();
  }
  if (ctx != Ctx::kUnwrapped && f.has_cloudtrail_event) {
    // lookup-events output: the event is a JSON text inside a string; its
    // unescaped text is the event's raw bytes. Copied out first: the parser is
    // reused for it.
    size_t len = f.cloudtrail_event.size();
    if (scratch_cap_ < len) {
      scratch_cap_ = std::max(len, scratch_cap_ * 2);
      scratch_.reset(new char[scratch_cap_ + kPad]);
    }
    std::memcpy(scratch_.get(), f.cloudtrail_event.data(), len);
    return ProcessRecord(scratch_.get(), len, off, Ctx::kUnwrapped);
  }
  if (ctx != Ctx::kUnwrapped && f.has_detail_type && f.has_detail_object) {
    // An EventBridge event; CloudTrail's are "AWS API Call via CloudTrail",
    // "AWS Console Sign In via CloudTrail", "AWS Service Event via CloudTrail",
    // "AWS Insight via CloudTrail".
    constexpr std::string_view kSuffix = "via CloudTrail";
    if (f.detail_type.size() < kSuffix.size() ||
        f.detail_type.substr(f.detail_type.size() - kSuffix.size()) != kSuffix) {
      return InvalidArgument(
          "{}: the record at byte {} is an EventBridge "
          "event of detail-type \"{}\", not one "
          "delivered via CloudTrail",
          source_, off, f.detail_type);
    }
    size_t value_off = 0, value_len = 0;
    if (!FindMemberSpan(p, n, "detail", &value_off, &value_len)) {
      return InvalidArgument(
          "{}: cannot locate the \"detail\" member of the "
          "EventBridge event at byte {}",
          source_, off);
    }
    return ProcessRecord(p + value_off, value_len, off + value_off, Ctx::kUnwrapped);
  }
  if (f.has_s3_bucket && f.has_s3_object_key) {
    return InvalidArgument(
        "{}: the object at byte {} is a CloudTrail SNS "
        "notification (s3Bucket, s3ObjectKey), not "
        "a log file: read the S3 objects it names instead",
        source_, off);
  }
  if (f.has_topic_arn && f.has_message) {
    return InvalidArgument(
        "{}: the object at byte {} is an SNS message "
        "envelope (TopicArn, Message), not a "
        "CloudTrail log file",
        source_, off);
  }
  if (f.has_records) {
    return InvalidArgument(
        "{}: the record at byte {} is a whole "
        "{{\"Records\": [...]}} document; only a file's "
        "top-level object may be one",
        source_, off);
  }
  if (ctx == Ctx::kTop) {
    return InvalidArgument(
        "{}: the object at byte {} has no \"Records\" array "
        "and is not a CloudTrail event (it has "
        "no \"eventTime\")",
        source_, off);
  }
  return InvalidArgument(
      "{}: the record at byte {} is not a CloudTrail event: "
      "it has no \"eventTime\"",
      source_, off);
}

Status FileReader::Emit(const char* p, size_t n, uint64_t off, const Fields& f) {
  int64_t time_ms = 0;
  EventCheck check = CheckEvent(f, &time_ms);
  if (check == EventCheck::kNotification) {
    return InvalidArgument(
        "{}: the record at byte {} is an {} notification "
        "(eventSource \"{}\"), not a CloudTrail "
        "event",
        source_, off, f.event_source.substr(4), f.event_source);
  }
  if (check == EventCheck::kBadTime) {
    return InvalidArgument(
        "{}: the record at byte {} has an eventTime \"{}\" that is not an ISO "
        "8601 time",
        source_, off, f.event_time.substr(0, 64));
  }
  return Deliver(p, n, time_ms, IdentityOf(f));
}

Status FileReader::Deliver(const char* p, size_t n, int64_t time_ms, const Identity& id) {
  if (shared_) {
    ev_.raw = SharedText(std::string_view(p, n), shared_);
  } else {
    // Streamed records are copied into shared arenas rather than a string each: one allocation
    // per arena. Each copy is followed by kJsonPadding bytes that are never written again, so the
    // store may parse it in place even while later records of the file are still being copied.
    if (arena_size_ - arena_used_ < n + kJsonPadding) {
      arena_size_ = std::max(kArenaBytes, n + kJsonPadding);
      arena_.reset(new char[arena_size_]);
      arena_used_ = 0;
    }
    char* at = const_cast<char*>(arena_.get()) + arena_used_;
    std::memcpy(at, p, n);
    arena_used_ += n + kJsonPadding;
    ev_.raw = SharedText(std::string_view(at, n), arena_);
  }
  ev_.time_ms = time_ms;
  ev_.account.assign(id.account);
  if (!id.event_id.empty()) {
    ev_.event_id.assign(id.event_id);
  } else {
    ev_.event_id = ContentKey(std::string_view(p, n));
  }
  ev_.sourcetype.assign(id.insight ? kSourcetypeInsight : kSourcetypeEvents);
  ev_.source = SharedText(source_view_, source_buffer_);
  ++sum_->events;
  if (id.insight) ++sum_->insight_events;
  return fn_(std::move(ev_));
}

// Reads the file whole when it fits in whole_file_bytes and, when it is a well-formed
// {"Records":[...]} document, parses it with one simdjson call and delivers its events: true.
// Otherwise (a larger file, another shape, any problem) nothing is delivered and the streaming
// reader goes on from the first byte, replayed from memory, and reports any error as it always
// does: false.
Result<bool> FileReader::TryWholeFile() {
  WholeFile& w = ThreadWholeFile();
  size_t limit = std::min<uint64_t>(
      {opt_.whole_file_bytes, opt_.max_event_bytes, opt_.max_decompressed_bytes});
  size_t n = 0;
  Status read_error;
  bool at_end = false;
  while (n <= limit) {
    if (n == w.cap) {
      size_t cap = w.cap == 0 && size_hint_ > 0 && size_hint_ <= limit
                       ? size_hint_ + 1  // one more byte: the read that finds the end
                       : std::max({w.cap * 2, n + kMinRead, kInitialBuffer});
      cap = std::min(cap, limit + 1);
      // realloc: a large block often grows in place, without copying what was read.
      void* bigger = std::realloc(w.buf.release(), cap + kPad);
      if (bigger == nullptr) throw std::bad_alloc();
      w.buf.reset(static_cast<char*>(bigger));
      w.cap = cap;
    }
    auto got = in_->Read(w.buf.get() + n, std::min(w.cap - n, limit + 1 - n));
    if (!got.ok()) {
      read_error = got.status();
      break;
    }
    if (*got == 0) {
      at_end = true;
      break;
    }
    n += *got;
  }
  sum_->peak_buffer_bytes = std::max(sum_->peak_buffer_bytes, n);
  if (at_end) {
    const char* doc = w.buf.get();
    size_t len = n;
    if (len >= 3 && std::memcmp(doc, "\xEF\xBB\xBF", 3) == 0) {
      doc += 3;
      len -= 3;
    }
    if (ParseWholeRecords(w, doc, len)) {
      // The events are views into the buffer, which they own together until their batch is
      // committed (the next file gets a new one), so it is first cut to size, in place for a
      // large block, rather than keep its growth slack.
      size_t doc_off = static_cast<size_t>(doc - w.buf.get());
      char* fitted = static_cast<char*>(std::realloc(w.buf.get(), n + kPad));
      if (fitted == nullptr) throw std::bad_alloc();
      (void)w.buf.release();
      w.cap = 0;
      doc = fitted + doc_off;
      shared_ = std::shared_ptr<const char[]>(fitted, FreeBuffer());
      decoded_ = n;
      sum_->whole_file = true;
      sum_->shape = FileShape::kRecords;
      for (const WholeFile::Record& r : w.records) {
        RETURN_IF_ERROR(Deliver(doc + r.off, r.len, r.time_ms, r.id));
      }
      return true;
    }
  }
  replay_ = std::make_unique<ReplayFile>(std::string_view(w.buf.get(), n), std::move(read_error),
                                         at_end, in_);
  in_ = replay_.get();
  return false;
}

// The fast path's parse: `doc` must be one JSON object whose only "Records" (and no "Events")
// member, as written, is an array of objects that are all events (an eventTime in ISO 8601, not a
// notification). The record boundaries come from simdjson's structural index (the positions of
// every bracket, colon, comma and value start, found by its first stage), so no byte is scanned
// twice; the record fields come from the parsed document.
bool FileReader::ParseWholeRecords(WholeFile& w, const char* doc, size_t n) {
  size_t first = 0;
  while (first < n && IsJsonSpace(doc[first])) ++first;
  if (first == n || doc[first] != '{') return false;
  simdjson::dom::element root;
  if (w.parser.parse(doc, n, false).get(root) != simdjson::SUCCESS) return false;
  const uint32_t* s = w.parser.implementation->structural_indexes.get();
  const uint32_t ns = w.parser.implementation->n_structural_indexes;
  auto at = [&](uint32_t i) { return i < ns ? doc[s[i]] : '\0'; };

  // The top-level members, as written: find the Records array and its records' spans.
  w.records.clear();
  int records_member = -1;
  uint32_t i = 1;
  if (at(0) != '{' || at(1) != '"') return false;
  for (int member = 0;; ++member) {
    if (at(i) != '"' || at(i + 1) != ':') return false;
    std::string_view key = RawKey(doc, s[i], s[i + 1]);
    uint32_t v = i + 2;
    char c = at(v);
    if (key == "Records" || key == "Events") {
      if (key == "Events" || c != '[' || records_member >= 0) return false;
      records_member = member;
      uint32_t j = v + 1;
      if (at(j) != ']') {
        for (;;) {
          if (at(j) != '{') return false;
          uint32_t close = StructuralClose(doc, s, ns, j);
          if (close == kNoStructural) return false;
          WholeFile::Record& r = w.records.emplace_back();
          r.off = s[j];
          r.len = s[close] + 1 - s[j];
          j = close + 1;
          if (at(j) == ']') break;
          if (at(j) != ',') return false;
          ++j;
        }
      }
      i = j + 1;
    } else if (c == '{' || c == '[') {
      uint32_t close = StructuralClose(doc, s, ns, v);
      if (close == kNoStructural) return false;
      i = close + 1;
    } else {
      i = v + 1;
    }
    if (at(i) == ',') {
      ++i;
      continue;
    }
    if (at(i) == '}') break;
    return false;
  }
  if (i + 1 != ns || records_member < 0) return false;

  // The same array in the parsed document: the member at the same position.
  simdjson::dom::object top;
  if (root.get_object().get(top) != simdjson::SUCCESS) return false;
  simdjson::dom::array records;
  int member = 0;
  for (simdjson::dom::key_value_pair kv : top) {
    if (member++ == records_member) {
      if (kv.value.get_array().get(records) != simdjson::SUCCESS) return false;
      break;
    }
  }
  size_t k = 0;
  for (simdjson::dom::element record : records) {
    if (k >= w.records.size()) return false;
    simdjson::dom::object obj;
    if (record.get_object().get(obj) != simdjson::SUCCESS) return false;
    Fields f;
    simdjson::dom::element detail;
    ReadFields(obj, &f, &detail);
    int64_t time_ms = 0;
    if (!f.has_time || CheckEvent(f, &time_ms) != EventCheck::kEvent) return false;
    w.records[k].time_ms = time_ms;
    w.records[k].id = IdentityOf(f);
    ++k;
  }
  return k == w.records.size();
}

}  // namespace

std::string_view FileShapeName(FileShape shape) {
  switch (shape) {
    case FileShape::kEmpty: return "empty";
    case FileShape::kRecords: return "records";
    case FileShape::kArray: return "array";
    case FileShape::kNdjson: return "ndjson";
    case FileShape::kLookupEvents: return "lookup-events";
    case FileShape::kSingleEvent: return "single-event";
    case FileShape::kDigest: return "digest";
  }
  return "unknown";
}

namespace {

// Reads `in`; `size_hint`, when given, tells from the first two bytes how large the decoded file
// probably is (the whole-file buffer's first size).
Result<FileSummary> ReadWithHint(std::unique_ptr<SequentialFile> in, std::string_view source,
                                 const ReaderOptions& options, const EventFn& fn,
                                 const std::function<uint64_t(std::string_view head)>& size_hint) {
  FileSummary summary;
  uint64_t input_bytes = 0;
  auto counted = std::make_unique<CountingFile>(std::move(in), &input_bytes);
  char head[2];
  size_t have = 0;
  while (have < sizeof(head)) {
    ASSIGN_OR_RETURN(size_t got, counted->Read(head + have, sizeof(head) - have));
    if (got == 0) break;
    have += got;
  }
  std::unique_ptr<SequentialFile> file =
      std::make_unique<ReplayFile>(std::string(head, have), std::move(counted));
  if (LooksGzipped(std::string_view(head, have))) {
    summary.gzipped = true;
    file = NewGunzipFile(std::move(file), std::string(source), options.max_decompressed_bytes);
  }
  std::unique_ptr<EVP_MD_CTX, DigestCtxFree> sha;
  if (options.sha256) {
    sha.reset(EVP_MD_CTX_new());
    if (sha == nullptr || EVP_DigestInit_ex(sha.get(), Sha256Md(), nullptr) != 1) {
      return Status(StatusCode::kInternal, "SHA-256 could not be set up");
    }
    file = std::make_unique<HashingFile>(std::move(file), sha.get());
  }
  FileReader reader(
      file.get(), source, options, fn, &summary,
      size_hint && options.whole_file_bytes > 0 ? size_hint(std::string_view(head, have)) : 0);
  Status st = reader.Run();
  summary.input_bytes = input_bytes;
  summary.decoded_bytes = reader.decoded();
  if (!st.ok()) return st;
  if (sha != nullptr) {
    // The reader stops at the end of the text; whatever follows (nothing, for a whole file) must
    // be hashed too, or the hash would not be the file's.
    char rest[4096];
    for (;;) {
      ASSIGN_OR_RETURN(size_t got, file->Read(rest, sizeof(rest)));
      if (got == 0) break;
    }
    unsigned char digest[SHA256_DIGEST_LENGTH];
    unsigned int len = 0;
    EVP_DigestFinal_ex(sha.get(), digest, &len);
    static constexpr char kHex[] = "0123456789abcdef";
    summary.sha256.resize(2 * len);
    for (unsigned int i = 0; i < len; ++i) {
      summary.sha256[2 * i] = kHex[digest[i] >> 4];
      summary.sha256[2 * i + 1] = kHex[digest[i] & 15];
    }
  }
  return summary;
}

// The decompressed size a file will probably have: a gzip stream's last member records its size
// (mod 2^32) in its last four bytes; a plain file is its own size. 0 when unknown. Only a hint
// for the whole-file buffer's first size: a wrong one costs a reallocation, nothing else.
uint64_t DecodedSizeHint(std::string_view head, uint64_t size, const unsigned char* tail) {
  if (!LooksGzipped(head)) return size;
  if (size < 18 || tail == nullptr) return 0;
  return uint64_t{tail[0]} | uint64_t{tail[1]} << 8 | uint64_t{tail[2]} << 16 |
         uint64_t{tail[3]} << 24;
}
uint64_t DecodedSizeHint(const RandomAccessFile& file, std::string_view head) {
  const uint64_t size = file.Size();
  if (!LooksGzipped(head) || size < 18) return DecodedSizeHint(head, size, nullptr);
  unsigned char tail[4];
  auto got = file.Read(size - 4, 4, reinterpret_cast<char*>(tail));
  return DecodedSizeHint(head, size, got.ok() && *got == 4 ? tail : nullptr);
}
uint64_t DecodedSizeHint(std::string_view bytes) {
  return DecodedSizeHint(
      bytes.substr(0, 2), bytes.size(),
      bytes.size() >= 4 ? reinterpret_cast<const unsigned char*>(bytes.data() + bytes.size() - 4)
                        : nullptr);
}

// A file read from its start through positional reads of one open file, up to the size it had
// when opened: the file is opened once for its size, the size hint and its bytes.
class PositionalFile final : public SequentialFile {
 public:
  explicit PositionalFile(std::unique_ptr<RandomAccessFile> file) : file_(std::move(file)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    if (offset_ >= file_->Size()) return size_t{0};
    ASSIGN_OR_RETURN(size_t got, file_->Read(offset_, n, buf));
    offset_ += got;
    return got;
  }

 private:
  std::unique_ptr<RandomAccessFile> file_;
  uint64_t offset_ = 0;
};

// A file already read whole.
class MemoryFile final : public SequentialFile {
 public:
  explicit MemoryFile(std::string bytes) : bytes_(std::move(bytes)) {}
  Result<size_t> Read(char* buf, size_t n) override {
    const size_t k = std::min(n, bytes_.size() - used_);
    std::memcpy(buf, bytes_.data() + used_, k);
    used_ += k;
    return k;
  }

 private:
  std::string bytes_;
  size_t used_ = 0;
};

// Files up to this size are read with one system call (a delivery file of a few minutes of one
// account and region is a few KB gzipped).
constexpr uint64_t kSmallFileBytes = 256 << 10;

}  // namespace

Result<FileSummary> ReadEvents(std::unique_ptr<SequentialFile> in, std::string_view source,
                               const ReaderOptions& options, const EventFn& fn) {
  return ReadWithHint(std::move(in), source, options, fn, nullptr);
}

Result<FileSummary> ReadEventsFromPath(FileSystem* fs, const std::string& path,
                                       const ReaderOptions& options, const EventFn& fn) {
  // One open for the size, the size hint and the bytes; a small file is read with one call. A
  // file of no size (a pipe such as bash's <(...), or an empty file) is read as a stream, opened
  // again (nothing of it was read by the first open).
  ASSIGN_OR_RETURN(auto file, fs->NewRandomAccessFile(path));
  const uint64_t size = file->Size();
  if (size > 0 && size <= kSmallFileBytes) {
    std::string bytes(size, '\0');
    ASSIGN_OR_RETURN(size_t got, file->Read(0, size, bytes.data()));
    bytes.resize(got);
    file.reset();
    const uint64_t hint = DecodedSizeHint(bytes);
    return ReadWithHint(std::make_unique<MemoryFile>(std::move(bytes)), path, options, fn,
                        [hint](std::string_view) { return hint; });
  }
  if (size > 0) {
    const RandomAccessFile& f = *file;
    return ReadWithHint(std::make_unique<PositionalFile>(std::move(file)), path, options, fn,
                        [&f](std::string_view head) { return DecodedSizeHint(f, head); });
  }
  ASSIGN_OR_RETURN(auto stream, fs->NewSequentialFile(path));
  file.reset();  // only now: a named pipe's writer always has a reader (none gets EPIPE)
  return ReadWithHint(std::move(stream), path, options, fn, nullptr);
}

}  // namespace cairn::cloudtrail
