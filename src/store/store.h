#pragma once
// The embedded event store: named indexes of time-partitioned, immutable segments, each index
// listed by a manifest that is replaced atomically. See src/store/README.md for the reader's guide
// and docs/format/{segment,manifest}.md for the bytes.
//
// Writers call Commit; it returns only when the batch is durable, so a caller may acknowledge the
// batch's source (delete an SQS message) after an OK. Readers take a Snapshot: an immutable list of
// segments that later commits, merges, retention or deletion never change; segment files a
// snapshot still holds are removed only after the last holder lets go.
//
// Thread safety: every Store method is safe to call from any thread. Commits run in parallel, also
// to one index: each holds the index's write lock only to deduplicate and reserve its identities
// (a commit meeting an identity another in-flight commit reserved waits for that one to finish),
// and again for the manifest swap; segments are built and fsynced without it. Merges run on a
// background thread (StoreOptions::background_merge) or on demand (MergeNow), never blocking
// commits except for the short manifest swap.
//
// Failure model: a failed Commit stores nothing of its batch, with one exception that is reported
// distinctly: when the new manifest was renamed into place but the folder fsync failed, the batch
// may or may not survive a crash. The store then refuses further writes (kIOError "store needs
// reopening") until it is reopened, so no later acknowledgement can depend on that state.
//
// Processes: one writer and any number of readers share a data folder.
// - A writer (StoreOptions::read_only false: ingest, collect, backfill, index merge/delete/
//   retention set) holds an exclusive lock on <data>/LOCK (flock; the file holds the writer's pid)
//   from Open to Close or exit; the kernel drops it when the process dies, also on kill -9. A
//   second writer's Open logs the holder's pid and waits, or with wait_for_lock false fails at once
//   with kUnavailable naming it. Only a writer creates, renames or deletes files, and only a
//   writer's Open cleans up after an interrupted one: files its manifests do not list (partial
//   segments "*.seg.tmp", MANIFEST.tmp, merged-away segments), index folders without a manifest,
//   folders of interrupted deletions. New segments are written as "<name>.tmp" and renamed to
//   their name just before the manifest that lists them is swapped in.
// - A reader (read_only true: search, index list/info/check/retention show) takes no lock and
//   never creates, renames or deletes anything, not even the data folder: a missing data folder
//   is kNotFound, a data folder without indexes an empty store. Open reads each index's manifest
//   and opens every segment it lists, keeping the files open: segments a writer merges away,
//   retires or deletes afterwards are unlinked while open and stay readable (POSIX open-file
//   semantics), so a reader's snapshots never change under it. A listed segment already gone when
//   the reader opens it was removed by a manifest swap after the read: the reader reads the
//   manifest again and retries (bounded; kUnavailable when the index keeps changing), and only a
//   segment missing from an unchanged manifest is broken. A reader sees the data folder as it was
//   at Open; it opens a new Store to see later commits. Its write methods fail with kUnsupported.

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cloudtrail/event.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/status.h"
#include "store/manifest.h"
#include "store/segment.h"
#include "store/segment_writer.h"

