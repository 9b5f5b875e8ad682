#include <gtest/gtest.h>

#include <filesystem>

#include "collect/ingest.h"
#include "common/testing.h"
#include "detect/alert.h"
#include "detect/rule_set.h"

namespace cairn::collect {
namespace {

cloudtrail::Event MakeEvent(const std::string& id, const std::string& name) {
  cloudtrail::Event e;
  e.raw = R"({"eventID":")" + id + R"(","eventTime":"2026-11-01T03:17:42Z","eventName":")" + name +
          R"(","eventSource":"cloudtrail.amazonaws.com","recipientAccountId":"111122223333"})";
  e.time_ms = 1793503062000;
  e.event_id = id;
  e.account = "111122223333";
  e.sourcetype = "aws:cloudtrail";
  return e;
}

// collect and backfill commit through GroupCommitter: with rules set, a committed batch's matches
// are in the alerts index when Commit returns, and a batch delivered again adds none.
TEST(GroupCommitter, StreamingDetectionStoresAlertsWithTheBatch) {
  std::string dir = testing::MakeTempDir("cairn_group_commit");
  store::StoreOptions so;
  so.data_dir = dir;
  so.background_merge = false;
  auto st = store::Store::Open(so);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  detect::LoadedRules loaded;
  detect::ParseSigmaText(
      "title: Trail stopped\nid: trail-stopped\nlevel: high\nlogsource:\n    product: aws\n"
      "    service: cloudtrail\ndetection:\n    sel:\n        eventName: StopLogging\n"
      "    condition: sel\n",
      "t.yml", &loaded);
  ASSERT_EQ(loaded.rules.size(), 1u);
  detect::RuleSet rules(std::move(loaded));
  Metrics metrics;
  GroupCommitter committer(st->get(), &metrics);
  committer.SetRules(&rules);
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(committer
                    .Commit("aws-cloudtrail",
                            {MakeEvent("e1", "StopLogging"), MakeEvent("e2", "DescribeTrails")})
                    .ok());
    auto info = (*st)->Info(detect::kAlertsIndex);
    ASSERT_TRUE(info.ok()) << info.status().ToString();
    EXPECT_EQ(info->events, 1u) << "round " << round;
  }
  EXPECT_EQ(metrics.alerts_stored.load(), 1u);
  ASSERT_TRUE((*st)->Close().ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::collect
