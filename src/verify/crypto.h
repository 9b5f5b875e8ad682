#pragma once
// The cryptography digest validation needs, over OpenSSL's EVP interface: SHA-256 and MD5 as hex,
// a streaming SHA-256, CloudTrail public keys (DER, PKCS#1 RSAPublicKey or SubjectPublicKeyInfo),
// RSASSA-PKCS1-v1_5/SHA-256 verification, and — for `cairn generate --digests` and tests — RSA key
// creation and signing.
//
// Thread safety: a PublicKey or PrivateKey may be used by several threads at once (OpenSSL 3 keys
// are immutable once built); a Sha256 object by one thread at a time.

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include "common/hex.h"
#include "common/status.h"

typedef struct evp_pkey_st EVP_PKEY;
typedef struct evp_md_ctx_st EVP_MD_CTX;

namespace cairn::verify {

// The bytes of standard base64 (with padding); nullopt when it is not base64.
std::optional<std::string> Base64Decode(std::string_view b64);
std::string Base64Encode(std::string_view bytes);

std::string Sha256Hex(std::string_view data);
std::string Md5Hex(std::string_view data);

// SHA-256 fed in pieces.
class Sha256 {
 public:
  Sha256();
  ~Sha256();
  Sha256(const Sha256&) = delete;
  Sha256& operator=(const Sha256&) = delete;
  void Update(std::string_view data);
  // The hex digest; the object must not be updated afterwards.
  std::string FinishHex();

 private:
  EVP_MD_CTX* ctx_;
};

struct PkeyFree {
  void operator()(EVP_PKEY* p) const;
};
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

// An RSA public key as CloudTrail publishes it.
struct PublicKey {
  std::string fingerprint;  // hex MD5 of `der` (what digestPublicKeyFingerprint names)
  std::string der;          // the bytes as given
  std::string format;       // "PKCS#1" or "SubjectPublicKeyInfo"
  std::shared_ptr<EVP_PKEY> key;
};

// Parses DER bytes in either form. InvalidArgument naming `name` when they are neither, are not
// RSA, or have bytes after the structure.
Result<PublicKey> ParsePublicKeyDer(std::string_view der, std::string_view name);

// Whether `signature` is a valid RSASSA-PKCS1-v1_5 SHA-256 signature of `message` under `key`.
bool VerifySha256WithRsa(const PublicKey& key, std::string_view message,
                         std::string_view signature);

// An RSA private key (for signing generated digests and in tests).
struct PrivateKey {
  std::shared_ptr<EVP_PKEY> key;
  // The public half as PKCS#1 RSAPublicKey or SubjectPublicKeyInfo DER.
  std::string PublicDerPkcs1() const;
  std::string PublicDerSpki() const;
  // PKCS#8 PEM of the private key.
  std::string PrivatePem() const;
};

// A fresh RSA key of `bits` bits. Internal when OpenSSL fails.
Result<PrivateKey> GenerateRsaKey(int bits = 2048);
// Parses a PEM private key (PKCS#8 or traditional RSA). InvalidArgument naming `name`.
Result<PrivateKey> ParsePrivateKeyPem(std::string_view pem, std::string_view name);
// The RSASSA-PKCS1-v1_5 SHA-256 signature of `message` (raw bytes).
Result<std::string> SignSha256WithRsa(const PrivateKey& key, std::string_view message);

}  // namespace cairn::verify