namespace cairn::store {

struct StoreOptions {
  std::string data_dir;
  FileSystem* fs = FileSystem::Default();
  Clock* clock = Clock::System();
  // A reader: no lock, no changes, no background work (see "Processes" above).
  bool read_only = false;
  // A writer whose data folder another process writes: wait for it (true) or fail at once.
  bool wait_for_lock = true;
  bool background_merge = true;
  SegmentWriterOptions segment;
  // A partition with at least this many segments smaller than max_segment_events is merged.
  uint32_t merge_min_segments = 4;
  // Merges do not grow a segment beyond this many events (bounds merge memory: postings of one
  // segment are built in memory).
  uint32_t max_segment_events = 1u << 18;
  // The background merger takes only segments with fewer events than this: the many small
  // segments of frequent small commits (the collector's). A segment this large already answers
  // searches about as fast as a merged one, and rewriting it would cost as much as writing it
  // again, which bulk ingest (commits of ~50k events) cannot afford. MergeNow ignores it.
  uint32_t background_merge_below = 1u << 15;
  // A day that has had no commit in this process for this long is "cold": the background merger
  // then merges its segments of any size (tiered, up to max_segment_events), so a collector's
  // past days end up in few large segments while the current day's commits are never slowed
  // by rewriting. Days are cold from the start of a process. 0 disables.
  int64_t cold_partition_ms = 10 * 60'000;
  // Dedup fingerprints kept in memory, summed over partitions (16 bytes each); partitions least
  // recently committed to are dropped first and rebuilt from their segments when needed again.
  uint64_t dedup_cache_events = 16u << 20;
  // How often the background thread applies retention (0: only on ApplyRetention).
  int64_t retention_interval_ms = 60'000;
};

// A commit into a replacement group (see Store::PublishGroup). Both empty: an ordinary commit.
struct CommitOptions {
  std::string group;    // the replaceable unit, e.g. "billing:20261101-20261201"
  std::string version;  // this load's version of it, e.g. the report's assemblyId
};

struct PublishStats {
  uint64_t published_segments = 0;  // staged segments of the version made live
  uint64_t published_events = 0;
  uint64_t dropped_segments = 0;  // segments of other versions of the group removed
  uint64_t dropped_events = 0;
  bool changed = false;  // false: the version was already the live one and nothing was staged
};

// A replacement group as the manifest lists it.
struct GroupInfo {
  std::string live_version;  // the version whose segments are searched ("" if none)
  uint64_t live_events = 0;
  uint64_t live_segments = 0;
  std::vector<std::string> staged_versions;  // versions with staged segments, sorted
  uint64_t staged_events = 0;
};

struct CommitStats {
  uint64_t added = 0;
  uint64_t duplicates = 0;
  uint64_t bytes_written = 0;  // segment bytes (the manifest is not counted)
  // The positions in the batch (as passed in) of the duplicates, which were not stored.
  std::vector<uint32_t> skipped;
};

struct IndexInfo {
  std::string name;
  uint64_t events = 0;
  uint64_t segments = 0;
  uint64_t bytes = 0;    // segment files + manifest
  int64_t min_time = 0;  // ms; 0 when empty
  int64_t max_time = 0;
  uint64_t generation = 0;  // manifest generation
  uint64_t partitions = 0;
  uint64_t broken_segments = 0;  // listed but unreadable (see Check)
  RetentionPolicy retention;
};

struct CheckProblem {
  std::string path;
  Status status;
};
struct CheckReport {
  uint64_t segments_checked = 0;
  uint64_t events_checked = 0;
  std::vector<CheckProblem> problems;
  bool ok() const { return problems.empty(); }
};

struct RetentionStats {
  uint64_t segments_removed = 0;
  uint64_t events_removed = 0;
  uint64_t bytes_removed = 0;
};

// An immutable view of one index at one manifest generation.
class Snapshot {
 public:
  const std::string& index() const { return index_; }
  uint64_t generation() const { return generation_; }
  // Readable segments, sorted by (min_time, seq).
  const std::vector<std::shared_ptr<const Segment>>& segments() const { return segments_; }
  // Segments the manifest lists that could not be opened (path and reason). Their events are
  // missing from every result: a query over their time range must fail or say so.
  const std::vector<CheckProblem>& broken() const { return broken_; }
  // The broken segments that may hold events with time in [from_ms, to_ms) (by the time range the
  // manifest lists for them).
  std::vector<CheckProblem> BrokenInRange(int64_t from_ms, int64_t to_ms) const;
  // Segments that may hold events with time in [from_ms, to_ms).
  std::vector<std::shared_ptr<const Segment>> SegmentsInRange(int64_t from_ms, int64_t to_ms) const;
  uint64_t event_count() const;

 private:
  friend class Store;
  std::string index_;
  uint64_t generation_ = 0;
  std::vector<std::shared_ptr<const Segment>> segments_;
  std::vector<CheckProblem> broken_;
  std::vector<SegmentDesc> broken_descs_;  // parallel to broken_
};

class Store {
 public:
  // Opens the store under options.data_dir. A writer creates the folder if needed, takes its lock
  // (waiting or failing as wait_for_lock says) and recovers from a crash: files of an index that
  // its manifest does not list (partial segments, MANIFEST.tmp) are deleted. A reader changes
  // nothing (see "Processes" above); NotFound when the data folder does not exist. A segment the
  // manifest lists but that cannot be opened is kept listed as broken (a writer logs it).
  // Corruption when a manifest is corrupt.
  static Result<std::unique_ptr<Store>> Open(const StoreOptions& options);
  ~Store();
  Store(const Store&) = delete;
  Store& operator=(const Store&) = delete;

