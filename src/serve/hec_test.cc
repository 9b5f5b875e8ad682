// The HTTP Event Collector: token configuration, /event and /raw parsing (concatenated events,
// bad JSON, missing or blank event, time forms, disallowed index, raw line breaking, CloudTrail
// in EventBridge envelopes as Firehose delivers them), and the routes over a real store:
// authentication codes, acknowledgement only after the commit, dedup of resent CloudTrail.

#include "serve/hec.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <future>
#include <thread>

#include "common/testing.h"
#include "serve/rest.h"
#include "serve/router.h"
#include "store/segment.h"
#include "store/store.h"

namespace cairn::serve {
namespace {

constexpr char kToml[] = R"(
[serve]
port = 8089

[[serve.hec_token]]
name = "apps"
token = "11111111-2222-3333-4444-555555555555"
index = "apps"
indexes = ["apps", "web"]
sourcetype = "app:json"

[[serve.hec_token]]
name = "firehose"
token = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee"
index = "cloudtrail"
useACK = true
)";

HecToken AppsToken() {
  auto t = ParseHecTokens(kToml, "cairn.toml");
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  return t->at(0);
}

HecRequestMeta Meta(const HecToken* t) {
  HecRequestMeta m;
  m.token = t;
  m.now_ms = 1'700'000'000'000;
  return m;
}

// A CloudTrail record, and the same inside an EventBridge envelope (what Firehose delivers from
// an EventBridge rule).
std::string Record(const std::string& id, const std::string& time = "2024-03-01T10:00:00Z") {
  return R"({"eventVersion":"1.08","userIdentity":{"type":"IAMUser","accountId":"111122223333"},"eventTime":")" +
         time +
         R"(","eventSource":"iam.amazonaws.com","eventName":"CreateUser","awsRegion":"us-east-1","eventID":")" +
         id + R"(","recipientAccountId":"111122223333"})";
}
std::string Envelope(const std::string& id) {
  return R"({"version":"0","id":"x-)" + id +
         R"(","detail-type":"AWS API Call via CloudTrail","source":"aws.iam","account":"111122223333","time":"2024-03-01T10:00:00Z","region":"us-east-1","resources":[],"detail":)" +
         Record(id) + "}";
}

TEST(HecTokens, ParsesTablesAndRejectsWeakOrDuplicateTokens) {
  auto t = ParseHecTokens(kToml, "cairn.toml");
  ASSERT_TRUE(t.ok()) << t.status().ToString();
  ASSERT_EQ(t->size(), 2u);
  EXPECT_EQ((*t)[0].name, "apps");
  EXPECT_EQ((*t)[0].default_index, "apps");
  EXPECT_TRUE((*t)[0].AllowsIndex("web"));
  EXPECT_FALSE((*t)[0].AllowsIndex("main"));
  EXPECT_FALSE((*t)[0].use_ack);
  EXPECT_TRUE((*t)[1].use_ack);
  EXPECT_TRUE((*t)[1].AllowsIndex("cloudtrail"));
  EXPECT_FALSE((*t)[1].AllowsIndex("apps"));  // no list: only the default index

  auto weak = ParseHecTokens("[[serve.hec_token]]\nname=\"a\"\ntoken=\"short\"\n", "x.toml");
  EXPECT_FALSE(weak.ok());
  EXPECT_EQ(weak.status().message().find("short"), std::string::npos);  // the value is not echoed
  auto twice = ParseHecTokens(
      "[[serve.hec_token]]\ntoken=\"0123456789abcdef0\"\n[[serve.hec_token]]\ntoken="
      "\"0123456789abcdef0\"\n",
      "x.toml");
  EXPECT_FALSE(twice.ok());
  auto unknown = ParseHecTokens("[[serve.hec_token]]\ntoken=\"0123456789abcdef0\"\nfoo=1\n", "x");
  EXPECT_FALSE(unknown.ok());

  std::string dir = testing::MakeTempDir("cairn_hec_tok");
  std::ofstream(dir + "/tok") << "  0123456789abcdef-from-file\n";
  auto file = ParseHecTokens("[[serve.hec_token]]\ntoken_file=\"" + dir + "/tok\"\n", "x.toml");
  ASSERT_TRUE(file.ok()) << file.status().ToString();
  EXPECT_EQ(file->at(0).value, "0123456789abcdef-from-file");
  EXPECT_EQ(file->at(0).name, "hec1");
  std::filesystem::remove_all(dir);
}

