#pragma once
// Internals of the segment reader, shared by its files (one job each):
//   segment_open.cc     opening: header, trailer, footer, section table, block index; the checked
//                       reads of sections and frames every other part goes through
//   segment_events.cc   raw event blocks, the time column, the ids, whole events
//   segment_columns.cc  the column directory, dictionaries, codes and column scans
//   segment_keys.cc     postings, the keys table and its index, the field catalog
//   segment_bloom.cc    the bit-sliced Bloom filters and the text pre-filter of their candidates
//   segment_lookups.cc  the query API: postings of fields and terms, wildcards, values, statistics
//   segment_verify.cc   Verify: every byte
//   segment_size.cc     SizeReport: every byte attributed to a part
//   pattern.cc          Pattern
// Nothing here is part of the store's API; docs/format/segment.md is the specification.

#include <array>
#include <cstdint>
#include <functional>
#include <list>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "store/fields.h"
#include "store/segment.h"
#include "store/segment_format.h"

namespace cairn::store::internal {

// True when [offset, offset + size) lies within [0, limit), computed without overflow.
inline bool InRange(uint64_t offset, uint64_t size, uint64_t limit) {
  return offset <= limit && size <= limit - offset;
}

struct SectionInfo {
  uint64_t offset = 0, size = 0;
  uint32_t crc = 0, raw_size = 0;
  bool present = false;
};

struct BlockInfo {
  uint64_t offset = 0;
  // first: the rank in its lane of the block's first event (with one lane, its ordinal).
  uint32_t csize = 0, rsize = 0, first = 0, count = 0, lane = 0;
  int64_t min_time = 0, max_time = 0;
  uint32_t crc = 0;
};

struct KeyBlockInfo {
  std::string first_key;
  uint64_t offset = 0, csize = 0, rsize = 0, entries = 0;
  uint32_t crc = 0;
};

struct FieldCatalogEntry {
  uint64_t events = 0, keys = 0, singletons = 0;
};

struct DecodedBlock {
  std::unique_ptr<char[]> bytes;  // the block's raw content (not zero-filled before it is read)
  size_t size = 0;
  std::vector<uint32_t> offsets;  // count + 1 positions into data()
  std::string_view data() const { return std::string_view(bytes.get(), size); }
  std::string_view Get(uint32_t i) const {
    return data().substr(offsets[i], offsets[i + 1] - offsets[i]);
  }
};

struct KeyEntry {
  std::string key;
  std::string_view posting;
};
struct DecodedKeyBlock {
  std::string data;
  std::vector<KeyEntry> entries;
};

struct Ids {
  std::string data;
  std::vector<std::string> accounts;
  std::vector<uint32_t> account_of;
  std::vector<std::string_view> event_id;
  std::vector<std::pair<uint64_t, uint32_t>> by_fp;  // sorted
};

struct ColumnTerm {
  std::string term;
  uint16_t column;
  uint32_t code;
};

// A zstd frame inside a section: where it is, its sizes and the CRC of its stored bytes.
struct Frame {
  uint64_t offset = 0;  // in the file
  uint32_t csize = 0, rsize = 0, crc = 0;
};

// One column of the segment (an entry of its column directory), with what has been read of it.
struct ColumnSlot {
  std::string name;
  bool json = true;  // a JSON leaf's column (its values' terms are searchable); else metadata
  Frame dict, codes;
  std::shared_ptr<const std::vector<std::string>> dict_values;
  // Events per code ([0] = without the field): stored since version 3, taken from the codes
  // before.
  std::shared_ptr<const std::vector<uint32_t>> counts;
  std::shared_ptr<const Column> column;
};

// Decoded blocks shared by every open segment of the process, least recently used first out,
// within a byte budget: memory follows the budget, not the number of segments a search touches.
// Entries are keyed by a segment's cache id (unique for the process's life) and its block number;
// a closing segment drops its own. Thread-safe.
template <typename T>
class SharedCache {
 public:
  explicit SharedCache(size_t budget_bytes) : budget_(budget_bytes) {}
  std::shared_ptr<const T> Get(uint64_t segment, uint64_t block) {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = index_.find(Key{segment, block});
    if (it == index_.end()) return nullptr;
    lru_.splice(lru_.end(), lru_, it->second);
    return it->second->value;
  }
  void Put(uint64_t segment, uint64_t block, std::shared_ptr<const T> value, size_t bytes) {
    std::lock_guard<std::mutex> lock(mu_);
    const Key key{segment, block};
    if (index_.count(key) || bytes > budget_) return;
    lru_.push_back(Entry{key, std::move(value), bytes});
    index_.emplace(key, std::prev(lru_.end()));
    bytes_ += bytes;
    while (bytes_ > budget_) Erase(lru_.begin());
  }
  void Drop(uint64_t segment) {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto it = lru_.begin(); it != lru_.end();) {
      auto next = std::next(it);
      if (it->key.segment == segment) Erase(it);
      it = next;
    }
  }
  size_t bytes() const {
    std::lock_guard<std::mutex> lock(mu_);
    return bytes_;
  }

