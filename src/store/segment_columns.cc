// Columns (section 6): the directory, each column's dictionary (with its per-value event counts
// since format 3) and codes, scans of the codes, and the terms of the dictionaries' values.
//
// The reader knows a segment's columns from its directory, by name, not from the writer's list
// (kColumnFields): a column the segment has is read from it whatever its name; a column of the
// writer's list that the segment lacks (written before it became a column) is answered like any
// other field, from the keys table, and GetColumn builds it from the events.

#include <algorithm>
#include <bit>
#ifdef __AVX2__
#include <immintrin.h>
#endif
#include <cstring>

#include "store/encoding.h"
#include "store/fields.h"
#include "store/segment_internal.h"

namespace cairn::store {

using internal::ColumnSlot;
using internal::ColumnTerm;
using internal::Frame;
using internal::InRange;
using internal::SectionInfo;

namespace internal {

namespace {

// Reads one directory entry's frame: its offset is from the section's start, and it must lie in
// the section after the directory.
bool GetFrame(Reader* r, const SectionInfo& s, uint64_t dir_size, Frame* f) {
  uint64_t off = 0;
  if (!r->GetFixed64(&off) || !r->GetFixed32(&f->csize) || !r->GetFixed32(&f->rsize) ||
      !r->GetFixed32(&f->crc)) {
    return false;
  }
  if (off < dir_size || !InRange(off, f->csize, s.size)) return false;
  f->offset = s.offset + off;
  return true;
}

// Formats 2 and 3: `u32 count` (23), then two entries per column of kLegacyColumnFields. The
// directory has no checksum of its own, so the whole section's is checked once, streamed.
Status LoadLegacyColumnDir(Impl& m, const std::string& path) {
  const SectionInfo& s = m.section(SectionId::kColumns);
  const uint64_t dir_size = 4 + std::size(kLegacyColumnFields) * 2 * kColumnFrameEntryBytes;
  if (s.size < dir_size) return Corruption("{}: columns section too short", path);
  uint32_t crc = 0;
  std::string buf;
  for (uint64_t off = 0; off < s.size; off += buf.size()) {
    buf.resize(static_cast<size_t>(std::min<uint64_t>(uint64_t{1} << 20, s.size - off)));
    RETURN_IF_ERROR(m.file->ReadExact(s.offset + off, buf.size(), buf.data()));
    crc = Crc32(buf, crc);
  }
  if (crc != s.crc) {
    return Corruption("{}: columns section checksum mismatch at offset {}", path, s.offset);
  }
  std::string dir(dir_size, '\0');
  RETURN_IF_ERROR(m.file->ReadExact(s.offset, dir_size, dir.data()));
  Reader r(dir);
  uint32_t n = 0;
  r.GetFixed32(&n);
  if (n != std::size(kLegacyColumnFields)) {
    return Corruption("{}: {} columns, expected {}", path, n, std::size(kLegacyColumnFields));
  }
  for (size_t c = 0; c < n; ++c) {
    ColumnSlot slot;
    slot.name = std::string(kLegacyColumnFields[c]);
    slot.json = c < kLegacyJsonColumnCount;
    if (!GetFrame(&r, s, dir_size, &slot.dict) || !GetFrame(&r, s, dir_size, &slot.codes)) {
      return Corruption("{}: column {} frame out of range", path, slot.name);
    }
    m.cols.push_back(std::move(slot));
  }
  return Status::Ok();
}

// Format 4: `u32 size`, `u32 count`, per column its kind, its name and its two frame entries,
// then the CRC of the directory's bytes before it, checked before anything in it is used.
Status LoadNamedColumnDir(Impl& m, const std::string& path) {
  const SectionInfo& s = m.section(SectionId::kColumns);
  char head[8];
  if (s.size < sizeof(head)) return Corruption("{}: columns section too short", path);
  RETURN_IF_ERROR(m.file->ReadExact(s.offset, sizeof(head), head));
  const uint32_t dir_size = DecodeFixed32(head), n = DecodeFixed32(head + 4);
  // The smallest entry is a one-byte name; the largest directory holds kMaxColumns of the
  // longest names.
  constexpr uint64_t kMinEntry = 3 + 1 + 2 * kColumnFrameEntryBytes;
  constexpr uint64_t kMaxEntry = 3 + kMaxColumnNameBytes + 2 * kColumnFrameEntryBytes;
  if (dir_size > s.size || n > kMaxColumns || dir_size < 12 + n * kMinEntry ||
      dir_size > 12 + n * kMaxEntry) {
    return Corruption("{}: column directory of {} bytes for {} columns is inconsistent", path,
                      dir_size, n);
  }
  std::string dir(dir_size, '\0');
  RETURN_IF_ERROR(m.file->ReadExact(s.offset, dir_size, dir.data()));
  if (Crc32(std::string_view(dir).substr(0, dir_size - 4)) !=
      DecodeFixed32(dir.data() + dir_size - 4)) {
    return Corruption("{}: column directory checksum mismatch at offset {}", path, s.offset);
  }
  Reader r(std::string_view(dir).substr(8, dir_size - 12));
  for (uint32_t c = 0; c < n; ++c) {
    ColumnSlot slot;
    std::string_view kind, len, name;
    if (!r.GetBytes(1, &kind) || !r.GetBytes(2, &len)) {
      return Corruption("{}: column directory truncated at column {}", path, c);
    }
    const size_t name_len =
        static_cast<uint8_t>(len[0]) | (size_t{static_cast<uint8_t>(len[1])} << 8);
    if (name_len == 0 || name_len > kMaxColumnNameBytes || !r.GetBytes(name_len, &name)) {
      return Corruption("{}: column directory: bad name of column {}", path, c);
    }
    slot.name = std::string(name);
    bool hashes = false, filter = false;
    if (kind[0] == static_cast<char>(kColumnKindJson)) {
      slot.json = true;
    } else if (kind[0] == static_cast<char>(kColumnKindValueHashes)) {
      hashes = true;
    } else if (kind[0] == static_cast<char>(kColumnKindTermFilter)) {
      filter = true;
      if (slot.name != kColumnTermFilterName || m.term_filter) {
        return Corruption("{}: column directory: term filter named {} or listed twice", path,
                          slot.name);
      }
    } else if (kind[0] == static_cast<char>(kColumnKindMetadata)) {
      slot.json = false;
    } else {
      return Corruption("{}: column {} has unknown kind {}", path, slot.name,
                        static_cast<uint8_t>(kind[0]));
    }
    if (!GetFrame(&r, s, dir_size, &slot.dict) || !GetFrame(&r, s, dir_size, &slot.codes)) {
      return Corruption("{}: column {} frame out of range", path, slot.name);
    }
    if (filter) {
      m.term_filter = std::move(slot);
    } else {
      (hashes ? m.hashed : m.cols).push_back(std::move(slot));
    }
  }
  if (r.remaining() != 0) return Corruption("{}: column directory has trailing bytes", path);
  return Status::Ok();
}

}  // namespace

Status LoadColumnDir(Impl& m, const std::string& path) {
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.column_dir_loaded) return Status::Ok();
  m.cols.clear();
  m.hashed.clear();
  m.term_filter.reset();
  Status s = m.version >= 4 ? LoadNamedColumnDir(m, path) : LoadLegacyColumnDir(m, path);
  if (!s.ok()) {
    m.cols.clear();
    m.hashed.clear();
    return s;
  }
  for (size_t h = 0; h < m.hashed.size(); ++h) {
    if (!m.hashed_by_name.emplace(m.hashed[h].name, static_cast<uint16_t>(h)).second) {
      m.cols.clear();
      m.hashed.clear();
      m.hashed_by_name.clear();
      return Corruption("{}: value hashes of {} listed twice", path, m.hashed[h].name);
    }
  }
  for (size_t c = 0; c < m.cols.size(); ++c) {
    if (!m.col_by_name.emplace(m.cols[c].name, static_cast<uint16_t>(c)).second) {
      m.cols.clear();
      m.col_by_name.clear();
      return Corruption("{}: column {} listed twice", path, m.cols[c].name);
    }
  }
  m.column_dir_loaded = true;
  return Status::Ok();
}

Result<int> ColumnSlotOf(Impl& m, const std::string& path, std::string_view field) {
  RETURN_IF_ERROR(LoadColumnDir(m, path));
  auto it = m.col_by_name.find(field);
  return it == m.col_by_name.end() ? -1 : static_cast<int>(it->second);
}

// Reads column `slot`'s dictionary frame into `raw` and calls fn(count, value) for each value in
// order; `r` is left after the values (where the per-value event counts follow). Returns the count.
// With a (lowercase) `needle`, a frame that holds it nowhere, in any case, is not walked (returns
// 0): one vectorised pass over the frame rules out a whole column for a term.
static Result<uint64_t> WalkDict(Impl& m, const std::string& path, const ColumnSlot& slot,
                                 std::string* raw, Reader* r,
                                 const std::function<Status(uint64_t, std::string_view)>& fn,
                                 std::string_view needle = {}) {
  RETURN_IF_ERROR(
      ReadFrame(*m.file, slot.dict, raw, fmt::format("column {} dictionary", slot.name)));
  if (!needle.empty() && FindCaseless(*raw, needle) == std::string_view::npos) return 0;
  *r = Reader(*raw);
  uint64_t n;
  if (!r->GetVarint(&n) || n > r->remaining()) {
    return Corruption("{}: column {} dictionary malformed", path, slot.name);
  }
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view v;
    if (!r->GetLengthPrefixed(&v)) {
      return Corruption("{}: column {} dictionary truncated", path, slot.name);
    }
    RETURN_IF_ERROR(fn(n, v));
  }
  return n;
}

