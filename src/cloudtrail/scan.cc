#include "cloudtrail/scan.h"

#include "cloudtrail/scan_impl.h"

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

}  // namespace cairn::cloudtrail
