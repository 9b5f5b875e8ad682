// collect_load: sets up the site topology on an emulator and loads tiny CloudTrail files with
// their notifications, for bench/collect.sh.
//   collect_load ENDPOINT QUEUE BUCKET FILES EVENTS_PER_FILE [sns|raw] [DELAY_MS]
// With DELAY_MS, files are written and announced one at a time, DELAY_MS apart (a trickle).
//   collect_load ENDPOINT QUEUE BUCKET --put DIR       uploads every *.json.gz under DIR (key =
//                                                      its path below DIR), announces nothing
//   collect_load ENDPOINT QUEUE BUCKET --announce DIR  announces those keys, each with
//                                                      CloudTrail's notification through the SNS
//                                                      topics in turn (for bench/collect_hash.sh)
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collect/collect_fixture.h"
#include "common/fs.h"

namespace {

// The keys of the gzipped log files under `dir` (paths below it, sorted).
std::vector<std::string> KeysUnder(const std::string& dir) {
  std::vector<std::string> keys;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (!e.is_regular_file()) continue;
    std::string rel = std::filesystem::relative(e.path(), dir).string();
    if (rel.size() > 8 && rel.compare(rel.size() - 8, 8, ".json.gz") == 0) keys.push_back(rel);
  }
  std::sort(keys.begin(), keys.end());
  return keys;
}

// Runs `fn(i)` for i in [0, n) on `threads` threads; the first error wins.
cairn::Status ForEach(size_t n, int threads, const std::function<cairn::Status(size_t)>& fn) {
  std::atomic<size_t> next{0};
  std::mutex mu;
  cairn::Status first;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (size_t i = next++; i < n; i = next++) {
        cairn::Status s = fn(i);
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (first.ok()) first = s;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  return first;
}

int Directory(cairn::testing::Site* site, const std::string& mode, const std::string& dir) {
  auto t0 = std::chrono::steady_clock::now();
  const std::vector<std::string> keys = KeysUnder(dir);
  cairn::Status st = ForEach(keys.size(), 8, [&](size_t i) -> cairn::Status {
    if (mode == "--put") {
      auto body = cairn::ReadFileToString(cairn::FileSystem::Default(), dir + "/" + keys[i]);
      if (!body.ok()) return body.status();
      return site->Put(keys[i], *body);
    }
    const auto& regions = cairn::testing::SiteRegions();
    return site->AnnounceViaSns(regions[i % regions.size()], {keys[i]});
  });
  if (!st.ok()) {
    std::fprintf(stderr, "collect_load: %s\n", st.ToString().c_str());
    return 1;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "%s %zu files in %.1f s\n", mode == "--put" ? "put" : "announced",
               keys.size(), s);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr,
                 "usage: collect_load ENDPOINT QUEUE BUCKET FILES EVENTS_PER_FILE [sns|raw]\n");
    return 2;
  }
  auto site = cairn::testing::Site::Create(argv[1], argv[2], argv[3], 60);
  if (!site.ok()) {
    std::fprintf(stderr, "collect_load: %s\n", site.status().ToString().c_str());
    return 1;
  }
  if (argc == 6 && (std::string(argv[4]) == "--put" || std::string(argv[4]) == "--announce")) {
    return Directory(site->get(), argv[4], argv[5]);
  }
  bool sns = argc < 7 || std::string(argv[6]) == "sns";
  auto t0 = std::chrono::steady_clock::now();
  if (argc >= 8) {
    int delay = std::atoi(argv[7]);
    for (int i = 0; i < std::atoi(argv[4]); ++i) {
      std::string key = "AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/10/trickle-" +
                        std::to_string(i) + ".json.gz";
      auto st = (*site)->Put(key, cairn::testing::Gzip(cairn::testing::TinyLogFile(
                                      "t" + std::to_string(i), std::atoi(argv[5]))));
      if (st.ok()) st = (*site)->AnnounceViaSns(cairn::testing::SiteRegions()[i % 5], {key});
      if (!st.ok()) {
        std::fprintf(stderr, "collect_load: %s\n", st.ToString().c_str());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    return 0;
  }
  auto keys = cairn::testing::LoadTinyFiles(site->get(), argv[2], std::atoi(argv[4]),
                                            std::atoi(argv[5]), sns, 8);
  if (!keys.ok()) {
    std::fprintf(stderr, "collect_load: %s\n", keys.status().ToString().c_str());
    return 1;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "loaded %zu files in %.1f s\n", keys->size(), s);
  return 0;
}
