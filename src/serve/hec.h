#pragma once
// Splunk's HTTP Event Collector (HEC): tokens, the parsing of /services/collector/event and /raw
// bodies into store events, and HecIngest, which commits them to the store the process holds
// (group commit across requests, a bounded queue, indexer acknowledgement per channel).
// rest_hec.cc maps the HTTP routes onto this; docs/serve.md ("HTTP Event Collector") is the
// user's guide.
//
// Events become cloudtrail::Event values the store takes as they are:
// - A CloudTrail record (sourcetype aws:cloudtrail, or an object that has eventID, eventTime and
//   eventSource, or an EventBridge envelope whose detail-type ends in "via CloudTrail") goes
//   through the CloudTrail reader (cloudtrail/reader.h), which unwraps EventBridge's `detail`:
//   it is stored like a collected event (sourcetype aws:cloudtrail, time from eventTime,
//   deduplicated on account and eventID).
// - Any other object event is stored byte for byte; a string (or number, array) event is stored
//   as {"event": <value>}. Its time is `time` (epoch seconds, fraction allowed), else the time of
//   receipt; its identity a hash of its place in the request, time, sourcetype, source and
//   text (so a retried request with times is stored once).
//
// Thread safety: parsing functions are reentrant; HecIngest is safe from any thread.

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cloudtrail/event.h"
#include "common/status.h"

namespace cairn::store {
class Store;
}
namespace cairn::detect {
class RuleSet;
class StreamingCorrelator;
}  // namespace cairn::detect

namespace cairn::serve {

struct HecToken {
  std::string name;
  std::string value;                 // the secret (never logged)
  std::vector<std::string> indexes;  // allowed indexes; empty: only default_index
  std::string default_index = "main";
  std::string default_sourcetype;  // "" : "httpevent" (/event) or "http:<name>" (/raw)
  std::string default_source;      // "" : "http:<name>"
  bool use_ack = false;
  bool disabled = false;

  bool AllowsIndex(std::string_view index) const;
};

// Reads every [[serve.hec_token]] table of a cairn.toml text: name, token (the value) or
// token_file (a file holding it), indexes (array or comma-separated string), index (the
// default), sourcetype, source, useACK (or use_ack), disabled. InvalidArgument names the line.
Result<std::vector<HecToken>> ParseHecTokens(std::string_view toml_text, std::string_view path);

// Splunk's HEC status codes.
enum HecCode : int {
  kHecSuccess = 0,
  kHecTokenDisabled = 1,     // 403
  kHecTokenRequired = 2,     // 401
  kHecInvalidAuth = 3,       // 401
  kHecInvalidToken = 4,      // 403
  kHecNoData = 5,            // 400
  kHecInvalidFormat = 6,     // 400
  kHecIncorrectIndex = 7,    // 400
  kHecInternalError = 8,     // 500
  kHecBusy = 9,              // 503
  kHecChannelMissing = 10,   // 400
  kHecInvalidChannel = 11,   // 400
  kHecEventRequired = 12,    // 400
  kHecEventBlank = 13,       // 400
  kHecAckDisabled = 14,      // 400
  kHecIndexedFields = 15,    // 400
  kHecHealthy = 17,          // 200
  kHecUnhealthyQueues = 18,  // 503
};

struct HecError {
  int http_status = 400;
  int code = kHecInvalidFormat;
  std::string text;
  int64_t invalid_event = -1;  // "invalid-event-number" when >= 0
  std::string detail;          // what and where (byte offset), when known
};
HecError MakeHecError(int code, int64_t invalid_event = -1, std::string detail = "");
// {"text":...,"code":...[,"invalid-event-number":n][,"detail":...]}
std::string HecErrorJson(const HecError& e);

// What a request says about its events besides the body.
struct HecRequestMeta {
  const HecToken* token = nullptr;
  std::string index, sourcetype, source, host;  // from the query string (raw); "" when absent
  std::optional<int64_t> time_ms;               // from ?time= (raw)
  int64_t now_ms = 0;                           // receipt time
};

// Events of one request grouped by index, in arrival order within each index.
struct HecBatch {
  std::map<std::string, std::vector<cloudtrail::Event>> by_index;
  size_t events = 0;
  size_t bytes = 0;  // raw bytes of the events
  // The sender waits for the commit (no indexer acknowledgement): committed at once. Batches
  // answered with an ackId may wait a little for others (HecIngestOptions::ack_gather).
  bool sender_waits = true;
};

// Parses a /services/collector/event body: one or more JSON objects, concatenated (whitespace
// between them allowed). Each needs `event`; `time`, `host`, `source`, `sourcetype`, `index`,
// `fields` are optional. On error nothing of the body is accepted.
std::optional<HecError> ParseHecEventBody(std::string_view body, const HecRequestMeta& meta,
                                          HecBatch* out);
// Parses a /services/collector/raw body: JSON objects (concatenated or one per line, as Firehose
// delivers EventBridge or CloudWatch records) are events as /event's `event` would be; any other
// text is broken into lines, each non-empty line one event {"event":"<line>"}.
std::optional<HecError> ParseHecRawBody(std::string_view body, const HecRequestMeta& meta,
                                        HecBatch* out);

// Epoch seconds ("1700000000", "1700000000.123", a JSON number) to milliseconds.
std::optional<int64_t> ParseEpochSeconds(std::string_view text);
// A channel identifier: 1 to 128 of [A-Za-z0-9_-] (Splunk's are GUIDs).
bool ValidHecChannel(std::string_view channel);

struct HecIngestOptions {
  store::Store* store = nullptr;
  size_t max_pending_events = 500'000;  // queued or committing; beyond: busy (503, code 9)
  size_t max_pending_bytes = 256u << 20;
  size_t max_channels = 10'000;
  size_t max_acks_per_channel = 100'000;  // unanswered acks kept per channel
  std::function<void()> before_commit;    // tests: runs on the committer before each commit
  // Sigma rules evaluated on every committed batch (not on index alerts), like the collectors'
  // (collect::GroupCommitter::SetRules): matches are stored in index alerts after the batch.
  const detect::RuleSet* rules = nullptr;
  // When only acknowledged batches are queued, the committer waits up to this long for
  // `ack_gather_events` of them before committing: fewer, larger commits leave the store less to
  // merge. With at least StoreOptions::background_merge_below events a commit's segment is never
  // merged again (CloudTrail over HEC, 400k events: 9.6 → 6.5 server CPU-s against 50 ms / 20k).
  // Acknowledging senders poll for their acks (Firehose waits minutes), so a second is cheap. A
  // sender waiting for its commit ends the wait at once. serve.hec_ack_gather_ms / _events.
  std::chrono::milliseconds ack_gather{1000};
  size_t ack_gather_events = 50'000;
  // ...and stops waiting when no request has come for this long (the senders paused).
  std::chrono::milliseconds ack_gather_idle{50};
  // Committer threads: with more than one, while one commits (parsing and indexing the events,
  // most of HEC's CPU) another gathers and commits the next batch (CloudTrail records: 63k →
  // 71k events/s on an idle 2-core machine). serve.hec_committers.
  int committers = 2;
};

struct HecIngestStats {
  uint64_t requests = 0, events = 0, commits = 0, commit_errors = 0, busy = 0;
  uint64_t stored = 0, duplicates = 0;
  uint64_t alerts = 0;  // Sigma alerts stored (options.rules)
};

class HecIngest {
 public:
  explicit HecIngest(HecIngestOptions options);
  ~HecIngest();  // Stop()

