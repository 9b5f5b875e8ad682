#pragma once
// The search engine: SPL text -> macro expansion -> Pipeline -> Plan -> rows.
//
// Events come from an EventSource. The planner splits the leading search into a
// time range (earliest=/latest=) and a predicate that the source may use to
// skip events (push-down); the engine re-checks every event it receives against
// the predicate, so a source may over-deliver but must never drop a matching
// event. Sources deliver events newest first, as Splunk does.
//
// Thread safety: an Engine may run several searches at once when its
// EventSource is thread-safe; a Plan is immutable after Prepare.

#include <functional>
#include <limits>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/ast.h"
#include "query/macros.h"
#include "query/row.h"

namespace cairn::query {

// Errors met after a scan handed out its events (a row loading its raw JSON on
// demand): the search fails with the first. Thread-safe.
class DeferredErrors {
 public:
  void Record(const Status& s) {
    std::lock_guard<std::mutex> l(mu_);
    if (first_.ok()) first_ = s;
  }
  Status First() const {
    std::lock_guard<std::mutex> l(mu_);
    return first_;
  }

 private:
  mutable std::mutex mu_;
  Status first_;
};

struct ScanRequest {
  double earliest = -std::numeric_limits<double>::infinity();  // inclusive, epoch seconds
  double latest = std::numeric_limits<double>::infinity();     // exclusive
  const SearchNode* predicate = nullptr;  // may be null (match all); a hint only
  long long limit = -1;  // stop after this many events that match the predicate (-1: no limit)
  std::shared_ptr<DeferredErrors> errors;  // where events' later read errors go (may be null)
  // The field names the search may read of the events (a hint: a source may prepare columns for
  // them).
  std::vector<std::string> fields;
  // Threads the source may use for work of its own (PreAggregate reads segments on them).
  int workers = 1;
};

// Events in delivery order. `exact`: every event matches the request's
// predicate (the source evaluated it exactly), so the engine need not check it
// again.
struct EventBatch {
  std::vector<EventView> events;
  bool exact = false;
  size_t size() const { return events.size(); }
  bool empty() const { return events.empty(); }
  void clear() { events.clear(); }
};

class EventSource {
 public:
  virtual ~EventSource() = default;
  // Calls `sink` with batches of events in descending _time order within the
  // request's range. Stops when `sink` returns false. Errors from storage are
  // returned.
  virtual Status Scan(const ScanRequest& request, const std::function<bool(EventBatch&)>& sink) = 0;

  // Scans with `workers` threads: calls sink(worker, batch) from each (worker in [0, workers)),
  // each batch holding events in no particular order but with their EventView::tiebreak set, so
  // that (time descending, tiebreak) is the order Scan delivers. Stops early when a sink returns
  // false. The default runs Scan on the calling thread as worker 0.
  virtual Status ScanParallel(const ScanRequest& request, int workers,
                              const std::function<bool(int, EventBatch&)>& sink) {
    (void)workers;
    return Scan(request, [&](EventBatch& b) { return sink(0, b); });
  }

  // Optional fast path for the aggregating command right after the leading
  // search (`stats`, `timechart`). A source that evaluates request.predicate
  // exactly (no re-check needed) and can compute the command's inputs without
  // reading events hands `push` batches of weighted rows (Row::weight) that
  // `command` aggregates to exactly the result it would give over the matching
  // events, and returns true; the engine runs `command` on them. Returns false
  // (the default), before pushing anything, to have the engine scan events
  // instead. An error from `push` ends the call with that error.
  virtual Result<bool> PreAggregate(const ScanRequest& request, const Command& command,
                                    const std::function<Status(std::vector<Row>&)>& push) {
    (void)request;
    (void)command;
    (void)push;
    return false;
  }
  // Lines for --explain describing how the source would serve `request` (what
  // is pushed down), `next` being the first command after the leading search or
  // null. Empty by default.
  virtual std::string Explain(const ScanRequest& request, const Command* next) {
    (void)request;
    (void)next;
    return "";
  }
};

// Events held in memory (tests, small files). Applies the time range and, when
// asked, nothing else: the engine filters. Thread-safe for concurrent scans
// after construction.
class MemoryEventSource final : public EventSource {
 public:
  explicit MemoryEventSource(std::vector<EventRecord> events);
  Status Scan(const ScanRequest& request, const std::function<bool(EventBatch&)>& sink) override;
  size_t size() const { return events_.size(); }

