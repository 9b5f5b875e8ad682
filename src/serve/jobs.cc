#include "serve/jobs.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>

#include "common/fs.h"
#include "common/log.h"
#include "query/engine.h"
#include "query/store_source.h"
#include "query/time_format.h"
#include "serve/audit.h"

namespace cairn::serve {

namespace {

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}
int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

// The job's view of the store: counts what it scans, stops at the next batch once the job is
// cancelled or finalized, and calls `yield` after each batch (time slicing).
class JobSource final : public query::EventSource {
 public:
  JobSource(query::EventSource* inner, const std::atomic<bool>* stop,
            std::atomic<uint64_t>* scanned)
      : inner_(inner), stop_(stop), scanned_(scanned) {}
  std::function<void()> yield;  // set while the job runs

  cairn::Status Scan(const query::ScanRequest& request,
                     const std::function<bool(query::EventBatch&)>& sink) override {
    return inner_->Scan(request, [&](query::EventBatch& b) {
      if (stop_->load()) return false;
      *scanned_ += b.size();
      const bool more = sink(b);
      if (yield) yield();
      return more && !stop_->load();
    });
  }
  cairn::Status ScanParallel(const query::ScanRequest& request, int workers,
                             const std::function<bool(int, query::EventBatch&)>& sink) override {
    return inner_->ScanParallel(request, workers, [&](int w, query::EventBatch& b) {
      if (stop_->load()) return false;
      *scanned_ += b.size();
      const bool more = sink(w, b);
      if (yield && workers == 1) yield();  // with several scan threads the job keeps its slot
      return more && !stop_->load();
    });
  }
  Result<bool> PreAggregate(
      const query::ScanRequest& request, const query::Command& command,
      const std::function<cairn::Status(std::vector<query::Row>&)>& push) override {
    if (stop_->load()) return false;
    return inner_->PreAggregate(request, command,
                                [&](std::vector<query::Row>& rows) -> cairn::Status {
                                  if (stop_->load()) return Cancelled("search stopped");
                                  cairn::Status st = push(rows);
                                  if (yield && request.workers <= 1) yield();
                                  return st;
                                });
  }
  std::string Explain(const query::ScanRequest& request, const query::Command* next) override {
    return inner_->Explain(request, next);
  }

 private:
  query::EventSource* inner_;
  const std::atomic<bool>* stop_;
  std::atomic<uint64_t>* scanned_;
};

bool ValidSid(const std::string& s) {
  if (s.empty() || s.size() > 100) return false;
  return std::all_of(s.begin(), s.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
  });
}

}  // namespace

// `slots` CPU slots handed out first come, first served (tickets).
class FairGate {
 public:
  explicit FairGate(int slots) : slots_(slots), free_(slots) {}
  void Acquire() {
    std::unique_lock<std::mutex> l(mu_);
    const uint64_t ticket = next_ticket_++;
    cv_.wait(l, [&] { return free_ > 0 && serving_ == ticket; });
    ++serving_;
    --free_;
    cv_.notify_all();
  }
  void Release() {
    std::lock_guard<std::mutex> l(mu_);
    ++free_;
    cv_.notify_all();
  }
  // Whether a job waits for a slot.
  bool Contended() {
    std::lock_guard<std::mutex> l(mu_);
    return next_ticket_ != serving_;
  }
  int in_use() {
    std::lock_guard<std::mutex> l(mu_);
    return slots_ - free_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  const int slots_;
  int free_;
  uint64_t next_ticket_ = 0;
  uint64_t serving_ = 0;
};

const char* DispatchStateName(DispatchState s) {
  switch (s) {
    case DispatchState::kQueued: return "QUEUED";
    case DispatchState::kParsing: return "PARSING";
    case DispatchState::kRunning: return "RUNNING";
    case DispatchState::kDone: return "DONE";
    case DispatchState::kFailed: return "FAILED";
  }
  return "FAILED";
}

class Job {
 public:
  JobRequest req;
  std::string sid;
  double created = 0;
  double earliest = -std::numeric_limits<double>::infinity();
  double latest = std::numeric_limits<double>::infinity();
  std::atomic<bool> stop{false};
  std::atomic<bool> cancelled{false};
  std::atomic<uint64_t> scanned{0};
  std::atomic<int64_t> last_access_ms{0};
  // Built at creation, used by the worker.
  std::unique_ptr<query::StoreEventSource> store_source;
  std::unique_ptr<JobSource> source;
  std::unique_ptr<query::Engine> engine;
  std::unique_ptr<query::Plan> plan;

