#pragma once
// Internal to the query layer: the shapes SPL commands are written in, as CommandSyntax values a
// registry entry takes (parsing with the cursor of parser_internal.h, and the matching canonical
// printer), and the pieces of canonical text they share. A command with a shape of its own
// writes its parse and print functions in its file with the same pieces.

#include <functional>
#include <map>
#include <string>
#include <vector>

#include "query/command_registry.h"
#include "query/parser_internal.h"

namespace cairn::query::internal {

// A command's own rules, run after its arguments are read: an error (SyntaxError at the
// command's offset) for a missing or bad argument, or defaults to fill in.
using CheckFn = std::function<Status(Command*)>;

// The generic shape: key=value options anywhere, positional words, and what the flags allow.
// Canonical text: name, options (sorted by key), then the parts in the order of the flags below.
struct GenericArgs {
  bool sign = false;           // fields: a + or - before the fields ("-" excludes them)
  bool leading_count = false;  // a whole number before any field sets `count` (head, dedup)
  bool quoted_text = false;    // a quoted string sets `text` (rex's regular expression)
  bool name = false;           // the first word sets `text` (a lookup table's name)
  bool where = false;          // "where <expr>" after the name sets `expr` (inputlookup)
  bool paren_expr = false;     // "(<expr>)" sets `expr` (head's condition)
  bool path = false;           // the first word is option path= (spath)
  bool fields = false;         // words are field names (`fields`); else a word is an error
  bool as_name = false;        // "as <name>" sets `text` (bin's output field)
  bool by = false;             // "by f1 f2" sets `by` (top, rare)
  bool sortby = false;         // "sortby [+|-]f, ..." sets `sort_keys` (dedup)
  bool subsearch = false;      // "[subsearch]" sets `subsearch` (append, join)
};
CommandSyntax Generic(GenericArgs args, CheckFn check = nullptr);

// The stats family: <function>[(<field>)] [as <name>], ... [by f1, f2], with options anywhere.
// Functions as the aggregate layer knows them; aliases canonicalised (c: count,
// distinct_count: dc, mean: avg); percentiles pN, percN, exactpercN, upperpercN. With `over`,
// "over <field>" is taken too (chart) and put first in `by` (printed as "by <field>, ...").
CommandSyntax Aggregations(CheckFn check = nullptr, bool over = false);

// An eval expression up to the command's end (where).
CommandSyntax Expression();

// The implicit search's expression (search).
CommandSyntax SearchExpression();

// A syntax whose printer is replaced by `print` (head's condition, tail's count).
CommandSyntax WithPrinter(CommandSyntax syntax, std::function<std::string(const Command&)> print);

// Takes a key=value option (into c->options) or a ',' and returns true; false when the next
// token is neither (an unterminated quoted string is an error).
Result<bool> TakeOptionOrComma(CommandParser& p, Command* c);

// Check: head/tail's count when no number or condition was given: option limit=, else 10.
Status CountOrLimit(Command* c);

// Canonical text pieces: " key=value" per option (values quoted unless plain words), sorted by
// key; field names separated by ", " (quoted unless plain words).
std::string OptionText(const std::map<std::string, std::string>& options);
std::string JoinFields(const std::vector<std::string>& fields);

}  // namespace cairn::query::internal
