// The keys table (sections 7 and 8): postings, the key index, key blocks and scans over them;
// and the field catalog (section 9).

#include <roaring/roaring.h>

#include <algorithm>

#include "store/encoding.h"
#include "store/segment_internal.h"

namespace cairn::store::internal {

Status DecodePosting(std::string_view bytes, uint32_t limit, Bitmap* out, std::string_view what) {
  if (bytes.empty()) return Corruption("{}: empty posting", what);
  const uint8_t tag = static_cast<uint8_t>(bytes[0]);
  bytes.remove_prefix(1);
  if (tag == kPostingVarint) {
    Reader r(bytes);
    uint64_t n;
    // Every ordinal takes at least one byte.
    if (!r.GetVarint(&n) || n > limit || n > r.remaining()) {
      return Corruption("{}: bad posting length", what);
    }
    uint64_t cur = 0;
    std::vector<uint32_t> ords;
    ords.reserve(n);
    for (uint64_t i = 0; i < n; ++i) {
      uint64_t d;
      if (!r.GetVarint(&d)) return Corruption("{}: truncated posting", what);
      if (i > 0 && (d == 0 || d >= limit)) return Corruption("{}: posting out of range", what);
      cur = i == 0 ? d : cur + d;
      if (cur >= limit) return Corruption("{}: posting out of range", what);
      ords.push_back(static_cast<uint32_t>(cur));
    }
    if (r.remaining() != 0) return Corruption("{}: posting has trailing bytes", what);
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

Status LoadKeyIndex(Impl& m, const std::string& path) {
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.key_index_loaded) return Status::Ok();
  std::string raw;
  RETURN_IF_ERROR(ReadSection(*m.file, m.section(SectionId::kKeyIndex), &raw, "key index"));
  Reader r(raw);
  uint64_t n;
  if (!r.GetVarint(&n) || n > raw.size()) return Corruption("{}: key index malformed", path);
  const SectionInfo& ks = m.section(SectionId::kKeys);
  std::vector<KeyBlockInfo> blocks;
  blocks.reserve(n);
  for (uint64_t i = 0; i < n; ++i) {
    KeyBlockInfo b;
    std::string_view first;
    if (!r.GetLengthPrefixed(&first) || !r.GetVarint(&b.offset) || !r.GetVarint(&b.csize) ||
        !r.GetVarint(&b.rsize) || !r.GetVarint(&b.entries) || !r.GetFixed32(&b.crc)) {
      return Corruption("{}: key index truncated", path);
    }
    // An entry takes at least three bytes (shared-prefix varint, suffix length, posting length)
    // plus its posting's tag byte.
    if (b.offset < ks.offset || !InRange(b.offset - ks.offset, b.csize, ks.size) ||
        b.csize > UINT32_MAX || b.rsize > kMaxFrameRawBytes || b.entries == 0 ||
        b.entries > b.rsize / 4 || (i > 0 && !(blocks.back().first_key < first))) {
      return Corruption("{}: key block {} out of range", path, i);
    }
    b.first_key.assign(first);
    blocks.push_back(std::move(b));
  }
  if (r.remaining() != 0) return Corruption("{}: key index has trailing bytes", path);
  m.key_blocks = std::move(blocks);
  m.key_index_loaded = true;
  return Status::Ok();
}

SharedCache<DecodedKeyBlock>& KeyBlockCache() {
  static auto* cache = new SharedCache<DecodedKeyBlock>(64 << 20);
  return *cache;
}

Result<std::shared_ptr<const DecodedKeyBlock>> LoadKeyBlock(Impl& m, const std::string& path,
                                                            size_t index) {
  const KeyBlockInfo& info = m.key_blocks[index];
  {
    std::lock_guard<std::mutex> lock(m.mu);
    if (auto hit = m.recent_key_blocks.Get(index)) return hit;
  }
  if (auto hit = KeyBlockCache().Get(m.cache_id, index)) {
    std::lock_guard<std::mutex> lock(m.mu);
    m.recent_key_blocks.Put(index, hit);
    return hit;
  }
  auto block = std::make_shared<DecodedKeyBlock>();
  RETURN_IF_ERROR(ReadFrame(*m.file,
                            Frame{info.offset, static_cast<uint32_t>(info.csize),
                                  static_cast<uint32_t>(info.rsize), info.crc},
                            &block->data, fmt::format("key block {}", index)));
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
  // The next block's first key follows this block's last.
  if (index + 1 < m.key_blocks.size() && !(prev < m.key_blocks[index + 1].first_key)) {
    return Corruption("{}: key block {} overlaps the next", path, index);
  }
  size_t bytes = block->data.capacity() + block->entries.capacity() * sizeof(KeyEntry);
  for (const KeyEntry& e : block->entries) bytes += e.key.capacity() > 15 ? e.key.capacity() : 0;
  KeyBlockCache().Put(m.cache_id, index, block, bytes);
  std::lock_guard<std::mutex> lock(m.mu);
  m.recent_key_blocks.Put(index, block);
  return std::shared_ptr<const DecodedKeyBlock>(block);
}

Status ScanKeys(Impl& m, const std::string& path, std::string_view prefix,
                const std::function<bool(std::string_view, std::string_view)>& fn) {
  RETURN_IF_ERROR(LoadKeyIndex(m, path));
  // The first block that can hold `prefix`: the last whose first key is <= prefix.
  auto it =
      std::upper_bound(m.key_blocks.begin(), m.key_blocks.end(), prefix,
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

Result<bool> LookupKey(Impl& m, const std::string& path, std::string_view key, Bitmap* out) {
  bool found = false;
  Status inner;
  RETURN_IF_ERROR(ScanKeys(m, path, key, [&](std::string_view k, std::string_view posting) {
    if (k == key) {
      found = true;
      inner = DecodePosting(posting, m.event_count, out, path);
    }
    return false;
  }));
  RETURN_IF_ERROR(inner);
  return found;
}

Status LoadCatalog(Impl& m, const std::string& path) {
  std::lock_guard<std::mutex> lock(m.mu);
  if (m.catalog_loaded) return Status::Ok();
  std::string raw;
  RETURN_IF_ERROR(ReadSection(*m.file, m.section(SectionId::kFieldCatalog), &raw, "field catalog"));
  Reader r(raw);
  uint64_t n;
  if (!r.GetVarint(&m.term_keys) || !r.GetVarint(&m.term_singletons) || !r.GetVarint(&n)) {
    return Corruption("{}: field catalog malformed", path);
  }
  std::map<std::string, FieldCatalogEntry, std::less<>> catalog;
  for (uint64_t i = 0; i < n; ++i) {
    std::string_view name;
    FieldCatalogEntry e;
    if (!r.GetLengthPrefixed(&name) || !r.GetVarint(&e.events) || !r.GetVarint(&e.keys) ||
        !r.GetVarint(&e.singletons)) {
      return Corruption("{}: field catalog truncated", path);
    }
    if (e.events > m.event_count)
      return Corruption("{}: field catalog entry {} malformed", path, i);
    catalog.emplace(std::string(name), e);
  }
  if (r.remaining() != 0) return Corruption("{}: field catalog has trailing bytes", path);
  m.catalog = std::move(catalog);
  m.catalog_loaded = true;
  return Status::Ok();
}

}  // namespace cairn::store::internal
