#include "aws/client.h"

#include <gtest/gtest.h>
#include <pugixml.hpp>
#include <unistd.h>

#include <cstdio>
#include <fstream>
#include <sstream>

#include "aws/s3.h"
#include "aws/sigv4.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "aws/test_http_server.h"
#include "common/log.h"
#include "common/testing.h"

namespace cairn::aws {
namespace {

using testing::TestHttpServer;
using testing::TestRequest;
using testing::TestResponse;

constexpr char kSecret[] = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";
constexpr char kToken[] = "FwoGZXIvYXdzEXAMPLESESSIONTOKENVALUE0123456789";

std::shared_ptr<CredentialsProvider> TestCredentials() {
  return std::make_shared<StaticCredentialsProvider>(Credentials{"AKIDEXAMPLE12345", kSecret, kToken, 0, "test"});
}

HttpResponse Response(int status, std::string body, HttpHeaders headers = {}) {
  HttpResponse r;
  r.status = status;
  r.body = std::move(body);
  r.headers = std::move(headers);
  return r;
}

struct Fixture {
  ManualClock clock{1'700'000'000'000'000};
  std::vector<HttpRequest> sent;
  std::function<Result<HttpResponse>(const HttpRequest&, int)> reply;
  std::shared_ptr<HttpClient> http = std::make_shared<FunctionHttpClient>(
      [this](const HttpRequest& r, const BodySink* sink) -> Result<HttpResponse> {
        sent.push_back(r);
        Result<HttpResponse> resp = reply(r, static_cast<int>(sent.size()));
        if (resp.ok() && sink && resp->ok()) {
          if (sink->on_headers) RETURN_IF_ERROR(sink->on_headers(*resp));
          if (sink->on_data) RETURN_IF_ERROR(sink->on_data(resp->body));
          resp->body.clear();
        }
        return resp;
      });
  AwsClient Client(std::string region = "us-west-2", EndpointConfig endpoints = {}) {
    AwsClientOptions o;
    o.region = region;
    o.endpoints = std::move(endpoints);
    o.clock = &clock;
    o.jitter_seed = 42;
    return AwsClient(http, TestCredentials(), o);
  }
};

TEST(RetryTest, RetriesThrottlingAndServerErrorsThenSucceeds) {
  Fixture f;
  f.reply = [](const HttpRequest&, int n) -> Result<HttpResponse> {
    if (n == 1) return Response(503, "<Error><Code>SlowDown</Code><Message>Reduce your request rate.</Message></Error>");
    if (n == 2) return Unavailable("connection reset");
    if (n == 3) return Response(400, R"({"__type":"com.amazonaws.sqs#ThrottlingException","message":"Rate exceeded"})");
    if (n == 4) return Response(500, "");
    return Response(200, "ok");
  };
  AwsClient c = f.Client();
  int64_t before = f.clock.NowMicros();
  auto r = c.Send(Operation{.service = "s3", .api = "S3 GetObject", .resource = "s3://b/k"}, HttpRequest{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(f.sent.size(), 5u);
  EXPECT_EQ(c.retries(), 4);
  // Full jitter: each delay lies in [0, base * 2^(n-1)]; the sum is bounded by the ceilings.
  int64_t slept_ms = (f.clock.NowMicros() - before) / 1000;
  EXPECT_LE(slept_ms, 500 + 200 + 2000 + 800);
  EXPECT_GT(slept_ms, 0);
  // Each try is signed afresh.
  EXPECT_NE(FindHeader(f.sent[0].headers, "Authorization"), "");
}

TEST(RetryTest, GivesUpAfterMaxAttemptsWithUnavailable) {
  Fixture f;
  f.reply = [](const HttpRequest&, int) -> Result<HttpResponse> {
    return Response(503, "<Error><Code>ServiceUnavailable</Code><Message>try later</Message></Error>");
  };
  AwsClient c = f.Client();
  auto r = c.Send(Operation{.service = "s3", .api = "S3 HeadObject", .resource = "s3://b/k"}, HttpRequest{});
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.status().code(), StatusCode::kUnavailable);
  EXPECT_TRUE(r.status().retryable());
  EXPECT_EQ(f.sent.size(), 5u);
  EXPECT_NE(r.status().message().find("S3 HeadObject s3://b/k: ServiceUnavailable: try later"), std::string::npos)
      << r.status().message();
}

TEST(RetryTest, DelayBounds) {
  RetryPolicy p;
  EXPECT_EQ(p.DelayMillis(1, false, 0.999999), 99);
  EXPECT_EQ(p.DelayMillis(3, false, 1.0), 400);
  EXPECT_EQ(p.DelayMillis(3, true, 1.0), 2000);
  EXPECT_EQ(p.DelayMillis(30, true, 1.0), 20000);
  EXPECT_EQ(p.DelayMillis(5, false, 0.0), 0);
}

TEST(RetryTest, ClientErrorsAreNotRetriedAndNameApiResourceAndMessage) {
  Fixture f;
  f.reply = [](const HttpRequest&, int) -> Result<HttpResponse> {
    return Response(404,
                    "<?xml version=\"1.0\"?><Error><Code>NoSuchKey</Code><Message>The specified key does not "
                    "exist.</Message><Key>k</Key><RequestId>REQ123</RequestId></Error>");
  };
  AwsClient c = f.Client();
  auto r = c.Send(Operation{.service = "s3", .api = "S3 GetObject", .resource = "s3://b/k"}, HttpRequest{});
  EXPECT_EQ(r.status().code(), StatusCode::kNotFound);
  EXPECT_EQ(f.sent.size(), 1u);
  EXPECT_EQ(r.status().message(),
            "S3 GetObject s3://b/k: NoSuchKey: The specified key does not exist. (HTTP 404, request REQ123)");
}

TEST(RetryTest, ExpiredTokenRefreshesCredentialsOnce) {
  Fixture f;
  int gets = 0;
  struct Counting : CredentialsProvider {
    int* gets;
    int invalidations = 0;
    Result<Credentials> Get() override {
      ++*gets;
      return Credentials{"AKID" + std::to_string(*gets) + "XXXXXXXX", "secretsecret", "", 0, "t"};
    }
    void Invalidate() override { ++invalidations; }
    std::string Name() const override { return "counting"; }
  };
  auto provider = std::make_shared<Counting>();
  provider->gets = &gets;
  f.reply = [](const HttpRequest&, int n) -> Result<HttpResponse> {
    if (n == 1) return Response(400, "<ErrorResponse><Error><Code>ExpiredToken</Code><Message>expired</Message></Error></ErrorResponse>");
    return Response(200, "<R/>");
  };
  AwsClientOptions o;
  o.clock = &f.clock;
  AwsClient c(f.http, provider, o);
  auto r = c.Send(Operation{.service = "sns", .api = "SNS Publish"}, HttpRequest{});
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ(provider->invalidations, 1);
  EXPECT_EQ(gets, 2);
  EXPECT_NE(FindHeader(f.sent[0].headers, "Authorization"), FindHeader(f.sent[1].headers, "Authorization"));
}

TEST(ErrorsTest, ParsesEveryProtocolsShape) {
  AwsError s3 = ParseAwsError(Response(403, "<Error><Code>AccessDenied</Code><Message>Access Denied</Message></Error>"));
  EXPECT_EQ(s3.code, "AccessDenied");
  EXPECT_EQ(ErrorStatus(s3, "S3 GetObject", "s3://b/k").code(), StatusCode::kPermissionDenied);
  AwsError query = ParseAwsError(Response(
      400, "<ErrorResponse xmlns=\"https://sns.amazonaws.com/doc/2010-03-31/\"><Error><Type>Sender</Type><Code>NotFound</Code>"
           "<Message>Topic does not exist</Message></Error><RequestId>r1</RequestId></ErrorResponse>"));
  EXPECT_EQ(query.code, "NotFound");
  EXPECT_EQ(query.request_id, "r1");
  EXPECT_EQ(ErrorStatus(query, "SNS Publish", "arn").code(), StatusCode::kNotFound);
  AwsError json = ParseAwsError(Response(400, R"({"__type":"com.amazonaws.sqs#QueueDoesNotExist","message":"The specified queue does not exist."})",
                                         {{"x-amzn-query-error", "AWS.SimpleQueueService.NonExistentQueue;Sender"}}));
  EXPECT_EQ(json.code, "QueueDoesNotExist");
  EXPECT_EQ(json.message, "The specified queue does not exist.");
  EXPECT_EQ(ErrorStatus(json, "SQS ReceiveMessage", "url").code(), StatusCode::kNotFound);
  AwsError json11 = ParseAwsError(Response(400, R"({"__type":"TrailAlreadyExistsException","Message":"exists"})"));
  EXPECT_EQ(ErrorStatus(json11, "CloudTrail CreateTrail", "t").code(), StatusCode::kAlreadyExists);
  AwsError head = ParseAwsError(Response(404, ""));
  EXPECT_EQ(head.code, "NotFound");
  AwsError garbage = ParseAwsError(Response(502, "<html>bad gateway"));
  EXPECT_EQ(garbage.code, "BadGateway");
  EXPECT_TRUE(IsRetryableError(garbage));
  AwsError throttle = ParseAwsError(Response(400, "<ErrorResponse><Error><Code>Throttling</Code></Error></ErrorResponse>"));
  EXPECT_EQ(ErrorStatus(throttle, "IAM GetRole", "r").code(), StatusCode::kUnavailable);
  EXPECT_TRUE(IsRetryableError(ParseAwsError(Response(400, "<Response><Errors><Error><Code>RequestLimitExceeded</Code></Error></Errors></Response>"))));
  EXPECT_TRUE(IsRetryableError(ParseAwsError(Response(429, ""))));
}

// No secret — secret key, session token, signature, Authorization value — may reach a log line or
// an error message, even when a hostile or buggy server echoes them back.
TEST(SecretsTest, NeverLoggedNorInErrors) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse r;
    r.status = req.path == "/throttle" ? 503 : 400;
    r.body = "<Error><Code>" + std::string(req.path == "/throttle" ? "SlowDown" : "InvalidRequest") +
             "</Code><Message>you sent Authorization: " + req.Header("authorization") + " and token " +
             req.Header("x-amz-security-token") + " and secret " + kSecret + "</Message></Error>";
    return r;
  });
  std::string log_path = cairn::testing::MakeTempDir("cairn_aws_log") + "/log.txt";
  FILE* logf = std::fopen(log_path.c_str(), "w");
  ASSERT_NE(logf, nullptr);
  log::SetFd(fileno(logf));
  log::SetLevel(log::Level::kDebug);
  HttpOptions ho;
  ho.use_env_proxy = false;
  AwsClientOptions o;
  o.region = "us-east-1";
  o.endpoints.endpoint_url = server.url();
  o.retry.base_delay_ms = 1;
  o.retry.throttle_base_delay_ms = 1;
  o.retry.max_attempts = 3;
  AwsClient c(NewCurlHttpClient(ho), TestCredentials(), o);
  std::vector<Status> errors;
  for (const char* path : {"/throttle", "/bad"}) {
    HttpRequest r;
    r.path = path;
    auto resp = c.Send(Operation{.service = "s3", .api = "S3 GetObject", .resource = "s3://b/k"}, r);
    ASSERT_FALSE(resp.ok());
    errors.push_back(resp.status());
  }
  // Presigned query strings in a transport error.
  HttpRequest presigned;
  presigned.scheme = "http";
  presigned.host = "127.0.0.1:1";
  presigned.query = {{"X-Amz-Signature", "abcdef0123456789"}, {"X-Amz-Security-Token", kToken}};
  errors.push_back(c.Send(Operation{.service = "s3", .api = "S3 GetObject", .resource = "s3://b/k"}, presigned).status());
  log::Info("credentials in use: {}", Credentials{"AKIDEXAMPLE12345", kSecret, kToken, 0, "test"}.Describe());
  std::fflush(logf);
  log::SetFd(2);
  log::SetLevel(log::Level::kInfo);
  std::fclose(logf);
  std::ifstream in(log_path);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string logged = ss.str();
  ASSERT_NE(logged.find("SlowDown"), std::string::npos) << "retries should have been logged: " << logged;
  auto check = [&](const std::string& text, const std::string& where) {
    EXPECT_EQ(text.find(kSecret), std::string::npos) << where << ": " << text;
    EXPECT_EQ(text.find(kToken), std::string::npos) << where << ": " << text;
    EXPECT_EQ(text.find("Signature=0"), std::string::npos) << where << ": " << text;
    EXPECT_EQ(text.find("abcdef0123456789"), std::string::npos) << where << ": " << text;
    for (const auto& req : server.requests()) {
      std::string auth = req.Header("authorization");
      std::string sig = auth.substr(auth.find("Signature=") + 10);
      ASSERT_EQ(sig.size(), 64u);
      EXPECT_EQ(text.find(sig), std::string::npos) << where << ": " << text;
    }
  };
  check(logged, "log");
  for (const Status& s : errors) check(s.ToString(), "status");
  EXPECT_EQ(errors[0].code(), StatusCode::kUnavailable);
  EXPECT_NE(errors[1].message().find("InvalidRequest"), std::string::npos);
}

TEST(EndpointsTest, PrecedenceAndDefaults) {
  EndpointConfig cfg;
  auto e = ResolveEndpoint("sqs", "us-west-2", cfg);
  ASSERT_TRUE(e.ok());
  EXPECT_EQ(e->host, "sqs.us-west-2.amazonaws.com");
  EXPECT_FALSE(e->custom);
  EXPECT_EQ(ResolveEndpoint("iam", "eu-west-1", cfg)->host, "iam.amazonaws.com");
  EXPECT_EQ(ResolveEndpoint("iam", "eu-west-1", cfg)->signing_region, "us-east-1");
  EXPECT_EQ(ResolveEndpoint("s3", "cn-north-1", cfg)->host, "s3.cn-north-1.amazonaws.com.cn");
  EXPECT_EQ(ResolveEndpoint("cloudtrail", "sa-east-1", cfg)->host, "cloudtrail.sa-east-1.amazonaws.com");

  cfg.env = MapEnvironment({{"AWS_ENDPOINT_URL", "http://127.0.0.1:4566"},
                            {"AWS_ENDPOINT_URL_SQS", "http://localhost:9324/"},
                            {"AWS_ENDPOINT_URL_CLOUDTRAIL", "https://ct.example:8443/prefix/"}});
  EXPECT_EQ(ResolveEndpoint("sqs", "us-west-2", cfg)->host, "localhost:9324");
  EXPECT_EQ(ResolveEndpoint("sqs", "us-west-2", cfg)->origin, "env AWS_ENDPOINT_URL_SQS");
  EXPECT_EQ(ResolveEndpoint("s3", "us-west-2", cfg)->host, "127.0.0.1:4566");
  EXPECT_EQ(ResolveEndpoint("s3", "us-west-2", cfg)->signing_region, "us-west-2");
  auto ct = ResolveEndpoint("cloudtrail", "us-west-2", cfg);
  EXPECT_EQ(ct->host, "ct.example:8443");
  EXPECT_EQ(ct->base_path, "/prefix");
  cfg.service_urls["sqs"] = "http://config-sqs:1234";
  EXPECT_EQ(ResolveEndpoint("sqs", "us-west-2", cfg)->host, "config-sqs:1234");
  cfg.endpoint_url = "http://config-all:1";
  EXPECT_EQ(ResolveEndpoint("sns", "us-west-2", cfg)->host, "config-all:1");
  EndpointConfig ignore;
  ignore.env = MapEnvironment({{"AWS_ENDPOINT_URL", "http://x:1"}, {"AWS_IGNORE_CONFIGURED_ENDPOINT_URLS", "true"}});
  EXPECT_FALSE(ResolveEndpoint("sqs", "us-east-1", ignore)->custom);
  EndpointConfig bad;
  bad.endpoint_url = "localhost:4566";
  auto b = ResolveEndpoint("s3", "us-east-1", bad);
  ASSERT_FALSE(b.ok());
  EXPECT_NE(b.status().message().find("aws.endpoint_url"), std::string::npos);
}

TEST(S3RequestTest, AddressingStyles) {
  Fixture f;
  AwsClient aws = f.Client("us-west-2");
  S3Client s3(&aws);
  auto r = s3.MakeRequest("GET", "my-logs", "AWSLogs/123/CloudTrail/a b+c.json.gz");
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->host, "my-logs.s3.us-west-2.amazonaws.com");
  EXPECT_EQ(r->path, "/AWSLogs/123/CloudTrail/a%20b%2Bc.json.gz");
  auto dotted = s3.MakeRequest("GET", "my.logs", "k");
  EXPECT_EQ(dotted->host, "s3.us-west-2.amazonaws.com");
  EXPECT_EQ(dotted->path, "/my.logs/k");
  EndpointConfig custom;
  custom.endpoint_url = "http://127.0.0.1:4566";
  AwsClient emu = f.Client("us-west-2", custom);
  S3Client s3e(&emu);
  auto e = s3e.MakeRequest("GET", "my-logs", "a//b/../c");
  EXPECT_EQ(e->host, "127.0.0.1:4566");
  EXPECT_EQ(e->path, "/my-logs/a//b/../c");
}

TEST(S3RequestTest, ListObjectsV2ParametersAndParsing) {
  Fixture f;
  f.reply = [](const HttpRequest&, int) -> Result<HttpResponse> {
    return Response(200, R"(<?xml version="1.0" encoding="UTF-8"?>
<ListBucketResult xmlns="http://s3.amazonaws.com/doc/2006-03-01/"><Name>b</Name><Prefix>AWSLogs/</Prefix>
<KeyCount>2</KeyCount><MaxKeys>2</MaxKeys><IsTruncated>true</IsTruncated><NextContinuationToken>tok==</NextContinuationToken>
<Contents><Key>AWSLogs/a &amp; b.json.gz</Key><LastModified>2023-07-10T00:00:00.000Z</LastModified><ETag>"e1"</ETag><Size>42</Size><StorageClass>STANDARD</StorageClass></Contents>
<CommonPrefixes><Prefix>AWSLogs/123/</Prefix></CommonPrefixes></ListBucketResult>)");
  };
  AwsClient aws = f.Client();
  S3Client s3(&aws);
  ListObjectsRequest req;
  req.bucket = "b";
  req.prefix = "AWSLogs/";
  req.delimiter = "/";
  req.start_after = "AWSLogs/0";
  req.continuation_token = "prev+tok=";
  auto r = s3.ListObjectsV2(req);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->objects.size(), 1u);
  EXPECT_EQ(r->objects[0].key, "AWSLogs/a & b.json.gz");
  EXPECT_EQ(r->objects[0].size, 42u);
  EXPECT_EQ(r->common_prefixes, std::vector<std::string>{"AWSLogs/123/"});
  EXPECT_TRUE(r->truncated);
  EXPECT_EQ(r->next_continuation_token, "tok==");
  std::string url = f.sent[0].Url();
  EXPECT_NE(url.find("list-type=2"), std::string::npos) << url;
  EXPECT_NE(url.find("continuation-token=prev%2Btok%3D"), std::string::npos) << url;
  EXPECT_NE(url.find("start-after=AWSLogs%2F0"), std::string::npos) << url;
  EXPECT_EQ(FindHeader(f.sent[0].headers, "x-amz-content-sha256"), kEmptySha256);
}

