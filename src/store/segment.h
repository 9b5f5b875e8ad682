#pragma once
// Reading one immutable segment file: the query engine's per-segment API. The reader is split
// by job over segment_*.cc (see segment_internal.h).
//
// A Segment is opened from its manifest entry; Open reads and checks only the footer and the block
// index. Everything else (time column, ids, columns, the keys table, Bloom filters, raw blocks) is
// read on first use and cached in the object, so the cost of a query is paid for the parts it
// touches. Every read verifies the checksum of what it reads; a mismatch is Corruption naming the
// file and the part.
//
// Ordinals: events of a segment are numbered 0..event_count()-1 in time order (ties in commit
// order). Postings are roaring bitmaps of ordinals.
//
// Matching rules (see docs/format/segment.md "Lookups"): field names are case-sensitive; values and
// terms compare ASCII-case-insensitively. FieldPostings/TermPostings/FieldMatch/TermMatch return
// exact results: a value held by one event only is not in the keys table but in its block's Bloom
// filter, and the reader confirms Bloom hits by re-reading the block's events.
//
// Thread safety: all methods are const and safe to call concurrently; lazily loaded parts are
// built once under a mutex. A Segment is shared (shared_ptr) between the store and snapshots; when
// the store marks it obsolete (merged away, retention, index deleted), its file is removed when
// the last reference goes.

#include <atomic>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <roaring/roaring.hh>
#include <string>
#include <string_view>
#include <vector>

#include "cloudtrail/event.h"
#include "common/fs.h"
#include "common/status.h"

namespace cairn::store {

// A set of event ordinals (CRoaring; the 0.2.x C++ class lives in the global namespace).
using Bitmap = ::Roaring;

// A segment as the manifest lists it.
struct SegmentDesc {
  uint64_t seq = 0;       // unique within the index, increasing
  std::string file;       // file name inside the index folder
  int64_t partition = 0;  // UTC day number (days since 1970-01-01)
  uint32_t event_count = 0;
  int64_t min_time = 0;     // ms, inclusive
  int64_t max_time = 0;     // ms, inclusive
  uint64_t bytes = 0;       // file size
  uint32_t footer_crc = 0;  // CRC-32 of the footer; ties the entry to one exact file
  // Replacement group (CommitOptions): segments loaded as one version of a replaceable unit (a
  // billing period's assembly). Empty for ordinary segments.
  std::string group;    // the unit, e.g. "billing:20261101-20261201"
  std::string version;  // the unit's version, e.g. the report's assemblyId
  bool staged = false;  // written but not yet published: listed, never searched
};

// One column: a sorted dictionary of distinct values (original case) and one code per event.
struct Column {
  explicit Column(std::shared_ptr<const std::vector<std::string>> d)
      : dict_holder(std::move(d)), dict(*dict_holder) {}
  std::shared_ptr<const std::vector<std::string>> dict_holder;  // shared with the segment's cache
  const std::vector<std::string>& dict;                         // sorted bytewise, distinct
  std::vector<uint32_t> codes;  // per ordinal; 0 = field absent, k = dict[k - 1]
  std::string_view Value(uint32_t ordinal) const {
    uint32_t c = codes[ordinal];
    return c == 0 ? std::string_view() : std::string_view(dict[c - 1]);
  }
};

// A column's dictionary with the number of events per code: counts[0] = events without the
// field, counts[k] = events holding dict[k - 1].
struct ColumnSummary {
  std::shared_ptr<const std::vector<std::string>> dict;
  std::shared_ptr<const std::vector<uint32_t>> counts;
};

struct ValueCount {
  std::string value;
  uint64_t count = 0;
};

// A field seen in a segment, with the number of events holding it.
struct FieldInfo {
  std::string name;
  uint64_t events = 0;
  uint64_t distinct = 0;  // distinct values (keys table + singletons, or column dictionary size)
  bool column = false;
};

// Where a segment's bytes go (Segment::SizeReport, `cairn index info --sections`): one part of a
// section, with its stored (compressed) bytes and, where it is compressed, its decompressed bytes.
// Keys-table bytes are attributed to the field of each key (terms together), compressed bytes in
// proportion to the entry's share of its key block.
struct PartSize {
  std::string part;  // "blocks", "columns: userAgent dictionary", "keys: requestID", ...
  uint64_t bytes = 0;
  uint64_t raw_bytes = 0;
  uint64_t entries = 0;  // keys for keys-table parts, values for dictionaries, else 0
};

// A Splunk-style value pattern: '*' matches any run of bytes; everything else literally, ASCII
// case-insensitive. Built once, matched many times.
class Pattern {
 public:
  explicit Pattern(std::string_view pattern);
  bool Matches(std::string_view value) const;  // value in any case
  // The lower-cased bytes before the first '*' (the whole pattern when it has none).
  const std::string& literal_prefix() const { return prefix_; }
  bool has_wildcard() const { return has_wildcard_; }
  const std::string& text() const { return lower_; }

