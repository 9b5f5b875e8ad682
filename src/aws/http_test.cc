#include "aws/http.h"

#include <gtest/gtest.h>

#include <chrono>

#include "aws/test_http_server.h"

namespace cairn::aws {
namespace {

using testing::TestHttpServer;
using testing::TestRequest;
using testing::TestResponse;

HttpOptions LoopbackOptions() {
  HttpOptions o;
  o.use_env_proxy = false;
  o.connect_timeout_ms = 2000;
  o.idle_timeout_ms = 5000;
  return o;
}

HttpRequest To(const TestHttpServer& s, std::string method, std::string path) {
  HttpRequest r;
  r.method = std::move(method);
  r.scheme = "http";
  r.host = s.host();
  r.path = std::move(path);
  return r;
}

TEST(HttpClientTest, RoundTripAndConnectionReuse) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse r;
    r.headers = {{"X-Echo-Method", req.method}, {"X-Echo-Header", req.Header("x-custom")}};
    r.body = req.method + " " + req.target + " " + req.body;
    return r;
  });
  auto http = NewCurlHttpClient(LoopbackOptions());
  HttpRequest get = To(server, "GET", "/a%20b/c");
  get.query = {{"k", "v w"}, {"empty", ""}};
  get.headers = {{"X-Custom", "hello"}};
  auto r1 = http->Send(get);
  ASSERT_TRUE(r1.ok()) << r1.status().ToString();
  EXPECT_EQ(r1->status, 200);
  EXPECT_EQ(r1->body, "GET /a%20b/c?k=v%20w&empty= ");
  EXPECT_EQ(r1->Header("x-echo-header"), "hello");
  HttpRequest post = To(server, "POST", "/");
  post.body = std::string(100000, 'x');
  auto r2 = http->Send(post);
  ASSERT_TRUE(r2.ok());
  EXPECT_EQ(r2->body.size(), std::string("POST / ").size() + 100000);
  HttpRequest head = To(server, "HEAD", "/x");
  auto r3 = http->Send(head);
  ASSERT_TRUE(r3.ok());
  EXPECT_EQ(r3->Header("X-Echo-Method"), "HEAD");
  EXPECT_EQ(server.connections(), 1) << "keep-alive connection should be reused";
  // No form content type invented by libcurl for a POST without one.
  EXPECT_EQ(server.requests()[1].Header("content-type"), "");
}

TEST(HttpClientTest, StreamsToSinkInBoundedPieces) {
  std::string big(8 << 20, 'a');
  for (size_t i = 0; i < big.size(); i += 4096) big[i] = static_cast<char>('a' + (i / 4096) % 26);
  TestHttpServer server([&](const TestRequest&) {
    TestResponse r;
    r.body = big;
    r.headers = {{"ETag", "\"abc\""}};
    return r;
  });
  auto http = NewCurlHttpClient(LoopbackOptions());
  size_t largest = 0;
  std::string got;
  std::string etag_at_headers;
  BodySink sink;
  sink.on_headers = [&](const HttpResponse& h) {
    etag_at_headers = std::string(h.Header("ETag"));
    return Status::Ok();
  };
  sink.on_data = [&](std::string_view chunk) {
    largest = std::max(largest, chunk.size());
    got.append(chunk);
    return Status::Ok();
  };
  auto r = http->SendStreaming(To(server, "GET", "/big"), sink);
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_TRUE(r->body.empty());
  EXPECT_EQ(got, big);
  EXPECT_EQ(etag_at_headers, "\"abc\"");
  EXPECT_LE(largest, 1u << 20) << "pieces should be small (libcurl's buffer), not the whole body";
}

TEST(HttpClientTest, ErrorStatusBodyIsCollectedNotStreamed) {
  TestHttpServer server([](const TestRequest&) {
    TestResponse r;
    r.status = 404;
    r.body = "<Error><Code>NoSuchKey</Code></Error>";
    return r;
  });
  auto http = NewCurlHttpClient(LoopbackOptions());
  int calls = 0;
  BodySink sink;
  sink.on_data = [&](std::string_view) {
    ++calls;
    return Status::Ok();
  };
  auto r = http->SendStreaming(To(server, "GET", "/missing"), sink);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(r->status, 404);
  EXPECT_EQ(calls, 0);
  EXPECT_NE(r->body.find("NoSuchKey"), std::string::npos);
}

TEST(HttpClientTest, TransportFaultsAreUnavailable) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse r;
    r.body = std::string(10000, 'z');
    if (req.path == "/reset") r.close_without_response = true;
    if (req.path == "/truncated") r.truncate_body_at = 100;
    if (req.path == "/slow") r.delay_ms = 2500;
    return r;
  });
  HttpOptions o = LoopbackOptions();
  o.idle_timeout_ms = 1000;
  auto http = NewCurlHttpClient(o);
  auto reset = http->Send(To(server, "GET", "/reset"));
  EXPECT_EQ(reset.status().code(), StatusCode::kUnavailable) << reset.status().ToString();
  auto truncated = http->Send(To(server, "GET", "/truncated"));
  EXPECT_EQ(truncated.status().code(), StatusCode::kUnavailable) << truncated.status().ToString();
  auto start = std::chrono::steady_clock::now();
  auto slow = http->Send(To(server, "GET", "/slow"));
  auto took = std::chrono::steady_clock::now() - start;
  EXPECT_EQ(slow.status().code(), StatusCode::kUnavailable) << slow.status().ToString();
  EXPECT_LT(took, std::chrono::milliseconds(2400)) << "the idle timeout should fire before the reply";
  // Nothing listens on this port any more once the server is gone.
  HttpRequest refused = To(server, "GET", "/");
  refused.host = "127.0.0.1:1";
  EXPECT_EQ(http->Send(refused).status().code(), StatusCode::kUnavailable);
}

TEST(HttpClientTest, ErrorsNeverCarryTheQueryString) {
  auto http = NewCurlHttpClient(LoopbackOptions());
  HttpRequest r;
  r.scheme = "http";
  r.host = "127.0.0.1:1";
  r.path = "/obj";
  r.query = {{"X-Amz-Signature", "deadbeefdeadbeef"}};
  auto resp = http->Send(r);
  ASSERT_FALSE(resp.ok());
  EXPECT_EQ(resp.status().message().find("deadbeef"), std::string::npos) << resp.status().message();
  EXPECT_NE(resp.status().message().find("127.0.0.1:1/obj"), std::string::npos) << resp.status().message();
}

TEST(UrlTest, Parse) {
  auto u = ParseUrl("HTTPS://Example.com:443/base/path?a=1&b=x%2Fy&c");
  ASSERT_TRUE(u.ok());
  EXPECT_EQ(u->scheme, "https");
  EXPECT_EQ(u->host, "example.com");
  EXPECT_EQ(u->path, "/base/path");
  ASSERT_EQ(u->query.size(), 3u);
  EXPECT_EQ(u->query[1].second, "x/y");
  EXPECT_EQ(u->query[2].first, "c");
  auto p = ParseUrl("http://127.0.0.1:4566");
  ASSERT_TRUE(p.ok());
  EXPECT_EQ(p->host, "127.0.0.1:4566");
  EXPECT_EQ(p->path, "/");
  EXPECT_FALSE(ParseUrl("ftp://x").ok());
  EXPECT_FALSE(ParseUrl("no-scheme").ok());
  auto userinfo = ParseUrl("https://user:pass@host/");
  ASSERT_FALSE(userinfo.ok());
  EXPECT_EQ(userinfo.status().message().find("pass"), std::string::npos);
}

}  // namespace
}  // namespace cairn::aws
