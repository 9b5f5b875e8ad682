#pragma once
// Loaded Sigma rules compiled for evaluation over CloudTrail events, indexed so that an event
// meets only the rules that could match it.
//
// Fields are read with the search engine's JSON extraction (query::JsonPaths): one On-Demand walk
// per event collects every field any rule reads, by the names Sigma writes
// (`userIdentity.sessionContext.sessionIssuer.type`), also through arrays (`resources.ARN` reads
// `resources{}.ARN`). A rule field that may name an object (`requestParameters`, anything under
// requestParameters/responseElements/additionalEventData, the userIdentity objects) and is not a
// leaf of the event is answered, when the event's text has the key at all, from the flattened
// event: every leaf under it.
//
// Index: a rule whose condition requires eventName to be one of a set of exact values is listed
// under each of them; else one that requires eventSource values is listed under those; the rest
// are checked for every event. The requirement is derived from the condition tree (an `and`
// takes any child's requirement, an `or` or `1 of` the union of all its children's, a `not`
// none), so the index only narrows: the full condition is still evaluated.
//
// Before an event is parsed, its text is checked: its eventName and eventSource members, found
// in the text, select the indexed rules, and every candidate's TextFilter (text_filter.h) must
// pass; an event no rule can match is not parsed at all.
//
// Suppressed rules (suppress.h): Evaluate raises one alert per window and value of the fields
// within a batch, and none for what RememberStored was told is stored.
//
// Thread safety: immutable after construction but for the memory of stored suppressed alerts,
// which locks; Match/Evaluate may run on many threads at once (per-thread scratch space).

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "cloudtrail/event.h"
#include "detect/alert.h"
#include "detect/sigma.h"
#include "detect/text_filter.h"
#include "query/json_paths.h"

struct hs_database;  // Hyperscan's compiled patterns (hs/hs.h)

namespace cairn::detect {

// The identity of an event a rule matched, as alerts and correlations need it.
struct EventHit {
  int rule = -1;
  int64_t time_ms = 0;
  std::string key;  // eventID, else "h:" + the hash of the raw text (as the reader names it)
  std::string event_id, event_name, event_source, user_arn, source_ip, region, account;
  // Per correlation that uses this rule: the group-by values joined, and the value_count field.
  std::vector<std::string> group;
  std::vector<std::string> counted;
  // A suppressed rule's hit: its alert's key (SuppressKey: the window and the fields' values),
  // and the values of the suppress fields.
  std::string suppress;
  std::vector<std::string> suppress_values;
  // Copies the event's time and identity (name, source, ARN, address, region, account) into an
  // alert raised on it.
  void FillIdentity(Alert* a) const {
    a->time_ms = time_ms;
    a->event_name = event_name;
    a->event_source = event_source;
    a->user_arn = user_arn;
    a->source_ip = source_ip;
    a->region = region;
    a->account = account;
  }
};

// A suppressed alert's identity within a batch or a hunt: the rule's index, U+001F, the alert
// key (EventHit::suppress).
std::string RaisedKey(int rule, std::string_view suppress_key);

class RuleSet {
 public:
  // `text_filters`: check each rule's TextFilter before parsing an event (false only to compare
  // against, in tests and benchmarks).
  explicit RuleSet(LoadedRules loaded, bool text_filters = true);
  ~RuleSet();
  RuleSet(const RuleSet&) = delete;
  RuleSet& operator=(const RuleSet&) = delete;

  const LoadedRules& loaded() const { return loaded_; }
  const std::vector<Rule>& rules() const { return loaded_.rules; }
  // Whether any rule or correlation is loaded.
  bool empty() const { return loaded_.rules.empty(); }

