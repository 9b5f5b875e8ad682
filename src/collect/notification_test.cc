#include "collect/notification.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/fs.h"
#include "common/json_util.h"
#include "common/testing.h"

namespace cairn::collect {
namespace {

std::string Read(const std::string& path) {
  auto s = ReadFileToString(FileSystem::Default(), path);
  EXPECT_TRUE(s.ok()) << path;
  return s.ok() ? *s : "";
}

// What each shared sample must give: objects (bucket/key), or ignored, or invalid.
struct Expect {
  std::vector<ObjectRef> objects;
  bool ignored = false;
  bool invalid = false;
};

TEST(NotificationTest, EverySharedSampleIsUnderstood) {
  CAIRN_REQUIRE_SHARED_DATA();
  const std::string dir = cairn::testing::SharedDataDir() + "/notifications";
  std::map<std::string, Expect> expect = {
      {"eventBridgeEvent.json", {{}, false, true}},  // an EC2 event: names no object
      {"s3Event.json",
       {{{"lambda-artifacts-deafc19498e3f2df", "b21b84d653bb07b05b1e6b33684dc11b",
          "b21b84d653bb07b05b1e6b33684dc11b", 1305107}}}},
      {"s3EventBridgeNotificationObjectCreatedEvent.json",
       {{{"example-bucket", "IMG_m7fzo3.jpg", "4e68adba0abe2dc8653dc3354e14c01d", 184662}}}},
      {"s3EventBridgeNotificationObjectDeletedEvent.json", {{}, true, false}},
      {"s3EventBridgeNotificationObjectExpiredEvent.json", {{}, true, false}},
      {"s3EventBridgeNotificationObjectRestoreCompletedEvent.json", {{}, true, false}},
      {"s3EventDecodedKey.json",
       {{{"sourcebucket", "Happy Face.jpg", "d41d8cd98f00b204e9800998ecf8427e", 1024}}}},
      {"s3EventDeleteObject.json", {{}, true, false}},
      {"s3EventGlacier.json",
       {{{"lambda-artifacts-deafc19498e3f2df", "b21b84d653bb07b05b1e6b33684dc11b",
          "b21b84d653bb07b05b1e6b33684dc11b", 1305107}}}},
      {"s3SqsEvent.json", {{{"xxx", "test.pdf", "2e3ad1e983318bbd8e73b080e2997980", 104681}}}},
      {"snsEvent.json", {{}, false, true}},     // "Hello from SNS!"
      {"snsSqsEvent.json", {{}, false, true}},  // an SNS message that is not a notification
      {"sqsEvent.json", {{}, false, true}},     // "Test message."
  };
  size_t seen = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    std::string name = entry.path().filename();
    if (entry.path().extension() != ".json") continue;
    ++seen;
    auto it = expect.find(name);
    ASSERT_NE(it, expect.end()) << "new sample " << name << ": add what it must give";
    Notification n = ParseNotification(Read(entry.path()));
    EXPECT_EQ(n.objects, it->second.objects) << name;
    EXPECT_EQ(!n.ignored.empty(), it->second.ignored) << name;
    EXPECT_EQ(n.IsInvalid(), it->second.invalid)
        << name << (n.invalid.empty() ? "" : ": " + n.invalid[0]);
    if (it->second.invalid) EXPECT_FALSE(n.invalid[0].empty());
  }
  EXPECT_EQ(seen, expect.size());
}

TEST(NotificationTest, CloudTrailSnsSamplesGiveEveryKey) {
  CAIRN_REQUIRE_SHARED_DATA();
  const std::string dir = cairn::testing::SharedDataDir() + "/cloudtrail/aws-docs/";
  Notification one =
      ParseNotification(Read(dir + "configure-sns-notifications-for-cloudtrail__0__sns.json"));
  ASSERT_EQ(one.objects.size(), 1u);
  EXPECT_EQ(one.objects[0].bucket, "your-bucket-name");
  EXPECT_EQ(one.objects[0].key,
            "AWSLogs/123456789012/CloudTrail/us-east-2/2013/12/13/"
            "123456789012_CloudTrail_us-west-2_20131213T1920Z_LnPgDQnpkSKEsppV.json.gz");
  std::string three_text = Read(dir + "configure-sns-notifications-for-cloudtrail__1__sns.json");
  Notification three = ParseNotification(three_text);
  ASSERT_EQ(three.objects.size(), 3u);
  EXPECT_EQ(three.shape, "cloudtrail");
  EXPECT_NE(three.objects[0].key, three.objects[2].key);
  EXPECT_TRUE(three.invalid.empty());

  // The same notification inside an SNS envelope, as SQS receives it from an SNS subscription.
  std::string envelope = std::string(
                             "{\"Type\":\"Notification\",\"MessageId\":\"m\",\"TopicArn\":"
                             "\"arn:aws:sns:us-east-1:123456789012:t\",\"Message\":") +
                         JsonString(three_text) + ",\"Timestamp\":\"2016-08-11T22:15:00.000Z\"}";
  Notification wrapped = ParseNotification(envelope);
  EXPECT_EQ(wrapped.objects, three.objects);
  EXPECT_EQ(wrapped.shape, "sns/cloudtrail");
}

TEST(NotificationTest, S3KeysAreUrlDecoded) {
  EXPECT_EQ(DecodeS3EventKey("a+b%2Bc%20d%2fe"), "a b+c d/e");
  EXPECT_EQ(DecodeS3EventKey("bad%zz%4"), "bad%zz%4");
  Notification n = ParseNotification(
      R"({"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put","s3":{"bucket":{"name":"b"},)"
      R"("object":{"key":"AWSLogs/1/CloudTrail/x+y%3D.json.gz","eTag":"\"e\""}}},)"
      R"({"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"z"}}}]})");
  ASSERT_EQ(n.objects.size(), 1u);
  EXPECT_EQ(n.objects[0].key, "AWSLogs/1/CloudTrail/x y=.json.gz");
  EXPECT_EQ(n.objects[0].etag, "e");
  EXPECT_EQ(n.ignored.size(), 1u);
}

