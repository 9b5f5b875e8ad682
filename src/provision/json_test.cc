#include "provision/json.h"

#include <gtest/gtest.h>

namespace cairn::provision {
namespace {

TEST(JsonTest, DumpEscapesAndKeepsOrder) {
  JsonValue v = JsonValue::Object()
                    .Add("b", JsonValue::Str("quote \" and \\ and \n"))
                    .Add("a", JsonValue::Array({JsonValue::Number(5), JsonValue::Bool(true), JsonValue::Null()}));
  EXPECT_EQ(v.Dump(), R"({"b":"quote \" and \\ and \n","a":[5,true,null]})");
  auto back = JsonValue::Parse(v.Dump(), "test");
  ASSERT_TRUE(back.ok());
  EXPECT_EQ(back->Dump(), v.Dump());
}

TEST(JsonTest, CanonicalFormIgnoresWhatAwsRewrites) {
  // Key order, whitespace, one-element arrays, numbers as strings, order of action lists.
  auto a = CanonicalJson(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["sqs:B","sqs:A"],
                             "Resource":["arn:q"],"Condition":{"N":{"maxReceiveCount":5}}}]})");
  auto b = CanonicalJson(R"({ "Statement" : { "Resource":"arn:q", "Action":["sqs:A","sqs:B","sqs:A"],
                             "Effect":"Allow", "Condition":{"N":{"maxReceiveCount":"5"}} }, "Version":"2012-10-17" })");
  ASSERT_TRUE(a.ok() && b.ok());
  EXPECT_EQ(*a, *b);
  // A real difference stays a difference.
  auto c = CanonicalJson(R"({"Version":"2012-10-17","Statement":[{"Effect":"Deny","Action":["sqs:A","sqs:B"],
                             "Resource":"arn:q","Condition":{"N":{"maxReceiveCount":5}}}]})");
  ASSERT_TRUE(c.ok());
  EXPECT_NE(*a, *c);
  EXPECT_FALSE(CanonicalJson("{not json").ok());
}

}  // namespace
}  // namespace cairn::provision
