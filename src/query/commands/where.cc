// where <expr>: keeps the rows for which the eval expression is true.
// Streaming.

#include "query/command_support.h"

namespace cairn::query::internal {

void Register_where(CommandRegistry& r) {
  AddCommand(
      r, "where", CommandClass::kStreaming, Expression(),
      [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
        const Expr* e = c.expr.get();
        const EvalContext* ctx = &env.executor->ctx();
        return MakeOp<RowOperator>([e, ctx](Row& row) -> Result<bool> {
          auto v = Evaluate(*e, row, *ctx);
          if (!v.ok()) return v.status().WithContext("where");
          return v->IsTrue();
        });
      },
      AlwaysParallel);
}

}  // namespace cairn::query::internal
