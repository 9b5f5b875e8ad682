// End-to-end tests of `cairn generate` through its library API: reproducibility, exact counts,
// the S3 key layout, record validity, realism properties and the scenario manifest. The files are
// read back with zlib and simdjson, independently of the generator's own code.

#include "generate/generator.h"

#include <gtest/gtest.h>
#include <simdjson.h>
#include <zlib.h>

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/testing.h"
#include "common/time_util.h"

namespace cairn::generate {
namespace {

constexpr uint64_t kEvents = 20000;

std::string Gunzip(const std::string& in) {
  z_stream z{};
  EXPECT_EQ(inflateInit2(&z, 16 + MAX_WBITS), Z_OK);
  std::string out;
  char buf[1 << 16];
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data()));
  z.avail_in = static_cast<uInt>(in.size());
  int rc;
  do {
    z.next_out = reinterpret_cast<Bytef*>(buf);
    z.avail_out = sizeof(buf);
    rc = inflate(&z, Z_NO_FLUSH);
    EXPECT_TRUE(rc == Z_OK || rc == Z_STREAM_END) << "inflate " << rc;
    if (rc != Z_OK && rc != Z_STREAM_END) break;
    out.append(buf, sizeof(buf) - z.avail_out);
  } while (rc != Z_STREAM_END);
  EXPECT_EQ(z.avail_in, 0u);
  inflateEnd(&z);
  return out;
}

// Every file under `dir` (relative path -> bytes), sorted by path.
void ReadTree(const std::string& dir, const std::string& rel, std::map<std::string, std::string>* out) {
  FileSystem* fs = FileSystem::Default();
  auto entries = fs->ListDir(rel.empty() ? dir : JoinPath(dir, rel));
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  for (const auto& e : *entries) {
    std::string path = rel.empty() ? e.name : rel + "/" + e.name;
    if (e.is_dir) {
      ReadTree(dir, path, out);
    } else {
      auto data = ReadFileToString(fs, JoinPath(dir, path));
      ASSERT_TRUE(data.ok());
      (*out)[path] = std::move(*data);
    }
  }
}

uint64_t TreeHash(const std::string& dir) {
  std::map<std::string, std::string> files;
  ReadTree(dir, "", &files);
  uint64_t h = 0xCBF29CE484222325ull;
  auto mix = [&](std::string_view s) {
    for (unsigned char c : s) h = (h ^ c) * 0x100000001B3ull;
    h = (h ^ 0xFF) * 0x100000001B3ull;
  };
  for (const auto& [path, data] : files) {
    mix(path);
    mix(data);
  }
  return h;
}

GenerateOptions Options(const std::string& dir, uint64_t seed, int threads) {
  GenerateOptions o;
  o.out_dir = dir;
  o.events = kEvents;
  o.seed = seed;
  o.threads = threads;
  o.data_events = true;
  o.insights = true;
  return o;
}

std::string_view Str(simdjson::dom::element e, std::string_view pointer) {
  std::string_view v;
  if (e.at_pointer(pointer).get_string().get(v) != simdjson::SUCCESS) return {};
  return v;
}

struct Event {
  std::string json;  // minified record
  std::string key;   // the file it came from
  KeyParts parts;
};

// A generated data set read back: every record, the files they came from and the manifest.
struct DataSet {
  std::string dir;
  GenerateSummary summary;
  std::vector<Event> events;
  std::string manifest;
};

