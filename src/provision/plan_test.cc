// plan / apply / destroy over the in-memory cloud: convergence, idempotence, ownership, partial
// failure and recovery, drift.

#include <gtest/gtest.h>

#include "common/clock.h"
#include "common/fs.h"
#include "common/testing.h"
#include "provision/provisioner.h"
#include "provision/testing.h"

namespace cairn::provision {
namespace {

using testing::FakeCloud;

constexpr char kAccount[] = "111122223333";

ProvisionSpec SiteSpec() {
  ProvisionSpec s;
  s.layout = TrailLayout::kPerRegion;
  s.regions = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "sa-east-1"};
  s.reader = ReaderKind::kUser;
  return s;
}

class PlanTest : public ::testing::Test {
 protected:
  void SetUp() override {
    drivers_ = cloud_.AllDrivers();
    out_dir_ = cairn::testing::MakeTempDir("provision-plan");
  }
  std::vector<ServiceDriver*> Drivers() {
    std::vector<ServiceDriver*> out;
    for (auto& d : drivers_) out.push_back(d.get());
    return out;
  }
  Status Run(Command command, const ProvisionSpec& spec, RunReport* report) {
    RunOptions o;
    o.command = command;
    o.spec = spec;
    o.out_dir = out_dir_;
    ProvisionerOptions p;
    p.clock = &clock_;
    return RunProvision(o, kAccount, Drivers(), report, p);
  }
  Plan PlanOf(const ProvisionSpec& spec, Command command = Command::kPlan) {
    RunReport r;
    Status s = Run(command, spec, &r);
    EXPECT_TRUE(s.ok()) << s.ToString();
    return r.plan;
  }

