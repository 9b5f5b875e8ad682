// The bit-sliced Bloom filters (section 3), and the text pre-filter that rules out most events of
// a candidate block before they are parsed.

#include <algorithm>

#include "store/encoding.h"
#include "store/segment_internal.h"

namespace cairn::store::internal {

namespace {

constexpr size_t kMaxCachedBloomChunks = 256;  // 1 MiB per segment

// Reads the section's header and chunk CRCs once (called with m.mu held). Since format 4 both are
// covered by the header's CRC; before, every field is checked against the others and against the
// section's size, and each chunk against its CRC when read.
Status LoadBloomHeader(Impl& m, const std::string& path) {
  if (m.bloom_header_loaded) return Status::Ok();
  const SectionInfo& sec = m.section(SectionId::kBlooms);
  char hdr[kBloomHeaderBytes];
  if (sec.size < sizeof(hdr)) return Corruption("{}: Bloom section too short", path);
  RETURN_IF_ERROR(m.file->ReadExact(sec.offset, sizeof(hdr), hdr));
  const uint32_t rows = DecodeFixed32(hdr), row_bytes = DecodeFixed32(hdr + 4);
  const uint32_t chunk = DecodeFixed32(hdr + 8), header_crc = DecodeFixed32(hdr + 12);
  const uint64_t nblocks = m.blocks.size();
  // rows and row_bytes are 32-bit: their product and the sums below cannot overflow 64 bits
  // once the product is known to fit in the section.
  const uint64_t data = uint64_t{rows} * row_bytes;
  if (chunk != kBloomChunkBytes || (m.version < 4 && header_crc != 0) ||
      row_bytes != (nblocks + 7) / 8 || data > sec.size) {
    return Corruption("{}: Bloom section header is inconsistent", path);
  }
  const uint64_t nchunks = (data + kBloomChunkBytes - 1) / kBloomChunkBytes;
  if (sizeof(hdr) + data + 4 * nchunks != sec.size) {
    return Corruption("{}: Bloom section header is inconsistent", path);
  }
  std::string crcs(4 * nchunks, '\0');
  RETURN_IF_ERROR(m.file->ReadExact(sec.offset + sizeof(hdr) + data, crcs.size(), crcs.data()));
  if (m.version >= 4 && BloomHeaderCrc(std::string_view(hdr, sizeof(hdr)), crcs) != header_crc) {
    return Corruption("{}: Bloom section header checksum mismatch", path);
  }
  m.bloom_chunk_crcs.resize(nchunks);
  for (uint64_t c = 0; c < nchunks; ++c) m.bloom_chunk_crcs[c] = DecodeFixed32(crcs.data() + 4 * c);
  m.bloom_rows = rows;
  m.bloom_row_bytes = row_bytes;
  m.bloom_header_loaded = true;
  return Status::Ok();
}

}  // namespace

Result<std::vector<uint32_t>> BloomBlocks(Impl& m, const std::string& path,
                                          std::string_view value) {
  const SectionInfo& sec = m.section(SectionId::kBlooms);
  const uint32_t nblocks = static_cast<uint32_t>(m.blocks.size());
  std::lock_guard<std::mutex> lock(m.mu);
  RETURN_IF_ERROR(LoadBloomHeader(m, path));
  std::vector<uint32_t> out;
  if (m.bloom_rows == 0) return out;
  const uint64_t data_size = uint64_t{m.bloom_rows} * m.bloom_row_bytes;
  auto chunk = [&](uint32_t c) -> Result<std::shared_ptr<const std::string>> {
    auto it = m.bloom_chunks.find(c);
    if (it != m.bloom_chunks.end()) return it->second;
    const uint64_t at = uint64_t{c} * kBloomChunkBytes;
    auto bytes =
        std::make_shared<std::string>(std::min<uint64_t>(kBloomChunkBytes, data_size - at), '\0');
    RETURN_IF_ERROR(
        m.file->ReadExact(sec.offset + kBloomHeaderBytes + at, bytes->size(), bytes->data()));
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
    const uint64_t at = row * m.bloom_row_bytes;
    for (uint32_t j = 0; j < m.bloom_row_bytes;) {
      const uint32_t c = static_cast<uint32_t>((at + j) / kBloomChunkBytes);
      ASSIGN_OR_RETURN(auto bytes, chunk(c));
      const uint64_t off = at + j - uint64_t{c} * kBloomChunkBytes;
      const uint32_t n =
          static_cast<uint32_t>(std::min<uint64_t>(m.bloom_row_bytes - j, bytes->size() - off));
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
// backslash and does not contain the wanted text (case-insensitively) cannot hold it.
std::vector<bool> EventsToParse(const DecodedBlock& block, uint32_t count, std::string_view lower) {
  std::vector<bool> out;
  if (lower.empty()) {
    out.assign(count, true);
    return out;
  }
  // One pass for the text and one for backslashes over the whole block; each hit marks its event
  // and the search goes on from the next event.
  std::string_view data = block.data();
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
  for (size_t at = FindCaseless(data, lower); at != std::string_view::npos;
       at = FindCaseless(data, lower, at)) {
    at = mark(at);
  }
  for (size_t at = data.find('\\'); at != std::string_view::npos; at = data.find('\\', at)) {
    at = mark(at);
  }
  if (!some) out.clear();
  return out;
}

}  // namespace cairn::store::internal
