// The web UI's routes (rest_ui.cc) through the router: the login form and its double-submit
// token, the session cookie's attributes, pages and assets behind the session, security headers,
// CSRF on POSTs, saved searches in savedsearches.conf form, logout; the export of a done job's
// results streamed a chunk at a time.

#include <gtest/gtest.h>
#include <zlib.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>
#include <thread>

#include "common/log.h"
#include "common/testing.h"
#include "query/parser.h"
#include "serve/auth.h"
#include "serve/jobs.h"
#include "serve/rest.h"
#include "serve/rest_ui.h"
#include "serve/splunk_format.h"
#include "serve/test_request.h"
#include "serve/ui_assets.h"
#include "store/store.h"
#include "store/test_util.h"

namespace cairn::serve {
namespace {

std::string HeaderOf(const Response& r, const std::string& name, size_t nth = 0) {
  for (const auto& [k, v] : r.headers) {
    if (k == name && nth-- == 0) return v;
  }
  return "";
}

class UiRoutes : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cairn_ui");
    ASSERT_TRUE(SetUserPassword(dir_ + "/users", "alice", "user", "alice-password").ok());
    AuthOptions ao;
    ao.users_file = dir_ + "/users";
    auth_ = std::make_unique<Auth>(ao);
    ctx_.auth = auth_.get();
    ctx_.data_dir = dir_;
    RegisterUi(&router_, &ctx_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  Response Call(const std::string& method, const std::string& target, const std::string& cookie,
                const std::string& form = "", std::map<std::string, std::string> headers = {}) {
    Request r = testing::TestRequest(method, target, form, std::move(headers));
    if (!cookie.empty()) r.headers["cookie"] = cookie;
    return router_.Dispatch(r);
  }

  // Logs in through the form; returns the session cookie ("cairn_session=...").
  std::string LogIn(const std::string& name = "alice",
                    const std::string& password = "alice-password") {
    Response page = Call("GET", "/login", "");
    const std::string login_cookie = HeaderOf(page, "Set-Cookie");
    const std::string token = login_cookie.substr(12, login_cookie.find(';') - 12);
    Response r = Call("POST", "/login", "cairn_login=" + token,
                      "csrf=" + token + "&username=" + name + "&password=" + password);
    EXPECT_EQ(r.status, 303);
    const std::string c = HeaderOf(r, "Set-Cookie");
    return c.substr(0, c.find(';'));
  }

  std::string Csrf(const std::string& cookie) {
    Response me = Call("GET", "/api/me", cookie);
    EXPECT_EQ(me.status, 200) << me.body;
    const std::string key = "\"csrf\":\"";
    const size_t at = me.body.find(key);
    if (at == std::string::npos) return "";
    return me.body.substr(at + key.size(), 64);
  }

  std::string dir_;
  std::unique_ptr<Auth> auth_;
  ServeContext ctx_;
  Router router_;
};

TEST_F(UiRoutes, LoginFormNeedsItsTokenAndSetsAStrictHttpOnlyCookie) {
  Response page = Call("GET", "/login", "");
  ASSERT_EQ(page.status, 200);
  EXPECT_NE(page.content_type.find("text/html"), std::string::npos);
  const std::string login_cookie = HeaderOf(page, "Set-Cookie");
  ASSERT_EQ(login_cookie.rfind("cairn_login=", 0), 0u) << login_cookie;
  EXPECT_NE(login_cookie.find("HttpOnly"), std::string::npos);
  EXPECT_NE(login_cookie.find("SameSite=Strict"), std::string::npos);
  const std::string token = login_cookie.substr(12, login_cookie.find(';') - 12);
  EXPECT_EQ(token.size(), 32u);
  EXPECT_NE(page.body.find("value=\"" + token + "\""), std::string::npos);
  EXPECT_EQ(page.body.find("{{"), std::string::npos);  // every placeholder filled
  // CSP without inline scripts, and the other headers.
  const std::string csp = HeaderOf(page, "Content-Security-Policy");
  EXPECT_NE(csp.find("script-src 'self'"), std::string::npos) << csp;
  EXPECT_EQ(csp.find("unsafe-inline"), std::string::npos) << csp;
  EXPECT_NE(csp.find("frame-ancestors 'none'"), std::string::npos) << csp;
  EXPECT_EQ(HeaderOf(page, "X-Content-Type-Options"), "nosniff");

  // Without the token (or with another), no session: a forged login is refused.
  Response forged = Call("POST", "/login", "", "username=alice&password=alice-password");
  EXPECT_EQ(forged.status, 403);
  EXPECT_EQ(HeaderOf(forged, "Set-Cookie").find("cairn_session"), std::string::npos);
  Response other = Call("POST", "/login", "cairn_login=" + token,
                        "csrf=deadbeef&username=alice&password=alice-password");
  EXPECT_EQ(other.status, 403);
  // A wrong password: 401 and the form again, the user name not echoed as markup.
  Response wrong = Call("POST", "/login", "cairn_login=" + token,
                        "csrf=" + token + "&username=%3Cscript%3E&password=nope-nope");
  EXPECT_EQ(wrong.status, 401);
  EXPECT_NE(wrong.body.find("Login failed"), std::string::npos);
  EXPECT_EQ(wrong.body.find("<script>"), std::string::npos);
  // The right password: a redirect to the search page and the session cookie.
  Response ok = Call("POST", "/login", "cairn_login=" + token,
                     "csrf=" + token + "&username=alice&password=alice-password");
  ASSERT_EQ(ok.status, 303);
  EXPECT_EQ(HeaderOf(ok, "Location"), "/search");
  const std::string session = HeaderOf(ok, "Set-Cookie");
  EXPECT_EQ(session.rfind("cairn_session=", 0), 0u) << session;
  EXPECT_NE(session.find("HttpOnly"), std::string::npos);
  EXPECT_NE(session.find("SameSite=Strict"), std::string::npos);
  EXPECT_EQ(session.find("Secure"), std::string::npos);                           // plain HTTP here
  EXPECT_NE(HeaderOf(ok, "Set-Cookie", 1).find("Max-Age=0"), std::string::npos);  // login token

  // Under TLS both cookies are Secure.
  Request tls_page;
  tls_page.method = "GET";
  tls_page.tls = true;
  ASSERT_TRUE(Router::NormalizePath("/login", &tls_page));
  Response secure_page = router_.Dispatch(tls_page);
  const std::string tls_cookie = HeaderOf(secure_page, "Set-Cookie");
  EXPECT_NE(tls_cookie.find("; Secure"), std::string::npos) << tls_cookie;
  const std::string tls_token = tls_cookie.substr(12, tls_cookie.find(';') - 12);
  Request tls_login;
  tls_login.method = "POST";
  tls_login.tls = true;
  ASSERT_TRUE(Router::NormalizePath("/login", &tls_login));
  tls_login.headers["cookie"] = "cairn_login=" + tls_token;
  ParseUrlEncoded("csrf=" + tls_token + "&username=alice&password=alice-password", &tls_login.form);
  Response tls_ok = router_.Dispatch(tls_login);
  ASSERT_EQ(tls_ok.status, 303);
  EXPECT_NE(HeaderOf(tls_ok, "Set-Cookie").find("; Secure"), std::string::npos);
}

TEST_F(UiRoutes, PagesAndAssetsNeedTheSessionCookieOnly) {
  EXPECT_EQ(Call("GET", "/search", "").status, 303);
  EXPECT_EQ(HeaderOf(Call("GET", "/search", ""), "Location"), "/login");
  EXPECT_EQ(Call("GET", "/static/app.js", "").status, 401);
  EXPECT_EQ(Call("GET", "/api/me", "").status, 401);
  EXPECT_EQ(Call("GET", "/api/me", "cairn_session=made-up").status, 401);
  EXPECT_EQ(Call("GET", "/static/app.css", "").status, 200);  // the login page's style

  const std::string cookie = LogIn();
  ASSERT_FALSE(cookie.empty());
  // An Authorization header is not a UI credential (basic auth a browser remembers).
  Request basic;
  basic.method = "GET";
  ASSERT_TRUE(Router::NormalizePath("/api/me", &basic));
  basic.headers["authorization"] = "Basic YWxpY2U6YWxpY2UtcGFzc3dvcmQ=";  // alice:alice-password
  EXPECT_EQ(router_.Dispatch(basic).status, 401);

  for (const char* page : {"/search", "/saved", "/aws", "/status"}) {
    Response r = Call("GET", page, "x=1; " + cookie);
    ASSERT_EQ(r.status, 200) << page;
    EXPECT_NE(r.body.find("<script type=\"module\" src=\"/static/app.js\"></script>"),
              std::string::npos);
    // No inline script: every <script has a src.
    for (size_t at = r.body.find("<script"); at != std::string::npos;
         at = r.body.find("<script", at + 1)) {
      EXPECT_LT(r.body.find("src=", at), r.body.find('>', at)) << page;
    }
    EXPECT_FALSE(HeaderOf(r, "Content-Security-Policy").empty());
  }
  Response js = Call("GET", "/static/app.js", cookie);
  ASSERT_EQ(js.status, 200);
  EXPECT_EQ(js.content_type, "text/javascript; charset=utf-8");
  const UiAsset* a = FindUiAsset("app.js");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(js.body.size(), a->size);
  // Text only into the page: the UI's own modules never use innerHTML. (The bundle holds
  // ECharts' uses: clearing its elements, and its HTML tooltip, which charts.js leaves unused for
  // rich text; docs/ui.md.)
  for (const char* module : {"app.js", "editor.js", "charts.js"}) {
    std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/src/serve/ui/" + module);
    ASSERT_TRUE(in) << module;
    const std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
    EXPECT_NE(text.size(), 0u) << module;
    EXPECT_EQ(text.find("innerHTML"), std::string::npos) << module;
  }
  EXPECT_NE(js.body.find("renderMode:\"richText\""), std::string::npos);
  // Gzipped for a client that takes it, the same bytes once inflated; revalidated by its ETag:
  // the same ETag again is 304 with no body.
  const std::string etag = HeaderOf(js, "ETag");
  EXPECT_EQ(etag.size(), 34u) << etag;
  EXPECT_EQ(HeaderOf(js, "Cache-Control"), "private, no-cache");
  EXPECT_EQ(HeaderOf(js, "Content-Encoding"), "");
  Response gz =
      Call("GET", "/static/app.js", cookie, "", {{"accept-encoding", "br, GZIP;q=0.8, deflate"}});
  ASSERT_EQ(gz.status, 200);
  EXPECT_EQ(HeaderOf(gz, "Content-Encoding"), "gzip");
  EXPECT_EQ(HeaderOf(gz, "ETag"), etag);
  EXPECT_LT(gz.body.size(), js.body.size() / 2);
  {
    std::string inflated(js.body.size() + 1, '\0');
    z_stream zs{};
    ASSERT_EQ(inflateInit2(&zs, 15 + 16), Z_OK);
    zs.next_in = reinterpret_cast<Bytef*>(gz.body.data());
    zs.avail_in = static_cast<uInt>(gz.body.size());
    zs.next_out = reinterpret_cast<Bytef*>(inflated.data());
    zs.avail_out = static_cast<uInt>(inflated.size());
    EXPECT_EQ(inflate(&zs, Z_FINISH), Z_STREAM_END);
    inflated.resize(zs.total_out);
    inflateEnd(&zs);
    EXPECT_TRUE(inflated == js.body);
  }
  EXPECT_EQ(HeaderOf(Call("GET", "/static/app.js", cookie, "", {{"accept-encoding", "gzip;q=0"}}),
                     "Content-Encoding"),
            "");
  Response again = Call("GET", "/static/app.js", cookie, "", {{"if-none-match", etag}});
  EXPECT_EQ(again.status, 304);
  EXPECT_TRUE(again.body.empty());
  EXPECT_EQ(Call("GET", "/static/app.js", "", "", {{"if-none-match", etag}}).status, 401);
  EXPECT_EQ(Call("GET", "/static/nope.js", cookie).status, 404);
  EXPECT_EQ(Call("GET", "/static/login.html", cookie).status, 404);  // the template stays inside
  EXPECT_EQ(Call("GET", "/static/sub/app.js", cookie).status, 404);
  Request dotdot;
  EXPECT_FALSE(Router::NormalizePath("/static/%2e%2e/users", &dotdot));
}

// The application page's policy allows the editor's <style> element by a nonce made for each
// response, and hands that nonce to the script; nothing inline is allowed otherwise.
TEST_F(UiRoutes, AppPageCarriesAFreshStyleNonce) {
  const std::string cookie = LogIn();
  auto nonce_of = [&](const Response& r) {
    const std::string policy = HeaderOf(r, "Content-Security-Policy");
    const size_t at = policy.find("style-src 'self' 'nonce-");
    EXPECT_NE(at, std::string::npos) << policy;
    EXPECT_EQ(policy.find("unsafe-inline"), std::string::npos) << policy;
    EXPECT_NE(policy.find("script-src 'self';"), std::string::npos) << policy;
    if (at == std::string::npos) return std::string();
    const size_t from = at + 24;
    return policy.substr(from, policy.find('\'', from) - from);
  };
  Response a = Call("GET", "/search", cookie);
  ASSERT_EQ(a.status, 200);
  const std::string nonce = nonce_of(a);
  EXPECT_EQ(nonce.size(), 32u);
  EXPECT_NE(a.body.find("<meta name=\"csp-nonce\" content=\"" + nonce + "\">"), std::string::npos);
  EXPECT_EQ(a.body.find("{{"), std::string::npos);
  Response b = Call("GET", "/saved", cookie);
  EXPECT_NE(nonce_of(b), nonce);  // never reused
}

// The SPL editor's vocabulary: the query layer's commands (with aliases), eval and stats
// functions, and CloudTrail's field names, to a session only.
TEST_F(UiRoutes, VocabularyListsCommandsFunctionsAndFieldsToASession) {
  EXPECT_EQ(Call("GET", "/api/vocabulary", "").status, 401);
  EXPECT_EQ(Call("GET", "/api/vocabulary", "cairn_session=made-up").status, 401);
  const std::string cookie = LogIn();
  Response r = Call("GET", "/api/vocabulary", cookie);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "application/json; charset=utf-8");
  // The names of one list: the text between "key":[ and the next ].
  auto list = [&](const std::string& key) {
    const size_t at = r.body.find("\"" + key + "\":[");
    if (at == std::string::npos) return std::string();
    const size_t from = at + key.size() + 4;
    return r.body.substr(from, r.body.find(']', from) - from);
  };
  const std::string commands = list("commands");
  for (const char* c : {"\"stats\"", "\"eval\"", "\"timechart\"", "\"bucket\"", "\"search\""}) {
    EXPECT_NE(commands.find(c), std::string::npos) << c << " in " << commands;
  }
  EXPECT_EQ(commands.find("\"strftime\""), std::string::npos);
  const std::string eval = list("eval_functions");
  EXPECT_NE(eval.find("\"strftime\""), std::string::npos) << eval;
  EXPECT_NE(eval.find("\"coalesce\""), std::string::npos) << eval;
  const std::string stats = list("stats_functions");
  EXPECT_NE(stats.find("\"dc\""), std::string::npos) << stats;
  EXPECT_NE(stats.find("\"values\""), std::string::npos) << stats;
  const std::string fields = list("fields");
  for (const char* f : {"\"eventName\"", "\"userIdentity.arn\"", "\"sourcetype\"", "\"_time\""}) {
    EXPECT_NE(fields.find(f), std::string::npos) << f << " in " << fields;
  }
  EXPECT_EQ(HeaderOf(r, "Cache-Control"), "no-store");
}

// The CIS report page: behind the session, over the range asked, with the controls' findings,
// self-contained and allowed no script.
TEST_F(UiRoutes, CisReportPageShowsTheControlsOverTheRange) {
  store::StoreOptions so;
  so.data_dir = dir_ + "/data";
  so.background_merge = false;
  auto st = store::Store::Open(so);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  cloudtrail::Event e;
  e.raw = R"({"eventVersion":"1.08","eventTime":"2026-11-01T10:00:00Z","eventSource":)"
          R"("cloudtrail.amazonaws.com","eventName":"StopLogging","awsRegion":"us-east-1",)"
          R"("sourceIPAddress":"198.51.100.7","userIdentity":{"type":"IAMUser","arn":)"
          R"("arn:aws:iam::111122223333:user/mallory"},"eventID":"cis-ui-1",)"
          R"("recipientAccountId":"111122223333"})";
  e.time_ms = 1793527200000;  // 2026-11-01T10:00:00Z
  e.event_id = "cis-ui-1";
  e.account = "111122223333";
  e.sourcetype = "aws:cloudtrail";
  std::vector<cloudtrail::Event> batch;
  batch.push_back(std::move(e));
  ASSERT_TRUE((*st)->Commit("aws-cloudtrail", std::move(batch)).ok());
  ctx_.store = st->get();

  EXPECT_EQ(HeaderOf(Call("GET", "/reports/cis", ""), "Location"), "/login");
  const std::string cookie = LogIn();
  Response r = Call("GET", "/reports/cis?earliest=1793491200&latest=1793577600", cookie);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.content_type, "text/html; charset=utf-8");
  EXPECT_NE(r.body.find("4.5"), std::string::npos);
  EXPECT_NE(r.body.find("cis-ui-1"), std::string::npos);  // the 4.5 example names the event
  EXPECT_EQ(r.body.find("<script"), std::string::npos);
  const std::string policy = HeaderOf(r, "Content-Security-Policy");
  EXPECT_NE(policy.find("default-src 'none'"), std::string::npos) << policy;
  EXPECT_EQ(policy.find("script-src"), std::string::npos) << policy;
  // A range without the event: the control passes.
  Response before = Call("GET", "/reports/cis?earliest=1793000000&latest=1793400000", cookie);
  ASSERT_EQ(before.status, 200);
  EXPECT_EQ(before.body.find("cis-ui-1"), std::string::npos);
  // A range that does not parse says which bound.
  Response bad = Call("GET", "/reports/cis?earliest=yesterday-ish", cookie);
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("earliest"), std::string::npos) << bad.body;
  ctx_.store = nullptr;
  ASSERT_TRUE((*st)->Close().ok());
}