  std::mutex mu;  // guards what follows
  std::condition_variable cv;
  DispatchState state = DispatchState::kQueued;
  bool finalized = false;
  std::vector<Message> messages;
  int64_t started_ms = 0;
  double run_duration = 0;
  uint64_t event_count = 0;
  uint64_t result_count = 0;
  std::unique_ptr<query::SearchResults> results;  // read under mu (not thread-safe)
  // An export's: where its rows go as they are found, and who to tell when it ends.
  JobManager::RowBatchFn stream;
  std::function<void()> ended;

  JobStatus StatusLocked() const {
    JobStatus s;
    s.sid = sid;
    s.search = req.search;
    s.owner = req.owner;
    s.state = state;
    s.finalized = finalized;
    s.progress = state == DispatchState::kDone || state == DispatchState::kFailed ? 1.0 : 0.0;
    if (state == DispatchState::kRunning && store_source != nullptr) {
      // The share of the segments the search has taken up, short of 1 until it is done.
      auto [done, total] = store_source->Progress();
      s.progress = total == 0 ? 0.0 : std::min(0.99, static_cast<double>(done) / total);
    }
    s.scan_count = scanned.load();
    s.event_count = state == DispatchState::kDone ? event_count : scanned.load();
    s.result_count = result_count;
    s.run_duration =
        state == DispatchState::kRunning ? (SteadyMs() - started_ms) / 1000.0 : run_duration;
    s.earliest = earliest;
    s.latest = latest;
    s.created = created;
    s.ttl_s = req.ttl_s;
    s.events_search = !(results && results->columns_known());
    s.messages = messages;
    return s;
  }
};

JobManager::JobManager(JobManagerOptions options) : options_(std::move(options)) {
  gate_ = std::make_unique<FairGate>(std::max(1, options_.workers));
  for (int i = 0; i < std::max(options_.concurrency, std::max(1, options_.workers)); ++i)
    workers_.emplace_back([this] { Worker(); });
  reaper_ = std::thread([this] { Reaper(); });
}

JobManager::~JobManager() {
  CancelAll();
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  has_work_.notify_all();
  reaper_cv_.notify_all();
  for (auto& t : workers_) t.join();
  reaper_.join();
}

namespace {
AuditRecord SearchAudit(const JobRequest& request, std::string_view info) {
  AuditRecord r;
  r.action = "search";
  r.info = std::string(info);
  r.user = request.owner;
  r.interface = request.interface;
  r.client = request.client;
  r.search = request.search;
  r.earliest = request.earliest_time;
  r.latest = request.latest_time;
  r.exec_mode = request.exec_mode;
  return r;
}
}  // namespace

Result<std::string> JobManager::Create(const JobRequest& request) {
  return CreateStreaming(request, nullptr, nullptr);
}

Result<std::string> JobManager::CreateStreaming(const JobRequest& request, RowBatchFn rows,
                                                std::function<void()> ended) {
  auto sid = CreateJob(request, std::move(rows), std::move(ended));
  if (options_.audit != nullptr) {
    AuditRecord r = SearchAudit(request, sid.ok() ? "granted" : "refused");
    if (sid.ok()) {
      r.search_id = *sid;
    } else {
      r.reason = sid.status().message();
    }
    options_.audit->Record(std::move(r));
  }
  return sid;
}

Result<std::string> JobManager::CreateJob(const JobRequest& request, RowBatchFn rows,
                                          std::function<void()> ended) {
  auto job = std::make_shared<Job>();
  job->req = request;
  job->stream = std::move(rows);
  job->ended = std::move(ended);
  if (job->req.max_count == 0) job->req.max_count = options_.default_max_count;
  if (job->req.ttl_s <= 0) job->req.ttl_s = options_.default_ttl_s;
  job->created = NowSeconds();
  std::string text = request.search;
  while (!text.empty() && std::isspace(static_cast<unsigned char>(text.front()))) text.erase(0, 1);
  if (text.empty()) return InvalidArgument("Empty search.");
  job->req.search = text;
  if (!request.earliest_time.empty()) {
    auto t = query::ResolveTimeModifier(request.earliest_time, job->created);
    if (!t.ok()) return InvalidArgument("Invalid earliest_time: {}", t.status().message());
    job->earliest = *t;
  }
  if (!request.latest_time.empty() && request.latest_time != "now") {
    auto t = query::ResolveTimeModifier(request.latest_time, job->created);
    if (!t.ok()) return InvalidArgument("Invalid latest_time: {}", t.status().message());
    job->latest = *t;
  } else if (request.latest_time == "now") {
    job->latest = job->created;
  }
  auto loaded = query::MacroSet::ForDataDir(FileSystem::Default(), options_.data_dir);
  if (!loaded.ok()) log::Warn("serve: {}", loaded.status().message());
  query::MacroSet macros = loaded.ok() ? std::move(loaded).value() : query::MacroSet();
  query::EngineOptions eo;
  eo.lookups_dir = JoinPath(options_.data_dir, "lookups");
  eo.now = job->created;
  eo.earliest = job->earliest;
  eo.latest = job->latest;
  eo.threads = std::max(1, options_.search_threads);
  eo.memory_budget_bytes = options_.memory_budget_bytes;
  query::StoreSourceOptions so;
  so.host = options_.host;
  job->store_source = std::make_unique<query::StoreEventSource>(options_.store, so);
  job->source = std::make_unique<JobSource>(job->store_source.get(), &job->stop, &job->scanned);
  job->engine = std::make_unique<query::Engine>(job->source.get(), std::move(macros), eo);
  auto plan = job->engine->Prepare(text);
  if (!plan.ok()) return InvalidArgument("Error in search: {}", plan.status().message());
  job->plan = std::make_unique<query::Plan>(std::move(*plan));
  job->last_access_ms = SteadyMs();

  std::lock_guard<std::mutex> l(mu_);
  if (stop_) return Unavailable("The server is stopping.");
  if (jobs_.size() >= options_.max_jobs)
    return ResourceExhausted("Too many search jobs ({}); delete some.", jobs_.size());
  size_t mine = 0;
  for (const auto& [id, j] : jobs_) mine += j->req.owner == job->req.owner;
  if (mine >= options_.max_jobs_per_user) {
    return ResourceExhausted("Too many search jobs of user {} ({}); delete some.", job->req.owner,
                             mine);
  }
  if (queue_.size() >= options_.max_queued)
    return ResourceExhausted("Too many searches waiting to run ({}).", queue_.size());
  if (!request.sid.empty()) {
    if (!ValidSid(request.sid))
      return InvalidArgument("Invalid id: use letters, digits, '_', '.' and '-'.");
    if (jobs_.count(request.sid))
      return AlreadyExists("A job with id {} already exists.", request.sid);
    job->sid = request.sid;
  } else {
    do {
      job->sid = fmt::format("{}.{}", static_cast<int64_t>(job->created), ++next_id_);
    } while (jobs_.count(job->sid));
  }
  jobs_[job->sid] = job;
  queue_.push_back(job);
  counters_.created++;
  has_work_.notify_one();
  return job->sid;
}

std::shared_ptr<Job> JobManager::Find(const std::string& sid, const std::string& user, bool admin) {
  std::lock_guard<std::mutex> l(mu_);
  auto it = jobs_.find(sid);
  if (it == jobs_.end()) return nullptr;
  // Another user's job is as good as absent.
  if (!admin && it->second->req.owner != user) return nullptr;
  it->second->last_access_ms = SteadyMs();
  return it->second;
}

Result<JobStatus> JobManager::Status(const std::string& sid, const std::string& user, bool admin) {
  auto job = Find(sid, user, admin);
  if (!job) return NotFound("Unknown sid.");
  std::lock_guard<std::mutex> l(job->mu);
  return job->StatusLocked();
}

std::vector<JobStatus> JobManager::List(const std::string& user, bool admin) {
  std::vector<std::shared_ptr<Job>> jobs;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [sid, j] : jobs_) {
      if (!j->req.hidden && (admin || j->req.owner == user)) jobs.push_back(j);
    }
  }
  std::vector<JobStatus> out;
  for (auto& j : jobs) {
    std::lock_guard<std::mutex> l(j->mu);
    out.push_back(j->StatusLocked());
  }
  return out;
}

