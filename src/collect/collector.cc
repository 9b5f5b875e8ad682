#include "collect/collector.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <vector>

#include "aws/config.h"
#include "aws/s3.h"
#include "aws/sqs.h"
#include "collect/ingest.h"
#include "collect/integrity.h"
#include "collect/ledger.h"
#include "collect/notification.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/thread_pool.h"
#include "detect/alert.h"
#include "store/store.h"
#include "verify/public_keys.h"

namespace cairn::collect {
namespace {

int64_t NowMs() { return Clock::System()->NowMicros() / 1000; }

}  // namespace

Result<std::shared_ptr<aws::AwsClient>> MakeInputClient(const InputConfig& input,
                                                        const Config& global) {
  Config c = global;
  if (!input.aws_account.empty())
    c.Set("aws.profile", input.aws_account, input.origin + " aws_account");
  if (!input.role_arn.empty())
    c.Set("aws.role_arn", input.role_arn, input.origin + " aws_iam_role");
  aws::AwsClientSetup setup;
  if (!input.key_id.empty()) {
    setup.override_credentials.access_key_id = input.key_id;
    setup.override_credentials.secret_access_key = input.secret_key;
    setup.override_credentials.provider = "inputs " + input.name;
  }
  setup.override_region = input.sqs_queue_region;
  if (setup.override_region.empty() && input.sqs_queue.rfind("http", 0) == 0) {
    setup.override_region = aws::QueueRegionFromUrl(input.sqs_queue);
  }
  return aws::NewAwsClientFromConfig(c, setup);
}

struct Collector::Impl {
  struct Input {
    InputConfig config;
    std::shared_ptr<aws::AwsClient> client;
    std::unique_ptr<aws::SqsClient> sqs;
    std::unique_ptr<aws::S3Client> s3;
    std::string queue_url;
    std::unique_ptr<ObjectIngester> ingester;
    size_t slot = 0;  // its place in Collector::statuses_
  };
  struct Tracked {
    Input* input;
    std::string receipt_handle;
    int64_t extended_ms;
  };

  Collector* self;
  const CollectSettings& settings;
  std::unique_ptr<store::Store> owned_store;  // when Run opened the store itself
  store::Store* store = nullptr;
  std::unique_ptr<Ledger> ledger;
  std::unique_ptr<GroupCommitter> committer;
  std::unique_ptr<Quarantine> quarantine;
  std::vector<std::unique_ptr<Input>> inputs;
  std::unique_ptr<ThreadPool> message_pool;
  std::unique_ptr<ThreadPool> file_pool;

  std::mutex mu;
  std::condition_variable wake;
  std::map<uint64_t, Tracked> in_flight;
  uint64_t next_id = 0;
  std::atomic<int> consecutive_empty{0};

  Impl(Collector* c, const CollectSettings& s) : self(c), settings(s) {}

  // Changes input `in`'s status under the collector's status lock.
  template <typename F>
  void Note(const Input* in, F&& change) {
    std::lock_guard<std::mutex> lock(self->status_mu_);
    change(self->statuses_[in->slot]);
  }
  void NoteError(const Input* in, std::string what) {
    Note(in, [&](InputStatus& st) {
      st.last_error = std::move(what);
      st.last_error_ms = NowMs();
    });
  }

  bool Stopping() const {
    return self->stopping_.load() ||
           (self->options_.stop != nullptr && self->options_.stop->load());
  }

  // Sleeps up to `ms`, waking early on stop.
  void Pause(int64_t ms) {
    std::unique_lock<std::mutex> lock(mu);
    auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(ms);
    while (!Stopping() && std::chrono::steady_clock::now() < until) {
      wake.wait_until(
          lock, std::min(until, std::chrono::steady_clock::now() + std::chrono::milliseconds(100)));
    }
  }

