// `cairn billing backfill --config cairn.toml` against the fauxqs emulator's S3, with the report
// bucket read through an assumed role (role_arn + external_id on top of static keys; STS is a
// loopback stand-in, as fauxqs has no AssumeRole). AWS's rewriting of the month is replayed: the
// period manifest first names assembly 2, then assembly 3; each run leaves exactly the named
// assembly, and a run with nothing new changes nothing.

#include <gtest/gtest.h>

#include <atomic>

#include "aws/client.h"
#include "aws/http.h"
#include "aws/s3.h"
#include "aws/sqs.h"
#include "aws/test_http_server.h"
#include "billing/cur.h"
#include "billing/generator.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/testing.h"
#include "common/time_util.h"
#include "harness/fauxqs.h"
#include "store/store.h"

namespace cairn {
namespace {

using aws::testing::TestHttpServer;
using aws::testing::TestRequest;
using aws::testing::TestResponse;

std::string Param(const std::string& body, const std::string& key) {
  // application/x-www-form-urlencoded: key=value&...; the values here need no decoding beyond %3A
  // and %2F, which the check below does not depend on.
  size_t at = ("&" + body).find("&" + key + "=");
  if (at == std::string::npos) return "";
  size_t start = at + key.size() + 1;
  size_t end = body.find('&', start);
  std::string v = body.substr(start, end == std::string::npos ? std::string::npos : end - start);
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (v[i] == '%' && i + 2 < v.size()) {
      out += static_cast<char>(std::stoi(v.substr(i + 1, 2), nullptr, 16));
      i += 2;
    } else {
      out += v[i];
    }
  }
  return out;
}

class BillingS3Test : public testing::FauxqsSuite {};

TEST_F(BillingS3Test, BackfillThroughAssumedRoleFollowsThePeriodManifest) {
  CAIRN_REQUIRE_FAUXQS();
  if (!server_) return;
  const std::string dir = cairn::testing::MakeTempDir("cairn_billing_s3");
  billing::CurGenOptions g;
  g.out_dir = dir + "/gen";
  g.rows = 3000;
  g.rows_per_file = 1000;
  g.seed = 5;
  auto gen = billing::GenerateCur(g);
  ASSERT_TRUE(gen.ok()) << gen.status().ToString();

  // The payer's bucket on fauxqs, written with the test's own static keys.
  aws::HttpOptions h;
  h.use_env_proxy = false;
  aws::AwsClientOptions o;
  o.region = "us-east-1";
  o.endpoints.endpoint_url = server_->endpoint();
  auto client =
      std::make_shared<aws::AwsClient>(aws::NewCurlHttpClient(h),
                                       std::make_shared<aws::StaticCredentialsProvider>(
                                           aws::Credentials{"test", "test", "", 0, "test"}),
                                       o);
  aws::S3Client s3(client.get());
  const std::string bucket = "payer-cur-reports";
  ASSERT_TRUE(s3.CreateBucket(bucket).ok());
  FileSystem* fs = FileSystem::Default();
  auto put = [&](const std::string& key, const std::string& local_key) {
    auto body = ReadFileToString(fs, g.out_dir + "/" + local_key, 1 << 30);
    ASSERT_TRUE(body.ok());
    ASSERT_TRUE(s3.PutObject(bucket, key, *body).ok()) << key;
  };
  for (const auto& a : gen->assemblies) {
    put(a.manifest_key, a.manifest_key);
    for (const auto& k : a.report_keys) put(k, k);
  }
  // The period manifest names assembly 2 first (AWS had not written the third yet).
  put(gen->period_manifest_key, gen->assemblies[1].manifest_key);

  // STS stand-in: records AssumeRole calls and hands out role credentials.
  std::atomic<int> assumed{0};
  std::string role_seen, external_seen;
  std::mutex mu;
  TestHttpServer sts([&](const TestRequest& req) {
    TestResponse r;
    if (Param(req.body, "Action") != "AssumeRole") {
      r.status = 400;
      r.body = "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>";
      return r;
    }
    {
      std::lock_guard<std::mutex> lock(mu);
      role_seen = Param(req.body, "RoleArn");
      external_seen = Param(req.body, "ExternalId");
    }
    ++assumed;
    r.body =
        "<AssumeRoleResponse><AssumeRoleResult><Credentials><AccessKeyId>ASIAPAYERROLE000"
        "</AccessKeyId><SecretAccessKey>rolesecret</SecretAccessKey><SessionToken>roletoken"
        "</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials>"
        "</AssumeRoleResult></AssumeRoleResponse>";
    return r;
  });

  const std::string toml = dir + "/cairn.toml";
  ASSERT_TRUE(WriteFileAtomic(fs, toml,
                              fmt::format(R"([aws]
region = "us-east-1"
endpoint_url = "{}"
endpoint_url_sts = "{}"
key_id = "AKIDMEMBERACCOUNT0"
secret_key = "membersecret"

[billing]
bucket = "{}"
prefix = "cur"
report = "cairn-cur"
role_arn = "arn:aws:iam::111111111111:role/cairn-billing-read"
external_id = "cairn-ext-42"
)",
                                          server_->endpoint(), sts.url(), bucket))
                  .ok());
  const std::string data = dir + "/data";
  const std::string cmd =
      fmt::format("{} --data {} billing backfill --config {}", CAIRN_BINARY, data, toml);
  auto live = [&]() {
    store::StoreOptions so;
    so.data_dir = data;
    so.read_only = true;
    so.background_merge = false;
    auto s = store::Store::Open(so);
    EXPECT_TRUE(s.ok());
    auto groups = (*s)->Groups(std::string(billing::kIndex));
    auto info = (*s)->Info(std::string(billing::kIndex));
    EXPECT_EQ(groups.size(), 1u);
    return std::make_tuple(groups.empty() ? std::string() : groups.begin()->second.live_version,
                           info.ok() ? info->events : 0, info.ok() ? info->generation : 0);
  };