Result<JobStatus> JobManager::Wait(const std::string& sid, const std::string& user, bool admin,
                                   int64_t timeout_ms) {
  auto job = Find(sid, user, admin);
  if (!job) return NotFound("Unknown sid.");
  std::unique_lock<std::mutex> l(job->mu);
  auto done = [&] {
    return job->state == DispatchState::kDone || job->state == DispatchState::kFailed;
  };
  if (timeout_ms < 0) {
    job->cv.wait(l, done);
  } else {
    job->cv.wait_for(l, std::chrono::milliseconds(timeout_ms), done);
  }
  return job->StatusLocked();
}

Result<ResultPage> JobManager::Results(const std::string& sid, const std::string& user, bool admin,
                                       size_t offset, size_t count) {
  auto job = Find(sid, user, admin);
  if (!job) return NotFound("Unknown sid.");
  std::lock_guard<std::mutex> l(job->mu);
  ResultPage page;
  page.offset = offset;
  page.messages = job->messages;
  if (job->state != DispatchState::kDone || !job->results) {
    page.preview = job->state != DispatchState::kFailed;
    return page;
  }
  const query::SearchResults& res = *job->results;
  const size_t total = job->result_count;
  const size_t begin = std::min(offset, total);
  const size_t end = count == 0 ? total : std::min(total, begin + count);
  std::vector<std::vector<std::string>> names(end - begin);
  std::vector<std::vector<query::Values>> values(end - begin);
  if (end > begin) res.PrefetchEvents(begin, std::max(1, options_.search_threads));
  for (size_t r = begin; r < end; ++r) res.Cells(r, &names[r - begin], &values[r - begin]);
  if (cairn::Status late = res.status(); !late.ok()) {
    page.messages.push_back(Message{"ERROR", late.message()});
  }
  if (res.columns_known()) {
    page.fields = res.columns();
  } else {
    // Events: every field of the page's rows, _time first and _raw last.
    std::set<std::string> seen;
    for (const auto& n : names) seen.insert(n.begin(), n.end());
    const bool has_time = seen.erase("_time") > 0, has_raw = seen.erase("_raw") > 0;
    if (has_time) page.fields.push_back("_time");
    page.fields.insert(page.fields.end(), seen.begin(), seen.end());
    if (has_raw) page.fields.push_back("_raw");
  }
  page.rows.resize(end - begin);
  for (size_t i = 0; i < names.size(); ++i) {
    auto& row = page.rows[i];
    row.resize(page.fields.size());
    for (size_t k = 0; k < names[i].size(); ++k) {
      auto it = std::find(page.fields.begin(), page.fields.end(), names[i][k]);
      if (it != page.fields.end())
        row[static_cast<size_t>(it - page.fields.begin())] = std::move(values[i][k]);
    }
  }
  return page;
}

