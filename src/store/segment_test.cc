#include "store/segment.h"

#include <gtest/gtest.h>
#include <zlib.h>

#include <algorithm>
#include <map>
#include <random>
#include <set>

#include "common/testing.h"
#include "store/encoding.h"
#include "store/fields.h"
#include "store/flat_map.h"
#include "store/segment_format.h"
#include "store/segment_test_util.h"
#include "store/segment_writer.h"
#include "store/test_util.h"

namespace cairn::store {
namespace {

using testing::Brute;
using testing::Ords;
using testing::ToSet;

class SegmentTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = cairn::testing::MakeTempDir("cairn_segment"); }
  void TearDown() override { FileSystem::Default()->RemoveAll(dir_).IgnoreError(); }

  // Sorts `events` by time (stable), keeps one partition, writes them.
  std::shared_ptr<Segment> Write(std::vector<cloudtrail::Event>& events,
                                 SegmentWriterOptions opt = {}) {
    std::stable_sort(events.begin(), events.end(),
                     [](const auto& a, const auto& b) { return a.time_ms < b.time_ms; });
    int64_t part = PartitionOf(events.front().time_ms);
    std::erase_if(events, [&](const auto& e) { return PartitionOf(e.time_ms) != part; });
    std::string path = JoinPath(dir_, "test.seg");
    SegmentWriter w(FileSystem::Default(), path, part, opt);
    EXPECT_TRUE(w.Open().ok());
    for (const auto& e : events) {
      Status s = w.Add(e);
      EXPECT_TRUE(s.ok()) << s.ToString();
    }
    auto info = w.Finish();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    auto seg = Segment::Open(FileSystem::Default(), path, testing::DescOf(*info, "test.seg"));
    EXPECT_TRUE(seg.ok()) << seg.status().ToString();
    return *seg;
  }

  void CheckAgainstBruteForce(uint32_t version);

  // 600 synthetic events with `extras` (event number, JSON members) put first in their objects,
  // written in blocks of 16 KiB (several blocks).
  std::shared_ptr<Segment> WriteWithExtras(
      const std::vector<std::pair<size_t, std::string>>& extras) {
    auto events = testing::SyntheticBatch(0, 600, int64_t{86'400'000} * 100, 1000);
    for (const auto& [i, members] : extras) events[i].raw.mutable_string().insert(1, members);
    SegmentWriterOptions opt;
    opt.block_bytes = 16 << 10;
    return Write(events, opt);
  }

  // The ordinal of the event whose text holds `marker` (UINT32_MAX: none).
  static uint32_t OrdinalOf(const Segment& seg, std::string_view marker) {
    for (uint32_t o = 0; o < seg.event_count(); ++o) {
      if (seg.ReadEvent(o)->raw.view().find(marker) != std::string::npos) return o;
    }
    return UINT32_MAX;
  }

  std::string dir_;
};

TEST_F(SegmentTest, RoundTripRawBytesAndTimes) {
  auto events = testing::SyntheticBatch(
      0, 5000, 1'700'000'000'000 - 1'700'000'000'000 % kMillisPerDay, 3'600'000);
  SegmentWriterOptions opt;
  opt.block_bytes = 16 << 10;  // several blocks
  auto seg = Write(events, opt);
  ASSERT_TRUE(seg);
  EXPECT_GT(seg->block_count(), 5u);
  ASSERT_EQ(seg->event_count(), events.size());
  auto times = seg->Times();
  ASSERT_TRUE(times.ok());
  for (uint32_t o = 0; o < events.size(); ++o) {
    EXPECT_EQ((**times)[o], events[o].time_ms);
    auto raw = seg->Raw(o);
    ASSERT_TRUE(raw.ok());
    ASSERT_EQ(*raw, events[o].raw) << "ordinal " << o;
  }
  // Full event with metadata.
  auto e = seg->ReadEvent(1234);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->event_id, events[1234].event_id);
  EXPECT_EQ(e->account, events[1234].account);
  EXPECT_EQ(e->source, events[1234].source);
  EXPECT_EQ(e->sourcetype, events[1234].sourcetype);
  // Reverse iteration over a bitmap visits exactly those ordinals, descending.
  Bitmap want;
  for (uint32_t o = 0; o < events.size(); o += 7) want.add(o);
  std::vector<uint32_t> seen;
  ASSERT_TRUE(seg->ForEach(want, true,
                           [&](uint32_t o, std::string_view raw) {
                             EXPECT_EQ(raw, events[o].raw);
                             seen.push_back(o);
                             return true;
                           })
                  .ok());
  ASSERT_EQ(seen.size(), want.cardinality());
  EXPECT_TRUE(std::is_sorted(seen.rbegin(), seen.rend()));
  // Time range pruning.
  int64_t from = events[100].time_ms, to = events[200].time_ms;
  auto range = seg->OrdinalRange(from, to);
  ASSERT_TRUE(range.ok());
  for (uint32_t o = 0; o < events.size(); ++o) {
    bool in = events[o].time_ms >= from && events[o].time_ms < to;
    EXPECT_EQ(in, o >= range->first && o < range->second) << o;
  }
  EXPECT_TRUE(seg->Verify().ok());
}

