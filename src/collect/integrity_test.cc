#include "collect/integrity.h"

#include <gtest/gtest.h>

#include <algorithm>

#include "common/fs.h"
#include "common/safe_path.h"
#include "common/testing.h"
#include "verify/crypto.h"
#include "verify/digest_writer.h"

namespace cairn::collect {
namespace {

constexpr int64_t kHour = 3600 * 1000LL;
constexpr int64_t kStart = 1700000000000LL / kHour * kHour;  // an hour boundary in 2023

// A data folder as the collector leaves it: three hourly digests of one region saved under
// digests/ with their sidecars, and the ledger holding the hashes of the log files read.
class IntegrityTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = cairn::testing::MakeTempDir("cairn_integrity");
    auto ledger = Ledger::Open(fs_, dir_ + "/ledger.log");
    ASSERT_TRUE(ledger.ok());
    ledger_ = std::move(ledger).value();
    auto key = verify::GenerateRsaKey();
    ASSERT_TRUE(key.ok());
    signer_ = verify::MakeSigner(std::move(key).value());
    auto pub = verify::ParsePublicKeyDer(signer_.public_der, "test key");
    ASSERT_TRUE(pub.ok());
    options_.data_dir = dir_;
    options_.keys.emplace(signer_.fingerprint, *pub);

    const verify::WrittenDigest* previous = nullptr;
    for (int h = 0; h < 3; ++h) {
      verify::DigestInput in;
      in.bucket = "trail-bucket";
      in.account = "111122223333";
      in.region = "eu-west-1";
      in.trail = "org_trail";  // an underscore in the name, as trails may have
      in.home_region = "us-east-1";
      in.start_ms = kStart + h * kHour;
      in.end_ms = kStart + (h + 1) * kHour;
      for (int f = 0; f < 2; ++f) {
        std::string key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2023/11/14/f" +
                          std::to_string(h) + std::to_string(f) + ".json.gz";
        std::string text = "{\"Records\":[" + std::to_string(h * 10 + f) + "]}";
        verify::DigestLogFile lf;
        lf.s3_bucket = in.bucket;
        lf.s3_object = key;
        lf.hash_value = verify::Sha256Hex(text);
        lf.hash_algorithm = "SHA-256";
        in.log_files.push_back(lf);
        log_keys_.push_back(key);
        ASSERT_TRUE(
            ledger_->Record({{in.bucket, key, "etag", 1, 1, "collect", lf.hash_value}}).ok());
      }
      auto d = verify::MakeDigest(in, previous, signer_);
      ASSERT_TRUE(d.ok()) << d.status().ToString();
      digests_.push_back(std::move(d).value());
      previous = &digests_.back();
    }
    for (const auto& d : digests_) Save(d);
  }
  void TearDown() override { (void)fs_->RemoveAll(dir_); }

  // Saves a digest as the collector does (collect/ingest.cc SaveDigest).
  std::string PathOf(const verify::WrittenDigest& d) {
    std::string name = "trail-bucket/" + d.key.substr(0, d.key.size() - 3);
    auto path = PathUnder(fs_, dir_ + "/digests", name);
    EXPECT_TRUE(path.ok());
    return *path;
  }
  void Save(const verify::WrittenDigest& d) {
    std::string path = PathOf(d);
    ASSERT_TRUE(fs_->CreateDirs(DirName(path)).ok());
    ASSERT_TRUE(SaveDigestMeta(fs_, path, d.signature_hex, verify::Sha256Hex(d.json)).ok());
    ASSERT_TRUE(WriteFileAtomic(fs_, path, d.json).ok());
  }

  IntegrityReport Check(int64_t now) {
    auto r = CheckCollected(options_, ledger_.get(), now);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : IntegrityReport{};
  }
  static std::vector<std::string> Checks(const IntegrityReport& r) {
    std::vector<std::string> out;
    for (const auto& f : r.findings) out.push_back(f.check + " " + f.key);
    std::sort(out.begin(), out.end());
    return out;
  }

  FileSystem* fs_ = FileSystem::Default();
  std::string dir_;
  std::unique_ptr<Ledger> ledger_;
  verify::DigestSigner signer_;
  IntegrityOptions options_;
  std::vector<verify::WrittenDigest> digests_;
  std::vector<std::string> log_keys_;
  const int64_t soon_ = kStart + 3 * kHour + 10 * 60 * 1000;  // 10 min after the last digest
};

