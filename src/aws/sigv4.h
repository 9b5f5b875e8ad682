#pragma once
// AWS Signature Version 4 (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_sigv.html):
// canonical request, string to sign, signing key, signature, and the Authorization header or the
// presigned query string. Pure functions of their inputs (time is a parameter), so the AWS test
// suite and the S3 documentation examples can be checked byte for byte.
//
// S3 differs from other services in two ways, both chosen by SigningParams:
//   - the path is not normalized and not encoded a second time (keys such as "a//b/../c" stay);
//   - the payload hash is sent as x-amz-content-sha256, and may be "UNSIGNED-PAYLOAD".
//
// Secrets: the signer reads the secret key and token but never logs them; SignatureParts holds
// only derived values (the signature is sensitive too: do not log it either).

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "aws/http.h"
#include "common/hex.h"
#include "common/status.h"

namespace cairn::aws {

inline constexpr std::string_view kUnsignedPayload = "UNSIGNED-PAYLOAD";
inline constexpr std::string_view kEmptySha256 =
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855";

struct SigningParams {
  std::string region;
  std::string service;  // signing name: "s3", "sqs", "sts", "iam", ...
  int64_t time_micros = 0;
  // Remove "." and ".." segments and repeated '/' from the path (every service but S3).
  bool normalize_path = true;
  // Percent-encode the (already encoded) wire path once more (every service but S3).
  bool double_encode_path = true;
  // Add x-amz-content-sha256 with the payload hash and sign it (S3 requires this).
  bool add_content_sha256_header = false;
  // The payload hash to sign; unset means SHA-256 of the body. S3 allows "UNSIGNED-PAYLOAD".
  std::optional<std::string> payload_hash;
  // Add the session token after signing instead of signing it (a few services want this).
  bool omit_session_token = false;
};

// Signing parameters for `service` in `region` at `time_micros`, with S3's rules for "s3".
SigningParams ParamsFor(std::string_view service, std::string_view region, int64_t time_micros);

struct SignatureParts {
  std::string canonical_request;
  std::string string_to_sign;
  std::string signature;       // 64 lowercase hex digits
  std::string signed_headers;  // "host;x-amz-date"
  std::string credential_scope;
};

// Signs `request` in place with an Authorization header: adds X-Amz-Date, X-Amz-Security-Token
// (when the credentials have a token), x-amz-content-sha256 (when asked), then Authorization.
// Every header already on the request is signed except user-agent, expect and the like.
// Fails with InvalidArgument when the credentials or host are empty.
Result<SignatureParts> SignRequest(const Credentials& credentials, const SigningParams& params,
                                   HttpRequest* request);

// Presigns `request` in place: adds X-Amz-Algorithm, -Credential, -Date, -Expires,
// -SignedHeaders (and -Security-Token) to the query, then X-Amz-Signature. The payload hash is
// params.payload_hash or, when unset, SHA-256 of the body.
Result<SignatureParts> PresignRequest(const Credentials& credentials, const SigningParams& params,
                                      int64_t expires_seconds, HttpRequest* request);

// Building blocks, exposed for tests.
std::string HmacSha256(std::string_view key, std::string_view data);  // raw 32 bytes
// "20150830T123600Z" for a time in microseconds since the epoch.
std::string AmzDate(int64_t time_micros);
// The canonical URI of a wire path under `params` (normalization and double encoding).
std::string CanonicalUri(std::string_view wire_path, const SigningParams& params);
// Sorted, encoded query string.
std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query);

}  // namespace cairn::aws
