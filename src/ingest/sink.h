#pragma once
// Where ingested events go. The embedded store is the usual sink; the null sink counts and drops,
// for measuring the read path alone. A sink's Commit returns only when the batch is durable, so
// callers may acknowledge (delete an SQS message, report a file done) after it returns.

#include <atomic>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

#include "cloudtrail/event.h"
#include "common/status.h"

namespace cairn::ingest {

struct SinkStats {
  uint64_t added = 0;
  uint64_t duplicates = 0;
  // The positions in the batch (as passed to Commit) of the duplicates, which were not stored.
  std::vector<uint32_t> skipped;
};

class Sink {
 public:
  virtual ~Sink() = default;
  // Stores `*events` into `index`; durable on return. Thread-safe. May reorder, move from or drop
  // the events; the caller clears the vector afterwards and keeps its capacity for the next batch.
  virtual Result<SinkStats> Commit(std::string_view index,
                                   std::vector<cloudtrail::Event>* events) = 0;
  // How many commits are worth running at once (0: one per core). The store builds segments in
  // parallel; a sink that does no work per batch gains nothing from more committer threads,
  // which would only compete with the readers for the cores.
  virtual size_t useful_concurrent_commits() const { return 0; }
  // Whether gathering many files' events into one commit helps (the store writes a segment per
  // commit). A sink that does no work per commit takes each file's events as they come, which
  // spares moving every event into a batch tens of MB long that churns the caches.
  virtual bool gathers_batches() const { return true; }
};

// Drops every event and counts it as added. Thread-safe.
class NullSink final : public Sink {
 public:
  Result<SinkStats> Commit(std::string_view index,
                           std::vector<cloudtrail::Event>* events) override {
    events_ += events->size();
    SinkStats stats;
    stats.added = events->size();
    return stats;
  }
  uint64_t events() const { return events_; }
  size_t useful_concurrent_commits() const override { return 1; }
  bool gathers_batches() const override { return false; }

 private:
  std::atomic<uint64_t> events_{0};
};

}  // namespace cairn::ingest