void Load(const GenerateOptions& o, DataSet* set) {
  set->dir = o.out_dir;
  auto s = Generate(o, FileSystem::Default());
  ASSERT_TRUE(s.ok()) << s.status().ToString();
  set->summary = *s;
  std::map<std::string, std::string> files;
  ReadTree(set->dir, "", &files);
  simdjson::dom::parser parser;
  for (const auto& [path, data] : files) {
    if (path == "scenarios.json") {
      set->manifest = data;
      continue;
    }
    auto parts = ParseCloudTrailKey(path);
    ASSERT_TRUE(parts.has_value()) << path;
    std::string json = Gunzip(data);
    simdjson::dom::element doc;
    ASSERT_EQ(parser.parse(json).get(doc), simdjson::SUCCESS) << path;
    simdjson::dom::array records;
    ASSERT_EQ(doc["Records"].get_array().get(records), simdjson::SUCCESS) << path;
    for (simdjson::dom::element r : records) {
      set->events.push_back({simdjson::minify(r), path, *parts});
    }
  }
}

// One data set shared by the property tests (generating and reading it takes well under a second).
class GeneratedSet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    set_ = new DataSet();
    Load(Options(testing::MakeTempDir("cairn_gen"), 11, 2), set_);
    summary_ = &set_->summary;
    events_ = &set_->events;
    manifest_ = &set_->manifest;
  }
  static void TearDownTestSuite() {
    FileSystem::Default()->RemoveAll(set_->dir).IgnoreError();
    delete set_;
  }

  static DataSet* set_;
  static GenerateSummary* summary_;
  static std::vector<Event>* events_;
  static std::string* manifest_;
  simdjson::dom::parser parser_;
};
DataSet* GeneratedSet::set_ = nullptr;
GenerateSummary* GeneratedSet::summary_ = nullptr;
std::vector<Event>* GeneratedSet::events_ = nullptr;
std::string* GeneratedSet::manifest_ = nullptr;

TEST(Generate, SameSeedGivesIdenticalBytesWhateverTheThreadCount) {
  std::string a = testing::MakeTempDir("cairn_gen_a"), b = testing::MakeTempDir("cairn_gen_b"),
              c = testing::MakeTempDir("cairn_gen_c");
  ASSERT_TRUE(Generate(Options(a, 5, 1), FileSystem::Default()).ok());
  ASSERT_TRUE(Generate(Options(b, 5, 2), FileSystem::Default()).ok());
  ASSERT_TRUE(Generate(Options(c, 6, 3), FileSystem::Default()).ok());
  uint64_t ha = TreeHash(a), hb = TreeHash(b), hc = TreeHash(c);
  EXPECT_EQ(ha, hb);
  EXPECT_NE(ha, hc);
  for (const auto& d : {a, b, c}) FileSystem::Default()->RemoveAll(d).IgnoreError();
}

