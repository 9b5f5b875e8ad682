#pragma once
// Test-only helpers for the cloudtrail tests (include from *_test.cc files
// only).

#include <zlib.h>

#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "cloudtrail/memory_file.h"
#include "cloudtrail/reader.h"

namespace cairn::cloudtrail::testing {

// One gzip member holding `data` (zlib's encoder: independent of the ISA-L
// decoder under test).
inline std::string Gzip(const std::string& data, int level = 6) {
  z_stream z{};
  deflateInit2(&z, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY);
  std::string out(deflateBound(&z, data.size()) + 64, '\0');
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  z.avail_in = static_cast<uInt>(data.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  deflate(&z, Z_FINISH);
  out.resize(z.total_out);
  deflateEnd(&z);
  return out;
}

struct ReadOutcome {
  Result<FileSummary> summary = Status(StatusCode::kInternal, "not run");
  std::vector<Event> events;
};

// Reads `bytes` (at most `max_read` bytes per source read) and keeps every
// event. With CAIRN_READER_STREAMING=1 in the environment (the reader tests are registered a
// second time so in src/cloudtrail/CMakeLists.txt) the whole-file path is off, so every case
// also runs through the streaming reader alone.
inline ReadOutcome ReadString(const std::string& bytes, const std::string& source = "mem.json",
                              ReaderOptions options = {}, size_t max_read = SIZE_MAX) {
  if (const char* env = std::getenv("CAIRN_READER_STREAMING"); env != nullptr && *env == '1') {
    options.whole_file_bytes = 0;
  }
  ReadOutcome out;
  out.summary = ReadEvents(std::make_unique<StringSequentialFile>(bytes, max_read), source, options,
                           [&](Event&& e) {
                             out.events.push_back(std::move(e));
                             return Status::Ok();
                           });
  return out;
}

}  // namespace cairn::cloudtrail::testing
