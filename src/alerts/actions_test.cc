#include "alerts/actions.h"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <simdjson.h>
#include <sys/socket.h>
#include <unistd.h>

#include <thread>

#include "alerts/scheduler.h"
#include "alerts/test_util.h"
#include "aws/test_http_server.h"
#include "common/clock.h"

namespace cairn::alerts {
namespace {

using testing::MakeEvent;
using testing::T;
using testing::TempStore;

// A socket bound to 127.0.0.1 on a port the kernel picks.
int Bind(int type, int* port) {
  int fd = ::socket(AF_INET, type, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = 0;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) return -1;
  socklen_t len = sizeof(a);
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  *port = ntohs(a.sin_port);
  if (type == SOCK_STREAM) ::listen(fd, 4);
  return fd;
}

std::string ReadAll(int fd, int timeout_ms) {
  std::string out;
  char buf[65536];
  pollfd p{fd, POLLIN, 0};
  while (::poll(&p, 1, timeout_ms) > 0) {
    ssize_t n = ::recv(fd, buf, sizeof(buf), 0);
    if (n <= 0) break;
    out.append(buf, static_cast<size_t>(n));
  }
  return out;
}

struct ActionsFixture {
  TempStore ts;
  ManualClock clock{T("2024-03-01T10:00:00Z") * 1000};
  int udp_port = 0, tcp_port = 0;
  int udp = Bind(SOCK_DGRAM, &udp_port);
  int tcp = Bind(SOCK_STREAM, &tcp_port);
  std::string jsonl;
  int webhook_status = 200;
  aws::testing::TestHttpServer server{[this](const aws::testing::TestRequest& req) {
    aws::testing::TestResponse r;
    r.status = req.path == "/hook" ? webhook_status : 200;
    return r;
  }};
  ActionsFixture() { jsonl = ts.dir + "/out/alerts.jsonl"; }
  ~ActionsFixture() {
    ::close(udp);
    ::close(tcp);
  }
  std::string Conf(const std::string& protocol) {
    int port = protocol == "udp" ? udp_port : tcp_port;
    return "[Root use]\nsearch = eventName=ConsoleLogin\ncron_schedule = */5 * * * *\n"
           "enableSched = 1\nalert.severity = 5\ndescription = root signed in\n"
           "action.webhook = 1\naction.webhook.param.url = " +
           server.url() + "/hook\n" + "action.slack = 1\naction.slack.param.url = " + server.url() +
           "/slack\n" +
           "action.slack.param.channel = #sec\n"
           "action.jsonl = 1\naction.jsonl.param.path = " +
           jsonl + "\n" +
           "action.syslog = 1\naction.syslog.param.host = 127.0.0.1\n"
           "action.syslog.param.protocol = " +
           protocol + "\naction.syslog.param.port = " + std::to_string(port) +
           "\naction.syslog.param.facility = 13\n";
  }
  Result<std::vector<RunOutcome>> Run(const std::string& protocol) {
    auto searches = ParseSavedSearches(Conf(protocol), "t.conf");
    EXPECT_TRUE(searches.ok()) << searches.status().ToString();
    SchedulerOptions o;
    o.data_dir = ts.dir;
    o.store = ts.store.get();
    o.clock = &clock;
    o.actions.hostname = "testhost";
    o.actions.timeout_ms = 3000;
    aws::HttpOptions h;
    h.use_env_proxy = false;
    h.total_timeout_ms = 3000;
    o.http = aws::NewCurlHttpClient(h);
    Scheduler s(*searches, o);
    EXPECT_TRUE(s.Init().ok());
    return s.RunDue();
  }
};

TEST(Actions, EveryActionReachesItsListenerOverUdpSyslog) {
  ActionsFixture f;
  ASSERT_TRUE(FileSystem::Default()->CreateDirs(f.ts.dir + "/out").ok());
  f.ts.Add({MakeEvent("ev-root", "2024-03-01T09:58:00Z", "ConsoleLogin")});
  auto r = f.Run("udp");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].new_alerts, 1u);
  EXPECT_EQ((*r)[0].actions_ok, 4);
  EXPECT_EQ((*r)[0].actions_failed, 0);

