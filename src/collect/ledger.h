#pragma once
// The ledger of ingested S3 objects (bucket, key, ETag), shared by `cairn collect` and
// `cairn backfill` so that neither ingests an object the other already has. The store's
// (account, eventID) dedup stays the second line of defence. Format: docs/format/ledger.md.
//
// Crash safety: entries are appended as whole checksummed lines and fdatasync'ed before Record
// returns. A torn last line (crash mid-append) is cut off at Open; a damaged line elsewhere is
// skipped with a warning (its object may then be read again, which the store deduplicates).
// Several processes may share one ledger: each append is one write(2) on an O_APPEND descriptor
// (FileSystem::NewAppendableFile), and Find reads lines other processes appended since the last
// look before answering "no". All file access goes through a FileSystem, so tests can inject
// faults.
//
// Thread safety: all methods may be called concurrently.

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "common/fs.h"
#include "common/status.h"

namespace cairn::collect {

struct LedgerEntry {
  std::string bucket;
  std::string key;
  std::string etag;     // without quotes
  uint64_t events = 0;  // events read from the object (stored + duplicates + excluded)
  int64_t time_ms = 0;  // when it was recorded
  std::string how;      // "collect", "backfill", "quarantine"
  std::string sha256;   // hex SHA-256 of the object's decoded bytes; "" when not computed
};

class Ledger {
 public:
  // Opens (creating, 0600) the ledger file at `path` on `fs` and loads it. `fs` must outlive the
  // ledger.
  static Result<std::unique_ptr<Ledger>> Open(FileSystem* fs, const std::string& path);
  // Opens an existing ledger for reading only (a reader of the data folder: nothing is created;
  // NotFound when the file is missing). Record fails.
  static Result<std::unique_ptr<Ledger>> OpenReadOnly(FileSystem* fs, const std::string& path);
  ~Ledger();
  Ledger(const Ledger&) = delete;
  Ledger& operator=(const Ledger&) = delete;

  // The ETag recorded for bucket/key, if any.
  std::optional<std::string> Find(const std::string& bucket, const std::string& key);
  // True when bucket/key is recorded with this ETag, or with any ETag when `etag` is "".
  bool Contains(const std::string& bucket, const std::string& key, const std::string& etag);
  // The SHA-256 (hex) recorded for bucket/key's latest entry, if it has one: what the collector
  // read, for checking against the hash a CloudTrail digest lists.
  std::optional<std::string> FindSha256(const std::string& bucket, const std::string& key);
  // Appends and syncs. Returns when durable.
  Status Record(const std::vector<LedgerEntry>& entries);

  size_t size() const;
  const std::string& path() const { return path_; }

  // One line of the format (with its trailing newline), and its parser (nullopt when damaged).
  static std::string EncodeLine(const LedgerEntry& e);
  static std::optional<LedgerEntry> DecodeLine(std::string_view line);

 private:
  Ledger() = default;
  // Opens the reader and loads the file; `appender` is null for a read-only ledger.
  static Result<std::unique_ptr<Ledger>> Load(FileSystem* fs, const std::string& path,
                                              std::unique_ptr<WritableFile> appender);
  Status CatchUpLocked();  // reads lines appended since `offset_`
  FileSystem* fs_ = nullptr;
  std::string path_;
  std::unique_ptr<WritableFile> appender_;    // opened for appending
  std::unique_ptr<RandomAccessFile> reader_;  // reads what any process appended
  mutable std::mutex mu_;
  uint64_t offset_ = 0;  // bytes of the file already loaded
  void RememberLocked(const LedgerEntry& e);
  std::unordered_map<std::string, std::string> etags_;   // bucket '\0' key -> etag
  std::unordered_map<std::string, std::string> hashes_;  // bucket '\0' key -> sha256, when known
};

}  // namespace cairn::collect
