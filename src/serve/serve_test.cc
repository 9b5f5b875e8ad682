// Unit tests of the serve layer: routing, parameters, authentication and Splunk output shapes.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <thread>

#include "common/testing.h"
#include "serve/auth.h"
#include "serve/http.h"
#include "serve/router.h"
#include "serve/server.h"
#include "serve/splunk_format.h"

namespace cairn::serve {
namespace {

Request MakeRequest(const std::string& method, const std::string& path) {
  Request r;
  r.method = method;
  EXPECT_TRUE(Router::NormalizePath(path, &r)) << path;
  return r;
}

TEST(Params, ParsesUrlEncodedWithRepeatsAndEscapes) {
  Params p;
  ASSERT_TRUE(ParseUrlEncoded("search=search+index%3Dmain&count=10&count=20&empty=&flag", &p));
  EXPECT_EQ(p.Get("search", ""), "search index=main");
  EXPECT_EQ(p.Get("count", ""), "20");
  EXPECT_EQ(p.GetAll("count").size(), 2u);
  EXPECT_EQ(p.Get("empty", "x"), "");
  EXPECT_TRUE(p.Has("flag"));
  Params bad;
  EXPECT_FALSE(ParseUrlEncoded("a=%zz", &bad));
  EXPECT_FALSE(ParseUrlEncoded("a=%4", &bad));
}

TEST(Router, NormalizesServicesNsAndRejectsDotDot) {
  Request r;
  ASSERT_TRUE(Router::NormalizePath("/servicesNS/admin/search/search/jobs/", &r));
  EXPECT_EQ(r.path, "/services/search/jobs");
  EXPECT_EQ(r.ns_user, "admin");
  EXPECT_EQ(r.ns_app, "search");
  EXPECT_FALSE(Router::NormalizePath("/services/../etc/passwd", &r));
  EXPECT_FALSE(Router::NormalizePath("/services/%2e%2e/x", &r));
  EXPECT_FALSE(Router::NormalizePath("relative", &r));
}

TEST(Router, MatchesCapturesPrefersLiteralsAndChecksAccess) {
  Router router;
  router.SetAuthenticator([](Request& req) -> std::optional<User> {
    if (req.Header("authorization") == "Splunk admin") return User{"a", "admin"};
    if (req.Header("authorization") == "Splunk user") return User{"u", "user"};
    return std::nullopt;
  });
  auto text = [](std::string s) {
    return [s](Request& req) {
      Response r;
      r.body = s + (req.captures.count("sid") ? ":" + req.captures["sid"] : "");
      return r;
    };
  };
  router.Add("GET", "/services/search/jobs/{sid}", text("job"));
  router.Add("GET", "/services/search/jobs/export", text("export"));
  router.Add("GET", "/health", text("ok"), Access::kPublic);
  router.Add("POST", "/admin", text("admin"), Access::kAdmin);
  router.Add("GET", "/boom",
             [](Request&) -> Response { throw std::runtime_error("secret detail"); });

  Request pub = MakeRequest("GET", "/health");
  EXPECT_EQ(router.Dispatch(pub).status, 200);

  Request anon = MakeRequest("GET", "/services/search/jobs/123");
  Response r = router.Dispatch(anon);
  EXPECT_EQ(r.status, 401);
  EXPECT_NE(r.body.find("call not properly authenticated"), std::string::npos);

  Request job = MakeRequest("GET", "/servicesNS/u/search/search/jobs/12%2E3");
  job.headers["authorization"] = "Splunk user";
  r = router.Dispatch(job);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, "job:12.3");

  Request exp = MakeRequest("GET", "/services/search/jobs/export");
  exp.headers["authorization"] = "Splunk user";
  EXPECT_EQ(router.Dispatch(exp).body, "export");

  Request wrong_method = MakeRequest("DELETE", "/health");
  wrong_method.headers["authorization"] = "Splunk user";
  EXPECT_EQ(router.Dispatch(wrong_method).status, 405);

