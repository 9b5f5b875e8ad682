// `cairn serve` end to end: a store made with `cairn generate` + `cairn ingest`, the server on
// 127.0.0.1 port 0, driven by Splunk's JavaScript SDK (tests/serve/sdk_client.cjs, unmodified
// npm splunk-sdk) over HTTP (v2 search API) and over TLS with a certificate made here (v1 API,
// the server reporting 8.2.0), compared with `cairn search` run beside the server; hostile input
// on raw sockets; SIGTERM drains.
//
// Needs node and node_modules/splunk-sdk (npm ci) and the openssl command: without them the test
// skips with a message, and fails under CI (CI=true).

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <regex>
#include <sstream>

#include "cli/cli_util.h"

namespace cairn::testing {
namespace {

const char* kPassword = "e2e-secret-pass";

std::string ShellQuote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

bool HaveTools(std::string* why) {
  if (RunCommand("node --version").status != 0) {
    *why = "node is not installed";
    return false;
  }
  if (!std::filesystem::exists(std::string(CAIRN_SOURCE_DIR) +
                               "/node_modules/splunk-sdk/package.json")) {
    *why = "node_modules/splunk-sdk is missing (run npm ci)";
    return false;
  }
  if (RunCommand("curl --version").status != 0) {
    *why = "curl is not installed";
    return false;
  }
  if (RunCommand("openssl version").status != 0) {
    *why = "the openssl command is not installed";
    return false;
  }
  return true;
}

// Sends `data` on a new connection to 127.0.0.1:port and returns what comes back until the
// server closes (or 5 s pass).
std::string RawExchange(int port, const std::string& data, bool half_close = false) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    ::close(fd);
    return "connect failed";
  }
  timeval tv{5, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  size_t sent = 0;
  while (sent < data.size()) {
    ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) break;  // the server may close early (too large)
    sent += static_cast<size_t>(n);
  }
  if (half_close) ::shutdown(fd, SHUT_WR);
  std::string out;
  char buf[4096];
  for (;;) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  ::close(fd);
  return out;
}

int StatusOf(const std::string& response) {
  if (response.rfind("HTTP/1.", 0) != 0 || response.size() < 12) return -1;
  return std::atoi(response.substr(9, 3).c_str());
}

