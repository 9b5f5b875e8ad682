#include "store/segment_writer.h"

#include <roaring/roaring.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "store/encoding.h"
#include "store/fields.h"
#include "store/flat_map.h"
#include "store/segment_format.h"

namespace cairn::store {
namespace {

struct StringHash {
  using is_transparent = void;
  size_t operator()(std::string_view s) const { return Hash64(s); }
};
using StringMap = std::unordered_map<std::string, uint32_t, StringHash, std::equal_to<>>;

// Postings of one key while the segment is built. The first ordinal is kept inline because most
// keys of a segment occur in one event only and never need a vector.
constexpr uint32_t kTermField = UINT32_MAX;

// A key of the segment. While events are added only `key` and `field` are set; the key's
// occurrences go to an append-only log (see Impl::key_log), which Finish turns into ordinals with
// a counting sort. This keeps the hot path to one sequential append and one counter increment.
struct KeyPosting {
  uint32_t field = kTermField;  // field id for field keys
  std::string_view key;         // in key_ids' arena
  // Set by Finish:
  uint32_t count = 0;              // distinct events
  uint32_t first = 0;              // first ordinal
  const uint32_t* ords = nullptr;  // `count` ascending ordinals
};

// One distinct field path seen in the segment.
struct FieldEntry {
  std::string_view name;  // in field_ids' arena
  int column = -1;        // column index, -2 for eventTime, -1 otherwise
  int hashed = -1;        // index in hashed_fields (its keys are indexed as well), or -1
  uint32_t last_ordinal = UINT32_MAX;
  uint32_t event_count = 0;
  uint32_t keys = 0;
  uint32_t singletons = 0;
  // Leaf cache statistics: values of near-unique fields (eventID) are not cached.
  uint32_t occurrences = 0;
  uint32_t misses = 0;
  bool no_cache = false;
};

struct ColumnBuilder {
  FlatStringMap codes;                   // value -> provisional code (1-based)
  std::vector<std::string_view> values;  // provisional code - 1 -> value (in codes' arena)
  std::vector<uint32_t> per_event;       // provisional codes, 0 = absent
  // The previous event's value and code: events come in time order, and neighbours often share
  // a column value (eventSource, awsRegion, userAgent...), which then costs no hash lookup.
  std::string_view last_value;
  uint32_t last_code = 0;
};

struct BlockMeta {
  uint64_t offset = 0;
  uint32_t csize = 0;
  uint32_t rsize = 0;
  uint32_t first = 0;
  uint32_t count = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  uint32_t crc = 0;
  uint32_t lane = 0;  // stored where format 1 kept the block's Bloom filter words
  uint64_t bloom_offset = 0;
};

// The open raw block of one lane (docs/format/segment.md, section 1). A block is its events'
// lengths (varints), then their raw bytes. The bytes are gathered after kLengthRoom bytes left
// free, where the lengths are put when the block is flushed, so the block is compressed where it
// lies rather than copied once more behind its lengths.
struct LaneBlock {
  static constexpr size_t kLengthRoom = 16 << 10;
  std::string lengths;
  std::string data = std::string(kLengthRoom, '\0');
  std::vector<uint32_t> ordinals;  // of the open block's events
  uint32_t first = 0;              // the open block's first event's rank in the lane
  uint32_t ranks = 0;              // events of the lane so far
  uint64_t bytes = 0;              // raw bytes of the lane so far
  int64_t min = INT64_MAX, max = INT64_MIN;
};

struct SectionMeta {
  SectionId id;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t crc = 0;
  uint32_t raw_size = 0;  // for whole-section zstd frames; 0 otherwise
};

// Every zstd frame of a segment goes through here: the format caps a frame's decompressed size,
// and the reader rejects larger ones (segment_format.h).
Status CompressFrame(std::string_view raw, int level, std::string* out) {
  if (raw.size() > kMaxFrameRawBytes) {
    return InvalidArgument("a segment part of {} bytes is beyond the format's limit of {}",
                           raw.size(), kMaxFrameRawBytes);
  }
  return ZstdCompress(raw, level, out);
}

void EncodePosting(const KeyPosting& p, std::string* out) {
  // Small lists as varint gaps; larger ones as the smaller of gaps and a run-optimized roaring.
  thread_local std::string gaps;
  gaps.clear();
  PutVarint(&gaps, p.count);
  PutVarint(&gaps, p.first);
  uint32_t prev = p.first;
  for (uint32_t i = 1; i < p.count; ++i) {
    PutVarint(&gaps, p.ords[i] - prev);
    prev = p.ords[i];
  }
  if (p.count >= 64) {
    roaring_bitmap_t* r = roaring_bitmap_create();
    roaring_bitmap_add_many(r, p.count, p.ords);
    roaring_bitmap_run_optimize(r);
    size_t n = roaring_bitmap_portable_size_in_bytes(r);
    if (n < gaps.size()) {
      out->push_back(static_cast<char>(kPostingRoaring));
      size_t old = out->size();
      out->resize(old + n);
      roaring_bitmap_portable_serialize(r, out->data() + old);
      roaring_bitmap_free(r);
      return;
    }
    roaring_bitmap_free(r);
  }
  out->push_back(static_cast<char>(kPostingVarint));
  out->append(gaps);
}

// A key of a near-unique field's leaf (eventID, requestID and their pieces). Such keys are almost
// all held by one event: they are kept out of the table (which they would otherwise fill, 7 keys
// per id) and go to the Bloom filters at Finish, unless an event put the same key into the table,
// whose posting they then join. Whether it is in the table is asked once, at Finish, not for
// every key as it is added: a probe of a large table per key is the costly part.
struct LooseKey {
  uint64_t hash;        // KeyHash: its slot in the key table
  uint64_t bloom_hash;  // BloomHash of the key
  uint32_t at, len;     // the key's bytes in WriterTables::loose_bytes
  uint32_t ordinal;
  uint32_t field;  // field id, or kTermField
};

// The writer's largest tables. A committer writes one segment after another; keeping a thread's
// tables between its segments (emptied, capacity kept) spares allocating and page-faulting tens
// of MB for each (docs/benchmarks.md, "store"). Tables grown past kKeepTablesBytes, as a large
// merge grows them, are released instead, so a long-running process does not hold them.
struct WriterTables {
  FlatStringMap key_ids;  // key -> index in postings, hashed by KeyHash
  std::vector<KeyPosting> postings;
  std::vector<uint32_t> key_count;    // occurrences per key id (events may repeat a key)
  std::vector<uint32_t> key_log;      // key ids in order of occurrence
  std::vector<uint32_t> event_start;  // per ordinal, its first position in key_log
  FlatStringMap leaf_cache;           // field id (4 bytes) + value -> index in leaf_ranges
  std::vector<std::pair<uint32_t, uint32_t>> leaf_ranges;  // (start, count) in leaf_keys
  std::vector<uint32_t> leaf_keys;                         // key ids of cached leaves
  std::vector<uint32_t> ords;  // Finish: every key's ordinals, key after key
  std::string loose_bytes;
  std::vector<LooseKey> loose;  // in ordinal order

