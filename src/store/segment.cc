#include "store/segment.h"

#include <roaring/roaring.h>

#include <algorithm>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <bit>
#include <cstring>
#include <deque>
#include <map>
#include <unordered_map>

#include "common/log.h"
#include "store/encoding.h"
#include "store/fields.h"
#include "store/segment_format.h"

namespace cairn::store {

// ---------------------------------------------------------------- Pattern

Pattern::Pattern(std::string_view pattern) : lower_(ToLower(pattern)) {
  size_t star = lower_.find('*');
  has_wildcard_ = star != std::string::npos;
  prefix_ = has_wildcard_ ? lower_.substr(0, star) : lower_;
}

namespace {

// Glob match of lower-cased `pat` ('*' only) against `s` compared case-insensitively.
bool GlobMatch(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pat.size() && pat[p] == LowerAscii(s[i])) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

bool Pattern::Matches(std::string_view value) const {
  if (!has_wildcard_) {
    if (value.size() != lower_.size()) return false;
    for (size_t i = 0; i < value.size(); ++i) {
      if (LowerAscii(value[i]) != lower_[i]) return false;
    }
    return true;
  }
  return GlobMatch(lower_, value);
}

// ---------------------------------------------------------------- Impl

namespace {

struct SectionInfo {
  uint64_t offset = 0, size = 0;
  uint32_t crc = 0, raw_size = 0;
  bool present = false;
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
  std::string data;
  std::vector<uint32_t> offsets;  // count + 1 positions into data
  std::string_view Get(uint32_t i) const {
    return std::string_view(data).substr(offsets[i], offsets[i + 1] - offsets[i]);
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

template <typename T>
class SmallCache {
 public:
  explicit SmallCache(size_t cap) : cap_(cap) {}
  std::shared_ptr<const T> Get(uint64_t key) {
    for (auto& e : items_) {
      if (e.first == key) return e.second;
    }
    return nullptr;
  }
  void Put(uint64_t key, std::shared_ptr<const T> v) {
    if (items_.size() >= cap_) items_.pop_front();
    items_.emplace_back(key, std::move(v));
  }

 private:
  size_t cap_;
  std::deque<std::pair<uint64_t, std::shared_ptr<const T>>> items_;
};

Status DecodePosting(std::string_view bytes, uint32_t limit, Bitmap* out,
                     std::string_view what) {
  if (bytes.empty()) return Corruption("{}: empty posting", what);
  uint8_t tag = static_cast<uint8_t>(bytes[0]);
  bytes.remove_prefix(1);
  if (tag == kPostingVarint) {
    Reader r(bytes);
    uint64_t n;
    if (!r.GetVarint(&n) || n > limit) return Corruption("{}: bad posting length", what);
    uint64_t cur = 0;
    std::vector<uint32_t> ords;
    ords.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t d;
      if (!r.GetVarint(&d)) return Corruption("{}: truncated posting", what);
      cur = i == 0 ? d : cur + d;
      if (cur >= limit || (i > 0 && d == 0)) return Corruption("{}: posting out of range", what);
      ords.push_back(static_cast<uint32_t>(cur));
    }
    out->addMany(ords.size(), ords.data());
    return Status::Ok();
  }
  if (tag == kPostingRoaring) {
    roaring_bitmap_t* r = roaring_bitmap_portable_deserialize_safe(bytes.data(), bytes.size());
    if (r == nullptr) return Corruption("{}: bad roaring posting", what);
    Bitmap bm(r);
    if (!bm.isEmpty() && bm.maximum() >= limit) {
      return Corruption("{}: posting out of range", what);
    }
    *out |= bm;
    return Status::Ok();
  }
  return Corruption("{}: unknown posting encoding {}", what, tag);
}

}  // namespace

struct Segment::Impl {
  std::unique_ptr<RandomAccessFile> file;
  SectionInfo sections[16];
  uint32_t version = 0;

