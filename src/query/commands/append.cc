// append [subsearch]: the rows, then the subsearch's results (at most max_subsearch_rows, 10000
// by default). The rows pass through as they come; the subsearch runs when they end. Streaming,
// plus the subsearch's capped results.

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class AppendOperator final : public Operator {
 public:
  AppendOperator(const Command& c, Executor* ex, int depth) : c_(c), ex_(ex), depth_(depth) {}
  Status Push(Rows& rows) override { return Emit(rows); }
  Status Finish(Schema* schema) override {
    Results sub;
    RETURN_IF_ERROR(ex_->ExecPipeline(*c_.subsearch, &sub, depth_ + 1));
    if (sub.rows.size() > ex_->options().max_subsearch_rows) {
      sub.rows.resize(ex_->options().max_subsearch_rows);
    }
    if (schema->known && sub.known) {
      for (const auto& col : sub.columns) schema->Add(col);
    } else {
      schema->known = false;  // the output lists every field
    }
    RETURN_IF_ERROR(Emit(sub.rows));
    return FinishNext(schema);
  }

 private:
  const Command& c_;
  Executor* ex_;
  int depth_;
};

}  // namespace

void Register_append(CommandRegistry& r) {
  AddCommand(r, "append", CommandClass::kStreaming,
             Generic({.subsearch = true},
                     [](Command* c) {
                       if (c->subsearch) return Status::Ok();
                       return SyntaxError(c->offset, "append needs a subsearch in [ ]");
                     }),
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               return MakeOp<AppendOperator>(c, env.executor, env.depth);
             });
}

}  // namespace cairn::query::internal