  auto r1 = cairn::testing::RunCommand(cmd);
  ASSERT_EQ(r1.status, 0) << r1.output;
  EXPECT_GT(assumed.load(), 0) << "the report bucket must be read through the assumed role";
  {
    std::lock_guard<std::mutex> lock(mu);
    EXPECT_EQ(role_seen, "arn:aws:iam::111111111111:role/cairn-billing-read");
    EXPECT_EQ(external_seen, "cairn-ext-42");
  }
  auto [v1, n1, gen1] = live();
  EXPECT_EQ(v1, gen->assemblies[1].assembly_id);
  EXPECT_EQ(n1, gen->assemblies[1].rows);

  // Nothing new: a no-op.
  auto r2 = cairn::testing::RunCommand(cmd);
  ASSERT_EQ(r2.status, 0) << r2.output;
  EXPECT_NE(r2.output.find("already loaded"), std::string::npos) << r2.output;
  auto [v2, n2, gen2] = live();
  EXPECT_EQ(v2, v1);
  EXPECT_EQ(n2, n1);
  EXPECT_EQ(gen2, gen1);

  // AWS writes assembly 3 and points the period manifest at it.
  put(gen->period_manifest_key, gen->assemblies[2].manifest_key);
  auto r3 = cairn::testing::RunCommand(cmd);
  ASSERT_EQ(r3.status, 0) << r3.output;
  auto [v3, n3, gen3] = live();
  EXPECT_EQ(v3, gen->assemblies[2].assembly_id);
  EXPECT_EQ(n3, gen->assemblies[2].rows);
  EXPECT_NE(n3, n1);

  // A search over the loaded month sums to the generated total of assembly 3.
  auto s = cairn::testing::RunCommand(
      fmt::format("{} --log-level warn --data {} search --format json 'index=aws-billing | stats "
                  "sum(lineItem/UnblendedCost) as cost count'",
                  CAIRN_BINARY, data));
  ASSERT_EQ(s.status, 0) << s.output;
  const size_t at = s.output.find("\"cost\":\"");
  ASSERT_NE(at, std::string::npos) << s.output;
  const double cost = std::stod(s.output.substr(at + 8));
  EXPECT_NEAR(cost, gen->assemblies[2].unblended_total, 1e-6 * gen->assemblies[2].unblended_total);
  fs->RemoveAll(dir).IgnoreError();
}

