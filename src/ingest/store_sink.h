#pragma once
// The Sink that commits into the embedded store.

#include <memory>

#include "ingest/sink.h"
#include "store/store.h"

namespace cairn::ingest {

class StoreSink final : public Sink {
 public:
  explicit StoreSink(store::Store* store) : store_(store) {}
  Result<SinkStats> Commit(std::string_view index,
                           std::vector<cloudtrail::Event>* events) override {
    ASSIGN_OR_RETURN(store::CommitStats stats, store_->CommitInPlace(index, events));
    return SinkStats{stats.added, stats.duplicates, std::move(stats.skipped)};
  }

 private:
  store::Store* store_;  // not owned
};

}  // namespace cairn::ingest
