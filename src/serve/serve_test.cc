// Unit tests of the serve layer: routing, parameters, authentication and Splunk output shapes.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>

#include "common/testing.h"
#include "serve/auth.h"
#include "serve/http.h"
#include "serve/router.h"
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
  EXPECT_EQ(h.rfind("scrypt$", 0), 0u);
  EXPECT_TRUE(VerifyPassword("correct horse", h));
  EXPECT_FALSE(VerifyPassword("correct horsf", h));
  EXPECT_NE(HashPassword("correct horse"), h);  // salted
  EXPECT_FALSE(VerifyPassword("x", "scrypt$99$8$1$00$00"));
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