  Request missing = MakeRequest("GET", "/nope");
  EXPECT_EQ(router.Dispatch(missing).status, 401);  // unknown paths reveal nothing to strangers
  missing.headers["authorization"] = "Splunk user";
  EXPECT_EQ(router.Dispatch(missing).status, 404);

  Request as_user = MakeRequest("POST", "/admin");
  as_user.headers["authorization"] = "Splunk user";
  EXPECT_EQ(router.Dispatch(as_user).status, 403);
  Request as_admin = MakeRequest("POST", "/admin");
  as_admin.headers["authorization"] = "Splunk admin";
  EXPECT_EQ(router.Dispatch(as_admin).status, 200);

  Request boom = MakeRequest("GET", "/boom");
  boom.headers["authorization"] = "Splunk user";
  boom.query.Add("output_mode", "json");
  r = router.Dispatch(boom);
  EXPECT_EQ(r.status, 500);
  EXPECT_EQ(r.body.find("secret detail"), std::string::npos);
  EXPECT_NE(r.body.find("\"messages\""), std::string::npos);
}

TEST(Auth, HashesVerifyAndRejectWrongPasswords) {
  std::string h = HashPassword("correct horse");
  EXPECT_EQ(h.rfind("$argon2id$", 0), 0u) << h;
  EXPECT_TRUE(VerifyPassword("correct horse", h));
  EXPECT_FALSE(VerifyPassword("correct horsf", h));
  EXPECT_NE(HashPassword("correct horse"), h);  // salted
  EXPECT_FALSE(VerifyPassword("x", "scrypt$99$8$1$00$00"));
  // A hash written before argon2id (scrypt, by an earlier `cairn serve passwd`) still verifies.
  const std::string old =
      "scrypt$15$8$1$ecf4b727f307b45babcdb617f3ee0bf1$"
      "eba00838d75dd2e41283c1b6bc1012979c70207790cef87be1ee932e3f01ddcb";
  EXPECT_TRUE(VerifyPassword("correct horse", old));
  EXPECT_FALSE(VerifyPassword("correct horsf", old));
  EXPECT_FALSE(VerifyPassword("correct horse", "$argon2id$v=19$m=65536,t=2,p=1$garbage"));
  EXPECT_FALSE(VerifyPassword("x", "garbage"));
}

TEST(Auth, LoginSessionsBasicTokensAndRateLimit) {
  const std::string dir = testing::MakeTempDir("cairn_auth");
  const std::string path = dir + "/users";
  ASSERT_TRUE(SetUserPassword(path, "alice", "admin", "alice-password").ok());
  ASSERT_TRUE(SetUserPassword(path, "bob", "user", "bob-password").ok());
  EXPECT_FALSE(SetUserPassword(path, "bad:name", "user", "whatever-pass").ok());
  EXPECT_FALSE(SetUserPassword(path, "carol", "user", "short").ok());
  auto token = AddApiToken(path, "bob");
  ASSERT_TRUE(token.ok());
  // The file holds no secret in clear.
  std::FILE* fp = std::fopen(path.c_str(), "r");
  ASSERT_NE(fp, nullptr);
  char buf[8192];
  std::string text(buf, std::fread(buf, 1, sizeof(buf), fp));
  std::fclose(fp);
  EXPECT_EQ(text.find("alice-password"), std::string::npos);
  EXPECT_EQ(text.find(*token), std::string::npos);

  AuthOptions opt;
  opt.users_file = path;
  opt.max_failures = 3;
  Auth auth(opt);
  EXPECT_EQ(auth.UserCount(), 2u);
  auto key = auth.Login("alice", "alice-password", "test");
  ASSERT_TRUE(key.has_value());
  EXPECT_FALSE(auth.Login("alice", "wrong", "test").has_value());
  EXPECT_FALSE(auth.Login("nobody", "alice-password", "test").has_value());

  Request r;
  r.headers["authorization"] = "Splunk " + *key;
  auto u = auth.Authenticate(&r);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->name, "alice");
  EXPECT_EQ(u->role, "admin");
  r.headers["authorization"] = "Bearer " + *key;
  EXPECT_TRUE(auth.Authenticate(&r).has_value());
  r.headers["authorization"] = "Bearer " + *token;
  u = auth.Authenticate(&r);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->name, "bob");
  r.headers["authorization"] = "Splunk " + *token;
  EXPECT_TRUE(auth.Authenticate(&r).has_value());
  r.headers["authorization"] = "Bearer " + std::string(64, 'a');
  EXPECT_FALSE(auth.Authenticate(&r).has_value());
  r.headers["authorization"] = "Basic Ym9iOmJvYi1wYXNzd29yZA==";  // bob:bob-password
  u = auth.Authenticate(&r);
  ASSERT_TRUE(u.has_value());
  EXPECT_EQ(u->role, "user");
  r.headers["authorization"] = "Basic Ym9iOndyb25n";  // bob:wrong
  EXPECT_FALSE(auth.Authenticate(&r).has_value());
  r.headers["authorization"] = "Basic !!!";
  EXPECT_FALSE(auth.Authenticate(&r).has_value());

  auth.Logout(*key);
  r.headers["authorization"] = "Splunk " + *key;
  EXPECT_FALSE(auth.Authenticate(&r).has_value());

  // Three failures lock the name for a minute, even with the right password.
  for (int i = 0; i < 3; ++i) EXPECT_FALSE(auth.Login("bob", "nope", "test").has_value());
  EXPECT_FALSE(auth.Login("bob", "bob-password", "test").has_value());
  EXPECT_TRUE(auth.Login("alice", "alice-password", "test").has_value());
  std::filesystem::remove_all(dir);
}

