#include "store/store.h"

#include <gtest/gtest.h>

#include <atomic>
#include <map>
#include <set>
#include <thread>

#include "common/testing.h"
#include "store/segment_format.h"
#include "store/test_util.h"
#include "store/testing_fs.h"

namespace cairn::store {
namespace {

constexpr int64_t kDay = kMillisPerDay;
constexpr int64_t kT0 = kDay * 19500;  // 2023-05-23

class StoreTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = cairn::testing::MakeTempDir("cairn_store"); }
  void TearDown() override { FileSystem::Default()->RemoveAll(dir_).IgnoreError(); }

  std::unique_ptr<Store> OpenStore(bool background = false) {
    StoreOptions opt;
    opt.data_dir = dir_;
    opt.background_merge = background;
    opt.clock = &clock_;
    opt.segment.block_bytes = 16 << 10;
    auto s = Store::Open(opt);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    return s.ok() ? std::move(s).value() : nullptr;
  }

  // (account, event_id) -> how many times stored, across the snapshot.
  static std::map<std::string, int> Census(const Snapshot& snap) {
    std::map<std::string, int> out;
    for (const auto& seg : snap.segments()) {
      EXPECT_TRUE(seg->ForEachId([&](std::string_view a, std::string_view id) {
                       ++out[std::string(a) + "/" + std::string(id)];
                     })
                      .ok());
    }
    return out;
  }

  std::string dir_;
  ManualClock clock_{(kT0 + 10 * kDay) * 1000};
};

TEST_F(StoreTest, CommitThenReadBackAcrossPartitions) {
  auto store = OpenStore();
  auto batch = testing::SyntheticBatch(0, 3000, kT0, 3 * kDay);  // three UTC days
  std::map<std::string, std::string> raw_by_id;
  for (const auto& e : batch) raw_by_id[e.event_id] = e.raw;
  auto stats = store->Commit("aws-cloudtrail", batch);
  ASSERT_TRUE(stats.ok()) << stats.status().ToString();
  EXPECT_EQ(stats->added, 3000u);
  EXPECT_EQ(stats->duplicates, 0u);
  auto snap = store->GetSnapshot("aws-cloudtrail");
  ASSERT_TRUE(snap.ok());
  EXPECT_EQ((*snap)->segments().size(), 3u);  // one per day
  EXPECT_EQ((*snap)->event_count(), 3000u);
  for (const auto& seg : (*snap)->segments()) {
    EXPECT_EQ(PartitionOf(seg->min_time()), PartitionOf(seg->max_time()));
    for (uint32_t o = 0; o < seg->event_count(); ++o) {
      auto e = seg->ReadEvent(o);
      ASSERT_TRUE(e.ok());
      EXPECT_EQ(raw_by_id[e->event_id], e->raw);
    }
  }
  // Time pruning picks only the middle day.
  auto mid = (*snap)->SegmentsInRange(kT0 + kDay, kT0 + 2 * kDay);
  ASSERT_EQ(mid.size(), 1u);
  EXPECT_EQ(mid[0]->desc().partition, PartitionOf(kT0 + kDay));

  // Reopen: same content.
  store.reset();
  store = OpenStore();
  auto info = store->Info("aws-cloudtrail");
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->events, 3000u);
  EXPECT_EQ(info->segments, 3u);
  EXPECT_EQ(info->partitions, 3u);
  EXPECT_GE(info->min_time, kT0);
  EXPECT_LT(info->max_time, kT0 + 3 * kDay);
  EXPECT_EQ(store->ListIndexes(), std::vector<std::string>{"aws-cloudtrail"});
}

