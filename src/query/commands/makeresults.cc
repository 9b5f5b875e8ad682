// makeresults [count=1]: `count` rows whose only field is _time, the search's "now" in whole
// seconds, after the rows that came in. Generating: the rows go out in batches when the input
// ends.

#include <cmath>

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class MakeResultsOperator final : public Operator {
 public:
  MakeResultsOperator(long long count, double now) : count_(count), now_(now) {}
  Status Push(Rows& rows) override { return Emit(rows); }
  Status Finish(Schema* schema) override {
    const std::string time = FormatNumber(std::floor(now_));
    Rows out;
    for (long long i = 0; i < count_ && !Done(); ++i) {
      Row row;
      row.Set("_time", {time});
      out.push_back(std::move(row));
      if (out.size() == 1024) {
        RETURN_IF_ERROR(Emit(out));
        out.clear();
      }
    }
    RETURN_IF_ERROR(Emit(out));
    if (!schema->known) {
      schema->known = true;
      schema->columns = {"_time"};
    } else {
      schema->Add("_time");
    }
    return FinishNext(schema);
  }

 private:
  long long count_;
  double now_;
};

}  // namespace

void Register_makeresults(CommandRegistry& r) {
  AddCommand(r, "makeresults", CommandClass::kGenerating, Generic({}),
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               ASSIGN_OR_RETURN(long long count, IntOption(c, "count", 1));
               return MakeOp<MakeResultsOperator>(count, env.executor->now());
             });
}

}  // namespace cairn::query::internal
