// One data folder, one writer and readers (store.h, "Processes"): the writer lock, readers that
// change nothing, readers racing a writer's merges, segments published under temporary names.
// The same contract across real processes is tested in tests/cli/sharing_test.cc.

#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <thread>

#include "common/testing.h"
#include "store/store.h"
#include "store/test_util.h"
#include "store/testing_fs.h"

namespace cairn::store {
namespace {

constexpr int64_t kDay = kMillisPerDay;
constexpr int64_t kT0 = kDay * 19500;

class SharingTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = cairn::testing::MakeTempDir("cairn_sharing"); }
  void TearDown() override { FileSystem::Default()->RemoveAll(dir_).IgnoreError(); }

  StoreOptions Options(bool read_only, FileSystem* fs = FileSystem::Default()) {
    StoreOptions opt;
    opt.data_dir = dir_;
    opt.fs = fs;
    opt.read_only = read_only;
    opt.background_merge = false;
    opt.wait_for_lock = false;
    return opt;
  }
  std::string Index(const std::string& name) const {
    return JoinPath(JoinPath(dir_, "indexes"), name);
  }

  std::string dir_;
};

TEST_F(SharingTest, SecondWriterFailsAtOnceNamingTheHolderOrWaitsForIt) {
  auto first = Store::Open(Options(false));
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  auto lock_text = ReadFileToString(FileSystem::Default(), JoinPath(dir_, "LOCK"));
  ASSERT_TRUE(lock_text.ok());
  EXPECT_EQ(*lock_text, std::to_string(::getpid()) + "\n");

  auto second = Store::Open(Options(false));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.status().code(), StatusCode::kUnavailable);
  EXPECT_NE(second.status().message().find("pid " + std::to_string(::getpid())), std::string::npos)
      << second.status().message();

  // A waiting writer gets the folder once the first one closes.
  std::atomic<bool> opened{false};
  std::thread waiter([&] {
    StoreOptions opt = Options(false);
    opt.wait_for_lock = true;
    auto s = Store::Open(opt);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    opened = true;
    if (s.ok()) EXPECT_TRUE((*s)->Commit("idx", testing::SyntheticBatch(0, 10, kT0, kDay)).ok());
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(300));
  EXPECT_FALSE(opened.load());
  // Readers are not held up by the writer.
  auto reader = Store::Open(Options(true));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  ASSERT_TRUE((*first)->Close().ok());
  waiter.join();
  EXPECT_TRUE(opened.load());
}

