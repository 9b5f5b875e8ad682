// The AWS client against the fauxqs emulator on 127.0.0.1 (started and stopped here): S3, SQS
// and SNS as the collector and provisioning use them, error cases, and — when the AWS CLI is
// installed — the CLI as an independent client of the same emulator.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <chrono>
#include <cstdio>
#include <set>
#include <thread>

#include <unistd.h>

#include "aws/client.h"
#include "aws/s3.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "aws/sts.h"
#include "common/fs.h"
#include "common/testing.h"
#include "harness/fauxqs.h"

namespace cairn::aws {
namespace {

using cairn::testing::FauxqsServer;

class FauxqsTest : public cairn::testing::FauxqsSuite {
 protected:
  std::unique_ptr<AwsClient> Client(const std::string& region = "us-west-2") {
    HttpOptions h;
    h.use_env_proxy = false;
    AwsClientOptions o;
    o.region = region;
    o.endpoints.endpoint_url = server_->endpoint();
    o.retry.base_delay_ms = 10;
    o.retry.throttle_base_delay_ms = 10;
    return std::make_unique<AwsClient>(
        NewCurlHttpClient(h), std::make_shared<StaticCredentialsProvider>(Credentials{"test", "test", "", 0, "test"}), o);
  }
};

TEST_F(FauxqsTest, S3PutGetListDelete) {
  CAIRN_REQUIRE_FAUXQS();
  auto aws = Client();
  S3Client s3(aws.get());
  ASSERT_TRUE(s3.CreateBucket("cairn-trail").ok());
  // A multi-megabyte object, streamed back in small pieces.
  std::string big(6 << 20, 0);
  for (size_t i = 0; i < big.size(); ++i) big[i] = static_cast<char>((i * 131) % 251);
  auto etag = s3.PutObject("cairn-trail", "AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/10/big.json.gz", big,
                           "application/octet-stream", {{"origin", "cairn-test"}});
  ASSERT_TRUE(etag.ok()) << etag.status().ToString();
  for (const char* key : {"AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/10/a.json.gz",
                          "AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/11/b.json.gz",
                          "AWSLogs/111122223333/CloudTrail/eu-west-1/2023/07/10/c.json.gz",
                          "AWSLogs/111122223333/CloudTrail-Digest/us-west-2/2023/07/10/d.json.gz",
                          "other/key with spaces+plus.txt"}) {
    ASSERT_TRUE(s3.PutObject("cairn-trail", key, std::string("body of ") + key).ok()) << key;
  }
  size_t largest = 0;
  std::string got;
  auto info = s3.GetObject("cairn-trail", "AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/10/big.json.gz",
                           [&](std::string_view chunk) {
                             largest = std::max(largest, chunk.size());
                             got.append(chunk);
                             return Status::Ok();
                           });
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_TRUE(got == big);
  EXPECT_EQ(info->size, big.size());
  EXPECT_EQ(info->etag, *etag);
  EXPECT_EQ(info->metadata["origin"], "cairn-test");
  EXPECT_LE(largest, 1u << 20) << "the body must arrive in pieces, not whole";

  auto spaced = s3.GetObjectToString("cairn-trail", "other/key with spaces+plus.txt", 1 << 20);
  ASSERT_TRUE(spaced.ok()) << spaced.status().ToString();
  EXPECT_EQ(*spaced, "body of other/key with spaces+plus.txt");
  auto head = s3.HeadObject("cairn-trail", "other/key with spaces+plus.txt");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(head->size, spaced->size());

  // Paging through a prefix two keys at a time.
  std::vector<std::string> keys;
  ListObjectsRequest req{.bucket = "cairn-trail", .prefix = "AWSLogs/111122223333/CloudTrail/", .max_keys = 2};
  int pages = 0;
  while (true) {
    auto page = s3.ListObjectsV2(req);
    ASSERT_TRUE(page.ok()) << page.status().ToString();
    ++pages;
    for (const auto& o : page->objects) keys.push_back(o.key);
    if (!page->truncated) break;
    req.continuation_token = page->next_continuation_token;
  }
  EXPECT_EQ(keys.size(), 4u);
  EXPECT_GE(pages, 2);
  EXPECT_TRUE(std::is_sorted(keys.begin(), keys.end()));
  // Delimiter and StartAfter.
  auto regions = s3.ListObjectsV2({.bucket = "cairn-trail", .prefix = "AWSLogs/111122223333/CloudTrail/", .delimiter = "/"});
  ASSERT_TRUE(regions.ok());
  EXPECT_EQ(regions->common_prefixes,
            (std::vector<std::string>{"AWSLogs/111122223333/CloudTrail/eu-west-1/", "AWSLogs/111122223333/CloudTrail/us-west-2/"}));
  auto after = s3.ListObjectsV2({.bucket = "cairn-trail", .prefix = "AWSLogs/111122223333/CloudTrail/us-west-2/",
                                 .start_after = "AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/10/big.json.gz"});
  ASSERT_TRUE(after.ok());
  ASSERT_EQ(after->objects.size(), 1u);
  EXPECT_EQ(after->objects[0].key, "AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/11/b.json.gz");

  ASSERT_TRUE(s3.DeleteObject("cairn-trail", "other/key with spaces+plus.txt").ok());
  auto gone = s3.HeadObject("cairn-trail", "other/key with spaces+plus.txt");
  EXPECT_EQ(gone.status().code(), StatusCode::kNotFound);
}

TEST_F(FauxqsTest, S3ErrorsAreClear) {
  CAIRN_REQUIRE_FAUXQS();
  auto aws = Client();
  S3Client s3(aws.get());
  ASSERT_TRUE(s3.CreateBucket("cairn-errors").ok());
  auto missing = s3.GetObjectToString("cairn-errors", "AWSLogs/nope.json.gz", 1 << 20);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_NE(missing.status().message().find("S3 GetObject s3://cairn-errors/AWSLogs/nope.json.gz: NoSuchKey"),
            std::string::npos)
      << missing.status().message();
  auto no_bucket = s3.ListObjectsV2({.bucket = "no-such-bucket-here"});
  ASSERT_FALSE(no_bucket.ok());
  EXPECT_EQ(no_bucket.status().code(), StatusCode::kNotFound);
  EXPECT_NE(no_bucket.status().message().find("NoSuchBucket"), std::string::npos) << no_bucket.status().message();
}

TEST_F(FauxqsTest, SqsReceiveDeleteAndVisibility) {
  CAIRN_REQUIRE_FAUXQS();
  auto aws = Client();
  SqsClient sqs(aws.get());
  auto url = sqs.CreateQueue("cairn-work", {{"VisibilityTimeout", "30"}});
  ASSERT_TRUE(url.ok()) << url.status().ToString();
  EXPECT_EQ(*sqs.GetQueueUrl("cairn-work"), *url);
  for (int i = 0; i < 12; ++i) ASSERT_TRUE(sqs.SendMessage(*url, "message " + std::to_string(i)).ok());
  auto attrs = sqs.GetQueueAttributes(*url, {"ApproximateNumberOfMessages", "QueueArn"});
  ASSERT_TRUE(attrs.ok()) << attrs.status().ToString();
  EXPECT_EQ((*attrs)["ApproximateNumberOfMessages"], "12");
  EXPECT_EQ((*attrs)["QueueArn"], "arn:aws:sqs:us-west-2:000000000000:cairn-work");

  auto first = sqs.ReceiveMessage(*url, {.max_messages = 10, .wait_seconds = 1});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  ASSERT_EQ(first->size(), 10u);
  EXPECT_EQ((*first)[0].receive_count(), 1);
  // Hand two back at once (visibility 0): they are received again with a higher count.
  auto back = sqs.ChangeMessageVisibilityBatch(*url, {{"a", (*first)[0].receipt_handle, 0}, {"b", (*first)[1].receipt_handle, 0}});
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->successful.size(), 2u);
  ASSERT_TRUE(sqs.ChangeMessageVisibility(*url, (*first)[2].receipt_handle, 0).ok());
  std::vector<DeleteEntry> entries;
  for (size_t i = 3; i < first->size(); ++i) entries.push_back({"d" + std::to_string(i), (*first)[i].receipt_handle});
  auto deleted = sqs.DeleteMessageBatch(*url, entries);
  ASSERT_TRUE(deleted.ok()) << deleted.status().ToString();
  EXPECT_EQ(deleted->successful.size(), entries.size());
  EXPECT_TRUE(deleted->failed.empty());

