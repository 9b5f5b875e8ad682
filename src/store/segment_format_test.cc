// Segments written by earlier versions of cairn stay readable:
// src/store/testdata holds small segments written by the format 2 and format 3
// writers (from synthetic events, by SegmentFixtures.DISABLED_Write below as it
// was at the time), and every lookup over them must agree with brute force over
// the events they hold.

#include "store/segment_format.h"

#include <gtest/gtest.h>

#include <cstdlib>
#include <span>

#include "common/fs.h"
#include "common/testing.h"
#include "store/encoding.h"
#include "store/fields.h"
#include "store/segment.h"
#include "store/segment_test_util.h"
#include "store/segment_writer.h"
#include "store/test_util.h"

namespace cairn::store {
namespace {

constexpr int64_t kFixtureDay = 19700; // 2023-12-09
constexpr uint32_t kFixtureEvents = 60;

std::string FixturePath(uint32_t version) {
  return fmt::format("{}/src/store/testdata/v{}.seg", CAIRN_SOURCE_DIR,
                     version);
}

// The manifest entry of a fixture, as the writer reported it.
SegmentDesc FixtureDesc(uint32_t version) {
  SegmentDesc d;
  d.file = fmt::format("v{}.seg", version);
  d.partition = kFixtureDay;
  d.event_count = kFixtureEvents;
  d.min_time = 1702080056705;
  d.max_time = 1702083551327;
  d.footer_crc = version == 2 ? 4269932933u : 566952083u;
  return d;
}

// Writes the fixtures into $CAIRN_FIXTURE_DIR with the writer's
// `format_version` option. Kept to document how they were made; the committed
// files are what older cairn versions wrote and must not be replaced by the
// output of a newer writer.
TEST(SegmentFixtures, DISABLED_Write) {
  const char *dir = std::getenv("CAIRN_FIXTURE_DIR");
  ASSERT_NE(dir, nullptr);
  for (uint32_t version : {2u, 3u}) {
    auto events = testing::SyntheticBatch(
        0, kFixtureEvents, kFixtureDay * kMillisPerDay, 3'600'000, 7);
    events[5].raw.mutable_string().insert(
        1,
        R"("errorCode":"AccessDenied","errorMessage":"caf\u00e9 \"quoted\"",)");
    events[9].event_id = "h:00112233445566778899aabbccddeeff";
    std::stable_sort(events.begin(), events.end(),
                     [](auto &a, auto &b) { return a.time_ms < b.time_ms; });
    SegmentWriterOptions opt;
    opt.block_bytes = 6 << 10;
    opt.format_version = version;
    std::string path = JoinPath(dir, fmt::format("v{}.seg", version));
    SegmentWriter w(FileSystem::Default(), path, kFixtureDay, opt);
    ASSERT_TRUE(w.Open().ok());
    for (auto &e : events)
      ASSERT_TRUE(w.Add(e).ok());
    auto info = w.Finish();
    ASSERT_TRUE(info.ok());
    std::printf("v%u: %s bytes=%lu events=%u min=%ld max=%ld crc=%u\n", version,
                path.c_str(), info->file_size, info->event_count,
                info->min_time, info->max_time, info->crc);
  }
}

class OldSegmentTest : public ::testing::TestWithParam<uint32_t> {};

TEST_P(OldSegmentTest, IsReadAndAnswersLikeBruteForce) {
  const uint32_t version = GetParam();
  auto seg = Segment::Open(FileSystem::Default(), FixturePath(version),
                           FixtureDesc(version));
  ASSERT_TRUE(seg.ok()) << seg.status().ToString();
  EXPECT_EQ((*seg)->block_count(), 7u);
  Status verify = (*seg)->Verify();
  EXPECT_TRUE(verify.ok()) << verify.ToString();

  std::vector<cloudtrail::Event> events;
  ASSERT_TRUE((*seg)
                  ->ForEachEvent([&](uint32_t o, cloudtrail::Event &&e) {
                    EXPECT_EQ(o, events.size());
                    events.push_back(std::move(e));
                    return Status::Ok();
                  })
                  .ok());
  ASSERT_EQ(events.size(), kFixtureEvents);
  // The exact bytes the writer was given (CRC of every raw event and id in
  // order).
  uint32_t crc = 0;
  for (const auto &e : events) {
    crc = Crc32(e.raw.view(), crc);
    crc = Crc32(e.event_id, crc);
    crc = Crc32(e.account, crc);
  }
  EXPECT_EQ(crc, 1638681586u) << "fixture content";
  int stored_ids = 0;
  for (const auto &e : events) {
    auto has = (*seg)->ContainsId(e.account, e.event_id);
    ASSERT_TRUE(has.ok());
    EXPECT_TRUE(*has);
    stored_ids += e.event_id.starts_with("h:");
  }
  EXPECT_EQ(stored_ids,
            1); // the one id stored in full, not derived from the raw event

  testing::Brute brute(events);
  auto stats = testing::ExpectLookupsMatchBruteForce(**seg, events, brute);
  EXPECT_GT(stats.single_fields,
            100u); // through the Bloom filters of that version
  auto errors = (*seg)->FieldPostings("errorCode", "accessdenied");
  ASSERT_TRUE(errors.ok());
  EXPECT_EQ(errors->cardinality(), 1u);
  auto quoted = (*seg)->FieldPostings("errorMessage", "caf\xc3\xa9 \"quoted\"");
  ASSERT_TRUE(quoted.ok());
  EXPECT_EQ(quoted->cardinality(), 1u);
}

INSTANTIATE_TEST_SUITE_P(Versions, OldSegmentTest, ::testing::Values(2u, 3u));

// Segments whose writer kept another set of columns than this reader's kColumnFields: the reader
// maps columns by the names in the segment's directory.
class ColumnSetTest : public ::testing::Test {
 protected:
  void SetUp() override { dir_ = cairn::testing::MakeTempDir("cairn_columns"); }
  void TearDown() override { FileSystem::Default()->RemoveAll(dir_).IgnoreError(); }

