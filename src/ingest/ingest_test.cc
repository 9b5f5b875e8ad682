#include "ingest/ingest.h"

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <mutex>
#include <set>
#include <thread>

#include "common/json_util.h"
#include "common/testing.h"

namespace cairn::ingest {
namespace {

// Records every committed event, and can fail a chosen commit.
class RecordingSink final : public Sink {
 public:
  Result<SinkStats> Commit(std::string_view index, std::vector<cloudtrail::Event>* batch) override {
    std::vector<cloudtrail::Event>& events = *batch;
    std::lock_guard<std::mutex> lock(mu_);
    if (fail_on_commit_ >= 0 && commits_ == fail_on_commit_) {
      ++commits_;
      return IOError("disk full (injected)");
    }
    ++commits_;
    SinkStats stats;
    for (auto& e : events) {
      if (keys_.insert(e.account + "/" + e.event_id).second) {
        ++stats.added;
        sources_.insert(e.source.str());
      } else {
        ++stats.duplicates;
      }
      EXPECT_EQ(index, "aws-cloudtrail");
    }
    return stats;
  }
  std::set<std::string> keys_, sources_;
  int commits_ = 0;
  int fail_on_commit_ = -1;
  std::mutex mu_;
};

std::string Invictus() { return testing::SharedDataDir() + "/cloudtrail/invictus/CloudTrail"; }
std::string InvictusGz() { return testing::SharedDataDir() + "/cloudtrail/invictus/s3_layout"; }
std::string Malformed() {
  return testing::SharedDataDir() + "/cloudtrail/malformed/concatenated-objects.json";
}

TEST(ExpandPathsTest, FoldersGlobsAndMissing) {
  CAIRN_REQUIRE_SHARED_DATA();
  FileSystem* fs = FileSystem::Default();
  auto folder = ExpandPaths(fs, {InvictusGz()}, "/tmp");
  ASSERT_TRUE(folder.ok()) << folder.status().ToString();
  EXPECT_EQ(folder->size(), 55u);
  auto glob = ExpandPaths(fs, {Invictus() + "/*_20230710T11*.json"}, "/tmp");
  ASSERT_TRUE(glob.ok()) << glob.status().ToString();
  EXPECT_GT(glob->size(), 0u);
  EXPECT_LT(glob->size(), 55u);
  // Overlapping arguments name each file once.
  auto overlap = ExpandPaths(fs, {Invictus(), Invictus() + "/*.json"}, "/tmp");
  ASSERT_TRUE(overlap.ok());
  EXPECT_EQ(overlap->size(), 55u);
  auto missing = ExpandPaths(fs, {"/nonexistent/cairn/*.json"}, "/tmp");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.status().message().find("/nonexistent/cairn/*.json"), std::string::npos);
}

TEST(ExpandPathsTest, GroupsFilesByTheirDateFolders) {
  FileSystem* fs = FileSystem::Default();
  std::string dir = testing::MakeTempDir("cairn_expand");
  const std::vector<std::string> files = {"AWSLogs/1/CloudTrail/us-east-1/2026/11/01/a.json",
                                          "AWSLogs/1/CloudTrail/us-east-1/2026/11/02/b.json",
                                          "AWSLogs/1/CloudTrail/us-west-2/2026/11/01/c.json",
                                          "AWSLogs/2/CloudTrail/us-east-1/2026/11/02/d.json",
                                          "AWSLogs/2/CloudTrail/us-east-1/2026/10/31/e.json",
                                          "loose/f.json",
                                          "loose/2026/1/01/g.json"};  // not a date folder
  for (const auto& f : files) {
    ASSERT_TRUE(fs->CreateDirs(DirName(JoinPath(dir, f))).ok());
    ASSERT_TRUE(WriteFileAtomic(fs, JoinPath(dir, f), "{\"Records\":[]}").ok());
  }
  auto out = ExpandPaths(fs, {dir}, "/tmp");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  std::vector<std::string> names;
  for (const auto& p : *out) names.push_back(BaseName(p));
  // Files without date folders first (path order), then day by day, path order within a day.
  EXPECT_EQ(names, (std::vector<std::string>{"g.json", "f.json", "e.json", "a.json", "c.json",
                                             "b.json", "d.json"}));
  fs->RemoveAll(dir).IgnoreError();
}

TEST(IngestTest, FolderWithMalformedFileStoresEverythingElse) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::string data = testing::MakeTempDir("cairn_ingest");
  FileSystem* fs = FileSystem::Default();
  auto files = ExpandPaths(fs, {Invictus(), Malformed()}, data);
  ASSERT_TRUE(files.ok());
  ASSERT_EQ(files->size(), 56u);
  IngestOptions options;
  options.data_dir = data;
  options.threads = 2;
  options.batch_events = 500;  // several commits
  RecordingSink sink;
  int progress_calls = 0;
  Progress last;
  auto summary = IngestFiles(
      *files, options, &sink,
      [&](const Progress& p) {
        ++progress_calls;
        last = p;
      },
      0.01);
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  EXPECT_EQ(summary->files, 55u);
  EXPECT_EQ(summary->events, 2900u);
  EXPECT_EQ(summary->added, 2900u);
  EXPECT_EQ(sink.keys_.size(), 2900u);
  EXPECT_EQ(sink.sources_.size(), 55u);
  EXPECT_GE(sink.commits_, 3);  // batches close at whole files past 500 events
  EXPECT_GE(progress_calls, 1);
  // The last progress report: every file done; every byte of the files counted in the total,
  // and those read whole (not the rejected file) as done.
  auto malformed_size = fs->FileSize(Malformed());
  ASSERT_TRUE(malformed_size.ok());
  EXPECT_EQ(last.files_done, 56u);
  EXPECT_EQ(last.files_total, 56u);
  EXPECT_EQ(last.events, 2900u);
  EXPECT_EQ(last.input_bytes_done, summary->input_bytes);
  EXPECT_EQ(last.input_bytes_total, summary->input_bytes + *malformed_size);
  ASSERT_EQ(summary->rejected.size(), 1u);
  const Rejection& r = summary->rejected[0];
  EXPECT_EQ(r.path, Malformed());
  EXPECT_NE(r.reason.find("concatenated-objects.json"), std::string::npos) << r.reason;
  EXPECT_NE(r.reason.find("byte"), std::string::npos) << r.reason;
  // The rejected file and its reason are in the quarantine.
  const std::string qdir = data + "/quarantine/local";
  auto entries = fs->ListDir(qdir);
  ASSERT_TRUE(entries.ok());
  int copies = 0, reasons = 0;
  for (const auto& e : *entries) {
    EXPECT_NE(e.name.find("concatenated-objects.json"), std::string::npos) << e.name;
    if (e.name.ends_with(".json")) {
      ++reasons;
      auto text = ReadFileToString(fs, qdir + "/" + e.name);
      ASSERT_TRUE(text.ok());
      EXPECT_NE(text->find(JsonString(r.reason)), std::string::npos) << *text;
      EXPECT_NE(text->find(JsonString(Malformed())), std::string::npos) << *text;
    } else if (e.name.ends_with(".data")) {
      ++copies;
      EXPECT_EQ(*ReadFileToString(fs, qdir + "/" + e.name), *ReadFileToString(fs, Malformed()));
    }
  }
  EXPECT_EQ(copies, 1);
  EXPECT_EQ(reasons, 1);
  // Summary forms carry the rejection.
  EXPECT_NE(summary->ToJson().find("\"rejected\":[{\"path\":"), std::string::npos);
  EXPECT_NE(summary->ToText().find("rejected: 1"), std::string::npos);
  ASSERT_TRUE(fs->RemoveAll(data).ok());
}