// `cairn collect` with a [billing] section loads the billing reports beside its CloudTrail input
// (one writer per data folder: the collector's store is shared), at start and every interval.
TEST_F(BillingS3Test, CollectLoadsBillingBesideItsInputs) {
  CAIRN_REQUIRE_FAUXQS();
  if (!server_) return;
  const std::string dir = cairn::testing::MakeTempDir("cairn_billing_collect");
  billing::CurGenOptions g;
  g.out_dir = dir + "/gen";
  g.rows = 1200;
  g.assemblies = 2;
  g.seed = 9;
  // collect loads the current and the previous month: generate the previous month.
  int64_t y;
  unsigned m, d;
  CivilFromDays(Clock::System()->NowMicros() / 86'400'000'000, &y, &m, &d);
  g.year = static_cast<int>(m == 1 ? y - 1 : y);
  g.month = static_cast<int>(m == 1 ? 12 : m - 1);
  auto gen = billing::GenerateCur(g);
  ASSERT_TRUE(gen.ok()) << gen.status().ToString();
  aws::HttpOptions h;
  h.use_env_proxy = false;
  aws::AwsClientOptions o;
  o.region = "us-east-1";
  o.endpoints.endpoint_url = server_->endpoint();
  auto client =
      std::make_shared<aws::AwsClient>(aws::NewCurlHttpClient(h),
                                       std::make_shared<aws::StaticCredentialsProvider>(
                                           aws::Credentials{"test", "test", "", 0, "test"}),
                                       o);
  aws::S3Client s3(client.get());
  aws::SqsClient sqs(client.get());
  const std::string bucket = "collect-cur-reports";
  ASSERT_TRUE(s3.CreateBucket(bucket).ok());
  FileSystem* fs = FileSystem::Default();
  for (const auto& a : gen->assemblies) {
    for (const auto& k : a.report_keys) {
      ASSERT_TRUE(
          s3.PutObject(bucket, k, *ReadFileToString(fs, g.out_dir + "/" + k, 1 << 30)).ok());
    }
  }
  ASSERT_TRUE(s3.PutObject(bucket, gen->period_manifest_key,
                           *ReadFileToString(fs, g.out_dir + "/" + gen->period_manifest_key))
                  .ok());
  auto queue = sqs.CreateQueue("billing-beside-trail", {});
  ASSERT_TRUE(queue.ok()) << queue.status().ToString();
  const std::string toml = dir + "/cairn.toml";
  ASSERT_TRUE(WriteFileAtomic(fs, toml,
                              fmt::format(R"([aws]
region = "us-east-1"
endpoint_url = "{}"
key_id = "test"
secret_key = "test"

[collect]
wait_seconds = 1

[[collect.input]]
name = "trail"
sqs_queue = "{}"

[billing]
bucket = "{}"
prefix = "cur"
report = "cairn-cur"
)",
                                          server_->endpoint(), *queue, bucket))
                  .ok());
  const std::string data = dir + "/data";
  auto r = cairn::testing::RunCommand(fmt::format(
      "timeout 60 {} --config {} --data {} collect --until-idle 2", CAIRN_BINARY, toml, data));
  ASSERT_EQ(r.status, 0) << r.output;
  store::StoreOptions so;
  so.data_dir = data;
  so.read_only = true;
  so.background_merge = false;
  auto s = store::Store::Open(so);
  ASSERT_TRUE(s.ok());
  auto groups = (*s)->Groups(std::string(billing::kIndex));
  ASSERT_EQ(groups.size(), 1u) << r.output;
  EXPECT_EQ(groups.begin()->second.live_version, gen->assemblies.back().assembly_id);
  EXPECT_EQ(groups.begin()->second.live_events, gen->assemblies.back().rows);
  fs->RemoveAll(dir).IgnoreError();
}

