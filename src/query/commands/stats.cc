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
    Rows out;
    for (size_t g : table_.Sorted()) {
      Row row;
      const auto& key = table_.key(g);
      for (size_t i = 0; i < c_.by.size(); ++i) row.Set(c_.by[i], {key[i]});
      for (size_t i = 0; i < c_.aggs.size(); ++i)
        row.Set(c_.aggs[i].OutputName(), table_.Result(g, i));
      out.push_back(std::move(row));
    }
    schema->columns = c_.by;
    for (const auto& a : c_.aggs) {
      std::string n = a.OutputName();
      if (std::find(schema->columns.begin(), schema->columns.end(), n) == schema->columns.end()) {
        schema->columns.push_back(n);
      }
    }
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

}  // namespace

void Register_stats(CommandRegistry& r) {
  CommandInfo info;
  info.name = "stats";
  info.class_of = [](const Command& c) {
    return HasWildcardAggregation(c) ? CommandClass::kBlocking : CommandClass::kTransforming;
  };
  info.make = [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
    if (HasWildcardAggregation(c)) {
      Executor* ex = env.executor;
      return MakeOp<BufferOperator>("stats", env.budget,
                                    [ex, &c](Results* r) { return ex->RunCommand(c, r, 0); });
    }
    return MakeOp<StatsOperator>(c, env.budget);
  };
  info.parallel = [](const Command& c) { return !HasWildcardAggregation(c); };
  r.Add(std::move(info));
}

}  // namespace cairn::query::internal
