// Replacement groups (Store::Commit with CommitOptions, PublishGroup): staged segments are never
// searched, a publish swaps one version for another in one manifest swap, a failed or interrupted
// publish leaves the old version whole, and publishing again changes nothing.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/testing.h"
#include "store/store.h"
#include "store/test_util.h"
#include "store/testing_fs.h"

namespace cairn::store {
namespace {

using testing::FaultInjectionFileSystem;
using Op = FaultInjectionFileSystem::Op;

constexpr int64_t kT0 = kMillisPerDay * 20400;
constexpr uint64_t kPerVersion = 300;
const CommitOptions kNone;

// Version v's events: ids [v * 1e6, v * 1e6 + 300), spread over 5 days.
std::vector<cloudtrail::Event> VersionBatch(uint64_t v, uint64_t first = 0,
                                            uint64_t count = kPerVersion) {
  return testing::SyntheticBatch(v * 1'000'000 + first, count, kT0, 5 * kMillisPerDay);
}

CommitOptions In(uint64_t v) {
  return CommitOptions{"billing:20251101-20251201", fmt::format("asm-{}", v)};
}

// Versions (id / 1e6) present in the index's snapshot, with their event counts.
std::map<uint64_t, uint64_t> Visible(Store& store) {
  std::map<uint64_t, uint64_t> out;
  auto snap = store.GetSnapshot("bill");
  if (!snap.ok()) return out;
  for (const auto& seg : (*snap)->segments()) {
    EXPECT_TRUE(seg->ForEachId([&](std::string_view, std::string_view id) {
                     uint64_t n = std::stoull(std::string(id.substr(id.size() - 12)), nullptr, 16);
                     ++out[n / 1'000'000];
                   })
                    .ok());
  }
  return out;
}

StoreOptions Options(const std::string& dir, FileSystem* fs = FileSystem::Default()) {
  StoreOptions opt;
  opt.data_dir = dir;
  opt.fs = fs;
  opt.background_merge = false;
  opt.merge_min_segments = 2;
  return opt;
}

TEST(GroupTest, StagedIsInvisibleAndPublishSwapsVersions) {
  std::string dir = cairn::testing::MakeTempDir("cairn_group");
  auto store = Store::Open(Options(dir));
  ASSERT_TRUE(store.ok());
  Store& s = **store;
  // An ordinary commit beside the group is never touched by it.
  ASSERT_TRUE(s.Commit("bill", VersionBatch(9, 0, 50)).ok());
  // Version 1 staged in two commits: not searched yet.
  ASSERT_TRUE(s.Commit("bill", VersionBatch(1, 0, 100), In(1)).ok());
  ASSERT_TRUE(s.Commit("bill", VersionBatch(1, 100, 200), In(1)).ok());
  EXPECT_EQ(Visible(s), (std::map<uint64_t, uint64_t>{{9, 50}}));
  auto groups = s.Groups("bill");
  ASSERT_EQ(groups.size(), 1u);
  EXPECT_EQ(groups.begin()->second.live_version, "");
  EXPECT_EQ(groups.begin()->second.staged_versions, std::vector<std::string>{"asm-1"});
  EXPECT_EQ(groups.begin()->second.staged_events, kPerVersion);

  auto p1 = s.PublishGroup("bill", In(1).group, In(1).version);
  ASSERT_TRUE(p1.ok()) << p1.status().ToString();
  EXPECT_EQ(p1->published_events, kPerVersion);
  EXPECT_EQ(p1->dropped_events, 0u);
  EXPECT_EQ(Visible(s), (std::map<uint64_t, uint64_t>{{1, kPerVersion}, {9, 50}}));

  // Version 2 staged: version 1 still searched; staging it again deduplicates.
  ASSERT_TRUE(s.Commit("bill", VersionBatch(2), In(2)).ok());
  auto again = s.Commit("bill", VersionBatch(2), In(2));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->added, 0u);
  EXPECT_EQ(again->duplicates, kPerVersion);
  EXPECT_EQ(Visible(s), (std::map<uint64_t, uint64_t>{{1, kPerVersion}, {9, 50}}));
  auto p2 = s.PublishGroup("bill", In(2).group, In(2).version);
  ASSERT_TRUE(p2.ok());
  EXPECT_EQ(p2->dropped_events, kPerVersion);
  EXPECT_EQ(Visible(s), (std::map<uint64_t, uint64_t>{{2, kPerVersion}, {9, 50}}));
  // Publishing the live version again is a no-op.
  auto p3 = s.PublishGroup("bill", In(2).group, In(2).version);
  ASSERT_TRUE(p3.ok());
  EXPECT_FALSE(p3->changed);
  auto info = s.Info("bill");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->events, kPerVersion + 50);

