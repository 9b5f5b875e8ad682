// inputlookup [append=f] <table> [where <expr>]: the rows of a lookup table (the CSV file
// <lookups>/<table>.csv; empty cells are null), those for which the expression is true when
// given, as the results; with append=t after the rows that came in, which otherwise are dropped.
// Generating: the table is read when the input ends and its rows go out in batches.

#include "query/command_support.h"
#include "query/lookup_files.h"

namespace cairn::query::internal {
namespace {

class InputLookupOperator final : public Operator {
 public:
  InputLookupOperator(const Command& c, Executor* ex) : c_(c), ex_(ex) {
    append_ = BoolOption(c, "append", false);
  }
  Status Push(Rows& rows) override {
    if (append_) return Emit(rows);
    rows.clear();
    return Status::Ok();
  }
  Status Finish(Schema* schema) override {
    ASSIGN_OR_RETURN(std::string path, ex_->LookupPath(c_.text));
    ASSIGN_OR_RETURN(auto table, LoadCsv(path, c_.text));
    const auto& header = table[0];
    Rows out;
    for (size_t i = 1; i < table.size() && !Done(); ++i) {
      Row row;
      for (size_t j = 0; j < header.size() && j < table[i].size(); ++j) {
        if (!table[i][j].empty()) row.Set(header[j], {std::move(table[i][j])});
      }
      if (c_.expr) {
        auto v = Evaluate(*c_.expr, row, ex_->ctx());
        if (!v.ok()) return v.status().WithContext("inputlookup where");
        if (!v->IsTrue()) continue;
      }
      out.push_back(std::move(row));
      if (out.size() == 1024) {
        RETURN_IF_ERROR(Emit(out));
        out.clear();
      }
    }
    RETURN_IF_ERROR(Emit(out));
    if (!append_) {
      schema->columns.clear();
      schema->known = true;
    }
    for (const auto& h : header) {
      if (!schema->known ||
          std::find(schema->columns.begin(), schema->columns.end(), h) == schema->columns.end()) {
        schema->columns.push_back(h);
      }
    }
    schema->known = true;
    return FinishNext(schema);
  }

 private:
  const Command& c_;
  Executor* ex_;
  bool append_ = false;
};

}  // namespace

void Register_inputlookup(CommandRegistry& r) {
  AddCommand(r, "inputlookup", CommandClass::kGenerating,
             Generic({.name = true, .where = true},
                     [](Command* c) {
                       if (!c->text.empty()) return Status::Ok();
                       return SyntaxError(c->offset, "inputlookup needs a lookup name");
                     }),
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               return MakeOp<InputLookupOperator>(c, env.executor);
             });
}

}  // namespace cairn::query::internal
