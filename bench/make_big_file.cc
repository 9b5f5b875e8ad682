// make_big_file: writes one uncompressed CloudTrail delivery file ({"Records":[...]}) of at least
// SIZE bytes by repeating the records of the given files (read with cairn's own reader), giving
// each copy a fresh eventID. Used to measure peak memory while ingesting one huge file.
//
// Usage: make_big_file OUT SIZE_BYTES FILE...

#include <cstdio>
#include <string>
#include <vector>

#include "cloudtrail/reader.h"
#include "common/fs.h"

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: make_big_file OUT SIZE_BYTES FILE...\n");
    return 2;
  }
  std::vector<std::string> records;
  for (int i = 3; i < argc; ++i) {
    auto r = cairn::cloudtrail::ReadEventsFromPath(
        cairn::FileSystem::Default(), argv[i], {}, [&](cairn::cloudtrail::Event&& e) {
          records.push_back(e.raw.str());
          return cairn::Status::Ok();
        });
    if (!r.ok()) {
      std::fprintf(stderr, "%s\n", r.status().ToString().c_str());
      return 1;
    }
  }
  if (records.empty()) return 1;
  uint64_t target = std::stoull(argv[2]);
  FILE* out = std::fopen(argv[1], "wb");
  if (out == nullptr) return 1;
  std::fputs("{\"Records\":[", out);
  uint64_t written = 12, copy = 0;
  for (size_t i = 0; written < target; ++i, ++copy) {
    std::string rec = records[i % records.size()];
    size_t pos = rec.find("\"eventID\":\"");
    if (pos != std::string::npos) {
      char id[40];
      std::snprintf(id, sizeof(id), "%08llx-big0-4000-8000-%012llx",
                    static_cast<unsigned long long>(copy >> 32),
                    static_cast<unsigned long long>(copy));
      rec.replace(pos + 11, 36, id);
    }
    if (i > 0) std::fputc(',', out);
    std::fwrite(rec.data(), 1, rec.size(), out);
    written += rec.size() + 1;
  }
  std::fputs("]}\n", out);
  std::fclose(out);
  std::printf("%llu bytes, %llu records\n", static_cast<unsigned long long>(written),
              static_cast<unsigned long long>(copy));
  return 0;
}
