#include "query/store_source.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <limits>
#include <map>
#include <queue>
#include <set>
#include <thread>
#include <unordered_set>

#include "common/thread_pool.h"
#include "common/time_util.h"
#include "query/aggregate.h"
#include "query/eval.h"
#include "query/time_format.h"
#include "query/value.h"
#include "store/fields.h"

namespace cairn::query {

using store::Bitmap;
using store::Segment;

struct StoreEventSource::Target {
  std::string index;
  uint32_t rank = 0;  // place in (index, segment sequence) order: ties of equal time follow it
  std::shared_ptr<const Segment> seg;
  std::shared_ptr<const std::vector<int64_t>> times;
  uint32_t first = 0;  // ordinal range inside the request's time range
  uint32_t last = 0;
};

namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();

// The segment's event metadata column `name` (such as "host"), or null when no event of the
// segment has a value: the segment was written before it had the column, or the column's
// dictionary (read without its codes) is empty, so its codes would say "absent" for every event.
Result<std::shared_ptr<const store::Column>> OptionalColumn(const Segment& seg,
                                                            std::string_view name) {
  auto summary = seg.ColumnCounts(name);
  if (!summary.ok()) {
    if (summary.status().code() == StatusCode::kNotFound)
      return std::shared_ptr<const store::Column>();
    return summary.status();
  }
  if (summary->dict && summary->dict->empty()) return std::shared_ptr<const store::Column>();
  return seg.GetColumn(name);
}

// Fields the search layer computes or overrides (CIM aliases and calculated
// fields of the Splunk Add-on for AWS, date_*, builtins): the store's postings
// of a raw field of the same name would not answer them.
const std::set<std::string, std::less<>>& ComputedFields() {
  static const auto* s = new std::set<std::string, std::less<>>{"app",
                                                                "dvc",
                                                                "region",
                                                                "vendor_region",
                                                                "signature",
                                                                "command",
                                                                "src",
                                                                "src_ip",
                                                                "user_group_id",
                                                                "reason",
                                                                "result",
                                                                "result_id",
                                                                "user_access_key",
                                                                "temp_access_key",
                                                                "start_time",
                                                                "instance_type",
                                                                "desc",
                                                                "msg",
                                                                "user_arn",
                                                                "userName",
                                                                "vendor_account",
                                                                "aws_account_id",
                                                                "user",
                                                                "user_name",
                                                                "user_type",
                                                                "user_id",
                                                                "user_agent",
                                                                "vendor_product",
                                                                "vendor",
                                                                "product",
                                                                "dest",
                                                                "object",
                                                                "rule_action",
                                                                "authentication_method",
                                                                "action",
                                                                "status",
                                                                "eventTime",
                                                                "host",
                                                                "index",
                                                                "sourcetype",
                                                                "source",
                                                                "punct",
                                                                "linecount",
                                                                "splunk_server",
                                                                "timeendpos",
                                                                "timestartpos"};
  return *s;
}

bool IsBreakerChar(char c) { return store::IsMajorBreaker(c) || store::IsMinorBreaker(c); }

bool AllStars(std::string_view v) { return v.find_first_not_of('*') == std::string_view::npos; }

// Whether text matched in an event's raw JSON can only lie inside one string
// value or key name: it has no quote, comma, colon, bracket, brace, whitespace
// or backslash, the bytes that join JSON values.
bool StaysInOneLeaf(std::string_view text) {
  for (char c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u >= 0x80 || (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
      continue;
    if (std::string_view(".-_/@=#$%+").find(c) == std::string_view::npos) return false;
  }
  return true;
}

// Breaker-free pieces of a term or phrase, lower-cased.
std::vector<std::string> Atoms(std::string_view text) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < text.size()) {
    while (i < text.size() && IsBreakerChar(text[i])) ++i;
    size_t j = i;
    while (j < text.size() && !IsBreakerChar(text[j])) ++j;
    if (j > i) out.push_back(Lower(text.substr(i, j - i)));
    i = j;
  }
  return out;
}

// Whether `atom` (lower-cased, breaker-free) is one of the atoms of the names
// in `text` (KeyText: lower-cased names, one per line): a hit that breakers or
// the text's ends bound on both sides.
bool AtomInKeyText(std::string_view text, std::string_view atom) {
  if (atom.empty()) return false;
  for (size_t at = text.find(atom); at != std::string_view::npos; at = text.find(atom, at + 1)) {
    bool starts = at == 0 || IsBreakerChar(text[at - 1]);
    size_t end = at + atom.size();
    bool ends = end == text.size() || IsBreakerChar(text[end]);
    if (starts && ends) return true;
  }
  return false;
}

// A piece that an eventTime value ("2023-07-10T12:00:00Z", maybe with ".123")
// can produce; the store does not index eventTime as terms, so such pieces are
// checked against the time column.
bool TimeLikeAtom(std::string_view a) {
  auto digits = [&](size_t from, size_t n) {
    if (from + n > a.size()) return false;
    for (size_t i = from; i < from + n; ++i) {
      if (a[i] < '0' || a[i] > '9') return false;
    }
    return true;
  };
  if ((a.size() == 2 || a.size() == 4) && digits(0, a.size())) return true;
  if (a.size() == 5 && digits(0, 2) && a[2] == 't' && digits(3, 2)) return true;
  if ((a.size() == 3 || a.size() == 4) && digits(0, a.size() - 1) && a.back() == 'z') return true;
  return false;
}

bool TimeHasAtom(int64_t ms, std::string_view atom) {
  for (bool millis : {false, true}) {
    for (const auto& a : Atoms(FormatIso8601(ms, millis))) {
      if (a == atom) return true;
    }
  }
  return false;
}

// How the store answers one predicate node; static (independent of the data).
enum class Way {
  kAll,        // every event in range (not indexable): the engine re-checks
  kNone,       // kFalse
  kPostings,   // (field, value) postings
  kMatch,      // wildcard match over a field's dictionary
  kTerm,       // term postings of the pieces
  kTermMatch,  // wildcard over the term dictionary
  kMeta,       // index/host: all or nothing per index
  kBool,       // and / or / not
};

struct Classified {
  Way way = Way::kAll;
  bool exact = false;
  std::string why;  // for kAll: the reason
};

bool Pushable(const std::string& field) {
  if (field.empty() || field[0] == '_') return false;
  if (field.rfind("date_", 0) == 0) return false;
  return !ComputedFields().count(field);
}

Classified ClassifyCompareValue(const std::string& field, const std::string& value) {
  if (field == "index" || field == "host") return {Way::kMeta, true, ""};
  bool column_meta = field == "sourcetype" || field == "source";
  bool error_code = field == "errorCode";
  if (!column_meta && !error_code && !Pushable(field)) {
    return {Way::kAll, false, field + " is computed at search time"};
  }
  if (value.empty()) return {Way::kAll, false, "empty value"};
  if (error_code) {
    // The add-on computes errorCode as success/failure for events without one, so a value that
    // matches either (errorCode=*, errorCode=succ*) holds for events the postings do not list.
    if (GlobMatch(value, "success", true) || GlobMatch(value, "failure", true)) {
      return {Way::kAll, false, "errorCode=success/failure is computed at search time"};
    }
  }
  if (AllStars(value)) return {Way::kMatch, false, ""};  // has the field (null/empty re-checked)
  bool wild = value.find('*') != std::string::npos;
  if (wild) {
    bool exact = !GlobMatch(value, "null", true);
    return {Way::kMatch, exact, ""};
  }
  if (ParseNumber(value)) {
    // 100 also equals 100.0: column dictionaries are small enough to look for
    // every spelling.
    if (store::ColumnIndex(field) >= 0) return {Way::kPostings, true, ""};
    return {Way::kAll, false, "numeric value of a non-column field"};
  }
  return {Way::kPostings, Lower(value) != "null", ""};
}

