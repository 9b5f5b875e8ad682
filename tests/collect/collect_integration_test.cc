// The collector against the fauxqs emulator, configured by the original site's inputs.conf (its
// endpoints from AWS_ENDPOINT_URL): CloudTrail notifications through five regions' SNS topics into
// one us-west-2 queue, every other notification shape, a poison file, a digest file, garbage.
// Afterwards every event is stored exactly once, the queue is empty and the bad things are kept
// in quarantine.

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <thread>

#include "collect/backfill.h"
#include "collect/collect_fixture.h"
#include "collect/collector.h"
#include "collect/conf.h"
#include "collect/fault_proxy.h"
#include "collect/ledger.h"
#include "collect/site_conf_testdata.h"
#include "common/fs.h"
#include "common/testing.h"
#include "common/time_util.h"
#include "store/testing_fs.h"

namespace cairn::collect {
namespace {

using cairn::testing::FauxqsServer;
using cairn::testing::Site;

class CollectIntegrationTest : public cairn::testing::FauxqsSuite {
 protected:
  void SetUp() override {
    FauxqsSuite::SetUp();
    dir_ = cairn::testing::MakeTempDir("cairn_collect");
  }
  void TearDown() override {
    if (!HasFailure()) FileSystem::Default()->RemoveAll(dir_);
  }

  CollectConfig SiteConfig() {
    std::string path = dir_ + "/inputs.conf";
    EXPECT_TRUE(WriteFileAtomic(FileSystem::Default(), path, kSiteConf).ok());
    ::setenv("AWS_ENDPOINT_URL", server_->endpoint().c_str(), 1);
    ::setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
    Config global;
    auto cfg = LoadCollectConfig(path, global);
    EXPECT_TRUE(cfg.ok()) << cfg.status().ToString();
    cfg->settings.wait_seconds = 1;
    cfg->settings.max_attempts = 2;
    cfg->settings.visibility_timeout_s = 20;
    cfg->settings.heartbeat_ms = 1000;
    cfg->settings.status_interval_ms = 0;
    cfg->settings.metrics_listen = "127.0.0.1:0";
    return *cfg;
  }

