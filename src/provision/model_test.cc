// The desired state: names, ARNs, layouts and the policy documents, field by field.

#include "provision/model.h"

#include <gtest/gtest.h>

#include "provision/json.h"

namespace cairn::provision {
namespace {

constexpr char kAccount[] = "111122223333";

ProvisionSpec Site() {
  ProvisionSpec s;
  s.layout = TrailLayout::kPerRegion;
  s.regions = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "sa-east-1"};
  return s;
}

JsonValue Parse(const std::string& text) {
  auto v = JsonValue::Parse(text, "policy");
  EXPECT_TRUE(v.ok()) << text;
  return v.ok() ? *v : JsonValue();
}

const JsonValue& Statement(const JsonValue& doc, size_t i) { return doc.Find("Statement")->items().at(i); }

TEST(ModelTest, SiteLayoutHasATrailAndTopicPerRegionAndGlobalEventsOnlyAtHome) {
  auto d = BuildDesiredState(Site(), kAccount);
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  int trails = 0, topics = 0, global = 0;
  for (const auto& r : d->resources) {
    if (r.kind == Kind::kTopic) {
      ++topics;
      EXPECT_EQ(r.arn, "arn:aws:sns:" + r.region + ":111122223333:cairn-cloudtrail");
    }
    if (r.kind == Kind::kTrail) {
      ++trails;
      EXPECT_EQ(r.Attr("IsMultiRegionTrail"), "false");
      EXPECT_EQ(r.Attr("LogFileValidationEnabled"), "true");
      EXPECT_EQ(r.Attr("SnsTopicName"), "cairn-cloudtrail");
      if (r.Attr("IncludeGlobalServiceEvents") == "true") {
        ++global;
        EXPECT_EQ(r.region, "us-west-2");
      }
    }
  }
  EXPECT_EQ(trails, 5);
  EXPECT_EQ(topics, 5);
  EXPECT_EQ(global, 1) << "global-service events are logged once, in the home region";
  EXPECT_EQ(d->names.bucket, "cairn-cloudtrail-111122223333");
  EXPECT_EQ(d->names.queue_arn, "arn:aws:sqs:us-west-2:111122223333:cairn-cloudtrail");
}

TEST(ModelTest, BucketPolicyIsWhatCloudTrailRequires) {
  auto d = BuildDesiredState(Site(), kAccount);
  ASSERT_TRUE(d.ok());
  JsonValue doc = Parse(BucketPolicy(d->names));
  EXPECT_EQ(doc.GetText("Version"), "2012-10-17");
  ASSERT_EQ(doc.Find("Statement")->items().size(), 2u);
  const JsonValue& acl = Statement(doc, 0);
  EXPECT_EQ(acl.GetText("Sid"), "AWSCloudTrailAclCheck");
  EXPECT_EQ(acl.Find("Principal")->GetText("Service"), "cloudtrail.amazonaws.com");
  EXPECT_EQ(acl.GetText("Action"), "s3:GetBucketAcl");
  EXPECT_EQ(acl.GetText("Resource"), "arn:aws:s3:::cairn-cloudtrail-111122223333");
  const JsonValue* src = acl.Find("Condition")->Find("StringEquals")->Find("aws:SourceArn");
  ASSERT_TRUE(src && src->is_array());
  EXPECT_EQ(src->items().size(), 5u);
  const JsonValue& write = Statement(doc, 1);
  EXPECT_EQ(write.GetText("Sid"), "AWSCloudTrailWrite");
  EXPECT_EQ(write.GetText("Action"), "s3:PutObject");
  EXPECT_EQ(write.GetText("Resource"), "arn:aws:s3:::cairn-cloudtrail-111122223333/AWSLogs/111122223333/*");
  const JsonValue* eq = write.Find("Condition")->Find("StringEquals");
  EXPECT_EQ(eq->GetText("s3:x-amz-acl"), "bucket-owner-full-control");
  EXPECT_EQ(eq->Find("aws:SourceArn")->items().at(0).text(),
            "arn:aws:cloudtrail:eu-west-1:111122223333:trail/cairn-trail");
}

TEST(ModelTest, TopicPolicyLetsOnlyThatRegionsTrailPublish) {
  auto d = BuildDesiredState(Site(), kAccount);
  ASSERT_TRUE(d.ok());
  JsonValue doc = Parse(TopicPolicy(d->names, "sa-east-1"));
  ASSERT_EQ(doc.Find("Statement")->items().size(), 1u);
  const JsonValue& s = Statement(doc, 0);
  EXPECT_EQ(s.GetText("Effect"), "Allow");
  EXPECT_EQ(s.Find("Principal")->GetText("Service"), "cloudtrail.amazonaws.com");
  EXPECT_EQ(s.GetText("Action"), "SNS:Publish");
  EXPECT_EQ(s.GetText("Resource"), "arn:aws:sns:sa-east-1:111122223333:cairn-cloudtrail");
  EXPECT_EQ(s.Find("Condition")->Find("StringEquals")->GetText("aws:SourceArn"),
            "arn:aws:cloudtrail:sa-east-1:111122223333:trail/cairn-trail");
}

TEST(ModelTest, QueueAcceptsOnlyTheTopicsAndRedrivesToTheDeadLetterQueue) {
  auto d = BuildDesiredState(Site(), kAccount);
  ASSERT_TRUE(d.ok());
  JsonValue doc = Parse(QueuePolicy(d->names));
  const JsonValue& s = Statement(doc, 0);
  EXPECT_EQ(s.Find("Principal")->GetText("Service"), "sns.amazonaws.com");
  EXPECT_EQ(s.GetText("Action"), "sqs:SendMessage");
  EXPECT_EQ(s.GetText("Resource"), "arn:aws:sqs:us-west-2:111122223333:cairn-cloudtrail");
  const JsonValue* topics = s.Find("Condition")->Find("ArnEquals")->Find("aws:SourceArn");
  ASSERT_TRUE(topics && topics->is_array());
  ASSERT_EQ(topics->items().size(), 5u);
  for (const auto& t : topics->items()) EXPECT_EQ(t.text().rfind("arn:aws:sns:", 0), 0u);
  JsonValue redrive = Parse(RedrivePolicy(d->names, 7));
  EXPECT_EQ(redrive.GetText("deadLetterTargetArn"), "arn:aws:sqs:us-west-2:111122223333:cairn-cloudtrail-dlq");
  EXPECT_EQ(redrive.Find("maxReceiveCount")->type(), JsonValue::Type::kNumber);
  EXPECT_EQ(redrive.GetText("maxReceiveCount"), "7");
}

TEST(ModelTest, TrustPolicyNamesThePrincipalAndExternalId) {
  ProvisionSpec spec;
  spec.trusted_principal = "arn:aws:iam::444455556666:role/collector";
  spec.external_id = "cairn-7f3a";
  auto d = BuildDesiredState(spec, kAccount);
  ASSERT_TRUE(d.ok());
  JsonValue trust = Parse(TrustPolicy(d->names, spec));
  const JsonValue& s = Statement(trust, 0);
  EXPECT_EQ(s.GetText("Action"), "sts:AssumeRole");
  EXPECT_EQ(s.Find("Principal")->GetText("AWS"), "arn:aws:iam::444455556666:role/collector");
  EXPECT_EQ(s.Find("Condition")->Find("StringEquals")->GetText("sts:ExternalId"), "cairn-7f3a");
  spec = ProvisionSpec();
  JsonValue plain_doc = Parse(TrustPolicy(d->names, spec));
  const JsonValue& plain = Statement(plain_doc, 0);
  EXPECT_EQ(plain.Find("Principal")->GetText("AWS"), "arn:aws:iam::111122223333:root");
  EXPECT_EQ(plain.Find("Condition"), nullptr);
}

TEST(ModelTest, BadOptionsAreNamed) {
  ProvisionSpec s;
  s.name_prefix = "Cairn_Prod";
  EXPECT_NE(s.Validate().message().find("name prefix \"Cairn_Prod\""), std::string::npos);
  s = ProvisionSpec();
  s.regions = {"us-east-1", "mars-1"};
  EXPECT_NE(s.Validate().message().find("\"mars-1\""), std::string::npos);
  s = Site();
  s.regions = {"us-east-1", "eu-west-1"};
  EXPECT_NE(s.Validate().message().find("home region us-west-2"), std::string::npos);
  s = ProvisionSpec();
  s.skip = {"s3"};
  EXPECT_FALSE(s.Validate().ok());
  s = ProvisionSpec();
  s.bucket = "Bad_Bucket";
  EXPECT_FALSE(s.Validate().ok());
  EXPECT_FALSE(BuildDesiredState(ProvisionSpec(), "12345").ok());
  s = ProvisionSpec();
  s.home_region = "cn-north-1";
  auto cn = BuildDesiredState(s, kAccount);
  ASSERT_TRUE(cn.ok());
  EXPECT_EQ(cn->names.partition, "aws-cn");
  EXPECT_EQ(cn->names.queue_arn.rfind("arn:aws-cn:sqs:cn-north-1:", 0), 0u);
}

}  // namespace
}  // namespace cairn::provision
