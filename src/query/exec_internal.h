#pragma once
// Internal to the query layer: the state a pipeline passes between commands,
// and the executor that runs commands over it. Not part of the public API.

#include <string>
#include <vector>

#include "query/engine.h"
#include "query/eval.h"
#include "query/extract.h"
#include "query/operator.h"

namespace cairn::query::internal {

struct Results {
  std::vector<Row> rows;
  std::vector<std::string> columns;  // output order when known
  bool known = false;                // columns set by a command (table, stats, ...)
};

class Executor {
 public:
  Executor(EventSource* source, const EngineOptions& options, double now, const MacroSet* macros)
      : source_(source),
        options_(options),
        now_(now),
        macros_(macros),
        budget_(options.memory_budget_bytes) {
    ctx_.now = now;
  }

  Result<Plan> MakePlan(const Pipeline& p, std::string expanded) const;
  Status ExecPlan(const Plan& plan, Results* r, int depth);
  // Runs the plan's scan (or generating command) through its commands into
  // `sink`; `schema` is the columns as they stand before the plan and becomes
  // the columns after it.
  Status RunPlan(const Plan& plan, Operator* sink, Schema* schema, int depth);
  // How many leading commands of the plan may run in parallel workers (0: none; see
  // CommandInfo::parallel).
  size_t ParallelPrefix(const Plan& plan) const;
  Status RunParallel(const Plan& plan, const ScanRequest& req, size_t prefix, int workers,
                     const std::function<void(EventBatch&, Rows*)>& to_rows, Operator* merge_into,
                     int depth);
  Status ExecPipeline(const Pipeline& p, Results* r, int depth);
  // The whole-vector form of a command (commands not yet streaming; see
  // commands/legacy.cc).
  Status RunCommand(const Command& c, Results* r, int depth);

  // Rewrites earliest=/latest= anywhere in a search into _time comparisons.
  Result<SearchPtr> RewriteTime(const SearchNode& n) const;
  // Replaces [subsearch] nodes by the search their results stand for.
  Result<SearchPtr> ResolveSubsearches(const SearchNode& n, int depth);

  static ResultTable ToTable(Results* r);
  const EvalContext& ctx() const { return ctx_; }
  const std::shared_ptr<DeferredErrors>& errors() const { return errors_; }

 private:
  Status Stats(const Command& c, Results* r);
  Status EventStats(const Command& c, Results* r);
  Status StreamStats(const Command& c, Results* r);
  Status Chart(const Command& c, Results* r);
  Status Bin(const Command& c, Results* r);
  Status Table(const Command& c, Results* r);
  Status Fields(const Command& c, Results* r);
  Status RenameCmd(const Command& c, Results* r);
  Status Sort(const Command& c, Results* r);
  Status Dedup(const Command& c, Results* r);
  Status TopRare(const Command& c, Results* r);
  Status Spath(const Command& c, Results* r);
  Status Rex(const Command& c, Results* r);
  Status FillNull(const Command& c, Results* r);
  Status Lookup(const Command& c, Results* r);
  Status InputLookup(const Command& c, Results* r);
  Status OutputLookup(const Command& c, Results* r);
  Status Join(const Command& c, Results* r, int depth);
  Status Convert(const Command& c, Results* r);
  Status FieldSummary(const Command& c, Results* r);

 public:
  Result<std::string> LookupPath(const std::string& name) const;
  double now() const { return now_; }
  const EngineOptions& options() const { return options_; }
  MemoryBudget* budget() { return &budget_; }

 private:
  EventSource* source_;
  const EngineOptions& options_;
  double now_;
  const MacroSet* macros_;
  EvalContext ctx_;
  // One per plan run (subsearches have their own); rows point at them until the
  // results are turned into a table.
  std::vector<std::unique_ptr<Extraction>> extractions_;
  std::shared_ptr<DeferredErrors> errors_ = std::make_shared<DeferredErrors>();
  MemoryBudget budget_;
};

// The field names a plan's search and commands may read of its events (an
// over-approximation: every name a command mentions), for Extraction.
std::vector<std::string> FieldsRead(const Plan& plan);

// A command's boolean option (t/true/1/yes, case-insensitive), or `def` when
// absent.
bool BoolOption(const Command& c, const std::string& key, bool def);
// A command's numeric option, or `def` when absent; an error naming the command
// and option otherwise.
Result<long long> IntOption(const Command& c, const std::string& key, long long def);

// Field names present in any row, sorted (runs extraction on event rows).
std::vector<std::string> AllFieldNames(std::vector<Row>& rows);
// Expands wildcard patterns against `names`, keeping the pattern order; plain
// names pass through.
std::vector<std::string> ExpandPatterns(const std::vector<std::string>& patterns,
                                        const std::vector<std::string>& names);

}  // namespace cairn::query::internal
