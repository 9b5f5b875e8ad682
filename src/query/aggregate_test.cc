// Unit tests of the stats functions' order-dependent states: partial aggregates of rows read by
// different workers, in any order, merge to the answer of the rows taken in result order.

#include "query/aggregate.h"

#include <gtest/gtest.h>

namespace cairn::query::internal {
namespace {

std::unique_ptr<Accumulator> Make(const std::string& func) {
  Aggregation a;
  a.func = func;
  a.field = "x";
  return MakeAccumulator(a);
}

void Add(Accumulator& acc, const std::string& v, uint64_t order) {
  Values vals{v};
  acc.Add(&vals, 0, OrderKey{order, 0}, 1);
}

// Rows in result order 1..8 (values "v1".."v8"), split over two workers the way parallel segment
// reads interleave them: each worker sees its rows in order, but its share is scattered.
TEST(Aggregate, ListMergesPartialsInResultOrder) {
  auto a = Make("list");
  auto b = Make("list");
  for (uint64_t i : {2, 3, 5, 8}) Add(*a, "v" + std::to_string(i), i);
  for (uint64_t i : {1, 4, 6, 7}) Add(*b, "v" + std::to_string(i), i);
  a->Merge(*b);
  EXPECT_EQ(a->Result(), (Values{"v1", "v2", "v3", "v4", "v5", "v6", "v7", "v8"}));
}

TEST(Aggregate, ListKeepsTheFirstHundredAfterMerging) {
  auto a = Make("list");
  auto b = Make("list");
  for (uint64_t i = 1; i <= 150; ++i) Add(i % 2 ? *a : *b, std::to_string(i), i);
  b->Merge(*a);
  Values got = b->Result();
  ASSERT_EQ(got.size(), 100u);
  EXPECT_EQ(got.front(), "1");
  EXPECT_EQ(got[49], "50");
  EXPECT_EQ(got.back(), "100");
}

TEST(Aggregate, FirstAndLastFollowResultOrderAcrossPartials) {
  for (const char* f : {"first", "last"}) {
    auto a = Make(f);
    auto b = Make(f);
    for (uint64_t i : {2, 3, 5}) Add(*a, "v" + std::to_string(i), i);
    for (uint64_t i : {1, 4, 6}) Add(*b, "v" + std::to_string(i), i);
    a->Merge(*b);
    EXPECT_EQ(a->Result(), Values{std::string(f) == "first" ? "v1" : "v6"}) << f;
  }
}

}  // namespace
}  // namespace cairn::query::internal