Result<std::shared_ptr<const std::vector<std::string>>> LoadDict(Impl& m, const std::string& path,
                                                                 size_t c) {
  RETURN_IF_ERROR(LoadColumnDir(m, path));
  ColumnSlot& slot = m.cols[c];
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (slot.dict_values) return slot.dict_values;
  }
  std::string raw;
  Reader r;
  auto dict = std::make_shared<std::vector<std::string>>();
  ASSIGN_OR_RETURN(uint64_t n,
                   WalkDict(m, path, slot, &raw, &r, [&](uint64_t n, std::string_view v) {
                     if (dict->empty()) dict->reserve(n);
                     if (!dict->empty() && !(dict->back() < v)) {
                       return Corruption("{}: column {} dictionary not sorted", path, slot.name);
                     }
                     dict->emplace_back(v);
                     return Status::Ok();
                   }));
  std::shared_ptr<std::vector<uint32_t>> counts;
  if (m.version >= 3) {
    counts = std::make_shared<std::vector<uint32_t>>(n + 1, 0);
    uint64_t sum = 0;
    for (uint64_t i = 1; i <= n; ++i) {
      uint64_t k;
      if (!r.GetVarint(&k) || k == 0 || k > m.event_count) {
        return Corruption("{}: column {} value counts malformed", path, slot.name);
      }
      (*counts)[i] = static_cast<uint32_t>(k);
      sum += k;
    }
    if (sum > m.event_count) {
      return Corruption("{}: column {} value counts exceed the events", path, slot.name);
    }
    (*counts)[0] = static_cast<uint32_t>(m.event_count - sum);
  }
  if (r.remaining() != 0)
    return Corruption("{}: column {} dictionary has trailing bytes", path, slot.name);
  std::lock_guard<std::mutex> lock(m.mu);
  if (!slot.dict_values) {
    slot.dict_values = dict;
    if (counts) slot.counts = std::move(counts);
  }
  return slot.dict_values;
}

