#pragma once
// Writing signed, chained CloudTrail digests: for `cairn generate --digests` (demos and tests of
// `cairn verify`) and for unit tests. The bytes follow the documented digest structure; the
// signature goes where LocalFolderSource reads it (the <key>.sig sidecar, hex).
//
// Thread safety: the functions share nothing; a DigestSigner may be used by several threads.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "verify/crypto.h"
#include "verify/digest.h"

namespace cairn::verify {

struct DigestSigner {
  PrivateKey key;
  std::string public_der;   // PKCS#1 RSAPublicKey, as CloudTrail's ListPublicKeys returns
  std::string fingerprint;  // hex MD5 of public_der
};
DigestSigner MakeSigner(PrivateKey key);

struct DigestInput {
  std::string bucket;
  std::string prefix;        // before "AWSLogs/", "" or ending in '/'
  std::string organization;  // "o-..." for an organization trail, else ""
  std::string account, region, trail, home_region;
  int64_t start_ms = 0, end_ms = 0;
  std::vector<DigestLogFile> log_files;
  bool backfill = false;  // a backfill digest: "_backfill" after the time in its key
};

struct WrittenDigest {
  std::string key;
  std::string json;           // uncompressed bytes
  std::string gz;             // the object's bytes
  std::string signature_hex;  // x-amz-meta-signature
};

// The digest key for an end time: <prefix>AWSLogs/[org/]<acct>/CloudTrail-Digest/<region>/
// YYYY/MM/DD/<acct>_CloudTrail-Digest_<region>_<trail>_<home>_<YYYYMMDDTHHMMSSZ>[_backfill].json.gz
std::string DigestKey(const DigestInput& in);

// One digest chained to `previous` (nullptr for a chain's first), signed by `signer`.
Result<WrittenDigest> MakeDigest(const DigestInput& in, const WrittenDigest* previous,
                                 const DigestSigner& signer);

// Writes the digest's object and its signature sidecar under `root`.
Status WriteDigestFiles(FileSystem* fs, const std::string& root, const WrittenDigest& d);

// Loads <key_dir>/digest-signing-key.pem, or creates it (and <key_dir>/<fingerprint>.der, the
// public key in PKCS#1 DER) when missing.
Result<DigestSigner> LoadOrCreateSigner(FileSystem* fs, const std::string& key_dir);

struct DigestFolderSummary {
  uint64_t digests = 0;
  uint64_t log_files = 0;
  std::vector<std::string> digest_keys;    // in the order written (per chain, oldest first)
  std::vector<std::string> backfill_keys;  // with `backfill`: the backfill digests, likewise
};

// Hourly digests for every log file under <root>/AWSLogs (one chain per account and region, trail
// `trail`, home region the first region in key order), each listing the log files whose file time
// falls in its hour, from the first hour with a log file to the last; hours without logs get an
// empty logFiles. With `backfill`, as if CloudTrail had been late with some files: in every
// chain, the last log file of each hour whose index (from the chain's first) is 3 mod 6 and that
// has two or more files is left out of the hour's digest and listed instead by a backfill digest
// for the same hour (same key with "_backfill"), the backfill digests of a chain chained among
// themselves.
Result<DigestFolderSummary> WriteDigestsForFolder(FileSystem* fs, const std::string& root,
                                                  const std::string& bucket,
                                                  const std::string& trail,
                                                  const DigestSigner& signer,
                                                  bool backfill = false);

// Damages a folder written by WriteDigestsForFolder so that verify reports one outcome:
//   "modify"    a log file listed in a digest gets one changed byte of JSON (re-gzipped);
//   "delete"    a log file listed in a digest is removed;
//   "chain"     a digest in the middle of a chain is removed, with its signature;
//   "signature" a digest's signature sidecar gets one hex digit changed.
// Returns the key of what was changed. InvalidArgument for another mode or when the folder has
// nothing to tamper with.
Result<std::string> Tamper(FileSystem* fs, const std::string& root,
                           const DigestFolderSummary& written, const std::string& mode);

}  // namespace cairn::verify
