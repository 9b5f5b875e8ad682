// One data folder, several real `cairn` processes at once (docs/architecture.md, "Processes
// sharing a data folder"): ingest beside a search loop, two ingests of the same files, ingest
// beside `index merge`, and kill -9 of the writer while searches run. Every search beside a
// writer answers (each stored event counted once, counts only growing), and the end state has
// every event exactly once. Each scenario runs with a few fixed seeds, printed; the seed picks
// the generated logs and the timing of searches and kills.
// (collect beside a search loop, which needs the S3/SQS emulator: tests/collect/sharing_test.cc.)

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <random>
#include <string>
#include <thread>

#include "cli/cli_util.h"
#include "common/fs.h"

namespace cairn::testing {
namespace {

constexpr uint64_t kEvents = 3000;
constexpr uint32_t kSeeds[] = {101, 202, 303};

class SharingTest : public ::testing::TestWithParam<uint32_t> {
 protected:
  void SetUp() override {
    seed_ = GetParam();
    std::printf("seed %u\n", seed_);
    dir_ = MakeTempDir("cairn_cli_sharing");
    logs_ = dir_ + "/logs";
    data_ = dir_ + "/data";
    CairnRun gen =
        Cairn("generate --out " + logs_ + " --events " + std::to_string(kEvents) + " --seed " +
              std::to_string(seed_) + " --days 1 --accounts 1 --regions 2 --threads 1");
    ASSERT_EQ(gen.status, 0) << gen.err;
    logs_ += "/AWSLogs";  // not scenarios.json
  }
  void TearDown() override {
    if (!HasFailure()) std::filesystem::remove_all(dir_);
  }

  std::vector<std::string> Ingest(bool no_wait = false) const {
    std::vector<std::string> args = {"--data", data_,    "--log-level",
                                     "info",   "ingest", "--no-progress"};
    if (no_wait) args.push_back("--no-wait");
    args.push_back(logs_);
    return args;
  }
  // Every event once: what `stats count, dc(eventID)` must say at the end.
  static std::string AllOnce() { return std::to_string(kEvents) + "," + std::to_string(kEvents); }

  void ExpectCleanReaders(SearchLoop& loop) {
    loop.Stop();
    for (const auto& p : loop.problems()) ADD_FAILURE() << p;
    EXPECT_GT(loop.answered(), 0);
    std::printf("  %d searches beside the writer, %d answered\n", loop.runs(), loop.answered());
  }

  uint32_t seed_ = 0;
  std::string dir_, logs_, data_;
};

TEST_P(SharingTest, IngestBesideSearches) {
  SearchLoop a(data_, kEvents, seed_), b(data_, kEvents, seed_ + 1);
  CairnProcess ingest(Ingest(), dir_ + "/ingest");
  ASSERT_EQ(ingest.Wait(), 0) << ingest.err();
  ExpectCleanReaders(a);
  ExpectCleanReaders(b);
  EXPECT_NE(ingest.out().find("3000 added"), std::string::npos) << ingest.out();
  EXPECT_EQ(CountAndDistinct(data_), AllOnce());
  CairnRun check = Cairn("--data " + data_ + " index check");
  EXPECT_EQ(check.status, 0) << check.out << check.err;
  // What the writer made is private to its user.
  struct stat st;
  ASSERT_EQ(::stat(data_.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0700u);
  ASSERT_EQ(::stat((data_ + "/indexes/aws-cloudtrail/MANIFEST").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  for (const auto& seg : ListedSegments(data_, "aws-cloudtrail")) {
    ASSERT_EQ(::stat(seg.path.c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << seg.path;
  }
}

TEST_P(SharingTest, TwoIngestsOfTheSameFiles) {
  SearchLoop searches(data_, kEvents, seed_);
  CairnProcess first(Ingest(), dir_ + "/first");
  std::mt19937 rng(seed_);
  std::this_thread::sleep_for(
      std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 100)(rng)));
  CairnProcess second(Ingest(), dir_ + "/second");
  ASSERT_EQ(first.Wait(), 0) << first.err();
  ASSERT_EQ(second.Wait(), 0) << second.err();
  ExpectCleanReaders(searches);
  EXPECT_EQ(CountAndDistinct(data_), AllOnce());
  // Whichever came second waited for the other, naming it, unless the first had finished.
  const std::string waited_first = "pid " + std::to_string(first.pid()) + "); waiting";
  const std::string waited_second = "pid " + std::to_string(second.pid()) + "); waiting";
  std::printf("  second ingest %s\n", second.err().find(waited_first) != std::string::npos
                                          ? "waited for the first"
                                      : first.err().find(waited_second) != std::string::npos
                                          ? "went first; the first waited"
                                          : "ran after the first had finished");
}

TEST_P(SharingTest, IngestBesideMerges) {
  SearchLoop searches(data_, kEvents, seed_);
  // The files in four parts, ingested one after the other (several segments per day), while
  // `index merge` runs again and again; both write, so they take turns on the lock.
  auto files = GzFiles(logs_);
  std::vector<std::string> parts(4);
  for (size_t i = 0; i < files.size(); ++i) parts[i % 4] += " " + files[i];
  std::atomic<bool> ingesting{true};
  std::atomic<int> merges{0}, merge_failures{0};
  std::string merge_error;
  std::thread merger([&] {
    std::mt19937 rng(seed_);
    while (ingesting) {
      CairnRun m = Cairn("--data " + data_ + " index merge");
      // Before the first ingest made the folder there is no index to merge: fine.
      if (m.status == 0) {
        ++merges;
      } else if (m.err.find("does not exist") == std::string::npos &&
                 m.err.find("no-such") == std::string::npos) {
        ++merge_failures;
        merge_error = m.out + m.err;
      }
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 30)(rng)));
    }
  });
  for (const auto& part : parts) {
    // Files are passed on the command line: a shell fragment keeps it under the 128 KiB limit
    // of one argument only because each part has a quarter of the files.
    CairnRun in = Cairn("--data " + data_ + " ingest --no-progress" + part);
    EXPECT_EQ(in.status, 0) << in.err;
  }
  ingesting = false;
  merger.join();
  ExpectCleanReaders(searches);
  EXPECT_EQ(merge_failures.load(), 0) << merge_error;
  std::printf("  %d merges beside the ingests\n", merges.load());
  EXPECT_EQ(CountAndDistinct(data_), AllOnce());
  CairnRun check = Cairn("--data " + data_ + " index check");
  EXPECT_EQ(check.status, 0) << check.out << check.err;
}

TEST_P(SharingTest, KillNineOfTheWriterWhileSearchesRun) {
  SearchLoop searches(data_, kEvents, seed_);
  std::mt19937 rng(seed_);
  const int delay_ms = std::uniform_int_distribution<int>(20, 400)(rng);
  CairnProcess ingest(Ingest(), dir_ + "/killed");
  std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms));
  const bool killed = ingest.Running();
  ingest.Kill9();
  const int status = ingest.Wait();
  std::printf("  kill -9 after %d ms: %s\n", delay_ms,
              killed ? "mid-run" : "the ingest had already finished");
  if (killed) EXPECT_EQ(status, -SIGKILL);
  // Searches go on over what the killed writer committed; a rerun completes the data (the lock
  // died with the writer, so it does not wait).
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  CairnProcess rerun(Ingest(/*no_wait=*/true), dir_ + "/rerun");
  ASSERT_EQ(rerun.Wait(), 0) << rerun.err();
  ExpectCleanReaders(searches);
  EXPECT_EQ(CountAndDistinct(data_), AllOnce());
  CairnRun check = Cairn("--data " + data_ + " index check");
  EXPECT_EQ(check.status, 0) << check.out << check.err;
  // Nothing left over from the killed writer once the rerun has opened the store.
  for (const auto& e : std::filesystem::directory_iterator(data_ + "/indexes/aws-cloudtrail")) {
    EXPECT_EQ(e.path().extension(), e.path().filename() == "MANIFEST" ? "" : ".seg") << e.path();
  }
}

