#include "verify/crypto.h"

#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

namespace cairn::verify {
namespace {

std::string DigestHex(const EVP_MD* md, std::string_view data) {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(data.data(), data.size(), out, &len, md, nullptr);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), len));
}

std::shared_ptr<EVP_PKEY> Share(EVP_PKEY* p) { return std::shared_ptr<EVP_PKEY>(p, EVP_PKEY_free); }

}  // namespace

void PkeyFree::operator()(EVP_PKEY* p) const { EVP_PKEY_free(p); }

std::optional<std::string> Base64Decode(std::string_view b64) {
  if (b64.size() % 4 != 0 || b64.size() > (1u << 30)) return std::nullopt;
  std::string out(b64.size() / 4 * 3, '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return std::nullopt;
  size_t pad = 0;
  while (pad < 2 && pad < b64.size() && b64[b64.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

std::string Base64Encode(std::string_view bytes) {
  std::string out((bytes.size() + 2) / 3 * 4 + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(bytes.data()),
                          static_cast<int>(bytes.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string Sha256Hex(std::string_view data) { return DigestHex(EVP_sha256(), data); }
std::string Md5Hex(std::string_view data) { return DigestHex(EVP_md5(), data); }

Sha256::Sha256() : ctx_(EVP_MD_CTX_new()) { EVP_DigestInit_ex(ctx_, EVP_sha256(), nullptr); }
Sha256::~Sha256() { EVP_MD_CTX_free(ctx_); }
void Sha256::Update(std::string_view data) { EVP_DigestUpdate(ctx_, data.data(), data.size()); }
std::string Sha256::FinishHex() {
  unsigned char out[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_DigestFinal_ex(ctx_, out, &len);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(out), len));
}

Result<PublicKey> ParsePublicKeyDer(std::string_view der, std::string_view name) {
  PublicKey pk;
  pk.der = std::string(der);
  pk.fingerprint = Md5Hex(der);
  const auto* begin = reinterpret_cast<const unsigned char*>(der.data());
  const unsigned char* p = begin;
  // SubjectPublicKeyInfo first: it names its algorithm, so a PKCS#1 body never parses as one.
  EVP_PKEY* key = d2i_PUBKEY(nullptr, &p, static_cast<long>(der.size()));
  pk.format = "SubjectPublicKeyInfo";
  if (key == nullptr) {
    p = begin;
    key = d2i_PublicKey(EVP_PKEY_RSA, nullptr, &p, static_cast<long>(der.size()));
    pk.format = "PKCS#1";
  }
  if (key == nullptr) {
    return InvalidArgument(
        "public key {}: not DER of an RSA key (PKCS#1 RSAPublicKey or "
        "SubjectPublicKeyInfo)",
        name);
  }
  pk.key = Share(key);
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    return InvalidArgument("public key {}: not an RSA key", name);
  }
  if (p != begin + der.size()) {
    return InvalidArgument("public key {}: {} bytes after the DER structure", name,
                           der.size() - static_cast<size_t>(p - begin));
  }
  return pk;
}

bool VerifySha256WithRsa(const PublicKey& key, std::string_view message,
                         std::string_view signature) {
  if (!key.key) return false;
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return false;
  EVP_PKEY_CTX* pctx = nullptr;
  bool ok = EVP_DigestVerifyInit(ctx, &pctx, EVP_sha256(), nullptr, key.key.get()) == 1 &&
            EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
            EVP_DigestVerify(
                ctx, reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
  EVP_MD_CTX_free(ctx);
  return ok;
}

std::string PrivateKey::PublicDerPkcs1() const {
  unsigned char* out = nullptr;
  int n = i2d_PublicKey(key.get(), &out);
  if (n <= 0) return {};
  std::string der(reinterpret_cast<char*>(out), n);
  OPENSSL_free(out);
  return der;
}

std::string PrivateKey::PublicDerSpki() const {
  unsigned char* out = nullptr;
  int n = i2d_PUBKEY(key.get(), &out);
  if (n <= 0) return {};
  std::string der(reinterpret_cast<char*>(out), n);
  OPENSSL_free(out);
  return der;
}

std::string PrivateKey::PrivatePem() const {
  BIO* bio = BIO_new(BIO_s_mem());
  std::string pem;
  if (bio != nullptr &&
      PEM_write_bio_PrivateKey(bio, key.get(), nullptr, nullptr, 0, nullptr, nullptr) == 1) {
    char* data = nullptr;
    long n = BIO_get_mem_data(bio, &data);
    pem.assign(data, n);
  }
  BIO_free(bio);
  return pem;
}

Result<PrivateKey> GenerateRsaKey(int bits) {
  EVP_PKEY* key = EVP_RSA_gen(static_cast<unsigned>(bits));
  if (key == nullptr) return Internal("RSA key generation ({} bits) failed", bits);
  return PrivateKey{Share(key)};
}

Result<PrivateKey> ParsePrivateKeyPem(std::string_view pem, std::string_view name) {
  BIO* bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr) return Internal("BIO_new_mem_buf failed");
  EVP_PKEY* key = PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (key == nullptr) return InvalidArgument("private key {}: not a PEM private key", name);
  if (EVP_PKEY_get_base_id(key) != EVP_PKEY_RSA) {
    EVP_PKEY_free(key);
    return InvalidArgument("private key {}: not an RSA key", name);
  }
  return PrivateKey{Share(key)};
}

Result<std::string> SignSha256WithRsa(const PrivateKey& key, std::string_view message) {
  EVP_MD_CTX* ctx = EVP_MD_CTX_new();
  if (ctx == nullptr) return Internal("EVP_MD_CTX_new failed");
  EVP_PKEY_CTX* pctx = nullptr;
  size_t len = 0;
  std::string sig;
  bool ok =
      EVP_DigestSignInit(ctx, &pctx, EVP_sha256(), nullptr, key.key.get()) == 1 &&
      EVP_PKEY_CTX_set_rsa_padding(pctx, RSA_PKCS1_PADDING) == 1 &&
      EVP_DigestSign(ctx, nullptr, &len, reinterpret_cast<const unsigned char*>(message.data()),
                     message.size()) == 1;
  if (ok) {
    sig.resize(len);
    ok =
        EVP_DigestSign(ctx, reinterpret_cast<unsigned char*>(sig.data()), &len,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
    sig.resize(len);
  }
  EVP_MD_CTX_free(ctx);
  if (!ok) return Internal("RSA signing failed");
  return sig;
}

}  // namespace cairn::verify
