#include "aws/sigv4.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/testing.h"
#include "common/time_util.h"

namespace cairn::aws {
namespace {

std::string ReadFile(const std::filesystem::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string TrimNewline(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r')) s.pop_back();
  return s;
}

// Parses the suite's request.txt: "METHOD PATH HTTP/1.1", headers (indented lines continue the
// previous one), a blank line, the body. The path may hold spaces and raw UTF-8, as in the suite.
HttpRequest ParseSuiteRequest(const std::string& text) {
  HttpRequest r;
  r.scheme = "https";
  std::vector<std::string> lines;
  size_t pos = 0;
  size_t body_at = std::string::npos;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string line = text.substr(pos, nl == std::string::npos ? std::string::npos : nl - pos);
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() && !lines.empty()) {
      body_at = nl == std::string::npos ? text.size() : nl + 1;
      break;
    }
    lines.push_back(line);
    if (nl == std::string::npos) break;
    pos = nl + 1;
  }
  const std::string& first = lines.at(0);
  size_t sp = first.find(' ');
  r.method = first.substr(0, sp);
  size_t http = first.rfind(" HTTP/");
  std::string target = first.substr(sp + 1, http - sp - 1);
  size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) {
    std::string query = target.substr(q + 1);
    auto parsed = ParseUrl("https://x/?" + query);
    EXPECT_TRUE(parsed.ok());
    r.query = parsed->query;
  }
  for (size_t i = 1; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (!line.empty() && (line[0] == ' ' || line[0] == '\t')) {
      r.headers.back().second += "\n" + line;
      continue;
    }
    size_t colon = line.find(':');
    std::string name = line.substr(0, colon);
    std::string value = line.substr(colon + 1);
    if (name == "Host" || name == "host") {
      r.host = value;
    } else {
      r.headers.emplace_back(name, value);
    }
  }
  if (body_at != std::string::npos && body_at < text.size()) r.body = text.substr(body_at);
  return r;
}

struct SuiteCase {
  Credentials credentials;
  SigningParams params;
  int64_t expires = 0;
};

SuiteCase ParseContext(const std::string& json) {
  SuiteCase c;
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc = parser.parse(padded);
  c.credentials.access_key_id = std::string(doc["credentials"]["access_key_id"].get_string().value());
  c.credentials.secret_access_key =
      std::string(doc["credentials"]["secret_access_key"].get_string().value());
  std::string_view token;
  if (doc["credentials"]["token"].get(token) == simdjson::SUCCESS) {
    c.credentials.session_token = std::string(token);
  }
  c.params.region = std::string(doc["region"].get_string().value());
  c.params.service = std::string(doc["service"].get_string().value());
  auto ms = ParseIso8601Millis(doc["timestamp"].get_string().value());
  EXPECT_TRUE(ms.has_value());
  c.params.time_micros = *ms * 1000;
  c.params.normalize_path = doc["normalize"].get_bool().value();
  c.params.double_encode_path = true;
  c.params.add_content_sha256_header = doc["sign_body"].get_bool().value();
  bool omit = false;
  if (doc["omit_session_token"].get(omit) == simdjson::SUCCESS) c.params.omit_session_token = omit;
  c.expires = doc["expiration_in_seconds"].get_int64().value();
  return c;
}

// Every case of the AWS SigV4 test suite (aws-c-auth's v4 folder), both with an Authorization
// header and presigned: canonical request, string to sign and signature must match exactly.
TEST(SigV4SuiteTest, EveryCaseMatches) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::filesystem::path root = std::filesystem::path(testing::SharedDataDir()) / "sigv4" / "v4";
  ASSERT_TRUE(std::filesystem::is_directory(root)) << root;
  int cases = 0;
  for (const auto& entry : std::filesystem::directory_iterator(root)) {
    if (!entry.is_directory()) continue;
    const auto dir = entry.path();
    SCOPED_TRACE(dir.filename().string());
    SuiteCase c = ParseContext(ReadFile(dir / "context.json"));
    std::string raw = ReadFile(dir / "request.txt");
    {
      HttpRequest r = ParseSuiteRequest(raw);
      auto parts = SignRequest(c.credentials, c.params, &r);
      ASSERT_TRUE(parts.ok()) << parts.status().ToString();
      EXPECT_EQ(parts->canonical_request, TrimNewline(ReadFile(dir / "header-canonical-request.txt")));
      EXPECT_EQ(parts->string_to_sign, TrimNewline(ReadFile(dir / "header-string-to-sign.txt")));
      EXPECT_EQ(parts->signature, TrimNewline(ReadFile(dir / "header-signature.txt")));
      // The Authorization header written into the signed request.
      std::string signed_request = ReadFile(dir / "header-signed-request.txt");
      std::string auth = std::string(FindHeader(r.headers, "Authorization"));
      EXPECT_NE(signed_request.find("Authorization:" + auth), std::string::npos) << auth;
    }
    {
      HttpRequest r = ParseSuiteRequest(raw);
      SigningParams p = c.params;
      p.add_content_sha256_header = false;
      auto parts = PresignRequest(c.credentials, p, c.expires, &r);
      ASSERT_TRUE(parts.ok()) << parts.status().ToString();
      EXPECT_EQ(parts->canonical_request, TrimNewline(ReadFile(dir / "query-canonical-request.txt")));
      EXPECT_EQ(parts->string_to_sign, TrimNewline(ReadFile(dir / "query-string-to-sign.txt")));
      EXPECT_EQ(parts->signature, TrimNewline(ReadFile(dir / "query-signature.txt")));
    }
    ++cases;
  }
  EXPECT_GE(cases, 30) << "the suite should have dozens of cases";
}

