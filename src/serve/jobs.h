#pragma once
// Search jobs of `cairn serve`: created by the REST API, run by a bounded pool of search workers
// on the store the process holds (so they see every committed event), kept with their results
// until their TTL passes without access, cancelled or finalized on request.
//
// A job's search is parsed when it is created (a bad search fails the request at once, as in
// Splunk). Up to `concurrency` jobs are under way at once (others wait, at most max_queued;
// beyond, Create answers ResourceExhausted), but only `workers` of them compute at any moment:
// a job holds one of `workers` CPU slots while it runs, and after each batch of events it has
// scanned for longer than a slice (100 ms) while other jobs wait for a slot, it gives its slot to
// the longest waiting one and queues for a slot again. So searches together never take more than
// `workers` cores from collection and other requests, and a heavy search slows others down by
// sharing the slots but never holds a short search behind it for its whole run. (Work after the
// scan — a final sort or stats — runs without yielding.) Of the waiting jobs, the next to start
// is the oldest of the owner with the fewest jobs under way, then of the owner whose last job
// started longest ago.
//
// Cancel and finalize stop a running search at its next batch of events: a cancelled job is
// removed; a finalized one keeps what it found so far (done, isFinalized). Results are kept as
// the engine's row set (events extracted when a page is read), capped at max_count rows; an
// export's rows are not kept but handed out as the search finds them (CreateStreaming).
//
// With an AuditLog (JobManagerOptions::audit), each job is written to the _audit index when it is
// created ("granted", or "refused" with the reason when the search or its times are bad) and when
// it ends ("completed", "failed" or "cancelled", with its counts and run time).
//
// Thread safety: every method may be called from any thread.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <limits>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "serve/splunk_format.h"

namespace cairn::store {
class Store;
}
namespace cairn::query {
class Engine;
class EventSource;
class StoreEventSource;
class SearchResults;
struct Plan;
}  // namespace cairn::query

namespace cairn::serve {

class AuditLog;

struct JobManagerOptions {
  store::Store* store = nullptr;
  std::string data_dir;            // macros.conf and lookups/ are read from it
  int workers = 2;                 // CPU slots: searches computing at once
  int concurrency = 16;            // searches under way at once (time-sliced over the slots)
  int search_threads = 1;          // scan threads of one search
  size_t max_jobs = 500;           // jobs kept (running or with results) at once
  size_t max_queued = 100;         // jobs waiting for a worker
  size_t max_jobs_per_user = 100;  // jobs one user may keep (Splunk's srchJobsQuota)
  int64_t default_ttl_s = 600;     // Splunk's default for ad hoc jobs
  size_t default_max_count = 500'000;
  size_t memory_budget_bytes = size_t{1} << 30;
  std::string host = "cairn";
  // Every job is audited here when created (or refused) and when it ends (not owned; null: off).
  AuditLog* audit = nullptr;
};

struct JobRequest {
  std::string search;
  std::string earliest_time;  // Splunk time modifiers ("-24h", "@d", epoch, ISO); "" = no bound
  std::string latest_time;
  size_t max_count = 0;  // 0: the default
  int64_t ttl_s = 0;     // 0: the default
  std::string owner;
  std::string sid;      // requested id ("" = generated)
  bool hidden = false;  // oneshot and export: not listed, removed by the caller
  // For the audit record only: where the search came from (rest, ui), the peer address and the
  // REST exec_mode (normal, blocking, oneshot, export).
  std::string interface;
  std::string client;
  std::string exec_mode;
};

enum class DispatchState { kQueued, kParsing, kRunning, kDone, kFailed };
const char* DispatchStateName(DispatchState s);

// What GET /services/search/jobs/{sid} reports.
struct JobStatus {
  std::string sid;
  std::string search;
  std::string owner;
  DispatchState state = DispatchState::kQueued;
  bool finalized = false;
  double progress = 0;
  uint64_t event_count = 0;
  uint64_t result_count = 0;
  uint64_t scan_count = 0;
  double run_duration = 0;  // seconds
  double earliest = -std::numeric_limits<double>::infinity();
  double latest = std::numeric_limits<double>::infinity();
  double created = 0;  // epoch seconds
  int64_t ttl_s = 0;
  bool events_search = true;  // no command fixed the columns (the results are events)
  std::vector<Message> messages;
};

class Job;

// A done job's results read a chunk at a time, for a download of any size (the web UI's export):
// each call takes the job's lock only while it extracts its rows, so the job answers its status
// and pages meanwhile, and the reader holds the job (its expiry or removal does not cut the
// download short). Made by JobManager::ReadResults. Not thread-safe (one download).
class ResultReader {
 public:
  ResultReader(std::shared_ptr<Job> job, int threads);
  ~ResultReader();
  size_t size() const { return size_; }
  // The columns of every row: the search's when a command fixed them; else (events) every field of
  // any row, _time first and _raw last, found by reading every row once (the fields are kept, not
  // the rows).
  const std::vector<std::string>& fields();
  // Up to `count` rows after those already read (none at the end), aligned with fields().
  std::vector<std::vector<query::Values>> Next(size_t count);
  // The same, each row with its own columns (the search's when known; else the row's fields,
  // _time first and _raw last): no reading ahead for the fields. False at the end.
  bool NextOwn(size_t count, std::vector<std::vector<std::string>>* names,
               std::vector<std::vector<query::Values>>* values);
  // The fields of the rows NextOwn returned so far (in fields()' order).
  std::vector<std::string> seen_fields() const;
  // The job's messages and, after the rows, the first error met reading them.
  std::vector<Message> messages() const;