ResultPage SamplePage() {
  ResultPage p;
  p.fields = {"_time", "user", "tags", "_raw"};
  p.rows = {{{"1700000000.5"}, {"alice"}, {"a", "b"}, {"{\"x\":1}"}},
            {{"1700000001"}, {}, {"<c&d>"}, {}}};
  return p;
}

TEST(Format, JsonRowsColsAndJson) {
  std::string type;
  ResultPage p = SamplePage();
  std::string rows = FormatResults(p, OutputMode::kJsonRows, &type);
  EXPECT_EQ(type.rfind("application/json", 0), 0u);
  EXPECT_NE(rows.find("\"fields\":[\"_time\",\"user\",\"tags\",\"_raw\"]"), std::string::npos)
      << rows;
  EXPECT_NE(
      rows.find("[\"2023-11-14T22:13:20.500+00:00\",\"alice\",[\"a\",\"b\"],\"{\\\"x\\\":1}\"]"),
      std::string::npos)
      << rows;
  EXPECT_NE(rows.find(",null,\"<c&d>\",null]"), std::string::npos) << rows;
  std::string cols = FormatResults(p, OutputMode::kJsonCols, &type);
  EXPECT_NE(
      cols.find(
          "\"columns\":[[\"2023-11-14T22:13:20.500+00:00\",\"2023-11-14T22:13:21.000+00:00\"],"
          "[\"alice\",null]"),
      std::string::npos)
      << cols;
  std::string json = FormatResults(p, OutputMode::kJson, &type);
  EXPECT_NE(
      json.find("\"results\":[{\"_time\":\"2023-11-14T22:13:20.500+00:00\",\"user\":\"alice\""),
      std::string::npos)
      << json;
  EXPECT_NE(json.find("{\"_time\":\"2023-11-14T22:13:21.000+00:00\",\"tags\":\"<c&d>\"}"),
            std::string::npos)
      << json;
}

