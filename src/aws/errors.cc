#include "aws/errors.h"

#include <pugixml.hpp>
#include <simdjson.h>

#include <algorithm>
#include <cctype>

namespace cairn::aws {

namespace {

std::string StatusCodeGuess(int status) {
  switch (status) {
    case 400: return "BadRequest";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "NotFound";
    case 405: return "MethodNotAllowed";
    case 409: return "Conflict";
    case 412: return "PreconditionFailed";
    case 416: return "InvalidRange";
    case 429: return "TooManyRequests";
    case 500: return "InternalError";
    case 502: return "BadGateway";
    case 503: return "ServiceUnavailable";
    case 504: return "GatewayTimeout";
    default: return "HTTP" + std::to_string(status);
  }
}

// "com.amazonaws.sqs#QueueDoesNotExist" -> "QueueDoesNotExist";
// "ValidationException:http://internal.amazon.com/..." -> "ValidationException".
std::string CleanJsonType(std::string_view t) {
  if (size_t colon = t.find(':'); colon != std::string_view::npos) t = t.substr(0, colon);
  if (size_t hash = t.rfind('#'); hash != std::string_view::npos) t = t.substr(hash + 1);
  return std::string(t);
}

bool ParseXmlError(std::string_view body, AwsError* e) {
  pugi::xml_document doc;
  if (!doc.load_buffer(body.data(), body.size())) return false;
  pugi::xml_node err = doc.child("Error");
  pugi::xml_node rid;
  if (!err) {
    pugi::xml_node resp = doc.child("ErrorResponse");
    if (!resp) resp = doc.first_child();  // e.g. <Response><Errors><Error> (EC2 style)
    err = resp.child("Error");
    if (!err) err = resp.child("Errors").child("Error");
    rid = resp.child("RequestId");
    if (!rid) rid = resp.child("RequestID");
  } else {
    rid = err.child("RequestId");
  }
  if (!err) return false;
  e->code = err.child_value("Code");
  e->message = err.child_value("Message");
  if (rid) e->request_id = rid.child_value();
  return !e->code.empty();
}

bool ParseJsonError(std::string_view body, AwsError* e) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(body);
  simdjson::dom::element doc;
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object()) return false;
  std::string_view v;
  if (doc["__type"].get(v) == simdjson::SUCCESS || doc["code"].get(v) == simdjson::SUCCESS ||
      doc["Code"].get(v) == simdjson::SUCCESS) {
    e->code = CleanJsonType(v);
  }
  if (doc["message"].get(v) == simdjson::SUCCESS || doc["Message"].get(v) == simdjson::SUCCESS ||
      doc["errorMessage"].get(v) == simdjson::SUCCESS) {
    e->message = std::string(v);
  }
  return !e->code.empty() || !e->message.empty();
}

void ReplaceAll(std::string* s, std::string_view needle, std::string_view with) {
  if (needle.empty()) return;
  size_t pos = 0;
  while ((pos = s->find(needle, pos)) != std::string::npos) {
    s->replace(pos, needle.size(), with);
    pos += with.size();
  }
}

// Replaces the value after every occurrence of `marker` (up to a delimiter) with [REDACTED].
void RedactAfter(std::string* s, std::string_view marker, std::string_view stop_chars) {
  size_t pos = 0;
  while (true) {
    auto it = std::search(s->begin() + pos, s->end(), marker.begin(), marker.end(),
                          [](char a, char b) { return std::tolower(static_cast<unsigned char>(a)) ==
                                                      std::tolower(static_cast<unsigned char>(b)); });
    if (it == s->end()) return;
    size_t start = (it - s->begin()) + marker.size();
    size_t end = s->find_first_of(stop_chars, start);
    if (end == std::string::npos) end = s->size();
    if (end > start) s->replace(start, end - start, "[REDACTED]");
    pos = start + 10;
    if (pos >= s->size()) return;
  }
}

}  // namespace

AwsError ParseAwsError(const HttpResponse& response) {
  AwsError e;
  e.http_status = response.status;
  std::string_view body = response.body;
  size_t first = body.find_first_not_of(" \t\r\n");
  if (first != std::string_view::npos) {
    if (body[first] == '<') {
      ParseXmlError(body, &e);
    } else if (body[first] == '{') {
      ParseJsonError(body, &e);
    }
  }
  // SQS's JSON protocol names the older Query code here (AWS.SimpleQueueService.NonExistentQueue).
  if (std::string_view q = response.Header("x-amzn-query-error"); !q.empty() && e.code.empty()) {
    e.code = std::string(q.substr(0, q.find(';')));
  }
  if (std::string_view t = response.Header("x-amzn-ErrorType"); !t.empty() && e.code.empty()) {
    e.code = CleanJsonType(t);
  }
  if (e.request_id.empty()) {
    std::string_view id = response.Header("x-amzn-RequestId");
    if (id.empty()) id = response.Header("x-amz-request-id");
    e.request_id = std::string(id);
  }
  if (e.code.empty()) e.code = StatusCodeGuess(response.status);
  return e;
}

