#include "verify/verifier.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <simdjson.h>
#include <unistd.h>

#include "common/fs.h"
#include "common/safe_path.h"
#include "common/testing.h"
#include "common/time_util.h"
#include "generate/generator.h"
#include "verify/digest_writer.h"
#include "verify/test_util.h"

namespace cairn::verify {
namespace {

constexpr const char* kBucket = "trail-bucket";
constexpr const char* kAccount = "111122223333";
constexpr const char* kRegion = "us-east-1";

class VerifierTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    auto k = GenerateRsaKey(2048);
    ASSERT_TRUE(k.ok());
    signer_ = new DigestSigner(MakeSigner(*k));
  }
  static void TearDownTestSuite() { delete signer_; }

  void SetUp() override {
    root_ = cairn::testing::MakeTempDir("cairn_verify");
    ASSERT_FALSE(root_.empty());
    auto pub = ParsePublicKeyDer(signer_->public_der, "signer");
    ASSERT_TRUE(pub.ok());
    keys_.emplace(pub->fingerprint, *pub);
  }
  void TearDown() override {
    if (!HasFailure()) FileSystem::Default()->RemoveAll(root_).IgnoreError();
  }

  static std::string LogKey(const std::string& prefix, int hour, int minute,
                            const char* region = kRegion) {
    return fmt::format(
        "{}AWSLogs/{}/CloudTrail/{}/2026/11/01/"
        "{}_CloudTrail_{}_20261101T{:02}{:02}Z_abcdEFGH{:02}{:02}xyzw.json.gz",
        prefix, kAccount, region, kAccount, region, hour, minute, hour, minute);
  }

  // Two log files an hour for `hours` hours, then the digests for them.
  void MakeBucket(int hours, const std::string& prefix = "") {
    for (int h = 0; h < hours; ++h) {
      for (int m : {5, 35}) {
        std::string json = fmt::format(
            R"({{"Records":[{{"eventTime":"2026-11-01T{:02}:{:02}:00Z","sourceIPAddress":"10.0.{}.{}"}}]}})",
            h, m, h, m);
        testing::WriteObject(root_, LogKey(prefix, h, m), testing::Gzip(json));
      }
    }
    auto written = WriteDigestsForFolder(FileSystem::Default(), root_, kBucket, "trail", *signer_);
    ASSERT_TRUE(written.ok()) << written.status().ToString();
    written_ = *written;
    ASSERT_EQ(written_.digests, static_cast<uint64_t>(hours));
  }

  VerifyReport Run(const VerifyOptions& options = {}, const char* bucket = kBucket) {
    LocalFolderSource source(FileSystem::Default(), root_, bucket);
    auto r = Verify(&source, keys_, options);
    EXPECT_TRUE(r.ok()) << r.status().ToString();
    return r.ok() ? *r : VerifyReport{};
  }

  static const FileReport* Find(const std::vector<FileReport>& v, const std::string& key) {
    for (const auto& f : v) {
      if (f.key == key) return &f;
    }
    return nullptr;
  }

  std::string Path(const std::string& key, const char* suffix = "") {
    auto p = PathUnder(FileSystem::Default(), root_, key, suffix);
    EXPECT_TRUE(p.ok());
    return p.ok() ? *p : std::string();
  }

  static DigestSigner* signer_;
  std::string root_;
  PublicKeySet keys_;
  DigestFolderSummary written_;
};
DigestSigner* VerifierTest::signer_ = nullptr;

TEST_F(VerifierTest, CleanChainIsValid) {
  MakeBucket(4);
  VerifyReport r = Run();
  EXPECT_EQ(r.digests.size(), 4u);
  EXPECT_EQ(r.log_files.size(), 8u);
  EXPECT_EQ(r.Count(r.digests, Outcome::kValid), 4u);
  EXPECT_EQ(r.Count(r.log_files, Outcome::kValid), 8u);
  EXPECT_EQ(r.ExitCode(), 0);
  const std::string text = FormatReportText(r, {}, false);
  EXPECT_NE(text.find("4/4 digest files valid\n"), std::string::npos) << text;
  EXPECT_NE(text.find("8/8 log files valid\n"), std::string::npos) << text;
  EXPECT_NE(text.find("Results found for 2026-11-01T00:00:00Z to 2026-11-01T04:00:00Z"),
            std::string::npos)
      << text;
}

