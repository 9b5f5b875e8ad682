#include "store/manifest.h"

#include <gtest/gtest.h>

#include <random>

#include "store/encoding.h"

namespace cairn::store {
namespace {

// `body` with its "end <crc>" line, as the store writes it.
std::string Sealed(const std::string& body) {
  return body + fmt::format("end {:08x}\n", Crc32(body));
}

TEST(ManifestTest, RoundTrips) {
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937_64 rng(seed);
  for (int round = 0; round < 200; ++round) {
    Manifest m;
    m.generation = rng();
    m.next_seq = 1;
    const int n = static_cast<int>(rng() % 20);
    for (int i = 0; i < n; ++i) {
      SegmentDesc d;
      d.seq = m.next_seq + rng() % 5;
      m.next_seq = d.seq + 1 + rng() % 3;
      d.partition = static_cast<int64_t>(rng() % 40000) - 1000;
      d.file = SegmentFileName(d.seq, d.partition);
      d.event_count = static_cast<uint32_t>(rng());
      d.min_time = static_cast<int64_t>(rng());
      d.max_time = static_cast<int64_t>(rng());
      d.bytes = rng();
      d.footer_crc = static_cast<uint32_t>(rng());
      m.segments.push_back(d);
    }
    const std::string text = EncodeManifest(m);
    auto back = DecodeManifest(text, "MANIFEST");
    ASSERT_TRUE(back.ok()) << "seed " << seed << ": " << back.status().ToString() << "\n" << text;
    EXPECT_EQ(EncodeManifest(*back), text) << "seed " << seed;
  }
}

// Found by fuzz_manifest: a second next-seq line after the segments lowered next-seq below a
// listed seq; the manifest decoded, but what it encoded to did not. Header lines come once each,
// before the segments, and segments in increasing seq order.
TEST(ManifestTest, RepeatedOrMisplacedLinesAreCorruption) {
  const std::string head = "cairn-manifest 1\ngeneration 7\nnext-seq 18\n";
  const std::string seg1 =
      "segment 1 20231209-0000000001.seg 19700 1 1702082425488 1702082425488 3169 4232d631\n";
  const std::string seg2 =
      "segment 2 20231209-0000000002.seg 19700 1 1702082425488 1702082425488 3 1\n";
  ASSERT_TRUE(DecodeManifest(Sealed(head + seg1 + seg2), "MANIFEST").ok());
  for (const std::string& body :
       {head + seg1 + seg2 + "generation 7\nnext-seq 2\n", head + "next-seq 19\n" + seg1,
        "cairn-manifest 1\ngeneration 7\n" + seg1 + "next-seq 18\n", head + seg2 + seg1,
        head + seg1 + seg1}) {
    auto m = DecodeManifest(Sealed(body), "MANIFEST");
    EXPECT_EQ(m.status().code(), StatusCode::kCorruption) << body;
    EXPECT_NE(m.status().message().find("MANIFEST"), std::string::npos);
  }
}

TEST(ManifestTest, SegmentNamesStayInTheFolder) {
  const std::string head = "cairn-manifest 1\ngeneration 1\nnext-seq 9\n";
  for (const char* name : {"..", "../x.seg", ".seg", "..seg", "a/b.seg", "x.seg.tmp", "MANIFEST"}) {
    auto m = DecodeManifest(
        Sealed(head + fmt::format("segment 1 {} 19700 1 5 5 100 00000001\n", name)), "MANIFEST");
    EXPECT_EQ(m.status().code(), StatusCode::kCorruption) << name;
  }
}

}  // namespace
}  // namespace cairn::store