TEST_F(SegmentTest, SizeReportAttributesEveryByte) {
  auto events = testing::SyntheticBatch(
      0, 5000, 1'700'000'000'000 - 1'700'000'000'000 % kMillisPerDay, 3'600'000);
  SegmentWriterOptions opt;
  opt.block_bytes = 16 << 10;
  opt.key_block_bytes = 4 << 10;  // several key blocks
  auto seg = Write(events, opt);
  ASSERT_TRUE(seg);
  auto parts = seg->SizeReport();
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  std::map<std::string, PartSize> by_name;
  uint64_t total = 0, keys = 0;
  for (const PartSize& p : *parts) {
    EXPECT_TRUE(by_name.emplace(p.part, p).second) << "part listed twice: " << p.part;
    total += p.bytes;
    if (p.part.rfind("keys: ", 0) == 0) keys += p.bytes;
  }
  EXPECT_EQ(total, seg->desc().bytes);
  auto file = FileSystem::Default()->NewRandomAccessFile(seg->path());
  ASSERT_TRUE(file.ok());
  EXPECT_EQ(total, (*file)->Size());
  EXPECT_GT(by_name["blocks"].bytes, total / 4);
  EXPECT_GT(by_name["blocks"].raw_bytes, by_name["blocks"].bytes);
  EXPECT_GT(keys, 0u);
  EXPECT_GT(by_name["keys: (terms)"].entries, 0u);
  auto dict = seg->ColumnCounts("eventName");
  ASSERT_TRUE(dict.ok());
  EXPECT_EQ(by_name["columns: eventName dictionary"].entries, dict->dict->size());
  EXPECT_GT(by_name["columns: eventName codes"].bytes, 0u);
}

// A commit writes several segments, one per day, and keeps every writer until the manifest swap;
// a writer hands its tables to the next as soon as it has finished, and the next one writes the
// same bytes as a writer with tables of its own.
TEST_F(SegmentTest, WriterAfterAFinishedOneWritesTheSameBytes) {
  const int64_t day = 1'700'000'000'000 - 1'700'000'000'000 % kMillisPerDay;
  auto first = testing::SyntheticBatch(0, 3000, day, 3'600'000);
  auto second = testing::SyntheticBatch(1, 3000, day + kMillisPerDay, 3'600'000);
  for (auto* events : {&first, &second}) {
    std::stable_sort(events->begin(), events->end(),
                     [](const auto& a, const auto& b) { return a.time_ms < b.time_ms; });
  }
  auto write = [&](const std::string& name, const std::vector<cloudtrail::Event>& events) {
    auto w = std::make_unique<SegmentWriter>(FileSystem::Default(), JoinPath(dir_, name),
                                             PartitionOf(events.front().time_ms),
                                             SegmentWriterOptions{});
    EXPECT_TRUE(w->Open().ok());
    for (const auto& e : events) {
      if (PartitionOf(e.time_ms) == PartitionOf(events.front().time_ms))
        EXPECT_TRUE(w->Add(e).ok());
    }
    EXPECT_TRUE(w->Finish().ok());
    return w;
  };
  auto alone = write("alone.seg", second);
  alone.reset();
  auto kept = write("first.seg", first);  // still alive, as in a commit
  auto after = write("after.seg", second);
  EXPECT_EQ(after->Add(second.front()).code(), StatusCode::kInternal);  // finished
  auto a = ReadFileToString(FileSystem::Default(), JoinPath(dir_, "alone.seg"));
  auto b = ReadFileToString(FileSystem::Default(), JoinPath(dir_, "after.seg"));
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_GT(a->size(), 1000u);
  EXPECT_TRUE(*a == *b) << "the same events wrote different segments";
}

// Format 5 lays raw events out in lanes by event name: the events of one name lie in the blocks
// of one lane, so reading them decompresses a fraction of the blocks (nearly all of them with one
// lane), and every way of reading events still gives each ordinal its own event, in order.
TEST_F(SegmentTest, LanesKeepOneNamesEventsInFewBlocksAndReadBackInOrder) {
  const int64_t day = 1'700'000'000'000 - 1'700'000'000'000 % kMillisPerDay;
  auto events = testing::SyntheticBatch(0, 6000, day, kMillisPerDay / 2);
  // 40 names, the k-th about 1/k as frequent as the first (as API calls are).
  std::vector<double> weights;
  for (int k = 1; k <= 40; ++k) weights.push_back(1.0 / k);
  std::mt19937 rng(7);
  std::discrete_distribution<int> pick(weights.begin(), weights.end());
  constexpr std::string_view kKey = "\"eventName\":\"";
  for (auto& e : events) {
    std::string raw(e.raw.view());
    const size_t at = raw.find(kKey) + kKey.size();
    raw.replace(at, raw.find('"', at) - at, fmt::format("Name{}", pick(rng)));
    e.raw = raw;
  }
  SegmentWriterOptions opt;
  opt.block_bytes = 16 << 10;
  // The share of the blocks holding the events of Name5 (about 5% of the events).
  auto share_of_blocks = [&](const Segment& seg) {
    auto name = seg.FieldPostings("eventName", "Name5");
    EXPECT_TRUE(name.ok());
    EXPECT_GT(name->cardinality(), 150u);
    std::set<uint32_t> blocks;
    for (uint32_t o : *name) blocks.insert(seg.BlockOf(o));
    return static_cast<double>(blocks.size()) / seg.block_count();
  };
  opt.raw_lanes = 1;
  const double one_lane = share_of_blocks(*Write(events, opt));
  EXPECT_GT(one_lane, 0.45);  // 16 events a block, each with a 5% chance
  opt.raw_lanes = 8;
  auto seg = Write(events, opt);
  ASSERT_TRUE(seg);
  const double laned = share_of_blocks(*seg);
  EXPECT_LT(laned, 0.25) << "one lane: " << one_lane;
  std::printf("blocks holding Name5: one lane %.3f, 8 lanes %.3f\n", one_lane, laned);
  auto sizes = seg->SizeReport();
  ASSERT_TRUE(sizes.ok());
  EXPECT_TRUE(std::any_of(sizes->begin(), sizes->end(),
                          [](const PartSize& p) { return p.part == "lanes" && p.bytes > 0; }));

  for (uint32_t o = 0; o < events.size(); ++o) {
    auto raw = seg->Raw(o);
    ASSERT_TRUE(raw.ok());
    ASSERT_EQ(*raw, events[o].raw) << "ordinal " << o;
  }
  // A sparse set of ordinals, forwards and backwards: in the order asked, each with its event.
  Bitmap some;
  for (uint32_t o = 0; o < events.size(); ++o) {
    if (rng() % 5 == 0) some.add(o);
  }
  for (bool reverse : {false, true}) {
    std::vector<uint32_t> want(some.begin(), some.end()), got;
    if (reverse) std::reverse(want.begin(), want.end());
    Status s = seg->ForEach(some, reverse, [&](uint32_t o, std::string_view raw) {
      EXPECT_EQ(raw, events[o].raw.view()) << "ordinal " << o;
      got.push_back(o);
      return true;
    });
    ASSERT_TRUE(s.ok()) << s.ToString();
    EXPECT_EQ(got, want);
  }
  uint32_t next = 0;
  Status all = seg->ForEachEvent([&](uint32_t o, cloudtrail::Event&& e) {
    EXPECT_EQ(o, next++);
    EXPECT_EQ(e.raw.view(), events[o].raw.view());
    EXPECT_EQ(e.event_id, events[o].event_id);
    return Status::Ok();
  });
  ASSERT_TRUE(all.ok()) << all.ToString();
  EXPECT_EQ(next, events.size());
  std::vector<cloudtrail::Event> window;
  ASSERT_TRUE(seg->ReadEvents(1000, 700, &window).ok());
  ASSERT_EQ(window.size(), 700u);
  for (uint32_t i = 0; i < window.size(); ++i) {
    EXPECT_EQ(window[i].raw.view(), events[1000 + i].raw.view());
  }
  // What reading whole events loaded, dropped (as a hunt does after each segment), is read again
  // on the next use: the same events with the same ids, times and metadata; a search's column
  // still answers.
  seg->DropEventCaches();
  std::vector<cloudtrail::Event> again;
  ASSERT_TRUE(seg->ReadEvents(1000, 700, &again).ok());
  ASSERT_EQ(again.size(), window.size());
  for (uint32_t i = 0; i < again.size(); ++i) {
    EXPECT_EQ(again[i].raw.view(), window[i].raw.view());
    EXPECT_EQ(again[i].event_id, window[i].event_id);
    EXPECT_EQ(again[i].time_ms, window[i].time_ms);
    EXPECT_EQ(again[i].account, window[i].account);
    EXPECT_EQ(again[i].sourcetype, window[i].sourcetype);
    EXPECT_EQ(again[i].source.view(), window[i].source.view());
    EXPECT_EQ(again[i].event_id, events[1000 + i].event_id);
  }
  seg->DropEventCaches();
  auto source = seg->GetColumn("source");
  ASSERT_TRUE(source.ok()) << source.status().ToString();
  EXPECT_EQ((*source)->codes.size(), events.size());
  EXPECT_TRUE(seg->Verify().ok());
}