TEST_F(UiRoutes, PostsNeedTheCsrfTokenAndSavedSearchesUseSavedsearchesConf) {
  const std::string cookie = LogIn();
  const std::string csrf = Csrf(cookie);
  ASSERT_EQ(csrf.size(), 64u);
  const std::string form =
      "name=Root+logins&search=eventName%3DConsoleLogin+userIdentity.type%3DRoot"
      "&earliest_time=-7d&latest_time=now&description=who+logs+in+as+root";
  EXPECT_EQ(Call("POST", "/api/saved", cookie, form).status, 403);
  std::string wrong = csrf;
  wrong[0] = wrong[0] == '0' ? '1' : '0';  // one character off
  EXPECT_EQ(Call("POST", "/api/saved", cookie, form, {{"x-csrf-token", wrong}}).status, 403);
  // The right token from another site (a browser says so) is refused as well.
  EXPECT_EQ(Call("POST", "/api/saved", cookie, form,
                 {{"x-csrf-token", csrf}, {"sec-fetch-site", "cross-site"}})
                .status,
            403);
  EXPECT_FALSE(std::filesystem::exists(dir_ + "/serve/savedsearches.conf"));
  Response saved = Call("POST", "/api/saved", cookie, form,
                        {{"x-csrf-token", csrf}, {"sec-fetch-site", "same-origin"}});
  ASSERT_EQ(saved.status, 200) << saved.body;
  std::ifstream in(dir_ + "/serve/savedsearches.conf");
  std::stringstream text;
  text << in.rdbuf();
  EXPECT_NE(
      text.str().find("[Root logins]\nsearch = eventName=ConsoleLogin userIdentity.type=Root\n"
                      "dispatch.earliest_time = -7d\ndispatch.latest_time = now\n"
                      "description = who logs in as root\n"),
      std::string::npos)
      << text.str();
  Response list = Call("GET", "/api/saved", cookie);
  EXPECT_NE(list.body.find("\"name\":\"Root logins\""), std::string::npos) << list.body;
  EXPECT_EQ(
      Call("POST", "/api/saved", cookie, "name=bad]name&search=x", {{"x-csrf-token", csrf}}).status,
      400);
  EXPECT_EQ(Call("POST", "/api/jobs", cookie, "search=x").status, 403);

  // Logout needs the token too; afterwards the cookie is worthless.
  EXPECT_EQ(Call("POST", "/logout", cookie).status, 403);
  Response out = Call("POST", "/logout", cookie, "csrf=" + csrf);
  ASSERT_EQ(out.status, 303);
  EXPECT_NE(HeaderOf(out, "Set-Cookie").find("Max-Age=0"), std::string::npos);
  EXPECT_EQ(Call("GET", "/api/me", cookie).status, 401);
  EXPECT_EQ(Call("GET", "/search", cookie).status, 303);
}