  void Clear() {
    loose_bytes.clear();
    loose.clear();
    key_ids.Clear();
    postings.clear();
    key_count.clear();
    key_log.clear();
    event_start.clear();
    leaf_cache.Clear();
    leaf_ranges.clear();
    leaf_keys.clear();
    ords.clear();
  }
  size_t Bytes() const {
    return key_ids.Bytes() + leaf_cache.Bytes() + postings.capacity() * sizeof(KeyPosting) +
           (key_count.capacity() + key_log.capacity() + event_start.capacity() +
            leaf_keys.capacity() + ords.capacity()) *
               sizeof(uint32_t) +
           leaf_ranges.capacity() * sizeof(leaf_ranges[0]) + loose_bytes.capacity() +
           loose.capacity() * sizeof(LooseKey);
  }
};

// The hash a key is entered into the Bloom filters by: of its value alone (the lowered leaf value
// or the term), since a search probes by value (docs/format/segment.md, section 3). A field key
// is 'F', the field's name `field_name`, a 0 byte, then the value.
uint64_t BloomHash(std::string_view key, uint32_t field, std::string_view field_name) {
  return Hash64(key.substr(field == kTermField ? 1 : 2 + field_name.size()));
}

// The hash of a key in the key table (WriterTables::key_ids), from the hash of its value
// (BloomHash) and its field, so that a key's value is hashed once for both. Only the writer's
// table uses it; nothing stored depends on it.
uint64_t KeyHash(uint64_t value_hash, uint32_t field) {
  uint64_t x = value_hash ^ (uint64_t{field} * 0x9E3779B97F4A7C15ull);
  x ^= x >> 32;
  x *= 0xD6E8FEB86659FD93ull;
  x ^= x >> 32;
  return x | 1;  // 0 marks an empty slot
}

constexpr size_t kKeepTablesBytes = size_t{256} << 20;
thread_local std::unique_ptr<WriterTables> tls_spare_tables;

std::unique_ptr<WriterTables> TakeTables() {
  std::unique_ptr<WriterTables> t = std::move(tls_spare_tables);
  return t ? std::move(t) : std::make_unique<WriterTables>();
}

void KeepTables(std::unique_ptr<WriterTables> t) {
  if (!t || tls_spare_tables || t->Bytes() > kKeepTablesBytes) return;
  t->Clear();
  tls_spare_tables = std::move(t);
}

}  // namespace

struct SegmentWriter::Impl {
  ~Impl() { KeepTables(std::move(tables)); }

  FileSystem* fs;
  std::string path;
  int64_t partition;
  SegmentWriterOptions opt;
  std::unique_ptr<WritableFile> file;
  uint64_t offset = 0;
  bool failed = false;
  uint32_t run_crc = 0;     // CRC of bytes appended since the last reset
  uint32_t blocks_crc = 0;  // CRC of the blocks section so far

  // Events.
  uint32_t count = 0;
  int64_t min_time = INT64_MAX, max_time = INT64_MIN, last_time = INT64_MIN;
  std::string time_bytes;
  StringMap accounts;
  std::vector<std::string> account_values;
  std::string id_bytes;

  // Raw blocks, one open block per lane. Until the first block is flushed every event goes to
  // lane 0 (a small segment stays one lane); after it, an event goes to its event name's lane
  // (LaneOf).
  std::vector<LaneBlock> lanes = std::vector<LaneBlock>(1);
  bool laned = false;
  std::vector<uint8_t> lane_of;       // per ordinal
  std::vector<uint8_t> lane_of_name;  // per provisional eventName code; kNoLane: not yet given
  static constexpr uint8_t kNoLane = 0xff;
  int name_column = -1;            // the eventName column
  std::vector<uint32_t> block_of;  // per ordinal, set when its block is flushed
  std::vector<BlockMeta> blocks;
  std::string block_buf;
  std::string compressed;

  // Indexes (the large tables are the thread's reused WriterTables).
  std::unique_ptr<WriterTables> tables = TakeTables();
  FlatStringMap& key_ids = tables->key_ids;
  std::vector<KeyPosting>& postings = tables->postings;
  std::vector<uint32_t>& key_count = tables->key_count;
  std::vector<uint32_t>& key_log = tables->key_log;
  std::vector<uint32_t>& event_start = tables->event_start;
  FlatStringMap field_ids;  // field path -> index in fields
  std::vector<FieldEntry> fields;
  FlatStringMap& leaf_cache = tables->leaf_cache;
  std::vector<std::pair<uint32_t, uint32_t>>& leaf_ranges = tables->leaf_ranges;
  std::vector<uint32_t>& leaf_keys = tables->leaf_keys;
  std::vector<ColumnBuilder> columns;  // one per opt.columns
  // One per opt.hashed_fields: ValueHash of each event's first such leaf, 0 = absent.
  std::vector<std::vector<uint64_t>> hashes;
  int sourcetype_column = -1, source_column = -1, host_column = -1, fields_column = -1;
  LeafWalker walker;
  std::vector<uint32_t> walker_fields;  // the walker's field id -> index in fields
  // The same for the events' indexed fields (cloudtrail::Event::fields), walked after the JSON.
  LeafWalker fields_walker;
  std::vector<uint32_t> fields_walker_fields;
  std::string key_buf;
  std::string lower_buf;
  std::vector<std::string_view> terms;
  std::vector<size_t> key_ends;
  std::vector<uint64_t> key_hashes;    // in key_ids (KeyHash)
  std::vector<uint64_t> value_hashes;  // of the keys' values (BloomHash)
  std::vector<SectionMeta> sections;

  Status Append(std::string_view data) {
    Status s = file->Append(data);
    if (!s.ok()) {
      failed = true;
      return s;
    }
    offset += data.size();
    run_crc = Crc32(data, run_crc);
    return Status::Ok();
  }

