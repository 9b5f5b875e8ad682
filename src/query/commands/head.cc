// head [N] | head (expr) [keeplast=] [null=]: passes the first N rows, or the
// rows up to the first for which the expression is not true; the scan stops
// once it has them. Streaming.

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class HeadOperator final : public Operator {
 public:
  HeadOperator(const Command& c, const EvalContext* ctx) : c_(c), ctx_(ctx) {
    keeplast_ = BoolOption(c, "keeplast", false);
    null_ok_ = BoolOption(c, "null", false);
  }
  Status Push(Rows& rows) override {
    if (done_) return Status::Ok();
    size_t keep = 0;
    if (c_.expr) {
      for (; keep < rows.size(); ++keep) {
        auto v = Evaluate(*c_.expr, rows[keep], *ctx_);
        if (!v.ok()) return v.status().WithContext("head");
        if (!(v->IsTrue() || (null_ok_ && v->is_null()))) {
          done_ = true;
          if (keeplast_) ++keep;
          break;
        }
      }
    } else {
      long long left = c_.count - taken_;
      keep =
          static_cast<size_t>(std::clamp<long long>(left, 0, static_cast<long long>(rows.size())));
      taken_ += static_cast<long long>(keep);
      if (taken_ >= c_.count) done_ = true;
    }
    rows.resize(keep);
    return Emit(rows);
  }
  Status Finish(Schema* schema) override { return FinishNext(schema); }
  bool Done() const override { return done_ || Operator::Done(); }

 private:
  const Command& c_;
  const EvalContext* ctx_;
  bool keeplast_ = false, null_ok_ = false, done_ = false;
  long long taken_ = 0;
};

}  // namespace

void Register_head(CommandRegistry& r) {
  AddCommand(r, "head", CommandClass::kStreaming,
             WithPrinter(Generic({.leading_count = true, .paren_expr = true}, CountOrLimit),
                         [](const Command& c) {
                           if (c.expr)
                             return "head (" + ToString(*c.expr) + ")" + OptionText(c.options);
                           return "head " + std::to_string(c.count) + OptionText(c.options);
                         }),
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               return MakeOp<HeadOperator>(c, &env.executor->ctx());
             });
}

}  // namespace cairn::query::internal
