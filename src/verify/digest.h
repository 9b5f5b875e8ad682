#pragma once
// CloudTrail digest files: their fields, the string CloudTrail signs, and the single-member gzip
// they are stored as. See ../shared/data/digest/README.md and docs/verify.md.

#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::verify {

struct DigestLogFile {
  std::string s3_bucket;
  std::string s3_object;
  std::string hash_value;  // hex SHA-256 of the uncompressed log file
  std::string hash_algorithm;
  std::string newest_event_time, oldest_event_time;  // may be empty
};

struct Digest {
  std::string aws_account_id;
  std::string digest_start_time, digest_end_time;  // as written ("2015-08-17T15:01:31Z")
  int64_t digest_start_ms = 0, digest_end_ms = 0;
  std::string digest_s3_bucket, digest_s3_object;
  std::string digest_public_key_fingerprint;
  std::string digest_signature_algorithm;
  // The previous digest in the chain; all nullopt for a chain's first digest.
  std::optional<std::string> previous_digest_s3_bucket, previous_digest_s3_object;
  std::optional<std::string> previous_digest_hash_value, previous_digest_hash_algorithm;
  std::optional<std::string> previous_digest_signature;
  std::vector<DigestLogFile> log_files;
};

// Parses a digest's JSON (the uncompressed bytes). Every required key must be present with the
// right type: InvalidArgument naming `name` and the key (or "logFiles[3].hashValue") otherwise.
// The previousDigest* keys may be null (together); unknown keys are ignored.
Result<Digest> ParseDigest(std::string_view json, std::string_view name);

// The string CloudTrail signs: digestEndTime, bucket + "/" + object, hex SHA-256 of the
// uncompressed digest bytes as stored, and the previous signature or "null", joined by "\n".
std::string StringToSign(std::string_view digest_end_time, std::string_view bucket,
                         std::string_view object, std::string_view uncompressed_digest,
                         const std::optional<std::string>& previous_signature);
std::string StringToSign(const Digest& d, std::string_view uncompressed_digest);
// The same from the hex SHA-256 of the uncompressed digest bytes (computed while reading them).
std::string StringToSignFromHash(const Digest& d, std::string_view sha256_hex);

// Decompresses exactly one gzip member. InvalidArgument naming `name` when the bytes are not
// gzip, are corrupt or truncated, or when anything follows the member (a second member included:
// CloudTrail writes one). ResourceExhausted beyond `max_bytes` of output.
// The same, handing the output to `sink` in pieces; the sink's error stops decoding.
Status GunzipOneMemberTo(std::string_view gz, std::string_view name,
                         const std::function<Status(std::string_view)>& sink);
Result<std::string> GunzipOneMember(std::string_view gz, std::string_view name,
                                    size_t max_bytes = 256u << 20);

}  // namespace cairn::verify