TEST(IngestTest, PlainAndGzippedLayoutsHoldTheSameEvents) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::string data = testing::MakeTempDir("cairn_ingest");
  FileSystem* fs = FileSystem::Default();
  IngestOptions options;
  options.data_dir = data;
  RecordingSink sink;
  auto plain = IngestFiles(*ExpandPaths(fs, {Invictus()}, data), options, &sink);
  ASSERT_TRUE(plain.ok());
  auto gz = IngestFiles(*ExpandPaths(fs, {InvictusGz()}, data), options, &sink);
  ASSERT_TRUE(gz.ok());
  EXPECT_EQ(plain->added, 2900u);
  EXPECT_EQ(gz->events, 2900u);
  EXPECT_EQ(gz->added, 0u);  // every event of the gzipped copy was already there
  EXPECT_EQ(gz->duplicates, 2900u);
  EXPECT_GT(gz->decoded_bytes, gz->input_bytes);
  ASSERT_TRUE(fs->RemoveAll(data).ok());
}

TEST(IngestTest, SinkFailureStopsTheRunWithTheError) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::string data = testing::MakeTempDir("cairn_ingest");
  IngestOptions options;
  options.data_dir = data;
  options.batch_events = 100;
  RecordingSink sink;
  sink.fail_on_commit_ = 2;
  auto result = IngestFiles(*ExpandPaths(FileSystem::Default(), {Invictus()}, data), options, &sink);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.status().message().find("disk full (injected)"), std::string::npos);
  ASSERT_TRUE(FileSystem::Default()->RemoveAll(data).ok());
}

