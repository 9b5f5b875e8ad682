#include "store/encoding.h"

#include <bit>
#ifdef __AVX2__
#include <immintrin.h>
#endif

#include <isa-l/crc.h>
#include <zstd.h>

#include <cstring>
#include <memory>

#include "store/segment_format.h"

namespace cairn::store {

// ISA-L's crc32_gzip_refl computes the same CRC-32 as zlib's crc32 (reflected 0xEDB88320,
// chained through the seed) with carry-less multiplication, several times faster; the store
// checksums every byte it writes and reads (store_test checks both agree).
uint32_t Crc32(std::string_view data, uint32_t seed) {
  return crc32_gzip_refl(seed, reinterpret_cast<const unsigned char*>(data.data()), data.size());
}

namespace {
constexpr uint64_t kMul0 = 0x9E3779B97F4A7C15ull;
constexpr uint64_t kMul1 = 0xC2B2AE3D27D4EB4Full;
constexpr uint64_t kMul2 = 0x165667B19E3779F9ull;

inline uint64_t Load64(const char* p) {
  uint64_t v;
  std::memcpy(&v, p, 8);
  return v;
}
inline uint64_t Mix(uint64_t a, uint64_t b) {
  __uint128_t m = static_cast<__uint128_t>(a ^ kMul0) * (b ^ kMul1);
  return static_cast<uint64_t>(m) ^ static_cast<uint64_t>(m >> 64);
}
}  // namespace

// Reads 16 bytes per round into two lanes, folds each lane with a 128-bit multiply, then
// finalizes with the length so strings that are prefixes of each other hash apart.
namespace {

// Transposes an 8x8 bit matrix held in a word: bit 8i + j moves to bit 8j + i.
uint64_t Transpose8x8(uint64_t x) {
  uint64_t t = (x ^ (x >> 7)) & 0x00AA00AA00AA00AAULL;
  x ^= t ^ (t << 7);
  t = (x ^ (x >> 14)) & 0x0000CCCC0000CCCCULL;
  x ^= t ^ (t << 14);
  t = (x ^ (x >> 28)) & 0x00000000F0F0F0F0ULL;
  x ^= t ^ (t << 28);
  return x;
}

}  // namespace

void SliceBloomFilters(const uint64_t* filters, uint64_t words, uint64_t rows, uint32_t row_bytes,
                       char* out) {
  // 64 rows at a time, all blocks: the rows written are contiguous, and each block's filter is
  // read a word at a time, in order.
  for (uint64_t w = 0; w < words; ++w) {
    for (uint32_t j = 0; j < row_bytes; ++j) {
      uint64_t x[8];
      uint64_t any = 0;
      for (int k = 0; k < 8; ++k) {
        x[k] = filters[(uint64_t{j} * 8 + k) * words + w];
        any |= x[k];
      }
      if (any == 0) continue;
      for (int q = 0; q < 8; ++q) {
        const uint64_t first = w * 64 + uint64_t(q) * 8;
        if (first >= rows) break;
        // Byte k: block 8j + k's bits of rows first..first+7; transposed, byte t is row first + t.
        uint64_t m = 0;
        for (int k = 0; k < 8; ++k) m |= ((x[k] >> (8 * q)) & 0xFF) << (8 * k);
        if (m == 0) continue;
        m = Transpose8x8(m);
        for (uint64_t t = 0; t < 8 && first + t < rows; ++t) {
          out[(first + t) * row_bytes + j] = static_cast<char>(m >> (8 * t));
        }
      }
    }
  }
}

uint64_t Hash64(std::string_view data, uint64_t seed) {
  const char* p = data.data();
  size_t n = data.size();
  uint64_t h = seed ^ (n * kMul2);
  while (n >= 16) {
    h = Mix(h ^ Load64(p), Load64(p + 8) + kMul2);
    p += 16;
    n -= 16;
  }
  uint64_t a = 0, b = 0;
  if (n >= 8) {
    a = Load64(p);
    b = Load64(p + n - 8);
  } else if (n >= 4) {
    uint32_t x, y;
    std::memcpy(&x, p, 4);
    std::memcpy(&y, p + n - 4, 4);
    a = x;
    b = y;
  } else if (n > 0) {
    a = (static_cast<uint64_t>(static_cast<uint8_t>(p[0])) << 16) |
        (static_cast<uint64_t>(static_cast<uint8_t>(p[n / 2])) << 8) |
        static_cast<uint64_t>(static_cast<uint8_t>(p[n - 1]));
  }
  h = Mix(h ^ a, b ^ kMul2 ^ data.size());
  return Mix(h, kMul2);
}

Status ZstdCompress(std::string_view in, int level, std::string* out) {
  thread_local ZSTD_CCtx* cctx = ZSTD_createCCtx();
  // Compress into a reused scratch buffer and append only the result: resizing `out` to the
  // bound first would zero-fill the whole bound (as large as the input) for every frame.
  thread_local std::unique_ptr<char[]> scratch;
  thread_local size_t scratch_size = 0;
  size_t bound = ZSTD_compressBound(in.size());
  if (scratch_size < bound) {
    scratch.reset(new char[bound]);
    scratch_size = bound;
  }
  size_t n = ZSTD_compressCCtx(cctx, scratch.get(), bound, in.data(), in.size(), level);
  if (ZSTD_isError(n)) return Internal("zstd compress: {}", ZSTD_getErrorName(n));
  out->append(scratch.get(), n);
  return Status::Ok();
}

Status CheckZstdFrame(std::string_view in, size_t raw_size, std::string_view what,
                      uint64_t max_raw) {
  if (raw_size > max_raw) {
    return Corruption("{}: decompressed size {} is beyond the format's limit of {}", what, raw_size,
                      max_raw);
  }
  if (raw_size / kMaxZstdExpansion > in.size()) {
    return Corruption("{}: {} stored bytes cannot decompress to {}", what, in.size(), raw_size);
  }
  const unsigned long long framed = ZSTD_getFrameContentSize(in.data(), in.size());
  if (framed == ZSTD_CONTENTSIZE_ERROR) return Corruption("{}: not a zstd frame", what);
  if (framed != raw_size) {
    return Corruption("{}: zstd frame records {} bytes, expected {}", what,
                      framed == ZSTD_CONTENTSIZE_UNKNOWN ? std::string("an unknown number of")
                                                         : std::to_string(framed),
                      raw_size);
  }
  return Status::Ok();
}

Status ZstdDecompressTo(std::string_view in, size_t raw_size, char* out, std::string_view what) {
  thread_local ZSTD_DCtx* dctx = ZSTD_createDCtx();
  size_t n = ZSTD_decompressDCtx(dctx, out, raw_size, in.data(), in.size());
  if (ZSTD_isError(n)) return Corruption("{}: zstd: {}", what, ZSTD_getErrorName(n));
  if (n != raw_size) {
    return Corruption("{}: decompressed to {} bytes, expected {}", what, n, raw_size);
  }
  return Status::Ok();
}

Status ZstdDecompress(std::string_view in, size_t raw_size, std::string* out, std::string_view what,
                      uint64_t max_raw) {
  RETURN_IF_ERROR(CheckZstdFrame(in, raw_size, what, max_raw));
  out->resize(raw_size);
  return ZstdDecompressTo(in, raw_size, out->data(), what);
}

namespace {
inline char UpperAscii(char c) { return (c >= 'a' && c <= 'z') ? static_cast<char>(c - 32) : c; }
// Whether hay[at, at + n) equals lower_needle ignoring ASCII case.
inline bool EqualsCaseless(const char* hay, std::string_view lower_needle) {
  for (size_t k = 0; k < lower_needle.size(); ++k) {
    if (LowerAscii(hay[k]) != lower_needle[k]) return false;
  }
  return true;
}
}  // namespace

size_t FindCaseless(std::string_view hay, std::string_view lower_needle, size_t from) {
  return FindCaselessAt(hay, lower_needle, 0, lower_needle.empty() ? 0 : lower_needle.size() - 1,
                        from);
}

size_t FindCaselessAt(std::string_view hay, std::string_view lower_needle, size_t a, size_t b,
                      size_t from) {
  const size_t n = lower_needle.size();
  if (n == 0 || a >= n || b >= n || from > hay.size() || hay.size() - from < n) {
    return std::string_view::npos;
  }
  const char ca = lower_needle[a], cb = lower_needle[b];
  const char ca_up = UpperAscii(ca);
  const size_t end = hay.size() - n + 1;  // candidate starts are < end
  size_t i = from;
#ifdef __AVX2__
  // Candidates are the positions whose bytes at offsets a and b match (either case), 32 at a
  // time; only those are compared in full.
  // A byte with the 0x20 bit set (every lower-case letter) is compared with that bit set in the
  // text too, which folds the case in one step; the other bytes exactly. Folding lets through a
  // few more candidates (control bytes), never fewer.
  const __m256i a_fold = _mm256_set1_epi8(static_cast<char>(ca & 0x20));
  const __m256i b_fold = _mm256_set1_epi8(static_cast<char>(cb & 0x20));
  const __m256i a_lo = _mm256_set1_epi8(ca), b_lo = _mm256_set1_epi8(cb);
  for (; i + 32 <= end; i += 32) {
    __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hay.data() + i + a));
    __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hay.data() + i + b));
    __m256i m = _mm256_and_si256(_mm256_cmpeq_epi8(_mm256_or_si256(x, a_fold), a_lo),
                                 _mm256_cmpeq_epi8(_mm256_or_si256(y, b_fold), b_lo));
    auto bits = static_cast<uint32_t>(_mm256_movemask_epi8(m));
    while (bits != 0) {
      size_t at = i + static_cast<size_t>(std::countr_zero(bits));
      if (EqualsCaseless(hay.data() + at, lower_needle)) return at;
      bits &= bits - 1;
    }
  }
