#include "detect/rule_set.h"

#include <fmt/format.h>
#include <hs/hs.h>
#include <immintrin.h>

#include <algorithm>
#include <atomic>
#include <bit>
#include <charconv>
#include <optional>
#include <set>
#include <unordered_set>

#include "common/digest.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/time_util.h"
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

RuleSet::RuleSet(LoadedRules loaded, bool text_filters)
    : loaded_(std::move(loaded)), recent_(std::make_unique<RecentAlerts>()) {
  if (loaded_.generates.size() != loaded_.rules.size()) ResolveCorrelations(&loaded_);
  Compile();
  for (size_t i = 0; i < loaded_.rules.size(); ++i) {
    encoded_.push_back(EncodeAlertParts(ToAlert(EventHit{.rule = static_cast<int>(i)})));
  }
  if (text_filters) {
    for (const Rule& r : loaded_.rules) text_filters_.push_back(TextFilter::Of(r));
    CompileLiteralScan();
  }
}

RuleSet::~RuleSet() {
  if (literal_scan_ != nullptr) hs_free_database(literal_scan_);
}

namespace {

// At most this many literals are found by the one-pass scan (the bits of TextCandidates'
// `present`); the rest are searched for one by one.
constexpr size_t kScanWords = 4, kMaxScanned = kScanWords * 64;

// A thread's Hyperscan scratch space, fitted to the last scan it ran.
struct ScanScratch {
  hs_scratch_t* scratch = nullptr;
  uint64_t generation = 0;
  ~ScanScratch() {
    if (scratch != nullptr) hs_free_scratch(scratch);
  }
};

int OnLiteral(unsigned int id, unsigned long long, unsigned long long, unsigned int, void* ctx) {
  static_cast<uint64_t*>(ctx)[id / 64] |= uint64_t{1} << (id % 64);
  return 0;  // go on
}

}  // namespace

