// The store-backed source against the in-memory one on generated CloudTrail
// data: every search must give the same rows (push-down and column aggregation
// only change speed), the fast paths must actually be taken where promised, and
// --explain must describe the push-down.

#include "query/store_source.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <set>

#include "common/fs.h"
#include "common/testing.h"
#include "common/time_util.h"
#include "generate/generator.h"
#include "ingest/ingest.h"
#include "ingest/store_sink.h"
#include "query/engine.h"
#include "store/store.h"
#include "store/test_util.h"

namespace cairn::query {
namespace {

// Every event of `store` in stored order (index, segment, ordinal), as the in-memory source
// holds them; `segments` (optional) gets the number of segments read.
std::vector<EventRecord> StoredEvents(store::Store* store, size_t* segments = nullptr) {
  std::vector<EventRecord> events;
  for (const auto& index : store->ListIndexes()) {
    auto snap = store->GetSnapshot(index);
    EXPECT_TRUE(snap.ok());
    if (!snap.ok()) continue;
    auto segs = (*snap)->segments();
    std::sort(segs.begin(), segs.end(),
              [](const auto& a, const auto& b) { return a->desc().seq < b->desc().seq; });
    if (segments) *segments += segs.size();
    for (const auto& seg : segs) {
      EXPECT_TRUE(seg->ForEachEvent([&](uint32_t, cloudtrail::Event&& e) {
                       EventRecord rec;
                       rec.time = static_cast<double>(e.time_ms) / 1000.0;
                       rec.raw = e.raw.str();
                       rec.index = index;
                       rec.sourcetype = e.sourcetype;
                       rec.source = e.source;
                       rec.host = e.host.empty() ? "cairn" : e.host;
                       rec.fields = e.fields;
                       events.push_back(std::move(rec));
                       return Status::Ok();
                     })
                      .ok());
    }
  }
  return events;
}

class StoreSourceTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(cairn::testing::MakeTempDir("cairn_store_source"));
    generate::GenerateOptions g;
    g.out_dir = *dir_ + "/gen";
    g.events = 8000;
    g.days = 2;
    g.seed = 7;
    g.threads = 2;
    auto sum = generate::Generate(g, FileSystem::Default());
    ASSERT_TRUE(sum.ok()) << sum.status().ToString();
    store::StoreOptions so;
    so.data_dir = *dir_ + "/data";
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = st->release();
    ingest::IngestOptions io;
    io.data_dir = so.data_dir;
    io.threads = 2;
    io.batch_events = 1500;  // several overlapping segments per day
    auto files = ingest::ExpandPaths(FileSystem::Default(), {g.out_dir}, so.data_dir);
    ASSERT_TRUE(files.ok()) << files.status().ToString();
    ingest::StoreSink sink(store_);
    auto r = ingest::IngestFiles(*files, io, &sink);
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->added, 8000u);
    // The same events in memory, in stored order (index, segment, ordinal) so
    // that ties in time come out in the same order from both sources.
    std::vector<EventRecord> events = StoredEvents(store_, &segment_count_);
    memory_ = new MemoryEventSource(std::move(events));
  }
  static void TearDownTestSuite() {
    delete memory_;
    if (store_) (void)store_->Close();
    delete store_;
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  static std::string* dir_;
  static store::Store* store_;
  static MemoryEventSource* memory_;
  static size_t segment_count_;

  EngineOptions Opts() const {
    EngineOptions o;
    o.now = 1793491200 + 3 * 86400;
    return o;
  }

  // Runs `spl` on both sources; returns the store's stats.
  StoreScanStats Same(const std::string& spl, size_t* rows = nullptr) {
    StoreEventSource source(store_, {});
    Engine on_store(&source, MacroSet(), Opts());
    Engine in_memory(memory_, MacroSet(), Opts());
    auto a = on_store.Run(spl);
    auto b = in_memory.Run(spl);
    EXPECT_TRUE(a.ok()) << spl << ": " << a.status().ToString();
    EXPECT_TRUE(b.ok()) << spl << ": " << b.status().ToString();
    if (a.ok() && b.ok()) {
      EXPECT_EQ(a->ToText(), b->ToText()) << spl;
      if (rows) *rows = b->rows.size();
    }
    return source.last_stats();
  }

  std::string FirstValue(const std::string& spl) {
    Engine in_memory(memory_, MacroSet(), Opts());
    auto r = in_memory.Run(spl);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    if (!r.ok() || r->rows.empty() || r->rows[0].empty() || r->rows[0][0].empty()) return "";
    return r->rows[0][0][0];
  }
};