std::vector<uint32_t> CountCodes(const Column& col) {
  std::vector<uint32_t> counts(col.dict.size() + 1, 0);
  for (uint32_t code : col.codes) ++counts[code];
  return counts;
}

Result<std::shared_ptr<const Column>> LoadColumn(Impl& m, const std::string& path, size_t c) {
  ASSIGN_OR_RETURN(auto dict, LoadDict(m, path, c));
  ColumnSlot& slot = m.cols[c];
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (slot.column) return slot.column;
  }
  const uint32_t count = m.event_count;
  // The codes frame is exactly one width byte and `count` codes of that width.
  if (slot.codes.rsize != 1 + uint64_t{count} && slot.codes.rsize != 1 + 2 * uint64_t{count} &&
      slot.codes.rsize != 1 + 4 * uint64_t{count}) {
    return Corruption("{}: column {} codes have the wrong size", path, slot.name);
  }
  std::string raw;
  RETURN_IF_ERROR(ReadFrame(*m.file, slot.codes, &raw, fmt::format("column {} codes", slot.name)));
  const uint8_t width = static_cast<uint8_t>(raw[0]);
  if ((width != 1 && width != 2 && width != 4) || raw.size() != 1 + uint64_t{width} * count) {
    return Corruption("{}: column {} codes have the wrong size", path, slot.name);
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
  if (top > col->dict.size()) {
    return Corruption("{}: column {} code out of range", path, slot.name);
  }
  std::shared_ptr<std::vector<uint32_t>> counts;
  if (m.version < 3) counts = std::make_shared<std::vector<uint32_t>>(CountCodes(*col));
  std::lock_guard<std::mutex> lock(m.mu);
  if (!slot.column) {
    slot.column = col;
    if (counts) slot.counts = std::move(counts);
  }
  return slot.column;
}