TEST_F(StoreTest, DeduplicatesWithinBatchAcrossBatchesAndAcrossMerges) {
  auto store = OpenStore();
  auto batch = testing::SyntheticBatch(0, 1000, kT0, kDay);
  auto doubled = batch;
  doubled.insert(doubled.end(), batch.begin(), batch.begin() + 200);
  auto s1 = store->Commit("idx", doubled);
  ASSERT_TRUE(s1.ok());
  EXPECT_EQ(s1->added, 1000u);
  EXPECT_EQ(s1->duplicates, 200u);
  // The skipped positions are the second copies, in batch order.
  ASSERT_EQ(s1->skipped.size(), 200u);
  EXPECT_EQ(s1->skipped.front(), 1000u);
  EXPECT_EQ(s1->skipped.back(), 1199u);
  // Same batch again: all duplicates, nothing written.
  auto s2 = store->Commit("idx", batch);
  ASSERT_TRUE(s2.ok());
  EXPECT_EQ(s2->added, 0u);
  EXPECT_EQ(s2->duplicates, 1000u);
  // Overlap: half old, half new.
  auto overlap = testing::SyntheticBatch(500, 1000, kT0, kDay);
  auto s3 = store->Commit("idx", overlap);
  ASSERT_TRUE(s3.ok());
  EXPECT_EQ(s3->added, 500u);
  EXPECT_EQ(s3->duplicates, 500u);
  // Ids 500..999 were stored before: the first half of this batch.
  ASSERT_EQ(s3->skipped.size(), 500u);
  EXPECT_EQ(s3->skipped.front(), 0u);
  EXPECT_EQ(s3->skipped.back(), 499u);
  // Same event id under another account is a different event.
  auto other = testing::SyntheticBatch(0, 10, kT0, kDay);
  for (auto& e : other) e.account = "444455556666";
  auto s4 = store->Commit("idx", other);
  ASSERT_TRUE(s4.ok());
  EXPECT_EQ(s4->added, 10u);
  // More small commits, then merge, then the duplicates again.
  for (int i = 0; i < 5; ++i) {
    ASSERT_TRUE(store->Commit("idx", testing::SyntheticBatch(2000 + i * 100, 100, kT0, kDay)).ok());
  }
  auto before = store->GetSnapshot("idx");
  ASSERT_GE((*before)->segments().size(), 8u);
  ASSERT_TRUE(store->MergeNow("idx").ok());
  auto after = store->GetSnapshot("idx");
  EXPECT_EQ((*after)->segments().size(), 1u);
  EXPECT_EQ((*after)->event_count(), 2010u);
  auto s5 = store->Commit("idx", testing::SyntheticBatch(0, 2500, kT0, kDay));
  ASSERT_TRUE(s5.ok());
  EXPECT_EQ(s5->added, 500u);  // 1500..1999 were never stored
  EXPECT_EQ(s5->duplicates, 2000u);
  for (auto& [id, n] : Census(**store->GetSnapshot("idx"))) ASSERT_EQ(n, 1) << id;
  // After a reopen the dedup state is rebuilt from the segments.
  store.reset();
  store = OpenStore();
  auto s6 = store->Commit("idx", testing::SyntheticBatch(2400, 200, kT0, kDay));
  ASSERT_TRUE(s6.ok());
  EXPECT_EQ(s6->added, 100u);
  EXPECT_EQ(s6->duplicates, 100u);
}

TEST_F(StoreTest, SnapshotsAreIsolatedFromCommitsMergesAndDeletion) {
  auto store = OpenStore();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE(store->Commit("idx", testing::SyntheticBatch(i * 100, 100, kT0, kDay)).ok());
  }
  auto old = *store->GetSnapshot("idx");
  ASSERT_EQ(old->segments().size(), 4u);
  std::vector<std::string> old_paths;
  for (const auto& s : old->segments()) old_paths.push_back(s->path());
  ASSERT_TRUE(store->Commit("idx", testing::SyntheticBatch(1000, 100, kT0, kDay)).ok());
  ASSERT_TRUE(store->MergeNow("idx").ok());
  auto now = *store->GetSnapshot("idx");
  EXPECT_EQ(now->segments().size(), 1u);
  EXPECT_EQ(now->event_count(), 500u);
  // The old snapshot still reads its merged-away segments; their files still exist.
  EXPECT_EQ(old->event_count(), 400u);
  for (const auto& p : old_paths) EXPECT_TRUE(FileSystem::Default()->Exists(p)) << p;
  for (const auto& seg : old->segments()) {
    for (uint32_t o = 0; o < seg->event_count(); ++o) ASSERT_TRUE(seg->Raw(o).ok());
  }
  old.reset();
  for (const auto& p : old_paths) EXPECT_FALSE(FileSystem::Default()->Exists(p)) << p;
  // Deleting the index leaves a held snapshot readable.
  auto held = now;
  ASSERT_TRUE(store->DeleteIndex("idx").ok());
  EXPECT_FALSE(store->GetSnapshot("idx").ok());
  auto raw = held->segments()[0]->Raw(10);
  EXPECT_TRUE(raw.ok());
  EXPECT_TRUE(store->ListIndexes().empty());
  store.reset();
  store = OpenStore();
  EXPECT_TRUE(store->ListIndexes().empty());
}

