#include "aws/sigv4.h"

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/sha.h>

#include <algorithm>
#include <cctype>
#include <ctime>
#include <map>

#include "common/digest.h"

namespace cairn::aws {

namespace {

constexpr std::string_view kAlgorithm = "AWS4-HMAC-SHA256";

// Headers that proxies and HTTP stacks add or change in flight: never signed.
bool SkipHeader(std::string_view lower_name) {
  return lower_name == "authorization" || lower_name == "user-agent" ||
         lower_name == "x-amzn-trace-id" || lower_name == "expect" || lower_name == "connection" ||
         lower_name == "transfer-encoding" || lower_name == "upgrade" || lower_name == "host";
}

std::string Lower(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return out;
}

// Trims and turns every run of whitespace (including folded line breaks) into one space.
std::string CanonicalHeaderValue(std::string_view v) {
  std::string out;
  bool space = false;
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      space = true;
      continue;
    }
    if (space && !out.empty()) out.push_back(' ');
    space = false;
    out.push_back(c);
  }
  return out;
}

std::string NormalizePath(std::string_view path) {
  std::vector<std::string_view> segments;
  size_t i = 0;
  while (i <= path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos) j = path.size();
    std::string_view seg = path.substr(i, j - i);
    if (seg.empty() || seg == ".") {
      // skip
    } else if (seg == "..") {
      if (!segments.empty()) segments.pop_back();
    } else {
      segments.push_back(seg);
    }
    i = j + 1;
  }
  std::string out;
  for (std::string_view seg : segments) {
    out.push_back('/');
    out.append(seg);
  }
  bool trailing =
      !path.empty() && (path.back() == '/' || path.ends_with("/.") || path.ends_with("/.."));
  if (out.empty()) return "/";
  if (trailing) out.push_back('/');
  return out;
}

struct Canonical {
  std::string request;
  std::string signed_headers;
};

Canonical BuildCanonical(const HttpRequest& r, const SigningParams& params,
                         std::string_view payload_hash) {
  // name -> values in order of appearance; std::map sorts by lower-case name.
  std::map<std::string, std::vector<std::string>> headers;
  headers["host"].push_back(r.host);
  for (const auto& [k, v] : r.headers) {
    std::string name = Lower(k);
    if (SkipHeader(name)) continue;
    headers[name].push_back(CanonicalHeaderValue(v));
  }
  Canonical c;
  std::string header_block;
  for (const auto& [name, values] : headers) {
    header_block += name;
    header_block.push_back(':');
    for (size_t i = 0; i < values.size(); ++i) {
      if (i > 0) header_block.push_back(',');
      header_block += values[i];
    }
    header_block.push_back('\n');
    if (!c.signed_headers.empty()) c.signed_headers.push_back(';');
    c.signed_headers += name;
  }
  c.request = r.method + "\n" + CanonicalUri(r.path, params) + "\n" + CanonicalQuery(r.query) +
              "\n" + header_block + "\n" + c.signed_headers + "\n" + std::string(payload_hash);
  return c;
}

std::string DateStamp(std::string_view amz_date) { return std::string(amz_date.substr(0, 8)); }

std::string Scope(std::string_view amz_date, const SigningParams& p) {
  return DateStamp(amz_date) + "/" + p.region + "/" + p.service + "/aws4_request";
}

std::string Signature(const Credentials& c, const SigningParams& p, std::string_view amz_date,
                      std::string_view string_to_sign) {
  std::string k_date = HmacSha256("AWS4" + c.secret_access_key, DateStamp(amz_date));
  std::string k_region = HmacSha256(k_date, p.region);
  std::string k_service = HmacSha256(k_region, p.service);
  std::string k_signing = HmacSha256(k_service, "aws4_request");
  return HexEncode(HmacSha256(k_signing, string_to_sign));
}

Status Check(const Credentials& c, const SigningParams& p, const HttpRequest& r) {
  if (c.empty()) return InvalidArgument("cannot sign {}: no credentials", r.Describe());
  if (r.host.empty()) return InvalidArgument("cannot sign a request without a host");
  if (p.region.empty() || p.service.empty()) {
    return InvalidArgument("cannot sign {}: region and service are required", r.Describe());
  }
  return Status::Ok();
}

}  // namespace

SigningParams ParamsFor(std::string_view service, std::string_view region, int64_t time_micros) {
  SigningParams p;
  p.service = std::string(service);
  p.region = std::string(region);
  p.time_micros = time_micros;
  if (service == "s3") {
    p.normalize_path = false;
    p.double_encode_path = false;
    p.add_content_sha256_header = true;
  }
  return p;
}

std::string HmacSha256(std::string_view key, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key.data(), static_cast<int>(key.size()),
       reinterpret_cast<const unsigned char*>(data.data()), data.size(), out, &len);
  return std::string(reinterpret_cast<char*>(out), len);
}