  std::set<std::string> bodies;
  int redelivered = 0;
  for (int round = 0; round < 3 && bodies.size() < 5; ++round) {
    auto again = sqs.ReceiveMessage(*url, {.max_messages = 10, .wait_seconds = 1});
    ASSERT_TRUE(again.ok());
    for (const auto& m : *again) {
      bodies.insert(m.body);
      if (m.receive_count() == 2) ++redelivered;
      ASSERT_TRUE(sqs.DeleteMessage(*url, m.receipt_handle).ok());
    }
  }
  EXPECT_EQ(bodies.size(), 5u) << "3 handed back + 2 never received";
  EXPECT_EQ(redelivered, 3);

  // Long polling: an empty queue holds the request until a message arrives.
  std::thread sender([&] {
    std::this_thread::sleep_for(std::chrono::milliseconds(700));
    auto other = Client();
    SqsClient s(other.get());
    EXPECT_TRUE(s.SendMessage(*url, "late").ok());
  });
  auto start = std::chrono::steady_clock::now();
  auto late = sqs.ReceiveMessage(*url, {.max_messages = 10, .wait_seconds = 5});
  auto took = std::chrono::steady_clock::now() - start;
  sender.join();
  ASSERT_TRUE(late.ok());
  ASSERT_EQ(late->size(), 1u);
  EXPECT_EQ((*late)[0].body, "late");
  EXPECT_GE(took, std::chrono::milliseconds(500));
  EXPECT_LT(took, std::chrono::milliseconds(4500)) << "the long poll should return when the message arrives";
  ASSERT_TRUE(sqs.DeleteMessage(*url, (*late)[0].receipt_handle).ok());
  auto empty_start = std::chrono::steady_clock::now();
  auto empty = sqs.ReceiveMessage(*url, {.max_messages = 10, .wait_seconds = 1});
  ASSERT_TRUE(empty.ok());
  EXPECT_TRUE(empty->empty());
  EXPECT_GE(std::chrono::steady_clock::now() - empty_start, std::chrono::milliseconds(900));
}

TEST_F(FauxqsTest, SqsMissingQueueIsNotFound) {
  CAIRN_REQUIRE_FAUXQS();
  auto aws = Client();
  SqsClient sqs(aws.get());
  std::string url = "http://sqs.us-west-2.localhost:" + std::to_string(server_->port()) + "/000000000000/nope";
  auto r = sqs.ReceiveMessage(url, {.wait_seconds = 0});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_NE(r.status().message().find("SQS ReceiveMessage " + url + ": QueueDoesNotExist"), std::string::npos)
      << r.status().message();
  auto by_name = sqs.GetQueueUrl("nope");
  EXPECT_EQ(by_name.status().code(), StatusCode::kNotFound) << by_name.status().ToString();
}

// The original site's topology: a topic in each of five regions feeding one queue in us-west-2.
TEST_F(FauxqsTest, SnsFanOutFromFiveRegionsToOneQueue) {
  CAIRN_REQUIRE_FAUXQS();
  auto aws = Client("us-west-2");
  SqsClient sqs(aws.get());
  SnsClient sns(aws.get());
  auto url = sqs.CreateQueue("cairn-cloudtrail");
  ASSERT_TRUE(url.ok());
  auto arn = sqs.GetQueueAttributes(*url, {"QueueArn"});
  ASSERT_TRUE(arn.ok());
  std::string queue_arn = (*arn)["QueueArn"];
  const std::vector<std::string> regions = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "sa-east-1"};
  std::set<std::string> topics;
  for (const auto& region : regions) {
    auto topic = sns.CreateTopic("cloudtrail-" + region, region);
    ASSERT_TRUE(topic.ok()) << topic.status().ToString();
    EXPECT_EQ(RegionFromArn(*topic), region);
    topics.insert(*topic);
    auto sub = sns.Subscribe(*topic, "sqs", queue_arn);
    ASSERT_TRUE(sub.ok()) << sub.status().ToString();
    std::string note = R"({"s3Bucket":"cairn-trail","s3ObjectKey":["AWSLogs/1/CloudTrail/)" + region + R"(/f.json.gz"]})";
    ASSERT_TRUE(sns.Publish(*topic, note).ok());
  }
  std::set<std::string> seen_topics;
  for (int round = 0; round < 5 && seen_topics.size() < regions.size(); ++round) {
    auto msgs = sqs.ReceiveMessage(*url, {.max_messages = 10, .wait_seconds = 1});
    ASSERT_TRUE(msgs.ok());
    for (const auto& m : *msgs) {
      simdjson::dom::parser parser;
      simdjson::padded_string body(m.body);
      simdjson::dom::element doc = parser.parse(body);
      EXPECT_EQ(std::string_view(doc["Type"].get_string().value()), "Notification");
      std::string topic(doc["TopicArn"].get_string().value());
      std::string inner(doc["Message"].get_string().value());
      EXPECT_NE(inner.find(RegionFromArn(topic)), std::string::npos) << inner;
      seen_topics.insert(topic);
      ASSERT_TRUE(sqs.DeleteMessage(*url, m.receipt_handle).ok());
    }
  }
  EXPECT_EQ(seen_topics, topics);
  auto missing_topic = sns.Publish("arn:aws:sns:us-west-2:000000000000:no-such-topic", "x");
  ASSERT_FALSE(missing_topic.ok());
  EXPECT_EQ(missing_topic.status().code(), StatusCode::kNotFound) << missing_topic.status().ToString();
}