TEST_F(StoreTest, MergedSegmentsAnswerQueriesLikeTheInputs) {
  auto store = OpenStore();
  std::vector<cloudtrail::Event> all;
  for (int i = 0; i < 6; ++i) {
    auto b = testing::SyntheticBatch(i * 500, 500, kT0, kDay);
    all.insert(all.end(), b.begin(), b.end());
    ASSERT_TRUE(store->Commit("idx", b).ok());
  }
  auto count = [&](const Snapshot& snap, std::string_view f, std::string_view v) {
    uint64_t n = 0;
    for (const auto& seg : snap.segments()) n += seg->FieldPostings(f, v)->cardinality();
    return n;
  };
  auto terms = [&](const Snapshot& snap, std::string_view t) {
    uint64_t n = 0;
    for (const auto& seg : snap.segments()) n += seg->TermPostings(t)->cardinality();
    return n;
  };
  auto before = *store->GetSnapshot("idx");
  ASSERT_TRUE(store->MergeNow("idx").ok());
  auto after = *store->GetSnapshot("idx");
  ASSERT_EQ(after->segments().size(), 1u);
  for (auto [f, v] : std::vector<std::pair<std::string, std::string>>{
           {"eventName", "GetObject"},
           {"requestParameters.bucketName", "bucket-3"},
           {"requestParameters.key", "path/to/object-77.txt"},
           {"eventID", all[42].event_id},
           {"resources{}.ARN", "arn:aws:s3:::bucket-5"}}) {
    EXPECT_EQ(count(*before, f, v), count(*after, f, v)) << f << "=" << v;
    EXPECT_GT(count(*after, f, v), 0u) << f << "=" << v;
  }
  EXPECT_EQ(terms(*before, "bucket"), 3000u);
  EXPECT_EQ(terms(*after, "bucket"), 3000u);
  EXPECT_EQ(terms(*after, "path/to/object-77.txt"), 1u);  // a whole major segment
  EXPECT_EQ(terms(*after, "object-77"), 0u);  // not a segment: the query engine ANDs the pieces
  // Time order in the merged segment.
  auto times = after->segments()[0]->Times();
  ASSERT_TRUE(times.ok());
  EXPECT_TRUE(std::is_sorted((*times)->begin(), (*times)->end()));
  auto report = store->Check("idx");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

TEST_F(StoreTest, BackgroundMergeKeepsSegmentCountDown) {
  auto store = OpenStore(/*background=*/true);
  for (int i = 0; i < 12; ++i) {
    ASSERT_TRUE(store->Commit("idx", testing::SyntheticBatch(i * 50, 50, kT0, kDay)).ok());
  }
  ASSERT_TRUE(store->WaitForMerges().ok());
  auto snap = *store->GetSnapshot("idx");
  EXPECT_LT(snap->segments().size(), 4u);
  EXPECT_EQ(snap->event_count(), 600u);
  for (auto& [id, n] : Census(*snap)) ASSERT_EQ(n, 1) << id;
}

// Large segments are left alone while their day takes commits, and merged once the day has had
// no commit for cold_partition_ms.
TEST_F(StoreTest, BackgroundMergesLargeSegmentsOnlyOnceTheirDayIsCold) {
  StoreOptions opt;
  opt.data_dir = dir_;
  opt.background_merge = true;
  opt.clock = &clock_;
  opt.segment.block_bytes = 16 << 10;
  opt.background_merge_below = 100;  // segments of 150 events count as large
  opt.cold_partition_ms = 60'000;
  auto store = Store::Open(opt);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  for (int i = 0; i < 4; ++i) {
    ASSERT_TRUE((*store)->Commit("idx", testing::SyntheticBatch(i * 150, 150, kT0, kDay)).ok());
  }
  ASSERT_TRUE((*store)->WaitForMerges().ok());
  EXPECT_EQ((*(*store)->GetSnapshot("idx"))->segments().size(), 4u);  // the day is still warm
  clock_.Advance(61'000'000);
  size_t segments = 4;
  for (int i = 0; i < 200 && segments != 1; ++i) {  // the merger wakes at least once a second
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
    segments = (*(*store)->GetSnapshot("idx"))->segments().size();
  }
  EXPECT_EQ(segments, 1u);
  auto snap = *(*store)->GetSnapshot("idx");
  EXPECT_EQ(snap->event_count(), 600u);
  for (auto& [id, n] : Census(*snap)) ASSERT_EQ(n, 1) << id;
  ASSERT_TRUE((*store)->Close().ok());
}

TEST_F(StoreTest, RetentionByAgeAndBySize) {
  auto store = OpenStore();
  for (int d = 0; d < 5; ++d) {
    ASSERT_TRUE(
        store->Commit("idx", testing::SyntheticBatch(d * 1000, 200, kT0 + d * kDay, kDay)).ok());
  }
  // Clock is at kT0 + 10 days. Keep 7 days: days 0..2 end before now-7d.
  RetentionPolicy p;
  p.max_age_ms = 7 * kDay;
  ASSERT_TRUE(store->SetRetention("idx", p).ok());
  auto r = store->ApplyRetention("idx");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_removed, 3u);
  EXPECT_EQ(r->events_removed, 600u);
  auto info = store->Info("idx");
  EXPECT_EQ(info->events, 400u);
  EXPECT_GE(info->min_time, kT0 + 3 * kDay);
  // By size: keep at most one segment's worth.
  auto snap = *store->GetSnapshot("idx");
  p.max_age_ms = 0;
  p.max_bytes = snap->segments().back()->desc().bytes;
  ASSERT_TRUE(store->SetRetention("idx", p).ok());
  r = store->ApplyRetention("idx");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->segments_removed, 1u);
  info = store->Info("idx");
  EXPECT_EQ(info->segments, 1u);
  EXPECT_GE(info->min_time, kT0 + 4 * kDay);  // the newest survives
  // The policy persists.
  store.reset();
  store = OpenStore();
  auto got = store->GetRetention("idx");
  ASSERT_TRUE(got.ok());
  EXPECT_EQ(got->max_bytes, p.max_bytes);
  EXPECT_EQ(got->max_age_ms, 0);
  // Removed events can be stored again (they are no longer known).
  auto again = store->Commit("idx", testing::SyntheticBatch(0, 200, kT0, kDay));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->added, 200u);
}