std::string AmzDate(int64_t time_micros) {
  time_t secs = static_cast<time_t>(time_micros / 1'000'000);
  struct tm tm;
  gmtime_r(&secs, &tm);
  char buf[32];
  strftime(buf, sizeof(buf), "%Y%m%dT%H%M%SZ", &tm);
  return buf;
}

std::string CanonicalUri(std::string_view wire_path, const SigningParams& params) {
  std::string path = wire_path.empty() ? std::string("/") : std::string(wire_path);
  if (params.normalize_path) path = NormalizePath(path);
  if (params.double_encode_path) path = UriEncode(path, /*keep_slash=*/true);
  return path;
}

std::string CanonicalQuery(const std::vector<std::pair<std::string, std::string>>& query) {
  std::vector<std::pair<std::string, std::string>> encoded;
  encoded.reserve(query.size());
  for (const auto& [k, v] : query) encoded.emplace_back(UriEncode(k, false), UriEncode(v, false));
  std::sort(encoded.begin(), encoded.end());
  std::string out;
  for (const auto& [k, v] : encoded) {
    if (!out.empty()) out.push_back('&');
    out += k;
    out.push_back('=');
    out += v;
  }
  return out;
}

Result<SignatureParts> SignRequest(const Credentials& credentials, const SigningParams& params,
                                   HttpRequest* request) {
  RETURN_IF_ERROR(Check(credentials, params, *request));
  std::string amz_date = AmzDate(params.time_micros);
  std::string payload_hash = params.payload_hash ? *params.payload_hash : Sha256Hex(request->body);
  RemoveHeader(&request->headers, "authorization");
  SetHeader(&request->headers, "X-Amz-Date", amz_date);
  RemoveHeader(&request->headers, "x-amz-security-token");
  bool has_token = !credentials.session_token.empty();
  if (has_token && !params.omit_session_token) {
    SetHeader(&request->headers, "X-Amz-Security-Token", credentials.session_token);
  }
  if (params.add_content_sha256_header) {
    SetHeader(&request->headers, "x-amz-content-sha256", payload_hash);
  }
  Canonical c = BuildCanonical(*request, params, payload_hash);
  SignatureParts parts;
  parts.canonical_request = std::move(c.request);
  parts.signed_headers = std::move(c.signed_headers);
  parts.credential_scope = Scope(amz_date, params);
  parts.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + parts.credential_scope +
                         "\n" + Sha256Hex(parts.canonical_request);
  parts.signature = Signature(credentials, params, amz_date, parts.string_to_sign);
  request->headers.emplace_back(
      "Authorization", std::string(kAlgorithm) + " Credential=" + credentials.access_key_id + "/" +
                           parts.credential_scope + ", SignedHeaders=" + parts.signed_headers +
                           ", Signature=" + parts.signature);
  if (has_token && params.omit_session_token) {
    SetHeader(&request->headers, "X-Amz-Security-Token", credentials.session_token);
  }
  return parts;
}

Result<SignatureParts> PresignRequest(const Credentials& credentials, const SigningParams& params,
                                      int64_t expires_seconds, HttpRequest* request) {
  RETURN_IF_ERROR(Check(credentials, params, *request));
  if (expires_seconds < 1 || expires_seconds > 7 * 24 * 3600) {
    return InvalidArgument("presign expiry {}s is outside 1s..7 days", expires_seconds);
  }
  std::string amz_date = AmzDate(params.time_micros);
  std::string payload_hash = params.payload_hash ? *params.payload_hash : Sha256Hex(request->body);
  std::string scope = Scope(amz_date, params);
  // The signed-header list must be known before the canonical request is built.
  Canonical probe = BuildCanonical(*request, params, payload_hash);
  auto& q = request->query;
  std::erase_if(q, [](const auto& kv) { return kv.first.starts_with("X-Amz-"); });
  q.emplace_back("X-Amz-Algorithm", std::string(kAlgorithm));
  q.emplace_back("X-Amz-Credential", credentials.access_key_id + "/" + scope);
  q.emplace_back("X-Amz-Date", amz_date);
  q.emplace_back("X-Amz-Expires", std::to_string(expires_seconds));
  bool has_token = !credentials.session_token.empty();
  if (has_token && !params.omit_session_token) {
    q.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  q.emplace_back("X-Amz-SignedHeaders", probe.signed_headers);
  Canonical c = BuildCanonical(*request, params, payload_hash);
  SignatureParts parts;
  parts.canonical_request = std::move(c.request);
  parts.signed_headers = std::move(c.signed_headers);
  parts.credential_scope = scope;
  parts.string_to_sign = std::string(kAlgorithm) + "\n" + amz_date + "\n" + scope + "\n" +
                         Sha256Hex(parts.canonical_request);
  parts.signature = Signature(credentials, params, amz_date, parts.string_to_sign);
  q.emplace_back("X-Amz-Signature", parts.signature);
  if (has_token && params.omit_session_token) {
    q.emplace_back("X-Amz-Security-Token", credentials.session_token);
  }
  return parts;
}

}  // namespace cairn::aws
