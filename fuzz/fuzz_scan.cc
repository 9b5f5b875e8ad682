// Differential fuzzing of the structural scanner: the block scanner (run-time dispatched and
// baseline builds) must agree with the byte-at-a-time reference on every input and split point,
// both checking bracket kinds and counting depth alone (ScanState::check_kinds).

#include <cstdint>
#include <cstdlib>
#include <string>

#include "cloudtrail/scan.h"

namespace {

using cairn::cloudtrail::Scan;
using cairn::cloudtrail::ScanState;

struct Outcome {
  Scan result;
  size_t offset;
  bool operator!=(const Outcome& o) const { return result != o.result || offset != o.offset; }
};

template <typename Fn>
Outcome Run(const std::string& padded, size_t len, size_t cut, bool check_kinds, Fn scan) {
  const char* base = padded.data();
  const char* p = base;
  ScanState st;
  st.Start(padded[0], check_kinds);
  Scan r = scan(p, base + cut, st);
  if (r == Scan::kNeedMore) r = scan(p, base + len, st);
  return {r, static_cast<size_t>(p - base)};
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size < 2) return 0;
  size_t cut = data[0] % size;
  std::string text(reinterpret_cast<const char*>(data) + 1, size - 1);
  if (text[0] != '"' && text[0] != '{' && text[0] != '[') text[0] = '{';
  size_t len = text.size();
  if (cut > len) cut = len;
  std::string padded = text + std::string(cairn::cloudtrail::kScanPadding, '"');
  for (bool check_kinds : {true, false}) {
    Outcome simple = Run(padded, len, cut, check_kinds, cairn::cloudtrail::ScanValueSimple);
    Outcome fast = Run(padded, len, cut, check_kinds, cairn::cloudtrail::ScanValue);
    Outcome baseline = Run(padded, len, cut, check_kinds, cairn::cloudtrail::ScanValueBaseline);
    if (fast != simple || baseline != simple) std::abort();
  }
  return 0;
}