TEST(SavedSearches, ParseFormatAndValidate) {
  const std::string text =
      "[default]\ndispatch.earliest_time = -24h\n\n# a comment\n[One]\nsearch = index=* \\\n"
      "| stats count\ndispatch.earliest_time=-1h\ncron_schedule = */5 * * * *\n[Two words]\n"
      "search = eventName=StopLogging\ndescription = trail stopped\n";
  auto parsed = ParseSavedSearches(text);
  ASSERT_TRUE(parsed.ok()) << parsed.status().ToString();
  const auto& list = *parsed;
  ASSERT_EQ(list.size(), 2u);
  EXPECT_EQ(list[0].name, "One");
  EXPECT_EQ(list[0].search, "index=* \n| stats count");
  EXPECT_EQ(list[0].earliest_time, "-1h");
  EXPECT_EQ(list[1].name, "Two words");
  EXPECT_EQ(list[1].description, "trail stopped");
  EXPECT_EQ(list[1].earliest_time, "-24h");  // from [default]
  auto reparsed = ParseSavedSearches(FormatSavedSearches(list));
  ASSERT_TRUE(reparsed.ok()) << reparsed.status().ToString();
  const auto& again = *reparsed;
  ASSERT_EQ(again.size(), 2u);
  EXPECT_EQ(again[1].search, "eventName=StopLogging");
  EXPECT_EQ(again[0].search, "index=*  | stats count");  // one line in the file
  // A malformed file is an error naming the line (the UI then refuses to overwrite it).
  auto bad = ParseSavedSearches("[a]\nsearch = x\nno equals sign here\n", "saved.conf");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("saved.conf:3"), std::string::npos)
      << bad.status().message();
  EXPECT_TRUE(ValidateSavedSearch({"ok name", "x", "", "", "", ""}).ok());
  EXPECT_FALSE(ValidateSavedSearch({"", "x", "", "", "", ""}).ok());
  EXPECT_FALSE(ValidateSavedSearch({"a]b", "x", "", "", "", ""}).ok());
  EXPECT_FALSE(ValidateSavedSearch({"a\nb", "x", "", "", "", ""}).ok());
  EXPECT_FALSE(ValidateSavedSearch({"name", "  ", "", "", "", ""}).ok());
  EXPECT_EQ(CookieValue("a=1; cairn_session=abc; b=2", "cairn_session"), "abc");
  EXPECT_EQ(CookieValue("xcairn_session=abc", "cairn_session"), "");
}

