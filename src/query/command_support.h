#pragma once
// Shared by the command files (commands/*.cc): operator shapes most commands
// take, and small helpers.

#include <cmath>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "query/command_registry.h"
#include "query/command_syntax.h"
#include "query/exec_internal.h"

namespace cairn::query::internal {

class GroupTable;

// Rows a blocking command holds. A store event no command has changed is kept as a reference
// (its origin, ordinal and time: about 40 bytes) and read again when taken; any other row is
// kept whole, its raw JSON let go when it can be read again.
class HeldRows {
 public:
  // Takes `row`; returns the bytes it now holds.
  size_t Add(Row row);
  size_t size() const { return where_.size(); }
  // Row i as it was added (each row may be taken once).
  Row Take(size_t i);
  // A copy of row i (leaves it held).
  Row Get(size_t i) const;
  void Clear();

 private:
  struct Ref {
    std::shared_ptr<const EventOrigin> origin;
    uint32_t ordinal;
    double time;
  };
  const Extraction* extraction_ = nullptr;
  std::vector<Ref> refs_;
  std::vector<Row> rows_;
  std::vector<uint32_t> where_;  // per row: index into refs_, or into rows_ with the top bit set
};

// A streaming operator from a function of one row: true keeps the row, false
// drops it.
class RowOperator final : public Operator {
 public:
  using Fn = std::function<Result<bool>(Row&)>;
  using SchemaFn = std::function<void(Schema*)>;
  explicit RowOperator(Fn fn, SchemaFn schema = nullptr)
      : fn_(std::move(fn)), schema_(std::move(schema)) {}
  Status Push(Rows& rows) override;
  Status Finish(Schema* schema) override;

 private:
  Fn fn_;
  SchemaFn schema_;
};

// Holds every row (charging the memory budget) and runs `run` over all of them
// when the input ends: the shape of blocking commands.
class BufferOperator : public Operator {
 public:
  using RunFn = std::function<Status(Results*)>;
  BufferOperator(std::string name, MemoryBudget* budget, RunFn run)
      : name_(std::move(name)), budget_(budget), run_(std::move(run)) {}
  ~BufferOperator() override;
  Status Push(Rows& rows) override;
  Status Finish(Schema* schema) override;

 private:
  std::string name_;
  MemoryBudget* budget_;
  RunFn run_;
  HeldRows rows_;
  long long charged_ = 0;
};

// Group keys for a row: the cartesian product of its by-field values (distinct
// values of a multivalue field once each); empty when any by-field is null.
std::vector<std::vector<std::string>> KeysOf(Row& row, const std::vector<std::string>& by);

// Splunk's order of group keys: each part by CompareMixed, then bytewise.
struct KeyLess {
  bool operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const;
};

// Splunk's automatic time span for rows whose _time ranges over [lo, hi] (bin, timechart): 10 s
// up to 15 minutes, then 1 min, 5 min, 30 min, 1 h, 1 day. Every one is a multiple of 10 s.
double AutoSpan(double lo, double hi);
// The start of `t`'s bucket of width `span`.
inline double FloorTo(double t, double span) { return std::floor(t / span) * span; }

// std::make_unique for an operator, typed as the base the registry returns.
template <typename T, typename... Args>
std::unique_ptr<Operator> MakeOp(Args&&... args) {
  return std::make_unique<T>(std::forward<Args>(args)...);
}

// A command's string option, or `def` when absent.
std::string StringOption(const Command& c, const std::string& key, const std::string& def);

// A command's boolean option (t/true/1/yes, case-insensitive), or `def` when absent.
bool BoolOption(const Command& c, const std::string& key, bool def);
// A command's numeric option, or `def` when absent; an error naming the command and option
// otherwise.
Result<long long> IntOption(const Command& c, const std::string& key, long long def);

// Field names present in any row, sorted (runs extraction on event rows).
std::vector<std::string> AllFieldNames(std::vector<Row>& rows);
// Expands wildcard patterns against `names`, keeping the pattern order; plain names pass through.
std::vector<std::string> ExpandPatterns(const std::vector<std::string>& patterns,
                                        const std::vector<std::string>& names);
// Aggregations naming '*' (values(*) as *) expanded against `names`: one per matching name that
// is neither a by-field nor internal ('_' first), the text '*' matched carried into `as`.
std::vector<Aggregation> ExpandAggregations(const std::vector<Aggregation>& aggs,
                                            const std::vector<std::string>& names,
                                            const std::vector<std::string>& by);
// Feeds `rows` into `table` in their order in the vector (which stands for their order in the
// results): each row to the groups of its `by` values (KeysOf). `first_group`, when given,
// receives per row the group of its first key (-1: none, a by-field is null).
void FeedRows(GroupTable* table, const std::vector<std::string>& by, Rows& rows,
              std::vector<long long>* first_group);

// Registers a command written as `syntax` whose class does not depend on its options; `parallel`
// as in CommandInfo (null: never).
void AddCommand(CommandRegistry& r, std::string name, CommandClass cls, CommandSyntax syntax,
                std::function<Result<std::unique_ptr<Operator>>(const Command&, OpEnv&)> make,
                std::function<bool(const Command&)> parallel = nullptr);
// CommandInfo::parallel for a streaming command that treats each row on its own.
bool AlwaysParallel(const Command&);
// Whether the command aggregates a wildcard field (values(*)), which needs every field name.
bool HasWildcardAggregation(const Command& c);

}  // namespace cairn::query::internal
