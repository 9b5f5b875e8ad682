#include "detect/suppress.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <random>
#include <set>

#include "common/testing.h"
#include "detect/hunt.h"
#include "detect/rule_set.h"
#include "detect/sigma.h"
#include "ingest/store_sink.h"
#include "store/store.h"

namespace cairn::detect {
namespace {

constexpr int64_t kHour = 3'600'000, kDay = 86'400'000;
// 2027-01-15T00:00:00Z
constexpr int64_t kMidnight = 1'799'971'200'000;

std::string RuleText(const std::string& id, const std::string& level) {
  return "title: Rule " + id + "\nid: " + id + "\nlevel: " + level +
         "\nlogsource:\n    product: aws\n    service: cloudtrail\n"
         "detection:\n    sel:\n        userIdentity.type: AssumedRole\n    condition: sel\n";
}

LoadedRules Parse(const std::vector<std::pair<std::string, std::string>>& rules) {
  LoadedRules loaded;
  for (const auto& [id, level] : rules) ParseSigmaText(RuleText(id, level), id + ".yml", &loaded);
  ResolveCorrelations(&loaded);
  return loaded;
}

TEST(Suppression, TheDefaultThrottlesInformationalAndLowRulesByUserPerHour) {
  LoadedRules loaded =
      Parse({{"i", "informational"}, {"l", "low"}, {"m", "medium"}, {"h", "high"}});
  ASSERT_TRUE(ApplySuppression("", "", &loaded).ok());
  for (const Rule& r : loaded.rules) {
    const bool low = r.level == "informational" || r.level == "low";
    EXPECT_EQ(r.suppress.on(), low) << r.id;
    if (low) {
      EXPECT_EQ(r.suppress.period_ms, kHour);
      EXPECT_EQ(r.suppress.fields, std::vector<std::string>{"userIdentity.arn"});
    }
  }
}

TEST(Suppression, TheConfChangesTheDefaultAndEachRule) {
  LoadedRules loaded = Parse({{"l", "low"}, {"m", "medium"}, {"h", "high"}, {"named", "low"}});
  loaded.rules[3].name = "the_name";
  std::vector<std::string> unknown;
  const std::string conf =
      "[default]\nalert.suppress.levels = LOW, medium\nalert.suppress.period = 30m\n"
      "alert.suppress.fields = sourceIPAddress, userIdentity.arn\n"
      "[l]\nalert.suppress = 0\n"
      "[h]\nalert.suppress.period = 1d\n"
      "[the_name]\nalert.suppress.fields = eventName\n"
      "[no-such-rule]\nalert.suppress = 1\n";
  ASSERT_TRUE(ApplySuppression(conf, "rules/suppress.conf", &loaded, &unknown).ok());
  EXPECT_FALSE(loaded.rules[0].suppress.on());                 // its stanza turns it off
  EXPECT_EQ(loaded.rules[1].suppress.period_ms, 30 * 60'000);  // by level, the new default
  EXPECT_EQ(loaded.rules[1].suppress.fields,
            (std::vector<std::string>{"sourceIPAddress", "userIdentity.arn"}));
  EXPECT_EQ(loaded.rules[2].suppress.period_ms, kDay);  // named: on, with its own period
  EXPECT_EQ(loaded.rules[2].suppress.fields, loaded.rules[1].suppress.fields);
  EXPECT_EQ(loaded.rules[3].suppress.fields, std::vector<std::string>{"eventName"});  // by name
  EXPECT_EQ(loaded.rules[3].suppress.period_ms, 30 * 60'000);
  EXPECT_EQ(unknown, std::vector<std::string>{"no-such-rule"});

  LoadedRules off = Parse({{"l", "low"}});
  ASSERT_TRUE(ApplySuppression("alert.suppress = false\n", "s.conf", &off).ok());
  EXPECT_FALSE(off.rules[0].suppress.on());
}

TEST(Suppression, MistakesInTheConfAreNamedWithTheirLine) {
  LoadedRules loaded = Parse({{"l", "low"}});
  struct Case {
    std::string conf, message;
  };
  for (const Case& c : std::vector<Case>{
           {"[default]\nalert.suppress.perod = 1h\n",
            "s.conf:2: unknown setting \"alert.suppress.perod\""},
           {"alert.suppress.period = 2d\n", "s.conf:1: alert.suppress.period = \"2d\""},
           {"alert.suppress.period = soon\n", "s.conf:1: alert.suppress.period = \"soon\""},
           {"alert.suppress.levels = low, severe\n", "names \"severe\", not a Sigma level"},
           {"[l]\nalert.suppress.levels = low\n", "s.conf:2: unknown setting"},
           {"alert.suppress.fields = ,\n", "s.conf:1: alert.suppress.fields is empty"},
           {"alert.suppress = maybe\n", "s.conf:1: alert.suppress = \"maybe\" is not a boolean"},
       }) {
    Status s = ApplySuppression(c.conf, "s.conf", &loaded);
    ASSERT_FALSE(s.ok()) << c.conf;
    EXPECT_NE(s.message().find(c.message), std::string::npos) << s.message();
  }
}

TEST(Suppression, WindowsAreFixedAndStayInsideTheirUtcDay) {
  EXPECT_EQ(SuppressWindow(kMidnight + 90 * 60'000, kHour),
            std::make_pair(kMidnight + kHour, kMidnight + 2 * kHour));
  EXPECT_EQ(SuppressWindow(kMidnight, kHour), std::make_pair(kMidnight, kMidnight + kHour));
  // 5 hours: the day's last window is 20:00 to midnight, not into the next day.
  EXPECT_EQ(SuppressWindow(kMidnight + 23 * kHour, 5 * kHour),
            std::make_pair(kMidnight + 20 * kHour, kMidnight + kDay));
  EXPECT_EQ(SuppressWindow(kMidnight + kDay + kHour, 5 * kHour),
            std::make_pair(kMidnight + kDay, kMidnight + kDay + 5 * kHour));
  EXPECT_EQ(SuppressWindow(-1, kHour), std::make_pair(-kHour, int64_t{0}));
  EXPECT_EQ(PeriodText(kHour), "1h");
  EXPECT_EQ(PeriodText(90'000), "90s");
  int64_t start = 0;
  EXPECT_TRUE(ParseSuppressKey(SuppressKey(kMidnight, {"a", "b"}), &start));
  EXPECT_EQ(start, kMidnight);
  EXPECT_FALSE(ParseSuppressKey("e-1234", &start));
}

TEST(Suppression, RecentAlertsForgetTheOldestWindowsBeyondTheirBound) {
  RecentAlerts recent(4);
  recent.Add({{0, "a"}, {0, "b"}, {kHour, "c"}});
  EXPECT_EQ(recent.Known({{0, "a"}, {kHour, "a"}, {kHour, "c"}}),
            (std::vector<bool>{true, false, true}));
  recent.Add({{2 * kHour, "d"}, {2 * kHour, "e"}});  // 5 keys: window 0 goes
  EXPECT_EQ(recent.size(), 3u);
  EXPECT_EQ(recent.Known({{0, "a"}, {kHour, "c"}, {2 * kHour, "e"}}),
            (std::vector<bool>{false, true, true}));
}

// An event of an assumed role's session by `user` at `t`.
cloudtrail::Event RoleEvent(int n, const std::string& user, int64_t t) {
  cloudtrail::Event e;
  e.event_id = "ev-" + std::to_string(n);
  e.raw = R"({"eventID":")" + e.event_id +
          R"(","eventName":"ListBuckets","eventSource":)"
          R"("s3.amazonaws.com","userIdentity":{"type":"AssumedRole","arn":"arn:aws:sts::1:)"
          R"(assumed-role/r/)" +
          user + R"("}})";
  e.time_ms = t;
  e.account = "1";
  e.sourcetype = "aws:cloudtrail";
  return e;
}

// Counts commits and fails the first one.
class FailFirstSink final : public ingest::Sink {
 public:
  explicit FailFirstSink(store::Store* store) : inner_(store) {}
  Result<ingest::SinkStats> Commit(std::string_view index,
                                   std::vector<cloudtrail::Event>* events) override {
    if (commits_++ == 0) return IOError("disk full");
    return inner_.Commit(index, events);
  }

