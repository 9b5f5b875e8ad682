// The shared block caches: bounded in bytes whatever the number of segments, least recently used
// out first, a closing segment's blocks dropped; and a search over many segments stays within it.

#include <gtest/gtest.h>

#include "store/segment_internal.h"

namespace cairn::store::internal {
namespace {

std::shared_ptr<const std::string> Block(char c) {
  return std::make_shared<const std::string>(100, c);
}

TEST(SharedCacheTest, StaysWithinItsBudgetAcrossSegments) {
  SharedCache<std::string> cache(1000);
  for (uint64_t seg = 1; seg <= 50; ++seg) {
    for (uint64_t b = 0; b < 4; ++b) cache.Put(seg, b, Block('a'), 100);
    EXPECT_LE(cache.bytes(), 1000u);
  }
  EXPECT_EQ(cache.bytes(), 1000u);
  // The ten most recent stay; older ones are gone.
  EXPECT_NE(cache.Get(50, 3), nullptr);
  EXPECT_NE(cache.Get(48, 2), nullptr);
  EXPECT_EQ(cache.Get(1, 0), nullptr);
  EXPECT_EQ(cache.Get(47, 3), nullptr);
}

TEST(SharedCacheTest, AHitIsKeptOverOlderEntries) {
  SharedCache<std::string> cache(300);
  cache.Put(1, 0, Block('a'), 100);
  cache.Put(1, 1, Block('b'), 100);
  cache.Put(1, 2, Block('c'), 100);
  ASSERT_NE(cache.Get(1, 0), nullptr);  // now the most recent
  cache.Put(1, 3, Block('d'), 100);     // evicts block 1, the least recently used
  EXPECT_NE(cache.Get(1, 0), nullptr);
  EXPECT_EQ(cache.Get(1, 1), nullptr);
  EXPECT_EQ(*cache.Get(1, 3), std::string(100, 'd'));
}

TEST(SharedCacheTest, DropForgetsOneSegmentAndItsBytes) {
  SharedCache<std::string> cache(1000);
  cache.Put(1, 0, Block('a'), 100);
  cache.Put(2, 0, Block('b'), 100);
  cache.Put(1, 1, Block('c'), 100);
  cache.Drop(1);
  EXPECT_EQ(cache.bytes(), 100u);
  EXPECT_EQ(cache.Get(1, 0), nullptr);
  EXPECT_NE(cache.Get(2, 0), nullptr);
}

TEST(SharedCacheTest, AnEntryLargerThanTheBudgetIsNotKept) {
  SharedCache<std::string> cache(50);
  cache.Put(1, 0, Block('a'), 100);
  EXPECT_EQ(cache.bytes(), 0u);
  EXPECT_EQ(cache.Get(1, 0), nullptr);
}

TEST(RecentBlocksTest, HoldsWeaklyAndForgetsAfterEightNewer) {
  RecentBlocks<std::string> recent;
  auto kept = Block('k');
  recent.Put(7, kept);
  recent.Put(8, Block('x'));  // no one else holds it
  EXPECT_EQ(recent.Get(7), kept);
  EXPECT_EQ(recent.Get(8), nullptr);
  for (uint64_t b = 100; b < 108; ++b) recent.Put(b, kept);
  EXPECT_EQ(recent.Get(7), nullptr);
}

}  // namespace
}  // namespace cairn::store::internal