TEST_F(StoreTest, CheckReportsCorruptSegmentAndOthersStayReadable) {
  auto store = OpenStore();
  for (int d = 0; d < 3; ++d) {
    ASSERT_TRUE(
        store->Commit("idx", testing::SyntheticBatch(d * 1000, 500, kT0 + d * kDay, kDay)).ok());
  }
  auto snap = *store->GetSnapshot("idx");
  std::string victim = snap->segments()[1]->path();
  snap.reset();
  store.reset();
  // Flip a byte in the middle of the raw blocks of the middle day's segment.
  auto bytes = ReadFileToString(FileSystem::Default(), victim);
  ASSERT_TRUE(bytes.ok());
  (*bytes)[bytes->size() / 4] ^= 0x01;
  {
    auto f = FileSystem::Default()->NewWritableFile(victim);
    ASSERT_TRUE((*f)->Append(*bytes).ok());
    ASSERT_TRUE((*f)->Close().ok());
  }
  store = OpenStore();
  auto report = store->Check("idx");
  ASSERT_TRUE(report.ok());
  ASSERT_EQ(report->problems.size(), 1u);
  EXPECT_EQ(report->problems[0].path, victim);
  EXPECT_EQ(report->problems[0].status.code(), StatusCode::kCorruption);
  EXPECT_EQ(report->segments_checked, 3u);
  // The other days read fine.
  snap = *store->GetSnapshot("idx");
  for (const auto& seg : snap->segments()) {
    if (seg->path() == victim) continue;
    for (uint32_t o = 0; o < seg->event_count(); ++o) ASSERT_TRUE(seg->Raw(o).ok());
    EXPECT_TRUE(seg->Verify().ok());
  }
  // Commits to the other days still work.
  ASSERT_TRUE(store->Commit("idx", testing::SyntheticBatch(9000, 10, kT0, kDay)).ok());
}

