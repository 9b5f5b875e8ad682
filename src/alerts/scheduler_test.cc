#include "alerts/scheduler.h"

#include <gtest/gtest.h>

#include <thread>

#include "alerts/test_util.h"
#include "aws/test_http_server.h"
#include "common/clock.h"
#include "detect/alert.h"

namespace cairn::alerts {
namespace {

using testing::MakeEvent;
using testing::T;
using testing::TempStore;

std::vector<SavedSearch> Parse(const std::string& text) {
  auto r = ParseSavedSearches(text, "test.conf");
  EXPECT_TRUE(r.ok()) << r.status().ToString();
  return r.ok() ? *r : std::vector<SavedSearch>{};
}

uint64_t AlertCount(store::Store* store) {
  auto info = store->Info(detect::kAlertsIndex);
  return info.ok() ? info->events : 0;
}

struct Fixture {
  TempStore ts;
  ManualClock clock{T("2024-03-01T10:00:00Z") * 1000};
  aws::testing::TestHttpServer server{[](const aws::testing::TestRequest&) {
    aws::testing::TestResponse r;
    r.body = "ok";
    return r;
  }};
  SchedulerOptions Options() {
    SchedulerOptions o;
    o.data_dir = ts.dir;
    o.store = ts.store.get();
    o.clock = &clock;
    aws::HttpOptions h;
    h.use_env_proxy = false;
    h.total_timeout_ms = 5000;
    o.http = aws::NewCurlHttpClient(h);
    return o;
  }
  std::string Conf(const std::string& extra = "") {
    return "[stop logging]\nsearch = eventName=StopLogging\ncron_schedule = */5 * * * *\n"
           "enableSched = 1\ncounttype = number of events\nrelation = greater than\n"
           "quantity = 0\naction.webhook = 1\naction.webhook.param.url = " +
           server.url() + "/hook\n" + extra;
  }
};

TEST(Scheduler, WindowsTileWithoutGapsOrOverlaps) {
  Fixture f;
  f.ts.Add({MakeEvent("e1", "2024-03-01T10:07:00Z", "StopLogging"),
            MakeEvent("e2", "2024-03-01T10:21:30Z", "StopLogging"),
            MakeEvent("e3", "2024-03-01T10:15:00Z", "StopLogging"),  // exactly a boundary
            MakeEvent("x1", "2024-03-01T10:12:00Z", "DescribeTrails")});
  Scheduler s(Parse(f.Conf()), f.Options());
  ASSERT_TRUE(s.Init().ok());
  // First sight: only the most recent scheduled time.
  auto r = s.RunDue();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].scheduled_ms, T("2024-03-01T10:00:00Z"));
  EXPECT_EQ((*r)[0].earliest_ms, T("2024-03-01T09:55:00Z"));
  f.clock.Advance(32LL * 60 * 1'000'000);  // 10:32
  r = s.RunDue();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 6u);  // 10:05 .. 10:30
  int64_t previous_latest = T("2024-03-01T10:00:00Z");
  uint64_t total = 0;
  for (const auto& o : *r) {
    EXPECT_TRUE(o.status.ok()) << o.status.ToString();
    EXPECT_EQ(o.earliest_ms, previous_latest);  // no gap, no overlap
    EXPECT_EQ(o.latest_ms, o.scheduled_ms);
    previous_latest = o.latest_ms;
    total += o.result_count;
  }
  EXPECT_EQ(total, 3u);                 // every event counted in exactly one window
  EXPECT_TRUE((*r)[1].triggered);       // 10:05-10:10 holds e1
  EXPECT_EQ((*r)[2].result_count, 0u);  // 10:10-10:15: e3 at 10:15 belongs to the next one
  EXPECT_EQ((*r)[3].result_count, 1u);
  EXPECT_EQ(f.server.requests().size(), 3u);
  EXPECT_EQ(AlertCount(f.ts.store.get()), 3u);
  // Nothing due: nothing runs.
  r = s.RunDue();
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(r->empty());
}