Classified Classify(const SearchNode& n) {
  using K = SearchNode::Kind;
  switch (n.kind) {
    case K::kTrue: return {Way::kAll, true, ""};
    case K::kFalse: return {Way::kNone, true, ""};
    case K::kSubsearch: return {Way::kAll, false, "subsearch"};
    case K::kAnd:
    case K::kOr: {
      bool exact = true;
      for (const auto& c : n.children) exact &= Classify(*c).exact;
      return {Way::kBool, exact, ""};
    }
    case K::kNot: return {Way::kBool, Classify(*n.children[0]).exact, ""};
    case K::kTerm: {
      if (AllStars(n.value)) return {Way::kAll, true, ""};
      if (n.value.find('*') != std::string::npos) return {Way::kTermMatch, false, ""};
      return {Way::kTerm, false, ""};
    }
    case K::kCompare: {
      if (n.op == "=") return ClassifyCompareValue(n.field, n.value);
      if (n.op == "!=") {
        Classified c = ClassifyCompareValue(n.field, n.value);
        if (c.way == Way::kMeta) return c;
        if ((n.field == "sourcetype" || n.field == "source") && c.exact)
          return {Way::kBool, true, ""};
        return {Way::kAll, false, "field!=value"};
      }
      return {Way::kAll, false, "comparison " + n.op};
    }
    case K::kIn: {
      bool exact = true;
      for (const auto& v : n.values) {
        Classified c = ClassifyCompareValue(n.field, v);
        if (c.way == Way::kAll) return {Way::kAll, false, c.why};
        exact &= c.exact;
      }
      return {Way::kBool, exact, ""};
    }
  }
  return {};
}

std::string Describe(const SearchNode& n) {
  using K = SearchNode::Kind;
  Classified c = Classify(n);
  std::string tag = c.exact ? "" : "~";
  switch (n.kind) {
    case K::kTrue: return "all";
    case K::kFalse: return "none";
    case K::kSubsearch: return "~all(subsearch)";
    case K::kAnd:
    case K::kOr: {
      std::string out = n.kind == K::kAnd ? "and(" : "or(";
      for (size_t i = 0; i < n.children.size(); ++i)
        out += (i ? ", " : "") + Describe(*n.children[i]);
      return out + ")";
    }
    case K::kNot: {
      Classified k = Classify(*n.children[0]);
      if (!k.exact) return "~all(not over a re-checked part)";
      return "andnot(all, " + Describe(*n.children[0]) + ")";
    }
    case K::kTerm: {
      if (c.way == Way::kAll) return "all";
      if (c.way == Way::kTermMatch) return "~term-match(" + Lower(n.value) + ")";
      std::string out = "~terms(";
      auto atoms = Atoms(n.value);
      for (size_t i = 0; i < atoms.size(); ++i) out += (i ? " AND " : "") + atoms[i];
      return out + (n.quoted ? "; phrase re-checked)" : ")");
    }
    case K::kCompare:
    case K::kIn: {
      if (c.way == Way::kAll) return "~all(" + c.why + ")";
      if (n.kind == K::kIn) {
        std::string out = "or(";
        for (size_t i = 0; i < n.values.size(); ++i) {
          SearchNode one;
          one.kind = K::kCompare;
          one.field = n.field;
          one.op = "=";
          one.value = n.values[i];
          out += (i ? ", " : "") + Describe(one);
        }
        return out + ")";
      }
      std::string fv = FieldText(n.field) + n.op + Quote(n.value);
      if (c.way == Way::kMeta) return "index-select(" + fv + ")";
      if (n.op == "!=")
        return "andnot(all, match(" + FieldText(n.field) + "=" + Quote(n.value) + "))";
      if (c.way == Way::kMatch) return tag + "match(" + fv + ")";
      return tag + "postings(" + fv + ")";
    }
  }
  return "all";
}

// Per-segment evaluation of a predicate into candidate ordinals (a superset of
// the matches, or exactly the matches where Classify says so). `all` is the
// in-range ordinal set.
class SegmentEval {
 public:
  SegmentEval(StoreEventSource::Target& t, const StoreSourceOptions& opts,
              std::function<Result<std::shared_ptr<const std::vector<std::string>>>()> key_atoms,
              std::function<Result<std::shared_ptr<const std::string>>()> key_text)
      : t_(t), opts_(opts), key_atoms_fn_(std::move(key_atoms)), key_text_fn_(std::move(key_text)) {
    all_.addRange(t.first, t.last);
  }

  const Bitmap& all() const { return all_; }

  Result<Bitmap> Eval(const SearchNode& n) {
    using K = SearchNode::Kind;
    switch (n.kind) {
      case K::kTrue: return all_;
      case K::kFalse: return Bitmap();
      case K::kSubsearch: return all_;
      case K::kAnd: {
        Bitmap acc = all_;
        // Exactly answered children first: they are usually the most selective.
        std::vector<const SearchNode*> order;
        for (const auto& c : n.children) order.push_back(c.get());
        std::stable_sort(order.begin(), order.end(), [](const SearchNode* a, const SearchNode* b) {
          return Classify(*a).exact && !Classify(*b).exact;
        });
        for (const SearchNode* c : order) {
          if (acc.isEmpty()) break;
          ASSIGN_OR_RETURN(Bitmap b, EvalWithin(*c, acc));
          acc &= b;
        }
        return acc;
      }
      case K::kOr: {
        Bitmap acc;
        for (const auto& c : n.children) {
          ASSIGN_OR_RETURN(Bitmap b, Eval(*c));
          acc |= b;
        }
        return acc;
      }
      case K::kNot: {
        if (!Classify(*n.children[0]).exact) return all_;
        ASSIGN_OR_RETURN(Bitmap b, Eval(*n.children[0]));
        Bitmap out = all_;
        out -= b;
        return out;
      }
      case K::kTerm: return TermBits(n, nullptr);
      case K::kCompare: return CompareBits(n);
      case K::kIn: {
        Bitmap acc;
        SearchNode one;
        one.kind = K::kCompare;
        one.field = n.field;
        one.op = "=";
        for (const auto& v : n.values) {
          one.value = v;
          ASSIGN_OR_RETURN(Bitmap b, CompareBits(one));
          acc |= b;
        }
        return acc;
      }
    }
    return all_;
  }

 private:
  // Like Eval, but may use `within` (candidates so far) to bound per-event
  // checks.
  Result<Bitmap> EvalWithin(const SearchNode& n, const Bitmap& within) {
    if (n.kind == SearchNode::Kind::kTerm) return TermBits(n, &within);
    return Eval(n);
  }

  Result<Bitmap> Postings(const std::string& field, const std::string& value) {
    Bitmap b;
    if (AllStars(value)) {
      ASSIGN_OR_RETURN(b, t_.seg->FieldMatch(field, store::Pattern("*")));
    } else if (value.find('*') != std::string::npos) {
      ASSIGN_OR_RETURN(b, t_.seg->FieldMatch(field, store::Pattern(value)));
    } else {
      ASSIGN_OR_RETURN(b, t_.seg->FieldPostings(field, value));
      if (auto num = ParseNumber(value); num && store::ColumnIndex(field) >= 0) {
        ASSIGN_OR_RETURN(auto col, t_.seg->GetColumn(field));
        for (const auto& v : col->dict) {
          if (v.size() != value.size() && ParseNumber(v) == num) {
            ASSIGN_OR_RETURN(Bitmap more, t_.seg->FieldPostings(field, v));
            b |= more;
          }
        }
      }
    }
    b &= all_;
    return b;
  }

  Result<Bitmap> CompareBits(const SearchNode& n) {
    Classified c = Classify(n);
    if (c.way == Way::kAll) return all_;
    if (c.way == Way::kMeta) {
      const std::string& actual = n.field == "index" ? t_.index : opts_.host;
      auto matches = [&](std::string_view v) {
        return GlobMatch(n.value, v, true) || ValueMatchesNumber(n.value, std::string(v));
      };
      if (n.field == "host") {
        ASSIGN_OR_RETURN(auto hosts, OptionalColumn(*t_.seg, "host"));
        if (hosts) return HostBits(*hosts, matches, n.op == "=");
      }
      return (n.op == "=") == matches(actual) ? all_ : Bitmap();
    }
    if (n.op == "!=") {
      ASSIGN_OR_RETURN(Bitmap b, Postings(n.field, n.value));
      Bitmap out = all_;
      out -= b;
      return out;
    }
    return Postings(n.field, n.value);
  }

  // The events of all_ whose host (the column's value, else the default host) matches, or with
  // `equal` false those whose host does not.
  template <typename Matches>
  Bitmap HostBits(const store::Column& hosts, const Matches& matches, bool equal) const {
    std::vector<char> code_matches(hosts.dict.size() + 1);
    code_matches[0] = matches(opts_.host) == equal;
    for (size_t k = 0; k < hosts.dict.size(); ++k)
      code_matches[k + 1] = matches(hosts.dict[k]) == equal;
    Bitmap out;
    for (uint32_t o : all_) {
      if (code_matches[hosts.codes[o]]) out.add(o);
    }
    return out;
  }

  static bool ValueMatchesNumber(const std::string& a, const std::string& b) {
    auto x = ParseNumber(a), y = ParseNumber(b);
    return x && y && *x == *y;
  }