TEST(Generate, RejectsBadOptionsAndExistingOutput) {
  std::string dir = testing::MakeTempDir("cairn_gen_bad");
  GenerateOptions o = Options(dir, 1, 1);
  o.events = 10;  // fewer than the scenarios need
  auto few = Generate(o, FileSystem::Default());
  ASSERT_FALSE(few.ok());
  EXPECT_EQ(few.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(few.status().message().find("--events 10"), std::string::npos);

  o.scenarios = false;
  o.insights = false;
  auto exact = Generate(o, FileSystem::Default());
  ASSERT_TRUE(exact.ok()) << exact.status().ToString();
  EXPECT_EQ(exact->events, 10u);
  EXPECT_EQ(exact->scenario_events, 0u);

  auto again = Generate(o, FileSystem::Default());
  ASSERT_FALSE(again.ok());
  EXPECT_EQ(again.status().code(), StatusCode::kAlreadyExists);
  o.overwrite = true;
  EXPECT_TRUE(Generate(o, FileSystem::Default()).ok());

  o.days = 0;
  EXPECT_EQ(Generate(o, FileSystem::Default()).status().code(), StatusCode::kInvalidArgument);
  FileSystem::Default()->RemoveAll(dir).IgnoreError();
}

TEST_F(GeneratedSet, WritesExactlyTheRequestedNumberOfEvents) {
  EXPECT_EQ(summary_->events, kEvents);
  EXPECT_EQ(events_->size(), kEvents);
  EXPECT_EQ(summary_->background_events + summary_->scenario_events + summary_->insight_events,
            kEvents);
  EXPECT_GT(summary_->scenario_events, 40u);
  EXPECT_GT(summary_->insight_events, 0u);
}

TEST_F(GeneratedSet, KeysParseBackAndAgreeWithTheirRecords) {
  std::set<std::string> accounts, regions;
  std::map<std::string, std::vector<int64_t>> times_by_file;
  for (const Event& e : *events_) {
    simdjson::dom::element r;
    ASSERT_EQ(parser_.parse(e.json).get(r), simdjson::SUCCESS);
    EXPECT_EQ(Str(r, "/recipientAccountId"), e.parts.account) << e.key;
    EXPECT_EQ(Str(r, "/awsRegion"), e.parts.region) << e.key;
    const bool insight = Str(r, "/eventType") == "AwsCloudTrailInsight";
    EXPECT_EQ(insight, e.parts.kind == KeyKind::kInsight) << e.key;
    auto t = ParseIso8601Millis(Str(r, "/eventTime"));
    ASSERT_TRUE(t.has_value());
    // The file time is the end of the 5-minute window holding the record.
    EXPECT_LT(*t, e.parts.file_time_ms) << e.key;
    EXPECT_GE(*t, e.parts.file_time_ms - 5 * 60 * 1000) << e.key;
    // The date folders are the file time's date.
    int64_t y;
    unsigned m, d;
    CivilFromDays(e.parts.file_time_ms / 86400000, &y, &m, &d);
    EXPECT_EQ(e.parts.year, y);
    EXPECT_EQ(e.parts.month, m);
    EXPECT_EQ(e.parts.day, d);
    times_by_file[e.key].push_back(*t);
    accounts.insert(e.parts.account);
    regions.insert(e.parts.region);
  }
  EXPECT_EQ(accounts.size(), summary_->accounts.size());
  EXPECT_EQ(regions.size(), summary_->regions.size());
  for (const auto& [key, times] : times_by_file) {
    EXPECT_TRUE(std::is_sorted(times.begin(), times.end())) << key;
  }
}

TEST_F(GeneratedSet, EveryRecordHasTheRequiredCloudTrailFields) {
  std::set<std::string> event_ids;
  for (const Event& e : *events_) {
    simdjson::dom::element r;
    ASSERT_EQ(parser_.parse(e.json).get(r), simdjson::SUCCESS);
    for (const char* f : {"/eventVersion", "/eventTime", "/awsRegion", "/eventID", "/eventType",
                          "/recipientAccountId", "/eventCategory"}) {
      EXPECT_FALSE(Str(r, f).empty()) << f << " in " << e.json;
    }
    event_ids.insert(std::string(Str(r, "/eventID")));
    if (Str(r, "/eventType") == "AwsCloudTrailInsight") {
      EXPECT_FALSE(Str(r, "/insightDetails/state").empty());
      continue;
    }
    for (const char* f : {"/eventSource", "/eventName", "/sourceIPAddress", "/userAgent"}) {
      EXPECT_FALSE(Str(r, f).empty()) << f << " in " << e.json;
    }
    simdjson::dom::object identity;
    EXPECT_EQ(r["userIdentity"].get_object().get(identity), simdjson::SUCCESS) << e.json;
    bool read_only = false, management = false;
    EXPECT_EQ(r["readOnly"].get_bool().get(read_only), simdjson::SUCCESS) << e.json;
    EXPECT_EQ(r["managementEvent"].get_bool().get(management), simdjson::SUCCESS) << e.json;
    EXPECT_EQ(management, Str(r, "/eventCategory") == "Management") << e.json;
    // Failed calls, and read-only calls other than STS's credential calls, carry no response.
    if ((read_only && Str(r, "/eventSource") != "sts.amazonaws.com") ||
        !Str(r, "/errorCode").empty()) {
      EXPECT_TRUE(r["responseElements"].is_null()) << e.json;
    }
    EXPECT_TRUE(Str(r, "/eventTime").size() == 20 && Str(r, "/eventTime").back() == 'Z');
  }
  EXPECT_EQ(event_ids.size(), events_->size()) << "eventIDs must be unique";
}

TEST_F(GeneratedSet, LooksLikeRealTraffic) {
  std::map<std::string, int> identity_types, event_names, categories, event_types;
  std::map<std::string, std::set<std::string>> principals_by_key;
  std::set<std::string> services;
  int errors = 0, api_calls = 0, console_logins = 0, mfa_yes = 0, mfa_no = 0, login_failures = 0;
  for (const Event& e : *events_) {
    simdjson::dom::element r;
    ASSERT_EQ(parser_.parse(e.json).get(r), simdjson::SUCCESS);
    std::string type(Str(r, "/eventType"));
    ++event_types[type];
    if (type == "AwsCloudTrailInsight") continue;
    ++api_calls;
    ++identity_types[std::string(Str(r, "/userIdentity/type"))];
    ++event_names[std::string(Str(r, "/eventName"))];
    ++categories[std::string(Str(r, "/eventCategory"))];
    services.insert(std::string(Str(r, "/eventSource")));
    if (!Str(r, "/errorCode").empty()) ++errors;
    std::string_view key = Str(r, "/userIdentity/accessKeyId");
    if (!key.empty()) principals_by_key[std::string(key)].insert(std::string(Str(r, "/userIdentity/arn")));
    if (Str(r, "/eventName") == "ConsoleLogin") {
      ++console_logins;
      if (Str(r, "/responseElements/ConsoleLogin") == "Failure") ++login_failures;
      (Str(r, "/additionalEventData/MFAUsed") == "Yes" ? mfa_yes : mfa_no)++;
    }
  }
  // 5-10% errors.
  EXPECT_GE(errors * 100, api_calls * 5) << errors << " of " << api_calls;
  EXPECT_LE(errors * 100, api_calls * 10) << errors << " of " << api_calls;
  // Every identity type appears.
  for (const char* t : {"IAMUser", "AssumedRole", "Root", "AWSService", "FederatedUser"}) {
    EXPECT_GT(identity_types[t], 0) << t;
  }
  EXPECT_GT(identity_types["AssumedRole"], identity_types["Root"] * 20);
  // A key is used by one principal, and keys are reused for many calls.
  size_t reused = 0;
  for (const auto& [key, arns] : principals_by_key) {
    EXPECT_EQ(arns.size(), 1u) << key;
    EXPECT_TRUE(key.rfind("AKIA", 0) == 0 || key.rfind("ASIA", 0) == 0) << key;
    reused += arns.size();
  }
  EXPECT_LT(principals_by_key.size() * 5, static_cast<size_t>(api_calls));
  // A heavy-tailed mix: many names, the top one far above the median.
  EXPECT_GE(event_names.size(), 150u);
  EXPECT_GE(services.size(), 35u);
  std::vector<int> counts;
  for (const auto& [n, c] : event_names) counts.push_back(c);
  std::sort(counts.rbegin(), counts.rend());
  EXPECT_GT(counts[0], counts[counts.size() / 2] * 20);
  // Data events, sign-ins with and without MFA, failures, service events.
  EXPECT_GT(categories["Data"], 0);
  EXPECT_GT(categories["Management"], categories["Data"]);
  EXPECT_GT(console_logins, 10);
  EXPECT_GT(mfa_yes, 0);
  EXPECT_GT(mfa_no, 0);
  EXPECT_GT(login_failures, 0);
  EXPECT_GT(event_types["AwsConsoleSignIn"], 0);
  EXPECT_GT(event_types["AwsServiceEvent"], 0);
  EXPECT_GT(event_types["AwsCloudTrailInsight"], 0);
}

TEST_F(GeneratedSet, GlobalServicesAreRecordedInUsEast1) {
  int global = 0;
  for (const Event& e : *events_) {
    simdjson::dom::element r;
    ASSERT_EQ(parser_.parse(e.json).get(r), simdjson::SUCCESS);
    std::string_view src = Str(r, "/eventSource");
    if (src == "iam.amazonaws.com" || src == "signin.amazonaws.com" ||
        src == "cloudfront.amazonaws.com" || src == "route53.amazonaws.com") {
      ++global;
      EXPECT_EQ(Str(r, "/awsRegion"), "us-east-1") << e.json;
    }
  }
  EXPECT_GT(global, 100);
}

// Every scenario's records are written as the manifest says, and its match criteria select exactly
// them in the whole data set.
void ExpectScenarioManifestMatches(const DataSet& set) {
  ASSERT_FALSE(set.manifest.empty());
  simdjson::dom::parser parser;
  simdjson::dom::parser mp;
  simdjson::dom::element m;
  ASSERT_EQ(mp.parse(set.manifest).get(m), simdjson::SUCCESS);
  EXPECT_EQ(Str(m, "/format"), "cairn-generate-manifest");
  uint64_t events = 0;
  ASSERT_EQ(m["events"].get_uint64().get(events), simdjson::SUCCESS);
  EXPECT_EQ(events, set.events.size());

  std::map<std::string, const Event*> by_id;
  for (const Event& e : set.events) {
    simdjson::dom::element r;
    ASSERT_EQ(parser.parse(e.json).get(r), simdjson::SUCCESS);
    by_id[std::string(Str(r, "/eventID"))] = &e;
  }

  simdjson::dom::array scenarios;
  ASSERT_EQ(m["scenarios"].get_array().get(scenarios), simdjson::SUCCESS);
  std::set<std::string> names;
  uint64_t listed = 0;
  for (simdjson::dom::element s : scenarios) {
    std::string name(Str(s, "/name"));
    names.insert(name);
    std::string account(Str(s, "/account")), region(Str(s, "/region"));
    std::string user_arn(Str(s, "/user_arn")), ip(Str(s, "/source_ip"));
    std::string event_name(Str(s, "/event_name"));
    uint64_t expected = 0;
    ASSERT_EQ(s["expected_count"].get_uint64().get(expected), simdjson::SUCCESS);
    simdjson::dom::array list;
    ASSERT_EQ(s["events"].get_array().get(list), simdjson::SUCCESS);
    EXPECT_EQ(list.size(), expected) << name;
    listed += list.size();
    for (simdjson::dom::element item : list) {
      std::string id(Str(item, "/eventID"));
      auto it = by_id.find(id);
      ASSERT_NE(it, by_id.end()) << name << " event " << id << " not written";
      simdjson::dom::element r;
      ASSERT_EQ(parser.parse(it->second->json).get(r), simdjson::SUCCESS);
      EXPECT_EQ(Str(r, "/recipientAccountId"), account) << name;
      EXPECT_EQ(Str(r, "/awsRegion"), region) << name;
      EXPECT_EQ(Str(r, "/userIdentity/arn"), user_arn) << name;
      EXPECT_EQ(Str(r, "/sourceIPAddress"), ip) << name;
      EXPECT_EQ(Str(r, "/eventTime"), Str(item, "/eventTime")) << name;
      if (!event_name.empty()) {
        EXPECT_EQ(Str(r, "/eventName"), event_name) << name;
      }
    }
    // The match criteria select exactly the scenario's records in the whole data set.
    simdjson::dom::object match;
    ASSERT_EQ(s["match"].get_object().get(match), simdjson::SUCCESS);
    uint64_t matched = 0;
    for (const Event& e : set.events) {
      simdjson::dom::element r;
      ASSERT_EQ(parser.parse(e.json).get(r), simdjson::SUCCESS);
      bool all = true;
      for (auto field : match) {
        std::string_view want;
        ASSERT_EQ(field.value.get_string().get(want), simdjson::SUCCESS);
        if (Str(r, field.key) != want) {
          all = false;
          break;
        }
      }
      matched += all;
    }
    EXPECT_EQ(matched, expected) << name;
  }
  EXPECT_EQ(listed, set.summary.scenario_events);
  for (const char* n : {"cloudtrail_stop_logging", "cloudtrail_delete_trail",
                        "root_console_login_without_mfa", "iam_create_access_key_other_user",
                        "iam_attach_admin_policy", "ebs_snapshot_shared_public",
                        "guardduty_detector_deleted", "access_denied_burst"}) {
    EXPECT_TRUE(names.count(n)) << n;
  }
}

TEST_F(GeneratedSet, ScenarioManifestMatchesTheEventsWritten) {
  EXPECT_EQ(summary_->events, kEvents);
  ExpectScenarioManifestMatches(*set_);
}

TEST_F(GeneratedSet, CreateAccessKeyScenarioTargetsAnotherUser) {
  for (const Event& e : *events_) {
    simdjson::dom::element r;
    ASSERT_EQ(parser_.parse(e.json).get(r), simdjson::SUCCESS);
    if (Str(r, "/eventName") != "CreateAccessKey") continue;
    EXPECT_NE(Str(r, "/requestParameters/userName"), Str(r, "/userIdentity/userName"));
  }
}

// The wide profile (docs/generator.md): 100,000 events over three days.
constexpr uint64_t kWideEvents = 100000;

GenerateOptions WideOptions(const std::string& dir, uint64_t seed, int threads) {
  GenerateOptions o = Options(dir, seed, threads);
  o.events = kWideEvents;
  o.days = 3;
  o.data_events = false;
  o.profile = Profile::kWide;
  return o;
}

class WideSet : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    set_ = new DataSet();
    Load(WideOptions(testing::MakeTempDir("cairn_gen_wide"), 11, 2), set_);
  }
  static void TearDownTestSuite() {
    FileSystem::Default()->RemoveAll(set_->dir).IgnoreError();
    delete set_;
  }
  static DataSet* set_;
  simdjson::dom::parser parser_;
};
DataSet* WideSet::set_ = nullptr;