TEST(HecParse, EpochSecondsForms) {
  EXPECT_EQ(ParseEpochSeconds("1700000000"), 1'700'000'000'000);
  EXPECT_EQ(ParseEpochSeconds("1700000000.123"), 1'700'000'000'123);
  EXPECT_EQ(ParseEpochSeconds(" 1700000000.5 "), 1'700'000'000'500);
  EXPECT_FALSE(ParseEpochSeconds("yesterday"));
  EXPECT_FALSE(ParseEpochSeconds("-5"));
  EXPECT_FALSE(ParseEpochSeconds("1e300"));
  EXPECT_FALSE(ParseEpochSeconds(""));
}

TEST(HecParse, ConcatenatedEventsWithTimesAndDefaults) {
  HecToken tok = AppsToken();
  HecBatch b;
  std::string body =
      R"({"event":{"message":"one","n":1},"time":1700000001.25})"
      "\n  "
      R"({"time":"1700000002","event":"two","index":"web","source":"s","sourcetype":"st"})"
      R"({"event":{"message":"three"},"fields":{"env":"prod"}})";
  auto err = ParseHecEventBody(body, Meta(&tok), &b);
  ASSERT_FALSE(err) << HecErrorJson(*err);
  EXPECT_EQ(b.events, 3u);
  ASSERT_EQ(b.by_index.size(), 2u);
  const auto& apps = b.by_index.at("apps");
  ASSERT_EQ(apps.size(), 2u);
  EXPECT_EQ(apps[0].raw.view(), R"({"message":"one","n":1})");  // byte for byte
  EXPECT_EQ(apps[0].time_ms, 1'700'000'001'250);
  EXPECT_EQ(apps[0].sourcetype, "app:json");  // the token's default
  EXPECT_EQ(apps[0].source.view(), "http:apps");
  EXPECT_EQ(apps[1].time_ms, 1'700'000'000'000);  // no time: receipt
  const auto& web = b.by_index.at("web");
  ASSERT_EQ(web.size(), 1u);
  EXPECT_EQ(web[0].raw.view(), R"({"event":"two"})");  // a string event becomes an object
  EXPECT_EQ(web[0].time_ms, 1'700'000'002'000);
  EXPECT_EQ(web[0].sourcetype, "st");
  EXPECT_EQ(web[0].source.view(), "s");
  EXPECT_EQ(web[0].event_id.substr(0, 2), "h:");
  EXPECT_NE(apps[0].event_id, apps[1].event_id);
  // Identical lines of one request are distinct events.
  HecBatch twice;
  ASSERT_FALSE(
      ParseHecEventBody(R"({"event":"x","time":5}{"event":"x","time":5})", Meta(&tok), &twice));
  EXPECT_NE(twice.by_index.at("apps")[0].event_id, twice.by_index.at("apps")[1].event_id);

  // The same event sent again has the same identity (the store keeps it once).
  HecBatch again;
  ASSERT_FALSE(ParseHecEventBody(body, Meta(&tok), &again));
  EXPECT_EQ(again.by_index.at("web")[0].event_id, web[0].event_id);
}