cairn::Status JobManager::StreamResults(
    const std::string& sid,
    const std::function<bool(const std::vector<std::string>&, const std::vector<query::Values>&)>&
        row) {
  std::shared_ptr<Job> job;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = jobs_.find(sid);
    if (it == jobs_.end()) return NotFound("Unknown sid.");
    job = it->second;
  }
  std::lock_guard<std::mutex> l(job->mu);
  if (job->state != DispatchState::kDone || !job->results)
    return Unavailable("The job is not done.");
  const query::SearchResults& res = *job->results;
  std::vector<std::string> names;
  std::vector<query::Values> values;
  size_t ready = 0;
  for (size_t r = 0; r < job->result_count; ++r) {
    if (r >= ready)
      ready = std::max(r + 1, res.PrefetchEvents(r, std::max(1, options_.search_threads)));
    res.Cells(r, &names, &values);
    if (!row(names, values)) break;
  }
  return res.status();
}

namespace {

// Events' columns: _time first, the others in name order, _raw last.
std::vector<std::string> EventFields(std::set<std::string> seen) {
  std::vector<std::string> out;
  const bool has_time = seen.erase("_time") > 0, has_raw = seen.erase("_raw") > 0;
  if (has_time) out.push_back("_time");
  out.insert(out.end(), seen.begin(), seen.end());
  if (has_raw) out.push_back("_raw");
  return out;
}

}  // namespace