// The AWS overview's panels are saved searches: built in (each valid SPL, drawn as a chart or a
// table), replaced by a saved search of the same name, added to by one named "AWS overview: ...".
TEST(SavedSearches, OverviewPanelsAreSavedSearches) {
  const auto builtin = OverviewPanels({});
  ASSERT_GE(builtin.size(), 10u);
  size_t charts = 0;
  for (const auto& p : builtin) {
    EXPECT_TRUE(p.name.starts_with(kOverviewPrefix)) << p.name;
    EXPECT_TRUE(p.builtin);
    EXPECT_TRUE(ValidateSavedSearch(p).ok()) << p.name;
    EXPECT_TRUE(query::ParseSpl(p.search).ok()) << p.name << ": " << p.search;
    EXPECT_EQ(p.earliest_time, "-7d") << p.name;  // from the file's [default]
    charts += !p.visualization.empty();
  }
  EXPECT_GE(charts, 5u);
  EXPECT_LT(charts, builtin.size());  // some are tables

  const std::string top = "AWS overview: Top event names";
  const std::vector<SavedSearch> saved = {
      {top, "index=* | top limit=3 eventName", "-1h", "", "", ""},
      {"AWS overview: Mine", "index=* | stats count", "", "", "", "pie"},
      {"Not a panel", "index=*", "", "", "", ""}};
  const auto panels = OverviewPanels(saved);
  ASSERT_EQ(panels.size(), builtin.size() + 1);
  for (size_t i = 0; i < builtin.size(); ++i) {
    EXPECT_EQ(panels[i].name, builtin[i].name);  // in the built-in order
    if (panels[i].name == top) {
      EXPECT_EQ(panels[i].search, "index=* | top limit=3 eventName");
      EXPECT_FALSE(panels[i].builtin);
      EXPECT_EQ(panels[i].visualization, builtin[i].visualization);  // kept
    }
  }
  EXPECT_EQ(panels.back().name, "AWS overview: Mine");
  EXPECT_EQ(panels.back().visualization, "pie");
  const auto listed = WithBuiltinSearches(saved);
  EXPECT_EQ(listed.size(), saved.size() + builtin.size() - 1);
  // The visualization survives the file, and a bad one is refused.
  auto again = ParseSavedSearches(FormatSavedSearches(saved));
  ASSERT_TRUE(again.ok());
  EXPECT_EQ((*again)[1].visualization, "pie");
  EXPECT_EQ((*again)[0].visualization, "");
  EXPECT_FALSE(ValidateSavedSearch({"n", "x", "", "", "", "scatter"}).ok());
}

