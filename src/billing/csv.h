#pragma once
// A streaming CSV reader (RFC 4180): fields separated by commas, records by LF or CRLF; a field
// in double quotes may hold commas, line breaks and doubled quotes (""). Reads any SequentialFile
// (a gunzip stream of a CUR file) with a fixed buffer, so memory does not grow with the file.
//
// Errors (InvalidArgument naming the source and the record number): a quote inside an unquoted
// field, text after a closing quote, a quoted field still open at the end, a record longer than
// kMaxRecordBytes. Thread safety: one reader per thread.

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/fs.h"
#include "common/status.h"

namespace cairn::billing {

class CsvReader {
 public:
  static constexpr size_t kMaxRecordBytes = 16 << 20;

  CsvReader(std::unique_ptr<SequentialFile> in, std::string name);
  // Reads the next record into `fields` (views valid until the next call). False at the end.
  // An empty line is a record of one empty field, as RFC 4180 reads it; callers skip it.
  Result<bool> Next(std::vector<std::string_view>* fields);
  // Records returned so far (1-based number of the last one).
  uint64_t record_number() const { return records_; }

 private:
  Status Fill();  // appends input to buf_ after compacting; sets eof_
  std::unique_ptr<SequentialFile> in_;
  std::string name_;
  std::string buf_;
  size_t pos_ = 0;  // start of the unread input in buf_
  size_t end_ = 0;  // end of the input in buf_
  bool eof_ = false;
  std::string record_;          // the unquoted field bytes of the current record
  std::vector<size_t> bounds_;  // field end offsets in record_
  uint64_t records_ = 0;
};

// Parses one CSV text in memory (tests, small files).
Result<std::vector<std::vector<std::string>>> ParseCsv(std::string_view text);

}  // namespace cairn::billing