  mutable std::mutex mu;
  std::shared_ptr<const std::vector<int64_t>> times;
  std::shared_ptr<const Ids> ids;
  uint32_t event_count = 0;
  std::shared_ptr<const std::vector<std::string>> dicts[kColumnCount];
  // Events per code ([0] = without the field): stored since version 3, taken from the codes
  // before.
  std::shared_ptr<const std::vector<uint32_t>> dict_counts[kColumnCount];
  std::shared_ptr<const Column> columns[kColumnCount];
  bool column_dir_loaded = false;
  struct Frame {
    uint64_t offset;
    uint32_t csize, rsize, crc;
  };
  Frame dict_frames[kColumnCount];
  Frame code_frames[kColumnCount];
  bool key_index_loaded = false;
  std::vector<KeyBlockInfo> key_blocks;
  bool catalog_loaded = false;
  std::map<std::string, FieldCatalogEntry, std::less<>> catalog;
  uint64_t term_keys = 0, term_singletons = 0;
  // Bloom filters (bit-sliced): the header and chunk CRCs, read once; chunks read on demand.
  bool bloom_header_loaded = false;
  uint32_t bloom_rows = 0, bloom_row_bytes = 0;
  std::vector<uint32_t> bloom_chunk_crcs;
  std::unordered_map<uint32_t, std::shared_ptr<const std::string>> bloom_chunks;
  std::shared_ptr<const std::vector<ColumnTerm>> column_terms;
  uint32_t exact_term_lookups = 0;  // under mu
  SmallCache<DecodedBlock> block_cache{8};
  SmallCache<DecodedKeyBlock> key_cache{16};
};

Segment::~Segment() {
  if (obsolete_.load()) {
    if (impl_) impl_->file.reset();
    Status s = fs_->RemoveFile(path_);
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      log::Warn("removing obsolete segment {}: {}", path_, s.message());
    }
  }
}

Result<std::shared_ptr<Segment>> Segment::Open(FileSystem* fs, const std::string& path,
                                               const SegmentDesc& desc) {
  std::shared_ptr<Segment> seg(new Segment());
  seg->fs_ = fs;
  seg->path_ = path;
  seg->desc_ = desc;
  seg->impl_ = std::make_unique<Impl>();
  Impl& m = *seg->impl_;
  ASSIGN_OR_RETURN(m.file, fs->NewRandomAccessFile(path));
  uint64_t size = m.file->Size();
  if (size < kSegmentHeaderSize + kSegmentTrailerSize) {
    return Corruption("{}: too short for a segment ({} bytes)", path, size);
  }
  char header[kSegmentHeaderSize];
  RETURN_IF_ERROR(m.file->ReadExact(0, sizeof(header), header));
  if (std::string_view(header, 8) != kSegmentMagic) return Corruption("{}: bad magic", path);
  m.version = DecodeFixed32(header + 8);
  m.event_count = desc.event_count;
  if (m.version < kOldestSegmentVersion || m.version > kSegmentVersion) {
    return Corruption("{}: unsupported segment version {}", path, m.version);
  }
  char trailer[kSegmentTrailerSize];
  RETURN_IF_ERROR(m.file->ReadExact(size - kSegmentTrailerSize, sizeof(trailer), trailer));
  if (std::string_view(trailer + 8, 8) != kSegmentEndMagic) {
    return Corruption("{}: bad end magic (incomplete file?)", path);
  }
  uint32_t footer_len = DecodeFixed32(trailer);
  uint32_t footer_crc = DecodeFixed32(trailer + 4);
  if (footer_len > size - kSegmentHeaderSize - kSegmentTrailerSize) {
    return Corruption("{}: footer length {} out of range", path, footer_len);
  }
  std::string footer(footer_len, '\0');
  uint64_t footer_off = size - kSegmentTrailerSize - footer_len;
  RETURN_IF_ERROR(m.file->ReadExact(footer_off, footer_len, footer.data()));
  if (Crc32(footer) != footer_crc) {
    return Corruption("{}: footer checksum mismatch at offset {}", path, footer_off);
  }
  if (desc.footer_crc != 0 && desc.footer_crc != footer_crc) {
    return Corruption("{}: file is not the one the manifest lists (footer crc)", path);
  }
  Reader r(footer);
  uint32_t version, count, nblocks, nsections;
  uint64_t min_t, max_t, part;
  r.GetFixed32(&version);
  r.GetFixed32(&count);
  r.GetFixed64(&min_t);
  r.GetFixed64(&max_t);
  r.GetFixed64(&part);
  r.GetFixed32(&nblocks);
  r.GetFixed32(&nsections);
  if (!r.ok() || nsections > 64) return Corruption("{}: malformed footer", path);
  for (uint32_t i = 0; i < nsections; ++i) {
    uint32_t id, crc, raw;
    uint64_t off, sz;
    r.GetFixed32(&id);
    r.GetFixed64(&off);
    r.GetFixed64(&sz);
    r.GetFixed32(&crc);
    r.GetFixed32(&raw);
    if (!r.ok()) return Corruption("{}: malformed section table", path);
    if (off > footer_off || sz > footer_off - off) {
      return Corruption("{}: section {} out of range", path, id);
    }
    if (id < 16) m.sections[id] = SectionInfo{off, sz, crc, raw, true};
  }
  if (count != desc.event_count || static_cast<int64_t>(min_t) != desc.min_time ||
      static_cast<int64_t>(max_t) != desc.max_time ||
      static_cast<int64_t>(part) != desc.partition) {
    return Corruption("{}: footer summary does not match the manifest", path);
  }
  for (SectionId id : {SectionId::kBlocks, SectionId::kBlockIndex, SectionId::kBlooms,
                       SectionId::kTime, SectionId::kIds, SectionId::kColumns, SectionId::kKeys,
                       SectionId::kKeyIndex, SectionId::kFieldCatalog}) {
    if (!m.sections[static_cast<uint32_t>(id)].present) {
      return Corruption("{}: section {} missing", path, static_cast<uint32_t>(id));
    }
  }
  // Block index.
  const SectionInfo& bi = m.sections[static_cast<uint32_t>(SectionId::kBlockIndex)];
  if (bi.size != static_cast<uint64_t>(nblocks) * kBlockIndexEntrySize) {
    return Corruption("{}: block index size mismatch", path);
  }
  std::string bytes(bi.size, '\0');
  RETURN_IF_ERROR(m.file->ReadExact(bi.offset, bi.size, bytes.data()));
  if (Crc32(bytes) != bi.crc) return Corruption("{}: block index checksum mismatch", path);
  const SectionInfo& bl = m.sections[static_cast<uint32_t>(SectionId::kBlooms)];
  Reader br(bytes);
  uint32_t expect_first = 0;
  seg->blocks_.reserve(nblocks);
  for (uint32_t i = 0; i < nblocks; ++i) {
    BlockInfo b;
    uint64_t mn, mx;
    br.GetFixed64(&b.offset);
    br.GetFixed32(&b.csize);
    br.GetFixed32(&b.rsize);
    br.GetFixed32(&b.first);
    br.GetFixed32(&b.count);
    br.GetFixed64(&mn);
    br.GetFixed64(&mx);
    br.GetFixed32(&b.crc);
    br.GetFixed32(&b.bloom_words);
    br.GetFixed64(&b.bloom_offset);
    b.min_time = static_cast<int64_t>(mn);
    b.max_time = static_cast<int64_t>(mx);
    if (b.first != expect_first || b.count == 0 || b.offset + b.csize > footer_off ||
        b.bloom_offset < bl.offset ||
        b.bloom_offset + uint64_t{b.bloom_words} * 8 > bl.offset + bl.size) {
      return Corruption("{}: block index entry {} is inconsistent", path, i);
    }
    expect_first += b.count;
    seg->blocks_.push_back(b);
  }
  if (expect_first != count) return Corruption("{}: blocks hold {} events, footer says {}", path, expect_first, count);
  return seg;
}

// Reads a whole section, checks its CRC and, when it is one zstd frame, decompresses it.
static Status ReadSection(const RandomAccessFile& file, const SectionInfo& s, std::string* out,
                          std::string_view name) {
  std::string bytes(s.size, '\0');
  RETURN_IF_ERROR(file.ReadExact(s.offset, s.size, bytes.data()));
  if (Crc32(bytes) != s.crc) {
    return Corruption("{}: {} section checksum mismatch at offset {}", file.path(), name, s.offset);
  }
  if (s.raw_size == 0 && s.size > 0 && name != "blooms") {
    // Never happens for compressed sections; stored sections are returned as they are.
  }
  if (s.raw_size > 0) {
    return ZstdDecompress(bytes, s.raw_size, out, fmt::format("{}: {} section", file.path(), name));
  }
  *out = std::move(bytes);
  return Status::Ok();
}

static Status ReadFrame(const RandomAccessFile& file, uint64_t offset, uint32_t csize,
                        uint32_t rsize, uint32_t crc, std::string* out, std::string_view what) {
  std::string bytes(csize, '\0');
  RETURN_IF_ERROR(file.ReadExact(offset, csize, bytes.data()));
  if (Crc32(bytes) != crc) {
    return Corruption("{}: {} checksum mismatch at offset {}", file.path(), what, offset);
  }
  return ZstdDecompress(bytes, rsize, out, fmt::format("{}: {}", file.path(), what));
}

Result<std::shared_ptr<const std::vector<int64_t>>> Segment::Times() const {
  Impl& m = *impl_;
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.times) return m.times;
  std::string raw;
  RETURN_IF_ERROR(ReadSection(*m.file, m.sections[static_cast<int>(SectionId::kTime)], &raw, "time"));
  auto times = std::make_shared<std::vector<int64_t>>();
  times->reserve(desc_.event_count);
  Reader r(raw);
  int64_t prev = desc_.min_time;
  for (uint32_t i = 0; i < desc_.event_count; ++i) {
    uint64_t z;
    if (!r.GetVarint(&z)) return Corruption("{}: time column truncated", path_);
    prev += UnZigZag(z);
    times->push_back(prev);
  }
  if (r.remaining() != 0 || (!times->empty() && times->back() != desc_.max_time)) {
    return Corruption("{}: time column inconsistent", path_);
  }
  m.times = times;
  return m.times;
}

Result<std::pair<uint32_t, uint32_t>> Segment::OrdinalRange(int64_t from_ms, int64_t to_ms) const {
  if (to_ms <= desc_.min_time || from_ms > desc_.max_time) return std::make_pair(0u, 0u);
  ASSIGN_OR_RETURN(auto times, Times());
  auto lo = std::lower_bound(times->begin(), times->end(), from_ms);
  auto hi = std::lower_bound(times->begin(), times->end(), to_ms);
  return std::make_pair(static_cast<uint32_t>(lo - times->begin()),
                        static_cast<uint32_t>(hi - times->begin()));
}

// ---------------------------------------------------------------- blocks

namespace {
Status DecodeBlock(std::string raw, uint32_t count, DecodedBlock* out, std::string_view what) {
  Reader r(raw);
  std::vector<uint32_t> lens(count);
  uint64_t total = 0;
  for (uint32_t i = 0; i < count; ++i) {
    if (!r.GetVarint32(&lens[i])) return Corruption("{}: block lengths truncated", what);
    total += lens[i];
  }
  size_t header = raw.size() - r.remaining();
  if (total != r.remaining()) return Corruption("{}: block length mismatch", what);
  out->offsets.resize(count + 1);
  uint32_t pos = static_cast<uint32_t>(header);
  for (uint32_t i = 0; i < count; ++i) {
    out->offsets[i] = pos;
    pos += lens[i];
  }
  out->offsets[count] = pos;
  out->data = std::move(raw);
  return Status::Ok();
}
}  // namespace

// Loads block `b` (through the cache).
// Reads and decodes block `index` of the segment at `path` (no cache).
static Status ReadBlock(const RandomAccessFile& file, const std::string& path, uint32_t index,
                        uint64_t offset, uint32_t csize, uint32_t rsize, uint32_t crc,
                        uint32_t count, DecodedBlock* out) {
  std::string raw;
  RETURN_IF_ERROR(ReadFrame(file, offset, csize, rsize, crc, &raw, fmt::format("block {}", index)));
  return DecodeBlock(std::move(raw), count, out, fmt::format("{}: block {}", path, index));
}

static Result<std::shared_ptr<const DecodedBlock>> LoadBlock(const Segment::Impl& cm,
                                                             const RandomAccessFile& file,
                                                             uint32_t index, uint64_t offset,
                                                             uint32_t csize, uint32_t rsize,
                                                             uint32_t crc, uint32_t count) {
  auto& m = const_cast<Segment::Impl&>(cm);
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (auto hit = m.block_cache.Get(index)) return hit;
  }
  auto block = std::make_shared<DecodedBlock>();
  RETURN_IF_ERROR(ReadBlock(file, file.path(), index, offset, csize, rsize, crc, count, block.get()));
  std::lock_guard<std::mutex> lock(m.mu);
  m.block_cache.Put(index, block);
  return std::shared_ptr<const DecodedBlock>(block);
}

#define CAIRN_LOAD_BLOCK(b) \
  LoadBlock(*impl_, *impl_->file, b, blocks_[b].offset, blocks_[b].csize, blocks_[b].rsize, \
            blocks_[b].crc, blocks_[b].count)

// The same without the cache, for whole-segment scans that would only evict what searches cached.
#define CAIRN_READ_BLOCK(b, out)                                                               \
  ReadBlock(*impl_->file, path_, b, blocks_[b].offset, blocks_[b].csize, blocks_[b].rsize, \
            blocks_[b].crc, blocks_[b].count, out)

Result<std::string> Segment::Raw(uint32_t ordinal) const {
  if (ordinal >= desc_.event_count) return InvalidArgument("{}: ordinal {} out of range", path_, ordinal);
  auto it = std::upper_bound(blocks_.begin(), blocks_.end(), ordinal,
                             [](uint32_t o, const BlockInfo& b) { return o < b.first; });
  uint32_t b = static_cast<uint32_t>(it - blocks_.begin()) - 1;
  ASSIGN_OR_RETURN(auto block, CAIRN_LOAD_BLOCK(b));
  return std::string(block->Get(ordinal - blocks_[b].first));
}

Status Segment::ForEach(const Bitmap& ordinals, bool reverse,
                        const std::function<bool(uint32_t, std::string_view)>& fn) const {
  if (ordinals.isEmpty()) return Status::Ok();
  std::vector<uint32_t> ords(ordinals.cardinality());
  ordinals.toUint32Array(ords.data());
  if (ords.back() >= desc_.event_count) {
    return InvalidArgument("{}: ordinal {} out of range", path_, ords.back());
  }
  if (reverse) std::reverse(ords.begin(), ords.end());
  std::shared_ptr<const DecodedBlock> block;
  uint32_t cur = UINT32_MAX;
  for (uint32_t o : ords) {
    if (cur == UINT32_MAX || o < blocks_[cur].first || o >= blocks_[cur].first + blocks_[cur].count) {
      auto it = std::upper_bound(blocks_.begin(), blocks_.end(), o,
                                 [](uint32_t x, const BlockInfo& b) { return x < b.first; });
      cur = static_cast<uint32_t>(it - blocks_.begin()) - 1;
      ASSIGN_OR_RETURN(block, CAIRN_LOAD_BLOCK(cur));
    }
    if (!fn(o, block->Get(o - blocks_[cur].first))) break;
  }
  return Status::Ok();
}

// ---------------------------------------------------------------- ids

using RawScanner = std::function<Status(const std::function<void(uint32_t, std::string_view)>&)>;