// The users page's API: admins only, and every change needs the session's CSRF token.
TEST_F(UiRoutes, UsersApiIsForAdminsWithTheCsrfToken) {
  ASSERT_TRUE(SetUserPassword(dir_ + "/users", "root", "admin", "root-password").ok());
  const std::string alice = LogIn();
  const std::string alice_csrf = Csrf(alice);
  EXPECT_EQ(Call("GET", "/api/users", alice).status, 403);
  EXPECT_EQ(Call("POST", "/api/users", alice, "name=eve&role=admin&password=eve-password",
                 {{"x-csrf-token", alice_csrf}})
                .status,
            403);
  EXPECT_EQ(
      Call("POST", "/api/users/alice", alice, "role=admin", {{"x-csrf-token", alice_csrf}}).status,
      403);

  const std::string root = LogIn("root", "root-password");
  const std::string csrf = Csrf(root);
  EXPECT_EQ(Call("POST", "/api/users", root, "name=eve&role=user&password=eve-password").status,
            403);  // no CSRF token
  Response made = Call("POST", "/api/users", root, "name=eve&role=user&password=eve-password",
                       {{"x-csrf-token", csrf}});
  EXPECT_EQ(made.status, 200) << made.body;
  Response listed = Call("GET", "/api/users", root);
  ASSERT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find("{\"name\":\"eve\",\"role\":\"user\",\"tokens\":0}"),
            std::string::npos)
      << listed.body;
  EXPECT_EQ(listed.body.find("argon2"), std::string::npos);
  Response dup = Call("POST", "/api/users", root, "name=eve&role=user&password=eve-password",
                      {{"x-csrf-token", csrf}});
  EXPECT_EQ(dup.status, 409);
  EXPECT_NE(dup.body.find("user eve exists"), std::string::npos) << dup.body;
  Response token = Call("POST", "/api/tokens", root, "owner=eve", {{"x-csrf-token", csrf}});
  EXPECT_EQ(token.status, 201) << token.body;
  EXPECT_EQ(Call("POST", "/api/users/eve/delete", root, "").status, 403);
  EXPECT_EQ(Call("POST", "/api/users/eve/delete", root, "", {{"x-csrf-token", csrf}}).status, 200);
  EXPECT_EQ(Call("GET", "/api/users", root).body.find("eve"), std::string::npos);
}

