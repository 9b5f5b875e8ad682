#include "verify/digest.h"

#include <isa-l/igzip_lib.h>
#include <simdjson.h>

#include <cstdint>
#include <functional>
#include <memory>

#include "common/time_util.h"
#include "verify/crypto.h"

namespace cairn::verify {
namespace {

// The keys of one JSON object, looked up by name so that a missing or mistyped one is named.
class Fields {
 public:
  Fields(simdjson::dom::object obj, std::string_view name, std::string where)
      : obj_(obj), name_(name), where_(std::move(where)) {}

  // A required string.
  Status String(std::string_view key, std::string* out) const {
    simdjson::dom::element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS) return Bad(key, "is missing");
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) return Bad(key, "is not a string");
    *out = std::string(s);
    return Status::Ok();
  }

  // A string that may be null or absent.
  Status NullableString(std::string_view key, std::optional<std::string>* out) const {
    simdjson::dom::element e;
    if (obj_.at_key(key).get(e) != simdjson::SUCCESS || e.is_null()) {
      out->reset();
      return Status::Ok();
    }
    std::string_view s;
    if (e.get_string().get(s) != simdjson::SUCCESS) return Bad(key, "is not a string or null");
    *out = std::string(s);
    return Status::Ok();
  }

  // An optional string (absent or null gives "").
  Status OptionalString(std::string_view key, std::string* out) const {
    std::optional<std::string> v;
    RETURN_IF_ERROR(NullableString(key, &v));
    *out = v.value_or("");
    return Status::Ok();
  }

  Status Bad(std::string_view key, std::string_view what) const {
    return InvalidArgument("digest {}: key \"{}{}\" {}", name_, where_, key, what);
  }

  simdjson::dom::object obj() const { return obj_; }

 private:
  simdjson::dom::object obj_;
  std::string_view name_;
  std::string where_;
};

Status ParseLogFiles(const Fields& top, std::string_view name, std::vector<DigestLogFile>* out) {
  simdjson::dom::element e;
  if (top.obj().at_key("logFiles").get(e) != simdjson::SUCCESS)
    return top.Bad("logFiles", "is missing");
  simdjson::dom::array arr;
  if (e.get_array().get(arr) != simdjson::SUCCESS) return top.Bad("logFiles", "is not an array");
  size_t i = 0;
  for (simdjson::dom::element element : arr) {
    simdjson::dom::object obj;
    if (element.get_object().get(obj) != simdjson::SUCCESS) {
      return InvalidArgument("digest {}: logFiles[{}] is not an object", name, i);
    }
    Fields f(obj, name, "logFiles[" + std::to_string(i) + "].");
    DigestLogFile lf;
    RETURN_IF_ERROR(f.String("s3Bucket", &lf.s3_bucket));
    RETURN_IF_ERROR(f.String("s3Object", &lf.s3_object));
    RETURN_IF_ERROR(f.String("hashValue", &lf.hash_value));
    RETURN_IF_ERROR(f.String("hashAlgorithm", &lf.hash_algorithm));
    RETURN_IF_ERROR(f.OptionalString("newestEventTime", &lf.newest_event_time));
    RETURN_IF_ERROR(f.OptionalString("oldestEventTime", &lf.oldest_event_time));
    if (lf.hash_algorithm != "SHA-256") return f.Bad("hashAlgorithm", "is not \"SHA-256\"");
    out->push_back(std::move(lf));
    ++i;
  }
  return Status::Ok();
}

}  // namespace

Result<Digest> ParseDigest(std::string_view json, std::string_view name) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json.data(), json.size(), true).get(doc) != simdjson::SUCCESS) {
    return InvalidArgument("digest {}: not JSON", name);
  }
  simdjson::dom::object obj;
  if (doc.get_object().get(obj) != simdjson::SUCCESS) {
    return InvalidArgument("digest {}: not a JSON object", name);
  }
  Fields f(obj, name, "");
  Digest d;
  RETURN_IF_ERROR(f.String("awsAccountId", &d.aws_account_id));
  RETURN_IF_ERROR(f.String("digestStartTime", &d.digest_start_time));
  RETURN_IF_ERROR(f.String("digestEndTime", &d.digest_end_time));
  RETURN_IF_ERROR(f.String("digestS3Bucket", &d.digest_s3_bucket));
  RETURN_IF_ERROR(f.String("digestS3Object", &d.digest_s3_object));
  RETURN_IF_ERROR(f.String("digestPublicKeyFingerprint", &d.digest_public_key_fingerprint));
  RETURN_IF_ERROR(f.String("digestSignatureAlgorithm", &d.digest_signature_algorithm));
  RETURN_IF_ERROR(f.NullableString("previousDigestS3Bucket", &d.previous_digest_s3_bucket));
  RETURN_IF_ERROR(f.NullableString("previousDigestS3Object", &d.previous_digest_s3_object));
  RETURN_IF_ERROR(f.NullableString("previousDigestHashValue", &d.previous_digest_hash_value));
  RETURN_IF_ERROR(
      f.NullableString("previousDigestHashAlgorithm", &d.previous_digest_hash_algorithm));
  RETURN_IF_ERROR(f.NullableString("previousDigestSignature", &d.previous_digest_signature));
  auto start = ParseIso8601Millis(d.digest_start_time);
  if (!start) return f.Bad("digestStartTime", "is not an ISO 8601 time");
  auto end = ParseIso8601Millis(d.digest_end_time);
  if (!end) return f.Bad("digestEndTime", "is not an ISO 8601 time");
  d.digest_start_ms = *start;
  d.digest_end_ms = *end;
  if (d.digest_signature_algorithm != "SHA256withRSA") {
    return f.Bad("digestSignatureAlgorithm", "is not \"SHA256withRSA\"");
  }
  // A chain link is all or nothing: an object without its hash (or the reverse) cannot be checked.
  if (d.previous_digest_s3_object.has_value() != d.previous_digest_hash_value.has_value()) {
    return f.Bad(d.previous_digest_s3_object ? "previousDigestHashValue" : "previousDigestS3Object",
                 "is missing or null while the rest of the previous digest's reference is given");
  }
  if (d.previous_digest_s3_object && !d.previous_digest_s3_bucket) {
    return f.Bad("previousDigestS3Bucket", "is missing or null");
  }
  if (d.previous_digest_hash_algorithm && *d.previous_digest_hash_algorithm != "SHA-256") {
    return f.Bad("previousDigestHashAlgorithm", "is not \"SHA-256\"");
  }
  RETURN_IF_ERROR(ParseLogFiles(f, name, &d.log_files));
  return d;
}