TEST(Scheduler, ExactlyOnceAcrossACrashAndCatchUp) {
  Fixture f;
  f.ts.Add({MakeEvent("e1", "2024-03-01T10:07:00Z", "StopLogging"),
            MakeEvent("e2", "2024-03-01T10:38:00Z", "StopLogging")});
  {
    Scheduler s(Parse(f.Conf()), f.Options());
    ASSERT_TRUE(s.Init().ok());
    ASSERT_TRUE(s.RunDue().ok());  // 10:00
  }
  f.clock.Advance(41LL * 60 * 1'000'000);  // 10:41: 10:05 .. 10:40 due
  {
    // The process dies after storing the 10:40 window's alert and running its webhook, before
    // writing the state.
    SchedulerOptions o = f.Options();
    o.before_state_write = [](const std::string&, int64_t t) {
      return t != T("2024-03-01T10:40:00Z");
    };
    Scheduler s(Parse(f.Conf()), o);
    ASSERT_TRUE(s.Init().ok());
    auto r = s.RunDue();
    ASSERT_FALSE(r.ok());
    EXPECT_EQ(r.status().code(), StatusCode::kCancelled);
    EXPECT_EQ(f.server.requests().size(), 2u);  // 10:10 (e1) and 10:40 (e2)
    EXPECT_EQ(AlertCount(f.ts.store.get()), 2u);
  }
  {
    // Restart: the 10:40 window runs again, stores nothing new, sends nothing again.
    Scheduler s(Parse(f.Conf()), f.Options());
    ASSERT_TRUE(s.Init().ok());
    EXPECT_EQ(s.state("stop logging")->last_run_ms, T("2024-03-01T10:35:00Z"));
    auto r = s.RunDue();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 1u);
    EXPECT_EQ((*r)[0].scheduled_ms, T("2024-03-01T10:40:00Z"));
    EXPECT_TRUE((*r)[0].triggered);
    EXPECT_EQ((*r)[0].alerts, 1u);
    EXPECT_EQ((*r)[0].new_alerts, 0u);
    EXPECT_EQ((*r)[0].actions_ok, 0);
    EXPECT_EQ(f.server.requests().size(), 2u);
    EXPECT_EQ(AlertCount(f.ts.store.get()), 2u);
    r = s.RunDue();
    ASSERT_TRUE(r.ok());
    EXPECT_TRUE(r->empty());
  }
  // Three hours of downtime with an event at 12:02; the catch-up is bounded to 10 runs.
  f.ts.Add({MakeEvent("e3", "2024-03-01T13:32:00Z", "StopLogging"),
            MakeEvent("e4", "2024-03-01T12:02:00Z", "StopLogging")});
  f.clock.Advance(3LL * 3600 * 1'000'000);  // 13:41
  {
    SchedulerOptions o = f.Options();
    o.max_catchup_runs = 10;
    Scheduler s(Parse(f.Conf()), o);
    ASSERT_TRUE(s.Init().ok());
    auto r = s.RunDue();
    ASSERT_TRUE(r.ok()) << r.status().ToString();
    ASSERT_EQ(r->size(), 10u);  // 12:55 .. 13:40; 10:45 .. 12:50 skipped with a warning
    EXPECT_EQ(r->front().scheduled_ms, T("2024-03-01T12:55:00Z"));
    EXPECT_EQ(r->back().scheduled_ms, T("2024-03-01T13:40:00Z"));
    int triggered = 0;
    for (const auto& o2 : *r) triggered += o2.triggered;
    EXPECT_EQ(triggered, 1);  // e3; e4 lies in a skipped window
    EXPECT_EQ(AlertCount(f.ts.store.get()), 3u);
    EXPECT_EQ(f.server.requests().size(), 3u);
  }
}