// A block of very many small events has more length bytes than the room the writer leaves for
// them in front of the events' bytes; it is written by copying instead, and reads back the same.
TEST_F(SegmentTest, BlocksOfManySmallEventsRoundTrip) {
  const int64_t day = 1'700'000'000'000 - 1'700'000'000'000 % kMillisPerDay;
  std::vector<cloudtrail::Event> events;
  for (int i = 0; i < 40000; ++i) {
    cloudtrail::Event e;
    e.time_ms = day + i;
    e.raw = std::string(fmt::format("{{\"eventTime\":\"x\",\"n\":{}}}", i));
    e.account = "1";
    e.event_id = fmt::format("id-{}", i);
    e.sourcetype = cloudtrail::kSourcetypeEvents;
    e.source = std::string("small.json");
    events.push_back(std::move(e));
  }
  SegmentWriterOptions opt;
  opt.block_bytes = 1 << 20;  // ~30k events of ~30 bytes: 30 KB of lengths in the first block
  auto seg = Write(events, opt);
  ASSERT_TRUE(seg);
  EXPECT_EQ(seg->block_count(), 2u);
  for (uint32_t o = 0; o < events.size(); ++o) {
    auto raw = seg->Raw(o);
    ASSERT_TRUE(raw.ok());
    ASSERT_EQ(*raw, events[o].raw) << "ordinal " << o;
  }
  EXPECT_TRUE(seg->Verify().ok());
}