std::string* StoreSourceTest::dir_ = nullptr;
store::Store* StoreSourceTest::store_ = nullptr;
MemoryEventSource* StoreSourceTest::memory_ = nullptr;
size_t StoreSourceTest::segment_count_ = 0;

TEST_F(StoreSourceTest, SeveralSegments) { EXPECT_GE(segment_count_, 4u); }

TEST_F(StoreSourceTest, ColumnAggregationsEqualTheSlowPath) {
  for (const char* spl : {
           "eventName=StopLogging | stats count",
           "* | stats count",
           "* | stats count by eventSource",
           "errorCode=AccessDenied | stats count by userIdentity.arn | sort "
           "-count | head 10",
           "index=* | timechart span=1h count by eventName",
           "* | stats dc(userIdentity.accessKeyId)",
           "* | stats count dc(eventName) as names by awsRegion, readOnly",
           "eventName=Describe* | stats count by eventName",
           "NOT eventSource=s3.amazonaws.com | stats count",
           "eventName IN (GetObject, \"List*\", ConsoleLogin) | stats count by "
           "eventName",
           "sourcetype=aws:cloudtrail readOnly=false | timechart span=30m "
           "count",
           "index=aws-cloudtrail | stats count",
           "index=nothere | stats count",
           "eventSource=iam.amazonaws.com OR eventSource=sts.amazonaws.com | "
           "timechart span=1d dc(eventName) by eventSource",
           "recipientAccountId=123456789012 | stats count by awsRegion",
           "* | stats dc(eventName) as n by eventName",
           "eventName=Describe* | stats dc(userIdentity.accessKeyId) dc(sourceIPAddress) by "
           "eventSource",
           "* | stats dc(sourceIPAddress) dc(userIdentity.accessKeyId) by readOnly",
           "* | top limit=3 sourceIPAddress",
           "eventName=Describe* | top 2 eventName by awsRegion showperc=f",
           "* | rare eventSource, readOnly useother=t",
           "* | bin _time span=1h | stats count by _time, eventName",
           "eventName=Describe* | bucket _time span=1d | stats count dc(userIdentity.arn) by "
           "eventSource, _time",
           "* | stats dc(requestID)",
           "eventName=Describe* | stats dc(requestID) count by eventSource",
           "index=* | timechart span=6h dc(requestID)",
       }) {
    StoreScanStats s = Same(spl);
    EXPECT_TRUE(s.aggregated) << spl;
    EXPECT_EQ(s.events_read, 0u) << spl;
  }
}

// eventstats whose groups the store counts: the events then stream through (annotated with their
// group's results), and a where that tests only the by fields and results narrows the scan to
// the groups it keeps. Every form gives the rows of the in-memory engine, which holds the events.
TEST_F(StoreSourceTest, EventstatsFromCountedGroupsAgree) {
  const std::string rare =
      "sourcetype=aws:cloudtrail | eventstats count by eventName | where count < 10";
  size_t rows = 0;
  StoreScanStats s = Same(rare, &rows);
  EXPECT_GT(rows, 0u);
  EXPECT_EQ(s.events_read, rows) << "the where should have narrowed the scan to its groups";
  for (const char* spl : {
           "* | eventstats count dc(userIdentity.arn) as users by eventSource | where users > 3 "
           "AND count < 400 | table _time eventName eventSource count users",
           "* | eventstats count by eventName, awsRegion | where count == 1 | table eventName "
           "awsRegion count",
           "* | eventstats count by userIdentity.userName | where isnull(count) | stats count",
           "* | eventstats count by eventName | where count > 5 AND readOnly=\"false\" | stats "
           "count by eventName",
           "* | eventstats count by eventName | where count > 0 | stats count",
           "* | eventstats count as n by eventSource | stats max(n) min(n) by eventSource",
           "* | eventstats count | head 3 | table eventName count",
           "eventName=Describe* | eventstats dc(sourceIPAddress) as ips by eventName | where ips "
           "< 3 | table eventName ips",
           "* | eventstats allnum=t count by eventName | where count < 10 | table eventName",
           "* | eventstats count by requestParameters.bucketName | where count < 50 | table "
           "requestParameters.bucketName count",
       }) {
    Same(spl);
  }
}

