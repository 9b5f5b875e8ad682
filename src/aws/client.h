#pragma once
// AwsClient: one AWS account/role in one default region, over one HttpClient. It resolves the
// endpoint, signs (SigV4), sends, retries and turns error responses into Status values. The
// service clients (s3.h, sqs.h, sns.h, sts.h, and the provisioning layer's IAM/CloudTrail) are
// thin layers that build requests and parse responses; Query() and Json() make those one-liners.
//
// Retries: throttling codes, HTTP 429 and 5xx, and transport failures (reset, timeout, refused,
// truncated body) are retried up to RetryPolicy::max_attempts with "full jitter" exponential
// backoff; throttling starts from a longer base delay. An "expired token" error invalidates the
// cached credentials and retries at once (once). A streaming request is not retried once a byte
// has reached the sink (the S3 client resumes with a Range request instead). Exhausted retries
// return kUnavailable.
//
// Secrets: the client logs at debug level "<API> <resource> -> HTTP <status>", at warn level each
// retry with AWS's code and message; every message passes RedactSecrets. Never logged: the secret
// key, the session token, the Authorization header, signatures, presigned query strings, bodies.
//
// Thread safety: all methods may be called concurrently.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/credentials.h"
#include "aws/endpoints.h"
#include "aws/errors.h"
#include "aws/http.h"
#include "common/clock.h"
#include "common/status.h"

namespace pugi {
class xml_document;
}

namespace cairn::aws {

struct RetryPolicy {
  int max_attempts = 5;                 // total tries, including the first
  int64_t base_delay_ms = 100;          // transient errors
  int64_t throttle_base_delay_ms = 500; // throttling
  int64_t max_delay_ms = 20'000;

  // Delay before try number `retry` (1 = the first retry): uniform in
  // [0, min(max_delay, base * 2^(retry-1))]. `unit` is a uniform random number in [0, 1).
  int64_t DelayMillis(int retry, bool throttled, double unit) const;
};

struct AwsClientOptions {
  std::string region = "us-east-1";
  EndpointConfig endpoints;      // endpoints.region is ignored; `region` is used
  RetryPolicy retry;
  Clock* clock = nullptr;        // nullptr: the system clock (signing time and backoff sleeps)
  uint64_t jitter_seed = 0;      // 0: seeded from std::random_device
};

// What a request is, for signing, endpoint choice and error messages.
struct Operation {
  std::string service = {};   // endpoint id and signing name: "s3", "sqs", "sns", "sts", "iam", "cloudtrail"
  std::string api = {};       // "S3 GetObject", "SQS ReceiveMessage": leads every error message
  std::string resource = {};  // "s3://bucket/key", a queue URL, a topic ARN; "" when none
  std::string region = {};    // "" = the client's region
  bool retry = true;     // false for calls that must not be repeated blindly
  bool unsigned_request = false;  // e.g. AssumeRoleWithWebIdentity
  std::optional<std::string> payload_hash = {};  // S3: "UNSIGNED-PAYLOAD" for streamed uploads
  int64_t idle_timeout_ms = 0;  // long polls: above the wait time (0: the HTTP client's default)
};

class AwsClient {
 public:
  // `credentials` may be null: every request is then sent unsigned.
  AwsClient(std::shared_ptr<HttpClient> http, std::shared_ptr<CredentialsProvider> credentials,
            AwsClientOptions options);

  const std::string& region() const { return options_.region; }
  const AwsClientOptions& options() const { return options_; }
  const std::shared_ptr<HttpClient>& http() const { return http_; }
  const std::shared_ptr<CredentialsProvider>& credentials() const { return credentials_; }

  Result<Endpoint> EndpointFor(std::string_view service, std::string_view region = {}) const;

  // Sends `request` for `op`. When request.host is empty, scheme and host come from the
  // endpoint and the endpoint's base path is put before request.path. Signs, sends, retries.
  // Returns the 2xx response, or the error as a Status (see errors.h for the code mapping).
  // When the final answer is an AWS error and `error_response` is set, that response (status,
  // headers, body) is copied there, for callers that need a header such as x-amz-bucket-region.
  Result<HttpResponse> Send(const Operation& op, HttpRequest request, const BodySink* sink = nullptr,
                            HttpResponse* error_response = nullptr);

  // Query protocol (SNS, IAM, STS, and SQS's older form): POSTs Action, Version and `params`
  // form-encoded, returns the parsed XML response document.
  Result<std::unique_ptr<pugi::xml_document>> Query(
      const Operation& op, std::string_view action, std::string_view version,
      const std::vector<std::pair<std::string, std::string>>& params);

  // JSON protocol (SQS: json_version "1.0", target_prefix "AmazonSQS"; CloudTrail: "1.1",
  // "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101"). Returns the response body.
  Result<std::string> Json(const Operation& op, std::string_view target_prefix, std::string_view action,
                           std::string_view json_version, std::string body);

  // Sleeps/attempts made so far (tests).
  int64_t retries() const;

 private:
  double NextUnit();

  std::shared_ptr<HttpClient> http_;
  std::shared_ptr<CredentialsProvider> credentials_;
  AwsClientOptions options_;
  Clock* clock_;
  std::mutex rng_mu_;
  std::mt19937_64 rng_;
  mutable std::mutex stats_mu_;
  int64_t retries_ = 0;
};

// Helpers for XML responses: the text of the first descendant element named `name` ("" if none).
std::string XmlText(const pugi::xml_document& doc, const char* name);

}  // namespace cairn::aws