  // The rules `json` matches (indexes into rules(), ascending). `json` is one event's text.
  std::vector<int> Match(std::string_view json) const;
  // Like Match, with the matched events' identities. `time_ms` and `fallback_key` (the event id
  // the reader gave, "" to compute it) come from the caller's event record.
  // With `raised` (keys of suppressed alerts already raised: RaisedKey), a suppressed rule's hit
  // whose alert is among them and that no correlation uses is left out.
  void MatchEvent(std::string_view json, int64_t time_ms, std::string_view fallback_key,
                  std::vector<EventHit>* hits,
                  const std::unordered_set<std::string>* raised = nullptr) const;
  // Alerts of the rules that generate their own (see LoadedRules::generates) for `events`; with
  // `positions`, also the index in `events` of each alert's event (parallel to the result); with
  // `correlated`, the hits of the rules correlations use, with their events' indexes.
  std::vector<Alert> Evaluate(
      const std::vector<cloudtrail::Event>& events, std::vector<uint32_t>* positions = nullptr,
      std::vector<std::pair<uint32_t, EventHit>>* correlated = nullptr) const;
  // Whether a correlation uses rule `i`.
  bool Correlated(int rule) const { return !rule_correlations_[rule].empty(); }
  // The alert for one hit of a rule that generates. A suppressed rule's alert stands for its
  // window (suppress.h): keyed by the window and the fields' values, its _time the window's
  // start, it names the suppress fields' values and the window, and no event (so every path
  // that raises it writes the same record).
  Alert ToAlert(const EventHit& hit) const;
  // After `alerts` (some of Evaluate's) were stored: the suppressed ones among them are not
  // raised again by this rule set's Evaluate (see RecentAlerts).
  void RememberStored(const std::vector<Alert>& alerts) const;

  // The rules an event may match, from its text alone (its eventName and eventSource members
  // and the rules' text filters); false when the text cannot tell (a backslash, a key twice, no
  // filters). Exposed for tests.
  bool TextCandidates(std::string_view json, std::vector<int>* out) const;
  // Rule `i`'s text filter as text ("always" when none is used).
  std::string TextFilterOf(int rule) const {
    return text_filters_.empty() ? "always" : text_filters_[rule].ToString();
  }

  // How many rules sit in each part of the index (for `cairn detect --explain` and tests).
  struct IndexStats {
    size_t by_event_name = 0;
    size_t by_event_source = 0;
    size_t always = 0;
  };
  IndexStats index_stats() const;
  // Where rule `i` is indexed: "eventName in [...]", "eventSource in [...]" or "always".
  std::string IndexOf(int rule) const;

  struct Scratch;

 private:
  void Compile();
  bool EvalCondition(const Rule& r, const Condition& c, Scratch& s) const;
  bool EvalSelection(const Rule& r, int sel, Scratch& s) const;
  bool EvalField(const FieldTest& t, Scratch& s) const;
  const query::Values& FieldValues(int slot, Scratch& s) const;
  const std::vector<std::string>& Lowered(int slot, Scratch& s) const;
  const std::vector<std::string>& AllValues(Scratch& s) const;
  void Candidates(Scratch& s, std::vector<int>* out) const;

  LoadedRules loaded_;
  std::unique_ptr<query::JsonPaths> paths_;
  // Per rule: the same slots, walking only the fields that rule's evaluation and hits read.
  std::vector<std::unique_ptr<query::JsonPaths>> rule_paths_;
  // Per slot of a rule field: the slots of the same path through arrays, whether it may name an
  // object (answered from the flattened event), and its last key quoted (the text test first).
  std::vector<std::vector<int>> variants_;
  std::vector<uint8_t> container_;
  std::vector<std::string> needle_;
  int slot_event_name_ = -1, slot_event_source_ = -1, slot_event_id_ = -1, slot_arn_ = -1,
      slot_ip_ = -1, slot_region_ = -1, slot_account_ = -1;
  // Per correlation: slots of its group-by fields and of its value_count field (-1: none).
  std::vector<std::vector<int>> corr_group_slots_;
  std::vector<int> corr_field_slot_;
  // Per rule: slots of its suppress fields (empty when not suppressed).
  std::vector<std::vector<int>> suppress_slots_;
  std::unique_ptr<RecentAlerts> recent_;
  // Per rule: the correlations that use it.
  std::vector<std::vector<int>> rule_correlations_;
  // Per rule: its alerts' constant parts, encoded once (EncodeAlertParts).
  std::vector<std::shared_ptr<const EncodedAlertParts>> encoded_;
  std::unordered_map<std::string, std::vector<int>> by_name_, by_source_;
  std::vector<int> always_;
  std::vector<TextFilter> text_filters_;  // per rule; empty when not used
  // The literals of the always-checked rules' text filters, found in one pass over an event's
  // text (Hyperscan) instead of one search each; null when there are none.
  void CompileLiteralScan();
  hs_database* literal_scan_ = nullptr;
  uint64_t literal_scan_generation_ = 0;  // tells threads' scratch space which scan it fits
  std::vector<std::string> index_text_;
};

// Loads the rules under `dir` for streaming detection or a hunt; each refusal is logged as a
// warning naming the file and the feature (the other rules load). Fails when `dir` cannot be
// read or no rule at all loads.
Result<std::unique_ptr<RuleSet>> LoadRuleSet(const std::string& dir);

}  // namespace cairn::detect