  uint64_t Track(Input* in, const std::string& handle) {
    std::lock_guard<std::mutex> lock(mu);
    uint64_t id = next_id++;
    in_flight[id] = Tracked{in, handle, NowMs()};
    self->metrics_.in_flight++;
    std::lock_guard<std::mutex> status_lock(self->status_mu_);
    self->in_flight_[in->slot][id] = NowMs();
    return id;
  }
  void Untrack(Input* in, uint64_t id) {
    std::lock_guard<std::mutex> lock(mu);
    in_flight.erase(id);
    self->metrics_.in_flight--;
    std::lock_guard<std::mutex> status_lock(self->status_mu_);
    self->in_flight_[in->slot].erase(id);
  }

  void Heartbeat() {
    const int64_t now = NowMs();
    std::map<Input*, std::vector<std::pair<uint64_t, std::string>>> due;
    {
      std::lock_guard<std::mutex> lock(mu);
      for (auto& [id, t] : in_flight) {
        if (now - t.extended_ms >= settings.heartbeat_ms) {
          due[t.input].emplace_back(id, t.receipt_handle);
          t.extended_ms = now;
        }
      }
    }
    for (auto& [in, list] : due) {
      for (size_t i = 0; i < list.size(); i += 10) {
        std::vector<aws::VisibilityEntry> entries;
        for (size_t j = i; j < std::min(list.size(), i + 10); ++j) {
          entries.push_back(
              {fmt::format("h{}", list[j].first), list[j].second, settings.visibility_timeout_s});
        }
        auto r = in->sqs->ChangeMessageVisibilityBatch(in->queue_url, entries);
        if (!r.ok()) {
          self->metrics_.CountError("sqs_visibility");
          log::Warn("visibility heartbeat for {} messages failed: {}", entries.size(),
                    r.status().ToString());
        } else if (!r->failed.empty()) {
          self->metrics_.CountError("sqs_visibility");
          log::Debug("visibility heartbeat: {} of {} entries failed (first: {})", r->failed.size(),
                     entries.size(), r->failed[0].message);
        }
      }
    }
  }

  void Ticker() {
    int64_t last_status = NowMs();
    int64_t tick = std::max<int64_t>(100, std::min<int64_t>(settings.heartbeat_ms / 2, 1000));
    while (!tickers_stop.load()) {
      {
        std::unique_lock<std::mutex> lock(mu);
        wake.wait_for(lock, std::chrono::milliseconds(tick));
      }
      Heartbeat();
      if (settings.status_interval_ms > 0 && NowMs() - last_status >= settings.status_interval_ms) {
        last_status = NowMs();
        log::Info("{}", self->metrics_.StatusLine(last_status));
      }
    }
  }
  std::atomic<bool> tickers_stop{false};

