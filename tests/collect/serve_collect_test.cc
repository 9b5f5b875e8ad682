// `cairn serve` running the collector inside (fauxqs as S3, SQS and SNS): the events collected
// become searchable through the REST API of the same process, the web UI's status JSON shows the
// input with its counts and lag, `cairn search` keeps working beside it, and SIGTERM drains the
// collector (every message deleted) before the process exits 0.

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "cli/cli_util.h"
#include "collect/collect_fixture.h"
#include "common/fs.h"
#include "common/testing.h"

namespace cairn::testing {
namespace {

constexpr int kFiles = 40;
constexpr int kEventsPerFile = 5;

class ServeCollectTest : public FauxqsSuite {};

// The count `| stats count` answers through the REST API (oneshot, json_rows); -1 on error.
long RestCount(int port, const std::string& index) {
  auto r = RunCommand(
      "curl -s -u admin:collect-pass-1 -d exec_mode=oneshot -d output_mode=json_rows "
      "--data-urlencode 'search=search index=" +
      index + " | stats count' http://127.0.0.1:" + std::to_string(port) +
      "/services/search/v2/jobs");
  std::smatch m;
  static const std::regex kRows(R"re("rows":\[\["([0-9]+)"\]\])re");
  if (r.status != 0 || !std::regex_search(r.output, m, kRows)) return -1;
  return std::stol(m[1].str());
}

TEST_F(ServeCollectTest, CollectedEventsAreSearchableThroughRestAndSigtermDrains) {
  CAIRN_REQUIRE_FAUXQS();
  ASSERT_NE(server_, nullptr);
  if (RunCommand("curl --version").status != 0) {
    if (UnderCi()) FAIL() << "curl is not installed";
    GTEST_SKIP() << "curl is not installed";
  }
  const std::string dir = MakeTempDir("cairn_serve_collect");
  auto site = Site::Create(server_->endpoint(), "serve-queue", "serve-bucket");
  ASSERT_TRUE(site.ok()) << site.status().ToString();
  auto keys = LoadTinyFiles(site->get(), "serve", kFiles, kEventsPerFile, /*via_sns=*/true);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  const std::string conf =
      "[aws_cloudtrail://serve]\n"
      "exclude_describe_events = 0\n"
      "index = aws-cloudtrail\n"
      "interval = 1\n"
      "key_id = key\n"
      "secret_key = secret\n"
      "sqs_queue = serve-queue\n"
      "sqs_queue_region = us-west-2\n";
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), dir + "/inputs.conf", conf).ok());
  const std::string data = dir + "/data";
  CairnProcess serve(
      {"--data", data, "serve", "--config", dir + "/inputs.conf", "--port", "0", "--port-file",
       dir + "/port", "--ui-port", "0", "--ui-port-file", dir + "/ui-port"},
      dir + "/serve",
      {{"AWS_ENDPOINT_URL", server_->endpoint()},
       {"AWS_EC2_METADATA_DISABLED", "true"},
       {"CAIRN_COLLECT_WAIT_SECONDS", "1"},
       {"CAIRN_ADMIN_PASSWORD", "collect-pass-1"}});
  for (int i = 0; i < 200 && !std::filesystem::exists(dir + "/port"); ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int port = std::atoi(ReadWholeFile(dir + "/port").c_str());
  ASSERT_GT(port, 0) << serve.err();

  const long total = kFiles * kEventsPerFile;
  long seen = -1;
  for (int i = 0; i < 600 && seen != total; ++i) {
    seen = RestCount(port, "aws-cloudtrail");
    if (seen != total) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_EQ(seen, total) << serve.err();

  // The status page's JSON (web UI, logged in through its form) shows the input: its state,
  // the events it collected and its lag from the newest event.
  const std::string ui = "http://127.0.0.1:" + ReadWholeFile(dir + "/ui-port");
  const std::string ui_base = ui.substr(0, ui.find_last_not_of("\n") + 1);
  const std::string jar = dir + "/cookies";
  auto form = RunCommand("curl -s -c " + jar + " " + ui_base + "/login");
  std::smatch m;
  static const std::regex kCsrf(R"re(name="csrf" value="([0-9a-f]+)")re");
  ASSERT_TRUE(std::regex_search(form.output, m, kCsrf)) << form.output;
  auto login = RunCommand("curl -s -o /dev/null -w '%{http_code}' -b " + jar + " -c " + jar +
                          " -d username=admin -d password=collect-pass-1 -d csrf=" + m[1].str() +
                          " " + ui_base + "/login");
  EXPECT_EQ(login.output, "303");
  std::string status;
  static const std::regex kInput(
      R"re("collectors":\[\{"name":"serve","queue":"[^"]*serve-queue","region":"us-west-2","index":"aws-cloudtrail","state":"polling","polls":[1-9][0-9]*,"messages_received":([0-9]+),"messages_done":([0-9]+),"files_ingested":40,"events_collected":200,"last_poll_ms":[1-9][0-9]*,"newest_event_ms":[1-9][0-9]*,"lag_seconds":[0-9]+\.[0-9]+,"lag_basis":"newest_event",)re");
  for (int i = 0; i < 100; ++i) {
    status = RunCommand("curl -s -b " + jar + " " + ui_base + "/api/status").output;
    if (std::regex_search(status, m, kInput) && m[1].str() == m[2].str()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  EXPECT_TRUE(std::regex_search(status, m, kInput)) << status;
  EXPECT_NE(status.find("\"recent_errors\":["), std::string::npos) << status;
  EXPECT_NE(status.find("\"last_error\":\"\""), std::string::npos) << status;
  // A reader beside the server sees the same.
  auto beside = Cairn("search --data " + data +
                      " --format csv 'index=aws-cloudtrail | stats count, dc(eventID)'");
  EXPECT_EQ(beside.status, 0) << beside.err;
  EXPECT_NE(beside.out.find(std::to_string(total) + "," + std::to_string(total)), std::string::npos)
      << beside.out;

  ::kill(serve.pid(), SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << serve.err();
  EXPECT_NE(serve.err().find("serve: stopped"), std::string::npos) << serve.err();
  auto depth = (*site)->QueueDepth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(*depth, 0);
  EXPECT_EQ(CountAndDistinct(data), std::to_string(total) + "," + std::to_string(total));
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::testing