TEST(S3RequestTest, BucketLocation) {
  Fixture f;
  std::string answer;
  f.reply = [&](const HttpRequest&, int) -> Result<HttpResponse> { return Response(200, answer); };
  AwsClient aws = f.Client();
  S3Client s3(&aws);
  answer = R"(<?xml version="1.0"?><LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/">eu-central-1</LocationConstraint>)";
  EXPECT_EQ(*s3.GetBucketLocation("b"), "eu-central-1");
  answer = R"(<LocationConstraint xmlns="http://s3.amazonaws.com/doc/2006-03-01/"/>)";
  EXPECT_EQ(*s3.GetBucketLocation("b"), "us-east-1");
  answer = R"(<LocationConstraint>EU</LocationConstraint>)";
  EXPECT_EQ(*s3.GetBucketLocation("b"), "eu-west-1");
  EXPECT_EQ(f.sent[0].query, (std::vector<std::pair<std::string, std::string>>{{"location", ""}}));
}

// A connection that breaks mid-body is resumed from the byte where it stopped, with If-Match.
TEST(S3RequestTest, GetObjectResumesWithRangeAndIfMatch) {
  std::string object(3 << 20, 'q');
  for (size_t i = 0; i < object.size(); ++i) object[i] = static_cast<char>('a' + (i * 7) % 26);
  int calls = 0;
  TestHttpServer server([&](const TestRequest& req) {
    TestResponse r;
    ++calls;
    r.headers = {{"ETag", "\"etag1\""}, {"x-amz-meta-origin", "test"}};
    std::string range = req.Header("range");
    if (range.empty()) {
      r.body = object;
      r.truncate_body_at = 1 << 20;
      return r;
    }
    size_t from = std::stoul(range.substr(6));
    if (req.Header("if-match") != "\"etag1\"") r.status = 412;
    r.status = r.status == 412 ? 412 : 206;
    r.body = object.substr(from);
    r.headers.emplace_back("Content-Range", "bytes " + std::to_string(from) + "-" + std::to_string(object.size() - 1) +
                                                "/" + std::to_string(object.size()));
    return r;
  });
  HttpOptions ho;
  ho.use_env_proxy = false;
  AwsClientOptions o;
  o.endpoints.endpoint_url = server.url();
  AwsClient aws(NewCurlHttpClient(ho), TestCredentials(), o);
  S3Client s3(&aws);
  S3ObjectInfo info;
  auto body = s3.GetObjectToString("bucket", "key", 16 << 20, &info);
  ASSERT_TRUE(body.ok()) << body.status().ToString();
  EXPECT_TRUE(*body == object);
  EXPECT_EQ(calls, 2);
  EXPECT_EQ(info.etag, "\"etag1\"");
  EXPECT_EQ(info.size, object.size());
  EXPECT_EQ(info.metadata["origin"], "test");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  EXPECT_EQ(reqs[1].Header("range"), "bytes=" + std::to_string(1 << 20) + "-");
  EXPECT_EQ(reqs[0].path, "/bucket/key");
}

