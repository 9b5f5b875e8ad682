// `cairn verify s3://bucket` against the fauxqs S3 emulator: a generated bucket with digests
// (signatures in x-amz-meta-signature) verifies, and a deleted log file or a wrong signature is
// reported with exit 1; an organization trail under a prefix verifies; public keys come from
// --public-keys or from a stand-in for CloudTrail ListPublicKeys.

#include <fmt/format.h>
#include <gtest/gtest.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <string>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/s3.h"
#include "aws/test_http_server.h"
#include "cli/cli_util.h"
#include "common/fs.h"
#include "harness/fauxqs.h"
#include "verify/crypto.h"
#include "verify/digest_writer.h"
#include "verify/test_util.h"

namespace cairn::testing {
namespace {

constexpr const char* kBucket = "cairn-generated-trail";

class VerifyS3Test : public FauxqsSuite {
 protected:
  void SetUp() override {
    FauxqsSuite::SetUp();
    tmp_ = MakeTempDir("cairn_verify_s3");
  }
  void TearDown() override {
    if (!HasFailure()) FileSystem::Default()->RemoveAll(tmp_).IgnoreError();
  }

  std::unique_ptr<aws::AwsClient> Client() {
    aws::HttpOptions h;
    h.use_env_proxy = false;
    aws::AwsClientOptions o;
    o.region = "us-east-1";
    o.endpoints.endpoint_url = server_->endpoint();
    o.retry.base_delay_ms = 10;
    return std::make_unique<aws::AwsClient>(aws::NewCurlHttpClient(h),
                                            std::make_shared<aws::StaticCredentialsProvider>(
                                                aws::Credentials{"test", "test", "", 0, "test"}),
                                            o);
  }

  // Uploads every object of the local copy, each digest with its .sig as x-amz-meta-signature.
  void Upload(aws::S3Client* s3, const std::string& root) {
    int objects = 0;
    for (const auto& e : std::filesystem::recursive_directory_iterator(root + "/AWSLogs")) {
      if (!e.is_regular_file() || e.path().extension() == ".sig") continue;
      const std::string path = e.path().string();
      const std::string key = path.substr(root.size() + 1);
      std::map<std::string, std::string> metadata;
      if (std::filesystem::exists(path + ".sig")) {
        std::string sig = ReadWholeFile(path + ".sig");
        while (!sig.empty() && (sig.back() == '\n' || sig.back() == ' ')) sig.pop_back();
        metadata["signature"] = sig;
        metadata["signature-algorithm"] = "SHA256withRSA";
      }
      auto put =
          s3->PutObject(kBucket, key, ReadWholeFile(path), "application/octet-stream", metadata);
      ASSERT_TRUE(put.ok()) << key << ": " << put.status().ToString();
      ++objects;
    }
    EXPECT_GT(objects, 200);
  }

