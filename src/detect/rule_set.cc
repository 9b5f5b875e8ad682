#include "detect/rule_set.h"

#include <fmt/format.h>

#include <algorithm>
#include <optional>
#include <set>

#include "common/digest.h"
#include "common/log.h"
#include "query/row.h"
#include "store/encoding.h"

namespace cairn::detect {

namespace {

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// The last key of a dotted field name, as it appears quoted in the JSON text.
std::string QuotedLastKey(std::string_view field) {
  size_t dot = field.rfind('.');
  return "\"" + std::string(dot == std::string_view::npos ? field : field.substr(dot + 1)) + "\"";
}

// Whether a CloudTrail field may hold an object (a rule may then match on the leaves under it):
// the record's object members, and anything under the free-form service parts.
bool MayBeObject(std::string_view field) {
  static const std::set<std::string, std::less<>> kObjects = {
      "userIdentity",
      "userIdentity.sessionContext",
      "userIdentity.sessionContext.sessionIssuer",
      "userIdentity.sessionContext.attributes",
      "userIdentity.sessionContext.webIdFederationData",
      "resources",
      "tlsDetails",
      "insightDetails",
      "edgeDeviceDetails"};
  if (kObjects.count(field)) return true;
  for (std::string_view part :
       {"requestParameters", "responseElements", "additionalEventData", "serviceEventDetails"}) {
    if (field == part ||
        (field.starts_with(part) && field.size() > part.size() && field[part.size()] == '.')) {
      return true;
    }
  }
  return false;
}

using ValueSet = std::optional<std::set<std::string>>;

// The exact values `field` must take for the selection to match (lower-cased), if it must.
ValueSet SelectionRequires(const Selection& s, std::string_view field) {
  if (!s.keywords.empty() || s.maps.empty()) return std::nullopt;
  std::set<std::string> out;
  for (const auto& map : s.maps) {
    bool found = false;
    for (const FieldTest& t : map) {
      if (t.field != field || (t.all && t.values.size() > 1)) continue;
      bool exact = true;
      std::set<std::string> vals;
      for (const auto& alts : t.values) {
        for (const ValueMatcher& m : alts) {
          if (m.kind != ValueMatcher::Kind::kGlob || m.shape != ValueMatcher::Shape::kExact) {
            exact = false;
          } else {
            vals.insert(LowerAscii(m.literal));
          }
        }
      }
      if (exact && !vals.empty()) {
        out.insert(vals.begin(), vals.end());
        found = true;
        break;
      }
    }
    if (!found) return std::nullopt;  // this map (an alternative) does not constrain the field
  }
  return out;
}

ValueSet Requires(const Rule& r, const Condition& c, std::string_view field) {
  switch (c.op) {
    case Condition::Op::kSel: return SelectionRequires(r.selections[c.selections[0]], field);
    case Condition::Op::kNot: return std::nullopt;
    case Condition::Op::kAnd: {
      ValueSet best;
      for (const Condition& ch : c.children) {
        ValueSet v = Requires(r, ch, field);
        if (v && (!best || v->size() < best->size())) best = std::move(v);
      }
      return best;
    }
    case Condition::Op::kOr: {
      std::set<std::string> all;
      for (const Condition& ch : c.children) {
        ValueSet v = Requires(r, ch, field);
        if (!v) return std::nullopt;
        all.insert(v->begin(), v->end());
      }
      return all;
    }
    case Condition::Op::kOf: {
      if (c.count < 0) {  // all of: like and
        ValueSet best;
        for (int sel : c.selections) {
          ValueSet v = SelectionRequires(r.selections[sel], field);
          if (v && (!best || v->size() < best->size())) best = std::move(v);
        }
        return best;
      }
      std::set<std::string> all;  // at least one of: like or
      for (int sel : c.selections) {
        ValueSet v = SelectionRequires(r.selections[sel], field);
        if (!v) return std::nullopt;
        all.insert(v->begin(), v->end());
      }
      return all;
    }
  }
  return std::nullopt;
}

std::string Join(const std::set<std::string>& s) {
  std::string out;
  for (const auto& v : s) {
    if (!out.empty()) out += ", ";
    out += v;
  }
  return out;
}

bool CompareShape(ValueMatcher::Shape shape, std::string_view v, std::string_view ref) {
  switch (shape) {
    case ValueMatcher::Shape::kPrefix: return v.starts_with(ref);
    case ValueMatcher::Shape::kSuffix: return v.ends_with(ref);
    case ValueMatcher::Shape::kContains: return v.find(ref) != std::string_view::npos;
    default: return v == ref;
  }
}

}  // namespace

// Per-thread state of one event's evaluation.
struct RuleSet::Scratch {
  std::string_view json;
  std::vector<query::Values> slots;
  // Per slot: 0 not yet looked at beyond the walk; 1 the container fallback ran.
  std::vector<uint8_t> fallback_done;
  std::vector<uint8_t> lowered_done;
  std::vector<std::vector<std::string>> lowered;
  bool flattened = false;
  query::FieldMap flat;  // "{}" removed from the names
  bool all_done = false;
  std::vector<std::string> all_values;  // every leaf value, lower-cased (keywords)
  std::vector<int8_t> sel_result;       // per selection of the rule being evaluated
  std::vector<int> candidates;