TEST(HecParse, ErrorsNameTheEventAndTheByte) {
  HecToken tok = AppsToken();
  auto parse = [&](const std::string& body) {
    HecBatch b;
    auto e = ParseHecEventBody(body, Meta(&tok), &b);
    if (e) EXPECT_EQ(b.events, 0u);  // nothing of a refused body is kept
    return e;
  };
  EXPECT_EQ(parse("")->code, kHecNoData);
  EXPECT_EQ(parse("  \n")->code, kHecNoData);
  auto broken = parse(R"({"event":"a"}{"event":"b",})");
  ASSERT_TRUE(broken);
  EXPECT_EQ(broken->code, kHecInvalidFormat);
  EXPECT_EQ(broken->http_status, 400);
  EXPECT_EQ(broken->invalid_event, 1);
  EXPECT_NE(broken->detail.find("byte 13"), std::string::npos) << broken->detail;
  auto junk = parse(R"({"event":"a"} garbage)");
  ASSERT_TRUE(junk);
  EXPECT_EQ(junk->code, kHecInvalidFormat);
  EXPECT_NE(junk->detail.find("byte 14"), std::string::npos) << junk->detail;
  auto unterminated = parse(R"({"event":"a")");
  ASSERT_TRUE(unterminated);
  EXPECT_EQ(unterminated->code, kHecInvalidFormat);
  EXPECT_EQ(parse(R"({"event":"a"}{"time":1})")->code, kHecEventRequired);
  EXPECT_EQ(parse(R"({"event":"a"}{"time":1})")->invalid_event, 1);
  EXPECT_EQ(parse(R"({"event":""})")->code, kHecEventBlank);
  EXPECT_EQ(parse(R"({"event":null})")->code, kHecEventBlank);
  EXPECT_EQ(parse(R"({"event":"x","time":"noon"})")->code, kHecInvalidFormat);
  EXPECT_EQ(parse(R"({"event":"x","index":5})")->code, kHecInvalidFormat);
  auto index = parse(R"({"event":"x"}{"event":"y","index":"main"})");
  ASSERT_TRUE(index);
  EXPECT_EQ(index->code, kHecIncorrectIndex);
  EXPECT_EQ(index->http_status, 400);
  EXPECT_EQ(index->invalid_event, 1);
  EXPECT_EQ(HecErrorJson(MakeHecError(kHecIncorrectIndex, 1)),
            R"({"text":"Incorrect index","code":7,"invalid-event-number":1})");
  EXPECT_EQ(parse(R"({"event":"x","index":"Bad Index"})")->code, kHecIncorrectIndex);
}

TEST(HecParse, HostFromTheEventElseTheQueryStringElseNone) {
  HecToken tok = AppsToken();
  HecRequestMeta meta = Meta(&tok);
  HecBatch none, named, raw;
  ASSERT_FALSE(ParseHecEventBody(R"({"event":"a","time":5})", meta, &none));
  EXPECT_EQ(none.by_index.at("apps")[0].host, "");  // the store's default host
  meta.host = "from-query";
  ASSERT_FALSE(
      ParseHecEventBody(R"({"event":"a","time":5}{"event":"b","host":"web-1"})", meta, &named));
  const auto& apps = named.by_index.at("apps");
  EXPECT_EQ(apps[0].host, "from-query");
  EXPECT_EQ(apps[1].host, "web-1");
  // The host is part of the identity: the same event from two hosts is two events.
  EXPECT_NE(none.by_index.at("apps")[0].event_id, apps[0].event_id);
  ASSERT_FALSE(ParseHecRawBody("line one\n", meta, &raw));
  EXPECT_EQ(raw.by_index.at("apps")[0].host, "from-query");
  HecBatch bad;
  auto e = ParseHecEventBody(R"({"event":"a","host":5})", meta, &bad);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, kHecInvalidFormat);
}

TEST(HecParse, IndexedFieldsAreKeptMinifiedOrRefusedNamingTheField) {
  HecToken tok = AppsToken();
  HecBatch b;
  ASSERT_FALSE(ParseHecEventBody(
      R"({"event":"a","fields":{ "env" : "prod", "team": ["red", "blue"], "n": 3 }})"
      R"({"event":"b","fields":{}}{"event":"c","fields":null})",
      Meta(&tok), &b));
  const auto& apps = b.by_index.at("apps");
  ASSERT_EQ(apps.size(), 3u);
  EXPECT_EQ(apps[0].fields, R"({"env":"prod","team":"red","team":"blue","n":3})");
  EXPECT_EQ(apps[1].fields, "");
  EXPECT_EQ(apps[2].fields, "");
  for (const char* body :
       {R"({"event":"a","fields":{"deep":{"x":1}}})",
        R"({"event":"a","fields":{"list":[{"x":1}]}})",
        R"({"event":"a","fields":{"eventName":"x"}})", R"({"event":"a","fields":{"host":"x"}})",
        R"({"event":"a","fields":{"_time":"1"}})", R"({"event":"a","fields":"env=prod"})"}) {
    HecBatch bad;
    auto e = ParseHecEventBody(body, Meta(&tok), &bad);
    ASSERT_TRUE(e) << body;
    EXPECT_EQ(e->code, kHecIndexedFields) << body;
    EXPECT_EQ(e->http_status, 400) << body;
    EXPECT_EQ(e->invalid_event, 0) << body;
  }
  HecBatch bad;
  auto e = ParseHecEventBody(R"({"event":"a","fields":{"deep":{"x":1}}})", Meta(&tok), &bad);
  ASSERT_TRUE(e);
  EXPECT_NE(e->detail.find("indexed field \"deep\""), std::string::npos) << e->detail;
  EXPECT_NE(HecErrorJson(*e).find("Error in handling indexed fields"), std::string::npos);
}

