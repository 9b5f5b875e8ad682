#include "verify/public_keys.h"

#include <fmt/format.h>
#include <simdjson.h>

#include "common/json_util.h"

namespace cairn::verify {
namespace {

constexpr const char* kCloudTrailTarget = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";

}  // namespace

Result<PublicKeySet> ListPublicKeys(aws::AwsClient* client, const std::string& region,
                                    int64_t start_ms, int64_t end_ms) {
  PublicKeySet keys;
  std::string token;
  for (int page = 0; page < 1000; ++page) {
    std::string body =
        fmt::format(R"({{"StartTime":{},"EndTime":{})", start_ms / 1000, end_ms / 1000);
    if (!token.empty()) {
      body += ",\"NextToken\":";
      AppendJsonString(&body, token);
    }
    body += "}";
    aws::Operation op{
        .service = "cloudtrail", .api = "CloudTrail ListPublicKeys", .region = region};
    ASSIGN_OR_RETURN(std::string text,
                     client->Json(op, kCloudTrailTarget, "ListPublicKeys", "1.1", std::move(body)));
    simdjson::dom::parser parser;
    simdjson::dom::element doc;
    if (parser.parse(text).get(doc) != simdjson::SUCCESS) {
      return InvalidArgument("CloudTrail ListPublicKeys in {}: the response is not JSON", region);
    }
    simdjson::dom::array list;
    if (doc["PublicKeyList"].get_array().get(list) == simdjson::SUCCESS) {
      for (simdjson::dom::element k : list) {
        std::string_view value, fingerprint;
        if (k["Value"].get_string().get(value) != simdjson::SUCCESS ||
            k["Fingerprint"].get_string().get(fingerprint) != simdjson::SUCCESS) {
          return InvalidArgument(
              "CloudTrail ListPublicKeys in {}: a key without Value or Fingerprint", region);
        }
        auto der = Base64Decode(value);
        if (!der) {
          return InvalidArgument("CloudTrail ListPublicKeys in {}: key {} is not base64", region,
                                 fingerprint);
        }
        ASSIGN_OR_RETURN(PublicKey key, ParsePublicKeyDer(*der, fingerprint));
        // Digests name the fingerprint CloudTrail reports; index by it even if it is not the MD5.
        key.fingerprint = std::string(fingerprint);
        keys.emplace(key.fingerprint, std::move(key));
      }
    }
    std::string_view next;
    if (doc["NextToken"].get_string().get(next) != simdjson::SUCCESS || next.empty()) break;
    token = std::string(next);
  }
  return keys;
}

Status SavePublicKeys(FileSystem* fs, const std::string& dir, const PublicKeySet& keys) {
  RETURN_IF_ERROR(fs->CreateDirs(dir));
  for (const auto& [fingerprint, key] : keys) {
    // Fingerprints are hex; anything else is refused rather than made a file name.
    if (fingerprint.empty() ||
        fingerprint.find_first_not_of("0123456789abcdefABCDEF") != std::string::npos) {
      return InvalidArgument("public key fingerprint \"{}\" is not hex", fingerprint);
    }
    const std::string path = JoinPath(dir, fingerprint + ".der");
    if (fs->Exists(path)) continue;
    RETURN_IF_ERROR(WriteFileAtomic(fs, path, key.der));
  }
  return Status::Ok();
}

}  // namespace cairn::verify
