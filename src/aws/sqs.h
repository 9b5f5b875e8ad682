#pragma once
// SQS over the JSON protocol (X-Amz-Target: AmazonSQS.<Action>, application/x-amz-json-1.0),
// which both AWS and the fauxqs emulator speak (fauxqs speaks only JSON for SQS).
//
// Queue URLs are parameters, never destinations: requests go to the configured SQS endpoint for
// the queue's region (taken from the URL's host when it has the sqs.<region>. form), so an
// emulator's "http://sqs.us-west-2.localhost:4566/000000000000/q" works unchanged.
//
// Errors name the API and the queue URL: "SQS ReceiveMessage <url>: QueueDoesNotExist: ...".

#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include "aws/client.h"

namespace cairn::aws {

struct SqsMessage {
  std::string message_id;
  std::string receipt_handle;
  std::string body;
  std::string md5_of_body;
  std::map<std::string, std::string> attributes;          // ApproximateReceiveCount, SentTimestamp, ...
  std::map<std::string, std::string> message_attributes;  // string values only
  // ApproximateReceiveCount, or 0 when it was not requested.
  int receive_count() const;
};

struct ReceiveOptions {
  int max_messages = 10;     // 1..10
  int wait_seconds = 20;     // long poll, 0..20
  int visibility_timeout = -1;  // -1: the queue's default
  std::vector<std::string> attribute_names = {"ApproximateReceiveCount", "SentTimestamp"};
};

struct BatchFailure {
  std::string id;
  std::string code;
  std::string message;
  bool sender_fault = false;
};

struct BatchResult {
  std::vector<std::string> successful;  // entry ids
  std::vector<BatchFailure> failed;
};

struct DeleteEntry {
  std::string id;              // unique in the batch: [A-Za-z0-9_-]{1,80}
  std::string receipt_handle;
};

struct VisibilityEntry {
  std::string id;
  std::string receipt_handle;
  int visibility_timeout = 0;
};

// The region in a queue URL ("https://sqs.eu-west-1.amazonaws.com/...": eu-west-1; the legacy
// "https://queue.amazonaws.com/...": us-east-1), or "" when the host does not say.
std::string QueueRegionFromUrl(std::string_view queue_url);

class SqsClient {
 public:
  // `client` must outlive this object.
  explicit SqsClient(AwsClient* client) : client_(client) {}

  // `region` "" = the client's region. `owner_account` "" = the caller's account.
  Result<std::string> GetQueueUrl(const std::string& queue_name, const std::string& region = "",
                                  const std::string& owner_account = "");
  // Long-polls; an empty vector means no message arrived within wait_seconds.
  Result<std::vector<SqsMessage>> ReceiveMessage(const std::string& queue_url, const ReceiveOptions& options = {});
  // At most 10 entries. Per-entry failures are in the result, not the Status.
  Result<BatchResult> DeleteMessageBatch(const std::string& queue_url, const std::vector<DeleteEntry>& entries);
  Status DeleteMessage(const std::string& queue_url, const std::string& receipt_handle);
  Status ChangeMessageVisibility(const std::string& queue_url, const std::string& receipt_handle,
                                 int visibility_timeout);
  Result<BatchResult> ChangeMessageVisibilityBatch(const std::string& queue_url,
                                                   const std::vector<VisibilityEntry>& entries);
  // `names` empty: All.
  Result<std::map<std::string, std::string>> GetQueueAttributes(const std::string& queue_url,
                                                                const std::vector<std::string>& names = {});

  // Used by tests and provisioning.
  Result<std::string> CreateQueue(const std::string& queue_name,
                                  const std::map<std::string, std::string>& attributes = {},
                                  const std::string& region = "");
  Status SetQueueAttributes(const std::string& queue_url, const std::map<std::string, std::string>& attributes);
  Status DeleteQueue(const std::string& queue_url);
  // Returns the message id.
  Result<std::string> SendMessage(const std::string& queue_url, const std::string& body);

 private:
  Result<std::string> Call(const std::string& action, const std::string& queue_url, const std::string& region,
                           std::string body, int64_t idle_timeout_ms = 0);
  AwsClient* client_;
};

}  // namespace cairn::aws