TEST_F(StoreTest, OpenRemovesLeftoversOfInterruptedWrites) {
  auto store = OpenStore();
  ASSERT_TRUE(store->Commit("idx", testing::SyntheticBatch(0, 100, kT0, kDay)).ok());
  store.reset();
  std::string idx = JoinPath(JoinPath(dir_, "indexes"), "idx");
  ASSERT_TRUE(
      WriteFileAtomic(FileSystem::Default(), JoinPath(idx, "19500-0000000099.seg"), "partial")
          .ok());
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), JoinPath(idx, "MANIFEST.tmp"), "half").ok());
  // An index folder whose first commit never reached its manifest.
  ASSERT_TRUE(FileSystem::Default()->CreateDirs(JoinPath(JoinPath(dir_, "indexes"), "ghost")).ok());
  store = OpenStore();
  EXPECT_FALSE(FileSystem::Default()->Exists(JoinPath(idx, "19500-0000000099.seg")));
  EXPECT_FALSE(FileSystem::Default()->Exists(JoinPath(idx, "MANIFEST.tmp")));
  EXPECT_EQ(store->ListIndexes(), std::vector<std::string>{"idx"});
  EXPECT_EQ(store->Info("idx")->events, 100u);
}

TEST_F(StoreTest, RejectsBadInput) {
  auto store = OpenStore();
  EXPECT_EQ(store->Commit("Bad Name", testing::SyntheticBatch(0, 1, kT0, kDay)).status().code(),
            StatusCode::kInvalidArgument);
  auto batch = testing::SyntheticBatch(0, 10, kT0, kDay);
  batch[5].raw = "[1,2,3]";
  auto r = store->Commit("idx", batch);
  EXPECT_EQ(r.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(r.status().message().find(batch[5].event_id), std::string::npos)
      << r.status().message();
  // Nothing of the batch was stored.
  auto info = store->Info("idx");
  EXPECT_TRUE(!info.ok() || info->events == 0);
  EXPECT_TRUE(store->Commit("idx", {}).ok());
}

TEST_F(StoreTest, ConcurrentCommitsAndReaders) {
  auto store = OpenStore(/*background=*/true);
  std::vector<std::thread> threads;
  for (int t = 0; t < 3; ++t) {
    threads.emplace_back([&, t] {
      for (int i = 0; i < 10; ++i) {
        // Overlapping id ranges across threads: each id must be stored once.
        auto r = store->Commit("idx", testing::SyntheticBatch((t * 5 + i) * 40, 80, kT0, 2 * kDay));
        ASSERT_TRUE(r.ok()) << r.status().ToString();
      }
    });
  }
  threads.emplace_back([&] {
    for (int i = 0; i < 50; ++i) {
      auto snap = store->GetSnapshot("idx");
      if (!snap.ok()) continue;
      for (const auto& seg : (*snap)->segments())
        ASSERT_TRUE(seg->FieldPostings("eventName", "GetObject").ok());
    }
  });
  for (auto& t : threads) t.join();
  ASSERT_TRUE(store->WaitForMerges().ok());
  auto census = Census(**store->GetSnapshot("idx"));
  EXPECT_EQ(census.size(), static_cast<size_t>((2 * 5 + 9) * 40 + 80));
  for (auto& [id, n] : census) {
    if (n != 1) {
      for (const auto& seg : (*store->GetSnapshot("idx"))->segments()) {
        std::string acc = id.substr(0, id.find('/')), eid = id.substr(id.find('/') + 1);
        ADD_FAILURE() << id << " in " << seg->path() << ": " << *seg->ContainsId(acc, eid);
      }
    }
    ASSERT_EQ(n, 1) << id;
  }
}

// A commit that fails while writing its segment releases the identities it reserved: the same
// batch committed again (from another thread, while a third commit fails) is stored in full.
TEST_F(StoreTest, FailedCommitReleasesItsReservedIds) {
  testing::FaultInjectionFileSystem fs(FileSystem::Default());
  StoreOptions opt;
  opt.data_dir = dir_;
  opt.fs = &fs;
  opt.background_merge = false;
  opt.segment.block_bytes = 8 << 10;
  auto store = Store::Open(opt);
  ASSERT_TRUE(store.ok());
  auto batch = testing::SyntheticBatch(0, 500, kT0, 2 * kDay);
  fs.FailNth(testing::FaultInjectionFileSystem::Op::kSync, 0);
  auto failed = (*store)->Commit("idx", batch);
  ASSERT_FALSE(failed.ok());
  fs.Clear();
  uint64_t added = 0;
  std::thread other([&] {
    auto r = (*store)->Commit("idx", batch);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    added = r->added;
  });
  other.join();
  EXPECT_EQ(added, 500u);
  auto again = (*store)->Commit("idx", batch);
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->duplicates, 500u);
  auto census = Census(**(*store)->GetSnapshot("idx"));
  EXPECT_EQ(census.size(), 500u);
}

