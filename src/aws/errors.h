#pragma once
// AWS error responses turned into Status values, and the redaction every message passes through.
//
// An error Status reads "<API> <resource>: <Code>: <AWS message> (HTTP <status>, request <id>)",
// e.g. "S3 GetObject s3://bucket/key: NoSuchKey: The specified key does not exist. (HTTP 404)".
// Codes map to StatusCodes: throttling, 5xx and timeouts -> kUnavailable (retryable); 403 and
// credential errors -> kPermissionDenied; missing things -> kNotFound; "already exists" ->
// kAlreadyExists; other 4xx -> kInvalidArgument.

#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/http.h"
#include "common/status.h"

namespace cairn::aws {

struct AwsError {
  int http_status = 0;
  std::string code;        // "NoSuchKey", "QueueDoesNotExist", "Throttling" ...
  std::string message;     // AWS's human-readable message
  std::string request_id;
};

// Parses an error response of any AWS protocol: S3 REST XML (<Error>), Query XML
// (<ErrorResponse><Error>), JSON 1.0/1.1 ({"__type": "...#Code", "message": ...}) plus the
// x-amzn-query-error / x-amzn-ErrorType headers. A body that parses as none of these (or a HEAD
// response with no body) gets a code from the HTTP status ("NotFound", "Forbidden", ...).
AwsError ParseAwsError(const HttpResponse& response);

// True for codes that AWS documents as throttling or transient.
bool IsThrottlingCode(std::string_view code);
bool IsRetryableError(const AwsError& error);
// Codes meaning "the signing credentials expired": refresh them and try again.
bool IsExpiredCredentialsCode(std::string_view code);

// Builds the Status for `error` from API `api` on `resource` (e.g. "SQS ReceiveMessage", the
// queue URL). The message is redacted with RedactSecrets.
Status ErrorStatus(const AwsError& error, std::string_view api, std::string_view resource,
                   const Credentials* credentials = nullptr);

// Removes secrets from text meant for logs and errors: the credentials' secret key and session
// token wherever they appear, and any "Signature=<hex>", "X-Amz-Signature=...",
// "X-Amz-Security-Token=...", "X-Amz-Credential=..." or "Authorization: ..." value.
std::string RedactSecrets(std::string_view text, const Credentials* credentials = nullptr);

}  // namespace cairn::aws