  FakeCloud cloud_;
  std::vector<std::unique_ptr<ServiceDriver>> drivers_;
  ManualClock clock_{0};
  std::string out_dir_;
};

TEST_F(PlanTest, EmptyAccountPlansEverythingAndPlanChangesNothing) {
  Plan plan = PlanOf(SiteSpec());
  // bucket, dlq, queue, 5 topics, 5 subscriptions, 5 trails, user, access key
  EXPECT_EQ(plan.Count(Action::kCreate), 1 + 2 + 5 + 5 + 5 + 2);  // 20
  EXPECT_EQ(plan.Count(Action::kUpdate), 0);
  EXPECT_TRUE(cloud_.calls.empty()) << "plan must not change anything";
  EXPECT_TRUE(cloud_.resources.empty());
  std::string text = plan.Format();
  EXPECT_NE(text.find("+ s3 bucket cairn-cloudtrail-111122223333 (us-west-2)"), std::string::npos) << text;
  EXPECT_NE(text.find("+ sns topic cairn-cloudtrail (sa-east-1)"), std::string::npos) << text;
  EXPECT_NE(text.find("Plan: 20 to create, 0 to change, 0 to delete, 0 unchanged."), std::string::npos) << text;
  EXPECT_FALSE(cairn::FileSystem::Default()->Exists(out_dir_ + "/cairn.toml")) << "plan writes no files";
}

TEST_F(PlanTest, ApplyConvergesAndSecondApplyChangesNothing) {
  RunReport first;
  ASSERT_TRUE(Run(Command::kApply, SiteSpec(), &first).ok());
  EXPECT_EQ(first.done.size(), 20u);
  // Creation order: the bucket and queues before the topics, subscriptions before the trails.
  auto index_of = [&](const std::string& needle) {
    for (size_t i = 0; i < cloud_.calls.size(); ++i) {
      if (cloud_.calls[i].find(needle) != std::string::npos) return static_cast<int>(i);
    }
    return -1;
  };
  EXPECT_LT(index_of("s3 bucket"), index_of("sqs queue"));
  EXPECT_LT(index_of("sqs dead-letter queue"), index_of("sqs queue"));
  EXPECT_LT(index_of("sns subscription"), index_of("cloudtrail trail"));
  EXPECT_LT(index_of("iam user"), index_of("iam access key"));
  size_t calls = cloud_.calls.size();

  Plan again = PlanOf(SiteSpec());
  EXPECT_TRUE(again.Converged()) << again.Format();
  EXPECT_EQ(again.Count(Action::kNoop), 20);
  RunReport second;
  ASSERT_TRUE(Run(Command::kApply, SiteSpec(), &second).ok());
  EXPECT_TRUE(second.done.empty());
  EXPECT_EQ(cloud_.calls.size(), calls) << "a second apply must make no call";
  EXPECT_EQ(cloud_.keys_issued, 1) << "the access key in the generated config is kept";
}

TEST_F(PlanTest, DestroyRemovesEverythingThenPlanShowsEverythingToCreate) {
  ASSERT_TRUE(PlanOf(SiteSpec(), Command::kApply).Count(Action::kCreate) == 20);
  Plan destroy = PlanOf(SiteSpec(), Command::kDestroy);
  EXPECT_EQ(destroy.Count(Action::kDelete), 20);
  EXPECT_TRUE(cloud_.resources.empty());
  // Reverse order: trails go before the topics they publish to, the bucket last but the reader.
  EXPECT_NE(cloud_.calls.back().find("s3 bucket"), std::string::npos) << cloud_.calls.back();
  Plan after = PlanOf(SiteSpec());
  EXPECT_EQ(after.Count(Action::kCreate), 20);
  EXPECT_EQ(after.Count(Action::kNoop), 0);
}

TEST_F(PlanTest, DestroyKeepsWhatCairnDidNotCreate) {
  // A topic of the same name created by someone else, and a bucket of another stack.
  Resource topic{.kind = Kind::kTopic, .name = "cairn-cloudtrail", .region = "us-east-1",
                 .arn = "arn:aws:sns:us-east-1:111122223333:cairn-cloudtrail"};
  topic.attrs["tags"] = "team=audit";
  cloud_.resources[topic.Key()] = topic;
  Resource bucket{.kind = Kind::kBucket, .name = "cairn-cloudtrail-111122223333", .region = "us-west-2"};
  bucket.attrs["tags"] = "cairn:managed=true,cairn:stack=other";
  cloud_.resources[bucket.Key()] = bucket;

  Plan destroy = PlanOf(SiteSpec(), Command::kDestroy);
  EXPECT_EQ(destroy.Count(Action::kDelete), 0);
  EXPECT_EQ(destroy.Count(Action::kKeep), 2);
  EXPECT_EQ(cloud_.resources.size(), 2u);
  EXPECT_TRUE(cloud_.calls.empty());
  EXPECT_NE(destroy.Format().find("! sns topic cairn-cloudtrail (us-east-1): kept"), std::string::npos)
      << destroy.Format();

  // apply adopts the topic: it shows as a change of tags and keeps the foreign tag.
  Plan plan = PlanOf(SiteSpec());
  bool saw = false;
  for (const auto& c : plan.changes) {
    if (c.desired.kind == Kind::kTopic && c.desired.region == "us-east-1") {
      ASSERT_EQ(c.action, Action::kUpdate);
      for (const auto& a : c.attrs) saw |= a.name == "tags" && a.from.empty();
    }
  }
  EXPECT_TRUE(saw) << plan.Format();
}

TEST_F(PlanTest, PartialFailureIsReportedAndTheNextApplyFinishes) {
  cloud_.FailOnce("Create", "cloudtrail trail cairn-trail (eu-west-1)",
                  Status(StatusCode::kPermissionDenied,
                         "CloudTrail CreateTrail arn:aws:cloudtrail:eu-west-1:111122223333:trail/cairn-trail: "
                         "AccessDeniedException: User is not authorized to perform cloudtrail:CreateTrail (HTTP 400)"));
  RunReport failed;
  Status s = Run(Command::kApply, SiteSpec(), &failed);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("+ cloudtrail trail cairn-trail (eu-west-1) failed"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("CloudTrail CreateTrail"), std::string::npos);
  EXPECT_NE(s.message().find("AccessDeniedException"), std::string::npos);
  EXPECT_NE(s.message().find("run apply again"), std::string::npos);
  EXPECT_FALSE(failed.done.empty());
  EXPECT_FALSE(cairn::FileSystem::Default()->Exists(out_dir_ + "/cairn.toml"))
      << "no config is written for a half-made stack";

  Plan remaining = PlanOf(SiteSpec());
  EXPECT_EQ(remaining.Count(Action::kCreate), static_cast<int>(20 - failed.done.size()));
  RunReport finish;
  ASSERT_TRUE(Run(Command::kApply, SiteSpec(), &finish).ok());
  EXPECT_EQ(finish.done.size(), 20 - failed.done.size());
  EXPECT_TRUE(PlanOf(SiteSpec()).Converged());
}

TEST_F(PlanTest, ConsistencyErrorsAreRetriedAfterAPause) {
  cloud_.FailOnce("Create", "cloudtrail trail cairn-trail (us-east-1)",
                  Status(StatusCode::kInvalidArgument,
                         "CloudTrail CreateTrail x: InsufficientSnsTopicPolicyException: Incorrect SNS topic policy "
                         "(HTTP 400)"));
  RunReport r;
  ASSERT_TRUE(Run(Command::kApply, SiteSpec(), &r).ok());
  EXPECT_EQ(clock_.NowMicros(), 5'000'000) << "one pause of 5 s before the retry";
}

TEST_F(PlanTest, DriftIsShownWithTheChangedAttributes) {
  ASSERT_TRUE(PlanOf(SiteSpec(), Command::kApply).Converged() == false);
  for (auto& [key, r] : cloud_.resources) {
    if (r.kind == Kind::kTrail && r.region == "us-west-1") {
      r.attrs["IsLogging"] = "false";
      r.attrs["IncludeGlobalServiceEvents"] = "true";
    }
    if (r.kind == Kind::kQueue) r.attrs["Policy"] = "{}";
  }
  Plan plan = PlanOf(SiteSpec());
  EXPECT_EQ(plan.Count(Action::kUpdate), 2);
  std::string text = plan.Format(/*verbose=*/false);
  EXPECT_NE(text.find("~ cloudtrail trail cairn-trail (us-west-1)\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    IsLogging: false -> true\n"), std::string::npos) << text;
  EXPECT_NE(text.find("    IncludeGlobalServiceEvents: true -> false\n"), std::string::npos) << text;
  EXPECT_NE(text.find("~ sqs queue cairn-cloudtrail (us-west-2)\n    Policy: {} -> {"), std::string::npos) << text;
  EXPECT_EQ(text.find("= "), std::string::npos) << "quiet form hides unchanged resources";
  RunReport fix;
  ASSERT_TRUE(Run(Command::kApply, SiteSpec(), &fix).ok());
  EXPECT_EQ(fix.done.size(), 2u);
  EXPECT_TRUE(PlanOf(SiteSpec()).Converged());
}

TEST_F(PlanTest, LostAccessKeyIsReplacedAndTheOldOneDeleted) {
  ASSERT_TRUE(PlanOf(SiteSpec(), Command::kApply).Count(Action::kCreate) == 20);
  ASSERT_TRUE(cairn::FileSystem::Default()->RemoveFile(out_dir_ + "/inputs.conf").ok());
  Plan plan = PlanOf(SiteSpec());
  ASSERT_EQ(plan.Count(Action::kUpdate), 1) << plan.Format();
  RunReport r;
  ASSERT_TRUE(Run(Command::kApply, SiteSpec(), &r).ok());
  EXPECT_EQ(cloud_.keys_issued, 2);
  auto key = ReadExistingKey(out_dir_, "cairn");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->key_id, "AKIAFAKE00000002");
  EXPECT_TRUE(PlanOf(SiteSpec()).Converged());
}

