#pragma once
// The saved-search scheduler: runs each scheduled search once for every scheduled time, over the
// window its dispatch times give relative to that time, decides whether it triggers, throttles,
// stores the alert record and runs the actions.
//
// Exactly once per window. For every enabled search, every scheduled time in (last run, now] gets
// one run, oldest first; the state file <data>/alerts/state.json records the last scheduled time
// run, written atomically (temp file, fsync, rename, fsync of the folder) after the runs' alert
// records are durable and their actions have run (once per scheduled time, for all the searches
// due then). A crash between the alert commit and the state
// write makes the next start run that window again: its alert ids (a hash of the search name and
// the window, see detect/alert.h) are already stored, so nothing new is stored and no action runs
// again (actions run only for alerts that were new). A window is never run twice otherwise.
//
// Catch-up: after downtime the missed windows run one by one, each once, at most
// `max_catchup_runs` of them and none older than `max_catchup_ms` before now; the older ones are
// skipped with a warning naming how many and from when. A search seen for the first time runs its
// most recent scheduled time only (or, with `first_run_since_ms`, every time since then).
//
// Thread safety: one thread calls RunDue/Loop; Stop() may be called from any thread. The store
// may be shared with other writers (cairn serve's collector): alerts are ordinary commits.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "alerts/actions.h"
#include "alerts/conf.h"
#include "alerts/cron.h"
#include "aws/http.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/status.h"
#include "query/macros.h"

namespace cairn::store {
class Store;
}

namespace cairn::alerts {

struct SchedulerOptions {
  std::string data_dir;           // state in <data_dir>/alerts/state.json
  store::Store* store = nullptr;  // searched, and where alerts are committed; required
  FileSystem* fs = FileSystem::Default();
  Clock* clock = Clock::System();
  query::MacroSet macros;                 // for the searches (the built-in `cloudtrail` included)
  std::string lookups_dir;                // <data>/lookups
  std::shared_ptr<aws::HttpClient> http;  // null: libcurl with the action timeout
  ActionOptions actions;
  int64_t max_catchup_ms = 24LL * 3600 * 1000;
  size_t max_catchup_runs = 100;
  int64_t first_run_since_ms = -1;   // a search without state: run every time after this (-1: none)
  size_t max_alerts_per_run = 1000;  // per-result mode: results beyond it are not alerted
  size_t max_results_in_payload = 10;  // results copied into JSON-lines records
  size_t memory_budget_bytes = size_t{512} << 20;
  int search_threads = 1;
  std::string results_link_base;  // e.g. cairn serve's URL; "" leaves results_link empty
  // Tests: called after a run's alerts are stored and its actions ran, before its state is
  // written; returning false stops RunDue there with kCancelled (a simulated crash).
  std::function<bool(const std::string& name, int64_t scheduled_ms)> before_state_write;
};

struct RunOutcome {
  std::string search_name;
  int64_t scheduled_ms = 0;
  int64_t earliest_ms = 0;
  int64_t latest_ms = 0;
  uint64_t result_count = 0;  // what counttype counts (rows, or distinct hosts)
  bool triggered = false;     // the condition held
  size_t suppressed = 0;      // results (or the whole run, as 1) throttled
  size_t alerts = 0;          // alert records made
  size_t new_alerts = 0;      // of them, not stored before
  int actions_ok = 0;
  int actions_failed = 0;
  Status status;                            // the search's error, if it failed
  std::vector<Triggered> triggered_alerts;  // what the actions were given (or would be: dry run)
};

// Per search, what the state file keeps.
struct SearchState {
  int64_t last_run_ms = -1;  // the last scheduled time run
  int64_t last_count = -1;   // its count (for drops by / rises by)
  uint64_t runs = 0;
  uint64_t triggered = 0;
  uint64_t action_failures = 0;
  uint64_t search_failures = 0;
  std::map<std::string, int64_t> suppressed_until;  // throttle key -> until (ms)
};

class Scheduler {
 public:
  Scheduler(std::vector<SavedSearch> searches, SchedulerOptions options);
  // Parses the schedules and loads the state. Searches with a bad schedule are an error.
  Status Init();

  // Runs every due window of every scheduled search, oldest first, then returns. A search that
  // fails is logged, counted and its window marked done (a broken search must not block the
  // others, nor be retried forever); storage errors stop the call.
  Result<std::vector<RunOutcome>> RunDue();
  // Loops RunDue until Stop(): after each pass sleeps (on the clock) until the next scheduled
  // time of any search, waking at least every second to notice Stop().
  Status Loop();
  void Stop() { stop_.store(true); }
  // Called by RunDue after each scheduled run, on the scheduler's thread, with the search, its
  // outcome and how long it took in seconds (cairn serve writes it to its _audit index). Set it
  // before Loop/RunDue start.
  using RunObserver =
      std::function<void(const SavedSearch& search, const RunOutcome& outcome, double seconds)>;
  void SetRunObserver(RunObserver observer) { observer_ = std::move(observer); }

  // Runs `search` for the window of `scheduled_ms`. With `dry_run`, stores nothing, runs no
  // action and changes no state (cairn alerts test). Otherwise updates the in-memory state (the
  // caller persists it with SaveState).
  Result<RunOutcome> RunWindow(const SavedSearch& search, int64_t scheduled_ms, bool dry_run);
  // The window [earliest, latest) of `search` scheduled at `scheduled_ms`.
  Result<std::pair<int64_t, int64_t>> Window(const SavedSearch& search, int64_t scheduled_ms) const;

  Status SaveState();
  const std::vector<SavedSearch>& searches() const { return searches_; }
  const SearchState* state(const std::string& name) const;
  // The next scheduled time after `after_ms` of a scheduled search (-1: none).
  int64_t NextRun(const std::string& name, int64_t after_ms) const;
  std::string state_path() const;
  // Scheduled searches left out because the engine cannot run them (found by Init).
  const std::map<std::string, Status>& invalid() const { return invalid_; }

 private:
  std::vector<SavedSearch> searches_;
  SchedulerOptions opt_;
  std::map<std::string, CronSchedule> crons_;
  std::map<std::string, SearchState> state_;
  std::map<std::string, Status> invalid_;
  std::atomic<bool> stop_{false};
  RunObserver observer_;
};

// Reads/writes the state file's JSON (exposed for tests).
std::string StateToJson(const std::map<std::string, SearchState>& state);
Result<std::map<std::string, SearchState>> StateFromJson(std::string_view json);

}  // namespace cairn::alerts