TEST(NotificationTest, TestEventConfirmationsAndGarbage) {
  Notification t = ParseNotification(
      R"({"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2014-10-13T15:57:02.089Z","Bucket":"b","RequestId":"r","HostId":"h"})");
  EXPECT_TRUE(t.test_event);
  EXPECT_FALSE(t.IsInvalid());
  Notification sns_test = ParseNotification(
      R"({"Type":"Notification","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"{\"Service\":\"Amazon S3\",\"Event\":\"s3:TestEvent\"}"})");
  EXPECT_TRUE(sns_test.test_event);
  Notification confirm = ParseNotification(
      R"({"Type":"SubscriptionConfirmation","TopicArn":"arn:aws:sns:us-east-1:1:t","Message":"You have chosen..."})");
  EXPECT_FALSE(confirm.ignored.empty());
  EXPECT_FALSE(confirm.IsInvalid());
  for (const char* bad :
       {"", "not json", "[1,2]", "{}", R"({"s3Bucket":"b"})",
        R"({"s3Bucket":"b","s3ObjectKey":[]})", R"({"s3Bucket":"b","s3ObjectKey":[1]})",
        R"({"Type":"Notification","Message":"{{"})", R"({"Records":[]})"}) {
    Notification n = ParseNotification(bad);
    EXPECT_TRUE(n.IsInvalid()) << bad;
    EXPECT_FALSE(n.invalid.empty()) << bad;
  }
  // A CloudTrail notification with one bad key still yields the good ones, and reports the bad one.
  Notification mixed = ParseNotification(R"({"s3Bucket":"b","s3ObjectKey":["k1",7,"k2"]})");
  EXPECT_EQ(mixed.objects.size(), 2u);
  EXPECT_EQ(mixed.invalid.size(), 1u);
}

}  // namespace
}  // namespace cairn::collect
