// Collector inputs managed while `cairn serve` runs (fauxqs as S3 and SQS): an input added through
// the REST API starts collecting the CloudTrail files delivered to its queue into the store,
// without a restart; a removed one stops (files delivered after it stay on the queue) after
// finishing what it held; added again disabled it collects nothing until enabled, then exactly
// the files left (nothing lost, nothing stored twice); changed, it restarts with its new
// settings. The secret given with it appears in no
// answer and no log line. Then, when chromium and playwright-core are there, the web UI's Inputs
// page adds, disables and removes an input (tests/serve/ui_inputs_browser.mjs; screenshot
// <build>/ui-screenshots/inputs.png).

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

constexpr const char* kPassword = "inputs-pass-1";
constexpr const char* kSecret = "secret-value-never-shown-7";

class ServeInputsTest : public FauxqsSuite {};

struct Http {
  int code = 0;
  std::string body;
};

// curl against the management port as admin; `args` are curl's (method, data).
Http Rest(int port, const std::string& path, const std::string& args = "") {
  auto r = RunCommand("curl -s -w '\\n%{http_code}' -u admin:" + std::string(kPassword) + " " +
                      args + " 'http://127.0.0.1:" + std::to_string(port) + path + "'");
  Http h;
  const size_t nl = r.output.find_last_of('\n');
  if (nl == std::string::npos) return h;
  h.body = r.output.substr(0, nl);
  h.code = std::atoi(r.output.c_str() + nl + 1);
  return h;
}

long RestCount(int port, const std::string& index) {
  Http h = Rest(port, "/services/search/v2/jobs",
                "-d exec_mode=oneshot -d output_mode=json_rows --data-urlencode 'search=search "
                "index=" +
                    index + " | stats count'");
  std::smatch m;
  static const std::regex kRows(R"re("rows":\[\["([0-9]+)"\]\])re");
  if (h.code != 200 || !std::regex_search(h.body, m, kRows)) return -1;
  return std::stol(m[1].str());
}