// Commits run in parallel (segments are built outside the index lock); threads that commit
// overlapping batches at the same moment must still store each event once, and the added and
// duplicate counts they report must add up to exactly that.
TEST_F(StoreTest, ParallelCommitsOfOverlappingBatchesStoreEachEventOnce) {
  for (int threads_n : {2, 4}) {
    FileSystem::Default()->RemoveAll(dir_).IgnoreError();
    auto store = OpenStore(/*background=*/false);
    std::atomic<uint64_t> added{0}, dups{0}, submitted{0};
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < threads_n; ++t) {
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < threads_n) std::this_thread::yield();
        for (int i = 0; i < 6; ++i) {
          // Thread t, round i: ids [(t + i) * 150, +400), over two days, so every batch overlaps
          // batches of other threads committed in the same and neighbouring rounds.
          auto batch =
              testing::SyntheticBatch(static_cast<uint64_t>(t + i) * 150, 400, kT0, 2 * kDay);
          submitted.fetch_add(batch.size());
          auto r = store->Commit("idx", std::move(batch));
          ASSERT_TRUE(r.ok()) << r.status().ToString();
          added.fetch_add(r->added);
          dups.fetch_add(r->duplicates);
        }
      });
    }
    for (auto& t : threads) t.join();
    const uint64_t distinct = static_cast<uint64_t>(threads_n - 1 + 5) * 150 + 400;
    EXPECT_EQ(added.load(), distinct) << threads_n << " threads";
    EXPECT_EQ(added.load() + dups.load(), submitted.load());
    auto check = [&](Store& s) {
      auto census = Census(**s.GetSnapshot("idx"));
      EXPECT_EQ(census.size(), distinct);
      for (auto& [id, n] : census) ASSERT_EQ(n, 1) << id;
      EXPECT_EQ((*s.GetSnapshot("idx"))->event_count(), distinct);
    };
    check(*store);
    ASSERT_TRUE(store->Close().ok());
    store.reset();
    auto reopened = OpenStore();
    check(*reopened);
    auto report = reopened->Check("idx");
    ASSERT_TRUE(report.ok());
    EXPECT_TRUE(report->ok());
    // A batch of already stored events committed again by all threads at once: all duplicates.
    std::atomic<uint64_t> again{0};
    threads.clear();
    for (int t = 0; t < threads_n; ++t) {
      threads.emplace_back([&] {
        auto r = reopened->Commit("idx", testing::SyntheticBatch(0, 300, kT0, 2 * kDay));
        ASSERT_TRUE(r.ok());
        again.fetch_add(r->added);
      });
    }
    for (auto& t : threads) t.join();
    EXPECT_EQ(again.load(), 0u);
  }
}

}  // namespace
}  // namespace cairn::store

