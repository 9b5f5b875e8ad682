// `cairn report cis --format html` over generated data plus two trail changes (one with markup in
// its user ARN), rendered in Debian's chromium headless through playwright-core
// (tests/alerts/cis_html_browser.mjs) with the network refused; the screenshot lands in
// <build>/report-screenshots/cis.png. Also: `cairn report cis` is `cairn alerts report cis`.
//
// Needs node, node_modules/playwright-core (npm ci), /usr/bin/chromium and gzip: without them the
// browser part skips with a message, and fails under CI (CI=true).

#include <filesystem>
#include <fstream>

#include "cli/cli_util.h"

namespace cairn::testing {
namespace {

std::string Tools() {
  if (RunCommand("node --version").status != 0) return "node is not installed";
  if (!std::filesystem::exists(std::string(CAIRN_SOURCE_DIR) +
                               "/node_modules/playwright-core/package.json")) {
    return "node_modules/playwright-core is missing (run npm ci)";
  }
  if (!std::filesystem::exists("/usr/bin/chromium")) return "/usr/bin/chromium is not installed";
  return "";
}

TEST(CisHtml, ReportRendersInChromium) {
  if (RunCommand("gzip --version").status != 0) GTEST_SKIP() << "gzip missing";
  const std::string dir = MakeTempDir("cairn_cis_html");
  const std::string data = dir + "/data";
  auto gen = Cairn("generate --out " + dir +
                   "/gen --events 5000 --days 2 --start 2024-03-01T00:00:00Z --seed 7");
  ASSERT_EQ(gen.status, 0) << gen.err;
  const std::string logs = dir + "/x/AWSLogs/111122223333/CloudTrail/us-east-1/2024/03/01";
  std::filesystem::create_directories(logs);
  {
    std::ofstream out(dir + "/x.json");
    out << R"({"Records":[)";
    const char* names[] = {"StopLogging", "DeleteTrail"};
    for (int i = 0; i < 2; ++i) {
      out << (i ? "," : "") << R"({"eventVersion":"1.08","eventTime":"2024-03-01T12:0)" << i
          << R"(:00Z","eventSource":"cloudtrail.amazonaws.com","eventName":")" << names[i]
          << R"(","awsRegion":"us-east-1","sourceIPAddress":"203.0.113.9","eventID":"cis-html-)"
          << i
          << R"(","eventType":"AwsApiCall","recipientAccountId":"111122223333","userIdentity":)"
             R"({"type":"IAMUser","arn":"arn:aws:iam::111122223333:user/<img src=x )"
             R"(onerror=window.__xss=2>","accountId":"111122223333"}})";
    }
    out << "]}";
  }
  ASSERT_EQ(RunCommand("gzip -c " + dir + "/x.json > " + logs +
                       "/111122223333_CloudTrail_us-east-1_20240301T1200Z_x.json.gz")
                .status,
            0);
  for (const std::string& from : {dir + "/gen/AWSLogs", dir + "/x/AWSLogs"}) {
    auto r = Cairn("ingest --no-progress --data " + data + " " + from);
    ASSERT_EQ(r.status, 0) << r.err;
  }
  const std::string range =
      " --data " + data + " --earliest 2024-03-01T00:00:00Z --latest 2024-03-03T00:00:00Z";
  // The alias prints what `alerts report` prints.
  auto alias = Cairn("report cis --format json" + range);
  auto full = Cairn("alerts report cis --format json" + range);
  EXPECT_EQ(alias.out, full.out);
  EXPECT_NE(alias.out.find("\"4.15\""), std::string::npos) << alias.out << alias.err;
  auto html = Cairn("report cis --format html" + range);
  ASSERT_NE(html.status, 2) << html.err;  // 1 when a control's search failed
  EXPECT_EQ(html.out.rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(html.out.find("<img src=x"), std::string::npos);  // escaped
  EXPECT_NE(html.out.find("&lt;img src=x onerror=window.__xss=2&gt;"), std::string::npos);
  EXPECT_EQ(html.out.find("<script"), std::string::npos);
  EXPECT_EQ(html.out.find("http://", 0), html.out.find("http://www.w3.org/2000/svg"));
  const std::string report = dir + "/cis.html";
  std::ofstream(report) << html.out;

  const std::string why = Tools();
  if (!why.empty()) {
    if (UnderCi()) FAIL() << why;
    GTEST_SKIP() << why;
  }
  const std::string shots = std::string(CAIRN_BINARY_DIR) + "/report-screenshots";
  std::filesystem::create_directories(shots);
  std::filesystem::remove(shots + "/cis.png");
  auto run =
      RunCommand("cd " + std::string(CAIRN_SOURCE_DIR) + " && env CAIRN_REPORT=" + report +
                 " CAIRN_SHOT=" + shots + "/cis.png node tests/alerts/cis_html_browser.mjs 2>&1");
  EXPECT_EQ(run.status, 0) << run.output;
  EXPECT_NE(run.output.find("all ok"), std::string::npos) << run.output;
  EXPECT_TRUE(std::filesystem::exists(shots + "/cis.png"));
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::testing