TEST(Format, XmlEscapesAndCsvQuotes) {
  std::string type;
  ResultPage p = SamplePage();
  std::string xml = FormatResults(p, OutputMode::kXml, &type);
  EXPECT_EQ(type.rfind("text/xml", 0), 0u);
  EXPECT_NE(xml.find("<field>user</field>"), std::string::npos);
  EXPECT_NE(xml.find("<value><text>&lt;c&amp;d&gt;</text></value>"), std::string::npos) << xml;
  EXPECT_NE(xml.find("<result offset='1'>"), std::string::npos);
  EXPECT_EQ(xml.find("<c&d>"), std::string::npos);
  std::string csv = FormatResults(p, OutputMode::kCsv, &type);
  EXPECT_EQ(csv.substr(0, csv.find('\n')), "_time,user,tags,_raw");
  EXPECT_NE(csv.find("\"a\nb\""), std::string::npos) << csv;
  EXPECT_NE(csv.find("\"{\"\"x\"\":1}\""), std::string::npos) << csv;
  EXPECT_FALSE(ParseOutputMode("yaml").has_value());
  EXPECT_EQ(*ParseOutputMode(""), OutputMode::kXml);
}

// An export that fails after its answer began tells it where the mode has a place for messages.
TEST(Format, ExportMessagesInJsonAndXmlOnly) {
  const std::vector<Message> m = {{"ERROR", "budget <1 GB> \"exceeded\""}};
  EXPECT_EQ(ExportMessages(m, OutputMode::kJson),
            "{\"preview\":false,\"messages\":[{\"type\":\"ERROR\",\"text\":\"budget <1 GB> "
            "\\\"exceeded\\\"\"}]}\n");
  EXPECT_EQ(ExportMessages(m, OutputMode::kXml),
            "<messages>\n  <msg type=\"ERROR\">budget &lt;1 GB&gt; &quot;exceeded&quot;</msg>\n"
            "</messages>\n");
  EXPECT_EQ(ExportMessages(m, OutputMode::kCsv), "");
  EXPECT_EQ(ExportMessages(m, OutputMode::kRaw), "");
  EXPECT_EQ(ExportMessages({}, OutputMode::kJson), "");
}

TEST(Format, ErrorBodiesFollowOutputMode) {
  Request r;
  Response x = ErrorResponse(r, 404, "Unknown sid.");
  EXPECT_EQ(x.status, 404);
  EXPECT_NE(x.body.find("<msg type=\"ERROR\">Unknown sid.</msg>"), std::string::npos);
  r.query.Add("output_mode", "json");
  Response j = ErrorResponse(r, 400, "bad \"x\"");
  EXPECT_EQ(j.body, "{\"messages\":[{\"type\":\"ERROR\",\"text\":\"bad \\\"x\\\"\"}]}");
  Feed f;
  f.origin = "/services/search/jobs";
  Entry e;
  e.name = "search *";
  e.id = "/services/search/jobs/1.1";
  e.content = {{"sid", "1.1"}, {"isDone", true}, {"eventCount", 3}, {"doneProgress", 1.0}};
  f.entries.push_back(e);
  std::string body = FeedJson(f);
  EXPECT_NE(
      body.find(
          "\"content\":{\"sid\":\"1.1\",\"isDone\":true,\"eventCount\":3,\"doneProgress\":1,"),
      std::string::npos)
      << body;
  EXPECT_NE(body.find("\"generator\":{\"build\":\"cairn\",\"version\":\"9.1.0\"}"),
            std::string::npos);
  std::string xml = EntryXml(e);
  EXPECT_NE(xml.find("<s:key name=\"isDone\">1</s:key>"), std::string::npos) << xml;
}

}  // namespace
}  // namespace cairn::serve