INSTANTIATE_TEST_SUITE_P(Seeds, SharingTest, ::testing::ValuesIn(kSeeds),
                         [](const auto& info) { return "seed" + std::to_string(info.param); });

// A writer holding the lock (here this test process, as a writer would: flock on <data>/LOCK with
// its pid inside): `--no-wait` fails at once naming that pid; without it, the writer says whom it
// waits for and goes on once the lock is released.
TEST(WriterLock, NoWaitFailsAtOnceAndWaitingNamesTheHolder) {
  const std::string dir = MakeTempDir("cairn_cli_lock");
  const std::string data = dir + "/data";
  CairnRun gen = Cairn("generate --out " + dir +
                       "/logs --events 500 --seed 5 --days 1 --accounts 1 --regions 1");
  ASSERT_EQ(gen.status, 0) << gen.err;
  ASSERT_TRUE(FileSystem::Default()->CreateDirs(data).ok());
  auto lock = FileSystem::Default()->LockFile(data + "/LOCK", /*wait=*/false);
  ASSERT_TRUE(lock.ok());
  const std::string me = std::to_string(::getpid());
  ASSERT_TRUE((*lock)->WriteContents(me + "\n").ok());

  for (const std::string cmd :
       {"ingest --no-progress --no-wait " + dir + "/logs/AWSLogs",
        std::string("index merge --no-wait"),
        std::string("index retention set aws-cloudtrail --max-age 90d --no-wait")}) {
    auto t0 = std::chrono::steady_clock::now();
    CairnRun r = Cairn("--data " + data + " " + cmd);
    EXPECT_EQ(r.status, 1) << cmd << ": " << r.out << r.err;
    EXPECT_NE(r.err.find("in use by another cairn writer (pid " + me), std::string::npos)
        << cmd << ": " << r.err;
    EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(5)) << cmd;
  }
  // Readers are not held up.
  CairnRun list = Cairn("--data " + data + " index list");
  EXPECT_EQ(list.status, 0) << list.err;

  CairnProcess waiting({"--data", data, "ingest", "--no-progress", dir + "/logs/AWSLogs"},
                       dir + "/waiting");
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (waiting.err().find("waiting for it to finish") == std::string::npos &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  EXPECT_NE(waiting.err().find("in use by another cairn writer (pid " + me + "); waiting"),
            std::string::npos)
      << waiting.err();
  EXPECT_TRUE(waiting.Running()) << "it must wait for the lock";
  lock->reset();
  EXPECT_EQ(waiting.Wait(), 0) << waiting.err();
  EXPECT_EQ(CountAndDistinct(data), "500,500");
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::testing
