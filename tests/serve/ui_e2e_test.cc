// The web UI end to end: `cairn serve` on 127.0.0.1 (both ports 0) over a store from `cairn
// generate` + `cairn ingest` plus one event whose fields hold markup, driven by Debian's chromium
// headless through playwright-core (tests/serve/ui_browser.mjs): login, search counts equal to
// `cairn search`, the timeline, a field value narrowing the search, the markup event shown as
// text, timechart and stats charts, CSV export, saving and reopening a search, the AWS overview,
// logout. Screenshots land in <build>/ui-screenshots/.
//
// Needs node, node_modules/playwright-core (npm ci) and /usr/bin/chromium: without them the test
// skips with a message, and fails under CI (CI=true).

#include <filesystem>
#include <fstream>

#include "cli/cli_util.h"

namespace cairn::testing {
namespace {

const char* kPassword = "ui-e2e-secret";

bool HaveTools(std::string* why) {
  if (RunCommand("node --version").status != 0) {
    *why = "node is not installed";
    return false;
  }
  if (!std::filesystem::exists(std::string(CAIRN_SOURCE_DIR) +
                               "/node_modules/playwright-core/package.json")) {
    *why = "node_modules/playwright-core is missing (run npm ci)";
    return false;
  }
  if (!std::filesystem::exists("/usr/bin/chromium")) {
    *why = "/usr/bin/chromium is not installed (apt-get install chromium)";
    return false;
  }
  if (RunCommand("gzip --version").status != 0) {
    *why = "gzip is not installed";
    return false;
  }
  return true;
}

TEST(UiE2E, BrowserSessionMatchesCairnSearch) {
  std::string why;
  if (!HaveTools(&why)) {
    if (UnderCi()) FAIL() << why;
    GTEST_SKIP() << why;
  }
  const std::string dir = MakeTempDir("cairn_ui_e2e");
  const std::string data = dir + "/data";
  auto gen = Cairn("generate --out " + dir + "/logs --events 3000 --threads 2 --seed 11");
  ASSERT_EQ(gen.status, 0) << gen.err;
  auto ing = Cairn("ingest --data " + data + " --no-progress --threads 2 " + dir + "/logs/AWSLogs");
  ASSERT_EQ(ing.status, 0) << ing.err;
  // One event whose fields hold markup that would run if the page put values in as HTML, at the
  // time of a generated one (so that the time range stays the generated data's).
  auto newest =
      Cairn("search --data " + data + " --format json 'index=* | head 1 | table eventTime'");
  ASSERT_EQ(newest.status, 0) << newest.err;
  const size_t t_at = newest.out.find("\"eventTime\":\"");
  ASSERT_NE(t_at, std::string::npos) << newest.out;
  const std::string event_time = newest.out.substr(t_at + 13, 20);
  {
    std::ofstream out(dir + "/xss.json");
    out << R"({"Records":[{"eventVersion":"1.08","eventTime":")" << event_time
        << R"(",)"
           R"("eventSource":"iam.amazonaws.com","eventName":"XssProbe","awsRegion":"us-east-1",)"
           R"("sourceIPAddress":"203.0.113.9","userAgent":"<script>window.__xss=1</script>",)"
           R"("eventID":"0b8f6f0e-0000-4000-8000-00000000a551","eventType":"AwsApiCall",)"
           R"("recipientAccountId":"111122223333","userIdentity":{"type":"IAMUser",)"
           R"("arn":"arn:aws:iam::111122223333:user/<img src=x onerror=window.__xss=2>",)"
           R"("accountId":"111122223333"}}]})";
  }
  const std::string xss_dir = dir + "/xss/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01";
  std::filesystem::create_directories(xss_dir);
  ASSERT_EQ(RunCommand("gzip -c " + dir + "/xss.json > " + xss_dir +
                       "/111122223333_CloudTrail_us-east-1_20240301T1200Z_xss.json.gz")
                .status,
            0);
  auto ing2 = Cairn("ingest --data " + data + " --no-progress " + dir + "/xss/AWSLogs");
  ASSERT_EQ(ing2.status, 0) << ing2.err;

  const std::string port_file = dir + "/ui-port";
  const std::string api_port_file = dir + "/api-port";
  CairnProcess serve({"serve", "--data", data, "--port", "0", "--port-file", api_port_file,
                      "--ui-port", "0", "--ui-port-file", port_file},
                     dir + "/serve", {{"CAIRN_ADMIN_PASSWORD", kPassword}});
  for (int i = 0;
       i < 200 && !(std::filesystem::exists(port_file) && std::filesystem::exists(api_port_file));
       ++i) {
    if (!serve.Running()) break;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const int port = std::atoi(ReadWholeFile(port_file).c_str());
  ASSERT_GT(port, 0) << serve.err();
  const int api_port = std::atoi(ReadWholeFile(api_port_file).c_str());
  ASSERT_GT(api_port, 0) << serve.err();
  EXPECT_NE(serve.err().find("web UI on http://127.0.0.1:" + std::to_string(port)),
            std::string::npos);

  const std::string shots = std::string(CAIRN_BINARY_DIR) + "/ui-screenshots";
  std::filesystem::create_directories(shots);
  auto run = RunCommand("cd " + std::string(CAIRN_SOURCE_DIR) +
                        " && env CAIRN_UI_URL=http://127.0.0.1:" + std::to_string(port) +
                        " CAIRN_API_URL=http://127.0.0.1:" + std::to_string(api_port) +
                        " CAIRN_USER=admin CAIRN_PASSWORD=" + kPassword +
                        " CAIRN_BIN=" + CairnBinary() + " CAIRN_DATA=" + data +
                        " CAIRN_SHOTS=" + shots + " node tests/serve/ui_browser.mjs 2>&1");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("all ok"), std::string::npos) << run.output;
  for (const char* png :
       {"login.png", "search.png", "editor.png", "narrowed.png", "xss.png", "timechart.png",
        "columns.png", "bar.png", "pie.png", "zoomed.png", "saved.png", "aws.png", "users.png"}) {
    EXPECT_TRUE(std::filesystem::exists(shots + "/" + png)) << png;
  }

  ::kill(serve.pid(), SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << serve.err();
  EXPECT_EQ(serve.err().find(kPassword), std::string::npos);
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::testing