static Result<std::shared_ptr<const Ids>> LoadIds(Segment::Impl& m, const std::string& path,
                                                  uint32_t count, const RawScanner& scan_raw) {
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.ids) return m.ids;
  }
  auto ids = std::make_shared<Ids>();
  std::string section;
  RETURN_IF_ERROR(ReadSection(*m.file, m.sections[static_cast<int>(SectionId::kIds)], &section, "ids"));
  Reader r(section);
  uint64_t nacc;
  if (!r.GetVarint(&nacc) || nacc > count + 1) return Corruption("{}: ids section malformed", path);
  for (uint64_t i = 0; i < nacc; ++i) {
    std::string_view a;
    if (!r.GetLengthPrefixed(&a)) return Corruption("{}: ids section truncated", path);
    ids->accounts.emplace_back(a);
  }
  ids->account_of.reserve(count);
  std::vector<std::pair<uint32_t, uint32_t>> where(count);  // (offset, length) in ids->data
  std::vector<uint32_t> derived;
  for (uint32_t i = 0; i < count; ++i) {
    uint64_t v;
    if (!r.GetVarint(&v) || (v >> 1) >= nacc) return Corruption("{}: ids section truncated at event {}", path, i);
    ids->account_of.push_back(static_cast<uint32_t>(v >> 1));
    if (v & 1) {
      derived.push_back(i);
      continue;
    }
    std::string_view id;
    if (!r.GetLengthPrefixed(&id)) return Corruption("{}: ids section truncated at event {}", path, i);
    where[i] = {static_cast<uint32_t>(ids->data.size()), static_cast<uint32_t>(id.size())};
    ids->data.append(id);
  }
  if (r.remaining() != 0) return Corruption("{}: ids section has trailing bytes", path);
  if (!derived.empty()) {
    size_t next = 0;
    Status bad;
    RETURN_IF_ERROR(scan_raw([&](uint32_t o, std::string_view raw) {
      if (next >= derived.size() || derived[next] != o || !bad.ok()) return;
      ++next;
      size_t at = FindEventIdMarker(raw);
      size_t start = at + kEventIdMarker.size();
      size_t end = at == std::string_view::npos ? at : raw.find('"', start);
      if (end == std::string_view::npos) {
        bad = Corruption("{}: event {} has no eventID to take its id from", path, o);
        return;
      }
      where[o] = {static_cast<uint32_t>(ids->data.size()), static_cast<uint32_t>(end - start)};
      ids->data.append(raw.substr(start, end - start));
    }));
    RETURN_IF_ERROR(bad);
    if (next != derived.size()) return Corruption("{}: ids reference missing events", path);
  }
  ids->event_id.reserve(count);
  ids->by_fp.reserve(count);
  for (uint32_t i = 0; i < count; ++i) {
    std::string_view id = std::string_view(ids->data).substr(where[i].first, where[i].second);
    ids->event_id.push_back(id);
    ids->by_fp.emplace_back(IdFingerprint(ids->accounts[ids->account_of[i]], id), i);
  }
  std::sort(ids->by_fp.begin(), ids->by_fp.end());
  std::lock_guard<std::mutex> lock(m.mu);
  m.ids = ids;
  return m.ids;
}

Status Segment::ScanRaw(const std::function<void(uint32_t, std::string_view)>& fn) const {
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    DecodedBlock block;
    RETURN_IF_ERROR(CAIRN_READ_BLOCK(b, &block));
    for (uint32_t i = 0; i < blocks_[b].count; ++i) fn(blocks_[b].first + i, block.Get(i));
  }
  return Status::Ok();
}

#define CAIRN_IDS() \
  LoadIds(*impl_, path_, desc_.event_count, [this](const auto& fn) { return ScanRaw(fn); })

Result<bool> Segment::ContainsId(std::string_view account, std::string_view event_id) const {
  ASSIGN_OR_RETURN(auto ids, CAIRN_IDS());
  uint64_t fp = IdFingerprint(account, event_id);
  auto it = std::lower_bound(ids->by_fp.begin(), ids->by_fp.end(), std::make_pair(fp, 0u));
  for (; it != ids->by_fp.end() && it->first == fp; ++it) {
    uint32_t o = it->second;
    if (ids->event_id[o] == event_id && ids->accounts[ids->account_of[o]] == account) return true;
  }
  return false;
}

Status Segment::ForEachId(const std::function<void(std::string_view, std::string_view)>& fn) const {
  ASSIGN_OR_RETURN(auto ids, CAIRN_IDS());
  for (uint32_t i = 0; i < desc_.event_count; ++i) fn(ids->accounts[ids->account_of[i]], ids->event_id[i]);
  return Status::Ok();
}

void Segment::DropIdCache() const {
  std::lock_guard<std::mutex> lock(impl_->mu);
  impl_->ids.reset();
}

// ---------------------------------------------------------------- columns

static Status LoadColumnDir(Segment::Impl& m, const std::string& path) {
  // Called with m.mu held.
  if (m.column_dir_loaded) return Status::Ok();
  const SectionInfo& s = m.sections[static_cast<int>(SectionId::kColumns)];
  uint64_t dir_size = 4 + kColumnCount * 2 * 20;
  if (s.size < dir_size) return Corruption("{}: columns section too short", path);
  std::string dir(dir_size, '\0');
  RETURN_IF_ERROR(m.file->ReadExact(s.offset, dir_size, dir.data()));
  Reader r(dir);
  uint32_t n;
  r.GetFixed32(&n);
  if (n != kColumnCount) return Corruption("{}: {} columns, expected {}", path, n, kColumnCount);
  for (size_t c = 0; c < kColumnCount; ++c) {
    for (Segment::Impl::Frame* f : {&m.dict_frames[c], &m.code_frames[c]}) {
      uint64_t off;
      r.GetFixed64(&off);
      r.GetFixed32(&f->csize);
      r.GetFixed32(&f->rsize);
      r.GetFixed32(&f->crc);
      if (off + f->csize > s.size) return Corruption("{}: column {} frame out of range", path, c);
      f->offset = s.offset + off;
    }
  }
  m.column_dir_loaded = true;
  return Status::Ok();
}

static Result<std::shared_ptr<const std::vector<std::string>>> LoadDict(Segment::Impl& m,
                                                                        const std::string& path,
                                                                        size_t c) {
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.dicts[c]) return m.dicts[c];
  RETURN_IF_ERROR(LoadColumnDir(m, path));
  const auto& f = m.dict_frames[c];
  std::string raw;
  RETURN_IF_ERROR(ReadFrame(*m.file, f.offset, f.csize, f.rsize, f.crc, &raw,
                            fmt::format("column {} dictionary", kColumnFields[c])));
  Reader r(raw);
  uint64_t n;
  if (!r.GetVarint(&n) || n > raw.size()) return Corruption("{}: column {} dictionary malformed", path, kColumnFields[c]);
  auto dict = std::make_shared<std::vector<std::string>>();
  dict->reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view v;
    if (!r.GetLengthPrefixed(&v)) return Corruption("{}: column {} dictionary truncated", path, kColumnFields[c]);
    if (!dict->empty() && !(dict->back() < v)) {
      return Corruption("{}: column {} dictionary not sorted", path, kColumnFields[c]);
    }
    dict->emplace_back(v);
  }
  if (m.version >= 3) {
    auto counts = std::make_shared<std::vector<uint32_t>>(n + 1, 0);
    uint64_t sum = 0;
    for (uint64_t i = 1; i <= n; ++i) {
      uint64_t k;
      if (!r.GetVarint(&k) || k == 0 || k > m.event_count) {
        return Corruption("{}: column {} value counts malformed", path, kColumnFields[c]);
      }
      (*counts)[i] = static_cast<uint32_t>(k);
      sum += k;
    }
    if (sum > m.event_count) return Corruption("{}: column {} value counts exceed the events", path, kColumnFields[c]);
    (*counts)[0] = static_cast<uint32_t>(m.event_count - sum);
    m.dict_counts[c] = std::move(counts);
  }
  m.dicts[c] = dict;
  return m.dicts[c];
}

// Events per code of `col`: [0] those without the field, [k] those holding dict[k - 1].
static std::vector<uint32_t> CountCodes(const Column& col) {
  std::vector<uint32_t> counts(col.dict.size() + 1, 0);
  for (uint32_t code : col.codes) ++counts[code];
  return counts;
}

static Result<std::shared_ptr<const Column>> LoadColumn(Segment::Impl& m, const std::string& path,
                                                        size_t c, uint32_t count) {
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.columns[c]) return m.columns[c];
  }
  ASSIGN_OR_RETURN(auto dict, LoadDict(m, path, c));
  std::string raw;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    const auto& f = m.code_frames[c];
    RETURN_IF_ERROR(ReadFrame(*m.file, f.offset, f.csize, f.rsize, f.crc, &raw,
                              fmt::format("column {} codes", kColumnFields[c])));
  }
  if (raw.empty()) return Corruption("{}: column {} codes empty", path, kColumnFields[c]);
  uint8_t width = static_cast<uint8_t>(raw[0]);
  if ((width != 1 && width != 2 && width != 4) || raw.size() != 1 + uint64_t{width} * count) {
    return Corruption("{}: column {} codes have the wrong size", path, kColumnFields[c]);
  }
  auto col = std::make_shared<Column>(dict);
  col->codes.resize(count);
  const uint8_t* p = reinterpret_cast<const uint8_t*>(raw.data() + 1);
  uint32_t* out = col->codes.data();
  uint32_t top = 0;
  // One loop per width, so the compiler can vectorise the widening.
  if (width == 1) {
    for (uint32_t i = 0; i < count; ++i) out[i] = p[i];
  } else if (width == 2) {
    for (uint32_t i = 0; i < count; ++i) out[i] = p[2 * i] | (uint32_t{p[2 * i + 1]} << 8);
  } else {
    static_assert(std::endian::native == std::endian::little, "codes are stored little-endian");
    for (uint32_t i = 0; i < count; ++i) std::memcpy(&out[i], p + 4 * i, 4);
  }
  for (uint32_t i = 0; i < count; ++i) top = std::max(top, out[i]);
  if (top > col->dict.size()) return Corruption("{}: column {} code out of range", path, kColumnFields[c]);
  std::shared_ptr<std::vector<uint32_t>> counts;
  if (m.version < 3) counts = std::make_shared<std::vector<uint32_t>>(CountCodes(*col));
  std::lock_guard<std::mutex> lock(m.mu);
  m.columns[c] = col;
  if (counts) m.dict_counts[c] = std::move(counts);
  return m.columns[c];
}

