// Segments written by earlier versions of cairn stay readable:
// src/store/testdata holds small segments written by the format 2 and format 3
// writers (from synthetic events, by SegmentFixtures.DISABLED_Write below as it
// was at the time), and every lookup over them must agree with brute force over
// the events they hold.

#include <gtest/gtest.h>

#include <cstdlib>

#include "common/fs.h"
#include "store/encoding.h"
#include "store/segment.h"
#include "store/segment_format.h"
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

} // namespace
} // namespace cairn::store