// The S3 documentation's examples ("Signature Calculations for the Authorization Header" and
// "Authenticating Requests: Using Query Parameters"): bucket examplebucket, 24 May 2013.
class S3ExamplesTest : public ::testing::Test {
 protected:
  Credentials creds_{"AKIAIOSFODNN7EXAMPLE", "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY", "", 0, "test"};
  int64_t time_ = *ParseIso8601Millis("2013-05-24T00:00:00Z") * 1000;
  SigningParams Params() { return ParamsFor("s3", "us-east-1", time_); }
  HttpRequest Request(std::string method, std::string path) {
    HttpRequest r;
    r.method = std::move(method);
    r.host = "examplebucket.s3.amazonaws.com";
    r.path = std::move(path);
    return r;
  }
};

TEST_F(S3ExamplesTest, GetObjectWithRange) {
  HttpRequest r = Request("GET", "/test.txt");
  r.headers.emplace_back("Range", "bytes=0-9");
  auto parts = SignRequest(creds_, Params(), &r);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->canonical_request,
            "GET\n/test.txt\n\nhost:examplebucket.s3.amazonaws.com\nrange:bytes=0-9\n"
            "x-amz-content-sha256:e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855\n"
            "x-amz-date:20130524T000000Z\n\nhost;range;x-amz-content-sha256;x-amz-date\n"
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
  EXPECT_EQ(parts->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "7344ae5b7ee6c3e7e6b0fe0640412a37625d1fbfff95c48bbb2dc43964946972");
  EXPECT_EQ(parts->signature, "f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41");
  EXPECT_EQ(FindHeader(r.headers, "x-amz-content-sha256"), kEmptySha256);
}

TEST_F(S3ExamplesTest, PutObjectKeepsTheEncodedPathAsIs) {
  // Key "test$file.text": the wire path is encoded once and signed as is (no double encoding).
  HttpRequest r = Request("PUT", "/" + UriEncode("test$file.text", true));
  EXPECT_EQ(r.path, "/test%24file.text");
  r.headers.emplace_back("Date", "Fri, 24 May 2013 00:00:00 GMT");
  r.headers.emplace_back("x-amz-storage-class", "REDUCED_REDUNDANCY");
  r.body = "Welcome to Amazon S3.";
  auto parts = SignRequest(creds_, Params(), &r);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(FindHeader(r.headers, "x-amz-content-sha256"),
            "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072");
  EXPECT_EQ(parts->signed_headers, "date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class");
  EXPECT_EQ(parts->signature, "98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd");
  // Under the other services' rules the same path would be encoded twice: a different signature.
  SigningParams doubled = Params();
  doubled.double_encode_path = true;
  HttpRequest r2 = Request("PUT", "/test%24file.text");
  r2.headers = {{"Date", "Fri, 24 May 2013 00:00:00 GMT"}, {"x-amz-storage-class", "REDUCED_REDUNDANCY"}};
  r2.body = "Welcome to Amazon S3.";
  auto parts2 = SignRequest(creds_, doubled, &r2);
  ASSERT_TRUE(parts2.ok());
  EXPECT_NE(parts2->signature, parts->signature);
  EXPECT_NE(parts2->canonical_request.find("/test%2524file.text"), std::string::npos);
}

