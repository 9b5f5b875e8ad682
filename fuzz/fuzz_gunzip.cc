// Fuzzes the streaming gzip decoder. Beyond "no crash": when zlib also decodes the input as a
// sequence of gzip members, both must produce the same bytes.

#include <zlib.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>

#include "cloudtrail/gzip.h"
#include "cloudtrail/memory_file.h"

namespace {

constexpr uint64_t kCap = 8 << 20;

// zlib's reading of `in` as gzip members back to back; false on any error or beyond kCap.
bool ZlibGunzip(const std::string& in, std::string* out) {
  size_t pos = 0;
  if (in.empty()) return false;
  while (pos < in.size()) {
    z_stream z{};
    if (inflateInit2(&z, 15 + 16) != Z_OK) return false;
    z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(in.data() + pos));
    z.avail_in = static_cast<uInt>(in.size() - pos);
    int rc = Z_OK;
    char buf[16384];
    while (rc == Z_OK) {
      z.next_out = reinterpret_cast<Bytef*>(buf);
      z.avail_out = sizeof(buf);
      rc = inflate(&z, Z_NO_FLUSH);
      out->append(buf, sizeof(buf) - z.avail_out);
      if (out->size() > kCap) rc = Z_DATA_ERROR;
      if (rc == Z_BUF_ERROR && z.avail_in == 0) rc = Z_DATA_ERROR;  // truncated
    }
    size_t used = in.size() - pos - z.avail_in;
    inflateEnd(&z);
    if (rc != Z_STREAM_END) return false;
    pos += used;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  size_t max_read = size > 0 ? 1 + data[size - 1] % 97 : 1;
  auto file = cairn::cloudtrail::NewGunzipFile(
      std::make_unique<cairn::cloudtrail::StringSequentialFile>(bytes, max_read), "fuzz.gz", kCap);
  std::string ours;
  bool ok = true;
  char buf[4096];
  for (;;) {
    auto got = file->Read(buf, 1 + size % sizeof(buf));
    if (!got.ok()) {
      ok = false;
      break;
    }
    if (*got == 0) break;
    ours.append(buf, *got);
  }
  std::string theirs;
  if (ok && ZlibGunzip(bytes, &theirs) && theirs != ours) {
    std::fprintf(stderr, "ISA-L and zlib decode differently (%zu vs %zu bytes)\n", ours.size(),
                 theirs.size());
    std::abort();
  }
  return 0;
}