TEST_F(VerifierTest, ModifiedLogFile) {
  MakeBucket(4);
  auto target = Tamper(FileSystem::Default(), root_, written_, "modify");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  VerifyReport r = Run();
  const FileReport* f = Find(r.log_files, *target);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kModified) << f->detail;
  EXPECT_EQ(r.Count(r.log_files, Outcome::kValid), 7u);
  EXPECT_EQ(r.Count(r.digests, Outcome::kValid), 4u);
  EXPECT_EQ(r.ExitCode(), 1);
  // The same report on one thread and on several.
  for (int threads : {1, 4}) {
    VerifyOptions o;
    o.threads = threads;
    VerifyReport t = Run(o);
    EXPECT_EQ(FormatReportJson(t, {}), FormatReportJson(r, {})) << threads;
  }
}

TEST_F(VerifierTest, DeletedLogFile) {
  MakeBucket(4);
  auto target = Tamper(FileSystem::Default(), root_, written_, "delete");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  VerifyReport r = Run();
  const FileReport* f = Find(r.log_files, *target);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kMissing);
  EXPECT_EQ(r.ExitCode(), 1);
}

TEST_F(VerifierTest, DeletedDigestBreaksTheChain) {
  MakeBucket(4);
  auto target = Tamper(FileSystem::Default(), root_, written_, "chain");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  VerifyReport r = Run();
  const FileReport* missing = Find(r.digests, *target);
  ASSERT_NE(missing, nullptr);
  EXPECT_EQ(missing->outcome, Outcome::kMissing);
  const FileReport* newer = Find(r.digests, written_.digest_keys[2]);
  ASSERT_NE(newer, nullptr);
  EXPECT_EQ(newer->outcome, Outcome::kChainGap) << newer->detail;
  EXPECT_EQ(Find(r.digests, written_.digest_keys[0])->outcome, Outcome::kValid);
  // The deleted digest's log files are now listed in no digest.
  EXPECT_EQ(r.Count(r.log_files, Outcome::kUnlisted), 2u);
  EXPECT_EQ(r.ExitCode(), 1);
}

