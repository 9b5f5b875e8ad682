#pragma once
// Runs the managed collector inputs (input_admin.h) inside `cairn serve`, following the managed
// file while the server runs: one collect::Collector per enabled input, on the server's store.
//
// A reconciling thread reads the file every `poll_ms` (and at once after Changed()):
//   - an input new or enabled starts (queue lookup, then its receivers poll);
//   - an input removed, disabled or shadowed by a configured input of the same name is stopped:
//     its receivers stop polling and the messages it holds are finished (committed, recorded in
//     the ledger, deleted from the queue) before its collector returns, as on SIGTERM;
//   - an input whose settings changed is stopped that way, then started with the new ones;
//   - an input whose collector failed (a queue that could not be found, ...) is started again
//     after `retry_ms`.
// Nothing is lost or doubled across these: every collector shares the data folder's ledger (one
// process may open it more than once: docs/format/ledger.md) and the store's deduplication, as
// two `cairn collect` runs would.
//
// Thread safety: every method may be called from any thread. Stop() returns when every managed
// collector has drained; call it before the store closes.

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "collect/collector.h"
#include "collect/input_status.h"

namespace cairn::serve {

struct ManagedCollectorsOptions {
  std::string path;                     // the managed inputs file
  std::vector<std::string> configured;  // names of the configured inputs (they win)
  // What every managed collector starts from: data_dir, settings (config.settings), global, store,
  // rules, make_client, stop. config.inputs is ignored. Each managed collector runs continuous
  // digest verification as the configured one does ([collect] integrity_*); its metrics are
  // served on the server's endpoint (RenderMetrics), not an endpoint of its own.
  collect::CollectorOptions base;
  int64_t poll_ms = 1000;
  int64_t retry_ms = 30'000;
};

class ManagedCollectors {
 public:
  explicit ManagedCollectors(ManagedCollectorsOptions options);
  ~ManagedCollectors();  // Stop()
  void Start();
  // The file changed (an admin's edit in this process): reconcile now.
  void Changed();
  void Stop();
  // Each managed input: running ones as their collector reports them; disabled ones "disabled";
  // those a configured input shadows "shadowed"; those the collector would refuse "invalid" (the
  // reason in last_error). By name.
  std::vector<collect::InputStatus> InputStatuses() const;
  // `sets` (the configured collector's metrics) followed by each managed input's collector's,
  // labelled input="NAME", in one Prometheus exposition (collect::RenderPrometheusSets). An input
  // is there from its start until it is removed, disabled or changed and has drained.
  std::string RenderMetrics(std::vector<collect::MetricsSet> sets, int64_t now_ms) const;

 private:
  struct Running {
    std::string fingerprint;
    std::unique_ptr<collect::Collector> collector;
    std::thread thread;
    std::atomic<bool> done{false};
    std::atomic<bool> failed{false};
    std::atomic<int64_t> ended_ms{0};
  };
  void Loop();
  void Reconcile();
  void StartOne(const std::string& name, const collect::InputConfig& config,
                const std::string& fingerprint);

  ManagedCollectorsOptions options_;
  std::thread loop_;
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool changed_ = false;  // under wake_mu_
  std::atomic<bool> stop_{false};
  mutable std::mutex mu_;
  std::map<std::string, std::unique_ptr<Running>> running_;  // under mu_ (the map)
  std::vector<collect::InputStatus> idle_;                   // under mu_
};

}  // namespace cairn::serve
