// `cairn provision` against the fauxqs emulator on 127.0.0.1: the real S3, SQS and SNS drivers
// create the bucket, five topics, the queue with its dead-letter queue and policy, and the
// subscriptions; a second apply plans nothing; a CloudTrail-shaped notification published to a
// provisioned topic arrives in the queue; destroy removes it all and a new plan creates all.
//
// What fauxqs does not serve is faked here, tests only: CloudTrail and IAM by the in-memory
// cloud (provision/testing.h), and S3's bucket sub-resources (?policy, ?encryption,
// ?publicAccessBlock, ?tagging), which fauxqs 1.9.2 does not implement, by an HttpClient wrapper
// that answers those requests from memory — checking their Content-MD5 — and passes every other
// request through to fauxqs. The S3 driver's requests and parsing are thus still exercised.

#include <gtest/gtest.h>
#include <sys/stat.h>

#include <map>
#include <mutex>

#include "aws/client.h"
#include "aws/s3.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "aws/sts.h"
#include "common/fs.h"
#include "common/testing.h"
#include "harness/fauxqs.h"
#include "provision/aws_drivers.h"
#include "provision/json.h"
#include "provision/provisioner.h"
#include "provision/testing.h"

namespace cairn::provision {
namespace {

using cairn::testing::FauxqsServer;

// Serves S3 bucket sub-resources from memory; everything else goes to `next`.
class BucketSettingsFake final : public aws::HttpClient {
 public:
  explicit BucketSettingsFake(std::shared_ptr<aws::HttpClient> next) : next_(std::move(next)) {}

  Result<aws::HttpResponse> Execute(const aws::HttpRequest& r, const aws::BodySink* sink) override {
    static const std::map<std::string, std::string> kMissing = {
        {"policy", "NoSuchBucketPolicy"},
        {"encryption", "ServerSideEncryptionConfigurationNotFoundError"},
        {"publicAccessBlock", "NoSuchPublicAccessBlockConfiguration"},
        {"tagging", "NoSuchTagSet"}};
    std::string sub = r.query.size() == 1 ? r.query[0].first : "";
    if (!kMissing.count(sub)) {
      Result<aws::HttpResponse> resp = next_->Execute(r, sink);
      std::string path = r.path.substr(1);
      bool bucket_level = path.find('/') == std::string::npos || path.find('/') == path.size() - 1;
      if (resp.ok() && resp->ok() && r.method == "DELETE" && bucket_level) {
        std::lock_guard<std::mutex> lock(mu_);
        settings_.erase(Bucket(r));
      }
      return resp;
    }
    std::lock_guard<std::mutex> lock(mu_);
    ++served_;
    std::string bucket = Bucket(r);
    if (r.method == "PUT") {
      if (aws::FindHeader(r.headers, "Content-MD5") != ContentMd5(r.body)) {
        return aws::HttpResponse{400, {}, "<Error><Code>InvalidDigest</Code><Message>Content-MD5</Message></Error>"};
      }
      settings_[bucket][sub] = r.body;
      return aws::HttpResponse{200, {}, ""};
    }
    auto b = settings_.find(bucket);
    if (b == settings_.end() || !b->second.count(sub)) {
      return aws::HttpResponse{404, {}, "<Error><Code>" + kMissing.at(sub) + "</Code><Message>none</Message></Error>"};
    }
    return aws::HttpResponse{200, {}, b->second[sub]};
  }

  int served() {
    std::lock_guard<std::mutex> lock(mu_);
    return served_;
  }
  std::string Get(const std::string& bucket, const std::string& sub) {
    std::lock_guard<std::mutex> lock(mu_);
    return settings_[bucket][sub];
  }