  auto reqs = f.server.requests();
  ASSERT_EQ(reqs.size(), 2u);
  const auto& hook = reqs[0].path == "/hook" ? reqs[0] : reqs[1];
  const auto& slack = reqs[0].path == "/hook" ? reqs[1] : reqs[0];
  EXPECT_EQ(hook.method, "POST");
  EXPECT_EQ(hook.Header("content-type"), "application/json");
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(hook.body).get(doc), simdjson::SUCCESS) << hook.body;
  EXPECT_EQ(std::string_view(doc["search_name"]), "Root use");
  EXPECT_EQ(std::string_view(doc["sid"]), "scheduler__cairn__cairn__Root_use_at_1709287200");
  EXPECT_EQ(std::string_view(doc["app"]), "cairn");
  EXPECT_EQ(std::string_view(doc["owner"]), "cairn");
  EXPECT_EQ(std::string_view(doc["result"]["eventID"]), "ev-root");
  EXPECT_EQ(std::string_view(doc["result"]["_time"]), "2024-03-01T09:58:00.000Z");
  EXPECT_EQ(std::string_view(doc["level"]), "high");
  EXPECT_EQ(int64_t(doc["result_count"]), 1);
  simdjson::dom::parser p2;
  ASSERT_EQ(p2.parse(slack.body).get(doc), simdjson::SUCCESS) << slack.body;
  EXPECT_EQ(std::string_view(doc["channel"]), "#sec");
  EXPECT_NE(std::string_view(doc["text"]).find("Root use"), std::string_view::npos);
  EXPECT_EQ(std::string_view(doc["attachments"].at(0)["color"]), "danger");

  auto line = ReadFileToString(FileSystem::Default(), f.jsonl);
  ASSERT_TRUE(line.ok());
  ASSERT_EQ(std::count(line->begin(), line->end(), '\n'), 1);
  simdjson::dom::parser p3;
  ASSERT_EQ(p3.parse(*line).get(doc), simdjson::SUCCESS) << *line;
  EXPECT_EQ(std::string_view(doc["results"].at(0)["eventID"]), "ev-root");

  std::string msg = ReadAll(f.udp, 2000);
  // facility 13 * 8 + severity 3 (high)
  EXPECT_EQ(msg.rfind("<107>1 2024-03-01T10:00:00.000Z testhost cairn - alert [cairn@32473 "
                      "search_name=\"Root use\"",
                      0),
            0u)
      << msg;
  EXPECT_NE(msg.find("\"eventID\":\"ev-root\""), std::string::npos);
}

TEST(Actions, SyslogOverTcpIsOctetCounted) {
  ActionsFixture f;
  ASSERT_TRUE(FileSystem::Default()->CreateDirs(f.ts.dir + "/out").ok());
  f.ts.Add({MakeEvent("ev-root", "2024-03-01T09:58:00Z", "ConsoleLogin")});
  std::string received;
  std::thread listener([&] {
    pollfd p{f.tcp, POLLIN, 0};
    if (::poll(&p, 1, 5000) <= 0) return;
    int c = ::accept(f.tcp, nullptr, nullptr);
    received = ReadAll(c, 2000);
    ::close(c);
  });
  auto r = f.Run("tcp");
  listener.join();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].actions_failed, 0);
  size_t sp = received.find(' ');
  ASSERT_NE(sp, std::string::npos) << received;
  EXPECT_EQ(std::stoul(received.substr(0, sp)), received.size() - sp - 1);
  EXPECT_EQ(received.substr(sp + 1, 7), "<107>1 ");
}

TEST(Actions, AFailingActionIsCountedAndTheAlertKept) {
  ActionsFixture f;
  f.webhook_status = 500;
  // The JSON-lines folder does not exist: that action fails too.
  f.ts.Add({MakeEvent("ev-root", "2024-03-01T09:58:00Z", "ConsoleLogin")});
  ::close(f.tcp);
  f.tcp = -1;  // nobody listens on the TCP port any more
  auto r = f.Run("tcp");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  EXPECT_EQ((*r)[0].new_alerts, 1u);
  EXPECT_EQ((*r)[0].actions_ok, 1);  // slack
  EXPECT_EQ((*r)[0].actions_failed, 3);
  auto info = f.ts.store->Info(detect::kAlertsIndex);
  ASSERT_TRUE(info.ok());
  EXPECT_EQ(info->events, 1u);
}

}  // namespace
}  // namespace cairn::alerts

namespace cairn::alerts {
namespace {

TEST(Actions, ErrorsDoNotNameTheSecretPathOfAWebhookUrl) {
  aws::testing::TestHttpServer server([](const aws::testing::TestRequest&) {
    aws::testing::TestResponse r;
    r.status = 404;
    return r;
  });
  aws::HttpOptions h;
  h.use_env_proxy = false;
  h.total_timeout_ms = 3000;
  auto http = aws::NewCurlHttpClient(h);
  Status s = PostJson(http.get(), server.url() + "/services/T000/B000/s3cr3tt0ken", "{}", 3000);
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("404"), std::string::npos) << s.message();
  EXPECT_EQ(s.message().find("s3cr3tt0ken"), std::string::npos) << s.message();
  ASSERT_EQ(server.requests().size(), 1u);
  EXPECT_EQ(server.requests()[0].path, "/services/T000/B000/s3cr3tt0ken");
  // Nobody listening: a transport error, also without the path.
  int port = server.port();
  {
    aws::testing::TestHttpServer gone(
        [](const aws::testing::TestRequest&) { return aws::testing::TestResponse{}; });
    port = gone.port();
  }
  s = PostJson(http.get(), "http://127.0.0.1:" + std::to_string(port) + "/services/T/B/s3cr3tt0ken",
               "{}", 3000);
  ASSERT_FALSE(s.ok());
  EXPECT_EQ(s.message().find("s3cr3tt0ken"), std::string::npos) << s.message();
}

}  // namespace
}  // namespace cairn::alerts
