// eval f=expr[, ...]: sets fields from eval expressions, left to right.
// Streaming.

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

// field=expression, field=expression, ...
Status Parse(CommandParser& p, Command* c) {
  while (true) {
    Token name = p.PeekEval();
    RETURN_IF_ERROR(p.CheckQuote());
    if (name.kind != Token::kWord && name.kind != Token::kField && name.kind != Token::kString) {
      return SyntaxError(name.offset, "eval expects 'field=expression'");
    }
    p.Take(name);
    Token eq = p.PeekEval();
    if (!eq.Is(Token::kOp, "=")) {
      return SyntaxError(eq.offset, "eval expects '=' after '" + name.text + "'");
    }
    p.Take(eq);
    Assignment a;
    a.field = name.text;
    ASSIGN_OR_RETURN(a.expr, p.ParseExpression());
    c->assignments.push_back(std::move(a));
    Token sep = p.PeekEval();
    if (!sep.Is(Token::kOp, ",")) break;
    p.Take(sep);
  }
  return p.ExpectCommandEnd();
}

std::string Print(const Command& c) {
  std::string out = "eval";
  for (size_t i = 0; i < c.assignments.size(); ++i) {
    out += (i ? ", " : " ") + FieldText(c.assignments[i].field) + "=" +
           ToString(*c.assignments[i].expr);
  }
  return out;
}

}  // namespace

void Register_eval(CommandRegistry& r) {
  AddCommand(
      r, "eval", CommandClass::kStreaming, CommandSyntax{Parse, Print},
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