TEST(Scheduler, FirstRunSinceRunsEveryWindowAndDispatchTimesFollowTheSchedule) {
  Fixture f;
  f.ts.Add({MakeEvent("e1", "2024-03-01T09:42:00Z", "StopLogging")});
  SchedulerOptions o = f.Options();
  o.first_run_since_ms = T("2024-03-01T09:30:00Z");
  Scheduler s(Parse(f.Conf("dispatch.earliest_time = -20m@m\ndispatch.latest_time = -15m@m\n")), o);
  ASSERT_TRUE(s.Init().ok());
  auto r = s.RunDue();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 6u);  // 09:35 .. 10:00
  // 09:50 ran the window 09:30-09:35 relative to its own scheduled time, not to the clock.
  const RunOutcome& w = (*r)[3];
  EXPECT_EQ(w.scheduled_ms, T("2024-03-01T09:50:00Z"));
  EXPECT_EQ(w.earliest_ms, T("2024-03-01T09:30:00Z"));
  EXPECT_EQ(w.latest_ms, T("2024-03-01T09:35:00Z"));
  int triggered = 0;
  for (const auto& x : *r) triggered += x.triggered;
  EXPECT_EQ(triggered, 1);
  EXPECT_TRUE((*r)[5].triggered);  // 10:00 ran 09:40-09:45, which holds 09:42
  EXPECT_EQ((*r)[5].earliest_ms, T("2024-03-01T09:40:00Z"));
}

TEST(Scheduler, ThrottlesPerFieldValues) {
  Fixture f;
  const std::string a = "arn:aws:iam::111122223333:user/a", b = "arn:aws:iam::111122223333:user/b";
  f.ts.Add({MakeEvent("e1", "2024-03-01T10:02:00Z", "StopLogging", a),
            MakeEvent("e2", "2024-03-01T10:07:00Z", "StopLogging", a),
            MakeEvent("e3", "2024-03-01T10:08:00Z", "StopLogging", b),
            MakeEvent("e4", "2024-03-01T10:22:00Z", "StopLogging", a)});
  SchedulerOptions o = f.Options();
  o.first_run_since_ms = T("2024-03-01T10:00:00Z");
  f.clock.Advance(26LL * 60 * 1'000'000);  // 10:26
  Scheduler s(Parse(f.Conf("alert.digest_mode = 0\nalert.suppress = 1\n"
                           "alert.suppress.fields = userIdentity.arn\n"
                           "alert.suppress.period = 15m\n")),
              o);
  ASSERT_TRUE(s.Init().ok());
  auto r = s.RunDue();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 5u);           // 10:05 .. 10:25
  EXPECT_EQ((*r)[0].new_alerts, 1u);  // a (e1)
  EXPECT_EQ((*r)[1].new_alerts, 1u);  // b (e3); a suppressed until 10:20
  EXPECT_EQ((*r)[1].suppressed, 1u);
  EXPECT_EQ((*r)[4].new_alerts, 1u);  // a again at 10:25: the period ended
  EXPECT_EQ(AlertCount(f.ts.store.get()), 3u);
  EXPECT_EQ(f.server.requests().size(), 3u);
  // The suppression survives a restart.
  f.ts.Add({MakeEvent("e5", "2024-03-01T10:27:00Z", "StopLogging", a)});
  f.clock.Advance(5LL * 60 * 1'000'000);
  Scheduler again(Parse(f.Conf("alert.digest_mode = 0\nalert.suppress = 1\n"
                               "alert.suppress.fields = userIdentity.arn\n"
                               "alert.suppress.period = 15m\n")),
                  f.Options());
  ASSERT_TRUE(again.Init().ok());
  r = again.RunDue();
  ASSERT_TRUE(r.ok());
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].suppressed, 1u);
  EXPECT_EQ((*r)[0].new_alerts, 0u);
}

