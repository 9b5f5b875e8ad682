#include <gtest/gtest.h>

#include "common/time_util.h"
#include "generate/generator.h"

namespace cairn::generate {
namespace {

TEST(ParseCloudTrailKey, LogFile) {
  auto k = ParseCloudTrailKey(
      "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/"
      "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz");
  ASSERT_TRUE(k.has_value());
  EXPECT_EQ(k->kind, KeyKind::kLog);
  EXPECT_EQ(k->account, "111122223333");
  EXPECT_EQ(k->region, "us-east-2");
  EXPECT_EQ(k->year, 2015);
  EXPECT_EQ(k->month, 8u);
  EXPECT_EQ(k->day, 1u);
  EXPECT_EQ(k->file_time_ms, *ParseIso8601Millis("2015-08-01T02:10:00Z"));
  EXPECT_TRUE(k->prefix.empty());
  EXPECT_TRUE(k->organization_id.empty());
}

TEST(ParseCloudTrailKey, PrefixOrganizationInsightAndDigest) {
  auto org = ParseCloudTrailKey(
      "logs/ct/AWSLogs/o-exampleorgid/111122223333/CloudTrail/eu-west-1/2026/11/01/"
      "111122223333_CloudTrail_eu-west-1_20261101T0005Z_abcdefghijklmnop.json.gz");
  ASSERT_TRUE(org.has_value());
  EXPECT_EQ(org->prefix, "logs/ct/");
  EXPECT_EQ(org->organization_id, "o-exampleorgid");
  EXPECT_EQ(org->account, "111122223333");

  auto insight = ParseCloudTrailKey(
      "AWSLogs/111122223333/CloudTrail-Insight/us-east-1/2026/11/01/"
      "111122223333_CloudTrail-Insight_us-east-1_20261101T1200Z_abcdefghijklmnop.json.gz");
  ASSERT_TRUE(insight.has_value());
  EXPECT_EQ(insight->kind, KeyKind::kInsight);

  auto digest = ParseCloudTrailKey(
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2016/01/22/"
      "111122223333_CloudTrail-Digest_us-east-2_my_trail_us-east-2_20160122T203212Z.json.gz");
  ASSERT_TRUE(digest.has_value());
  EXPECT_EQ(digest->kind, KeyKind::kDigest);
  EXPECT_EQ(digest->trail_name, "my_trail");
  EXPECT_EQ(digest->file_time_ms, *ParseIso8601Millis("2016-01-22T20:32:12Z"));
  EXPECT_EQ(digest->home_region, "us-east-2");
  EXPECT_FALSE(digest->backfill);

  // A backfill digest: "_backfill" after the time, same folder.
  auto backfill = ParseCloudTrailKey(
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2016/01/22/"
      "111122223333_CloudTrail-Digest_us-east-2_my_trail_us-east-2_20160122T203212Z_backfill.json."
      "gz");
  ASSERT_TRUE(backfill.has_value());
  EXPECT_EQ(backfill->kind, KeyKind::kDigest);
  EXPECT_TRUE(backfill->backfill);
  EXPECT_EQ(backfill->trail_name, "my_trail");
  EXPECT_EQ(backfill->file_time_ms, *ParseIso8601Millis("2016-01-22T20:32:12Z"));
  // As the collector saves it (without .gz).
  auto saved = ParseCloudTrailKey(
      "AWSLogs/111122223333/CloudTrail-Digest/us-east-2/2016/01/22/"
      "111122223333_CloudTrail-Digest_us-east-2_t_us-east-2_20160122T203212Z_backfill.json");
  ASSERT_TRUE(saved.has_value());
  EXPECT_TRUE(saved->backfill);

  // A multi-region trail's digest in another region names the trail's home region.
  auto other = ParseCloudTrailKey(
      "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2016/01/22/"
      "111122223333_CloudTrail-Digest_eu-west-1_org_trail_us-east-1_20160122T203212Z.json.gz");
  ASSERT_TRUE(other.has_value());
  EXPECT_EQ(other->region, "eu-west-1");
  EXPECT_EQ(other->home_region, "us-east-1");
  EXPECT_EQ(other->trail_name, "org_trail");
  EXPECT_FALSE(
      ParseCloudTrailKey(
          "AWSLogs/111122223333/CloudTrail-Digest/eu-west-1/2016/01/22/"
          "111122223333_CloudTrail-Digest_eu-west-1_trail_nowhere_20160122T203212Z.json.gz")
          .has_value());
}

TEST(ParseCloudTrailKey, RejectsKeysThatDoNotFollowTheLayout) {
  const char* bad[] = {
      // file name names another account
      "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/"
      "999922223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
      // file name names another region
      "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/"
      "111122223333_CloudTrail_us-west-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
      // bad time
      "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/"
      "111122223333_CloudTrail_us-east-2_20151301T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
      // short account id
      "AWSLogs/11112222333/CloudTrail/us-east-2/2015/08/01/"
      "11112222333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
      // missing day folder
      "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/"
      "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
      // not a region
      "AWSLogs/111122223333/CloudTrail/useast2/2015/08/01/"
      "111122223333_CloudTrail_useast2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.json.gz",
      // other extension
      "AWSLogs/111122223333/CloudTrail/us-east-2/2015/08/01/"
      "111122223333_CloudTrail_us-east-2_20150801T0210Z_Mu0KsOhtH1ar15ZZ.txt",
      "",
      "CloudTrail/us-east-2/2015/08/01/x.json.gz",
  };
  for (const char* key : bad) EXPECT_FALSE(ParseCloudTrailKey(key).has_value()) << key;
}

}  // namespace
}  // namespace cairn::generate