TEST_F(StoreSourceTest, SlowPathsStillAgree) {
  for (const char* spl : {
           "errorCode=success | stats count",
           "eventName=ConsoleLogin | stats count by errorCode",
           "src=* | stats dc(src)",
           "user=* | stats count by user | sort -count | head 5",
           "bytes>100 | stats count",
           "recipientAccountId=* | stats count by recipientAccountId",
           "eventName=ConsoleLogin | stats values(sourceIPAddress) as ips by "
           "userIdentity.type",
       }) {
    StoreScanStats s = Same(spl);
    EXPECT_FALSE(s.aggregated) << spl;
  }
}

TEST_F(StoreSourceTest, NeedlesUsePostings) {
  std::string ip = FirstValue("eventName=ConsoleLogin | head 1 | table sourceIPAddress");
  ASSERT_FALSE(ip.empty());
  std::string user = FirstValue(
      "userIdentity.type=IAMUser | stats count by "
      "userIdentity.userName | sort -count | head 1");
  ASSERT_FALSE(user.empty());
  std::string t0 = FirstValue("userIdentity.userName=" + user + " | head 1 | table _time");
  ASSERT_FALSE(t0.empty());
  double t = *ParseNumber(t0);
  std::string window = "earliest=" + std::to_string(static_cast<long long>(t - 3600)) +
                       " latest=" + std::to_string(static_cast<long long>(t) + 1);
  size_t rows = 0;
  struct C {
    std::string spl;
    uint64_t max_candidates;
  };
  for (const C& c : std::vector<C>{
           {"eventName=StopLogging | table _time eventID eventName", 1000},
           {ip + " | table _time eventID sourceIPAddress", 8000},
           {"\"" + ip + "\" | stats count", 8000},
           {"userIdentity.userName=" + user + " " + window + " | head 100 | table _time eventID",
            8000},
           {"eventName=Get* NOT eventSource=s3.amazonaws.com | head 20 | table "
            "_time eventID eventName",
            8000},
           {"*Bucket* | stats count", 8000},
           {"AccessDenied | head 5 | table eventID", 8000},
           {"errorCode=AccessDenied OR errorCode=ThrottlingException | stats "
            "count by eventName errorCode",
            8000},
           {"| head 7 | table _time eventID", 8000},
       }) {
    StoreScanStats s = Same(c.spl, &rows);
    EXPECT_LE(s.candidates, c.max_candidates) << c.spl;
  }
  // A needle reads only its events.
  StoreScanStats s = Same("eventName=StopLogging | table eventID", &rows);
  EXPECT_EQ(s.events_read, rows);
  EXPECT_TRUE(s.exact);
  // head stops early: newest first, few events decompressed.
  s = Same("eventSource=ec2.amazonaws.com | head 3 | table _time eventID", &rows);
  EXPECT_EQ(rows, 3u);
  EXPECT_LE(s.events_read, 3u);
}