// The status JSON: each collector input with its lag (from its newest event, else from its oldest
// message in progress, else null); recent warnings and errors only for an admin.
TEST_F(UiRoutes, StatusShowsCollectorsWithTheirLagAndErrorsOnlyToAdmins) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  ctx_.collectors = [now_ms] {
    collect::InputStatus a;
    a.name = "org-trail";
    a.queue = "https://sqs.us-west-2.amazonaws.com/123/q";
    a.region = "us-west-2";
    a.index = "aws-cloudtrail";
    a.state = "polling";
    a.events_collected = 42;
    a.newest_event_ms = now_ms - 90'000;
    a.last_error = "receive: throttled";
    a.last_error_ms = now_ms - 5'000;
    collect::InputStatus b;
    b.name = "waiting";
    b.oldest_in_flight_ms = now_ms - 30'000;
    collect::InputStatus c;
    c.name = "idle";
    return std::vector<collect::InputStatus>{a, b, c};
  };
  log::KeepRecent(5);
  log::Warn("status test: a warning naming \"someone\"");
  const std::string cookie = LogIn();  // alice: role user
  Response r = Call("GET", "/api/status", cookie);
  ASSERT_EQ(r.status, 200) << r.body;
  std::smatch m;
  static const std::regex kA(
      R"re(\{"name":"org-trail","queue":"https://sqs.us-west-2.amazonaws.com/123/q","region":"us-west-2","index":"aws-cloudtrail","state":"polling",.*"events_collected":42,.*"lag_seconds":(9[0-9]\.[0-9]{3}),"lag_basis":"newest_event",.*"last_error":"receive: throttled"\})re");
  ASSERT_TRUE(std::regex_search(r.body, m, kA)) << r.body;
  EXPECT_NE(r.body.find(R"("name":"waiting")"), std::string::npos);
  static const std::regex kB(
      R"re("name":"waiting".*?"lag_seconds":(3[0-9]\.[0-9]{3}),"lag_basis":"oldest_message")re");
  EXPECT_TRUE(std::regex_search(r.body, m, kB)) << r.body;
  EXPECT_NE(r.body.find(R"("lag_seconds":null,"lag_basis":"none")"), std::string::npos) << r.body;
  EXPECT_NE(r.body.find(R"("recent_errors":[])"), std::string::npos) << r.body;  // not an admin
  ASSERT_TRUE(SetUserPassword(dir_ + "/users", "alice", "admin", "alice-password").ok());
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // a new modification time
  ASSERT_TRUE(SetUserPassword(dir_ + "/users", "alice", "admin", "alice-password").ok());
  Response admin = Call("GET", "/api/status", LogIn());
  EXPECT_NE(
      admin.body.find(R"("level":"warn","message":"status test: a warning naming \"someone\""})"),
      std::string::npos)
      << admin.body;
  log::KeepRecent(0);
}