 private:
  std::string lower_;
  std::string prefix_;
  bool has_wildcard_ = false;
};

class Segment {
 public:
  // Opens `path` (the file of `desc`), reading its footer and block index. Corruption when the
  // magic, version, footer checksum or summary does not match `desc`.
  static Result<std::shared_ptr<Segment>> Open(FileSystem* fs, const std::string& path,
                                               const SegmentDesc& desc);
  ~Segment();

  const SegmentDesc& desc() const { return desc_; }
  const std::string& path() const { return path_; }
  uint32_t event_count() const { return desc_.event_count; }
  int64_t min_time() const { return desc_.min_time; }
  int64_t max_time() const { return desc_.max_time; }
  uint32_t block_count() const;
  // The store calls this when no manifest lists the segment any more; the file is removed when
  // the last reference is released.
  void MarkObsolete() { obsolete_.store(true); }

  // --- time ---
  // The time column: time_ms per ordinal (non-decreasing).
  Result<std::shared_ptr<const std::vector<int64_t>>> Times() const;
  // Ordinals [first, last) whose time is in [from_ms, to_ms).
  Result<std::pair<uint32_t, uint32_t>> OrdinalRange(int64_t from_ms, int64_t to_ms) const;

  // --- postings ---
  // Events whose field `field` has a value equal (case-insensitively) to `value`.
  Result<Bitmap> FieldPostings(std::string_view field, std::string_view value) const;
  // Events holding search term `term` (one term as SplitTerms produces it: no breakers inside a
  // minor term, or a whole major segment) in any leaf value (never eventTime, never the metadata
  // columns sourcetype/source).
  Result<Bitmap> TermPostings(std::string_view term) const;
  // TermPostings without the columns: the term in the other leaves (keys table and Bloom filters).
  Result<Bitmap> LeafTermPostings(std::string_view term) const;
  // Events whose column value holds term `term` and contains the text `phrase` (one of whose
  // terms is `term`), both compared case-insensitively.
  Result<Bitmap> ColumnPhrasePostings(std::string_view term, std::string_view phrase) const;
  // Union over the values of `field` matching `pattern`.
  Result<Bitmap> FieldMatch(std::string_view field, const Pattern& pattern) const;
  // Union over the terms matching `pattern`.
  Result<Bitmap> TermMatch(const Pattern& pattern) const;
  // The values of `field` matching `pattern`, lower-cased, sorted, with event counts. For a
  // non-column field, values held by exactly one event are not listed when `include_singletons`
  // is false (they live in Bloom filters; listing them costs a scan of every event).
  Result<std::vector<ValueCount>> FieldValues(std::string_view field, const Pattern& pattern,
                                              bool include_singletons = true) const;
  // Every field of the segment (columns with at least one value, and keys-table fields).
  Result<std::vector<FieldInfo>> Fields() const;
  // The names of the keys-table fields only (no column reads; cheap after the first call).
  Result<std::vector<std::string>> FieldNames() const;

