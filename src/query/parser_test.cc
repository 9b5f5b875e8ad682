// Unit tests of the lexer/parser: canonical forms round-trip, error offsets, macros.

#include "query/parser.h"

#include <gtest/gtest.h>

#include "query/macros.h"

namespace cairn::query {
namespace {

std::string Canon(std::string_view spl) {
  auto p = ParseSpl(spl);
  if (!p.ok()) return "ERROR " + p.status().message();
  return ToString(*p);
}

TEST(Parser, CanonicalFormsRoundTrip) {
  const char* cases[] = {
      "eventName=Describe* userAgent!=*.amazonaws.com | stats count by eventSource",
      "a OR b NOT c | where x > 1 AND y < 2 | eval z=mvindex(split(a, \":\"), -1)",
      "errorCode IN (NoSuchEntityException,DeleteConflictException, AccessDenied) | top limit=5 "
      "user",
      "x | timechart span=1h count by eventName | sort - count | head 3",
      "x | rename requestParameters.* as * | table a, b | fields - c",
      "x | eval port_range='requestParameters.portRange.to' - 'requestParameters.portRange.from'",
      "| inputlookup users where dept=\"ops\" | outputlookup x.csv",
      "x | join type=left a [| search y | stats count by a]",
  };
  for (const char* c : cases) {
    std::string once = Canon(c);
    ASSERT_EQ(once.rfind("ERROR", 0), std::string::npos) << c << ": " << once;
    EXPECT_EQ(Canon(once), once) << "from " << c;
  }
}

TEST(Parser, LeadingSearchIsImplicit) {
  EXPECT_EQ(Canon("foo bar"), "search foo AND bar");
  EXPECT_EQ(Canon("| search foo"), "search foo");
  EXPECT_EQ(Canon("search foo"), "search foo");
  EXPECT_EQ(Canon("| makeresults"), "| makeresults");
}

TEST(Parser, ErrorsNameOffsets) {
  auto p = ParseSpl("eventName=x | eval y=(1+2");
  ASSERT_FALSE(p.ok());
  EXPECT_NE(p.status().message().find("at offset 21"), std::string::npos) << p.status().message();
  p = ParseSpl("a | tstats count");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(p.status().message().find("unsupported: tstats"), std::string::npos);
  p = ParseSpl("a | nosuchcmd");
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().message(), "unsupported command: nosuchcmd at offset 4");
}

TEST(Parser, CommandsRefuseArgumentsTheyDoNotTake) {
  // Each command's syntax (its registry entry) says what it takes; anything else is an error
  // naming the offset, never silently dropped.
  EXPECT_EQ(Canon("x | head foo"), "ERROR at offset 9: unexpected 'foo' in head");
  EXPECT_EQ(Canon("x | table a [search y]"), "ERROR at offset 12: unexpected '[' in table");
  EXPECT_EQ(Canon("x | rex field=f w \"(?<a>b)\""), "ERROR at offset 16: unexpected 'w' in rex");
  EXPECT_EQ(Canon("| makeresults [search y]"), "ERROR at offset 14: unexpected '[' in makeresults");
  EXPECT_EQ(Canon("x | Head 3"), "search x | head 3");
}

TEST(Parser, BinKeepsItsOutputName) {
  EXPECT_EQ(Canon("x | bucket _time as t span=1h"), "search x | bin span=1h _time as t");
  EXPECT_EQ(Canon("search x | bin span=1h _time as t"), "search x | bin span=1h _time as t");
}

TEST(Parser, TopTakesALeadingCountAsItsLimit) {
  // Splunk's `top 3 user` is `top limit=3 user`; the 3 is not a field name.
  EXPECT_EQ(Canon("x | top 3 eventName"), "search x | top limit=3 eventName");
  EXPECT_EQ(Canon("x | rare 2 eventSource by awsRegion"),
            "search x | rare limit=2 eventSource by awsRegion");
  EXPECT_EQ(Canon("x | top limit=5 user"), "search x | top limit=5 user");
  EXPECT_EQ(Canon("x | top 3 limit=4 user"),
            "ERROR at offset 4: top: give the count or limit=, not both");
}

TEST(Parser, ChartTakesOverAndBy) {
  // chart count over X by Y: X gives the rows, Y the series, as chart count by X, Y.
  EXPECT_EQ(Canon("x | chart count over eventSource by readOnly"),
            "search x | chart count by eventSource, readOnly");
  EXPECT_EQ(Canon("x | chart dc(eventName) over awsRegion"),
            "search x | chart dc(eventName) by awsRegion");
  EXPECT_EQ(Canon("x | chart count by eventSource readOnly"),
            "search x | chart count by eventSource, readOnly");
  EXPECT_NE(Canon("x | timechart count over eventSource").rfind("ERROR", 0), std::string::npos);
}

TEST(Parser, EvalExpressionPrecedence) {
  auto e = ParseEvalExpression("a + b * c . d = e OR f AND NOT g");
  ASSERT_TRUE(e.ok()) << e.status().ToString();
  EXPECT_EQ(ToString(**e), "((((a + (b * c)) . d) = e) OR (f AND NOT g))");
}

TEST(Macros, ExpandsWithArgumentsAndNesting) {
  MacroSet m;
  ASSERT_TRUE(m.LoadConf("[outer(1)]\nargs = f\ndefinition = `cloudtrail` $f$=1\n").ok());
  auto out = m.Expand("`outer(x)` | stats count");
  ASSERT_TRUE(out.ok()) << out.status().ToString();
  EXPECT_EQ(*out, "sourcetype=aws:cloudtrail x=1 | stats count");
  auto bad = m.Expand("`outer` | x");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("unknown macro `outer`"), std::string::npos);
  EXPECT_FALSE(m.LoadConf("definition = x\n").ok());
  // Backticks inside quotes are left alone.
  EXPECT_EQ(*m.Expand("a=\"`x`\""), "a=\"`x`\"");
}

TEST(Macros, SelfReferenceIsAnError) {
  MacroSet m;
  m.Define("loop", {}, "`loop`");
  EXPECT_FALSE(m.Expand("`loop`").ok());
}

}  // namespace
}  // namespace cairn::query