bool Segment::IsColumn(std::string_view field) { return ColumnIndex(field) >= 0; }

Result<std::shared_ptr<const Column>> Segment::GetColumn(std::string_view field) const {
  int c = ColumnIndex(field);
  if (c < 0) return NotFound("{} is not a column", field);
  return LoadColumn(*impl_, path_, static_cast<size_t>(c), desc_.event_count);
}

Result<ColumnSummary> Segment::ColumnCounts(std::string_view field) const {
  int c = ColumnIndex(field);
  if (c < 0) return NotFound("{} is not a column", field);
  Impl& m = *impl_;
  ColumnSummary out;
  ASSIGN_OR_RETURN(out.dict, LoadDict(m, path_, static_cast<size_t>(c)));
  {
    std::lock_guard<std::mutex> lock(m.mu);
    out.counts = m.dict_counts[c];
  }
  if (!out.counts) {  // version 2: from the codes
    RETURN_IF_ERROR(LoadColumn(m, path_, static_cast<size_t>(c), desc_.event_count).status());
    std::lock_guard<std::mutex> lock(m.mu);
    out.counts = m.dict_counts[c];
  }
  return out;
}

#ifdef __AVX2__
// ScanColumn for at most four codes (an exact value, the usual needle): eight codes compared per
// instruction, so a value few events hold costs a pass at memory speed; runs of matches still go
// in as ranges.
static Bitmap ScanColumnFew(const Column& col, const std::vector<uint32_t>& codes) {
  Bitmap out;
  __m256i want[4];
  for (size_t k = 0; k < 4; ++k) want[k] = _mm256_set1_epi32(static_cast<int>(codes[std::min(k, codes.size() - 1)]));
  const uint32_t n = static_cast<uint32_t>(col.codes.size());
  const uint32_t* p = col.codes.data();
  uint32_t run_begin = 0, run_end = 0;  // the pending run [run_begin, run_end)
  auto flush = [&] {
    if (run_end - run_begin == 1) {
      out.add(run_begin);
    } else if (run_end > run_begin) {
      out.addRange(run_begin, run_end);
    }
  };
  auto hit = [&](uint32_t o) {
    if (o != run_end) {
      flush();
      run_begin = o;
    }
    run_end = o + 1;
  };
  uint32_t i = 0;
  for (; i + 8 <= n; i += 8) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + i));
    __m256i eq = _mm256_or_si256(_mm256_or_si256(_mm256_cmpeq_epi32(v, want[0]), _mm256_cmpeq_epi32(v, want[1])),
                                 _mm256_or_si256(_mm256_cmpeq_epi32(v, want[2]), _mm256_cmpeq_epi32(v, want[3])));
    auto mask = static_cast<uint32_t>(_mm256_movemask_ps(_mm256_castsi256_ps(eq)));
    if (mask == 0) continue;
    if (mask == 0xFF && run_end == i) {
      run_end = i + 8;
      continue;
    }
    while (mask != 0) {
      hit(i + static_cast<uint32_t>(std::countr_zero(mask)));
      mask &= mask - 1;
    }
  }
  for (; i < n; ++i) {
    if (std::find(codes.begin(), codes.end(), p[i]) != codes.end()) hit(i);
  }
  flush();
  return out;
}
#endif

// Ordinals whose column code is in `codes` (sorted).
static Bitmap ScanColumn(const Column& col, const std::vector<uint32_t>& codes) {
  Bitmap out;
  if (codes.empty()) return out;
#ifdef __AVX2__
  if (codes.size() <= 4) return ScanColumnFew(col, codes);
#endif
  std::vector<uint8_t> want(col.dict.size() + 1, 0);
  for (uint32_t c : codes) want[c] = 1;
  // Added as runs of consecutive ordinals: a value most events share (sourcetype, a busy
  // eventSource) is then a few range insertions instead of one per event.
  const uint32_t n = static_cast<uint32_t>(col.codes.size());
  for (uint32_t i = 0; i < n;) {
    if (!want[col.codes[i]]) {
      ++i;
      continue;
    }
    uint32_t j = i + 1;
    while (j < n && want[col.codes[j]]) ++j;
    if (j - i == 1) {
      out.add(i);
    } else {
      out.addRange(i, j);
    }
    i = j;
  }
  return out;
}

// Ordinals whose code of column `c` is in `codes` (sorted): the stored value counts answer "every
// event" (sourcetype=aws:cloudtrail, a one-account segment) and "none" without reading the codes.
static Result<Bitmap> ColumnPostings(Segment::Impl& m, const std::string& path, size_t c,
                                     uint32_t count, const std::vector<uint32_t>& codes) {
  Bitmap out;
  if (codes.empty()) return out;
  std::shared_ptr<const std::vector<uint32_t>> counts;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    counts = m.dict_counts[c];
  }
  if (counts) {
    uint64_t sum = 0;
    for (uint32_t code : codes) sum += code < counts->size() ? (*counts)[code] : 0;
    if (sum == count) {
      if (count > 0) out.addRange(0, count);
      return out;
    }
    if (sum == 0) return out;
  }
  ASSIGN_OR_RETURN(auto col, LoadColumn(m, path, c, count));
  return ScanColumn(*col, codes);
}

// ---------------------------------------------------------------- keys table

static Status LoadKeyIndex(Segment::Impl& m, const std::string& path) {
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.key_index_loaded) return Status::Ok();
  std::string raw;
  RETURN_IF_ERROR(ReadSection(*m.file, m.sections[static_cast<int>(SectionId::kKeyIndex)], &raw, "key index"));
  Reader r(raw);
  uint64_t n;
  if (!r.GetVarint(&n) || n > raw.size()) return Corruption("{}: key index malformed", path);
  const SectionInfo& ks = m.sections[static_cast<int>(SectionId::kKeys)];
  for (uint64_t i = 0; i < n; ++i) {
    KeyBlockInfo b;
    std::string_view first;
    if (!r.GetLengthPrefixed(&first) || !r.GetVarint(&b.offset) || !r.GetVarint(&b.csize) ||
        !r.GetVarint(&b.rsize) || !r.GetVarint(&b.entries) || !r.GetFixed32(&b.crc)) {
      return Corruption("{}: key index truncated", path);
    }
    if (b.offset < ks.offset || b.offset + b.csize > ks.offset + ks.size || b.rsize > (1u << 31)) {
      return Corruption("{}: key block {} out of range", path, i);
    }
    b.first_key.assign(first);
    m.key_blocks.push_back(std::move(b));
  }
  m.key_index_loaded = true;
  return Status::Ok();
}

static Result<std::shared_ptr<const DecodedKeyBlock>> LoadKeyBlock(Segment::Impl& m,
                                                                   const std::string& path,
                                                                   size_t index) {
  const KeyBlockInfo& info = m.key_blocks[index];
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (auto hit = m.key_cache.Get(index)) return hit;
  }
  auto block = std::make_shared<DecodedKeyBlock>();
  RETURN_IF_ERROR(ReadFrame(*m.file, info.offset, static_cast<uint32_t>(info.csize),
                            static_cast<uint32_t>(info.rsize), info.crc, &block->data,
                            fmt::format("key block {}", index)));
  Reader r(block->data);
  std::string prev;
  block->entries.reserve(info.entries);
  for (uint64_t i = 0; i < info.entries; ++i) {
    uint64_t shared;
    std::string_view suffix, posting;
    if (!r.GetVarint(&shared) || shared > prev.size() || !r.GetLengthPrefixed(&suffix) ||
        !r.GetLengthPrefixed(&posting)) {
      return Corruption("{}: key block {} malformed at entry {}", path, index, i);
    }
    std::string key = prev.substr(0, shared);
    key.append(suffix);
    if (i == 0 ? key != info.first_key : !(prev < key)) {
      return Corruption("{}: key block {} out of order at entry {}", path, index, i);
    }
    prev = key;
    block->entries.push_back(KeyEntry{std::move(key), posting});
  }
  if (r.remaining() != 0) return Corruption("{}: key block {} has trailing bytes", path, index);
  std::lock_guard<std::mutex> lock(m.mu);
  m.key_cache.Put(index, block);
  return std::shared_ptr<const DecodedKeyBlock>(block);
}

// Calls fn(key, posting bytes) for every key starting with `prefix`, in order. fn returns false
// to stop.
static Status ScanKeys(Segment::Impl& m, const std::string& path, std::string_view prefix,
                       const std::function<bool(std::string_view, std::string_view)>& fn) {
  RETURN_IF_ERROR(LoadKeyIndex(m, path));
  // The first block that can hold `prefix`: the last whose first key is <= prefix.
  auto it = std::upper_bound(m.key_blocks.begin(), m.key_blocks.end(), prefix,
                             [](std::string_view p, const KeyBlockInfo& b) { return p < b.first_key; });
  size_t b = it == m.key_blocks.begin() ? 0 : static_cast<size_t>(it - m.key_blocks.begin()) - 1;
  for (; b < m.key_blocks.size(); ++b) {
    if (m.key_blocks[b].first_key.compare(0, prefix.size(), prefix) > 0) break;
    ASSIGN_OR_RETURN(auto block, LoadKeyBlock(m, path, b));
    auto e = std::lower_bound(block->entries.begin(), block->entries.end(), prefix,
                              [](const KeyEntry& k, std::string_view p) { return k.key < p; });
    for (; e != block->entries.end(); ++e) {
      if (e->key.compare(0, prefix.size(), prefix) != 0) return Status::Ok();
      if (!fn(e->key, e->posting)) return Status::Ok();
    }
  }
  return Status::Ok();
}

// Posting of exactly `key`; false when absent.
static Result<bool> LookupKey(Segment::Impl& m, const std::string& path, std::string_view key,
                              uint32_t count, Bitmap* out) {
  bool found = false;
  Status inner;
  RETURN_IF_ERROR(ScanKeys(m, path, key, [&](std::string_view k, std::string_view posting) {
    if (k == key) {
      found = true;
      inner = DecodePosting(posting, count, out, path);
    }
    return false;
  }));
  RETURN_IF_ERROR(inner);
  return found;
}

