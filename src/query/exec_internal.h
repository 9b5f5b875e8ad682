#pragma once
// Internal to the query layer: the state a pipeline passes between commands,
// and the executor that runs a plan's commands over it (each command's
// operator comes from its registry entry, command_registry.h). Not part of the
// public API.

#include <string>
#include <vector>

#include "query/engine.h"
#include "query/eval.h"
#include "query/extract.h"
#include "query/operator.h"

namespace cairn::query::internal {

struct OpEnv;

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
  // For `eventstats … by … | where …` whose groups are counted (`groups`, the equivalent stats's
  // rows): a search for the events of the groups the where keeps, or null when the where reads
  // other fields, keeps events without a group, or keeps too many groups to spell out.
  Result<SearchPtr> NarrowToGroups(const Plan& plan, const Rows& groups, OpEnv& env);
  // How many leading commands of the plan may run in parallel workers (0: none; see
  // CommandInfo::parallel).
  size_t ParallelPrefix(const Plan& plan) const;
  Status RunParallel(const Plan& plan, const ScanRequest& req, size_t prefix, int workers,
                     const std::function<void(EventBatch&, Rows*)>& to_rows,
                     const std::vector<Operator*>& main_ops, int depth);
  Status ExecPipeline(const Pipeline& p, Results* r, int depth);

  // Rewrites earliest=/latest= anywhere in a search into _time comparisons.
  Result<SearchPtr> RewriteTime(const SearchNode& n) const;
  // Replaces [subsearch] nodes by the search their results stand for.
  Result<SearchPtr> ResolveSubsearches(const SearchNode& n, int depth);

  static ResultTable ToTable(Results* r);
  const EvalContext& ctx() const { return ctx_; }
  const std::shared_ptr<DeferredErrors>& errors() const { return errors_; }

  // The file of lookup table `name` in the lookups folder (lookup_files.cc).
  Result<std::string> LookupPath(const std::string& name) const;
  double now() const { return now_; }
  const EngineOptions& options() const { return options_; }
  MemoryBudget* budget() { return &budget_; }
  // The top-level pipeline's commands as they ran (filled when RunPlan at depth 0 ends).
  const SearchProfile& profile() const { return profile_; }

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
  SearchProfile profile_;
};

// The field names a plan's search and commands may read of its events (an
// over-approximation: every name a command mentions), for Extraction.
std::vector<std::string> FieldsRead(const Plan& plan);

// The columns shown for rows whose columns no command fixed: _time, then every other field not
// starting with '_' present in any row (sorted), then _raw (command_support.cc).
std::vector<std::string> DefaultColumns(std::vector<Row>& rows);

}  // namespace cairn::query::internal