// Counts commits and how many run at once; each commit takes a few milliseconds.
class ConcurrencySink final : public Sink {
 public:
  explicit ConcurrencySink(size_t useful, bool gathers = true) : useful_(useful), gathers_(gathers) {}
  Result<SinkStats> Commit(std::string_view index, std::vector<cloudtrail::Event>* batch) override {
    ++commits_;
    int now = ++in_flight_;
    int seen = most_.load();
    while (now > seen && !most_.compare_exchange_weak(seen, now)) {
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
    --in_flight_;
    return SinkStats{batch->size(), 0};
  }
  size_t useful_concurrent_commits() const override { return useful_; }
  bool gathers_batches() const override { return gathers_; }
  std::atomic<int> in_flight_{0}, most_{0}, commits_{0};

 private:
  size_t useful_;
  bool gathers_;
};

// A sink that gains nothing from concurrent commits gets one committer; others one per core.
TEST(IngestTest, CommitterThreadsFollowTheSink) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::string data = testing::MakeTempDir("cairn_ingest");
  IngestOptions options;
  options.data_dir = data;
  options.batch_events = 50;  // ~58 commits
  auto files = *ExpandPaths(FileSystem::Default(), {Invictus()}, data);
  ConcurrencySink one(1);
  ASSERT_TRUE(IngestFiles(files, options, &one).ok());
  EXPECT_EQ(one.most_.load(), 1);
  if (std::thread::hardware_concurrency() >= 2) {
    ConcurrencySink any(0);
    ASSERT_TRUE(IngestFiles(files, options, &any).ok());
    EXPECT_GE(any.most_.load(), 2);
  }
  ASSERT_TRUE(FileSystem::Default()->RemoveAll(data).ok());
}

// A sink that gathers batches gets the whole Invictus set (2,900 events) in one or two commits
// under the default batch size; one that does not gets each file's events as their own commit.
TEST(IngestTest, SinksThatDoNotGatherGetEachFileAsItComes) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::string data = testing::MakeTempDir("cairn_ingest");
  IngestOptions options;
  options.data_dir = data;
  auto files = *ExpandPaths(FileSystem::Default(), {Invictus()}, data);
  ConcurrencySink gathering(0, true), per_file(0, false);
  auto a = IngestFiles(files, options, &gathering);
  auto b = IngestFiles(files, options, &per_file);
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(a->added, 2900u);
  EXPECT_EQ(b->added, 2900u);
  EXPECT_LE(gathering.commits_.load(), 2);
  EXPECT_EQ(per_file.commits_.load(), 55);
  ASSERT_TRUE(FileSystem::Default()->RemoveAll(data).ok());
}

}  // namespace
}  // namespace cairn::ingest