void RuleSet::CompileLiteralScan() {
  std::vector<std::string> literals;
  for (int r : always_) text_filters_[r].Literals(&literals);
  std::sort(literals.begin(), literals.end());
  literals.erase(std::unique(literals.begin(), literals.end()), literals.end());
  if (literals.size() > kMaxScanned) literals.resize(kMaxScanned);
  if (literals.empty()) return;
  std::vector<const char*> texts;
  std::vector<size_t> lengths;
  std::vector<unsigned int> flags, ids;
  for (size_t i = 0; i < literals.size(); ++i) {
    texts.push_back(literals[i].data());
    lengths.push_back(literals[i].size());
    flags.push_back(HS_FLAG_CASELESS | HS_FLAG_SINGLEMATCH);
    ids.push_back(static_cast<unsigned int>(i));
  }
  hs_compile_error_t* error = nullptr;
  if (hs_compile_lit_multi(texts.data(), flags.data(), ids.data(), lengths.data(),
                           static_cast<unsigned int>(texts.size()), HS_MODE_BLOCK, nullptr,
                           &literal_scan_, &error) != HS_SUCCESS) {
    // Each literal is then searched for on its own: slower, the same answers.
    log::Warn("sigma: the rules' literals could not be compiled for one scan: {}",
              error != nullptr ? error->message : "unknown error");
    hs_free_compile_error(error);
    literal_scan_ = nullptr;
    return;
  }
  for (TextFilter& f : text_filters_) {
    f.NumberLiterals([&](const std::string& literal) {
      auto it = std::lower_bound(literals.begin(), literals.end(), literal);
      return it != literals.end() && *it == literal ? static_cast<int>(it - literals.begin()) : -1;
    });
  }
  static std::atomic<uint64_t> generations{0};
  literal_scan_generation_ = ++generations;
}

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
  for (const Rule& r : loaded_.rules) {
    for (const std::string& f : r.suppress.fields) names.push_back(f);
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
  std::vector<size_t> base_of(base_names);  // per name: the index of the name it varies
  for (size_t i = 0; i < base_names; ++i) base_of[i] = i;
  for (size_t i = 0; i < base_names; ++i) {
    names.insert(names.end(), variant_names[i].begin(), variant_names[i].end());
    base_of.insert(base_of.end(), variant_names[i].size(), i);
  }
  paths_ = std::make_unique<query::JsonPaths>(names);
  // Per rule, a walk of only what it reads and what its hits carry: an event the text filters
  // leave to one rule (most that are parsed) is walked past the members no other field needs.
  for (const Rule& r : loaded_.rules) {
    std::set<std::string, std::less<>> wanted;
    for (const std::string& f : r.Fields()) wanted.insert(f);
    for (const std::string& f : r.suppress.fields) wanted.insert(f);
    bool correlated = false;
    for (const Correlation& c : loaded_.correlations) {
      if (std::find(c.rules.begin(), c.rules.end(), &r - loaded_.rules.data()) == c.rules.end()) {
        continue;
      }
      correlated = true;
      wanted.insert(c.group_by.begin(), c.group_by.end());
      if (!c.field.empty()) wanted.insert(c.field);
    }
    // The identity an alert or a correlation names (a suppressed rule's alert names only its
    // suppress fields' values).
    if (!r.suppress.on() || correlated) wanted.insert(names.begin(), names.begin() + 7);
    std::vector<bool> walk(names.size());
    for (size_t k = 0; k < names.size(); ++k) walk[k] = wanted.count(names[base_of[k]]) > 0;
    rule_paths_.push_back(std::make_unique<query::JsonPaths>(names, walk));
  }
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
  suppress_slots_.assign(loaded_.rules.size(), {});
  for (size_t i = 0; i < loaded_.rules.size(); ++i) {
    const Rule& r = loaded_.rules[i];
    if (!r.suppress.on()) continue;
    for (const std::string& f : r.suppress.fields) suppress_slots_[i].push_back(paths_->Slot(f));
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

// The eventName and eventSource members' values in JSON text ("" when the text has no such
// member), found in one pass over the text; false when it cannot tell (a backslash anywhere, a
// key twice at any depth, or a value that is not a string). With one member, it is the top-level
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
  // A candidate at `start` (a quote with a 'v' two bytes on); false when the text cannot tell.
  auto member = [&](size_t start) {
    if (!text.substr(start).starts_with(kPrefix)) return true;
    const std::string_view rest = text.substr(start + kPrefix.size());
    bool* have;
    std::string_view* value;
    size_t i = start + kPrefix.size();
    if (rest.starts_with("Name\"")) {
      have = &have_name, value = name, i += 5;
    } else if (rest.starts_with("Source\"")) {
      have = &have_source, value = source, i += 7;
    } else {
      return true;
    }
    i = space(i);
    if (i >= text.size() || text[i] != ':') return true;  // a string value, not a key
    if (*have) return false;
    *have = true;
    i = space(i + 1);
    if (i >= text.size() || text[i] != '"') return false;
    const size_t end = text.find('"', i + 1);
    if (end == std::string_view::npos) return false;
    *value = text.substr(i + 1, end - i - 1);
    return true;
  };
  size_t i = 0;
#ifdef __AVX2__
  // 32 positions at a time: a backslash ends the search; a quote with a 'v' two bytes on is a
  // candidate (a few per event).
  const __m256i quote = _mm256_set1_epi8('"'), vee = _mm256_set1_epi8('v');
  const __m256i backslash = _mm256_set1_epi8('\\');
  for (; i + 34 <= text.size(); i += 32) {
    const __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(text.data() + i));
    const __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(text.data() + i + 2));
    if (_mm256_movemask_epi8(_mm256_cmpeq_epi8(x, backslash)) != 0) return false;
    auto bits = static_cast<uint32_t>(_mm256_movemask_epi8(
        _mm256_and_si256(_mm256_cmpeq_epi8(x, quote), _mm256_cmpeq_epi8(y, vee))));
    while (bits != 0) {
      if (!member(i + static_cast<size_t>(std::countr_zero(bits)))) return false;
      bits &= bits - 1;
    }
  }
#endif
  for (; i < text.size(); ++i) {
    if (text[i] == '\\') return false;
    if (text[i] == '"' && !member(i)) return false;
  }
  return true;
}

}  // namespace

bool RuleSet::TextCandidates(std::string_view json, std::vector<int>* out) const {
  if (text_filters_.empty()) return false;
  std::string_view name, source;
  if (!EventMembers(json, &name, &source)) return false;
  out->clear();
  thread_local std::string lowered;  // keeps its capacity: no allocation per event
  auto add = [&](const std::unordered_map<std::string, std::vector<int>>& index,
                 std::string_view value) {
    if (index.empty() || value.empty()) return;
    lowered.assign(value);
    for (char& c : lowered) c = Lower(c);
    auto it = index.find(lowered);
    if (it != index.end()) out->insert(out->end(), it->second.begin(), it->second.end());
  };
  add(by_name_, name);
  add(by_source_, source);
  out->insert(out->end(), always_.begin(), always_.end());
  // The always-checked rules' literals, in one pass.
  uint64_t present[kScanWords] = {};
  const uint64_t* found = nullptr;
  if (literal_scan_ != nullptr) {
    thread_local ScanScratch space;
    if (space.generation != literal_scan_generation_ &&
        hs_alloc_scratch(literal_scan_, &space.scratch) == HS_SUCCESS) {
      space.generation = literal_scan_generation_;
    }
    if (space.generation == literal_scan_generation_ &&
        hs_scan(literal_scan_, json.data(), static_cast<unsigned int>(json.size()), 0,
                space.scratch, OnLiteral, present) == HS_SUCCESS) {
      found = present;
    }
  }
  std::erase_if(*out, [&](int r) { return !text_filters_[r].MayMatch(json, found); });
  std::sort(out->begin(), out->end());
  out->erase(std::unique(out->begin(), out->end()), out->end());
  return true;
}