 private:
  struct Key {
    uint64_t segment, block;
    bool operator==(const Key& o) const { return segment == o.segment && block == o.block; }
  };
  struct KeyHash {
    size_t operator()(const Key& k) const { return k.segment * 0x9E3779B97F4A7C15ull ^ k.block; }
  };
  struct Entry {
    Key key;
    std::shared_ptr<const T> value;
    size_t bytes;
  };
  void Erase(typename std::list<Entry>::iterator it) {
    bytes_ -= it->bytes;
    index_.erase(it->key);
    lru_.erase(it);
  }
  const size_t budget_;
  mutable std::mutex mu_;
  std::list<Entry> lru_;
  std::unordered_map<Key, typename std::list<Entry>::iterator, KeyHash> index_;
  size_t bytes_ = 0;
};

// A segment's most recently used blocks, held weakly: a hit costs only the segment's own lock
// (no contention between threads reading different segments), while the shared cache above,
// which holds them, decides how long they live. Not thread-safe: used under Impl::mu.
template <typename T>
class RecentBlocks {
 public:
  std::shared_ptr<const T> Get(uint64_t block) const {
    for (const auto& [b, weak] : items_) {
      if (b == block) return weak.lock();
    }
    return nullptr;
  }
  void Put(uint64_t block, const std::shared_ptr<const T>& value) {
    items_[next_++ % items_.size()] = {block, value};
  }

 private:
  std::array<std::pair<uint64_t, std::weak_ptr<const T>>, 8> items_{
      std::pair<uint64_t, std::weak_ptr<const T>>{~uint64_t{0}, {}}};
  size_t next_ = 0;
};

struct LaneMap;  // below
SharedCache<LaneMap>& LaneMapCache();

// The process's caches of decoded event blocks (32 MB) and keys-table blocks (64 MB: the blocks a
// term looks in over 10M events, five per segment, fit, so a repeated term search decompresses
// none).
SharedCache<DecodedBlock>& EventBlockCache();
SharedCache<DecodedKeyBlock>& KeyBlockCache();
// A new segment's cache id.
uint64_t NextCacheId();

}  // namespace cairn::store::internal

namespace cairn::store {

struct Segment::Impl {
  std::unique_ptr<RandomAccessFile> file;
  internal::SectionInfo sections[16];
  uint32_t version = 0;
  std::vector<internal::BlockInfo> blocks;
  // Lanes (version 5): set at open when a block is of a lane other than 0. The lane map lives in
  // LaneMapCache (LoadLanes).
  bool laned = false;
  uint32_t lane_count = 1;

  const internal::SectionInfo& section(SectionId id) const {
    return sections[static_cast<uint32_t>(id)];
  }