  void SetEnv() {
    ::setenv("AWS_ENDPOINT_URL", server_->endpoint().c_str(), 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    ::setenv("AWS_ACCESS_KEY_ID", "test", 1);
    ::setenv("AWS_SECRET_ACCESS_KEY", "test", 1);
    ::setenv("AWS_REGION", "us-east-1", 1);
  }

  CairnRun Verify(const std::string& extra = "") {
    SetEnv();
    return Cairn(std::string("verify s3://") + kBucket + " --public-keys " + tmp_ + "/keys " +
                 extra);
  }

  // Generates a day of one account and region with digests and uploads it.
  void GenerateAndUpload(aws::S3Client* s3) {
    CairnRun g =
        Cairn("generate --out " + tmp_ + "/b" +
              " --events 3000 --accounts 1 --regions 1 --no-scenarios --threads 1 --digests " +
              tmp_ + "/keys");
    ASSERT_EQ(g.status, 0) << g.out << g.err;
    // The suite shares one emulator: the bucket may exist from an earlier test, whose objects
    // are all overwritten (the generator's output is the same for the same options).
    s3->CreateBucket(kBucket).IgnoreError();
    Upload(s3, tmp_ + "/b");
  }

  std::string tmp_;
};

TEST_F(VerifyS3Test, CleanThenDeletedLogAndBadSignature) {
  CAIRN_REQUIRE_FAUXQS();
  if (server_ == nullptr) return;
  const std::string out = tmp_ + "/b";
  CairnRun g =
      Cairn("generate --out " + out +
            " --events 3000 --accounts 1 --regions 1 --no-scenarios --threads 1 --digests " + tmp_ +
            "/keys");
  ASSERT_EQ(g.status, 0) << g.out << g.err;
  auto client = Client();
  aws::S3Client s3(client.get());
  ASSERT_TRUE(s3.CreateBucket(kBucket).ok());
  Upload(&s3, out);
  if (HasFatalFailure()) return;

  CairnRun clean = Verify();
  EXPECT_EQ(clean.status, 0) << clean.out << clean.err;
  EXPECT_NE(clean.out.find("/25 digest files valid\n"), std::string::npos) << clean.out;
  EXPECT_NE(clean.out.find("288/288 log files valid"), std::string::npos) << clean.out;

  // Delete a log file in S3.
  auto listed = s3.ListObjectsV2({.bucket = kBucket, .prefix = "AWSLogs/"});
  ASSERT_TRUE(listed.ok());
  std::string log_key, digest_key;
  for (const auto& o : listed->objects) {
    if (log_key.empty() && o.key.find("/CloudTrail/") != std::string::npos &&
        o.key.find("T0305Z") != std::string::npos) {
      log_key = o.key;
    }
    if (digest_key.empty() && o.key.find("/CloudTrail-Digest/") != std::string::npos &&
        o.key.find("T050000Z") != std::string::npos) {
      digest_key = o.key;
    }
  }
  ASSERT_FALSE(log_key.empty());
  ASSERT_FALSE(digest_key.empty());
  ASSERT_TRUE(s3.DeleteObject(kBucket, log_key).ok());
  CairnRun deleted = Verify();
  EXPECT_EQ(deleted.status, 1) << deleted.out << deleted.err;
  EXPECT_NE(deleted.out.find(log_key + "\tINVALID (missing)"), std::string::npos) << deleted.out;
  // With a range, only the range's date folders are listed (delimiter listings find the account
  // and region): the same finding.
  CairnRun ranged = Verify("--earliest 2026-11-01T00:00:00Z --latest 2026-11-02T02:00:00Z");
  EXPECT_EQ(ranged.status, 1) << ranged.out << ranged.err;
  EXPECT_NE(ranged.out.find(log_key + "\tINVALID (missing)"), std::string::npos) << ranged.out;
  EXPECT_NE(ranged.out.find("25/25 digest files valid"), std::string::npos) << ranged.out;
  EXPECT_NE(ranged.out.find("287/288 log files valid"), std::string::npos) << ranged.out;

  // Re-upload a digest with another signature in its metadata.
  auto body = s3.GetObjectToString(kBucket, digest_key, 1 << 20);
  ASSERT_TRUE(body.ok());
  ASSERT_TRUE(s3.PutObject(kBucket, digest_key, *body, "application/octet-stream",
                           {{"signature", std::string(512, 'a')}})
                  .ok());
  CairnRun bad = Verify();
  EXPECT_EQ(bad.status, 1) << bad.out << bad.err;
  EXPECT_NE(bad.out.find(digest_key + "\tINVALID (invalid_signature)"), std::string::npos)
      << bad.out;
}

// An organization trail under a bucket prefix, through S3: the prefix's listing finds the
// organization's accounts, every digest verifies, and a log file changed in S3 is reported.
TEST_F(VerifyS3Test, OrganizationTrailUnderAPrefix) {
  CAIRN_REQUIRE_FAUXQS();
  if (server_ == nullptr) return;
  const std::string root = tmp_ + "/org";
  const std::string prefix = "team/trails/";
  const std::vector<std::string> accounts = {"111122223333", "444455556666"};
  for (const std::string& account : accounts) {
    for (int h = 0; h < 3; ++h) {
      const std::string key = fmt::format(
          "{}AWSLogs/o-abc123def4/{}/CloudTrail/us-east-1/2023/07/10/"
          "{}_CloudTrail_us-east-1_20230710T{:02}05Z_f{}.json.gz",
          prefix, account, account, 12 + h, h);
      verify::testing::WriteObject(root, key,
                                   verify::testing::Gzip(fmt::format(
                                       "{{\"Records\":[{{\"eventID\":\"{}-{}\"}}]}}", account, h)));
    }
  }
  auto signer = verify::LoadOrCreateSigner(FileSystem::Default(), tmp_ + "/keys");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  auto written =
      verify::WriteDigestsForFolder(FileSystem::Default(), root, kBucket, "org-trail", *signer);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->digests, 6u);
  ASSERT_NE(written->digest_keys[0].find(prefix + "AWSLogs/o-abc123def4/"), std::string::npos);

