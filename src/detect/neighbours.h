#pragma once
// Correlations across runs that stream stored history (`cairn ingest`, `cairn backfill`).
//
// A collector starts where the previous one stopped, so WarmCorrelator reads back the last
// timespan before the newest stored event. An ingest or a backfill may write any stretch of the
// past instead — the day after yesterday's ingest, or a day before it — so a burst whose hits
// are split between what this run streams and what earlier runs stored lies anywhere. Before
// each batch is committed, StoredNeighbours hunts the events stored before this run (a snapshot
// of the index taken before the run's first commit to it) within the longest correlation
// timespan of the batch's events, once per stretch of time, and hands their hits to the
// correlator (StreamingCorrelator::AddStored), so those windows are judged whole. Windows an
// earlier run raised raise again with the same ids, which the store keeps once.
//
// Cost: a hunt of what earlier runs stored around the batches, each stretch once: a timespan at
// each end of a run over new days, all of the range when a run streams events stored before (a
// run again over the same files). The snapshot keeps the segments it holds on disk until the run
// ends, even when merges replace them.
//
// Thread safety: Before may be called from several committing threads at once.

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>

#include "common/status.h"
#include "detect/hunt.h"
#include "detect/rule_set.h"
#include "store/store.h"

namespace cairn::detect {

class StoredNeighbours {
 public:
  // None of them is owned; each must outlive this.
  StoredNeighbours(store::Store* store, const RuleSet* rules, StreamingCorrelator* correlator);
  // Before a batch of `index` with events from `oldest_ms` to `newest_ms` (inclusive) is
  // committed. Nothing to do without correlations.
  Status Before(std::string_view index, int64_t oldest_ms, int64_t newest_ms);
  // How many stored events the hunts read (for logs and tests).
  uint64_t events_read() const;

 private:
  store::Store* store_;
  const RuleSet* rules_;
  StreamingCorrelator* correlator_;
  int64_t span_ms_ = 0;  // the longest correlation timespan; 0: no correlations
  mutable std::mutex mu_;
  struct Index {
    std::shared_ptr<const store::Snapshot> before;  // null: the index did not exist
    std::map<int64_t, int64_t> hunted;              // stretches read: disjoint [start, end)
  };
  std::map<std::string, Index, std::less<>> indexes_;
  uint64_t events_read_ = 0;
};

}  // namespace cairn::detect