 private:
  int commits_ = 0;
  ingest::StoreSink inner_;
};

class SuppressStoreTest : public ::testing::Test {
 protected:
  void SetUp() override { root_ = testing::MakeTempDir("cairn_suppress"); }
  void TearDown() override { std::filesystem::remove_all(root_); }
  std::unique_ptr<store::Store> Open(const std::string& name) {
    store::StoreOptions options;
    options.data_dir = root_ + "/" + name;
    options.background_merge = false;
    auto st = store::Store::Open(options);
    EXPECT_TRUE(st.ok()) << st.status().ToString();
    return st.ok() ? std::move(st).value() : nullptr;
  }
  // Calls `fn` with each stored alert.
  template <typename F>
  static void ForEachAlert(store::Store* store, const F& fn) {
    auto snap = store->GetSnapshot(kAlertsIndex);
    if (!snap.ok()) return;
    for (const auto& seg : (*snap)->SegmentsInRange(INT64_MIN, INT64_MAX)) {
      std::vector<cloudtrail::Event> events;
      EXPECT_TRUE(seg->ReadEvents(0, seg->event_count(), &events).ok());
      for (const auto& e : events) fn(e);
    }
  }
  // The ids and keys of the stored alerts.
  static std::set<std::string> AlertKeys(store::Store* store, uint64_t* count) {
    std::set<std::string> out;
    *count = 0;
    ForEachAlert(store, [&](const cloudtrail::Event& e) {
      ++*count;
      const std::string raw(e.raw.view());
      const size_t k = raw.find("\"alert_key\":\"");
      out.insert(e.event_id + " " + raw.substr(k, raw.find('"', k + 13) - k));
    });
    return out;
  }
  // Adds the records `alerts` are stored as (ToEvent) to `out`.
  static void AddRecords(const std::vector<Alert>& alerts, std::multiset<std::string>* out) {
    for (const Alert& a : alerts) out->insert(std::string(ToEvent(a).raw.view()));
  }
  // The raw records of the stored alerts.
  static std::multiset<std::string> AlertRecords(store::Store* store) {
    std::multiset<std::string> out;
    ForEachAlert(store, [&](const cloudtrail::Event& e) { out.insert(std::string(e.raw.view())); });
    return out;
  }
  std::string root_;
};

// Events of three users over three hours, delivered in random batches in a random order, twice,
// through the streaming sink (its first commit failing): the alerts stored are those of the
// retro-hunt over the same events — one per user and hour, with the same ids — and a high-level
// rule over the same events still alerts on every one.
TEST_F(SuppressStoreTest, StreamingInAnyOrderStoresTheHuntsAlertsOncePerUserAndHour) {
  LoadedRules loaded = Parse({{"low-rule", "low"}, {"high-rule", "high"}});
  ASSERT_TRUE(ApplySuppression("", "", &loaded).ok());
  const RuleSet rules(std::move(loaded));
  std::vector<cloudtrail::Event> events;
  const std::vector<std::string> users = {"alice", "bob", "carol"};
  std::mt19937 rng(7);
  for (int n = 0; n < 300; ++n) {
    // Hours 0-2 of the day; carol only in hour 1.
    const std::string& user = users[n % 3];
    const int64_t hour = user == "carol" ? 1 : (n / 3) % 3;
    events.push_back(RoleEvent(n, user, kMidnight + hour * kHour + (rng() % kHour)));
  }
  std::set<std::pair<std::string, int64_t>> user_hours;
  for (const auto& e : events) {
    user_hours.insert({std::string(e.raw.view().substr(e.raw.view().find("r/") + 2)),
                       (e.time_ms - kMidnight) / kHour});
  }
  ASSERT_EQ(user_hours.size(), 7u);

  auto streamed = Open("streamed");
  FailFirstSink inner(streamed.get());
  DetectingSink sink(&inner, &rules, streamed.get());
  for (int round = 0; round < 2; ++round) {
    std::vector<cloudtrail::Event> shuffled = events;
    std::shuffle(shuffled.begin(), shuffled.end(), rng);
    size_t at = 0;
    while (at < shuffled.size()) {
      const size_t n = std::min<size_t>(1 + rng() % 40, shuffled.size() - at);
      std::vector<cloudtrail::Event> batch(shuffled.begin() + at, shuffled.begin() + at + n);
      auto st = sink.Commit("aws-cloudtrail", &batch);
      if (!st.ok()) {  // the first: nothing stored, so nothing suppressed; delivered again
        batch.assign(shuffled.begin() + at, shuffled.begin() + at + n);
        st = sink.Commit("aws-cloudtrail", &batch);
      }
      ASSERT_TRUE(st.ok()) << st.status().ToString();
      at += n;
    }
  }
  uint64_t streamed_count = 0;
  const std::set<std::string> streamed_keys = AlertKeys(streamed.get(), &streamed_count);
  EXPECT_EQ(streamed_count, 300u + 7u);  // high: every event; low: every user's hour, once

  auto hunted = Open("hunted");
  ingest::StoreSink plain(hunted.get());
  std::vector<cloudtrail::Event> copy = events;
  ASSERT_TRUE(plain.Commit("aws-cloudtrail", &copy).ok());
  auto hunt = RetroHunt(hunted.get(), rules, HuntOptions{});
  ASSERT_TRUE(hunt.ok()) << hunt.status().ToString();
  // The high rule's hits, one per event; the low rule keeps one per window and user (all its
  // alert is made of), so a hunt's memory grows with its alerts, not with the events matched.
  EXPECT_EQ(hunt->hits.size(), 300u + 7u);
  ASSERT_EQ(hunt->alerts.size(), 307u);
  ASSERT_TRUE(StoreAlerts(hunted.get(), hunt->alerts).ok());
  uint64_t hunted_count = 0;
  EXPECT_EQ(AlertKeys(hunted.get(), &hunted_count), streamed_keys);
  EXPECT_EQ(hunted_count, 307u);
  // A suppressed alert stands for its window, not for one of its events: its record is the same
  // whichever event arrived first.
  EXPECT_EQ(AlertRecords(hunted.get()), AlertRecords(streamed.get()));
  std::set<std::pair<std::string, int64_t>> alerted;
  for (const Alert& a : hunt->alerts) {
    if (a.rule_id != "low-rule") continue;
    int64_t start = 0;
    ASSERT_TRUE(ParseSuppressKey(a.key, &start));
    EXPECT_EQ(a.time_ms, start);
    EXPECT_EQ((start - kMidnight) % kHour, 0);
    EXPECT_TRUE(a.event_id.empty());
    alerted.insert(
        {a.user_arn.substr(a.user_arn.rfind('/') + 1) + "\"}}", (start - kMidnight) / kHour});
  }
  EXPECT_EQ(alerted, user_hours);
}

// A hunt that hands its alerts on as it finds them (cairn detect), a few segments at a time,
// raises the alerts the hunt that returns them all raises — each suppressed window once, though
// its hits lie in several segments — and keeps no hits.
TEST_F(SuppressStoreTest, AHuntThatStreamsItsAlertsRaisesTheSameOnes) {
  LoadedRules loaded = Parse({{"low-rule", "low"}, {"high-rule", "high"}});
  ASSERT_TRUE(ApplySuppression("", "", &loaded).ok());
  const RuleSet rules(std::move(loaded));
  auto store = Open("hunted");
  ingest::StoreSink plain(store.get());
  const std::vector<std::string> users = {"alice", "bob", "carol"};
  // 12 commits, each its own segment, every one holding each user's hours 0-2.
  for (int batch = 0; batch < 12; ++batch) {
    std::vector<cloudtrail::Event> events;
    for (int n = 0; n < 30; ++n) {
      events.push_back(RoleEvent(batch * 30 + n, users[n % 3],
                                 kMidnight + (n / 3 % 3) * kHour + batch * 60'000 + n * 1'000));
    }
    ASSERT_TRUE(plain.Commit("aws-cloudtrail", &events).ok());
  }
  auto snap = store->GetSnapshot("aws-cloudtrail");
  ASSERT_TRUE(snap.ok());
  ASSERT_GT((*snap)->SegmentsInRange(INT64_MIN, INT64_MAX).size(), 4u);  // more than one group

  auto whole = RetroHunt(store.get(), rules, HuntOptions{});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  std::multiset<std::string> want;
  AddRecords(whole->alerts, &want);
  ASSERT_EQ(want.size(), 360u + 9u);  // high: every event; low: 3 users x 3 hours

  HuntOptions streaming;
  std::multiset<std::string> got;
  int calls = 0;
  streaming.on_alerts = [&](std::vector<Alert> alerts) {
    ++calls;
    AddRecords(alerts, &got);
    return Status::Ok();
  };
  auto streamed = RetroHunt(store.get(), rules, streaming);
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  EXPECT_EQ(got, want);
  EXPECT_GT(calls, 1);
  EXPECT_TRUE(streamed->alerts.empty());
  EXPECT_TRUE(streamed->hits.empty());
  EXPECT_EQ(streamed->events_scanned, 360u);
  // The receiver's error stops the hunt.
  streaming.on_alerts = [](std::vector<Alert>) { return IOError("disk full"); };
  auto stopped = RetroHunt(store.get(), rules, streaming);
  ASSERT_FALSE(stopped.ok());
  EXPECT_NE(stopped.status().message().find("disk full"), std::string::npos);
}

// A hunt that streams its alerts judges the correlations' windows as it reads, in the order of
// the segments' first events: it raises the correlation alerts of the hunt that returns them all
// — bursts whose hits lie in segments overlapping in time included — and raises the windows of
// the early hours before it has read the late ones, so it does not hold every member hit to the
// end.
TEST_F(SuppressStoreTest, AStreamingHuntJudgesCorrelationsAsItReads) {
  LoadedRules loaded;
  ParseSigmaText(
      "title: Member\nid: member\nname: member\nlevel: high\nlogsource:\n    product: aws\n"
      "    service: cloudtrail\ndetection:\n    sel:\n        userIdentity.type: AssumedRole\n"
      "    condition: sel\n---\n"
      "title: Burst\nid: burst\nlevel: high\ncorrelation:\n    type: event_count\n"
      "    rules: [member]\n    group-by: [userIdentity.arn]\n    timespan: 5m\n"
      "    condition:\n        gte: 3\n",
      "burst.yml", &loaded);
  ResolveCorrelations(&loaded);
  ASSERT_EQ(loaded.correlations.size(), 1u);
  const RuleSet rules(std::move(loaded));
  auto store = Open("hunted");
  ingest::StoreSink plain(store.get());
  int n = 0;
  // Hours 0-5, a segment each: alice bursts (3 events in 2 minutes), bob does not (2).
  for (int hour = 0; hour < 6; ++hour) {
    std::vector<cloudtrail::Event> events;
    const int64_t t = kMidnight + hour * kHour;
    for (int k = 0; k < 3; ++k) events.push_back(RoleEvent(n++, "alice", t + k * 60'000));
    for (int k = 0; k < 2; ++k) events.push_back(RoleEvent(n++, "bob", t + k * 60'000));
    ASSERT_TRUE(plain.Commit("aws-cloudtrail", &events).ok());
  }
  // Six more segments spanning hours 0-5 (overlapping the others): each adds bob's third event
  // of one hour's burst, so his bursts exist only across segments, and carol's events at the
  // same two moments (six each: two bursts of three at each).
  for (int hour = 0; hour < 6; ++hour) {
    std::vector<cloudtrail::Event> events = {
        RoleEvent(n++, "carol", kMidnight + 30 * 60'000),
        RoleEvent(n++, "bob", kMidnight + hour * kHour + 3 * 60'000),
        RoleEvent(n++, "carol", kMidnight + 5 * kHour + 30 * 60'000)};
    ASSERT_TRUE(plain.Commit("aws-cloudtrail", &events).ok());
  }
  auto whole = RetroHunt(store.get(), rules, HuntOptions{});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  std::multiset<std::string> want;
  AddRecords(whole->alerts, &want);
  auto bursts = [](const std::vector<Alert>& alerts) {
    return static_cast<size_t>(std::count_if(alerts.begin(), alerts.end(),
                                             [](const Alert& a) { return a.rule_id == "burst"; }));
  };
  ASSERT_EQ(bursts(whole->alerts),
            16u);  // alice's and bob's in each of six hours, carol's two at two moments

  HuntOptions streaming;
  std::multiset<std::string> got;
  std::vector<size_t> bursts_per_call;
  streaming.on_alerts = [&](std::vector<Alert> alerts) {
    AddRecords(alerts, &got);
    bursts_per_call.push_back(bursts(alerts));
    return Status::Ok();
  };
  auto streamed = RetroHunt(store.get(), rules, streaming);
  ASSERT_TRUE(streamed.ok()) << streamed.status().ToString();
  EXPECT_EQ(got, want);
  ASSERT_GT(bursts_per_call.size(), 1u);
  // Windows of the early hours were raised before the last group was read.
  size_t early = 0;
  for (size_t i = 0; i + 1 < bursts_per_call.size(); ++i) early += bursts_per_call[i];
  EXPECT_GT(early, 0u);
}

// A streaming hunt lets go of the suppressed windows no segment left to read can reach, and
// still raises each window once when its hits lie in segments read in different groups: twelve
// segments of 20 minutes each over four hours, three to an hour, read four at a time.
TEST_F(SuppressStoreTest, AStreamingHuntRaisesEachWindowOnceAcrossGroups) {
  LoadedRules loaded = Parse({{"low-rule", "low"}});
  ASSERT_TRUE(ApplySuppression("", "", &loaded).ok());
  const RuleSet rules(std::move(loaded));
  auto store = Open("hunted");
  ingest::StoreSink plain(store.get());
  int n = 0;
  for (int part = 0; part < 12; ++part) {
    std::vector<cloudtrail::Event> events;
    for (int k = 0; k < 10; ++k) {
      const int64_t t = kMidnight + part * 20 * 60'000 + k * 60'000;
      events.push_back(RoleEvent(n++, k % 2 == 0 ? "alice" : "bob", t));
    }
    ASSERT_TRUE(plain.Commit("aws-cloudtrail", &events).ok());
  }
  std::multiset<std::string> got;
  HuntOptions streaming;
  streaming.on_alerts = [&](std::vector<Alert> alerts) {
    AddRecords(alerts, &got);
    return Status::Ok();
  };
  ASSERT_TRUE(RetroHunt(store.get(), rules, streaming).ok());
  auto whole = RetroHunt(store.get(), rules, HuntOptions{});
  ASSERT_TRUE(whole.ok()) << whole.status().ToString();
  std::multiset<std::string> want;
  AddRecords(whole->alerts, &want);
  EXPECT_EQ(want.size(), 8u);  // two users in each of four hours
  EXPECT_EQ(got, want);
}

TEST(Suppression, LoadRuleDirectoryReadsTheConfAndRefusesItsMistakes) {
  const std::string dir = testing::MakeTempDir("cairn_suppress_dir");
  std::ofstream(dir + "/low.yml") << RuleText("low-rule", "low");
  auto loaded = LoadRuleDirectory(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_TRUE(loaded->rules[0].suppress.on());  // the default
  std::ofstream(dir + "/suppress.conf")
      << "[low-rule]\nalert.suppress = 0\n[gone]\nalert.suppress = 1\n";
  loaded = LoadRuleDirectory(dir);
  ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
  EXPECT_FALSE(loaded->rules[0].suppress.on());
  ASSERT_EQ(loaded->refused.size(), 1u);
  EXPECT_NE(loaded->refused[0].ToString().find("stanza [gone] names no loaded rule"),
            std::string::npos);
  std::ofstream(dir + "/suppress.conf") << "alert.suppress.period = 3d\n";
  loaded = LoadRuleDirectory(dir);
  ASSERT_FALSE(loaded.ok());
  EXPECT_NE(loaded.status().message().find("suppress.conf:1"), std::string::npos);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::detect
