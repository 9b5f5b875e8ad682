#pragma once
// Running Sigma rules over stored events (a retro-hunt) and over batches as they are committed
// (streaming), with the same evaluation (RuleSet::MatchEvent) so both raise the same alerts.
//
// Correlation rules (event_count, value_count, temporal, temporal_ordered) run over the hits of
// the rules they name, grouped by their group-by fields, in time order: within one group a window
// opens at a hit and holds the hits no later than timespan after it; when the window meets the
// condition an alert is raised at the hit that completed it, and the next window starts after
// that hit (so one burst raises one alert, not one per hit). The alert's key is the group and the
// window's first hit, so a hunt run again over the same events raises the same alerts.
// Streaming detection runs them with a StreamingCorrelator (see below).
//
// Thread safety: RetroHunt reads a snapshot of the store and may run beside writers.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <unordered_set>
#include <vector>

#include "detect/alert.h"
#include "detect/rule_set.h"
#include "ingest/sink.h"
#include "store/store.h"

namespace cairn::detect {

class StoredNeighbours;  // neighbours.h

struct HuntOptions {
  std::string index = "aws-cloudtrail";
  int64_t earliest_ms = INT64_MIN;  // inclusive
  int64_t latest_ms = INT64_MAX;    // exclusive
  int threads = 1;
  bool alerts = true;  // false: only the hits (HuntResult::alerts left empty)
  // Only the hits of rules a correlation uses (what a StreamingCorrelator keeps): a warm-up's
  // memory then follows those hits, not every match of every rule in the range.
  bool correlated_only = false;
  // When set, the alerts are handed to it as they are found, a few segments at a time, and
  // HuntResult keeps neither alerts nor hits. The segments are then read in the order of their
  // first events, and a correlation's window is judged once no segment left to read can add to
  // it (a StreamingCorrelator held back at the next segment's first event), and a suppressed
  // window raised is forgotten once no segment left can reach it, so a hunt's memory follows a
  // few segments' hits and the windows still open, not the range's alerts or hits. The alerts are
  // those the hunt returns without it (another order). A non-OK return stops the hunt and is
  // returned.
  std::function<Status(std::vector<Alert>)> on_alerts;
  // Each segment, once read, drops what reading its events loaded (Segment::DropEventCaches):
  // for a hunt over many segments (cairn detect), whose memory would otherwise grow with them;
  // not for the short hunts beside a running ingest, whose segments its deduplication reads.
  bool release_segments = false;
};

struct HuntResult {
  uint64_t events_scanned = 0;
  // Every rule match (also of rules that do not generate), but a suppressed rule that no
  // correlation uses keeps about one hit per window and value (one per segment that has it): all
  // its alert is made of. So the hits held grow with the alerts, not the events matched.
  std::vector<EventHit> hits;
  std::vector<Alert> alerts;  // rule alerts then correlation alerts, by rule then time
};

// Evaluates `rules` over the stored events of options.index in [earliest, latest).
Result<HuntResult> RetroHunt(store::Store* store, const RuleSet& rules, const HuntOptions& options);
// The same over a snapshot of options.index taken earlier.
Result<HuntResult> RetroHunt(const store::Snapshot& snap, const RuleSet& rules,
                             const HuntOptions& options);

// The alerts of `rules`' correlations over `hits` (any order).
std::vector<Alert> Correlate(const RuleSet& rules, const std::vector<EventHit>& hits);

// Correlations over streamed batches, with the windows of Correlate. The member rules' hits are
// kept per correlation and group; a watermark follows the newest event time committed, and the
// windows ending more than the lateness behind it are final: they are evaluated then, in time
// order, exactly as a hunt does. The lateness is how far behind the newest event a batch may
// still deliver one: kLatenessMs for collectors (CloudTrail delivers most files within 15
// minutes, and collectors commit regions and files out of time order); `cairn ingest`, which
// reads a day's files account by account, passes a day. So a correlation alert comes the
// lateness (of event time) after the hit that completed it, and while every hit arrives within
// the lateness of the newest event, the alerts are those a hunt over the same events raises. A
// batch still being committed holds the windows after its oldest event open (Begin). A hit whose
// windows are already final is not counted (stats().late_hits; a hunt over the range sees it).
// Flush() makes every window final (the end of an ingest, a collector stopping). Memory: the
// member hits of the last timespan + lateness, in at most `max_groups` groups (the stalest are
// let go beyond it). Thread-safe.
class StreamingCorrelator {
 public:
  static constexpr int64_t kLatenessMs = 15 * 60 * 1000;
  struct Stats {
    uint64_t late_hits = 0;
    uint64_t evicted_groups = 0;
    uint64_t groups = 0;
  };
  // `rules` is not owned and must outlive the correlator. `lateness_ms`: how far behind the
  // newest event a hit may still come (kLatenessMs for collectors; more when the source delivers
  // in a coarser order).
  explicit StreamingCorrelator(const RuleSet* rules, int64_t lateness_ms = kLatenessMs,
                               size_t max_groups = 100'000);
  // A batch whose oldest event is `oldest_ms` is being committed: no window is made final past
  // that time until Add (or Abandon) with the returned token. Batches commit concurrently.
  uint64_t Begin(int64_t oldest_ms);
  void Abandon(uint64_t token);
  // Adds the hits of stored events (of any rules: those of no correlation are ignored) and
  // moves the watermark to `newest_ms` (the newest event time committed with them) or the
  // newest hit; `token` ends the batch's Begin (0: none). Returns the alerts of the windows that
  // became final.
  std::vector<Alert> Add(const std::vector<EventHit>& hits, int64_t newest_ms = INT64_MIN,
                         uint64_t token = 0);
  // Adds the hits of events stored before this process streamed (StoredNeighbours): kept like
  // Add's, without moving the watermark, so nothing becomes final; a hit whose windows are final
  // already is left out without counting as late.
  void AddStored(const std::vector<EventHit>& hits);
  // Makes every window final and returns their alerts; the correlator starts afresh.
  std::vector<Alert> Flush();
  Stats stats() const;
  // How far back in event time a hit may still count in a window not yet final: the longest
  // correlation timespan plus the lateness (what WarmCorrelator reads).
  int64_t open_span_ms() const;

 private:
  struct Group {
    std::vector<EventHit> hits;
    std::unordered_set<std::string> seen;  // HitId of each hit kept
    int64_t newest_ms = INT64_MIN;
    int64_t pending_ms = INT64_MAX;  // the oldest hit whose windows are not judged yet
  };
  static std::string HitId(const EventHit& h);  // event and rule
  // Keeps `h` in the groups of the correlations it is a member of (under mu_); `late` counts it
  // in stats_.late_hits when its windows are final.
  void Keep(const EventHit& h, bool late);
  // Raises the windows ending before `settled` (under mu_).
  void Settle(int64_t settled, std::vector<Alert>* out);

  const RuleSet* rules_;
  int64_t lateness_ms_;
  size_t max_groups_;
  std::vector<std::set<int>> members_;  // per correlation: its rules
  mutable std::mutex mu_;
  std::map<std::pair<size_t, std::string>, Group> groups_;  // (correlation, group values)
  int64_t watermark_ms_ = INT64_MIN;
  int64_t settled_ms_ = INT64_MIN;         // windows ending before it have been raised
  std::map<uint64_t, int64_t> in_flight_;  // Begin's token → the batch's oldest event
  uint64_t last_token_ = 0;
  Stats stats_;
};

// The rules' alerts for one batch: evaluated before the batch is committed (the commit may move
// the events away) and stored only after the commit succeeded, so an alert never names an event
// the store does not hold. An event the store skipped as a duplicate keeps its alerts only when
// the stored copy is the same text: a batch delivered again (perhaps because its alerts failed to
// be written) raises them again, and the alerts' stable ids store them once; another event under
// a stored event's id raises none. Every streaming path (ingest, collect, backfill, HEC) commits
// this way.
class BatchAlerts {
 public:
  // No rules, or the alerts index itself: no alerts. With `correlator` (not owned), the hits of
  // the rules correlations use go to it after the commit, and its alerts are stored too.
  BatchAlerts(const RuleSet* rules, std::string_view index,
              const std::vector<cloudtrail::Event>& events,
              StreamingCorrelator* correlator = nullptr);
  ~BatchAlerts();
  BatchAlerts(const BatchAlerts&) = delete;
  BatchAlerts& operator=(const BatchAlerts&) = delete;
  // The rules' matches: alerts, and hits for correlations.
  size_t matches() const { return alerts_.size() + correlated_.size(); }
  // Whether Store has anything to do (alerts, or a correlator to move on).
  bool any() const { return matches() > 0 || correlator_ != nullptr; }
  // After the commit of the batch to the index succeeded, with the batch positions the store
  // skipped as duplicates. Returns how many alerts were new. Once.
  Result<uint64_t> Store(store::Store* store, const std::vector<uint32_t>& skipped);

