// Continuous verification while collecting, against the fauxqs emulator: a test-side CloudTrail
// delivers log files and signed, chained digests (with their x-amz-meta-signature) into the
// bucket and announces them; one log file was changed after its digest recorded it, one listed
// file never arrives, and one file holds a StopLogging call. After `collect` the alerts index
// holds exactly the integrity alerts those call for, once each, although several passes found
// them; the digests' signatures verify under the key in the data folder's key cache.

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <map>
#include <set>
#include <string>
#include <vector>

#include "collect/collect_fixture.h"
#include "collect/collector.h"
#include "collect/conf.h"
#include "collect/site_conf_testdata.h"
#include "common/fs.h"
#include "common/testing.h"
#include "harness/fauxqs.h"
#include "store/store.h"
#include "verify/crypto.h"
#include "verify/digest_writer.h"

namespace cairn::collect {
namespace {

using cairn::testing::Site;

class IntegrityCollectTest : public cairn::testing::FauxqsSuite {
 protected:
  void SetUp() override {
    FauxqsSuite::SetUp();
    dir_ = cairn::testing::MakeTempDir("cairn_integrity_collect");
  }
  void TearDown() override {
    if (!HasFailure()) (void)FileSystem::Default()->RemoveAll(dir_);
  }
  std::string dir_;
};

std::string LogFile(const std::string& tag, int events, bool stop_logging) {
  std::string j = "{\"Records\":[";
  for (int i = 0; i < events; ++i) {
    const bool stop = stop_logging && i == 0;
    j += (i ? "," : "");
    j += "{\"eventVersion\":\"1.08\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":"
         "\"arn:aws:iam::111122223333:user/mallory\",\"accountId\":\"111122223333\"},"
         "\"eventTime\":\"2023-07-10T12:0" +
         std::to_string(i % 10) + ":00Z\",\"eventSource\":\"" +
         (stop ? "cloudtrail.amazonaws.com" : "ec2.amazonaws.com") + "\",\"eventName\":\"" +
         (stop ? "StopLogging" : "DescribeInstances") +
         "\",\"awsRegion\":\"us-west-2\",\"sourceIPAddress\":\"198.51.100.7\","
         "\"requestParameters\":{\"name\":\"main-trail\"},\"eventID\":\"" +
         tag + "-" + std::to_string(i) + "\",\"recipientAccountId\":\"111122223333\"}";
  }
  return j + "]}";
}

// rule_id -> how many alerts of it the alerts index holds.
std::map<std::string, int> StoredAlertRules(const std::string& data_dir) {
  std::map<std::string, int> out;
  store::StoreOptions o;
  o.data_dir = data_dir;
  o.read_only = true;
  auto st = store::Store::Open(o);
  if (!st.ok()) {
    ADD_FAILURE() << st.status().ToString();
    return out;
  }
  auto snap = (*st)->GetSnapshot("alerts");
  if (!snap.ok()) return out;
  simdjson::dom::parser parser;
  for (const auto& seg : (*snap)->segments()) {
    Status s = seg->ForEachEvent([&](uint32_t, cloudtrail::Event&& e) {
      simdjson::dom::element root;
      std::string_view rule;
      if (parser.parse(e.raw.str()).get(root) == simdjson::SUCCESS &&
          root["rule_id"].get(rule) == simdjson::SUCCESS) {
        ++out[std::string(rule)];
      }
      return Status::Ok();
    });
    if (!s.ok()) ADD_FAILURE() << s.ToString();
  }
  (void)(*st)->Close();
  return out;
}

TEST_F(IntegrityCollectTest, DigestsAreCheckedAgainstWhatWasCollected) {
  CAIRN_REQUIRE_FAUXQS();
  ASSERT_NE(server_, nullptr);
  const std::string bucket = "integrity-logs";
  auto site_r = Site::Create(server_->endpoint(), "integrity-queue", bucket);
  ASSERT_TRUE(site_r.ok()) << site_r.status().ToString();
  Site& site = **site_r;

  auto key = verify::GenerateRsaKey();
  ASSERT_TRUE(key.ok());
  verify::DigestSigner signer = verify::MakeSigner(std::move(key).value());
  // The data folder's key cache holds the public key, as ListPublicKeys would have left it.
  const std::string data = dir_ + "/data";
  ASSERT_TRUE(FileSystem::Default()->CreateDirs(data + "/verify/public-keys").ok());
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(),
                              data + "/verify/public-keys/" + signer.fingerprint + ".der",
                              signer.public_der)
                  .ok());

