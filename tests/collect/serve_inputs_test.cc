// Collector inputs managed while `cairn serve` runs (fauxqs as S3 and SQS): an input added through
// the REST API starts collecting the CloudTrail files delivered to its queue into the store,
// without a restart; a removed one stops (files delivered after it stay on the queue) after
// finishing what it held; added again disabled it collects nothing until enabled, then exactly
// the files left (nothing lost, nothing stored twice); changed, it restarts with its new
// settings. The secret given with it appears in no
// answer and no log line. Then, when chromium and playwright-core are there, the web UI's Inputs
// page adds an input with static keys, replaces and clears them (the secrets shown nowhere),
// disables and removes it (tests/serve/ui_inputs_browser.mjs; screenshots
// <build>/ui-screenshots/inputs.png and inputs-keys.png).
// A managed input also publishes its collector's metrics on the server's one Prometheus endpoint
// (labelled input="NAME", gone once it is removed) and runs continuous digest verification as the
// configured collector does: a digest whose log file was changed raises its alert.

#include <gtest/gtest.h>

#include <filesystem>
#include <regex>
#include <string>

#include "cli/cli_util.h"
#include "collect/collect_fixture.h"
#include "common/fs.h"
#include "common/testing.h"
#include "verify/crypto.h"
#include "verify/digest_writer.h"

