// `cairn serve`'s HTTP Event Collector end to end: the server on 127.0.0.1 port 0 with HEC tokens
// from its cairn.toml; Splunk's JavaScript HEC client (npm splunk-logging, unmodified, run by
// tests/serve/hec_client.cjs) sends batches of 100, then `cairn search` beside the server finds
// exactly those events; with curl: a gzip body, a Firehose-shaped raw request of CloudTrail
// records in EventBridge envelopes with indexer acknowledgement, and kill -9 before the ack: the
// batch resent after the restart is stored once.
//
// Needs node, node_modules/splunk-logging (npm ci) and curl: without them the test skips, and
// fails under CI (CI=true).

#include <filesystem>
#include <fstream>
#include <sstream>

#include "cli/cli_util.h"

namespace cairn::testing {
namespace {

constexpr char kAppsToken[] = "6f1c2a9e-1111-4c2b-9d3e-0a1b2c3d4e5f";
constexpr char kFirehoseToken[] = "0b7e5d4c-2222-4f6a-8b9c-1d2e3f4a5b6c";
constexpr char kChannel[] = "8C1B2D3E-4F50-4A6B-9C7D-8E9F0A1B2C3D";

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string Envelope(int i) {
  std::string id = "fh-" + std::to_string(i);
  return R"({"version":"0","id":"ev-)" + id +
         R"(","detail-type":"AWS API Call via CloudTrail","source":"aws.ec2","account":"444455556666","time":"2024-05-01T12:00:00Z","region":"eu-west-1","resources":[],"detail":{"eventVersion":"1.09","userIdentity":{"type":"AssumedRole","accountId":"444455556666"},"eventTime":"2024-05-01T12:00:)" +
         (i < 10 ? "0" : "") + std::to_string(i % 60) +
         R"(Z","eventSource":"ec2.amazonaws.com","eventName":"AuthorizeSecurityGroupIngress","awsRegion":"eu-west-1","sourceIPAddress":"198.51.100.7","eventID":")" +
         id + R"(","recipientAccountId":"444455556666"}})";
}