static Status LoadCatalog(Segment::Impl& m, const std::string& path) {
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.catalog_loaded) return Status::Ok();
  std::string raw;
  RETURN_IF_ERROR(ReadSection(*m.file, m.sections[static_cast<int>(SectionId::kFieldCatalog)], &raw, "field catalog"));
  Reader r(raw);
  uint64_t n;
  if (!r.GetVarint(&m.term_keys) || !r.GetVarint(&m.term_singletons) || !r.GetVarint(&n)) {
    return Corruption("{}: field catalog malformed", path);
  }
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    FieldCatalogEntry e;
    if (!r.GetLengthPrefixed(&name) || !r.GetVarint(&e.events) || !r.GetVarint(&e.keys) ||
        !r.GetVarint(&e.singletons)) {
      return Corruption("{}: field catalog truncated", path);
    }
    m.catalog.emplace(std::string(name), e);
  }
  m.catalog_loaded = true;
  return Status::Ok();
}

// Blocks whose Bloom filter may hold `value` (lower-cased): reads the k rows that `value` hashes
// to (one bit per block each, inside CRC-checked chunks of the section, cached) and returns the
// blocks whose bit is set in all of them.
static Result<std::vector<uint32_t>> BloomBlocks(Segment::Impl& m, const std::string& path,
                                                 uint32_t nblocks, std::string_view value) {
  const SectionInfo& sec = m.sections[static_cast<int>(SectionId::kBlooms)];
  std::lock_guard<std::mutex> lock(m.mu);
  constexpr size_t kBloomHeaderBytes = 16;
  constexpr size_t kMaxCachedBloomChunks = 256;  // 1 MiB per segment
  if (!m.bloom_header_loaded) {
    char hdr[kBloomHeaderBytes];
    if (sec.size < sizeof(hdr)) return Corruption("{}: Bloom section too short", path);
    RETURN_IF_ERROR(m.file->ReadExact(sec.offset, sizeof(hdr), hdr));
    const uint32_t rows = DecodeFixed32(hdr), row_bytes = DecodeFixed32(hdr + 4);
    const uint32_t chunk = DecodeFixed32(hdr + 8);
    const uint64_t data = uint64_t{rows} * row_bytes;
    const uint64_t nchunks = (data + kBloomChunkBytes - 1) / kBloomChunkBytes;
    if (chunk != kBloomChunkBytes || row_bytes != (nblocks + 7) / 8 ||
        sizeof(hdr) + data + 4 * nchunks != sec.size) {
      return Corruption("{}: Bloom section header is inconsistent", path);
    }
    std::string crcs(4 * nchunks, '\0');
    RETURN_IF_ERROR(m.file->ReadExact(sec.offset + sizeof(hdr) + data, crcs.size(), crcs.data()));
    m.bloom_chunk_crcs.resize(nchunks);
    for (uint64_t c = 0; c < nchunks; ++c) m.bloom_chunk_crcs[c] = DecodeFixed32(crcs.data() + 4 * c);
    m.bloom_rows = rows;
    m.bloom_row_bytes = row_bytes;
    m.bloom_header_loaded = true;
  }
  std::vector<uint32_t> out;
  if (m.bloom_rows == 0) return out;
  const uint64_t data_size = uint64_t{m.bloom_rows} * m.bloom_row_bytes;
  auto chunk = [&](uint32_t c) -> Result<std::shared_ptr<const std::string>> {
    auto it = m.bloom_chunks.find(c);
    if (it != m.bloom_chunks.end()) return it->second;
    const uint64_t at = uint64_t{c} * kBloomChunkBytes;
    auto bytes = std::make_shared<std::string>(std::min<uint64_t>(kBloomChunkBytes, data_size - at), '\0');
    RETURN_IF_ERROR(m.file->ReadExact(sec.offset + kBloomHeaderBytes + at, bytes->size(), bytes->data()));
    if (Crc32(*bytes) != m.bloom_chunk_crcs[c]) {
      return Corruption("{}: Bloom section checksum mismatch in chunk {}", path, c);
    }
    if (m.bloom_chunks.size() >= kMaxCachedBloomChunks) m.bloom_chunks.clear();  // bound memory
    m.bloom_chunks.emplace(c, bytes);
    return std::shared_ptr<const std::string>(bytes);
  };
  std::string acc(m.bloom_row_bytes, '\xff');
  const uint64_t h = Hash64(value);
  for (int i = 0; i < kBloomProbes; ++i) {
    const uint64_t row = BloomRow(m.version, h, i, m.bloom_rows);
    uint64_t at = row * m.bloom_row_bytes;
    for (uint32_t j = 0; j < m.bloom_row_bytes;) {
      const uint32_t c = static_cast<uint32_t>((at + j) / kBloomChunkBytes);
      ASSIGN_OR_RETURN(auto bytes, chunk(c));
      const uint64_t off = at + j - uint64_t{c} * kBloomChunkBytes;
      const uint32_t n = static_cast<uint32_t>(
          std::min<uint64_t>(m.bloom_row_bytes - j, bytes->size() - off));
      for (uint32_t k = 0; k < n; ++k) acc[j + k] &= (*bytes)[off + k];
      j += n;
    }
  }
  for (uint32_t b = 0; b < nblocks; ++b) {
    if ((static_cast<uint8_t>(acc[b / 8]) >> (b % 8)) & 1) out.push_back(b);
  }
  return out;
}

// Confirming a Bloom filter's "maybe" means parsing every event of the block, which is what makes
// false positives expensive. Most candidate blocks can be ruled out on their text instead: a
// leaf value without JSON escapes appears verbatim in the event's JSON, so an event that has no
// backslash and does not contain the wanted text (case-insensitively) cannot hold it. Returns,
// per event of `block`, whether it must be parsed; empty when none must.
static std::vector<bool> EventsToParse(const DecodedBlock& block, uint32_t count,
                                       std::string_view lower) {
  std::vector<bool> out;
  if (lower.empty()) {
    out.assign(count, true);
    return out;
  }
  // One pass for the text and one for backslashes over the whole block; each hit marks its event
  // and the search goes on from the next event.
  std::string_view data = block.data;
  const auto ends = block.offsets.begin() + 1;
  bool some = false;
  auto mark = [&](size_t at) {  // returns where the next event starts
    auto it = std::upper_bound(ends, ends + count, static_cast<uint32_t>(at));
    if (it == ends + count) return data.size();
    size_t i = static_cast<size_t>(it - ends);
    if (out.empty()) out.assign(count, false);
    out[i] = true;
    some = true;
    return size_t{*it};
  };
  for (size_t at = FindCaseless(data, lower); at != std::string_view::npos; at = FindCaseless(data, lower, at)) {
    at = mark(at);
  }
  for (size_t at = data.find('\\'); at != std::string_view::npos; at = data.find('\\', at)) {
    at = mark(at);
  }
  if (!some) out.clear();
  return out;
}

namespace {
// Walks every event of the given blocks and adds ordinals for which `pred(leaf)` holds for some
// non-column leaf.
}  // namespace

Result<Bitmap> Segment::FieldPostings(std::string_view field, std::string_view value) const {
  Impl& m = *impl_;
  Bitmap out;
  int c = ColumnIndex(field);
  if (c >= 0) {
    // The dictionary alone answers "not in this segment" without reading the codes.
    ASSIGN_OR_RETURN(auto dict, LoadDict(m, path_, static_cast<size_t>(c)));
    std::string want = ToLower(value);
    std::vector<uint32_t> codes;
    for (uint32_t i = 0; i < dict->size(); ++i) {
      if ((*dict)[i].size() == want.size() && ToLower((*dict)[i]) == want) codes.push_back(i + 1);
    }
    return ColumnPostings(m, path_, static_cast<size_t>(c), desc_.event_count, codes);
  }
  if (field == kTimeField) return Unsupported("{} is searched through the time column", field);
  std::string lower = ToLower(value.substr(0, std::min(value.size(), size_t{4096})));
  std::string key;
  key.push_back(kFieldKeyPrefix);
  key.append(field);
  key.push_back('\0');
  key.append(lower);
  ASSIGN_OR_RETURN(bool found, LookupKey(m, path_, key, desc_.event_count, &out));
  if (found) return out;
  RETURN_IF_ERROR(LoadCatalog(m, path_));
  auto cat = m.catalog.find(field);
  if (cat == m.catalog.end() || cat->second.singletons == 0) return out;
  // A singleton: ask the Bloom filters, then confirm in the candidate blocks.
  ASSIGN_OR_RETURN(auto cands, BloomBlocks(m, path_, static_cast<uint32_t>(blocks_.size()), lower));
  LeafWalker walker;
  for (uint32_t b : cands) {
    ASSIGN_OR_RETURN(auto block, CAIRN_LOAD_BLOCK(b));
    std::vector<bool> parse = EventsToParse(*block, blocks_[b].count, lower);
    if (parse.empty()) continue;
    for (uint32_t i = 0; i < blocks_[b].count; ++i) {
      if (!parse[i]) continue;
      bool hit = false;
      Status s = walker.Walk(block->Get(i), [&](const Leaf& leaf) {
        if (!hit && leaf.field == field) {
          std::string_view v = leaf.value.substr(0, std::min(leaf.value.size(), size_t{4096}));
          hit = v.size() == lower.size() && ToLower(v) == lower;
        }
      });
      if (!s.ok()) return Corruption("{}: stored event does not parse: {}", path_, s.message());
      if (hit) out.add(blocks_[b].first + i);
    }
  }
  return out;
}