  // The id of `key` (created with no events when new).
  uint32_t KeyIdHashed(std::string_view key, uint64_t hash, uint32_t field) {
    bool inserted;
    std::string_view stored;
    uint32_t* id = key_ids.FindOrInsertHashed(key, hash, static_cast<uint32_t>(postings.size()),
                                              &inserted, &stored);
    if (inserted) {
      KeyPosting p;
      p.field = field;
      p.key = stored;
      postings.push_back(p);
      key_count.push_back(0);
    }
    return *id;
  }
  void AddKeyId(uint32_t id) {
    key_log.push_back(id);
    ++key_count[id];
  }
  // Builds the keys of leaf (fid, value) in key_buf/key_ends, its field key first, then its terms,
  // with their hashes in key_hashes; with `prefetch`, their slots are prefetched, so the cache
  // misses of the lookups that follow overlap.
  void BuildLeafKeys(uint32_t fid, std::string_view value, bool prefetch) {
    key_buf.clear();
    key_ends.clear();
    key_buf.push_back(kFieldKeyPrefix);
    key_buf.append(fields[fid].name);
    key_buf.push_back('\0');
    AppendLower(&key_buf, value.substr(0, std::min(value.size(), size_t{4096})));
    key_ends.push_back(key_buf.size());
    SplitTerms(value, &lower_buf, &terms);
    for (std::string_view t : terms) {
      key_buf.push_back(kTermKeyPrefix);
      key_buf.append(t);
      key_ends.push_back(key_buf.size());
    }
    // Each key's value is hashed once, for the Bloom filters (BloomHash), and its hash in the key
    // table is derived from that; a term that is the whole lowered value (a UUID, an id) reuses
    // the value's hash.
    key_hashes.clear();
    value_hashes.clear();
    const size_t value_at = 2 + fields[fid].name.size();
    const std::string_view lowered =
        std::string_view(key_buf).substr(value_at, key_ends[0] - value_at);
    size_t begin = 0;
    for (size_t i = 0; i < key_ends.size(); ++i) {
      const std::string_view v = std::string_view(key_buf)
                                     .substr(begin, key_ends[i] - begin)
                                     .substr(i == 0 ? value_at : 1);
      const uint64_t vh = i > 0 && v == lowered ? value_hashes[0] : Hash64(v);
      const uint64_t h = KeyHash(vh, i == 0 ? fid : kTermField);
      value_hashes.push_back(vh);
      key_hashes.push_back(h);
      if (prefetch) key_ids.Prefetch(h);
      begin = key_ends[i];
    }
  }
  std::string_view BuiltKey(size_t i) const {
    size_t begin = i == 0 ? 0 : key_ends[i - 1];
    return std::string_view(key_buf).substr(begin, key_ends[i] - begin);
  }
  // Appends the key ids of leaf (fid, value) to `out`, adding keys new to the table.
  void LeafKeys(uint32_t fid, std::string_view value, std::vector<uint32_t>* out) {
    BuildLeafKeys(fid, value, true);
    for (size_t i = 0; i < key_ends.size(); ++i) {
      out->push_back(KeyIdHashed(BuiltKey(i), key_hashes[i], i == 0 ? fid : kTermField));
    }
  }
  // The keys of a near-unique field's leaf, kept aside as LooseKeys (see there).
  void LooseLeafKeys(uint32_t fid, std::string_view value, uint32_t ordinal) {
    BuildLeafKeys(fid, value, false);
    for (size_t i = 0; i < key_ends.size(); ++i) {
      std::string_view key = BuiltKey(i);
      const uint32_t field = i == 0 ? fid : kTermField;
      tables->loose.push_back(LooseKey{key_hashes[i], value_hashes[i],
                                       static_cast<uint32_t>(tables->loose_bytes.size()),
                                       static_cast<uint32_t>(key.size()), ordinal, field});
      tables->loose_bytes.append(key);
    }
  }
  std::string_view LooseKeyText(const LooseKey& k) const {
    return std::string_view(tables->loose_bytes).substr(k.at, k.len);
  }
  // The JSON column of `path`, or -1.
  int JsonColumnOf(std::string_view path) const {
    for (size_t c = 0; c < opt.columns.size(); ++c) {
      if (opt.columns[c].json && opt.columns[c].name == path) return static_cast<int>(c);
    }
    return -1;
  }
  uint32_t FieldId(std::string_view path) {
    bool inserted;
    std::string_view stored;
    uint32_t* id =
        field_ids.FindOrInsert(path, static_cast<uint32_t>(fields.size()), &inserted, &stored);
    if (inserted) {
      FieldEntry f;
      f.column = path == kTimeField ? -2 : JsonColumnOf(path);
      for (size_t h = 0; f.column == -1 && h < opt.hashed_fields.size(); ++h) {
        if (opt.hashed_fields[h] == path) f.hashed = static_cast<int>(h);
      }
      f.name = stored;
      fields.push_back(f);
    }
    return *id;
  }

  // Adds one leaf of event `ord` to the columns, value hashes and key tables. `walker_ids` maps
  // the field numbers of the walker that found it to this segment's.
  void IndexLeaf(const Leaf& leaf, std::vector<uint32_t>* walker_ids, uint32_t ord) {
    Impl& m = *this;
    if (leaf.field_id >= walker_ids->size()) walker_ids->resize(leaf.field_id + 1, UINT32_MAX);
    uint32_t& mapped = (*walker_ids)[leaf.field_id];
    if (mapped == UINT32_MAX) mapped = m.FieldId(leaf.field);
    const uint32_t fid = mapped;
    FieldEntry& f = m.fields[fid];
    if (f.column == -2) return;
    if (f.column >= 0) {
      m.SetColumn(static_cast<size_t>(f.column), leaf.value, ord);
      return;
    }
    if (f.hashed >= 0) m.SetHash(static_cast<size_t>(f.hashed), leaf.value, ord);
    if (f.last_ordinal != ord) {
      f.last_ordinal = ord;
      ++f.event_count;
    }
    ++f.occurrences;
    if (f.no_cache) {
      m.LooseLeafKeys(fid, leaf.value, ord);
      return;
    }
    std::string_view cached = leaf.value.substr(0, std::min(leaf.value.size(), size_t{4096}));
    bool inserted;
    uint32_t* r =
        m.leaf_cache.FindOrInsertTagged(fid, cached, FlatStringMap::HashTagged(fid, cached),
                                        static_cast<uint32_t>(m.leaf_ranges.size()), &inserted);
    if (inserted) {
      uint32_t start = static_cast<uint32_t>(m.leaf_keys.size());
      m.LeafKeys(fid, leaf.value, &m.leaf_keys);
      m.leaf_ranges.emplace_back(start, static_cast<uint32_t>(m.leaf_keys.size()) - start);
      FieldEntry& f2 = m.fields[fid];
      ++f2.misses;
      if (f2.occurrences >= 256 && f2.misses * 10 > f2.occurrences * 8) f2.no_cache = true;
    }
    auto [start, count] = m.leaf_ranges[*r];
    for (uint32_t i = 0; i < count; ++i) m.AddKeyId(m.leaf_keys[start + i]);
  }

  void SetColumn(size_t c, std::string_view value, uint32_t ordinal) {
    ColumnBuilder& col = columns[c];
    if (col.per_event.size() > ordinal) return;  // first occurrence wins
    col.per_event.resize(ordinal, 0);
    if (col.last_code != 0 && value == col.last_value) {
      col.per_event.push_back(col.last_code);
      return;
    }
    bool inserted;
    std::string_view stored;
    uint32_t* code = col.codes.FindOrInsert(value, static_cast<uint32_t>(col.values.size() + 1),
                                            &inserted, &stored);
    if (inserted) col.values.push_back(stored);
    col.per_event.push_back(*code);
    col.last_value = stored;
    col.last_code = *code;
  }

  void SetHash(size_t h, std::string_view value, uint32_t ordinal) {
    std::vector<uint64_t>& per_event = hashes[h];
    if (per_event.size() > ordinal) return;  // first occurrence wins
    per_event.resize(ordinal, 0);
    per_event.push_back(ValueHash(value));
  }