 private:
  using CellsFn = std::function<void(size_t row, std::vector<std::string>& names,
                                     std::vector<query::Values>& values)>;
  // Calls `fn` with the cells of rows [begin, end), under the job's lock, their events read
  // ahead on every core.
  void ReadCells(size_t begin, size_t end, const CellsFn& fn);
  void FindFields();
  std::shared_ptr<Job> job_;
  int threads_;
  size_t size_ = 0;
  size_t next_ = 0;
  bool have_fields_ = false;
  std::vector<std::string> fields_;
  std::unordered_map<std::string, size_t> column_;  // field -> its place in fields_
  std::vector<std::string> known_;                  // the search's columns, when it fixed them
  bool columns_known_ = false;
  std::set<std::string> seen_;  // NextOwn's rows' fields
};

class JobManager {
 public:
  explicit JobManager(JobManagerOptions options);
  ~JobManager();  // CancelAll, then stops the workers

  // Parses the search and queues the job. InvalidArgument (bad search or time), AlreadyExists
  // (sid taken), ResourceExhausted (too many jobs).
  Result<std::string> Create(const JobRequest& request);
  // Export: a job whose result rows are not kept but handed to `rows` in batches as the search
  // produces them (query::Engine::ExecuteStream), on the job's worker, which gives up its CPU slot
  // during the call (a slow client holds no slot). `rows` returns false to end the search (it
  // then completes with the rows it handed out; cancel it to have it end as cancelled).
  // `ended` is called once when the job is done or failed (also when it never started). The job
  // counts the rows it handed out as its results; the caller removes it.
  using RowBatchFn = std::function<bool(const query::SearchResults& batch)>;
  Result<std::string> CreateStreaming(const JobRequest& request, RowBatchFn rows,
                                      std::function<void()> ended);
  // NotFound when there is no such job, or it is another user's and `user` is no admin.
  Result<JobStatus> Status(const std::string& sid, const std::string& user, bool admin);
  std::vector<JobStatus> List(const std::string& user, bool admin);
  // Blocks until the job is done or failed (or `timeout_ms` passes; <0: no limit).
  Result<JobStatus> Wait(const std::string& sid, const std::string& user, bool admin,
                         int64_t timeout_ms = -1);
  // A page of results (count 0: all from offset). NotFound as Status; an unfinished job answers
  // an empty page with preview set.
  Result<ResultPage> Results(const std::string& sid, const std::string& user, bool admin,
                             size_t offset, size_t count);
  // Streams every result row of a done job to `row` (fields known at the start when the search
  // fixed them; else each row's own fields are passed). Stops when `row` returns false.
  ::cairn::Status StreamResults(
      const std::string& sid,
      const std::function<bool(const std::vector<std::string>& fields,
                               const std::vector<query::Values>& values)>& row);
  // A reader of a done job's results (ResultReader). NotFound as Status; Unavailable when
  // the job has not finished (or failed).
  Result<std::unique_ptr<ResultReader>> ReadResults(const std::string& sid, const std::string& user,
                                                    bool admin);
  ::cairn::Status Cancel(const std::string& sid, const std::string& user,
                         bool admin);  // removes it
  ::cairn::Status Finalize(const std::string& sid, const std::string& user, bool admin);
  void Remove(const std::string& sid);
  void CancelAll();
  size_t default_max_count() const { return options_.default_max_count; }
  size_t running() const { return running_.load(); }  // under way
  size_t computing() const;                           // holding a CPU slot
  // Searches finished since start, by outcome, and their summed run time.
  struct Counters {
    std::atomic<uint64_t> done{0}, failed{0}, cancelled{0}, created{0};
    std::atomic<uint64_t> run_us_sum{0};
  };
  const Counters& counters() const { return counters_; }
  size_t size();  // jobs kept
  size_t queued();

 private:
  // Create without the audit record.
  Result<std::string> CreateJob(const JobRequest& request, RowBatchFn rows = nullptr,
                                std::function<void()> ended = nullptr);
  std::shared_ptr<Job> Find(const std::string& sid, const std::string& user, bool admin);
  void Worker();
  void Reaper();
  void Execute(Job& job);

  JobManagerOptions options_;
  std::mutex mu_;
  std::condition_variable has_work_;
  std::map<std::string, std::shared_ptr<Job>> jobs_;
  std::deque<std::shared_ptr<Job>> queue_;
  std::vector<std::thread> workers_;
  std::thread reaper_;
  std::condition_variable reaper_cv_;
  bool stop_ = false;
  uint64_t next_id_ = 0;
  std::atomic<size_t> running_{0};
  std::unique_ptr<class FairGate> gate_;
  Counters counters_;
  std::map<std::string, int> running_by_owner_;          // under mu_
  std::map<std::string, uint64_t> last_start_by_owner_;  // under mu_: start_seq_ of the last start
  uint64_t start_seq_ = 0;
};

}  // namespace cairn::serve
