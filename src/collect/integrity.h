#pragma once
// Continuous verification of what the collector collected (docs/verify.md, "While collecting").
//
// The collector hashes every log file's decoded bytes while reading them and keeps the hash in
// the ledger; digest files arriving by notification are saved under <data>/digests/<bucket>/<key
// without .gz>, with a sidecar "<that>.meta" holding the digest object's signature (its
// x-amz-meta-signature) and the SHA-256 of its decoded bytes. CheckCollected reads the saved
// digests of the last `lookback` and finds:
//   log_modified     a listed log file was collected with bytes of another hash
//   log_missing      a listed log file was not collected `grace` after the digest's end
//   digest_signature a digest's signature does not verify under its public key
//   digest_unsigned  a digest object had no signature
//   digest_invalid   a saved digest does not parse as a digest
//   chain_gap        the previous digest a digest names is absent `grace` after its end, or its
//                    hash or signature differs from what the newer digest records
//   digest_late      an (account, region, trail) has had no digest for `late` (CloudTrail writes
//                    one an hour, with or without log files)
// Each finding has a key naming what it is about, so raising it again (every pass finds it
// again) stores one alert (detect/alert.h). The check holds no state of its own: it reads the
// digests folder and the ledger each time, so a restart loses nothing.
//
// Thread safety: CheckCollected may run beside the collector's workers (the ledger is
// thread-safe; digests are written atomically, sidecar first).

#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "collect/ledger.h"
#include "common/fs.h"
#include "common/status.h"
#include "detect/alert.h"
#include "verify/verifier.h"

namespace cairn::collect {

// Sidecar of a saved digest: "<saved path>.meta".
inline constexpr std::string_view kDigestMetaSuffix = ".meta";

struct IntegrityOptions {
  std::string data_dir;
  FileSystem* fs = FileSystem::Default();
  int64_t lookback_ms = 7 * 24 * 3600 * 1000LL;  // digests whose end lies within
  int64_t grace_ms = 2 * 3600 * 1000LL;          // listed files must be collected by then
  int64_t late_ms = 3 * 3600 * 1000LL;           // a region without a digest for this long
  // Public keys by fingerprint; `fetch_public_keys(home_region)` is called at most once per home
  // region and pass when a digest names a fingerprint the set lacks (null: never).
  verify::PublicKeySet keys;
  std::function<Result<verify::PublicKeySet>(const std::string& home_region)> fetch_public_keys;
};

struct IntegrityFinding {
  std::string check;  // see above
  std::string key;    // what it is about: the log file's or digest's bucket/key, or the region
  std::string detail;
  std::string account, region;
  int64_t time_ms = 0;  // the digest's end (or the last digest's, for digest_late)
};

struct IntegrityReport {
  uint64_t digests = 0;         // saved digests within the lookback
  uint64_t files_matched = 0;   // listed files collected with the listed hash
  uint64_t files_pending = 0;   // listed files not collected yet, within the grace
  uint64_t files_unhashed = 0;  // collected before hashes were recorded: cannot be compared
  uint64_t unverified = 0;      // digests whose signature could not be checked (no key)
  std::vector<IntegrityFinding> findings;
};

// Checks the saved digests against the ledger as of `now_ms`. Fails only when the digests folder
// cannot be listed; a digest that cannot be read is a finding.
Result<IntegrityReport> CheckCollected(const IntegrityOptions& options, Ledger* ledger,
                                       int64_t now_ms);

// The findings as alerts (kind integrity, rule id "integrity:<check>").
std::vector<detect::Alert> IntegrityAlerts(const IntegrityReport& report);

// Writes the sidecar of a digest saved at `path`: its signature (empty: none) and the hex SHA-256
// of its decoded bytes.
Status SaveDigestMeta(FileSystem* fs, const std::string& path, const std::string& signature,
                      const std::string& sha256);

}  // namespace cairn::collect