  // Writes synthetic events (an errorCode on every fifth) with `columns`; returns the segment and
  // its events in ordinal order.
  std::shared_ptr<Segment> Write(std::span<const ColumnSpec> columns,
                                 std::vector<cloudtrail::Event>* events) {
    *events = testing::SyntheticBatch(0, 800, kFixtureDay * kMillisPerDay, 3'600'000, 3);
    for (size_t i = 0; i < events->size(); i += 5) {
      (*events)[i].raw.mutable_string().insert(
          1, fmt::format(R"("errorCode":"{}",)", i % 2 ? "AccessDenied" : "NoSuchKey"));
    }
    std::stable_sort(events->begin(), events->end(),
                     [](auto& a, auto& b) { return a.time_ms < b.time_ms; });
    SegmentWriterOptions opt;
    opt.block_bytes = 16 << 10;
    opt.columns = columns;
    const std::string path = JoinPath(dir_, "cols.seg");
    SegmentWriter w(FileSystem::Default(), path, kFixtureDay, opt);
    EXPECT_TRUE(w.Open().ok());
    for (auto& e : *events) EXPECT_TRUE(w.Add(e).ok());
    auto info = w.Finish();
    EXPECT_TRUE(info.ok()) << info.status().ToString();
    SegmentDesc d;
    d.file = "cols.seg";
    d.partition = kFixtureDay;
    d.event_count = info->event_count;
    d.min_time = info->min_time;
    d.max_time = info->max_time;
    d.footer_crc = info->crc;
    auto seg = Segment::Open(FileSystem::Default(), path, d);
    EXPECT_TRUE(seg.ok()) << seg.status().ToString();
    return seg.ok() ? *seg : nullptr;
  }

  std::string dir_;
};

// As a segment written before errorCode and userAgent were columns: their values are in the keys
// table and Bloom filters, every lookup still agrees with brute force, and GetColumn builds
// their columns from the events.
TEST_F(ColumnSetTest, ColumnsTheSegmentLacksAreAnsweredFromItsEvents) {
  std::vector<ColumnSpec> columns;
  for (const ColumnSpec& c : DefaultColumns()) {
    if (c.name != "errorCode" && c.name != "userAgent") columns.push_back(c);
  }
  std::vector<cloudtrail::Event> events;
  auto seg = Write(columns, &events);
  ASSERT_TRUE(seg);
  testing::Brute brute(events);
  testing::ExpectLookupsMatchBruteForce(*seg, events, brute);
  auto denied = seg->FieldPostings("errorCode", "accessdenied");
  ASSERT_TRUE(denied.ok());
  EXPECT_EQ(denied->cardinality(), 80u);
  auto fields = seg->Fields();
  ASSERT_TRUE(fields.ok());
  bool listed = false;
  for (const auto& f : *fields) {
    if (f.name == "errorCode") {
      listed = true;
      EXPECT_FALSE(f.column);
      EXPECT_EQ(f.events, 160u);
    }
  }
  EXPECT_TRUE(listed);
  EXPECT_TRUE(seg->Verify().ok());
}

// A column this reader's list does not have (as a later writer might add) is read as a column:
// its values and terms are found through its dictionary.
TEST_F(ColumnSetTest, ColumnsTheReaderDoesNotKnowAreRead) {
  std::vector<ColumnSpec> columns(DefaultColumns().begin(), DefaultColumns().end());
  columns.insert(columns.begin() + 3, ColumnSpec{"requestParameters.bucketName", true});
  std::vector<cloudtrail::Event> events;
  auto seg = Write(columns, &events);
  ASSERT_TRUE(seg);
  testing::Brute brute(events);
  testing::ExpectLookupsMatchBruteForce(*seg, events, brute);
  auto col = seg->GetColumn("requestParameters.bucketName");
  ASSERT_TRUE(col.ok()) << col.status().ToString();
  EXPECT_EQ((*col)->dict.size(), 13u);
  auto sum = seg->ColumnCounts("requestParameters.bucketName");
  ASSERT_TRUE(sum.ok());
  EXPECT_EQ((*sum->counts)[0], 0u);  // every event has one
  auto fields = seg->Fields();
  ASSERT_TRUE(fields.ok());
  bool as_column = false;
  for (const auto& f : *fields) as_column |= f.name == "requestParameters.bucketName" && f.column;
  EXPECT_TRUE(as_column);
  EXPECT_TRUE(seg->Verify().ok());
}

// Formats 2 and 3 cannot name columns: the writer refuses another set for them.
TEST_F(ColumnSetTest, OlderFormatsHoldOnlyTheirColumns) {
  std::vector<ColumnSpec> columns(DefaultColumns().begin(), DefaultColumns().end() - 1);
  SegmentWriterOptions opt;
  opt.columns = columns;
  opt.format_version = 3;
  SegmentWriter w(FileSystem::Default(), JoinPath(dir_, "x.seg"), kFixtureDay, opt);
  EXPECT_EQ(w.Open().code(), StatusCode::kInvalidArgument);
}

} // namespace
} // namespace cairn::store