namespace cairn::store {
namespace {

// Ingesting the same real files twice, and an overlapping selection, leaves each event once.
TEST_F(StoreTest, RealCloudTrailIngestedTwiceAndOverlappingKeepsEachEventOnce) {
  CAIRN_REQUIRE_SHARED_DATA();
  auto all = testing::LoadCloudTrailDir(cairn::testing::SharedDataDir() +
                                        "/cloudtrail/invictus/CloudTrail");
  ASSERT_GT(all.size(), 2000u);
  std::set<std::pair<std::string, std::string>> distinct;
  for (const auto& e : all) distinct.insert({e.account, e.event_id});
  auto store = OpenStore(/*background=*/true);
  // Files in three overlapping windows, as batches of one file's events at a time.
  std::map<std::string, std::vector<cloudtrail::Event>> by_file;
  for (const auto& e : all) by_file[e.source.str()].push_back(e);
  std::vector<std::vector<cloudtrail::Event>> files;
  for (auto& [name, evs] : by_file) files.push_back(evs);
  uint64_t added = 0, dups = 0, offered = 0;
  auto ingest = [&](size_t from, size_t to) {
    for (size_t f = from; f < to && f < files.size(); ++f) {
      offered += files[f].size();
      auto r = store->Commit("aws-cloudtrail", files[f]);
      ASSERT_TRUE(r.ok()) << r.status().ToString();
      added += r->added;
      dups += r->duplicates;
    }
  };
  ingest(0, files.size() * 2 / 3);
  ingest(files.size() / 3, files.size());
  ingest(0, files.size());
  EXPECT_EQ(added, distinct.size());
  EXPECT_EQ(added + dups, offered);  // every offered event is either stored or counted
  ASSERT_TRUE(store->WaitForMerges().ok());
  auto census = Census(**store->GetSnapshot("aws-cloudtrail"));
  EXPECT_EQ(census.size(), distinct.size());
  for (auto& [id, n] : census) ASSERT_EQ(n, 1) << id;
  auto report = store->Check("aws-cloudtrail");
  ASSERT_TRUE(report.ok());
  EXPECT_TRUE(report->ok());
}

}  // namespace
}  // namespace cairn::store

namespace cairn::store {
namespace {

// With a tiny dedup cache, partitions' fingerprint sets are evicted and rebuilt from segments;
// duplicates are still found.
TEST_F(StoreTest, DedupCacheEvictionKeepsDedupExact) {
  StoreOptions opt;
  opt.data_dir = dir_;
  opt.background_merge = false;
  opt.dedup_cache_events = 250;  // less than two days' worth
  auto store = std::move(Store::Open(opt).value());
  for (int d = 0; d < 5; ++d) {
    auto r = store->Commit("idx", testing::SyntheticBatch(d * 1000, 200, kT0 + d * kDay, kDay));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->added, 200u);
  }
  for (int d = 0; d < 5; ++d) {
    auto r = store->Commit("idx", testing::SyntheticBatch(d * 1000, 300, kT0 + d * kDay, kDay));
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->added, 100u) << "day " << d;
    EXPECT_EQ(r->duplicates, 200u) << "day " << d;
  }
  auto census = Census(**store->GetSnapshot("idx"));
  EXPECT_EQ(census.size(), 1500u);
  for (auto& [id, n] : census) ASSERT_EQ(n, 1) << id;
}

}  // namespace
}  // namespace cairn::store