TEST_F(PlanTest, SkippedServicesAreNeitherReadNorChanged) {
  ProvisionSpec spec = SiteSpec();
  spec.skip = {"cloudtrail", "iam"};
  cloud_.FailOnce("Read", "cloudtrail trail", Status(StatusCode::kUnavailable, "must not be read"));
  cloud_.FailOnce("Read", "iam ", Status(StatusCode::kUnavailable, "must not be read"));
  Plan plan = PlanOf(spec, Command::kApply);
  EXPECT_EQ(plan.Count(Action::kCreate), 13);
  EXPECT_EQ(plan.notes.size(), 2u);
  EXPECT_NE(plan.Format().find("note: cloudtrail: 5 trail(s) not read or changed"), std::string::npos);
  EXPECT_TRUE(PlanOf(spec).Converged());
}

TEST_F(PlanTest, ReadErrorsStopThePlanWithTheResource) {
  cloud_.FailOnce("Read", "sqs queue", Status(StatusCode::kPermissionDenied,
                                              "SQS GetQueueUrl cairn-cloudtrail: AccessDenied: Access to the "
                                              "resource is denied. (HTTP 403)"));
  RunReport r;
  Status s = Run(Command::kPlan, SiteSpec(), &r);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.code(), StatusCode::kPermissionDenied);
  EXPECT_NE(s.message().find("reading sqs queue cairn-cloudtrail (us-west-2)"), std::string::npos) << s.message();
  EXPECT_NE(s.message().find("AccessDenied"), std::string::npos);
}

TEST_F(PlanTest, MultiRegionLayoutHasOneTrailAndOneTopic) {
  ProvisionSpec spec;  // defaults: multi-region, role
  Plan plan = PlanOf(spec, Command::kApply);
  EXPECT_EQ(plan.Count(Action::kCreate), 1 + 2 + 1 + 1 + 1 + 1);
  const Resource* trail = nullptr;
  for (const auto& [k, r] : cloud_.resources) {
    if (r.kind == Kind::kTrail) trail = &r;
  }
  ASSERT_NE(trail, nullptr);
  EXPECT_EQ(trail->Attr("IsMultiRegionTrail"), "true");
  EXPECT_EQ(trail->Attr("IncludeGlobalServiceEvents"), "true");
  EXPECT_EQ(trail->region, "us-west-2");
  EXPECT_TRUE(PlanOf(spec).Converged());
}

}  // namespace
}  // namespace cairn::provision
