#pragma once
// CloudTrail file readers: one streaming entry point that recognises every file
// shape cairn accepts and hands each event to a callback, with the event's
// original bytes, time and identity. docs/format/cloudtrail-files.md describes
// the shapes, how each is recognised and what is rejected.
//
// Input may be gzipped (recognised by the magic bytes 1f 8b, never by name;
// multi-member streams are read whole) or plain. Memory stays bounded whatever
// the file size: a file of up to ReaderOptions::whole_file_bytes (4 MiB) is
// held whole and parsed in one simdjson call, like CloudTrail's own delivery
// files; a larger one streams through one read buffer (1 MiB, grown only to
// hold an event larger than that) plus simdjson's parser sized to the largest
// event, never the whole file.
//
// Errors (all name `source` and a byte offset in the decompressed stream; gzip
// errors give the compressed offset instead):
//   InvalidArgument    malformed input: bad gzip, broken JSON, invalid UTF-8, a
//   missing or
//                      non-array "Records", a record that is not an object, a
//                      record without a parsable eventTime, a notification
//                      instead of a log file;
//   ResourceExhausted  a cap in ReaderOptions was hit;
//   anything the source's Read returns, or the callback returns, unchanged.
// Events already passed to the callback before an error stay delivered; a
// caller that needs all-or-nothing per file (ingest does) buffers or discards
// them.
//
// Thread safety: the functions are reentrant; each call keeps its own state.
// Run files in parallel by calling them from several threads.

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>

#include "cloudtrail/event.h"
#include "common/fs.h"
#include "common/status.h"

namespace cairn::cloudtrail {

struct ReaderOptions {
  uint64_t max_decompressed_bytes = 8ull << 30;  // per file; ResourceExhausted beyond it
  size_t max_event_bytes = 64 << 20;             // one event's JSON (and any top-level value)
  // A file whose decompressed text fits in this many bytes is read whole and, when it is a
  // well-formed {"Records":[...]} document, parsed once as a whole (the fast path); anything
  // else, and every error, goes through the streaming reader. 0 always streams. Larger files
  // stream because a whole document's parse no longer stays in the CPU caches (and each reader
  // thread's parser grows to the largest file): at 10M events, 16 MiB gave 122-130k events/s
  // into the store at 906-931 MB peak RSS against 129-139k at 870 MB for 4 MiB.
  size_t whole_file_bytes = 4 << 20;
  // Compute the SHA-256 of the decoded bytes (FileSummary::sha256) while reading them: what a
  // CloudTrail digest records for each log file.
  bool sha256 = false;
};

enum class FileShape { kEmpty, kRecords, kArray, kNdjson, kLookupEvents, kSingleEvent, kDigest };

// "empty", "records", "array", "ndjson", "lookup-events", "single-event",
// "digest".
std::string_view FileShapeName(FileShape shape);

struct FileSummary {
  FileShape shape = FileShape::kEmpty;
  uint64_t events = 0;          // events passed to the callback, Insights events included
  uint64_t insight_events = 0;  // of which sourcetype aws:cloudtrail:insight
  uint64_t input_bytes = 0;     // bytes read from the source (compressed when gzipped)
  uint64_t decoded_bytes = 0;   // bytes after decompression
  bool gzipped = false;
  size_t peak_buffer_bytes = 0;  // the largest read buffer used: evidence of bounded memory
                                 // (at most whole_file_bytes plus the streaming buffer)
  bool whole_file = false;       // read by the whole-file fast path
  std::string sha256;            // hex SHA-256 of every decoded byte, with ReaderOptions::sha256
  std::string digest_json;       // the whole (decompressed) digest document when
                                 // shape == kDigest
};

// Receives each event. It may move from the event. A non-OK return stops
// reading and is returned from ReadEvents unchanged.
using EventFn = std::function<Status(Event&&)>;

// Reads every event of one file in file order. `source` is the path or S3 key
// (copied into Event::source and named in errors). Takes ownership of `in` and
// reads it to the end (or to the first error).
Result<FileSummary> ReadEvents(std::unique_ptr<SequentialFile> in, std::string_view source,
                               const ReaderOptions& options, const EventFn& fn);

// Opens `path` on `fs` and calls ReadEvents with the path as source.
Result<FileSummary> ReadEventsFromPath(FileSystem* fs, const std::string& path,
                                       const ReaderOptions& options, const EventFn& fn);

}  // namespace cairn::cloudtrail
