#pragma once
// The local quarantine, <data>/quarantine/: inputs cairn could not use — an
// unreadable S3 object, an SQS message that is not a notification, a local file
// `cairn ingest` rejected — kept with the reason, and a copy of the bytes when
// there are some, for an operator to inspect. One writer for every layer
// (docs/collect.md, "Quarantine").
//
// Layout: <dir>/<kind>/<ms>-<seq>-<name>.json, one JSON object on one line:
//   {"kind":..., "time":"<ISO 8601>", <the caller's fields>..., "copy":"<file
//   name>" or ""}
// and, when a copy is kept, <dir>/<kind>/<ms>-<seq>-<name>.data beside it.
// <name> is the untrusted name (bucket/key, message id, file name) through
// SafeFileName, so nothing is written outside <dir>/<kind>; <seq> counts the
// entries of the process, so two entries of one millisecond never collide. Each
// file is written to a temporary name, fsynced and renamed (the copy first,
// then the record), so a record never names a missing or partial copy.
//
// Thread-safe.

#include <atomic>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/clock.h"
#include "common/fs.h"
#include "common/status.h"

namespace cairn {

// Where a quarantined copy comes from: bytes in memory, or a local file
// streamed in pieces.
struct QuarantineCopy {
  const std::string *bytes = nullptr;
  std::string file;
};

class Quarantine {
 public:
  // `dir` is <data>/quarantine. `fs` and `clock` must outlive the object.
  Quarantine(FileSystem *fs, Clock *clock, std::string dir);

  // The record's own fields, in order: name and JSON value (already encoded by
  // the caller).
  using Fields = std::vector<std::pair<std::string, std::string>>;

  // Keeps one entry under <dir>/<kind>/ (kind is one of cairn's own folder
  // names: "files", "messages", "local"). Returns when the entry is durable; on
  // failure the entry may be missing but never half-written. Returns the
  // record's path.
  Result<std::string> Keep(std::string_view kind, std::string_view name, const Fields &fields,
                           const QuarantineCopy &copy = {});

  const std::string &dir() const { return dir_; }

 private:
  FileSystem *fs_;
  Clock *clock_;
  std::string dir_;
  std::atomic<uint64_t> seq_{0};
};

}  // namespace cairn