// Waits (bounded) until `cond` holds; false if it never did.
template <typename F>
bool WaitFor(F cond, int tenths = 300) {
  for (int i = 0; i < tenths; ++i) {
    if (cond()) return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return cond();
}

// Messages visible and in flight on the site's queue (-1 on error).
int Depth(Site* site) {
  auto d = site->QueueDepth();
  return d.ok() ? *d : -1;
}

bool HaveBrowser(std::string* why) {
  if (RunCommand("node --version").status != 0) {
    *why = "node is not installed";
  } else if (!std::filesystem::exists(std::string(CAIRN_SOURCE_DIR) +
                                      "/node_modules/playwright-core/package.json")) {
    *why = "node_modules/playwright-core is missing (run npm ci)";
  } else if (!std::filesystem::exists("/usr/bin/chromium")) {
    *why = "/usr/bin/chromium is not installed (apt-get install chromium)";
  } else {
    return true;
  }
  return false;
}

TEST_F(ServeInputsTest, InputsAddedAndRemovedThroughRestCollectAndStopLive) {
  CAIRN_REQUIRE_FAUXQS();
  ASSERT_NE(server_, nullptr);
  if (RunCommand("curl --version").status != 0) {
    if (UnderCi()) FAIL() << "curl is not installed";
    GTEST_SKIP() << "curl is not installed";
  }
  const std::string dir = MakeTempDir("cairn_serve_inputs");
  auto site = Site::Create(server_->endpoint(), "managed-queue", "managed-bucket");
  ASSERT_TRUE(site.ok()) << site.status().ToString();
  const std::string data = dir + "/data";
  // No configured input: the server starts without collection.
  CairnProcess serve({"--data", data, "serve", "--port", "0", "--port-file", dir + "/port",
                      "--ui-port", "0", "--ui-port-file", dir + "/ui-port"},
                     dir + "/serve",
                     {{"AWS_ENDPOINT_URL", server_->endpoint()},
                      {"AWS_EC2_METADATA_DISABLED", "true"},
                      // The default chain's keys, for inputs given none (the UI's form).
                      {"AWS_ACCESS_KEY_ID", "key"},
                      {"AWS_SECRET_ACCESS_KEY", "secret"},
                      {"CAIRN_COLLECT_WAIT_SECONDS", "1"},
                      {"CAIRN_ADMIN_PASSWORD", kPassword}});
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(dir + "/ui-port"); }, 200))
      << serve.err();
  const int port = std::atoi(ReadWholeFile(dir + "/port").c_str());
  ASSERT_GT(port, 0) << serve.err();
  const std::string base = "/services/data/inputs/aws_sqs_based_s3";
  Http empty = Rest(port, base + "?output_mode=json");
  ASSERT_EQ(empty.code, 200) << empty.body;
  EXPECT_EQ(empty.body.find("\"name\":"), std::string::npos) << empty.body;

  // Three files on the queue, then the input: it starts collecting them.
  auto first = LoadTinyFiles(site->get(), "first", 3, 5, /*via_sns=*/false);
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  const std::string settings =
      "-d name=live --data-urlencode sqs_queue_url=" + (*site)->queue_url() +
      " -d sqs_queue_region=us-west-2 -d index=live-trail -d interval=1 "
      "-d exclude_describe_events=0 -d key_id=key -d secret_key=" +
      kSecret;
  Http bad = Rest(port, base + "?output_mode=json", settings + " -d index=Not_Valid!");
  EXPECT_EQ(bad.code, 400) << bad.body;
  EXPECT_NE(bad.body.find("index: \\\"Not_Valid!\\\" is not a valid index name"), std::string::npos)
      << bad.body;
  Http made = Rest(port, base + "?output_mode=json", settings);
  ASSERT_EQ(made.code, 201) << made.body;
  EXPECT_EQ(made.body.find(kSecret), std::string::npos) << made.body;
  EXPECT_TRUE(WaitFor([&] { return RestCount(port, "live-trail") == 15; })) << serve.err();
  Http shown;
  EXPECT_TRUE(WaitFor([&] {
    shown = Rest(port, base + "/live?output_mode=json");
    return shown.body.find("\"state\":\"polling\"") != std::string::npos &&
           shown.body.find("\"events_collected\":15") != std::string::npos &&
           shown.body.find("\"lag_seconds\":") != std::string::npos;
  })) << shown.body;
  EXPECT_TRUE(WaitFor([&] { return Depth(site->get()) == 0; }));

  // Removed: it stops after finishing what it held; files delivered later stay on the queue.
  Http removed = Rest(port, base + "/live", "-X DELETE");
  ASSERT_EQ(removed.code, 200) << removed.body;
  EXPECT_TRUE(WaitFor([&] {
    return serve.err().find("serve: managed input live stopped") != std::string::npos;
  })) << serve.err();
  EXPECT_EQ(Rest(port, base + "/live").code, 404);
  auto second = LoadTinyFiles(site->get(), "second", 2, 5, /*via_sns=*/false);
  ASSERT_TRUE(second.ok()) << second.status().ToString();
  std::this_thread::sleep_for(std::chrono::seconds(3));  // several polls' worth
  EXPECT_EQ(Depth(site->get()), 2);
  EXPECT_EQ(RestCount(port, "live-trail"), 15);

  // Added again, disabled: still nothing; enabled: exactly the two files left.
  Http again = Rest(port, base, settings + " -d disabled=1");
  ASSERT_EQ(again.code, 201) << again.body;
  std::this_thread::sleep_for(std::chrono::seconds(2));
  EXPECT_EQ(Depth(site->get()), 2);
  EXPECT_NE(Rest(port, base + "/live?output_mode=json").body.find("\"state\":\"disabled\""),
            std::string::npos);
  ASSERT_EQ(Rest(port, base + "/live/enable", "-X POST").code, 200);
  EXPECT_TRUE(WaitFor([&] { return RestCount(port, "live-trail") == 25; })) << serve.err();
  EXPECT_TRUE(WaitFor([&] { return Depth(site->get()) == 0; }));

  // Changed (another index): restarted with it; the next file goes there, the old ones stay.
  Http changed = Rest(port, base + "/live?output_mode=json", "-d index=live-two");
  ASSERT_EQ(changed.code, 200) << changed.body;
  EXPECT_NE(changed.body.find("\"index\":\"live-two\""), std::string::npos) << changed.body;
  // (The change applies once the old collector has drained: a message it received before that
  // is finished with the old settings, so the next file is sent after the restart.)
  EXPECT_TRUE(WaitFor([&] {
    return serve.err().find("managed input live started (queue " + (*site)->queue_url() +
                            ", index live-two)") != std::string::npos;
  })) << serve.err();
  auto third = LoadTinyFiles(site->get(), "third", 1, 5, /*via_sns=*/false);
  ASSERT_TRUE(third.ok()) << third.status().ToString();
  EXPECT_TRUE(WaitFor([&] { return RestCount(port, "live-two") == 5; })) << serve.err();
  EXPECT_EQ(RestCount(port, "live-trail"), 25);

  // The managed file holds it (0600), in inputs.conf form.
  const std::string file = data + "/serve/inputs.conf";
  EXPECT_NE(ReadWholeFile(file).find("[aws_sqs_based_s3://live]"), std::string::npos);

  // The web UI's Inputs page, in chromium.
  std::string why;
  if (!HaveBrowser(&why)) {
    if (UnderCi()) ADD_FAILURE() << why;
    std::fprintf(stderr, "skipping the browser step: %s\n", why.c_str());
  } else {
    const std::string shots = std::string(CAIRN_BINARY_DIR) + "/ui-screenshots";
    std::filesystem::create_directories(shots);
    std::string ui = ReadWholeFile(dir + "/ui-port");
    ui = ui.substr(0, ui.find_last_not_of("\n") + 1);
    auto run = RunCommand(
        "cd " + std::string(CAIRN_SOURCE_DIR) + " && env CAIRN_UI_URL=http://127.0.0.1:" + ui +
        " CAIRN_USER=admin CAIRN_PASSWORD=" + kPassword + " CAIRN_QUEUE=" + (*site)->queue_url() +
        " CAIRN_SHOTS=" + shots + " node tests/serve/ui_inputs_browser.mjs 2>&1");
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("all ok"), std::string::npos) << run.output;
    EXPECT_TRUE(std::filesystem::exists(shots + "/inputs.png"));
  }

  ::kill(serve.pid(), SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << serve.err();
  EXPECT_NE(serve.err().find("serve: stopped"), std::string::npos) << serve.err();
  EXPECT_EQ(serve.err().find(kSecret), std::string::npos);
  EXPECT_EQ(ReadWholeFile(dir + "/serve.out").find(kSecret), std::string::npos);
  EXPECT_EQ(CountAndDistinct(data), "30,30");
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::testing
