#include <gtest/gtest.h>

#include <filesystem>
#include <memory>

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

// A store of its own without background merges, and rules from Sigma text.
class GroupCommitterTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cairn_group_commit");
    store::StoreOptions so;
    so.data_dir = dir_;
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(st).value();
  }
  void TearDown() override {
    if (store_) {
      EXPECT_TRUE(store_->Close().ok());
    }
    std::filesystem::remove_all(dir_);
  }
  static std::unique_ptr<detect::RuleSet> Rules(const std::string& text) {
    detect::LoadedRules loaded;
    detect::ParseSigmaText(text, "t.yml", &loaded);
    EXPECT_TRUE(loaded.refused.empty());
    return std::make_unique<detect::RuleSet>(std::move(loaded));
  }
  uint64_t Alerts() {
    auto info = store_->Info(detect::kAlertsIndex);
    return info.ok() ? info->events : 0;
  }
  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

// collect and backfill commit through GroupCommitter: with rules set, a committed batch's matches
// are in the alerts index when Commit returns, and a batch delivered again adds none.
TEST_F(GroupCommitterTest, StreamingDetectionStoresAlertsWithTheBatch) {
  auto rules = Rules(
      "title: Trail stopped\nid: trail-stopped\nlevel: high\nlogsource:\n    product: aws\n"
      "    service: cloudtrail\ndetection:\n    sel:\n        eventName: StopLogging\n"
      "    condition: sel\n");
  ASSERT_EQ(rules->rules().size(), 1u);
  Metrics metrics;
  GroupCommitter committer(store_.get(), &metrics);
  committer.SetRules(rules.get());
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(committer
                    .Commit("aws-cloudtrail",
                            {MakeEvent("e1", "StopLogging"), MakeEvent("e2", "DescribeTrails")})
                    .ok());
    EXPECT_EQ(Alerts(), 1u) << "round " << round;
  }
  EXPECT_EQ(metrics.alerts_stored.load(), 1u);
}

// A backfill writes a stretch of the past: with ReadStoredNeighbours, the events an earlier run
// stored around its batches join the correlations' windows, so a burst split between the two
// runs raises its alert; a committer that starts cold does not.
TEST_F(GroupCommitterTest, ABackfillCorrelatesWithWhatEarlierRunsStored) {
  auto rules = Rules(
      "title: Trail stopped\nid: trail-stopped\nname: stopped\nlevel: low\nlogsource:\n"
      "    product: aws\n    service: cloudtrail\ndetection:\n    sel:\n"
      "        eventName: StopLogging\n    condition: sel\n---\ntitle: Stopped twice\n"
      "id: stopped-twice\nlevel: high\ncorrelation:\n    type: event_count\n"
      "    rules: [stopped]\n    group-by: [recipientAccountId]\n    timespan: 5m\n"
      "    condition:\n        gte: 2\n");
  // The member rule raises no alerts of its own (Sigma's default): only the correlation's.
  // An earlier run stored the first StopLogging.
  {
    Metrics metrics;
    GroupCommitter earlier(store_.get(), &metrics);
    earlier.SetRules(rules.get());
    ASSERT_TRUE(earlier.Commit("aws-cloudtrail", {MakeEvent("e1", "StopLogging")}).ok());
    ASSERT_TRUE(earlier.FlushCorrelations().ok());
  }
  EXPECT_EQ(Alerts(), 0u);
  // Cold: the second, a minute later, is alone in its window.
  {
    Metrics metrics;
    GroupCommitter cold(store_.get(), &metrics);
    cold.SetRules(rules.get());
    ASSERT_TRUE(cold.Commit("aws-cloudtrail", {MakeEvent("e2", "StopLogging", 60)}).ok());
    ASSERT_TRUE(cold.FlushCorrelations().ok());
  }
  EXPECT_EQ(Alerts(), 0u);
  // With the stored neighbours: a third one joins e1 and e2 in the window, which fires.
  {
    Metrics metrics;
    GroupCommitter backfill(store_.get(), &metrics);
    backfill.SetRules(rules.get());
    backfill.ReadStoredNeighbours();
    ASSERT_TRUE(backfill.Commit("aws-cloudtrail", {MakeEvent("e3", "StopLogging", 120)}).ok());
    ASSERT_TRUE(backfill.FlushCorrelations().ok());
    EXPECT_EQ(metrics.alerts_stored.load(), 1u);
  }
  EXPECT_EQ(Alerts(), 1u);
}

}  // namespace
}  // namespace cairn::collect
