#pragma once
// Sigma rules for CloudTrail, loaded natively: YAML (yaml-cpp) → Rule → compiled predicates.
//
// A Rule keeps its metadata (id, title, level, tags), its detection identifiers (selections) and
// its condition as a tree. Selections are compiled at load time into value matchers with Sigma's
// semantics: strings match case-insensitively unless `|cased`, `*` and `?` are wildcards and `\`
// escapes them, a list of values is any-of (`|all`: all-of), a list of maps is any-of, a map is
// all-of, `null` means the field is absent, and a selection that is a list of plain values is a
// keyword search over every value of the event. See docs/detection.md for the modifiers and the
// features that are refused.
//
// Loading never half-accepts a rule: a rule with a feature cairn cannot evaluate exactly (an
// unknown modifier, a logsource other than aws/cloudtrail, an aggregation in the condition, a
// regular expression RE2 cannot compile) is refused with a message naming the file and the
// feature; the other rules of the folder load.
//
// Thread safety: loaded and compiled rules are immutable; evaluation (rule_set.h) shares them.

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "detect/suppress.h"

namespace re2 {
class RE2;
}

namespace cairn::detect {

// One value test on one field value (already extracted as text, the way FlattenJson writes it).
struct ValueMatcher {
  enum class Kind {
    kGlob,      // pattern with wildcards (also plain equality, contains, prefix, suffix)
    kRegex,     // |re: RE2, unanchored search
    kCidr,      // |cidr: IPv4 or IPv6 network
    kNumber,    // |gt |gte |lt |lte
    kNull,      // value null: the field is absent
    kExists,    // |exists: true/false
    kFieldRef,  // |fieldref: equal to (or contains/starts/ends with) another field's value
  };
  Kind kind = Kind::kGlob;
  // kGlob: the pattern, lower-cased unless `cased`. `wild` marks each byte of `text` that is a
  // wildcard ('*' or '?'); literal '*' and '?' (escaped in the rule) are unmarked.
  std::string text;
  std::vector<uint8_t> wild;
  bool cased = false;
  enum class Shape { kExact, kPrefix, kSuffix, kContains, kGeneral } shape = Shape::kExact;
  std::string literal;  // kExact/kPrefix/kSuffix/kContains: the pattern without the stars
  // kRegex
  std::shared_ptr<const re2::RE2> regex;
  // kCidr: address bytes (4 or 16) and prefix length
  std::vector<uint8_t> net;
  int prefix_len = 0;
  // kNumber
  enum class Cmp { kGt, kGte, kLt, kLte } cmp = Cmp::kGt;
  double number = 0;
  // kExists
  bool exists = true;
  // kFieldRef: the other field, and how its value is compared (exact/prefix/suffix/contains)
  std::string ref_field;
  int ref_slot = -1;  // set when the rule set is compiled

