#include "collect/ledger.h"

#include <gtest/gtest.h>

#include <fstream>

#include "common/fs.h"
#include "common/testing.h"

namespace cairn::collect {
namespace {

TEST(LedgerTest, RecordsSurviveReopenAndTornTails) {
  std::string dir = cairn::testing::MakeTempDir();
  std::string path = dir + "/ledger.log";
  {
    auto l = Ledger::Open(path);
    ASSERT_TRUE(l.ok()) << l.status().ToString();
    EXPECT_FALSE((*l)->Find("b", "k").has_value());
    ASSERT_TRUE((*l)->Record({{"b", "k", "e1", 3, 1, "collect"}, {"b", "odd\tkey\n\"x\"", "e2", 0, 1, "backfill"}}).ok());
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
  auto l = Ledger::Open(path);
  ASSERT_TRUE(l.ok());
  EXPECT_EQ((*l)->size(), 2u);
  EXPECT_TRUE((*l)->Contains("b", "odd\tkey\n\"x\"", "e2"));
  EXPECT_FALSE((*l)->Contains("b", "bad", ""));
  ASSERT_TRUE((*l)->Record({{"b", "after", "e3", 1, 2, "collect"}}).ok());
  auto again = Ledger::Open(path);
  ASSERT_TRUE(again.ok());
  EXPECT_TRUE((*again)->Contains("b", "after", "e3"));
  EXPECT_EQ((*again)->size(), 3u);
  FileSystem::Default()->RemoveAll(dir);
}

TEST(LedgerTest, SeesWhatAnotherProcessAppended) {
  std::string dir = cairn::testing::MakeTempDir();
  std::string path = dir + "/ledger.log";
  auto a = Ledger::Open(path);
  auto b = Ledger::Open(path);
  ASSERT_TRUE(a.ok() && b.ok());
  ASSERT_TRUE((*a)->Record({{"bk", "key", "e", 1, 1, "backfill"}}).ok());
  EXPECT_TRUE((*b)->Contains("bk", "key", "e"));
  FileSystem::Default()->RemoveAll(dir);
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

}  // namespace
}  // namespace cairn::collect
