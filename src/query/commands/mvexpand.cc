// mvexpand f [limit=N]: one row per value of a multivalue field. Streaming.

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class MvExpandOperator final : public Operator {
 public:
  MvExpandOperator(std::string field, long long limit) : field_(std::move(field)), limit_(limit) {}
  Status Push(Rows& rows) override {
    Rows out;
    out.reserve(rows.size());
    for (Row& row : rows) {
      const Values* v = row.Get(field_);
      if (!v) {
        out.push_back(std::move(row));
        continue;
      }
      Values vals = *v;
      long long k = 0;
      for (auto& x : vals) {
        if (limit_ > 0 && k++ >= limit_) break;
        Row copy = row;
        copy.Set(field_, {x});
        out.push_back(std::move(copy));
      }
    }
    return Emit(out);
  }
  Status Finish(Schema* schema) override { return FinishNext(schema); }

 private:
  std::string field_;
  long long limit_;
};

}  // namespace

void Register_mvexpand(CommandRegistry& r) {
  AddCommand(
      r, "mvexpand", CommandClass::kStreaming,
      Generic({.fields = true},
              [](Command* c) {
                if (c->fields.size() == 1) return Status::Ok();
                return SyntaxError(c->offset, "mvexpand needs one field");
              }),
      [](const Command& c, OpEnv&) -> Result<std::unique_ptr<Operator>> {
        ASSIGN_OR_RETURN(long long limit, IntOption(c, "limit", 0));
        return MakeOp<MvExpandOperator>(c.fields[0], limit);
      },
      AlwaysParallel);
}

}  // namespace cairn::query::internal