// Backfill digests (..._backfill.json.gz) list the files their hour's digest missed and chain
// among themselves: counted apart, their files checked, a deleted one found like any digest.
TEST_F(VerifierTest, BackfillDigestsAreTheirOwnChain) {
  for (int h = 0; h < 12; ++h) {
    for (int m : {5, 35}) {
      testing::WriteObject(root_, LogKey("", h, m),
                           testing::Gzip(fmt::format(R"({{"Records":[{{"n":"{}-{}"}}]}})", h, m)));
    }
  }
  auto written = WriteDigestsForFolder(FileSystem::Default(), root_, kBucket, "trail", *signer_,
                                       /*backfill=*/true);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->digest_keys.size(), 12u);
  ASSERT_EQ(written->backfill_keys.size(), 2u);  // hours 3 and 9
  EXPECT_NE(written->backfill_keys[0].find("_20261101T040000Z_backfill.json.gz"), std::string::npos)
      << written->backfill_keys[0];

  VerifyReport r = Run();
  EXPECT_EQ(r.Count(r.digests, Outcome::kValid), 14u);
  EXPECT_EQ(r.Count(r.log_files, Outcome::kValid), 24u);  // none unlisted
  EXPECT_EQ(r.ExitCode(), 0);
  const FileReport* b = Find(r.digests, written->backfill_keys[1]);
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->backfill);
  const FileReport* late = Find(r.log_files, LogKey("", 9, 35));
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->digest, written->backfill_keys[1]);
  std::string text = FormatReportText(r, {}, false);
  EXPECT_NE(text.find("12/12 digest files valid\n"), std::string::npos) << text;
  EXPECT_NE(text.find("2/2 backfill digest files valid\n"), std::string::npos) << text;
  EXPECT_NE(FormatReportJson(r, {}).find("\"backfill\":true"), std::string::npos);

  // A log file only a backfill digest lists, deleted.
  ASSERT_TRUE(FileSystem::Default()->RemoveFile(Path(LogKey("", 9, 35))).ok());
  r = Run();
  late = Find(r.log_files, LogKey("", 9, 35));
  ASSERT_NE(late, nullptr);
  EXPECT_EQ(late->outcome, Outcome::kMissing);
  EXPECT_EQ(r.ExitCode(), 1);

  // The first backfill digest deleted: missing, the next backfill digest a chain gap, its log
  // file listed by no digest; the regular chain is untouched.
  ASSERT_TRUE(FileSystem::Default()->RemoveFile(Path(written->backfill_keys[0])).ok());
  ASSERT_TRUE(FileSystem::Default()
                  ->RemoveFile(Path(written->backfill_keys[0], LocalFolderSource::kSignatureSuffix))
                  .ok());
  r = Run();
  const FileReport* gone = Find(r.digests, written->backfill_keys[0]);
  ASSERT_NE(gone, nullptr);
  EXPECT_EQ(gone->outcome, Outcome::kMissing);
  EXPECT_TRUE(gone->backfill);
  EXPECT_EQ(Find(r.digests, written->backfill_keys[1])->outcome, Outcome::kChainGap);
  EXPECT_EQ(Find(r.log_files, LogKey("", 3, 35))->outcome, Outcome::kUnlisted);
  EXPECT_EQ(r.Count(r.digests, Outcome::kValid), 12u);
  text = FormatReportText(r, {}, false);
  EXPECT_NE(text.find("12/12 digest files valid\n"), std::string::npos) << text;
  EXPECT_NE(text.find("0/2 backfill digest files valid"), std::string::npos) << text;
  EXPECT_NE(text.find("(backfill) Digest file\t" + written->backfill_keys[0]), std::string::npos)
      << text;
}

TEST_F(VerifierTest, CorruptSignature) {
  MakeBucket(4);
  auto target = Tamper(FileSystem::Default(), root_, written_, "signature");
  ASSERT_TRUE(target.ok()) << target.status().ToString();
  VerifyReport r = Run();
  const FileReport* f = Find(r.digests, *target);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kInvalidSignature) << f->detail;
  EXPECT_EQ(r.ExitCode(), 1);
}

TEST_F(VerifierTest, UnsignedNewestDigestButMiddleOneIsVouchedForByItsSuccessor) {
  MakeBucket(3);
  // Without metadata, the middle digest's signature is the one its successor records.
  ASSERT_TRUE(FileSystem::Default()->RemoveFile(Path(written_.digest_keys[1], ".sig")).ok());
  VerifyReport r = Run();
  EXPECT_EQ(Find(r.digests, written_.digest_keys[1])->outcome, Outcome::kValid);
  EXPECT_EQ(r.ExitCode(), 0);
  ASSERT_TRUE(FileSystem::Default()->RemoveFile(Path(written_.digest_keys[2], ".sig")).ok());
  r = Run();
  EXPECT_EQ(Find(r.digests, written_.digest_keys[2])->outcome, Outcome::kUnsigned);
  EXPECT_EQ(r.ExitCode(), 1);
}