// Detailed Billing Reports from the bucket ([billing] dbr = true, no CUR report): AWS rewrites the
// month's object in place; each backfill leaves exactly the object's current version, and a run
// with nothing new changes nothing.
TEST_F(BillingS3Test, DbrRewrittenInPlaceReplacesTheMonth) {
  CAIRN_REQUIRE_FAUXQS();
  if (!server_) return;
  const std::string dir = cairn::testing::MakeTempDir("cairn_billing_dbr_s3");
  billing::DbrGenOptions g;
  g.out_dir = dir + "/gen";
  g.rows = 2000;
  g.seed = 4;
  g.prefix = "dbr";
  auto gen = billing::GenerateDbr(g);
  ASSERT_TRUE(gen.ok()) << gen.status().ToString();
  aws::HttpOptions h;
  h.use_env_proxy = false;
  aws::AwsClientOptions o;
  o.region = "us-east-1";
  o.endpoints.endpoint_url = server_->endpoint();
  auto client =
      std::make_shared<aws::AwsClient>(aws::NewCurlHttpClient(h),
                                       std::make_shared<aws::StaticCredentialsProvider>(
                                           aws::Credentials{"test", "test", "", 0, "test"}),
                                       o);
  aws::S3Client s3(client.get());
  const std::string bucket = "payer-dbr-reports";
  ASSERT_TRUE(s3.CreateBucket(bucket).ok());
  FileSystem* fs = FileSystem::Default();
  auto put_version = [&](size_t v) {
    auto body = ReadFileToString(fs, JoinPath(gen->versions[v].bucket_dir, gen->key), 1 << 30);
    ASSERT_TRUE(body.ok());
    ASSERT_TRUE(s3.PutObject(bucket, gen->key, *body).ok());
  };
  // A key that is not a DBR object beside it: ignored.
  ASSERT_TRUE(s3.PutObject(bucket, "dbr/111111111111-aws-billing-csv-2026-11.csv", "x").ok());
  const std::string toml = dir + "/cairn.toml";
  ASSERT_TRUE(WriteFileAtomic(fs, toml,
                              fmt::format(R"([aws]
region = "us-east-1"
endpoint_url = "{}"
key_id = "test"
secret_key = "test"

[billing]
bucket = "{}"
dbr = true
dbr_prefix = "dbr"
)",
                                          server_->endpoint(), bucket))
                  .ok());
  const std::string data = dir + "/data";
  const std::string cmd =
      fmt::format("{} --data {} billing backfill --config {}", CAIRN_BINARY, data, toml);
  auto live = [&]() {
    store::StoreOptions so;
    so.data_dir = data;
    so.read_only = true;
    so.background_merge = false;
    auto st = store::Store::Open(so);
    EXPECT_TRUE(st.ok());
    auto groups = (*st)->Groups(std::string(billing::kIndex));
    auto info = (*st)->Info(std::string(billing::kIndex));
    EXPECT_EQ(groups.size(), 1u);
    EXPECT_TRUE(groups.count("dbr/111111111111/2026-11"));
    return std::make_tuple(groups.empty() ? std::string() : groups.begin()->second.live_version,
                           info.ok() ? info->events : 0, info.ok() ? info->generation : 0);
  };
  put_version(0);
  auto r1 = cairn::testing::RunCommand(cmd);
  ASSERT_EQ(r1.status, 0) << r1.output;
  auto [v1, n1, gen1] = live();
  EXPECT_EQ(n1, gen->versions[0].line_items + 1);
  put_version(2);
  auto r2 = cairn::testing::RunCommand(cmd);
  ASSERT_EQ(r2.status, 0) << r2.output;
  auto [v2, n2, gen2] = live();
  EXPECT_NE(v2, v1);
  EXPECT_EQ(n2, gen->versions[2].line_items + 1);
  auto r3 = cairn::testing::RunCommand(cmd);
  ASSERT_EQ(r3.status, 0) << r3.output;
  EXPECT_NE(r3.output.find("already loaded"), std::string::npos) << r3.output;
  auto [v3, n3, gen3] = live();
  EXPECT_EQ(v3, v2);
  EXPECT_EQ(gen3, gen2);
  auto s = cairn::testing::RunCommand(
      fmt::format("{} --log-level warn --data {} search --format json 'index=aws-billing "
                  "sourcetype=aws:billing:dbr | stats sum(UnBlendedCost) as cost count'",
                  CAIRN_BINARY, data));
  ASSERT_EQ(s.status, 0) << s.output;
  const size_t at = s.output.find("\"cost\":\"");
  ASSERT_NE(at, std::string::npos) << s.output;
  EXPECT_NEAR(std::stod(s.output.substr(at + 8)), gen->versions[2].statement_total,
              1e-6 * gen->versions[2].statement_total);
  fs->RemoveAll(dir).IgnoreError();
}

