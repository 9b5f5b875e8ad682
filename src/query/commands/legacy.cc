// Commands still run by the whole-vector executor (commands.cc, stats.cc), each
// wrapped in the operator shape that keeps its semantics: per batch for
// commands that treat each row on its own, holding every row (within the memory
// budget) for the others. Each moves to its own file as it gets a streaming
// operator.

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

// Runs a row-at-a-time command over each batch; its column changes apply when
// the input ends.
class PerBatchOperator final : public Operator {
 public:
  PerBatchOperator(const Command& c, Executor* ex, int depth) : c_(c), ex_(ex), depth_(depth) {}
  Status Push(Rows& rows) override {
    Results r;
    r.rows = std::move(rows);
    RETURN_IF_ERROR(ex_->RunCommand(c_, &r, depth_));
    return Emit(r.rows);
  }
  Status Finish(Schema* schema) override {
    Results r;
    r.columns = schema->columns;
    r.known = schema->known;
    RETURN_IF_ERROR(ex_->RunCommand(c_, &r, depth_));
    schema->columns = std::move(r.columns);
    schema->known = r.known;
    return FinishNext(schema);
  }

 private:
  const Command& c_;
  Executor* ex_;
  int depth_;
};

void PerBatch(CommandRegistry& r, const char* name) {
  AddCommand(r, name, CommandClass::kStreaming,
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               return MakeOp<PerBatchOperator>(c, env.executor, env.depth);
             });
}

void Buffered(CommandRegistry& r, const char* name, CommandClass cls) {
  AddCommand(r, name, cls, [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
    Executor* ex = env.executor;
    int depth = env.depth;
    const Command* cmd = &c;
    return MakeOp<BufferOperator>(c.name, env.budget, [ex, cmd, depth](Results* r) {
      return ex->RunCommand(*cmd, r, depth);
    });
  });
}

}  // namespace

void Register_legacy(CommandRegistry& r) {
  for (const char* name : {"rex", "spath", "convert", "lookup"}) PerBatch(r, name);
  for (const char* name : {"fieldsummary"}) {
    Buffered(r, name, CommandClass::kTransforming);
  }
  for (const char* name : {"join", "append", "outputlookup"}) {
    Buffered(r, name, CommandClass::kBlocking);
  }
  for (const char* name : {"inputlookup", "makeresults"})
    Buffered(r, name, CommandClass::kGenerating);
}

}  // namespace cairn::query::internal