TEST_F(VerifierTest, EditedDigestFailsItsSignatureAndTheChain) {
  MakeBucket(3);
  const std::string key = written_.digest_keys[1];
  auto gz = ReadFileToString(FileSystem::Default(), Path(key));
  ASSERT_TRUE(gz.ok());
  auto json = GunzipOneMember(*gz, key);
  ASSERT_TRUE(json.ok());
  std::string edited = *json;
  edited.replace(edited.find("\"logFiles\":["), 12, "\"logFiles\": [");  // same content, new bytes
  testing::WriteObject(root_, key, testing::Gzip(edited));
  VerifyReport r = Run();
  const FileReport* f = Find(r.digests, key);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kInvalidSignature) << f->detail;
  EXPECT_NE(f->detail.find("previousDigestHashValue"), std::string::npos) << f->detail;
}

TEST_F(VerifierTest, TrailingBytesMakeADigestInvalid) {
  MakeBucket(3);
  const std::string key = written_.digest_keys[2];
  auto gz = ReadFileToString(FileSystem::Default(), Path(key));
  ASSERT_TRUE(gz.ok());
  testing::WriteObject(root_, key, *gz + "\n");
  VerifyReport r = Run();
  const FileReport* f = Find(r.digests, key);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kInvalidFormat);
  EXPECT_NE(f->detail.find("after the gzip member"), std::string::npos) << f->detail;
  EXPECT_EQ(r.ExitCode(), 1);
}

TEST_F(VerifierTest, UnlistedLogFile) {
  MakeBucket(3);
  const std::string extra = LogKey("", 1, 20);
  testing::WriteObject(root_, extra, testing::Gzip("{\"Records\":[]}"));
  VerifyReport r = Run();
  const FileReport* f = Find(r.log_files, extra);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kUnlisted);
  EXPECT_EQ(r.ExitCode(), 1);
}

TEST_F(VerifierTest, WrongBucketIsInvalidFormat) {
  MakeBucket(2);
  VerifyReport r = Run({}, "another-bucket");
  EXPECT_EQ(r.Count(r.digests, Outcome::kInvalidFormat), 2u);
  EXPECT_EQ(r.Count(r.log_files, Outcome::kNotVerified), 4u);
  EXPECT_EQ(r.ExitCode(), 1);
  // Without a bucket name the check is skipped, and the report says so.
  VerifyReport unnamed = Run({}, "");
  EXPECT_EQ(unnamed.ExitCode(), 0);
  ASSERT_EQ(unnamed.notes.size(), 1u);
}

TEST_F(VerifierTest, UnknownPublicKeyCannotBeVerified) {
  MakeBucket(2);
  keys_.clear();
  VerifyReport r = Run();
  EXPECT_EQ(r.Count(r.digests, Outcome::kNotVerified), 2u);
  EXPECT_EQ(r.Count(r.log_files, Outcome::kValid), 4u);
  EXPECT_EQ(r.ExitCode(), 2);
}

TEST_F(VerifierTest, MissingKeysAreFetchedOnce) {
  MakeBucket(3);
  PublicKeySet known = keys_;
  keys_.clear();
  int calls = 0;
  std::string asked;
  VerifyOptions o;
  o.fetch_public_keys = [&](const std::string& home_region) -> Result<PublicKeySet> {
    ++calls;
    asked = home_region;
    return known;
  };
  VerifyReport r = Run(o);
  EXPECT_EQ(calls, 1);
  ASSERT_FALSE(r.digests.empty());
  // The home region the digest file names carry (the trail's), not the client's region.
  auto parts = generate::ParseCloudTrailKey(r.digests[0].key);
  ASSERT_TRUE(parts.has_value());
  EXPECT_EQ(asked, parts->home_region);
  EXPECT_FALSE(asked.empty());
  EXPECT_EQ(r.Count(r.digests, Outcome::kValid), 3u);
  EXPECT_EQ(r.ExitCode(), 0);

  o.fetch_public_keys = [&](const std::string&) -> Result<PublicKeySet> {
    ++calls;
    return Unavailable("no network");
  };
  VerifyReport failed = Run(o);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(failed.Count(failed.digests, Outcome::kNotVerified), 3u);
  ASSERT_EQ(failed.notes.size(), 1u);
  EXPECT_NE(failed.notes[0].find("no network"), std::string::npos);
  EXPECT_EQ(failed.ExitCode(), 2);
}

