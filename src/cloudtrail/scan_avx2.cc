// The AVX2 build of the block scanner (this file is compiled with -mavx2; scan.cc calls it only
// when the CPU has AVX2).
#include "cloudtrail/scan_impl.h"

namespace cairn::cloudtrail {

Scan ScanValueAvx2(const char*& p, const char* end, ScanState& st) {
  return scan_internal::ScanImpl(p, end, st);
}

}  // namespace cairn::cloudtrail
