#pragma once
// Collector metrics, rendered in the Prometheus text format (version 0.0.4) and served on a
// loopback address by MetricsServer; also summarised in the periodic status line.
// Names and meanings: docs/collect.md, "Metrics".
//
// Thread safety: every method may be called from any thread.

#include <atomic>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "common/status.h"

namespace cairn::collect {

class Exposition;
struct MetricsSet;

class Metrics {
 public:
  Metrics();
  std::atomic<uint64_t> messages_received{0};
  std::atomic<uint64_t> messages_deleted{0};
  std::atomic<uint64_t> messages_invalid{0};  // quarantined as not a notification
  std::atomic<uint64_t> messages_test{0};     // s3:TestEvent
  std::atomic<uint64_t> messages_ignored{0};  // understood, nothing to collect
  std::atomic<uint64_t> messages_retried{0};  // left for redelivery
  std::atomic<uint64_t> polls_empty{0};
  std::atomic<uint64_t> files_ingested{0};
  std::atomic<uint64_t> files_skipped{0};  // already in the ledger
  std::atomic<uint64_t> files_failed{0};   // attempts that failed (left for retry)
  std::atomic<uint64_t> files_quarantined{0};
  std::atomic<uint64_t> files_digest{0};
  std::atomic<uint64_t> integrity_passes{0};
  std::atomic<uint64_t> integrity_alerts{0};         // new integrity alerts (digests, log files)
  std::atomic<uint64_t> integrity_files_matched{0};  // at the last pass
  std::atomic<uint64_t> trail_change_alerts{0};      // StopLogging, DeleteTrail, UpdateTrail
  std::atomic<uint64_t> files_removed{0};            // remove_files_when_done
  std::atomic<uint64_t> events_read{0};
  std::atomic<uint64_t> events_stored{0};
  std::atomic<uint64_t> events_duplicate{0};
  std::atomic<uint64_t> events_excluded{0};  // dropped by exclude_describe_events/blacklist
  std::atomic<uint64_t> events_routed{0};    // excluded but stored in excluded_events_index
  std::atomic<uint64_t> bytes_downloaded{0};
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> alerts_stored{0};  // new Sigma alerts of streaming detection
  std::atomic<int64_t> newest_event_ms{0};
  std::atomic<int64_t> in_flight{0};
  std::atomic<int64_t> first_receive_ms{0};  // first message received (0: none yet)
  std::atomic<int64_t> last_delete_ms{0};    // last message deleted

  void CountError(const std::string& kind);
  void NoteEventTime(int64_t ms);
  // Delivery-to-searchable latency of one message, in milliseconds.
  void ObserveLatency(double ms);
  // Latency quantile from the histogram (q in (0,1)), in ms; upper bucket bound.
  double LatencyQuantileMs(double q) const;
  std::vector<double> LatencySamplesMs() const;  // raw samples kept for benchmarks (last 100k)

  std::string RenderPrometheus(int64_t now_ms) const;
  std::string StatusLine(int64_t now_ms) const;

 private:
  friend std::string RenderPrometheusSets(const std::vector<MetricsSet>& sets, int64_t now_ms);
  void Render(int64_t now_ms, const std::string& input, Exposition* out) const;
  mutable std::mutex mu_;
  std::map<std::string, uint64_t> errors_;
  std::vector<double> bounds_;     // seconds
  std::vector<uint64_t> buckets_;  // cumulative at render
  double latency_sum_s_ = 0;
  uint64_t latency_count_ = 0;
  std::vector<double> samples_;
  size_t sample_next_ = 0;
};

// One collector's metrics in an exposition of several: its samples carry the label
// input="<input>" (none when empty).
struct MetricsSet {
  std::string input;
  const Metrics* metrics = nullptr;  // null: left out
};

// Several collectors' metrics in one Prometheus text exposition: each family once (one HELP and
// TYPE), with every set's samples under it, in the order given. `cairn serve` renders its
// configured collector's (unlabelled) and each managed input's (labelled) this way.
std::string RenderPrometheusSets(const std::vector<MetricsSet>& sets, int64_t now_ms);

// A minimal HTTP/1.0 server on `listen` ("127.0.0.1:9464", port 0 = any) answering every GET
// with the metrics. One thread; for scraping only.
class MetricsServer {
 public:
  // `metrics` may be null; `extra`, when set, renders more metrics appended to the collector's
  // (`cairn serve` adds its server's and searches' this way).
  static Result<std::unique_ptr<MetricsServer>> Start(const std::string& listen,
                                                      const Metrics* metrics,
                                                      std::function<std::string()> extra = nullptr);
  ~MetricsServer();
  int port() const { return port_; }
  // The address it listens on, as bound: "HOST:PORT" ("0.0.0.0:9464" for every interface).
  const std::string& address() const { return address_; }

 private:
  MetricsServer() = default;
  void Loop();
  const Metrics* metrics_ = nullptr;
  std::function<std::string()> extra_;
  int fd_ = -1;
  int port_ = 0;
  std::string address_;
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace cairn::collect