// A bucket in another region: S3 says where (x-amz-bucket-region); the request is re-signed for
// that region once and the region is remembered for the bucket.
TEST(S3RequestTest, FollowsTheBucketRegion) {
  Fixture f;
  f.reply = [](const HttpRequest& r, int) -> Result<HttpResponse> {
    std::string auth(FindHeader(r.headers, "Authorization"));
    if (auth.find("/eu-west-1/s3/") == std::string::npos) {
      return Response(301, "<Error><Code>PermanentRedirect</Code><Message>use the right endpoint</Message></Error>",
                      {{"x-amz-bucket-region", "eu-west-1"}});
    }
    return Response(200, "data", {{"ETag", "\"e\""}, {"Content-Length", "4"}});
  };
  AwsClient aws = f.Client("us-west-2");
  S3Client s3(&aws);
  auto got = s3.GetObjectToString("eu-logs", "k", 100);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(*got, "data");
  ASSERT_EQ(f.sent.size(), 2u);
  EXPECT_EQ(f.sent[1].host, "eu-logs.s3.eu-west-1.amazonaws.com");
  auto head = s3.HeadObject("eu-logs", "k");
  ASSERT_TRUE(head.ok());
  EXPECT_EQ(f.sent.size(), 3u) << "the bucket's region is remembered";
  f.reply = [](const HttpRequest&, int) -> Result<HttpResponse> {
    return Response(301, "<Error><Code>PermanentRedirect</Code></Error>", {{"x-amz-bucket-region", "ap-south-1"}});
  };
  auto moved = s3.DeleteObject("eu-logs", "k");
  EXPECT_FALSE(moved.ok()) << "only one redirect is followed";
}