TEST_F(SharingTest, ReaderChangesNothingInTheDataFolder) {
  // No data folder: an error naming it, and nothing created.
  const std::string missing = JoinPath(dir_, "nothing-here");
  StoreOptions opt = Options(true);
  opt.data_dir = missing;
  auto none = Store::Open(opt);
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  EXPECT_NE(none.status().message().find(missing), std::string::npos);
  EXPECT_FALSE(FileSystem::Default()->Exists(missing));
  // A data folder without indexes: an empty store, still nothing created.
  auto empty = Store::Open(Options(true));
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE((*empty)->ListIndexes().empty());
  EXPECT_FALSE(FileSystem::Default()->Exists(JoinPath(dir_, "indexes")));
  EXPECT_FALSE(FileSystem::Default()->Exists(JoinPath(dir_, "LOCK")));

  {
    auto writer = Store::Open(Options(false));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Commit("idx", testing::SyntheticBatch(0, 100, kT0, kDay)).ok());
    // What a writer leaves while it works (or after a crash): a segment being written, a
    // manifest being written, a new index before its first manifest, a deletion in progress.
    ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(),
                                JoinPath(Index("idx"), "20230523-0000000009.seg.tmp"), "partial")
                    .ok());
    ASSERT_TRUE(
        WriteFileAtomic(FileSystem::Default(), JoinPath(Index("idx"), "MANIFEST.tmp"), "half")
            .ok());
    ASSERT_TRUE(FileSystem::Default()->CreateDirs(Index("fresh")).ok());
    ASSERT_TRUE(FileSystem::Default()->CreateDirs(Index(".deleted-old-1")).ok());

    // Readers open the folder while the writer holds it: they see the committed events and
    // remove nothing.
    for (int i = 0; i < 2; ++i) {
      auto reader = Store::Open(Options(true));
      ASSERT_TRUE(reader.ok()) << reader.status().ToString();
      EXPECT_EQ((*reader)->ListIndexes(), std::vector<std::string>{"idx"});
      EXPECT_EQ((*reader)->Info("idx")->events, 100u);
      EXPECT_EQ(
          (*reader)->Commit("idx", testing::SyntheticBatch(500, 1, kT0, kDay)).status().code(),
          StatusCode::kUnsupported);
      EXPECT_EQ((*reader)->MergeNow("idx").code(), StatusCode::kUnsupported);
      EXPECT_EQ((*reader)->DeleteIndex("idx").code(), StatusCode::kUnsupported);
    }
    EXPECT_TRUE(
        FileSystem::Default()->Exists(JoinPath(Index("idx"), "20230523-0000000009.seg.tmp")));
    EXPECT_TRUE(FileSystem::Default()->Exists(JoinPath(Index("idx"), "MANIFEST.tmp")));
    EXPECT_TRUE(FileSystem::Default()->Exists(Index("fresh")));
    EXPECT_TRUE(FileSystem::Default()->Exists(Index(".deleted-old-1")));
    ASSERT_TRUE((*writer)->Commit("idx", testing::SyntheticBatch(1000, 50, kT0, kDay)).ok());
  }
  // The next writer cleans up (under the lock).
  auto writer = Store::Open(Options(false));
  ASSERT_TRUE(writer.ok());
  EXPECT_FALSE(
      FileSystem::Default()->Exists(JoinPath(Index("idx"), "20230523-0000000009.seg.tmp")));
  EXPECT_FALSE(FileSystem::Default()->Exists(JoinPath(Index("idx"), "MANIFEST.tmp")));
  EXPECT_FALSE(FileSystem::Default()->Exists(Index("fresh")));
  EXPECT_FALSE(FileSystem::Default()->Exists(Index(".deleted-old-1")));
  EXPECT_EQ((*writer)->Info("idx")->events, 150u);
}

// A data folder made by an older cairn (0755) becomes its user's alone when a writer opens it;
// a reader leaves it as it is.
TEST_F(SharingTest, WriterMakesAnOlderDataFolderPrivate) {
  auto mode = [&] {
    struct stat st;
    EXPECT_EQ(::stat(dir_.c_str(), &st), 0);
    return st.st_mode & 07777;
  };
  {
    auto writer = Store::Open(Options(false));
    ASSERT_TRUE(writer.ok());
    ASSERT_TRUE((*writer)->Commit("idx", testing::SyntheticBatch(0, 10, kT0, kDay)).ok());
  }
  ASSERT_EQ(::chmod(dir_.c_str(), 0755), 0);
  {
    auto reader = Store::Open(Options(true));
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    EXPECT_EQ((*reader)->Info("idx")->events, 10u);
  }
  EXPECT_EQ(mode(), 0755u);
  auto writer = Store::Open(Options(false));
  ASSERT_TRUE(writer.ok()) << writer.status().ToString();
  EXPECT_EQ(mode(), 0700u);
  EXPECT_EQ((*writer)->Info("idx")->events, 10u);
}

