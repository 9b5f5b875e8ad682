#include "store/fields.h"

#include <gtest/gtest.h>

#include <map>

namespace cairn::store {
namespace {

std::vector<std::string> Terms(std::string_view v) {
  std::vector<std::string> out;
  ForEachTerm(v, [&](std::string_view t) { out.emplace_back(t); });
  return out;
}

TEST(SplitTerms, MajorAndMinorPieces) {
  EXPECT_EQ(Terms("GetObject"), std::vector<std::string>{"getobject"});
  EXPECT_EQ(Terms("10.0.1.2"), (std::vector<std::string>{"10", "0", "1", "2", "10.0.1.2"}));
  EXPECT_EQ(Terms("aws-cli/2.0 Python/3.8"),
            (std::vector<std::string>{"aws", "cli", "2", "0", "aws-cli/2.0", "python", "3", "8",
                                      "python/3.8"}));
  EXPECT_EQ(Terms("arn:aws:iam::123:user/Bob"),
            (std::vector<std::string>{"arn", "aws", "iam", "123", "user", "bob",
                                      "arn:aws:iam::123:user/bob"}));
  // A segment with edge breakers only yields its single trimmed piece.
  EXPECT_EQ(Terms("(-foo-)"), std::vector<std::string>{"foo"});
  EXPECT_TRUE(Terms(" ,; ").empty());
  EXPECT_TRUE(Terms("--").empty());
}

TEST(SplitTerms, LongTermsAreCut) {
  std::string big(1000, 'a');
  auto t = Terms(big);
  ASSERT_EQ(t.size(), 1u);
  EXPECT_EQ(t[0].size(), kMaxTermBytes);
}

TEST(LeafWalker, SplunkFieldNames) {
  LeafWalker w;
  std::multimap<std::string, std::string> got;
  ASSERT_TRUE(
      w.Walk(
           R"({"a":{"b":"x","c":[1,2.50,{"d":null}]},"resources":[{"ARN":"r1"},{"ARN":"r2"}],"t":true,"e":{},"f":[]})",
           [&](const Leaf& l) { got.emplace(std::string(l.field), std::string(l.value)); })
          .ok());
  std::multimap<std::string, std::string> want = {{"a.b", "x"},
                                                  {"a.c{}", "1"},
                                                  {"a.c{}", "2.50"},
                                                  {"a.c{}.d", "null"},
                                                  {"resources{}.ARN", "r1"},
                                                  {"resources{}.ARN", "r2"},
                                                  {"t", "true"}};
  EXPECT_EQ(got, want);
}

TEST(LeafWalker, RejectsMalformedJson) {
  LeafWalker w;
  auto noop = [](const Leaf&) {};
  EXPECT_FALSE(w.Walk("{\"a\":", noop).ok());
  EXPECT_FALSE(w.Walk("[1,2]", noop).ok());
  EXPECT_FALSE(w.Walk("not json", noop).ok());
  EXPECT_TRUE(w.Walk("{\"a\":\"\\u00e9\"}", noop).ok());
}

TEST(Columns, NamesAreUnique) {
  for (size_t i = 0; i < kColumnCount; ++i)
    EXPECT_EQ(ColumnIndex(kColumnFields[i]), static_cast<int>(i));
  EXPECT_EQ(ColumnIndex("requestParameters.bucketName"), -1);
}

}  // namespace
}  // namespace cairn::store