TEST_F(FauxqsTest, StsCallerIdentity) {
  CAIRN_REQUIRE_FAUXQS();
  auto aws = Client();
  StsClient sts(aws.get());
  auto id = sts.GetCallerIdentity();
  ASSERT_TRUE(id.ok()) << id.status().ToString();
  EXPECT_EQ(id->account, "000000000000");
}

std::string RunShell(const std::string& cmd, int* rc) {
  std::string out;
  FILE* p = ::popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) out.append(buf, n);
  *rc = ::pclose(p);
  return out;
}

// The AWS CLI Debian packages (awscli; `make test` installs it), never another `aws` that happens
// to come first on PATH: that one speaks SQS's query protocol (version 2.9.19), which the
// emulator answers through tests/harness/sqs_query.mjs.
constexpr const char* kDebianAwsCli = "/usr/bin/aws";

// The AWS CLI, an independent client, sees what cairn wrote and writes what cairn reads, over S3
// and over SQS both ways.
TEST_F(FauxqsTest, AwsCliInteroperates) {
  CAIRN_REQUIRE_FAUXQS();
  if (::access(kDebianAwsCli, X_OK) != 0) {
    if (cairn::testing::UnderCi()) FAIL() << kDebianAwsCli << " is missing under CI=true";
    GTEST_SKIP() << kDebianAwsCli << " (Debian package awscli) is not installed; `make test` installs it";
  }
  int rc = 0;
  const std::string env =
      "env -i PATH=/usr/bin:/bin HOME=/nonexistent AWS_ACCESS_KEY_ID=test AWS_SECRET_ACCESS_KEY=test "
      "AWS_DEFAULT_REGION=us-west-2 AWS_EC2_METADATA_DISABLED=true AWS_CONFIG_FILE=/dev/null "
      "AWS_SHARED_CREDENTIALS_FILE=/dev/null AWS_PAGER= NO_PROXY=127.0.0.1 no_proxy=127.0.0.1 ";
  const std::string cli = env + kDebianAwsCli + " --endpoint-url " + server_->endpoint() + " ";
  std::printf("%s", RunShell(env + kDebianAwsCli + " --version 2>&1", &rc).c_str());
  auto aws = Client();
  S3Client s3(aws.get());
  SqsClient sqs(aws.get());
  ASSERT_TRUE(s3.CreateBucket("cairn-cli").ok());
  ASSERT_TRUE(s3.PutObject("cairn-cli", "AWSLogs/1/from-cairn.json", "{\"Records\":[]}").ok());
  std::string listed = RunShell(cli + "s3api list-objects-v2 --bucket cairn-cli --output text --query 'Contents[].Key' 2>&1", &rc);
  EXPECT_EQ(rc, 0) << listed;
  EXPECT_NE(listed.find("AWSLogs/1/from-cairn.json"), std::string::npos) << listed;
  const std::string tmp = cairn::testing::MakeTempDir("cairn_cli");
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), tmp + "/body.json", "{\"from\":\"cli\"}").ok());
  std::string put = RunShell(cli + "s3api put-object --bucket cairn-cli --key AWSLogs/1/from-cli.json --body " +
                                 tmp + "/body.json 2>&1",
                             &rc);
  EXPECT_EQ(rc, 0) << put;
  auto body = s3.GetObjectToString("cairn-cli", "AWSLogs/1/from-cli.json", 1 << 20);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_EQ(*body, "{\"from\":\"cli\"}");
  FileSystem::Default()->RemoveAll(tmp).IgnoreError();
  auto url = sqs.CreateQueue("cairn-cli-queue");
  ASSERT_TRUE(url.ok());
  // The CLI sends, cairn receives.
  std::string sent = RunShell(cli + "sqs send-message --queue-url '" + *url + "' --message-body from-cli 2>&1", &rc);
  EXPECT_EQ(rc, 0) << sent;
  auto got = sqs.ReceiveMessage(*url, {.max_messages = 1, .wait_seconds = 2});
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_EQ(got->size(), 1u) << sent;
  EXPECT_EQ((*got)[0].body, "from-cli");
  ASSERT_TRUE(sqs.DeleteMessage(*url, (*got)[0].receipt_handle).ok());
  // cairn sends, the CLI receives and deletes.
  ASSERT_TRUE(sqs.SendMessage(*url, "from-cairn <&>").ok());
  std::string received = RunShell(cli + "sqs receive-message --queue-url '" + *url +
                                      "' --wait-time-seconds 2 --output text --query 'Messages[0].[Body,ReceiptHandle]' 2>&1",
                                  &rc);
  ASSERT_EQ(rc, 0) << received;
  const size_t tab = received.find('\t');
  ASSERT_NE(tab, std::string::npos) << received;
  EXPECT_EQ(received.substr(0, tab), "from-cairn <&>");
  std::string handle = received.substr(tab + 1);
  while (!handle.empty() && (handle.back() == '\n' || handle.back() == '\r')) handle.pop_back();
  std::string deleted = RunShell(cli + "sqs delete-message --queue-url '" + *url + "' --receipt-handle '" + handle + "' 2>&1", &rc);
  EXPECT_EQ(rc, 0) << deleted;
  std::string depth = RunShell(cli + "sqs get-queue-attributes --queue-url '" + *url +
                                   "' --attribute-names All --output text --query 'Attributes.[ApproximateNumberOfMessages,ApproximateNumberOfMessagesNotVisible]' 2>&1",
                               &rc);
  EXPECT_EQ(rc, 0) << depth;
  EXPECT_EQ(depth, "0\t0\n");
  // An error comes back as the query protocol's error.
  std::string missing = RunShell(cli + "sqs send-message --queue-url '" + server_->endpoint() +
                                     "/000000000000/no-such-queue' --message-body x 2>&1", &rc);
  EXPECT_NE(rc, 0);
  EXPECT_NE(missing.find("NonExistentQueue"), std::string::npos) << missing;
}

}  // namespace
}  // namespace cairn::aws
