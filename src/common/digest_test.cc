#include "common/digest.h"

#include <gtest/gtest.h>

#include <set>
#include <thread>
#include <vector>

namespace cairn {
namespace {

// FIPS 180-2's examples.
TEST(DigestTest, KnownVectors) {
  EXPECT_EQ(Sha256Hex(""), "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Sha256Hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

TEST(DigestTest, ContentKeyIsTheDigestsFirstHalf) {
  EXPECT_EQ(ContentKey("abc"), "h:ba7816bf8f01cfea414140de5dae2223");
  EXPECT_NE(ContentKey("abc"), ContentKey("abd"));
}

// The per-thread context is reset between inputs and between threads.
TEST(DigestTest, ManyThreadsAgree) {
  std::vector<std::string> got(4);
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&got, t] {
      std::string last;
      for (int i = 0; i < 1000; ++i) last = Sha256Hex(i % 2 == 0 ? "abc" : "something longer");
      got[t] = Sha256Hex("abc") + last;
    });
  }
  for (auto& th : threads) th.join();
  EXPECT_EQ(std::set<std::string>(got.begin(), got.end()).size(), 1u);
  EXPECT_EQ(got[0].substr(0, 64), Sha256Hex("abc"));
}

}  // namespace
}  // namespace cairn