namespace cairn::testing {
namespace {

constexpr const char* kPassword = "inputs-pass-1";
constexpr const char* kSecret = "secret-value-never-shown-7";
// The secret keys the browser test sets through the Inputs page's form.
constexpr const char* kUiSecrets[] = {"ui-secret-first-never-shown-8",
                                      "ui-secret-second-never-shown-9"};

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
        " CAIRN_SECRETS=" + kUiSecrets[0] + "," + kUiSecrets[1] + " CAIRN_SHOTS=" + shots +
        " node tests/serve/ui_inputs_browser.mjs 2>&1");
    EXPECT_EQ(run.status, 0) << run.output;
    EXPECT_NE(run.output.find("all ok"), std::string::npos) << run.output;
    EXPECT_TRUE(std::filesystem::exists(shots + "/inputs.png"));
    EXPECT_TRUE(std::filesystem::exists(shots + "/inputs-keys.png"));
  }

  ::kill(serve.pid(), SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << serve.err();
  EXPECT_NE(serve.err().find("serve: stopped"), std::string::npos) << serve.err();
  for (const char* secret : {kSecret, kUiSecrets[0], kUiSecrets[1]}) {
    EXPECT_EQ(serve.err().find(secret), std::string::npos) << secret;
    EXPECT_EQ(ReadWholeFile(dir + "/serve.out").find(secret), std::string::npos) << secret;
  }
  EXPECT_EQ(CountAndDistinct(data), "30,30");
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

// The value of the sample `series` (as written, labels included) in a metrics page; -1 if absent.
double Sample(const std::string& page, const std::string& series) {
  const std::string head = "\n" + series + " ";
  const size_t at = page.find(head);
  if (at == std::string::npos) return -1;
  return std::atof(page.c_str() + at + head.size());
}

size_t Occurrences(const std::string& text, const std::string& what) {
  size_t n = 0;
  for (size_t at = text.find(what); at != std::string::npos; at = text.find(what, at + 1)) ++n;
  return n;
}

TEST_F(ServeInputsTest, ManagedInputHasMetricsAndDigestVerification) {
  CAIRN_REQUIRE_FAUXQS();
  ASSERT_NE(server_, nullptr);
  if (RunCommand("curl --version").status != 0) {
    if (UnderCi()) FAIL() << "curl is not installed";
    GTEST_SKIP() << "curl is not installed";
  }
  const std::string dir = MakeTempDir("cairn_serve_inputs_metrics");
  const std::string bucket = "verified-bucket";
  auto site = Site::Create(server_->endpoint(), "verified-queue", bucket);
  ASSERT_TRUE(site.ok()) << site.status().ToString();
  const std::string data = dir + "/data";

  // A test-side CloudTrail: three log files and the signed digest listing them; the second file is
  // changed after the digest recorded its hash. The public key is in the data folder's key cache.
  auto key = verify::GenerateRsaKey();
  ASSERT_TRUE(key.ok());
  verify::DigestSigner signer = verify::MakeSigner(std::move(key).value());
  ASSERT_TRUE(FileSystem::Default()->CreateDirs(data + "/verify/public-keys").ok());
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(),
                              data + "/verify/public-keys/" + signer.fingerprint + ".der",
                              signer.public_der)
                  .ok());
  verify::DigestInput in;
  in.bucket = bucket;
  in.account = "111122223333";
  in.region = "us-west-2";
  in.trail = "main-trail";
  in.home_region = "us-west-2";
  in.start_ms = 1688990400000;  // 2023-07-10T12:00:00Z
  in.end_ms = in.start_ms + 3600000LL;
  std::vector<std::string> delivered;
  for (int f = 0; f < 3; ++f) {
    const std::string tag = "verified" + std::to_string(f);
    const std::string object =
        "AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/10/"
        "111122223333_CloudTrail_us-west-2_20230710T1200Z_" +
        tag + ".json.gz";
    std::string text = TinyLogFile(tag, 5);
    verify::DigestLogFile lf;
    lf.s3_bucket = bucket;
    lf.s3_object = object;
    lf.hash_value = verify::Sha256Hex(text);
    lf.hash_algorithm = "SHA-256";
    in.log_files.push_back(lf);
    if (f == 1) text = TinyLogFile(tag, 4);  // changed after delivery
    ASSERT_TRUE((*site)->Put(object, Gzip(text)).ok());
    delivered.push_back(object);
  }
  auto digest = verify::MakeDigest(in, nullptr, signer);
  ASSERT_TRUE(digest.ok()) << digest.status().ToString();
  ASSERT_TRUE((*site)
                  ->s3()
                  .PutObject(bucket, digest->key, digest->gz, "application/x-gzip",
                             {{"signature", digest->signature_hex}})
                  .ok());
  delivered.push_back(digest->key);
  ASSERT_TRUE((*site)->AnnounceRaw(delivered).ok());

  CairnProcess serve({"--data", data, "serve", "--port", "0", "--port-file", dir + "/port",
                      "--ui-port", "-1", "--metrics", "127.0.0.1:0"},
                     dir + "/serve",
                     {{"AWS_ENDPOINT_URL", server_->endpoint()},
                      {"AWS_EC2_METADATA_DISABLED", "true"},
                      {"CAIRN_COLLECT_WAIT_SECONDS", "1"},
                      {"CAIRN_COLLECT_INTEGRITY_INTERVAL", "1s"},
                      {"CAIRN_COLLECT_INTEGRITY_LOOKBACK", "175200h"},  // the digest is from 2023
                      // (a listed file not stored yet is pending, not missing)
                      {"CAIRN_COLLECT_INTEGRITY_GRACE", "175200h"},
                      {"CAIRN_ADMIN_PASSWORD", kPassword}});
  ASSERT_TRUE(WaitFor([&] { return std::filesystem::exists(dir + "/port"); }, 200)) << serve.err();
  const int port = std::atoi(ReadWholeFile(dir + "/port").c_str());
  ASSERT_GT(port, 0) << serve.err();
  std::smatch m;
  ASSERT_TRUE(WaitFor([&] {
    const std::string log = serve.err();
    return std::regex_search(log, m,
                             std::regex("metrics on http://127\\.0\\.0\\.1:([0-9]+)/metrics"));
  })) << serve.err();
  const std::string metrics_url = "http://127.0.0.1:" + m[1].str() + "/metrics";
  auto scrape = [&] { return RunCommand("curl -s " + metrics_url).output; };
  EXPECT_EQ(scrape().find("cairn_collect_"), std::string::npos) << "no collector runs yet";

  const std::string base = "/services/data/inputs/aws_sqs_based_s3";
  Http made = Rest(port, base + "?output_mode=json",
                   "-d name=verified --data-urlencode sqs_queue_url=" + (*site)->queue_url() +
                       " -d sqs_queue_region=us-west-2 -d index=verified -d interval=1 "
                       "-d exclude_describe_events=0 -d key_id=key -d secret_key=secret");
  ASSERT_EQ(made.code, 201) << made.body;
  EXPECT_TRUE(WaitFor([&] { return RestCount(port, "verified") == 14; })) << serve.err();

  // Its collector's series, labelled with its name, once the digest was checked after the files
  // were stored: two files match their digest, the changed one does not; two alerts, log_modified
  // and digest_late (the trail's last digest is from 2023).
  std::string page;
  EXPECT_TRUE(WaitFor([&] {
    page = scrape();
    return Sample(page, "cairn_integrity_files_matched{input=\"verified\"}") == 2 &&
           Sample(page, "cairn_integrity_alerts_total{input=\"verified\",source=\"digests\"}") == 2;
  })) << page;
  EXPECT_EQ(Sample(page, "cairn_collect_events_total{input=\"verified\",outcome=\"stored\"}"), 14)
      << page;
  EXPECT_EQ(Sample(page, "cairn_collect_files_total{input=\"verified\",outcome=\"ingested\"}"), 3);
  EXPECT_EQ(Sample(page, "cairn_collect_files_total{input=\"verified\",outcome=\"digest\"}"), 1);
  EXPECT_EQ(Sample(page, "cairn_collect_messages_total{input=\"verified\",outcome=\"deleted\"}"),
            1);
  EXPECT_GT(Sample(page, "cairn_collect_lag_seconds{input=\"verified\"}"), 3600.0 * 24 * 365)
      << "its newest event is from 2023";
  EXPECT_GE(Sample(page, "cairn_integrity_passes_total{input=\"verified\"}"), 1);
  EXPECT_EQ(Sample(page, "cairn_collect_delivery_latency_seconds_count{input=\"verified\"}"), 1);
  // One family each (one TYPE line), the server's own metrics after them.
  EXPECT_EQ(Occurrences(page, "# TYPE cairn_collect_lag_seconds "), 1u) << page;
  EXPECT_EQ(Occurrences(page, "# TYPE cairn_collect_events_total "), 1u) << page;
  EXPECT_GT(Sample(page, "cairn_serve_requests_total"), 0) << page;
  // The alert, as the configured collector stores it, and its log line.
  Http alert =
      Rest(port, "/services/search/v2/jobs",
           "-d exec_mode=oneshot -d output_mode=json_rows --data-urlencode "
           "'search=search index=alerts rule_id=\"integrity:log_modified\" | stats count'");
  EXPECT_NE(alert.body.find("\"rows\":[[\"1\"]]"), std::string::npos) << alert.body;
  EXPECT_NE(serve.err().find("integrity: log_modified: " + bucket + "/" + delivered[1]),
            std::string::npos)
      << serve.err();

  // Removed: its series go once it has stopped.
  ASSERT_EQ(Rest(port, base + "/verified", "-X DELETE").code, 200);
  EXPECT_TRUE(WaitFor([&] {
    return serve.err().find("serve: managed input verified stopped") != std::string::npos;
  })) << serve.err();
  page = scrape();
  EXPECT_EQ(page.find("input=\"verified\""), std::string::npos) << page;
  EXPECT_GT(Sample(page, "cairn_serve_requests_total"), 0) << page;

  ::kill(serve.pid(), SIGTERM);
  EXPECT_EQ(serve.Wait(), 0) << serve.err();
  if (!HasFailure()) std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::testing