TEST_F(SharingTest, ReaderRereadsTheManifestWhenAWriterMergesWhileItOpens) {
  auto writer = Store::Open(Options(false));
  ASSERT_TRUE(writer.ok());
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE((*writer)->Commit("idx", testing::SyntheticBatch(i * 100, 100, kT0, kDay)).ok());
  }
  // The reader has read the manifest (four segments) and is opening the first segment when the
  // writer merges all four into one and removes them.
  store::testing::FaultInjectionFileSystem fs(FileSystem::Default());
  int merges = 0;
  fs.SetOpenHook([&](const std::string& path) {
    if (merges == 0 && path.find(".seg") != std::string::npos) {
      ++merges;
      EXPECT_TRUE((*writer)->MergeNow("idx").ok());
    }
  });
  auto reader = Store::Open(Options(true, &fs));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  EXPECT_EQ(merges, 1);
  auto snap = (*reader)->GetSnapshot("idx");
  ASSERT_TRUE(snap.ok());
  EXPECT_TRUE((*snap)->broken().empty()) << (*snap)->broken()[0].status.ToString();
  EXPECT_EQ((*snap)->segments().size(), 1u);
  EXPECT_EQ((*snap)->event_count(), 400u);

  // Once open, the reader's segments stay readable after the writer merges them away.
  for (int i = 0; i < 3; ++i) {
    ASSERT_TRUE(
        (*writer)->Commit("idx", testing::SyntheticBatch(1000 + i * 10, 10, kT0, kDay)).ok());
  }
  auto reader2 = Store::Open(Options(true));
  ASSERT_TRUE(reader2.ok());
  auto snap2 = *(*reader2)->GetSnapshot("idx");
  ASSERT_EQ(snap2->segments().size(), 4u);
  ASSERT_TRUE((*writer)->MergeNow("idx").ok());
  for (const auto& seg : snap2->segments()) {
    EXPECT_FALSE(FileSystem::Default()->Exists(seg->path())) << seg->path();
    for (uint32_t o = 0; o < seg->event_count(); ++o) ASSERT_TRUE(seg->Raw(o).ok());
  }
}

TEST_F(SharingTest, SegmentMissingFromAnUnchangedManifestIsBroken) {
  {
    auto writer = Store::Open(Options(false));
    ASSERT_TRUE(writer.ok());
    for (int d = 0; d < 3; ++d) {
      ASSERT_TRUE((*writer)
                      ->Commit("idx", testing::SyntheticBatch(d * 1000, 100, kT0 + d * kDay, kDay))
                      .ok());
    }
  }
  auto writer = Store::Open(Options(false));
  std::string victim = (*(*writer)->GetSnapshot("idx"))->segments()[1]->path();
  writer->reset();
  ASSERT_TRUE(FileSystem::Default()->RemoveFile(victim).ok());
  auto reader = Store::Open(Options(true));
  ASSERT_TRUE(reader.ok()) << reader.status().ToString();
  auto snap = *(*reader)->GetSnapshot("idx");
  ASSERT_EQ(snap->broken().size(), 1u);
  EXPECT_EQ(snap->broken()[0].path, victim);
  EXPECT_EQ(snap->broken()[0].status.code(), StatusCode::kNotFound);
  EXPECT_EQ(snap->segments().size(), 2u);
  // Only a time range that includes the missing day names it.
  EXPECT_EQ(snap->BrokenInRange(kT0 + kDay, kT0 + 2 * kDay).size(), 1u);
  EXPECT_EQ(snap->BrokenInRange(kT0 - kDay, kT0 + 3 * kDay).size(), 1u);
  EXPECT_TRUE(snap->BrokenInRange(kT0, kT0 + kDay).empty());
  EXPECT_TRUE(snap->BrokenInRange(kT0 + 2 * kDay, kT0 + 3 * kDay).empty());
  EXPECT_EQ((*reader)->Info("idx")->broken_segments, 1u);
}

TEST_F(SharingTest, SegmentsAppearUnderTheirNamesOnlyWhenComplete) {
  store::testing::FaultInjectionFileSystem fs(FileSystem::Default());
  auto writer = Store::Open(Options(false, &fs));
  ASSERT_TRUE(writer.ok());
  // Every segment is written as <name>.tmp and renamed: a failed rename leaves neither file.
  fs.FailNth(store::testing::FaultInjectionFileSystem::Op::kRename, 0,
             store::testing::FaultInjectionFileSystem::Fault::kError, false, ".seg");
  auto failed = (*writer)->Commit("idx", testing::SyntheticBatch(0, 100, kT0, kDay));
  ASSERT_FALSE(failed.ok());
  EXPECT_TRUE(fs.fired());
  auto entries = FileSystem::Default()->ListDir(Index("idx"));
  ASSERT_TRUE(entries.ok());
  for (const auto& e : *entries) {
    EXPECT_EQ(e.name.find(".seg"), std::string::npos) << e.name;
  }
  fs.Clear();
  ASSERT_TRUE((*writer)->Commit("idx", testing::SyntheticBatch(0, 100, kT0, kDay)).ok());
  EXPECT_EQ((*writer)->Info("idx")->events, 100u);
}

}  // namespace
}  // namespace cairn::store
