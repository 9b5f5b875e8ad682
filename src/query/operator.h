#pragma once
// Internal to the query layer: the running form of a pipeline. Each command of
// a search becomes an Operator; events flow from the source in batches through
// the operators, each pushing what it produces to the next one. Streaming
// operators handle a batch and pass it on; transforming ones keep state sized
// by their groups and emit when their input ends; blocking ones hold rows (only
// what they need, within the search's memory budget) until then. Not part of
// the public API.

#include <atomic>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"
#include "query/row.h"

namespace cairn::query::internal {

using Rows = std::vector<Row>;

// The output columns of a pipeline so far: known once a command fixes them
// (table, stats, ...); otherwise every field of the final rows is shown.
struct Schema {
  std::vector<std::string> columns;
  bool known = false;
  void Add(const std::string& name);  // appends when known and not present
};

// The bytes a search may hold in blocking commands and results. Thread-safe.
class MemoryBudget {
 public:
  explicit MemoryBudget(size_t limit_bytes) : limit_(limit_bytes) {}
  // Accounts `bytes` more (or fewer, when negative) for `holder` (a command
  // name). Over the limit: kResourceExhausted naming the holder and the budget.
  Status Charge(const std::string& holder, long long bytes);
  size_t used() const { return used_.load(); }
  size_t peak() const { return peak_.load(); }
  size_t limit() const { return limit_; }

 private:
  size_t limit_;
  std::atomic<size_t> used_{0};
  std::atomic<size_t> peak_{0};
};

class Operator {
 public:
  virtual ~Operator() = default;
  // Takes `rows` (it may move from them and leaves the vector in an unspecified
  // state) and pushes its output to next().
  virtual Status Push(Rows& rows) = 0;
  // The input has ended: pushes what it still holds, applies its change to
  // `schema`, and finishes next(). Called once.
  virtual Status Finish(Schema* schema) = 0;
  // True when no further input can change the output (a head that has its
  // rows): the source may stop.
  virtual bool Done() const { return next_ && next_->Done(); }

  // Folds the state `other` (an operator of the same command that saw other rows) into this one,
  // for transforming commands run in parallel (CommandInfo::parallel).
  virtual Status MergeFrom(Operator& other);

  // Push and Finish as the pipeline calls them: counted and timed for --timing.
  Status Feed(Rows& rows);
  Status Close(Schema* schema);

  // Virtual so that a command made of several operators can put its own ones in between.
  virtual void set_next(Operator* next) { next_ = next; }
  Operator* next() const { return next_; }

  // For --timing: rows that came in and went out; time in Push and Finish
  // including what it pushed downstream, and that downstream part (the
  // operator's own time is the difference); the most bytes it held at once.
  struct Counters {
    uint64_t rows_in = 0;
    uint64_t rows_out = 0;
    double seconds = 0;
    double downstream_seconds = 0;
    size_t peak_bytes = 0;
    double own_seconds() const { return seconds - downstream_seconds; }
    // Adds another worker's counters of the same command (times add up as CPU time).
    void Add(const Counters& o);
  };
  const Counters& counters() const { return counters_; }
  void AddCounters(const Counters& o) { counters_.Add(o); }

 protected:
  // Pushes `rows` downstream (counting them); a no-op when empty.
  Status Emit(Rows& rows);
  Status FinishNext(Schema* schema);
  Counters counters_;

 private:
  Operator* next_ = nullptr;
};

}  // namespace cairn::query::internal
