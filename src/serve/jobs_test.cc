// JobManager over a real store: results and paging, permissions, errors at creation, the worker
// bound, cancel, finalize, max_count, max_jobs and the TTL.

#include "serve/jobs.h"

#include <gtest/gtest.h>

#include <condition_variable>
#include <filesystem>
#include <mutex>
#include <set>
#include <thread>

#include "common/testing.h"
#include "query/engine.h"
#include "serve/rest.h"
#include "serve/router.h"
#include "serve/test_request.h"
#include "store/store.h"
#include "store/test_util.h"

namespace cairn::serve {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;  // 2023-11-14T22:13:20Z

class JobsTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cairn_jobs");
    store::StoreOptions so;
    so.data_dir = dir_;
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(*st);
    ASSERT_TRUE(
        store_->Commit("main", store::testing::SyntheticBatch(0, 3000, kStart, 3'600'000)).ok());
  }
  void TearDown() override {
    store_->Close();
    std::filesystem::remove_all(dir_);
  }
  JobManagerOptions Options() {
    JobManagerOptions o;
    o.store = store_.get();
    o.data_dir = dir_;
    o.workers = 1;
    return o;
  }
  static JobRequest Req(std::string search, std::string owner = "alice") {
    JobRequest r;
    r.search = std::move(search);
    r.owner = std::move(owner);
    return r;
  }
  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(JobsTest, RunsOnTheStoreAndPagesResults) {
  JobManager jobs(Options());
  auto sid = jobs.Create(Req("search eventName=ConsoleLogin"));
  ASSERT_TRUE(sid.ok()) << sid.status().ToString();
  auto st = jobs.Wait(*sid, "alice", false);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, DispatchState::kDone);
  // ConsoleLogin is every 7th synthetic event from n = 5.
  const uint64_t want = (3000 - 5 + 6) / 7;
  EXPECT_EQ(st->result_count, want);
  EXPECT_EQ(st->event_count, want);
  EXPECT_GE(st->scan_count, want);
  EXPECT_TRUE(st->events_search);
  auto page = jobs.Results(*sid, "alice", false, 10, 5);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->rows.size(), 5u);
  EXPECT_EQ(page->offset, 10u);
  auto col =
      std::find(page->fields.begin(), page->fields.end(), "eventName") - page->fields.begin();
  ASSERT_LT(static_cast<size_t>(col), page->fields.size());
  for (const auto& row : page->rows)
    EXPECT_EQ(row[static_cast<size_t>(col)], query::Values{"ConsoleLogin"});
  EXPECT_EQ(page->fields.front(), "_time");
  EXPECT_EQ(page->fields.back(), "_raw");
  // Past the end: empty; count 0: everything from offset.
  EXPECT_TRUE(jobs.Results(*sid, "alice", false, want + 5, 10)->rows.empty());
  EXPECT_EQ(jobs.Results(*sid, "alice", false, 0, 0)->rows.size(), want);

  // Stats: the columns the search fixed.
  auto stats = jobs.Create(Req("search * | stats count by eventSource"));
  ASSERT_TRUE(stats.ok());
  ASSERT_TRUE(jobs.Wait(*stats, "alice", false).ok());
  auto sp = jobs.Results(*stats, "alice", false, 0, 0);
  ASSERT_TRUE(sp.ok());
  EXPECT_EQ(sp->fields, (std::vector<std::string>{"eventSource", "count"}));
  EXPECT_EQ(sp->rows.size(), 4u);
  EXPECT_FALSE(jobs.Status(*stats, "alice", false)->events_search);
}