// Bare terms of several pieces ("203.0.113.10", "aws-cli/2.15.0") are looked up as one text in the
// columns and piece by piece elsewhere; results must equal the in-memory engine, and an IP address
// must select little more than its own events.
TEST_F(StoreSourceTest, MultiPieceTermsAgree) {
  std::string ip = FirstValue("eventName=ConsoleLogin | head 1 | table sourceIPAddress");
  std::string agent = FirstValue("userAgent=aws-cli* | head 1 | table userAgent");
  std::string bucket =
      FirstValue("requestParameters.bucketName=*-* | head 1 | table requestParameters.bucketName");
  ASSERT_FALSE(ip.empty());
  ASSERT_FALSE(agent.empty());
  ASSERT_FALSE(bucket.empty());
  size_t rows = 0;
  StoreScanStats s = Same(ip + " | stats count", &rows);
  std::string n = FirstValue(ip + " | stats count");
  EXPECT_LE(s.candidates, 2 * static_cast<uint64_t>(*ParseNumber(n)) + 64) << ip;
  s = Same("sourceIPAddress=" + ip + " | stats count");
  // The phrases below hit events, so agreeing is not agreeing on nothing.
  for (const std::string& text : {ip, agent.substr(0, agent.find(' ')), bucket}) {
    EXPECT_NE(FirstValue(text + " | stats count"), "0") << text;
  }
  for (const std::string& spl : {
           ip.substr(0, ip.rfind('.')) + " | stats count",       // a prefix of many addresses
           "x" + ip + " | stats count",                          // not breaker-bounded: none
           agent.substr(0, agent.find(' ')) + " | stats count",  // inside the userAgent column
           bucket + " | stats count",                            // a non-column leaf
           bucket + " | head 3 | table eventID",
           std::string("2026-11 | stats count"),  // only time-like pieces
           std::string("iam.amazonaws.com | stats count by eventName"),
           std::string("arn:aws:iam | stats count"),  // a colon: looked up piece by piece
           std::string("request-parameters | stats count"),
       }) {
    Same(spl);
  }
}

TEST_F(StoreSourceTest, TimeRangesStraddlingSegments) {
  long long start = 1793491200;
  for (long long from : {start + 1800, start + 86400 - 7200, start + 86400 + 123}) {
    std::string spl =
        "earliest=" + std::to_string(from) + " latest=" + std::to_string(from + 5 * 3600 + 17);
    StoreScanStats s = Same(spl + " | stats count by eventSource");
    EXPECT_TRUE(s.aggregated);
    if (from == start + 1800) {
      EXPECT_LT(s.segments_in_range, s.segments_total);
    }
    Same(spl + " eventName=Describe* | head 50 | table _time eventID");
    Same(spl + " | timechart span=15m count by awsRegion");
  }
}

