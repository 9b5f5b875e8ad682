// search (after the first command): keeps the rows the implicit search
// expression matches. Streaming.

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

bool HasSubsearch(const SearchNode& n) {
  if (n.kind == SearchNode::Kind::kSubsearch) return true;
  for (const auto& c : n.children) {
    if (HasSubsearch(*c)) return true;
  }
  return false;
}

}  // namespace

void Register_search(CommandRegistry& r) {
  AddCommand(
      r, "search", CommandClass::kStreaming, SearchExpression(),
      [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
        ASSIGN_OR_RETURN(SearchPtr s, env.executor->ResolveSubsearches(*c.search, env.depth));
        std::shared_ptr<const SearchNode> expr(std::move(s));
        return MakeOp<RowOperator>(
            [expr](Row& row) -> Result<bool> { return MatchSearch(*expr, row); });
      },
      [](const Command& c) { return !HasSubsearch(*c.search); });
}

}  // namespace cairn::query::internal