  std::string dir_;
};

TEST_F(CollectIntegrationTest, SiteTopologyEveryShapeExactlyOnce) {
  CAIRN_REQUIRE_FAUXQS();
  CAIRN_REQUIRE_SHARED_DATA();
  ASSERT_NE(server_, nullptr);
  auto site_r =
      Site::Create(server_->endpoint(), "its-aws-idg-cloudtrail", "its-aws-idg-cloudtrail-logs");
  ASSERT_TRUE(site_r.ok()) << site_r.status().ToString();
  Site& site = **site_r;

  // The test-side CloudTrail: every invictus file gzipped into the real key layout.
  std::vector<std::string> files = cairn::testing::InvictusFiles();
  ASSERT_GE(files.size(), 50u);
  std::vector<std::string> keys;
  std::vector<std::string> regions;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string name = BaseName(files[i]);
    std::string region = cairn::testing::RegionOfFileName(name);
    std::string key = "AWSLogs/218007301253/CloudTrail/" + region + "/2023/07/10/" + name + ".gz";
    if (i == 31)
      key =
          "AWSLogs/218007301253/CloudTrail/" + region + "/2023/07/10/odd name+plus=" + name + ".gz";
    auto body = ReadFileToString(FileSystem::Default(), files[i]);
    ASSERT_TRUE(body.ok());
    ASSERT_TRUE(site.Put(key, cairn::testing::Gzip(*body)).ok()) << key;
    keys.push_back(key);
    regions.push_back(region);
  }
  const auto& site_regions = cairn::testing::SiteRegions();
  // 0..29: CloudTrail's notification through each region's SNS topic, three keys per message.
  for (size_t i = 0; i < 30; i += 3) {
    const std::string& topic_region = site_regions[(i / 3) % site_regions.size()];
    ASSERT_TRUE(site.AnnounceViaSns(topic_region, {keys[i], keys[i + 1], keys[i + 2]}).ok());
  }
  // 30..37: S3 event notifications straight to the queue (URL-encoded keys).
  ASSERT_TRUE(site.AnnounceS3Event({keys[30], keys[31], keys[32]}).ok());
  for (size_t i = 33; i < 38; ++i) ASSERT_TRUE(site.AnnounceS3Event({keys[i]}).ok());
  // 38..43: S3 events through SNS.
  for (size_t i = 38; i < 44; ++i)
    ASSERT_TRUE(site.AnnounceS3Event({keys[i]}, site_regions[i % 5]).ok());
  // 44..49: EventBridge Object Created.
  for (size_t i = 44; i < 50; ++i) ASSERT_TRUE(site.AnnounceEventBridge(keys[i]).ok());
  // The rest: one raw CloudTrail notification naming them all.
  ASSERT_TRUE(site.AnnounceRaw(std::vector<std::string>(keys.begin() + 50, keys.end())).ok());
  // Redelivery of something already announced.
  ASSERT_TRUE(site.AnnounceViaSns("eu-west-1", {keys[4]}).ok());
  // s3:TestEvent raw and through SNS; an ObjectRemoved event; garbage.
  ASSERT_TRUE(
      site.Send(
              R"({"Service":"Amazon S3","Event":"s3:TestEvent","Bucket":"its-aws-idg-cloudtrail-logs"})")
          .ok());
  ASSERT_TRUE(
      site.sns()
          .Publish(site.topic("sa-east-1"), R"({"Service":"Amazon S3","Event":"s3:TestEvent"})")
          .ok());
  ASSERT_TRUE(
      site.Send(
              R"({"Records":[{"eventSource":"aws:s3","eventName":"ObjectRemoved:Delete","s3":{"bucket":{"name":"b"},"object":{"key":"k"}}}]})")
          .ok());
  ASSERT_TRUE(site.Send("hello, not a notification").ok());
  // A poison file: a truncated gzip.
  {
    auto body = ReadFileToString(FileSystem::Default(), files[0]);
    std::string gz = cairn::testing::Gzip(*body);
    std::string poison = "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/poison.json.gz";
    ASSERT_TRUE(site.Put(poison, gz.substr(0, gz.size() / 2)).ok());
    ASSERT_TRUE(site.AnnounceViaSns("us-west-1", {poison}).ok());
  }
  // A digest file goes to the integrity verifier's area.
  {
    auto digest = ReadFileToString(
        FileSystem::Default(),
        cairn::testing::SharedDataDir() +
            "/cloudtrail/aws-docs/"
            "cloudtrail-log-file-validation-digest-file-structure__2__digest.json");
    ASSERT_TRUE(digest.ok());
    std::string key =
        "AWSLogs/218007301253/CloudTrail-Digest/us-east-1/2023/07/10/"
        "218007301253_CloudTrail-Digest_us-east-1_trail_us-east-1_20230710T120000Z.json.gz";
    ASSERT_TRUE(site.Put(key, cairn::testing::Gzip(*digest)).ok());
    ASSERT_TRUE(site.AnnounceS3Event({key}).ok());
  }

  CollectorOptions options;
  options.data_dir = dir_ + "/data";
  options.config = SiteConfig();
  options.until_idle = 6;
  Collector collector(std::move(options));
  auto sum = collector.Run();
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  Metrics* m = collector.metrics();