std::vector<int> RuleSet::Match(std::string_view json) const {
  std::vector<int> out;
  if (loaded_.rules.empty()) return out;
  thread_local std::vector<int> cands;  // keeps its capacity: no allocation per event
  // The rules the event's text leaves possible, before parsing it (most events: none).
  const bool known = TextCandidates(json, &cands);
  if (known && cands.empty()) return out;
  Scratch& s = ThreadScratch();
  s.Reset(json, paths_->size());
  const query::JsonPaths& paths = known && cands.size() == 1 ? *rule_paths_[cands[0]] : *paths_;
  if (!paths.Extract(json, &s.slots)) return out;  // not JSON: no rule can match
  if (!known) Candidates(s, &cands);
  for (int i : cands) {
    const Rule& r = loaded_.rules[i];
    s.sel_result.assign(r.selections.size(), -1);
    if (EvalCondition(r, r.condition, s)) out.push_back(i);
  }
  return out;
}

namespace {

// RaisedKey's first part: the rule's index and U+001F, in place of what `out` held.
void StartRaisedKey(std::string* out, int rule) {
  char digits[16];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), rule);
  out->assign(digits, end);
  out->push_back('\x1f');
}

}  // namespace

std::string RaisedKey(int rule, std::string_view suppress_key) {
  std::string k;
  StartRaisedKey(&k, rule);
  k += suppress_key;
  return k;
}

void RuleSet::MatchEvent(std::string_view json, int64_t time_ms, std::string_view fallback_key,
                         std::vector<EventHit>* hits,
                         const std::unordered_set<std::string>* raised) const {
  std::vector<int> matched = Match(json);
  if (matched.empty()) return;
  Scratch& s = ThreadScratch();  // still holds this event's fields
  // The suppressed rules' keys; a hit whose alert is raised already and that no correlation
  // needs is left out before anything is copied.
  std::vector<std::string> suppress(matched.size());
  std::vector<std::vector<std::string_view>> values(matched.size());
  size_t kept = 0;
  for (size_t m = 0; m < matched.size(); ++m) {
    const int r = matched[m];
    if (!suppress_slots_[r].empty()) {
      for (int slot : suppress_slots_[r]) {
        const query::Values& v = FieldValues(slot, s);
        values[m].push_back(v.empty() ? std::string_view() : std::string_view(v[0]));
      }
      // RaisedKey's text, built in a buffer that keeps its capacity.
      thread_local std::string probe;
      StartRaisedKey(&probe, r);
      const size_t at = probe.size();
      AppendSuppressKey(&probe, SuppressWindow(time_ms, loaded_.rules[r].suppress.period_ms).first,
                        values[m]);
      if (raised != nullptr && rule_correlations_[r].empty() && raised->count(probe) > 0) {
        matched[m] = -1;
        continue;
      }
      suppress[m].assign(probe, at);
    }
    ++kept;
  }
  if (kept == 0) return;
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
    if (r < 0) continue;
    // The last hit takes the identity's strings; the others copy them.
    EventHit h;
    if (--kept == 0) {
      h = std::move(base);
    } else {
      h = base;
    }
    h.rule = r;
    h.suppress = std::move(suppress[m]);
    h.suppress_values.assign(values[m].begin(), values[m].end());
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
  if (hit.rule < static_cast<int>(encoded_.size())) {
    a.encoded = encoded_[hit.rule];  // holds the tags and description too: not copied per alert
  } else {
    a.tags = r.tags;
    a.description = r.description;
  }
  if (hit.suppress.empty()) {
    hit.FillIdentity(&a);
    a.key = hit.key;
    a.event_id = hit.event_id.empty() ? hit.key : hit.event_id;
    return a;
  }
  // A suppressed rule's alert names its window, not an event: the window's start, and the
  // suppress fields' values as fields.
  const auto [start, end] = SuppressWindow(hit.time_ms, r.suppress.period_ms);
  a.time_ms = start;
  a.key = hit.suppress;
  for (size_t i = 0; i < r.suppress.fields.size() && i < hit.suppress_values.size(); ++i) {
    const std::string& f = r.suppress.fields[i];
    const std::string& v = hit.suppress_values[i];
    if (f == "userIdentity.arn") {
      a.user_arn = v;
    } else if (f == "sourceIPAddress") {
      a.source_ip = v;
    } else if (f == "eventName") {
      a.event_name = v;
    } else if (f == "eventSource") {
      a.event_source = v;
    } else if (f == "awsRegion") {
      a.region = v;
    } else if (f == "recipientAccountId") {
      a.account = v;
    } else if (!v.empty()) {
      std::string text;
      AppendJsonString(&text, v);
      a.extra_json.emplace_back(f, std::move(text));  // a dotted name, as search reads it
    }
  }
  std::string fields = "[";
  for (size_t i = 0; i < r.suppress.fields.size(); ++i) {
    if (i > 0) fields.push_back(',');
    AppendJsonString(&fields, r.suppress.fields[i]);
  }
  fields.push_back(']');
  auto quoted = [](const std::string& text) {
    std::string out;
    AppendJsonString(&out, text);
    return out;
  };
  a.extra_json.emplace_back("suppress_fields", std::move(fields));
  a.extra_json.emplace_back("suppress_period", quoted(PeriodText(r.suppress.period_ms)));
  a.extra_json.emplace_back("suppress_window_start", quoted(FormatIso8601(start, true)));
  a.extra_json.emplace_back("suppress_window_end", quoted(FormatIso8601(end, true)));
  return a;
}

