#pragma once
// `cairn verify`: checks a bucket's CloudTrail digests and log files (docs/verify.md).
//
// For every trail's chain of digests in each account and region (newest first, within the time
// range): the digest's format and that it names the key it was read from, its signature under the
// public key its fingerprint names, the link to the previous digest (previousDigestS3Object
// present, previousDigestHashValue = SHA-256 of its uncompressed bytes, previousDigestSignature =
// its signature), and every listed log file's existence and SHA-256 of its uncompressed bytes.
// Log files in the range that no digest lists are reported too.
//
// Thread safety: Verify lists the source and reads digests from the calling thread, and reads log
// files from `threads` threads at once (ObjectSource::Read must allow that).

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "common/status.h"
#include "verify/crypto.h"
#include "verify/source.h"

namespace cairn::verify {

enum class Outcome {
  kValid,
  kModified,          // bytes differ from the hash recorded for them
  kMissing,           // recorded by a digest (or the chain) but absent: deleted
  kInvalidSignature,  // signature does not verify, or is not hex
  kUnsigned,          // a digest with no signature metadata (and none recorded by its successor)
  kChainGap,          // the chain's link to or from this digest does not hold
  kInvalidFormat,     // not one gzip member, not JSON, a required key missing, wrong key/bucket
  kUnlisted,          // a log file present in the bucket but listed in no digest
  kNotVerified,       // could not be checked (no public key for its fingerprint, read error)
};

// "valid", "modified", "missing", "invalid_signature", "unsigned", "chain_gap", "invalid_format",
// "unlisted", "not_verified".
const char* OutcomeName(Outcome o);
// Whether an outcome is an integrity failure (all but valid and not_verified).
bool IsIntegrityFailure(Outcome o);

struct FileReport {
  std::string key;
  std::string account, region, trail;  // trail: digests only
  Outcome outcome = Outcome::kValid;
  std::string detail;     // why, for anything but valid
  std::string digest;     // log files: the digest that lists it (empty for unlisted ones)
  bool backfill = false;  // digests: a backfill digest (its own chain)
  int64_t time_ms = 0;    // the time in the file name
};

// The public keys by fingerprint.
using PublicKeySet = std::map<std::string, PublicKey>;

struct VerifyOptions {
  std::string prefix;                 // the bucket prefix before AWSLogs/ ("" or "p/q/")
  std::vector<std::string> accounts;  // empty: all
  std::vector<std::string> regions;   // empty: all
  std::string trail;                  // the trail name in digest file names; empty: every trail
  std::optional<int64_t> earliest_ms, latest_ms;  // digests whose file time lies in the range
  // Threads hashing log files (the source's Read is called from them); 0: one per core.
  int threads = 0;
  // Called when a digest names a fingerprint the given keys lack (e.g. CloudTrail ListPublicKeys),
  // with the trail's home region as the digest's file name gives it, at most once per home
  // region; its keys join the set. Its error becomes a note of the report.
  std::function<Result<PublicKeySet>(const std::string& home_region)> fetch_public_keys;
};

struct VerifyReport {
  std::vector<FileReport> digests;    // newest first per chain
  std::vector<FileReport> log_files;  // in key order
  std::optional<int64_t> first_digest_start_ms, last_digest_end_ms;
  std::vector<std::string> notes;  // things the reader should know (e.g. bucket not checked)

  size_t Count(const std::vector<FileReport>& v, Outcome o) const;
  // 0 all valid, 1 an integrity failure, 2 nothing failed but something (or everything) could not
  // be verified.
  int ExitCode() const;
};

// Reads every *.der file of `dir` (either DER form). Errors name the file.
Result<PublicKeySet> LoadPublicKeyDir(FileSystem* fs, const std::string& dir);

// Verifies what `source` holds. Fails only when the bucket cannot be listed; every per-file
// problem is an outcome in the report.
Result<VerifyReport> Verify(ObjectSource* source, const PublicKeySet& keys,
                            const VerifyOptions& options);

// validate-logs' summary then one line per file that is not valid (with `all`, every file).
std::string FormatReportText(const VerifyReport& r, const VerifyOptions& options, bool all);
// The whole report as one JSON object (docs/verify.md).
std::string FormatReportJson(const VerifyReport& r, const VerifyOptions& options);

}  // namespace cairn::verify