bool IsThrottlingCode(std::string_view code) {
  static constexpr std::string_view kCodes[] = {
      "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottledException",
      "TooManyRequestsException", "ProvisionedThroughputExceededException", "TransactionInProgressException",
      "RequestLimitExceeded", "BandwidthLimitExceeded", "LimitExceededException", "RequestThrottled",
      "SlowDown", "PriorRequestNotComplete", "EC2ThrottledException", "TooManyRequests"};
  return std::find(std::begin(kCodes), std::end(kCodes), code) != std::end(kCodes);
}

bool IsRetryableError(const AwsError& e) {
  if (IsThrottlingCode(e.code)) return true;
  if (e.http_status == 429 || e.http_status >= 500) return true;
  static constexpr std::string_view kTransient[] = {
      "RequestTimeout", "RequestTimeoutException", "InternalError", "InternalFailure",
      "ServiceUnavailable", "IDPCommunicationError", "InternalServerError"};
  return std::find(std::begin(kTransient), std::end(kTransient), e.code) != std::end(kTransient);
}

bool IsExpiredCredentialsCode(std::string_view code) {
  return code == "ExpiredToken" || code == "ExpiredTokenException" || code == "RequestExpired" ||
         code == "TokenRefreshRequired";
}

Status ErrorStatus(const AwsError& e, std::string_view api, std::string_view resource,
                   const Credentials* credentials) {
  std::string text = fmt::format("{}{}{}: {}", api, resource.empty() ? "" : " ", resource, e.code);
  if (!e.message.empty()) text += ": " + e.message;
  text += fmt::format(" (HTTP {}", e.http_status);
  if (!e.request_id.empty()) text += ", request " + e.request_id;
  text += ")";
  text = RedactSecrets(text, credentials);
  StatusCode code;
  static constexpr std::string_view kNotFound[] = {
      "NoSuchKey", "NoSuchBucket", "NotFound", "QueueDoesNotExist", "AWS.SimpleQueueService.NonExistentQueue",
      "NonExistentQueue", "NoSuchEntity", "ResourceNotFoundException", "TrailNotFoundException", "NoSuchUpload"};
  static constexpr std::string_view kDenied[] = {
      "AccessDenied", "AccessDeniedException", "Forbidden", "InvalidAccessKeyId", "InvalidClientTokenId",
      "SignatureDoesNotMatch", "UnrecognizedClientException", "AuthorizationError", "Unauthorized",
      "ExpiredToken", "ExpiredTokenException", "InvalidToken", "MissingAuthenticationToken",
      "IncompleteSignature", "AuthFailure", "RequestExpired"};
  static constexpr std::string_view kExists[] = {
      "EntityAlreadyExists", "BucketAlreadyOwnedByYou", "BucketAlreadyExists", "QueueAlreadyExists",
      "QueueNameExists", "TrailAlreadyExistsException", "ResourceAlreadyExistsException"};
  auto in = [&](const auto& list) { return std::find(std::begin(list), std::end(list), e.code) != std::end(list); };
  if (IsRetryableError(e)) {
    code = StatusCode::kUnavailable;
  } else if (in(kNotFound) || (e.http_status == 404 && !in(kDenied))) {
    code = StatusCode::kNotFound;
  } else if (in(kDenied) || e.http_status == 401 || e.http_status == 403) {
    code = StatusCode::kPermissionDenied;
  } else if (in(kExists)) {
    code = StatusCode::kAlreadyExists;
  } else {
    code = StatusCode::kInvalidArgument;
  }
  return Status(code, std::move(text));
}

std::string RedactSecrets(std::string_view text, const Credentials* credentials) {
  std::string s(text);
  if (credentials != nullptr) {
    // Longest first, so a token containing the key is removed whole.
    if (credentials->session_token.size() >= 8) ReplaceAll(&s, credentials->session_token, "[REDACTED]");
    if (credentials->secret_access_key.size() >= 8) ReplaceAll(&s, credentials->secret_access_key, "[REDACTED]");
  }
  RedactAfter(&s, "Signature=", "&,; \n\"'<");
  RedactAfter(&s, "X-Amz-Security-Token=", "&,; \n\"'<");
  RedactAfter(&s, "X-Amz-Security-Token: ", "\r\n\"'<");
  RedactAfter(&s, "X-Amz-Credential=", "&,; \n\"'<");
  RedactAfter(&s, "Authorization: ", "\r\n\"'<");
  RedactAfter(&s, "aws_secret_access_key", "\r\n");
  RedactAfter(&s, "\"SecretAccessKey\":", ",}\n");
  RedactAfter(&s, "<SecretAccessKey>", "<");
  RedactAfter(&s, "<SessionToken>", "<");
  return s;
}

}  // namespace cairn::aws