class HecE2E : public ::testing::Test {
 protected:
  void SetUp() override {
    if (RunCommand("node --version").status != 0 || RunCommand("curl --version").status != 0 ||
        !std::filesystem::exists(std::string(CAIRN_SOURCE_DIR) +
                                 "/node_modules/splunk-logging/package.json")) {
      if (UnderCi()) FAIL() << "node, curl or node_modules/splunk-logging missing";
      GTEST_SKIP() << "node, curl or node_modules/splunk-logging missing (npm ci)";
    }
    dir_ = MakeTempDir("cairn_hec_e2e");
    data_ = dir_ + "/data";
    std::ofstream(dir_ + "/cairn.toml")
        << "[[serve.hec_token]]\nname = \"apps\"\ntoken = \"" << kAppsToken
        << "\"\nindex = \"apps\"\n\n[[serve.hec_token]]\nname = "
           "\"firehose\"\ntoken_file = \""
        << dir_ << "/firehose.token\"\nindex = \"cloudtrail\"\n"
        << "useACK = true\n";
    std::ofstream(dir_ + "/firehose.token") << kFirehoseToken << "\n";
  }
  void TearDown() override {
    if (!dir_.empty() && !HasFailure()) std::filesystem::remove_all(dir_);
  }
  std::unique_ptr<CairnProcess> StartServe(int* hec_port,
                                           const std::vector<std::string>& extra = {}) {
    const std::string port_file = dir_ + "/hec_port";
    std::filesystem::remove(port_file);
    std::vector<std::string> args = {
        "serve",      "--config", dir_ + "/cairn.toml", "--data", data_, "--port", "0",
        "--hec-port", "0",        "--hec-port-file",    port_file};
    args.insert(args.end(), extra.begin(), extra.end());
    auto p = std::make_unique<CairnProcess>(args, dir_ + "/serve" + std::to_string(starts_++));
    for (int i = 0; i < 400 && !std::filesystem::exists(port_file); ++i) {
      if (!p->Running()) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    }
    *hec_port = std::atoi(ReadWholeFile(port_file).c_str());
    return p;
  }
  std::string Search(const std::string& spl) {
    auto r = Cairn("search --data " + data_ + " --format csv " + Quote(spl));
    EXPECT_EQ(r.status, 0) << r.err;
    return r.out;
  }
  CommandResult Curl(int port, const std::string& args, const std::string& path) {
    return RunCommand("curl -s -w '\\n%{http_code}' " + args +
                      " http://127.0.0.1:" + std::to_string(port) + path);
  }
  // Posts `file` to /services/collector/raw with the Firehose token and channel; the ackId.
  int PostFirehose(int port, const std::string& file) {
    auto r = RunCommand("curl -s -H 'Authorization: Splunk " + std::string(kFirehoseToken) +
                        "' -H 'X-Splunk-Request-Channel: " + kChannel + "' --data-binary @" + file +
                        " http://127.0.0.1:" + std::to_string(port) + "/services/collector/raw");
    size_t at = r.output.find("\"ackId\":");
    EXPECT_NE(at, std::string::npos) << r.output;
    return at == std::string::npos ? -1 : std::atoi(r.output.c_str() + at + 8);
  }
  bool WaitAck(int port, int id) {
    for (int i = 0; i < 200; ++i) {
      auto r = RunCommand("curl -s -H 'Authorization: Splunk " + std::string(kFirehoseToken) +
                          "' -H 'X-Splunk-Request-Channel: " + kChannel + "' -d '{\"acks\":[" +
                          std::to_string(id) + "]}' http://127.0.0.1:" + std::to_string(port) +
                          "/services/collector/ack");
      if (r.output.find("\"" + std::to_string(id) + "\":true") != std::string::npos) return true;
      std::this_thread::sleep_for(std::chrono::milliseconds(25));
    }
    return false;
  }
  std::string dir_, data_;
  int starts_ = 0;
};