  // --- columns ---
  static bool IsColumn(std::string_view field);
  // NotFound when `field` is not a column.
  Result<std::shared_ptr<const Column>> GetColumn(std::string_view field) const;
  // The column's dictionary and events per value over the whole segment, without reading its
  // codes (version 3 segments store the counts).
  Result<ColumnSummary> ColumnCounts(std::string_view field) const;
  // The value hashes the writer kept for `field` (kHashedFields): ValueHash of the event's first
  // leaf of that name per ordinal, 0 = absent; null when the segment keeps none for the field
  // (written before it was hashed). Decoded on every call, not cached.
  Result<std::shared_ptr<const std::vector<uint64_t>>> ValueHashes(std::string_view field) const;
  // ValueHash of each value of column `field`'s dictionary, in dictionary order (code k's at
  // k - 1), read from the frame without keeping the values; null when the segment has no such
  // column. Not cached.
  Result<std::shared_ptr<const std::vector<uint64_t>>> DictionaryHashes(
      std::string_view field) const;
  // Whether JSON column `column`'s values may hold the search term `lower_term` (lower-cased):
  // false only when the segment's term filter rules it out (then no value does); true without a
  // filter or for a field that is not a JSON column of the segment.
  Result<bool> ColumnMayHoldTerm(std::string_view column, std::string_view lower_term) const;
  // Whether JSON column `column`'s values may hold the text `phrase`'s pieces (SplitPieces) as
  // whole terms side by side: false only when the filter's pairs rule a neighbouring two out;
  // true without pairs in the filter (segments written before them).
  Result<bool> ColumnMayHoldPhrase(std::string_view column, std::string_view phrase) const;
  // Whether the segment keeps value hashes for `field` (reads only the column directory).
  Result<bool> HasValueHashes(std::string_view field) const;

  // --- events ---
  // The raw JSON of one event.
  Result<std::string> Raw(uint32_t ordinal) const;
  // The same as a view into its decompressed block, which `*owner` keeps alive (a search's rows
  // hold events this way instead of copying them).
  Result<std::string_view> RawView(uint32_t ordinal, std::shared_ptr<const void>* owner) const;
  // The block (the unit of decompression) holding event `ordinal` (< event_count()).
  uint32_t BlockOf(uint32_t ordinal) const;
  // Calls fn(ordinal, raw) for each ordinal in `ordinals` (ascending, or descending when
  // `reverse`), decompressing each block once. fn returns false to stop early.
  Status ForEach(const Bitmap& ordinals, bool reverse,
                 const std::function<bool(uint32_t, std::string_view)>& fn) const;
  // The full event with its metadata (account, event_id, sourcetype, source).
  Result<cloudtrail::Event> ReadEvent(uint32_t ordinal) const;
  // Calls fn with every event in ordinal order.
  Status ForEachEvent(const std::function<Status(uint32_t, cloudtrail::Event&&)>& fn) const;
  // Appends events [first, first + n) with their metadata to `out` (merges read this way, a
  // bounded window per input at a time).
  Status ReadEvents(uint32_t first, uint32_t n, std::vector<cloudtrail::Event>* out) const;

  // --- statistics ---
  // The k most frequent values of `field` among `filter` (all events when null), count
  // descending then value ascending. Column fields use the column; others the keys table (values
  // held once appear only when `filter` is null and scanning is cheap enough: see .cc).
  Result<std::vector<ValueCount>> TopValues(std::string_view field, size_t k,
                                            const Bitmap* filter = nullptr) const;
  Result<uint64_t> DistinctCount(std::string_view field) const;

  // --- dedup ---
  // True when an event with exactly this (account, event_id) is stored here.
  Result<bool> ContainsId(std::string_view account, std::string_view event_id) const;
  // Calls fn with every (account, event_id) in ordinal order.
  Status ForEachId(const std::function<void(std::string_view, std::string_view)>& fn) const;
  // Drops cached ids (memory); they are re-read on next use.
  void DropIdCache() const;
  // Drops what reading whole events loaded (ReadEvents: the ids, the times, the metadata
  // columns' codes; some 80 bytes per event), re-read on next use: a pass over every event of
  // many segments calls it after each, so its memory does not grow with the segments it read.
  void DropEventCaches() const;

  // --- size ---
  // Every byte of the file attributed to a part (reads the column dictionaries and every key
  // block). The parts' bytes sum to the file size.
  Result<std::vector<PartSize>> SizeReport() const;

  // --- integrity ---
  // Reads every byte, checks every checksum and decodes every part. Corruption names the path.
  Status Verify() const;

  struct Impl;  // internal (segment_internal.h)

 private:
  Segment() = default;
  std::string path_;
  SegmentDesc desc_;
  FileSystem* fs_ = nullptr;
  std::atomic<bool> obsolete_{false};
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::store
