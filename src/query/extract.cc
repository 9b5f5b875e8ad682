#include "query/extract.h"

#include <algorithm>

#include "query/cim.h"
#include "query/eval.h"
#include "query/time_format.h"

namespace cairn::query {
namespace {

constexpr std::string_view kCloudTrail = "aws:cloudtrail";

bool StartsLikeJson(std::string_view raw, bool object_only) {
  for (char ch : raw) {
    if (ch == ' ' || ch == '\t' || ch == '\r' || ch == '\n') continue;
    return ch == '{' || (!object_only && ch == '[');
  }
  return false;
}

bool IsBuiltin(std::string_view name) {
  return name == "_time" || name == "_raw" || name == "index" || name == "sourcetype" ||
         name == "source" || name == "host";
}

// Every name the add-on's computations read, for the walk's wanted set.
std::vector<std::string> WithDependencies(const std::vector<std::string>& wanted) {
  std::vector<std::string> out = wanted;
  for (size_t i = 0; i < out.size(); ++i) {
    for (auto& d : cim::Dependencies(out[i])) {
      if (std::find(out.begin(), out.end(), d) == out.end()) out.push_back(std::move(d));
    }
  }
  return out;
}

}  // namespace

Extraction::Extraction(const std::vector<std::string>& wanted) : paths_(WithDependencies(wanted)) {
  for (size_t i = 0; i < paths_.size(); ++i)
    names_.emplace(paths_.name(i), Compute(paths_.name(i)));
  // The computed names and every name they read: a table of whole events computes each of them
  // for every row, and each reference then resolves from this table.
  for (const auto& n : WithDependencies(cim::ComputedNames())) names_.emplace(n, Compute(n));
  for (const char* n :
       {"_time", "_raw", "index", "sourcetype", "source", "host", "errorCode", "eventName"}) {
    names_.emplace(n, Compute(n));
  }
}
Extraction::~Extraction() = default;

const Extraction::Name& Extraction::Resolve(std::string_view name, Name* scratch) const {
  if (auto it = names_.find(name); it != names_.end()) return it->second;
  *scratch = Compute(name);
  return *scratch;
}

Extraction::Name Extraction::Compute(std::string_view name) const {
  Name n;
  if (IsBuiltin(name)) {
    n.kind = Name::Kind::kBuiltin;
  } else if (cim::IsDateField(name)) {
    n.kind = Name::Kind::kDate;
  } else if ((n.calc = cim::Calculation(name))) {
    n.kind = Name::Kind::kCalc;
  } else if (name == "action" || name == "status") {
    n.kind = Name::Kind::kActionStatus;
  }
  n.alias_source = std::string(cim::AliasSource(name));
  n.slot = paths_.Slot(name);
  if (!n.alias_source.empty()) n.alias_slot = paths_.Slot(n.alias_source);
  return n;
}

std::vector<std::string> Extraction::DependenciesOf(std::string_view name) {
  return cim::Dependencies(name);
}

bool Extraction::IsComputed(std::string_view name) {
  const auto& names = cim::ComputedNames();
  return std::find(names.begin(), names.end(), name) != names.end();
}

std::string_view Extraction::Raw(Row& row) const {
  const EventView& e = row.event_;
  if (e.raw_loaded) return e.raw;
  EventFields& c = row.cache();
  if (!c.raw_held && e.origin) {
    auto raw = e.origin->LoadRaw(e.ordinal, &c.raw_owner);
    if (raw.ok()) c.raw = *raw;
    c.raw_held = true;
  }
  return c.raw;
}

void Extraction::Flatten(Row& row, EventFields& c) const {
  std::string_view raw = Raw(row);
  Row tmp;
  if (!StartsLikeJson(raw, false) || !FlattenJson(raw, "", &tmp)) cim::KeyValuePairs(raw, &tmp);
  // Indexed fields are the event's fields too (values after the event's own, as multivalues).
  if (!row.event_.fields.empty()) FlattenJson(row.event_.fields, "", &tmp);
  c.all = std::move(tmp.fields_);
  c.leaves = EventFields::Leaves::kAll;
}

const Values* Extraction::Leaf(Row& row, std::string_view name, int slot) const {
  EventFields& c = row.cache();  // created here at the latest, so a base view shares it
  auto in_all = [&]() -> const Values* {
    auto it = c.all.find(name);
    return it == c.all.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (c.leaves == EventFields::Leaves::kAll) return in_all();
  if (slot < 0 || !row.event_.fields.empty()) {  // (an event with indexed fields: all at once)
    Flatten(row, c);
    return in_all();
  }
  auto at = [&]() -> const Values* {
    const Values& v = c.slots[static_cast<size_t>(slot)];
    return v.empty() ? nullptr : &v;
  };
  if (c.leaves == EventFields::Leaves::kWalked) return at();
  if (c.known.empty()) {
    c.known.assign(paths_.size(), 0);
    c.slots.resize(paths_.size());
  }
  if (c.known[static_cast<size_t>(slot)]) return at();
  const EventView& e = row.event_;
  if (e.origin) {
    std::string_view v;
    switch (e.origin->Column(name, e.ordinal, &v)) {
      case EventOrigin::Answer::kValue:
        c.slots[static_cast<size_t>(slot)] = {std::string(v)};
        c.known[static_cast<size_t>(slot)] = 1;
        return at();
      case EventOrigin::Answer::kAbsent: c.known[static_cast<size_t>(slot)] = 1; return nullptr;
      case EventOrigin::Answer::kUnknown: break;
    }
  }
  std::string_view raw = Raw(row);
  // A stored event (it has an origin) was checked to be a JSON object when it was written.
  if (StartsLikeJson(raw, true) && paths_.Extract(raw, &c.slots, e.origin != nullptr)) {
    c.leaves = EventFields::Leaves::kWalked;
    return at();
  }
  c.slots.clear();
  Flatten(row, c);
  return in_all();
}

const Values* Extraction::Base(Row& row, std::string_view name) const {
  Name scratch;
  const Name& n = Resolve(name, &scratch);
  if (n.kind == Name::Kind::kBuiltin || n.kind == Name::Kind::kDate) {
    EventFields& c = row.cache();
    auto it = c.other.find(name);
    if (it == c.other.end()) {
      if (n.kind == Name::Kind::kBuiltin) {
        it = c.other.emplace(std::string(name), Field(row, name)).first;
      } else {
        cim::DateFields(row.event_.time, &c.other);
        it = c.other.find(name);
        if (it == c.other.end()) return nullptr;
      }
    }
    return it->second.empty() ? nullptr : &it->second;
  }
  if (!n.alias_source.empty() && row.event_.sourcetype == kCloudTrail) {
    if (const Values* v = Leaf(row, n.alias_source, n.alias_slot)) return v;
  }
  return Leaf(row, name, n.slot);
}

Values Extraction::Field(Row& row, std::string_view name) const {
  Name scratch;
  const Name& n = Resolve(name, &scratch);
  const EventView& e = row.event_;
  if (n.kind == Name::Kind::kBuiltin) {
    if (name == "_time") return {FormatNumber(e.time)};
    if (name == "_raw") return {std::string(Raw(row))};
    if (name == "index") return {std::string(e.index)};
    if (name == "sourcetype") return {std::string(e.sourcetype)};
    if (name == "source") return {std::string(e.source)};
    return {std::string(e.host)};
  }
  if (e.sourcetype == kCloudTrail) {
    if (n.kind == Name::Kind::kCalc) {
      row.cache();
      Row base;  // sees the fields as they were before calculated fields
      base.event_ = row.event_;
      base.extraction_ = this;
      base.cache_ = row.cache_;
      base.base_mode_ = true;
      auto v = Evaluate(*n.calc, base, EvalContext{});
      return v.ok() ? v->ToField() : Values{};
    }
    if (n.kind == Name::Kind::kActionStatus) {
      Values ec = Field(row, "errorCode");
      bool success = !ec.empty() && ec[0] == "success";
      if (name == "status") return {success ? "success" : "failure"};
      const Values* en = Base(row, "eventName");
      std::string action = en ? cim::ActionOf(en->front(), success) : "";
      if (!action.empty()) return {action};
    }
  }
  const Values* v = Base(row, name);
  return v ? *v : Values{};
}

FieldMap Extraction::All(Row& row) const {
  EventFields& c = row.cache();
  if (c.leaves != EventFields::Leaves::kAll) Flatten(row, c);
  // The computed fields first: they read the leaves.
  std::vector<std::pair<const std::string*, Values>> computed;
  if (row.event_.sourcetype == kCloudTrail) {
    const auto& names = cim::ComputedNames();
    computed.reserve(names.size());
    for (const auto& name : names) computed.emplace_back(&name, Field(row, name));
  }
  FieldMap out;
  if (row.cache_.use_count() == 1) {
    // No other copy of the row shares the cache: its leaves move out instead of being copied, and
    // the cache forgets that it held them (a later extraction would parse the event again).
    out = std::move(c.all);
    c.all.clear();
    c.slots.clear();
    c.known.clear();
    c.leaves = EventFields::Leaves::kNone;
  } else {
    out = c.all;
  }
  cim::DateFields(row.event_.time, &out);
  for (auto& [name, v] : computed) {
    if (v.empty()) {
      out.erase(*name);
    } else {
      out.insert_or_assign(*name, std::move(v));
    }
  }
  std::erase_if(out, [](const auto& kv) { return kv.second.empty(); });
  return out;
}

}  // namespace cairn::query