TEST_F(IntegrityTest, AllCollectedAndSignedIsClean) {
  IntegrityReport r = Check(soon_);
  EXPECT_EQ(r.digests, 3u);
  EXPECT_EQ(r.files_matched, 6u);
  EXPECT_EQ(r.unverified, 0u);
  EXPECT_TRUE(r.findings.empty()) << ::testing::PrintToString(Checks(r));
}

TEST_F(IntegrityTest, ModifiedLogFileIsFound) {
  ASSERT_TRUE(ledger_
                  ->Record({{"trail-bucket", log_keys_[3], "etag2", 1, 2, "collect",
                             verify::Sha256Hex("something else")}})
                  .ok());
  IntegrityReport r = Check(soon_);
  EXPECT_EQ(Checks(r), std::vector<std::string>{"log_modified trail-bucket/" + log_keys_[3]});
  EXPECT_EQ(r.files_matched, 5u);
  auto alerts = IntegrityAlerts(r);
  ASSERT_EQ(alerts.size(), 1u);
  EXPECT_EQ(alerts[0].rule_id, "integrity:log_modified");
  EXPECT_EQ(alerts[0].level, "critical");
  EXPECT_EQ(alerts[0].region, "eu-west-1");
}

// A backfill digest (..._backfill.json.gz) lists a file its hour's digest missed: its files are
// checked against the ledger like any digest's, its chain (backfill digests only) likewise, and
// it does not count as the trail's hourly digest for digest_late.
TEST_F(IntegrityTest, BackfillDigestIsChecked) {
  verify::DigestInput in;
  in.bucket = "trail-bucket";
  in.account = "111122223333";
  in.region = "eu-west-1";
  in.trail = "org_trail";
  in.home_region = "us-east-1";
  in.start_ms = kStart + 3 * kHour;  // after the hourly digests
  in.end_ms = kStart + 4 * kHour;
  in.backfill = true;
  const std::string key = "AWSLogs/111122223333/CloudTrail/eu-west-1/2023/11/14/late.json.gz";
  verify::DigestLogFile lf;
  lf.s3_bucket = in.bucket;
  lf.s3_object = key;
  lf.hash_value = verify::Sha256Hex("{\"Records\":[]}");
  lf.hash_algorithm = "SHA-256";
  in.log_files.push_back(lf);
  auto first = verify::MakeDigest(in, nullptr, signer_);
  ASSERT_TRUE(first.ok());
  ASSERT_NE(first->key.find("_backfill.json.gz"), std::string::npos) << first->key;
  Save(*first);
  // A second backfill digest chained to the first, which is then lost.
  in.start_ms += kHour;
  in.end_ms += kHour;
  in.log_files.clear();
  auto second = verify::MakeDigest(in, &*first, signer_);
  ASSERT_TRUE(second.ok());
  Save(*second);
  ASSERT_TRUE(
      ledger_->Record({{"trail-bucket", key, "e", 1, 1, "collect", verify::Sha256Hex("x")}}).ok());
  IntegrityReport r = Check(kStart + 5 * kHour + 10 * 60 * 1000);
  EXPECT_EQ(r.digests, 5u);
  EXPECT_EQ(Checks(r), std::vector<std::string>{"log_modified trail-bucket/" + key});

  ASSERT_TRUE(fs_->RemoveFile(PathOf(*first)).ok());
  // After the grace: the lost backfill digest is a chain gap; and the hourly digests, the newest
  // ending at hour 3, are late although a backfill digest came at hour 5.
  r = Check(kStart + 8 * kHour);
  std::vector<std::string> checks = Checks(r);
  EXPECT_NE(std::find(checks.begin(), checks.end(), "chain_gap trail-bucket/" + second->key),
            checks.end())
      << ::testing::PrintToString(checks);
  size_t late = 0;
  for (const auto& f : r.findings) {
    if (f.check != "digest_late") continue;
    ++late;
    EXPECT_EQ(f.time_ms, kStart + 3 * kHour) << f.key;
  }
  EXPECT_EQ(late, 1u);
}

