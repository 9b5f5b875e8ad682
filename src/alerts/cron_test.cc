#include "alerts/cron.h"

#include <gtest/gtest.h>

#include "common/time_util.h"

namespace cairn::alerts {
namespace {

int64_t T(const char* iso) { return *ParseIso8601Millis(iso); }

std::string N(const CronSchedule& c, const char* after) {
  int64_t t = c.Next(T(after));
  return t < 0 ? "none" : FormatIso8601(t);
}

TEST(Cron, Steps) {
  auto c = CronSchedule::Parse("*/15 * * * *");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(N(*c, "2024-03-01T10:00:00Z"), "2024-03-01T10:15:00Z");
  EXPECT_EQ(N(*c, "2024-03-01T10:14:59Z"), "2024-03-01T10:15:00Z");
  EXPECT_EQ(N(*c, "2024-03-01T23:50:00Z"), "2024-03-02T00:00:00Z");
}

TEST(Cron, RangesListsAndNames) {
  // 09:30 on weekdays, and 17:30 on weekdays.
  auto c = CronSchedule::Parse("30 9,17 * * mon-fri");
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  // 2024-03-01 is a Friday.
  EXPECT_EQ(N(*c, "2024-03-01T10:00:00Z"), "2024-03-01T17:30:00Z");
  EXPECT_EQ(N(*c, "2024-03-01T17:30:00Z"), "2024-03-04T09:30:00Z");  // Monday
  auto m = CronSchedule::Parse("0 0 1 jan,JUL *");
  ASSERT_TRUE(m.ok());
  EXPECT_EQ(N(*m, "2024-03-01T00:00:00Z"), "2024-07-01T00:00:00Z");
  auto r = CronSchedule::Parse("10-20/5 3 * * *");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(N(*r, "2024-03-01T03:10:00Z"), "2024-03-01T03:15:00Z");
  EXPECT_EQ(N(*r, "2024-03-01T03:20:00Z"), "2024-03-02T03:10:00Z");
  auto sunday7 = CronSchedule::Parse("0 12 * * 7");
  ASSERT_TRUE(sunday7.ok());
  EXPECT_EQ(N(*sunday7, "2024-03-01T00:00:00Z"), "2024-03-03T12:00:00Z");
}

TEST(Cron, DayOfMonthOrDayOfWeek) {
  // Both restricted: either matches (the 13th, or any Friday).
  auto c = CronSchedule::Parse("0 0 13 * 5");
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(N(*c, "2024-03-01T00:00:00Z"), "2024-03-08T00:00:00Z");  // Friday the 8th
  EXPECT_EQ(N(*c, "2024-03-12T00:00:00Z"), "2024-03-13T00:00:00Z");
  auto leap = CronSchedule::Parse("0 0 29 2 *");
  ASSERT_TRUE(leap.ok());
  EXPECT_EQ(N(*leap, "2024-03-01T00:00:00Z"), "2028-02-29T00:00:00Z");
  auto never = CronSchedule::Parse("0 0 31 2 *");
  ASSERT_TRUE(never.ok());
  EXPECT_EQ(N(*never, "2024-03-01T00:00:00Z"), "none");
}

TEST(Cron, Shorthands) {
  auto h = CronSchedule::Parse("@hourly");
  ASSERT_TRUE(h.ok());
  EXPECT_EQ(N(*h, "2024-03-01T10:00:00Z"), "2024-03-01T11:00:00Z");
  auto d = CronSchedule::Parse("@daily");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(N(*d, "2024-03-01T10:00:00Z"), "2024-03-02T00:00:00Z");
}

TEST(Cron, Between) {
  auto c = CronSchedule::Parse("*/5 * * * *");
  ASSERT_TRUE(c.ok());
  size_t skipped = 0;
  auto times = c->Between(T("2024-03-01T10:00:00Z"), T("2024-03-01T10:30:00Z"), 100, &skipped);
  ASSERT_EQ(times.size(), 6u);  // (10:00, 10:30]
  EXPECT_EQ(FormatIso8601(times.front()), "2024-03-01T10:05:00Z");
  EXPECT_EQ(FormatIso8601(times.back()), "2024-03-01T10:30:00Z");
  EXPECT_EQ(skipped, 0u);
  times = c->Between(T("2024-03-01T10:00:00Z"), T("2024-03-01T10:30:00Z"), 2, &skipped);
  ASSERT_EQ(times.size(), 2u);  // the newest two kept
  EXPECT_EQ(FormatIso8601(times.front()), "2024-03-01T10:25:00Z");
  EXPECT_EQ(skipped, 4u);
}

TEST(Cron, Errors) {
  EXPECT_FALSE(CronSchedule::Parse("* * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("60 * * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("* 24 * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("* * 0 * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("* * * 13 *").ok());
  EXPECT_FALSE(CronSchedule::Parse("*/0 * * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("5-1 * * * *").ok());
  EXPECT_FALSE(CronSchedule::Parse("* * * foo *").ok());
  EXPECT_FALSE(CronSchedule::Parse("1,,2 * * * *").ok());
}

}  // namespace
}  // namespace cairn::alerts