TEST_F(HecE2E, SplunkLoggingCurlGzipFirehoseAndKill9) {
  int port = 0;
  auto serve = StartServe(&port);
  ASSERT_GT(port, 0) << serve->err();
  EXPECT_NE(serve->err().find("HTTP Event Collector on http://127.0.0.1:"), std::string::npos);

  // Health is public.
  auto health =
      RunCommand("curl -s http://127.0.0.1:" + std::to_string(port) + "/services/collector/health");
  EXPECT_EQ(health.output, R"({"text":"HEC is healthy","code":17})");

  // splunk-logging: 1000 events in batches of 100, a bad token, a disallowed index.
  const std::string run = "run" + std::to_string(::getpid());
  auto node = RunCommand("cd " + std::string(CAIRN_SOURCE_DIR) +
                         " && env CAIRN_HEC_URL=http://127.0.0.1:" + std::to_string(port) +
                         " CAIRN_HEC_TOKEN=" + kAppsToken +
                         " CAIRN_HEC_BAD_TOKEN=00000000-0000-0000-0000-000000000000" +
                         " CAIRN_HEC_EVENTS=1000 CAIRN_HEC_RUN=" + run +
                         " node tests/serve/hec_client.cjs");
  EXPECT_EQ(node.status, 0) << node.output;
  EXPECT_NE(node.output.find("all ok"), std::string::npos) << node.output;

  // `cairn search` beside the server sees exactly those events (no acks: answered after commit).
  // (splunk-logging's event is {"message": <the payload's message>, "severity": ...}.)
  EXPECT_EQ(Search("index=apps | stats count dc(message.seq) min(message.seq) max(message.seq) by "
                   "message.run"),
            "message.run,count,dc(message.seq),min(message.seq),max(message.seq)\n" + run +
                ",1000,1000,0,999\n");
  EXPECT_EQ(Search("index=apps message.seq=40 | eval t=_time | table t sourcetype source severity"),
            "t,sourcetype,source,severity\n1700000040.5,app:json,hec-e2e,error\n");
  EXPECT_EQ(Search("index=main | stats count"), "count\n0\n");
  // The sender's host is kept: a field, a filter, a group.
  EXPECT_EQ(Search("index=apps | stats count by host"),
            "host,count\napp-0,250\napp-1,250\napp-2,250\napp-3,250\n");
  EXPECT_EQ(Search("index=apps host=APP-2 message.seq<10 | table message.seq host"),
            "message.seq,host\n6,app-2\n2,app-2\n");

  // curl: a gzip body of concatenated events.
  {
    std::ofstream body(dir_ + "/gz.json");
    for (int i = 0; i < 50; ++i) {
      body << R"({"event":{"gz":)" << i << R"(},"time":1700001000,"sourcetype":"gz:test"})";
    }
  }
  ASSERT_EQ(RunCommand("gzip -k " + dir_ + "/gz.json").status, 0);
  auto gz = Curl(port,
                 "-H 'Authorization: Splunk " + std::string(kAppsToken) +
                     "' -H 'Content-Encoding: gzip' --data-binary @" + dir_ + "/gz.json.gz",
                 "/services/collector/event");
  EXPECT_EQ(gz.output.substr(gz.output.size() - 3), "200") << gz.output;
  EXPECT_EQ(Search("index=apps sourcetype=gz:test | stats count dc(gz)"), "count,dc(gz)\n50,50\n");
  // Events that name no host have the default one.
  EXPECT_EQ(Search("index=apps sourcetype=gz:test host=cairn | stats count"), "count\n50\n");
  auto own = Curl(port,
                  "-H 'Authorization: Splunk " + std::string(kAppsToken) +
                      "' -d '{\"event\":{\"qs\":1},\"time\":1700002000,\"sourcetype\":\"qs\"}"
                      "{\"event\":{\"qs\":2},\"time\":1700002001,\"sourcetype\":\"qs\","
                      "\"host\":\"own\",\"fields\":{\"env\":\"prod\",\"team\":[\"a\",\"b\"]}}'",
                  "/services/collector/event");
  EXPECT_EQ(own.output.substr(own.output.size() - 3), "200") << own.output;
  EXPECT_EQ(Search("index=apps sourcetype=qs | table qs host"), "qs,host\n2,own\n1,cairn\n");
  EXPECT_EQ(Search("index=apps sourcetype=qs host!=cairn | table qs"), "qs\n2\n");
  // Indexed fields are fields of their event: searched, shown, counted.
  EXPECT_EQ(Search("index=apps env=prod | table qs env team"), "qs,env,team\n2,prod,\"a\nb\"\n");
  EXPECT_EQ(Search("index=apps sourcetype=qs | stats count by team"), "team,count\na,1\nb,1\n");
  // Malformed JSON: 400 naming the byte.
  auto bad = RunCommand("curl -s -w ' %{http_code}' -H 'Authorization: Splunk " +
                        std::string(kAppsToken) + "' -d '{\"event\":\"a\"}{\"event\":}' " +
                        "http://127.0.0.1:" + std::to_string(port) + "/services/collector/event");
  EXPECT_NE(bad.output.find("\"code\":6,\"invalid-event-number\":1"), std::string::npos)
      << bad.output;
  EXPECT_NE(bad.output.find("at byte 13"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find(" 400"), std::string::npos) << bad.output;

  // No token: 401 code 2; a wrong one: 403 code 4 (Splunk's statuses).
  auto none = Curl(port, "-d '{\"event\":\"x\"}'", "/services/collector/event");
  EXPECT_EQ(none.output, "{\"text\":\"Token is required\",\"code\":2}\n401");
  auto wrong = Curl(port, "-H 'Authorization: Splunk 12345678-0000-0000-0000-000000000000' -d x",
                    "/services/collector/event");
  EXPECT_EQ(wrong.output, "{\"text\":\"Invalid token\",\"code\":4}\n403");

  // Firehose: EventBridge-wrapped CloudTrail records on /raw with a channel, acknowledged.
  {
    std::ofstream body(dir_ + "/firehose1");
    for (int i = 0; i < 30; ++i) body << Envelope(i);  // Firehose concatenates records
  }
  int ack = PostFirehose(port, dir_ + "/firehose1");
  ASSERT_GE(ack, 0);
  EXPECT_TRUE(WaitAck(port, ack));
  EXPECT_EQ(Search("index=cloudtrail sourcetype=aws:cloudtrail | stats count dc(eventID)"),
            "count,dc(eventID)\n30,30\n");
  EXPECT_EQ(Search("index=cloudtrail eventID=fh-7 | table eventName recipientAccountId"),
            "eventName,recipientAccountId\nAuthorizeSecurityGroupIngress,444455556666\n");

  // kill -9 with a batch received but not acknowledged to the sender; the sender resends it to
  // the restarted server and every event is stored once.
  {
    std::ofstream body(dir_ + "/firehose2");
    for (int i = 20; i < 60; ++i) body << Envelope(i) << "\n";
  }
  PostFirehose(port, dir_ + "/firehose2");
  serve->Kill9();
  serve->Wait();
  EXPECT_EQ(serve->err().find(kAppsToken), std::string::npos);
  EXPECT_EQ(serve->err().find(kFirehoseToken), std::string::npos);
  serve = StartServe(&port);
  ASSERT_GT(port, 0) << serve->err();
  ack = PostFirehose(port, dir_ + "/firehose2");
  EXPECT_TRUE(WaitAck(port, ack));
  EXPECT_EQ(Search("index=cloudtrail | stats count dc(eventID)"), "count,dc(eventID)\n60,60\n");

  ::kill(serve->pid(), SIGTERM);
  EXPECT_EQ(serve->Wait(), 0) << serve->err();
  EXPECT_EQ(serve->err().find(kAppsToken), std::string::npos);
  EXPECT_NE(serve->err().find("HTTP Event Collector: "), std::string::npos) << serve->err();
}

// With a certificate (serve's --tls-cert/--tls-key), the HEC port speaks HTTPS too.
TEST_F(HecE2E, TlsLikeTheManagementPort) {
  if (RunCommand("openssl version").status != 0) GTEST_SKIP() << "no openssl command";
  const std::string cert = dir_ + "/cert.pem", key = dir_ + "/key.pem";
  auto made = RunCommand(
      "openssl req -x509 -newkey rsa:2048 -nodes -days 1 -subj /CN=127.0.0.1 -addext "
      "subjectAltName=IP:127.0.0.1 -keyout " +
      key + " -out " + cert);
  ASSERT_EQ(made.status, 0) << made.output;
  int port = 0;
  auto serve = StartServe(&port, {"--tls-cert", cert, "--tls-key", key});
  ASSERT_GT(port, 0) << serve->err();
  EXPECT_NE(serve->err().find("HTTP Event Collector on https://127.0.0.1:"), std::string::npos);
  const std::string url = "https://127.0.0.1:" + std::to_string(port);
  auto r = RunCommand("curl -s --cacert " + cert + " -H 'Authorization: Splunk " +
                      std::string(kAppsToken) + "' -d '{\"event\":{\"tls\":1},\"time\":5}' " + url +
                      "/services/collector/event");
  EXPECT_EQ(r.output, R"({"text":"Success","code":0})");
  EXPECT_NE(
      RunCommand("curl -s http://127.0.0.1:" + std::to_string(port) + "/services/collector/health")
          .output,
      R"({"text":"HEC is healthy","code":17})");
  ::kill(serve->pid(), SIGTERM);
  EXPECT_EQ(serve->Wait(), 0) << serve->err();
  EXPECT_EQ(Search("index=apps tls=1 | stats count"), "count\n1\n");
}

}  // namespace
}  // namespace cairn::testing