  mutable std::mutex mu;
  std::shared_ptr<const std::vector<int64_t>> times;
  std::shared_ptr<const internal::Ids> ids;
  uint32_t event_count = 0;
  // The column directory: fixed once loaded (under mu), read without the lock afterwards.
  bool column_dir_loaded = false;
  std::vector<internal::ColumnSlot> cols;
  std::map<std::string, uint16_t, std::less<>> col_by_name;
  // Value-hash columns (kind 2), by name: not columns to search or group on, only hashes.
  std::vector<internal::ColumnSlot> hashed;
  std::map<std::string, uint16_t, std::less<>> hashed_by_name;
  // The term filter of the JSON columns (kind 3), when the segment has one; its bits read once.
  std::optional<internal::ColumnSlot> term_filter;
  std::shared_ptr<const std::string> term_filter_bits;
  uint64_t term_filter_nbits = 0;
  uint32_t term_filter_probes = 0;
  bool term_filter_pairs = false;  // it holds the pairs of pieces (kColumnTermFilterPairs)
  // Columns of the writer's list this segment lacks, built from its events on first use.
  std::map<std::string, internal::ColumnSlot, std::less<>> built_columns;
  bool key_index_loaded = false;
  std::vector<internal::KeyBlockInfo> key_blocks;
  bool catalog_loaded = false;
  std::map<std::string, internal::FieldCatalogEntry, std::less<>> catalog;
  uint64_t term_keys = 0, term_singletons = 0;
  // Bloom filters (bit-sliced): the header and chunk CRCs, read once; chunks read on demand.
  bool bloom_header_loaded = false;
  uint32_t bloom_rows = 0, bloom_row_bytes = 0;
  std::vector<uint32_t> bloom_chunk_crcs;
  std::unordered_map<uint32_t, std::shared_ptr<const std::string>> bloom_chunks;
  std::shared_ptr<const std::vector<internal::ColumnTerm>> column_terms;
  uint32_t exact_term_lookups = 0;  // under mu
  // This segment's entries in the shared block caches, and its recent ones (under mu).
  const uint64_t cache_id = internal::NextCacheId();
  internal::RecentBlocks<internal::DecodedBlock> recent_blocks;
  internal::RecentBlocks<internal::DecodedKeyBlock> recent_key_blocks;
  ~Impl() {
    internal::EventBlockCache().Drop(cache_id);
    internal::KeyBlockCache().Drop(cache_id);
    if (laned) internal::LaneMapCache().Drop(cache_id);
  }
};

}  // namespace cairn::store