TEST_F(StoreSourceTest, ExplainShowsThePushDown) {
  StoreEventSource source(store_, {});
  Engine e(&source, MacroSet(), Opts());
  auto plan = e.Prepare("eventName=StopLogging NOT user=root | stats count");
  ASSERT_TRUE(plan.ok());
  std::string text = e.Explain(*plan);
  EXPECT_NE(text.find("store: push-down and(postings(eventName=\"StopLogging\"), "
                      "~all(not over a re-checked part))"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("re-checked"), std::string::npos) << text;
  EXPECT_NE(text.find("store: fetch raw events newest first"), std::string::npos) << text;

  plan = e.Prepare("`cloudtrail` errorCode=AccessDenied | stats count by userIdentity.arn");
  ASSERT_TRUE(plan.ok());
  text = e.Explain(*plan);
  EXPECT_NE(text.find("postings(sourcetype=\"aws:cloudtrail\")"), std::string::npos) << text;
  EXPECT_NE(text.find("(exact: no re-check needed)"), std::string::npos) << text;
  EXPECT_NE(text.find("store: aggregate stats from columns"), std::string::npos) << text;

  plan = e.Prepare("10.0.0.1 eventName=Describe* | head 5");
  ASSERT_TRUE(plan.ok());
  text = e.Explain(*plan);
  EXPECT_NE(text.find("~terms(10 AND 0 AND 0 AND 1)"), std::string::npos) << text;
  EXPECT_NE(text.find("match(eventName=\"Describe*\")"), std::string::npos) << text;
  EXPECT_NE(text.find("stop after 5"), std::string::npos) << text;

  plan = e.Prepare("index=main earliest=-1d | stats count");
  ASSERT_TRUE(plan.ok());
  text = e.Explain(*plan);
  EXPECT_NE(text.find("index-select(index=\"main\")"), std::string::npos) << text;
}

// dc of a hashed field (requestID) counts from the segments' value hashes: values repeated within
// and across segments count once, case matters, events without the field are left out, and a
// store whose older segments keep no hashes is answered from the events instead, with the same
// result.
TEST(HashedDcTest, RepeatsAcrossSegmentsCountOnceAndOldSegmentsFallBack) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_hashed_dc");
  // Events whose requestID repeats (id % 701), in two cases for a few ids, absent on every 10th.
  auto batch = [](uint64_t first) {
    auto events = store::testing::SyntheticBatch(first, 1500, 1793491200000, 6 * 3600000);
    for (auto& e : events) {
      std::string& raw = e.raw.mutable_string();
      const size_t at = raw.find("\"requestID\":\"");
      const size_t end = raw.find('"', at + 13);
      const uint64_t n = std::stoull(e.event_id.substr(24), nullptr, 16);
      const std::string value = (n % 50 == 7 ? "req" : "REQ") + std::to_string(n % 701);
      if (n % 10 == 3) {
        raw.erase(at, end + 2 - at);  // the field and its comma
      } else {
        raw.replace(at + 13, end - at - 13, value);
      }
    }
    return events;
  };
  const std::vector<std::string> searches = {
      "* | stats dc(requestID)",
      "* | stats dc(requestID) as r count by eventSource",
      "* | timechart span=1h dc(requestID)",
      "eventName=GetObject OR eventName=ConsoleLogin | stats dc(requestID) dc(eventName)",
      "* | stats dc(requestID) by userIdentity.userName, readOnly",
  };
  auto check = [&](bool expect_aggregated) {
    store::StoreOptions so;
    so.data_dir = dir;
    so.background_merge = false;
    so.read_only = true;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    MemoryEventSource memory(StoredEvents(st->get()));
    EngineOptions o;
    o.now = 1793491200 + 86400;
    for (const std::string& spl : searches) {
      StoreEventSource source(st->get(), {});
      Engine on_store(&source, MacroSet(), o);
      Engine in_memory(&memory, MacroSet(), o);
      auto a = on_store.Run(spl);
      auto b = in_memory.Run(spl);
      ASSERT_TRUE(a.ok()) << spl << ": " << a.status().ToString();
      ASSERT_TRUE(b.ok()) << spl << ": " << b.status().ToString();
      EXPECT_EQ(a->ToText(), b->ToText()) << spl;
      EXPECT_EQ(source.last_stats().aggregated, expect_aggregated) << spl;
    }
    // The count itself, worked out here: 701 residues in upper case, the lower-case ones beside.
    Engine in_memory(&memory, MacroSet(), o);
    auto r = in_memory.Run("* | stats dc(requestID)");
    ASSERT_TRUE(r.ok());
    std::set<std::string> distinct;
    for (const auto& rec : StoredEvents(st->get())) {
      const size_t at = rec.raw.find("\"requestID\":\"");
      if (at != std::string::npos) {
        distinct.insert(rec.raw.substr(at + 13, rec.raw.find('"', at + 13) - at - 13));
      }
    }
    EXPECT_EQ(r->rows[0][0][0], std::to_string(distinct.size()));
  };
  {
    // Three segments written with value hashes.
    store::StoreOptions so;
    so.data_dir = dir;
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    for (uint64_t first : {0, 1500, 3000}) {
      ASSERT_TRUE((*st)->Commit("main", batch(first)).ok());
    }
    ASSERT_TRUE((*st)->Close().ok());
  }
  check(true);
  {
    // One more, as a writer before requestID was hashed wrote it.
    store::StoreOptions so;
    so.data_dir = dir;
    so.background_merge = false;
    so.segment.hashed_fields = {};
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ASSERT_TRUE((*st)->Commit("main", batch(4500)).ok());
    ASSERT_TRUE((*st)->Close().ok());
  }
  check(false);
  std::filesystem::remove_all(dir);
}