TEST(HecParse, CloudTrailRecordsAndEventBridgeEnvelopesBecomeCloudTrailEvents) {
  auto tokens = ParseHecTokens(kToml, "cairn.toml");
  const HecToken& fh = tokens->at(1);
  HecBatch b;
  std::string body = "{\"event\":" + Envelope("id-1") + "}{\"event\":" + Record("id-2") +
                     ",\"sourcetype\":\"aws:cloudtrail\"}";
  auto err = ParseHecEventBody(body, Meta(&fh), &b);
  ASSERT_FALSE(err) << HecErrorJson(*err);
  const auto& ct = b.by_index.at("cloudtrail");
  ASSERT_EQ(ct.size(), 2u);
  EXPECT_EQ(ct[0].event_id, "id-1");
  EXPECT_EQ(ct[0].account, "111122223333");
  EXPECT_EQ(ct[0].sourcetype, "aws:cloudtrail");
  EXPECT_EQ(ct[0].raw.view(), Record("id-1"));  // the envelope is unwrapped
  EXPECT_EQ(ct[0].time_ms, 1'709'287'200'000);  // from eventTime, not receipt
  EXPECT_EQ(ct[1].event_id, "id-2");

  // sourcetype aws:cloudtrail on something that is no CloudTrail event is refused.
  HecBatch bad;
  auto e = ParseHecEventBody(R"({"event":{"a":1},"sourcetype":"aws:cloudtrail"})", Meta(&fh), &bad);
  ASSERT_TRUE(e);
  EXPECT_EQ(e->code, kHecInvalidFormat);
}

TEST(HecParse, RawBreaksLinesAndReadsFirehoseRecords) {
  HecToken tok = AppsToken();
  HecBatch b;
  HecRequestMeta m = Meta(&tok);
  m.index = "web";
  m.time_ms = 1'700'000'100'000;
  auto err = ParseHecRawBody("first line\r\nsecond \"quoted\"\n\n   \nthird", m, &b);
  ASSERT_FALSE(err) << HecErrorJson(*err);
  const auto& web = b.by_index.at("web");
  ASSERT_EQ(web.size(), 3u);
  EXPECT_EQ(web[0].raw.view(), R"({"event":"first line"})");
  EXPECT_EQ(web[1].raw.view(), R"({"event":"second \"quoted\""})");
  EXPECT_EQ(web[2].raw.view(), R"({"event":"third"})");
  EXPECT_EQ(web[0].time_ms, 1'700'000'100'000);
  EXPECT_EQ(web[0].sourcetype, "app:json");

  // Firehose's raw delivery: EventBridge records concatenated, with or without newlines.
  auto tokens = ParseHecTokens(kToml, "cairn.toml");
  HecBatch fb;
  std::string body = Envelope("r-1") + Envelope("r-2") + "\n" + Envelope("r-3") + "\n";
  err = ParseHecRawBody(body, Meta(&tokens->at(1)), &fb);
  ASSERT_FALSE(err) << HecErrorJson(*err);
  const auto& ct = fb.by_index.at("cloudtrail");
  ASSERT_EQ(ct.size(), 3u);
  EXPECT_EQ(ct[2].event_id, "r-3");
  EXPECT_EQ(ct[2].sourcetype, "aws:cloudtrail");

  HecBatch none;
  EXPECT_EQ(ParseHecRawBody("\n\r\n", m, &none)->code, kHecNoData);
  HecRequestMeta ct_meta = Meta(&tokens->at(1));
  ct_meta.sourcetype = "aws:cloudtrail";  // text lines cannot be CloudTrail events
  EXPECT_EQ(ParseHecRawBody("not json\n", ct_meta, &none)->code, kHecInvalidFormat);
  m.index = "main";
  EXPECT_EQ(ParseHecRawBody("x", m, &none)->code, kHecIncorrectIndex);
}