Result<std::shared_ptr<const std::vector<uint32_t>>> LoadCounts(Impl& m, const std::string& path,
                                                                size_t c) {
  RETURN_IF_ERROR(LoadDict(m, path, c).status());
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.cols[c].counts) return m.cols[c].counts;
  }
  RETURN_IF_ERROR(LoadColumn(m, path, c).status());  // version 2: from the codes
  std::lock_guard<std::mutex> lock(m.mu);
  return m.cols[c].counts;
}

Result<std::shared_ptr<const Column>> BuildColumnFromEvents(Impl& m, const std::string& path,
                                                            std::string_view field) {
  {
    std::lock_guard<std::mutex> lock(m.mu);
    auto it = m.built_columns.find(field);
    if (it != m.built_columns.end()) return it->second.column;
  }
  // Only a field of the JSON leaves can be found in the events; it is there when the catalog
  // lists it (the segment's writer indexed it as an ordinary field).
  RETURN_IF_ERROR(LoadCatalog(m, path));
  const bool in_events = m.catalog.count(field) > 0;
  std::vector<std::string> values;
  std::vector<int64_t> first_value(m.event_count, -1);  // index into values
  if (in_events) {
    LeafWalker walker;
    Status bad;
    RETURN_IF_ERROR(ScanRaw(m, [&](uint32_t o, std::string_view raw) {
      if (!bad.ok()) return;
      Status s = walker.Walk(raw, [&](const Leaf& leaf) {
        if (first_value[o] < 0 && leaf.field == field) {
          first_value[o] = static_cast<int64_t>(values.size());
          values.emplace_back(leaf.value);
        }
      });
      if (!s.ok()) bad = Corruption("{}: stored event {} does not parse: {}", path, o, s.message());
    }));
    RETURN_IF_ERROR(bad);
  }
  auto dict = std::make_shared<std::vector<std::string>>(values);
  std::sort(dict->begin(), dict->end());
  dict->erase(std::unique(dict->begin(), dict->end()), dict->end());
  auto col = std::make_shared<Column>(dict);
  col->codes.assign(m.event_count, 0);
  for (uint32_t o = 0; o < m.event_count; ++o) {
    if (first_value[o] < 0) continue;
    const std::string& v = values[static_cast<size_t>(first_value[o])];
    col->codes[o] =
        static_cast<uint32_t>(std::lower_bound(dict->begin(), dict->end(), v) - dict->begin()) + 1;
  }
  ColumnSlot built;
  built.name = std::string(field);
  built.dict_values = dict;
  built.column = col;
  built.counts = std::make_shared<std::vector<uint32_t>>(CountCodes(*col));
  std::lock_guard<std::mutex> lock(m.mu);
  auto [it, fresh] = m.built_columns.emplace(std::string(field), std::move(built));
  return it->second.column;
}

Result<std::vector<std::pair<std::string, Frame>>> ColumnFrames(Impl& m, const std::string& path) {
  RETURN_IF_ERROR(LoadColumnDir(m, path));
  std::vector<std::pair<std::string, Frame>> out;
  for (const ColumnSlot& slot : m.cols) {
    out.emplace_back("column " + slot.name + " dictionary", slot.dict);
    out.emplace_back("column " + slot.name + " codes", slot.codes);
  }
  for (const ColumnSlot& slot : m.hashed) {
    out.emplace_back("column " + slot.name + " value count", slot.dict);
    out.emplace_back("column " + slot.name + " value hashes", slot.codes);
  }
  if (m.term_filter) {
    out.emplace_back("column terms filter parameters", m.term_filter->dict);
    out.emplace_back("column terms filter bits", m.term_filter->codes);
  }
  return out;
}