  // The lane of event `ordinal`, whose columns are set: its event name's, given on first sight to
  // the lane that has had the fewest bytes so far.
  uint8_t LaneOf(uint32_t ordinal) {
    uint32_t code = 0;
    if (name_column >= 0) {
      const std::vector<uint32_t>& codes = columns[static_cast<size_t>(name_column)].per_event;
      if (codes.size() > ordinal) code = codes[ordinal];
    }
    if (code >= lane_of_name.size()) lane_of_name.resize(code + 1, kNoLane);
    if (lane_of_name[code] == kNoLane) {
      size_t least = 0;
      for (size_t l = 1; l < lanes.size(); ++l) {
        if (lanes[l].bytes < lanes[least].bytes) least = l;
      }
      lane_of_name[code] = static_cast<uint8_t>(least);
    }
    return lane_of_name[code];
  }

  Status FlushBlock(uint8_t lane) {
    LaneBlock& lb = lanes[lane];
    const uint32_t block_count = static_cast<uint32_t>(lb.ordinals.size());
    if (block_count == 0) return Status::Ok();
    constexpr size_t kLengthRoom = LaneBlock::kLengthRoom;
    std::string_view block;
    const size_t lengths = lb.lengths.size();
    if (lengths <= kLengthRoom) {
      char* at = lb.data.data() + kLengthRoom - lengths;
      std::memcpy(at, lb.lengths.data(), lengths);
      block = std::string_view(at, lb.data.size() - (kLengthRoom - lengths));
    } else {  // very many small events
      block_buf.assign(lb.lengths);
      block_buf.append(lb.data, kLengthRoom);
      block = block_buf;
    }
    compressed.clear();
    RETURN_IF_ERROR(CompressFrame(block, opt.zstd_level, &compressed));
    BlockMeta b;
    b.offset = offset;
    b.csize = static_cast<uint32_t>(compressed.size());
    b.rsize = static_cast<uint32_t>(block.size());
    b.first = lb.first;
    b.count = block_count;
    b.min_time = lb.min;
    b.max_time = lb.max;
    b.crc = Crc32(compressed);
    b.lane = lane;
    RETURN_IF_ERROR(Append(compressed));
    blocks_crc = Crc32(compressed, blocks_crc);
    if (block_of.size() < count) block_of.resize(count);
    for (uint32_t o : lb.ordinals) block_of[o] = static_cast<uint32_t>(blocks.size());
    blocks.push_back(b);
    lb.lengths.clear();
    lb.data.resize(kLengthRoom);
    lb.ordinals.clear();
    lb.first = lb.ranks;
    lb.min = INT64_MAX;
    lb.max = INT64_MIN;
    return Status::Ok();
  }

  Status WriteSection(SectionId id, std::string_view data, uint32_t raw_size) {
    SectionMeta m{id, offset, data.size(), Crc32(data), raw_size};
    RETURN_IF_ERROR(Append(data));
    sections.push_back(m);
    return Status::Ok();
  }
  Status WriteCompressedSection(SectionId id, std::string_view raw) {
    std::string c;
    RETURN_IF_ERROR(CompressFrame(raw, opt.meta_zstd_level, &c));
    return WriteSection(id, c, static_cast<uint32_t>(raw.size()));
  }

  // Checks opt.columns and prepares one builder per column.
  Status SetUpColumns() {
    if (opt.format_version < 4 && opt.columns.data() == DefaultColumns().data()) {
      // The current list has grown past the legacy one that formats 2 and 3 hold.
      static const std::vector<ColumnSpec> legacy_specs = [] {
        std::vector<ColumnSpec> v;
        for (size_t c = 0; c < std::size(kLegacyColumnFields); ++c)
          v.push_back({kLegacyColumnFields[c], c < kLegacyJsonColumnCount});
        return v;
      }();
      opt.columns = legacy_specs;
    }
    const auto& specs = opt.columns;
    if (opt.format_version < 4) {
      // Formats 2 and 3 do not name their columns: they hold exactly the legacy list.
      bool legacy = specs.size() == std::size(kLegacyColumnFields);
      for (size_t c = 0; legacy && c < specs.size(); ++c) {
        legacy = specs[c].name == kLegacyColumnFields[c] &&
                 specs[c].json == (c < kLegacyJsonColumnCount);
      }
      if (!legacy)
        return InvalidArgument("format {} cannot name other columns", opt.format_version);
    }
    if (specs.size() > kMaxColumns) return InvalidArgument("more than {} columns", kMaxColumns);
    for (size_t c = 0; c < specs.size(); ++c) {
      const ColumnSpec& spec = specs[c];
      if (spec.name.empty() || spec.name.size() > kMaxColumnNameBytes) {
        return InvalidArgument("column name \"{}\" is empty or too long", spec.name);
      }
      for (size_t d = 0; d < c; ++d) {
        if (specs[d].name == spec.name) return InvalidArgument("column {} listed twice", spec.name);
      }
      if (spec.json) {
        if (spec.name == "eventName") name_column = static_cast<int>(c);
        continue;
      }
      if (spec.name == "sourcetype") {
        sourcetype_column = static_cast<int>(c);
      } else if (spec.name == "source") {
        source_column = static_cast<int>(c);
      } else if (spec.name == "host") {
        host_column = static_cast<int>(c);
      } else if (spec.name == kIndexedFieldsColumnName) {
        fields_column = static_cast<int>(c);
      } else {
        return InvalidArgument("no event metadata is called {}", spec.name);
      }
    }
    columns.clear();
    columns.resize(specs.size());
    if (opt.format_version < 4) {  // formats 2 and 3 have no place for them
      opt.hashed_fields = {};
      opt.column_term_filter = false;
    }
    for (size_t h = 0; h < opt.hashed_fields.size(); ++h) {
      const std::string_view name = opt.hashed_fields[h];
      if (name.empty() || name.size() > kMaxColumnNameBytes) {
        return InvalidArgument("hashed field name \"{}\" is empty or too long", name);
      }
      for (size_t d = 0; d < h; ++d) {
        if (opt.hashed_fields[d] == name)
          return InvalidArgument("hashed field {} listed twice", name);
      }
    }
    if (specs.size() + opt.hashed_fields.size() > kMaxColumns) {
      return InvalidArgument("more than {} columns", kMaxColumns);
    }
    hashes.assign(opt.hashed_fields.size(), {});
    return Status::Ok();
  }