namespace cairn::serve {
namespace {

int Connect(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return -1;
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  return fd;
}

std::string Exchange(int fd, const std::string& data) {
  ::send(fd, data.data(), data.size(), MSG_NOSIGNAL);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
    if (out.find("\r\n\r\n") != std::string::npos &&
        out.find("Connection: close") == std::string::npos &&
        out.find("connection: close") == std::string::npos) {
      break;  // keep-alive: one response is enough for these tests
    }
  }
  return out;
}

TEST(HttpServer, ConnectionLimitStreamingAndDrainingStop) {
  Router router;
  router.Add(
      "GET", "/hello",
      [](Request& req) {
        Response r;
        r.body = "hello " + req.Param("who", "nobody");
        return r;
      },
      Access::kPublic);
  router.Add(
      "GET", "/stream",
      [](Request&) {
        Response r;
        r.stream = [](const std::function<bool(std::string_view)>& write) {
          for (int i = 0; i < 3; ++i) write("piece" + std::to_string(i) + ";");
        };
        return r;
      },
      Access::kPublic);
  ServerOptions opt;
  opt.port = 0;
  opt.max_connections = 1;
  opt.read_timeout_ms = 3000;
  opt.drain_ms = 500;
  auto server = HttpServer::Start(opt, &router);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  const int port = (*server)->port();
  ASSERT_GT(port, 0);

  int a = Connect(port);
  ASSERT_GE(a, 0);
  std::string r = Exchange(a, "GET /hello?who=me HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(r.find("200 OK"), std::string::npos) << r;
  EXPECT_NE(r.find("hello me"), std::string::npos) << r;
  EXPECT_NE(r.find("X-Content-Type-Options: nosniff"), std::string::npos) << r;

  // A is still open (keep-alive): the one connection allowed is taken.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int b = Connect(port);
  ASSERT_GE(b, 0);
  std::string busy = Exchange(b, "GET /hello HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_NE(busy.find("503"), std::string::npos) << busy;
  ::close(b);

  // Chunked streaming on the open connection.
  std::string s = Exchange(a, "GET /stream HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
  EXPECT_NE(s.find("Transfer-Encoding: chunked"), std::string::npos) << s;
  EXPECT_NE(s.find("piece0;"), std::string::npos) << s;
  EXPECT_NE(s.find("piece2;"), std::string::npos) << s;
  EXPECT_NE(s.find("\r\n0\r\n\r\n"), std::string::npos) << s;
  ::close(a);

  // HTTP/1.0: the streamed body comes whole, without chunks.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int c = Connect(port);
  std::string old = Exchange(c, "GET /stream HTTP/1.0\r\n\r\n");
  ::close(c);
  EXPECT_EQ(old.find("chunked"), std::string::npos) << old;
  EXPECT_NE(old.find("piece0;piece1;piece2;"), std::string::npos) << old;

  // Stop closes an idle keep-alive connection and returns within the drain time.
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  int idle = Connect(port);
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  const auto t0 = std::chrono::steady_clock::now();
  (*server)->Stop();
  EXPECT_LT(std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count(), 2.0);
  char byte;
  EXPECT_LE(::recv(idle, &byte, 1, 0), 0);  // closed by the server
  ::close(idle);
  EXPECT_LT(Connect(port), 0);  // no longer listening
  EXPECT_GE((*server)->stats().requests.load(), 3u);
  EXPECT_GE((*server)->stats().connections_refused.load(), 1u);
}

TEST(HttpServer, RefusesBadTlsFilesAndBusyPorts) {
  Router router;
  ServerOptions opt;
  opt.port = 0;
  opt.tls_cert = "/nonexistent/cert.pem";
  opt.tls_key = "/nonexistent/key.pem";
  EXPECT_EQ(HttpServer::Start(opt, &router).status().code(), StatusCode::kInvalidArgument);
  opt.tls_key.clear();
  EXPECT_EQ(HttpServer::Start(opt, &router).status().code(), StatusCode::kInvalidArgument);
  ServerOptions plain;
  plain.port = 0;
  auto first = HttpServer::Start(plain, &router);
  ASSERT_TRUE(first.ok());
  plain.port = (*first)->port();
  EXPECT_EQ(HttpServer::Start(plain, &router).status().code(), StatusCode::kUnavailable);
  plain.bind = "not-an-address";
  EXPECT_EQ(HttpServer::Start(plain, &router).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::serve