TEST(Generate, WideProfileIsReproducibleWhateverTheThreadCount) {
  std::string a = testing::MakeTempDir("cairn_gen_wa"), b = testing::MakeTempDir("cairn_gen_wb"),
              c = testing::MakeTempDir("cairn_gen_wc");
  GenerateOptions o = WideOptions(a, 5, 1);
  o.events = 20000;
  o.days = 1;
  ASSERT_TRUE(Generate(o, FileSystem::Default()).ok());
  o.out_dir = b;
  o.threads = 3;
  ASSERT_TRUE(Generate(o, FileSystem::Default()).ok());
  o.out_dir = c;
  o.profile = Profile::kDefault;  // same seed and options, the other profile
  ASSERT_TRUE(Generate(o, FileSystem::Default()).ok());
  const uint64_t ha = TreeHash(a), hb = TreeHash(b), hc = TreeHash(c);
  EXPECT_EQ(ha, hb);
  EXPECT_NE(ha, hc);
  for (const auto& d : {a, b, c}) FileSystem::Default()->RemoveAll(d).IgnoreError();
}

TEST_F(WideSet, WritesExactlyTheRequestedNumberOfEventsAndNamesItsProfile) {
  EXPECT_EQ(set_->events.size(), kWideEvents);
  EXPECT_EQ(set_->summary.events, kWideEvents);
  EXPECT_NE(set_->manifest.find("\"profile\": \"wide\""), std::string::npos);
}

