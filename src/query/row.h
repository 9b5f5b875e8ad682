#pragma once
// Rows flowing through a search: events (from an EventSource) and results (from commands). A row
// maps field names (case-sensitive) to Values. An event row extracts its search-time fields
// (JSON auto-kv of _raw, CIM aliases and calculated fields, date_*) on first use, through its
// FieldExtractor. Rows are values: copyable, not thread-safe; the event bytes are shared read-only.

#include <map>
#include <memory>
#include <string>
#include <string_view>

#include "query/value.h"

namespace cairn::query {

// One stored event as a source yields it.
struct EventRecord {
  double time = 0;  // epoch seconds (fraction = milliseconds)
  std::string raw;
  std::string index;
  std::string sourcetype;
  std::string source;
  std::string host;
};

class Row;

// Search-time field extraction for event rows. Implementations must be thread-safe.
class FieldExtractor {
 public:
  virtual ~FieldExtractor() = default;
  // Adds the fields of `event` to `row` (which already holds _time, _raw, index, sourcetype,
  // source, host).
  virtual void Extract(const EventRecord& event, Row* row) const = 0;
};

using FieldMap = std::map<std::string, Values, std::less<>>;

class Row {
 public:
  Row() = default;
  // An event row; `extractor` may be null (no extraction) and must outlive the row.
  static Row FromEvent(std::shared_ptr<const EventRecord> event, const FieldExtractor* extractor);

  // The values of `name`, or null when absent. May run extraction.
  const Values* Get(std::string_view name);
  // The first value, or "" when absent.
  std::string GetFirst(std::string_view name);
  bool Has(std::string_view name) { return Get(name) != nullptr; }
  void Set(const std::string& name, Values v);
  void Remove(std::string_view name);
  // All fields (runs extraction).
  FieldMap& fields();
  bool is_event() const { return event_ != nullptr; }
  const EventRecord* event() const { return event_.get(); }
  double time();  // _time as a number, 0 when absent
  // How many events this row stands for in count aggregations (stats/timechart `count`). Event
  // rows weigh 1; an EventSource's pre-aggregated rows may weigh more (or 0: a row carrying only
  // a value for dc/values).
  long long weight() const { return weight_; }
  void set_weight(long long w) { weight_ = w; }

  // Used by extractors: sets without triggering extraction.
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
    return it == fields_.end() ? nullptr : &it->second;
  }

 private:
  void Materialize();
  std::shared_ptr<const EventRecord> event_;
  const FieldExtractor* extractor_ = nullptr;
  bool extracted_ = true;
  long long weight_ = 1;
  FieldMap fields_;
};

// Flattens JSON text into fields with Splunk's auto-kv names: objects join keys with '.', arrays
// add "{}" and make multivalues; nulls are skipped; booleans print true/false. `prefix` is
// prepended ("" for _raw). Returns false when `json` is not valid JSON.
bool FlattenJson(std::string_view json, const std::string& prefix, Row* row);

// The default extractor: JSON auto-kv of _raw, date_* fields, and for sourcetype aws:cloudtrail
// the Splunk Add-on for AWS field aliases and calculated fields (see cim.cc).
const FieldExtractor* DefaultExtractor();

}  // namespace cairn::query