TEST_F(JobsTest, ErrorsAtCreationAndOtherUsersJobsAreInvisible) {
  JobManager jobs(Options());
  EXPECT_EQ(jobs.Create(Req("search * | nosuchcommand")).status().code(),
            StatusCode::kInvalidArgument);
  EXPECT_EQ(jobs.Create(Req("   ")).status().code(), StatusCode::kInvalidArgument);
  JobRequest bad_time = Req("search *");
  bad_time.earliest_time = "not a time";
  EXPECT_EQ(jobs.Create(bad_time).status().code(), StatusCode::kInvalidArgument);
  JobRequest bad_id = Req("search *");
  bad_id.sid = "../x";
  EXPECT_EQ(jobs.Create(bad_id).status().code(), StatusCode::kInvalidArgument);
  JobRequest named = Req("| makeresults");
  named.sid = "my_job.1";
  ASSERT_TRUE(jobs.Create(named).ok());
  EXPECT_EQ(jobs.Create(named).status().code(), StatusCode::kAlreadyExists);

  EXPECT_EQ(jobs.Status("my_job.1", "bob", false).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(jobs.Status("my_job.1", "bob", true).ok());  // an admin sees every job
  EXPECT_EQ(jobs.Cancel("my_job.1", "bob", false).code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs.List("bob", false).size(), 0u);
  EXPECT_EQ(jobs.List("alice", false).size(), 1u);
  EXPECT_EQ(jobs.Status("nope", "alice", true).status().code(), StatusCode::kNotFound);
}

TEST_F(JobsTest, TimeRangeLimitsTheSearch) {
  JobManager jobs(Options());
  JobRequest r = Req("search * | stats count");
  r.earliest_time = std::to_string((kStart + 1'800'000) / 1000);  // the second half hour
  auto sid = jobs.Create(r);
  ASSERT_TRUE(sid.ok());
  ASSERT_TRUE(jobs.Wait(*sid, "alice", false).ok());
  auto page = jobs.Results(*sid, "alice", false, 0, 0);
  ASSERT_TRUE(page.ok());
  ASSERT_EQ(page->rows.size(), 1u);
  const long n = std::stol(page->rows[0][0][0]);
  EXPECT_GT(n, 1000);
  EXPECT_LT(n, 2000);
}

TEST_F(JobsTest, WorkersBoundRunningSearchesCancelAndFinalizeStopThem) {
  JobManagerOptions o = Options();
  o.workers = 1;
  o.concurrency = 2;
  JobManager jobs(o);
  // Searches that rewrite every event's text (about 0.3 s each): slow enough to queue.
  const std::string heavy =
      "search * | eval a=replace(_raw, \"[aeiou]\", \"x\") | eval b=replace(a, \"[0-9]\", \"y\") | "
      "stats dc(b)";
  std::vector<std::string> sids;
  for (int i = 0; i < 4; ++i) {
    auto sid = jobs.Create(Req(heavy));
    ASSERT_TRUE(sid.ok()) << sid.status().ToString();
    sids.push_back(*sid);
  }
  size_t max_running = 0, max_queued = 0, max_computing = 0;
  for (int i = 0; i < 200; ++i) {
    max_running = std::max(max_running, jobs.running());
    max_computing = std::max(max_computing, jobs.computing());
    max_queued = std::max(max_queued, jobs.queued());
    std::this_thread::sleep_for(std::chrono::milliseconds(2));
  }
  EXPECT_EQ(max_running, 2u);    // under way: concurrency
  EXPECT_EQ(max_computing, 1u);  // computing: the one CPU slot
  EXPECT_GE(max_queued, 1u);
  // Cancel removes a job at once, queued or running.
  EXPECT_TRUE(jobs.Cancel(sids[3], "alice", false).ok());
  EXPECT_EQ(jobs.Status(sids[3], "alice", false).status().code(), StatusCode::kNotFound);
  // Finalize: done, with what was found so far.
  EXPECT_TRUE(jobs.Finalize(sids[2], "alice", false).ok());
  auto fin = jobs.Wait(sids[2], "alice", false);
  ASSERT_TRUE(fin.ok());
  EXPECT_EQ(fin->state, DispatchState::kDone);
  if (fin->finalized) {
    ASSERT_FALSE(fin->messages.empty());
    EXPECT_NE(fin->messages.back().text.find("finalized"), std::string::npos);
  }
  for (int i = 0; i < 2; ++i)
    EXPECT_EQ(jobs.Wait(sids[static_cast<size_t>(i)], "alice", false)->state, DispatchState::kDone);
}

// doneProgress follows the segments a running search has taken up: it rises, stays below 1
// while the search runs, and is 1 when it is done.
TEST_F(JobsTest, ProgressFollowsTheSegmentsScanned) {
  for (int i = 1; i < 8; ++i) {
    ASSERT_TRUE(store_
                    ->Commit("main", store::testing::SyntheticBatch(
                                         i * 3000, 3000, kStart + i * 3'600'000, 3'600'000))
                    .ok());
  }
  JobManager jobs(Options());
  auto sid = jobs.Create(
      Req("search * | eval a=replace(_raw, \"[aeiou]\", \"x\") | eval b=replace(a, \"[0-9]\", "
          "\"y\") | stats dc(b)"));
  ASSERT_TRUE(sid.ok()) << sid.status().ToString();
  double last = 0;
  std::set<double> between;
  for (int i = 0; i < 5000; ++i) {
    auto st = jobs.Status(*sid, "alice", false);
    ASSERT_TRUE(st.ok());
    if (st->state == DispatchState::kDone) break;
    EXPECT_GE(st->progress, last);
    EXPECT_LT(st->progress, 1.0);
    last = st->progress;
    if (st->progress > 0) between.insert(st->progress);
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  auto done = jobs.Wait(*sid, "alice", false);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->progress, 1.0);
  EXPECT_GE(between.size(), 2u);  // seen at least two steps on the way
}

TEST_F(JobsTest, AnotherUsersSearchDoesNotWaitBehindAllOfOnesUsers) {
  JobManagerOptions o = Options();
  o.workers = 1;
  o.concurrency = 1;  // one job under way: the order jobs start in decides
  // Enough events that the first job still runs, on a loaded machine too, when the others are
  // cancelled (cancellation stops it at its next batch).
  ASSERT_TRUE(
      store_->Commit("big", store::testing::SyntheticBatch(0, 100000, kStart, 3'600'000)).ok());
  JobManager jobs(o);
  const std::string heavy =
      "search index=big | eval a=replace(_raw, \"[aeiou]\", \"x\") | "
      "eval b=replace(a, \"[0-9]\", \"y\") | stats dc(b)";
  std::vector<std::string> alice;
  for (int i = 0; i < 3; ++i) alice.push_back(*jobs.Create(Req(heavy, "alice")));
  std::this_thread::sleep_for(std::chrono::milliseconds(20));  // alice's first is running
  auto bob = jobs.Create(Req("search eventName=CreateUser | stats count", "bob"));
  ASSERT_TRUE(bob.ok());
  auto done = jobs.Wait(*bob, "bob", false);
  ASSERT_TRUE(done.ok());
  EXPECT_EQ(done->state, DispatchState::kDone);
  // Bob's search ran next, before alice's last ones.
  EXPECT_NE(jobs.Status(alice[2], "alice", false)->state, DispatchState::kDone);
  for (const auto& sid : alice)
    EXPECT_EQ(jobs.Wait(sid, "alice", false)->state, DispatchState::kDone);
}

TEST_F(JobsTest, AShortSearchIsNotHeldBehindAHeavyOneOfTheSameUser) {
  JobManagerOptions o = Options();
  o.workers = 1;  // one CPU slot, shared by time slices
  JobManager jobs(o);
  // About half a second each here, several slices.
  const std::string heavy =
      "search * | eval a=replace(_raw, \"[aeiou]\", \"x\") | eval b=replace(a, \"[0-9]\", \"y\") | "
      "eval c=replace(b, \"[a-f]\", \"z\") | eval d=replace(c, \"[g-m]\", \"w\") | "
      "eval e=replace(d, \"[n-s]\", \"v\") | eval f=replace(e, \"[t-z]\", \"u\") | stats dc(f)";
  std::vector<std::string> heavies;
  for (int i = 0; i < 3; ++i) heavies.push_back(*jobs.Create(Req(heavy)));
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  const auto t0 = std::chrono::steady_clock::now();
  auto needle =
      jobs.Create(Req("search eventName=CreateUser userIdentity.userName=alice | stats count"));
  ASSERT_TRUE(needle.ok());
  ASSERT_EQ(jobs.Wait(*needle, "alice", false)->state, DispatchState::kDone);
  const double needle_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  for (const auto& sid : heavies)
    EXPECT_EQ(jobs.Wait(sid, "alice", false)->state, DispatchState::kDone);
  const double heavies_s =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  // Without slices the needle waits for all three heavy searches (needle_s ~ heavies_s); with
  // them it waits a few slices.
  EXPECT_LT(needle_s, 0.6 * heavies_s)
      << "needle " << needle_s << " s, heavy searches " << heavies_s << " s";
}

TEST_F(JobsTest, WaitersOfAJobCancelledBeforeItRanAreWoken) {
  JobManagerOptions o = Options();
  o.workers = 1;
  // Enough events that the first job still runs, on a loaded machine too, when the others are
  // cancelled (cancellation stops it at its next batch).
  ASSERT_TRUE(
      store_->Commit("big", store::testing::SyntheticBatch(0, 100000, kStart, 3'600'000)).ok());
  JobManager jobs(o);
  const std::string heavy =
      "search index=big | eval a=replace(_raw, \"[aeiou]\", \"x\") | "
      "eval b=replace(a, \"[0-9]\", \"y\") | stats dc(b)";
  auto running = jobs.Create(Req(heavy));
  auto queued = jobs.Create(Req(heavy));
  auto queued2 = jobs.Create(Req(heavy));
  ASSERT_TRUE(running.ok() && queued.ok() && queued2.ok());
  std::atomic<int> woken{0};
  DispatchState s1 = DispatchState::kQueued, s2 = DispatchState::kQueued;
  std::thread w1([&] {
    s1 = jobs.Wait(*queued, "alice", false)->state;
    woken++;
  });
  std::thread w2([&] {
    s2 = jobs.Wait(*queued2, "alice", false)->state;
    woken++;
  });
  std::this_thread::sleep_for(std::chrono::milliseconds(30));
  EXPECT_TRUE(jobs.Cancel(*queued, "alice", false).ok());
  jobs.CancelAll();  // as SIGTERM does
  w1.join();
  w2.join();
  EXPECT_EQ(woken.load(), 2);
  EXPECT_EQ(s1, DispatchState::kFailed);
  EXPECT_EQ(s2, DispatchState::kFailed);
}

TEST_F(JobsTest, MaxCountMaxJobsAndTtl) {
  JobManagerOptions o = Options();
  o.max_jobs = 3;
  o.max_jobs_per_user = 2;
  o.default_ttl_s = 1;
  JobManager jobs(o);
  JobRequest capped = Req("search *");
  capped.max_count = 5;
  auto a = jobs.Create(capped);
  ASSERT_TRUE(a.ok());
  auto st = jobs.Wait(*a, "alice", false);
  EXPECT_EQ(st->result_count, 5u);
  ASSERT_FALSE(st->messages.empty());
  EXPECT_NE(st->messages[0].text.find("max_count"), std::string::npos);
  EXPECT_EQ(jobs.Results(*a, "alice", false, 0, 0)->rows.size(), 5u);
  auto b = jobs.Create(Req("| makeresults"));
  ASSERT_TRUE(b.ok());
  EXPECT_EQ(jobs.Create(Req("| makeresults")).status().code(), StatusCode::kResourceExhausted);
  auto c = jobs.Create(Req("| makeresults", "bob"));  // another user has room
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(jobs.Create(Req("| makeresults", "carol")).status().code(),
            StatusCode::kResourceExhausted);
  ASSERT_TRUE(jobs.Wait(*b, "alice", false).ok());
  // Unused for longer than the TTL: gone.
  std::this_thread::sleep_for(std::chrono::milliseconds(2600));
  EXPECT_EQ(jobs.Status(*a, "alice", false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(jobs.Status(*b, "alice", false).status().code(), StatusCode::kNotFound);
  EXPECT_TRUE(jobs.Create(Req("| makeresults")).ok());
}

// An export's job hands its rows out as the search finds them: the first batch comes while the
// later segments are unread; a callback that says stop ends the search (done, with the rows it
// took); one whose job is removed meanwhile (the client went away) ends cancelled.
TEST_F(JobsTest, StreamingJobsHandRowsOutWhileTheyScan) {
  for (int i = 1; i < 10; ++i) {
    ASSERT_TRUE(store_
                    ->Commit("main", store::testing::SyntheticBatch(
                                         3000 * i, 3000, kStart + i * 7'200'000LL, 3'600'000))
                    .ok());
  }
  const uint64_t total = 30000;
  JobManager jobs(Options());
  struct Seen {
    std::mutex mu;
    std::condition_variable cv;
    std::string sid;
    uint64_t scanned_at_first = 0;
    DispatchState state_at_first = DispatchState::kQueued;
    size_t batches = 0, rows = 0;
    bool ended = false;
  };
  auto run = [&](const std::string& spl, size_t stop_after, bool remove) {
    auto seen = std::make_shared<Seen>();
    auto rows = [&, seen, stop_after, remove](const query::SearchResults& batch) {
      std::string sid;
      {
        std::unique_lock<std::mutex> l(seen->mu);
        seen->cv.wait(l, [&] { return !seen->sid.empty(); });
        sid = seen->sid;
      }
      if (seen->batches == 0) {
        auto st = jobs.Status(sid, "alice", false);
        EXPECT_TRUE(st.ok());
        if (st.ok()) {
          seen->scanned_at_first = st->scan_count;
          seen->state_at_first = st->state;
        }
      }
      ++seen->batches;
      seen->rows += batch.size();
      if (remove && seen->batches == stop_after) jobs.Remove(sid);
      return remove || seen->batches < stop_after;
    };
    auto ended = [seen] {
      std::lock_guard<std::mutex> l(seen->mu);
      seen->ended = true;
      seen->cv.notify_all();
    };
    JobRequest r = Req(spl);
    r.hidden = true;
    auto sid = jobs.CreateStreaming(r, rows, ended);
    EXPECT_TRUE(sid.ok()) << sid.status().ToString();
    std::unique_lock<std::mutex> l(seen->mu);
    seen->sid = sid.ok() ? *sid : "none";
    seen->cv.notify_all();
    EXPECT_TRUE(seen->cv.wait_for(l, std::chrono::seconds(60), [&] { return seen->ended; }));
    return seen;
  };
  // Stopped after 3 batches: done, with those rows, long before the scan's end.
  auto stopped = run("search * | eval x=1 | table _time, eventName, x", 3, false);
  EXPECT_EQ(stopped->batches, 3u);
  EXPECT_EQ(stopped->state_at_first, DispatchState::kRunning);
  EXPECT_GT(stopped->scanned_at_first, 0u);
  EXPECT_LT(stopped->scanned_at_first, total);
  auto st = jobs.Status(stopped->sid, "alice", false);
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->state, DispatchState::kDone);
  EXPECT_EQ(st->result_count, stopped->rows);
  EXPECT_LT(st->scan_count, total);
  EXPECT_FALSE(st->events_search);
  jobs.Remove(stopped->sid);
  // Removed from the callback (as an export whose client left): cancelled, the worker free.
  auto removed = run("search *", 2, true);
  EXPECT_LT(removed->scanned_at_first, total);
  EXPECT_EQ(jobs.counters().cancelled.load(), 1u);
  for (int i = 0; i < 500 && jobs.running() != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(jobs.running(), 0u);
  // Run to its end: every row, once.
  auto all = run("search eventName=ConsoleLogin", 1u << 30, false);
  EXPECT_EQ(all->rows, (total - 5 + 6) / 7);
  EXPECT_EQ(jobs.Status(all->sid, "alice", false)->result_count, all->rows);
}

// The export route over a search that fails after its first rows (dedup past a small memory
// budget): 200, the rows as they came, then Splunk's messages naming the failure; the job is gone.
TEST_F(JobsTest, ExportThatFailsMidwayEndsWithMessages) {
  for (int i = 1; i < 10; ++i) {
    ASSERT_TRUE(store_
                    ->Commit("main", store::testing::SyntheticBatch(
                                         3000 * i, 3000, kStart + i * 7'200'000LL, 3'600'000))
                    .ok());
  }
  JobManagerOptions o = Options();
  o.memory_budget_bytes = 512 << 10;
  JobManager jobs(o);
  ServeContext ctx;
  ctx.jobs = &jobs;
  ctx.data_dir = dir_;
  Router router;
  router.SetAuthenticator([](Request&) { return std::optional<User>(User{"alice", "user"}); });
  RegisterSearch(&router, &ctx);
  auto body = [&](const std::string& form) {
    Request r = testing::TestRequest("POST", "/services/search/jobs/export", form);
    Response res = router.Dispatch(r);
    std::string out;
    if (res.stream) {
      res.stream([&](std::string_view piece) {
        out.append(piece);
        return true;
      });
    } else {
      out = res.body;
    }
    return std::make_pair(res.status, out);
  };
  auto [status, out] = body(
      "output_mode=json&search=search%20*%20%7C%20dedup%20requestID%20%7C%20table%20requestID");
  EXPECT_EQ(status, 200) << out.substr(0, 300);
  EXPECT_EQ(out.rfind("{\"preview\":false,\"offset\":0,\"result\":{\"requestID\":", 0), 0u)
      << out.substr(0, 300);
  const size_t last = out.rfind("{\"preview\":false,\"messages\":[{\"type\":\"ERROR\",\"text\":");
  ASSERT_NE(last, std::string::npos) << out.substr(out.size() > 300 ? out.size() - 300 : 0);
  EXPECT_NE(out.find("dedup", last), std::string::npos) << out.substr(last);
  EXPECT_EQ(out.back(), '\n');
  // xml: the messages inside <results>.
  auto [xml_status, xml] =
      body("output_mode=xml&search=search%20*%20%7C%20dedup%20requestID%20%7C%20table%20requestID");
  EXPECT_EQ(xml_status, 200);
  EXPECT_NE(xml.find("<messages>\n  <msg type=\"ERROR\">"), std::string::npos)
      << xml.substr(xml.size() > 300 ? xml.size() - 300 : 0);
  EXPECT_EQ(xml.size() - xml.rfind("</messages>\n</results>\n"), 23u);
  // A search that fails before its first row is still answered 400.
  auto [early, text] = body("output_mode=json&search=search%20*%20%7C%20sort%20_raw");
  EXPECT_EQ(early, 400) << text.substr(0, 300);
  EXPECT_NE(text.find("sort"), std::string::npos) << text;
  for (int i = 0; i < 200 && jobs.size() != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  EXPECT_EQ(jobs.size(), 0u);
}

}  // namespace
}  // namespace cairn::serve
