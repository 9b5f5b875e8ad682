// Fault injection through the FileSystem interface: every failure during a commit or a merge is
// reported, and the store reopens holding exactly the acknowledged batches, each event once.

#include <gtest/gtest.h>

#include <map>
#include <set>

#include "common/testing.h"
#include "store/segment_format.h"
#include "store/store.h"
#include "store/test_util.h"
#include "store/testing_fs.h"

namespace cairn::store {
namespace {

using testing::FaultInjectionFileSystem;
using Op = FaultInjectionFileSystem::Op;
using Fault = FaultInjectionFileSystem::Fault;

constexpr int64_t kT0 = kMillisPerDay * 19500;

struct Scenario {
  Op op;
  Fault fault;
  int nth;
};

std::string Name(const Scenario& s) {
  static const char* ops[] = {"create", "append", "sync", "close", "rename", "syncdir", "remove"};
  static const char* faults[] = {"error", "short-write", "no-space"};
  return fmt::format("{} {} #{}", ops[static_cast<int>(s.op)], faults[static_cast<int>(s.fault)],
                     s.nth);
}

std::map<std::string, int> Census(Store& store, const std::string& index) {
  std::map<std::string, int> out;
  auto snap = store.GetSnapshot(index);
  if (!snap.ok()) return out;
  for (const auto& seg : (*snap)->segments()) {
    EXPECT_TRUE(
        seg->ForEachId([&](std::string_view, std::string_view id) { ++out[std::string(id)]; })
            .ok());
  }
  return out;
}

std::set<std::string> Ids(const std::vector<cloudtrail::Event>& batch) {
  std::set<std::string> out;
  for (const auto& e : batch) out.insert(e.event_id);
  return out;
}

class FaultTest : public ::testing::TestWithParam<Scenario> {};

// Commit A (succeeds), commit B under the fault, then commit C with the fault cleared; reopen
// with the real file system and compare with what was acknowledged.
TEST_P(FaultTest, CommitFailureLeavesExactlyTheAcknowledgedBatches) {
  const Scenario sc = GetParam();
  std::string dir = cairn::testing::MakeTempDir("cairn_fault");
  FaultInjectionFileSystem fs(FileSystem::Default());
  StoreOptions opt;
  opt.data_dir = dir;
  opt.fs = &fs;
  opt.background_merge = false;
  opt.segment.block_bytes = 8 << 10;
  auto a = testing::SyntheticBatch(0, 300, kT0, 2 * kMillisPerDay);
  auto b = testing::SyntheticBatch(1000, 300, kT0, 2 * kMillisPerDay);
  auto c = testing::SyntheticBatch(2000, 300, kT0, 2 * kMillisPerDay);
  std::set<std::string> acked;
  bool b_maybe = false;  // B failed after its manifest rename: all of it or none may survive
  {
    auto store = Store::Open(opt);
    ASSERT_TRUE(store.ok());
    ASSERT_TRUE((*store)->Commit("idx", a).ok());
    for (auto& id : Ids(a)) acked.insert(id);
    fs.FailNth(sc.op, sc.nth, sc.fault);
    auto rb = (*store)->Commit("idx", b);
    bool fired = fs.fired();
    fs.Clear();
    if (rb.ok()) {
      EXPECT_FALSE(fired) << Name(sc) << ": a fault fired but the commit reported success";
      for (auto& id : Ids(b)) acked.insert(id);
    } else {
      EXPECT_TRUE(fired) << rb.status().ToString();
      EXPECT_EQ(rb.status().code(), StatusCode::kIOError) << rb.status().ToString();
      b_maybe = rb.status().message().find("not made durable") != std::string::npos;
    }
    auto rc = (*store)->Commit("idx", c);
    if (rc.ok()) {
      for (auto& id : Ids(c)) acked.insert(id);
    } else {
      // Only a poisoned store refuses further writes.
      EXPECT_TRUE(b_maybe) << rc.status().ToString();
      EXPECT_NE(rc.status().message().find("needs reopening"), std::string::npos);
    }
  }
  StoreOptions plain = opt;
  plain.fs = FileSystem::Default();
  auto store = Store::Open(plain);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  auto census = Census(**store, "idx");
  for (auto& [id, n] : census) ASSERT_EQ(n, 1) << Name(sc) << " duplicated " << id;
  for (auto& id : acked) ASSERT_EQ(census.count(id), 1u) << Name(sc) << " lost " << id;
  size_t b_present = 0;
  for (auto& id : Ids(b)) b_present += census.count(id);
  if (!acked.count(b[0].event_id)) {
    if (b_maybe) {
      EXPECT_TRUE(b_present == 0 || b_present == b.size()) << Name(sc) << ": partial batch";
    } else {
      EXPECT_EQ(b_present, 0u) << Name(sc) << ": a failed batch was stored";
    }
  }
  EXPECT_EQ(census.size(), acked.size() + (acked.count(b[0].event_id) ? 0 : b_present));
  auto report = (*store)->Check("idx");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok()) << report->problems[0].status.ToString();
  // No stray files: every file in the folder is listed, the manifest or the config.
  auto entries = FileSystem::Default()->ListDir(JoinPath(dir, "indexes/idx"));
  ASSERT_TRUE(entries.ok());
  std::set<std::string> listed;
  for (const auto& s : (*(*store)->GetSnapshot("idx"))->segments())
    listed.insert(BaseName(s->path()));
  for (const auto& e : *entries) {
    EXPECT_TRUE(e.name == "MANIFEST" || listed.count(e.name)) << "stray file " << e.name;
  }
  FileSystem::Default()->RemoveAll(dir).IgnoreError();
}

std::vector<Scenario> CommitScenarios() {
  std::vector<Scenario> out;
  for (int n = 0; n < 12; ++n) out.push_back({Op::kAppend, Fault::kError, n});
  for (int n = 0; n < 12; n += 2) out.push_back({Op::kAppend, Fault::kShortWrite, n});
  for (int n = 0; n < 12; n += 3) out.push_back({Op::kAppend, Fault::kNoSpace, n});
  for (int n = 0; n < 3; ++n) out.push_back({Op::kSync, Fault::kError, n});
  for (int n = 0; n < 3; ++n) out.push_back({Op::kCreate, Fault::kError, n});
  for (int n = 0; n < 3; ++n) out.push_back({Op::kClose, Fault::kError, n});
  out.push_back({Op::kRename, Fault::kError, 0});
  out.push_back({Op::kSyncDir, Fault::kError, 0});
  return out;
}

INSTANTIATE_TEST_SUITE_P(Commit, FaultTest, ::testing::ValuesIn(CommitScenarios()),
                         [](const ::testing::TestParamInfo<Scenario>& info) {
                           std::string n = Name(info.param);
                           for (char& ch : n) {
                             if (!isalnum(static_cast<unsigned char>(ch))) ch = '_';
                           }
                           return n;
                         });

// A merge that fails at any step leaves every event exactly once, readable after reopening.
TEST(FaultMerge, FailedMergeKeepsEveryEventOnce) {
  for (Scenario sc : std::vector<Scenario>{{Op::kAppend, Fault::kError, 3},
                                           {Op::kAppend, Fault::kNoSpace, 1},
                                           {Op::kSync, Fault::kError, 0},
                                           {Op::kSync, Fault::kError, 1},
                                           {Op::kRename, Fault::kError, 0},
                                           {Op::kSyncDir, Fault::kError, 0},
                                           {Op::kCreate, Fault::kError, 1}}) {
    std::string dir = cairn::testing::MakeTempDir("cairn_fault_merge");
    FaultInjectionFileSystem fs(FileSystem::Default());
    StoreOptions opt;
    opt.data_dir = dir;
    opt.fs = &fs;
    opt.background_merge = false;
    std::set<std::string> all;
    {
      auto store = Store::Open(opt);
      ASSERT_TRUE(store.ok());
      for (int i = 0; i < 5; ++i) {
        auto batch = testing::SyntheticBatch(i * 100, 100, kT0, kMillisPerDay);
        ASSERT_TRUE((*store)->Commit("idx", batch).ok());
        for (auto& id : Ids(batch)) all.insert(id);
      }
      fs.FailNth(sc.op, sc.nth, sc.fault);
      Status s = (*store)->MergeNow("idx");
      EXPECT_EQ(s.ok(), !fs.fired()) << Name(sc) << " " << s.ToString();
      fs.Clear();
      // Readers of the current snapshot are unaffected.
      EXPECT_EQ(Census(**store, "idx").size(), all.size()) << Name(sc);
    }
    opt.fs = FileSystem::Default();
    auto store = Store::Open(opt);
    ASSERT_TRUE(store.ok());
    auto census = Census(**store, "idx");
    EXPECT_EQ(census.size(), all.size()) << Name(sc);
    for (auto& [id, n] : census) ASSERT_EQ(n, 1) << Name(sc) << " " << id;
    EXPECT_TRUE((*store)->Check("idx")->ok()) << Name(sc);
    ASSERT_TRUE((*store)->MergeNow("idx").ok());
    EXPECT_EQ(Census(**store, "idx").size(), all.size());
    FileSystem::Default()->RemoveAll(dir).IgnoreError();
  }
}

}  // namespace
}  // namespace cairn::store
