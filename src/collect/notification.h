#pragma once
// Understanding SQS message bodies: which S3 objects a notification names.
//
// Shapes (docs/collect.md, "Notifications"):
//   CloudTrail's own    {"s3Bucket":"b","s3ObjectKey":["k1","k2",...]}  every key of the list;
//                       keys are plain text
//   SNS envelope        {"Type":"Notification","Message":"<JSON text>",...}: Message is parsed
//                       again (any shape here); SubscriptionConfirmation/UnsubscribeConfirmation
//                       are ignored
//   S3 event            {"Records":[{"eventSource":"aws:s3","eventName":"ObjectCreated:Put",
//                       "s3":{"bucket":{"name"},"object":{"key","eTag","size"}}}]}: keys are
//                       URL-encoded with '+' for space; ObjectRemoved/ObjectRestore/... ignored
//   s3:TestEvent        {"Service":"Amazon S3","Event":"s3:TestEvent",...}: acknowledged
//   EventBridge         {"source":"aws.s3","detail-type":"Object Created","detail":{"bucket":
//                       {"name"},"object":{"key","etag","size"}}}: keys plain; other S3
//                       detail-types ignored
//   Lambda-style batch  {"Records":[{"eventSource":"aws:sqs","body":...}]} and
//                       {"Records":[{"EventSource":"aws:sns","Sns":{"Message":...}}]}: each body
//                       or message parsed again
// Anything else is invalid, with a reason. A message may mix parts: every object found is
// returned, and every invalid part is reported.
//
// Thread safety: ParseNotification is reentrant.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::collect {

struct ObjectRef {
  std::string bucket;
  std::string key;    // decoded: the key to ask S3 for
  std::string etag;   // without quotes; "" when the notification does not say
  int64_t size = -1;  // -1 when the notification does not say
  bool operator==(const ObjectRef&) const = default;
};

struct Notification {
  std::vector<ObjectRef> objects;
  bool test_event = false;           // s3:TestEvent seen
  std::vector<std::string> ignored;  // understood, nothing to collect (e.g. ObjectRemoved)
  std::vector<std::string> invalid;  // parts that are not a notification, with why
  std::string shape;                 // "cloudtrail", "sns/cloudtrail", "s3", "eventbridge", ...

  // Nothing to collect and at least one part invalid.
  bool IsInvalid() const { return objects.empty() && !invalid.empty(); }
};

// Parses one SQS message body. Never fails: problems are in `invalid`.
Notification ParseNotification(std::string_view body);

// Decodes an S3 event key: %XX escapes and '+' as space. Malformed escapes are kept as written.
std::string DecodeS3EventKey(std::string_view key);

}  // namespace cairn::collect