  // Two hours of log files; each digest lists its hour's files.
  const std::string prefix = "AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/10/";
  const int64_t start = 1688990400000;  // 2023-07-10T12:00:00Z
  std::vector<std::string> delivered;
  std::vector<verify::WrittenDigest> digests;
  std::string modified_key, missing_key;
  for (int h = 0; h < 2; ++h) {
    verify::DigestInput in;
    in.bucket = bucket;
    in.account = "111122223333";
    in.region = "us-west-2";
    in.trail = "main-trail";
    in.home_region = "us-west-2";
    in.start_ms = start + h * 3600000LL;
    in.end_ms = in.start_ms + 3600000LL;
    for (int f = 0; f < 3; ++f) {
      std::string tag = "h" + std::to_string(h) + "f" + std::to_string(f);
      std::string key = prefix + "111122223333_CloudTrail_us-west-2_20230710T1" +
                        std::to_string(2 + h) + "00Z_" + tag + ".json.gz";
      std::string text = LogFile(tag, 5, h == 1 && f == 0);
      verify::DigestLogFile lf;
      lf.s3_bucket = bucket;
      lf.s3_object = key;
      lf.hash_value = verify::Sha256Hex(text);
      lf.hash_algorithm = "SHA-256";
      in.log_files.push_back(lf);
      if (h == 0 && f == 1) {
        modified_key = key;  // changed after CloudTrail delivered it
        text = LogFile(tag, 4, false);
      }
      if (h == 1 && f == 2) {
        missing_key = key;  // deleted before the collector could read it
        continue;
      }
      ASSERT_TRUE(site.Put(key, cairn::testing::Gzip(text)).ok());
      delivered.push_back(key);
    }
    auto d = verify::MakeDigest(in, digests.empty() ? nullptr : &digests.back(), signer);
    ASSERT_TRUE(d.ok()) << d.status().ToString();
    auto put = site.s3().PutObject(bucket, d->key, d->gz, "application/x-gzip",
                                   {{"signature", d->signature_hex}});
    ASSERT_TRUE(put.ok()) << put.status().ToString();
    delivered.push_back(d->key);
    digests.push_back(std::move(d).value());
  }
  ASSERT_TRUE(site.AnnounceRaw(delivered).ok());

  std::string conf = dir_ + "/inputs.conf";
  std::string text = kSiteConf;
  text.replace(text.find("sqs_queue = its-aws-idg-cloudtrail"),
               std::string("sqs_queue = its-aws-idg-cloudtrail").size(),
               "sqs_queue = integrity-queue");
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), conf, text).ok());
  ::setenv("AWS_ENDPOINT_URL", server_->endpoint().c_str(), 1);
  ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
  Config global;
  auto cfg = LoadCollectConfig(conf, global);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  cfg->settings.wait_seconds = 1;
  cfg->settings.status_interval_ms = 0;
  cfg->settings.integrity_interval_ms = 300;  // several passes find the same problems
  cfg->settings.integrity_lookback_ms = 20 * 365 * 24 * 3600'000LL;  // the digests are from 2023

  CollectorOptions options;
  options.data_dir = data;
  options.config = *cfg;
  options.until_idle = 3;
  Collector collector(std::move(options));
  auto sum = collector.Run();
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  Metrics* m = collector.metrics();
  EXPECT_EQ(m->files_digest.load(), 2u);
  EXPECT_GE(m->integrity_passes.load(), 2u);
  EXPECT_EQ(m->integrity_files_matched.load(), 4u) << "six listed, one modified, one missing";
  EXPECT_EQ(m->trail_change_alerts.load(), 1u);

  // Once each: the modified file, the missing file, the StopLogging call, and the trail's
  // digests having stopped (their last is from 2023). No signature or chain findings: both
  // digests verify under the cached key and link up.
  std::map<std::string, int> rules = StoredAlertRules(data);
  std::map<std::string, int> expected = {{"integrity:log_modified", 1},
                                         {"integrity:log_missing", 1},
                                         {"integrity:trail_change", 1},
                                         {"integrity:digest_late", 1}};
  EXPECT_EQ(rules, expected);
  EXPECT_EQ(m->integrity_alerts.load(), 3u);

  // The same check from the command line, by a reader of the data folder: exit 1, the same
  // digest findings, and nothing written.
  const std::string cmd = std::string(CAIRN_BINARY_DIR) + "/src/cli/cairn --data " + data +
                          " verify --collected --earliest 2023-07-01 --json 2>&1";
  FILE* p = ::popen(cmd.c_str(), "r");
  ASSERT_NE(p, nullptr);
  std::string out;
  char buf[4096];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) out.append(buf, n);
  int st = ::pclose(p);
  ASSERT_TRUE(WIFEXITED(st));
  EXPECT_EQ(WEXITSTATUS(st), 1) << out;
  simdjson::dom::parser parser;
  simdjson::dom::element report;
  ASSERT_EQ(parser.parse(out).get(report), simdjson::SUCCESS) << out;
  EXPECT_EQ(int64_t(report["digests"]), 2);
  EXPECT_EQ(int64_t(report["files_matched"]), 4);
  std::multiset<std::string> checks;
  for (auto f : report["findings"].get_array())
    checks.insert(std::string(std::string_view(f["check"])));
  EXPECT_EQ(checks, (std::multiset<std::string>{"digest_late", "log_missing", "log_modified"}));
  EXPECT_EQ(StoredAlertRules(data), expected) << "a reader stores nothing";
}

}  // namespace
}  // namespace cairn::collect
