#pragma once
// Constants of the segment file format (docs/format/segment.md is the specification; keep the
// two in step). A segment is immutable once written.

#include <cstdint>
#include <string_view>

#include "store/encoding.h"

namespace cairn::store {

inline constexpr std::string_view kSegmentMagic = "CAIRNSEG";     // first 8 bytes
inline constexpr std::string_view kSegmentEndMagic = "CAIRNEND";  // last 8 bytes
// Version 2 changed section 3, the Bloom filters, to a bit-sliced layout; version 1 segments (one
// filter per block) are not read. Version 3 added each column value's event count after the
// column's dictionary and maps Bloom probes to rows by multiplication (BloomRow); version 2
// segments are still read (the counts are then taken from the codes). Version 4 names the columns
// in the column directory and checksums it (readers map columns by name), and checksums the Bloom
// section's header; versions 2 and 3 are still read. Version 5 may lay the raw events out in
// lanes (section 10): each block holds events of one lane, the events of a lane in time order, so
// a search for one event name decompresses only the blocks of its lane; versions 2 to 4 are
// still read (one lane).
inline constexpr uint32_t kSegmentVersion = 5;
inline constexpr uint32_t kOldestSegmentVersion = 2;
inline constexpr size_t kSegmentHeaderSize = 16;   // magic, u32 version, u32 flags
inline constexpr size_t kSegmentTrailerSize = 16;  // u32 footer length, u32 footer crc, magic
inline constexpr size_t kBlockIndexEntrySize = 56;

// Limits of the format: the writer never exceeds them and the reader rejects (as Corruption) any
// size beyond them before allocating, so a crafted file cannot make it allocate more than these.
// An event's raw JSON (the CloudTrail reader's default limit too).
inline constexpr uint64_t kMaxEventBytes = uint64_t{64} << 20;
// The writer's target block size (SegmentWriterOptions::block_bytes) at most.
inline constexpr uint64_t kMaxBlockTargetBytes = uint64_t{64} << 20;
// The decompressed size of any zstd frame (a block holds less than its target plus one event,
// plus a length varint per event).
inline constexpr uint64_t kMaxFrameRawBytes = uint64_t{256} << 20;
// Events in one segment.
inline constexpr uint32_t kMaxSegmentEvents = uint32_t{1} << 24;
// A zstd block produces at most 128 KiB from at least 4 stored bytes (3-byte block header, one
// byte of RLE content), so no well-formed frame decompresses to more than this many times its
// stored size.
inline constexpr uint64_t kMaxZstdExpansion = 32768;

// The columns of formats 2 and 3, in their on-disk order: those formats' column directory has no
// names. (kColumnFields in fields.h is the writer's current list; it may grow, this may not.)
inline constexpr std::string_view kLegacyColumnFields[] = {
    "eventName",
    "eventSource",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "readOnly",
    "eventType",
    "eventCategory",
    "managementEvent",
    "recipientAccountId",
    "eventVersion",
    "userIdentity.type",
    "userIdentity.arn",
    "userIdentity.accountId",
    "userIdentity.userName",
    "userIdentity.principalId",
    "userIdentity.accessKeyId",
    "userIdentity.invokedBy",
    "userIdentity.sessionContext.sessionIssuer.arn",
    "userIdentity.sessionContext.sessionIssuer.userName",
    "sourcetype",
    "source",
};
// The first 21 are JSON leaves; the last two the event's metadata.
inline constexpr size_t kLegacyJsonColumnCount = 21;

// Column directory (section 6).
inline constexpr size_t kColumnFrameEntryBytes = 20;  // u64 offset, u32 csize, u32 rsize, u32 crc
inline constexpr uint8_t kColumnKindJson = 0;         // the value of the event's first such leaf
inline constexpr uint8_t kColumnKindMetadata = 1;     // "sourcetype", "source", "host", "_fields"
inline constexpr uint8_t kColumnKindValueHashes = 2;  // ValueHash of the event's first such leaf
inline constexpr uint8_t kColumnKindTermFilter = 3;   // Bloom filter of the JSON columns' terms
// The one term-filter entry's name, its bits per distinct (column, term) and probes.
inline constexpr std::string_view kColumnTermFilterName = "terms";
inline constexpr uint32_t kColumnTermFilterBitsPerKey = 10;
inline constexpr uint32_t kColumnTermFilterProbes = 7;
// The bit of probe `i` for a term of column `column` (the term lower-cased, as SplitTerms gives
// it): double hashing of Hash64(term) seeded by the column's name.
inline uint64_t ColumnTermBit(uint64_t h, uint32_t i, uint64_t bits) {
  return (h + i * ((h >> 32) | 1)) % bits;
}
// The filter's flags (a third varint of its parameters; none: 0). kColumnTermFilterPairs: it also
// holds every pair of pieces next to each other in a value (SplitPieces), hashed by
// ColumnPairHash, so a term of several pieces ("203.0.113.10") is looked for only in the columns
// that hold its pieces side by side, not in every column holding its rarest piece somewhere.
inline constexpr uint64_t kColumnTermFilterPairs = 1;
inline uint64_t ColumnPairHash(std::string_view first, std::string_view second,
                               uint64_t column_seed) {
  return Hash64(second, Hash64(first, column_seed) ^ 0x9a1b5c3d7e2f4061ULL);
}
inline constexpr size_t kMaxColumns = 4096;
inline constexpr size_t kMaxColumnNameBytes = 1024;

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
  kLanes = 10,        // zstd: the lane of each event, one byte per event (version 5)
};

// Lanes of raw events (version 5): at most this many; a block index entry's lane is in the u32
// that formats before 2 used for the block's Bloom filter words.
inline constexpr uint32_t kMaxLanes = 64;

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
inline constexpr size_t kBloomHeaderBytes = 16;  // rows, row_bytes, chunk size, header CRC (v4)
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