TEST_F(VerifierTest, LinkLoopIsAnErrorNotAHang) {
  MakeBucket(1);
  ASSERT_EQ(::symlink(root_.c_str(), (root_ + "/AWSLogs/loop").c_str()), 0);
  LocalFolderSource source(FileSystem::Default(), root_, kBucket);
  auto r = Verify(&source, keys_, {});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("link loop"), std::string::npos) << r.status().message();
}

TEST_F(VerifierTest, EmptyFolderCannotBeVerified) {
  VerifyReport r = Run();
  EXPECT_TRUE(r.digests.empty());
  EXPECT_EQ(r.ExitCode(), 2);
}

TEST_F(VerifierTest, PrefixAndTimeRange) {
  MakeBucket(4, "team/trails/");
  VerifyOptions all;
  all.prefix = "team/trails/";
  EXPECT_EQ(Run(all).Count(Run(all).digests, Outcome::kValid), 4u);
  EXPECT_TRUE(Run().digests.empty());  // nothing under AWSLogs/ without the prefix
  VerifyOptions range = all;
  range.earliest_ms = *ParseIso8601Millis("2026-11-01T02:00:00Z");
  range.latest_ms = *ParseIso8601Millis("2026-11-01T03:00:00Z");
  VerifyReport r = Run(range);
  EXPECT_EQ(r.digests.size(), 2u);
  EXPECT_EQ(r.log_files.size(), 4u);
  EXPECT_EQ(r.ExitCode(), 0);
  VerifyOptions trail = all;
  trail.trail = "trail";
  EXPECT_EQ(Run(trail).digests.size(), 4u);
  trail.trail = "another-trail";
  EXPECT_TRUE(Run(trail).digests.empty());
  // The range is listed day by day: the same report as filtering a full listing.
  VerifyOptions day = all;
  day.earliest_ms = *ParseIso8601Millis("2026-11-01T01:00:00Z");
  VerifyReport by_day = Run(day);
  EXPECT_EQ(by_day.digests.size(), 4u);
  EXPECT_EQ(by_day.log_files.size(), 8u);
  EXPECT_EQ(by_day.ExitCode(), 0);
  VerifyOptions other_region = all;
  other_region.regions = {"eu-west-1"};
  EXPECT_TRUE(Run(other_region).digests.empty());
}

// A multi-region trail: every region's digests name the trail's home region (here eu-west-1).
TEST_F(VerifierTest, MultiRegionTrail) {
  for (const char* region : {"us-east-1", "eu-west-1"}) {
    for (int h = 0; h < 3; ++h) {
      testing::WriteObject(root_, LogKey("", h, 5, region), testing::Gzip("{\"Records\":[]}"));
    }
  }
  auto written = WriteDigestsForFolder(FileSystem::Default(), root_, kBucket, "trail", *signer_);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->digests, 6u);
  bool named_home = false;
  for (const auto& k : written->digest_keys) {
    if (k.find("_CloudTrail-Digest_us-east-1_trail_eu-west-1_") != std::string::npos)
      named_home = true;
  }
  EXPECT_TRUE(named_home);
  VerifyReport r = Run();
  EXPECT_EQ(r.Count(r.digests, Outcome::kValid), 6u);
  EXPECT_EQ(r.Count(r.log_files, Outcome::kValid), 6u);
  EXPECT_EQ(r.ExitCode(), 0);
  VerifyOptions one;
  one.regions = {"us-east-1"};
  EXPECT_EQ(Run(one).digests.size(), 3u);
}