 private:
  std::vector<std::shared_ptr<const EventRecord>> events_;  // newest first
};

// What will run: canonical text via ToString (for --explain).
struct Plan {
  double earliest = -std::numeric_limits<double>::infinity();
  double latest = std::numeric_limits<double>::infinity();
  bool scans_events = true;        // false when the first command generates rows itself
  SearchPtr predicate;             // the leading search without time modifiers (null: none)
  long long scan_limit = -1;       // early stop: a head N right after the leading search
  std::shared_ptr<Pipeline> rest;  // commands after the leading search
  std::string expanded;            // the search after macro expansion
  std::string ToString() const;
};

// `s` as one CSV field (RFC 4180: quoted when it holds a comma, quote or line
// break).
std::string CsvCell(const std::string& s);

struct ResultTable {
  std::vector<std::string> columns;
  std::vector<std::vector<Values>> rows;  // rows[i][j] is column j of row i ({} = null)
  // One line per row, columns separated by " | ", multivalues joined by
  // "\n"-free " ; ", preceded by a header line; used by tests and debugging.
  std::string ToText() const;
};

// What each command of a finished search did, for `cairn search --timing`.
struct CommandProfile {
  std::string command;    // its canonical text
  std::string kind;       // streaming, transforming, blocking or generating
  uint64_t rows_in = 0;   // rows it was handed
  uint64_t rows_out = 0;  // rows it passed on
  double seconds = 0;     // its own time, without the commands after it (CPU time summed over the
                          // workers when it ran in parallel)
  size_t peak_bytes = 0;  // the most it held at once against the memory budget
};
struct SearchProfile {
  std::vector<CommandProfile> commands;  // in pipeline order
  size_t budget_peak_bytes = 0;          // the whole search's peak against its budget
  size_t budget_bytes = 0;
};

// The rows of a finished search, in order. Each row is extracted when it is read, so a search
// that returns millions of events holds little more than references to them. Not thread-safe.
class SearchResults {
 public:
  struct Impl;
  explicit SearchResults(std::unique_ptr<Impl> impl);
  ~SearchResults();
  // Whether a command fixed the output columns (table, stats, ...); then columns() lists them.
  bool columns_known() const;
  const std::vector<std::string>& columns() const;
  size_t size() const;
  // Row i's output columns and values: the search's columns when known, else the row's own fields
  // with _time first and _raw last (other internal fields left out).
  void Cells(size_t i, std::vector<std::string>* names, std::vector<Values>* values) const;
  // One field of row i (null: the row lacks it), without extracting the others.
  Values Field(size_t i, std::string_view name) const;
  // The first error met while reading rows (stored events that could not be read); check it
  // after reading them.
  Status status() const;
  // Loads ahead, on `workers` threads, the stored events of rows [begin, end) that are still to
  // be read, where end is the first row past what the block caches can keep (a few dozen blocks);
  // returns end. Reading those rows afterwards finds their events decompressed: printing many
  // events uses every core for the decompression.
  size_t PrefetchEvents(size_t begin, int workers) const;
  // Every row at once (columns: the known ones, else every field of any row).
  ResultTable ToTable() const;
  // Rows, time and memory per command of the search (not of its subsearches).
  const SearchProfile& profile() const;

 private:
  std::unique_ptr<Impl> impl_;
};

struct EngineOptions {
  double now = 0;           // epoch seconds; 0 = the system clock at each search
  std::string lookups_dir;  // folder of <name>.csv lookup tables
  double earliest = -std::numeric_limits<double>::infinity();  // outer bounds (CLI flags)
  double latest = std::numeric_limits<double>::infinity();
  size_t max_subsearch_rows = 10000;
  // What one search may hold in blocking commands, group tables and results;
  // beyond it the search stops with an error naming the command.
  size_t memory_budget_bytes = size_t{1} << 30;
  // Threads that scan segments in parallel when the search allows it (0: one per core).
  int threads = 0;
};

class Engine {
 public:
  // `source` must outlive the engine; it may be null for searches that generate
  // their own rows.
  Engine(EventSource* source, MacroSet macros, EngineOptions options);

  // Expands macros, parses and plans. Errors name the offset in the expanded
  // search.
  Result<Plan> Prepare(std::string_view spl) const;
  // Prepare + execute.
  Result<ResultTable> Run(std::string_view spl) const;
  Result<ResultTable> Execute(const Plan& plan) const;
  // The same, handing the rows out one at a time (for output of many rows).
  Result<std::unique_ptr<SearchResults>> ExecuteRows(const Plan& plan) const;
  // Runs the plan as ExecuteRows does but hands its final rows to `sink` in batches as the
  // pipeline produces them instead of holding them: when the pipeline's last commands stream, rows
  // leave while the events are still being scanned (a batch holds at most the rows of one scanned
  // batch of events, and at most `batch_rows`); a transforming or blocking command hands its rows
  // on when its input ends. `sink` runs on the searching thread and may block (the search waits:
  // back-pressure); returning false stops the search as a `head` that has its rows does (the scan
  // ends at its next batch, and the search completes without error). The batch is valid only
  // during the call; its columns are the search's when known by then (a command fixed them, or a
  // trailing table/fields names them), else each row's own. Returns the finished search without
  // rows (size() 0): its columns, status() and profile().
  using RowSink = std::function<bool(const SearchResults& batch)>;
  Result<std::unique_ptr<SearchResults>> ExecuteStream(const Plan& plan, const RowSink& sink,
                                                       size_t batch_rows = 1000) const;
  // The plan's text followed by the source's push-down description (for
  // --explain).
  std::string Explain(const Plan& plan) const;

  const EngineOptions& options() const { return options_; }

 private:
  EventSource* source_;
  MacroSet macros_;
  EngineOptions options_;
};

}  // namespace cairn::query