// Column-derived term index: (term, column, code), sorted by term.
static Result<std::shared_ptr<const std::vector<ColumnTerm>>> LoadColumnTerms(Segment::Impl& m,
                                                                             const std::string& path) {
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.column_terms) return m.column_terms;
  }
  auto terms = std::make_shared<std::vector<ColumnTerm>>();
  std::string buf;
  std::vector<std::string_view> pieces;
  for (size_t c = 0; c < kJsonColumnCount; ++c) {
    ASSIGN_OR_RETURN(auto dict, LoadDict(m, path, c));
    for (uint32_t i = 0; i < dict->size(); ++i) {
      SplitTerms((*dict)[i], &buf, &pieces);
      for (std::string_view t : pieces) {
        terms->push_back(ColumnTerm{std::string(t), static_cast<uint16_t>(c), i + 1});
      }
    }
  }
  std::sort(terms->begin(), terms->end(), [](const ColumnTerm& a, const ColumnTerm& b) {
    return std::tie(a.term, a.column, a.code) < std::tie(b.term, b.column, b.code);
  });
  terms->erase(std::unique(terms->begin(), terms->end(),
                           [](const ColumnTerm& a, const ColumnTerm& b) {
                             return a.term == b.term && a.column == b.column && a.code == b.code;
                           }),
               terms->end());
  std::lock_guard<std::mutex> lock(m.mu);
  m.column_terms = terms;
  return m.column_terms;
}

// Adds the events whose column values contain a term accepted by `match`, or the term `exact`;
// with `phrase` (lower-cased, holding `exact`), only values that contain the phrase.
static Status AddColumnTermMatches(Segment::Impl& m, const std::string& path, uint32_t count,
                                   const std::function<bool(std::string_view)>& match,
                                   std::string_view exact, Bitmap* out, std::string_view phrase = {}) {
  std::vector<std::vector<uint32_t>> codes(kJsonColumnCount);
  bool use_index = exact.empty();
  if (!use_index) {
    // The first exact lookup in a segment scans the dictionaries (cheaper than building the
    // term index for one lookup); a segment asked again, as in a long-running process, builds
    // the index once and answers from it.
    std::lock_guard<std::mutex> lock(m.mu);
    use_index = m.column_terms != nullptr || ++m.exact_term_lookups > 1;
  }
  if (use_index && !exact.empty()) {
    ASSIGN_OR_RETURN(auto terms, LoadColumnTerms(m, path));
    auto lo = std::lower_bound(terms->begin(), terms->end(), exact,
                               [](const ColumnTerm& t, std::string_view x) { return t.term < x; });
    for (auto it = lo; it != terms->end() && it->term == exact; ++it) {
      if (!phrase.empty()) {
        ASSIGN_OR_RETURN(auto dict, LoadDict(m, path, it->column));
        if (FindCaseless((*dict)[it->code - 1], phrase) == std::string_view::npos) continue;
      }
      codes[it->column].push_back(it->code);
    }
  } else if (!exact.empty()) {
    // Scan the dictionaries: a case-insensitive substring test rejects most values before they
    // are split into terms.
    std::string buf;
    std::vector<std::string_view> pieces;
    for (size_t c = 0; c < kJsonColumnCount; ++c) {
      ASSIGN_OR_RETURN(auto dict, LoadDict(m, path, c));
      for (uint32_t i = 0; i < dict->size(); ++i) {
        const std::string& v = (*dict)[i];
        if (!phrase.empty()) {
          if (FindCaseless(v, phrase) != std::string_view::npos) codes[c].push_back(i + 1);
          continue;
        }
        if (FindCaseless(v, exact) == std::string_view::npos) continue;
        SplitTerms(v, &buf, &pieces);
        for (std::string_view t : pieces) {
          if (t == exact) {
            codes[c].push_back(i + 1);
            break;
          }
        }
      }
    }
  } else {
    ASSIGN_OR_RETURN(auto terms, LoadColumnTerms(m, path));
    for (const ColumnTerm& t : *terms) {
      if (match(t.term)) codes[t.column].push_back(t.code);
    }
  }
  for (size_t c = 0; c < kJsonColumnCount; ++c) {
    if (codes[c].empty()) continue;
    std::sort(codes[c].begin(), codes[c].end());
    ASSIGN_OR_RETURN(Bitmap b, ColumnPostings(m, path, c, count, codes[c]));
    *out |= b;
  }
  return Status::Ok();
}

// Walks the non-column leaves of events in blocks `which` (all when null), adding the ordinals
// where some term satisfies `match`. `literal`, when not empty, is text (lower-cased) that every
// matching term contains, used to skip events that cannot match (EventsToParse).
static Status ScanTerms(const Segment& seg, const std::function<Result<std::shared_ptr<const DecodedBlock>>(uint32_t)>& load,
                        const std::vector<uint32_t>& which, const std::vector<uint32_t>& firsts,
                        const std::vector<uint32_t>& counts,
                        const std::function<bool(std::string_view)>& match, Bitmap* out,
                        std::string_view literal = {}) {
  LeafWalker walker;
  std::string buf;
  std::vector<std::string_view> pieces;
  for (uint32_t b : which) {
    ASSIGN_OR_RETURN(auto block, load(b));
    std::vector<bool> parse;
    if (!literal.empty()) {
      parse = EventsToParse(*block, counts[b], literal);
      if (parse.empty()) continue;
    }
    for (uint32_t i = 0; i < counts[b]; ++i) {
      if (!parse.empty() && !parse[i]) continue;
      bool hit = false;
      Status s = walker.Walk(block->Get(i), [&](const Leaf& leaf) {
        if (hit || leaf.field == kTimeField || ColumnIndex(leaf.field) >= 0) return;
        SplitTerms(leaf.value, &buf, &pieces);
        for (std::string_view t : pieces) {
          if (match(t)) {
            hit = true;
            return;
          }
        }
      });
      if (!s.ok()) return Corruption("{}: stored event does not parse: {}", seg.path(), s.message());
      if (hit) out->add(firsts[b] + i);
    }
  }
  return Status::Ok();
}

Result<Bitmap> Segment::TermPostings(std::string_view term) const {
  ASSIGN_OR_RETURN(Bitmap out, LeafTermPostings(term));
  std::string lower = ToLower(term.substr(0, std::min(term.size(), kMaxTermBytes)));
  if (!lower.empty()) {
    RETURN_IF_ERROR(AddColumnTermMatches(*impl_, path_, desc_.event_count, nullptr, lower, &out));
  }
  return out;
}

Result<Bitmap> Segment::ColumnPhrasePostings(std::string_view term, std::string_view phrase) const {
  Bitmap out;
  std::string lower = ToLower(term.substr(0, std::min(term.size(), kMaxTermBytes)));
  std::string lower_phrase = ToLower(phrase);
  if (lower.empty() || lower_phrase.empty()) return out;
  RETURN_IF_ERROR(AddColumnTermMatches(*impl_, path_, desc_.event_count, nullptr, lower, &out, lower_phrase));
  return out;
}

Result<Bitmap> Segment::LeafTermPostings(std::string_view term) const {
  Impl& m = *impl_;
  Bitmap out;
  std::string lower = ToLower(term.substr(0, std::min(term.size(), kMaxTermBytes)));
  if (lower.empty()) return out;
  std::string key;
  key.push_back(kTermKeyPrefix);
  key.append(lower);
  ASSIGN_OR_RETURN(bool found, LookupKey(m, path_, key, desc_.event_count, &out));
  if (found) return out;
  RETURN_IF_ERROR(LoadCatalog(m, path_));
  if (m.term_singletons == 0) return out;
  std::vector<uint32_t> firsts, counts;
  for (const BlockInfo& b : blocks_) {
    firsts.push_back(b.first);
    counts.push_back(b.count);
  }
  ASSIGN_OR_RETURN(auto cands, BloomBlocks(m, path_, static_cast<uint32_t>(blocks_.size()), lower));
  RETURN_IF_ERROR(ScanTerms(*this, [&](uint32_t b) { return CAIRN_LOAD_BLOCK(b); }, cands, firsts,
                            counts, [&](std::string_view t) { return t == lower; }, &out, lower));
  return out;
}

Result<Bitmap> Segment::FieldMatch(std::string_view field, const Pattern& pattern) const {
  if (!pattern.has_wildcard()) return FieldPostings(field, pattern.text());
  Impl& m = *impl_;
  Bitmap out;
  int c = ColumnIndex(field);
  if (c >= 0) {
    ASSIGN_OR_RETURN(auto col, LoadColumn(m, path_, static_cast<size_t>(c), desc_.event_count));
    std::vector<uint32_t> codes;
    for (uint32_t i = 0; i < col->dict.size(); ++i) {
      if (pattern.Matches(col->dict[i])) codes.push_back(i + 1);
    }
    return ScanColumn(*col, codes);
  }
  std::string prefix;
  prefix.push_back(kFieldKeyPrefix);
  prefix.append(field);
  prefix.push_back('\0');
  size_t value_at = prefix.size();
  prefix.append(pattern.literal_prefix());
  Status inner;
  RETURN_IF_ERROR(ScanKeys(m, path_, prefix, [&](std::string_view k, std::string_view posting) {
    if (pattern.Matches(k.substr(value_at))) {
      inner = DecodePosting(posting, desc_.event_count, &out, path_);
      if (!inner.ok()) return false;
    }
    return true;
  }));
  RETURN_IF_ERROR(inner);
  RETURN_IF_ERROR(LoadCatalog(m, path_));
  auto cat = m.catalog.find(field);
  if (cat == m.catalog.end() || cat->second.singletons == 0) return out;
  // Values held once are only in Bloom filters, which cannot answer a pattern: scan.
  LeafWalker walker;
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    ASSIGN_OR_RETURN(auto block, CAIRN_LOAD_BLOCK(b));
    for (uint32_t i = 0; i < blocks_[b].count; ++i) {
      if (out.contains(blocks_[b].first + i)) continue;
      bool hit = false;
      Status s = walker.Walk(block->Get(i), [&](const Leaf& leaf) {
        if (!hit && leaf.field == field) {
          hit = pattern.Matches(leaf.value.substr(0, std::min(leaf.value.size(), size_t{4096})));
        }
      });
      if (!s.ok()) return Corruption("{}: stored event does not parse: {}", path_, s.message());
      if (hit) out.add(blocks_[b].first + i);
    }
  }
  return out;
}