namespace cairn::store::internal {

using Impl = Segment::Impl;

// --- checked reads (segment_open.cc) ---
// Reads a whole section, checks its CRC and, when it is one zstd frame, decompresses it (its raw
// size at most `max_raw`).
Status ReadSection(const RandomAccessFile& file, const SectionInfo& s, std::string* out,
                   std::string_view name, uint64_t max_raw = kMaxFrameRawBytes);
// Reads one zstd frame, checks its CRC and decompresses it (raw size at most `max_raw`).
Status ReadFrame(const RandomAccessFile& file, const Frame& f, std::string* out,
                 std::string_view what, uint64_t max_raw = kMaxFrameRawBytes);
// The same into a buffer of f.rsize bytes it allocates without zero-filling (event blocks).
Status ReadFrame(const RandomAccessFile& file, const Frame& f, std::unique_ptr<char[]>* out,
                 std::string_view what, uint64_t max_raw = kMaxFrameRawBytes);

// --- events (segment_events.cc) ---
// Reads and decodes block `b` (no cache).
Status ReadBlock(const Impl& m, uint32_t b, DecodedBlock* out);
// Block `b` through the segment's cache.
Result<std::shared_ptr<const DecodedBlock>> LoadBlock(const Impl& m, uint32_t b);
// Where the events of a segment in lanes lie (section 10): built from the lanes section on first
// use and kept in a process-wide cache within a byte budget (8 bytes per event), so memory does
// not grow with the number of segments read.
struct LaneMap {
  uint32_t count = 0;
  // The ordinals of lane 0 in rank order, then lane 1's, ...: a lane's block of first rank r holds
  // ordinals[base[lane] + r ...].
  std::unique_ptr<uint32_t[]> ordinals;
  // Per ordinal, its place in `ordinals`.
  std::unique_ptr<uint32_t[]> at;
  std::vector<uint32_t> base;  // per lane, then the event count
  // Per lane, its blocks in rank order.
  std::vector<std::vector<uint32_t>> blocks;
  size_t bytes() const { return size_t{count} * 8 + base.size() * 4 + blocks.size() * 64; }
};
// The segment's lane map; null when it has one lane (blocks are runs of ordinals). Every function
// below takes it (or null).
Result<std::shared_ptr<const LaneMap>> LoadLanes(const Impl& m);
// The block holding `ordinal` (< event count).
uint32_t BlockOf(const Impl& m, const LaneMap* lanes, uint32_t ordinal);
// The place of event `ordinal` in its block `b`.
uint32_t PlaceInBlock(const Impl& m, const LaneMap* lanes, uint32_t b, uint32_t ordinal);
// The ordinal of the `i`-th event of block `b`.
uint32_t OrdinalAt(const Impl& m, const LaneMap* lanes, uint32_t b, uint32_t i);
// Calls fn(ordinal, raw) for every event in ordinal order, each block decompressed once (one
// open block per lane), bypassing the block cache.
Status ScanRaw(const Impl& m, const std::function<void(uint32_t, std::string_view)>& fn);
Result<std::shared_ptr<const Ids>> LoadIds(Impl& m, const std::string& path);

// --- columns (segment_columns.cc) ---
// Columns are addressed by their slot: their position in the segment's column directory.
Status LoadColumnDir(Impl& m, const std::string& path);
// The slot of the column named `field`, or -1 when the segment has no such column.
Result<int> ColumnSlotOf(Impl& m, const std::string& path, std::string_view field);
Result<std::shared_ptr<const std::vector<std::string>>> LoadDict(Impl& m, const std::string& path,
                                                                 size_t c);
Result<std::shared_ptr<const Column>> LoadColumn(Impl& m, const std::string& path, size_t c);
// Events per code of slot `c` ([0] = without the field).
Result<std::shared_ptr<const std::vector<uint32_t>>> LoadCounts(Impl& m, const std::string& path,
                                                                size_t c);
// The column `field` (of the writer's list) for a segment that lacks it: the value of the first
// leaf of that name in each event, all absent when no event has the field.
Result<std::shared_ptr<const Column>> BuildColumnFromEvents(Impl& m, const std::string& path,
                                                            std::string_view field);
// Events per code of `col`: [0] those without the field, [k] those holding dict[k - 1].
std::vector<uint32_t> CountCodes(const Column& col);
// Ordinals whose column code is in `codes` (sorted).
Bitmap ScanColumn(const Column& col, const std::vector<uint32_t>& codes);
// The same through the stored counts first (every event / none without reading the codes).
Result<Bitmap> ColumnPostings(Impl& m, const std::string& path, size_t c,
                              const std::vector<uint32_t>& codes);
// Adds the events whose column values contain a term accepted by `match`, or the term `exact`;
// with `phrase` (lower-cased, holding `exact`), only values that contain the phrase.
Status AddColumnTermMatches(Impl& m, const std::string& path,
                            const std::function<bool(std::string_view)>& match,
                            std::string_view exact, Bitmap* out, std::string_view phrase = {});
// Every frame of the column directory (for Verify).
Result<std::vector<std::pair<std::string, Frame>>> ColumnFrames(Impl& m, const std::string& path);
// Whether column `c` (a JSON column) may hold a value with the term `lower_term` (lower-cased):
// false only when the segment's term filter rules it out; true without a filter.
Result<bool> ColumnMayHoldTerm(Impl& m, const std::string& path, size_t c,
                               std::string_view lower_term);
// Whether column `c` may hold every two neighbouring `pieces` (SplitPieces of a phrase) side by
// side; true without a filter of pairs (segments written before them).
Result<bool> ColumnMayHoldPieces(Impl& m, const std::string& path, size_t c,
                                 const std::vector<std::string_view>& pieces);
// Value-hash column `h` (in m.hashed) decoded: one hash per ordinal, 0 = absent; checks that the
// stored count of events holding the field agrees.
Result<std::shared_ptr<const std::vector<uint64_t>>> LoadValueHashes(Impl& m,
                                                                     const std::string& path,
                                                                     size_t h);

// --- keys table (segment_keys.cc) ---
// Decodes a posting into `out` (ordinals < limit); Corruption naming `what` otherwise.
Status DecodePosting(std::string_view bytes, uint32_t limit, Bitmap* out, std::string_view what);
Status LoadKeyIndex(Impl& m, const std::string& path);
Result<std::shared_ptr<const DecodedKeyBlock>> LoadKeyBlock(Impl& m, const std::string& path,
                                                            size_t index);
// Calls fn(key, posting bytes) for every key starting with `prefix`, in order. fn returns false
// to stop.
Status ScanKeys(Impl& m, const std::string& path, std::string_view prefix,
                const std::function<bool(std::string_view, std::string_view)>& fn);
// Posting of exactly `key`; false when absent.
Result<bool> LookupKey(Impl& m, const std::string& path, std::string_view key, Bitmap* out);
Status LoadCatalog(Impl& m, const std::string& path);

// --- Bloom filters (segment_bloom.cc) ---
// Blocks whose Bloom filter may hold `value` (lower-cased).
Result<std::vector<uint32_t>> BloomBlocks(Impl& m, const std::string& path, std::string_view value);
// Per event of `block`, whether it must be parsed to confirm a Bloom hit for `lower`; empty
// when none must.
std::vector<bool> EventsToParse(const DecodedBlock& block, uint32_t count, std::string_view lower);

}  // namespace cairn::store::internal
