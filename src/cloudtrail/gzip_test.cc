#include "cloudtrail/gzip.h"

#include <gtest/gtest.h>

#include <random>

#include "cloudtrail/memory_file.h"
#include "cloudtrail/test_util.h"

namespace cairn::cloudtrail {
namespace {

using testing::Gzip;

// Text that compresses like JSON does: repetitive with some noise.
std::string SampleText(size_t n, uint32_t seed) {
  std::mt19937 rng(seed);
  std::string s;
  s.reserve(n);
  while (s.size() < n) {
    s += "{\"eventName\":\"GetObject\",\"n\":";
    s += std::to_string(rng() % 100000);
    s += "},\n";
  }
  s.resize(n);
  return s;
}

// Decodes `compressed` reading the source `max_read` bytes at a time into
// `chunk`-byte reads.
Result<std::string> Gunzip(const std::string& compressed, uint64_t cap = UINT64_MAX,
                           size_t max_read = SIZE_MAX, size_t chunk = 64 << 10) {
  auto file =
      NewGunzipFile(std::make_unique<StringSequentialFile>(compressed, max_read), "test.gz", cap);
  std::string out;
  std::string buf(chunk, '\0');
  for (;;) {
    ASSIGN_OR_RETURN(size_t got, file->Read(buf.data(), buf.size()));
    if (got == 0) break;
    out.append(buf.data(), got);
  }
  return out;
}

TEST(GunzipTest, RoundTripsWhateverTheReadSizes) {
  std::string text = SampleText(1 << 20, 1);
  std::string gz = Gzip(text);
  for (size_t max_read : {size_t{1}, size_t{7}, size_t{4096}, SIZE_MAX}) {
    for (size_t chunk : {size_t{1}, size_t{1000}, size_t{1} << 20}) {
      if (max_read == 1 && chunk == 1) continue;  // slow and adds nothing
      auto out = Gunzip(gz, UINT64_MAX, max_read, chunk);
      ASSERT_TRUE(out.ok()) << out.status().ToString();
      EXPECT_EQ(*out, text) << "max_read " << max_read << " chunk " << chunk;
    }
  }
}

TEST(GunzipTest, ReadsEveryMemberOfAMultiMemberStream) {
  std::string a = SampleText(300000, 2), b = SampleText(5, 3), c = SampleText(70000, 4);
  std::string gz = Gzip(a) + Gzip("") + Gzip(b) + Gzip(c, 1);
  for (size_t max_read : {size_t{1}, size_t{3}, SIZE_MAX}) {
    auto out = Gunzip(gz, UINT64_MAX, max_read);
    ASSERT_TRUE(out.ok()) << out.status().ToString();
    EXPECT_EQ(*out, a + b + c);
  }
}

TEST(GunzipTest, TruncatedStreamNamesTheCompressedOffset) {
  std::string gz = Gzip(SampleText(200000, 5));
  for (size_t cut : {gz.size() - 1, gz.size() - 8, gz.size() / 2, size_t{11}}) {
    auto out = Gunzip(gz.substr(0, cut));
    ASSERT_FALSE(out.ok()) << "cut at " << cut;
    EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
    const std::string& msg = out.status().message();
    EXPECT_NE(msg.find("test.gz"), std::string::npos) << msg;
    EXPECT_NE(msg.find("truncated"), std::string::npos) << msg;
    EXPECT_NE(msg.find("compressed byte " + std::to_string(cut)), std::string::npos) << msg;
  }
}

TEST(GunzipTest, TruncatedSecondMemberIsAnError) {
  std::string first = Gzip("first"), second = Gzip(SampleText(10000, 6));
  auto out = Gunzip(first + second.substr(0, second.size() - 3));
  ASSERT_FALSE(out.ok());
  EXPECT_NE(out.status().message().find("member 2"), std::string::npos) << out.status().message();
  EXPECT_NE(
      out.status().message().find("starts at compressed byte " + std::to_string(first.size())),
      std::string::npos)
      << out.status().message();
}

TEST(GunzipTest, BadCrcIsAnError) {
  std::string gz = Gzip(SampleText(5000, 7));
  gz[gz.size() - 6] ^= 0x55;  // inside the CRC-32 of the trailer
  auto out = Gunzip(gz);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("CRC"), std::string::npos) << out.status().message();
}

TEST(GunzipTest, CorruptDeflateDataIsAnError) {
  std::string gz = Gzip(SampleText(50000, 8));
  for (size_t i = 20; i < 60; ++i) gz[i] = static_cast<char>(0xff);
  auto out = Gunzip(gz);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(out.status().message().find("compressed byte"), std::string::npos);
}

TEST(GunzipTest, TrailingGarbageNamesItsOffset) {
  std::string gz = Gzip("payload");
  for (std::string tail :
       {std::string("x"), std::string("garbage"), std::string("\x1f", 1), std::string(8, '\0')}) {
    auto out = Gunzip(gz + tail);
    ASSERT_FALSE(out.ok()) << tail.size();
    EXPECT_NE(out.status().message().find("trailing garbage"), std::string::npos);
    EXPECT_NE(out.status().message().find("compressed byte " + std::to_string(gz.size())),
              std::string::npos)
        << out.status().message();
  }
}

TEST(GunzipTest, NotGzipAndEmptyInputAreErrors) {
  EXPECT_EQ(Gunzip("{\"Records\":[]}").status().code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(Gunzip("").status().code(), StatusCode::kInvalidArgument);
}

TEST(GunzipTest, CapStopsAGzipBomb) {
  std::string zeros(32 << 20, '\0');
  std::string bomb = Gzip(zeros, 9);
  ASSERT_LT(bomb.size(),
            64u << 10);  // a high ratio: this is what a bomb looks like
  auto out = Gunzip(bomb, 1 << 20);
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.status().code(), StatusCode::kResourceExhausted);
  EXPECT_NE(out.status().message().find("1048576"), std::string::npos) << out.status().message();
  // Exactly at the cap is fine.
  auto exact = Gunzip(Gzip(std::string(1 << 20, 'a')), 1 << 20);
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(exact->size(), size_t{1} << 20);
}

TEST(GunzipTest, ErrorsAreSticky) {
  std::string gz = Gzip("abc");
  auto file =
      NewGunzipFile(std::make_unique<StringSequentialFile>(gz.substr(0, 5)), "x.gz", UINT64_MAX);
  char buf[16];
  auto first = file->Read(buf, sizeof(buf));
  ASSERT_FALSE(first.ok());
  auto second = file->Read(buf, sizeof(buf));
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(first.status().message(), second.status().message());
}

}  // namespace
}  // namespace cairn::cloudtrail