Result<Bitmap> Segment::TermMatch(const Pattern& pattern) const {
  if (!pattern.has_wildcard()) return TermPostings(pattern.text());
  Impl& m = *impl_;
  Bitmap out;
  std::string prefix(1, kTermKeyPrefix);
  prefix.append(pattern.literal_prefix());
  Status inner;
  RETURN_IF_ERROR(ScanKeys(m, path_, prefix, [&](std::string_view k, std::string_view posting) {
    if (pattern.Matches(k.substr(1))) {
      inner = DecodePosting(posting, desc_.event_count, &out, path_);
      if (!inner.ok()) return false;
    }
    return true;
  }));
  RETURN_IF_ERROR(inner);
  RETURN_IF_ERROR(AddColumnTermMatches(m, path_, desc_.event_count,
                                       [&](std::string_view t) { return pattern.Matches(t); }, "",
                                       &out));
  RETURN_IF_ERROR(LoadCatalog(m, path_));
  if (m.term_singletons == 0) return out;
  std::vector<uint32_t> all, firsts, counts;
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    all.push_back(b);
    firsts.push_back(blocks_[b].first);
    counts.push_back(blocks_[b].count);
  }
  RETURN_IF_ERROR(ScanTerms(*this, [&](uint32_t b) { return CAIRN_LOAD_BLOCK(b); }, all, firsts,
                            counts, [&](std::string_view t) { return pattern.Matches(t); }, &out));
  return out;
}

Result<std::vector<ValueCount>> Segment::FieldValues(std::string_view field, const Pattern& pattern,
                                                     bool include_singletons) const {
  Impl& m = *impl_;
  std::vector<ValueCount> out;
  int c = ColumnIndex(field);
  if (c >= 0) {
    ASSIGN_OR_RETURN(auto col, LoadColumn(m, path_, static_cast<size_t>(c), desc_.event_count));
    std::vector<uint64_t> counts(col->dict.size() + 1, 0);
    for (uint32_t code : col->codes) ++counts[code];
    std::map<std::string, uint64_t> lowered;
    for (uint32_t i = 0; i < col->dict.size(); ++i) {
      if (counts[i + 1] > 0 && pattern.Matches(col->dict[i])) lowered[ToLower(col->dict[i])] += counts[i + 1];
    }
    for (auto& [v, n] : lowered) out.push_back(ValueCount{v, n});
    return out;
  }
  std::string prefix;
  prefix.push_back(kFieldKeyPrefix);
  prefix.append(field);
  prefix.push_back('\0');
  size_t value_at = prefix.size();
  prefix.append(pattern.literal_prefix());
  Status inner;
  RETURN_IF_ERROR(ScanKeys(m, path_, prefix, [&](std::string_view k, std::string_view posting) {
    std::string_view v = k.substr(value_at);
    if (pattern.Matches(v)) {
      Bitmap bm;
      inner = DecodePosting(posting, desc_.event_count, &bm, path_);
      if (!inner.ok()) return false;
      out.push_back(ValueCount{std::string(v), bm.cardinality()});
    }
    return true;
  }));
  RETURN_IF_ERROR(inner);
  if (!include_singletons) return out;
  RETURN_IF_ERROR(LoadCatalog(m, path_));
  auto cat = m.catalog.find(field);
  if (cat == m.catalog.end() || cat->second.singletons == 0) return out;
  std::map<std::string, uint64_t> singles;
  LeafWalker walker;
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    ASSIGN_OR_RETURN(auto block, CAIRN_LOAD_BLOCK(b));
    for (uint32_t i = 0; i < blocks_[b].count; ++i) {
      std::string last;
      Status s = walker.Walk(block->Get(i), [&](const Leaf& leaf) {
        if (leaf.field != field) return;
        std::string v = ToLower(leaf.value.substr(0, std::min(leaf.value.size(), size_t{4096})));
        if (v == last) return;
        last = v;
        if (pattern.Matches(v)) singles[v] += 1;
      });
      if (!s.ok()) return Corruption("{}: stored event does not parse: {}", path_, s.message());
    }
  }
  // Keep only values not already listed from the keys table (those with count 1 there are the
  // singletons; multi-valued repeats within one event were collapsed above).
  std::map<std::string, uint64_t> listed;
  for (auto& vc : out) listed[vc.value] = vc.count;
  for (auto& [v, n] : singles) {
    if (listed.count(v) == 0) out.push_back(ValueCount{v, n});
  }
  std::sort(out.begin(), out.end(), [](const ValueCount& a, const ValueCount& b) { return a.value < b.value; });
  return out;
}

