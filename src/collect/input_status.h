#pragma once
// What one collector input is doing, as `cairn serve`'s status page shows it
// (Collector::InputStatuses). A plain value: copied out under the collector's lock.

#include <cstdint>
#include <string>

namespace cairn::collect {

struct InputStatus {
  std::string name;
  std::string queue;   // as configured (a name or URL); the URL once resolved
  std::string region;  // sqs_queue_region ("" when it comes from the URL or the defaults)
  std::string index;
  // starting: the queue is being looked up; polling: receiving; retrying: the last receive
  // failed and the receiver waits before the next; stopping; stopped; failed: collection
  // stopped with an error (last_error).
  std::string state = "starting";
  uint64_t polls = 0;              // successful receives (empty ones too)
  uint64_t messages_received = 0;  // messages handed out by the queue
  uint64_t messages_done = 0;      // messages finished and deleted
  uint64_t files_ingested = 0;     // log files read into the store
  uint64_t events_collected = 0;   // events read from those files (before deduplication)
  int64_t last_poll_ms = 0;        // time of the last successful receive (0: none yet)
  // The newest event time among the files ingested (0: none yet). lag = now - this.
  int64_t newest_event_ms = 0;
  // When the oldest message still being worked on was received (0: none in progress).
  int64_t oldest_in_flight_ms = 0;
  std::string last_error;  // the last failure (a receive, an object, a delete), without secrets
  int64_t last_error_ms = 0;
};

}  // namespace cairn::collect