namespace {

// The term filter's bits, read once (null: the segment has none).
Result<std::shared_ptr<const std::string>> TermFilterBits(Impl& m, const std::string& path) {
  RETURN_IF_ERROR(LoadColumnDir(m, path));
  if (!m.term_filter) return std::shared_ptr<const std::string>();
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.term_filter_bits) return m.term_filter_bits;
  }
  std::string raw;
  RETURN_IF_ERROR(ReadFrame(*m.file, m.term_filter->dict, &raw, "term filter parameters"));
  Reader r(raw);
  uint64_t nbits = 0, probes = 0, flags = 0;
  if (!r.GetVarint(&nbits) || !r.GetVarint(&probes) ||
      (r.remaining() != 0 && !r.GetVarint(&flags)) || r.remaining() != 0 || nbits == 0 ||
      nbits % 64 != 0 || probes == 0 || probes > 32 || m.term_filter->codes.rsize != nbits / 8) {
    return Corruption("{}: term filter parameters malformed", path);
  }
  auto loaded = std::make_shared<std::string>();
  RETURN_IF_ERROR(ReadFrame(*m.file, m.term_filter->codes, loaded.get(), "term filter bits"));
  if (loaded->size() != nbits / 8) return Corruption("{}: term filter has the wrong size", path);
  std::lock_guard<std::mutex> lock(m.mu);
  if (!m.term_filter_bits) {
    m.term_filter_bits = std::move(loaded);
    m.term_filter_nbits = nbits;
    m.term_filter_probes = static_cast<uint32_t>(probes);
    m.term_filter_pairs = (flags & kColumnTermFilterPairs) != 0;
  }
  return m.term_filter_bits;
}

bool FilterHas(const Impl& m, const std::string& bits, uint64_t h) {
  for (uint32_t i = 0; i < m.term_filter_probes; ++i) {
    const uint64_t b = ColumnTermBit(h, i, m.term_filter_nbits);
    if (!((static_cast<uint8_t>(bits[b / 8]) >> (b % 8)) & 1)) return false;
  }
  return true;
}

}  // namespace

Result<bool> ColumnMayHoldTerm(Impl& m, const std::string& path, size_t c,
                               std::string_view lower_term) {
  ASSIGN_OR_RETURN(auto bits, TermFilterBits(m, path));
  if (!bits) return true;
  return FilterHas(m, *bits, Hash64(lower_term.substr(0, kMaxTermBytes), Hash64(m.cols[c].name)));
}

Result<bool> ColumnMayHoldPieces(Impl& m, const std::string& path, size_t c,
                                 const std::vector<std::string_view>& pieces) {
  ASSIGN_OR_RETURN(auto bits, TermFilterBits(m, path));
  if (!bits || !m.term_filter_pairs) return true;
  const uint64_t seed = Hash64(m.cols[c].name);
  for (size_t i = 1; i < pieces.size(); ++i) {
    if (!FilterHas(m, *bits, ColumnPairHash(pieces[i - 1], pieces[i], seed))) return false;
  }
  return true;
}

Result<std::shared_ptr<const std::vector<uint64_t>>> LoadValueHashes(Impl& m,
                                                                     const std::string& path,
                                                                     size_t h) {
  RETURN_IF_ERROR(LoadColumnDir(m, path));
  const ColumnSlot& slot = m.hashed[h];
  const uint64_t count = m.event_count;
  if (slot.codes.rsize != 8 * count) {
    return Corruption("{}: value hashes of {} have the wrong size", path, slot.name);
  }
  std::string raw;
  RETURN_IF_ERROR(ReadFrame(*m.file, slot.dict, &raw, fmt::format("value count of {}", slot.name)));
  Reader r(raw);
  uint64_t holding;
  if (!r.GetVarint(&holding) || r.remaining() != 0 || holding > count) {
    return Corruption("{}: value count of {} malformed", path, slot.name);
  }
  RETURN_IF_ERROR(
      ReadFrame(*m.file, slot.codes, &raw, fmt::format("value hashes of {}", slot.name)));
  if (raw.size() != 8 * count) {
    return Corruption("{}: value hashes of {} have the wrong size", path, slot.name);
  }
  static_assert(std::endian::native == std::endian::little, "hashes are stored little-endian");
  auto out = std::make_shared<std::vector<uint64_t>>(count);
  std::memcpy(out->data(), raw.data(), raw.size());
  const uint64_t nonzero =
      static_cast<uint64_t>(std::count_if(out->begin(), out->end(), [](uint64_t x) { return x; }));
  if (nonzero != holding) {
    return Corruption("{}: value hashes of {}: {} events hold a value, the count says {}", path,
                      slot.name, nonzero, holding);
  }
  return std::shared_ptr<const std::vector<uint64_t>>(std::move(out));
}