  // Continuous verification (collect/integrity.h): one pass at start, then every
  // integrity_interval. New findings become alerts (stored once whatever the number of passes
  // that find them), error log lines and metrics.
  std::set<std::string> integrity_logged;  // alert ids already logged by this process
  void IntegrityPass() {
    const std::string cache = JoinPath(JoinPath(self->options_.data_dir, "verify"), "public-keys");
    IntegrityOptions o;
    o.data_dir = self->options_.data_dir;
    o.fs = self->options_.fs;
    o.grace_ms = settings.integrity_grace_ms;
    o.late_ms = settings.integrity_late_ms;
    o.lookback_ms = settings.integrity_lookback_ms;
    if (o.fs->Exists(cache)) {
      auto cached = verify::LoadPublicKeyDir(o.fs, cache);
      if (cached.ok()) {
        o.keys = std::move(cached).value();
      } else {
        log::Warn("integrity: key cache {}: {}", cache, cached.status().ToString());
      }
    }
    aws::AwsClient* client = inputs.empty() ? nullptr : inputs.front()->client.get();
    FileSystem* fs = o.fs;
    if (client != nullptr) {
      o.fetch_public_keys = [client, fs,
                             cache](const std::string& home) -> Result<verify::PublicKeySet> {
        const int64_t now = NowMs();
        ASSIGN_OR_RETURN(verify::PublicKeySet listed,
                         verify::ListPublicKeys(client, home, now - 30 * 24 * 3600'000LL, now));
        if (Status saved = verify::SavePublicKeys(fs, cache, listed); !saved.ok()) {
          log::Warn("integrity: key cache {}: {}", cache, saved.ToString());
        }
        return listed;
      };
    }
    auto report = CheckCollected(o, ledger.get(), NowMs());
    self->metrics_.integrity_passes++;
    if (!report.ok()) {
      log::Warn("integrity: the saved digests could not be checked: {}",
                report.status().ToString());
      return;
    }
    self->metrics_.integrity_files_matched = report->files_matched;
    std::vector<detect::Alert> alerts = IntegrityAlerts(*report);
    auto added = detect::StoreAlerts(store, alerts);
    if (!added.ok()) {
      log::Warn("integrity: alerts could not be stored: {}", added.status().ToString());
      return;
    }
    self->metrics_.integrity_alerts += *added;
    for (size_t i = 0; i < alerts.size(); ++i) {
      if (!integrity_logged.insert(detect::ToEvent(alerts[i]).event_id).second) continue;
      const IntegrityFinding& f = report->findings[i];
      log::Error("integrity: {}: {}: {}", f.check, f.key, f.detail);
    }
    log::Debug("integrity: {} digests, {} files matched, {} pending, {} findings", report->digests,
               report->files_matched, report->files_pending, report->findings.size());
  }
  void IntegrityLoop() {
    while (!tickers_stop.load() && !Stopping()) {
      IntegrityPass();
      std::unique_lock<std::mutex> lock(mu);
      wake.wait_for(lock, std::chrono::milliseconds(settings.integrity_interval_ms),
                    [&] { return tickers_stop.load() || Stopping(); });
    }
  }

  bool DeleteMessage(Input* in, const aws::SqsMessage& m) {
    Status s = in->sqs->DeleteMessage(in->queue_url, m.receipt_handle);
    if (!s.ok()) {
      self->metrics_.CountError("sqs_delete");
      NoteError(in, "delete message: " + s.ToString());
      log::Warn("delete message {} from {}: {} (it will come back and be skipped by the ledger)",
                m.message_id, in->queue_url, s.ToString());
      return false;
    }
    self->metrics_.messages_deleted++;
    self->metrics_.last_delete_ms = NowMs();
    Note(in, [](InputStatus& st) { st.messages_done++; });
    return true;
  }

  void ProcessMessage(Input* in, const aws::SqsMessage& m) {
    Metrics& metrics = self->metrics_;
    Notification n = ParseNotification(m.body);
    if (!n.invalid.empty()) {
      Status kept = quarantine->KeepMessage(in->queue_url, m.message_id, m.receive_count(), m.body,
                                            n.invalid);
      if (!kept.ok()) {
        metrics.CountError("quarantine");
        log::Error("cannot keep invalid message {} in quarantine ({}); leaving it on the queue",
                   m.message_id, kept.ToString());
        return;
      }
      log::Warn("message {} on {}: {} (kept in {}/messages)", m.message_id, in->queue_url,
                n.invalid[0], quarantine->dir());
      NoteError(in, fmt::format("message {}: {} (kept in quarantine)", m.message_id, n.invalid[0]));
      if (n.objects.empty()) {
        metrics.messages_invalid++;
        DeleteMessage(in, m);
        return;
      }
    }
    if (n.objects.empty()) {
      if (n.test_event) {
        metrics.messages_test++;
      } else {
        metrics.messages_ignored++;
        log::Debug("message {}: nothing to collect ({})", m.message_id,
                   n.ignored.empty() ? "" : n.ignored[0]);
      }
      DeleteMessage(in, m);
      return;
    }
    // Fetch every object in parallel on the file pool; wait for all.
    struct Shared {
      std::mutex mu;
      std::condition_variable done;
      size_t left = 0;
      std::vector<IngestResult> results;
    };
    auto shared = std::make_shared<Shared>();
    auto run_all = [&](const std::vector<size_t>& which) {
      shared->left = which.size();
      for (size_t i : which) {
        file_pool->Submit([this, in, shared, i, ref = n.objects[i]] {
          IngestResult r = in->ingester->Ingest(ref);
          std::lock_guard<std::mutex> lock(shared->mu);
          shared->results[i] = std::move(r);
          if (--shared->left == 0) shared->done.notify_all();
        });
      }
      std::unique_lock<std::mutex> lock(shared->mu);
      shared->done.wait(lock, [&] { return shared->left == 0; });
    };
    shared->results.assign(n.objects.size(), IngestResult{});
    std::vector<size_t> all(n.objects.size());
    for (size_t i = 0; i < all.size(); ++i) all[i] = i;
    run_all(all);
    // A failure of this machine (store, ledger, local folders) says nothing about the objects:
    // retry here with backoff; if it persists, stop the collector, leaving the message (never
    // quarantine the objects, never delete it).
    for (int retry = 0; retry < settings.local_retries && !Stopping(); ++retry) {
      std::vector<size_t> local;
      for (size_t i = 0; i < n.objects.size(); ++i) {
        if (shared->results[i].local) local.push_back(i);
      }
      if (local.empty()) break;
      metrics.CountError("local");
      log::Warn("message {}: {} of {} objects failed on this machine (retry {} of {}): {}",
                m.message_id, local.size(), n.objects.size(), retry + 1, settings.local_retries,
                shared->results[local[0]].status.ToString());
      Pause(settings.local_retry_ms << retry);
      if (Stopping()) break;
      run_all(local);
    }
    std::vector<std::pair<const ObjectRef*, const IngestResult*>> failures;
    const std::pair<const ObjectRef*, const IngestResult*>* local_failure = nullptr;
    for (size_t i = 0; i < n.objects.size(); ++i) {
      if (!shared->results[i].ok()) failures.emplace_back(&n.objects[i], &shared->results[i]);
    }
    for (const auto& f : failures) {
      if (f.second->local && local_failure == nullptr) local_failure = &f;
    }
    {
      uint64_t files = 0, events = 0;
      int64_t newest = 0;
      for (const IngestResult& r : shared->results) {
        if (!r.ok() || r.file.outcome != FileOutcome::kIngested) continue;
        ++files;
        events += r.file.events;
        newest = std::max(newest, r.file.newest_event_ms);
      }
      Note(in, [&](InputStatus& st) {
        st.files_ingested += files;
        st.events_collected += events;
        st.newest_event_ms = std::max(st.newest_event_ms, newest);
      });
    }
    if (!failures.empty()) {
      NoteError(in, fmt::format("s3://{}/{}: {}", failures[0].first->bucket, failures[0].first->key,
                                failures[0].second->status.ToString()));
    }
    if (failures.empty()) {
      if (in->config.remove_files_when_done) {
        for (size_t i = 0; i < n.objects.size(); ++i) {
          if (shared->results[i].file.outcome == FileOutcome::kSkipped) continue;
          Status s = in->s3->DeleteObject(n.objects[i].bucket, n.objects[i].key);
          if (s.ok()) {
            metrics.files_removed++;
          } else {
            metrics.CountError("s3_delete");
            log::Warn("remove_files_when_done: {}", s.ToString());
          }
        }
      }
      if (DeleteMessage(in, m)) {
        auto sent = m.attributes.find("SentTimestamp");
        if (sent != m.attributes.end()) {
          try {
            metrics.ObserveLatency(static_cast<double>(NowMs() - std::stoll(sent->second)));
          } catch (...) {
          }
        }
      }
      return;
    }
    for (const auto& f : failures) {
      metrics.files_failed++;
      if (!f.second->local) {
        metrics.CountError(f.second->permanent() ? "file_unreadable" : "file_transient");
      }
    }
    const int attempts = m.receive_count();
    if (local_failure != nullptr) {
      Stop(local_failure->second->status.WithContext(
          fmt::format("s3://{}/{}: this machine failed to store it", local_failure->first->bucket,
                      local_failure->first->key)));
    } else if (std::all_of(failures.begin(), failures.end(),
                           [](const auto& f) { return f.second->permanent(); }) &&
               attempts >= settings.max_attempts) {
      for (const auto& [ref, result] : failures) {
        std::string copy;
        const std::string* content = nullptr;
        auto got = in->s3->GetObjectToString(ref->bucket, ref->key, 64u << 20);
        if (got.ok()) {
          copy = std::move(*got);
          content = &copy;
        }
        Status kept = quarantine->KeepFile(*ref, result->status.ToString(), attempts, content);
        if (!kept.ok()) {
          metrics.CountError("quarantine");
          log::Error("cannot quarantine s3://{}/{} ({}); leaving the message", ref->bucket,
                     ref->key, kept.ToString());
          return;
        }
        metrics.files_quarantined++;
        log::Error("quarantined s3://{}/{} after {} attempts: {}", ref->bucket, ref->key, attempts,
                   result->status.ToString());
      }
      DeleteMessage(in, m);
      return;
    }
    metrics.messages_retried++;
    log::Warn("message {}: {} of {} objects failed (attempt {}), left for redelivery: {}",
              m.message_id, failures.size(), n.objects.size(), attempts,
              failures[0].second->status.ToString());
    // Come back soon: a short visibility grows with the attempts.
    int backoff = std::min(settings.visibility_timeout_s, 1 << std::min(attempts, 8));
    if (!in->sqs->ChangeMessageVisibility(in->queue_url, m.receipt_handle, backoff).ok()) {
      metrics.CountError("sqs_visibility");
    }
  }

  // Stops the collector because of `why` (the first reason is kept and returned by Run).
  void Stop(const Status& why) {
    {
      std::lock_guard<std::mutex> lock(fatal_mu);
      if (fatal.ok()) {
        fatal = why;
        log::Error("collect: stopping: {}; the message stays on the queue, nothing was quarantined",
                   why.ToString());
      }
    }
    self->RequestStop();
    wake.notify_all();
  }
  std::mutex fatal_mu;
  Status fatal;  // under fatal_mu

  void Receive(Input* in, int until_idle) {
    aws::ReceiveOptions ro;
    ro.max_messages = in->config.sqs_batch_size;
    ro.wait_seconds = settings.wait_seconds;
    ro.visibility_timeout = settings.visibility_timeout_s;
    while (!Stopping()) {
      auto got = in->sqs->ReceiveMessage(in->queue_url, ro);
      if (!got.ok()) {
        self->metrics_.CountError("sqs_receive");
        log::Warn("receive from {}: {}", in->queue_url, got.status().ToString());
        NoteError(in, "receive: " + got.status().ToString());
        Note(in, [](InputStatus& st) { st.state = "retrying"; });
        Pause(std::max<int64_t>(in->config.interval_ms, 1000));
        continue;
      }
      Note(in, [&](InputStatus& st) {
        st.state = "polling";
        st.polls++;
        st.last_poll_ms = NowMs();
        st.messages_received += got->size();
      });
      if (got->empty()) {
        self->metrics_.polls_empty++;
        if (until_idle > 0 && self->metrics_.in_flight.load() == 0) {
          if (consecutive_empty.fetch_add(1) + 1 >= until_idle) {
            log::Info("collect: {} consecutive empty polls; stopping", until_idle);
            self->RequestStop();
            break;
          }
        }
        Pause(in->config.interval_ms);
        continue;
      }
      consecutive_empty = 0;
      int64_t zero = 0;
      self->metrics_.first_receive_ms.compare_exchange_strong(zero, NowMs());
      for (auto& m : *got) {
        self->metrics_.messages_received++;
        uint64_t id = Track(in, m.receipt_handle);
        message_pool->Submit([this, in, id, m = std::move(m)] {
          ProcessMessage(in, m);
          Untrack(in, id);
        });
      }
    }
  }
};

Collector::Collector(CollectorOptions options) : options_(std::move(options)) {
  for (const InputConfig& ic : options_.config.inputs) {
    InputStatus st;
    st.name = ic.name;
    st.queue = ic.sqs_queue;
    st.region = ic.sqs_queue_region;
    st.index = ic.index;
    if (ic.disabled) st.state = "disabled";
    statuses_.push_back(std::move(st));
  }
  in_flight_.resize(statuses_.size());
}
Collector::~Collector() = default;

void Collector::RequestStop() { stopping_ = true; }

std::vector<InputStatus> Collector::InputStatuses() const {
  std::lock_guard<std::mutex> lock(status_mu_);
  std::vector<InputStatus> out = statuses_;
  for (size_t i = 0; i < out.size(); ++i) {
    out[i].oldest_in_flight_ms = 0;
    for (const auto& [id, since] : in_flight_[i]) {
      if (out[i].oldest_in_flight_ms == 0 || since < out[i].oldest_in_flight_ms)
        out[i].oldest_in_flight_ms = since;
    }
    if (out[i].state == "polling" && stopping_.load()) out[i].state = "stopping";
  }
  return out;
}

Result<CollectorSummary> Collector::Run() {
  auto result = RunInputs();
  std::lock_guard<std::mutex> lock(status_mu_);
  for (InputStatus& st : statuses_) {
    if (st.state == "disabled") continue;
    if (!result.ok() && st.last_error.empty()) {
      st.last_error = result.status().ToString();
      st.last_error_ms = Clock::System()->NowMicros() / 1000;
    }
    st.state = result.ok() ? "stopped" : "failed";
  }
  return result;
}

Result<CollectorSummary> Collector::RunInputs() {
  const CollectSettings& settings = options_.config.settings;
  Impl impl(this, settings);
  // The store first: its lock on the data folder covers the ledger and quarantine too.
  store::StoreOptions so;
  so.data_dir = options_.data_dir;
  so.fs = options_.fs;
  so.wait_for_lock = options_.wait_for_lock;
  if (options_.store != nullptr) {
    impl.store = options_.store;
  } else {
    ASSIGN_OR_RETURN(impl.owned_store, store::Store::Open(so));
    impl.store = impl.owned_store.get();
  }
  ASSIGN_OR_RETURN(impl.ledger,
                   Ledger::Open(options_.fs, JoinPath(options_.data_dir, "ledger.log")));
  impl.committer = std::make_unique<GroupCommitter>(impl.store, &metrics_);
  impl.committer->SetRules(options_.rules);
  if (Status w = impl.committer->WarmCorrelations(); !w.ok()) {
    // Collection goes on; a correlation split by the restart may be missed (a hunt finds it).
    log::Warn("collect: reading the stored hits of open correlation windows: {}", w.ToString());
  }
  impl.quarantine =
      std::make_unique<Quarantine>(options_.fs, JoinPath(options_.data_dir, "quarantine"));
  IngestContext ctx;
  ctx.data_dir = options_.data_dir;
  ctx.fs = options_.fs;
  ctx.store = impl.store;
  ctx.committer = impl.committer.get();
  ctx.ledger = impl.ledger.get();
  ctx.metrics = &metrics_;
  ctx.max_file_bytes = settings.max_file_bytes;
  ctx.commit_batch_bytes = settings.commit_batch_bytes;
  ctx.hash_logs = settings.hash_logs;
  if (!settings.hash_logs) {
    log::Warn(
        "collect.hash_logs = false (a benchmark setting): log files are not hashed, so continuous "
        "verification of the digests is off");
  }

  Config empty;
  const Config& global = options_.global != nullptr ? *options_.global : empty;
  for (size_t slot = 0; slot < options_.config.inputs.size(); ++slot) {
    const InputConfig& ic = options_.config.inputs[slot];
    if (ic.disabled) {
      log::Info("input {} ({}) is disabled", ic.name, ic.origin);
      continue;
    }
    auto in = std::make_unique<Impl::Input>();
    in->config = ic;
    in->slot = slot;
    if (options_.make_client) {
      ASSIGN_OR_RETURN(in->client, options_.make_client(ic));
    } else {
      ASSIGN_OR_RETURN(in->client, MakeInputClient(ic, global));
    }
    in->sqs = std::make_unique<aws::SqsClient>(in->client.get());
    in->s3 = std::make_unique<aws::S3Client>(in->client.get());
    if (ic.sqs_queue.rfind("https://", 0) == 0 || ic.sqs_queue.rfind("http://", 0) == 0) {
      in->queue_url = ic.sqs_queue;
    } else {
      auto url = in->sqs->GetQueueUrl(ic.sqs_queue, ic.sqs_queue_region);
      if (!url.ok()) {
        impl.NoteError(in.get(), "queue lookup: " + url.status().ToString());
        return url.status().WithContext(fmt::format("input {} ({})", ic.name, ic.origin));
      }
      in->queue_url = *url;
    }
    impl.Note(in.get(), [&](InputStatus& st) { st.queue = in->queue_url; });
    in->ingester = std::make_unique<ObjectIngester>(ctx, ic, in->s3.get());
    log::Info("input {}: queue {}, index {}, sourcetype {}{}{}", ic.name, in->queue_url, ic.index,
              ic.sourcetype,
              ic.exclude_describe_events ? ", excluding " + ic.ExclusionPattern() : "",
              ic.remove_files_when_done ? ", removing files when done" : "");
    impl.inputs.push_back(std::move(in));
  }
  if (impl.inputs.empty()) return InvalidArgument("no enabled input to collect from");

  std::unique_ptr<MetricsServer> server;
  if (!settings.metrics_listen.empty()) {
    ASSIGN_OR_RETURN(server, MetricsServer::Start(settings.metrics_listen, &metrics_));
    metrics_port_ = server->port();
    log::Info("metrics on http://{}/metrics{}", server->address(),
              server->address().rfind("0.0.0.0:", 0) == 0 ? " (every interface)" : "");
  }

  const int workers = settings.workers;
  impl.file_pool = std::make_unique<ThreadPool>(workers, workers * 4);
  impl.message_pool = std::make_unique<ThreadPool>(workers * 2, workers * 2);
  std::thread ticker([&] { impl.Ticker(); });
  std::thread integrity;
  if (settings.integrity_interval_ms > 0 && settings.hash_logs) {
    integrity = std::thread([&] { impl.IntegrityLoop(); });
  }
  std::vector<std::thread> receivers;
  for (auto& in : impl.inputs) {
    for (int i = 0; i < settings.receivers; ++i) {
      receivers.emplace_back([&impl, p = in.get(), this] { impl.Receive(p, options_.until_idle); });
    }
  }
  std::thread side;
  if (options_.side_task) {
    side = std::thread([&] {
      while (!impl.tickers_stop.load()) {
        options_.side_task(impl.store, impl.tickers_stop);
        std::unique_lock<std::mutex> lock(impl.mu);
        impl.wake.wait_for(lock, std::chrono::milliseconds(options_.side_task_interval_ms),
                           [&] { return impl.tickers_stop.load(); });
      }
    });
  }
  for (auto& t : receivers) t.join();
  if (side.joinable()) {
    impl.tickers_stop = true;
    impl.wake.notify_all();
    side.join();
  }
  log::Info("collect: draining {} messages in progress", metrics_.in_flight.load());
  impl.message_pool->Wait();
  impl.file_pool->Wait();
  impl.tickers_stop = true;
  impl.wake.notify_all();
  ticker.join();
  if (integrity.joinable()) {
    integrity.join();
    impl.IntegrityPass();  // over everything collected up to the stop
  }
  impl.message_pool.reset();
  impl.file_pool.reset();
  server.reset();
  // The correlations' windows still open are final at the stop (a hunt covers what follows).
  if (Status f = impl.committer->FlushCorrelations(); !f.ok()) {
    log::Error("collect: storing correlation alerts at the stop: {}", f.ToString());
  }
  log::Info("{}", metrics_.StatusLine(NowMs()));
  if (impl.owned_store != nullptr) RETURN_IF_ERROR(impl.owned_store->Close());
  {
    std::lock_guard<std::mutex> lock(impl.fatal_mu);
    if (!impl.fatal.ok()) return impl.fatal.WithContext("collect stopped");
  }
  CollectorSummary sum;
  sum.messages = metrics_.messages_received.load();
  sum.files = metrics_.files_ingested.load();
  sum.events_stored = metrics_.events_stored.load();
  sum.quarantined = metrics_.files_quarantined.load() + metrics_.messages_invalid.load();
  return sum;
}

}  // namespace cairn::collect