// Every lookup of a segment written in format `version` against brute force over its events.
// Version 2 (still read) has no stored value counts and maps Bloom probes with a modulo.
void SegmentTest::CheckAgainstBruteForce(uint32_t version) {
  auto events = testing::LoadCloudTrailDir(cairn::testing::SharedDataDir() +
                                           "/cloudtrail/invictus/CloudTrail");
  ASSERT_GT(events.size(), 2000u);
  SegmentWriterOptions opt;
  opt.block_bytes = 32 << 10;
  opt.format_version = version;
  auto seg = Write(events, opt);
  ASSERT_TRUE(seg);
  Brute brute(events);

  // Every (field, value) pair, columns and keys-table fields alike, singletons included; terms
  // (a sample of the singletons: every one would take a while through the Bloom path); columns.
  auto stats = testing::ExpectLookupsMatchBruteForce(*seg, events, brute, 8);
  EXPECT_GT(stats.single_fields, 1000u);  // eventID, requestID...: answered through Bloom filters
  EXPECT_GT(stats.terms_checked, 1000u);
  // Case-insensitive values, case-sensitive names.
  auto upper = seg->FieldPostings("eventName", "GETBUCKETACL");
  ASSERT_TRUE(upper.ok());
  EXPECT_EQ(ToSet(*upper), (brute.fields.at({"eventName", "getbucketacl"})));
  auto wrong_case = seg->FieldPostings("EventName", "GetObject");
  ASSERT_TRUE(wrong_case.ok());
  EXPECT_TRUE(wrong_case->isEmpty());

  auto none = seg->TermPostings("no-such-term-anywhere");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->isEmpty());

  // Wildcards over fields and terms.
  for (auto [field, pat] :
       std::vector<std::pair<std::string, std::string>>{{"eventName", "Get*"},
                                                        {"eventName", "*Bucket*"},
                                                        {"eventSource", "*.amazonaws.com"},
                                                        {"requestParameters.bucketName", "*"},
                                                        {"resources{}.ARN", "arn:aws:s3*"},
                                                        {"eventID", "0*"},
                                                        {"userIdentity.arn", "*benjamin"}}) {
    Pattern p(pat);
    Ords want;
    for (const auto& [fv, ords] : brute.fields) {
      if (fv.first == field && p.Matches(fv.second)) want.insert(ords.begin(), ords.end());
    }
    auto got = seg->FieldMatch(field, p);
    ASSERT_TRUE(got.ok()) << got.status().ToString();
    EXPECT_EQ(ToSet(*got), want) << field << "=" << pat;
    // Matching values and their counts.
    auto values = seg->FieldValues(field, p);
    ASSERT_TRUE(values.ok());
    std::map<std::string, uint64_t> want_values, got_values;
    for (const auto& [fv, ords] : brute.fields) {
      if (fv.first == field && p.Matches(fv.second)) want_values[fv.second] = ords.size();
    }
    for (const auto& vc : *values) got_values[vc.value] = vc.count;
    EXPECT_EQ(got_values, want_values) << field << "=" << pat;
  }
  for (std::string pat : {"describe*", "*bucket*", "us-*", "*admin*"}) {
    Pattern p(pat);
    Ords want;
    for (const auto& [t, ords] : brute.terms) {
      if (p.Matches(t)) want.insert(ords.begin(), ords.end());
    }
    auto got = seg->TermMatch(p);
    ASSERT_TRUE(got.ok());
    EXPECT_EQ(ToSet(*got), want) << pat;
  }

  // Statistics against brute force.
  for (std::string field : {"eventName", "requestParameters.bucketName", "errorCode", "eventID"}) {
    std::map<std::string, uint64_t> counts;
    for (const auto& [fv, ords] : brute.fields) {
      if (fv.first == field) counts[fv.second] = ords.size();
    }
    auto distinct = seg->DistinctCount(field);
    ASSERT_TRUE(distinct.ok());
    if (Segment::IsColumn(field)) {
      // Columns keep original case; brute force lower-cased.
      EXPECT_GE(*distinct, counts.size());
    } else {
      EXPECT_EQ(*distinct, counts.size()) << field;
    }
    auto top = seg->TopValues(field, 5);
    ASSERT_TRUE(top.ok());
    ASSERT_FALSE(top->empty()) << field;
    uint64_t best = 0;
    for (auto& [v, n] : counts) best = std::max(best, n);
    EXPECT_EQ((*top)[0].count, best) << field;
    EXPECT_EQ(counts[ToLower((*top)[0].value)], best) << field;
  }
  // Top values under a filter.
  auto errors = seg->FieldMatch("errorCode", Pattern("*"));
  ASSERT_TRUE(errors.ok());
  auto top = seg->TopValues("eventName", 3, &*errors);
  ASSERT_TRUE(top.ok());
  ASSERT_FALSE(top->empty());
  auto name_col = seg->GetColumn("eventName");
  uint64_t n = 0;
  for (uint32_t o : *errors) n += (*name_col)->Value(o) == (*top)[0].value;
  EXPECT_EQ(n, (*top)[0].count);

  auto fields = seg->Fields();
  ASSERT_TRUE(fields.ok());
  std::set<std::string> names;
  for (const auto& f : *fields) names.insert(f.name);
  EXPECT_TRUE(names.count("requestParameters.bucketName"));
  EXPECT_TRUE(names.count("eventName"));
  EXPECT_TRUE(seg->Verify().ok());
}

TEST_F(SegmentTest, PostingsTermsColumnsMatchBruteForceOnRealData) {
  CAIRN_REQUIRE_SHARED_DATA();
  CheckAgainstBruteForce(kSegmentVersion);
}

// Events whose raw JSON is a shared, padded view (what the reader's whole-file path hands over;
// the writer parses them in place) write the same segment, byte for byte, as owned copies.
TEST_F(SegmentTest, SharedViewsWriteTheSameSegmentAsOwnedText) {
  CAIRN_REQUIRE_SHARED_DATA();
  auto owned = testing::LoadCloudTrailDir(cairn::testing::SharedDataDir() +
                                          "/cloudtrail/invictus/CloudTrail");
  ASSERT_GT(owned.size(), 2000u);
  // One buffer holds every record back to back (as a file does), padded at the end.
  std::string joined;
  for (const auto& e : owned) joined += std::string(e.raw.view()) + ",";
  std::unique_ptr<char[]> bytes(new char[joined.size() + cloudtrail::kJsonPadding]);
  std::memcpy(bytes.get(), joined.data(), joined.size());
  std::shared_ptr<const char[]> buffer(bytes.release());
  std::vector<cloudtrail::Event> shared = owned;
  size_t at = 0;
  for (auto& e : shared) {
    size_t n = e.raw.size();
    e.raw = cloudtrail::SharedText(std::string_view(buffer.get() + at, n), buffer);
    ASSERT_TRUE(e.raw.padded());
    at += n + 1;
  }
  Write(owned);
  auto first = ReadFileToString(FileSystem::Default(), JoinPath(dir_, "test.seg"));
  ASSERT_TRUE(first.ok());
  Write(shared);
  auto second = ReadFileToString(FileSystem::Default(), JoinPath(dir_, "test.seg"));
  ASSERT_TRUE(second.ok());
  EXPECT_FALSE(owned.front().raw.padded());
  EXPECT_EQ(first->size(), second->size());
  EXPECT_TRUE(*first == *second);
}