// The routes over a real store.
class HecRoutesTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cairn_hec");
    store::StoreOptions so;
    so.data_dir = dir_;
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(*st);
    auto tokens = ParseHecTokens(kToml, "cairn.toml");
    ctx_.tokens = *tokens;
  }
  void Start(HecIngestOptions o = {}) {
    o.store = store_.get();
    ingest_ = std::make_unique<HecIngest>(o);
    ctx_.ingest = ingest_.get();
    RegisterHecRoutes(&router_, &ctx_);
  }
  void TearDown() override {
    if (ingest_) ingest_->Stop();
    store_->Close();
    std::filesystem::remove_all(dir_);
  }
  Response Post(const std::string& target, const std::string& token, const std::string& body,
                const std::string& channel = "") {
    Request r;
    r.method = "POST";
    std::string path = target.substr(0, target.find('?'));
    EXPECT_TRUE(Router::NormalizePath(path, &r));
    if (target.find('?') != std::string::npos) {
      ParseUrlEncoded(target.substr(target.find('?') + 1), &r.query);
    }
    if (!token.empty()) r.headers["authorization"] = "Splunk " + token;
    if (!channel.empty()) r.headers["x-splunk-request-channel"] = channel;
    r.body = body;
    return router_.Dispatch(r);
  }
  uint64_t Count(const std::string& index) {
    auto snap = store_->GetSnapshot(index);
    return snap.ok() ? (*snap)->event_count() : 0;
  }
  std::string dir_;
  std::unique_ptr<store::Store> store_;
  HecContext ctx_;
  std::unique_ptr<HecIngest> ingest_;
  Router router_;
};

constexpr char kApps[] = "11111111-2222-3333-4444-555555555555";
constexpr char kFirehose[] = "aaaaaaaa-bbbb-cccc-dddd-eeeeeeeeeeee";
constexpr char kChannel[] = "0D6E8C4E-7A5F-4C37-9B7A-6D4B3C2A1F00";

TEST_F(HecRoutesTest, TokensAndErrorCodes) {
  Start();
  Response r = Post("/services/collector/event", "", R"({"event":"x"})");
  EXPECT_EQ(r.status, 401);
  EXPECT_EQ(r.body, R"({"text":"Token is required","code":2})");
  r = Post("/services/collector/event", "99999999-2222-3333-4444-555555555555", R"({"event":"x"})");
  EXPECT_EQ(r.status, 403);
  EXPECT_EQ(r.body, R"({"text":"Invalid token","code":4})");
  r = Post("/services/collector/event", std::string(kApps) + "0", R"({"event":"x"})");
  EXPECT_EQ(r.status, 403);  // a longer token is not a prefix match
  Request basic;
  basic.method = "POST";
  Router::NormalizePath("/services/collector/event", &basic);
  basic.headers["authorization"] = "Bearer " + std::string(kApps);
  EXPECT_EQ(router_.Dispatch(basic).status, 401);
  r = Post("/services/collector/event", kApps, "");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"text":"No data","code":5})");
  r = Post("/services/collector/event", kApps, R"({"event":"x","index":"main"})");
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"code\":7"), std::string::npos);
  r = Post("/services/collector/raw", kApps, "line");
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(r.body, R"({"text":"Data channel is missing","code":10})");
  r = Post("/services/collector/raw", kApps, "line", "bad channel!");
  EXPECT_EQ(r.body, R"({"text":"Invalid data channel","code":11})");
  r = Post("/services/collector/ack", kApps, R"({"acks":[0]})", kChannel);
  EXPECT_EQ(r.body, R"({"text":"ACK is disabled","code":14})");
  r = Post("/services/collector/event", kFirehose, R"({"event":"x"})");  // useACK needs a channel
  EXPECT_EQ(r.body, R"({"text":"Data channel is missing","code":10})");
  EXPECT_EQ(Count("apps"), 0u);

  // Without useACK the answer comes after the commit: the events are in the store by then.
  r = Post("/services/collector", kApps, R"({"event":{"m":1}}{"event":{"m":2},"index":"web"})");
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"text":"Success","code":0})");
  EXPECT_EQ(Count("apps"), 1u);
  EXPECT_EQ(Count("web"), 1u);
  r = Post("/services/collector/raw?index=web&sourcetype=plain", kApps, "a\nb\n", kChannel);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Count("web"), 3u);

  // Bodies being parsed are bounded across requests: over the bound, busy.
  ctx_.max_inflight_bytes = 30;
  r = Post("/services/collector/event", kApps, R"({"event":{"m":1},"time":1})");
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"text":"Server is busy","code":9})");
  EXPECT_EQ(ctx_.inflight_bytes.load(), 0u);  // given back
  ctx_.max_inflight_bytes = 1 << 20;

  Request health;
  health.method = "GET";
  Router::NormalizePath("/services/collector/health", &health);
  r = router_.Dispatch(health);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"text":"HEC is healthy","code":17})");
}

