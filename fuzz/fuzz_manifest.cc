// libFuzzer target: index manifests and index configuration files (src/store/manifest.cc). Each
// input is decoded as it is and with its end line replaced by the right checksum (as a crafted
// file would have it). Invariants: failures are Corruption naming the file; what decodes encodes
// to text that decodes to the same manifest; every segment file name stays inside the folder.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "store/encoding.h"
#include "store/manifest.h"

namespace {

using cairn::StatusCode;

// `text` with its last line replaced by "end <crc of everything before it>".
std::string Resealed(std::string text) {
  if (!text.empty() && text.back() == '\n') text.pop_back();
  const size_t nl = text.rfind('\n');
  text.resize(nl == std::string::npos ? 0 : nl + 1);
  char end[32];
  std::snprintf(end, sizeof(end), "end %08x\n", cairn::store::Crc32(text));
  return text + end;
}

void CheckError(const cairn::Status& s) {
  if (s.code() == StatusCode::kCorruption && s.message().find("MANIFEST") != std::string::npos) {
    return;
  }
  std::fprintf(stderr, "unexpected error: %s\n", s.ToString().c_str());
  std::abort();
}

void Decode(const std::string& text) {
  auto m = cairn::store::DecodeManifest(text, "MANIFEST");
  if (!m.ok()) {
    CheckError(m.status());
  } else {
    for (const auto& s : m->segments) {
      if (s.file.find('/') != std::string::npos || s.file.front() == '.') std::abort();
    }
    const std::string once = cairn::store::EncodeManifest(*m);
    auto again = cairn::store::DecodeManifest(once, "MANIFEST");
    if (!again.ok() || cairn::store::EncodeManifest(*again) != once) {
      std::fprintf(stderr, "manifest does not round-trip:\n%s\n", once.c_str());
      std::abort();
    }
  }
  auto c = cairn::store::DecodeConfig(text, "MANIFEST");
  if (!c.ok()) {
    CheckError(c.status());
  } else {
    const std::string once = cairn::store::EncodeConfig(*c);
    auto again = cairn::store::DecodeConfig(once, "MANIFEST");
    if (!again.ok() || cairn::store::EncodeConfig(*again) != once) std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  Decode(text);
  Decode(Resealed(text));
  return 0;
}
