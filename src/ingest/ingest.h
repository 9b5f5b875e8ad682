#pragma once
// `cairn ingest`: reads local CloudTrail files in any shape (see docs/format/cloudtrail-files.md),
// decodes and parses them in parallel, and commits their events to a Sink in batches.
//
// Per file the outcome is all or nothing where it can be: a file's events are held until the file
// has been read to its end, then handed to the committer, so a malformed file stores nothing and
// is quarantined (copied to <data>/quarantine/local/ with a record of the reason beside it:
// common/quarantine.h). A file whose events
// exceed `max_file_buffer_bytes` is streamed to the committer in pieces instead (bounded memory);
// if such a file fails late, the events before the failure stay stored, the file is still
// quarantined, and the summary says how many of its events were kept. Re-ingesting it after a fix
// adds only the missing events, since the store deduplicates.
//
// Digest files are copied to <data>/digests/ for the integrity verifier and never indexed.

#include <cstdint>
#include <functional>
#include <map>
#include <string>
#include <vector>

#include "cloudtrail/reader.h"
#include "common/fs.h"
#include "common/status.h"
#include "ingest/sink.h"

namespace cairn::ingest {

struct IngestOptions {
  std::string data_dir = "./cairn-data";
  std::string index = "aws-cloudtrail";
  size_t threads = 0;                            // readers; 0 = number of cores
  size_t commit_threads = 0;                     // concurrent committers; 0 = number of cores
  size_t batch_events = 100'000;                 // commit when a batch holds this many events
  uint64_t batch_bytes = 64ull << 20;            // ... or this many raw JSON bytes
  uint64_t max_file_buffer_bytes = 64ull << 20;  // larger files stream in pieces
  uint64_t max_queued_bytes = 96ull << 20;       // read-ahead held for the committers
  bool quarantine = true;                        // copy rejected files to <data>/quarantine/local
  cloudtrail::ReaderOptions reader;
  FileSystem* fs = FileSystem::Default();
};

struct Rejection {
  std::string path;
  std::string reason;
  uint64_t events_kept = 0;  // events of this file stored before the failure (streamed files)
};

struct IngestSummary {
  uint64_t files = 0;  // files read successfully (events and digests)
  uint64_t digest_files = 0;
  uint64_t events = 0;      // events read from those files
  uint64_t added = 0;       // events newly stored
  uint64_t duplicates = 0;  // events already stored (skipped)
  uint64_t insight_events = 0;
  uint64_t input_bytes = 0;    // bytes read from disk
  uint64_t decoded_bytes = 0;  // bytes after decompression
  double elapsed_seconds = 0;
  std::vector<Rejection> rejected;
  std::map<std::string, uint64_t> shapes;  // file shape name -> files

  std::string ToJson() const;
  std::string ToText() const;
};

// Progress as the run goes; called from one thread at most every `interval`.
struct Progress {
  uint64_t files_done = 0, files_total = 0;
  uint64_t events = 0;
  uint64_t input_bytes_done = 0, input_bytes_total = 0;
  double elapsed_seconds = 0;
};
using ProgressFn = std::function<void(const Progress&)>;

// Expands PATH arguments: files as given, folders recursively (files ending in .json, .json.gz,
// .gz, .jsonl, .ndjson; hidden entries skipped), shell globs, and "-" for standard input (copied
// to a temporary file under the data folder first so it can be quarantined if bad). Errors name
// the argument that matched nothing. Files are in path order, grouped by their date folders
// (CloudTrail's .../YYYY/MM/DD/file; files without come first) so that a commit holds few days.
Result<std::vector<std::string>> ExpandPaths(FileSystem* fs, const std::vector<std::string>& args,
                                             const std::string& data_dir);
// How far apart in event time the events ExpandPaths' order delivers can be: a day's files are
// read together, each account and region in turn (CloudTrail files hold events up to about 15
// minutes older than their folder's day). Streaming correlations wait this long.
inline constexpr int64_t kReadOrderLatenessMs = (24 * 60 + 15) * 60 * 1000;

// Ingests `files` into `sink`. Returns the summary; a Status error only when the run itself could
// not go on (the sink failed to commit). Rejected files are listed in the summary, not errors.
Result<IngestSummary> IngestFiles(const std::vector<std::string>& files,
                                  const IngestOptions& options, Sink* sink,
                                  const ProgressFn& progress = nullptr,
                                  double progress_interval_seconds = 0.25);

}  // namespace cairn::ingest
