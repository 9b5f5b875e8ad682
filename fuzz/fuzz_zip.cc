// libFuzzer target: the ZIP reader of the billing input (src/billing/zip.cc), which reads DBR
// objects and ZIP-compressed CUR files from a report bucket. Invariants: any bytes give either a
// stream or an error value (InvalidArgument, Unsupported, Corruption), never a crash; a stream
// never yields more bytes than its entry declares; WriteZip's archives read back to their text.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>

#include "billing/zip.h"

namespace {

class MemoryFile final : public cairn::RandomAccessFile {
 public:
  explicit MemoryFile(std::string bytes) : bytes_(std::move(bytes)) {}
  cairn::Result<size_t> Read(uint64_t offset, size_t n, char* buf) const override {
    if (offset >= bytes_.size()) return size_t{0};
    const size_t k = std::min<uint64_t>(n, bytes_.size() - offset);
    std::memcpy(buf, bytes_.data() + offset, k);
    return k;
  }
  uint64_t Size() const override { return bytes_.size(); }

 private:
  std::string bytes_;
};

bool Expected(cairn::StatusCode c) {
  return c == cairn::StatusCode::kInvalidArgument || c == cairn::StatusCode::kUnsupported ||
         c == cairn::StatusCode::kCorruption;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  cairn::billing::ZipLimits limits;
  limits.max_entry_bytes = 1 << 20;  // keeps each run short; the checks are the same
  cairn::billing::ZipEntryInfo info;
  auto in =
      cairn::billing::OpenZipEntry(std::make_unique<MemoryFile>(bytes), "fuzz", limits, &info);
  if (!in.ok()) {
    if (!Expected(in.status().code())) std::abort();
    return 0;
  }
  if (info.size > limits.max_entry_bytes) std::abort();
  uint64_t total = 0;
  char buf[8192];
  while (true) {
    auto n = (*in)->Read(buf, sizeof buf);
    if (!n.ok()) {
      if (!Expected(n.status().code())) std::abort();
      break;
    }
    if (*n == 0) break;
    total += *n;
    if (total > info.size) std::abort();
  }
  return 0;
}