TEST_F(SegmentTest, Version2SegmentsAreStillRead) {
  CAIRN_REQUIRE_SHARED_DATA();
  static_assert(kOldestSegmentVersion == 2 && kSegmentVersion == 5);
  CheckAgainstBruteForce(2);
}

TEST_F(SegmentTest, Version4SegmentsAreStillRead) {
  CAIRN_REQUIRE_SHARED_DATA();
  CheckAgainstBruteForce(4);
}

TEST_F(SegmentTest, Version3SegmentsAreStillRead) {
  CAIRN_REQUIRE_SHARED_DATA();
  CheckAgainstBruteForce(3);
}

TEST_F(SegmentTest, ContainsIdIsExact) {
  auto events = testing::SyntheticBatch(0, 300, int64_t{86'400'000} * 100, 1000);
  // Ids that are not the raw eventID are stored in full: a hash id, and an event whose first
  // "eventID" is a nested one.
  events[10].event_id = "h:0123456789abcdef0123456789abcdef";
  events[20].raw.mutable_string().insert(1, "\"extra\":{\"eventID\":\"nested\"},");
  auto seg = Write(events);
  for (uint32_t o = 0; o < events.size(); ++o) {
    auto e = seg->ReadEvent(o);
    ASSERT_TRUE(e.ok());
    EXPECT_EQ(e->event_id, events[o].event_id);  // Write sorted `events` by time
  }
  for (const auto& e : events) {
    auto has = seg->ContainsId(e.account, e.event_id);
    ASSERT_TRUE(has.ok());
    EXPECT_TRUE(*has);
  }
  EXPECT_FALSE(*seg->ContainsId("999999999999", events[0].event_id));
  EXPECT_FALSE(*seg->ContainsId(events[0].account, events[0].event_id + "x"));
}

// A singleton whose JSON text is escaped does not appear verbatim in its event; the Bloom
// confirmation must still find it (it parses events with backslashes instead of ruling them out
// by their text), and must not find text that appears only outside values.
TEST_F(SegmentTest, SingletonsBehindJsonEscapesAreFound) {
  auto seg = WriteWithExtras(
      {{123, R"("note":"x\/y\u0041Unique-Zq",)"}, {456, R"("plainNote":"PlainSingleton-Qz",)"}});
  auto ord_of = [&](const char* marker) { return OrdinalOf(*seg, marker); };
  const uint32_t escaped = ord_of("u0041Unique"), plain = ord_of("PlainSingleton");
  ASSERT_NE(escaped, UINT32_MAX);
  EXPECT_EQ(ToSet(*seg->TermPostings("yaunique")), (Ords{escaped}));
  EXPECT_EQ(ToSet(*seg->TermPostings("x/yaunique-zq")), (Ords{escaped}));
  EXPECT_EQ(ToSet(*seg->FieldPostings("note", "X/YAUNIQUE-ZQ")), (Ords{escaped}));
  EXPECT_EQ(ToSet(*seg->TermPostings("plainsingleton")), (Ords{plain}));
  EXPECT_EQ(ToSet(*seg->FieldPostings("plainNote", "plainsingleton-qz")), (Ords{plain}));
  // A field name is not a term, though its text is in the event.
  EXPECT_TRUE(ToSet(*seg->TermPostings("plainnote")).empty());
  EXPECT_TRUE(ToSet(*seg->FieldPostings("plainNote", "plainsingleton")).empty());
}

// A wildcard over a field of the keys table scans for values held once, parsing only the events
// whose text holds the field's last key: events that escape the key, keys under arrays and a
// value that spells the key must all come out right.
TEST_F(SegmentTest, AWildcardOverAKeysTableFieldFindsEscapedKeysAndArrays) {
  auto seg = WriteWithExtras({{100, R"("extra":{"buck\u0065tLabel":"solo-one"},)"},
                              {200, R"("extra":{"bucketLabel":"solo-two"},)"},
                              {300, R"("tags":[{"Key":"tag-one"},{"Key":"tag-two"}],)"},
                              {400, R"("list":["list-one"],)"},
                              {500, R"("decoy":"bucketLabel list tags",)"}});
  auto ord_of = [&](const char* marker) { return OrdinalOf(*seg, marker); };
  const uint32_t escaped = ord_of("solo-one"), plain = ord_of("solo-two");
  ASSERT_NE(escaped, UINT32_MAX);
  ASSERT_NE(plain, UINT32_MAX);
  auto match = [&](const char* field, const char* pattern) {
    auto got = seg->FieldMatch(field, Pattern(pattern));
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    return got.ok() ? ToSet(*got) : Ords{};
  };
  EXPECT_EQ(match("extra.bucketLabel", "*"), (Ords{escaped, plain}));
  EXPECT_EQ(match("extra.bucketLabel", "solo-o*"), (Ords{escaped}));
  EXPECT_EQ(match("tags{}.Key", "*"), (Ords{ord_of("tag-one")}));
  EXPECT_EQ(match("list{}", "*"), (Ords{ord_of("list-one")}));
  EXPECT_EQ(match("decoy", "*"), (Ords{ord_of("bucketLabel list")}));
}

TEST_F(SegmentTest, CorruptionIsDetectedWithThePath) {
  auto events = testing::SyntheticBatch(0, 2000, int64_t{86'400'000} * 100, 100000);
  SegmentWriterOptions opt;
  opt.block_bytes = 8 << 10;
  auto seg = Write(events, opt);
  std::string path = seg->path();
  SegmentDesc desc = seg->desc();
  seg.reset();
  auto bytes = ReadFileToString(FileSystem::Default(), path);
  ASSERT_TRUE(bytes.ok());
  // Flip one byte at several places: each must be caught by Open or by Verify.
  for (size_t at : {size_t{20}, bytes->size() / 3, bytes->size() / 2, bytes->size() * 9 / 10,
                    bytes->size() - 40}) {
    std::string copy = *bytes;
    copy[at] ^= 0x40;
    std::string bad = JoinPath(dir_, "bad.seg");
    ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), bad, copy).ok());
    auto s = Segment::Open(FileSystem::Default(), bad, desc);
    Status st = s.ok() ? (*s)->Verify() : s.status();
    EXPECT_EQ(st.code(), StatusCode::kCorruption) << "flip at " << at;
    EXPECT_NE(st.message().find("bad.seg"), std::string::npos) << st.message();
  }
}

