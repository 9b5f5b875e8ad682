// `cairn verify s3://bucket` against the fauxqs S3 emulator: a generated bucket with digests
// (signatures in x-amz-meta-signature) verifies, and a deleted log file or a wrong signature is
// reported with exit 1; an organization trail under a prefix verifies; two accounts in two regions,
// each damaged its own way, get every outcome in the right place, and the AWS CLI's validate-logs
// agrees on the same objects; public keys come from --public-keys or from a stand-in for
// CloudTrail ListPublicKeys.

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>

#include <cstdlib>
#include <filesystem>
#include <map>
#include <set>
#include <sstream>
#include <string>
#include <tuple>

#include "aws/client.h"
#include "aws/credentials.h"
#include "aws/http.h"
#include "aws/s3.h"
#include "aws/test_http_server.h"
#include "cli/cli_util.h"
#include "common/fs.h"
#include "generate/generator.h"
#include "harness/fauxqs.h"
#include "verify/crypto.h"
#include "verify/digest.h"
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

// What `cairn verify --json` said about one file.
struct Reported {
  std::string account, region, outcome, digest;
};

// An organization trail's bucket with two accounts in two regions under a prefix, each
// (account, region) damaged its own way: every outcome `cairn verify` reports through S3 lands in
// the account and region (and hour) that were damaged, and nowhere else. Then, with the AWS CLI
// (Debian's awscli, which `make` installs), `aws cloudtrail validate-logs` runs on the same
// objects once per account and region and the two reports are compared (docs/verify.md explains
// where they differ).
TEST_F(VerifyS3Test, SeveralAccountsAndRegionsOfAnOrganizationTrail) {
  CAIRN_REQUIRE_FAUXQS();
  if (server_ == nullptr) return;
  const std::string prefix = "cells/";
  const std::string org = "o-cells12345";
  const std::string root = tmp_ + "/org";
  CairnRun g = Cairn("generate --out " + tmp_ + "/gen --events 4000 --accounts 2 --regions 2 " +
                     "--no-scenarios --threads 1");
  ASSERT_EQ(g.status, 0) << g.out << g.err;
  std::filesystem::create_directories(root + "/" + prefix + "AWSLogs");
  std::filesystem::rename(tmp_ + "/gen/AWSLogs", root + "/" + prefix + "AWSLogs/" + org);
  auto signer = verify::LoadOrCreateSigner(FileSystem::Default(), tmp_ + "/keys");
  ASSERT_TRUE(signer.ok()) << signer.status().ToString();
  auto written =
      verify::WriteDigestsForFolder(FileSystem::Default(), root, kBucket, "org-trail", *signer);
  ASSERT_TRUE(written.ok()) << written.status().ToString();

  // The cells, the digests of each (oldest first) and the log files of each (in key order).
  using Cell = std::pair<std::string, std::string>;  // account, region
  std::map<Cell, std::vector<std::string>> digests, logs;
  std::string home_region;
  for (const std::string& key : written->digest_keys) {
    auto k = generate::ParseCloudTrailKey(key);
    ASSERT_TRUE(k.has_value()) << key;
    EXPECT_EQ(k->prefix, prefix);
    EXPECT_EQ(k->organization_id, org);
    digests[{k->account, k->region}].push_back(key);
    home_region = k->home_region;
  }
  for (const std::string& path : GzFiles(root)) {
    const std::string key = path.substr(root.size() + 1);
    auto k = generate::ParseCloudTrailKey(key);
    if (k && k->kind == generate::KeyKind::kLog) logs[{k->account, k->region}].push_back(key);
  }
  ASSERT_EQ(digests.size(), 4u);
  ASSERT_EQ(logs.size(), 4u);
  const std::vector<Cell> cells = [&] {
    std::vector<Cell> v;
    for (const auto& [cell, keys] : digests) {
      EXPECT_GE(keys.size(), 20u) << cell.first << " " << cell.second;
      v.push_back(cell);
    }
    return v;
  }();
  ASSERT_NE(cells[0].first, cells[3].first);    // two accounts
  ASSERT_NE(cells[0].second, cells[1].second);  // two regions

  FileSystem* fs = FileSystem::Default();
  auto digest_of = [&](const std::string& digest_key) {
    auto gz = ReadWholeFile(root + "/" + digest_key);
    auto json = verify::GunzipOneMember(gz, digest_key);
    EXPECT_TRUE(json.ok());
    auto d = verify::ParseDigest(json.ok() ? *json : "", digest_key);
    EXPECT_TRUE(d.ok()) << d.status().ToString();
    return d.ok() ? *d : verify::Digest{};
  };
  // Cell 0: a log file listed by its 6th digest gets one more byte (modified).
  const std::string modified = digest_of(digests[cells[0]][5]).log_files.at(0).s3_object;
  {
    auto json = verify::GunzipOneMember(ReadWholeFile(root + "/" + modified), modified);
    ASSERT_TRUE(json.ok());
    verify::testing::WriteObject(root, modified, verify::testing::Gzip(*json + "\n"));
  }
  // Cell 1: a log file listed by its 9th digest is deleted (missing).
  const std::string deleted = digest_of(digests[cells[1]][8]).log_files.at(0).s3_object;
  ASSERT_TRUE(fs->RemoveFile(root + "/" + deleted).ok());
  // Cell 2: its 11th digest is deleted with its signature (missing, the next one a chain gap, its
  // log files unlisted).
  const std::string gone = digests[cells[2]][10];
  const std::string after_gone = digests[cells[2]][11];
  std::set<std::string> gone_logs;
  for (const auto& lf : digest_of(gone).log_files) gone_logs.insert(lf.s3_object);
  ASSERT_FALSE(gone_logs.empty());
  ASSERT_TRUE(fs->RemoveFile(root + "/" + gone).ok());
  ASSERT_TRUE(fs->RemoveFile(root + "/" + gone + ".sig").ok());
  // Cell 3: one hex digit of its 16th digest's signature changes (invalid_signature).
  const std::string bad_sig = digests[cells[3]][15];
  std::set<std::string> bad_sig_logs;
  for (const auto& lf : digest_of(bad_sig).log_files) bad_sig_logs.insert(lf.s3_object);
  {
    std::string sig = ReadWholeFile(root + "/" + bad_sig + ".sig");
    ASSERT_FALSE(sig.empty());
    sig[0] = sig[0] == '0' ? '1' : '0';
    ASSERT_TRUE(WriteFileAtomic(fs, root + "/" + bad_sig + ".sig", sig).ok());
  }

  // Upload, each digest with its signature as CloudTrail stores it.
  auto client = Client();
  aws::S3Client s3(client.get());
  s3.CreateBucket(kBucket).IgnoreError();
  for (const auto& e : std::filesystem::recursive_directory_iterator(root)) {
    if (!e.is_regular_file() || e.path().extension() == ".sig") continue;
    const std::string path = e.path().string();
    std::map<std::string, std::string> metadata;
    if (std::filesystem::exists(path + ".sig")) {
      std::string sig = ReadWholeFile(path + ".sig");
      while (!sig.empty() && (sig.back() == '\n' || sig.back() == ' ')) sig.pop_back();
      metadata["signature"] = sig;
      metadata["signature-algorithm"] = "SHA256withRSA";
    }
    auto put = s3.PutObject(kBucket, path.substr(root.size() + 1), ReadWholeFile(path),
                            "application/octet-stream", metadata);
    ASSERT_TRUE(put.ok()) << put.status().ToString();
  }

  SetEnv();
  const std::string range = " --earliest 2026-11-01T00:00:00Z --latest 2026-11-02T02:00:00Z";
  CairnRun run = Cairn(std::string("verify s3://") + kBucket + "/cells --public-keys " + tmp_ +
                       "/keys --json" + range);
  EXPECT_EQ(run.status, 1) << run.err;
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(run.out).get(doc), simdjson::SUCCESS) << run.out.substr(0, 2000);
  std::map<std::string, Reported> reported;  // by key, digests and log files
  std::map<Cell, std::map<std::string, int>> digest_outcomes, log_outcomes;
  for (const char* list : {"digests", "log_files"}) {
    simdjson::dom::array arr;
    ASSERT_EQ(doc[list].get_array().get(arr), simdjson::SUCCESS) << list;
    for (simdjson::dom::element f : arr) {
      std::string_view key, account, region, outcome, digest;
      ASSERT_EQ(f["key"].get_string().get(key), simdjson::SUCCESS);
      ASSERT_EQ(f["account"].get_string().get(account), simdjson::SUCCESS);
      ASSERT_EQ(f["region"].get_string().get(region), simdjson::SUCCESS);
      ASSERT_EQ(f["outcome"].get_string().get(outcome), simdjson::SUCCESS);
      if (f["digest"].get_string().get(digest) != simdjson::SUCCESS) digest = "";
      // Attribution: the account and region reported are the ones the key names.
      auto k = generate::ParseCloudTrailKey(key);
      ASSERT_TRUE(k.has_value()) << key;
      EXPECT_EQ(k->account, account) << key;
      EXPECT_EQ(k->region, region) << key;
      reported[std::string(key)] = {std::string(account), std::string(region), std::string(outcome),
                                    std::string(digest)};
      const bool is_digest = std::string_view(list) == "digests";
      (is_digest
           ? digest_outcomes
           : log_outcomes)[{std::string(account), std::string(region)}][std::string(outcome)]++;
    }
  }
  // Every damage where it was done, and nothing else anywhere.
  EXPECT_EQ(reported[modified].outcome, "modified");
  EXPECT_EQ(reported[modified].account, cells[0].first);
  EXPECT_EQ(reported[modified].region, cells[0].second);
  EXPECT_EQ(reported[modified].digest, digests[cells[0]][5]);  // the hour that lists it
  EXPECT_EQ(reported[deleted].outcome, "missing");
  EXPECT_EQ(reported[deleted].region, cells[1].second);
  EXPECT_EQ(reported[deleted].digest, digests[cells[1]][8]);
  EXPECT_EQ(reported[gone].outcome, "missing");
  EXPECT_EQ(reported[gone].account, cells[2].first);
  EXPECT_EQ(reported[after_gone].outcome, "chain_gap");
  for (const std::string& key : gone_logs) EXPECT_EQ(reported[key].outcome, "unlisted") << key;
  EXPECT_EQ(reported[bad_sig].outcome, "invalid_signature");
  EXPECT_EQ(reported[bad_sig].region, cells[3].second);
  for (const std::string& key : bad_sig_logs) EXPECT_EQ(reported[key].outcome, "valid") << key;
  std::set<std::string> damaged = {modified, deleted, gone, after_gone, bad_sig};
  damaged.insert(gone_logs.begin(), gone_logs.end());
  size_t valid = 0;
  for (const auto& [key, r] : reported) {
    if (damaged.count(key) == 0) {
      EXPECT_EQ(r.outcome, "valid") << key;
      ++valid;
    }
  }
  EXPECT_GT(valid, 500u);
  for (size_t i = 0; i < cells.size(); ++i) {
    EXPECT_EQ(digest_outcomes[cells[i]]["valid"] + digest_outcomes[cells[i]]["chain_gap"] +
                  digest_outcomes[cells[i]]["invalid_signature"],
              static_cast<int>(digests[cells[i]].size()) - (i == 2 ? 1 : 0))
        << i;
    EXPECT_EQ(log_outcomes[cells[i]]["valid"] + log_outcomes[cells[i]]["modified"] +
                  log_outcomes[cells[i]]["missing"] + log_outcomes[cells[i]]["unlisted"],
              static_cast<int>(logs[cells[i]].size()))
        << i;
  }

  // The same objects through `aws cloudtrail validate-logs`, one run per account and region.
  if (RunCommand("command -v aws").status != 0) {
    const char* ci = std::getenv("CI");
    if (ci != nullptr && std::string(ci) == "true")
      FAIL() << "the AWS CLI is missing under CI=true";
    GTEST_SKIP() << "the AWS CLI is missing (Debian's awscli; make installs it): validate-logs "
                    "not compared";
  }
  std::string cell_args;
  for (const Cell& c : cells) cell_args += " " + c.first + ":" + c.second;
  auto vl = RunCommand(RepositoryRoot() + "/scripts/validate_logs/cells.sh " +
                       std::to_string(server_->port()) + " " + tmp_ + "/keys " + kBucket + " " +
                       prefix.substr(0, prefix.size() - 1) + " " + org + " " + home_region +
                       " org-trail 2026-11-01T00:00:00Z 2026-11-02T02:00:00Z" + cell_args);
  ASSERT_EQ(vl.status, 0) << vl.output;
  std::map<Cell, std::tuple<int, int, int, int, int>> vl_counts;  // exit, digests, logs
  std::map<Cell, std::set<std::string>> vl_invalid;
  std::istringstream lines(vl.output);
  std::string line;
  while (std::getline(lines, line)) {
    std::istringstream w(line);
    std::string tag, account, region;
    w >> tag >> account >> region;
    if (tag == "CELL") {
      std::string word;
      int exit_code, dv, di, lv, li;
      w >> word >> exit_code >> word >> dv >> di >> word >> lv >> li;
      vl_counts[{account, region}] = {exit_code, dv, di, lv, li};
    } else if (tag == "INVALID") {
      std::string key;
      w >> key;
      vl_invalid[{account, region}].insert(key);
    }
  }
  ASSERT_EQ(vl_counts.size(), 4u) << vl.output;
  for (size_t i = 0; i < cells.size(); ++i) {
    const auto& [exit_code, dv, di, lv, li] = vl_counts[cells[i]];
    // The comparison docs/verify.md keeps, one line per account and region.
    std::string cairn_counts;
    for (const auto* outcomes : {&digest_outcomes[cells[i]], &log_outcomes[cells[i]]}) {
      cairn_counts += outcomes == &digest_outcomes[cells[i]] ? " digests" : "; log files";
      for (const auto& [outcome, n] : *outcomes) {
        if (n > 0) cairn_counts += fmt::format(" {} {}", n, outcome);
      }
    }
    std::printf(
        "%s %s: validate-logs exit %d, digests %d/%d valid, log files %d/%d valid; cairn%s\n",
        cells[i].first.c_str(), cells[i].second.c_str(), exit_code, dv, dv + di, lv, lv + li,
        cairn_counts.c_str());
    SCOPED_TRACE(fmt::format("cell {} {} {}\n{}", i, cells[i].first, cells[i].second, vl.output));
    // Both fail every damaged cell.
    EXPECT_EQ(exit_code, 1);
    // The files validate-logs calls INVALID are the ones cairn gives a failure of their own
    // (not the consequences it reports beside them: a chain gap after a deleted digest, the
    // deleted digest's log files unlisted).
    std::set<std::string> cairn_primary;
    for (const auto& [key, r] : reported) {
      if (Cell{r.account, r.region} != cells[i]) continue;
      if (r.outcome == "modified" || r.outcome == "missing" || r.outcome == "invalid_signature")
        cairn_primary.insert(key);
    }
    EXPECT_EQ(vl_invalid[cells[i]], cairn_primary);
    EXPECT_EQ(di, static_cast<int>(cairn_primary.size() - (i < 2 ? 1 : 0)));
    // Digests validate-logs accepts: cairn's valid ones and the one after a deleted digest (whose
    // own signature holds).
    EXPECT_EQ(dv, digest_outcomes[cells[i]]["valid"] + digest_outcomes[cells[i]]["chain_gap"]);
    // Log files: validate-logs checks only those of the digests it accepted.
    int cairn_logs_of_accepted = log_outcomes[cells[i]]["valid"];
    if (i == 3) cairn_logs_of_accepted -= static_cast<int>(bad_sig_logs.size());
    EXPECT_EQ(lv, cairn_logs_of_accepted);
    EXPECT_EQ(li, i < 2 ? 1 : 0);
  }
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