  auto expected = cairn::testing::EventIdsOfFiles(files);
  auto stored = cairn::testing::StoredEventIds(dir_ + "/data", "aws-cloudtrail");
  std::set<std::pair<std::string, std::string>> expected_set(expected.begin(), expected.end());
  EXPECT_EQ(stored.size(), expected_set.size()) << "every event exactly once";
  std::set<std::pair<std::string, std::string>> stored_set(stored.begin(), stored.end());
  EXPECT_TRUE(stored_set == expected_set);
  EXPECT_EQ(m->events_stored.load(), expected_set.size());
  EXPECT_EQ(m->files_ingested.load(), files.size());
  EXPECT_GE(m->files_skipped.load(), 1u) << "the redelivered key is skipped by the ledger";
  EXPECT_EQ(m->messages_test.load(), 2u);
  EXPECT_EQ(m->messages_invalid.load(), 1u);
  EXPECT_EQ(m->files_quarantined.load(), 1u);
  EXPECT_EQ(m->files_digest.load(), 1u);
  auto depth = site.QueueDepth();
  ASSERT_TRUE(depth.ok());
  EXPECT_EQ(*depth, 0) << "the queue is drained";

  // Quarantine: the garbage message and the poison file, each with its reason.
  auto msgs = FileSystem::Default()->ListDir(dir_ + "/data/quarantine/messages");
  ASSERT_TRUE(msgs.ok());
  ASSERT_EQ(msgs->size(), 1u);
  auto kept = ReadFileToString(FileSystem::Default(),
                               dir_ + "/data/quarantine/messages/" + (*msgs)[0].name);
  EXPECT_NE(kept->find("hello, not a notification"), std::string::npos);
  EXPECT_NE(kept->find("not JSON"), std::string::npos);
  auto qfiles = FileSystem::Default()->ListDir(dir_ + "/data/quarantine/files");
  ASSERT_TRUE(qfiles.ok());
  bool found_reason = false;
  for (const auto& f : *qfiles) {
    if (f.name.size() > 5 && f.name.substr(f.name.size() - 5) == ".json") {
      auto t = ReadFileToString(FileSystem::Default(), dir_ + "/data/quarantine/files/" + f.name);
      found_reason = t->find("poison.json.gz") != std::string::npos &&
                     t->find("\"attempts\":2") != std::string::npos;
    }
  }
  EXPECT_TRUE(found_reason);
  EXPECT_TRUE(FileSystem::Default()->Exists(
      dir_ +
      "/data/digests/its-aws-idg-cloudtrail-logs/AWSLogs/218007301253/CloudTrail-Digest/us-east-1/"
      "2023/07/10/"
      "218007301253_CloudTrail-Digest_us-east-1_trail_us-east-1_20230710T120000Z.json"));
  // The ledger knows every log file.
  auto ledger = Ledger::Open(FileSystem::Default(), dir_ + "/data/ledger.log");
  ASSERT_TRUE(ledger.ok());
  for (const auto& k : keys)
    EXPECT_TRUE((*ledger)->Contains("its-aws-idg-cloudtrail-logs", k, "")) << k;
}

// S3 keys that try to leave the data folder — "..", a leading '/', percent-encoded dots,
// backslashes, very long names — for digest files and for quarantined objects: everything the
// collector writes stays under <data>, each digest is kept (under its sanitised name) and each
// poison object is quarantined once.
TEST_F(CollectIntegrationTest, HostileKeysNeverLeaveTheDataFolder) {
  CAIRN_REQUIRE_FAUXQS();
  ASSERT_NE(server_, nullptr);
  auto site_r = Site::Create(server_->endpoint(), "its-aws-idg-cloudtrail", "hostile-keys");
  ASSERT_TRUE(site_r.ok()) << site_r.status().ToString();
  Site& site = **site_r;
  // From <data>/digests/<bucket>/AWSLogs/1/CloudTrail-Digest/, six ".." reach the folder that
  // holds <data> (the sandbox): the old join of the key wrote there.
  const std::string up = "../../../../../../";
  const std::vector<std::string> tails = {
      up + "escaped.json.gz",
      "/" + up + "abs.json.gz",
      "%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/%2e%2e/pct.json.gz",
      "..%2F..%2F..%2F..%2F..%2F..%2Fslash.json.gz",
      "..\\..\\..\\..\\..\\..\\back.json.gz",
      std::string(3000, 'L') + ".json.gz",
  };
  const std::string digest =
      R"({"awsAccountId":"1","digestStartTime":"2023-07-10T11:00:00Z",)"
      R"("digestEndTime":"2023-07-10T12:00:00Z","digestS3Bucket":"hostile-keys","logFiles":[]})";
  std::vector<std::string> digest_keys, poison_keys;
  for (const std::string& tail : tails) {
    digest_keys.push_back("AWSLogs/1/CloudTrail-Digest/" + tail);
    poison_keys.push_back("AWSLogs/1/CloudTrail/us-east-1/2023/07/10/" + tail);
  }
  for (const auto& k : digest_keys) {
    ASSERT_TRUE(site.Put(k, cairn::testing::Gzip(digest)).ok()) << k;
  }
  const std::string poison = cairn::testing::Gzip(cairn::testing::TinyLogFile("p", 3));
  for (const auto& k : poison_keys) {
    ASSERT_TRUE(site.Put(k, poison.substr(0, poison.size() / 2)).ok()) << k;
  }
  ASSERT_TRUE(site.AnnounceRaw(digest_keys).ok());
  ASSERT_TRUE(site.AnnounceRaw(poison_keys).ok());

  const std::string sandbox = dir_ + "/sandbox";
  const std::string data = sandbox + "/data";
  CollectorOptions options;
  options.data_dir = data;
  options.config = SiteConfig();
  options.until_idle = 6;
  Collector collector(std::move(options));
  auto sum = collector.Run();
  ASSERT_TRUE(sum.ok()) << sum.status().ToString();
  EXPECT_EQ(collector.metrics()->files_digest.load(), digest_keys.size());
  EXPECT_EQ(collector.metrics()->files_quarantined.load(), poison_keys.size());

  // Nothing outside <data>; every digest under <data>/digests with the digest's bytes.
  size_t digests = 0, kept = 0;
  for (const auto& e : std::filesystem::recursive_directory_iterator(sandbox)) {
    const std::string p = e.path().string();
    EXPECT_TRUE(p == data || p.starts_with(data + "/")) << "written outside the data folder: " << p;
    if (!e.is_regular_file()) continue;
    EXPECT_LE(e.path().filename().string().size(), 255u) << p;
    if (p.starts_with(data + "/digests/") && p.ends_with(".meta")) {
      // The sidecar of a saved digest (collect/integrity.h): beside its digest.
      EXPECT_TRUE(std::filesystem::exists(p.substr(0, p.size() - 5))) << p;
    } else if (p.starts_with(data + "/digests/")) {
      ++digests;
      EXPECT_EQ(*ReadFileToString(FileSystem::Default(), p), digest) << p;
    }
    if (p.starts_with(data + "/quarantine/files/") && p.ends_with(".data")) ++kept;
  }
  EXPECT_EQ(digests, digest_keys.size());
  EXPECT_EQ(kept, poison_keys.size());
}

std::string HttpGet(int port, const std::string& path) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0) {
    ::close(fd);
    return "";
  }
  std::string req = "GET " + path + " HTTP/1.0\r\nHost: x\r\n\r\n";
  (void)::send(fd, req.data(), req.size(), 0);
  std::string out;
  char buf[4096];
  ssize_t n;
  while ((n = ::recv(fd, buf, sizeof(buf), 0)) > 0) out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