namespace {

std::string JoinStringToSign(std::string_view digest_end_time, std::string_view bucket,
                             std::string_view object, std::string_view sha256_hex,
                             const std::optional<std::string>& previous_signature) {
  std::string s;
  s.append(digest_end_time).append("\n");
  s.append(bucket).append("/").append(object).append("\n");
  s.append(sha256_hex).append("\n");
  s.append(previous_signature ? *previous_signature : std::string("null"));
  return s;
}

}  // namespace

std::string StringToSign(std::string_view digest_end_time, std::string_view bucket,
                         std::string_view object, std::string_view uncompressed_digest,
                         const std::optional<std::string>& previous_signature) {
  return JoinStringToSign(digest_end_time, bucket, object, Sha256Hex(uncompressed_digest),
                          previous_signature);
}

std::string StringToSignFromHash(const Digest& d, std::string_view sha256_hex) {
  return JoinStringToSign(d.digest_end_time, d.digest_s3_bucket, d.digest_s3_object, sha256_hex,
                          d.previous_digest_signature);
}

std::string StringToSign(const Digest& d, std::string_view uncompressed_digest) {
  return StringToSign(d.digest_end_time, d.digest_s3_bucket, d.digest_s3_object,
                      uncompressed_digest, d.previous_digest_signature);
}

Status GunzipOneMemberTo(std::string_view gz, std::string_view name,
                         const std::function<Status(std::string_view)>& sink) {
  if (gz.size() > UINT32_MAX) return Unsupported("{}: larger than 4 GiB compressed", name);
  // ISA-L's inflate (several times zlib's speed): verify's time is mostly decompression.
  auto state = std::make_unique<inflate_state>();
  isal_inflate_init(state.get());
  state->crc_flag = ISAL_GZIP;  // parse the gzip header, check the CRC-32 and length trailer
  state->next_in = reinterpret_cast<uint8_t*>(const_cast<char*>(gz.data()));
  state->avail_in = static_cast<uint32_t>(gz.size());
  std::string buf(1 << 17, '\0');
  for (;;) {
    const uint32_t in_before = state->avail_in;
    state->next_out = reinterpret_cast<uint8_t*>(buf.data());
    state->avail_out = static_cast<uint32_t>(buf.size());
    const int rc = isal_inflate(state.get());
    const size_t got = buf.size() - state->avail_out;
    if (rc < 0) {
      return InvalidArgument("{}: corrupt gzip data near compressed byte {} (ISA-L error {})", name,
                             gz.size() - state->avail_in, rc);
    }
    if (got > 0) RETURN_IF_ERROR(sink(std::string_view(buf.data(), got)));
    if (state->block_state == ISAL_BLOCK_FINISH) break;
    if (got == 0 && state->avail_in == in_before) {
      return InvalidArgument("{}: not a whole gzip stream (truncated at compressed byte {})", name,
                             gz.size());
    }
  }
  if (state->avail_in != 0) {
    return InvalidArgument("{}: {} bytes after the gzip member", name, state->avail_in);
  }
  return Status::Ok();
}

Result<std::string> GunzipOneMember(std::string_view gz, std::string_view name, size_t max_bytes) {
  std::string out;
  RETURN_IF_ERROR(GunzipOneMemberTo(gz, name, [&](std::string_view chunk) -> Status {
    out.append(chunk);
    if (out.size() > max_bytes) {
      return ResourceExhausted("{}: more than {} bytes once decompressed", name, max_bytes);
    }
    return Status::Ok();
  }));
  return out;
}

}  // namespace cairn::verify
