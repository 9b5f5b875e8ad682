#pragma once
// `cairn backfill`: ingests CloudTrail log files by listing the bucket's key layout
//   [PREFIX/]AWSLogs/[o-xxxx/]<account>/CloudTrail/<region>/YYYY/MM/DD/<file>
// over a date range, with the same per-object pipeline, ledger and quarantine as `collect`.
// Accounts (organization trails included) and regions are discovered with delimiter listings
// unless given. Work is split into (account, region, day) units listed and read in parallel; a
// unit finished is appended to a checkpoint file (<data>/backfill/<name>.checkpoint, one unit
// prefix per line, flushed), so an interrupted run resumes where it stopped; inside a half-done
// unit the ledger skips finished objects.
//
// Thread safety: RunBackfill blocks; it may be stopped through `stop`.

#include <atomic>
#include <cstdint>
#include <string>
#include <vector>

#include "aws/s3.h"
#include "collect/conf.h"
#include "collect/metrics.h"
#include "common/fs.h"
#include "common/status.h"

namespace cairn::detect {
class RuleSet;
}

namespace cairn::collect {

struct BackfillOptions {
  std::string bucket;
  std::string prefix;                 // before AWSLogs/, without trailing '/'; may be empty
  int64_t from_day = 0;               // days since the epoch, inclusive
  int64_t to_day = 0;                 // inclusive
  std::vector<std::string> accounts;  // empty: discover
  std::vector<std::string> regions;   // empty: discover
  int workers = 4;
  std::string data_dir;
  InputConfig input;     // index, sourcetype, exclusion
  bool progress = true;  // a progress bar on stderr (when it is a terminal; else log lines)
  const std::atomic<bool>* stop = nullptr;
  uint64_t max_file_bytes = 8ull << 30;
  // Whether to wait while another process writes the data folder (else RunBackfill fails at once).
  bool wait_for_lock = true;
  // The data folder's file system: the store, the ledger and quarantine go through it (tests
  // inject faults through it).
  FileSystem* fs = FileSystem::Default();
  // Streaming detection over every committed batch (not owned; null: off).
  const detect::RuleSet* rules = nullptr;
};

struct BackfillSummary {
  uint64_t units = 0;          // (account, region, day) prefixes
  uint64_t units_resumed = 0;  // skipped thanks to the checkpoint
  uint64_t objects_listed = 0;
  uint64_t files_ingested = 0;
  uint64_t files_skipped = 0;  // already in the ledger
  uint64_t files_failed = 0;   // quarantined
  uint64_t events_stored = 0;
  uint64_t events_duplicate = 0;
};

// Parses "s3://bucket[/prefix]".
Status ParseS3Url(std::string_view url, std::string* bucket, std::string* prefix);

Result<BackfillSummary> RunBackfill(const BackfillOptions& options, aws::S3Client* s3,
                                    Metrics* metrics);

}  // namespace cairn::collect
