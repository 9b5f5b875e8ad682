#include "query/extract.h"

#include <algorithm>

#include "query/cim.h"
#include "query/eval.h"
#include "query/time_format.h"

namespace cairn::query {
namespace {

constexpr std::string_view kCloudTrail = "aws:cloudtrail";

bool StartsLikeJson(std::string_view raw, bool object_only) {
  size_t b = raw.find_first_not_of(" \t\r\n");
  if (b == std::string_view::npos) return false;
  return raw[b] == '{' || (!object_only && raw[b] == '[');
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

Extraction::Extraction(const std::vector<std::string>& wanted) : paths_(WithDependencies(wanted)) {}
Extraction::~Extraction() = default;

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
  c.all = std::move(tmp.fields_);
  c.leaves = EventFields::Leaves::kAll;
}

const Values* Extraction::Leaf(Row& row, std::string_view name) const {
  EventFields& c = row.cache();  // created here at the latest, so a base view shares it
  auto in_all = [&]() -> const Values* {
    auto it = c.all.find(name);
    return it == c.all.end() || it->second.empty() ? nullptr : &it->second;
  };
  if (c.leaves == EventFields::Leaves::kAll) return in_all();
  const EventView& e = row.event_;
  if (e.origin) {
    auto it = c.columns.find(name);
    if (it != c.columns.end()) return it->second.empty() ? nullptr : &it->second;
    std::string_view v;
    switch (e.origin->Column(name, e.ordinal, &v)) {
      case EventOrigin::Answer::kValue:
        return &c.columns.emplace(std::string(name), Values{std::string(v)}).first->second;
      case EventOrigin::Answer::kAbsent: return nullptr;
      case EventOrigin::Answer::kUnknown: break;
    }
  }
  int slot = paths_.Slot(name);
  if (slot >= 0) {
    if (c.leaves == EventFields::Leaves::kNone) {
      std::string_view raw = Raw(row);
      if (StartsLikeJson(raw, true) && paths_.Extract(raw, &c.slots)) {
        c.leaves = EventFields::Leaves::kWalked;
      } else {
        c.slots.clear();
        Flatten(row, c);
        return in_all();
      }
    }
    const Values& v = c.slots[static_cast<size_t>(slot)];
    return v.empty() ? nullptr : &v;
  }
  Flatten(row, c);
  return in_all();
}

const Values* Extraction::Base(Row& row, std::string_view name) const {
  EventFields& c = row.cache();
  bool builtin = name == "_time" || name == "_raw" || name == "index" || name == "sourcetype" ||
                 name == "source" || name == "host";
  if (builtin || cim::IsDateField(name)) {
    auto it = c.other.find(name);
    if (it == c.other.end()) {
      if (builtin) {
        it = c.other.emplace(std::string(name), Field(row, name)).first;
      } else {
        cim::DateFields(row.event_.time, &c.other);
        it = c.other.find(name);
        if (it == c.other.end()) return nullptr;
      }
    }
    return it->second.empty() ? nullptr : &it->second;
  }
  if (row.event_.sourcetype == kCloudTrail) {
    if (auto src = cim::AliasSource(name); !src.empty()) {
      if (const Values* v = Leaf(row, src)) return v;
    }
  }
  return Leaf(row, name);
}

Values Extraction::Field(Row& row, std::string_view name) const {
  const EventView& e = row.event_;
  if (!name.empty() && name[0] == '_') {
    if (name == "_time") return {FormatNumber(e.time)};
    if (name == "_raw") return {std::string(Raw(row))};
  } else if (name == "index") {
    return {std::string(e.index)};
  } else if (name == "sourcetype") {
    return {std::string(e.sourcetype)};
  } else if (name == "source") {
    return {std::string(e.source)};
  } else if (name == "host") {
    return {std::string(e.host)};
  }
  if (e.sourcetype == kCloudTrail) {
    if (const Expr* calc = cim::Calculation(name)) {
      row.cache();
      Row base;  // sees the fields as they were before calculated fields
      base.event_ = row.event_;
      base.extraction_ = this;
      base.cache_ = row.cache_;
      base.base_mode_ = true;
      auto v = Evaluate(*calc, base, EvalContext{});
      return v.ok() ? v->ToField() : Values{};
    }
    if (name == "status" || name == "action") {
      Values ec = Field(row, "errorCode");
      bool success = !ec.empty() && ec[0] == "success";
      if (name == "status") return {success ? "success" : "failure"};
      const Values* en = Leaf(row, "eventName");
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
  FieldMap out = c.all;
  cim::DateFields(row.event_.time, &out);
  if (row.event_.sourcetype == kCloudTrail) {
    for (const auto& name : cim::ComputedNames()) {
      Values v = Field(row, name);
      if (v.empty()) {
        out.erase(name);
      } else {
        out[name] = std::move(v);
      }
    }
  }
  std::erase_if(out, [](const auto& kv) { return kv.second.empty(); });
  return out;
}

}  // namespace cairn::query