// Acknowledged batches gather into one commit; a sender that waits for its commit is not kept
// waiting by the gathering.
TEST_F(HecRoutesTest, AcknowledgedBatchesGatherAndWaitingSendersDoNot) {
  HecIngestOptions o;
  o.ack_gather = std::chrono::milliseconds(10'000);
  o.ack_gather_idle = std::chrono::milliseconds(10'000);
  o.ack_gather_events = 3;
  Start(o);
  for (const char* id : {"g-1", "g-2"}) {
    Response r =
        Post("/services/collector/event", kFirehose, "{\"event\":" + Envelope(id) + "}", kChannel);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(ingest_->stats().commits, 0u);  // two of three: still gathering
  EXPECT_EQ(Count("cloudtrail"), 0u);
  const auto start = std::chrono::steady_clock::now();
  Response app = Post("/services/collector/event", kApps, R"({"event":{"msg":"now"}})");
  ASSERT_EQ(app.status, 200) << app.body;
  // Answered after its commit, far sooner than the gathering's 10 s; the queued acknowledged
  // batches went with it.
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(5));
  EXPECT_EQ(Count("apps"), 1u);
  EXPECT_EQ(Count("cloudtrail"), 2u);
  const uint64_t commits = ingest_->stats().commits;
  for (const char* id : {"g-3", "g-4", "g-5"}) {
    Response r =
        Post("/services/collector/event", kFirehose, "{\"event\":" + Envelope(id) + "}", kChannel);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  for (int i = 0; i < 100 && Count("cloudtrail") < 5; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  EXPECT_EQ(Count("cloudtrail"), 5u);  // three gathered: committed without waiting 10 s
  EXPECT_EQ(ingest_->stats().commits, commits + 1);
}

// The gathering stops when the senders pause: the end of a stream is not held for the whole
// gathering time.
TEST_F(HecRoutesTest, AcknowledgedBatchesAreCommittedWhenTheSendersPause) {
  HecIngestOptions o;
  o.ack_gather = std::chrono::milliseconds(30'000);
  o.ack_gather_idle = std::chrono::milliseconds(200);
  o.ack_gather_events = 1000;
  Start(o);
  const auto start = std::chrono::steady_clock::now();
  for (const char* id : {"p-1", "p-2"}) {
    Response r =
        Post("/services/collector/event", kFirehose, "{\"event\":" + Envelope(id) + "}", kChannel);
    ASSERT_EQ(r.status, 200) << r.body;
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(50));
  EXPECT_EQ(Count("cloudtrail"), 0u);  // less than the pause yet: still gathering
  for (int i = 0; i < 200 && Count("cloudtrail") < 2; ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(25));
  }
  EXPECT_EQ(Count("cloudtrail"), 2u);
  EXPECT_LT(std::chrono::steady_clock::now() - start, std::chrono::seconds(10));
  EXPECT_EQ(ingest_->stats().commits, 1u);  // both in one commit
}

TEST_F(HecRoutesTest, AcknowledgesOnlyAfterTheCommitAndStoresResentCloudTrailOnce) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::atomic<int> commits{0};
  HecIngestOptions o;
  o.before_commit = [&] {
    if (commits++ == 0) released.wait();  // hold the first commit until the test says
  };
  Start(o);
  std::string body = "{\"event\":" + Envelope("e-1") + "}{\"event\":" + Envelope("e-2") + "}";
  Response r = Post("/services/collector/event", kFirehose, body, kChannel);
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_EQ(r.body, R"({"text":"Success","code":0,"ackId":0})");
  r = Post("/services/collector/event", kFirehose, "{\"event\":" + Envelope("e-3") + "}", kChannel);
  EXPECT_EQ(r.body, R"({"text":"Success","code":0,"ackId":1})");
  // Queued, not durable: the acks say false and the store has nothing.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  r = Post("/services/collector/ack", kFirehose, R"({"acks":[0,1,7]})", kChannel);
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(r.body, R"({"acks":{"0":false,"1":false,"7":false}})");
  EXPECT_EQ(Count("cloudtrail"), 0u);
  release.set_value();
  // Each id turns true once its commit returned (an id reported true is forgotten, so each is
  // polled until seen true once).
  auto ack_true = [&](int id) {
    const std::string want = "{\"acks\":{\"" + std::to_string(id) + "\":true}}";
    for (int i = 0; i < 500; ++i) {
      if (Post("/services/collector/ack", kFirehose, "{\"acks\":[" + std::to_string(id) + "]}",
               kChannel)
              .body == want) {
        return true;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    return false;
  };
  // Another token with acks sees nothing of this token's channel (and cannot consume it).
  ctx_.tokens.push_back(ctx_.tokens[1]);
  ctx_.tokens.back().name = "other";
  ctx_.tokens.back().value = "ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee";
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(Post("/services/collector/ack", "ffffffff-bbbb-cccc-dddd-eeeeeeeeeeee",
                 R"({"acks":[0,1]})", kChannel)
                .body,
            R"({"acks":{"0":false,"1":false}})");
  EXPECT_TRUE(ack_true(0));
  EXPECT_TRUE(ack_true(1));
  EXPECT_EQ(Count("cloudtrail"), 3u);
  // Reported once: later it is unknown (false), as in Splunk.
  EXPECT_EQ(Post("/services/collector/ack", kFirehose, R"({"acks":[0]})", kChannel).body,
            R"({"acks":{"0":false}})");
  // Firehose retries a batch it got no ack for: the CloudTrail events are stored once.
  r = Post("/services/collector/raw", kFirehose, Envelope("e-1") + Envelope("e-3"), kChannel);
  ASSERT_EQ(r.status, 200) << r.body;
  for (int i = 0;
       i < 200 && Post("/services/collector/ack", kFirehose, R"({"acks":[2]})", kChannel).body !=
                      R"({"acks":{"2":true}})";
       ++i) {
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  EXPECT_EQ(Count("cloudtrail"), 3u);
  EXPECT_EQ(ingest_->stats().duplicates, 2u);
}

TEST_F(HecRoutesTest, AFullQueueAnswersServerBusy) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  HecIngestOptions o;
  o.max_pending_events = 3;
  o.before_commit = [&] { released.wait(); };
  Start(o);
  auto r = Post("/services/collector/event", kFirehose,
                "{\"event\":" + Envelope("b-1") + "}{\"event\":" + Envelope("b-2") + "}", kChannel);
  EXPECT_EQ(r.status, 200);
  r = Post("/services/collector/event", kFirehose,
           "{\"event\":" + Envelope("b-3") + "}{\"event\":" + Envelope("b-4") + "}", kChannel);
  EXPECT_EQ(r.status, 503);
  EXPECT_EQ(r.body, R"({"text":"Server is busy","code":9})");
  Request health;
  health.method = "GET";
  Router::NormalizePath("/services/collector/health", &health);
  r = Post("/services/collector/event", kFirehose, "{\"event\":" + Envelope("b-5") + "}", kChannel);
  EXPECT_EQ(r.status, 200);  // fits: 3 pending
  EXPECT_EQ(router_.Dispatch(health).status, 503);
  release.set_value();
  ingest_->Stop();
  EXPECT_EQ(Count("cloudtrail"), 3u);
}

}  // namespace
}  // namespace cairn::serve
