#pragma once
// Rows flowing through a search: events (from an EventSource) and results (from
// commands). A row maps field names (case-sensitive) to Values.
//
// An event row extracts its search-time fields lazily, one name at a time, when
// a command asks: the builtins (_time, _raw, index, sourcetype, source, host)
// from the event itself; JSON leaves from the store's columns when the event's
// origin answers them, else by one On-Demand walk of the raw JSON over every
// name the search may read (Extraction, extract.h); the Splunk Add-on for AWS
// aliases and calculated fields for sourcetype aws:cloudtrail from those
// (cim.cc). A command that needs every field (fields(), e.g. for output)
// extracts them all once. Values a command sets or removes win over extracted
// ones.
//
// Rows are values: copyable (copies share the event's bytes and its extraction
// cache), not thread-safe; one thread uses a row at a time.

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/value.h"

namespace cairn::query {

// One stored event as tests and in-memory sources hold it.
struct EventRecord {
  double time = 0;  // epoch seconds (fraction = milliseconds)
  std::string raw;
  std::string index;
  std::string sourcetype;
  std::string source;
  std::string host;
  std::string fields;  // indexed fields: a JSON object's text, or ""
};

class EventOrigin;

// An event as the engine sees it: views of its metadata and raw text, and what
// keeps them alive.
struct EventView {
  double time = 0;
  std::string_view index, sourcetype, source,
      host;                 // owned by `owner` or `origin`
  std::string_view fields;  // indexed fields (JSON object text, or ""); owned likewise
  std::string_view raw;     // owned by `owner`; see raw_loaded
  bool raw_loaded = true;   // false: load through `origin`
  std::shared_ptr<const void> owner;
  std::shared_ptr<const EventOrigin> origin;  // store events only
  uint32_t ordinal = 0;
  // Orders events of equal time as the source delivers them (smaller first): with the time, the
  // event's place in the search's order, whichever worker reads it.
  uint64_t tiebreak = 0;
};

// Where a store-backed event lives: lets a row read a column's value without
// parsing the raw JSON, and load the raw JSON only when something asks for it.
// Thread-safe.
class EventOrigin {
 public:
  virtual ~EventOrigin() = default;
  enum class Answer {
    kUnknown,  // not answered here (no such column, or the stored text may
               // differ): parse the JSON
    kAbsent,   // the event has no leaf of that name
    kValue,    // *value is the leaf's search-time value
  };
  virtual Answer Column(std::string_view field, uint32_t ordinal,
                        std::string_view* value) const = 0;
  // The metadata of the event at `ordinal` (index, sourcetype, source, host; time as given), as a
  // scan handed it out; `origin` and the raw JSON are left for the caller.
  virtual EventView View(uint32_t ordinal, double time) const = 0;
  // The raw JSON of the event, as a view that `*owner` keeps alive. A read
  // error is also recorded for the search that owns the origin, which fails
  // with it (a row cannot return errors from Get).
  virtual Result<std::string_view> LoadRaw(uint32_t ordinal,
                                           std::shared_ptr<const void>* owner) const = 0;
  // Events with equal answers are loaded together (a stored block): loading one loads the others.
  virtual uint64_t LoadUnit(uint32_t ordinal) const { return ordinal; }
};

class Extraction;
struct EventFields;

using FieldMap = std::map<std::string, Values, std::less<>>;

class Row {
 public:
  Row() = default;
  // An event row. `extraction` must outlive the row and every copy of it.
  static Row FromEvent(EventView event, const Extraction* extraction);

  // The values of `name`, or null when absent. May run extraction.
  const Values* Get(std::string_view name);
  // The first value, or "" when absent.
  std::string GetFirst(std::string_view name);
  bool Has(std::string_view name) { return Get(name) != nullptr; }
  void Set(const std::string& name, Values v);
  void Remove(std::string_view name);
  // All fields (runs extraction of every field once).
  FieldMap& fields();
  bool is_event() const { return extraction_ != nullptr; }
  const EventView* event() const { return extraction_ ? &event_ : nullptr; }
  double time();  // _time as a number, 0 when absent
  // How many events this row stands for in count aggregations (stats/timechart
  // `count`). Event rows weigh 1; an EventSource's pre-aggregated rows may
  // weigh more (or 0: a row carrying only a value for dc/values).
  long long weight() const { return weight_; }
  void set_weight(long long w) {
    weight_ = w;
    modified_ = true;
  }

  // A store event no command has changed: all it holds can be read again from its origin and
  // ordinal (see HeldRows in command_support.h).
  bool Unmodified() const {
    return extraction_ && event_.origin && !modified_ && !base_mode_ && !internal_only_;
  }
  const Extraction* extraction() const { return extraction_; }

  // Lets go of the raw JSON when it can be loaded again (store events), so that
  // a row kept by a blocking command costs only the fields it holds.
  void Compact();
  // Keeps only the fields in `keep` and the internal ones (names starting with
  // '_'), without extracting the others (`fields a b`).
  void Restrict(const std::vector<std::string>& keep);
  // Bytes this row holds on its own (fields, extraction cache, raw text), for
  // memory budgets.
  size_t MemoryUsage() const;

  // Used by extraction: sets without triggering extraction.
  void SetRaw(const std::string& name, Values v) {
    if (v.empty()) {
      fields_.erase(name);
    } else {
      fields_[name] = std::move(v);
    }
  }
  void AppendRaw(const std::string& name, std::string v) { fields_[name].push_back(std::move(v)); }
  const Values* GetRaw(std::string_view name) const {
    auto it = fields_.find(name);
    return it == fields_.end() || it->second.empty() ? nullptr : &it->second;
  }

 private:
  friend class Extraction;
  void MaterializeAll();
  EventFields& cache();

  EventView event_;
  const Extraction* extraction_ = nullptr;  // null: not an event row
  bool all_ = false;                        // every field extracted into fields_
  bool base_mode_ = false;                  // sees fields as before calculated fields (cim.cc)
  bool internal_only_ = false;              // extraction gives only names starting with '_'
  bool modified_ = false;                   // a command set or removed a field
  long long weight_ = 1;
  std::shared_ptr<EventFields> cache_;
  FieldMap fields_;  // set, extracted or removed (empty Values) fields
};

// Flattens JSON text into fields with Splunk's auto-kv names: objects join keys
// with '.', arrays add "{}" and make multivalues; nulls are skipped; booleans
// print true/false. `prefix` is prepended ("" for _raw). Returns false when
// `json` is not valid JSON.
bool FlattenJson(std::string_view json, const std::string& prefix, Row* row);

}  // namespace cairn::query