TEST(SqsRequestTest, JsonProtocolShapes) {
  Fixture f;
  f.reply = [](const HttpRequest& r, int) -> Result<HttpResponse> {
    std::string target(FindHeader(r.headers, "X-Amz-Target"));
    if (target == "AmazonSQS.ReceiveMessage") {
      return Response(200, R"({"Messages":[{"MessageId":"m1","ReceiptHandle":"rh1","MD5OfBody":"x","Body":"{\"s3Bucket\":\"b\"}","Attributes":{"ApproximateReceiveCount":"3","SentTimestamp":"1"}}]})");
    }
    if (target == "AmazonSQS.DeleteMessageBatch") {
      return Response(200, R"({"Successful":[{"Id":"a"}],"Failed":[{"Id":"b","Code":"ReceiptHandleIsInvalid","Message":"bad handle","SenderFault":true}]})");
    }
    return Response(200, "{}");
  };
  AwsClient aws = f.Client("us-east-1");
  SqsClient sqs(&aws);
  std::string url = "http://sqs.us-west-2.localhost:4566/000000000000/cloudtrail";
  auto msgs = sqs.ReceiveMessage(url);
  ASSERT_TRUE(msgs.ok()) << msgs.status().ToString();
  ASSERT_EQ(msgs->size(), 1u);
  EXPECT_EQ((*msgs)[0].receive_count(), 3);
  EXPECT_EQ((*msgs)[0].body, "{\"s3Bucket\":\"b\"}");
  const HttpRequest& sent = f.sent[0];
  EXPECT_EQ(sent.host, "sqs.us-west-2.amazonaws.com") << "the queue's region picks the endpoint";
  EXPECT_EQ(FindHeader(sent.headers, "Content-Type"), "application/x-amz-json-1.0");
  EXPECT_NE(sent.body.find("\"WaitTimeSeconds\":20"), std::string::npos) << sent.body;
  EXPECT_NE(sent.body.find("\"MaxNumberOfMessages\":10"), std::string::npos);
  EXPECT_NE(sent.body.find("ApproximateReceiveCount"), std::string::npos);
  EXPECT_GT(sent.idle_timeout_ms, 20000);
  EXPECT_NE(FindHeader(sent.headers, "Authorization").find("/us-west-2/sqs/aws4_request"), std::string::npos);
  auto batch = sqs.DeleteMessageBatch(url, {{"a", "rh1"}, {"b", "rh2"}});
  ASSERT_TRUE(batch.ok());
  EXPECT_EQ(batch->successful, std::vector<std::string>{"a"});
  ASSERT_EQ(batch->failed.size(), 1u);
  EXPECT_EQ(batch->failed[0].code, "ReceiptHandleIsInvalid");
  EXPECT_TRUE(batch->failed[0].sender_fault);
  EXPECT_FALSE(sqs.DeleteMessageBatch(url, {}).ok());
  EXPECT_FALSE(sqs.ReceiveMessage(url, ReceiveOptions{.max_messages = 11}).ok());
  EXPECT_EQ(QueueRegionFromUrl("https://sqs.eu-west-1.amazonaws.com/1/q"), "eu-west-1");
  EXPECT_EQ(QueueRegionFromUrl("https://queue.amazonaws.com/1/q"), "us-east-1");
  EXPECT_EQ(QueueRegionFromUrl("https://ap-south-1.queue.amazonaws.com/1/q"), "ap-south-1");
  EXPECT_EQ(QueueRegionFromUrl("http://127.0.0.1:4566/1/q"), "");
}

