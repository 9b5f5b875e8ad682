// reverse: the rows in the opposite order. Holds every row (within the memory budget).

#include <algorithm>

#include "query/command_support.h"

namespace cairn::query::internal {

void Register_reverse(CommandRegistry& r) {
  AddCommand(r, "reverse", CommandClass::kBlocking, Generic({}),
             [](const Command&, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               return MakeOp<BufferOperator>("reverse", env.budget, [](Results* r) {
                 std::reverse(r->rows.begin(), r->rows.end());
                 return Status::Ok();
               });
             });
}

}  // namespace cairn::query::internal
