// reader_hash: the cost of hashing log files while the collector reads them. Reads every file
// given (gzipped CloudTrail, as S3 delivers them) with cairn's reader, first without and then
// with ReaderOptions::sha256, alternating ROUNDS times, and prints the CPU time of each way (this
// thread's, so other processes on the machine do not count) and the difference. The reader is
// only part of what collect spends per file (the store commit is more), so the difference here is
// an upper bound of hashing's share of collect's cost.
//
// Usage: reader_hash ROUNDS FILE...   (or @LIST: a file naming one file per line)

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "cloudtrail/reader.h"
#include "common/fs.h"

namespace {

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

// Reads every file once; returns the decoded bytes (and checks every read succeeded).
bool ReadAll(const std::vector<std::string>& files, bool sha256, uint64_t* decoded) {
  cairn::cloudtrail::ReaderOptions options;
  options.sha256 = sha256;
  *decoded = 0;
  for (const std::string& path : files) {
    auto r = cairn::cloudtrail::ReadEventsFromPath(
        cairn::FileSystem::Default(), path, options,
        [](cairn::cloudtrail::Event&&) { return cairn::Status::Ok(); });
    if (!r.ok() || (sha256 && r->sha256.size() != 64)) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(),
                   r.ok() ? "no hash" : r.status().ToString().c_str());
      return false;
    }
    *decoded += r->decoded_bytes;
  }
  return true;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: reader_hash ROUNDS FILE...\n");
    return 2;
  }
  const int rounds = std::atoi(argv[1]);
  std::vector<std::string> files;
  for (int i = 2; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.size() > 1 && arg[0] == '@') {
      auto list = cairn::ReadFileToString(cairn::FileSystem::Default(), arg.substr(1));
      if (!list.ok()) {
        std::fprintf(stderr, "%s\n", list.status().ToString().c_str());
        return 2;
      }
      size_t start = 0;
      while (start < list->size()) {
        size_t nl = list->find('\n', start);
        if (nl == std::string::npos) nl = list->size();
        if (nl > start) files.push_back(list->substr(start, nl - start));
        start = nl + 1;
      }
    } else {
      files.push_back(arg);
    }
  }
  double cpu[2] = {0, 0};
  uint64_t decoded = 0;
  if (!ReadAll(files, false, &decoded)) return 1;  // warm the page cache
  for (int r = 0; r < rounds; ++r) {
    for (int way = 0; way < 2; ++way) {
      double t0 = ThreadCpuSeconds();
      if (!ReadAll(files, way == 1, &decoded)) return 1;
      cpu[way] += ThreadCpuSeconds() - t0;
    }
  }
  const double mb = decoded / 1e6;
  std::printf("%zu files, %.1f MB decoded, %d rounds\n", files.size(), mb, rounds);
  std::printf("read:        %.3f CPU-s per round, %.0f MB/CPU-s\n", cpu[0] / rounds,
              mb * rounds / cpu[0]);
  std::printf("read + hash: %.3f CPU-s per round, %.0f MB/CPU-s\n", cpu[1] / rounds,
              mb * rounds / cpu[1]);
  std::printf("hashing adds %.1f%% to reading\n", 100.0 * (cpu[1] - cpu[0]) / cpu[0]);
  return 0;
}
