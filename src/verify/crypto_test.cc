#include "verify/crypto.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/fs.h"
#include "common/testing.h"
#include "verify/test_util.h"

namespace cairn::verify {
namespace {

TEST(CryptoTest, HexRoundTripAndRejects) {
  EXPECT_EQ(HexEncode(std::string("\x00\xff\x10", 3)), "00ff10");
  EXPECT_EQ(HexDecode("00FF10"), std::string("\x00\xff\x10", 3));
  EXPECT_FALSE(HexDecode("abc").has_value());
  EXPECT_FALSE(HexDecode("zz").has_value());
}

TEST(CryptoTest, Base64) {
  EXPECT_EQ(Base64Encode("abcd"), "YWJjZA==");
  EXPECT_EQ(Base64Decode("YWJjZA=="), std::optional<std::string>("abcd"));
  EXPECT_EQ(Base64Decode("YWJj"), std::optional<std::string>("abc"));
  EXPECT_FALSE(Base64Decode("YWJ").has_value());
  EXPECT_FALSE(Base64Decode("YW!j").has_value());
}

TEST(CryptoTest, KnownDigests) {
  EXPECT_EQ(Sha256Hex("abc"), "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_EQ(Md5Hex("abc"), "900150983cd24fb0d6963f7d28e17f72");
  Sha256 s;
  s.Update("a");
  s.Update("bc");
  EXPECT_EQ(s.FinishHex(), Sha256Hex("abc"));
}

// The three public keys the CloudTrail User Guide publishes: two PKCS#1, one SubjectPublicKeyInfo;
// each fingerprint is the MD5 of the DER.
TEST(CryptoTest, PublishedPublicKeysAndFingerprints) {
  CAIRN_REQUIRE_SHARED_DATA();
  const std::string path = cairn::testing::SharedDataDir() + "/digest/digest_vectors.json";
  auto text = ReadFileToString(FileSystem::Default(), path);
  ASSERT_TRUE(text.ok()) << text.status().ToString();
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(*text).get(doc), simdjson::SUCCESS);
  simdjson::dom::array keys;
  ASSERT_EQ(doc["public_keys"].get_array().get(keys), simdjson::SUCCESS);
  int pkcs1 = 0, spki = 0;
  for (auto k : keys) {
    std::string_view fingerprint, value, format;
    ASSERT_EQ(k["Fingerprint"].get_string().get(fingerprint), simdjson::SUCCESS);
    ASSERT_EQ(k["Value"].get_string().get(value), simdjson::SUCCESS);
    ASSERT_EQ(k["der_format"].get_string().get(format), simdjson::SUCCESS);
    std::string der = testing::Base64Decode(value);
    ASSERT_FALSE(der.empty());
    auto parsed = ParsePublicKeyDer(der, fingerprint);
    ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
    EXPECT_EQ(parsed->fingerprint, fingerprint);
    if (format.starts_with("PKCS#1")) {
      EXPECT_EQ(parsed->format, "PKCS#1");
      ++pkcs1;
    } else {
      EXPECT_EQ(parsed->format, "SubjectPublicKeyInfo");
      ++spki;
    }
  }
  EXPECT_EQ(pkcs1, 2);
  EXPECT_EQ(spki, 1);
}

class SignatureTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto k = GenerateRsaKey(2048);
    ASSERT_TRUE(k.ok());
    key_ = new PrivateKey(*k);
  }
  static void TearDownTestSuite() { delete key_; }
  static PrivateKey* key_;
};
PrivateKey* SignatureTest::key_ = nullptr;

TEST_F(SignatureTest, BothDerFormsVerify) {
  auto sig = SignSha256WithRsa(*key_, "message");
  ASSERT_TRUE(sig.ok());
  auto pkcs1 = ParsePublicKeyDer(key_->PublicDerPkcs1(), "pkcs1");
  auto spki = ParsePublicKeyDer(key_->PublicDerSpki(), "spki");
  ASSERT_TRUE(pkcs1.ok()) << pkcs1.status().ToString();
  ASSERT_TRUE(spki.ok()) << spki.status().ToString();
  EXPECT_EQ(pkcs1->format, "PKCS#1");
  EXPECT_EQ(spki->format, "SubjectPublicKeyInfo");
  EXPECT_NE(pkcs1->fingerprint, spki->fingerprint);  // MD5 of different bytes
  EXPECT_EQ(pkcs1->fingerprint, Md5Hex(key_->PublicDerPkcs1()));
  EXPECT_TRUE(VerifySha256WithRsa(*pkcs1, "message", *sig));
  EXPECT_TRUE(VerifySha256WithRsa(*spki, "message", *sig));
}

TEST_F(SignatureTest, TamperedMessageSignatureOrKeyFails) {
  auto sig = SignSha256WithRsa(*key_, "message");
  ASSERT_TRUE(sig.ok());
  auto pub = ParsePublicKeyDer(key_->PublicDerPkcs1(), "k");
  ASSERT_TRUE(pub.ok());
  EXPECT_FALSE(VerifySha256WithRsa(*pub, "messagE", *sig));
  std::string bad = *sig;
  bad[bad.size() / 2] ^= 1;
  EXPECT_FALSE(VerifySha256WithRsa(*pub, "message", bad));
  EXPECT_FALSE(VerifySha256WithRsa(*pub, "message", sig->substr(1)));
  auto other = GenerateRsaKey(1024);
  ASSERT_TRUE(other.ok());
  auto other_pub = ParsePublicKeyDer(other->PublicDerPkcs1(), "other");
  ASSERT_TRUE(other_pub.ok());
  EXPECT_FALSE(VerifySha256WithRsa(*other_pub, "message", *sig));
}

TEST_F(SignatureTest, PemRoundTrip) {
  auto back = ParsePrivateKeyPem(key_->PrivatePem(), "pem");
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->PublicDerPkcs1(), key_->PublicDerPkcs1());
  EXPECT_FALSE(ParsePrivateKeyPem("not a key", "x").ok());
}

TEST_F(SignatureTest, BadDerIsRejected) {
  EXPECT_FALSE(ParsePublicKeyDer("garbage", "g").ok());
  auto trailing = ParsePublicKeyDer(key_->PublicDerPkcs1() + "x", "t");
  ASSERT_FALSE(trailing.ok());
  EXPECT_NE(trailing.status().message().find("after the DER"), std::string::npos)
      << trailing.status().message();
}

}  // namespace
}  // namespace cairn::verify
