// `cairn generate --digests` and `cairn verify` end to end: a clean generated bucket verifies
// (exit 0), each --tamper mode is reported as its outcome (exit 1), and no keys means exit 2.

#include <gtest/gtest.h>

#include <string>

#include "cli/cli_util.h"
#include "common/fs.h"

namespace cairn::testing {
namespace {

class VerifyCliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    tmp_ = MakeTempDir("cairn_verify_cli");
    ASSERT_FALSE(tmp_.empty());
    keys_ = tmp_ + "/keys";
  }
  void TearDown() override {
    if (!HasFailure()) FileSystem::Default()->RemoveAll(tmp_).IgnoreError();
  }

  // Generates one account and region for a day, with digests, into tmp_/<name>.
  std::string Generate(const std::string& name, const std::string& tamper = "") {
    const std::string out = tmp_ + "/" + name;
    CairnRun g = Cairn("generate --out " + out +
                       " --events 3000 --accounts 1 --regions 1 --no-scenarios --threads 1"
                       " --digests " +
                       keys_ + (tamper.empty() ? "" : " --tamper " + tamper));
    EXPECT_EQ(g.status, 0) << g.out << g.err;
    EXPECT_NE(g.out.find("digests: 2"), std::string::npos) << g.out;  // 24 or 25 hourly digests
    if (!tamper.empty()) {
      EXPECT_NE(g.out.find("tampered (" + tamper + ")"), std::string::npos) << g.out;
    }
    return out;
  }

  CairnRun Verify(const std::string& dir, const std::string& extra = "") {
    return Cairn("verify --local " + dir + " --bucket cairn-generated-trail --public-keys " +
                 keys_ + " " + extra);
  }

  std::string tmp_;
  std::string keys_;
};

TEST_F(VerifyCliTest, CleanThenEachTamperMode) {
  const std::string clean = Generate("clean");
  CairnRun ok = Verify(clean);
  EXPECT_EQ(ok.status, 0) << ok.out << ok.err;
  EXPECT_NE(ok.out.find("digest files valid"), std::string::npos) << ok.out;
  EXPECT_EQ(ok.out.find("INVALID"), std::string::npos) << ok.out;

  const struct {
    const char* mode;
    const char* expected;
  } cases[] = {
      {"modify", "INVALID (modified)"},
      {"delete", "INVALID (missing)"},
      {"chain", "INVALID (chain_gap)"},
      {"signature", "INVALID (invalid_signature)"},
  };
  for (const auto& c : cases) {
    const std::string dir = Generate(std::string("t_") + c.mode, c.mode);
    CairnRun r = Verify(dir);
    EXPECT_EQ(r.status, 1) << c.mode << "\n" << r.out << r.err;
    EXPECT_NE(r.out.find(c.expected), std::string::npos) << c.mode << "\n" << r.out;
    EXPECT_NE(r.out.find("INVALID"), std::string::npos) << c.mode << "\n" << r.out;
  }
  CairnRun modified = Verify(tmp_ + "/t_modify", "--json");
  EXPECT_EQ(modified.status, 1);
  EXPECT_NE(modified.out.find("\"modified\":1"), std::string::npos) << modified.out;
}

TEST_F(VerifyCliTest, TimeRangeAndFilters) {
  const std::string clean = Generate("clean");
  CairnRun range = Verify(clean, "--earliest 2026-11-01T05:00:00Z --latest 2026-11-01T08:00:00Z");
  EXPECT_EQ(range.status, 0) << range.out << range.err;
  EXPECT_NE(range.out.find("4/4 digest files valid"), std::string::npos) << range.out;
  EXPECT_NE(range.out.find("Results requested for 2026-11-01T05:00:00Z to 2026-11-01T08:00:00Z"),
            std::string::npos)
      << range.out;
  // Generated logs are dated 2026-11-01; nothing was delivered in the last hour before now.
  CairnRun recent = Verify(clean, "--earliest -1h --json");
  EXPECT_EQ(recent.status, 2) << recent.out << recent.err;
  EXPECT_NE(recent.out.find("\"total\":0"), std::string::npos) << recent.out;
  CairnRun other = Verify(clean, "--region eu-west-1");
  EXPECT_EQ(other.status, 2) << other.out << other.err;
  EXPECT_NE(other.out.find("No digest files were found"), std::string::npos) << other.out;
  // A list option takes one value per use: the URL after it stays the URL.
  CairnRun url = Cairn("verify --region eu-west-1 s3://");
  EXPECT_EQ(url.status, 2);
  EXPECT_NE(url.err.find("names no bucket"), std::string::npos) << url.err;
  CairnRun bad = Verify(clean, "--earliest yesterday");
  EXPECT_EQ(bad.status, 2);
  EXPECT_NE(bad.err.find("--earliest"), std::string::npos) << bad.err;
}

TEST_F(VerifyCliTest, WithoutKeysOrDigestsItCannotVerify) {
  const std::string clean = Generate("clean");
  CairnRun no_keys = Cairn("verify --local " + clean);
  EXPECT_EQ(no_keys.status, 2) << no_keys.out << no_keys.err;
  EXPECT_NE(no_keys.out.find("not verified"), std::string::npos) << no_keys.out;
  ASSERT_TRUE(FileSystem::Default()->CreateDirs(tmp_ + "/empty").ok());
  CairnRun empty = Cairn("verify --local " + tmp_ + "/empty");
  EXPECT_EQ(empty.status, 2) << empty.out << empty.err;
  CairnRun usage = Cairn("verify --local " + tmp_ + "/nowhere");
  EXPECT_EQ(usage.status, 2) << usage.out << usage.err;
}

}  // namespace
}  // namespace cairn::testing
