#pragma once
// `cairn generate`: realistic synthetic CloudTrail logs, written in the S3 layout CloudTrail
// itself uses, for demos, tests and benchmarks.
//
// Output is a pure function of the options (profile, seed, start, days, accounts, regions, flags
// and the event count): the same options give the same bytes whatever the thread count or machine.
// Every file's content is derived from (seed, file identity) with the generator's own PRNG.
//
// Layout under `out_dir` (see docs/generator.md and docs/format/scenarios.md):
//   AWSLogs/<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<16>.json.gz
//   AWSLogs/<acct>/CloudTrail-Insight/<region>/...   (with `insights`)
//   scenarios.json                                   (manifest: accounts, regions, attack
//   scenarios)

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/fs.h"
#include "common/status.h"
#include "generate/world.h"

namespace cairn::generate {

struct GenerateOptions {
  std::string out_dir;
  uint64_t events = 100000;  // exactly this many records are written (scenarios included)
  uint64_t seed = 1;
  int64_t start_ms = 1793491200000;     // 2026-11-01T00:00:00Z; rounded down to 5 minutes
  int days = 1;                         // 1..366
  int accounts = 3;                     // 1..100
  std::vector<std::string> regions;     // empty: DefaultRegions() (4 regions)
  bool data_events = false;             // S3 GetObject/PutObject and Lambda Invoke
  bool insights = false;                // CloudTrail Insights events (CloudTrail-Insight prefix)
  bool scenarios = true;                // embedded attack scenarios
  int threads = 0;                      // 0: one per core
  bool overwrite = false;               // remove an existing out_dir/AWSLogs first
  Profile profile = Profile::kDefault;  // the traffic's statistics (docs/generator.md)
};

struct GenerateSummary {
  uint64_t files = 0;
  uint64_t events = 0;  // == options.events
  uint64_t background_events = 0;
  uint64_t scenario_events = 0;
  uint64_t insight_events = 0;
  uint64_t bytes = 0;               // compressed bytes written
  uint64_t uncompressed_bytes = 0;  // JSON bytes before gzip
  std::vector<std::string> accounts;
  std::vector<std::string> regions;
  std::string manifest_path;
};

// Generates the data set into `fs`. Errors: InvalidArgument for bad options (including an event
// count too small to hold the scenarios and Insights events), AlreadyExists when out_dir/AWSLogs
// exists and `overwrite` is false, IOError from the file system. Thread-safe; blocks until done.
Result<GenerateSummary> Generate(const GenerateOptions& options, FileSystem* fs);

// Parses a --regions value: a count ("4", taken from the built-in list) or a comma list of region
// names ("us-east-1,eu-west-1"). Errors name the offending part.
Result<std::vector<std::string>> ParseRegions(std::string_view spec);

// What a CloudTrail S3 object key says about its content.
enum class KeyKind { kLog, kInsight, kDigest };

struct KeyParts {
  KeyKind kind = KeyKind::kLog;
  std::string prefix;           // anything before "AWSLogs/" (a bucket prefix), may be empty
  std::string organization_id;  // "o-..." for organization trails, else empty
  std::string account;          // 12 digits
  std::string region;
  int year = 0;
  unsigned month = 0, day = 0;  // the date folders
  int64_t file_time_ms = 0;     // the time in the file name (UTC)
  std::string file_name;
  std::string trail_name;   // digest files only
  std::string home_region;  // digest files only: the trail's home region
  // Digest files only: a backfill digest (file name ending "_backfill.json.gz"), which CloudTrail
  // writes for log files a regular digest missed; backfill digests chain among themselves.
  bool backfill = false;
};

// Parses keys such as
//   [prefix/]AWSLogs/[o-xxxx/]<acct>/CloudTrail/<region>/YYYY/MM/DD/<acct>_CloudTrail_<region>_<YYYYMMDDTHHmmZ>_<id>.json.gz
//   ... CloudTrail-Insight/... and CloudTrail-Digest/...
//   (<acct>_CloudTrail-Digest_<region>_<trail>_<home region>_<YYYYMMDDTHHmmssZ>[_backfill].json.gz)
// Returns nullopt when the key does not follow the layout, or its parts disagree (file name naming
// another account or region).
std::optional<KeyParts> ParseCloudTrailKey(std::string_view key);

}  // namespace cairn::generate