  // Whether `value` matches (kGlob, kRegex, kCidr, kNumber). `lowered` is `value` lower-cased
  // (ASCII), passed in so a value tested by many patterns is lowered once.
  bool MatchText(std::string_view value, std::string_view lowered) const;
  // The canonical text form, e.g. `*foo*`, `re:/.../`, `cidr:10.0.0.0/8`, `null`.
  std::string ToString() const;
};

// `field|mods: values` — one field of a selection map.
struct FieldTest {
  std::string field;  // as Sigma writes it: userIdentity.arn, requestParameters.userName
  int slot = -1;      // the field's slot in the rule set's extraction
  bool all = false;   // |all: every value must match
  // One entry per value the rule lists; each is a set of alternatives (base64offset and windash
  // turn one value into several forms, any of which matches).
  std::vector<std::vector<ValueMatcher>> values;
  std::string ToString() const;
};

// A detection identifier: any of its maps, each map all of its fields; or a keyword list.
struct Selection {
  std::string name;
  std::vector<std::vector<FieldTest>> maps;
  std::vector<ValueMatcher> keywords;  // non-empty: a keyword search (any keyword matches)
  bool keywords_all = false;           // keywords|all
};

// The condition tree.
struct Condition {
  enum class Op { kAnd, kOr, kNot, kSel, kOf };
  Op op = Op::kSel;
  std::vector<Condition> children;  // kAnd, kOr, kNot (one child)
  std::vector<int> selections;      // kSel: one; kOf: the identifiers the pattern names
  int count = 1;                    // kOf: at least this many; -1: all
  std::string pattern;              // kOf: as written ("filter_*", "them")
  std::string ToString(const std::vector<Selection>& sels) const;
};

struct Rule {
  std::string file;  // the file it was loaded from
  std::string id;
  std::string name;  // Sigma `name` (what correlations may refer to), often empty
  std::string title;
  std::string level;
  std::string status;
  std::string description;
  std::vector<std::string> tags;
  std::vector<Selection> selections;
  Condition condition;
  // Throttling of its own alerts (suppress.h); set by LoadRuleDirectory, off otherwise.
  Suppression suppress;
  // Fields of the event the rule reads (selections and fieldrefs), for extraction.
  std::vector<std::string> Fields() const;
  // The canonical text of the compiled condition: `sel and not (1 of filter_*)` with each
  // selection's tests, one per line.
  std::string Explain() const;
};

// A Sigma correlation rule (meta rule) over the matches of other rules.
struct Correlation {
  enum class Type { kEventCount, kValueCount, kTemporal, kTemporalOrdered };
  std::string file;
  std::string id;
  std::string name;
  std::string title;
  std::string level;
  std::string description;
  std::vector<std::string> tags;
  Type type = Type::kEventCount;
  std::vector<std::string> rule_refs;  // as written: ids or names
  std::vector<int> rules;              // resolved indexes into LoadedRules::rules
  std::vector<std::string> group_by;
  int64_t timespan_ms = 0;
  // condition: count (or distinct values of `field`) compared with `threshold`
  enum class Cmp { kGt, kGte, kLt, kLte, kEq } cmp = Cmp::kGte;
  int64_t threshold = 1;
  std::string field;      // value_count
  bool generate = false;  // the referenced rules also alert on their own
};

struct Refusal {
  std::string file;
  std::string reason;  // names the unsupported feature
  std::string ToString() const { return file + ": " + reason; }
};

struct LoadedRules {
  std::vector<Rule> rules;
  std::vector<Correlation> correlations;
  std::vector<Refusal> refused;
  // Whether rule `i` raises alerts of its own (false when only correlations use it).
  std::vector<bool> generates;
};

// Parses the YAML text of one file (one or more documents). Rules that load are appended to
// `out->rules`; refusals to `out->refused`. Fails only when `text` is not YAML at all (also
// reported as a refusal by LoadRuleDirectory).
void ParseSigmaText(std::string_view text, const std::string& file, LoadedRules* out);
// Loads every *.yml / *.yaml file under `dir` (recursively, sorted by path), then resolves the
// correlations' rule references and applies `dir`/suppress.conf, else the default suppression
// (suppress.h); a stanza naming no loaded rule is reported as a refusal of that file. NotFound
// when `dir` cannot be listed; InvalidArgument for an error in suppress.conf.
Result<LoadedRules> LoadRuleDirectory(const std::string& dir);
// Resolves correlation references and `generates` after ParseSigmaText calls; refuses a
// correlation that names an unknown rule.
void ResolveCorrelations(LoadedRules* loaded);

// Building blocks, exposed for tests.
// A Sigma string value with modifiers applied, as a matcher. InvalidArgument for an unknown or
// unsupported modifier.
Result<std::vector<ValueMatcher>> CompileValue(std::string_view value,
                                               const std::vector<std::string>& modifiers,
                                               bool is_null);
// Whether `value` matches glob `m` (case rules of `m`).
bool GlobMatch(const ValueMatcher& m, std::string_view lowered_or_cased);
// Parses a condition against the selection names. InvalidArgument naming what is wrong.
Result<Condition> ParseCondition(std::string_view text, const std::vector<Selection>& sels);

}  // namespace cairn::detect
