// Unit tests of value typing, matching helpers and time formats.

#include "query/eval.h"

#include <gtest/gtest.h>

#include "query/json_paths.h"
#include "query/time_format.h"
#include "query/value.h"

namespace cairn::query {
namespace {

TEST(Value, NumbersAndText) {
  EXPECT_EQ(ParseNumber(" 42 "), 42);
  EXPECT_EQ(ParseNumber("-1.5e3"), -1500);
  EXPECT_EQ(ParseNumber("0x1F"), 31);
  EXPECT_FALSE(ParseNumber("12abc"));
  EXPECT_FALSE(ParseNumber(""));
  EXPECT_FALSE(ParseNumber("nan"));
  EXPECT_EQ(FormatNumber(3), "3");
  EXPECT_EQ(FormatNumber(2.5), "2.5");
  EXPECT_LT(CompareMixed("9", "10"), 0);
  EXPECT_LT(CompareMixed("10", "a"), 0);
  EXPECT_GT(CompareMixed("b", "B"), 0);
}

TEST(Match, TermsRespectBreakers) {
  std::string raw = R"({"ip":"10.0.0.12","arn":"arn:aws:iam::1:user/Alice"})";
  EXPECT_TRUE(TermMatch(raw, "alice"));
  EXPECT_TRUE(TermMatch(raw, "10.0.0.12"));
  EXPECT_FALSE(TermMatch(raw, "10.0.0.1"));
  EXPECT_FALSE(TermMatch(raw, "lice"));
  EXPECT_TRUE(TermMatch(raw, "ali*"));
  EXPECT_TRUE(TermMatch(raw, "*lice"));
  EXPECT_TRUE(GlobMatch("a*c", "ABC", true));
  EXPECT_FALSE(GlobMatch("a*c", "ABC", false));
  EXPECT_TRUE(LikeMatch("abc", "a_c"));
  EXPECT_FALSE(LikeMatch("abcd", "a_c"));
  EXPECT_EQ(PcreToRe2("(?<x>a)(?<=b)"), "(?P<x>a)(?<=b)");
}

TEST(Time, Modifiers) {
  double now = 1688990400;  // Monday 2023-07-10 12:00:00 UTC
  EXPECT_EQ(*ResolveTimeModifier("now", now), now);
  EXPECT_EQ(*ResolveTimeModifier("-24h@h", now), now - 86400);
  EXPECT_EQ(*ResolveTimeModifier("@d", now), 1688947200);
  EXPECT_EQ(*ResolveTimeModifier("-7d@w0", now), 1688256000);
  EXPECT_EQ(*ResolveTimeModifier("@w1", now), 1688947200);
  EXPECT_EQ(*ResolveTimeModifier("07/10/2023:11:30:00", now), 1688988600);
  EXPECT_EQ(*ResolveTimeModifier("1688988600", now), 1688988600);
  EXPECT_EQ(*ResolveTimeModifier("-1y@y", now), 1640995200);
  EXPECT_FALSE(ResolveTimeModifier("-3x", now).ok());
  EXPECT_FALSE(ResolveTimeModifier("yesterday", now).ok());
  EXPECT_EQ(Strftime(0, "%Y-%m-%dT%H:%M:%S %a"), "1970-01-01T00:00:00 Thu");
  EXPECT_EQ(*Strptime("Jul 10 2023 1:05:00 PM", "%b %d %Y %I:%M:%S %p"), 1688994300);
  EXPECT_EQ(*ParseSpan("5m"), 300);
  EXPECT_EQ(*ParseSpan("1h"), 3600);
  EXPECT_FALSE(ParseSpan("5x").ok());
}

}  // namespace
}  // namespace cairn::query

namespace cairn::query {
namespace {

// A stored event known to be well-formed is not parsed when it holds none of the wanted keys;
// keys written with escapes or holding dots are still found, and the answer is the same either
// way.
TEST(JsonPathsTest, WellFormedDocumentsWithoutTheKeysAreNotParsed) {
  JsonPaths paths({"requestParameters.bucketName", "resources{}.ARN"});
  std::vector<Values> a, b;
  for (std::string_view doc : {
           R"({"eventName":"GetObject","requestParameters":{"bucketName":"b1","key":"k"}})",
           R"({"eventName":"ListUsers","requestParameters":null})",
           R"({"requestParameters":{"bucket\u004eame":"escaped"}})",
           R"({"requestParameters.bucketName":"dotted","resources":[{"ARN":"x"},{"ARN":"y"}]})",
           R"({"eventName":"bucketName","userAgent":"ARN"})",
       }) {
    ASSERT_TRUE(paths.Extract(doc, &a, false)) << doc;
    ASSERT_TRUE(paths.Extract(doc, &b, true)) << doc;
    EXPECT_EQ(a, b) << doc;
  }
  ASSERT_TRUE(paths.Extract(R"({"requestParameters":{"bucket\u004eame":"escaped"}})", &b, true));
  EXPECT_EQ(b[0], Values{"escaped"});
  ASSERT_TRUE(paths.Extract(R"({"requestParameters.bucketName":"dotted"})", &b, true));
  EXPECT_EQ(b[0], Values{"dotted"});
  // Not known to be well-formed: a broken document is still reported.
  EXPECT_FALSE(paths.Extract(R"({"eventName":"x",)", &a, false));
}

// A walk of some of the names numbers every name as the full walk does and fills only the walked
// ones, through arrays and nested objects alike.
TEST(JsonPathsTest, AWalkOfSomeNamesKeepsEverySlot) {
  const std::vector<std::string> names = {"eventName", "userIdentity.type", "resources{}.ARN",
                                          "eventName", "requestParameters.bucketName"};
  JsonPaths all(names), some(names, {false, true, true, false, false});
  ASSERT_EQ(all.size(), some.size());
  for (size_t i = 0; i < all.size(); ++i) {
    EXPECT_EQ(all.name(i), some.name(i));
    EXPECT_EQ(all.Slot(all.name(i)), some.Slot(all.name(i)));
  }
  const std::string doc =
      R"({"eventName":"GetObject","userIdentity":{"type":"AssumedRole"},)"
      R"("requestParameters":{"bucketName":"b1"},"resources":[{"ARN":"x"},{"ARN":"y"}]})";
  std::vector<Values> a, b;
  ASSERT_TRUE(all.Extract(doc, &a));
  ASSERT_TRUE(some.Extract(doc, &b));
  const int name = all.Slot("eventName"), type = all.Slot("userIdentity.type"),
            arn = all.Slot("resources{}.ARN"), bucket = all.Slot("requestParameters.bucketName");
  EXPECT_EQ(a[name], Values{"GetObject"});
  EXPECT_EQ(a[bucket], Values{"b1"});
  EXPECT_TRUE(b[name].empty());
  EXPECT_TRUE(b[bucket].empty());
  EXPECT_EQ(b[type], a[type]);
  EXPECT_EQ(b[arn], (Values{"x", "y"}));
  EXPECT_FALSE(some.Extract(R"({"userIdentity":{"type":)", &b));  // still checked
}

}  // namespace
}  // namespace cairn::query
