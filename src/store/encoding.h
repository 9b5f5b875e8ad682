#pragma once
// Byte-level helpers shared by the segment and manifest code: little-endian fixed-width integers,
// LEB128 varints, zstd framing, CRC-32 (zlib's, polynomial 0xEDB88320) and a 64-bit string hash
// used for dedup fingerprints and Bloom filters. Every decoder takes a bounded input and reports a
// truncated or malformed input as false/Corruption; none reads past the end of its input.

#include <cstdint>
#include <cstring>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cairn::store {

inline void PutFixed32(std::string* out, uint32_t v) {
  char b[4];
  for (int i = 0; i < 4; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 4);
}
inline void PutFixed64(std::string* out, uint64_t v) {
  char b[8];
  for (int i = 0; i < 8; ++i) b[i] = static_cast<char>(v >> (8 * i));
  out->append(b, 8);
}
inline uint32_t DecodeFixed32(const char* p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; ++i) v |= static_cast<uint32_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}
inline uint64_t DecodeFixed64(const char* p) {
  uint64_t v = 0;
  for (int i = 0; i < 8; ++i) v |= static_cast<uint64_t>(static_cast<uint8_t>(p[i])) << (8 * i);
  return v;
}

inline void PutVarint(std::string* out, uint64_t v) {
  char b[10];
  int n = 0;
  while (v >= 0x80) {
    b[n++] = static_cast<char>(v | 0x80);
    v >>= 7;
  }
  b[n++] = static_cast<char>(v);
  out->append(b, n);
}
inline uint64_t ZigZag(int64_t v) {
  return (static_cast<uint64_t>(v) << 1) ^ static_cast<uint64_t>(v >> 63);
}
inline int64_t UnZigZag(uint64_t v) {
  return static_cast<int64_t>(v >> 1) ^ -static_cast<int64_t>(v & 1);
}

inline void PutLengthPrefixed(std::string* out, std::string_view s) {
  PutVarint(out, s.size());
  out->append(s);
}

// A cursor over a bounded byte range. Every Get returns false (and stays failed) when the input
// is too short or a varint is longer than 10 bytes.
class Reader {
 public:
  Reader() = default;
  explicit Reader(std::string_view data) : p_(data.data()), end_(data.data() + data.size()) {}

  bool ok() const { return ok_; }
  size_t remaining() const { return static_cast<size_t>(end_ - p_); }
  const char* position() const { return p_; }

  bool GetFixed32(uint32_t* v) {
    if (!Need(4)) return false;
    *v = DecodeFixed32(p_);
    p_ += 4;
    return true;
  }
  bool GetFixed64(uint64_t* v) {
    if (!Need(8)) return false;
    *v = DecodeFixed64(p_);
    p_ += 8;
    return true;
  }
  bool GetVarint(uint64_t* v) {
    uint64_t result = 0;
    for (int shift = 0; shift <= 63; shift += 7) {
      if (p_ >= end_) return Fail();
      uint8_t byte = static_cast<uint8_t>(*p_++);
      result |= static_cast<uint64_t>(byte & 0x7f) << shift;
      if ((byte & 0x80) == 0) {
        *v = result;
        return true;
      }
    }
    return Fail();
  }
  bool GetVarint32(uint32_t* v) {
    uint64_t x;
    if (!GetVarint(&x) || x > UINT32_MAX) return Fail();
    *v = static_cast<uint32_t>(x);
    return true;
  }
  bool GetBytes(size_t n, std::string_view* out) {
    if (!Need(n)) return false;
    *out = std::string_view(p_, n);
    p_ += n;
    return true;
  }
  bool GetLengthPrefixed(std::string_view* out) {
    uint64_t n;
    if (!GetVarint(&n)) return false;
    return GetBytes(static_cast<size_t>(n), out);
  }

 private:
  bool Need(size_t n) {
    if (!ok_ || static_cast<size_t>(end_ - p_) < n) return Fail();
    return true;
  }
  bool Fail() {
    ok_ = false;
    p_ = end_;
    return false;
  }
  const char* p_ = nullptr;
  const char* end_ = nullptr;
  bool ok_ = true;
};