 private:
  static std::string Bucket(const aws::HttpRequest& r) {
    std::string p = r.path.substr(1);
    return p.substr(0, p.find('/'));
  }
  std::shared_ptr<aws::HttpClient> next_;
  std::mutex mu_;
  std::map<std::string, std::map<std::string, std::string>> settings_;
  int served_ = 0;
};

class ProvisionFauxqsTest : public cairn::testing::FauxqsSuite {
 protected:
  void SetUp() override {
    FauxqsSuite::SetUp();
    if (HasFatalFailure() || server_ == nullptr) return;
    aws::HttpOptions h;
    h.use_env_proxy = false;
    http_ = std::make_shared<BucketSettingsFake>(aws::NewCurlHttpClient(h));
    aws::AwsClientOptions o;
    o.region = "us-west-2";
    o.endpoints.endpoint_url = server_->endpoint();
    o.retry.base_delay_ms = 10;
    o.retry.throttle_base_delay_ms = 10;
    client_ = std::make_unique<aws::AwsClient>(
        http_, std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"test", "test", "", 0, "test"}), o);
    s3_ = NewS3Driver(client_.get());
    sqs_ = NewSqsDriver(client_.get());
    sns_ = NewSnsDriver(client_.get());
    trail_ = fake_.Driver("cloudtrail");
    iam_ = fake_.Driver("iam");
    out_dir_ = cairn::testing::MakeTempDir("provision-fauxqs");
  }

  RunOptions Options(Command command) {
    RunOptions o;
    o.command = command;
    o.spec.name_prefix = prefix_;
    o.spec.layout = TrailLayout::kPerRegion;
    o.spec.regions = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "sa-east-1"};
    o.spec.reader = ReaderKind::kUser;
    o.spec.raw_delivery = false;
    o.out_dir = out_dir_;
    o.collector.aws_settings["endpoint_url"] = server_->endpoint();
    return o;
  }

  Status Run(Command command, RunReport* report) {
    ProvisionerOptions p;
    p.clock = &clock_;
    return RunProvision(Options(command), account_, {s3_.get(), sqs_.get(), sns_.get(), trail_.get(), iam_.get()},
                        report, p);
  }

  std::shared_ptr<BucketSettingsFake> http_;
  std::unique_ptr<aws::AwsClient> client_;
  std::unique_ptr<ServiceDriver> s3_, sqs_, sns_, trail_, iam_;
  testing::FakeCloud fake_;
  ManualClock clock_{0};
  std::string out_dir_;
  std::string account_;
  std::string prefix_ = "cairn";
};

