// collect_load: sets up the site topology on an emulator and loads tiny CloudTrail files with
// their notifications, for bench/collect.sh.
//   collect_load ENDPOINT QUEUE BUCKET FILES EVENTS_PER_FILE [sns|raw] [DELAY_MS]
// With DELAY_MS, files are written and announced one at a time, DELAY_MS apart (a trickle).
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <thread>

#include "collect/collect_fixture.h"

int main(int argc, char** argv) {
  if (argc < 6) {
    std::fprintf(stderr, "usage: collect_load ENDPOINT QUEUE BUCKET FILES EVENTS_PER_FILE [sns|raw]\n");
    return 2;
  }
  auto site = cairn::testing::Site::Create(argv[1], argv[2], argv[3], 60);
  if (!site.ok()) {
    std::fprintf(stderr, "collect_load: %s\n", site.status().ToString().c_str());
    return 1;
  }
  bool sns = argc < 7 || std::string(argv[6]) == "sns";
  auto t0 = std::chrono::steady_clock::now();
  if (argc >= 8) {
    int delay = std::atoi(argv[7]);
    for (int i = 0; i < std::atoi(argv[4]); ++i) {
      std::string key = "AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/10/trickle-" + std::to_string(i) + ".json.gz";
      auto st = (*site)->Put(key, cairn::testing::Gzip(cairn::testing::TinyLogFile("t" + std::to_string(i), std::atoi(argv[5]))));
      if (st.ok()) st = (*site)->AnnounceViaSns(cairn::testing::SiteRegions()[i % 5], {key});
      if (!st.ok()) {
        std::fprintf(stderr, "collect_load: %s\n", st.ToString().c_str());
        return 1;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(delay));
    }
    return 0;
  }
  auto keys = cairn::testing::LoadTinyFiles(site->get(), argv[2], std::atoi(argv[4]), std::atoi(argv[5]), sns, 8);
  if (!keys.ok()) {
    std::fprintf(stderr, "collect_load: %s\n", keys.status().ToString().c_str());
    return 1;
  }
  double s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::fprintf(stderr, "loaded %zu files in %.1f s\n", keys->size(), s);
  return 0;
}