  class Ticket;
  // Queues the batch for the committer. Unavailable when the queue is full (the caller answers
  // busy); Cancelled when stopping.
  Result<std::shared_ptr<Ticket>> Submit(HecBatch batch);
  // Blocks until the ticket's batch is durable (OK) or failed.
  Status Wait(const std::shared_ptr<Ticket>& ticket);
  // Registers an ack id on `channel` for the ticket. Unavailable when the channel has too many
  // unanswered acks or there are too many channels.
  Result<uint64_t> AddAck(const std::string& channel, std::shared_ptr<Ticket> ticket);
  // For each id: true when its batch is durable (then forgotten, as Splunk does), else false.
  std::vector<std::pair<uint64_t, bool>> QueryAcks(const std::string& channel,
                                                   const std::vector<uint64_t>& ids);
  bool Busy() const;  // the queue is at its bound
  HecIngestStats stats() const;
  // Commits what is queued, then stops the committer. Later Submits fail.
  void Stop();

 private:
  void Run();
  HecIngestOptions options_;
  std::unique_ptr<detect::StreamingCorrelator> correlator_;  // with options_.rules
  mutable std::mutex mu_;
  std::condition_variable cv_;
  std::deque<std::pair<HecBatch, std::shared_ptr<Ticket>>> queue_;
  size_t pending_events_ = 0, pending_bytes_ = 0;
  bool stopping_ = false;
  struct Channel {
    uint64_t next_id = 0;
    std::map<uint64_t, std::shared_ptr<Ticket>> acks;
  };
  std::map<std::string, Channel> channels_;
  HecIngestStats stats_;
  std::chrono::steady_clock::time_point last_submit_;  // of the newest queued request
  std::vector<std::thread> threads_;                   // the committers
};

}  // namespace cairn::serve

namespace cairn::serve {

// What the HEC routes share (filled in cmd_serve.cc).
struct HecContext {
  std::vector<HecToken> tokens;
  HecIngest* ingest = nullptr;
  uint64_t max_decompressed_bytes = 64u << 20;  // a gzip body's decoded size
  // Bodies being decoded and parsed, all requests together, counted 3x their decoded size (the
  // text, the events, the grouping): beyond it a request is refused busy (503, code 9), so many
  // large requests at once cannot take the memory the queue's bound does not see.
  uint64_t max_inflight_bytes = 1ull << 30;
  std::atomic<uint64_t> inflight_bytes{0};
};

}  // namespace cairn::serve