TEST_F(SegmentTest, RejectsOutOfOrderAndMalformedEvents) {
  std::string path = JoinPath(dir_, "x.seg");
  SegmentWriter w(FileSystem::Default(), path, 100);
  ASSERT_TRUE(w.Open().ok());
  auto e = testing::SyntheticEvent(1, int64_t{86'400'000} * 100 + 5000);
  ASSERT_TRUE(w.Add(e).ok());
  e.time_ms -= 1;
  EXPECT_EQ(w.Add(e).code(), StatusCode::kInvalidArgument);
  w.Abandon();
  EXPECT_FALSE(FileSystem::Default()->Exists(path));
  SegmentWriter w2(FileSystem::Default(), path, 100);
  ASSERT_TRUE(w2.Open().ok());
  auto bad = testing::SyntheticEvent(2, int64_t{86'400'000} * 100 + 5000);
  bad.raw = "{\"eventName\": ";
  Status s = w2.Add(bad);
  EXPECT_EQ(s.code(), StatusCode::kInvalidArgument);
  EXPECT_NE(s.message().find(bad.event_id), std::string::npos) << s.message();
  w2.Abandon();
}

TEST(PatternTest, Globs) {
  EXPECT_TRUE(Pattern("get*").Matches("GetObject"));
  EXPECT_TRUE(Pattern("*object").Matches("GetObject"));
  EXPECT_TRUE(Pattern("*t*b*").Matches("GetObject"));
  EXPECT_FALSE(Pattern("*x*").Matches("GetObject"));
  EXPECT_TRUE(Pattern("GetObject").Matches("getobject"));
  EXPECT_FALSE(Pattern("GetObject").Matches("getobjects"));
  EXPECT_TRUE(Pattern("*").Matches(""));
  EXPECT_EQ(Pattern("Get*Obj*").literal_prefix(), "get");
}

// Keys of near-unique fields stay out of the key table (LooseKey) once the writer sees that the
// field's values rarely repeat; they must still be found exactly: held by one event, repeated in a
// near-unique field, and shared with an ordinary field of a later event (where the key is in the
// table and the loose occurrence has to join its posting).
TEST_F(SegmentTest, NearUniqueKeysKeptOutOfTheTableAreStillFound) {
  auto events = testing::SyntheticBatch(0, 2000, int64_t{86'400'000} * 100, 1000);
  std::sort(events.begin(), events.end(),
            [](const auto& a, const auto& b) { return a.time_ms < b.time_ms; });
  // (The last piece is offset so it cannot be one of the synthetic events' own ids.)
  auto id_of = [](size_t i) {
    return fmt::format("{:08x}-5eed-4a11-b0b0-{:012x}", i * 2654435761u, 0xfeed00000000 + i);
  };
  for (size_t i = 0; i < events.size(); ++i) {
    std::string id = i == 1500 ? id_of(900) : id_of(i);  // event 1500 repeats event 900's id
    std::string extra = fmt::format(R"("uniq":"{}",)", id);
    // Two later events hold event 1200's id in an ordinary field: a key-table key (held twice)
    // that event 1200's loose occurrence must join.
    if (i == 1800 || i == 1900) extra += fmt::format(R"("ref":"{}",)", id_of(1200));
    if (i % 2 == 0) extra += R"("kind":"even",)";
    events[i].raw.mutable_string().insert(1, extra);
  }
  SegmentWriterOptions opt;
  opt.block_bytes = 16 << 10;
  auto seg = Write(events, opt);
  ASSERT_EQ(seg->event_count(), 2000u);
  // Ordinals are time order, which Write kept.
  EXPECT_EQ(ToSet(*seg->FieldPostings("uniq", id_of(1700))), (Ords{1700}));
  EXPECT_EQ(ToSet(*seg->FieldPostings("uniq", id_of(900))), (Ords{900, 1500}));
  EXPECT_EQ(ToSet(*seg->FieldPostings("ref", id_of(1200))), (Ords{1800, 1900}));
  // The id's terms: the whole id and its pieces; event 1200 holds it in "uniq", 1800 and 1900 in
  // "ref".
  EXPECT_EQ(ToSet(*seg->TermPostings(id_of(1200))), (Ords{1200, 1800, 1900}));
  EXPECT_EQ(ToSet(*seg->TermPostings(fmt::format("{:012x}", 0xfeed00000000 + 1200))),
            (Ords{1200, 1800, 1900}));
  EXPECT_EQ(ToSet(*seg->TermPostings(fmt::format("{:012x}", 0xfeed00000000 + 900))),
            (Ords{900, 1500}));
  EXPECT_EQ(seg->TermPostings("5eed")->cardinality(), 2000u);  // in every event: a table key
  EXPECT_EQ(seg->FieldPostings("kind", "even")->cardinality(), 1000u);
  EXPECT_TRUE(seg->Verify().ok());
}

}  // namespace
}  // namespace cairn::store

