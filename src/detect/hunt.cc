#include "detect/hunt.h"

#include <fmt/format.h>

#include <algorithm>
#include <limits>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <unordered_set>

#include "common/json_util.h"
#include "common/thread_pool.h"
#include "detect/neighbours.h"
#include "store/encoding.h"
#include "store/segment_format.h"

namespace cairn::detect {

namespace {

bool Satisfies(Correlation::Cmp cmp, int64_t n, int64_t threshold) {
  switch (cmp) {
    case Correlation::Cmp::kGt: return n > threshold;
    case Correlation::Cmp::kGte: return n >= threshold;
    case Correlation::Cmp::kEq: return n == threshold;  // fires when the window reaches it
    case Correlation::Cmp::kLt: return n < threshold;
    case Correlation::Cmp::kLte: return n <= threshold;
  }
  return false;
}

std::string_view TypeName(Correlation::Type t) {
  switch (t) {
    case Correlation::Type::kEventCount: return "event_count";
    case Correlation::Type::kValueCount: return "value_count";
    case Correlation::Type::kTemporal: return "temporal";
    case Correlation::Type::kTemporalOrdered: return "temporal_ordered";
  }
  return "?";
}

// Whether the window's hits contain the rules in `order` as a subsequence in time.
bool InOrder(const std::vector<const EventHit*>& window, const std::vector<int>& order) {
  size_t next = 0;
  for (const EventHit* h : window) {
    if (next < order.size() && h->rule == order[next]) ++next;
  }
  return next == order.size();
}

// Puts a group's hits in time order and, for the count types, counts each event once whichever
// of the rules matched it.
void Normalize(const Correlation& c, std::vector<const EventHit*>* list) {
  std::sort(list->begin(), list->end(), [](const EventHit* a, const EventHit* b) {
    if (a->time_ms != b->time_ms) return a->time_ms < b->time_ms;
    if (a->key != b->key) return a->key < b->key;
    return a->rule < b->rule;
  });
  if (c.type == Correlation::Type::kEventCount || c.type == Correlation::Type::kValueCount) {
    list->erase(std::unique(list->begin(), list->end(),
                            [](const EventHit* a, const EventHit* b) { return a->key == b->key; }),
                list->end());
  }
}

struct Fire {
  size_t last;  // the index of the hit that completed the window
  Alert alert;
};

// The windows of correlation `ci` over one group's normalized hits that end at hits [from, end):
// a window opens at a hit and holds the hits no later than timespan after it; when it meets the
// condition it fires at the hit that completed it, and the next window starts after that hit.
std::vector<Fire> Windows(const RuleSet& rules, size_t ci, const std::string& group,
                          const std::vector<const EventHit*>& hits, size_t from) {
  std::vector<Fire> out;
  const Correlation& c = rules.loaded().correlations[ci];
  size_t start = 0;
  for (size_t i = from; i < hits.size(); ++i) {
    while (hits[i]->time_ms - hits[start]->time_ms > c.timespan_ms) ++start;
    std::vector<const EventHit*> window(hits.begin() + start, hits.begin() + i + 1);
    int64_t n = 0;
    bool fire = false;
    switch (c.type) {
      case Correlation::Type::kEventCount:
        n = static_cast<int64_t>(window.size());
        fire = Satisfies(c.cmp, n, c.threshold);
        break;
      case Correlation::Type::kValueCount: {
        std::set<std::string> values;
        for (const EventHit* h : window) {
          if (!h->counted[ci].empty()) values.insert(h->counted[ci]);
        }
        n = static_cast<int64_t>(values.size());
        fire = Satisfies(c.cmp, n, c.threshold);
        break;
      }
      case Correlation::Type::kTemporal: {
        std::set<int> seen;
        for (const EventHit* h : window) seen.insert(h->rule);
        n = static_cast<int64_t>(seen.size());
        fire = Satisfies(c.cmp, n, c.threshold);
        break;
      }
      case Correlation::Type::kTemporalOrdered:
        n = static_cast<int64_t>(window.size());
        fire = InOrder(window, c.rules);
        break;
    }
    if (!fire) continue;
    const EventHit& last = *hits[i];
    Alert a;
    a.kind = AlertKind::kSigma;
    a.rule_id = c.id;
    a.title = c.title;
    a.level = c.level;
    a.tags = c.tags;
    last.FillIdentity(&a);
    a.key = "correlation:" + group + "|" + window.front()->key;
    a.event_id = last.event_id;
    a.result_count = static_cast<uint64_t>(n);
    a.description = c.description;
    std::string type_json;
    AppendJsonString(&type_json, TypeName(c.type));
    a.extra_json.emplace_back("correlation_type", type_json);
    std::string group_json = "{";
    size_t pos = 0;
    for (size_t g = 0; g < c.group_by.size(); ++g) {
      size_t end = group.find('\x1f', pos);
      if (g > 0) group_json.push_back(',');
      AppendJsonString(&group_json, c.group_by[g]);
      group_json.push_back(':');
      AppendJsonString(&group_json, std::string_view(group).substr(pos, end - pos));
      pos = end + 1;
    }
    group_json.push_back('}');
    a.extra_json.emplace_back("group_by", group_json);
    std::string ids = "[";
    for (size_t k = 0; k < window.size() && k < 100; ++k) {
      if (k > 0) ids.push_back(',');
      AppendJsonString(&ids, window[k]->key);
    }
    ids.push_back(']');
    a.extra_json.emplace_back("matched_events", ids);
    a.extra_json.emplace_back("window_start_ms", std::to_string(window.front()->time_ms));
    out.push_back({i, std::move(a)});
    start = i + 1;  // the next window starts after this one's last hit
  }
  return out;
}

}  // namespace

std::vector<Alert> Correlate(const RuleSet& rules, const std::vector<EventHit>& hits) {
  std::vector<Alert> out;
  const auto& corrs = rules.loaded().correlations;
  for (size_t ci = 0; ci < corrs.size(); ++ci) {
    const Correlation& c = corrs[ci];
    std::set<int> members(c.rules.begin(), c.rules.end());
    std::map<std::string, std::vector<const EventHit*>> groups;
    for (const EventHit& h : hits) {
      if (!members.count(h.rule) || h.group.size() <= ci) continue;
      groups[h.group[ci]].push_back(&h);
    }
    for (auto& [group, list] : groups) {
      Normalize(c, &list);
      for (Fire& f : Windows(rules, ci, group, list, 0)) out.push_back(std::move(f.alert));
    }
  }
  return out;
}

StreamingCorrelator::StreamingCorrelator(const RuleSet* rules, int64_t lateness_ms,
                                         size_t max_groups)
    : rules_(rules), lateness_ms_(lateness_ms), max_groups_(max_groups) {
  for (const Correlation& c : rules_->loaded().correlations) {
    members_.emplace_back(c.rules.begin(), c.rules.end());
  }
}

int64_t StreamingCorrelator::open_span_ms() const {
  int64_t longest = 0;
  for (const Correlation& c : rules_->loaded().correlations) {
    longest = std::max(longest, c.timespan_ms);
  }
  return longest + lateness_ms_;
}

Result<std::vector<Alert>> WarmCorrelator(store::Store* store, const RuleSet& rules,
                                          StreamingCorrelator* correlator, int threads) {
  if (rules.loaded().correlations.empty()) return std::vector<Alert>{};
  std::vector<EventHit> hits;
  int64_t newest = INT64_MIN;
  for (const std::string& index : EventIndexes(*store)) {
    ASSIGN_OR_RETURN(store::IndexInfo info, store->Info(index));
    if (info.events == 0) continue;
    HuntOptions o;
    o.index = index;
    o.earliest_ms = info.max_time - correlator->open_span_ms();
    o.latest_ms = info.max_time + 1;
    o.threads = threads;
    o.alerts = false;  // the correlator raises what the hits complete
    o.correlated_only = true;
    ASSIGN_OR_RETURN(HuntResult found, RetroHunt(store, rules, o));
    for (EventHit& h : found.hits) hits.push_back(std::move(h));
    newest = std::max(newest, info.max_time);
  }
  if (newest == INT64_MIN) return std::vector<Alert>{};
  return correlator->Add(hits, newest);
}

uint64_t StreamingCorrelator::Begin(int64_t oldest_ms) {
  std::lock_guard<std::mutex> lock(mu_);
  const uint64_t token = ++last_token_;
  in_flight_.emplace(token, oldest_ms);
  return token;
}

void StreamingCorrelator::Abandon(uint64_t token) {
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(token);
}

std::vector<Alert> StreamingCorrelator::Add(const std::vector<EventHit>& hits, int64_t newest_ms,
                                            uint64_t token) {
  if (members_.empty()) return {};
  std::lock_guard<std::mutex> lock(mu_);
  in_flight_.erase(token);
  for (const EventHit& h : hits) {
    newest_ms = std::max(newest_ms, h.time_ms);
    Keep(h, /*late=*/true);
  }
  watermark_ms_ = std::max(watermark_ms_, newest_ms);
  std::vector<Alert> out;
  // Not past the oldest event of a batch still being committed (batches commit concurrently).
  int64_t target = watermark_ms_ == INT64_MIN ? INT64_MIN : watermark_ms_ - lateness_ms_;
  for (const auto& [t, oldest] : in_flight_) target = std::min(target, oldest);
  if (target > settled_ms_) Settle(target, &out);
  // Beyond the limit, the groups whose newest hit is oldest are let go.
  while (groups_.size() > max_groups_) {
    auto stalest = groups_.begin();
    for (auto it = groups_.begin(); it != groups_.end(); ++it) {
      if (it->second.newest_ms < stalest->second.newest_ms) stalest = it;
    }
    groups_.erase(stalest);
    ++stats_.evicted_groups;
  }
  stats_.groups = groups_.size();
  return out;
}

void StreamingCorrelator::Keep(const EventHit& h, bool late) {
  for (size_t ci = 0; ci < members_.size(); ++ci) {
    if (!members_[ci].count(h.rule) || h.group.size() <= ci) continue;
    if (h.time_ms < settled_ms_) {
      if (late) ++stats_.late_hits;  // its windows are final: a hunt over the range sees it
      continue;
    }
    Group& g = groups_[{ci, h.group[ci]}];
    if (g.seen.insert(HitId(h)).second) g.hits.push_back(h);
    g.newest_ms = std::max(g.newest_ms, h.time_ms);
    g.pending_ms = std::min(g.pending_ms, h.time_ms);
  }
}

void StreamingCorrelator::AddStored(const std::vector<EventHit>& hits) {
  if (members_.empty()) return;
  std::lock_guard<std::mutex> lock(mu_);
  for (const EventHit& h : hits) Keep(h, /*late=*/false);
  stats_.groups = groups_.size();
}

std::vector<Alert> StreamingCorrelator::Flush() {
  std::lock_guard<std::mutex> lock(mu_);
  std::vector<Alert> out;
  Settle(INT64_MAX, &out);
  groups_.clear();
  stats_.groups = 0;
  return out;
}

std::string StreamingCorrelator::HitId(const EventHit& h) {
  return h.key + '\x1f' + std::to_string(h.rule);
}

void StreamingCorrelator::Settle(int64_t settled, std::vector<Alert>* out) {
  for (auto it = groups_.begin(); it != groups_.end();) {
    const size_t ci = it->first.first;
    const Correlation& c = rules_->loaded().correlations[ci];
    Group& g = it->second;
    if (g.pending_ms >= settled) {
      // No window of this group ends before `settled`: nothing to judge. A group whose every
      // hit is older than any future window can reach is let go.
      const bool behind = settled != INT64_MAX && g.newest_ms < settled - c.timespan_ms;
      it = behind ? groups_.erase(it) : std::next(it);
      continue;
    }
    std::vector<const EventHit*> view;
    for (const EventHit& h : g.hits) view.push_back(&h);
    Normalize(c, &view);
    // The windows ending in [settled_ms_, settled) are final now: the earlier ones were raised
    // before, the later ones may still gain hits.
    size_t from = 0;
    while (from < view.size() && view[from]->time_ms < settled_ms_) ++from;
    std::optional<std::pair<int64_t, std::string>> resume_after;  // the last final fire
    for (Fire& f : Windows(*rules_, ci, it->first.second, view, from)) {
      if (view[f.last]->time_ms >= settled) break;
      resume_after = {view[f.last]->time_ms, view[f.last]->key};
      out->push_back(std::move(f.alert));
    }
    // What a window ending at or after `settled` can hold: the hits after the last final fire
    // (the next window starts after it) and no older than timespan before `settled`.
    const int64_t keep_from = settled == INT64_MAX ? INT64_MAX : settled - c.timespan_ms;
    std::erase_if(g.hits, [&](const EventHit& h) {
      return h.time_ms < keep_from ||
             (resume_after &&
              std::make_pair(h.time_ms, std::string_view(h.key)) <=
                  std::make_pair(resume_after->first, std::string_view(resume_after->second)));
    });
    g.seen.clear();
    g.pending_ms = INT64_MAX;
    for (const EventHit& h : g.hits) {
      g.seen.insert(HitId(h));
      if (h.time_ms >= settled) g.pending_ms = std::min(g.pending_ms, h.time_ms);
    }
    it = g.hits.empty() ? groups_.erase(it) : std::next(it);
  }
  settled_ms_ = settled;
}

StreamingCorrelator::Stats StreamingCorrelator::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

Result<HuntResult> RetroHunt(store::Store* store, const RuleSet& rules,
                             const HuntOptions& options) {
  ASSIGN_OR_RETURN(auto snap, store->GetSnapshot(options.index));
  return RetroHunt(*snap, rules, options);
}

namespace {

// Appends the hits of `rules` on the events of `seg` in the options' range to `hits` (only the
// rules `correlated` marks, with correlated_only) and counts the events read in `scanned`.
Status HuntSegment(const store::Segment& seg, const RuleSet& rules, const HuntOptions& options,
                   const std::vector<bool>& correlated, std::vector<EventHit>* hits,
                   uint64_t* scanned) {
  ASSIGN_OR_RETURN(auto range, seg.OrdinalRange(options.earliest_ms, options.latest_ms));
  std::vector<cloudtrail::Event> events;
  // A suppressed rule that no correlation uses keeps one hit per window and value (its alert's):
  // the hits held grow with the windows, not with the events matched.
  std::unordered_set<std::string> raised;
  constexpr uint32_t kWindow = 4096;
  for (uint32_t first = range.first; first < range.second; first += kWindow) {
    uint32_t n = std::min(kWindow, range.second - first);
    events.clear();
    RETURN_IF_ERROR(seg.ReadEvents(first, n, &events));
    const size_t before = hits->size();
    for (const cloudtrail::Event& e : events) {
      const size_t from = hits->size();
      rules.MatchEvent(e.raw.view(), e.time_ms, e.event_id, hits, &raised);
      for (size_t k = from; k < hits->size(); ++k) {
        const EventHit& h = (*hits)[k];
        if (!h.suppress.empty() && !rules.Correlated(h.rule)) {
          raised.insert(RaisedKey(h.rule, h.suppress));
        }
      }
    }
    if (options.correlated_only) {
      hits->erase(std::remove_if(
                      hits->begin() + static_cast<std::ptrdiff_t>(before), hits->end(),
                      [&](const EventHit& h) { return !correlated[static_cast<size_t>(h.rule)]; }),
                  hits->end());
    }
    *scanned += events.size();
  }
  if (options.release_segments) seg.DropEventCaches();
  return Status::Ok();
}

}  // namespace

Result<HuntResult> RetroHunt(const store::Snapshot& snap, const RuleSet& rules,
                             const HuntOptions& options) {
  HuntResult result;
  auto segments = snap.SegmentsInRange(options.earliest_ms, options.latest_ms);
  std::vector<bool> correlated(rules.rules().size(), !options.correlated_only);
  for (const Correlation& c : rules.loaded().correlations) {
    for (int r : c.rules) correlated[static_cast<size_t>(r)] = true;
  }
  const bool streaming = options.on_alerts != nullptr;
  const int threads = std::max(1, options.threads);
  // Segments are read a group at a time when the alerts stream; all at once otherwise.
  const size_t group = streaming ? static_cast<size_t>(threads) * 4 : segments.size();
  // A suppressed rule raises once per window and value, whichever of its hits comes first; by the
  // window's end, so that a streaming hunt lets go of the windows no segment left can reach.
  std::map<int64_t, std::unordered_set<std::string>> raised;
  // Streaming: the correlations' windows are judged as the segments are read, in the order of
  // their first events. Once the segments holding anything before time T are read, no later
  // segment adds a hit before T (its first event is not earlier), so the windows ending before T
  // are final: a correlator without lateness, held back (Begin) at the first event of the
  // segments still to read, keeps only the member hits windows still open can use.
  std::optional<StreamingCorrelator> correlator;
  uint64_t unread = 0;  // the correlator's token for the segments not yet read
  if (streaming) {
    std::stable_sort(segments.begin(), segments.end(),
                     [](const auto& a, const auto& b) { return a->min_time() < b->min_time(); });
  }
  if (streaming && options.alerts && !rules.loaded().correlations.empty()) {
    correlator.emplace(&rules, /*lateness_ms=*/0, std::numeric_limits<size_t>::max());
    if (!segments.empty()) unread = correlator->Begin(segments.front()->min_time());
  }
  auto by_rule_and_time = [](const EventHit& a, const EventHit& b) {
    if (a.rule != b.rule) return a.rule < b.rule;
    if (a.time_ms != b.time_ms) return a.time_ms < b.time_ms;
    return a.key < b.key;
  };
  auto raise = [&](const std::vector<EventHit>& hits, std::vector<Alert>* out) {
    for (const EventHit& h : hits) {
      if (!rules.loaded().generates[h.rule]) continue;
      if (!h.suppress.empty()) {
        const int64_t end =
            SuppressWindow(h.time_ms, rules.rules()[h.rule].suppress.period_ms).second;
        if (!raised[end].insert(RaisedKey(h.rule, h.suppress)).second) continue;
      }
      out->push_back(rules.ToAlert(h));
    }
  };
  for (size_t g0 = 0; g0 < segments.size(); g0 += group) {
    const size_t n_group = std::min(group, segments.size() - g0);
    std::vector<std::vector<EventHit>> per_segment(n_group);
    std::vector<uint64_t> scanned(n_group, 0);
    // Work items: one segment each (a segment is at most a few hundred thousand events).
    RETURN_IF_ERROR(
        ParallelFor(n_group, threads, std::chrono::microseconds(0), [&](size_t i, int) -> Status {
          return HuntSegment(*segments[g0 + i], rules, options, correlated, &per_segment[i],
                             &scanned[i]);
        }));
    std::vector<EventHit> hits;
    for (size_t i = 0; i < n_group; ++i) {
      result.events_scanned += scanned[i];
      for (EventHit& h : per_segment[i]) hits.push_back(std::move(h));
      std::vector<EventHit>().swap(per_segment[i]);
    }
    if (!streaming) {
      for (EventHit& h : hits) result.hits.push_back(std::move(h));
      continue;
    }
    std::sort(hits.begin(), hits.end(), by_rule_and_time);
    std::vector<Alert> alerts;
    if (options.alerts) raise(hits, &alerts);
    if (correlator) {
      const size_t next = g0 + n_group;
      const uint64_t rest =
          next < segments.size() ? correlator->Begin(segments[next]->min_time()) : 0;
      for (Alert& a : correlator->Add(hits, INT64_MIN, unread)) alerts.push_back(std::move(a));
      unread = rest;
    }
    if (g0 + n_group < segments.size()) {
      // The segments left begin no earlier: a window ending by then takes no more hits.
      const int64_t unread_from = segments[g0 + n_group]->min_time();
      raised.erase(raised.begin(), raised.upper_bound(unread_from));
    }
    if (!alerts.empty()) RETURN_IF_ERROR(options.on_alerts(std::move(alerts)));
  }
  if (streaming) {
    if (correlator) {
      std::vector<Alert> corr = correlator->Flush();
      if (!corr.empty()) RETURN_IF_ERROR(options.on_alerts(std::move(corr)));
    }
    return result;
  }
  std::sort(result.hits.begin(), result.hits.end(), by_rule_and_time);
  if (!options.alerts) return result;
  raise(result.hits, &result.alerts);
  std::vector<Alert> corr = Correlate(rules, result.hits);
  for (Alert& a : corr) result.alerts.push_back(std::move(a));
  return result;
}

namespace {

// Whether `snap` holds an event with `event_id`, in the UTC day of `time_ms` (the partition where
// the store finds duplicates), whose text hashes (store::Hash64) to `text_hash`.
Result<bool> HoldsText(const store::Snapshot& snap, std::string_view event_id, int64_t time_ms,
                       uint64_t text_hash) {
  if (event_id.empty()) return false;
  const int64_t day = store::PartitionOf(time_ms) * store::kMillisPerDay;
  bool same = false;
  for (const auto& seg : snap.SegmentsInRange(day, day + store::kMillisPerDay)) {
    ASSIGN_OR_RETURN(store::Bitmap ids, seg->FieldPostings("eventID", event_id));
    RETURN_IF_ERROR(seg->ForEach(ids, false, [&](uint32_t, std::string_view raw) {
      same = store::Hash64(raw) == text_hash;
      return !same;
    }));
    if (same) break;
  }
  return same;
}

}  // namespace

BatchAlerts::BatchAlerts(const RuleSet* rules, std::string_view index,
                         const std::vector<cloudtrail::Event>& events,
                         StreamingCorrelator* correlator)
    : index_(index) {
  if (rules == nullptr || rules->empty() || index == kAlertsIndex) return;
  rules_ = rules;
  int64_t oldest_ms = INT64_MAX;
  for (const cloudtrail::Event& e : events) {
    newest_ms_ = std::max(newest_ms_, e.time_ms);
    oldest_ms = std::min(oldest_ms, e.time_ms);
  }
  if (correlator != nullptr) {
    correlator_ = correlator;
    token_ = correlator_->Begin(oldest_ms);
  }
  alerts_ = rules->Evaluate(events, &positions_, correlator_ != nullptr ? &correlated_ : nullptr);
  // The alerted events' positions: those of positions_ and correlated_ (each ascending), merged.
  std::vector<uint32_t> ps;
  ps.reserve(positions_.size() + correlated_.size());
  ps = positions_;
  for (const auto& [p, hit] : correlated_) ps.push_back(p);
  std::inplace_merge(ps.begin(), ps.begin() + static_cast<std::ptrdiff_t>(positions_.size()),
                     ps.end());
  ps.erase(std::unique(ps.begin(), ps.end()), ps.end());
  alerted_.reserve(ps.size());
  for (uint32_t p : ps) {
    const cloudtrail::Event& e = events[p];
    alerted_.emplace_back(p, Alerted{e.event_id, e.time_ms, store::Hash64(e.raw.view())});
  }
}

BatchAlerts::~BatchAlerts() {
  if (correlator_ != nullptr) correlator_->Abandon(token_);  // the batch was not stored
}

Result<uint64_t> BatchAlerts::Store(store::Store* store, const std::vector<uint32_t>& skipped) {
  if (alerts_.empty() && correlated_.empty() && correlator_ == nullptr) return uint64_t{0};
  // An event the store skipped as a duplicate keeps its alerts only when the copy the store holds
  // is the same text (a batch delivered again, perhaps after its alerts failed to be written);
  // another copy with other content under the same id raises its own alerts, or none.
  std::set<uint32_t> dropped;
  std::shared_ptr<const store::Snapshot> snap;  // taken once, if any alerted event was skipped
  for (uint32_t p : skipped) {
    auto it = std::lower_bound(alerted_.begin(), alerted_.end(), p,
                               [](const auto& a, uint32_t q) { return a.first < q; });
    if (it == alerted_.end() || it->first != p) continue;
    if (snap == nullptr) {
      ASSIGN_OR_RETURN(snap, store->GetSnapshot(index_));
    }
    ASSIGN_OR_RETURN(
        bool same, HoldsText(*snap, it->second.event_id, it->second.time_ms, it->second.text_hash));
    if (!same) dropped.insert(p);
  }
  std::vector<Alert> kept;
  kept.reserve(alerts_.size());
  for (size_t i = 0; i < alerts_.size(); ++i) {
    if (dropped.count(positions_[i]) == 0) kept.push_back(std::move(alerts_[i]));
  }
  if (correlator_ != nullptr) {
    // Every batch moves the correlations' watermark, with hits or without.
    std::vector<EventHit> hits;
    for (auto& [p, hit] : correlated_) {
      if (dropped.count(p) == 0) hits.push_back(std::move(hit));
    }
    for (Alert& a : correlator_->Add(hits, newest_ms_, token_)) kept.push_back(std::move(a));
    correlator_ = nullptr;  // handed over
  }
  alerts_.clear();
  correlated_.clear();
  ASSIGN_OR_RETURN(uint64_t stored, StoreAlerts(store, kept));
  if (rules_ != nullptr) rules_->RememberStored(kept);
  return stored;
}

DetectingSink::DetectingSink(ingest::Sink* inner, const RuleSet* rules, store::Store* store,
                             int64_t correlation_lateness_ms)
    : inner_(inner),
      rules_(rules),
      store_(store),
      correlator_(rules, correlation_lateness_ms),
      neighbours_(std::make_unique<StoredNeighbours>(store, rules, &correlator_)) {}

DetectingSink::~DetectingSink() = default;

uint64_t DetectingSink::neighbour_events_read() const { return neighbours_->events_read(); }

Result<uint64_t> DetectingSink::Flush() {
  ASSIGN_OR_RETURN(uint64_t stored, StoreAlerts(store_, correlator_.Flush()));
  stats_.alerts_stored += stored;
  return stored;
}

Result<ingest::SinkStats> DetectingSink::Commit(std::string_view index,
                                                std::vector<cloudtrail::Event>* events) {
  if (index == kAlertsIndex || rules_->empty()) return inner_->Commit(index, events);
  if (!events->empty()) {
    auto [oldest, newest] = std::minmax_element(
        events->begin(), events->end(), [](const cloudtrail::Event& a, const cloudtrail::Event& b) {
          return a.time_ms < b.time_ms;
        });
    RETURN_IF_ERROR(neighbours_->Before(index, oldest->time_ms, newest->time_ms));
  }
  BatchAlerts alerts(rules_, index, *events, &correlator_);
  stats_.events += events->size();
  stats_.matches += alerts.matches();
  ASSIGN_OR_RETURN(ingest::SinkStats stats, inner_->Commit(index, events));
  auto stored = alerts.Store(store_, stats.skipped);
  if (!stored.ok()) {
    stats_.alert_errors++;
    return stored.status();
  }
  stats_.alerts_stored += *stored;
  return stats;
}

}  // namespace cairn::detect