  // Merges keep versions apart, and a merged segment is still dropped whole.
  ASSERT_TRUE(s.Commit("bill", VersionBatch(9, 50, 50)).ok());
  ASSERT_TRUE(s.MergeNow("bill").ok());
  for (const auto& seg : (*s.GetSnapshot("bill"))->segments()) {
    std::set<uint64_t> versions;
    ASSERT_TRUE(seg->ForEachId([&](std::string_view, std::string_view id) {
                     versions.insert(
                         std::stoull(std::string(id.substr(id.size() - 12)), nullptr, 16) /
                         1'000'000);
                   })
                    .ok());
    EXPECT_EQ(versions.size(), 1u) << seg->path();
    EXPECT_EQ(seg->desc().group.empty(), versions.count(9) == 1) << seg->path();
  }
  ASSERT_TRUE(s.Close().ok());

  // Reopened: the manifest kept groups, versions and states.
  store = Store::Open(Options(dir));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(Visible(**store), (std::map<uint64_t, uint64_t>{{2, kPerVersion}, {9, 100}}));
  ASSERT_TRUE((*store)->Commit("bill", VersionBatch(3), In(3)).ok());
  ASSERT_TRUE((*store)->Close().ok());
  store = Store::Open(Options(dir));
  ASSERT_TRUE(store.ok());
  EXPECT_EQ(Visible(**store), (std::map<uint64_t, uint64_t>{{2, kPerVersion}, {9, 100}}));
  EXPECT_EQ((*store)->Groups("bill").begin()->second.staged_versions,
            std::vector<std::string>{"asm-3"});
  ASSERT_TRUE((*store)->PublishGroup("bill", In(3).group, In(3).version).ok());
  EXPECT_EQ(Visible(**store), (std::map<uint64_t, uint64_t>{{3, kPerVersion}, {9, 100}}));
  EXPECT_TRUE((*store)->Check("bill")->ok());
  FileSystem::Default()->RemoveAll(dir).IgnoreError();
}

TEST(GroupTest, BadGroupNamesAreRefused) {
  std::string dir = cairn::testing::MakeTempDir("cairn_group");
  auto store = Store::Open(Options(dir));
  ASSERT_TRUE(store.ok());
  auto r = (*store)->Commit("bill", VersionBatch(1, 0, 3), CommitOptions{"has space", "v"});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  r = (*store)->Commit("bill", VersionBatch(1, 0, 3), CommitOptions{"g", ""});
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ((*store)->PublishGroup("bill", "g", "a\nb").status().code(),
            StatusCode::kInvalidArgument);
  FileSystem::Default()->RemoveAll(dir).IgnoreError();
}

// Every file operation of a publish fails in turn: the old version stays searched whole (or, when
// only the folder fsync failed, the new one is), and after reopening, publishing again gives
// exactly the new version.
TEST(GroupTest, FailedPublishLeavesOneVersion) {
  for (Op op : {Op::kCreate, Op::kAppend, Op::kSync, Op::kClose, Op::kRename, Op::kSyncDir}) {
    SCOPED_TRACE(static_cast<int>(op));
    std::string dir = cairn::testing::MakeTempDir("cairn_group");
    FaultInjectionFileSystem fs(FileSystem::Default());
    {
      auto store = Store::Open(Options(dir, &fs));
      ASSERT_TRUE(store.ok());
      ASSERT_TRUE((*store)->Commit("bill", VersionBatch(1), In(1)).ok());
      ASSERT_TRUE((*store)->PublishGroup("bill", In(1).group, In(1).version).ok());
      ASSERT_TRUE((*store)->Commit("bill", VersionBatch(2), In(2)).ok());
      fs.FailNth(op, 0);
      auto p = (*store)->PublishGroup("bill", In(2).group, In(2).version);
      EXPECT_FALSE(p.ok());
      auto seen = Visible(**store);
      if (op == Op::kSyncDir) {
        EXPECT_EQ(seen, (std::map<uint64_t, uint64_t>{{2, kPerVersion}}));
      } else {
        EXPECT_EQ(seen, (std::map<uint64_t, uint64_t>{{1, kPerVersion}}));
      }
      fs.Clear();
    }
    auto store = Store::Open(Options(dir));
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto seen = Visible(**store);
    EXPECT_TRUE(seen == (std::map<uint64_t, uint64_t>{{1, kPerVersion}}) ||
                seen == (std::map<uint64_t, uint64_t>{{2, kPerVersion}}));
    ASSERT_TRUE((*store)->Commit("bill", VersionBatch(2), In(2)).ok());
    ASSERT_TRUE((*store)->PublishGroup("bill", In(2).group, In(2).version).ok());
    EXPECT_EQ(Visible(**store), (std::map<uint64_t, uint64_t>{{2, kPerVersion}}));
    FileSystem::Default()->RemoveAll(dir).IgnoreError();
  }
}

}  // namespace
}  // namespace cairn::store