  // Stores `events` into `index` (created on first use; name [a-z0-9_-]{1,100}). Returns only when
  // the batch is durable (segments fsynced, manifest swapped and its folder fsynced). Deduplicates
  // on (account, event_id) against the batch itself and every stored event; duplicates are
  // counted, never stored. All-or-nothing: on error nothing of the batch is stored (see the
  // failure model above). InvalidArgument when the name is bad or an event's raw JSON is not an
  // object (naming the event); IOError from the file system.
  Result<CommitStats> Commit(std::string_view index, std::vector<cloudtrail::Event> events);
  // The same for a caller that reuses its batch vector: the events may be reordered, moved from
  // or dropped; the caller clears the vector afterwards.
  Result<CommitStats> CommitInPlace(std::string_view index, std::vector<cloudtrail::Event>* events);

  // Replacement groups: a unit of data that is reloaded whole from time to time (a billing
  // period, rewritten by AWS as a new "assembly" several times a month) and must be searched as
  // exactly one version, never two and never none.
  //
  // Commit with `options.group` set *stages* the batch: its segments are written, fsynced and
  // listed in the manifest (so they survive a crash), tagged with the group and version, but no
  // snapshot, merge, retention or Info sees them. Deduplication does count them, so a load that
  // is interrupted and run again adds only what is missing. A version may be staged by any
  // number of commits. InvalidArgument when the group or version is not an IsGroupToken.
  Result<CommitStats> Commit(std::string_view index, std::vector<cloudtrail::Event> events,
                             const CommitOptions& options);
  // In one manifest swap: the staged segments of (group, version) become live and every other
  // segment of `group` (live or staged, any other version) is dropped. Searches see the old
  // version until the swap and the new one after it; a crash leaves one or the other. Publishing
  // the version that is already live with nothing staged changes nothing (changed = false).
  // Creates the index when absent. Same failure model as Commit.
  Result<PublishStats> PublishGroup(std::string_view index, std::string_view group,
                                    std::string_view version);
  // The replacement groups of `index` by name (empty when the index is absent).
  std::map<std::string, GroupInfo> Groups(std::string_view index) const;

  // Index names, sorted.
  std::vector<std::string> ListIndexes() const;
  Result<IndexInfo> Info(std::string_view index) const;  // NotFound when absent
  // Reads every byte of every segment of `index`, verifying checksums and structure. Problems are
  // listed per segment path; the index stays usable. Errors only when the index does not exist.
  Result<CheckReport> Check(std::string_view index) const;
  // Verifies (Segment::Verify) every segment of `index` whose time range meets [from_ms, to_ms)
  // and moves those that fail into the broken list of the index's current snapshot, in memory
  // only (no file changes; a writer's next manifest keeps listing them). Returns the segments
  // moved. For a reader whose search met kCorruption and that was asked to go on without the
  // segment (`cairn search --allow-partial`). NotFound when the index does not exist.
  Result<std::vector<CheckProblem>> SetAsideCorrupt(std::string_view index, int64_t from_ms,
                                                    int64_t to_ms);
  // Removes the index and its folder. Snapshots taken before keep working.
  Status DeleteIndex(std::string_view index);

  Status SetRetention(std::string_view index, const RetentionPolicy& policy);
  Result<RetentionPolicy> GetRetention(std::string_view index) const;
  // Applies the index's retention policy now (whole segments only).
  Result<RetentionStats> ApplyRetention(std::string_view index);

  // The current snapshot of `index`. NotFound when absent.
  Result<std::shared_ptr<const Snapshot>> GetSnapshot(std::string_view index) const;

  // Merges, in every partition of `index`, all segments smaller than max_segment_events into as
  // few segments as that limit allows. Returns after the manifest swap(s).
  Status MergeNow(std::string_view index);
  // Blocks until the background merger has nothing left to do under its policy.
  Status WaitForMerges();

  // Stops background work and waits for it, then releases the data folder's lock. Further writes
  // fail with kCancelled. Idempotent.
  Status Close();

  static bool ValidIndexName(std::string_view name);

  struct Impl;

 private:
  Store() = default;
  static std::shared_ptr<const Snapshot> MakeSnapshot(
      const std::string& index, uint64_t generation,
      const std::vector<std::shared_ptr<Segment>>& segments,
      const std::vector<CheckProblem>& broken, const std::vector<SegmentDesc>& broken_descs);
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::store