// Events that name their host (HTTP Event Collector) keep it in the host column; the others, and
// every event of a segment written before that column, have the default host. Indexed fields
// (the collector's `fields`) are fields of their event, searched through the store's keys.
// Filters pushed down to the store and the fields as stats sees them agree with the in-memory
// engine, and a merge keeps hosts and indexed fields.
TEST(HostColumnTest, HostsAndIndexedFieldsAgreeEverywhere) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_host_column");
  const int64_t t0 = 1793491200000;
  auto batch = [&](uint64_t first) {
    auto events = store::testing::SyntheticBatch(first, 600, t0 + first * 1000, 3600000);
    for (size_t i = 0; i < events.size(); ++i) {
      if (i % 3 == 0) events[i].host = "web-" + std::to_string(i % 4);
      if (i % 3 == 1 && i % 7 == 0) events[i].host = "CAIRN";  // named like the default
      if (i % 5 == 0) events[i].fields = R"({"env":"prod","team":"red","team":"blue"})";
      if (i == 77) events[i].fields = R"({"ticket":"T-)" + std::to_string(first + i) + R"("})";
      if (i % 5 == 1) events[i].fields = R"({"env":"dev","awsRegion2":"x","owner":"y"})";
    }
    return events;
  };
  {
    // One segment as a writer before the host column wrote it: no host kept.
    store::StoreOptions so;
    so.data_dir = dir;
    so.background_merge = false;
    std::vector<store::ColumnSpec> old_columns(store::DefaultColumns().begin(),
                                               store::DefaultColumns().end() - 2);
    so.segment.columns = old_columns;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ASSERT_TRUE((*st)->Commit("main", batch(0)).ok());
    ASSERT_TRUE((*st)->Close().ok());
  }
  {
    store::StoreOptions so;
    so.data_dir = dir;
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ASSERT_TRUE((*st)->Commit("main", batch(600)).ok());
    ASSERT_TRUE((*st)->Commit("main", batch(1200)).ok());
    ASSERT_TRUE((*st)->Close().ok());
  }
  const std::vector<std::string> searches = {
      "host=web-1 | stats count",
      "host=WEB-* | stats count by host",
      "host=cairn | stats count",
      "host!=cairn | stats count by host",
      "NOT host=web-2 | stats count",
      "host IN (web-0, cairn) | stats count by host",
      "* | stats count by host",
      "* | top limit=3 host",
      "eventName=GetObject host=web-3 | table _time host eventName | head 5",
      "env=prod | stats count",
      "* | stats count by env",
      "team=blue env=prod | stats count by host",
      "env=* | stats count",
      "NOT env=dev | stats count",
      "awsRegion2=x | stats count",
      "env=dev | stats count by awsRegion2, owner | sort owner",
      "env=prod | head 3 | table team env",
  };
  auto check = [&](const char* when) {
    store::StoreOptions so;
    so.data_dir = dir;
    so.background_merge = false;
    so.read_only = true;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    std::vector<EventRecord> stored = StoredEvents(st->get());
    size_t named = 0;
    for (const auto& e : stored) named += e.host.rfind("web-", 0) == 0;
    EXPECT_EQ(named, 400u) << when << ": the events written with the column keep their hosts";
    size_t with_fields = 0;
    for (const auto& e : stored) with_fields += !e.fields.empty();
    EXPECT_EQ(with_fields, 482u) << when << ": and their indexed fields";  // 2 x (120+120+1)
    MemoryEventSource memory(std::move(stored));
    EngineOptions o;
    o.now = 1793491200 + 86400;
    for (const std::string& spl : searches) {
      StoreEventSource source(st->get(), {});
      Engine on_store(&source, MacroSet(), o);
      Engine in_memory(&memory, MacroSet(), o);
      auto a = on_store.Run(spl);
      auto b = in_memory.Run(spl);
      ASSERT_TRUE(a.ok()) << spl << ": " << a.status().ToString();
      ASSERT_TRUE(b.ok()) << spl << ": " << b.status().ToString();
      EXPECT_EQ(a->ToText(), b->ToText()) << when << ": " << spl;
    }
    // Worked out here: 1200 events with the column, every third named web-(i%4).
    StoreEventSource source(st->get(), {});
    Engine on_store(&source, MacroSet(), o);
    auto r = on_store.Run("host=web-1 | stats count");
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r->rows[0][0][0], "100") << when;  // i%3==0 and i%4==1: 50 per 600
    auto f = on_store.Run("team=red | stats count");
    ASSERT_TRUE(f.ok());
    EXPECT_EQ(f->rows[0][0][0], "240") << when;  // i%5==0: 120 per 600, in two segments
    // A value one event holds (confirmed through the Bloom filters) is found in its fields.
    auto one = on_store.Run("ticket=t-677 | stats count");
    ASSERT_TRUE(one.ok());
    EXPECT_EQ(one->rows[0][0][0], "1") << when;
  };
  check("as written");
  {
    store::StoreOptions so;
    so.data_dir = dir;
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    ASSERT_TRUE((*st)->MergeNow("main").ok());
    ASSERT_TRUE((*st)->Close().ok());
  }
  check("merged");
  std::filesystem::remove_all(dir);
}

