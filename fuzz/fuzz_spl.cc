// Fuzzes the SPL parser (searches are untrusted text from users and saved searches): any input
// must parse or fail with a Status, never crash; an accepted search's canonical form must parse
// back to itself; macro expansion of the input must not crash either.

#include <cstdint>
#include <cstdlib>
#include <string>

#include "query/ast.h"
#include "query/macros.h"
#include "query/parser.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string text(reinterpret_cast<const char*>(data), size);
  cairn::query::MacroSet macros;
  (void)macros.Expand(text);
  auto parsed = cairn::query::ParseSpl(text);
  if (!parsed.ok()) return 0;
  std::string canonical = cairn::query::ToString(*parsed);
  auto again = cairn::query::ParseSpl(canonical);
  if (!again.ok() || cairn::query::ToString(*again) != canonical) std::abort();
  return 0;
}
