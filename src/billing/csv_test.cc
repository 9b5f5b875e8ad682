#include "billing/csv.h"

#include <gtest/gtest.h>

namespace cairn::billing {
namespace {

using Rows = std::vector<std::vector<std::string>>;

TEST(CsvTest, QuotingPerRfc4180) {
  auto r = ParseCsv("a,b,c\r\n1,\"x, y\",\"say \"\"hi\"\"\"\n\"multi\nline\",,3\n");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(*r, (Rows{{"a", "b", "c"}, {"1", "x, y", "say \"hi\""}, {"multi\nline", "", "3"}}));
}

TEST(CsvTest, LastLineWithoutNewlineAndEmptyQuoted) {
  auto r = ParseCsv("a,\"\"\nb,c");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, (Rows{{"a", ""}, {"b", "c"}}));
}

TEST(CsvTest, Errors) {
  EXPECT_FALSE(ParseCsv("a,b\"c\n").ok());        // quote inside an unquoted field
  EXPECT_FALSE(ParseCsv("\"a\"b,c\n").ok());      // text after the closing quote
  EXPECT_FALSE(ParseCsv("\"open,field\n").ok());  // never closed
  auto r = ParseCsv("ok\n\"bad\"x\n");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("record 2"), std::string::npos) << r.status().message();
}

}  // namespace
}  // namespace cairn::billing