  Result<Bitmap> TermBits(const SearchNode& n, const Bitmap* within) {
    if (AllStars(n.value)) return all_;
    if (n.value.find('*') != std::string::npos) {
      ASSIGN_OR_RETURN(auto keys, key_atoms_fn_());
      // Wildcard term: Splunk matches it within one major segment or a suffix
      // of one that starts after a minor breaker. With breaker-free literal
      // parts, "*" + pattern over the term dictionary (whole segments and their
      // pieces) covers both.
      std::string lit;
      for (char ch : n.value) {
        if (ch == '*') continue;
        if (IsBreakerChar(ch)) return all_;
        lit += ch;
      }
      if (lit.find_first_not_of("0123456789tTzZ") == std::string::npos) return all_;  // eventTime
      std::string pat = n.value[0] == '*' ? n.value : "*" + n.value;
      for (const auto& k : *keys) {
        if (GlobMatch(pat, k, true)) return all_;  // a key name in the raw text matches
      }
      ASSIGN_OR_RETURN(Bitmap b, t_.seg->TermMatch(store::Pattern(pat)));
      b &= all_;
      return b;
    }
    Bitmap acc = within ? *within : all_;
    acc &= all_;
    // A term's pieces are ANDed; the result only has to be a superset (the
    // engine checks every candidate), so the longest pieces, usually the
    // rarest, go first and the lookups stop once few candidates are left: for
    // an IP address, "203" alone leaves a handful of events, and looking up "0"
    // and "10" as well would only cost time.
    ASSIGN_OR_RETURN(auto key_text, key_text_fn_());
    std::vector<std::string> atoms = Atoms(n.value), deferred;
    std::stable_sort(atoms.begin(), atoms.end(), [](const std::string& a, const std::string& b) {
      return a.size() > b.size();
    });
    constexpr uint64_t kFewEnough = 64;
    if (atoms.size() > 1 && StaysInOneLeaf(n.value) && atoms[0].size() <= store::kMaxTermBytes &&
        !std::all_of(atoms.begin(), atoms.end(),
                     [](const std::string& a) { return TimeLikeAtom(a); })) {
      // Several pieces ("203.0.113.10") of text that lies inside one leaf, and
      // not in eventTime (some piece is not time-like): the events whose column
      // value contains the whole text, plus those whose other leaves hold every
      // piece. Looking the pieces up one by one in the columns would select
      // every value with "203" in it first.
      Bitmap leaves = acc;
      for (const auto& a : atoms) {
        if (a.size() > store::kMaxTermBytes || AtomInKeyText(*key_text, a)) continue;
        ASSIGN_OR_RETURN(Bitmap b, t_.seg->LeafTermPostings(a));
        leaves &= b;
        if (leaves.cardinality() <= kFewEnough) break;
      }
      ASSIGN_OR_RETURN(Bitmap cols, t_.seg->ColumnPhrasePostings(atoms[0], n.value));
      cols &= acc;
      leaves |= cols;
      return leaves;
    }
    for (const auto& a : atoms) {
      if (a.size() > store::kMaxTermBytes || AtomInKeyText(*key_text, a)) continue;
      if (TimeLikeAtom(a)) {
        deferred.push_back(a);
        continue;
      }
      ASSIGN_OR_RETURN(Bitmap b, t_.seg->TermPostings(a));
      acc &= b;
      if (acc.cardinality() <= kFewEnough) return acc;
    }
    if (!deferred.empty() && !t_.times) {
      ASSIGN_OR_RETURN(t_.times, t_.seg->Times());
    }
    for (const auto& a : deferred) {
      if (acc.cardinality() > 100000) break;  // too many to check against the time column
      ASSIGN_OR_RETURN(Bitmap b, t_.seg->TermPostings(a));
      Bitmap keep = acc & b;
      Bitmap rest = acc;
      rest -= b;
      for (uint32_t o : rest) {
        if (TimeHasAtom((*t_.times)[o], a)) keep.add(o);
      }
      acc = std::move(keep);
    }
    return acc;
  }

  StoreEventSource::Target& t_;  // times loaded on demand
  const StoreSourceOptions& opts_;
  std::function<Result<std::shared_ptr<const std::vector<std::string>>>()> key_atoms_fn_;
  std::function<Result<std::shared_ptr<const std::string>>()> key_text_fn_;
  Bitmap all_;
};

// Keys of CloudTrail records that may hold only empty objects/arrays (then no
// field is stored under them, but their names are still in the raw text a term
// is matched against).
constexpr const char* kKnownKeys[] = {"eventVersion",
                                      "userIdentity",
                                      "eventTime",
                                      "eventSource",
                                      "eventName",
                                      "awsRegion",
                                      "sourceIPAddress",
                                      "userAgent",
                                      "requestParameters",
                                      "responseElements",
                                      "additionalEventData",
                                      "requestID",
                                      "eventID",
                                      "readOnly",
                                      "resources",
                                      "eventType",
                                      "apiVersion",
                                      "managementEvent",
                                      "recipientAccountId",
                                      "serviceEventDetails",
                                      "sharedEventID",
                                      "vpcEndpointId",
                                      "vpcEndpointAccountId",
                                      "eventCategory",
                                      "tlsDetails",
                                      "sessionCredentialFromConsole",
                                      "edgeDeviceDetails",
                                      "insightDetails",
                                      "errorCode",
                                      "errorMessage",
                                      "addendum",
                                      "type",
                                      "principalId",
                                      "arn",
                                      "accountId",
                                      "accessKeyId",
                                      "userName",
                                      "sessionContext",
                                      "sessionIssuer",
                                      "webIdFederationData",
                                      "attributes",
                                      "creationDate",
                                      "mfaAuthenticated",
                                      "invokedBy",
                                      "sourceIdentity",
                                      "ec2RoleDelivery",
                                      "ARN",
                                      "Records",
                                      "tlsVersion",
                                      "cipherSuite",
                                      "clientProvidedHostHeader"};

double MsToSeconds(int64_t ms) { return static_cast<double>(ms) / 1000.0; }

}  // namespace

bool StoreAnswersExactly(const SearchNode* node) {
  return node == nullptr || Classify(*node).exact;
}

StoreEventSource::StoreEventSource(store::Store* store, StoreSourceOptions options)
    : store_(store), options_(std::move(options)) {}

StoreEventSource::~StoreEventSource() = default;

StoreScanStats StoreEventSource::last_stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return last_;
}

Result<std::shared_ptr<const std::vector<std::string>>> StoreEventSource::KeyAtoms(
    const Segment& seg) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = key_atoms_.find(seg.path());
    if (it != key_atoms_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(auto names, seg.FieldNames());
  std::set<std::string> atoms;
  auto add = [&](std::string_view name) {
    for (auto& a : Atoms(name)) atoms.insert(std::move(a));
  };
  for (const auto& n : names) add(n);
  for (auto f : store::kColumnFields) add(f);
  for (const char* k : kKnownKeys) add(k);
  auto out = std::make_shared<const std::vector<std::string>>(atoms.begin(), atoms.end());
  std::lock_guard<std::mutex> l(mu_);
  if (key_atoms_.size() > 4096) key_atoms_.clear();
  key_atoms_[seg.path()] = out;
  return out;
}