  void Reset(std::string_view text, size_t nslots) {
    json = text;
    fallback_done.assign(nslots, 0);
    lowered_done.assign(nslots, 0);
    lowered.resize(nslots);
    flattened = false;
    flat.clear();
    all_done = false;
    all_values.clear();
  }
  void Flatten() {
    if (flattened) return;
    flattened = true;
    query::Row row;
    query::FlattenJson(json, "", &row);
    for (auto& [name, values] : row.fields()) {
      std::string clean;
      clean.reserve(name.size());
      for (size_t i = 0; i < name.size(); ++i) {
        if (name.compare(i, 2, "{}") == 0) {
          ++i;
          continue;
        }
        clean.push_back(name[i]);
      }
      auto& dst = flat[clean];
      dst.insert(dst.end(), values.begin(), values.end());
    }
  }
};

RuleSet::RuleSet(LoadedRules loaded, bool text_filters) : loaded_(std::move(loaded)) {
  if (loaded_.generates.size() != loaded_.rules.size()) ResolveCorrelations(&loaded_);
  Compile();
  for (size_t i = 0; i < loaded_.rules.size(); ++i) {
    encoded_.push_back(EncodeAlertParts(ToAlert(EventHit{.rule = static_cast<int>(i)})));
  }
  if (text_filters) {
    for (const Rule& r : loaded_.rules) text_filters_.push_back(TextFilter::Of(r));
  }
}

RuleSet::~RuleSet() = default;

void RuleSet::Compile() {
  std::vector<std::string> names = {"eventName",         "eventSource",     "eventID",
                                    "userIdentity.arn",  "sourceIPAddress", "awsRegion",
                                    "recipientAccountId"};
  for (const Rule& r : loaded_.rules) {
    for (const std::string& f : r.Fields()) names.push_back(f);
  }
  for (const Correlation& c : loaded_.correlations) {
    for (const std::string& f : c.group_by) names.push_back(f);
    if (!c.field.empty()) names.push_back(c.field);
  }
  // Every way the rules' paths may run through arrays: `a.b.c` is also `a{}.b.c`, `a.b{}.c`, ...
  // (paths of up to 4 keys; JsonPaths only walks the members an event has, so unused variants
  // cost nothing per event).
  const size_t base_names = names.size();
  std::vector<std::vector<std::string>> variant_names(base_names);
  for (size_t i = 0; i < base_names; ++i) {
    std::vector<std::string> keys;
    size_t p = 0;
    const std::string& f = names[i];
    while (true) {
      size_t d = f.find('.', p);
      keys.push_back(f.substr(p, d == std::string::npos ? std::string::npos : d - p));
      if (d == std::string::npos) break;
      p = d + 1;
    }
    if (keys.size() > 4) continue;
    for (unsigned mask = 1; mask < (1u << keys.size()); ++mask) {
      std::string v;
      for (size_t k = 0; k < keys.size(); ++k) {
        if (k > 0) v.push_back('.');
        v += keys[k];
        if (mask & (1u << k)) v += "{}";
      }
      variant_names[i].push_back(v);
    }
  }
  for (const auto& vs : variant_names) names.insert(names.end(), vs.begin(), vs.end());
  paths_ = std::make_unique<query::JsonPaths>(names);
  variants_.assign(paths_->size(), {});
  container_.assign(paths_->size(), 0);
  needle_.assign(paths_->size(), "");
  for (size_t i = 0; i < base_names; ++i) {
    int slot = paths_->Slot(names[i]);
    if (slot < 0 || !variants_[slot].empty()) continue;
    for (const std::string& v : variant_names[i]) {
      int vs = paths_->Slot(v);
      if (vs >= 0 && vs != slot) variants_[slot].push_back(vs);
    }
    container_[slot] = MayBeObject(names[i]);
    needle_[slot] = QuotedLastKey(names[i]);
  }
  slot_event_name_ = paths_->Slot("eventName");
  slot_event_source_ = paths_->Slot("eventSource");
  slot_event_id_ = paths_->Slot("eventID");
  slot_arn_ = paths_->Slot("userIdentity.arn");
  slot_ip_ = paths_->Slot("sourceIPAddress");
  slot_region_ = paths_->Slot("awsRegion");
  slot_account_ = paths_->Slot("recipientAccountId");
  for (Rule& r : loaded_.rules) {
    for (Selection& s : r.selections) {
      for (auto& map : s.maps) {
        for (FieldTest& t : map) {
          t.slot = paths_->Slot(t.field);
          for (auto& alts : t.values) {
            for (ValueMatcher& m : alts) {
              if (m.kind == ValueMatcher::Kind::kFieldRef) m.ref_slot = paths_->Slot(m.ref_field);
            }
          }
        }
      }
    }
  }
  rule_correlations_.assign(loaded_.rules.size(), {});
  for (size_t ci = 0; ci < loaded_.correlations.size(); ++ci) {
    const Correlation& c = loaded_.correlations[ci];
    std::vector<int> gs;
    for (const std::string& f : c.group_by) gs.push_back(paths_->Slot(f));
    corr_group_slots_.push_back(std::move(gs));
    corr_field_slot_.push_back(c.field.empty() ? -1 : paths_->Slot(c.field));
    for (int r : c.rules) rule_correlations_[r].push_back(static_cast<int>(ci));
  }
  index_text_.assign(loaded_.rules.size(), "always");
  for (size_t i = 0; i < loaded_.rules.size(); ++i) {
    const Rule& r = loaded_.rules[i];
    if (ValueSet names_set = Requires(r, r.condition, "eventName")) {
      for (const std::string& v : *names_set) by_name_[v].push_back(static_cast<int>(i));
      index_text_[i] = "eventName in [" + Join(*names_set) + "]";
    } else if (ValueSet sources = Requires(r, r.condition, "eventSource")) {
      for (const std::string& v : *sources) by_source_[v].push_back(static_cast<int>(i));
      index_text_[i] = "eventSource in [" + Join(*sources) + "]";
    } else {
      always_.push_back(static_cast<int>(i));
    }
  }
}

RuleSet::IndexStats RuleSet::index_stats() const {
  IndexStats s;
  for (const std::string& t : index_text_) {
    if (t.starts_with("eventName")) {
      ++s.by_event_name;
    } else if (t.starts_with("eventSource")) {
      ++s.by_event_source;
    } else {
      ++s.always;
    }
  }
  return s;
}

std::string RuleSet::IndexOf(int rule) const { return index_text_[rule]; }

const query::Values& RuleSet::FieldValues(int slot, Scratch& s) const {
  query::Values& v = s.slots[slot];
  if (!s.fallback_done[slot]) {
    s.fallback_done[slot] = 1;
    // The same path through arrays (`resources.ARN` is also `resources{}.ARN`).
    for (int other : variants_[slot]) {
      const query::Values& more = s.slots[other];
      v.insert(v.end(), more.begin(), more.end());
    }
    // A field that may name an object: its leaves, when the key is in the text at all.
    const std::string& field = paths_->name(slot);
    if (v.empty() && container_[slot] && s.json.find(needle_[slot]) != std::string_view::npos) {
      s.Flatten();
      std::string prefix = field + ".";
      for (auto it = s.flat.lower_bound(field); it != s.flat.end(); ++it) {
        if (!it->first.starts_with(field)) break;
        if (it->first != field && !it->first.starts_with(prefix)) continue;
        v.insert(v.end(), it->second.begin(), it->second.end());
      }
    }
  }
  return v;
}

const std::vector<std::string>& RuleSet::Lowered(int slot, Scratch& s) const {
  if (!s.lowered_done[slot]) {
    s.lowered_done[slot] = 1;
    const query::Values& v = FieldValues(slot, s);
    auto& out = s.lowered[slot];
    out.clear();
    for (const std::string& x : v) out.push_back(LowerAscii(x));
  }
  return s.lowered[slot];
}

const std::vector<std::string>& RuleSet::AllValues(Scratch& s) const {
  if (!s.all_done) {
    s.all_done = true;
    s.Flatten();
    for (const auto& [name, values] : s.flat) {
      for (const std::string& v : values) s.all_values.push_back(LowerAscii(v));
    }
  }
  return s.all_values;
}

bool RuleSet::EvalField(const FieldTest& t, Scratch& s) const {
  const query::Values& vals = FieldValues(t.slot, s);
  auto one = [&](const std::vector<ValueMatcher>& alts) {
    for (const ValueMatcher& m : alts) {
      switch (m.kind) {
        case ValueMatcher::Kind::kNull:
          if (vals.empty()) return true;
          break;
        case ValueMatcher::Kind::kExists:
          if (vals.empty() != m.exists) return true;
          break;
        case ValueMatcher::Kind::kFieldRef: {
          const query::Values& refs = FieldValues(m.ref_slot, s);
          if (m.cased) {
            for (const auto& v : vals) {
              for (const auto& r : refs) {
                if (CompareShape(m.shape, v, r)) return true;
              }
            }
          } else {
            const auto& lv = Lowered(t.slot, s);
            const auto& lr = Lowered(m.ref_slot, s);
            for (const auto& v : lv) {
              for (const auto& r : lr) {
                if (CompareShape(m.shape, v, r)) return true;
              }
            }
          }
          break;
        }
        default: {
          if (vals.empty()) break;
          const auto& low = Lowered(t.slot, s);
          for (size_t i = 0; i < vals.size(); ++i) {
            if (m.MatchText(vals[i], low[i])) return true;
          }
        }
      }
    }
    return false;
  };
  if (t.all) {
    for (const auto& alts : t.values) {
      if (!one(alts)) return false;
    }
    return true;
  }
  for (const auto& alts : t.values) {
    if (one(alts)) return true;
  }
  return false;
}

bool RuleSet::EvalSelection(const Rule& r, int sel, Scratch& s) const {
  int8_t& memo = s.sel_result[sel];
  if (memo >= 0) return memo == 1;
  const Selection& sl = r.selections[sel];
  bool result = false;
  if (!sl.keywords.empty()) {
    const auto& all = AllValues(s);
    for (const ValueMatcher& m : sl.keywords) {
      for (const std::string& v : all) {
        if (m.MatchText(v, v)) {
          result = true;
          break;
        }
      }
      if (result) break;
    }
  } else {
    for (const auto& map : sl.maps) {
      bool ok = true;
      for (const FieldTest& t : map) {
        if (!EvalField(t, s)) {
          ok = false;
          break;
        }
      }
      if (ok) {
        result = true;
        break;
      }
    }
  }
  memo = result ? 1 : 0;
  return result;
}

bool RuleSet::EvalCondition(const Rule& r, const Condition& c, Scratch& s) const {
  switch (c.op) {
    case Condition::Op::kSel: return EvalSelection(r, c.selections[0], s);
    case Condition::Op::kNot: return !EvalCondition(r, c.children[0], s);
    case Condition::Op::kAnd:
      for (const Condition& ch : c.children) {
        if (!EvalCondition(r, ch, s)) return false;
      }
      return true;
    case Condition::Op::kOr:
      for (const Condition& ch : c.children) {
        if (EvalCondition(r, ch, s)) return true;
      }
      return false;
    case Condition::Op::kOf: {
      int need = c.count < 0 ? static_cast<int>(c.selections.size()) : c.count;
      int got = 0, left = static_cast<int>(c.selections.size());
      for (int sel : c.selections) {
        --left;
        if (EvalSelection(r, sel, s)) ++got;
        if (got >= need) return true;
        if (got + left < need) return false;
      }
      return got >= need;
    }
  }
  return false;
}

void RuleSet::Candidates(Scratch& s, std::vector<int>* out) const {
  out->clear();
  if (!by_name_.empty()) {
    for (const std::string& v : Lowered(slot_event_name_, s)) {
      auto it = by_name_.find(v);
      if (it != by_name_.end()) out->insert(out->end(), it->second.begin(), it->second.end());
    }
  }
  if (!by_source_.empty()) {
    for (const std::string& v : Lowered(slot_event_source_, s)) {
      auto it = by_source_.find(v);
      if (it != by_source_.end()) out->insert(out->end(), it->second.begin(), it->second.end());
    }
  }
  out->insert(out->end(), always_.begin(), always_.end());
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
}

namespace {
RuleSet::Scratch& ThreadScratch() {
  thread_local RuleSet::Scratch scratch;
  return scratch;
}
}  // namespace

namespace {

// The eventName and eventSource members' values in JSON text without backslashes ("" when the
// text has no such member), found in one pass over the text; false when it cannot tell (a key
// twice, at any depth, or a value that is not a string). With one member, it is the top-level
// one whenever the event has a top-level one at all.
bool EventMembers(std::string_view text, std::string_view* name, std::string_view* source) {
  constexpr std::string_view kPrefix = "\"event";
  bool have_name = false, have_source = false;
  *name = *source = std::string_view();
  auto space = [&](size_t i) {
    while (i < text.size() &&
           (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')) {
      ++i;
    }
    return i;
  };
  size_t from = 0;
  while (from < text.size()) {
    // Candidates where the quote and the 'v' of "event match: a few per event.
    const size_t at = store::FindExact(text.substr(from), kPrefix, 2, 0);
    if (at == std::string_view::npos) break;
    const size_t start = from + at;
    from = start + 1;
    const std::string_view rest = text.substr(start + kPrefix.size());
    bool* have;
    std::string_view* value;
    size_t i = start + kPrefix.size();
    if (rest.starts_with("Name\"")) {
      have = &have_name, value = name, i += 5;
    } else if (rest.starts_with("Source\"")) {
      have = &have_source, value = source, i += 7;
    } else {
      continue;
    }
    i = space(i);
    if (i >= text.size() || text[i] != ':') continue;  // a string value, not a key
    if (*have) return false;
    *have = true;
    i = space(i + 1);
    if (i >= text.size() || text[i] != '"') return false;
    const size_t end = text.find('"', i + 1);
    if (end == std::string_view::npos) return false;
    *value = text.substr(i + 1, end - i - 1);
  }
  return true;
}

}  // namespace

bool RuleSet::TextCandidates(std::string_view json, std::vector<int>* out) const {
  if (text_filters_.empty() || json.find('\\') != std::string_view::npos) return false;
  std::string_view name, source;
  if (!EventMembers(json, &name, &source)) return false;
  out->clear();
  auto add = [&](const std::unordered_map<std::string, std::vector<int>>& index,
                 std::string_view value) {
    if (index.empty() || value.empty()) return;
    auto it = index.find(LowerAscii(value));
    if (it != index.end()) out->insert(out->end(), it->second.begin(), it->second.end());
  };
  add(by_name_, name);
  add(by_source_, source);
  out->insert(out->end(), always_.begin(), always_.end());
  std::erase_if(*out, [&](int r) { return !text_filters_[r].MayMatch(json); });
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return true;
}

std::vector<int> RuleSet::Match(std::string_view json) const {
  std::vector<int> out;
  if (loaded_.rules.empty()) return out;
  std::vector<int> cands;
  // The rules the event's text leaves possible, before parsing it (most events: none).
  const bool known = TextCandidates(json, &cands);
  if (known && cands.empty()) return out;
  Scratch& s = ThreadScratch();
  s.Reset(json, paths_->size());
  if (!paths_->Extract(json, &s.slots)) return out;  // not JSON: no rule can match
  if (!known) Candidates(s, &cands);
  for (int i : cands) {
    const Rule& r = loaded_.rules[i];
    s.sel_result.assign(r.selections.size(), -1);
    if (EvalCondition(r, r.condition, s)) out.push_back(i);
  }
  return out;
}

void RuleSet::MatchEvent(std::string_view json, int64_t time_ms, std::string_view fallback_key,
                         std::vector<EventHit>* hits) const {
  std::vector<int> matched = Match(json);
  if (matched.empty()) return;
  Scratch& s = ThreadScratch();  // still holds this event's fields
  auto first = [&](int slot) -> std::string {
    if (slot < 0) return "";
    const query::Values& v = s.slots[slot];
    return v.empty() ? std::string() : v[0];
  };
  EventHit base;
  base.time_ms = time_ms;
  base.event_id = first(slot_event_id_);
  base.event_name = first(slot_event_name_);
  base.event_source = first(slot_event_source_);
  base.user_arn = first(slot_arn_);
  base.source_ip = first(slot_ip_);
  base.region = first(slot_region_);
  base.account = first(slot_account_);
  base.key = !base.event_id.empty()  ? base.event_id
             : !fallback_key.empty() ? std::string(fallback_key)
                                     : ContentKey(json);
  for (size_t m = 0; m < matched.size(); ++m) {
    const int r = matched[m];
    // The last hit takes the identity's strings; the others copy them.
    EventHit h;
    if (m + 1 == matched.size()) {
      h = std::move(base);
    } else {
      h = base;
    }
    h.rule = r;
    if (!rule_correlations_[r].empty()) {
      h.group.assign(loaded_.correlations.size(), "");
      h.counted.assign(loaded_.correlations.size(), "");
      for (int ci : rule_correlations_[r]) {
        std::string g;
        for (int slot : corr_group_slots_[ci]) {
          const query::Values& v = FieldValues(slot, s);
          g += v.empty() ? std::string() : v[0];
          g.push_back('\x1f');
        }
        h.group[ci] = std::move(g);
        if (corr_field_slot_[ci] >= 0) {
          const query::Values& v = FieldValues(corr_field_slot_[ci], s);
          h.counted[ci] = v.empty() ? std::string() : v[0];
        }
      }
    }
    hits->push_back(std::move(h));
  }
}

Alert RuleSet::ToAlert(const EventHit& hit) const {
  const Rule& r = loaded_.rules[hit.rule];
  Alert a;
  a.kind = AlertKind::kSigma;
  a.rule_id = r.id;
  a.title = r.title;
  a.level = r.level;
  a.tags = r.tags;
  hit.FillIdentity(&a);
  a.key = hit.key;
  a.event_id = hit.event_id.empty() ? hit.key : hit.event_id;
  a.description = r.description;
  if (hit.rule < static_cast<int>(encoded_.size())) a.encoded = encoded_[hit.rule];
  return a;
}

std::vector<Alert> RuleSet::Evaluate(const std::vector<cloudtrail::Event>& events,
                                     std::vector<uint32_t>* positions,
                                     std::vector<std::pair<uint32_t, EventHit>>* correlated) const {
  std::vector<Alert> out;
  if (positions != nullptr) positions->clear();
  if (correlated != nullptr) correlated->clear();
  if (loaded_.rules.empty()) return out;
  std::vector<EventHit> hits;
  for (uint32_t i = 0; i < events.size(); ++i) {
    const cloudtrail::Event& e = events[i];
    hits.clear();
    MatchEvent(e.raw.view(), e.time_ms, e.event_id, &hits);
    for (EventHit& h : hits) {
      if (loaded_.generates[h.rule]) {
        out.push_back(ToAlert(h));
        if (positions != nullptr) positions->push_back(i);
      }
      if (correlated != nullptr && !rule_correlations_[h.rule].empty()) {
        correlated->emplace_back(i, std::move(h));
      }
    }
  }
  return out;
}

Result<std::unique_ptr<RuleSet>> LoadRuleSet(const std::string& dir) {
  ASSIGN_OR_RETURN(LoadedRules loaded, LoadRuleDirectory(dir));
  for (const Refusal& r : loaded.refused) log::Warn("sigma rule refused: {}", r.ToString());
  if (loaded.rules.empty()) {
    return InvalidArgument("no Sigma rule loaded from {} ({} refused)", dir, loaded.refused.size());
  }
  log::Info("sigma: {} rules and {} correlations loaded from {}, {} refused", loaded.rules.size(),
            loaded.correlations.size(), dir, loaded.refused.size());
  return std::make_unique<RuleSet>(std::move(loaded));
}

}  // namespace cairn::detect