#endif
  for (; i < end; ++i) {
    char c = hay[i + a];
    if ((c == ca || c == ca_up) && EqualsCaseless(hay.data() + i, lower_needle)) return i;
  }
  return std::string_view::npos;
}

size_t FindExact(std::string_view hay, std::string_view needle, size_t a, size_t b) {
  const size_t n = needle.size();
  if (n == 0 || hay.size() < n || a >= n || b >= n) return std::string_view::npos;
  const size_t end = hay.size() - n + 1;  // candidate starts are < end
  size_t i = 0;
#ifdef __AVX2__
  const __m256i ca = _mm256_set1_epi8(needle[a]), cb = _mm256_set1_epi8(needle[b]);
  for (; i + 32 <= end; i += 32) {
    __m256i x = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hay.data() + i + a));
    __m256i y = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(hay.data() + i + b));
    auto bits = static_cast<uint32_t>(
        _mm256_movemask_epi8(_mm256_and_si256(_mm256_cmpeq_epi8(x, ca), _mm256_cmpeq_epi8(y, cb))));
    while (bits != 0) {
      size_t at = i + static_cast<size_t>(std::countr_zero(bits));
      if (std::memcmp(hay.data() + at, needle.data(), n) == 0) return at;
      bits &= bits - 1;
    }
  }
#endif
  for (; i < end; ++i) {
    if (hay[i + a] == needle[a] && std::memcmp(hay.data() + i, needle.data(), n) == 0) return i;
  }
  return std::string_view::npos;
}

size_t FindEventIdMarker(std::string_view raw) {
  static_assert(kEventIdMarker.substr(6, 2) == "ID");
  return FindExact(raw, kEventIdMarker, 6, 7);
}

}  // namespace cairn::store
