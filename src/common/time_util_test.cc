#include "common/time_util.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(TimeUtilTest, ParsesCloudTrailTimes) {
  EXPECT_EQ(ParseIso8601Millis("1970-01-01T00:00:00Z"), 0);
  EXPECT_EQ(ParseIso8601Millis("2023-07-10T08:12:34Z"), 1688976754000LL);
  EXPECT_EQ(ParseIso8601Millis("2023-07-10T08:12:34.5Z"), 1688976754500LL);
  EXPECT_EQ(ParseIso8601Millis("2023-07-10T01:12:34-07:00"), 1688976754000LL);
  EXPECT_EQ(ParseIso8601Millis("2023-07-10"), 1688947200000LL);
  EXPECT_FALSE(ParseIso8601Millis("2023-13-10T00:00:00Z"));
  EXPECT_FALSE(ParseIso8601Millis("yesterday"));
  EXPECT_FALSE(ParseIso8601Millis("2023-07-10T08:12:34Zjunk"));
}

TEST(TimeUtilTest, FormatRoundTrips) {
  for (int64_t t : {0LL, 1688976754000LL, 951782400000LL /* 2000-02-29 */, -86400000LL}) {
    EXPECT_EQ(ParseIso8601Millis(FormatIso8601(t)), t);
  }
  EXPECT_EQ(FormatIso8601(1688976754123LL, true), "2023-07-10T08:12:34.123Z");
  EXPECT_EQ(FormatIso8601(0), "1970-01-01T00:00:00Z");
  EXPECT_EQ(FormatIso8601(-1, true), "1969-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(253402300799999LL, true), "9999-12-31T23:59:59.999Z");
  EXPECT_EQ(FormatIso8601(5000, true), "1970-01-01T00:00:05.000Z");
}

}  // namespace
}  // namespace cairn
