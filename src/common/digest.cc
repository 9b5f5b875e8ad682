#include "common/digest.h"

#include <openssl/evp.h>

#include <memory>
#include <stdexcept>

namespace cairn {

namespace {

struct MdFree {
  void operator()(EVP_MD* md) const { EVP_MD_free(md); }
};
struct CtxFree {
  void operator()(EVP_MD_CTX* ctx) const { EVP_MD_CTX_free(ctx); }
};

const EVP_MD* Sha256Algorithm() {
  static const std::unique_ptr<EVP_MD, MdFree> md(EVP_MD_fetch(nullptr, "SHA256", nullptr));
  return md.get();
}

void AppendHex(const unsigned char* bytes, size_t n, std::string* out) {
  static constexpr char kHex[] = "0123456789abcdef";
  for (size_t i = 0; i < n; ++i) {
    out->push_back(kHex[bytes[i] >> 4]);
    out->push_back(kHex[bytes[i] & 15]);
  }
}

}  // namespace

Sha256Digest Sha256(std::string_view data) {
  thread_local std::unique_ptr<EVP_MD_CTX, CtxFree> ctx(EVP_MD_CTX_new());
  const EVP_MD* md = Sha256Algorithm();
  Sha256Digest digest;
  unsigned int len = 0;
  if (md == nullptr || ctx == nullptr || EVP_DigestInit_ex(ctx.get(), md, nullptr) != 1 ||
      EVP_DigestUpdate(ctx.get(), data.data(), data.size()) != 1 ||
      EVP_DigestFinal_ex(ctx.get(), digest.data(), &len) != 1 || len != digest.size()) {
    // Only when OpenSSL itself is broken (no default provider): nothing can be named then.
    throw std::runtime_error("SHA-256 is not available from OpenSSL");
  }
  return digest;
}

std::string Sha256Hex(std::string_view data) {
  Sha256Digest d = Sha256(data);
  std::string out;
  out.reserve(64);
  AppendHex(d.data(), d.size(), &out);
  return out;
}

std::string ContentKey(std::string_view text) {
  Sha256Digest d = Sha256(text);
  std::string out = "h:";
  out.reserve(34);
  AppendHex(d.data(), 16, &out);
  return out;
}

}  // namespace cairn
