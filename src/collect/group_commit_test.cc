#include <gtest/gtest.h>

#include <filesystem>

#include "collect/ingest.h"
#include "common/testing.h"
#include "detect/alert.h"
#include "detect/rule_set.h"

namespace cairn::collect {
namespace {

// At 2026-11-01T03:17:42Z plus `seconds`.
cloudtrail::Event MakeEvent(const std::string& id, const std::string& name, int seconds = 0) {
  cloudtrail::Event e;
  e.raw = R"({"eventID":")" + id + R"(","eventTime":"2026-11-01T03:17:)" +
          std::to_string(42 + seconds) + R"(Z","eventName":")" + name +
          R"(","eventSource":"cloudtrail.amazonaws.com","recipientAccountId":"111122223333"})";
  e.time_ms = 1793503062000 + seconds * 1000;
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

// A backfill writes a stretch of the past: with ReadStoredNeighbours, the events an earlier run
// stored around its batches join the correlations' windows, so a burst split between the two
// runs raises its alert; a committer that starts cold does not.
TEST(GroupCommitter, ABackfillCorrelatesWithWhatEarlierRunsStored) {
  std::string dir = testing::MakeTempDir("cairn_group_commit_neighbours");
  store::StoreOptions so;
  so.data_dir = dir;
  so.background_merge = false;
  auto st = store::Store::Open(so);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  detect::LoadedRules loaded;
  detect::ParseSigmaText(
      "title: Trail stopped\nid: trail-stopped\nname: stopped\nlevel: low\nlogsource:\n"
      "    product: aws\n    service: cloudtrail\ndetection:\n    sel:\n"
      "        eventName: StopLogging\n    condition: sel\n---\ntitle: Stopped twice\n"
      "id: stopped-twice\nlevel: high\ncorrelation:\n    type: event_count\n"
      "    rules: [stopped]\n    group-by: [recipientAccountId]\n    timespan: 5m\n"
      "    condition:\n        gte: 2\n",
      "t.yml", &loaded);
  ASSERT_TRUE(loaded.refused.empty());
  detect::RuleSet rules(std::move(loaded));
  // The member rule raises no alerts of its own (Sigma's default): only the correlation's.
  auto alerts = [&] {
    auto info = (*st)->Info(detect::kAlertsIndex);
    return info.ok() ? info->events : 0;
  };
  // An earlier run stored the first StopLogging.
  {
    Metrics metrics;
    GroupCommitter earlier(st->get(), &metrics);
    earlier.SetRules(&rules);
    ASSERT_TRUE(earlier.Commit("aws-cloudtrail", {MakeEvent("e1", "StopLogging")}).ok());
    ASSERT_TRUE(earlier.FlushCorrelations().ok());
  }
  EXPECT_EQ(alerts(), 0u);
  // Cold: the second, a minute later, is alone in its window.
  {
    Metrics metrics;
    GroupCommitter cold(st->get(), &metrics);
    cold.SetRules(&rules);
    ASSERT_TRUE(cold.Commit("aws-cloudtrail", {MakeEvent("e2", "StopLogging", 60)}).ok());
    ASSERT_TRUE(cold.FlushCorrelations().ok());
  }
  EXPECT_EQ(alerts(), 0u);
  // With the stored neighbours: a third one joins e1 and e2 in the window, which fires.
  {
    Metrics metrics;
    GroupCommitter backfill(st->get(), &metrics);
    backfill.SetRules(&rules);
    backfill.ReadStoredNeighbours();
    ASSERT_TRUE(backfill.Commit("aws-cloudtrail", {MakeEvent("e3", "StopLogging", 120)}).ok());
    ASSERT_TRUE(backfill.FlushCorrelations().ok());
    EXPECT_EQ(metrics.alerts_stored.load(), 1u);
  }
  EXPECT_EQ(alerts(), 1u);
  ASSERT_TRUE((*st)->Close().ok());
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::collect