TEST_F(VerifierTest, OrganizationTrail) {
  for (int h = 0; h < 3; ++h) {
    std::string key = LogKey("", h, 5);
    key.insert(std::string("AWSLogs/").size(), "o-abc123def4/");
    testing::WriteObject(root_, key, testing::Gzip("{\"Records\":[]}"));
  }
  auto written =
      WriteDigestsForFolder(FileSystem::Default(), root_, kBucket, "org-trail", *signer_);
  ASSERT_TRUE(written.ok()) << written.status().ToString();
  ASSERT_EQ(written->digests, 3u);
  EXPECT_NE(written->digest_keys[0].find("AWSLogs/o-abc123def4/111122223333/CloudTrail-Digest/"),
            std::string::npos);
  VerifyReport r = Run();
  EXPECT_EQ(r.Count(r.digests, Outcome::kValid), 3u);
  EXPECT_EQ(r.Count(r.log_files, Outcome::kValid), 3u);
  EXPECT_EQ(r.ExitCode(), 0);
}

TEST_F(VerifierTest, LogFileWithTrailingBytesIsInvalidFormat) {
  MakeBucket(2);
  const std::string key = LogKey("", 1, 5);
  auto gz = ReadFileToString(FileSystem::Default(), Path(key));
  ASSERT_TRUE(gz.ok());
  testing::WriteObject(root_, key, *gz + std::string(4, '\0'));
  VerifyReport r = Run();
  const FileReport* f = Find(r.log_files, key);
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->outcome, Outcome::kInvalidFormat) << f->detail;
}

// A chain whose newest digest skips the one before it (linking to the one before that): the
// skipped digest is reported, the others are valid.
TEST_F(VerifierTest, DigestNoLaterDigestLinksTo) {
  DigestInput in;
  in.bucket = kBucket;
  in.account = kAccount;
  in.region = kRegion;
  in.trail = "trail";
  in.home_region = kRegion;
  std::vector<WrittenDigest> d;
  for (int i = 0; i < 3; ++i) {
    in.start_ms = *ParseIso8601Millis("2026-11-01T00:00:00Z") + i * 3600000LL;
    in.end_ms = in.start_ms + 3600000;
    const WrittenDigest* previous = i == 0 ? nullptr : &d[i == 2 ? 0 : i - 1];
    auto w = MakeDigest(in, previous, *signer_);
    ASSERT_TRUE(w.ok()) << w.status().ToString();
    ASSERT_TRUE(WriteDigestFiles(FileSystem::Default(), root_, *w).ok());
    d.push_back(*w);
  }
  VerifyReport r = Run();
  ASSERT_EQ(r.digests.size(), 3u);
  EXPECT_EQ(Find(r.digests, d[2].key)->outcome, Outcome::kValid);
  EXPECT_EQ(Find(r.digests, d[0].key)->outcome, Outcome::kValid);
  const FileReport* skipped = Find(r.digests, d[1].key);
  EXPECT_EQ(skipped->outcome, Outcome::kChainGap);
  EXPECT_NE(skipped->detail.find("no later digest links to it"), std::string::npos)
      << skipped->detail;
  EXPECT_EQ(r.ExitCode(), 1);
}

TEST_F(VerifierTest, JsonReport) {
  MakeBucket(3);
  ASSERT_TRUE(Tamper(FileSystem::Default(), root_, written_, "delete").ok());
  VerifyReport r = Run();
  const std::string json = FormatReportJson(r, {});
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << json;
  int64_t exit_code = -1, missing = -1, total = -1;
  ASSERT_EQ(doc["exit_code"].get_int64().get(exit_code), simdjson::SUCCESS);
  ASSERT_EQ(doc["summary"]["log_files"]["missing"].get_int64().get(missing), simdjson::SUCCESS);
  ASSERT_EQ(doc["summary"]["digests"]["total"].get_int64().get(total), simdjson::SUCCESS);
  EXPECT_EQ(exit_code, 1);
  EXPECT_EQ(missing, 1);
  EXPECT_EQ(total, 3);
}

}  // namespace
}  // namespace cairn::verify
