#pragma once
// Test-only helpers for the cloudtrail tests (include from *_test.cc files
// only).

#include <gtest/gtest.h>
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

// Expects two reads of the same content to give the same events, field by field (the source too
// when both read the same file).
inline void ExpectSameEvents(const std::vector<Event>& a, const std::vector<Event>& b,
                             bool same_source = true) {
  ASSERT_EQ(a.size(), b.size());
  for (size_t i = 0; i < a.size(); ++i) {
    SCOPED_TRACE("event " + std::to_string(i));
    EXPECT_EQ(a[i].raw, b[i].raw);
    EXPECT_EQ(a[i].time_ms, b[i].time_ms);
    EXPECT_EQ(a[i].account, b[i].account);
    EXPECT_EQ(a[i].event_id, b[i].event_id);
    EXPECT_EQ(a[i].sourcetype, b[i].sourcetype);
    if (same_source) {
      EXPECT_EQ(a[i].source, b[i].source);
    }
  }
}

}  // namespace cairn::cloudtrail::testing
