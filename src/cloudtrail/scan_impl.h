#pragma once
// The block scanner behind ScanValue, compiled twice: scan.cc (baseline x86-64, SSE2) and
// scan_avx2.cc (-mavx2), chosen at run time. Include only from those two files.

#include <cstdint>

#if defined(__AVX2__)
#include <immintrin.h>
#elif defined(__SSE2__)
#include <emmintrin.h>
#endif

#include "cloudtrail/scan.h"

// Internal linkage on purpose: the two builds differ, so they must not be merged by the linker.
namespace cairn::cloudtrail::scan_internal {
namespace {

// Bit i of each mask describes byte i of a 64-byte block.
struct Masks {
  uint64_t quote = 0;
  uint64_t backslash = 0;
  uint64_t open = 0;   // '{' or '['
  uint64_t close = 0;  // '}' or ']'
};

inline Masks Classify(const char* p) {
  Masks m;
#if defined(__AVX2__)
  const __m256i quote = _mm256_set1_epi8('"');
  const __m256i backslash = _mm256_set1_epi8('\\');
  const __m256i open = _mm256_set1_epi8('{');
  const __m256i close = _mm256_set1_epi8('}');
  const __m256i lower = _mm256_set1_epi8(0x20);
  for (int k = 0; k < 2; ++k) {
    __m256i v = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(p + 32 * k));
    __m256i folded = _mm256_or_si256(v, lower);
    auto bits = [&](__m256i eq) {
      return static_cast<uint64_t>(static_cast<uint32_t>(_mm256_movemask_epi8(eq))) << (32 * k);
    };
    m.quote |= bits(_mm256_cmpeq_epi8(v, quote));
    m.backslash |= bits(_mm256_cmpeq_epi8(v, backslash));
    m.open |= bits(_mm256_cmpeq_epi8(folded, open));
    m.close |= bits(_mm256_cmpeq_epi8(folded, close));
  }
#elif defined(__SSE2__)
  // '[' | 0x20 == '{' and ']' | 0x20 == '}'; no other byte maps onto those two.
  const __m128i quote = _mm_set1_epi8('"');
  const __m128i backslash = _mm_set1_epi8('\\');
  const __m128i open = _mm_set1_epi8('{');
  const __m128i close = _mm_set1_epi8('}');
  const __m128i lower = _mm_set1_epi8(0x20);
  for (int k = 0; k < 4; ++k) {
    __m128i v = _mm_loadu_si128(reinterpret_cast<const __m128i*>(p + 16 * k));
    __m128i folded = _mm_or_si128(v, lower);
    auto bits = [&](__m128i eq) {
      return static_cast<uint64_t>(static_cast<uint16_t>(_mm_movemask_epi8(eq))) << (16 * k);
    };
    m.quote |= bits(_mm_cmpeq_epi8(v, quote));
    m.backslash |= bits(_mm_cmpeq_epi8(v, backslash));
    m.open |= bits(_mm_cmpeq_epi8(folded, open));
    m.close |= bits(_mm_cmpeq_epi8(folded, close));
  }
#else
  for (int i = 0; i < 64; ++i) {
    uint64_t bit = uint64_t{1} << i;
    switch (p[i]) {
      case '"':
        m.quote |= bit;
        break;
      case '\\':
        m.backslash |= bit;
        break;
      case '{':
      case '[':
        m.open |= bit;
        break;
      case '}':
      case ']':
        m.close |= bit;
        break;
      default:
        break;
    }
  }
#endif
  return m;
}

// Bit i of the result is the parity of bits 0..i of x.
inline uint64_t PrefixXor(uint64_t x) {
  x ^= x << 1;
  x ^= x << 2;
  x ^= x << 4;
  x ^= x << 8;
  x ^= x << 16;
  x ^= x << 32;
  return x;
}

// Records an open bracket; false when nesting is too deep.
inline bool Push(ScanState& st, bool array) {
  if (st.depth >= kMaxScanDepth) return false;
  uint64_t bit = uint64_t{1} << (st.depth % 64);
  if (array) {
    st.is_array[st.depth / 64] |= bit;
  } else {
    st.is_array[st.depth / 64] &= ~bit;
  }
  ++st.depth;
  return true;
}

// Matches a close bracket with the innermost open one; false on a mismatch.
inline bool Pop(ScanState& st, bool array) {
  if (st.depth == 0) return false;
  --st.depth;
  uint64_t bit = uint64_t{1} << (st.depth % 64);
  return ((st.is_array[st.depth / 64] & bit) != 0) == array;
}

inline Scan ScanImpl(const char*& p, const char* end, ScanState& st) {
  while (p < end) {
    size_t len = static_cast<size_t>(end - p);
    if (len > 64) len = 64;
    uint64_t valid = len == 64 ? ~uint64_t{0} : (uint64_t{1} << len) - 1;
    Masks m = Classify(p);

    // Escaped bytes: the one after each backslash that is not itself escaped. Backslashes are
    // rare, so a loop over them beats a branch-free carry trick in clarity at no real cost.
    uint64_t escaped = st.escaped ? 1 : 0;
    st.escaped = false;
    uint64_t starts = m.backslash & valid & ~escaped;
    while (starts != 0) {
      int i = __builtin_ctzll(starts);
      starts &= starts - 1;
      if (static_cast<size_t>(i) + 1 >= len) {
        st.escaped = true;  // escapes the first byte of the next block
        break;
      }
      uint64_t next = uint64_t{1} << (i + 1);
      escaped |= next;
      starts &= ~next;
    }

    uint64_t quotes = m.quote & valid & ~escaped;
    // 1 from an opening quote up to (not including) its closing quote.
    uint64_t in_string = PrefixXor(quotes) ^ (st.in_string ? ~uint64_t{0} : 0);

    if (st.bare_string) {
      uint64_t closing = quotes & ~in_string;
      if (closing != 0) {
        p += __builtin_ctzll(closing) + 1;
        st.in_string = false;
        return Scan::kDone;
      }
    } else if (!st.check_kinds) {
      // Depth only. A block whose close brackets are fewer than the depth cannot end the value,
      // and one whose opens cannot reach the limit cannot be too deep: two popcounts.
      const uint64_t live = valid & ~in_string & ~escaped;
      const uint64_t opens = m.open & live, closes = m.close & live;
      const uint32_t n_open = static_cast<uint32_t>(__builtin_popcountll(opens));
      const uint32_t n_close = static_cast<uint32_t>(__builtin_popcountll(closes));
      if (n_close < st.depth && st.depth + n_open < kMaxScanDepth) {
        st.depth = st.depth + n_open - n_close;
      } else {
        uint64_t brackets = opens | closes;
        while (brackets != 0) {
          int i = __builtin_ctzll(brackets);
          brackets &= brackets - 1;
          if ((opens >> i) & 1) {
            if (st.depth >= kMaxScanDepth) {
              p += i;
              return Scan::kTooDeep;
            }
            ++st.depth;
          } else {
            if (st.depth == 0) {
              p += i;
              return Scan::kMismatch;
            }
            if (--st.depth == 0) {
              p += i + 1;
              st.in_string = false;
              return Scan::kDone;
            }
          }
        }
      }
    } else {
      uint64_t brackets = (m.open | m.close) & valid & ~in_string & ~escaped;
      while (brackets != 0) {
        int i = __builtin_ctzll(brackets);
        brackets &= brackets - 1;
        char c = p[i];
        bool array = c == '[' || c == ']';
        if ((m.open >> i) & 1) {
          if (!Push(st, array)) {
            p += i;
            return Scan::kTooDeep;
          }
        } else {
          if (!Pop(st, array)) {
            p += i;
            return Scan::kMismatch;
          }
          if (st.depth == 0) {
            p += i + 1;
            st.in_string = false;
            return Scan::kDone;
          }
        }
      }
    }
    st.in_string = ((in_string >> (len - 1)) & 1) != 0;
    p += len;
  }
  return Scan::kNeedMore;
}

}  // namespace
}  // namespace cairn::cloudtrail::scan_internal