  auto client = Client();
  aws::S3Client s3(client.get());
  s3.CreateBucket(kBucket).IgnoreError();
  // The suite's earlier tests may have left AWSLogs/ at the bucket's root: the prefix keeps
  // them out of this run.
  int objects = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() == ".sig") continue;
    const std::string path = e.path().string();
    std::map<std::string, std::string> metadata;
    if (std::filesystem::exists(path + ".sig")) {
      std::string sig = ReadWholeFile(path + ".sig");
      while (!sig.empty() && (sig.back() == '\n' || sig.back() == ' ')) sig.pop_back();
      metadata["signature"] = sig;
    }
    auto put = s3.PutObject(kBucket, path.substr(root.size() + 1), ReadWholeFile(path),
                            "application/octet-stream", metadata);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    ++objects;
  }
  ASSERT_EQ(objects, 12);

  SetEnv();
  const std::string url = std::string("s3://") + kBucket + "/team/trails";
  CairnRun clean = Cairn("verify " + url + " --public-keys " + tmp_ + "/keys --json");
  EXPECT_EQ(clean.status, 0) << clean.out << clean.err;
  EXPECT_NE(clean.out.find("444455556666"), std::string::npos) << clean.out;

  const std::string changed = prefix +
                              "AWSLogs/o-abc123def4/444455556666/CloudTrail/us-east-1/2023/07/10/"
                              "444455556666_CloudTrail_us-east-1_20230710T1305Z_f1.json.gz";
  ASSERT_TRUE(s3.PutObject(kBucket, changed, verify::testing::Gzip("{\"Records\":[]}")).ok());
  CairnRun modified = Cairn("verify " + url + " --public-keys " + tmp_ + "/keys");
  EXPECT_EQ(modified.status, 1) << modified.out << modified.err;
  EXPECT_NE(modified.out.find(changed + "\tINVALID (modified)"), std::string::npos) << modified.out;
  EXPECT_NE(modified.out.find("5/6 log files valid"), std::string::npos) << modified.out;
}

// Without --public-keys, the keys come from a stand-in for CloudTrail ListPublicKeys, once: the
// second run finds them in the data folder's key cache.
TEST_F(VerifyS3Test, PublicKeysFromListPublicKeysAreCached) {
  CAIRN_REQUIRE_FAUXQS();
  if (server_ == nullptr) return;
  auto client = Client();
  aws::S3Client s3(client.get());
  GenerateAndUpload(&s3);
  if (HasFatalFailure()) return;
  std::string der_name;
  for (const auto& e : std::filesystem::directory_iterator(tmp_ + "/keys")) {
    if (e.path().extension() == ".der") der_name = e.path().filename().string();
  }
  ASSERT_FALSE(der_name.empty());
  const std::string fingerprint = der_name.substr(0, der_name.size() - 4);
  const std::string der = ReadWholeFile(tmp_ + "/keys/" + der_name);
  aws::testing::TestHttpServer cloudtrail([&](const aws::testing::TestRequest& r) {
    aws::testing::TestResponse resp;
    if (r.Header("x-amz-target") !=
        "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.ListPublicKeys") {
      resp.status = 400;
      resp.body = R"({"__type":"InvalidAction","message":"unexpected"})";
      return resp;
    }
    resp.headers.emplace_back("Content-Type", "application/x-amz-json-1.1");
    resp.body = R"({"PublicKeyList":[{"Value":")" + verify::Base64Encode(der) +
                R"(","ValidityStartTime":1.7E9,"ValidityEndTime":1.9E9,"Fingerprint":")" +
                fingerprint + R"("}]})";
    return resp;
  });
  SetEnv();
  ::setenv("AWS_ENDPOINT_URL_CLOUDTRAIL", cloudtrail.url().c_str(), 1);
  const std::string args = std::string("--data ") + tmp_ + "/data verify s3://" + kBucket;
  CairnRun first = Cairn(args);
  EXPECT_EQ(first.status, 0) << first.out << first.err;
  EXPECT_EQ(cloudtrail.requests().size(), 1u);
  EXPECT_TRUE(std::filesystem::exists(tmp_ + "/data/verify/public-keys/" + der_name));
  CairnRun second = Cairn(args);
  EXPECT_EQ(second.status, 0) << second.out << second.err;
  EXPECT_EQ(cloudtrail.requests().size(), 1u);  // from the cache
  CairnRun offline = Cairn(std::string("--data ") + tmp_ + "/empty-data verify s3://" + kBucket +
                           " --no-list-public-keys");
  EXPECT_EQ(offline.status, 2) << offline.out << offline.err;
  ::unsetenv("AWS_ENDPOINT_URL_CLOUDTRAIL");
}

}  // namespace
}  // namespace cairn::testing
