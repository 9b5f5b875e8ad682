#include "cloudtrail/scan.h"

#include "cloudtrail/scan_impl.h"

#if defined(__AVX2__)
#include <immintrin.h>
#endif

namespace cairn::cloudtrail {

#if defined(__x86_64__) && !defined(__AVX2__)
Scan ScanValueAvx2(const char*& p, const char* end, ScanState& st);  // scan_avx2.cc

namespace {
bool HaveAvx2() {
  static const bool have = [] {
    __builtin_cpu_init();
    return __builtin_cpu_supports("avx2") != 0;
  }();
  return have;
}
}  // namespace

Scan ScanValue(const char*& p, const char* end, ScanState& st) {
  if (HaveAvx2()) return ScanValueAvx2(p, end, st);
  return scan_internal::ScanImpl(p, end, st);
}
#else
Scan ScanValue(const char*& p, const char* end, ScanState& st) {
  return scan_internal::ScanImpl(p, end, st);
}
#endif

Scan ScanValueBaseline(const char*& p, const char* end, ScanState& st) {
  return scan_internal::ScanImpl(p, end, st);
}

using scan_internal::Pop;
using scan_internal::Push;

Scan ScanValueSimple(const char*& p, const char* end, ScanState& st) {
  for (; p < end; ++p) {
    char c = *p;
    if (st.escaped) {
      st.escaped = false;
      continue;
    }
    if (c == '\\') {
      st.escaped = true;
      continue;
    }
    if (st.in_string) {
      if (c == '"') {
        st.in_string = false;
        if (st.bare_string) {
          ++p;
          return Scan::kDone;
        }
      }
      continue;
    }
    if (c == '"') {
      st.in_string = true;
      continue;
    }
    if (st.bare_string) continue;
    bool array = c == '[' || c == ']';
    if (c == '{' || c == '[') {
      if (!Push(st, array)) return Scan::kTooDeep;
    } else if (c == '}' || c == ']') {
      if (!st.check_kinds && st.depth > 0) {
        --st.depth;
      } else if (!Pop(st, array)) {
        return Scan::kMismatch;
      }
      if (st.depth == 0) {
        ++p;
        return Scan::kDone;
      }
    }
  }
  return Scan::kNeedMore;
}

namespace {
// +1 for an open bracket, -1 for a close one, 0 for any other structural. Or-ing 0x20 maps '['
// onto '{' and ']' onto '}', and no other byte that starts a structural lands on either.
inline int DepthDelta(char c) {
  unsigned char x = static_cast<unsigned char>(c) | 0x20;
  return (x == '{') - (x == '}');
}

// One structural at a time from index `i`, at `depth` brackets inside the one being closed.
uint32_t CloseFrom(const char* doc, const uint32_t* s, uint32_t n, uint32_t i, int32_t depth) {
  for (; i < n; ++i) {
    depth += DepthDelta(doc[s[i]]);
    if (depth == 0) return i;
  }
  return kNoStructural;
}
}  // namespace

uint32_t StructuralCloseSimple(const char* doc, const uint32_t* s, uint32_t n, uint32_t open) {
  return CloseFrom(doc, s, n, open, 0);
}

uint32_t StructuralClose(const char* doc, const uint32_t* s, uint32_t n, uint32_t open) {
  uint32_t i = open;
  int32_t depth = 0;
#if defined(__AVX2__)
  const __m256i low_byte = _mm256_set1_epi32(0xFF);
  const __m256i fold = _mm256_set1_epi32(0x20);
  const __m256i open_b = _mm256_set1_epi32('{');
  const __m256i close_b = _mm256_set1_epi32('}');
  const __m256i zero = _mm256_setzero_si256();
  for (; i + 8 <= n; i += 8) {
    __m256i idx = _mm256_loadu_si256(reinterpret_cast<const __m256i*>(s + i));
    __m256i c = _mm256_i32gather_epi32(reinterpret_cast<const int*>(doc), idx, 1);
    c = _mm256_or_si256(_mm256_and_si256(c, low_byte), fold);
    // cmpeq is -1 where true: close - open gives +1 for '{', -1 for '}'.
    __m256i d = _mm256_sub_epi32(_mm256_cmpeq_epi32(c, close_b), _mm256_cmpeq_epi32(c, open_b));
    // Inclusive prefix sum over the eight lanes: within each 128-bit half, then the lower half's
    // total carried into the upper half.
    d = _mm256_add_epi32(d, _mm256_slli_si256(d, 4));
    d = _mm256_add_epi32(d, _mm256_slli_si256(d, 8));
    __m256i low_total = _mm256_shuffle_epi32(d, 0xFF);
    d = _mm256_add_epi32(d, _mm256_permute2x128_si256(low_total, low_total, 0x08));
    d = _mm256_add_epi32(d, _mm256_set1_epi32(depth));
    int hit = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpeq_epi32(d, zero)));
    if (hit != 0) return i + static_cast<uint32_t>(__builtin_ctz(static_cast<unsigned>(hit)));
    depth = _mm256_extract_epi32(d, 7);
  }
#endif
  return CloseFrom(doc, s, n, i, depth);
}

}  // namespace cairn::cloudtrail