namespace {

// A suppressed alert's key in RecentAlerts (its _time is its window's start).
RecentAlerts::Key RecentKey(const Alert& a) {
  RecentAlerts::Key k;
  k.window_start_ms = a.time_ms;
  k.text = a.rule_id;
  k.text.push_back('\x1f');
  k.text += a.key;
  return k;
}

}  // namespace

void RuleSet::RememberStored(const std::vector<Alert>& alerts) const {
  std::vector<RecentAlerts::Key> keys;
  for (const Alert& a : alerts) {
    int64_t start = 0;  // the same as the alert's _time
    if (a.kind == AlertKind::kSigma && ParseSuppressKey(a.key, &start))
      keys.push_back(RecentKey(a));
  }
  if (!keys.empty()) recent_->Add(keys);
}

std::vector<Alert> RuleSet::Evaluate(const std::vector<cloudtrail::Event>& events,
                                     std::vector<uint32_t>* positions,
                                     std::vector<std::pair<uint32_t, EventHit>>* correlated) const {
  std::vector<Alert> out;
  if (positions != nullptr) positions->clear();
  if (correlated != nullptr) correlated->clear();
  if (loaded_.rules.empty()) return out;
  std::vector<EventHit> hits;
  // Suppressed rules: the first hit of each rule, window and value in the batch raises.
  std::unordered_set<std::string> batch_keys;
  std::vector<std::pair<size_t, RecentAlerts::Key>> suppressed;  // by index in `out`
  for (uint32_t i = 0; i < events.size(); ++i) {
    const cloudtrail::Event& e = events[i];
    hits.clear();
    MatchEvent(e.raw.view(), e.time_ms, e.event_id, &hits, &batch_keys);
    for (EventHit& h : hits) {
      if (loaded_.generates[h.rule] &&
          (h.suppress.empty() || batch_keys.insert(RaisedKey(h.rule, h.suppress)).second)) {
        out.push_back(ToAlert(h));
        if (!h.suppress.empty()) suppressed.emplace_back(out.size() - 1, RecentKey(out.back()));
        if (positions != nullptr) positions->push_back(i);
      }
      if (correlated != nullptr && !rule_correlations_[h.rule].empty()) {
        correlated->emplace_back(i, std::move(h));
      }
    }
  }
  if (!suppressed.empty()) {
    // The suppressed alerts this process already stored are not raised again.
    std::vector<RecentAlerts::Key> keys;
    keys.reserve(suppressed.size());
    for (auto& [at, key] : suppressed) keys.push_back(std::move(key));
    const std::vector<bool> known = recent_->Known(keys);
    std::vector<bool> drop(out.size(), false);
    bool any = false;
    for (size_t k = 0; k < known.size(); ++k) {
      if (known[k]) drop[suppressed[k].first] = any = true;
    }
    if (any) {
      size_t w = 0;
      for (size_t r = 0; r < out.size(); ++r) {
        if (drop[r]) continue;
        if (w != r) {
          out[w] = std::move(out[r]);
          if (positions != nullptr) (*positions)[w] = (*positions)[r];
        }
        ++w;
      }
      out.resize(w);
      if (positions != nullptr) positions->resize(w);
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
