#pragma once
// Search-time field extraction for event rows (row.h), one search at a time.
//
// An Extraction is built from the field names a search may read. For each event
// it gives:
// - the builtins _time, _raw, index, sourcetype, source, host;
// - the date_* fields from _time;
// - JSON leaves by their Splunk names: from the event origin's columns when it
// answers, else by
//   one On-Demand walk of the raw JSON collecting every wanted name
//   (JsonPaths); a name outside the wanted set flattens the whole event once
//   (FlattenJson); text that is not JSON gives key=value pairs;
// - for sourcetype aws:cloudtrail, the Splunk Add-on for AWS field aliases and
// calculated fields
//   (cim.cc). As in Splunk, aliases apply first, every calculated field sees
//   the fields as they were before any calculated field, and the action/status
//   lookup runs on the calculated errorCode.
// Field(name) for any one name equals what All() gives for that name, whatever
// else was asked before: a filter, a stats and a table see the same values.
//
// Thread safety: immutable after construction; the per-event cache
// (EventFields) belongs to the event's rows, which one thread uses at a time.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "query/ast.h"
#include "query/json_paths.h"
#include "query/row.h"

namespace cairn::query {

// What has been extracted of one event; shared by the copies of its row.
struct EventFields {
  enum class Leaves { kNone, kWalked, kAll };
  Leaves leaves = Leaves::kNone;
  std::vector<Values> slots;   // JsonPaths slots: all once walked, else those columns answered
  std::vector<uint8_t> known;  // per slot, before the walk: answered by a column
  FieldMap all;                // every leaf (kAll): FlattenJson or key=value pairs
  FieldMap other;              // builtins and date_* asked of the base view
  std::string_view raw;        // the raw text when loaded through the origin
  std::shared_ptr<const void> raw_owner;
  bool raw_held = false;
};

class Extraction {
 public:
  // `wanted`: the names the search may read (more is harmless; a name left out
  // costs a full flatten of the events that are asked for it).
  explicit Extraction(const std::vector<std::string>& wanted);
  ~Extraction();

  // The search-time values of `name` (empty when absent), builtins included.
  Values Field(Row& row, std::string_view name) const;
  // Every search-time field of the event but the builtins, non-empty values
  // only.
  FieldMap All(Row& row) const;
  // The value before calculated fields (builtins, date_*, aliases, JSON
  // leaves); null when absent. Points into the row's cache.
  const Values* Base(Row& row, std::string_view name) const;
  // The event's raw text ("" when it cannot be read; the origin records the
  // error).
  std::string_view Raw(Row& row) const;

  // Names the calculated fields and aliases of aws:cloudtrail read, for
  // planning `wanted`.
  static std::vector<std::string> DependenciesOf(std::string_view name);
  // Whether `name` is computed at search time for aws:cloudtrail (an alias, a
  // calculated field, action/status) rather than read from the JSON as it is.
  static bool IsComputed(std::string_view name);

 private:
  // How a name is computed, resolved once per name.
  struct Name {
    enum class Kind { kBuiltin, kDate, kCalc, kActionStatus, kLeaf };
    Kind kind = Kind::kLeaf;
    const Expr* calc = nullptr;  // kCalc
    std::string alias_source;    // an alias target's source ("" otherwise), for aws:cloudtrail
    int slot = -1;               // the JsonPaths slot of a leaf (-1: not wanted)
    int alias_slot = -1;
  };
  // The resolution of `name`: from the table built at construction, else computed into *scratch.
  const Name& Resolve(std::string_view name, Name* scratch) const;
  Name Compute(std::string_view name) const;
  const Values* Leaf(Row& row, std::string_view name, int slot) const;
  void Flatten(Row& row, EventFields& c) const;

  JsonPaths paths_;
  std::unordered_map<std::string, Name, JsonPaths::Hash, std::equal_to<>> names_;
};

}  // namespace cairn::query