// The segment format's CRC-32 is zlib's (docs/format/segment.md); the store computes it with
// ISA-L. Both must agree, also when chained through the seed and on lengths around the vector
// widths.
TEST(Crc32Test, MatchesZlib) {
  std::string data;
  for (int i = 0; i < 5000; ++i) data.push_back(static_cast<char>((i * 131 + i / 7) & 0xff));
  for (size_t n : {size_t{0}, size_t{1}, size_t{15}, size_t{16}, size_t{63}, size_t{64}, size_t{65},
                   size_t{255}, size_t{1000}, size_t{4999}, size_t{5000}}) {
    std::string_view part(data.data(), n);
    uLong want = ::crc32(0, reinterpret_cast<const Bytef*>(part.data()), static_cast<uInt>(n));
    EXPECT_EQ(cairn::store::Crc32(part), static_cast<uint32_t>(want)) << n;
    // Chained: CRC of the first half, then continued over the second.
    uint32_t chained =
        cairn::store::Crc32(part.substr(n / 2), cairn::store::Crc32(part.substr(0, n / 2)));
    EXPECT_EQ(chained, static_cast<uint32_t>(want)) << n;
  }
}

// The vectors of docs/format/segment.md ("Hash64", and the Bloom probes of section 3): Hash64
// is stored implicitly in every Bloom filter.
TEST(Hash64Test, MatchesTheDocumentedVectors) {
  const std::pair<const char*, uint64_t> vectors[] = {
      {"", 0x9e4ec39e3b6136c3},
      {"a", 0xea2504fb900d1f60},
      {"abc", 0x8af7a239e3fa26ba},
      {"eventid", 0xe0f956a8075fac34},
      {"10.0.0.1", 0x4bc53232df0520bb},
      {"0123456789abcdef", 0xe06fd66932e64187},
      {"0123456789abcdefg", 0xb464e8982ec821a6},
      {"arn:aws:iam::111122223333:user/alice", 0xeee6aac845d05627},
  };
  for (const auto& [text, want] : vectors) EXPECT_EQ(cairn::store::Hash64(text), want) << text;
  const uint64_t h = cairn::store::Hash64("10.0.0.1");
  const std::vector<uint64_t> v4 = {295, 167, 38, 909, 780, 651, 523, 394, 265, 136, 7};
  const std::vector<uint64_t> v2 = {259, 580, 901, 222, 543, 864, 185, 506, 827, 148, 469};
  for (int i = 0; i < cairn::store::kBloomProbes; ++i) {
    EXPECT_EQ(cairn::store::BloomRow(4, h, i, 1000), v4[i]);
    EXPECT_EQ(cairn::store::BloomRow(3, h, i, 1000), v4[i]);
    EXPECT_EQ(cairn::store::BloomRow(2, h, i, 1000), v2[i]);
  }
  EXPECT_EQ(cairn::store::Crc32("123456789"), 0xcbf43926u);
}

// The block pre-filter's case-insensitive search against a plain lower-case-then-find, on random
// text around the vector width, with needles of every length up to 40 taken from the text.
TEST(FindCaselessTest, MatchesLowerThenFind) {
  std::mt19937 rng(7);
  const std::string alphabet = "aAbB.:0 \"";
  for (int round = 0; round < 400; ++round) {
    std::string hay(rng() % 200, ' ');
    for (char& c : hay) c = alphabet[rng() % alphabet.size()];
    std::string lower_hay = cairn::store::ToLower(hay);
    for (int q = 0; q < 10; ++q) {
      size_t len = 1 + rng() % 40;
      std::string needle;
      if (!hay.empty() && rng() % 2 == 0) {
        size_t at = rng() % hay.size();
        needle = lower_hay.substr(at, len);
      } else {
        for (size_t k = 0; k < len; ++k)
          needle.push_back(static_cast<char>(std::tolower(alphabet[rng() % alphabet.size()])));
      }
      if (needle.empty()) continue;
      size_t from = hay.empty() ? 0 : rng() % (hay.size() + 1);
      EXPECT_EQ(cairn::store::FindCaseless(hay, needle, from), lower_hay.find(needle, from))
          << "hay=" << hay << " needle=" << needle << " from=" << from;
      const size_t a = rng() % needle.size(), b = rng() % needle.size();
      EXPECT_EQ(cairn::store::FindCaselessAt(hay, needle, a, b, from), lower_hay.find(needle, from))
          << "hay=" << hay << " needle=" << needle << " from=" << from << " a=" << a << " b=" << b;
    }
  }
  EXPECT_EQ(cairn::store::FindCaseless("x", "xy"), std::string_view::npos);
  EXPECT_EQ(cairn::store::FindCaseless("", "a"), std::string_view::npos);
}

// The writer reuses its key tables from segment to segment: after Clear a map must hold exactly
// the keys inserted since, whatever arena chunks it hands out again.
TEST(FlatStringMapTest, ClearKeepsNothingButCapacity) {
  cairn::store::FlatStringMap map;
  map.Reserve(1000);
  bool inserted = false;
  for (uint32_t i = 0; i < 100000; ++i) {
    map.FindOrInsert("key-" + std::to_string(i), i, &inserted);
    ASSERT_TRUE(inserted);
  }
  ASSERT_EQ(map.size(), 100000u);
  size_t bytes = map.Bytes();
  for (int round = 0; round < 3; ++round) {
    map.Clear();
    EXPECT_EQ(map.size(), 0u);
    EXPECT_EQ(map.Find("key-7"), nullptr);
    // Longer keys than before (up to 5,000 bytes, more than some chunks) in a different number.
    for (uint32_t i = 0; i < 30000; ++i) {
      std::string k = "round-" + std::to_string(round) + "-" + std::to_string(i) +
                      std::string(i % 97 == 0 ? 5000 : i % 13, 'x');
      std::string_view stored;
      uint32_t* v = map.FindOrInsert(k, i, &inserted, &stored);
      ASSERT_TRUE(inserted);
      ASSERT_EQ(*v, i);
      ASSERT_EQ(stored, k);
    }
    for (uint32_t i = 0; i < 30000; i += 7) {
      std::string k = "round-" + std::to_string(round) + "-" + std::to_string(i) +
                      std::string(i % 97 == 0 ? 5000 : i % 13, 'x');
      const uint32_t* v = map.Find(k);
      ASSERT_NE(v, nullptr) << k;
      EXPECT_EQ(*v, i);
    }
    EXPECT_EQ(map.Find("key-7"), nullptr);
    EXPECT_EQ(map.size(), 30000u);
  }
  EXPECT_LE(map.Bytes(), bytes * 2);  // the reused arena did not grow per round
}

