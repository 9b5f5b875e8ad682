#pragma once
// Evaluation of eval/where expressions and of the implicit search against rows, with Splunk's
// typing (strings and numbers; numeric comparison only when both sides are numbers), null
// propagation and multivalue rules. Regex objects are cached per thread. Thread-compatible.

#include <string>
#include <string_view>

#include "common/status.h"
#include "query/ast.h"
#include "query/row.h"
#include "query/value.h"

namespace cairn::query {

struct EvalContext {
  double now = 0;  // epoch seconds used by now(), time() and relative time modifiers
};

// Evaluates `e` against `row`. Errors: bad regular expressions, wrong argument counts, bad
// formats — kInvalidArgument naming the function.
Result<Value> Evaluate(const Expr& e, Row& row, const EvalContext& ctx);

// True when `row` satisfies the search expression (subsearch nodes must have been resolved).
bool MatchSearch(const SearchNode& n, Row& row);

// Splunk wildcard match ('*' = any run of characters), ASCII case-insensitive when `nocase`.
bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase);

// True when `term` (may hold '*') occurs in `raw` as Splunk's indexer would find it: case-
// insensitively, starting and ending at breaker characters.
bool TermMatch(std::string_view raw, std::string_view term);

// SQL LIKE: % any run, _ one character (case-sensitive).
bool LikeMatch(std::string_view text, std::string_view pattern);

// Converts PCRE named groups (?<name>...) to RE2's (?P<name>...).
std::string PcreToRe2(std::string_view pattern);

}  // namespace cairn::query