// `cairn billing load --dbr` over a folder with a damaged object beside a good one: the good one
// loads, the damaged one is named with its problem, and the exit status says something failed.
TEST(BillingCliTest, DbrLoadNamesARefusedObjectAndLoadsTheRest) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_billing_dbr_cli");
  auto gen = cairn::testing::RunCommand(fmt::format(
      "{} generate --billing --dbr --out {}/bucket --rows 500 --assemblies 1", CAIRN_BINARY, dir));
  ASSERT_EQ(gen.status, 0) << gen.output;
  const std::string bad = "222222222222-aws-billing-detailed-line-items-2026-10.csv.zip";
  ASSERT_TRUE(
      WriteFileAtomic(FileSystem::Default(), dir + "/bucket/" + bad, "PK\x03\x04 not a zip").ok());
  auto r = cairn::testing::RunCommand(
      fmt::format("{} --data {}/data billing load {}/bucket --dbr", CAIRN_BINARY, dir, dir));
  EXPECT_EQ(r.status, 1) << r.output;
  EXPECT_NE(r.output.find("NOT LOADED"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find(bad), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("not a readable ZIP archive"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("dbr/111111111111/2026-11 version"), std::string::npos) << r.output;
  auto s = cairn::testing::RunCommand(
      fmt::format("{} --log-level warn --data {}/data search --format json 'index=aws-billing "
                  "sourcetype=aws:billing:dbr RecordType=LineItem | stats count'",
                  CAIRN_BINARY, dir));
  EXPECT_NE(s.output.find("\"count\":\"500\""), std::string::npos) << s.output;
  FileSystem::Default()->RemoveAll(dir).IgnoreError();
}

// Quoting and error paths of the command line: an unset bucket is a usage error.
TEST(BillingCliTest, MissingBucketIsAUsageError) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_billing_cli");
  auto r = cairn::testing::RunCommand(
      fmt::format("{} --data {}/data billing collect --report x", CAIRN_BINARY, dir));
  EXPECT_EQ(r.status, 2) << r.output;
  EXPECT_NE(r.output.find("bucket"), std::string::npos) << r.output;
  FileSystem::Default()->RemoveAll(dir).IgnoreError();
}

// The DuckDB differential check (tests/billing/billing_differential.mjs), on two data sets.
void RunDifferential(const std::string& profile) {
  if (cairn::testing::RunCommand("node --version").status != 0) {
    if (cairn::testing::UnderCi()) FAIL() << "node is required under CI=true";
    GTEST_SKIP() << "node not found";
  }
  auto r = cairn::testing::RunCommand(
      fmt::format("node {}/tests/billing/billing_differential.mjs --cairn {} --profile {}",
                  CAIRN_SOURCE_DIR, CAIRN_BINARY, profile));
  if (r.status == 77) {
    if (cairn::testing::UnderCi()) FAIL() << r.output;
    GTEST_SKIP() << r.output;
  }
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("billing differential cases agree: 7 of 7"), std::string::npos);
}

TEST(BillingDifferential, FewResources) { RunDifferential("few"); }
TEST(BillingDifferential, ManyResourcesAndTags) { RunDifferential("many"); }

// The DuckDB differential check of the Detailed Billing Report
// (tests/billing/billing_dbr_differential.mjs).
TEST(BillingDifferential, DetailedBillingReport) {
  if (cairn::testing::RunCommand("node --version").status != 0) {
    if (cairn::testing::UnderCi()) FAIL() << "node is required under CI=true";
    GTEST_SKIP() << "node not found";
  }
  auto r = cairn::testing::RunCommand(
      fmt::format("node {}/tests/billing/billing_dbr_differential.mjs --cairn {}", CAIRN_SOURCE_DIR,
                  CAIRN_BINARY));
  if (r.status == 77) {
    if (cairn::testing::UnderCi()) FAIL() << r.output;
    GTEST_SKIP() << r.output;
  }
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.status, 0) << r.output;
  EXPECT_NE(r.output.find("dbr differential cases agree: 8 of 8"), std::string::npos);
}

}  // namespace
}  // namespace cairn
