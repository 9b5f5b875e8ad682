// dedup [N] f1 f2 ... [keepevents=] [keepempty=] [consecutive=] [sortby ...]: keeps the first N
// rows of each combination of values. Streaming (memory grows with the distinct combinations);
// with sortby the kept rows are then sorted, which holds them.

#include "query/command_support.h"
#include "query/commands/sort.h"
#include "store/flat_map.h"

namespace cairn::query::internal {
namespace {

class DedupOperator final : public Operator {
 public:
  DedupOperator(const Command& c, MemoryBudget* budget) : c_(c), budget_(budget) {
    keepempty_ = BoolOption(c, "keepempty", false);
    consecutive_ = BoolOption(c, "consecutive", false);
    keepevents_ = BoolOption(c, "keepevents", false);
    keep_n_ = c.count > 0 ? c.count : 1;
    if (!c.sort_keys.empty()) sort_ = std::make_unique<SortOperator>(c.sort_keys, 0, budget);
  }
  ~DedupOperator() override {
    if (charged_) budget_->Charge("dedup", -charged_).IgnoreError();
  }
  void set_next(Operator* next) override {
    if (sort_) {
      sort_->set_next(next);
      Operator::set_next(sort_.get());
    } else {
      Operator::set_next(next);
    }
  }

  Status Push(Rows& rows) override {
    size_t w = 0;
    long long grown = 0;
    for (size_t i = 0; i < rows.size(); ++i) {
      Row& row = rows[i];
      key_.clear();
      bool missing = false;
      for (const auto& f : c_.fields) {
        const Values* v = row.Get(f);
        if (!v) {
          missing = true;
          break;
        }
        for (const auto& x : *v) {
          uint32_t n = static_cast<uint32_t>(x.size());
          key_.append(reinterpret_cast<const char*>(&n), sizeof(n));
          key_.append(x);
        }
        key_.push_back('\x02');
      }
      bool keep;
      if (missing) {
        keep = keepempty_;
      } else if (consecutive_) {
        keep = !(have_prev_ && key_ == prev_);
        prev_ = key_;
        have_prev_ = true;
      } else {
        bool inserted;
        uint32_t* n = seen_.FindOrInsert(key_, 0, &inserted);
        if (inserted) grown += static_cast<long long>(key_.size()) + 32;
        keep = ++*n <= keep_n_;
      }
      if (!keep && !missing && keepevents_) {
        for (const auto& f : c_.fields) row.Remove(f);
        keep = true;
      }
      if (!keep) continue;
      if (w != i) rows[w] = std::move(rows[i]);
      ++w;
    }
    rows.resize(w);
    charged_ += grown;
    counters_.peak_bytes = std::max(counters_.peak_bytes, static_cast<size_t>(charged_));
    if (grown) RETURN_IF_ERROR(budget_->Charge("dedup", grown));
    return Emit(rows);
  }
  Status Finish(Schema* schema) override { return FinishNext(schema); }

 private:
  const Command& c_;
  MemoryBudget* budget_;
  bool keepempty_, consecutive_, keepevents_;
  long long keep_n_;
  std::unique_ptr<SortOperator> sort_;
  store::FlatStringMap seen_;
  std::string key_, prev_;
  bool have_prev_ = false;
  long long charged_ = 0;
};

}  // namespace

void Register_dedup(CommandRegistry& r) {
  CommandInfo info;
  info.name = "dedup";
  info.syntax = Generic({.leading_count = true, .fields = true, .sortby = true}, [](Command* c) {
    if (!c->fields.empty()) return Status::Ok();
    return SyntaxError(c->offset, "dedup needs at least one field");
  });
  info.classes = {CommandClass::kStreaming, CommandClass::kBlocking};
  info.class_of = [](const Command& c) {
    return c.sort_keys.empty() ? CommandClass::kStreaming : CommandClass::kBlocking;
  };
  info.make = [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
    return MakeOp<DedupOperator>(c, env.budget);
  };
  r.Add(std::move(info));
}

}  // namespace cairn::query::internal
