// stats <aggregations> [by f1 f2 ...]: one row per group of by-field values
// (groups sorted as Splunk sorts them), with each aggregation's result.
// Transforming: memory grows with the groups and with distinct values where a
// function keeps them (aggregate.h), charged to the search's memory budget.
// Aggregations over wildcard fields (values(*)) need every field name first, so
// that form holds the rows until its input ends.

#include "query/aggregate.h"
#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

// The result rows of a finished table, one per group in Splunk's order, and its columns.
Rows ResultRows(const GroupTable& table, const std::vector<std::string>& by) {
  const auto& aggs = table.aggs();
  Rows out;
  for (size_t g : table.Sorted()) {
    Row row;
    const auto& key = table.key(g);
    for (size_t i = 0; i < by.size(); ++i) row.Set(by[i], {key[i]});
    for (size_t i = 0; i < aggs.size(); ++i) row.Set(aggs[i].OutputName(), table.Result(g, i));
    out.push_back(std::move(row));
  }
  return out;
}

std::vector<std::string> ResultColumns(const std::vector<std::string>& by,
                                       const std::vector<Aggregation>& aggs) {
  std::vector<std::string> columns = by;
  for (const auto& a : aggs) {
    std::string n = a.OutputName();
    if (std::find(columns.begin(), columns.end(), n) == columns.end()) columns.push_back(n);
  }
  return columns;
}

class StatsOperator final : public Operator {
 public:
  StatsOperator(const Command& c, MemoryBudget* budget)
      : c_(c), budget_(budget), table_(c.aggs), values_(c.aggs.size()) {}
  ~StatsOperator() override {
    if (charged_) budget_->Charge("stats", -static_cast<long long>(charged_)).IgnoreError();
  }

  Status Push(Rows& rows) override {
    for (Row& row : rows) {
      auto keys = KeysOf(row, c_.by);
      if (keys.empty()) continue;
      for (size_t i = 0; i < c_.aggs.size(); ++i) {
        values_[i] = c_.aggs[i].field.empty() ? nullptr : row.Get(c_.aggs[i].field);
      }
      const double t = row.time();
      const OrderKey key = OrderOf(row, seq_++);
      for (const auto& k : keys) table_.Add(table_.Find(k), values_, t, key, row.weight());
    }
    return Charge();
  }

  Status MergeFrom(Operator& other) override {
    table_.Merge(static_cast<StatsOperator&>(other).table_);
    return Charge();
  }

  Status Finish(Schema* schema) override {
    if (table_.size() == 0 && c_.by.empty()) table_.Find({});
    Rows out = ResultRows(table_, c_.by);
    schema->columns = ResultColumns(c_.by, c_.aggs);
    schema->known = true;
    table_ = GroupTable(c_.aggs);
    RETURN_IF_ERROR(Emit(out));
    return FinishNext(schema);
  }

 private:
  Status Charge() {
    long long delta = static_cast<long long>(table_.bytes()) - static_cast<long long>(charged_);
    charged_ = table_.bytes();
    counters_.peak_bytes = std::max(counters_.peak_bytes, charged_);
    return delta ? budget_->Charge("stats", delta) : Status::Ok();
  }
  const Command& c_;
  MemoryBudget* budget_;
  GroupTable table_;
  std::vector<const Values*> values_;
  uint64_t seq_ = 0;
  size_t charged_ = 0;
};

// stats over wildcard aggregations: the rows are held; when they end, the aggregations are
// expanded against every field name they have and the groups aggregated.
Result<std::unique_ptr<Operator>> MakeWildcard(const Command& c, MemoryBudget* budget) {
  const Command* cmd = &c;
  return MakeOp<BufferOperator>("stats", budget, [cmd, budget](Results* r) -> Status {
    GroupTable table(ExpandAggregations(cmd->aggs, AllFieldNames(r->rows), cmd->by));
    FeedRows(&table, cmd->by, r->rows, nullptr);
    long long bytes = static_cast<long long>(table.bytes());
    Status charged = budget->Charge("stats", bytes);
    if (charged.ok()) {
      if (table.size() == 0 && cmd->by.empty()) table.Find({});
      r->rows = ResultRows(table, cmd->by);
      r->columns = ResultColumns(cmd->by, table.aggs());
      r->known = true;
    }
    budget->Charge("stats", -bytes).IgnoreError();
    return charged;
  });
}

}  // namespace

void Register_stats(CommandRegistry& r) {
  CommandInfo info;
  info.name = "stats";
  info.syntax = Aggregations([](Command* c) {
    if (!c->aggs.empty()) return Status::Ok();
    return SyntaxError(c->offset, "stats needs at least one function (for example count)");
  });
  info.classes = {CommandClass::kTransforming, CommandClass::kBlocking};
  info.class_of = [](const Command& c) {
    return HasWildcardAggregation(c) ? CommandClass::kBlocking : CommandClass::kTransforming;
  };
  info.make = [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
    if (HasWildcardAggregation(c)) return MakeWildcard(c, env.budget);
    return MakeOp<StatsOperator>(c, env.budget);
  };
  info.parallel = [](const Command& c) { return !HasWildcardAggregation(c); };
  r.Add(std::move(info));
}

}  // namespace cairn::query::internal
