// kill -9 at random moments of ingest and merge: after every restart, every acknowledged event is
// stored exactly once, nothing is duplicated, nothing unknown appears, and `check` is clean.
//
// A child process commits overlapping batches (so most commits also deduplicate), records each
// acknowledged batch number in a side file (fsynced) only after Commit returns OK, and merges in
// the background and with MergeNow. The parent SIGKILLs it after a random delay, then verifies.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <map>
#include <random>
#include <set>

#include "common/log.h"
#include "common/testing.h"
#include "store/segment_format.h"
#include "store/store.h"
#include "store/test_util.h"

namespace cairn::store {
namespace {

constexpr int64_t kT0 = kMillisPerDay * 19500;
constexpr uint64_t kStride = 50;  // batch k holds ids [k*kStride, k*kStride + kBatch)
constexpr uint64_t kBatch = 80;
constexpr int kKills = 24;

std::vector<cloudtrail::Event> Batch(uint64_t k) {
  return testing::SyntheticBatch(k * kStride, kBatch, kT0, 3 * kMillisPerDay);
}

StoreOptions Options(const std::string& dir, bool background) {
  StoreOptions opt;
  opt.data_dir = dir;
  opt.background_merge = background;
  opt.merge_min_segments = 2;
  opt.segment.block_bytes = 8 << 10;
  return opt;
}

std::vector<uint64_t> ReadAcked(const std::string& path) {
  std::vector<uint64_t> out;
  auto text = ReadFileToString(FileSystem::Default(), path);
  if (!text.ok()) return out;
  size_t pos = 0;
  while (true) {
    size_t nl = text->find('\n', pos);
    if (nl == std::string::npos) break;  // a torn last line was never acknowledged
    out.push_back(std::stoull(text->substr(pos, nl - pos)));
    pos = nl + 1;
  }
  return out;
}

[[noreturn]] void Child(const std::string& dir, const std::string& acked_path, uint64_t start) {
  log::SetLevel(log::Level::kError);
  auto store = Store::Open(Options(dir, true));
  if (!store.ok()) _exit(3);
  int fd = ::open(acked_path.c_str(), O_WRONLY | O_APPEND | O_CREAT, 0644);
  if (fd < 0) _exit(4);
  for (uint64_t k = start;; ++k) {
    auto r = (*store)->Commit("idx", Batch(k));
    if (!r.ok()) _exit(5);
    std::string line = std::to_string(k) + "\n";
    if (::write(fd, line.data(), line.size()) != static_cast<ssize_t>(line.size())) _exit(6);
    if (::fsync(fd) != 0) _exit(7);
    if (k % 7 == 3 && !(*store)->MergeNow("idx").ok()) _exit(8);
  }
}

TEST(CrashTest, KillNineDuringIngestAndMerge) {
  log::SetLevel(log::Level::kWarn);
  std::string dir = cairn::testing::MakeTempDir("cairn_crash");
  std::string acked_path = dir + "/acked.txt";
  std::mt19937 rng(12345);
  uint64_t max_attempted = 0;
  int merges_seen = 0;
  for (int round = 0; round < kKills; ++round) {
    auto acked = ReadAcked(acked_path);
    // Restart from the last acknowledged batch: it is committed again (all duplicates), which is
    // what a redelivery after a crash looks like.
    uint64_t start = acked.empty() ? 0 : acked.back();
    pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) Child(dir, acked_path, start);
    ::usleep(30'000 + rng() % 400'000);
    ::kill(pid, SIGKILL);
    int status = 0;
    ::waitpid(pid, &status, 0);
    ASSERT_TRUE(WIFSIGNALED(status)) << "child exited early with " << WEXITSTATUS(status);

    acked = ReadAcked(acked_path);
    // Batches attempted so far: everything up to one past the last acknowledged.
    if (!acked.empty()) max_attempted = std::max(max_attempted, acked.back() + 1);
    std::set<std::string> must, may;
    for (uint64_t k : acked) {
      for (const auto& e : Batch(k)) must.insert(e.event_id);
    }
    for (uint64_t k = 0; k <= max_attempted; ++k) {
      for (const auto& e : Batch(k)) may.insert(e.event_id);
    }
    auto store = Store::Open(Options(dir, false));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    std::map<std::string, int> census;
    auto snap = (*store)->GetSnapshot("idx");
    if (snap.ok()) {
      for (const auto& seg : (*snap)->segments()) {
        if (seg->event_count() > kBatch) ++merges_seen;
        ASSERT_TRUE(seg->ForEachId([&](std::string_view, std::string_view id) {
                         ++census[std::string(id)];
                       })
                        .ok());
      }
      EXPECT_TRUE((*snap)->broken().empty());
    }
    for (const auto& id : must)
      ASSERT_EQ(census.count(id), 1u) << "round " << round << " lost " << id;
    for (const auto& [id, n] : census) {
      ASSERT_EQ(n, 1) << "round " << round << " duplicated " << id;
      ASSERT_TRUE(may.count(id)) << "round " << round << " unknown event " << id;
    }
    if (snap.ok()) {
      auto report = (*store)->Check("idx");
      ASSERT_TRUE(report.ok());
      ASSERT_TRUE(report->ok()) << report->problems[0].path << ": "
                                << report->problems[0].status.ToString();
    }
    // No files beyond the manifest's.
    auto entries = FileSystem::Default()->ListDir(dir + "/indexes/idx");
    if (entries.ok() && snap.ok()) {
      std::set<std::string> listed;
      for (const auto& s : (*snap)->segments()) listed.insert(BaseName(s->path()));
      for (const auto& e : *entries) {
        EXPECT_TRUE(e.name == "MANIFEST" || listed.count(e.name)) << "stray " << e.name;
      }
    }
  }
  EXPECT_GT(ReadAcked(acked_path).size(), 20u);
  EXPECT_GT(merges_seen, 0);
  FileSystem::Default()->RemoveAll(dir).IgnoreError();
}

}  // namespace
}  // namespace cairn::store