TEST_F(IntegrityTest, UncollectedFileIsPendingThenMissing) {
  // A fresh ledger that never saw the last hour's second file.
  ledger_.reset();
  ASSERT_TRUE(fs_->RemoveFile(dir_ + "/ledger.log").ok());
  auto ledger = Ledger::Open(fs_, dir_ + "/ledger.log");
  ASSERT_TRUE(ledger.ok());
  ledger_ = std::move(ledger).value();
  for (size_t i = 0; i + 1 < log_keys_.size(); ++i) {
    std::string text = "{\"Records\":[" + std::to_string((i / 2) * 10 + i % 2) + "]}";
    ASSERT_TRUE(ledger_
                    ->Record({{"trail-bucket", log_keys_[i], "e", 1, 1, "collect",
                               verify::Sha256Hex(text)}})
                    .ok());
  }
  IntegrityReport early = Check(soon_);
  EXPECT_TRUE(early.findings.empty()) << ::testing::PrintToString(Checks(early));
  EXPECT_EQ(early.files_pending, 1u);
  IntegrityReport late = Check(kStart + 3 * kHour + options_.grace_ms + 1);
  EXPECT_EQ(Checks(late), std::vector<std::string>{"log_missing trail-bucket/" + log_keys_[5]});
}

TEST_F(IntegrityTest, TamperedDigestFailsItsSignature) {
  std::string path = PathOf(digests_[1]);
  std::string json = digests_[1].json;
  size_t at = json.find("\"hashValue\":\"") + 13;
  json[at] = json[at] == '0' ? '1' : '0';
  ASSERT_TRUE(WriteFileAtomic(fs_, path, json).ok());
  // The sidecar's hash stays the one the collector computed from the bytes it read.
  ASSERT_TRUE(SaveDigestMeta(fs_, path, digests_[1].signature_hex, verify::Sha256Hex(json)).ok());
  IntegrityReport r = Check(soon_);
  std::vector<std::string> checks = Checks(r);
  const std::string self = "trail-bucket/" + digests_[1].key;
  // Its signature fails, the next digest's link to it fails, and the file whose listed hash was
  // changed no longer matches what was collected.
  EXPECT_NE(std::find(checks.begin(), checks.end(), "digest_signature " + self), checks.end())
      << ::testing::PrintToString(checks);
  EXPECT_NE(std::find(checks.begin(), checks.end(), "chain_gap trail-bucket/" + digests_[2].key),
            checks.end())
      << ::testing::PrintToString(checks);
}

TEST_F(IntegrityTest, MissingPreviousDigestIsAChainGapAfterTheGrace) {
  std::string path = PathOf(digests_[1]);
  ASSERT_TRUE(fs_->RemoveFile(path).ok());
  EXPECT_TRUE(Check(soon_).findings.empty());
  IntegrityReport r = Check(kStart + 3 * kHour + options_.grace_ms + 1);
  std::vector<std::string> checks = Checks(r);
  ASSERT_EQ(checks.size(), 1u) << ::testing::PrintToString(checks);
  EXPECT_EQ(checks[0], "chain_gap trail-bucket/" + digests_[2].key);
}

TEST_F(IntegrityTest, UnsignedAndUnknownKey) {
  std::string path = PathOf(digests_[2]);
  ASSERT_TRUE(SaveDigestMeta(fs_, path, "", verify::Sha256Hex(digests_[2].json)).ok());
  options_.keys.clear();
  int fetches = 0;
  options_.fetch_public_keys = [&](const std::string& home) -> Result<verify::PublicKeySet> {
    ++fetches;
    EXPECT_EQ(home, "us-east-1");
    return verify::PublicKeySet{};
  };
  IntegrityReport r = Check(soon_);
  EXPECT_EQ(Checks(r), std::vector<std::string>{"digest_unsigned trail-bucket/" + digests_[2].key});
  EXPECT_EQ(r.unverified, 2u);  // the two signed ones: no key for their fingerprint
  EXPECT_EQ(fetches, 1);        // asked once per pass and home region
}

TEST_F(IntegrityTest, LateDigestIsRaisedOncePerGap) {
  IntegrityReport r = Check(kStart + 3 * kHour + options_.late_ms + 1);
  std::vector<std::string> checks = Checks(r);
  ASSERT_EQ(checks.size(), 1u) << ::testing::PrintToString(checks);
  EXPECT_EQ(checks[0].rfind("digest_late 111122223333/eu-west-1/org_trail@", 0), 0u) << checks[0];
  // A later pass of the same gap names it the same way, so its alert is stored once.
  IntegrityReport again = Check(kStart + 3 * kHour + options_.late_ms + 2 * kHour);
  ASSERT_EQ(again.findings.size(), 1u);
  EXPECT_EQ(again.findings[0].key, r.findings[0].key);
  EXPECT_EQ(detect::ToEvent(IntegrityAlerts(again)[0]).event_id,
            detect::ToEvent(IntegrityAlerts(r)[0]).event_id);
}

}  // namespace
}  // namespace cairn::collect
