#include "verify/digest.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/fs.h"
#include "common/testing.h"
#include "verify/crypto.h"
#include "verify/test_util.h"

namespace cairn::verify {
namespace {

std::string SharedDigestFile(const std::string& name) {
  auto text =
      ReadFileToString(FileSystem::Default(), cairn::testing::SharedDataDir() + "/digest/" + name);
  EXPECT_TRUE(text.ok()) << text.status().ToString();
  return text.ok() ? *text : std::string();
}

TEST(StringToSignTest, NoPreviousSignatureIsTheLiteralNull) {
  EXPECT_EQ(StringToSign("a", "b", "c", "abc", std::nullopt),
            "a\nb/c\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\nnull");
  EXPECT_EQ(StringToSign("a", "b", "c", "abc", std::string("ff00")),
            "a\nb/c\nba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad\nff00");
}

TEST(StringToSignTest, PublishedVector) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::string text = SharedDigestFile("digest_vectors.json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(text).get(doc), simdjson::SUCCESS);
  simdjson::dom::array vectors;
  ASSERT_EQ(doc["string_to_sign_vectors"].get_array().get(vectors), simdjson::SUCCESS);
  int n = 0;
  for (auto v : vectors) {
    std::string_view end, bucket, object, body, expected;
    ASSERT_EQ(v["digestEndTime"].get_string().get(end), simdjson::SUCCESS);
    ASSERT_EQ(v["digestS3Bucket"].get_string().get(bucket), simdjson::SUCCESS);
    ASSERT_EQ(v["digestS3Object"].get_string().get(object), simdjson::SUCCESS);
    ASSERT_EQ(v["inflated_digest_bytes"].get_string().get(body), simdjson::SUCCESS);
    ASSERT_EQ(v["expected_string_to_sign"].get_string().get(expected), simdjson::SUCCESS);
    std::optional<std::string> previous;
    std::string_view prev;
    if (v["previousDigestSignature"].get_string().get(prev) == simdjson::SUCCESS) {
      previous = std::string(prev);
    }
    EXPECT_EQ(StringToSign(end, bucket, object, body, previous), expected);
    ++n;
  }
  EXPECT_GE(n, 1);
}

TEST(ParseDigestTest, DocumentedSamples) {
  CAIRN_REQUIRE_SHARED_DATA();
  auto d = ParseDigest(
      SharedDigestFile("cloudtrail-log-file-validation-digest-file-structure__2__digest.json"),
      "sample2");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_EQ(d->aws_account_id, "111122223333");
  EXPECT_EQ(d->digest_end_time, "2015-08-17T15:01:31Z");
  EXPECT_EQ(d->digest_public_key_fingerprint, "31e8b5433410dfb61a9dc45cc65b22ff");
  ASSERT_TRUE(d->previous_digest_s3_object.has_value());
  EXPECT_EQ(d->previous_digest_hash_value,
            std::optional<std::string>(
                "97fb791cf91ffc440d274f8190dbdd9aa09c34432aba82739df18b6d3c13df2d"));
  ASSERT_EQ(d->log_files.size(), 1u);
  EXPECT_EQ(d->log_files[0].hash_value,
            "9bb6196fc6b84d6f075a56548feca262bd99ba3c2de41b618e5b6e22c1fc71f6");

  auto empty = ParseDigest(
      SharedDigestFile("cloudtrail-log-file-validation-digest-file-structure__3__digest.json"),
      "sample3");
  ASSERT_TRUE(empty.ok()) << empty.status().ToString();
  EXPECT_TRUE(empty->log_files.empty());
}

constexpr std::string_view kMinimal =
    R"({"awsAccountId":"111122223333","digestStartTime":"2026-11-01T00:00:00Z",)"
    R"("digestEndTime":"2026-11-01T01:00:00Z","digestS3Bucket":"b","digestS3Object":"k",)"
    R"("digestPublicKeyFingerprint":"f","digestSignatureAlgorithm":"SHA256withRSA",)"
    R"("previousDigestS3Bucket":null,"previousDigestS3Object":null,"previousDigestHashValue":null,)"
    R"("previousDigestHashAlgorithm":null,"previousDigestSignature":null,)"
    R"("logFiles":[{"s3Bucket":"b","s3Object":"o","hashValue":"aa","hashAlgorithm":"SHA-256"}]})";

std::string Without(std::string_view json, std::string_view key_and_value) {
  std::string s(json);
  size_t at = s.find(key_and_value);
  EXPECT_NE(at, std::string::npos) << key_and_value;
  if (at != std::string::npos) s.erase(at, key_and_value.size());
  return s;
}

TEST(ParseDigestTest, MinimalChainStart) {
  auto d = ParseDigest(kMinimal, "min");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  EXPECT_FALSE(d->previous_digest_s3_object.has_value());
  EXPECT_FALSE(d->previous_digest_signature.has_value());
  EXPECT_EQ(d->digest_end_ms - d->digest_start_ms, 3600000);
}

TEST(ParseDigestTest, MissingKeysAreNamedWithTheFile) {
  auto d =
      ParseDigest(Without(kMinimal, R"("digestEndTime":"2026-11-01T01:00:00Z",)"), "f.json.gz");
  ASSERT_FALSE(d.ok());
  EXPECT_NE(d.status().message().find("f.json.gz"), std::string::npos) << d.status().message();
  EXPECT_NE(d.status().message().find("\"digestEndTime\" is missing"), std::string::npos)
      << d.status().message();

  auto lf = ParseDigest(Without(kMinimal, R"("hashValue":"aa",)"), "g");
  ASSERT_FALSE(lf.ok());
  EXPECT_NE(lf.status().message().find("logFiles[0].hashValue"), std::string::npos)
      << lf.status().message();

  auto no_logs = ParseDigest(
      Without(
          kMinimal,
          R"(,"logFiles":[{"s3Bucket":"b","s3Object":"o","hashValue":"aa","hashAlgorithm":"SHA-256"}])"),
      "h");
  ASSERT_FALSE(no_logs.ok());
  EXPECT_NE(no_logs.status().message().find("logFiles"), std::string::npos);
}

TEST(ParseDigestTest, WrongTypesAndValues) {
  std::string s(kMinimal);
  s.replace(s.find(R"("111122223333")"), 14, "111122223333");
  auto num = ParseDigest(s, "n");
  ASSERT_FALSE(num.ok());
  EXPECT_NE(num.status().message().find("awsAccountId\" is not a string"), std::string::npos)
      << num.status().message();
  std::string alg(kMinimal);
  alg.replace(alg.find("SHA256withRSA"), 13, "SHA1withRSA");
  EXPECT_FALSE(ParseDigest(alg, "a").ok());
  EXPECT_FALSE(ParseDigest("[]", "arr").ok());
  EXPECT_FALSE(ParseDigest("{", "trunc").ok());
  // A half-given link to the previous digest cannot be checked.
  std::string half(kMinimal);
  half.replace(half.find(R"("previousDigestS3Object":null)"), 29,
               R"("previousDigestS3Object":"x")");
  auto h = ParseDigest(half, "half");
  ASSERT_FALSE(h.ok());
  EXPECT_NE(h.status().message().find("previousDigestHashValue"), std::string::npos);
}

TEST(GunzipOneMemberTest, ExactlyOneMember) {
  const std::string gz = testing::Gzip("hello digest");
  auto ok = GunzipOneMember(gz, "d");
  ASSERT_TRUE(ok.ok()) << ok.status().ToString();
  EXPECT_EQ(*ok, "hello digest");

  auto trailing = GunzipOneMember(gz + "x", "d");
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.status().message().find("1 bytes after the gzip member"), std::string::npos)
      << trailing.status().message();
  EXPECT_FALSE(GunzipOneMember(gz + gz, "two").ok());
  EXPECT_FALSE(GunzipOneMember(gz.substr(0, gz.size() - 3), "trunc").ok());
  EXPECT_FALSE(GunzipOneMember("{\"plain\":1}", "plain").ok());
  std::string corrupt = gz;
  corrupt[corrupt.size() - 6] ^= 0x40;  // inside the CRC-32
  EXPECT_FALSE(GunzipOneMember(corrupt, "crc").ok());
  EXPECT_EQ(GunzipOneMember(testing::Gzip(std::string(1000, 'a')), "cap", 100).status().code(),
            StatusCode::kResourceExhausted);
}

}  // namespace
}  // namespace cairn::verify