TEST_F(S3ExamplesTest, GetBucketLifecycleEmptyQueryValue) {
  HttpRequest r = Request("GET", "/");
  r.query = {{"lifecycle", ""}};
  auto parts = SignRequest(creds_, Params(), &r);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->signature, "fea454ca298b7da1c68078a5d1bdbfbbe0d65c699e0f91ac7a200a0136783543");
}

TEST_F(S3ExamplesTest, ListObjectsSortsTheQuery) {
  HttpRequest r = Request("GET", "/");
  r.query = {{"max-keys", "2"}, {"prefix", "J"}};
  auto parts = SignRequest(creds_, Params(), &r);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->signature, "34b48302e7b5fa45bde8084f4b7868a86f0a534bc59db6670ed5711ef69dc6f7");
  HttpRequest reversed = Request("GET", "/");
  reversed.query = {{"prefix", "J"}, {"max-keys", "2"}};
  auto parts2 = SignRequest(creds_, Params(), &reversed);
  ASSERT_TRUE(parts2.ok());
  EXPECT_EQ(parts2->signature, parts->signature);
}

TEST_F(S3ExamplesTest, PresignedGetUnsignedPayload) {
  HttpRequest r = Request("GET", "/test.txt");
  SigningParams p = Params();
  p.add_content_sha256_header = false;
  p.payload_hash = std::string(kUnsignedPayload);
  auto parts = PresignRequest(creds_, p, 86400, &r);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(parts->string_to_sign,
            "AWS4-HMAC-SHA256\n20130524T000000Z\n20130524/us-east-1/s3/aws4_request\n"
            "3bfa292879f6447bbcda7001decf97f4a54dc650c8942174ae0a9121cf58ad04");
  EXPECT_EQ(parts->signature, "aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404");
  std::string url = r.Url();
  EXPECT_NE(url.find("X-Amz-Credential=AKIAIOSFODNN7EXAMPLE%2F20130524%2Fus-east-1%2Fs3%2Faws4_request"),
            std::string::npos) << url;
  EXPECT_TRUE(url.ends_with("X-Amz-Signature=aeeed9bbccd4d02ee5c0109b86d86835f995330da4c265957d157751f604d404"));
}

TEST_F(S3ExamplesTest, UnsignedPayloadHeader) {
  HttpRequest r = Request("GET", "/test.txt");
  SigningParams p = Params();
  p.payload_hash = std::string(kUnsignedPayload);
  auto parts = SignRequest(creds_, p, &r);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(FindHeader(r.headers, "x-amz-content-sha256"), "UNSIGNED-PAYLOAD");
  EXPECT_TRUE(parts->canonical_request.ends_with("\nUNSIGNED-PAYLOAD"));
}

TEST(SigV4Test, S3PathIsNotNormalized) {
  SigningParams s3 = ParamsFor("s3", "us-east-1", 0);
  EXPECT_EQ(CanonicalUri("/bucket/a//b/../c", s3), "/bucket/a//b/../c");
  SigningParams other = ParamsFor("sqs", "us-east-1", 0);
  EXPECT_EQ(CanonicalUri("/a//b/../c", other), "/a/c");
  EXPECT_EQ(CanonicalUri("/a%20b", other), "/a%2520b");
}

TEST(SigV4Test, SessionTokenIsSignedAndSent) {
  Credentials c{"AKID", "secret", "token/with+chars", 0, "test"};
  HttpRequest r;
  r.host = "sqs.us-east-1.amazonaws.com";
  auto parts = SignRequest(c, ParamsFor("sqs", "us-east-1", 1'000'000), &r);
  ASSERT_TRUE(parts.ok());
  EXPECT_EQ(FindHeader(r.headers, "X-Amz-Security-Token"), "token/with+chars");
  EXPECT_EQ(parts->signed_headers, "host;x-amz-date;x-amz-security-token");
}

TEST(SigV4Test, RefusesEmptyCredentials) {
  HttpRequest r;
  r.host = "h";
  EXPECT_EQ(SignRequest(Credentials{}, ParamsFor("s3", "us-east-1", 0), &r).status().code(),
            StatusCode::kInvalidArgument);
}

TEST(SigV4Test, UriEncoding) {
  EXPECT_EQ(UriEncode("a b/c~d+e=f&ü", true), "a%20b/c~d%2Be%3Df%26%C3%BC");
  EXPECT_EQ(UriEncode("a/b", false), "a%2Fb");
  EXPECT_EQ(UriDecode("a%20b%2fc%zz%4"), "a b/c%zz%4");
}

}  // namespace
}  // namespace cairn::aws
