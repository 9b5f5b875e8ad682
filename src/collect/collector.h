#pragma once
// `cairn collect`: SQS long-poll -> S3 GET (streamed) -> decode -> filter -> store -> ack.
//
// Per input, `receivers` threads long-poll the queue (up to sqs_batch_size messages, up to
// wait_seconds) and hand each message to a pool; its objects are fetched and decoded by a pool of
// `workers`. A message is deleted only after every object it names is committed (or recorded as
// already ingested, or quarantined). A heartbeat extends the visibility of messages still in
// progress. An object that cannot be read leaves its message for redelivery, with a shorter
// visibility so the retry comes soon; once the message's ApproximateReceiveCount reaches
// max_attempts, a permanently unreadable object is quarantined under <data>/quarantine/files/
// and the message deleted. Bodies that are not notifications are kept under
// <data>/quarantine/messages/ before deletion. After an empty poll the receiver pauses for
// `interval`. Stop() (SIGTERM/SIGINT) stops polling and drains work in progress.
//
// Thread safety: Run blocks; RequestStop may be called from any thread (not from a signal
// handler: set the atomic passed as `stop` instead).

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/client.h"
#include "collect/conf.h"
#include "collect/input_status.h"
#include "collect/metrics.h"
#include "common/config.h"
#include "common/fs.h"
#include "common/status.h"
#include "store/store.h"

namespace cairn::detect {
class RuleSet;
}

namespace cairn::collect {

struct CollectorOptions {
  std::string data_dir;
  CollectConfig config;
  int until_idle = 0;                       // >0: exit after this many consecutive empty polls
  const std::atomic<bool>* stop = nullptr;  // set by a signal handler
  // Builds the AWS client for an input. Default: NewAwsClientFromConfig with the input's keys.
  std::function<Result<std::shared_ptr<aws::AwsClient>>(const InputConfig&)> make_client;
  const Config* global = nullptr;  // aws.* keys for the default make_client
  // Whether to wait while another process writes the data folder (else Run fails at once).
  bool wait_for_lock = true;
  // The data folder's file system: the store, the ledger and quarantine go through it (tests
  // inject faults through it).
  FileSystem* fs = FileSystem::Default();
  // Other periodic work that writes the same data folder (the data folder has one writer, so it
  // shares the collector's store): `cairn collect` loads the billing reports this way when
  // [billing] is configured. Called on a thread of its own at the start and then every
  // `side_task_interval_ms` until the collector stops; `stopping` turns true when the collector
  // wants it to return (it should stop early and leave its work resumable). Errors are its own to
  // log. Run waits for it before closing the store.
  std::function<void(store::Store* store, const std::atomic<bool>& stopping)> side_task;
  int64_t side_task_interval_ms = 6 * 3'600'000;
  // Streaming detection over every committed batch (not owned; null: off).
  const detect::RuleSet* rules = nullptr;
  // A store the caller already opened as the data folder's writer (`cairn serve` holds one for
  // the collectors and its searches). Null: Run opens the store itself and closes it at the end;
  // otherwise Run uses this one and leaves it open.
  store::Store* store = nullptr;
};

struct CollectorSummary {
  uint64_t messages = 0;
  uint64_t files = 0;
  uint64_t events_stored = 0;
  uint64_t quarantined = 0;
  uint64_t errors = 0;
};

class Collector {
 public:
  explicit Collector(CollectorOptions options);
  ~Collector();
  // Runs until stopped (or idle). Errors: configuration/credentials/queue lookup failures.
  Result<CollectorSummary> Run();
  void RequestStop();
  Metrics* metrics() { return &metrics_; }
  // Each configured input's state, counts, newest event and last error (disabled ones with state
  // "disabled"), in configuration order. Any thread, any time (before Run: "starting").
  std::vector<InputStatus> InputStatuses() const;
  // The metrics server's port once Run has started it (0 when off).
  int metrics_port() const { return metrics_port_.load(); }

  struct Impl;

 private:
  CollectorOptions options_;
  Result<CollectorSummary> RunInputs();
  Metrics metrics_;
  std::atomic<bool> stopping_{false};
  mutable std::mutex status_mu_;
  std::vector<InputStatus> statuses_;                   // by input, as configured
  std::vector<std::map<uint64_t, int64_t>> in_flight_;  // by input: message -> when received
  std::atomic<int> metrics_port_{0};
};

// Makes the default AWS client for an input: the global aws.* configuration, with the input's
// key_id/secret_key (static), aws_account (profile) and aws_iam_role (role) on top, in the
// queue's region.
Result<std::shared_ptr<aws::AwsClient>> MakeInputClient(const InputConfig& input,
                                                        const Config& global);

}  // namespace cairn::collect