// Bloom probes spread over the rows: with the row count the writer picks for a block of a few
// hundred singletons, every row gets close to its share and a value's 11 probes are distinct rows
// (a mapping that kept the high bits of nearby probes together would fail both), in both formats.
TEST(BloomRowTest, ProbesSpreadOverRows) {
  for (uint32_t version : {2u, 3u}) {
    const uint64_t rows = 16 * 300;
    std::vector<uint32_t> hits(rows, 0);
    std::mt19937_64 rng(version);
    size_t repeated = 0;
    const int values = 200000;  // about 460 probes per row: +-25% is over 5 standard deviations
    for (int v = 0; v < values; ++v) {
      uint64_t h = cairn::store::Hash64(std::to_string(rng()));
      std::set<uint64_t> mine;
      for (int i = 0; i < cairn::store::kBloomProbes; ++i) {
        uint64_t r = cairn::store::BloomRow(version, h, i, rows);
        ASSERT_LT(r, rows);
        ++hits[r];
        mine.insert(r);
      }
      repeated += cairn::store::kBloomProbes - mine.size();
    }
    const double mean = double(values) * cairn::store::kBloomProbes / rows;
    for (uint64_t r = 0; r < rows; ++r) {
      ASSERT_GT(hits[r], mean * 0.75) << "version " << version << " row " << r;
      ASSERT_LT(hits[r], mean * 1.25) << "version " << version << " row " << r;
    }
    EXPECT_LT(repeated, size_t{values} / 100) << version;
  }
}

// Slicing per-block filters into rows puts every bit where the one-bit-at-a-time definition does,
// for row and block counts that are and are not multiples of 64 and 8.
TEST(BloomSliceTest, AgreesWithBitByBit) {
  std::mt19937_64 rng(7);
  for (auto [rows, nblocks] : {std::pair<uint64_t, uint32_t>{1, 1},
                               {64, 8},
                               {65, 9},
                               {200, 3},
                               {1000, 77},
                               {4096, 256},
                               {333, 130}}) {
    const uint32_t row_bytes = (nblocks + 7) / 8;
    const uint64_t words = (rows + 63) / 64;
    std::vector<uint64_t> filters(words * row_bytes * 8, 0);
    std::string want(rows * row_bytes, '\0');
    for (int n = 0; n < 500; ++n) {
      const uint64_t r = rng() % rows;
      const uint32_t b = static_cast<uint32_t>(rng() % nblocks);
      filters[b * words + r / 64] |= uint64_t{1} << (r % 64);
      want[r * row_bytes + b / 8] |= static_cast<char>(1u << (b % 8));
    }
    std::string got(rows * row_bytes, '\0');
    cairn::store::SliceBloomFilters(filters.data(), words, rows, row_bytes, got.data());
    EXPECT_EQ(got, want) << rows << " rows, " << nblocks << " blocks";
  }
}

// The pending-identity counts against a std::map under random adds and releases in a small table
// (so probe runs wrap around and erasures move entries back), including keys 0 and 1, which share
// a slot value.
TEST(FpCountsTest, AgreesWithAMapUnderAddsAndReleases) {
  std::mt19937_64 rng(11);
  cairn::store::FpCounts counts;
  std::map<uint64_t, int> want;  // keyed as stored: 0 counts as 1
  for (int step = 0; step < 200000; ++step) {
    // Keys from a small range and a few that collide in the low bits.
    const uint64_t k = rng() % 4 == 0 ? (rng() % 8) << 40 : rng() % 3000;
    const uint64_t stored = k == 0 ? 1 : k;
    if (rng() % 2 == 0) {
      counts.Add(k);
      ++want[stored];
    } else {
      counts.Release(k);
      auto it = want.find(stored);
      if (it != want.end() && --it->second == 0) want.erase(it);
    }
    if (step % 997 == 0) {
      for (uint64_t q = 0; q < 3000; ++q) {
        ASSERT_EQ(counts.Contains(q), want.count(q == 0 ? 1 : q) > 0)
            << "key " << q << " step " << step;
      }
      for (uint64_t q = 0; q < 8; ++q) {
        ASSERT_EQ(counts.Contains(q << 40), want.count(q == 0 ? 1 : q << 40) > 0) << "key " << q;
      }
    }
  }
  EXPECT_EQ(counts.empty(), want.empty());
}

// The vectorised exact search finds what std::string_view::find finds, on texts full of near
// misses (the probe bytes without the rest, the marker cut short) at every offset and length.
TEST(FindExactTest, AgreesWithFind) {
  std::mt19937 rng(5);
  const std::string_view marker = cairn::store::kEventIdMarker;
  const std::vector<std::string> pieces = {
      "\"eventID\":\"",   "\"eventID\":", "ID", "\"requestID\":\"", "\"", "eventI", "x",
      "0123456789abcdef", "\"eventID\"  "};
  for (int round = 0; round < 5000; ++round) {
    std::string hay;
    const int parts = static_cast<int>(rng() % 12);
    for (int k = 0; k < parts; ++k) hay += pieces[rng() % pieces.size()];
    EXPECT_EQ(cairn::store::FindEventIdMarker(hay), std::string_view(hay).find(marker)) << hay;
    const size_t a = rng() % 4, b = a + rng() % 4;
    const std::string needle = hay.substr(hay.size() / 3, b + 1);
    if (needle.size() == b + 1) {
      EXPECT_EQ(cairn::store::FindExact(hay, needle, a, b), hay.find(needle))
          << hay << " / " << needle;
    }
  }
}
