// libFuzzer target: the billing input's parsers of untrusted bytes — CSV records
// (src/billing/csv.cc) and CUR manifests (src/billing/cur.cc). Invariants: errors are values
// (InvalidArgument / Unsupported), never a crash; CSV that parses, written back with RFC 4180
// quoting, parses to the same records; a manifest that parses encodes to JSON that parses to the
// same keys and columns.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "billing/csv.h"
#include "billing/cur.h"

namespace {

std::string Quote(const std::string& f) {
  std::string out = "\"";
  for (char c : f) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  auto rows = cairn::billing::ParseCsv(text);
  if (rows.ok()) {
    std::string again;
    for (const auto& r : *rows) {
      for (size_t i = 0; i < r.size(); ++i) {
        if (i) again += ',';
        again += Quote(r[i]);
      }
      again += '\n';
    }
    auto back = cairn::billing::ParseCsv(again);
    if (!back.ok() || *back != *rows) {
      std::fprintf(stderr, "CSV does not round-trip\n");
      std::abort();
    }
  } else if (rows.status().code() != cairn::StatusCode::kInvalidArgument) {
    std::abort();
  }
  auto m = cairn::billing::ParseCurManifest(text, "fuzz");
  if (m.ok() && !m->cur2) {  // (a CUR 2.0 manifest is written back in the legacy form)
    auto back = cairn::billing::ParseCurManifest(cairn::billing::EncodeCurManifest(*m), "again");
    if (!back.ok() || back->report_keys != m->report_keys || back->assembly_id != m->assembly_id ||
        back->columns.size() != m->columns.size() || back->Group() != m->Group()) {
      std::abort();
    }
  } else if (m.status().code() != cairn::StatusCode::kInvalidArgument &&
             m.status().code() != cairn::StatusCode::kUnsupported) {
    std::abort();
  }
  return 0;
}