Result<std::shared_ptr<const std::string>> StoreEventSource::KeyText(const Segment& seg) {
  {
    std::lock_guard<std::mutex> l(mu_);
    auto it = key_text_.find(seg.path());
    if (it != key_text_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(auto names, seg.FieldNames());
  auto text = std::make_shared<std::string>();
  auto add = [&](std::string_view name) {
    text->append(Lower(name));
    text->push_back('\n');
  };
  for (const auto& n : names) add(n);
  for (auto f : store::kColumnFields) add(f);
  for (const char* k : kKnownKeys) add(k);
  std::lock_guard<std::mutex> l(mu_);
  if (key_text_.size() > 4096) key_text_.clear();
  key_text_[seg.path()] = text;
  return std::shared_ptr<const std::string>(text);
}

Result<Bitmap> StoreEventSource::Candidates(Target& t, const ScanRequest& request) {
  SegmentEval ev(
      t, options_, [&]() { return KeyAtoms(*t.seg); }, [&]() { return KeyText(*t.seg); });
  if (!request.predicate) return ev.all();
  return ev.Eval(*request.predicate);
}

namespace {

// Whether the search names internal index `index` with an index=/index IN value that starts
// with '_' itself and matches it (index=_audit, index=_*), anywhere in the leading search.
bool NamesInternalIndex(const SearchNode* n, const std::string& index) {
  if (!n) return false;
  auto names = [&](const std::string& v) {
    return !v.empty() && v.front() == '_' && GlobMatch(v, index, true);
  };
  if (n->kind == SearchNode::Kind::kCompare && n->field == "index" && n->op == "=") {
    return names(n->value);
  }
  if (n->kind == SearchNode::Kind::kIn && n->field == "index") {
    return std::any_of(n->values.begin(), n->values.end(), names);
  }
  return std::any_of(n->children.begin(), n->children.end(),
                     [&](const auto& c) { return NamesInternalIndex(c.get(), index); });
}

bool NamesIndex(const SearchNode* n);

}  // namespace

bool IsInternalIndex(std::string_view index) { return !index.empty() && index.front() == '_'; }

bool StoreEventSource::SearchesIndex(const ScanRequest& request, const std::string& index) const {
  if (!IsInternalIndex(index)) return true;
  if (NamesInternalIndex(request.predicate, index)) return true;
  // A default index set that lists it by name (cairn search --index _audit).
  return !NamesIndex(request.predicate) &&
         std::find(options_.indexes.begin(), options_.indexes.end(), index) !=
             options_.indexes.end();
}

Result<std::vector<StoreEventSource::Target>> StoreEventSource::Targets(const ScanRequest& request,
                                                                        StoreScanStats* stats) {
  std::vector<Target> out;
  std::vector<std::string> names = store_->ListIndexes();
  for (const auto& name : names) {
    if (!SearchesIndex(request, name)) continue;
    auto snap = store_->GetSnapshot(name);
    if (!snap.ok()) {
      if (snap.status().code() == StatusCode::kNotFound) continue;  // deleted meanwhile
      return snap.status();
    }
    RETURN_IF_ERROR(FailOrWarnOnBrokenInRange(**snap, request));
    for (const auto& seg : (*snap)->segments()) {
      ++stats->segments_total;
      if (MsToSeconds(seg->max_time()) < request.earliest ||
          MsToSeconds(seg->min_time()) >= request.latest) {
        continue;
      }
      Target t;
      t.index = name;
      t.seg = seg;
      t.first = 0;
      t.last = seg->event_count();
      bool inside = MsToSeconds(seg->min_time()) >= request.earliest &&
                    MsToSeconds(seg->max_time()) < request.latest;
      if (!inside) {
        // Exact ordinal bounds with the engine's own comparison of _time (ms /
        // 1000.0).
        ASSIGN_OR_RETURN(t.times, seg->Times());
        const auto& times = *t.times;
        auto lo = std::lower_bound(times.begin(), times.end(), request.earliest,
                                   [](int64_t ms, double x) { return MsToSeconds(ms) < x; });
        auto hi = std::lower_bound(lo, times.end(), request.latest,
                                   [](int64_t ms, double x) { return MsToSeconds(ms) < x; });
        t.first = static_cast<uint32_t>(lo - times.begin());
        t.last = static_cast<uint32_t>(hi - times.begin());
      }
      if (t.first >= t.last) continue;
      ++stats->segments_in_range;
      out.push_back(std::move(t));
    }
  }
  // Default index set: a search that names no index searches options_.indexes
  // (all when empty).
  (void)request;
  return out;
}

namespace {

// Does the predicate name an index at its top level (then the default index set
// does not apply)?
bool NamesIndex(const SearchNode* n) {
  if (!n) return false;
  if (n->kind == SearchNode::Kind::kCompare || n->kind == SearchNode::Kind::kIn)
    return n->field == "index";
  if (n->kind == SearchNode::Kind::kAnd) {
    for (const auto& c : n->children) {
      if (NamesIndex(c.get())) return true;
    }
  }
  if (n->kind == SearchNode::Kind::kOr) {
    for (const auto& c : n->children) {
      if (!NamesIndex(c.get())) return false;
    }
    return !n->children.empty();
  }
  return false;
}

// Whether a search with `pred` may select events of index `index` (conservative: only index=,
// index!= and index IN at the top of ANDs and ORs are looked at).
bool MaySelectIndex(const SearchNode* n, const std::string& index) {
  if (!n) return true;
  switch (n->kind) {
    case SearchNode::Kind::kCompare:
      if (n->field != "index" || (n->op != "=" && n->op != "!=")) return true;
      return GlobMatch(n->value, index, true) == (n->op == "=");
    case SearchNode::Kind::kIn:
      if (n->field != "index") return true;
      return std::any_of(n->values.begin(), n->values.end(),
                         [&](const std::string& v) { return GlobMatch(v, index, true); });
    case SearchNode::Kind::kAnd:
      return std::all_of(n->children.begin(), n->children.end(),
                         [&](const auto& c) { return MaySelectIndex(c.get(), index); });
    case SearchNode::Kind::kOr:
      return std::any_of(n->children.begin(), n->children.end(),
                         [&](const auto& c) { return MaySelectIndex(c.get(), index); });
    default: return true;
  }
}

void FilterDefaultIndexes(const ScanRequest& request, const StoreSourceOptions& opts,
                          std::vector<StoreEventSource::Target>* targets) {
  if (opts.indexes.empty() || NamesIndex(request.predicate)) return;
  std::erase_if(*targets, [&](const StoreEventSource::Target& t) {
    return std::find(opts.indexes.begin(), opts.indexes.end(), t.index) == opts.indexes.end();
  });
}

// The store side of the events a scan hands out for one segment: their
// metadata, the columns that answer fields without parsing JSON, and the raw
// JSON on demand.
class SegmentOrigin final : public EventOrigin {
 public:
  // The origin of `seg`'s events (of `index`; `host` for those that name none), with its
  // metadata columns read; then LoadColumns.
  static Result<std::shared_ptr<SegmentOrigin>> Open(std::string index, std::string host,
                                                     std::shared_ptr<const Segment> seg,
                                                     std::shared_ptr<DeferredErrors> errors) {
    auto o = std::shared_ptr<SegmentOrigin>(new SegmentOrigin());
    ASSIGN_OR_RETURN(o->sourcetypes_, seg->GetColumn("sourcetype"));
    ASSIGN_OR_RETURN(o->sources_, seg->GetColumn("source"));
    ASSIGN_OR_RETURN(o->hosts_, OptionalColumn(*seg, "host"));
    ASSIGN_OR_RETURN(o->indexed_fields_, OptionalColumn(*seg, store::kIndexedFieldsColumnName));
    o->index_ = std::move(index);
    o->host_ = std::move(host);
    o->seg_ = std::move(seg);
    o->errors_ = std::move(errors);
    return o;
  }

  // Reads the JSON columns among `fields` (the names the search may read) before any row uses
  // this origin; after that it is immutable, so rows on any thread may ask it.
  Status LoadColumns(const std::vector<std::string>& fields) {
    for (const auto& f : fields) {
      int c = store::ColumnIndex(f);
      if (c < 0 || static_cast<size_t>(c) >= store::kJsonColumnCount) continue;
      auto col = seg_->GetColumn(f);
      if (!col.ok()) {
        if (col.status().code() == StatusCode::kNotFound) continue;  // answered from the JSON
        return col.status();
      }
      columns_.emplace_back(f, *col);
    }
    return Status::Ok();
  }

  Answer Column(std::string_view field, uint32_t ordinal, std::string_view* value) const override {
    const store::Column* col = nullptr;
    for (const auto& [name, c] : columns_) {
      if (name == field) {
        col = c.get();
        break;
      }
    }
    if (!col) return Answer::kUnknown;
    if (col->codes[ordinal] == 0) return Answer::kAbsent;
    std::string_view v = col->Value(ordinal);
    // The column keeps a leaf's literal text: a JSON null ("null") or a number not written the
    // way search-time extraction formats it ("1.50") is left to the JSON.
    if (v == "null") return Answer::kUnknown;
    if (!v.empty() && ((v[0] >= '0' && v[0] <= '9') || v[0] == '-')) {
      auto n = ParseNumber(v);
      if (n && FormatNumber(*n) != v) return Answer::kUnknown;
    }
    *value = v;
    return Answer::kValue;
  }

  Result<std::string_view> LoadRaw(uint32_t ordinal,
                                   std::shared_ptr<const void>* owner) const override {
    auto raw = seg_->RawView(ordinal, owner);
    if (!raw.ok() && errors_) errors_->Record(raw.status());
    return raw;
  }

  uint64_t LoadUnit(uint32_t ordinal) const override {
    return ordinal < seg_->event_count() ? seg_->BlockOf(ordinal) : ordinal;
  }

  EventView View(uint32_t ordinal, double time) const override {
    EventView v;
    v.time = time;
    v.index = index_;
    v.sourcetype = sourcetypes_->Value(ordinal);
    v.source = sources_->Value(ordinal);
    v.host = hosts_ && hosts_->codes[ordinal] != 0 ? hosts_->Value(ordinal) : host_;
    if (indexed_fields_) v.fields = indexed_fields_->Value(ordinal);
    v.raw_loaded = false;  // read when a command asks for the JSON
    v.ordinal = ordinal;
    return v;
  }

 private:
  std::string index_, host_;
  std::shared_ptr<const Segment> seg_;
  std::shared_ptr<const store::Column> sourcetypes_, sources_;
  SegmentOrigin() = default;

  std::shared_ptr<const store::Column> hosts_;           // null: every event has the default host
  std::shared_ptr<const store::Column> indexed_fields_;  // null: no event has indexed fields
  std::shared_ptr<DeferredErrors> errors_;
  std::vector<std::pair<std::string, std::shared_ptr<const store::Column>>> columns_;
};

// Numbers the targets in (index, segment sequence) order, the order of events of equal time.
void AssignRanks(std::vector<StoreEventSource::Target>* targets) {
  std::vector<StoreEventSource::Target*> order;
  for (auto& t : *targets) order.push_back(&t);
  std::sort(order.begin(), order.end(), [](const auto* a, const auto* b) {
    if (a->index != b->index) return a->index < b->index;
    return a->seg->desc().seq < b->seg->desc().seq;
  });
  for (size_t i = 0; i < order.size(); ++i) order[i]->rank = static_cast<uint32_t>(i);
}

uint64_t Tiebreak(const StoreEventSource::Target& t, uint32_t ordinal) {
  return (uint64_t{t.rank} << 32) | ordinal;
}

// One segment's candidates in delivery order: time descending, ties in stored
// (ordinal) order.
struct Cursor {
  const StoreEventSource::Target* t = nullptr;
  size_t member = 0;
  std::vector<uint32_t> ords;  // ascending
  size_t end = 0;              // ords[0, end) not yet delivered
  std::vector<uint32_t> run;   // current equal-time run, ascending
  size_t run_pos = 0;
  bool Next(uint32_t* o) {
    if (run_pos == run.size()) {
      run.clear();
      run_pos = 0;
      if (end == 0) return false;
      int64_t tm = (*t->times)[ords[end - 1]];
      size_t b = end;
      while (b > 0 && (*t->times)[ords[b - 1]] == tm) --b;
      run.assign(ords.begin() + static_cast<long>(b), ords.begin() + static_cast<long>(end));
      end = b;
    }
    *o = run[run_pos++];
    return true;
  }
  int64_t PeekTime() const {
    if (run_pos < run.size()) return (*t->times)[run[run_pos]];
    return (*t->times)[ords[end - 1]];
  }
  bool Empty() const { return run_pos == run.size() && end == 0; }
};

}  // namespace

Status StoreEventSource::FailOrWarnOnBrokenInRange(const store::Snapshot& snap,
                                                   const ScanRequest& request) {
  if (snap.broken().empty()) return Status::Ok();
  if (!options_.indexes.empty() && !NamesIndex(request.predicate) &&
      std::find(options_.indexes.begin(), options_.indexes.end(), snap.index()) ==
          options_.indexes.end()) {
    return Status::Ok();
  }
  if (!MaySelectIndex(request.predicate, snap.index())) return Status::Ok();
  auto ms = [](double seconds, int64_t unbounded) {
    if (std::isinf(seconds)) return unbounded;
    return static_cast<int64_t>(std::floor(seconds * 1000));
  };
  const int64_t from_ms = ms(request.earliest, std::numeric_limits<int64_t>::min());
  const int64_t to_ms =
      request.latest == kInf ? std::numeric_limits<int64_t>::max() : ms(request.latest, 0) + 1;
  for (const auto& p : snap.BrokenInRange(from_ms, to_ms)) {
    // The reason without the path, which the message names once already.
    std::string why = p.status.message();
    if (size_t at = why.find(p.path); at != std::string::npos && at + p.path.size() < why.size()) {
      why.erase(at > 0 && why[at - 1] == ' ' ? at - 1 : at, p.path.size() + (at > 0 ? 1 : 0));
    }
    if (why.rfind(": ", 0) == 0) why.erase(0, 2);
    if (!options_.allow_partial) {
      return Corruption(
          "segment {} of index {} cannot be read ({}); the search would miss its events. "
          "`cairn index check` lists every damaged segment; --allow-partial searches without them",
          p.path, snap.index(), why);
    }
    std::string warning = fmt::format(
        "segment {} of index {} cannot be read ({}); its events are missing from the results",
        p.path, snap.index(), why);
    std::lock_guard<std::mutex> l(mu_);
    if (std::find(warnings_.begin(), warnings_.end(), warning) == warnings_.end()) {
      warnings_.push_back(std::move(warning));
    }
  }
  return Status::Ok();
}

std::vector<std::string> StoreEventSource::warnings() const {
  std::lock_guard<std::mutex> l(mu_);
  return warnings_;
}

Status StoreEventSource::Scan(const ScanRequest& request,
                              const std::function<bool(EventBatch&)>& sink) {
  StoreScanStats stats;
  stats.exact = StoreAnswersExactly(request.predicate);
  ASSIGN_OR_RETURN(std::vector<Target> targets, Targets(request, &stats));
  FilterDefaultIndexes(request, options_, &targets);
  AssignRanks(&targets);
  std::stable_sort(targets.begin(), targets.end(), [](const Target& a, const Target& b) {
    return a.seg->max_time() > b.seg->max_time();
  });
  progress_total_ += targets.size();
  size_t batch_size = 256;
  if (request.limit >= 0 && stats.exact)
    batch_size = std::clamp<size_t>(static_cast<size_t>(request.limit), 1, 256);
  EventBatch batch;
  batch.exact = stats.exact;
  bool stop = false;
  long long delivered = 0;
  size_t i = 0;
  while (i < targets.size() && !stop) {
    // A group of segments whose time ranges overlap is merged; groups follow
    // each other in time.
    size_t j = i + 1;
    int64_t group_min = targets[i].seg->min_time();
    while (j < targets.size() && targets[j].seg->max_time() >= group_min) {
      group_min = std::min(group_min, targets[j].seg->min_time());
      ++j;
    }
    // Stored order for ties across segments: index name, then segment sequence.
    std::vector<Target*> members;
    for (size_t k = i; k < j; ++k) members.push_back(&targets[k]);
    std::sort(members.begin(), members.end(), [](const Target* a, const Target* b) {
      if (a->index != b->index) return a->index < b->index;
      return a->seg->desc().seq < b->seg->desc().seq;
    });
    // A segment joins the merge only once it may hold the next event (its newest time reaches
    // the newest event not yet delivered): `head 5` over a day of overlapping segments reads the
    // newest few, not every segment's candidates, times and columns.
    std::vector<size_t> pending(members.size());
    for (size_t m = 0; m < members.size(); ++m) pending[m] = m;
    std::stable_sort(pending.begin(), pending.end(), [&](size_t a, size_t b) {
      return members[a]->seg->max_time() > members[b]->seg->max_time();
    });
    size_t next_pending = 0;
    std::vector<Cursor> cursors;
    std::vector<std::shared_ptr<const SegmentOrigin>> origins(members.size());
    auto activate = [&](size_t m) -> Status {
      Target& t = *members[m];
      ASSIGN_OR_RETURN(Bitmap cand, Candidates(t, request));
      if (cand.isEmpty()) return Status::Ok();
      if (!t.times) {
        ASSIGN_OR_RETURN(t.times, t.seg->Times());
      }
      Cursor c;
      c.t = &t;
      c.member = m;
      c.ords.resize(cand.cardinality());
      cand.toUint32Array(c.ords.data());
      c.end = c.ords.size();
      stats.candidates += c.ords.size();
      ASSIGN_OR_RETURN(auto origin,
                       SegmentOrigin::Open(t.index, options_.host, t.seg, request.errors));
      RETURN_IF_ERROR(origin->LoadColumns(request.fields));
      origins[m] = std::move(origin);
      cursors.push_back(std::move(c));
      return Status::Ok();
    };
    // A heap of the cursors with events left, the newest next event on top; equal times go to
    // the earlier member (the stored order).
    std::vector<size_t> heap;
    auto after = [&](size_t a, size_t b) {
      const int64_t ta = cursors[a].PeekTime(), tb = cursors[b].PeekTime();
      return ta != tb ? ta < tb : cursors[a].member > cursors[b].member;
    };
    while (!stop) {
      while (next_pending < pending.size() &&
             (heap.empty() || members[pending[next_pending]]->seg->max_time() >=
                                  cursors[heap.front()].PeekTime())) {
        const size_t before = cursors.size();
        RETURN_IF_ERROR(activate(pending[next_pending++]));
        if (cursors.size() > before) {
          heap.push_back(before);
          std::push_heap(heap.begin(), heap.end(), after);
        }
      }
      if (heap.empty()) break;
      std::pop_heap(heap.begin(), heap.end(), after);
      const size_t top = heap.back();
      heap.pop_back();
      Cursor* best = &cursors[top];
      uint32_t o = 0;
      best->Next(&o);
      const auto& origin = origins[best->member];
      EventView v = origin->View(o, MsToSeconds((*best->t->times)[o]));
      v.origin = origin;
      v.tiebreak = Tiebreak(*best->t, o);
      ++stats.events_read;
      batch.events.push_back(std::move(v));
      ++delivered;
      if (!best->Empty()) {
        heap.push_back(top);
        std::push_heap(heap.begin(), heap.end(), after);
      }
      if (batch.size() >= batch_size) {
        if (!sink(batch)) stop = true;
        batch.clear();
      }
    }
    progress_done_ += j - i;
    i = j;
  }
  if (!stop && !batch.empty()) sink(batch);
  (void)delivered;
  std::lock_guard<std::mutex> l(mu_);
  last_ = stats;
  return Status::Ok();
}

Status StoreEventSource::ScanParallel(const ScanRequest& request, int workers,
                                      const std::function<bool(int, EventBatch&)>& sink) {
  StoreScanStats stats;
  stats.exact = StoreAnswersExactly(request.predicate);
  ASSIGN_OR_RETURN(std::vector<Target> targets, Targets(request, &stats));
  FilterDefaultIndexes(request, options_, &targets);
  AssignRanks(&targets);
  // Larger segments first, so that the workers finish together.
  std::stable_sort(targets.begin(), targets.end(), [](const Target& a, const Target& b) {
    return a.last - a.first > b.last - b.first;
  });
  progress_total_ += targets.size();
  workers = std::max(1, std::min<int>(workers, static_cast<int>(targets.size())));
  std::atomic<size_t> next{0};
  std::atomic<bool> stop{false};
  std::atomic<uint64_t> candidates{0};
  std::mutex mu;
  Status first_error;
  auto fail = [&](const Status& st) {
    std::lock_guard<std::mutex> l(mu);
    if (first_error.ok()) first_error = st;
    stop = true;
  };
  auto work = [&](int w) {
    EventBatch batch;
    batch.exact = stats.exact;
    for (size_t i = next++; i < targets.size() && !stop; i = next++) {
      Target& t = targets[i];
      progress_done_++;
      auto cand = Candidates(t, request);
      if (!cand.ok()) return fail(cand.status());
      if (cand->isEmpty()) continue;
      candidates += cand->cardinality();
      auto times =
          t.times ? Result<std::shared_ptr<const std::vector<int64_t>>>(t.times) : t.seg->Times();
      if (!times.ok()) return fail(times.status());
      auto opened = SegmentOrigin::Open(t.index, options_.host, t.seg, request.errors);
      if (!opened.ok()) return fail(opened.status());
      std::shared_ptr<SegmentOrigin> origin = *std::move(opened);
      if (Status s = origin->LoadColumns(request.fields); !s.ok()) return fail(s);
      const std::vector<int64_t>& tm = **times;
      for (auto it = cand->begin(); it != cand->end() && !stop; ++it) {
        uint32_t o = *it;
        EventView v = origin->View(o, MsToSeconds(tm[o]));
        v.origin = origin;
        v.tiebreak = Tiebreak(t, o);
        batch.events.push_back(std::move(v));
        if (batch.size() == 1024) {
          if (!sink(w, batch)) stop = true;
          batch.clear();
        }
      }
      if (!batch.empty() && !stop) {
        if (!sink(w, batch)) stop = true;
        batch.clear();
      }
    }
  };
  std::vector<std::thread> threads;
  for (int w = 1; w < workers; ++w) threads.emplace_back(work, w);
  work(0);
  for (auto& th : threads) th.join();
  stats.candidates = candidates;
  stats.events_read = candidates;
  {
    std::lock_guard<std::mutex> l(mu_);
    last_ = stats;
  }
  return first_error;
}

namespace {

struct AggSpec {
  bool timechart = false;
  int64_t span_ms = 0;
  std::vector<std::string> by;  // column fields
  std::vector<std::string> dc;  // column fields (or hashed fields, store::kHashedFields) of dc()
};

bool AggregatableField(const std::string& f) {
  // errorCode is computed for events without one; host is the default host for events whose
  // column has no value: both are counted from the events.
  const int c = store::ColumnIndex(f);
  if (c < 0 || f == "errorCode") return false;
  return static_cast<size_t>(c) < store::kJsonColumnCount || f == "sourcetype" || f == "source";
}

// A dc field answered from value hashes rather than a column's codes.
bool HashedDc(const std::string& f) { return !AggregatableField(f) && store::IsHashedField(f); }

// The span of a timechart (or of the bin before a stats: an option "span" on the stats) in whole
// seconds and fixed length; false otherwise.
bool FixedSpanMs(const std::string& span, int64_t* ms) {
  int months = 0;
  auto s = ParseSpan(span, &months);
  if (!s.ok() || months != 0 || *s < 1 || *s != std::floor(*s)) return false;
  *ms = static_cast<int64_t>(*s) * 1000;
  return true;
}

bool ParseAggSpec(const Command& c, AggSpec* spec) {
  if (c.name == "stats") {
    // An option "span" stands for a `bin _time span=` before the stats (the engine's
    // BinnedStats): counted per bucket like timechart, one by-field or more.
    if (c.options.size() == 1 && c.options.count("span")) {
      spec->timechart = true;
      if (!FixedSpanMs(c.options.at("span"), &spec->span_ms)) return false;
    } else if (!c.options.empty()) {
      return false;
    }
  } else if (c.name == "timechart") {
    spec->timechart = true;
    static const std::set<std::string> kOk{"span",    "limit",    "useother",
                                           "usenull", "otherstr", "nullstr"};
    for (const auto& [k, v] : c.options) {
      if (!kOk.count(k)) return false;
    }
    auto it = c.options.find("span");
    if (it == c.options.end() || !FixedSpanMs(it->second, &spec->span_ms)) return false;
    if (c.by.size() > 1) return false;
  } else if (c.name == "top" || c.name == "rare") {
    // Counts of value combinations per group: the command ranks and limits them (its options
    // apply to the counted rows as they would to events).
    spec->by = c.by;
    spec->by.insert(spec->by.end(), c.fields.begin(), c.fields.end());
    if (c.fields.empty()) return false;
    return std::all_of(spec->by.begin(), spec->by.end(), AggregatableField);
  } else {
    return false;
  }
  if (c.aggs.empty()) return false;
  for (const auto& b : c.by) {
    if (!AggregatableField(b)) return false;
  }
  spec->by = c.by;
  for (const auto& a : c.aggs) {
    if (a.func == "count" && a.field.empty()) continue;
    if (a.func == "dc" && (AggregatableField(a.field) || store::IsHashedField(a.field))) {
      if (std::find(spec->dc.begin(), spec->dc.end(), a.field) == spec->dc.end())
        spec->dc.push_back(a.field);
      continue;
    }
    return false;
  }
  return true;
}

// How long a column aggregation runs on the calling thread before it brings in the others: a
// search the caches answer at once pays no thread start (nor, on a busy machine, the wait for a
// core to run it).
constexpr std::chrono::milliseconds kAloneFor{2};

int BitsFor(uint64_t n) {  // bits to hold values 0..n
  int b = 1;
  while ((uint64_t{1} << b) <= n && b < 63) ++b;
  return b;
}

struct GroupKey {
  int64_t bucket = 0;
  std::vector<std::string> vals;
  uint32_t absent = 0;  // bit i: by-field i absent
  bool operator<(const GroupKey& o) const {
    if (bucket != o.bucket) return bucket < o.bucket;
    if (absent != o.absent) return absent < o.absent;
    return vals < o.vals;
  }
};

int64_t FloorDiv(int64_t a, int64_t b) {
  int64_t q = a / b;
  if ((a % b != 0) && ((a < 0) != (b < 0))) --q;
  return q;
}

}  // namespace

Result<bool> StoreEventSource::PreAggregate(const ScanRequest& request, const Command& command,
                                            const std::function<Status(std::vector<Row>&)>& push) {
  if (!StoreAnswersExactly(request.predicate)) return false;
  AggSpec spec;
  if (!ParseAggSpec(command, &spec)) return false;
  if (spec.by.size() > 8) return false;
  StoreScanStats stats;
  stats.exact = true;
  stats.aggregated = true;
  ASSIGN_OR_RETURN(std::vector<Target> targets, Targets(request, &stats));
  FilterDefaultIndexes(request, options_, &targets);

  // The widths of every segment's keys first: a search this path cannot serve must fall back to
  // the engine before any row is pushed. (Dictionaries are cached; the counts come with them.)
  // The segments are read on `request.workers` threads.
  std::atomic<bool> too_wide{false};
  RETURN_IF_ERROR(
      ParallelFor(targets.size(), request.workers, kAloneFor, [&](size_t i, int) -> Status {
        const Target& t = targets[i];
        int bits = 0;
        for (const auto& f : spec.by) {
          ASSIGN_OR_RETURN(store::ColumnSummary sum, t.seg->ColumnCounts(f));
          bits += BitsFor(sum.dict->size());
        }
        if (spec.timechart) {
          int64_t base = FloorDiv(t.seg->min_time(), spec.span_ms);
          bits += BitsFor(static_cast<uint64_t>(FloorDiv(t.seg->max_time(), spec.span_ms) - base));
        }
        if (bits > 40) too_wide = true;  // unusually wide keys: let the engine do it
        for (const auto& f : spec.dc) {
          if (HashedDc(f)) {
            // A segment written before the field was hashed: the engine reads the events.
            ASSIGN_OR_RETURN(bool has, t.seg->HasValueHashes(f));
            if (!has) too_wide = true;
            continue;
          }
          if (bits == 0) continue;  // a dictionary's codes alone always fit
          ASSIGN_OR_RETURN(store::ColumnSummary sum, t.seg->ColumnCounts(f));
          if (bits + BitsFor(sum.dict->size()) > 63) too_wide = true;
        }
        return Status::Ok();
      }));
  if (too_wide) return false;

  // Counts are summed here across segments (groups are few); each segment's distinct values go to
  // the engine as they are found, one row per group and dc field holding that segment's values,
  // so memory follows one segment's dictionary, not the whole search's distinct values.
  // Each worker sums its segments' counts; the rows it pushes go to the engine one worker at a
  // time.
  const int workers = std::max(1, std::min<int>(request.workers, static_cast<int>(targets.size())));
  std::vector<std::map<GroupKey, uint64_t>> worker_counts(static_cast<size_t>(workers));
  std::vector<std::vector<Row>> worker_rows(static_cast<size_t>(workers));
  std::atomic<uint64_t> candidates{0};
  std::mutex push_mu;
  auto group_row = [&](const GroupKey& key) {
    Row r;
    for (size_t i = 0; i < spec.by.size(); ++i) {
      if (!(key.absent & (1u << i))) r.Set(spec.by[i], {key.vals[i]});
    }
    if (spec.timechart) {
      r.Set("_time", {FormatNumber(static_cast<double>(key.bucket * spec.span_ms) / 1000.0)});
    }
    return r;
  };
  // A dc field that is not also a by field feeds only dc: it travels as 8-byte tokens.
  std::vector<bool> dc_tokens;
  for (const auto& f : spec.dc) {
    dc_tokens.push_back(std::find(spec.by.begin(), spec.by.end(), f) == spec.by.end());
  }
  auto dc_value = [&](size_t d, const std::string& v) {
    return dc_tokens[d] ? internal::DcToken(v) : v;
  };
  auto segment = [&](size_t ti, int w) -> Status {
    Target& t = targets[ti];
    progress_done_++;
    std::map<GroupKey, uint64_t>& counts_by_group = worker_counts[static_cast<size_t>(w)];
    std::vector<Row>& rows = worker_rows[static_cast<size_t>(w)];
    auto dc_row = [&](const GroupKey& key, size_t d, Values values) {
      Row r = group_row(key);
      r.set_weight(0);
      r.Set(spec.dc[d], std::move(values));
      rows.push_back(std::move(r));
    };
    auto push_rows = [&]() -> Status {
      std::lock_guard<std::mutex> l(push_mu);
      return push(rows);
    };
    ASSIGN_OR_RETURN(Bitmap cand, Candidates(t, request));
    uint64_t n = cand.cardinality();
    candidates += n;
    if (n == 0) return Status::Ok();
    if (spec.by.empty() && spec.dc.empty() && !spec.timechart) {
      counts_by_group[GroupKey{}] += n;
      return Status::Ok();
    }
    rows.clear();
    // Every event of a segment, counted by one column or with distinct counts
    // of columns: the segment's stored value counts answer without reading a
    // code.
    const bool whole_segment = t.first == 0 && t.last == t.seg->event_count() && n == t.last;
    const bool one_by = spec.by.size() == 1 && spec.dc.empty();
    const bool only_dc = spec.by.empty() && !spec.dc.empty();
    if (whole_segment && !spec.timechart && (one_by || only_dc)) {
      if (one_by) {
        ASSIGN_OR_RETURN(store::ColumnSummary sum, t.seg->ColumnCounts(spec.by[0]));
        for (size_t k = 0; k < sum.counts->size(); ++k) {
          if ((*sum.counts)[k] == 0) continue;
          GroupKey g;
          g.absent = k == 0 ? 1 : 0;
          g.vals.push_back(k == 0 ? std::string() : (*sum.dict)[k - 1]);
          counts_by_group[g] += (*sum.counts)[k];
        }
      } else {
        counts_by_group[GroupKey{}] += n;
        for (size_t d = 0; d < spec.dc.size(); ++d) {
          // The hashes of the values: a hashed field's per event (0: absent; repeats are left to
          // dc's set), or a column's dictionary, which a whole segment holds every value of, read
          // straight from the frame (a near-unique column's dictionary is not kept as strings).
          std::shared_ptr<const std::vector<uint64_t>> hashes;
          if (HashedDc(spec.dc[d])) {
            ASSIGN_OR_RETURN(hashes, t.seg->ValueHashes(spec.dc[d]));
          } else {
            ASSIGN_OR_RETURN(hashes, t.seg->DictionaryHashes(spec.dc[d]));
          }
          if (hashes) {
            Values values;
            values.reserve(hashes->size());
            for (uint64_t h : *hashes) {
              if (h != 0) values.push_back(internal::DcTokenOfHash(h));
            }
            if (!values.empty()) dc_row(GroupKey{}, d, std::move(values));
            continue;
          }
          ASSIGN_OR_RETURN(store::ColumnSummary sum, t.seg->ColumnCounts(spec.dc[d]));
          Values values;
          for (size_t k = 1; k < sum.counts->size(); ++k) {
            if ((*sum.counts)[k] != 0) values.push_back(dc_value(d, (*sum.dict)[k - 1]));
          }
          if (!values.empty()) dc_row(GroupKey{}, d, std::move(values));
        }
      }
      return push_rows();
    }
    // Key layout: by-field codes, then the bucket (relative to the segment's
    // first bucket).
    std::vector<std::shared_ptr<const store::Column>> by_cols, dc_cols;
    std::vector<int> shifts;
    int bits = 0;
    for (const auto& f : spec.by) {
      ASSIGN_OR_RETURN(auto col, t.seg->GetColumn(f));
      shifts.push_back(bits);
      bits += BitsFor(col->dict.size());
      by_cols.push_back(std::move(col));
    }
    int64_t base_bucket = 0;
    int bucket_shift = bits;
    if (spec.timechart) {
      base_bucket = FloorDiv(t.seg->min_time(), spec.span_ms);
      int64_t top = FloorDiv(t.seg->max_time(), spec.span_ms) - base_bucket;
      bits += BitsFor(static_cast<uint64_t>(top));
    }
    std::vector<std::shared_ptr<const std::vector<uint64_t>>> dc_hashes;
    for (const auto& f : spec.dc) {
      if (HashedDc(f)) {
        ASSIGN_OR_RETURN(auto hashes, t.seg->ValueHashes(f));
        dc_hashes.push_back(std::move(hashes));
        dc_cols.emplace_back();
        continue;
      }
      ASSIGN_OR_RETURN(auto col, t.seg->GetColumn(f));
      dc_cols.push_back(std::move(col));
      dc_hashes.emplace_back();
    }
    // Every ordinal in range (the common `sourcetype=...` or no filter at all):
    // loop over the range instead of materialising it.
    const bool whole = n == uint64_t{t.last} - t.first;
    std::vector<uint32_t> ords;
    if (!whole) {
      ords.resize(n);
      cand.toUint32Array(ords.data());
    }
    auto each = [&](auto&& fn) {
      if (whole) {
        for (uint32_t o = t.first; o < t.last; ++o) fn(o);
      } else {
        for (uint32_t o : ords) fn(o);
      }
    };
    if (spec.timechart && !t.times) {
      ASSIGN_OR_RETURN(t.times, t.seg->Times());
    }
    static const std::vector<int64_t> kNoTimes;
    const auto& times = t.times ? *t.times : kNoTimes;
    // Times are sorted within a segment: the bucket changes rarely, so it is
    // recomputed only when a time leaves the current bucket's [start, end).
    int64_t b_start = 1, b_end = 0;
    uint64_t b_bits = 0;
    auto key_of = [&](uint32_t o) {
      uint64_t k = 0;
      for (size_t i = 0; i < by_cols.size(); ++i) k |= uint64_t{by_cols[i]->codes[o]} << shifts[i];
      if (spec.timechart) {
        int64_t ms = times[o];
        if (ms < b_start || ms >= b_end) {
          int64_t bucket = FloorDiv(ms, spec.span_ms);
          b_start = bucket * spec.span_ms;
          b_end = b_start + spec.span_ms;
          b_bits = static_cast<uint64_t>(bucket - base_bucket) << bucket_shift;
        }
        k |= b_bits;
      }
      return k;
    };
    std::unordered_map<uint64_t, uint64_t> counts;
    std::vector<uint64_t> dense;
    bool use_dense = bits <= 20;
    if (use_dense) {
      dense.assign(size_t{1} << bits, 0);
      if (by_cols.size() == 1 && !spec.timechart) {
        // The common `stats count by <column>`: the code is the key.
        const std::vector<uint32_t>& codes = by_cols[0]->codes;
        each([&](uint32_t o) { ++dense[codes[o]]; });
      } else if (by_cols.size() == 1) {
        // `timechart count by <column>`: the code, then the bucket.
        const std::vector<uint32_t>& codes = by_cols[0]->codes;
        each([&](uint32_t o) {
          const int64_t ms = times[o];
          if (ms < b_start || ms >= b_end) {
            const int64_t bucket = FloorDiv(ms, spec.span_ms);
            b_start = bucket * spec.span_ms;
            b_end = b_start + spec.span_ms;
            b_bits = static_cast<uint64_t>(bucket - base_bucket) << bucket_shift;
          }
          ++dense[codes[o] | b_bits];
        });
      } else {
        each([&](uint32_t o) { ++dense[key_of(o)]; });
      }
    } else {
      each([&](uint32_t o) { ++counts[key_of(o)]; });
    }
    auto decode = [&](uint64_t k) {
      GroupKey g;
      for (size_t i = 0; i < by_cols.size(); ++i) {
        uint64_t mask = (uint64_t{1} << BitsFor(by_cols[i]->dict.size())) - 1;
        uint32_t code = static_cast<uint32_t>((k >> shifts[i]) & mask);
        if (code == 0) {
          g.absent |= 1u << i;
          g.vals.emplace_back();
        } else {
          g.vals.push_back(by_cols[i]->dict[code - 1]);
        }
      }
      if (spec.timechart) g.bucket = base_bucket + static_cast<int64_t>(k >> bucket_shift);
      return g;
    };
    if (use_dense) {
      for (uint64_t k = 0; k < dense.size(); ++k) {
        if (dense[k]) counts_by_group[decode(k)] += dense[k];
      }
    } else {
      for (const auto& [k, c] : counts) counts_by_group[decode(k)] += c;
    }
    // Distinct (group key, code) pairs of each dc field, then one row per group with its values.
    const uint64_t key_mask = (uint64_t{1} << bits) - 1;
    for (size_t d = 0; d < spec.dc.size(); ++d) {
      if (dc_hashes[d]) {
        // Distinct (group key, value hash) pairs, then one row per group with its hashes.
        const std::vector<uint64_t>& hashes = *dc_hashes[d];
        std::vector<std::pair<uint64_t, uint64_t>> pairs;
        each([&](uint32_t o) {
          if (hashes[o] != 0) pairs.emplace_back(key_of(o), hashes[o]);
        });
        std::sort(pairs.begin(), pairs.end());
        pairs.erase(std::unique(pairs.begin(), pairs.end()), pairs.end());
        for (size_t i = 0; i < pairs.size();) {
          const uint64_t key = pairs[i].first;
          Values values;
          for (; i < pairs.size() && pairs[i].first == key; ++i) {
            values.push_back(internal::DcTokenOfHash(pairs[i].second));
          }
          dc_row(decode(key), d, std::move(values));
        }
        continue;
      }
      const int dbits = BitsFor(dc_cols[d]->dict.size());
      const std::vector<uint32_t>& codes = dc_cols[d]->codes;
      std::vector<uint64_t> pairs;
      if (bits + dbits <= 24) {
        // Few enough (key, code) pairs for a flag array: no hashing per event.
        std::vector<uint8_t> seen(size_t{1} << (bits + dbits), 0);
        each([&](uint32_t o) { seen[key_of(o) | (uint64_t{codes[o]} << bits)] = 1; });
        for (uint64_t kk = 0; kk < seen.size(); ++kk) {
          if (seen[kk] && (kk >> bits) != 0) pairs.push_back(kk);
        }
      } else {
        std::unordered_set<uint64_t> seen;
        each([&](uint32_t o) {
          uint32_t code = codes[o];
          if (code != 0) seen.insert(key_of(o) | (uint64_t{code} << bits));
        });
        pairs.assign(seen.begin(), seen.end());
      }
      // Grouped by key (the low bits).
      std::sort(pairs.begin(), pairs.end(), [&](uint64_t x, uint64_t y) {
        return (x & key_mask) != (y & key_mask) ? (x & key_mask) < (y & key_mask) : x < y;
      });
      for (size_t i = 0; i < pairs.size();) {
        const uint64_t key = pairs[i] & key_mask;
        Values values;
        for (; i < pairs.size() && (pairs[i] & key_mask) == key; ++i) {
          values.push_back(
              dc_value(d, dc_cols[d]->dict[static_cast<uint32_t>(pairs[i] >> bits) - 1]));
        }
        dc_row(decode(key), d, std::move(values));
      }
    }
    return push_rows();
  };
  progress_total_ += targets.size();
  RETURN_IF_ERROR(ParallelFor(targets.size(), workers, kAloneFor, segment));
  stats.candidates = candidates;
  std::map<GroupKey, uint64_t> counts_by_group = std::move(worker_counts[0]);
  for (size_t w = 1; w < worker_counts.size(); ++w) {
    for (const auto& [key, count] : worker_counts[w]) counts_by_group[key] += count;
  }
  std::vector<Row> rows;
  for (const auto& [key, count] : counts_by_group) {
    Row row = group_row(key);
    row.set_weight(static_cast<long long>(count));
    rows.push_back(std::move(row));
  }
  RETURN_IF_ERROR(push(rows));
  std::lock_guard<std::mutex> l(mu_);
  last_ = stats;
  return true;
}

std::string StoreEventSource::Explain(const ScanRequest& request, const Command* next) {
  StoreScanStats stats;
  std::string out;
  auto targets = Targets(request, &stats);
  if (!targets.ok()) return "store: error: " + targets.status().ToString() + "\n";
  FilterDefaultIndexes(request, options_, &*targets);
  std::set<std::string> idx;
  for (const auto& t : *targets) idx.insert(t.index);
  std::string names;
  for (const auto& n : idx) names += (names.empty() ? "" : ",") + n;
  out += "store: indexes [" + names + "]";
  if (!options_.indexes.empty() && !NamesIndex(request.predicate)) {
    std::string d;
    for (const auto& n : options_.indexes) d += (d.empty() ? "" : ",") + n;
    out += " (default set " + d + ")";
  }
  out += "; segments " + std::to_string(targets->size()) + " of " +
         std::to_string(stats.segments_total) + " in time range\n";
  bool exact = StoreAnswersExactly(request.predicate);
  out += "store: push-down " +
         (request.predicate ? Describe(*request.predicate) : std::string("all")) +
         (exact ? " (exact: no re-check needed)" : " (~: candidates re-checked on events)") + "\n";
  AggSpec spec;
  if (next && exact && request.limit < 0 && ParseAggSpec(*next, &spec)) {
    std::string hashed;
    for (const auto& f : spec.dc) {
      if (HashedDc(f)) hashed += ", value hashes of " + f;
    }
    out += "store: aggregate " + next->name + " from columns (time column + dictionary codes" +
           hashed + "), partial per segment, merged\n";
  } else if (request.limit >= 0) {
    out +=
        "store: fetch raw events newest first, stop after " + std::to_string(request.limit) + "\n";
  } else {
    out +=
        "store: fetch raw events newest first, fields extracted at search "
        "time\n";
  }
  return out;
}

}  // namespace cairn::query
