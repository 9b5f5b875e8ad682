#include "billing/csv.h"

#include <cstring>

namespace cairn::billing {
namespace {

constexpr size_t kChunk = 1 << 20;

class StringFile final : public SequentialFile {
 public:
  explicit StringFile(std::string_view text) : text_(text) {}
  Result<size_t> Read(char* buf, size_t n) override {
    size_t k = std::min(n, text_.size() - pos_);
    std::memcpy(buf, text_.data() + pos_, k);
    pos_ += k;
    return k;
  }

 private:
  std::string_view text_;
  size_t pos_ = 0;
};

}  // namespace

CsvReader::CsvReader(std::unique_ptr<SequentialFile> in, std::string name)
    : in_(std::move(in)), name_(std::move(name)) {}

Status CsvReader::Fill() {
  if (pos_ > 0) {
    std::memmove(buf_.data(), buf_.data() + pos_, end_ - pos_);
    end_ -= pos_;
    pos_ = 0;
  }
  if (buf_.size() < end_ + kChunk) buf_.resize(end_ + kChunk);
  ASSIGN_OR_RETURN(size_t n, in_->Read(buf_.data() + end_, kChunk));
  if (n == 0) eof_ = true;
  end_ += n;
  return Status::Ok();
}

Result<bool> CsvReader::Next(std::vector<std::string_view>* fields) {
  fields->clear();
  record_.clear();
  bounds_.clear();
  if (pos_ == end_ && !eof_) RETURN_IF_ERROR(Fill());
  if (pos_ == end_ && eof_) return false;
  const uint64_t number = records_ + 1;
  enum { kStart, kUnquoted, kQuoted, kQuoteInQuoted } state = kStart;
  auto bad = [&](std::string_view what) {
    return InvalidArgument("{}: CSV record {}: {}", name_, number, what);
  };
  while (true) {
    if (pos_ == end_) {
      if (!eof_) {
        RETURN_IF_ERROR(Fill());
        continue;
      }
      if (state == kQuoted) return bad("a quoted field is still open at the end of the file");
      bounds_.push_back(record_.size());
      break;
    }
    if (record_.size() > kMaxRecordBytes) return bad("record longer than 16 MiB");
    char c = buf_[pos_];
    if (state == kQuoted) {
      // Copy a run of ordinary bytes at once.
      const char* start = buf_.data() + pos_;
      const char* q = static_cast<const char*>(std::memchr(start, '"', end_ - pos_));
      size_t run = q ? static_cast<size_t>(q - start) : end_ - pos_;
      record_.append(start, run);
      pos_ += run;
      if (q) {
        ++pos_;
        state = kQuoteInQuoted;
      }
      continue;
    }
    if (state == kUnquoted || (state == kStart && c != '"')) {
      // Copy a run of ordinary bytes at once.
      size_t run = pos_;
      while (run < end_) {
        const char d = buf_[run];
        if (d == ',' || d == '\n' || d == '\r' || d == '"') break;
        ++run;
      }
      if (run > pos_) {
        record_.append(buf_.data() + pos_, run - pos_);
        pos_ = run;
        state = kUnquoted;
        continue;
      }
    }
    ++pos_;
    if (state == kQuoteInQuoted) {
      if (c == '"') {
        record_ += '"';
        state = kQuoted;
        continue;
      }
      state = kUnquoted;  // the field is closed; only a separator may follow
      if (c != ',' && c != '\n' && c != '\r') return bad("text after a closing quote");
    }
    if (c == ',') {
      bounds_.push_back(record_.size());
      state = kStart;
    } else if (c == '\n') {
      bounds_.push_back(record_.size());
      break;
    } else if (c == '\r') {
      if (pos_ == end_ && !eof_) RETURN_IF_ERROR(Fill());
      if (pos_ < end_ && buf_[pos_] == '\n') ++pos_;
      bounds_.push_back(record_.size());
      break;
    } else if (c == '"') {
      if (state != kStart) return bad("a quote inside an unquoted field");
      state = kQuoted;
    } else {
      record_ += c;
      state = kUnquoted;
    }
  }
  records_ = number;
  size_t from = 0;
  for (size_t b : bounds_) {
    fields->push_back(std::string_view(record_).substr(from, b - from));
    from = b;
  }
  return true;
}

Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text) {
  CsvReader r(std::make_unique<StringFile>(text), "csv");
  std::vector<std::vector<std::string>> out;
  std::vector<std::string_view> f;
  while (true) {
    ASSIGN_OR_RETURN(bool more, r.Next(&f));
    if (!more) break;
    out.emplace_back(f.begin(), f.end());
  }
  return out;
}

}  // namespace cairn::billing
