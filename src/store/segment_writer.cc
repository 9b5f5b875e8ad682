#include "store/segment_writer.h"

#include <roaring/roaring.h>

#include <algorithm>
#include <cstring>
#include <unordered_map>
#include <vector>

#include "store/encoding.h"
#include "store/fields.h"
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
struct KeyPosting {
  uint32_t count = 0;
  uint32_t first = 0;
  uint32_t last = 0;
  std::vector<uint32_t> more;  // ordinals after the first
};

struct FieldStat {
  uint32_t last_ordinal = UINT32_MAX;
  uint32_t event_count = 0;
  uint32_t keys = 0;
  uint32_t singletons = 0;
};

struct ColumnBuilder {
  StringMap codes;                  // value -> provisional code (1-based)
  std::vector<std::string> values;  // provisional code - 1 -> value
  std::vector<uint32_t> per_event;  // provisional codes, 0 = absent
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
  uint32_t bloom_words = 0;
  uint64_t bloom_offset = 0;
};

struct SectionMeta {
  SectionId id;
  uint64_t offset = 0;
  uint64_t size = 0;
  uint32_t crc = 0;
  uint32_t raw_size = 0;  // for whole-section zstd frames; 0 otherwise
};

void EncodePosting(const KeyPosting& p, std::string* out) {
  // Small lists as varint gaps; larger ones as the smaller of gaps and a run-optimized roaring.
  std::string gaps;
  PutVarint(&gaps, p.count);
  PutVarint(&gaps, p.first);
  uint32_t prev = p.first;
  for (uint32_t o : p.more) {
    PutVarint(&gaps, o - prev);
    prev = o;
  }
  if (p.count >= 64) {
    roaring_bitmap_t* r = roaring_bitmap_create();
    roaring_bitmap_add(r, p.first);
    roaring_bitmap_add_many(r, p.more.size(), p.more.data());
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

}  // namespace

struct SegmentWriter::Impl {
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

  // Raw blocks.
  std::string block_raw_lengths;
  std::string block_raw_data;
  uint32_t block_first = 0;
  uint32_t block_count = 0;
  int64_t block_min = INT64_MAX, block_max = INT64_MIN;
  std::vector<BlockMeta> blocks;
  std::string block_buf;
  std::string compressed;

  // Indexes.
  StringMap key_ids;
  std::vector<KeyPosting> postings;
  std::unordered_map<std::string, FieldStat, StringHash, std::equal_to<>> field_stats;
  std::vector<ColumnBuilder> columns = std::vector<ColumnBuilder>(kColumnCount);
  std::unordered_map<std::string_view, int> column_of;
  LeafWalker walker;
  std::string key_buf;
  std::string lower_buf;
  std::vector<std::string_view> terms;
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

  void AddKey(std::string_view key, uint32_t ordinal) {
    auto it = key_ids.find(key);
    if (it == key_ids.end()) {
      key_ids.emplace(std::string(key), static_cast<uint32_t>(postings.size()));
      KeyPosting p;
      p.count = 1;
      p.first = p.last = ordinal;
      postings.push_back(std::move(p));
      return;
    }
    KeyPosting& p = postings[it->second];
    if (p.last == ordinal) return;
    p.more.push_back(ordinal);
    p.last = ordinal;
    ++p.count;
  }

  void SetColumn(size_t c, std::string_view value, uint32_t ordinal) {
    ColumnBuilder& col = columns[c];
    if (col.per_event.size() > ordinal) return;  // first occurrence wins
    col.per_event.resize(ordinal, 0);
    auto it = col.codes.find(value);
    uint32_t code;
    if (it == col.codes.end()) {
      col.values.emplace_back(value);
      code = static_cast<uint32_t>(col.values.size());
      col.codes.emplace(std::string(value), code);
    } else {
      code = it->second;
    }
    col.per_event.push_back(code);
  }

  Status FlushBlock() {
    if (block_count == 0) return Status::Ok();
    block_buf.clear();
    block_buf.append(block_raw_lengths);
    block_buf.append(block_raw_data);
    compressed.clear();
    RETURN_IF_ERROR(ZstdCompress(block_buf, opt.zstd_level, &compressed));
    BlockMeta b;
    b.offset = offset;
    b.csize = static_cast<uint32_t>(compressed.size());
    b.rsize = static_cast<uint32_t>(block_buf.size());
    b.first = block_first;
    b.count = block_count;
    b.min_time = block_min;
    b.max_time = block_max;
    b.crc = Crc32(compressed);
    RETURN_IF_ERROR(Append(compressed));
    blocks_crc = Crc32(compressed, blocks_crc);
    blocks.push_back(b);
    block_raw_lengths.clear();
    block_raw_data.clear();
    block_first += block_count;
    block_count = 0;
    block_min = INT64_MAX;
    block_max = INT64_MIN;
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
    RETURN_IF_ERROR(ZstdCompress(raw, opt.meta_zstd_level, &c));
    return WriteSection(id, c, static_cast<uint32_t>(raw.size()));
  }

  size_t BlockOf(uint32_t ordinal) const {
    auto it = std::upper_bound(blocks.begin(), blocks.end(), ordinal,
                               [](uint32_t o, const BlockMeta& b) { return o < b.first; });
    return static_cast<size_t>(it - blocks.begin()) - 1;
  }
};

SegmentWriter::SegmentWriter(FileSystem* fs, std::string path, int64_t partition,
                             SegmentWriterOptions options)
    : impl_(new Impl) {
  impl_->fs = fs;
  impl_->path = std::move(path);
  impl_->partition = partition;
  impl_->opt = options;
  for (size_t i = 0; i < kJsonColumnCount; ++i) impl_->column_of[kColumnFields[i]] = static_cast<int>(i);
}

SegmentWriter::~SegmentWriter() = default;

uint32_t SegmentWriter::event_count() const { return impl_->count; }

Status SegmentWriter::Open() {
  Impl& m = *impl_;
  ASSIGN_OR_RETURN(m.file, m.fs->NewWritableFile(m.path));
  std::string header(kSegmentMagic);
  PutFixed32(&header, kSegmentVersion);
  PutFixed32(&header, 0);
  return m.Append(header);
}

Status SegmentWriter::Add(const cloudtrail::Event& e) {
  Impl& m = *impl_;
  if (m.failed) return Internal("segment writer for {} already failed", m.path);
  if (e.time_ms < m.last_time) {
    return InvalidArgument("segment {}: events out of time order", m.path);
  }
  if (PartitionOf(e.time_ms) != m.partition) {
    return InvalidArgument("segment {}: event time {} outside partition day {}", m.path, e.time_ms,
                           m.partition);
  }
  if (e.raw.size() > UINT32_MAX / 2) return InvalidArgument("event larger than 2 GiB");
  const uint32_t ord = m.count;

  // Index the JSON leaves first: a malformed event must not leave partial rows behind.
  // (Postings already added for this ordinal are harmless only if we fail the whole segment,
  // which the caller does on any error.)
  Status walk = m.walker.Walk(e.raw, [&](const Leaf& leaf) {
    if (leaf.field == kTimeField) return;
    auto col = m.column_of.find(leaf.field);
    if (col != m.column_of.end()) {
      m.SetColumn(static_cast<size_t>(col->second), leaf.value, ord);
      return;
    }
    auto fs_it = m.field_stats.find(leaf.field);
    if (fs_it == m.field_stats.end()) {
      fs_it = m.field_stats.emplace(std::string(leaf.field), FieldStat{}).first;
    }
    if (fs_it->second.last_ordinal != ord) {
      fs_it->second.last_ordinal = ord;
      ++fs_it->second.event_count;
    }
    m.key_buf.clear();
    m.key_buf.push_back(kFieldKeyPrefix);
    m.key_buf.append(leaf.field);
    m.key_buf.push_back('\0');
    AppendLower(&m.key_buf, leaf.value.substr(0, std::min(leaf.value.size(), size_t{4096})));
    m.AddKey(m.key_buf, ord);
    SplitTerms(leaf.value, &m.lower_buf, &m.terms);
    for (std::string_view t : m.terms) {
      m.key_buf.clear();
      m.key_buf.push_back(kTermKeyPrefix);
      m.key_buf.append(t);
      m.AddKey(m.key_buf, ord);
    }
  });
  if (!walk.ok()) {
    m.failed = true;
    return walk.WithContext(fmt::format("event {} ({})", e.event_id, e.source));
  }
  m.SetColumn(kSourcetypeColumn, e.sourcetype, ord);
  m.SetColumn(kSourceColumn, e.source, ord);

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
  PutVarint(&m.id_bytes, acc_code);
  PutLengthPrefixed(&m.id_bytes, e.event_id);

  // Raw block.
  if (m.block_count == 0) m.block_first = ord;
  PutVarint(&m.block_raw_lengths, e.raw.size());
  m.block_raw_data.append(e.raw);
  ++m.block_count;
  m.block_min = std::min(m.block_min, e.time_ms);
  m.block_max = std::max(m.block_max, e.time_ms);
  ++m.count;
  if (m.block_raw_data.size() >= m.opt.block_bytes) RETURN_IF_ERROR(m.FlushBlock());
  return Status::Ok();
}

Result<SegmentFileInfo> SegmentWriter::Finish() {
  Impl& m = *impl_;
  if (m.failed) return Internal("segment writer for {} already failed", m.path);
  if (m.count == 0) return InvalidArgument("segment {} has no events", m.path);
  uint64_t blocks_begin = kSegmentHeaderSize;
  RETURN_IF_ERROR(m.FlushBlock());
  m.sections.push_back(
      SectionMeta{SectionId::kBlocks, blocks_begin, m.offset - blocks_begin, m.blocks_crc, 0});

  // Keys table: every key held by two or more events, sorted. Keys held by one event go to the
  // Bloom filter of that event's block instead.
  std::vector<const std::pair<const std::string, uint32_t>*> keys;
  keys.reserve(m.key_ids.size());
  std::vector<uint32_t> singles_per_block(m.blocks.size(), 0);
  for (const auto& kv : m.key_ids) {
    const KeyPosting& p = m.postings[kv.second];
    if (p.count >= 2) {
      keys.push_back(&kv);
    } else {
      ++singles_per_block[m.BlockOf(p.first)];
    }
    if (kv.first[0] == kFieldKeyPrefix) {
      size_t zero = kv.first.find('\0');
      auto it = m.field_stats.find(std::string_view(kv.first).substr(1, zero - 1));
      if (it != m.field_stats.end()) {
        if (p.count >= 2) {
          ++it->second.keys;
        } else {
          ++it->second.singletons;
        }
      }
    }
  }
  std::sort(keys.begin(), keys.end(), [](auto* a, auto* b) { return a->first < b->first; });

  // Bloom filters.
  std::vector<std::vector<uint64_t>> blooms(m.blocks.size());
  for (size_t b = 0; b < m.blocks.size(); ++b) {
    uint64_t bits = static_cast<uint64_t>(singles_per_block[b]) * m.opt.bloom_bits_per_key;
    blooms[b].assign(singles_per_block[b] == 0 ? 0 : (bits + 63) / 64, 0);
  }
  uint64_t term_singletons = 0, term_keys = 0;
  for (const auto& kv : m.key_ids) {
    const KeyPosting& p = m.postings[kv.second];
    bool is_term = kv.first[0] == kTermKeyPrefix;
    if (is_term) {
      if (p.count >= 2) {
        ++term_keys;
      } else {
        ++term_singletons;
      }
    }
    if (p.count >= 2) continue;
    std::string_view value = is_term ? std::string_view(kv.first).substr(1)
                                     : std::string_view(kv.first).substr(kv.first.find('\0') + 1);
    std::vector<uint64_t>& words = blooms[m.BlockOf(p.first)];
    uint64_t nbits = words.size() * 64;
    uint64_t h = Hash64(value);
    uint64_t h1 = h, h2 = (h >> 33) | 1;
    for (int i = 0; i < kBloomProbes; ++i) {
      uint64_t bit = (h1 + static_cast<uint64_t>(i) * h2) % nbits;
      words[bit / 64] |= uint64_t{1} << (bit % 64);
    }
  }
  {
    uint64_t begin = m.offset;
    std::string bytes;
    for (size_t b = 0; b < m.blocks.size(); ++b) {
      m.blocks[b].bloom_offset = begin + bytes.size();
      m.blocks[b].bloom_words = static_cast<uint32_t>(blooms[b].size());
      for (uint64_t w : blooms[b]) PutFixed64(&bytes, w);
    }
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
      PutFixed32(&bytes, b.bloom_words);
      PutFixed64(&bytes, b.bloom_offset);
    }
    RETURN_IF_ERROR(m.WriteSection(SectionId::kBlockIndex, bytes, 0));
  }
  RETURN_IF_ERROR(m.WriteCompressedSection(SectionId::kTime, m.time_bytes));
  {
    std::string bytes;
    PutVarint(&bytes, m.account_values.size());
    for (const std::string& a : m.account_values) PutLengthPrefixed(&bytes, a);
    bytes.append(m.id_bytes);
    RETURN_IF_ERROR(m.WriteCompressedSection(SectionId::kIds, bytes));
  }
  {
    // Columns: a directory with two frames per column (dictionary, codes), then the frames.
    std::string dir, blobs;
    PutFixed32(&dir, static_cast<uint32_t>(kColumnCount));
    uint64_t dir_size = 4 + kColumnCount * 2 * 20;
    std::string raw;
    auto add_frame = [&](std::string_view bytes) -> Status {
      std::string c_bytes;
      RETURN_IF_ERROR(ZstdCompress(bytes, m.opt.meta_zstd_level, &c_bytes));
      PutFixed64(&dir, dir_size + blobs.size());
      PutFixed32(&dir, static_cast<uint32_t>(c_bytes.size()));
      PutFixed32(&dir, static_cast<uint32_t>(bytes.size()));
      PutFixed32(&dir, Crc32(c_bytes));
      blobs.append(c_bytes);
      return Status::Ok();
    };
    for (size_t c = 0; c < kColumnCount; ++c) {
      ColumnBuilder& col = m.columns[c];
      col.per_event.resize(m.count, 0);
      std::vector<uint32_t> order(col.values.size());
      for (uint32_t i = 0; i < order.size(); ++i) order[i] = i;
      std::sort(order.begin(), order.end(),
                [&](uint32_t a, uint32_t b) { return col.values[a] < col.values[b]; });
      std::vector<uint32_t> remap(col.values.size() + 1, 0);
      for (uint32_t i = 0; i < order.size(); ++i) remap[order[i] + 1] = i + 1;
      raw.clear();
      PutVarint(&raw, order.size());
      for (uint32_t i : order) PutLengthPrefixed(&raw, col.values[i]);
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
    dir.append(blobs);
    RETURN_IF_ERROR(m.WriteSection(SectionId::kColumns, dir, 0));
  }
  {
    // Keys table in blocks with prefix-compressed keys.
    uint64_t begin = m.offset;
    m.run_crc = 0;
    std::string index;
    uint64_t nblocks = 0;
    std::string index_entries;
    std::string block;
    std::string prev_key;
    std::string first_key;
    uint32_t entries = 0;
    auto flush = [&]() -> Status {
      if (entries == 0) return Status::Ok();
      std::string c;
      RETURN_IF_ERROR(ZstdCompress(block, m.opt.meta_zstd_level, &c));
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
    for (auto* kv : keys) {
      const std::string& key = kv->first;
      if (entries == 0) {
        first_key = key;
        prev_key.clear();
      }
      size_t shared = 0;
      size_t lim = std::min(prev_key.size(), key.size());
      while (shared < lim && prev_key[shared] == key[shared]) ++shared;
      PutVarint(&block, shared);
      PutLengthPrefixed(&block, std::string_view(key).substr(shared));
      std::string posting;
      EncodePosting(m.postings[kv->second], &posting);
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
    std::vector<const std::pair<const std::string, FieldStat>*> fields;
    for (const auto& kv : m.field_stats) fields.push_back(&kv);
    std::sort(fields.begin(), fields.end(), [](auto* a, auto* b) { return a->first < b->first; });
    std::string bytes;
    PutVarint(&bytes, term_keys);
    PutVarint(&bytes, term_singletons);
    PutVarint(&bytes, fields.size());
    for (auto* f : fields) {
      PutLengthPrefixed(&bytes, f->first);
      PutVarint(&bytes, f->second.event_count);
      PutVarint(&bytes, f->second.keys);
      PutVarint(&bytes, f->second.singletons);
    }
    RETURN_IF_ERROR(m.WriteCompressedSection(SectionId::kFieldCatalog, bytes));
  }

  std::string footer;
  PutFixed32(&footer, kSegmentVersion);
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