Result<std::unique_ptr<ResultReader>> JobManager::ReadResults(const std::string& sid,
                                                              const std::string& user, bool admin) {
  auto job = Find(sid, user, admin);
  if (!job) return NotFound("Unknown sid.");
  {
    std::lock_guard<std::mutex> l(job->mu);
    if (job->state != DispatchState::kDone || !job->results) {
      return Unavailable("The search has not finished: its results are not complete yet.");
    }
  }
  return std::make_unique<ResultReader>(std::move(job), std::max(1, options_.search_threads));
}

ResultReader::ResultReader(std::shared_ptr<Job> job, int threads)
    : job_(std::move(job)), threads_(threads) {
  std::lock_guard<std::mutex> l(job_->mu);
  size_ = job_->result_count;
  columns_known_ = job_->results->columns_known();
  if (columns_known_) known_ = job_->results->columns();
}

ResultReader::~ResultReader() = default;

const std::vector<std::string>& ResultReader::fields() {
  if (have_fields_) return fields_;
  have_fields_ = true;
  FindFields();
  for (size_t j = 0; j < fields_.size(); ++j) column_.emplace(fields_[j], j);
  return fields_;
}

void ResultReader::ReadCells(size_t begin, size_t end, const CellsFn& fn) {
  std::vector<std::string> names;
  std::vector<query::Values> values;
  std::lock_guard<std::mutex> l(job_->mu);
  const query::SearchResults& res = *job_->results;
  size_t ready = begin;
  for (size_t r = begin; r < end; ++r) {
    if (r >= ready) ready = std::max(r + 1, res.PrefetchEvents(r, threads_));
    res.Cells(r, &names, &values);
    fn(r, names, values);
  }
}

void ResultReader::FindFields() {
  if (columns_known_) {
    fields_ = known_;
    return;
  }
  std::set<std::string> seen;
  constexpr size_t kChunk = 4096;
  for (size_t begin = 0; begin < size_; begin += kChunk) {
    ReadCells(begin, std::min(size_, begin + kChunk),
              [&](size_t, std::vector<std::string>& names, std::vector<query::Values>&) {
                seen.insert(names.begin(), names.end());
              });
  }
  fields_ = EventFields(std::move(seen));
}

std::vector<std::vector<query::Values>> ResultReader::Next(size_t count) {
  const std::vector<std::string>& cols = fields();
  std::vector<std::vector<query::Values>> rows;
  if (next_ >= size_) return rows;
  const size_t end = std::min(size_, next_ + std::max<size_t>(count, 1));
  rows.resize(end - next_);
  ReadCells(next_, end,
            [&](size_t r, std::vector<std::string>& names, std::vector<query::Values>& values) {
              auto& row = rows[r - next_];
              row.resize(cols.size());
              for (size_t k = 0; k < names.size(); ++k) {
                auto it = column_.find(names[k]);
                if (it != column_.end()) row[it->second] = std::move(values[k]);
              }
            });
  next_ = end;
  return rows;
}

bool ResultReader::NextOwn(size_t count, std::vector<std::vector<std::string>>* names,
                           std::vector<std::vector<query::Values>>* values) {
  names->clear();
  values->clear();
  if (next_ >= size_) return false;
  const size_t end = std::min(size_, next_ + std::max<size_t>(count, 1));
  names->resize(end - next_);
  values->resize(end - next_);
  ReadCells(next_, end, [&](size_t r, std::vector<std::string>& n, std::vector<query::Values>& v) {
    (*names)[r - next_] = std::move(n);
    (*values)[r - next_] = std::move(v);
  });
  if (!columns_known_) {
    for (const auto& n : *names) seen_.insert(n.begin(), n.end());
  }
  next_ = end;
  return true;
}

std::vector<std::string> ResultReader::seen_fields() const {
  return columns_known_ ? known_ : EventFields(seen_);
}

std::vector<Message> ResultReader::messages() const {
  std::lock_guard<std::mutex> l(job_->mu);
  std::vector<Message> out = job_->messages;
  if (cairn::Status late = job_->results->status(); !late.ok()) {
    out.push_back(Message{"ERROR", late.message()});
  }
  return out;
}

cairn::Status JobManager::Cancel(const std::string& sid, const std::string& user, bool admin) {
  auto job = Find(sid, user, admin);
  if (!job) return NotFound("Unknown sid.");
  job->cancelled = true;
  job->stop = true;
  Remove(sid);
  return cairn::Status();
}

