// libFuzzer target: digest objects as verify reads them — one gzip member, the digest JSON, and
// public key DER. Must never crash; a parsed digest's chain link is all or nothing.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string_view>

#include "verify/crypto.h"
#include "verify/digest.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view bytes(reinterpret_cast<const char*>(data), size);
  auto check = [](std::string_view json) {
    auto d = cairn::verify::ParseDigest(json, "fuzz");
    if (d.ok()) {
      if (d->previous_digest_s3_object.has_value() != d->previous_digest_hash_value.has_value()) {
        std::abort();
      }
      (void)cairn::verify::StringToSign(*d, json);
    }
  };
  check(bytes);
  auto json = cairn::verify::GunzipOneMember(bytes, "fuzz", 1 << 24);
  if (json.ok()) check(*json);
  (void)cairn::verify::ParsePublicKeyDer(bytes, "fuzz");
  return 0;
}
