#pragma once
// A necessary condition on an event's JSON text for a Sigma rule to match, checked before the
// event is parsed: most events cannot match most rules, and finding a few words in 1–2 KB of text
// costs a fraction of walking the JSON.
//
// Each value a rule tests must appear in the event as the text of some field, so the literal
// pieces of its patterns (the parts between wildcards, the fixed runs of a simple regular
// expression) must appear in the event's text, in any case. A filter combines those pieces as
// the rule combines its values and selections: a map's fields all (and), a selection's maps or a
// field's values any (or), `all of` and `|all` all, `x of` any; `not`, numbers, networks, field
// references, exists and null say nothing (true). A filter that says nothing is `always`.
//
// The text must hold no backslash: a JSON escape could spell a piece differently (`\/`, `\u0041`),
// so the caller parses such events in full. JSON numbers are written in several ways (1e3, 1000),
// so pieces made of digits and number signs say nothing either.
//
// Thread safety: immutable after construction.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "detect/sigma.h"

namespace cairn::detect {

class TextFilter {
 public:
  // The filter of `rule`.
  static TextFilter Of(const Rule& rule);

  // Whether the filter says nothing (every text may match).
  bool always() const { return root_.op == Op::kTrue; }
  // Whether an event whose JSON text is `text` (no backslash) may match the rule.
  bool MayMatch(std::string_view text) const { return Eval(root_, text, nullptr); }
  // The same, with the literals numbered by NumberLiterals answered from `present` (bit i: the
  // literal numbered i is in the text, as a scan for all of them at once found), the others
  // searched for in the text.
  bool MayMatch(std::string_view text, const uint64_t* present) const {
    return Eval(root_, text, present);
  }
  // Every literal the filter holds, lower-cased.
  void Literals(std::vector<std::string>* out) const { CollectLiterals(root_, out); }
  // Numbers each literal by `number(literal)` (-1: searched for in the text). Before the filter
  // is shared.
  template <typename F>
  void NumberLiterals(const F& number) {
    NumberNode(&root_, number);
  }
  // "always", or the formula, e.g. `"stoplogging" and ("cloudtrail" or "trail")`.
  std::string ToString() const { return Text(root_, true); }

  // The fixed runs a match of regular expression `pattern` must contain (lower-cased), or none
  // when the pattern's shape is not simple enough to tell (alternation, groups, classes, escapes,
  // flags). Exposed for tests.
  static std::vector<std::string> RegexLiterals(std::string_view pattern);

 private:
  enum class Op { kTrue, kLiteral, kAnd, kOr };
  struct Node {
    Op op = Op::kTrue;
    std::string literal;                // kLiteral, lower-cased (at least 3 bytes)
    size_t anchor_a = 0, anchor_b = 0;  // the search's anchors (store::FindCaselessAt)
    int number = -1;                    // kLiteral: its bit in MayMatch's `present`, or -1
    std::vector<Node> children;
  };
  static Node Literal(std::string_view piece);
  // Drops the literals among `nodes` that another literal makes redundant, and repeated ones:
  // with `drop_held` a literal another holds (an `and`: the longer implies it), else a literal
  // holding another (an `or`: the shorter is found wherever the longer is).
  static void DropLiterals(std::vector<Node>* nodes, bool drop_held);
  static Node All(std::vector<Node> children);
  static Node Any(std::vector<Node> children);
  static Node OfMatcher(const ValueMatcher& m);
  static Node OfField(const FieldTest& t);
  static Node OfSelection(const Selection& s);
  static Node OfCondition(const Rule& r, const Condition& c);
  static bool Eval(const Node& n, std::string_view text, const uint64_t* present);
  static void CollectLiterals(const Node& n, std::vector<std::string>* out);
  template <typename F>
  static void NumberNode(Node* n, const F& number) {
    if (n->op == Op::kLiteral) n->number = number(n->literal);
    for (Node& c : n->children) NumberNode(&c, number);
  }
  static std::string Text(const Node& n, bool top);

  Node root_;
};

}  // namespace cairn::detect