  // Section 6: the column directory, then a dictionary frame and a codes frame per column
  // (docs/format/segment.md). Format 4 names each column and checksums the directory.
  Status WriteColumns() {
    const bool named = opt.format_version >= 4;
    uint64_t dir_size = 4 + columns.size() * 2 * kColumnFrameEntryBytes;
    if (named) {
      dir_size = 8 + 4;  // size, count; the CRC
      for (const ColumnSpec& spec : opt.columns) {
        dir_size += 3 + spec.name.size() + 2 * kColumnFrameEntryBytes;
      }
      for (std::string_view name : opt.hashed_fields) {
        dir_size += 3 + name.size() + 2 * kColumnFrameEntryBytes;
      }
      if (opt.column_term_filter) {
        dir_size += 3 + kColumnTermFilterName.size() + 2 * kColumnFrameEntryBytes;
      }
    }
    std::string dir, blobs, raw;
    if (named) PutFixed32(&dir, static_cast<uint32_t>(dir_size));
    PutFixed32(
        &dir, static_cast<uint32_t>(
                  columns.size() + (named ? hashes.size() + (opt.column_term_filter ? 1 : 0) : 0)));
    auto add_frame = [&](std::string_view bytes) -> Status {
      std::string c_bytes;
      RETURN_IF_ERROR(CompressFrame(bytes, opt.meta_zstd_level, &c_bytes));
      PutFixed64(&dir, dir_size + blobs.size());
      PutFixed32(&dir, static_cast<uint32_t>(c_bytes.size()));
      PutFixed32(&dir, static_cast<uint32_t>(bytes.size()));
      PutFixed32(&dir, Crc32(c_bytes));
      blobs.append(c_bytes);
      return Status::Ok();
    };
    for (size_t c = 0; c < columns.size(); ++c) {
      if (named) {
        dir.push_back(
            static_cast<char>(opt.columns[c].json ? kColumnKindJson : kColumnKindMetadata));
        dir.push_back(static_cast<char>(opt.columns[c].name.size() & 0xff));
        dir.push_back(static_cast<char>(opt.columns[c].name.size() >> 8));
        dir.append(opt.columns[c].name);
      }
      ColumnBuilder& col = columns[c];
      col.per_event.resize(count, 0);
      std::vector<uint32_t> order(col.values.size());
      for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(),
                [&](uint32_t a, uint32_t b) { return col.values[a] < col.values[b]; });
      std::vector<uint32_t> remap(col.values.size() + 1, 0);
      for (uint32_t i = 0; i < order.size(); ++i) remap[order[i] + 1] = i + 1;
      // Events per value, so whole-segment counts and distinct counts need no codes.
      std::vector<uint32_t> counts(order.size() + 1, 0);
      for (uint32_t code : col.per_event) ++counts[remap[code]];
      raw.clear();
      PutVarint(&raw, order.size());
      for (uint32_t i : order) PutLengthPrefixed(&raw, col.values[i]);
      if (opt.format_version >= 3) {
        for (uint32_t k = 1; k <= order.size(); ++k) PutVarint(&raw, counts[k]);
      }
      RETURN_IF_ERROR(add_frame(raw));
      uint8_t width = order.size() < 255 ? 1 : order.size() < 65535 ? 2 : 4;
      raw.clear();
      raw.push_back(static_cast<char>(width));
      for (uint32_t code : col.per_event) {
        uint32_t v = remap[code];
        for (int i = 0; i < width; ++i) raw.push_back(static_cast<char>(v >> (8 * i)));
      }
      RETURN_IF_ERROR(add_frame(raw));
    }
    // Value hashes: the number of events holding the field, then 8 little-endian bytes per event.
    for (size_t h = 0; named && h < hashes.size(); ++h) {
      const std::string_view name = opt.hashed_fields[h];
      dir.push_back(static_cast<char>(kColumnKindValueHashes));
      dir.push_back(static_cast<char>(name.size() & 0xff));
      dir.push_back(static_cast<char>(name.size() >> 8));
      dir.append(name);
      std::vector<uint64_t>& per_event = hashes[h];
      per_event.resize(count, 0);
      raw.clear();
      PutVarint(&raw, static_cast<uint64_t>(std::count_if(per_event.begin(), per_event.end(),
                                                          [](uint64_t x) { return x != 0; })));
      RETURN_IF_ERROR(add_frame(raw));
      raw.clear();
      raw.reserve(per_event.size() * 8);
      for (uint64_t x : per_event) PutFixed64(&raw, x);
      RETURN_IF_ERROR(add_frame(raw));
    }
    // The term filter: `varint bits, varint probes, varint flags`, then the bits (bit b in byte
    // b / 8): every (column, term) and (column, pair of pieces side by side).
    if (named && opt.column_term_filter) {
      std::vector<uint64_t> keys;
      std::string lower;
      std::vector<std::string_view> pieces;
      for (size_t c = 0; c < columns.size(); ++c) {
        if (!opt.columns[c].json) continue;
        const uint64_t seed = Hash64(opt.columns[c].name);
        for (std::string_view v : columns[c].values) {
          SplitTerms(v, &lower, &pieces);
          for (std::string_view t : pieces) keys.push_back(Hash64(t, seed));
          if (!opt.column_term_filter_pairs) continue;
          SplitPieces(v, &lower, &pieces);
          for (size_t i = 1; i < pieces.size(); ++i) {
            keys.push_back(ColumnPairHash(pieces[i - 1], pieces[i], seed));
          }
        }
      }
      std::sort(keys.begin(), keys.end());
      keys.erase(std::unique(keys.begin(), keys.end()), keys.end());
      const uint64_t bits =
          std::max<uint64_t>(64, (keys.size() * kColumnTermFilterBitsPerKey + 63) / 64 * 64);
      std::string filter(bits / 8, '\0');
      for (uint64_t h : keys) {
        for (uint32_t i = 0; i < kColumnTermFilterProbes; ++i) {
          const uint64_t b = ColumnTermBit(h, i, bits);
          filter[b / 8] = static_cast<char>(filter[b / 8] | (1 << (b % 8)));
        }
      }
      dir.push_back(static_cast<char>(kColumnKindTermFilter));
      dir.push_back(static_cast<char>(kColumnTermFilterName.size()));
      dir.push_back(0);
      dir.append(kColumnTermFilterName);
      raw.clear();
      PutVarint(&raw, bits);
      PutVarint(&raw, kColumnTermFilterProbes);
      if (opt.column_term_filter_pairs) PutVarint(&raw, kColumnTermFilterPairs);
      RETURN_IF_ERROR(add_frame(raw));
      RETURN_IF_ERROR(add_frame(filter));
    }
    if (named) PutFixed32(&dir, Crc32(dir));
    if (dir.size() != dir_size)
      return Internal("column directory of {} bytes, expected {}", dir.size(), dir_size);
    dir.append(blobs);
    return WriteSection(SectionId::kColumns, dir, 0);
  }

  size_t BlockOf(uint32_t ordinal) const { return block_of[ordinal]; }
};

SegmentWriter::SegmentWriter(FileSystem* fs, std::string path, int64_t partition,
                             SegmentWriterOptions options)
    : impl_(new Impl) {
  impl_->fs = fs;
  impl_->path = std::move(path);
  impl_->partition = partition;
  impl_->opt = options;
}

SegmentWriter::~SegmentWriter() = default;

uint32_t SegmentWriter::event_count() const { return impl_->count; }