#ifdef __AVX2__
namespace {
// ScanColumn for at most four codes (an exact value, the usual needle): eight codes compared per
// instruction, so a value few events hold costs a pass at memory speed; runs of matches still go
// in as ranges.
Bitmap ScanColumnFew(const Column& col, const std::vector<uint32_t>& codes) {
  Bitmap out;
  __m256i want[4];
  for (size_t k = 0; k < 4; ++k) {
    want[k] = _mm256_set1_epi32(static_cast<int>(codes[std::min(k, codes.size() - 1)]));
  }
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
    __m256i eq = _mm256_or_si256(
        _mm256_or_si256(_mm256_cmpeq_epi32(v, want[0]), _mm256_cmpeq_epi32(v, want[1])),
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
}  // namespace
#endif

Bitmap ScanColumn(const Column& col, const std::vector<uint32_t>& codes) {
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

Result<Bitmap> ColumnPostings(Impl& m, const std::string& path, size_t c,
                              const std::vector<uint32_t>& codes) {
  Bitmap out;
  if (codes.empty()) return out;
  const uint32_t count = m.event_count;
  std::shared_ptr<const std::vector<uint32_t>> counts;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    counts = m.cols[c].counts;
  }
  if (counts) {
    uint64_t sum = 0;
    for (uint32_t code : codes) sum += code < counts->size() ? (*counts)[code] : 0;
    if (sum == count) {
      out.addRange(0, count);
      return out;
    }
    if (sum == 0) return out;
  }
  ASSIGN_OR_RETURN(auto col, LoadColumn(m, path, c));
  return ScanColumn(*col, codes);
}

namespace {

// Calls fn(column, code, value) for every value of every JSON column. A dictionary already loaded
// is walked as it is; any other is read into a buffer of the thread and walked in place, without
// building (or keeping) its strings: a one-off scan of every dictionary, as a term search in a
// fresh process makes, then costs one decompression per dictionary. With a lowercase `needle`,
// fn may be left uncalled for values that do not contain it (fn still checks each value it gets).
Status ForEachJsonColumnValue(Impl& m, const std::string& path,
                              const std::function<void(size_t, uint32_t, std::string_view)>& fn,
                              std::string_view needle = {},
                              const std::vector<bool>* only = nullptr) {
  thread_local std::string raw;
  for (size_t c = 0; c < m.cols.size(); ++c) {
    const ColumnSlot& slot = m.cols[c];
    if (!slot.json || (only && !(*only)[c])) continue;
    std::shared_ptr<const std::vector<std::string>> dict;
    {
      std::lock_guard<std::mutex> lock(m.mu);
      dict = slot.dict_values;
    }
    if (dict) {
      for (uint32_t i = 0; i < dict->size(); ++i) fn(c, i + 1, (*dict)[i]);
      continue;
    }
    Reader r;
    uint32_t code = 0;
    ASSIGN_OR_RETURN(uint64_t n, WalkDict(
                                     m, path, slot, &raw, &r,
                                     [&](uint64_t, std::string_view v) {
                                       fn(c, ++code, v);
                                       return Status::Ok();
                                     },
                                     needle));
    (void)n;
  }
  return Status::Ok();
}

// Column-derived term index: (term, column, code), sorted by term, over the JSON columns.
Result<std::shared_ptr<const std::vector<ColumnTerm>>> LoadColumnTerms(Impl& m,
                                                                       const std::string& path) {
  RETURN_IF_ERROR(LoadColumnDir(m, path));
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (m.column_terms) return m.column_terms;
  }
  auto terms = std::make_shared<std::vector<ColumnTerm>>();
  std::string buf;
  std::vector<std::string_view> pieces;
  RETURN_IF_ERROR(ForEachJsonColumnValue(m, path, [&](size_t c, uint32_t code, std::string_view v) {
    SplitTerms(v, &buf, &pieces);
    for (std::string_view t : pieces) {
      terms->push_back(ColumnTerm{std::string(t), static_cast<uint16_t>(c), code});
    }
  }));
  std::sort(terms->begin(), terms->end(), [](const ColumnTerm& a, const ColumnTerm& b) {
    return std::tie(a.term, a.column, a.code) < std::tie(b.term, b.column, b.code);
  });
  terms->erase(std::unique(terms->begin(), terms->end(),
                           [](const ColumnTerm& a, const ColumnTerm& b) {
                             return a.term == b.term && a.column == b.column && a.code == b.code;
                           }),
               terms->end());
  std::lock_guard<std::mutex> lock(m.mu);
  if (!m.column_terms) m.column_terms = terms;
  return m.column_terms;
}

}  // namespace

// Exact term lookups in a segment answered by scanning its dictionaries before the term index is
// built.
constexpr uint32_t kTermScansBeforeIndex = 4;

Status AddColumnTermMatches(Impl& m, const std::string& path,
                            const std::function<bool(std::string_view)>& match,
                            std::string_view exact, Bitmap* out, std::string_view phrase) {
  RETURN_IF_ERROR(LoadColumnDir(m, path));
  std::vector<std::vector<uint32_t>> codes(m.cols.size());
  // The columns whose values may hold the term: the term filter rules out the others unread.
  std::vector<bool> may(m.cols.size(), true);
  if (!exact.empty()) {
    // A phrase of several pieces must also have each two neighbouring pieces side by side.
    std::string phrase_buf;
    std::vector<std::string_view> pieces;
    if (!phrase.empty()) SplitPieces(phrase, &phrase_buf, &pieces);
    bool any = false;
    for (size_t c = 0; c < m.cols.size(); ++c) {
      if (!m.cols[c].json) continue;
      ASSIGN_OR_RETURN(bool maybe, ColumnMayHoldTerm(m, path, c, exact));
      if (maybe && pieces.size() > 1) {
        ASSIGN_OR_RETURN(maybe, ColumnMayHoldPieces(m, path, c, pieces));
      }
      may[c] = maybe;
      any |= maybe;
    }
    if (!any) return Status::Ok();
  }
  bool use_index = exact.empty();
  if (!use_index) {
    // The first exact lookups in a segment scan the dictionaries (building the term index costs
    // several scans: a search's term of a few pieces, such as an IP address, looks up two or
    // three); a segment asked more often, as in a long-running process, builds the index once
    // and answers from it.
    std::lock_guard<std::mutex> lock(m.mu);
    use_index = m.column_terms != nullptr || ++m.exact_term_lookups > kTermScansBeforeIndex;
  }
  if (use_index && !exact.empty()) {
    ASSIGN_OR_RETURN(auto terms, LoadColumnTerms(m, path));
    auto lo = std::lower_bound(terms->begin(), terms->end(), exact,
                               [](const ColumnTerm& t, std::string_view x) { return t.term < x; });
    for (auto it = lo; it != terms->end() && it->term == exact; ++it) {
      if (!may[it->column]) continue;
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
    RETURN_IF_ERROR(ForEachJsonColumnValue(
        m, path,
        [&](size_t c, uint32_t code, std::string_view v) {
          if (!phrase.empty()) {
            if (FindCaseless(v, phrase) != std::string_view::npos) codes[c].push_back(code);
            return;
          }
          if (FindCaseless(v, exact) == std::string_view::npos) return;
          SplitTerms(v, &buf, &pieces);
          if (std::find(pieces.begin(), pieces.end(), exact) != pieces.end())
            codes[c].push_back(code);
        },
        phrase.empty() ? exact : phrase, &may));
  } else {
    ASSIGN_OR_RETURN(auto terms, LoadColumnTerms(m, path));
    for (const ColumnTerm& t : *terms) {
      if (match(t.term)) codes[t.column].push_back(t.code);
    }
  }
  for (size_t c = 0; c < codes.size(); ++c) {
    if (codes[c].empty()) continue;
    std::sort(codes[c].begin(), codes[c].end());
    ASSIGN_OR_RETURN(Bitmap b, ColumnPostings(m, path, c, codes[c]));
    *out |= b;
  }
  return Status::Ok();
}

}  // namespace internal

bool Segment::IsColumn(std::string_view field) { return ColumnIndex(field) >= 0; }

namespace {
// A column a segment written before it can build from its events: a JSON leaf's. (An event
// metadata column such as "host" is not in the events.)
bool BuildableColumn(std::string_view field) {
  int c = ColumnIndex(field);
  return c >= 0 && static_cast<size_t>(c) < kJsonColumnCount;
}
}  // namespace

Result<std::shared_ptr<const Column>> Segment::GetColumn(std::string_view field) const {
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(*impl_, path_, field));
  if (c >= 0) return internal::LoadColumn(*impl_, path_, static_cast<size_t>(c));
  if (!BuildableColumn(field)) return NotFound("{} is not a column of this segment", field);
  return internal::BuildColumnFromEvents(*impl_, path_, field);
}