cairn::Status JobManager::Finalize(const std::string& sid, const std::string& user, bool admin) {
  auto job = Find(sid, user, admin);
  if (!job) return NotFound("Unknown sid.");
  std::lock_guard<std::mutex> l(job->mu);
  if (job->state != DispatchState::kDone && job->state != DispatchState::kFailed) {
    job->finalized = true;
    job->stop = true;
  }
  return cairn::Status();
}

namespace {
// A job taken out of the queue before it ran: failed, and whoever waits for it (a blocking or
// oneshot request) is woken.
void FailUnstarted(Job& job, AuditLog* audit) {
  std::lock_guard<std::mutex> l(job.mu);
  if (job.state == DispatchState::kQueued) {
    if (job.ended) job.ended();
    job.state = DispatchState::kFailed;
    job.messages.push_back(Message{"FATAL", "Search was cancelled."});
    job.cv.notify_all();
    if (audit != nullptr) {
      AuditRecord r = SearchAudit(job.req, "cancelled");
      r.search_id = job.sid;
      r.ended = true;
      audit->Record(std::move(r));
    }
  }
}
}  // namespace

void JobManager::Remove(const std::string& sid) {
  std::shared_ptr<Job> job;
  bool was_queued = false;
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = jobs_.find(sid);
    if (it == jobs_.end()) return;
    job = it->second;
    jobs_.erase(it);
    auto q = std::find(queue_.begin(), queue_.end(), job);
    if (q != queue_.end()) {
      queue_.erase(q);
      was_queued = true;
    }
  }
  job->stop = true;
  job->cancelled = true;
  if (was_queued) FailUnstarted(*job, options_.audit);
}

void JobManager::CancelAll() {
  std::deque<std::shared_ptr<Job>> unstarted;
  {
    std::lock_guard<std::mutex> l(mu_);
    for (auto& [sid, j] : jobs_) {
      j->stop = true;
      j->cancelled = true;
    }
    unstarted.swap(queue_);
  }
  for (auto& j : unstarted) FailUnstarted(*j, options_.audit);
}

size_t JobManager::computing() const { return static_cast<size_t>(gate_->in_use()); }

size_t JobManager::size() {
  std::lock_guard<std::mutex> l(mu_);
  return jobs_.size();
}

size_t JobManager::queued() {
  std::lock_guard<std::mutex> l(mu_);
  return queue_.size();
}

void JobManager::Worker() {
  for (;;) {
    std::shared_ptr<Job> job;
    {
      std::unique_lock<std::mutex> l(mu_);
      has_work_.wait(l, [&] { return stop_ || !queue_.empty(); });
      if (stop_) return;
      // Fairness: the oldest job of the owner with the fewest searches running and, among those,
      // the one whose last search started longest ago (round robin between users).
      auto pick = queue_.begin();
      std::pair<int, uint64_t> best{std::numeric_limits<int>::max(), 0};
      for (auto it = queue_.begin(); it != queue_.end(); ++it) {
        const std::string& owner = (*it)->req.owner;
        auto r = running_by_owner_.find(owner);
        auto t = last_start_by_owner_.find(owner);
        std::pair<int, uint64_t> key{r == running_by_owner_.end() ? 0 : r->second,
                                     t == last_start_by_owner_.end() ? 0 : t->second};
        if (key < best) {
          best = key;
          pick = it;
        }
      }
      job = *pick;
      queue_.erase(pick);
      running_by_owner_[job->req.owner]++;
      last_start_by_owner_[job->req.owner] = ++start_seq_;
    }
    running_++;
    Execute(*job);
    running_--;
    std::lock_guard<std::mutex> l(mu_);
    if (--running_by_owner_[job->req.owner] == 0) running_by_owner_.erase(job->req.owner);
  }
}

