#pragma once
// The parsed form of an SPL search. Every node prints back to one canonical text (ToString), which
// tests assert on and `--explain` shows. Nodes are plain values owned by their parent; a parsed
// Pipeline is immutable after parsing and may be shared read-only across threads.

#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace cairn::query {

struct Pipeline;

// ---- eval / where expressions ----
struct Expr {
  enum class Kind { kNumber, kString, kField, kCall, kUnary, kBinary };
  Kind kind = Kind::kNumber;
  std::string text;  // number text, string value, field name, function name, or operator
  double number = 0;
  std::vector<std::unique_ptr<Expr>> args;  // call arguments or operands
  size_t offset = 0;
};
using ExprPtr = std::unique_ptr<Expr>;

std::string ToString(const Expr& e);

// ---- the implicit search (search command, first command) ----
struct SearchNode {
  enum class Kind { kAnd, kOr, kNot, kTerm, kCompare, kIn, kSubsearch, kTrue, kFalse };
  Kind kind = Kind::kTrue;
  std::vector<std::unique_ptr<SearchNode>> children;  // kAnd/kOr/kNot
  std::string field;                                  // kCompare/kIn
  std::string op;                                     // kCompare: = != < <= > >=
  std::string value;                                  // kTerm text or kCompare value
  bool quoted = false;                                // kTerm: a quoted phrase
  std::vector<std::string> values;                    // kIn
  std::shared_ptr<Pipeline> subsearch;                // kSubsearch
  size_t offset = 0;
};
using SearchPtr = std::unique_ptr<SearchNode>;

std::string ToString(const SearchNode& n);
SearchPtr CloneSearch(const SearchNode& n);
// A copy of `n` itself, without its children.
SearchPtr CloneSearchNode(const SearchNode& n);

// ---- commands ----
struct Aggregation {
  std::string func;   // count, dc, values, perc95, ...
  std::string field;  // argument field ("" for count), may contain '*'
  std::string as;     // output name ("" = default name)
  double percentile = 0;
  std::string OutputName() const;  // as, else "func(field)" or "count"
};

struct SortKey {
  std::string field;
  bool descending = false;
  std::string mode;  // "", "num", "str", "ip", "auto"
};

struct Rename {
  std::string from;
  std::string to;
};

struct Assignment {
  std::string field;
  ExprPtr expr;
};

struct LookupField {
  std::string name;   // field in the lookup table
  std::string local;  // field in the events ("" = same name)
};

struct Command {
  std::string name;  // canonical name (bucket -> bin, distinct_count -> dc stays in aggs)
  size_t offset = 0;
  std::map<std::string, std::string> options;  // key=value options as written
  std::vector<std::string> fields;             // positional field list (table, fields, dedup, ...)
  bool exclude = false;                        // fields -
  SearchPtr search;                            // search
  ExprPtr expr;                                // where, head condition
  std::vector<Assignment> assignments;         // eval
  std::vector<Aggregation> aggs;               // stats family, top/rare use fields
  std::vector<std::string> by;                 // by-clause
  std::vector<Rename> renames;                 // rename, convert (func in from: "ctime(x)")
  std::vector<SortKey> sort_keys;              // sort, dedup sortby
  long long count = -1;                        // head/tail/sort limit, makeresults count
  std::string text;                            // rex regex, spath path, lookup name, ...
  std::vector<LookupField> lookup_inputs;
  std::vector<LookupField> lookup_outputs;
  bool output_new = false;  // lookup OUTPUTNEW
  std::shared_ptr<Pipeline> subsearch;
};

struct Pipeline {
  std::vector<Command> commands;
};

std::string ToString(const Command& c);
std::string ToString(const Pipeline& p);

// Quotes a value for canonical output: "..." with \" and \\ escaped.
std::string Quote(const std::string& s);
// A field name printed bare when it is made of safe characters, else quoted.
std::string FieldText(const std::string& name);

}  // namespace cairn::query