Result<std::vector<FieldInfo>> Segment::Fields() const {
  Impl& m = *impl_;
  std::vector<FieldInfo> out;
  for (size_t c = 0; c < kColumnCount; ++c) {
    ASSIGN_OR_RETURN(auto col, LoadColumn(m, path_, c, desc_.event_count));
    if (col->dict.empty()) continue;
    FieldInfo f;
    f.name = std::string(kColumnFields[c]);
    f.column = true;
    f.distinct = col->dict.size();
    for (uint32_t code : col->codes) f.events += code != 0;
    out.push_back(std::move(f));
  }
  RETURN_IF_ERROR(LoadCatalog(m, path_));
  for (const auto& [name, e] : m.catalog) {
    out.push_back(FieldInfo{name, e.events, e.keys + e.singletons, false});
  }
  std::sort(out.begin(), out.end(), [](const FieldInfo& a, const FieldInfo& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<std::string>> Segment::FieldNames() const {
  Impl& m = *impl_;
  RETURN_IF_ERROR(LoadCatalog(m, path_));
  std::vector<std::string> out;
  for (const auto& [name, e] : m.catalog) out.push_back(name);
  return out;
}

// ---------------------------------------------------------------- events

Result<cloudtrail::Event> Segment::ReadEvent(uint32_t ordinal) const {
  if (ordinal >= desc_.event_count) return InvalidArgument("{}: ordinal {} out of range", path_, ordinal);
  cloudtrail::Event e;
  ASSIGN_OR_RETURN(e.raw, Raw(ordinal));
  ASSIGN_OR_RETURN(auto times, Times());
  e.time_ms = (*times)[ordinal];
  ASSIGN_OR_RETURN(auto ids, CAIRN_IDS());
  e.account = ids->accounts[ids->account_of[ordinal]];
  e.event_id = std::string(ids->event_id[ordinal]);
  ASSIGN_OR_RETURN(auto st, LoadColumn(*impl_, path_, kSourcetypeColumn, desc_.event_count));
  ASSIGN_OR_RETURN(auto src, LoadColumn(*impl_, path_, kSourceColumn, desc_.event_count));
  e.sourcetype = std::string(st->Value(ordinal));
  e.source = std::string(src->Value(ordinal));
  return e;
}

Status Segment::ForEachEvent(const std::function<Status(uint32_t, cloudtrail::Event&&)>& fn) const {
  ASSIGN_OR_RETURN(auto times, Times());
  ASSIGN_OR_RETURN(auto ids, CAIRN_IDS());
  ASSIGN_OR_RETURN(auto st, LoadColumn(*impl_, path_, kSourcetypeColumn, desc_.event_count));
  ASSIGN_OR_RETURN(auto src, LoadColumn(*impl_, path_, kSourceColumn, desc_.event_count));
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    DecodedBlock block;
    RETURN_IF_ERROR(CAIRN_READ_BLOCK(b, &block));
    for (uint32_t i = 0; i < blocks_[b].count; ++i) {
      uint32_t o = blocks_[b].first + i;
      cloudtrail::Event e;
      e.raw = std::string(block.Get(i));
      e.time_ms = (*times)[o];
      e.account = ids->accounts[ids->account_of[o]];
      e.event_id = std::string(ids->event_id[o]);
      e.sourcetype = std::string(st->Value(o));
      e.source = std::string(src->Value(o));
      RETURN_IF_ERROR(fn(o, std::move(e)));
    }
  }
  return Status::Ok();
}

Status Segment::ReadEvents(uint32_t first, uint32_t n, std::vector<cloudtrail::Event>* out) const {
  if (n == 0) return Status::Ok();
  if (uint64_t{first} + n > desc_.event_count) return InvalidArgument("{}: range out of bounds", path_);
  ASSIGN_OR_RETURN(auto times, Times());
  ASSIGN_OR_RETURN(auto ids, CAIRN_IDS());
  ASSIGN_OR_RETURN(auto st, LoadColumn(*impl_, path_, kSourcetypeColumn, desc_.event_count));
  ASSIGN_OR_RETURN(auto src, LoadColumn(*impl_, path_, kSourceColumn, desc_.event_count));
  Bitmap range;
  range.addRange(first, uint64_t{first} + n);
  return ForEach(range, false, [&](uint32_t o, std::string_view raw) {
    cloudtrail::Event e;
    e.raw = std::string(raw);
    e.time_ms = (*times)[o];
    e.account = ids->accounts[ids->account_of[o]];
    e.event_id = std::string(ids->event_id[o]);
    e.sourcetype = std::string(st->Value(o));
    e.source = std::string(src->Value(o));
    out->push_back(std::move(e));
    return true;
  });
}

// ---------------------------------------------------------------- statistics

Result<std::vector<ValueCount>> Segment::TopValues(std::string_view field, size_t k,
                                                   const Bitmap* filter) const {
  std::vector<ValueCount> all;
  int c = ColumnIndex(field);
  if (c >= 0 && !filter) {
    ASSIGN_OR_RETURN(ColumnSummary sum, ColumnCounts(field));
    for (uint32_t i = 0; i < sum.dict->size(); ++i) {
      if ((*sum.counts)[i + 1] > 0) all.push_back(ValueCount{(*sum.dict)[i], (*sum.counts)[i + 1]});
    }
  } else if (c >= 0) {
    ASSIGN_OR_RETURN(auto col, GetColumn(field));
    std::vector<uint64_t> counts(col->dict.size() + 1, 0);
    for (uint32_t o : *filter) {
      if (o < col->codes.size()) ++counts[col->codes[o]];
    }
    for (uint32_t i = 0; i < col->dict.size(); ++i) {
      if (counts[i + 1] > 0) all.push_back(ValueCount{col->dict[i], counts[i + 1]});
    }
  } else {
    Pattern any("*");
    Impl& m = *impl_;
    std::string prefix;
    prefix.push_back(kFieldKeyPrefix);
    prefix.append(field);
    prefix.push_back('\0');
    Status inner;
    RETURN_IF_ERROR(ScanKeys(m, path_, prefix, [&](std::string_view key, std::string_view posting) {
      Bitmap bm;
      inner = DecodePosting(posting, desc_.event_count, &bm, path_);
      if (!inner.ok()) return false;
      uint64_t n = filter ? bm.and_cardinality(*filter) : bm.cardinality();
      if (n > 0) all.push_back(ValueCount{std::string(key.substr(prefix.size())), n});
      return true;
    }));
    RETURN_IF_ERROR(inner);
    // Values held by one event each cannot outrank any listed value with a count >= 2; they
    // matter only when fewer than k values are listed.
    if (all.size() < k) {
      ASSIGN_OR_RETURN(auto values, FieldValues(field, any, true));
      std::map<std::string, uint64_t> have;
      for (auto& vc : all) have[vc.value] = vc.count;
      for (auto& vc : values) {
        if (have.count(vc.value)) continue;
        if (filter) {
          ASSIGN_OR_RETURN(auto bm, FieldPostings(field, vc.value));
          if (bm.and_cardinality(*filter) == 0) continue;
        }
        all.push_back(vc);
      }
    }
  }
  std::sort(all.begin(), all.end(), [](const ValueCount& a, const ValueCount& b) {
    return a.count != b.count ? a.count > b.count : a.value < b.value;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

Result<uint64_t> Segment::DistinctCount(std::string_view field) const {
  int c = ColumnIndex(field);
  if (c >= 0) {
    ASSIGN_OR_RETURN(auto dict, LoadDict(*impl_, path_, static_cast<size_t>(c)));
    return static_cast<uint64_t>(dict->size());
  }
  RETURN_IF_ERROR(LoadCatalog(*impl_, path_));
  auto it = impl_->catalog.find(field);
  if (it == impl_->catalog.end()) return uint64_t{0};
  return it->second.keys + it->second.singletons;
}

// ---------------------------------------------------------------- verify

// ---------------------------------------------------------------- size report

Result<std::vector<PartSize>> Segment::SizeReport() const {
  Impl& m = *impl_;
  std::vector<PartSize> parts;
  auto section = [&](SectionId id) -> const SectionInfo& {
    return m.sections[static_cast<int>(id)];
  };
  uint64_t sections_total = 0;
  for (const SectionInfo& s : m.sections) sections_total += s.present ? s.size : 0;
  parts.push_back({"header, footer, trailer", m.file->Size() - sections_total, 0, 0});
  static constexpr std::pair<SectionId, std::string_view> kWhole[] = {
      {SectionId::kBlocks, "blocks"},       {SectionId::kBlockIndex, "block index"},
      {SectionId::kBlooms, "Bloom filters"}, {SectionId::kTime, "time"},
      {SectionId::kIds, "ids"},             {SectionId::kKeyIndex, "key index"},
      {SectionId::kFieldCatalog, "field catalog"}};
  for (const auto& [id, name] : kWhole) {
    const SectionInfo& s = section(id);
    uint64_t raw = s.raw_size;
    if (id == SectionId::kBlocks) {
      raw = 0;
      for (const BlockInfo& b : blocks_) raw += b.rsize;
    }
    parts.push_back({std::string(name), s.present ? s.size : 0, raw, 0});
  }
  // Columns: the directory, then each column's two frames.
  {
    std::lock_guard<std::mutex> lock(m.mu);
    RETURN_IF_ERROR(LoadColumnDir(m, path_));
  }
  uint64_t frames = 0;
  for (size_t c = 0; c < kColumnCount; ++c) {
    ASSIGN_OR_RETURN(ColumnSummary summary, ColumnCounts(kColumnFields[c]));
    const std::string name(kColumnFields[c]);
    parts.push_back({"columns: " + name + " dictionary", m.dict_frames[c].csize,
                     m.dict_frames[c].rsize, summary.dict->size()});
    parts.push_back({"columns: " + name + " codes", m.code_frames[c].csize, m.code_frames[c].rsize, 0});
    frames += m.dict_frames[c].csize + m.code_frames[c].csize;
  }
  parts.push_back({"columns: directory", section(SectionId::kColumns).size - frames, 0, 0});
  // Keys: each entry's share of its block, by field.
  RETURN_IF_ERROR(LoadKeyIndex(m, path_));
  std::map<std::string, PartSize, std::less<>> by_field;
  uint64_t key_frames = 0;
  for (size_t b = 0; b < m.key_blocks.size(); ++b) {
    ASSIGN_OR_RETURN(auto block, LoadKeyBlock(m, path_, b));
    const KeyBlockInfo& info = m.key_blocks[b];
    key_frames += info.csize;
    // Each entry's bytes in the block: its key's suffix after the prefix it shares with the
    // previous key, and its posting.
    std::vector<uint64_t> raws(block->entries.size());
    uint64_t block_raw = 0;
    for (size_t i = 0; i < block->entries.size(); ++i) {
      const std::string& key = block->entries[i].key;
      size_t shared = 0;
      if (i > 0) {
        const std::string& prev = block->entries[i - 1].key;
        while (shared < std::min(prev.size(), key.size()) && prev[shared] == key[shared]) ++shared;
      }
      raws[i] = key.size() - shared + block->entries[i].posting.size();
      block_raw += raws[i];
    }
    uint64_t assigned = 0;
    for (size_t i = 0; i < block->entries.size(); ++i) {
      const KeyEntry& e = block->entries[i];
      std::string_view key = e.key;
      std::string_view field = key.empty() || key[0] != kFieldKeyPrefix
                                   ? std::string_view("(terms)")
                                   : key.substr(1, key.find('\0') - 1);
      auto it = by_field.find(field);
      if (it == by_field.end()) {
        it = by_field.emplace(std::string(field), PartSize{"keys: " + std::string(field), 0, 0, 0})
                 .first;
      }
      const uint64_t raw = raws[i];
      // The block's last entry takes the rounding remainder, so the parts sum to the section.
      const uint64_t share = i + 1 == block->entries.size()
                                 ? info.csize - assigned
                                 : info.csize * raw / std::max<uint64_t>(block_raw, 1);
      assigned += share;
      it->second.bytes += share;
      it->second.raw_bytes += raw;
      ++it->second.entries;
    }
  }
  for (auto& [field, part] : by_field) parts.push_back(std::move(part));
  parts.push_back({"keys: between blocks", section(SectionId::kKeys).size - key_frames, 0, 0});
  return parts;
}

Status Segment::Verify() const {
  const Impl& m = *impl_;
  const RandomAccessFile& file = *m.file;
  // Every section's CRC over its stored bytes.
  for (uint32_t id = 1; id < 16; ++id) {
    const SectionInfo& s = m.sections[id];
    if (!s.present) continue;
    uint32_t crc = 0;
    std::string buf;
    for (uint64_t off = 0; off < s.size; off += (4u << 20)) {
      size_t n = static_cast<size_t>(std::min<uint64_t>(4u << 20, s.size - off));
      buf.resize(n);
      RETURN_IF_ERROR(file.ReadExact(s.offset + off, n, buf.data()));
      crc = Crc32(buf, crc);
    }
    if (crc != s.crc) {
      return Corruption("{}: section {} checksum mismatch (offset {}, {} bytes)", path_, id,
                        s.offset, s.size);
    }
  }
  // Every block decodes.
  for (uint32_t b = 0; b < blocks_.size(); ++b) {
    DecodedBlock block;
    RETURN_IF_ERROR(ReadBlock(file, path_, b, blocks_[b].offset, blocks_[b].csize, blocks_[b].rsize,
                              blocks_[b].crc, blocks_[b].count, &block));
  }
  // Every other part decodes (fresh reads, bypassing caches).
  Segment::Impl& mm = const_cast<Segment::Impl&>(m);
  std::string raw;
  RETURN_IF_ERROR(ReadSection(file, m.sections[static_cast<int>(SectionId::kTime)], &raw, "time"));
  RETURN_IF_ERROR(ReadSection(file, m.sections[static_cast<int>(SectionId::kIds)], &raw, "ids"));
  for (size_t c = 0; c < kColumnCount; ++c) {
    std::lock_guard<std::mutex> lock(mm.mu);
    RETURN_IF_ERROR(LoadColumnDir(mm, path_));
    for (const auto* f : {&mm.dict_frames[c], &mm.code_frames[c]}) {
      RETURN_IF_ERROR(ReadFrame(file, f->offset, f->csize, f->rsize, f->crc, &raw,
                                fmt::format("column {}", kColumnFields[c])));
    }
  }
  // Each column's stored value counts agree with its codes.
  for (size_t c = 0; c < kColumnCount; ++c) {
    ASSIGN_OR_RETURN(auto col, LoadColumn(mm, path_, c, desc_.event_count));
    ASSIGN_OR_RETURN(ColumnSummary sum, ColumnCounts(kColumnFields[c]));
    if (CountCodes(*col) != *sum.counts) return Corruption("{}: column {} value counts disagree with its codes", path_, kColumnFields[c]);
  }
  RETURN_IF_ERROR(LoadKeyIndex(mm, path_));
  for (size_t b = 0; b < mm.key_blocks.size(); ++b) {
    ASSIGN_OR_RETURN(auto block, LoadKeyBlock(mm, path_, b));
    for (const KeyEntry& e : block->entries) {
      Bitmap bm;
      RETURN_IF_ERROR(DecodePosting(e.posting, desc_.event_count, &bm, path_));
    }
  }
  RETURN_IF_ERROR(LoadCatalog(mm, path_));
  {
    auto t = Times();
    if (!t.ok()) return t.status();
    auto ids = CAIRN_IDS();
    if (!ids.ok()) return ids.status();
  }
  return Status::Ok();
}

}  // namespace cairn::store
