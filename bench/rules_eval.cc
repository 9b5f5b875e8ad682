// rules_eval: the CPU a rule set spends per event on the streaming path, without the store. Reads
// the events of the files given (gzipped CloudTrail) into memory, then, ROUNDS times, runs
// RuleSet::TextCandidates (the text filters alone) and RuleSet::Evaluate (filters, parsing,
// matching and building the alerts, as a commit does) over batches of 10,000 events, and prints
// this thread's CPU nanoseconds per event for each, and the alerts per round.
//
// Usage: rules_eval RULES_DIR ROUNDS FILE...   (or @LIST: a file naming one file per line)

#include <time.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <string>
#include <vector>

#include "cloudtrail/reader.h"
#include "common/fs.h"
#include "detect/rule_set.h"

namespace {

double ThreadCpuSeconds() {
  timespec ts;
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 4) {
    std::fprintf(stderr, "usage: rules_eval RULES_DIR ROUNDS FILE... | @LIST\n");
    return 2;
  }
  auto rules = cairn::detect::LoadRuleSet(argv[1]);
  if (!rules.ok()) {
    std::fprintf(stderr, "%s\n", rules.status().ToString().c_str());
    return 1;
  }
  const int rounds = std::atoi(argv[2]);
  std::vector<std::string> files;
  for (int i = 3; i < argc; ++i) {
    std::string a = argv[i];
    if (a.starts_with("@")) {
      std::ifstream in(a.substr(1));
      for (std::string line; std::getline(in, line);) files.push_back(line);
    } else {
      files.push_back(a);
    }
  }
  std::vector<std::vector<cairn::cloudtrail::Event>> batches(1);
  size_t events = 0;
  for (const std::string& path : files) {
    auto r = cairn::cloudtrail::ReadEventsFromPath(cairn::FileSystem::Default(), path, {},
                                                   [&](cairn::cloudtrail::Event&& e) {
                                                     if (batches.back().size() == 10'000)
                                                       batches.emplace_back();
                                                     batches.back().push_back(std::move(e));
                                                     ++events;
                                                     return cairn::Status::Ok();
                                                   });
    if (!r.ok()) {
      std::fprintf(stderr, "%s: %s\n", path.c_str(), r.status().ToString().c_str());
      return 1;
    }
  }
  std::vector<int> cands;
  for (int round = 0; round < rounds; ++round) {
    double t0 = ThreadCpuSeconds();
    size_t passed = 0;
    for (const auto& batch : batches) {
      for (const auto& e : batch) {
        if (!(*rules)->TextCandidates(e.raw.view(), &cands) || !cands.empty()) ++passed;
      }
    }
    double t1 = ThreadCpuSeconds();
    size_t alerts = 0;
    for (const auto& batch : batches) alerts += (*rules)->Evaluate(batch).size();
    double t2 = ThreadCpuSeconds();
    std::printf(
        "events %zu  text filters %.0f ns/event (%zu passed)  evaluate %.0f ns/event  "
        "alerts %zu\n",
        events, (t1 - t0) * 1e9 / events, passed, (t2 - t1) * 1e9 / events, alerts);
  }
  return 0;
}