void JobManager::Execute(Job& job) {
  {
    std::lock_guard<std::mutex> l(job.mu);
    job.state = DispatchState::kRunning;
    job.started_ms = SteadyMs();
  }
  Result<std::unique_ptr<query::SearchResults>> result = Cancelled("search cancelled");
  if (!job.cancelled.load()) {
    gate_->Acquire();
    int64_t slice_start = SteadyMs();
    job.source->yield = [this, &slice_start] {
      constexpr int64_t kSliceMs = 100;
      if (SteadyMs() - slice_start < kSliceMs || !gate_->Contended()) return;
      gate_->Release();
      gate_->Acquire();
      slice_start = SteadyMs();
    };
    try {
      if (job.stream) {
        // Export: each batch goes out without the CPU slot (the client may be slow), and counts
        // as results.
        result = job.engine->ExecuteStream(*job.plan, [&](const query::SearchResults& batch) {
          gate_->Release();
          const bool more = job.stream(batch);
          {
            std::lock_guard<std::mutex> l(job.mu);
            job.result_count = std::min(job.result_count + batch.size(), job.req.max_count);
          }
          gate_->Acquire();
          slice_start = SteadyMs();
          return more && !job.stop.load();
        });
      } else {
        result = job.engine->ExecuteRows(*job.plan);
      }
    } catch (const std::exception& e) {
      result = Internal("search failed: {}", e.what());
    }
    job.source->yield = nullptr;
    gate_->Release();
  }
  const query::StoreScanStats stats = job.store_source->last_stats();
  std::lock_guard<std::mutex> l(job.mu);
  job.run_duration = (SteadyMs() - job.started_ms) / 1000.0;
  counters_.run_us_sum += static_cast<uint64_t>(job.run_duration * 1e6);
  if (job.cancelled.load()) {
    counters_.cancelled++;
    job.state = DispatchState::kFailed;
    job.messages.push_back(Message{"FATAL", "Search was cancelled."});
  } else if (!result.ok() && !(job.finalized && result.status().code() == StatusCode::kCancelled)) {
    counters_.failed++;
    job.state = DispatchState::kFailed;
    job.messages.push_back(Message{"FATAL", result.status().message()});
    log::Info("serve: search {} of {} failed: {}", job.sid, job.req.owner,
              result.status().message());
  } else {
    counters_.done++;
    job.state = DispatchState::kDone;
    if (result.ok() && job.stream) {
      job.results = std::move(*result);  // the rows went out; the columns stay
      const bool events = !job.results->columns_known();
      job.event_count =
          events ? job.result_count : (stats.aggregated ? stats.candidates : job.scanned.load());
    } else if (result.ok()) {
      job.results = std::move(*result);
      job.result_count = std::min(job.results->size(), job.req.max_count);
      if (job.results->size() > job.req.max_count) {
        job.messages.push_back(
            Message{"WARN", fmt::format("Results were capped at max_count={} of {}.",
                                        job.req.max_count, job.results->size())});
      }
      const bool events = !job.results->columns_known();
      job.event_count =
          events ? job.results->size() : (stats.aggregated ? stats.candidates : job.scanned.load());
    }
    if (job.finalized)
      job.messages.push_back(Message{"INFO", "Search was finalized: the results are partial."});
    for (const auto& w : job.store_source->warnings()) job.messages.push_back(Message{"WARN", w});
  }
  if (options_.audit != nullptr) {
    AuditRecord r = SearchAudit(job.req, job.cancelled.load()                  ? "cancelled"
                                         : job.state == DispatchState::kFailed ? "failed"
                                                                               : "completed");
    r.search_id = job.sid;
    r.ended = true;
    r.result_count = job.result_count;
    r.event_count = job.state == DispatchState::kDone ? job.event_count : job.scanned.load();
    r.scan_count = job.scanned.load();
    r.total_run_time = job.run_duration;
    if (job.state == DispatchState::kFailed && !job.messages.empty())
      r.error = job.messages.back().text;
    options_.audit->Record(std::move(r));
  }
  if (job.ended) job.ended();
  job.cv.notify_all();
}

void JobManager::Reaper() {
  std::unique_lock<std::mutex> l(mu_);
  while (!stop_) {
    reaper_cv_.wait_for(l, std::chrono::seconds(1));
    const int64_t now = SteadyMs();
    for (auto it = jobs_.begin(); it != jobs_.end();) {
      Job& j = *it->second;
      bool finished = false;
      {
        // A job whose mutex is held is in use (an export streaming its rows to a slow client may
        // hold it for long): not expired, and not waited for while the manager's lock is held.
        std::unique_lock<std::mutex> jl(j.mu, std::try_to_lock);
        if (jl.owns_lock())
          finished = j.state == DispatchState::kDone || j.state == DispatchState::kFailed;
      }
      if (finished && now - j.last_access_ms.load() > j.req.ttl_s * 1000) {
        log::Debug("serve: job {} expired", it->first);
        it = jobs_.erase(it);
      } else {
        ++it;
      }
    }
  }
}

}  // namespace cairn::serve
