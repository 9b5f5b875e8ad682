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
// Correlations run in retro-hunts only (see docs/detection.md).
//
// Thread safety: RetroHunt reads a snapshot of the store and may run beside writers.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "detect/alert.h"
#include "detect/rule_set.h"
#include "ingest/sink.h"
#include "store/store.h"

namespace cairn::detect {

struct HuntOptions {
  std::string index = "aws-cloudtrail";
  int64_t earliest_ms = INT64_MIN;  // inclusive
  int64_t latest_ms = INT64_MAX;    // exclusive
  int threads = 1;
};

struct HuntResult {
  uint64_t events_scanned = 0;
  std::vector<EventHit> hits;  // every rule match (also of rules that do not generate)
  std::vector<Alert> alerts;   // rule alerts then correlation alerts, by rule then time
};

// Evaluates `rules` over the stored events of options.index in [earliest, latest).
Result<HuntResult> RetroHunt(store::Store* store, const RuleSet& rules, const HuntOptions& options);

// The alerts of `rules`' correlations over `hits` (any order).
std::vector<Alert> Correlate(const RuleSet& rules, const std::vector<EventHit>& hits);

// Counters of a DetectingSink.
struct StreamStats {
  std::atomic<uint64_t> events{0};
  std::atomic<uint64_t> matches{0};
  std::atomic<uint64_t> alerts_stored{0};
  std::atomic<uint64_t> alert_errors{0};
};

// A Sink that runs the rules over every batch committed through it: the matches are computed
// before the inner commit (which may move the events away) and stored in the alerts index only
// after the inner commit succeeded, so an alert never names an event the store does not hold. An
// event the store skips as a duplicate keeps its alerts only when the stored copy has the same
// text. A failed alert write fails the commit (the caller retries the batch; its events are then
// duplicates of themselves, so their alerts are raised again, and the alerts' ids are stable).
// Batches for the alerts index pass through.
class DetectingSink final : public ingest::Sink {
 public:
  // `inner`, `rules` and `store` are not owned and must outlive the sink.
  DetectingSink(ingest::Sink* inner, const RuleSet* rules, store::Store* store)
      : inner_(inner), rules_(rules), store_(store) {}
  Result<ingest::SinkStats> Commit(std::string_view index,
                                   std::vector<cloudtrail::Event>* events) override;
  size_t useful_concurrent_commits() const override { return inner_->useful_concurrent_commits(); }
  bool gathers_batches() const override { return inner_->gathers_batches(); }
  const StreamStats& stats() const { return stats_; }

 private:
  // Whether index holds an event with `event_id`, in the UTC day of `time_ms`, whose text hashes
  // (store::Hash64) to `text_hash`.
  Result<bool> StoreHoldsText(std::string_view index, std::string_view event_id, int64_t time_ms,
                              uint64_t text_hash) const;

  ingest::Sink* inner_;
  const RuleSet* rules_;
  store::Store* store_;
  StreamStats stats_;
};

}  // namespace cairn::detect