Result<std::shared_ptr<const std::vector<uint64_t>>> Segment::ValueHashes(
    std::string_view field) const {
  RETURN_IF_ERROR(internal::LoadColumnDir(*impl_, path_));
  auto it = impl_->hashed_by_name.find(field);
  if (it == impl_->hashed_by_name.end()) return std::shared_ptr<const std::vector<uint64_t>>();
  return internal::LoadValueHashes(*impl_, path_, it->second);
}

Result<std::shared_ptr<const std::vector<uint64_t>>> Segment::DictionaryHashes(
    std::string_view field) const {
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(*impl_, path_, field));
  if (c < 0) return std::shared_ptr<const std::vector<uint64_t>>();
  const internal::ColumnSlot& slot = impl_->cols[static_cast<size_t>(c)];
  std::shared_ptr<const std::vector<std::string>> dict;
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    dict = slot.dict_values;
  }
  auto out = std::make_shared<std::vector<uint64_t>>();
  if (dict) {
    out->reserve(dict->size());
    for (const auto& v : *dict) out->push_back(ValueHash(v));
    return std::shared_ptr<const std::vector<uint64_t>>(std::move(out));
  }
  // Straight from the frame: a dictionary of a near-unique field is not kept as strings.
  std::string raw;
  Reader r;
  RETURN_IF_ERROR(
      internal::WalkDict(*impl_, path_, slot, &raw, &r, [&](uint64_t n, std::string_view v) {
        if (out->empty()) out->reserve(n);
        out->push_back(ValueHash(v));
        return Status::Ok();
      }).status());
  return std::shared_ptr<const std::vector<uint64_t>>(std::move(out));
}

