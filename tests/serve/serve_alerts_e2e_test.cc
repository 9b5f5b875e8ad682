// `cairn serve` runs the saved-search scheduler and the streaming Sigma rules itself: over a
// generated store, a scheduled saved search that triggers raises its alert once (also across a
// restart: the window is done), found by `cairn search` beside the server; a CloudTrail
// StopLogging record sent over the HTTP Event Collector raises the disable-logging Sigma alert.

#include <csignal>
#include <ctime>
#include <filesystem>
#include <fstream>

#include "cli/cli_util.h"
#include "common/testing.h"

namespace cairn::testing {
namespace {

constexpr char kToken[] = "3a4b5c6d-3333-4e7f-8a9b-0c1d2e3f4a5b";

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

class ServeAlertsE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = MakeTempDir("cairn_serve_alerts");
    data_ = dir_ + "/data";
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }
  // Starts serve; waits for `port_file` (the REST port, or the HEC port with --hec-port-file).
  std::unique_ptr<CairnProcess> Start(const std::vector<std::string>& extra,
                                      const std::string& port_file) {
    std::filesystem::remove(port_file);
    std::vector<std::string> args = {"serve", "--data", data_, "--port", "0", "--ui-port", "-1"};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<CairnProcess>(args, dir_ + "/serve" + std::to_string(starts_++));
    for (int i = 0; i < 400 && !std::filesystem::exists(port_file); ++i) {
      if (!p->Running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    return p;
  }
  std::string Search(const std::string& spl) {
    auto r = Cairn("search --data " + data_ + " --format csv " + Quote(spl));
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }
  // Polls until `spl` answers `want` (about 20 s at most); the last answer.
  std::string WaitFor(const std::string& spl, const std::string& want) {
    std::string got;
    for (int i = 0; i < 80; ++i) {
      got = Search(spl);
      if (got == want) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(250));
    }
    return got;
  }
  std::string dir_, data_;
  int starts_ = 0;
};

TEST_F(ServeAlertsE2E, SchedulerRunsInsideServeAndAlertsOnce) {
  auto g = Cairn("generate --out " + dir_ +
                 "/gen --events 20000 --days 2 --start 2024-03-01T00:00:00Z --seed 7");
  ASSERT_EQ(g.status, 0) << g.err;
  auto i = Cairn("ingest --no-progress --data " + data_ + " " + dir_ + "/gen/AWSLogs");
  ASSERT_EQ(i.status, 0) << i.err;
  // Scheduled once a day, two hours ago: the first start runs that time (a search never seen
  // runs its latest scheduled time of the last 24 h), whose window covers the generated days;
  // nothing else is due for 22 hours.
  const std::time_t two_hours_ago = std::time(nullptr) - 7200;
  std::tm tm{};
  gmtime_r(&two_hours_ago, &tm);
  const std::string conf = dir_ + "/savedsearches.conf";
  std::ofstream(conf) << "[trail stopped]\n"
                         "search = `cloudtrail` eventName=StopLogging\n"
                         "cron_schedule = "
                      << tm.tm_min << " " << tm.tm_hour
                      << " * * *\nenableSched = 1\n"
                         "dispatch.earliest_time = -5y\ndispatch.latest_time = now\n"
                         "alert.severity = 5\n";
  const std::string port_file = dir_ + "/port";
  const std::string count = "index=alerts alert_type=saved_search | stats count by rule_id";
  const std::string once = "rule_id,count\ntrail stopped,1\n";
  {
    auto serve = Start({"--savedsearches", conf, "--port-file", port_file}, port_file);
    ASSERT_TRUE(std::filesystem::exists(port_file)) << serve->err();
    EXPECT_EQ(WaitFor(count, once), once) << serve->err();
    ::kill(serve->pid(), SIGTERM);
    EXPECT_EQ(serve->Wait(), 0) << serve->err();
    EXPECT_NE(serve->err().find("alerts scheduler running"), std::string::npos) << serve->err();
  }
  // A restart finds the window done: still one alert.
  {
    auto serve = Start({"--savedsearches", conf, "--port-file", port_file}, port_file);
    ASSERT_TRUE(std::filesystem::exists(port_file)) << serve->err();
    std::this_thread::sleep_for(std::chrono::seconds(2));
    ::kill(serve->pid(), SIGTERM);
    EXPECT_EQ(serve->Wait(), 0) << serve->err();
  }
  EXPECT_EQ(Search(count), once);
  // The scheduled run is in the audit trail (index _audit) with its saved search and count, and
  // the alert search (every index but alerts and the internal ones) did not search _audit.
  EXPECT_EQ(Search("index=_audit action=search interface=scheduler | table user, info, "
                   "savedsearch_name, result_count"),
            "user,info,savedsearch_name,result_count\nscheduler,completed,trail stopped,1\n");
  // --no-alerts: no scheduler.
  {
    auto serve =
        Start({"--savedsearches", conf, "--no-alerts", "--port-file", port_file}, port_file);
    ASSERT_TRUE(std::filesystem::exists(port_file)) << serve->err();
    ::kill(serve->pid(), SIGTERM);
    EXPECT_EQ(serve->Wait(), 0) << serve->err();
    EXPECT_EQ(serve->err().find("alerts scheduler running"), std::string::npos) << serve->err();
  }
}

TEST_F(ServeAlertsE2E, HecEventsRaiseSigmaAlerts) {
  if (RunCommand("curl --version").status != 0) {
    if (UnderCi()) FAIL() << "curl missing";
    GTEST_SKIP() << "curl missing";
  }
  if (!SharedDataAvailable()) {
    if (UnderCi()) FAIL() << "shared data missing: " << SharedDataDir();
    GTEST_SKIP() << "shared data missing: " << SharedDataDir();
  }
  const std::string rule = SharedDataDir() + "/sigma/rules/aws_cloudtrail_disable_logging.yml";
  std::filesystem::create_directories(dir_ + "/rules");
  std::filesystem::copy_file(rule, dir_ + "/rules/disable_logging.yml");
  std::ofstream(dir_ + "/cairn.toml") << "[[serve.hec_token]]\nname = \"ct\"\ntoken = \"" << kToken
                                      << "\"\nindex = \"cloudtrail\"\n";
  const std::string port_file = dir_ + "/hec_port";
  auto serve = Start({"--config", dir_ + "/cairn.toml", "--rules", dir_ + "/rules", "--hec-port",
                      "0", "--hec-port-file", port_file},
                     port_file);
  ASSERT_TRUE(std::filesystem::exists(port_file)) << serve->err();
  const int port = std::atoi(ReadWholeFile(port_file).c_str());
  auto post = [&](const std::string& id, const std::string& name) {
    const std::string body =
        R"({"sourcetype":"aws:cloudtrail","event":{"eventVersion":"1.09","userIdentity":{"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/mallory","accountId":"111122223333"},"eventTime":"2024-05-01T12:00:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":")" +
        name + R"(","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.9","eventID":")" + id +
        R"(","recipientAccountId":"111122223333"}})";
    std::ofstream(dir_ + "/body.json") << body;
    return RunCommand(
        "curl -s -H 'Authorization: Splunk " + std::string(kToken) + "' --data-binary @" + dir_ +
        "/body.json http://127.0.0.1:" + std::to_string(port) + "/services/collector/event");
  };
  auto r = post("hec-stop-1", "StopLogging");
  EXPECT_NE(r.output.find("\"code\":0"), std::string::npos) << r.output;
  r = post("hec-describe-1", "DescribeTrails");  // a near miss: not alerted
  EXPECT_NE(r.output.find("\"code\":0"), std::string::npos) << r.output;
  r = post("hec-stop-1", "StopLogging");  // resent: stored and alerted once
  EXPECT_NE(r.output.find("\"code\":0"), std::string::npos) << r.output;
  const std::string spl =
      "index=alerts alert_type=sigma | stats count by rule_id eventID eventName";
  const std::string want =
      "rule_id,eventID,eventName,count\n4db60cc0-36fb-42b7-9b58-a5b53019fb74,hec-stop-1,"
      "StopLogging,1\n";
  EXPECT_EQ(WaitFor(spl, want), want) << serve->err();
  EXPECT_EQ(Search("index=cloudtrail | stats count"), "count\n2\n");
  ::kill(serve->pid(), SIGTERM);
  EXPECT_EQ(serve->Wait(), 0) << serve->err();
  EXPECT_NE(serve->err().find("1 Sigma alerts"), std::string::npos) << serve->err();
}

}  // namespace
}  // namespace cairn::testing