TEST_F(CollectIntegrationTest, MetricsAreScrapedWhileRunning) {
  CAIRN_REQUIRE_FAUXQS();
  CAIRN_REQUIRE_SHARED_DATA();
  ASSERT_NE(server_, nullptr);
  auto site_r = Site::Create(server_->endpoint(), "its-aws-idg-cloudtrail", "metrics-bucket");
  ASSERT_TRUE(site_r.ok()) << site_r.status().ToString();
  Site& site = **site_r;
  std::vector<std::string> files = cairn::testing::InvictusFiles();
  std::vector<std::string> keys;
  for (size_t i = 0; i < 5; ++i) {
    std::string key =
        "AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/10/m" + BaseName(files[i]) + ".gz";
    ASSERT_TRUE(
        site.Put(key, cairn::testing::Gzip(*ReadFileToString(FileSystem::Default(), files[i])))
            .ok());
    keys.push_back(key);
  }
  ASSERT_TRUE(site.AnnounceViaSns("us-west-2", keys).ok());
  CollectorOptions options;
  options.data_dir = dir_ + "/data";
  options.config = SiteConfig();
  options.config.settings.status_interval_ms = 200;
  Collector collector(std::move(options));
  Result<CollectorSummary> result = Status::Ok();
  std::thread runner([&] { result = collector.Run(); });
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
  while (collector.metrics()->messages_deleted.load() < 1 &&
         std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  int port = collector.metrics_port();
  ASSERT_GT(port, 0);
  std::string page = HttpGet(port, "/metrics");
  collector.RequestStop();
  runner.join();
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_NE(page.find("HTTP/1.0 200 OK"), std::string::npos) << page;
  EXPECT_NE(page.find("cairn_collect_files_total{outcome=\"ingested\"} 5\n"), std::string::npos)
      << page;
  EXPECT_NE(page.find("cairn_collect_messages_total{outcome=\"deleted\"} 1\n"), std::string::npos)
      << page;
  uint64_t events = collector.metrics()->events_stored.load();
  EXPECT_GT(events, 0u);
  EXPECT_NE(page.find(fmt::format("cairn_collect_events_total{{outcome=\"stored\"}} {}\n", events)),
            std::string::npos);
  EXPECT_NE(page.find("cairn_collect_delivery_latency_seconds_count 1\n"), std::string::npos)
      << page;
  EXPECT_NE(page.find("cairn_collect_lag_seconds "), std::string::npos);
}

TEST_F(CollectIntegrationTest, BackfillThenCollectNeverIngestsTwice) {
  CAIRN_REQUIRE_FAUXQS();
  CAIRN_REQUIRE_SHARED_DATA();
  ASSERT_NE(server_, nullptr);
  auto site_r = Site::Create(server_->endpoint(), "backfill-queue", "backfill-bucket");
  ASSERT_TRUE(site_r.ok()) << site_r.status().ToString();
  Site& site = **site_r;
  std::vector<std::string> files = cairn::testing::InvictusFiles();
  files.resize(30);
  std::vector<std::string> keys;
  for (size_t i = 0; i < files.size(); ++i) {
    std::string name = BaseName(files[i]);
    std::string region = cairn::testing::RegionOfFileName(name);
    // The last ten as an organization trail writes them.
    std::string org = i >= 20 ? "o-abcd1234/" : "";
    std::string key = "trails/AWSLogs/" + org + "218007301253/CloudTrail/" + region +
                      "/2023/07/10/" + name + ".gz";
    ASSERT_TRUE(
        site.Put(key, cairn::testing::Gzip(*ReadFileToString(FileSystem::Default(), files[i])))
            .ok());
    keys.push_back(key);
  }
  // Outside the date range: must not be read.
  ASSERT_TRUE(site.Put("trails/AWSLogs/218007301253/CloudTrail/us-east-1/2023/07/12/late.json.gz",
                       cairn::testing::Gzip("{\"Records\":[]}"))
                  .ok());
  BackfillOptions bo;
  ASSERT_TRUE(ParseS3Url("s3://backfill-bucket/trails", &bo.bucket, &bo.prefix).ok());
  EXPECT_EQ(bo.prefix, "trails");
  bo.from_day = *ParseIso8601Millis("2023-07-09") / 86'400'000;
  bo.to_day = *ParseIso8601Millis("2023-07-10") / 86'400'000;
  bo.data_dir = dir_ + "/data";
  bo.progress = false;
  bo.input.index = "aws-cloudtrail";
  {
    Metrics m;
    auto sum = RunBackfill(bo, &site.s3(), &m);
    ASSERT_TRUE(sum.ok()) << sum.status().ToString();
    EXPECT_EQ(sum->objects_listed, files.size());
    EXPECT_EQ(sum->files_ingested, files.size());
  }
  {
    Metrics m;
    auto again = RunBackfill(bo, &site.s3(), &m);
    ASSERT_TRUE(again.ok());
    EXPECT_EQ(again->units_resumed, again->units) << "the checkpoint makes a second run a no-op";
    EXPECT_EQ(again->files_ingested, 0u);
  }
  // Live notifications for overlapping objects (CloudTrail's and S3's, which carries the ETag).
  ASSERT_TRUE(site.AnnounceViaSns("us-east-1", {keys[0], keys[1], keys[2]}).ok());
  ASSERT_TRUE(site.AnnounceS3Event({keys[21], keys[22]}).ok());
  CollectorOptions options;
  options.data_dir = dir_ + "/data";
  options.config = SiteConfig();
  options.config.inputs[0].sqs_queue = "backfill-queue";
  options.until_idle = 3;
  Collector collector(std::move(options));
  auto run = collector.Run();
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_EQ(collector.metrics()->files_skipped.load(), 5u);
  EXPECT_EQ(collector.metrics()->files_ingested.load(), 0u);
  EXPECT_EQ(collector.metrics()->events_read.load(), 0u) << "nothing downloaded twice";
  auto expected = cairn::testing::EventIdsOfFiles(files);
  auto stored = cairn::testing::StoredEventIds(dir_ + "/data", "aws-cloudtrail");
  std::set<std::pair<std::string, std::string>> expected_set(expected.begin(), expected.end());
  std::set<std::pair<std::string, std::string>> stored_set(stored.begin(), stored.end());
  EXPECT_EQ(stored.size(), stored_set.size());
  EXPECT_TRUE(stored_set == expected_set);
  EXPECT_EQ(*site.QueueDepth(), 0);
}

TEST_F(CollectIntegrationTest, FaultsBetweenCollectorAndS3StillGiveEveryEventOnce) {
  CAIRN_REQUIRE_FAUXQS();
  ASSERT_NE(server_, nullptr);
  auto site_r = Site::Create(server_->endpoint(), "fault-queue", "fault-bucket");
  ASSERT_TRUE(site_r.ok()) << site_r.status().ToString();
  auto keys = cairn::testing::LoadTinyFiles(site_r->get(), "fault", 40, 5, /*via_sns=*/true);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  // Slow responses outlast the queue's 3 s visibility timeout; the heartbeat must cover them.
  cairn::testing::FaultProxy proxy(server_->port(), 4500);
  CollectorOptions options;
  options.data_dir = dir_ + "/data";
  options.config = SiteConfig();
  options.config.inputs[0].sqs_queue = "fault-queue";
  options.config.settings.visibility_timeout_s = 3;
  options.config.settings.max_attempts = 100;
  options.config.settings.workers = 8;
  options.until_idle = 6;
  ::setenv("AWS_ENDPOINT_URL", proxy.endpoint().c_str(), 1);
  Collector collector(std::move(options));
  auto run = collector.Run();
  ::setenv("AWS_ENDPOINT_URL", server_->endpoint().c_str(), 1);
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  EXPECT_GT(proxy.faults(), 10);
  auto stored = cairn::testing::StoredEventIds(dir_ + "/data", "aws-cloudtrail");
  std::set<std::pair<std::string, std::string>> stored_set(stored.begin(), stored.end());
  EXPECT_EQ(stored.size(), 200u);
  EXPECT_EQ(stored_set.size(), 200u);
  EXPECT_EQ(collector.metrics()->files_quarantined.load(), 0u);
  EXPECT_EQ(*(*site_r)->QueueDepth(), 0);
}

// A local failure (here the store's "not found" when it creates a segment, as when another
// process removed its folder) is this machine's, not the object's: collect retries, then stops
// with an error, quarantines nothing and deletes no message; backfill stops the same way. Once
// the store works again, a rerun stores every event once.
TEST_F(CollectIntegrationTest, StoreFailuresNeverQuarantineNorDeleteMessages) {
  CAIRN_REQUIRE_FAUXQS();
  ASSERT_NE(server_, nullptr);
  auto site_r = Site::Create(server_->endpoint(), "local-queue", "local-bucket");
  ASSERT_TRUE(site_r.ok()) << site_r.status().ToString();
  auto keys = cairn::testing::LoadTinyFiles(site_r->get(), "local", 3, 4, /*via_sns=*/false);
  ASSERT_TRUE(keys.ok()) << keys.status().ToString();
  using Faults = store::testing::FaultInjectionFileSystem;
  Faults broken_store(FileSystem::Default());
  broken_store.FailNth(Faults::Op::kCreate, 0, Faults::Fault::kNotFound, /*sticky=*/true, ".seg");

  CollectorOptions options;
  options.data_dir = dir_ + "/data";
  options.config = SiteConfig();
  options.config.inputs[0].sqs_queue = "local-queue";
  options.config.settings.max_attempts = 1;  // an object's own errors would quarantine at once
  options.config.settings.local_retries = 2;
  options.config.settings.local_retry_ms = 50;
  options.until_idle = 3;
  options.fs = &broken_store;
  {
    Collector collector(options);
    auto run = collector.Run();
    ASSERT_FALSE(run.ok());
    EXPECT_NE(run.status().message().find("this machine failed to store it"), std::string::npos)
        << run.status().ToString();
    EXPECT_NE(run.status().message().find("No such file"), std::string::npos)
        << run.status().ToString();
    EXPECT_EQ(collector.metrics()->files_quarantined.load(), 0u);
    EXPECT_EQ(collector.metrics()->messages_deleted.load(), 0u);
  }
  EXPECT_TRUE(broken_store.fired());
  EXPECT_FALSE(FileSystem::Default()->Exists(dir_ + "/data/quarantine/files"));
  EXPECT_EQ(*(*site_r)->QueueDepth(), 3) << "every message stays on the queue";

  BackfillOptions bo;
  bo.bucket = "local-bucket";
  bo.from_day = *ParseIso8601Millis("2023-07-10") / 86'400'000;
  bo.to_day = bo.from_day;
  bo.data_dir = dir_ + "/data";
  bo.progress = false;
  bo.input.index = "aws-cloudtrail";
  bo.fs = &broken_store;
  {
    Metrics m;
    auto sum = RunBackfill(bo, &(*site_r)->s3(), &m);
    ASSERT_FALSE(sum.ok());
    EXPECT_NE(sum.status().message().find("this machine failed to store it"), std::string::npos)
        << sum.status().ToString();
    EXPECT_EQ(m.files_quarantined.load(), 0u);
  }
  EXPECT_FALSE(FileSystem::Default()->Exists(dir_ + "/data/quarantine/files"));

  // The store works again: the messages come back (short visibility) and are stored once.
  broken_store.Clear();
  options.until_idle = 6;
  Collector again(options);
  auto run = again.Run();
  ASSERT_TRUE(run.ok()) << run.status().ToString();
  auto stored = cairn::testing::StoredEventIds(dir_ + "/data", "aws-cloudtrail");
  std::set<std::pair<std::string, std::string>> stored_set(stored.begin(), stored.end());
  EXPECT_EQ(stored.size(), 12u);
  EXPECT_EQ(stored_set.size(), 12u);
  EXPECT_EQ(*(*site_r)->QueueDepth(), 0);
}

}  // namespace
}  // namespace cairn::collect