TEST(QueryTest, FormEncodedActionAndMapParameters) {
  Fixture f;
  f.reply = [](const HttpRequest&, int) -> Result<HttpResponse> {
    return Response(200, "<SubscribeResponse><SubscribeResult><SubscriptionArn>arn:sub</SubscriptionArn></SubscribeResult></SubscribeResponse>");
  };
  AwsClient aws = f.Client("us-west-2");
  SnsClient sns(&aws);
  auto arn = sns.Subscribe("arn:aws:sns:eu-west-1:123:topic", "sqs", "arn:aws:sqs:us-west-2:123:q",
                           {{"RawMessageDelivery", "true"}});
  ASSERT_TRUE(arn.ok());
  EXPECT_EQ(*arn, "arn:sub");
  const HttpRequest& r = f.sent[0];
  EXPECT_EQ(r.host, "sns.eu-west-1.amazonaws.com") << "the topic's region picks the endpoint";
  EXPECT_EQ(r.body,
            "Action=Subscribe&Version=2010-03-31&TopicArn=arn%3Aaws%3Asns%3Aeu-west-1%3A123%3Atopic&Protocol=sqs&"
            "Endpoint=arn%3Aaws%3Asqs%3Aus-west-2%3A123%3Aq&ReturnSubscriptionArn=true&"
            "Attributes.entry.1.key=RawMessageDelivery&Attributes.entry.1.value=true");
  EXPECT_EQ(RegionFromArn("arn:aws:sns:sa-east-1:1:t"), "sa-east-1");
}

}  // namespace
}  // namespace cairn::aws