TEST_F(WideSet, ScenarioManifestMatchesTheEventsWritten) { ExpectScenarioManifestMatches(*set_); }

TEST_F(WideSet, HasTheWideStatistics) {
  // The scenarios reuse their attackers' keys on purpose; every other call has its own key.
  std::set<std::string> scenario_ids;
  {
    simdjson::dom::parser mp;
    simdjson::dom::element m;
    ASSERT_EQ(mp.parse(set_->manifest).get(m), simdjson::SUCCESS);
    for (simdjson::dom::element sc : m["scenarios"].get_array()) {
      for (simdjson::dom::element item : sc["events"].get_array()) {
        scenario_ids.insert(std::string(Str(item, "/eventID")));
      }
    }
  }
  std::map<std::string, int> names, keys, request_ids, ips, agents, arns, user_events;
  std::map<std::string, std::set<std::string>> user_days;
  size_t calls = 0, keyed = 0, with_request_id = 0, long_term_keys = 0;
  for (const Event& e : set_->events) {
    simdjson::dom::element r;
    ASSERT_EQ(parser_.parse(e.json).get(r), simdjson::SUCCESS);
    if (Str(r, "/eventType") == "AwsCloudTrailInsight") continue;
    ++calls;
    ++names[std::string(Str(r, "/eventName"))];
    ++ips[std::string(Str(r, "/sourceIPAddress"))];
    ++agents[std::string(Str(r, "/userAgent"))];
    std::string_view request_id = Str(r, "/requestID"), arn = Str(r, "/userIdentity/arn");
    if (!request_id.empty()) {
      ++with_request_id;
      ++request_ids[std::string(request_id)];
    }
    if (!arn.empty()) ++arns[std::string(arn)];
    if (Str(r, "/userIdentity/type") == "IAMUser") {
      ++user_events[std::string(arn)];
      user_days[std::string(arn)].insert(std::string(Str(r, "/eventTime").substr(0, 10)));
    }
    std::string_view key = Str(r, "/userIdentity/accessKeyId");
    if (!key.empty() && !scenario_ids.count(std::string(Str(r, "/eventID")))) {
      ++keyed;
      ++keys[std::string(key)];
      long_term_keys += key.substr(0, 4) != "ASIA";
    }
  }
  // Every access key id and every request id distinct.
  EXPECT_GT(keyed, calls * 8 / 10);
  EXPECT_EQ(keys.size(), keyed);
  EXPECT_EQ(long_term_keys, 0u);
  EXPECT_GT(with_request_id, calls * 9 / 10);
  EXPECT_EQ(request_ids.size(), with_request_id);
  // A flat event-name mix: the most common name is about 4% of the calls.
  int top = 0;
  for (const auto& [n, c] : names) top = std::max(top, c);
  EXPECT_GE(top * 1000, static_cast<int>(calls) * 35) << top << " of " << calls;
  EXPECT_LE(top * 1000, static_cast<int>(calls) * 50) << top << " of " << calls;
  EXPECT_GE(names.size(), 350u);
  // Many addresses, user agents and ARNs (the default profile has a few dozen of each).
  EXPECT_GE(ips.size(), calls / 6);
  EXPECT_GE(agents.size(), 3000u);
  EXPECT_GE(arns.size(), 4000u);
  // A few busy users (each at least 0.3% of the calls, active every day) among a crowd of quiet
  // ones (the median user well under 0.05%).
  std::vector<int> per_user;
  int busy = 0;
  for (const auto& [arn, n] : user_events) {
    per_user.push_back(n);
    if (n * 1000 >= static_cast<int>(calls) * 3) {
      ++busy;
      EXPECT_EQ(user_days[arn].size(), 3u) << arn;
    }
  }
  std::sort(per_user.begin(), per_user.end());
  EXPECT_GE(busy, 3);
  EXPECT_GE(user_events.size(), 2000u);
  EXPECT_LT(per_user[per_user.size() / 2] * 10000, static_cast<int>(calls) * 5);
}

}  // namespace
}  // namespace cairn::generate