Status SegmentWriter::Open() {
  Impl& m = *impl_;
  if (m.opt.format_version < kOldestSegmentVersion || m.opt.format_version > kSegmentVersion) {
    return InvalidArgument("segment format {} cannot be written", m.opt.format_version);
  }
  RETURN_IF_ERROR(m.SetUpColumns());
  if (m.opt.block_bytes == 0 || m.opt.block_bytes > kMaxBlockTargetBytes) {
    return InvalidArgument("block_bytes {} is not within 1 and {}", m.opt.block_bytes,
                           kMaxBlockTargetBytes);
  }
  if (m.opt.raw_lanes == 0 || m.opt.raw_lanes > kMaxLanes) {
    return InvalidArgument("raw_lanes {} is not within 1 and {}", m.opt.raw_lanes, kMaxLanes);
  }
  if (m.opt.expected_events > 0) {
    // Size the key table once instead of doubling it (each doubling rehashes every slot): under
    // one distinct key per event in CloudTrail once near-unique fields' keys are kept out of it
    // (measured on generated data: ~30k keys, ~615k loose keys per 45k events); it grows past the
    // hint as usual.
    const size_t keys = static_cast<size_t>(m.opt.expected_events);
    m.key_ids.Reserve(keys);
    m.postings.reserve(keys);
    m.key_count.reserve(keys);
    m.event_start.reserve(m.opt.expected_events + 1);
  }
  ASSIGN_OR_RETURN(m.file, m.fs->NewWritableFile(m.path));
  std::string header(kSegmentMagic);
  PutFixed32(&header, m.opt.format_version);
  PutFixed32(&header, 0);
  return m.Append(header);
}

Status SegmentWriter::Add(const cloudtrail::Event& e) {
  Impl& m = *impl_;
  if (m.failed) return Internal("segment writer for {} already failed", m.path);
  if (!m.tables) return Internal("segment writer for {} already finished", m.path);
  if (e.time_ms < m.last_time) {
    return InvalidArgument("segment {}: events out of time order", m.path);
  }
  if (PartitionOf(e.time_ms) != m.partition) {
    return InvalidArgument("segment {}: event time {} outside partition day {}", m.path, e.time_ms,
                           m.partition);
  }
  if (e.raw.size() > kMaxEventBytes) {
    return InvalidArgument("event {} of {} bytes is larger than the store's limit of {}",
                           e.event_id, e.raw.size(), kMaxEventBytes);
  }
  if (m.count >= kMaxSegmentEvents) {
    return InvalidArgument("segment {} already holds the format's maximum of {} events", m.path,
                           kMaxSegmentEvents);
  }
  const uint32_t ord = m.count;
  m.event_start.push_back(static_cast<uint32_t>(m.key_log.size()));

  // Index the JSON leaves first: a malformed event must not leave partial rows behind.
  // (Postings already added for this ordinal are harmless only if we fail the whole segment,
  // which the caller does on any error.)
  Status walk = m.walker.Parse(e.raw, e.raw.padded());
  if (!walk.ok()) {
    m.failed = true;
    return walk.WithContext(fmt::format("event {} ({})", e.event_id, e.source.view()));
  }
  for (const Leaf& leaf : m.walker.leaves()) m.IndexLeaf(leaf, &m.walker_fields, ord);
  if (!e.fields.empty() && m.fields_column >= 0) {
    // Indexed fields are searched like the event's own leaves: their keys go into the same tables.
    Status fw = m.fields_walker.Parse(e.fields);
    if (!fw.ok()) {
      m.failed = true;
      return fw.WithContext(fmt::format("indexed fields of event {}", e.event_id));
    }
    for (const Leaf& leaf : m.fields_walker.leaves()) {
      m.IndexLeaf(leaf, &m.fields_walker_fields, ord);
    }
    m.SetColumn(m.fields_column, e.fields, ord);
  }
  if (m.sourcetype_column >= 0) m.SetColumn(m.sourcetype_column, e.sourcetype, ord);
  if (m.source_column >= 0) m.SetColumn(m.source_column, e.source.view(), ord);
  if (m.host_column >= 0 && !e.host.empty()) m.SetColumn(m.host_column, e.host, ord);

  // Time, ids.
  if (m.count == 0) m.last_time = e.time_ms;
  PutVarint(&m.time_bytes, ZigZag(e.time_ms - (m.count == 0 ? e.time_ms : m.last_time)));
  if (m.count == 0) m.min_time = e.time_ms;
  m.min_time = std::min(m.min_time, e.time_ms);
  m.max_time = std::max(m.max_time, e.time_ms);
  m.last_time = e.time_ms;
  auto acc = m.accounts.find(e.account);
  uint32_t acc_code;
  if (acc == m.accounts.end()) {
    acc_code = static_cast<uint32_t>(m.account_values.size());
    m.account_values.push_back(e.account);
    m.accounts.emplace(e.account, acc_code);
  } else {
    acc_code = acc->second;
  }
  // The event id is usually the raw event's own eventID: then only a flag is stored and the
  // reader takes it from the raw bytes (docs/format/segment.md, section 5).
  bool derived = false;
  std::string_view raw = e.raw;
  size_t at = FindEventIdMarker(raw);
  if (at != std::string::npos) {
    size_t start = at + kEventIdMarker.size();
    size_t end = raw.find('"', start);
    derived = end != std::string::npos && raw.substr(start, end - start) == e.event_id;
  }
  PutVarint(&m.id_bytes, (uint64_t{acc_code} << 1) | (derived ? 1 : 0));
  if (!derived) PutLengthPrefixed(&m.id_bytes, e.event_id);

  // Raw block of the event's lane.
  const uint8_t lane = m.laned ? m.LaneOf(ord) : 0;
  m.lane_of.push_back(lane);
  LaneBlock& lb = m.lanes[lane];
  PutVarint(&lb.lengths, raw.size());
  lb.data.append(raw);
  lb.ordinals.push_back(ord);
  ++lb.ranks;
  lb.bytes += raw.size();
  lb.min = std::min(lb.min, e.time_ms);
  lb.max = std::max(lb.max, e.time_ms);
  ++m.count;
  if (lb.data.size() - LaneBlock::kLengthRoom >= m.opt.block_bytes) {
    RETURN_IF_ERROR(m.FlushBlock(lane));
    if (!m.laned && m.opt.raw_lanes > 1 && m.opt.format_version >= 5) {
      m.laned = true;
      m.lanes.resize(m.opt.raw_lanes);
    }
  }
  return Status::Ok();
}

