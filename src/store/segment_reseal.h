#pragma once
// Test and fuzzing support (not used by cairn itself): where the parts of a segment file lie, and
// "resealing" a changed segment — recomputing the checksums a change broke — so that tests and
// the fuzzer reach the checks behind the checksums (sizes, offsets, counts) with crafted values,
// as a deliberately crafted file would. Tolerates any input: what does not parse is left alone.

#include <algorithm>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>

#include "store/encoding.h"
#include "store/segment_format.h"

namespace cairn::store::testing {

struct SegmentLayout {
  struct Section {
    uint64_t offset = 0, size = 0;
    size_t entry = 0;  // offset of its section-table entry in the file
  };
  uint32_t version = 0;
  uint64_t footer_off = 0;
  uint32_t footer_len = 0;
  std::map<uint32_t, Section> sections;  // those lying inside the file

  bool Has(SectionId id) const { return sections.count(static_cast<uint32_t>(id)) > 0; }
  const Section& at(SectionId id) const { return sections.at(static_cast<uint32_t>(id)); }
};

// False when `b` has no readable trailer and footer.
inline bool ParseSegmentLayout(std::string_view b, SegmentLayout* l) {
  *l = SegmentLayout();
  if (b.size() < kSegmentHeaderSize + kSegmentTrailerSize) return false;
  l->version = DecodeFixed32(b.data() + 8);
  const char* trailer = b.data() + b.size() - kSegmentTrailerSize;
  l->footer_len = DecodeFixed32(trailer);
  if (l->footer_len < 40 || l->footer_len > b.size() - kSegmentTrailerSize) return false;
  l->footer_off = b.size() - kSegmentTrailerSize - l->footer_len;
  const uint32_t n = DecodeFixed32(b.data() + l->footer_off + 36);
  for (uint64_t i = 0; i < n && 40 + 28 * (i + 1) <= l->footer_len; ++i) {
    const char* e = b.data() + l->footer_off + 40 + 28 * i;
    const uint64_t off = DecodeFixed64(e + 4), size = DecodeFixed64(e + 12);
    if (off > l->footer_off || size > l->footer_off - off) continue;
    l->sections[DecodeFixed32(e)] = {off, size, static_cast<size_t>(e - b.data())};
  }
  return true;
}

inline void PutFixed32At(std::string* b, size_t at, uint32_t v) {
  for (int i = 0; i < 4; ++i) (*b)[at + i] = static_cast<char>(v >> (8 * i));
}

// The size of the column directory at the start of section 6 (0 when it cannot be read).
inline uint64_t ColumnDirectorySize(std::string_view b, const SegmentLayout& l) {
  if (!l.Has(SectionId::kColumns)) return 0;
  const auto& s = l.at(SectionId::kColumns);
  const uint64_t size = l.version < 4
                            ? 4 + std::size(kLegacyColumnFields) * 2 * kColumnFrameEntryBytes
                            : (s.size >= 4 ? DecodeFixed32(b.data() + s.offset) : 0);
  return size <= s.size ? size : 0;
}

// Recomputes the CRC of section `id` in the section table, then the footer's CRC in the trailer.
// Returns the footer CRC (for the manifest entry), 0 when the layout cannot be read.
inline uint32_t ResealSection(std::string* b, SectionId id) {
  SegmentLayout l;
  if (!ParseSegmentLayout(*b, &l)) return 0;
  if (l.Has(id)) {
    const auto& s = l.at(id);
    PutFixed32At(b, s.entry + 20, Crc32(std::string_view(*b).substr(s.offset, s.size)));
  }
  const uint32_t crc = Crc32(std::string_view(*b).substr(l.footer_off, l.footer_len));
  PutFixed32At(b, b->size() - kSegmentTrailerSize + 4, crc);
  return crc;
}

// Recomputes every checksum it can find: each raw block's (in the block index), each column
// frame's and the column directory's, the Bloom chunks' and header's, every section's, the
// footer's. (Key blocks' CRCs live inside the compressed key index and are left alone.) Returns
// the footer CRC, 0 when the layout cannot be read.
inline uint32_t ResealAll(std::string* b) {
  SegmentLayout l;
  if (!ParseSegmentLayout(*b, &l)) return 0;
  const std::string_view v(*b);
  auto crc_of = [&](uint64_t off, uint64_t size) -> std::optional<uint32_t> {
    if (off > b->size() || size > b->size() - off) return std::nullopt;
    return Crc32(v.substr(off, size));
  };
  if (l.Has(SectionId::kBlockIndex)) {
    const auto& s = l.at(SectionId::kBlockIndex);
    for (uint64_t e = s.offset; e + kBlockIndexEntrySize <= s.offset + s.size;
         e += kBlockIndexEntrySize) {
      if (auto c = crc_of(DecodeFixed64(b->data() + e), DecodeFixed32(b->data() + e + 8))) {
        PutFixed32At(b, e + 40, *c);
      }
    }
  }
  if (l.Has(SectionId::kColumns)) {
    const auto& s = l.at(SectionId::kColumns);
    const uint64_t dir = ColumnDirectorySize(v, l);
    auto frame = [&](uint64_t at) {  // a 20-byte frame entry at file offset `at`
      if (at + kColumnFrameEntryBytes > s.offset + dir) return false;
      const uint64_t off = DecodeFixed64(b->data() + at);
      if (off <= s.size) {
        if (auto c = crc_of(s.offset + off, DecodeFixed32(b->data() + at + 8))) {
          PutFixed32At(b, at + 16, *c);
        }
      }
      return true;
    };
    if (l.version < 4) {
      for (uint64_t at = s.offset + 4; frame(at); at += kColumnFrameEntryBytes) {
      }
    } else if (dir >= 12) {
      uint64_t at = s.offset + 8;
      while (at + 3 <= s.offset + dir - 4) {
        const uint64_t n = static_cast<uint8_t>((*b)[at + 1]) |
                           (uint64_t{static_cast<uint8_t>((*b)[at + 2])} << 8);
        at += 3 + n;
        if (!frame(at) || !frame(at + kColumnFrameEntryBytes)) break;
        at += 2 * kColumnFrameEntryBytes;
      }
      PutFixed32At(b, s.offset + dir - 4, Crc32(v.substr(s.offset, dir - 4)));
    }
  }
  if (l.Has(SectionId::kBlooms)) {
    const auto& s = l.at(SectionId::kBlooms);
    if (s.size >= kBloomHeaderBytes) {
      const uint64_t rows = DecodeFixed32(b->data() + s.offset);
      const uint64_t row_bytes = DecodeFixed32(b->data() + s.offset + 4);
      const uint64_t data = rows * row_bytes;
      const uint64_t chunks = (data + kBloomChunkBytes - 1) / kBloomChunkBytes;
      if (data <= s.size && kBloomHeaderBytes + data + 4 * chunks == s.size) {
        const uint64_t rows_at = s.offset + kBloomHeaderBytes, crcs_at = rows_at + data;
        for (uint64_t c = 0; c < chunks; ++c) {
          const uint64_t n = std::min<uint64_t>(kBloomChunkBytes, data - c * kBloomChunkBytes);
          PutFixed32At(b, crcs_at + 4 * c, Crc32(v.substr(rows_at + c * kBloomChunkBytes, n)));
        }
        if (l.version >= 4) {
          PutFixed32At(b, s.offset + 12,
                       BloomHeaderCrc(v.substr(s.offset, 12), v.substr(crcs_at, 4 * chunks)));
        }
      }
    }
  }
  for (const auto& [id, s] : l.sections) {
    PutFixed32At(b, s.entry + 20, Crc32(v.substr(s.offset, s.size)));
  }
  const uint32_t crc = Crc32(v.substr(l.footer_off, l.footer_len));
  PutFixed32At(b, b->size() - kSegmentTrailerSize + 4, crc);
  return crc;
}

}  // namespace cairn::store::testing
