// eval f=expr[, ...]: sets fields from eval expressions, left to right.
// Streaming.

#include "query/command_support.h"

namespace cairn::query::internal {

void Register_eval(CommandRegistry& r) {
  AddCommand(
      r, "eval", CommandClass::kStreaming,
      [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
        const Command* cmd = &c;
        const EvalContext* ctx = &env.executor->ctx();
        return MakeOp<RowOperator>(
            [cmd, ctx](Row& row) -> Result<bool> {
              for (const auto& a : cmd->assignments) {
                auto v = Evaluate(*a.expr, row, *ctx);
                if (!v.ok()) return v.status().WithContext("eval " + a.field);
                if (v->is_bool()) {
                  return InvalidArgument(
                      "eval {}: the result of an eval "
                      "expression cannot be a boolean; "
                      "wrap it in if(...)",
                      a.field);
                }
                row.Set(a.field, v->ToField());
              }
              return true;
            },
            [cmd](Schema* s) {
              for (const auto& a : cmd->assignments) s->Add(a.field);
            });
      },
      AlwaysParallel);
}

}  // namespace cairn::query::internal
