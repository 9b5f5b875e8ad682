#pragma once
// Constants of the segment file format (docs/format/segment.md is the specification; keep the
// two in step). A segment is immutable once written.

#include <cstdint>
#include <string_view>

namespace cairn::store {

inline constexpr std::string_view kSegmentMagic = "CAIRNSEG";     // first 8 bytes
inline constexpr std::string_view kSegmentEndMagic = "CAIRNEND";  // last 8 bytes
// Version 2 changed section 3, the Bloom filters, to a bit-sliced layout; version 1 segments (one
// filter per block) are not read. Version 3 added each column value's event count after the
// column's dictionary and maps Bloom probes to rows by multiplication (BloomRow); version 2
// segments are still read (the counts are then taken from the codes).
inline constexpr uint32_t kSegmentVersion = 3;
inline constexpr uint32_t kOldestSegmentVersion = 2;
inline constexpr size_t kSegmentHeaderSize = 16;   // magic, u32 version, u32 flags
inline constexpr size_t kSegmentTrailerSize = 16;  // u32 footer length, u32 footer crc, magic
inline constexpr size_t kBlockIndexEntrySize = 56;

enum class SectionId : uint32_t {
  kBlocks = 1,        // zstd frames of raw events
  kBlockIndex = 2,    // fixed 56-byte records, one per block
  kBlooms = 3,        // Bloom filter words, referenced by block index records
  kTime = 4,          // zstd: time column
  kIds = 5,           // zstd: (account, event_id) per event
  kColumns = 6,       // column directory + one zstd frame per column
  kKeys = 7,          // sorted key blocks (field values and terms with postings)
  kKeyIndex = 8,      // zstd: first key and location of each key block
  kFieldCatalog = 9,  // zstd: per-field statistics of the keys table
};

// Key prefixes in the keys table.
inline constexpr char kFieldKeyPrefix = 'F';  // 'F' field '\0' lower(value)
inline constexpr char kTermKeyPrefix = 'T';   // 'T' term

// Posting encodings (first byte of a posting).
inline constexpr uint8_t kPostingVarint = 0;   // varint n, then n varint gaps
inline constexpr uint8_t kPostingRoaring = 1;  // CRoaring portable serialization

// Ids section: an event id flagged "derived" is the bytes after the first occurrence of this
// marker in the raw event, up to the next '"'.
inline constexpr std::string_view kEventIdMarker = "\"eventID\":\"";

// Bloom filters: k probes by double hashing of Hash64(lower(value)), 16 bits per singleton of the
// fullest block (about 0.05% false positives); rows stored in CRC-checked chunks.
inline constexpr uint32_t kBloomChunkBytes = 4096;
inline constexpr int kBloomProbes = 11;

// The Bloom row of probe `i` (0 <= i < kBloomProbes) for a value with hash `h`, among `rows`.
// Version 3 maps a full 64-bit double hash onto the rows with a multiply (the high half of
// x * rows) instead of version 2's 64-bit modulo, a division per probe that cost the writer more
// than the rest of setting the bits.
inline uint64_t BloomRow(uint32_t version, uint64_t h, int i, uint64_t rows) {
  if (version < 3) return (h + static_cast<uint64_t>(i) * ((h >> 33) | 1)) % rows;
  const uint64_t x = h + static_cast<uint64_t>(i) * (((h << 32) | (h >> 32)) | 1);
  return static_cast<uint64_t>((static_cast<unsigned __int128>(x) * rows) >> 64);
}

inline constexpr int64_t kMillisPerDay = 86400000;
inline int64_t PartitionOf(int64_t time_ms) {
  int64_t d = time_ms / kMillisPerDay;
  if (time_ms % kMillisPerDay < 0) --d;
  return d;
}

}  // namespace cairn::store