// The export of a job's results (the UI's Export CSV / JSON) over a store of 200,000 events.
class UiExport : public UiRoutes {
 protected:
  static constexpr size_t kEvents = 200'000;
  virtual size_t Events() const { return kEvents; }
  void SetUp() override {
    UiRoutes::SetUp();
    store::StoreOptions so;
    so.data_dir = dir_ + "/data";
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(*st);
    for (size_t first = 0; first < Events(); first += 50'000) {
      const size_t n = std::min<size_t>(50'000, Events() - first);
      ASSERT_TRUE(store_
                      ->Commit("main", store::testing::SyntheticBatch(first, n, 1'700'000'000'000,
                                                                      86'400'000))
                      .ok());
    }
    JobManagerOptions jo;
    jo.store = store_.get();
    jo.data_dir = so.data_dir;
    jo.workers = 1;
    jobs_ = std::make_unique<JobManager>(jo);
    ctx_.jobs = jobs_.get();
    ctx_.store = store_.get();
  }
  void TearDown() override {
    jobs_.reset();
    if (store_) (void)store_->Close();
    UiRoutes::TearDown();
  }
  // A job run through the UI's API to its end; its sid.
  std::string Run(const std::string& cookie, const std::string& search) {
    Response made =
        Call("POST", "/api/jobs", cookie, "search=" + search, {{"x-csrf-token", Csrf(cookie)}});
    EXPECT_EQ(made.status, 201) << made.body;
    const std::string sid = made.body.substr(8, made.body.size() - 10);
    auto st = jobs_->Wait(sid, "alice", false);
    EXPECT_TRUE(st.ok() && st->state == DispatchState::kDone);
    return sid;
  }
  std::unique_ptr<store::Store> store_;
  std::unique_ptr<JobManager> jobs_;
};

TEST_F(UiExport, ExportStreamsEveryResultAChunkAtATime) {
  const std::string cookie = LogIn();
  const std::string sid = Run(cookie, "search%20index%3Dmain");

  // CSV: a streamed answer (nothing in the body), each piece a chunk of rows; the header first
  // and one line per event (newlines counted outside quoted cells).
  Response csv = Call("GET", "/api/jobs/" + sid + "/export?output_mode=csv", cookie);
  ASSERT_EQ(csv.status, 200) << csv.body;
  EXPECT_TRUE(csv.body.empty());
  ASSERT_TRUE(csv.stream != nullptr);
  EXPECT_EQ(csv.content_type, "text/csv; charset=utf-8");
  EXPECT_EQ(HeaderOf(csv, "Content-Disposition"), "attachment; filename=\"results.csv\"");
  size_t pieces = 0, largest = 0, total = 0, lines = 0;
  bool quoted = false, polled = false;
  std::string head;
  csv.stream([&](std::string_view piece) {
    if (pieces++ == 0) head = std::string(piece);
    largest = std::max(largest, piece.size());
    total += piece.size();
    for (char c : piece) {
      if (c == '"') quoted = !quoted;
      if (c == '\n' && !quoted) ++lines;
    }
    if (pieces == 20) {
      // The job answers while its export is under way (its lock is not held between pieces).
      polled = jobs_->Status(sid, "alice", false).ok();
    }
    return true;
  });
  EXPECT_TRUE(polled);
  EXPECT_EQ(lines, kEvents + 1);
  EXPECT_EQ(head.rfind("_time,", 0), 0u) << head.substr(0, 200);
  EXPECT_NE(head.find(",eventID,"), std::string::npos) << head;
  EXPECT_TRUE(head.size() > 6 && head.back() == '\n' && head.size() == head.find('\n') + 1)
      << "the first piece is the header";
  EXPECT_GE(pieces, kEvents / 1000);
  EXPECT_LT(largest, size_t{4} << 20) << "a piece holds a chunk of rows";
  EXPECT_GT(total, 40 * largest) << "the answer (" << total << " bytes) is never whole";

  // JSON: the same document as the results' JSON, in pieces; every event one result.
  Response json = Call("GET", "/api/jobs/" + sid + "/export?output_mode=json", cookie);
  ASSERT_EQ(json.status, 200) << json.body;
  ASSERT_TRUE(json.stream != nullptr);
  EXPECT_EQ(json.content_type, "application/json; charset=utf-8");
  const std::string row_start = "{\"_time\":";
  std::string carry, first, last;
  size_t rows = 0;
  pieces = largest = 0;
  json.stream([&](std::string_view piece) {
    if (pieces++ == 0) first = std::string(piece);
    largest = std::max(largest, piece.size());
    std::string text = carry + std::string(piece);
    for (size_t at = text.find(row_start); at != std::string::npos;
         at = text.find(row_start, at + 1)) {
      if (at + row_start.size() > carry.size()) ++rows;  // not counted with the last piece
    }
    carry = text.substr(text.size() - std::min(text.size(), row_start.size() - 1));
    last = std::string(piece);
    return true;
  });
  EXPECT_EQ(rows, kEvents);
  EXPECT_EQ(first, "{\"preview\":false,\"init_offset\":0,\"results\":[");
  // The fields (every event's, _time first and _raw last) and the messages after the results.
  EXPECT_EQ(last.rfind("],\"fields\":[{\"name\":\"_time\"},", 0), 0u) << last.substr(0, 200);
  EXPECT_NE(last.find("{\"name\":\"eventID\"}"), std::string::npos) << last;
  const std::string end = "{\"name\":\"_raw\"}],\"messages\":[],\"highlighted\":{}}";
  EXPECT_EQ(last.substr(last.size() - std::min(last.size(), end.size())), end) << last;
  EXPECT_LT(largest, size_t{4} << 20);

  // A client that goes away ends the stream at once.
  Response gone = Call("GET", "/api/jobs/" + sid + "/export?output_mode=json", cookie);
  size_t calls = 0;
  gone.stream([&](std::string_view) { return ++calls < 3; });
  EXPECT_EQ(calls, 3u);
  // An unknown job is not found.
  EXPECT_EQ(Call("GET", "/api/jobs/nope/export", cookie).status, 404);
}

// A smaller export equals the whole-page formatting of the same results, row for row: csv
// exactly, json with its fields and messages after the results.
class UiExportSmall : public UiExport {
 protected:
  size_t Events() const override { return 5'000; }
};

TEST_F(UiExportSmall, StreamedExportEqualsTheResultsFormatted) {
  const std::string cookie = LogIn();
  for (const std::string search :
       {"search%20index%3Dmain%20%7C%20head%203000",
        "search%20index%3Dmain%20%7C%20stats%20count%20by%20eventName"}) {
    const std::string sid = Run(cookie, search);
    auto page = jobs_->Results(sid, "alice", false, 0, 0);
    ASSERT_TRUE(page.ok());
    for (const OutputMode mode : {OutputMode::kCsv, OutputMode::kJson}) {
      std::string type;
      std::string want = FormatResults(*page, mode, &type);
      if (mode == OutputMode::kJson) {
        // {..."init_offset":0,"messages":M,"fields":F,"results":R,"highlighted":{}} ->
        // {..."init_offset":0,"results":R,"fields":F,"messages":M,"highlighted":{}}.
        const size_t m = want.find(",\"messages\":[");
        const size_t f = want.find(",\"fields\":[", m);
        const size_t r = want.find(",\"results\":[", f);
        const size_t h = want.rfind(",\"highlighted\":{}}");
        ASSERT_TRUE(m != std::string::npos && f != std::string::npos && r != std::string::npos &&
                    h != std::string::npos && m < f && f < r && r < h)
            << want.substr(0, 300);
        want = want.substr(0, m) + want.substr(r, h - r) + want.substr(f, r - f) +
               want.substr(m, f - m) + want.substr(h);
      }
      Response r = Call(
          "GET",
          "/api/jobs/" + sid + "/export?output_mode=" + (mode == OutputMode::kCsv ? "csv" : "json"),
          cookie);
      ASSERT_TRUE(r.stream != nullptr);
      std::string got;
      r.stream([&](std::string_view piece) {
        got.append(piece);
        return true;
      });
      EXPECT_EQ(got.size(), want.size()) << search;
      EXPECT_TRUE(got == want) << search << ": " << got.substr(0, 300) << "\n"
                               << want.substr(0, 300);
    }
  }
}

}  // namespace
}  // namespace cairn::serve
