// The real `cairn collect` beside a loop of `cairn search` on the same data folder (fauxqs as S3,
// SQS and SNS): every search answers with each stored event counted once, and at the end every
// event of every announced file is stored exactly once, nothing is quarantined and the queue is
// empty. Repeated with fixed seeds (printed), which pick the search loop's timing.

#include <gtest/gtest.h>

#include <filesystem>
#include <string>

#include "cli/cli_util.h"
#include "collect/collect_fixture.h"
#include "common/fs.h"
#include "common/testing.h"

namespace cairn::testing {
namespace {

constexpr int kFiles = 150;
constexpr int kEventsPerFile = 4;

class CollectSharingTest : public FauxqsSuite, public ::testing::WithParamInterface<uint32_t> {};

TEST_P(CollectSharingTest, CollectBesideSearches) {
  CAIRN_REQUIRE_FAUXQS();
  ASSERT_NE(server_, nullptr);
  const uint32_t seed = GetParam();
  std::printf("seed %u\n", seed);
  const std::string tag = "share" + std::to_string(seed);
  const std::string dir = MakeTempDir("cairn_collect_sharing");
  auto site = Site::Create(server_->endpoint(), tag + "-queue", tag + "-bucket");
  ASSERT_TRUE(site.ok()) << site.status().ToString();
  auto keys = LoadTinyFiles(site->get(), tag, kFiles, kEventsPerFile, /*via_sns=*/true);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  const std::string conf =
      "[aws_cloudtrail://sharing]\n"
      "exclude_describe_events = 0\n"
      "index = aws-cloudtrail\n"
      "interval = 1\n"
      "key_id = key\n"
      "secret_key = secret\n"
      "sqs_queue = " +
      tag +
      "-queue\n"
      "sqs_queue_region = us-west-2\n";
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), dir + "/inputs.conf", conf).ok());
  const std::string data = dir + "/data";

  const uint64_t total = kFiles * kEventsPerFile;
  SearchLoop searches(data, total, seed);
  CairnProcess collect({"--data", data, "--log-level", "warn", "collect", "--config",
                        dir + "/inputs.conf", "--until-idle", "3"},
                       dir + "/collect",
                       {{"AWS_ENDPOINT_URL", server_->endpoint()},
                        {"AWS_EC2_METADATA_DISABLED", "true"},
                        {"CAIRN_COLLECT_WAIT_SECONDS", "1"},
                        {"CAIRN_COLLECT_WORKERS", "4"}});
  ASSERT_EQ(collect.Wait(), 0) << collect.err();
  searches.Stop();
  for (const auto& p : searches.problems()) ADD_FAILURE() << p;
  EXPECT_GT(searches.answered(), 0);
  std::printf("  %d searches beside the collector, %d answered\n", searches.runs(),
              searches.answered());

  EXPECT_NE(collect.out().find(std::to_string(total) + " events stored, 0 quarantined"),
            std::string::npos)
      << collect.out();
  EXPECT_EQ(CountAndDistinct(data), std::to_string(total) + "," + std::to_string(total));
  EXPECT_FALSE(std::filesystem::exists(data + "/quarantine"));
  auto depth = (*site)->QueueDepth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(*depth, 0);
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

INSTANTIATE_TEST_SUITE_P(Seeds, CollectSharingTest, ::testing::Values(11u, 22u),
                         [](const auto& info) { return "seed" + std::to_string(info.param); });

}  // namespace
}  // namespace cairn::testing
