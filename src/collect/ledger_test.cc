#include "collect/ledger.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/fs.h"
#include "common/testing.h"
#include "store/testing_fs.h"

namespace cairn::collect {
namespace {

TEST(LedgerTest, RecordsSurviveReopenAndTornTails) {
  std::string dir = cairn::testing::MakeTempDir();
  std::string path = dir + "/ledger.log";
  {
    auto l = Ledger::Open(FileSystem::Default(), path);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    EXPECT_FALSE((*l)->Find("b", "k").has_value());
    ASSERT_TRUE((*l)->Record({{"b", "k", "e1", 3, 1, "collect"},
                              {"b", "odd\tkey\n\"x\"", "e2", 0, 1, "backfill"}})
                    .ok());
    EXPECT_TRUE((*l)->Contains("b", "k", "e1"));
    EXPECT_TRUE((*l)->Contains("b", "k", ""));
    EXPECT_FALSE((*l)->Contains("b", "k", "other"));
  }
  // A crash mid-append leaves a torn line; a damaged line is skipped, not fatal.
  {
    std::ofstream f(path, std::ios::app);
    f << "deadbeef {\"bucket\":\"b\",\"key\":\"bad\",\"etag\":\"e\"}\n";
    f << "0123";
  }
  auto l = Ledger::Open(FileSystem::Default(), path);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->size(), 2u);
  EXPECT_TRUE((*l)->Contains("b", "odd\tkey\n\"x\"", "e2"));
  EXPECT_FALSE((*l)->Contains("b", "bad", ""));
  ASSERT_TRUE((*l)->Record({{"b", "after", "e3", 1, 2, "collect"}}).ok());
  auto again = Ledger::Open(FileSystem::Default(), path);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->Contains("b", "after", "e3"));
  EXPECT_EQ((*again)->size(), 3u);
  FileSystem::Default()->RemoveAll(dir);
}

TEST(LedgerTest, SeesWhatAnotherProcessAppended) {
  std::string dir = cairn::testing::MakeTempDir();
  std::string path = dir + "/ledger.log";
  auto a = Ledger::Open(FileSystem::Default(), path);
  auto b = Ledger::Open(FileSystem::Default(), path);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Record({{"bk", "key", "e", 1, 1, "backfill"}}).ok());
  EXPECT_TRUE((*b)->Contains("bk", "key", "e"));
  FileSystem::Default()->RemoveAll(dir);
}

// The ledger's file goes through the FileSystem it is given: a failed fsync or a short write is
// Record's error (a local one, IOError, naming the file), so the caller keeps the object's
// message; a line whose fsync failed is still in the file and reads back; what a short write left
// is closed off by the next Record and skipped.
TEST(LedgerTest, FileSystemFaultsFailRecord) {
  using Faults = store::testing::FaultInjectionFileSystem;
  std::string dir = cairn::testing::MakeTempDir();
  std::string path = dir + "/ledger.log";
  Faults faults(FileSystem::Default());
  auto l = Ledger::Open(&faults, path);
  ASSERT_TRUE(l.ok()) << l.status().ToString();
  EXPECT_EQ(faults.Calls(Faults::Op::kCreate), 1);

  faults.FailNth(Faults::Op::kSync, 0);
  Status synced = (*l)->Record({{"b", "k1", "e1", 1, 1, "collect"}});
  EXPECT_TRUE(faults.fired());
  ASSERT_FALSE(synced.ok());
  EXPECT_EQ(synced.code(), StatusCode::kIOError) << synced.ToString();
  EXPECT_NE(synced.message().find(path), std::string::npos) << synced.ToString();

  faults.Clear();
  faults.FailNth(Faults::Op::kAppend, 0, Faults::Fault::kShortWrite);
  Status cut = (*l)->Record({{"b", "k2", "e2", 1, 1, "collect"}});
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.code(), StatusCode::kIOError) << cut.ToString();
  EXPECT_FALSE((*l)->Contains("b", "k2", ""));

  faults.Clear();
  ASSERT_TRUE((*l)->Record({{"b", "k3", "e3", 1, 1, "collect"}}).ok());
  auto again = Ledger::Open(FileSystem::Default(), path);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->Contains("b", "k1", "e1")) << "written, only its fsync failed";
  EXPECT_FALSE((*again)->Contains("b", "k2", "")) << "half a line is skipped";
  EXPECT_TRUE((*again)->Contains("b", "k3", "e3"));
  EXPECT_EQ((*again)->size(), 2u);
  FileSystem::Default()->RemoveAll(dir).IgnoreError();
}

TEST(LedgerTest, LineFormatRoundTrips) {
  LedgerEntry e{"bucket", "AWSLogs/1/x.json.gz", "abc", 42, 1700000000000, "collect"};
  std::string line = Ledger::EncodeLine(e);
  auto d = Ledger::DecodeLine(line);
  ASSERT_TRUE(d.has_value());
  EXPECT_EQ(d->key, e.key);
  EXPECT_EQ(d->events, 42u);
  line[20] ^= 1;
  EXPECT_FALSE(Ledger::DecodeLine(line).has_value());
}

// The collector's hash of an object's decoded bytes is kept with its line; a line written before
// hashes were recorded reads back without one, and a later line for the same key replaces it.
TEST(LedgerTest, KeepsTheDecodedBytesHash) {
  std::string dir = cairn::testing::MakeTempDir();
  std::string path = dir + "/ledger.log";
  const std::string hash(64, 'a');
  {
    auto l = Ledger::Open(FileSystem::Default(), path);
    ASSERT_TRUE(l.ok());
    ASSERT_TRUE(
        (*l)->Record({{"b", "old", "e", 1, 1, "collect"}, {"b", "new", "e", 1, 1, "collect", hash}})
            .ok());
    EXPECT_EQ((*l)->FindSha256("b", "new"), hash);
    EXPECT_FALSE((*l)->FindSha256("b", "old").has_value());
  }
  auto l = Ledger::Open(FileSystem::Default(), path);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->FindSha256("b", "new"), hash);
  EXPECT_FALSE((*l)->FindSha256("b", "old").has_value());
  EXPECT_FALSE((*l)->FindSha256("b", "absent").has_value());
  ASSERT_TRUE((*l)->Record({{"b", "new", "e2", 1, 2, "collect", std::string(64, 'b')}}).ok());
  EXPECT_EQ((*l)->FindSha256("b", "new"), std::string(64, 'b'));
  FileSystem::Default()->RemoveAll(dir);
}

}  // namespace
}  // namespace cairn::collect
