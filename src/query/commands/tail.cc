// tail [N]: the last N rows (default 10), last first. Holds N rows.

#include <deque>

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class TailOperator final : public Operator {
 public:
  TailOperator(long long n, MemoryBudget* budget) : n_(n), budget_(budget) {}
  ~TailOperator() override {
    if (charged_) budget_->Charge("tail", -charged_).IgnoreError();
  }
  Status Push(Rows& rows) override {
    if (n_ <= 0) return Status::Ok();
    long long delta = 0;
    for (Row& row : rows) {
      row.Compact();
      long long b = static_cast<long long>(row.MemoryUsage());
      kept_.push_back({b, std::move(row)});
      delta += b;
      if (static_cast<long long>(kept_.size()) > n_) {
        delta -= kept_.front().first;
        kept_.pop_front();
      }
    }
    charged_ += delta;
    counters_.peak_bytes = std::max(counters_.peak_bytes, static_cast<size_t>(charged_));
    return budget_->Charge("tail", delta);
  }
  Status Finish(Schema* schema) override {
    Rows out;
    for (auto it = kept_.rbegin(); it != kept_.rend(); ++it) out.push_back(std::move(it->second));
    kept_.clear();
    budget_->Charge("tail", -charged_).IgnoreError();
    charged_ = 0;
    RETURN_IF_ERROR(Emit(out));
    return FinishNext(schema);
  }

 private:
  long long n_;
  MemoryBudget* budget_;
  std::deque<std::pair<long long, Row>> kept_;
  long long charged_ = 0;
};

}  // namespace

void Register_tail(CommandRegistry& r) {
  AddCommand(r, "tail", CommandClass::kBlocking,
             WithPrinter(Generic({.leading_count = true}, CountOrLimit),
                         [](const Command& c) {
                           return "tail " + std::to_string(c.count) + OptionText(c.options);
                         }),
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               return MakeOp<TailOperator>(c.count, env.budget);
             });
}

}  // namespace cairn::query::internal