TEST_F(ProvisionFauxqsTest, ApplyConvergesDeliversAndDestroys) {
  CAIRN_REQUIRE_FAUXQS();
  aws::StsClient sts(client_.get());
  auto who = sts.GetCallerIdentity();
  ASSERT_TRUE(who.ok()) << who.status().ToString();
  account_ = who->account;
  ASSERT_EQ(account_.size(), 12u);

  // 1. plan on an empty emulator: everything to create, nothing changed.
  RunReport plan;
  ASSERT_TRUE(Run(Command::kPlan, &plan).ok());
  EXPECT_EQ(plan.plan.Count(Action::kCreate), 20) << plan.plan.Format();
  aws::SqsClient sqs(client_.get());
  EXPECT_EQ(sqs.GetQueueUrl("cairn-cloudtrail").status().code(), StatusCode::kNotFound);

  // 2. apply creates it all.
  RunReport apply;
  Status applied = Run(Command::kApply, &apply);
  ASSERT_TRUE(applied.ok()) << applied.ToString();
  EXPECT_EQ(apply.done.size(), 20u);
  const StackNames& n = apply.desired.names;

  auto url = sqs.GetQueueUrl("cairn-cloudtrail");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  auto attrs = sqs.GetQueueAttributes(*url);
  ASSERT_TRUE(attrs.ok());
  auto redrive = JsonValue::Parse((*attrs)["RedrivePolicy"], "RedrivePolicy");
  ASSERT_TRUE(redrive.ok()) << (*attrs)["RedrivePolicy"];
  EXPECT_EQ(redrive->GetText("deadLetterTargetArn"), n.dlq_arn);
  EXPECT_EQ(redrive->GetText("maxReceiveCount"), "5");
  auto policy = JsonValue::Parse((*attrs)["Policy"], "queue Policy");
  ASSERT_TRUE(policy.ok());
  ASSERT_NE(policy->Find("Statement"), nullptr);
  ASSERT_EQ(policy->Find("Statement")->items().size(), 1u) << (*attrs)["Policy"];
  EXPECT_EQ(policy->Find("Statement")->items()[0].GetText("Action"), "sqs:SendMessage");
  EXPECT_TRUE(sqs.GetQueueUrl("cairn-cloudtrail-dlq").ok());
  EXPECT_EQ(n.topic_arns.size(), 5u);
  for (const auto& [region, arn] : n.topic_arns) {
    EXPECT_EQ(aws::RegionFromArn(arn), region);
  }
  EXPECT_GE(http_->served(), 4) << "the bucket settings went through the S3 driver";
  auto bucket_policy = JsonValue::Parse(http_->Get(n.bucket, "policy"), "bucket policy");
  ASSERT_TRUE(bucket_policy.ok());
  ASSERT_NE(bucket_policy->Find("Statement"), nullptr);
  ASSERT_EQ(bucket_policy->Find("Statement")->items().size(), 2u) << http_->Get(n.bucket, "policy");
  EXPECT_EQ(bucket_policy->Find("Statement")->items()[1].GetText("Sid"), "AWSCloudTrailWrite");
  EXPECT_NE(http_->Get(n.bucket, "encryption").find("AES256"), std::string::npos);

  // The generated config: the queue, the key, the emulator endpoint; secret file mode 0600.
  auto conf = ReadFileToString(FileSystem::Default(), out_dir_ + "/inputs.conf", 1 << 20);
  ASSERT_TRUE(conf.ok());
  EXPECT_NE(conf->find("sqs_queue = cairn-cloudtrail\n"), std::string::npos) << *conf;
  EXPECT_NE(conf->find("key_id = AKIAFAKE00000001\n"), std::string::npos);
  struct stat st;
  ASSERT_EQ(::stat((out_dir_ + "/cairn.toml").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 0777, 0600u);
  auto toml = ReadFileToString(FileSystem::Default(), out_dir_ + "/cairn.toml", 1 << 20);
  ASSERT_TRUE(toml.ok());
  EXPECT_NE(toml->find("endpoint_url = \"" + server_->endpoint() + "\""), std::string::npos) << *toml;

  // 3. a second apply against the same state plans zero changes.
  RunReport again;
  ASSERT_TRUE(Run(Command::kApply, &again).ok());
  EXPECT_TRUE(again.plan.Converged()) << again.plan.Format(/*verbose=*/false);
  EXPECT_EQ(again.plan.Count(Action::kNoop), 20);
  EXPECT_TRUE(again.done.empty());

  // 4. end to end: a log file in the bucket, CloudTrail's notification on the eu-west-1 topic,
  // and the message in the queue.
  aws::S3Client s3(client_.get());
  std::string key = "AWSLogs/" + account_ + "/CloudTrail/eu-west-1/2024/01/15/" + account_ +
                    "_CloudTrail_eu-west-1_20240115T1200Z_abc.json.gz";
  ASSERT_TRUE(s3.PutObject(n.bucket, key, std::string("\x1f\x8b", 2) + "not really gzip").ok());
  aws::SnsClient sns(client_.get());
  std::string note = R"({"s3Bucket":")" + n.bucket + R"(","s3ObjectKey":[")" + key + R"("]})";
  ASSERT_TRUE(sns.Publish(n.topic_arns.at("eu-west-1"), note).ok());
  std::vector<aws::SqsMessage> got;
  for (int i = 0; i < 5 && got.empty(); ++i) {
    auto r = sqs.ReceiveMessage(*url, {.max_messages = 10, .wait_seconds = 1});
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    got = *r;
  }
  ASSERT_EQ(got.size(), 1u);
  auto envelope = JsonValue::Parse(got[0].body, "SNS envelope");
  ASSERT_TRUE(envelope.ok()) << got[0].body;
  EXPECT_EQ(envelope->GetText("TopicArn"), n.topic_arns.at("eu-west-1"));
  auto inner = JsonValue::Parse(envelope->GetText("Message"), "notification");
  ASSERT_TRUE(inner.ok());
  EXPECT_EQ(inner->GetText("s3Bucket"), n.bucket);
  EXPECT_EQ(inner->Find("s3ObjectKey")->items().at(0).text(), key);
  auto body = s3.GetObjectToString(n.bucket, key, 1 << 20);
  ASSERT_TRUE(body.ok());
  ASSERT_TRUE(sqs.DeleteMessage(*url, got[0].receipt_handle).ok());

  // 5. destroy: the bucket holds a log file, so it is kept (with a note); everything else goes.
  RunReport destroy;
  ASSERT_TRUE(Run(Command::kDestroy, &destroy).ok());
  EXPECT_EQ(destroy.plan.Count(Action::kDelete), 20);
  bool kept = false;
  for (const auto& line : destroy.notes) kept |= line.find("s3 bucket " + n.bucket + " kept") != std::string::npos;
  EXPECT_TRUE(kept);
  EXPECT_EQ(sqs.GetQueueUrl("cairn-cloudtrail").status().code(), StatusCode::kNotFound);
  RunReport after_keep;
  ASSERT_TRUE(Run(Command::kPlan, &after_keep).ok());
  EXPECT_EQ(after_keep.plan.Count(Action::kCreate), 19);
  EXPECT_EQ(after_keep.plan.Count(Action::kNoop), 1) << "only the bucket is left, as it was";

  // Emptied, the bucket goes too; then plan shows everything to create.
  ASSERT_TRUE(s3.DeleteObject(n.bucket, key).ok());
  RunReport destroy2;
  ASSERT_TRUE(Run(Command::kDestroy, &destroy2).ok());
  EXPECT_EQ(destroy2.done.size(), 1u);
  RunReport final_plan;
  ASSERT_TRUE(Run(Command::kPlan, &final_plan).ok());
  EXPECT_EQ(final_plan.plan.Count(Action::kCreate), 20) << final_plan.plan.Format();
}

TEST_F(ProvisionFauxqsTest, DestroyLeavesAForeignQueueAlone) {
  CAIRN_REQUIRE_FAUXQS();
  account_ = "000000000000";
  prefix_ = "foreign";
  aws::SqsClient sqs(client_.get());
  // Someone else's queue with the name cairn would use, and no cairn tags.
  auto url = sqs.CreateQueue("foreign-cloudtrail", {{"VisibilityTimeout", "30"}}, "us-west-2");
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  RunReport destroy;
  ASSERT_TRUE(Run(Command::kDestroy, &destroy).ok());
  EXPECT_EQ(destroy.plan.Count(Action::kDelete), 0);
  EXPECT_EQ(destroy.plan.Count(Action::kKeep), 1) << destroy.plan.Format();
  EXPECT_TRUE(sqs.GetQueueUrl("foreign-cloudtrail").ok()) << "not cairn's: kept";
  // plan shows the adoption as changes (policy, redrive, tags), not a create.
  RunReport plan;
  ASSERT_TRUE(Run(Command::kPlan, &plan).ok());
  for (const auto& c : plan.plan.changes) {
    if (c.desired.kind == Kind::kQueue) {
      EXPECT_EQ(c.action, Action::kUpdate);
      std::set<std::string> names;
      for (const auto& a : c.attrs) names.insert(a.name);
      EXPECT_TRUE(names.count("VisibilityTimeout") && names.count("tags") && names.count("Policy"))
          << plan.plan.Format();
    }
  }
  ASSERT_TRUE(sqs.DeleteQueue(*url).ok());
}

}  // namespace
}  // namespace cairn::provision