// Internal indexes (names starting with '_') are searched only when named: index=* and the
// default set leave them out, index=_audit and index=_* take them, as in Splunk.
TEST(InternalIndexTest, SearchedOnlyWhenNamed) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_internal_index");
  store::StoreOptions so;
  so.data_dir = dir;
  so.background_merge = false;
  auto st = store::Store::Open(so);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  const int64_t t0 = 1793491200000;
  ASSERT_TRUE((*st)->Commit("main", store::testing::SyntheticBatch(0, 30, t0, 3600000)).ok());
  ASSERT_TRUE((*st)->Commit("alerts", store::testing::SyntheticBatch(100, 20, t0, 3600000)).ok());
  ASSERT_TRUE((*st)->Commit("_audit", store::testing::SyntheticBatch(200, 10, t0, 3600000)).ok());
  EXPECT_TRUE(IsInternalIndex("_audit"));
  EXPECT_FALSE(IsInternalIndex("alerts"));

  EngineOptions o;
  o.now = 1793491200 + 86400;
  auto counts = [&](const std::string& spl, std::vector<std::string> defaults = {}) {
    StoreSourceOptions opts;
    opts.indexes = std::move(defaults);
    StoreEventSource source(st->get(), opts);
    Engine engine(&source, MacroSet(), o);
    auto r = engine.Run(spl + " | stats count by index");
    EXPECT_TRUE(r.ok()) << spl << ": " << r.status().ToString();
    std::string out;
    if (!r.ok()) return out;
    for (const auto& row : r->rows) out += row[0][0] + "=" + row[1][0] + " ";
    return out;
  };
  EXPECT_EQ(counts("*"), "alerts=20 main=30 ");
  EXPECT_EQ(counts("index=*"), "alerts=20 main=30 ");
  EXPECT_EQ(counts("index=a*"), "alerts=20 ");
  EXPECT_EQ(counts("index!=main"), "alerts=20 ");
  EXPECT_EQ(counts("NOT index=alerts"), "main=30 ");
  EXPECT_EQ(counts("index=_audit"), "_audit=10 ");
  EXPECT_EQ(counts("index=_AUDIT"), "_audit=10 ");
  EXPECT_EQ(counts("index=_*"), "_audit=10 ");
  EXPECT_EQ(counts("index=main OR index=_audit"), "_audit=10 main=30 ");
  EXPECT_EQ(counts("index IN (alerts, _audit)"), "_audit=10 alerts=20 ");
  EXPECT_EQ(counts("index=* OR index=_audit"), "_audit=10 alerts=20 main=30 ");
  // A scan (not the column aggregation) selects the same way.
  EXPECT_EQ(counts("index=* | head 1000"), "alerts=20 main=30 ");
  EXPECT_EQ(counts("index=_audit | head 1000"), "_audit=10 ");
  // The default index set: an internal index only when listed by name.
  EXPECT_EQ(counts("*", {"main", "_audit"}), "_audit=10 main=30 ");
  EXPECT_EQ(counts("index=*", {"_audit"}), "alerts=20 main=30 ");
  EXPECT_EQ(counts("index=_audit", {"main"}), "_audit=10 ");
  ASSERT_TRUE((*st)->Close().ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::query