// CRC-32 as zlib computes it (ISO-HDLC). `seed` continues a running checksum.
uint32_t Crc32(std::string_view data, uint32_t seed = 0);

// A fast 64-bit hash of a byte string (not cryptographic). Stable across versions: it is stored
// implicitly in Bloom filters, so changing it requires a new segment format version.
uint64_t Hash64(std::string_view data, uint64_t seed = 0);

// Bit-slices per-block Bloom filters into rows: bit r of block b's filter (bit r % 64 of
// filters[b * words + r / 64]) becomes bit b % 8 of out[r * row_bytes + b / 8], for r < rows.
// `filters` holds row_bytes * 8 filters of `words` words (those past the last block zero);
// `out` holds rows * row_bytes bytes, zero on entry.
void SliceBloomFilters(const uint64_t* filters, uint64_t words, uint64_t rows, uint32_t row_bytes,
                       char* out);

// The Bloom section's header CRC (format 4): CRC-32 of the header's first 12 bytes followed by
// the table of chunk CRCs.
inline uint32_t BloomHeaderCrc(std::string_view header12, std::string_view chunk_crcs) {
  return Crc32(chunk_crcs, Crc32(header12.substr(0, 12)));
}

// The dedup fingerprint of an event identity (account, event_id).
inline uint64_t IdFingerprint(std::string_view account, std::string_view event_id) {
  return Hash64(event_id, Hash64(account, 0x5eed));
}

// zstd one-shot compression. `level` as zstd's (1..19). Appends to `out`.
Status ZstdCompress(std::string_view in, int level, std::string* out);
// Decompresses a frame whose content size is `raw_size` exactly; Corruption (naming `what`) on
// any mismatch. Before allocating, `raw_size` must be at most `max_raw`, at most
// kMaxZstdExpansion times the input, and equal to the content size the frame's header records.
Status ZstdDecompress(std::string_view in, size_t raw_size, std::string* out, std::string_view what,
                      uint64_t max_raw);
// ZstdDecompress in two steps, for callers that allocate the output themselves (and so need not
// zero-fill it before zstd overwrites every byte): the checks made before allocating, then the
// decompression into `out`, which holds `raw_size` bytes.
Status CheckZstdFrame(std::string_view in, size_t raw_size, std::string_view what,
                      uint64_t max_raw);
Status ZstdDecompressTo(std::string_view in, size_t raw_size, char* out, std::string_view what);

// ASCII lower-casing (Splunk compares search values case-insensitively; non-ASCII bytes are kept).
inline char LowerAscii(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }
inline void AppendLower(std::string* out, std::string_view s) {
  size_t old = out->size();
  out->resize(old + s.size());
  char* d = out->data() + old;
  for (size_t i = 0; i < s.size(); ++i) d[i] = LowerAscii(s[i]);
}
inline std::string ToLower(std::string_view s) {
  std::string out;
  AppendLower(&out, s);
  return out;
}

// The first position at or after `from` where `lower_needle` (already lower-cased, not empty)
// occurs in `hay` ASCII-case-insensitively; npos when it does not. Works on the text as it is,
// without a lower-cased copy.
size_t FindCaseless(std::string_view hay, std::string_view lower_needle, size_t from = 0);
// The same with the candidates taken where the needle's bytes at offsets `a` and `b` match (either
// case): choose bytes that are rare in the text, so that few are compared in full.
size_t FindCaselessAt(std::string_view hay, std::string_view lower_needle, size_t a, size_t b,
                      size_t from = 0);

// The first position where `needle` occurs in `hay`, npos when it does not. Candidates are the
// positions where the needle's bytes at offsets `a` and `b` match, 32 at a time: choose bytes
// that are rare in the text (for "eventID":" in JSON, the 'I' and 'D'), so that few are compared
// in full.
size_t FindExact(std::string_view hay, std::string_view needle, size_t a, size_t b);

// The position of the first "eventID":" marker (kEventIdMarker) in a raw event, npos if none.
size_t FindEventIdMarker(std::string_view raw);

}  // namespace cairn::store
