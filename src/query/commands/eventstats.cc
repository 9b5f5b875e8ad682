// eventstats <aggregations> [by f ...]: every row gets its group's aggregations over all rows.
// Blocking: the rows are held (their raw JSON let go and read again when needed), within the
// search's memory budget, while the groups are aggregated as they come.

#include "query/commands/eventstats.h"

#include <unordered_map>

#include "query/aggregate.h"
#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class EventStatsOperator final : public Operator {
 public:
  EventStatsOperator(const Command& c, MemoryBudget* budget)
      : c_(c), budget_(budget), table_(c.aggs), values_(c.aggs.size()) {}
  ~EventStatsOperator() override {
    if (charged_) budget_->Charge("eventstats", -charged_).IgnoreError();
  }

  Status Push(Rows& rows) override {
    long long bytes = -static_cast<long long>(table_bytes_);
    for (Row& row : rows) {
      auto keys = KeysOf(row, c_.by);
      long long group = -1;
      if (!keys.empty()) {
        for (size_t i = 0; i < c_.aggs.size(); ++i) {
          values_[i] = c_.aggs[i].field.empty() ? nullptr : row.Get(c_.aggs[i].field);
        }
        const double t = row.time();
        const OrderKey key = OrderOf(row, seq_);
        for (size_t k = 0; k < keys.size(); ++k) {
          size_t g = table_.Find(keys[k]);
          if (k == 0) group = static_cast<long long>(g);
          table_.Add(g, values_, t, key, row.weight());
        }
      }
      ++seq_;
      groups_.push_back(group);
      bytes += static_cast<long long>(held_.Add(std::move(row)) + sizeof(long long));
    }
    table_bytes_ = table_.bytes();
    bytes += static_cast<long long>(table_bytes_);
    charged_ += bytes;
    counters_.peak_bytes = std::max(counters_.peak_bytes, static_cast<size_t>(charged_));
    return budget_->Charge("eventstats", bytes);
  }

  Status Finish(Schema* schema) override {
    // Results per group, computed once.
    std::vector<std::vector<Values>> results(table_.size());
    for (size_t g = 0; g < table_.size(); ++g) {
      for (size_t i = 0; i < c_.aggs.size(); ++i) results[g].push_back(table_.Result(g, i));
    }
    Rows out;
    for (size_t r = 0; r < held_.size(); ++r) {
      Row row = held_.Take(r);
      long long g = groups_[r];
      if (g >= 0) {
        for (size_t i = 0; i < c_.aggs.size(); ++i) {
          row.Set(c_.aggs[i].OutputName(), results[static_cast<size_t>(g)][i]);
        }
      }
      out.push_back(std::move(row));
      if (out.size() == 1024) {
        RETURN_IF_ERROR(Emit(out));
        out.clear();
        if (Done()) break;
      }
    }
    held_.Clear();
    groups_.clear();
    for (const auto& a : c_.aggs) schema->Add(a.OutputName());
    RETURN_IF_ERROR(Emit(out));
    budget_->Charge("eventstats", -charged_).IgnoreError();
    charged_ = 0;
    return FinishNext(schema);
  }

 private:
  const Command& c_;
  MemoryBudget* budget_;
  GroupTable table_;
  std::vector<const Values*> values_;
  HeldRows held_;
  std::vector<long long> groups_;  // per held row: its first key's group, -1 for none
  uint64_t seq_ = 0;
  size_t table_bytes_ = 0;
  long long charged_ = 0;
};

// eventstats over wildcard aggregations: when the rows end, the aggregations are expanded against
// every field name they have.
Result<std::unique_ptr<Operator>> MakeWildcard(const Command& c, MemoryBudget* budget) {
  const Command* cmd = &c;
  return MakeOp<BufferOperator>("eventstats", budget, [cmd, budget](Results* r) -> Status {
    GroupTable table(ExpandAggregations(cmd->aggs, AllFieldNames(r->rows), cmd->by));
    std::vector<long long> groups;
    FeedRows(&table, cmd->by, r->rows, &groups);
    long long bytes = static_cast<long long>(table.bytes());
    Status charged = budget->Charge("eventstats", bytes);
    if (charged.ok()) {
      const auto& aggs = table.aggs();
      for (size_t i = 0; i < r->rows.size(); ++i) {
        if (groups[i] < 0) continue;
        for (size_t a = 0; a < aggs.size(); ++a) {
          r->rows[i].Set(aggs[a].OutputName(), table.Result(static_cast<size_t>(groups[i]), a));
        }
      }
      Schema schema{r->columns, r->known};
      for (const auto& a : aggs) schema.Add(a.OutputName());
      r->columns = std::move(schema.columns);
    }
    budget->Charge("eventstats", -bytes).IgnoreError();
    return charged;
  });
}

// One key string for a group's by-field values.
std::string JoinKey(const std::vector<std::string>& key) {
  std::string out;
  for (const auto& part : key) {
    out += part;
    out.push_back('\x1f');
  }
  return out;
}

class EventStatsAnnotate final : public Operator {
 public:
  EventStatsAnnotate(const Command& c, Rows groups) : c_(c) {
    for (Row& g : groups) {
      std::vector<std::string> key;
      for (const auto& b : c_.by) {
        const Values* v = g.Get(b);
        key.push_back(v && !v->empty() ? (*v)[0] : std::string());
      }
      std::vector<Values> results;
      for (const auto& a : c_.aggs) {
        const Values* v = g.Get(a.OutputName());
        results.push_back(v ? *v : Values());
      }
      results_.emplace(JoinKey(key), std::move(results));
    }
  }
  Status Push(Rows& rows) override {
    for (Row& row : rows) {
      auto keys = KeysOf(row, c_.by);
      if (keys.empty()) continue;
      auto it = results_.find(JoinKey(keys[0]));
      if (it == results_.end()) continue;
      for (size_t i = 0; i < c_.aggs.size(); ++i) row.Set(c_.aggs[i].OutputName(), it->second[i]);
    }
    return Emit(rows);
  }
  Status Finish(Schema* schema) override {
    for (const auto& a : c_.aggs) schema->Add(a.OutputName());
    return FinishNext(schema);
  }

 private:
  const Command& c_;
  std::unordered_map<std::string, std::vector<Values>> results_;
};

}  // namespace

std::optional<Command> EventStatsAsStats(const Command& eventstats) {
  if (!eventstats.options.empty() || HasWildcardAggregation(eventstats)) return std::nullopt;
  Command stats;
  stats.name = "stats";
  stats.offset = eventstats.offset;
  stats.aggs = eventstats.aggs;
  stats.by = eventstats.by;
  return stats;
}

std::unique_ptr<Operator> MakeEventStatsAnnotate(const Command& eventstats, Rows groups) {
  return std::make_unique<EventStatsAnnotate>(eventstats, std::move(groups));
}

void Register_eventstats(CommandRegistry& r) {
  AddCommand(r, "eventstats", CommandClass::kBlocking, Aggregations([](Command* c) {
               if (!c->aggs.empty()) return Status::Ok();
               return SyntaxError(c->offset,
                                  "eventstats needs at least one function (for example count)");
             }),
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               if (HasWildcardAggregation(c)) return MakeWildcard(c, env.budget);
               return MakeOp<EventStatsOperator>(c, env.budget);
             });
}

}  // namespace cairn::query::internal