Result<bool> Segment::ColumnMayHoldTerm(std::string_view column,
                                        std::string_view lower_term) const {
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(*impl_, path_, column));
  if (c < 0 || !impl_->cols[static_cast<size_t>(c)].json) return true;
  return internal::ColumnMayHoldTerm(*impl_, path_, static_cast<size_t>(c), lower_term);
}

Result<bool> Segment::ColumnMayHoldPhrase(std::string_view column, std::string_view phrase) const {
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(*impl_, path_, column));
  if (c < 0 || !impl_->cols[static_cast<size_t>(c)].json) return true;
  std::string buf;
  std::vector<std::string_view> pieces;
  SplitPieces(phrase, &buf, &pieces);
  return internal::ColumnMayHoldPieces(*impl_, path_, static_cast<size_t>(c), pieces);
}

Result<bool> Segment::HasValueHashes(std::string_view field) const {
  RETURN_IF_ERROR(internal::LoadColumnDir(*impl_, path_));
  return impl_->hashed_by_name.count(field) != 0;
}

Result<ColumnSummary> Segment::ColumnCounts(std::string_view field) const {
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(*impl_, path_, field));
  ColumnSummary out;
  if (c < 0) {
    if (!BuildableColumn(field)) return NotFound("{} is not a column of this segment", field);
    ASSIGN_OR_RETURN(auto col, internal::BuildColumnFromEvents(*impl_, path_, field));
    std::lock_guard<std::mutex> lock(impl_->mu);
    const ColumnSlot& built = impl_->built_columns.find(field)->second;
    out.dict = built.dict_values;
    out.counts = built.counts;
    return out;
  }
  ASSIGN_OR_RETURN(out.dict, internal::LoadDict(*impl_, path_, static_cast<size_t>(c)));
  ASSIGN_OR_RETURN(out.counts, internal::LoadCounts(*impl_, path_, static_cast<size_t>(c)));
  return out;
}

}  // namespace cairn::store