 private:
  struct Alerted {
    std::string event_id;
    int64_t time_ms = 0;
    uint64_t text_hash = 0;
  };
  std::string index_;
  const RuleSet* rules_ = nullptr;
  StreamingCorrelator* correlator_ = nullptr;  // until the hits are handed over
  uint64_t token_ = 0;
  std::vector<Alert> alerts_;
  std::vector<std::pair<uint32_t, EventHit>> correlated_;
  int64_t newest_ms_ = INT64_MIN;    // the batch's newest event
  std::vector<uint32_t> positions_;  // of each alert's event in the batch
  // By batch position, ascending, each position once.
  std::vector<std::pair<uint32_t, Alerted>> alerted_;
};

// Counters of a DetectingSink.
struct StreamStats {
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> matches{0};
  std::atomic<uint64_t> alerts_stored{0};
  std::atomic<uint64_t> alert_errors{0};
};

// A Sink that runs the rules over every batch committed through it (BatchAlerts). A failed alert
// write fails the commit (the caller retries the batch). Batches for the alerts index pass
// through.
class DetectingSink final : public ingest::Sink {
 public:
  // `inner`, `rules` and `store` are not owned and must outlive the sink.
  // `correlation_lateness_ms`: how far behind the newest event the batches may deliver one
  // (see StreamingCorrelator).
  // The stored events near each batch are read back for the correlations (StoredNeighbours).
  DetectingSink(ingest::Sink* inner, const RuleSet* rules, store::Store* store,
                int64_t correlation_lateness_ms = StreamingCorrelator::kLatenessMs);
  ~DetectingSink() override;
  Result<ingest::SinkStats> Commit(std::string_view index,
                                   std::vector<cloudtrail::Event>* events) override;
  size_t useful_concurrent_commits() const override { return inner_->useful_concurrent_commits(); }
  bool gathers_batches() const override { return inner_->gathers_batches(); }
  const StreamStats& stats() const { return stats_; }
  // How many stored events were read back for the correlations (StoredNeighbours).
  uint64_t neighbour_events_read() const;
  // Makes the correlations' open windows final and stores their alerts (at the end of an
  // ingest). Returns how many were new.
  Result<uint64_t> Flush();

 private:
  ingest::Sink* inner_;
  const RuleSet* rules_;
  store::Store* store_;
  StreamingCorrelator correlator_;
  std::unique_ptr<StoredNeighbours> neighbours_;  // what earlier runs stored near each batch
  StreamStats stats_;
};

// Before streaming starts (a collector or the HTTP Event Collector starting): hands `correlator`
// the hits of the stored events whose windows may still be open — those of the last
// open_span_ms() before each searched index's newest event — so that a burst split by a restart
// (a stop, or kill -9) is correlated whole. Windows the previous process raised raise again with
// the same ids, which the store keeps once. Returns the alerts of the windows this makes final
// (the caller stores them); nothing to do without correlations.
Result<std::vector<Alert>> WarmCorrelator(store::Store* store, const RuleSet& rules,
                                          StreamingCorrelator* correlator, int threads = 1);

}  // namespace cairn::detect
