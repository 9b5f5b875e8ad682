#pragma once
// An EventSource backed by the embedded store (src/store): the search engine's
// way to disk.
//
// Push-down: the leading search's predicate is turned, per segment, into a
// roaring bitmap of candidate ordinals — field=value and IN through (field,
// value) postings, wildcards through dictionary matches, bare terms and phrases
// through term postings of their breaker-free pieces, AND/OR/NOT through bitmap
// algebra — intersected with the time range's ordinal range. Anything the store
// cannot answer exactly (CIM aliases and calculated fields, numeric
// comparisons, _time inside OR) widens to "every event in range"; the engine
// re-checks every delivered event, so push-down only narrows. NOT is pushed
// only over exactly-answered children. See docs/query-language.md "How searches
// run on the store".
//
// Aggregation: when the whole predicate is answered exactly and the command
// after the leading search is `stats` or `timechart span=...` over count and dc
// of column fields (eventName, eventSource, userIdentity.arn, ...),
// PreAggregate computes per-segment partial counts from the time column and
// dictionary codes without reading raw events, merges them across segments and
// hands the engine weighted rows.
//
// Order: events are delivered newest first across all indexes and segments
// (ties: the order they were stored in), as Splunk returns them.
//
// Thread safety: Scan, PreAggregate and Explain may run concurrently; each
// takes its own snapshots of the store. The store must outlive the source.

#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "query/engine.h"
#include "store/store.h"

namespace cairn::query {

// Internal indexes (names starting with '_', such as cairn serve's `_audit`) are searched only
// when named, as Splunk's are: by an index= or index IN value that itself starts with '_'
// (index=_audit, index=_*), or by the default index set listing the name. index=*, other
// wildcards and an empty default set (every index) leave them out.
bool IsInternalIndex(std::string_view index);

struct StoreSourceOptions {
  // Indexes searched when the search does not say (index=...): empty means
  // every index but the internal ones. A search's own index= terms then select among all
  // indexes.
  std::vector<std::string> indexes;
  // The `host` field of events that name none (every collected event: Splunk's AWS add-on uses
  // the collecting machine's name); the HTTP Event Collector's events keep theirs in the store.
  std::string host = "cairn";
  // A segment the search's time range includes that cannot be read (listed but unopenable, or
  // set aside by Store::SetAsideCorrupt) fails the search naming it (kCorruption); with
  // allow_partial it is passed over and named in warnings() instead.
  bool allow_partial = false;
};

// Counters of the most recent Scan/PreAggregate (for tests and --explain-style
// diagnostics).
struct StoreScanStats {
  uint64_t segments_in_range = 0;
  uint64_t segments_total = 0;
  uint64_t candidates = 0;   // ordinals the push-down kept
  uint64_t events_read = 0;  // raw events decompressed and delivered
  bool exact = false;        // the predicate was answered exactly by the store
  bool aggregated = false;   // PreAggregate answered from columns
};

class StoreEventSource final : public EventSource {
 public:
  StoreEventSource(store::Store* store, StoreSourceOptions options);
  ~StoreEventSource() override;

  Status Scan(const ScanRequest& request, const std::function<bool(EventBatch&)>& sink) override;
  Status ScanParallel(const ScanRequest& request, int workers,
                      const std::function<bool(int, EventBatch&)>& sink) override;
  Result<bool> PreAggregate(const ScanRequest& request, const Command& command,
                            const std::function<Status(std::vector<Row>&)>& push) override;
  std::string Explain(const ScanRequest& request, const Command* next) override;

  StoreScanStats last_stats() const;
  // How far the searches on this source have come: segments taken up, of the segments their
  // scans and aggregations chose (summed over every scan since the source was made). A search's
  // doneProgress is the ratio (approximate: segments differ in size).
  std::pair<uint64_t, uint64_t> Progress() const {
    return {progress_done_.load(), progress_total_.load()};
  }
  // What allow_partial passed over (each unreadable segment once, in the order met): the search's
  // results lack those segments' events.
  std::vector<std::string> warnings() const;

  struct Target;

 private:
  std::atomic<uint64_t> progress_done_{0}, progress_total_{0};
  Result<std::vector<Target>> Targets(const ScanRequest& request, StoreScanStats* stats);
  // False for an internal index the search does not name (see IsInternalIndex).
  bool SearchesIndex(const ScanRequest& request, const std::string& index) const;
  // Fails, or under allow_partial records a warning, for each segment of `snap` that cannot be
  // read and may hold events the request asks for (its time range meets the request's and its
  // index may be searched).
  Status FailOrWarnOnBrokenInRange(const store::Snapshot& snap, const ScanRequest& request);
  // The ordinals of `t` that may match the request's predicate (all in range without one).
  Result<store::Bitmap> Candidates(Target& t, const ScanRequest& request);
  Result<std::shared_ptr<const std::vector<std::string>>> KeyAtoms(const store::Segment& seg);
  // The segment's field names and the known CloudTrail keys, lower-cased, one per line: what a
  // bare term may match in the raw text besides values (see AtomInKeyText).
  Result<std::shared_ptr<const std::string>> KeyText(const store::Segment& seg);

  store::Store* store_;
  StoreSourceOptions options_;
  mutable std::mutex mu_;
  StoreScanStats last_;
  std::vector<std::string> warnings_;  // under mu_
  // Lower-cased breaker-free pieces of every field name of a segment (by path).
  std::unordered_map<std::string, std::shared_ptr<const std::vector<std::string>>> key_atoms_;
  std::unordered_map<std::string, std::shared_ptr<const std::string>> key_text_;
};

// Whether the store answers `node` exactly (no event it leaves out could match,
// none it keeps could fail), independent of the data. Null means "match all"
// (exact).
bool StoreAnswersExactly(const SearchNode* node);

}  // namespace cairn::query
