#pragma once
// SPL parser: text (after macro expansion) -> Pipeline. Errors are kInvalidArgument naming the
// character offset ("at offset 17: expected ')'"), or kUnsupported for commands and functions we
// do not implement ("unsupported command: transaction at offset 9", "unsupported function: foo",
// and "unsupported: tstats ..." for commands that need data outside CloudTrail). Stateless.

#include <string>
#include <string_view>

#include "common/status.h"
#include "query/ast.h"

namespace cairn::query {

Result<Pipeline> ParseSpl(std::string_view text);

// Parses one eval expression (used for calculated fields and tests).
Result<ExprPtr> ParseEvalExpression(std::string_view text);

// True when `name` is an eval function the evaluator implements.
bool IsKnownEvalFunction(std::string_view name);

}  // namespace cairn::query