Result<SegmentFileInfo> SegmentWriter::Finish() {
  Impl& m = *impl_;
  if (m.failed) return Internal("segment writer for {} already failed", m.path);
  if (!m.tables) return Internal("segment writer for {} already finished", m.path);
  if (m.count == 0) return InvalidArgument("segment {} has no events", m.path);
  uint64_t blocks_begin = kSegmentHeaderSize;
  for (size_t l = 0; l < m.lanes.size(); ++l)
    RETURN_IF_ERROR(m.FlushBlock(static_cast<uint8_t>(l)));
  m.sections.push_back(
      SectionMeta{SectionId::kBlocks, blocks_begin, m.offset - blocks_begin, m.blocks_crc, 0});

  // Keys table: every key held by two or more events, sorted. Keys held by one event, and the
  // loose keys of near-unique fields (LooseKey), go to the Bloom filter of their event's block
  // instead.
  // Postings from the key log: counting sort by key, then drop repeats within one event.
  std::vector<uint32_t>& ords = m.tables->ords;
  // Loose keys that an event put into the table join its posting; the rest stay loose.
  std::vector<std::pair<uint32_t, uint32_t>> joined;  // (ordinal, key id), ordinal order
  const std::vector<LooseKey>& loose = m.tables->loose;
  std::vector<char> is_joined(loose.size(), 0);
  {
    for (size_t i = 0; i < loose.size(); ++i) {
      if (i + kPrefetchAhead < loose.size()) m.key_ids.Prefetch(loose[i + kPrefetchAhead].hash);
      const LooseKey& lk = loose[i];
      if (const uint32_t* id = m.key_ids.FindHashed(m.LooseKeyText(lk), lk.hash)) {
        ++m.key_count[*id];
        joined.emplace_back(lk.ordinal, *id);
        is_joined[i] = 1;
      }
    }
    ords.resize(m.key_log.size() + joined.size());
    std::vector<uint32_t> pos(m.postings.size());
    uint32_t sum = 0;
    for (uint32_t k = 0; k < m.postings.size(); ++k) {
      pos[k] = sum;
      sum += m.key_count[k];
    }
    m.event_start.push_back(static_cast<uint32_t>(m.key_log.size()));
    size_t next_joined = 0;
    for (uint32_t o = 0; o < m.count; ++o) {
      for (uint32_t i = m.event_start[o]; i < m.event_start[o + 1]; ++i)
        ords[pos[m.key_log[i]]++] = o;
      for (; next_joined < joined.size() && joined[next_joined].first == o; ++next_joined) {
        ords[pos[joined[next_joined].second]++] = o;
      }
    }
    uint32_t begin = 0;
    for (uint32_t k = 0; k < m.postings.size(); ++k) {
      uint32_t end = begin + m.key_count[k];
      uint32_t out = begin;
      for (uint32_t i = begin; i < end; ++i) {
        if (out == begin || ords[out - 1] != ords[i]) ords[out++] = ords[i];
      }
      KeyPosting& p = m.postings[k];
      p.count = out - begin;
      p.ords = ords.data() + begin;
      p.first = p.count ? p.ords[0] : 0;
      begin = end;
    }
  }
  std::vector<uint32_t> keys;
  keys.reserve(m.postings.size());
  std::vector<uint32_t> singles_per_block(m.blocks.size(), 0);
  uint64_t term_singletons = 0, term_keys = 0;
  for (uint32_t id = 0; id < m.postings.size(); ++id) {
    const KeyPosting& p = m.postings[id];
    if (p.count == 0) continue;
    if (p.count >= 2) {
      keys.push_back(id);
    } else {
      ++singles_per_block[m.BlockOf(p.first)];
    }
    if (p.field == kTermField) {
      ++(p.count >= 2 ? term_keys : term_singletons);
    } else {
      ++(p.count >= 2 ? m.fields[p.field].keys : m.fields[p.field].singletons);
    }
  }
  // Loose keys count as singletons, and size the filters by the distinct values a block holds: a
  // leaf's value and its whole term are often the same text (a UUID: "F eventID=<uuid>" and
  // "T <uuid>"), which hash alike and set the same bits. Such repeats sit close together among an
  // event's loose keys; the last 8 distinct hashes of the event are compared.
  uint32_t recent_ordinal = UINT32_MAX;
  uint64_t recent[8];
  uint32_t recent_count = 0;
  for (size_t i = 0; i < loose.size(); ++i) {
    if (is_joined[i]) continue;
    const LooseKey& lk = loose[i];
    if (lk.ordinal != recent_ordinal) {
      recent_ordinal = lk.ordinal;
      recent_count = 0;
    }
    bool repeat = false;
    for (uint32_t j = 0; j < std::min<uint32_t>(recent_count, 8); ++j)
      repeat |= recent[j] == lk.bloom_hash;
    if (!repeat) {
      recent[recent_count++ % 8] = lk.bloom_hash;
      ++singles_per_block[m.BlockOf(lk.ordinal)];
    }
    if (lk.field == kTermField) {
      ++term_singletons;
    } else {
      ++m.fields[lk.field].singletons;
    }
  }
  {
    // Sort by the first 8 key bytes (big-endian, so integer order is byte order) held beside the
    // id, comparing whole keys only on ties: most comparisons then stay in this array instead of
    // missing the cache in the key arena.
    std::vector<std::pair<uint64_t, uint32_t>> order(keys.size());
    for (size_t i = 0; i < keys.size(); ++i) {
      std::string_view k = m.postings[keys[i]].key;
      uint64_t prefix = 0;
      for (size_t j = 0; j < 8; ++j) {
        prefix = (prefix << 8) | (j < k.size() ? static_cast<uint8_t>(k[j]) : 0);
      }
      order[i] = {prefix, keys[i]};
    }
    std::sort(order.begin(), order.end(), [&](const auto& a, const auto& b) {
      if (a.first != b.first) return a.first < b.first;
      return m.postings[a.second].key < m.postings[b.second].key;
    });
    for (size_t i = 0; i < keys.size(); ++i) keys[i] = order[i].second;
  }

  // Bloom filters, bit-sliced (docs/format/segment.md, section 3): one filter of `rows` bits per
  // block, stored row by row so that a probe reads k rows of one bit per block. Each block's
  // filter is built on its own first, in a few KB that stay in the cache while the k probes of
  // its keys set bits (loose keys come block after block), and the filters are then sliced into
  // rows in one pass, instead of k writes per key spread over the whole section.
  {
    const uint32_t nblocks = static_cast<uint32_t>(m.blocks.size());
    uint32_t most = 0;
    for (uint32_t n : singles_per_block) most = std::max(most, n);
    const uint64_t rows = static_cast<uint64_t>(most) * m.opt.bloom_bits_per_key;
    const uint32_t row_bytes = (nblocks + 7) / 8;
    std::string bits(rows * row_bytes, '\0');
    if (rows > 0) {
      const uint64_t words = (rows + 63) / 64;  // of one block's filter
      std::vector<uint64_t> filters(words * row_bytes * 8, 0);
      auto add = [&](uint64_t h, uint32_t b) {
        uint64_t* f = filters.data() + uint64_t{b} * words;
        for (int i = 0; i < kBloomProbes; ++i) {
          const uint64_t row = BloomRow(m.opt.format_version, h, i, rows);
          f[row / 64] |= uint64_t{1} << (row % 64);
        }
      };
      for (const KeyPosting& p : m.postings) {
        if (p.count == 1) {
          add(BloomHash(p.key, p.field, p.field == kTermField ? "" : m.fields[p.field].name),
              static_cast<uint32_t>(m.BlockOf(p.first)));
        }
      }
      for (size_t i = 0; i < loose.size(); ++i) {
        if (!is_joined[i]) {
          add(loose[i].bloom_hash, static_cast<uint32_t>(m.BlockOf(loose[i].ordinal)));
        }
      }
      SliceBloomFilters(filters.data(), words, rows, row_bytes, bits.data());
    }
    std::string bytes, chunk_crcs;
    for (size_t at = 0; at < bits.size(); at += kBloomChunkBytes) {
      PutFixed32(&chunk_crcs, Crc32(std::string_view(bits).substr(at, kBloomChunkBytes)));
    }
    PutFixed32(&bytes, static_cast<uint32_t>(rows));
    PutFixed32(&bytes, row_bytes);
    PutFixed32(&bytes, kBloomChunkBytes);
    // Format 4: the CRC of the header's first 12 bytes and the chunk CRCs (before: 0).
    PutFixed32(&bytes, m.opt.format_version >= 4 ? BloomHeaderCrc(bytes, chunk_crcs) : 0);
    bytes.append(bits);
    bytes.append(chunk_crcs);
    for (BlockMeta& b : m.blocks) b.bloom_offset = m.offset;  // unused since format 2
    RETURN_IF_ERROR(m.WriteSection(SectionId::kBlooms, bytes, 0));
  }
  {
    std::string bytes;
    for (const BlockMeta& b : m.blocks) {
      PutFixed64(&bytes, b.offset);
      PutFixed32(&bytes, b.csize);
      PutFixed32(&bytes, b.rsize);
      PutFixed32(&bytes, b.first);
      PutFixed32(&bytes, b.count);
      PutFixed64(&bytes, static_cast<uint64_t>(b.min_time));
      PutFixed64(&bytes, static_cast<uint64_t>(b.max_time));
      PutFixed32(&bytes, b.crc);
      PutFixed32(&bytes, b.lane);
      PutFixed64(&bytes, b.bloom_offset);
    }
    RETURN_IF_ERROR(m.WriteSection(SectionId::kBlockIndex, bytes, 0));
  }
  if (m.laned) {
    RETURN_IF_ERROR(m.WriteCompressedSection(
        SectionId::kLanes,
        std::string_view(reinterpret_cast<const char*>(m.lane_of.data()), m.lane_of.size())));
  }
  RETURN_IF_ERROR(m.WriteCompressedSection(SectionId::kTime, m.time_bytes));
  {
    std::string bytes;
    PutVarint(&bytes, m.account_values.size());
    for (const std::string& a : m.account_values) PutLengthPrefixed(&bytes, a);
    bytes.append(m.id_bytes);
    RETURN_IF_ERROR(m.WriteCompressedSection(SectionId::kIds, bytes));
  }
  RETURN_IF_ERROR(m.WriteColumns());
  {
    // Keys table in blocks with prefix-compressed keys.
    uint64_t begin = m.offset;
    m.run_crc = 0;
    std::string index;
    uint64_t nblocks = 0;
    std::string index_entries;
    std::string block;
    std::string_view prev_key;  // keys live in the key arena until the writer is destroyed
    std::string first_key;
    uint32_t entries = 0;
    auto flush = [&]() -> Status {
      if (entries == 0) return Status::Ok();
      std::string c;
      RETURN_IF_ERROR(CompressFrame(block, m.opt.meta_zstd_level, &c));
      PutLengthPrefixed(&index_entries, first_key);
      PutVarint(&index_entries, m.offset);
      PutVarint(&index_entries, c.size());
      PutVarint(&index_entries, block.size());
      PutVarint(&index_entries, entries);
      PutFixed32(&index_entries, Crc32(c));
      RETURN_IF_ERROR(m.Append(c));
      ++nblocks;
      block.clear();
      entries = 0;
      return Status::Ok();
    };
    std::string posting;
    for (uint32_t id : keys) {
      std::string_view key = m.postings[id].key;
      if (entries == 0) {
        first_key = key;
        prev_key = {};
      }
      size_t shared = 0;
      size_t lim = std::min(prev_key.size(), key.size());
      while (shared < lim && prev_key[shared] == key[shared]) ++shared;
      PutVarint(&block, shared);
      PutLengthPrefixed(&block, std::string_view(key).substr(shared));
      posting.clear();
      EncodePosting(m.postings[id], &posting);
      PutLengthPrefixed(&block, posting);
      prev_key = key;
      ++entries;
      if (block.size() >= m.opt.key_block_bytes) RETURN_IF_ERROR(flush());
    }
    RETURN_IF_ERROR(flush());
    m.sections.push_back(SectionMeta{SectionId::kKeys, begin, m.offset - begin, m.run_crc, 0});
    PutVarint(&index, nblocks);
    index.append(index_entries);
    RETURN_IF_ERROR(m.WriteCompressedSection(SectionId::kKeyIndex, index));
  }
  {
    std::vector<const FieldEntry*> fields;
    for (const FieldEntry& f : m.fields) {
      if (f.column == -1 && f.event_count > 0) fields.push_back(&f);
    }
    std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->name < b->name; });
    std::string bytes;
    PutVarint(&bytes, term_keys);
    PutVarint(&bytes, term_singletons);
    PutVarint(&bytes, fields.size());
    for (const FieldEntry* f : fields) {
      PutLengthPrefixed(&bytes, f->name);
      PutVarint(&bytes, f->event_count);
      PutVarint(&bytes, f->keys);
      PutVarint(&bytes, f->singletons);
    }
    RETURN_IF_ERROR(m.WriteCompressedSection(SectionId::kFieldCatalog, bytes));
  }

  std::string footer;
  PutFixed32(&footer, m.opt.format_version);
  PutFixed32(&footer, m.count);
  PutFixed64(&footer, static_cast<uint64_t>(m.min_time));
  PutFixed64(&footer, static_cast<uint64_t>(m.max_time));
  PutFixed64(&footer, static_cast<uint64_t>(m.partition));
  PutFixed32(&footer, static_cast<uint32_t>(m.blocks.size()));
  PutFixed32(&footer, static_cast<uint32_t>(m.sections.size()));
  for (const SectionMeta& s : m.sections) {
    PutFixed32(&footer, static_cast<uint32_t>(s.id));
    PutFixed64(&footer, s.offset);
    PutFixed64(&footer, s.size);
    PutFixed32(&footer, s.crc);
    PutFixed32(&footer, s.raw_size);
  }
  uint32_t footer_crc = Crc32(footer);
  std::string trailer;
  PutFixed32(&trailer, static_cast<uint32_t>(footer.size()));
  PutFixed32(&trailer, footer_crc);
  trailer.append(kSegmentEndMagic);
  RETURN_IF_ERROR(m.Append(footer));
  RETURN_IF_ERROR(m.Append(trailer));
  Status s = m.file->Sync();
  if (s.ok()) s = m.file->Close();
  if (!s.ok()) {
    m.failed = true;
    return s;
  }
  m.file.reset();
  // The tables go back to the thread now, not when the writer is destroyed: a commit spanning
  // several days writes its segments one after another while keeping every writer until the
  // manifest swap, and each later writer would otherwise grow new tables from nothing.
  KeepTables(std::move(m.tables));
  SegmentFileInfo info;
  info.path = m.path;
  info.file_size = m.offset;
  info.event_count = m.count;
  info.min_time = m.min_time;
  info.max_time = m.max_time;
  info.partition = m.partition;
  info.crc = footer_crc;
  return info;
}

void SegmentWriter::Abandon() {
  Impl& m = *impl_;
  if (m.file) {
    m.file->Close().IgnoreError();
    m.file.reset();
  }
  m.fs->RemoveFile(m.path).IgnoreError();
  m.failed = true;
}

}  // namespace cairn::store