class ServeE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string why;
    if (!HaveTools(&why)) {
      if (UnderCi()) FAIL() << why;
      GTEST_SKIP() << why;
    }
    dir_ = MakeTempDir("cairn_serve_e2e");
    data_ = dir_ + "/data";
    auto gen = Cairn("generate --out " + dir_ + "/logs --events 3000 --threads 2 --seed 7");
    ASSERT_EQ(gen.status, 0) << gen.err;
    auto ing =
        Cairn("ingest --data " + data_ + " --no-progress --threads 2 " + dir_ + "/logs/AWSLogs");
    ASSERT_EQ(ing.status, 0) << ing.err;
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }

  // Starts `cairn serve` and waits for its port file.
  std::unique_ptr<CairnProcess> StartServe(const std::vector<std::string>& extra, int* port) {
    const std::string port_file = dir_ + "/port";
    std::filesystem::remove(port_file);
    std::vector<std::string> args = {"serve", "--data",      data_,    "--port",
                                     "0",     "--port-file", port_file};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<CairnProcess>(
        args, dir_ + "/serve" + std::to_string(starts_++),
        std::vector<std::pair<std::string, std::string>>{{"CAIRN_ADMIN_PASSWORD", kPassword}});
    for (int i = 0; i < 200 && !std::filesystem::exists(port_file); ++i) {
      if (!p->Running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    *port = std::atoi(ReadWholeFile(port_file).c_str());
    return p;
  }

  // `cairn search` beside the running server (a reader): the eventIDs of an event search, and the
  // JSON lines of a stats search.
  void Expected(const std::string& events_search, const std::string& stats_search, std::string* ids,
                std::string* stats) {
    auto ev = Cairn("search --data " + data_ + " --format json " +
                    ShellQuote(events_search + " | table eventID"));
    ASSERT_EQ(ev.status, 0) << ev.err;
    std::istringstream in(ev.out);
    std::string line;
    while (std::getline(in, line)) {
      const std::string key = "\"eventID\":\"";
      size_t at = line.find(key);
      if (at == std::string::npos) continue;
      size_t end = line.find('"', at + key.size());
      if (!ids->empty()) *ids += ',';
      *ids += line.substr(at + key.size(), end - at - key.size());
    }
    auto st = Cairn("search --data " + data_ + " --format json " + ShellQuote(stats_search));
    ASSERT_EQ(st.status, 0) << st.err;
    *stats = st.out;
  }

  CommandResult RunSdk(const std::string& url, bool v2, const std::string& ca = "") {
    const std::string events_search = "search eventName=ConsoleLogin";
    const std::string stats_search =
        "search eventSource=iam.amazonaws.com | stats count by eventName";
    std::string ids, stats;
    Expected(events_search, stats_search, &ids, &stats);
    EXPECT_FALSE(ids.empty());
    EXPECT_FALSE(stats.empty());
    std::string envs = "CAIRN_URL=" + ShellQuote(url) +
                       " CAIRN_USER=admin CAIRN_PASSWORD=" + ShellQuote(kPassword) +
                       " CAIRN_EXPECT_V2=" + (v2 ? "1" : "0") +
                       " CAIRN_EVENTS_SEARCH=" + ShellQuote(events_search) +
                       " CAIRN_EVENTS_IDS=" + ShellQuote(ids) +
                       " CAIRN_STATS_SEARCH=" + ShellQuote(stats_search) +
                       " CAIRN_STATS_ROWS=" + ShellQuote(stats) + " CAIRN_CA=" + ShellQuote(ca);
    return RunCommand("cd " + std::string(CAIRN_SOURCE_DIR) + " && env " + envs +
                      " node tests/serve/sdk_client.cjs");
  }

  std::string dir_, data_;
  int starts_ = 0;
};

TEST_F(ServeE2E, SplunkSdkOverHttpAndTlsMatchesCairnSearch) {
  int port = 0;
  auto serve = StartServe({"--search-workers", "2", "--metrics", "127.0.0.1:0"}, &port);
  ASSERT_GT(port, 0) << serve->err();
  EXPECT_NE(serve->err().find("listening on http://127.0.0.1:" + std::to_string(port)),
            std::string::npos);

  // A second writer cannot take the data folder while serve holds it.
  auto second =
      Cairn("ingest --data " + data_ + " --no-wait --no-progress " + dir_ + "/logs/AWSLogs");
  EXPECT_NE(second.status, 0);

  auto sdk = RunSdk("http://127.0.0.1:" + std::to_string(port), true);
  EXPECT_EQ(sdk.status, 0) << sdk.output;
  EXPECT_NE(sdk.output.find("all ok"), std::string::npos) << sdk.output;
  EXPECT_NE(sdk.output.find("ok search api v2 chosen"), std::string::npos) << sdk.output;

  // The server's Prometheus metrics count what the SDK did.
  std::smatch m;
  const std::string log = serve->err();
  ASSERT_TRUE(
      std::regex_search(log, m, std::regex("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics")))
      << log;
  const std::string metrics =
      RunCommand("curl -s http://127.0.0.1:" + m[1].str() + "/metrics").output;
  auto value = [&](const std::string& name) {
    std::smatch v;
    if (!std::regex_search(metrics, v, std::regex("\n" + name + " ([0-9.e+]+)\n"))) return -1.0;
    return std::stod(v[1].str());
  };
  EXPECT_GT(value("cairn_serve_requests_total"), 20) << metrics;
  EXPECT_GT(value("cairn_serve_searches_total\\{outcome=\"done\"\\}"), 4) << metrics;
  EXPECT_GE(value("cairn_serve_searches_total\\{outcome=\"cancelled\"\\}"), 0) << metrics;
  EXPECT_GT(value("cairn_serve_request_duration_seconds_count"), 20) << metrics;
  EXPECT_GT(value("cairn_serve_responses_total\\{class=\"4xx\"\\}"), 3) << metrics;

  // SIGTERM drains and exits 0; the password was never logged.
  ::kill(serve->pid(), SIGTERM);
  EXPECT_EQ(serve->Wait(), 0) << serve->err();
  EXPECT_EQ(serve->err().find(kPassword), std::string::npos);
  EXPECT_NE(serve->err().find("serve: stopped"), std::string::npos) << serve->err();

  // TLS with a self-signed certificate made here; the server says it is Splunk 8.2.0, so the SDK
  // uses the v1 search endpoints (GET results).
  const std::string cert = dir_ + "/cert.pem", key = dir_ + "/key.pem";
  auto made = RunCommand(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert);
  ASSERT_EQ(made.status, 0) << made.output;
  {
    std::ofstream toml(dir_ + "/cairn.toml");
    toml << "[serve]\nsplunk_version = \"8.2.0\"\ntls_cert = \"" << cert << "\"\ntls_key = \""
         << key << "\"\n";
  }
  auto tls = StartServe({"--config", dir_ + "/cairn.toml"}, &port);
  ASSERT_GT(port, 0) << tls->err();
  EXPECT_NE(tls->err().find("listening on https://"), std::string::npos) << tls->err();
  auto sdk_tls = RunSdk("https://127.0.0.1:" + std::to_string(port), false, cert);
  EXPECT_EQ(sdk_tls.status, 0) << sdk_tls.output;
  EXPECT_NE(sdk_tls.output.find("ok tls certificate verified"), std::string::npos)
      << sdk_tls.output;
  EXPECT_NE(sdk_tls.output.find("ok search api v1 chosen"), std::string::npos) << sdk_tls.output;
  // Plain HTTP to the TLS port gets nothing useful, and the server stays up.
  std::string plain = RawExchange(port, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_EQ(plain.find("\"status\":\"ok\""), std::string::npos);
  EXPECT_EQ(RunCommand("curl -s --cacert " + cert + " https://127.0.0.1:" + std::to_string(port) +
                       "/health")
                .output,
            "{\"status\":\"ok\"}");
  ::kill(tls->pid(), SIGTERM);
  EXPECT_EQ(tls->Wait(), 0) << tls->err();
}

TEST_F(ServeE2E, HostileInputGetsClearErrorsAndTheServerStaysUp) {
  int port = 0;
  {
    std::ofstream toml(dir_ + "/cairn.toml");
    toml << "[serve]\nmax_header_bytes = 8192\nmax_body_bytes = 65536\nread_timeout = \"1s\"\n";
  }
  auto serve = StartServe({"--config", dir_ + "/cairn.toml"}, &port);
  ASSERT_GT(port, 0) << serve->err();
  auto health = [&] {
    return StatusOf(
        RawExchange(port, "GET /health HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"));
  };
  ASSERT_EQ(health(), 200);
  const std::string basic =
      "Authorization: Basic " +
      RunCommand("printf 'admin:%s' " + std::string(kPassword) + " | base64 -w0").output + "\r\n";

  // Oversized headers: 431.
  std::string big =
      "GET /health HTTP/1.1\r\nHost: x\r\nX-Big: " + std::string(20000, 'a') + "\r\n\r\n";
  EXPECT_EQ(StatusOf(RawExchange(port, big)), 431);
  // Oversized body (declared): 413 before the body is read.
  std::string body_req =
      "POST /services/search/jobs HTTP/1.1\r\nHost: x\r\n" + basic +
      "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: 1000000\r\n\r\n" +
      std::string(100000, 'a');
  EXPECT_EQ(StatusOf(RawExchange(port, body_req)), 413);
  // Malformed HTTP: 400.
  EXPECT_EQ(StatusOf(RawExchange(port, "NOT HTTP AT ALL\r\n\r\n")), 400);
  EXPECT_EQ(StatusOf(RawExchange(port, "GET /health HTTP/1.1\r\nContent-Length: -5\r\n\r\n")), 400);
  EXPECT_EQ(StatusOf(RawExchange(port, "GET /a%zz HTTP/1.1\r\nHost: x\r\n\r\n")), 400);
  // A bad form body: 400.
  std::string bad_form = "POST /services/search/jobs HTTP/1.1\r\nHost: x\r\n" + basic +
                         "Content-Type: application/x-www-form-urlencoded\r\nContent-Length: "
                         "9\r\nConnection: close\r\n\r\nsearch=%G";
  EXPECT_EQ(StatusOf(RawExchange(port, bad_form)), 400);
  // A slow client (half a request, then nothing) is cut after the read timeout.
  auto t0 = std::chrono::steady_clock::now();
  std::string slow = RawExchange(port, "GET /health HTTP/1.1\r\nHost: x\r\n");
  double waited = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  EXPECT_LT(waited, 4.0);
  EXPECT_EQ(StatusOf(slow), -1);
  // No credentials, wrong ones, an unknown scheme: 401 with Splunk's message and nothing else.
  for (const std::string& auth : {std::string(), std::string("Authorization: Splunk nosuchkey\r\n"),
                                  std::string("Authorization: Basic YWRtaW46d3Jvbmc=\r\n"),
                                  std::string("Authorization: Digest x\r\n")}) {
    std::string r = RawExchange(port, "GET /services/search/jobs HTTP/1.1\r\nHost: x\r\n" + auth +
                                          "Connection: close\r\n\r\n");
    EXPECT_EQ(StatusOf(r), 401) << r;
    EXPECT_NE(r.find("call not properly authenticated"), std::string::npos) << r;
  }
  std::string login =
      RawExchange(port,
                  "POST /services/auth/login HTTP/1.1\r\nHost: x\r\nContent-Length: 33\r\n"
                  "Connection: close\r\n\r\nusername=admin&password=wrongpass");
  EXPECT_EQ(StatusOf(login), 401) << login;
  EXPECT_NE(login.find("Login failed"), std::string::npos);
  // Unknown sid: 404; a path with ..: 400; unknown output_mode: 400.
  std::string r = RawExchange(
      port, "GET /services/search/jobs/1234.5?output_mode=json HTTP/1.1\r\nHost: x\r\n" + basic +
                "Connection: close\r\n\r\n");
  EXPECT_EQ(StatusOf(r), 404) << r;
  EXPECT_NE(r.find("{\"messages\":[{\"type\":\"ERROR\",\"text\":\"Unknown sid.\"}]}"),
            std::string::npos)
      << r;
  EXPECT_EQ(StatusOf(RawExchange(port, "GET /services/../etc/passwd HTTP/1.1\r\nHost: x\r\n\r\n")),
            400);
  r = RawExchange(port, "POST /services/search/jobs HTTP/1.1\r\nHost: x\r\n" + basic +
                            "Content-Length: 47\r\nConnection: "
                            "close\r\n\r\nsearch=search+*&exec_mode=oneshot&output_mode=x");
  EXPECT_EQ(StatusOf(r), 400) << r;
  // Keep-alive: two requests on one connection.
  std::string two =
      RawExchange(port,
                  "GET /health HTTP/1.1\r\nHost: x\r\n\r\nGET /health HTTP/1.1\r\nHost: x\r\n"
                  "Connection: close\r\n\r\n");
  EXPECT_EQ(std::count(two.begin(), two.end(), '{'), 2) << two;
  // Through all of that the server stayed up.
  EXPECT_EQ(health(), 200);
  EXPECT_TRUE(serve->Running());
  ::kill(serve->pid(), SIGTERM);
  EXPECT_EQ(serve->Wait(), 0) << serve->err();
}

// Every login and search goes into the internal index _audit: a wrong password, the right one, a
// REST search and a bogus token are found there with their user and outcome, while the wrong
// password, the session key and the token appear nowhere in it; index=* leaves _audit out.
TEST_F(ServeE2E, LoginsAndSearchesAreAuditedWithoutSecrets) {
  int port = 0;
  auto serve = StartServe({}, &port);
  ASSERT_GT(port, 0) << serve->err();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  const std::string wrong = "wrong-pass-Zq7vK2";
  const std::string bogus = "bogus-token-Yx9wP4";
  auto bad =
      RunCommand("curl -s -o /dev/null -w '%{http_code}' -d username=admin -d password=" + wrong +
                 " " + base + "/services/auth/login");
  EXPECT_EQ(bad.output, "401");
  auto good =
      RunCommand("curl -s -d username=admin --data-urlencode password=" + ShellQuote(kPassword) +
                 " '" + base + "/services/auth/login?output_mode=json'");
  std::smatch m;
  static const std::regex kKey(R"re("sessionKey":"([0-9a-f]+)")re");
  ASSERT_TRUE(std::regex_search(good.output, m, kKey)) << good.output;
  const std::string key = m[1].str();
  const std::string search = "search eventName=ConsoleLogin | stats count";
  auto oneshot = [&](const std::string& spl) {
    return RunCommand("curl -s -H 'Authorization: Splunk " + key +
                      "' -d exec_mode=oneshot -d output_mode=json_rows -d count=0 "
                      "--data-urlencode " +
                      ShellQuote("search=" + spl) + " " + base + "/services/search/v2/jobs")
        .output;
  };
  EXPECT_NE(oneshot(search).find("\"rows\":[[\""), std::string::npos);
  EXPECT_EQ(RunCommand("curl -s -o /dev/null -w '%{http_code}' -H 'Authorization: Bearer " + bogus +
                       "' " + base + "/services/server/info")
                .output,
            "401");

  // The records are committed in the background (about a second): look until all are there.
  const std::string audit_search =
      "search index=_audit | fillnull value=- user, reason | stats count by action, info, user, "
      "interface, reason";
  std::string found;
  auto has_all = [&](const std::string& out) {
    return out.find(R"(["login","failed","admin","rest","wrong password")") != std::string::npos &&
           out.find(R"(["login","succeeded","admin","rest","-")") != std::string::npos &&
           out.find(R"(["search","completed","admin","rest","-")") != std::string::npos &&
           out.find(R"(["login","failed","-","rest_token","unknown session key or token")") !=
               std::string::npos;
  };
  for (int i = 0; i < 80 && !has_all(found); ++i) {
    found = oneshot(audit_search);
    if (!has_all(found)) std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_TRUE(has_all(found)) << found;
  // The search's own record: its text, sid, user and result count.
  const std::string mine = oneshot(
      "search index=_audit action=search info=completed user=admin "
      "interface=rest exec_mode=oneshot | table search, search_id, "
      "result_count, client");
  EXPECT_NE(mine.find("search eventName=ConsoleLogin | stats count"), std::string::npos) << mine;
  EXPECT_NE(mine.find("127.0.0.1:"), std::string::npos) << mine;

  // No secret anywhere in the index (read beside the server, as a reader).
  auto raw = Cairn("search --data " + data_ + " --format csv 'index=_audit | table _raw'");
  ASSERT_EQ(raw.status, 0) << raw.err;
  EXPECT_NE(raw.out.find("wrong password"), std::string::npos) << raw.out;
  for (const std::string& secret : {wrong, key, bogus, std::string(kPassword)}) {
    EXPECT_EQ(raw.out.find(secret), std::string::npos) << secret << " in " << raw.out;
  }
  // index=* and a search without index= leave the internal index out; index list shows it.
  for (const std::string& spl : {"index=* | stats count by index", "* | stats count by index"}) {
    auto all = Cairn("search --data " + data_ + " --format csv " + ShellQuote(spl));
    ASSERT_EQ(all.status, 0) << all.err;
    EXPECT_EQ(all.out.find("_audit"), std::string::npos) << spl << ": " << all.out;
    EXPECT_NE(all.out.find("aws-cloudtrail"), std::string::npos) << spl << ": " << all.out;
  }
  auto list = Cairn("--data " + data_ + " index list");
  EXPECT_NE(list.out.find("_audit"), std::string::npos) << list.out;

  ::kill(serve->pid(), SIGTERM);
  EXPECT_EQ(serve->Wait(), 0) << serve->err();
  EXPECT_NE(serve->err().find("serve: audit:"), std::string::npos) << serve->err();
}

// Export streams: a client reading the export of a large event search gets its first rows while
// the search still runs (its answer is far larger than the sockets hold, and the client reads no
// further); when the client goes away the search stops, the worker is free and the audit record
// says cancelled. A small export still ends with "lastrow" and a CSV header.
TEST_F(ServeE2E, ExportStreamsAndAClientThatLeavesCancelsTheSearch) {
  const std::string big = dir_ + "/big";
  auto gen = Cairn("generate --out " + big + "/logs --events 200000 --threads 2 --seed 11");
  ASSERT_EQ(gen.status, 0) << gen.err;
  auto ing =
      Cairn("ingest --data " + big + "/data --no-progress --threads 2 " + big + "/logs/AWSLogs");
  ASSERT_EQ(ing.status, 0) << ing.err;
  data_ = big + "/data";
  int port = 0;
  auto serve = StartServe({"--search-workers", "1", "--metrics", "127.0.0.1:0"}, &port);
  ASSERT_GT(port, 0) << serve->err();
  const std::string base = "http://127.0.0.1:" + std::to_string(port);
  std::smatch m;
  std::string log;
  for (int i = 0; i < 100; ++i) {
    log = serve->err();
    if (std::regex_search(log, m, std::regex("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics")))
      break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  ASSERT_FALSE(m.empty()) << log;
  const std::string metrics_url = "http://127.0.0.1:" + m[1].str() + "/metrics";
  auto metric = [&](const std::string& name) {
    const std::string metrics = RunCommand("curl -s " + metrics_url).output;
    std::smatch v;
    if (!std::regex_search(metrics, v, std::regex("\n" + name + " ([0-9.e+]+)\n"))) return -1.0;
    return std::stod(v[1].str());
  };
  const std::string running = "cairn_serve_searches_running";
  const std::string cancelled = "cairn_serve_searches_total\\{outcome=\"cancelled\"\\}";
  const std::string done = "cairn_serve_searches_total\\{outcome=\"done\"\\}";

  auto login =
      RunCommand("curl -s -d username=admin --data-urlencode password=" + ShellQuote(kPassword) +
                 " '" + base + "/services/auth/login?output_mode=json'");
  static const std::regex kKey(R"re("sessionKey":"([0-9a-f]+)")re");
  ASSERT_TRUE(std::regex_search(login.output, m, kKey)) << login.output;
  const std::string key = m[1].str();

  // The export on a socket with a small receive buffer, read until the first row.
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  int small = 4096;
  ::setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &small, sizeof(small));
  timeval tv{60, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)), 0);
  const std::string body = "search=search%20index%3D*&output_mode=json";
  const std::string request =
      "POST /services/search/jobs/export HTTP/1.1\r\nHost: x\r\n"
      "Authorization: Splunk " +
      key +
      "\r\nContent-Type: application/x-www-form-urlencoded\r\n"
      "Content-Length: " +
      std::to_string(body.size()) + "\r\n\r\n" + body;
  ASSERT_EQ(::send(fd, request.data(), request.size(), MSG_NOSIGNAL),
            static_cast<ssize_t>(request.size()));
  std::string got;
  char buf[4096];
  while (got.find("\"result\":") == std::string::npos && got.size() < (1 << 20)) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    got.append(buf, static_cast<size_t>(n));
  }
  EXPECT_EQ(StatusOf(got), 200) << got.substr(0, 300);
  EXPECT_NE(got.find("\"offset\":0,"), std::string::npos) << got.substr(0, 300);
  // The first row came while the search runs: it has not finished (the answer, hundreds of MB,
  // waits for this client to read it).
  EXPECT_EQ(metric(running), 1);
  EXPECT_EQ(metric(done), 0);
  EXPECT_EQ(metric(cancelled), 0);

  // The client goes away: the search stops and its worker is free.
  ::close(fd);
  for (int i = 0; i < 400 && (metric(running) != 0 || metric(cancelled) != 1); ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(metric(running), 0);
  EXPECT_EQ(metric(cancelled), 1);
  EXPECT_EQ(metric(done), 0);

  // A small export in full: json with "lastrow" on its last row, csv with one header.
  auto exp = [&](const std::string& spl, const std::string& mode) {
    return RunCommand("curl -s -H 'Authorization: Splunk " + key + "' --data-urlencode " +
                      ShellQuote("search=" + spl) + " -d output_mode=" + mode + " " + base +
                      "/services/search/jobs/export")
        .output;
  };
  const std::string json = exp("search index=* | head 3 | table eventID", "json");
  EXPECT_EQ(std::count(json.begin(), json.end(), '\n'), 3) << json;
  EXPECT_NE(json.find("{\"preview\":false,\"offset\":2,\"lastrow\":true,\"result\":{\"eventID\":"),
            std::string::npos)
      << json;
  const std::string csv = exp("search index=* | head 3 | table eventName, eventID", "csv");
  EXPECT_TRUE(csv.rfind("\"eventName\",\"eventID\"\n", 0) == 0 ||
              csv.rfind("eventName,eventID\n", 0) == 0)
      << csv;
  EXPECT_EQ(std::count(csv.begin(), csv.end(), '\n'), 4) << csv;
  const std::string xml = exp("search index=* | head 3 | table eventID", "xml");
  EXPECT_EQ(xml.rfind("<?xml", 0), 0u) << xml;
  EXPECT_EQ(xml.size() - xml.rfind("</results>\n"), 11u) << xml;
  EXPECT_NE(xml.find("offset='2'"), std::string::npos) << xml;
  const std::string raw = exp("search index=* | head 3", "raw");
  EXPECT_EQ(std::count(raw.begin(), raw.end(), '\n'), 3) << raw;
  EXPECT_EQ(raw.rfind("{\"", 0), 0u) << raw.substr(0, 200);
  EXPECT_EQ(raw.find("\"preview\""), std::string::npos) << raw.substr(0, 200);

  // The audit trail says the export was cancelled (records are committed in the background).
  std::string audit;
  for (int i = 0; i < 80 && audit.find("\"cancelled\"") == std::string::npos; ++i) {
    audit = RunCommand("curl -s -H 'Authorization: Splunk " + key +
                       "' -d exec_mode=oneshot -d output_mode=json_rows -d count=0 "
                       "--data-urlencode " +
                       ShellQuote("search=search index=_audit action=search exec_mode=export "
                                  "info!=granted | table info, search") +
                       " " + base + "/services/search/v2/jobs")
                .output;
    if (audit.find("\"cancelled\"") == std::string::npos)
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
  }
  EXPECT_NE(audit.find("[\"cancelled\",\"search index=*\"]"), std::string::npos) << audit;

  ::kill(serve->pid(), SIGTERM);
  EXPECT_EQ(serve->Wait(), 0) << serve->err();
}

}  // namespace
}  // namespace cairn::testing