TEST(Scheduler, ConditionsAndCustom) {
  Fixture f;
  f.ts.Add({MakeEvent("e1", "2024-03-01T09:56:00Z", "StopLogging"),
            MakeEvent("e2", "2024-03-01T09:57:00Z", "StopLogging"),
            MakeEvent("e3", "2024-03-01T09:58:00Z", "StopLogging")});
  auto run = [&](const std::string& extra) {
    Scheduler s(Parse(f.Conf(extra)), f.Options());
    EXPECT_TRUE(s.Init().ok());
    auto r = s.RunWindow(s.searches()[0], T("2024-03-01T10:00:00Z"), /*dry_run=*/true);
    EXPECT_TRUE(r.ok());
    EXPECT_TRUE(r->status.ok()) << r->status.ToString();
    return r->triggered;
  };
  EXPECT_TRUE(run("quantity = 2\n"));
  EXPECT_FALSE(run("quantity = 3\n"));
  EXPECT_TRUE(run("relation = less than\nquantity = 4\n"));
  EXPECT_TRUE(run("relation = equal to\nquantity = 3\n"));
  EXPECT_FALSE(run("relation = not equal to\nquantity = 3\n"));
  EXPECT_TRUE(run("counttype = number of hosts\nrelation = equal to\nquantity = 1\n"));
  EXPECT_FALSE(run("relation = rises by\nquantity = 1\n"));  // no previous count
  EXPECT_TRUE(
      run("search = eventName=StopLogging | stats count\ncounttype = custom\n"
          "alert_condition = search count > 2\n"));
  EXPECT_FALSE(
      run("search = eventName=StopLogging | stats count\ncounttype = custom\n"
          "alert_condition = where count > 3\n"));
  EXPECT_TRUE(run("search = eventName=NothingLikeThis\ncounttype = always\n"));
}

TEST(Scheduler, AWildcardInANameDoesNotHideAnotherSearchsAlerts) {
  Fixture f;
  f.ts.Add({MakeEvent("e1", "2024-03-01T09:57:00Z", "StopLogging")});
  // "stop*" would match "stop logging" as an SPL term: its alerts must still count as new.
  const std::string conf = f.Conf() +
                           "\n[stop*]\nsearch = eventName=StopLogging\n"
                           "cron_schedule = */5 * * * *\nenableSched = 1\n";
  Scheduler s(Parse(conf), f.Options());
  ASSERT_TRUE(s.Init().ok());
  auto r = s.RunDue();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  EXPECT_EQ((*r)[0].new_alerts + (*r)[1].new_alerts, 2u);
  EXPECT_EQ(AlertCount(f.ts.store.get()), 2u);
}

TEST(Scheduler, LoopRunsEachScheduledTimeAsTheClockReachesItUntilStopped) {
  Fixture f;
  SchedulerOptions o = f.Options();
  std::vector<int64_t> ran;
  Scheduler* self = nullptr;
  o.before_state_write = [&](const std::string&, int64_t t) {
    ran.push_back(t);
    if (ran.size() == 4) self->Stop();
    return true;
  };
  Scheduler s(Parse(f.Conf()), o);
  self = &s;
  ASSERT_TRUE(s.Init().ok());
  std::thread loop([&] { EXPECT_TRUE(s.Loop().ok()); });
  loop.join();  // the manual clock advances as Loop sleeps on it
  ASSERT_EQ(ran.size(), 4u);
  for (size_t i = 0; i < ran.size(); ++i) {
    EXPECT_EQ(ran[i], T("2024-03-01T10:00:00Z") + static_cast<int64_t>(i) * 300'000) << i;
  }
  // It slept until each scheduled time, not past it.
  EXPECT_LT(f.clock.NowMicros() / 1000, T("2024-03-01T10:15:00Z") + 1000);
}

TEST(Scheduler, StateRoundTrips) {
  std::map<std::string, SearchState> st;
  st["a \"quoted\" name"].last_run_ms = 123;
  st["a \"quoted\" name"].suppressed_until["x\x1fy"] = 456;
  st["b"].runs = 7;
  auto back = StateFromJson(StateToJson(st));
  ASSERT_TRUE(back.ok()) << back.status().ToString();
  EXPECT_EQ(back->at("a \"quoted\" name").last_run_ms, 123);
  EXPECT_EQ(back->at("a \"quoted\" name").suppressed_until.at("x\x1fy"), 456);
  EXPECT_EQ(back->at("b").runs, 7u);
  EXPECT_FALSE(StateFromJson("{nope").ok());
}

}  // namespace
}  // namespace cairn::alerts
