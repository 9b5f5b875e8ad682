#include "serve/input_runner.h"

#include <algorithm>
#include <chrono>

#include "common/clock.h"
#include "common/log.h"
#include "serve/input_admin.h"

namespace cairn::serve {
namespace {

int64_t NowMs() { return Clock::System()->NowMicros() / 1000; }

std::string Fingerprint(const ManagedInput& in) {
  std::vector<std::pair<std::string, std::string>> keys = in.keys;
  std::sort(keys.begin(), keys.end());
  std::string out;
  for (const auto& [k, v] : keys) out += k + "=" + v + "\n";
  return out;
}

collect::InputStatus IdleStatus(const collect::InputConfig& c, std::string state, std::string why) {
  collect::InputStatus st;
  st.name = c.name;
  st.queue = c.sqs_queue;
  st.region = c.sqs_queue_region;
  st.index = c.index;
  st.state = std::move(state);
  st.last_error = std::move(why);
  return st;
}

}  // namespace

ManagedCollectors::ManagedCollectors(ManagedCollectorsOptions options)
    : options_(std::move(options)) {}

ManagedCollectors::~ManagedCollectors() { Stop(); }

void ManagedCollectors::Start() {
  loop_ = std::thread([this] { Loop(); });
}

void ManagedCollectors::Changed() {
  std::lock_guard<std::mutex> lock(wake_mu_);
  changed_ = true;
  wake_.notify_all();
}

void ManagedCollectors::Loop() {
  while (!stop_.load()) {
    Reconcile();
    std::unique_lock<std::mutex> lock(wake_mu_);
    wake_.wait_for(lock, std::chrono::milliseconds(options_.poll_ms),
                   [&] { return changed_ || stop_.load(); });
    changed_ = false;
  }
}

void ManagedCollectors::StartOne(const std::string& name, const collect::InputConfig& config,
                                 const std::string& fingerprint) {
  collect::CollectorOptions o;
  o.data_dir = options_.base.data_dir;
  o.config.settings = options_.base.config.settings;
  o.config.settings.metrics_listen.clear();  // RenderMetrics serves them with the server's
  o.config.inputs = {config};
  o.stop = options_.base.stop;
  o.make_client = options_.base.make_client;
  o.global = options_.base.global;
  o.fs = options_.base.fs;
  o.rules = options_.base.rules;
  o.store = options_.base.store;
  auto r = std::make_unique<Running>();
  r->fingerprint = fingerprint;
  r->collector = std::make_unique<collect::Collector>(std::move(o));
  Running* p = r.get();
  r->thread = std::thread([p, name] {
    auto result = p->collector->Run();
    if (!result.ok()) {
      log::Error("serve: managed input {}: collection stopped: {}", name,
                 result.status().ToString());
      p->failed = true;
    }
    p->ended_ms = NowMs();
    p->done = true;
  });
  log::Info("serve: managed input {} started (queue {}, index {})", name, config.sqs_queue,
            config.index);
  std::lock_guard<std::mutex> lock(mu_);
  running_[name] = std::move(r);
}

void ManagedCollectors::Reconcile() {
  std::map<std::string, std::pair<collect::InputConfig, std::string>> want;
  std::vector<collect::InputStatus> idle;
  auto loaded = LoadManagedInputs(options_.path);
  if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) {
    // A file this process cannot read changes nothing (the inputs running go on).
    log::Warn("serve: managed inputs: {}", loaded.status().ToString());
    return;
  }
  if (loaded.ok()) {
    for (const ManagedInput& m : *loaded) {
      auto config = ManagedInputConfig(m, options_.path);
      if (!config.ok()) {
        collect::InputConfig c;
        c.name = m.name;
        if (const std::string* q = m.Get("sqs_queue_url")) c.sqs_queue = *q;
        idle.push_back(IdleStatus(c, "invalid", config.status().message()));
        continue;
      }
      if (std::find(options_.configured.begin(), options_.configured.end(), m.name) !=
          options_.configured.end()) {
        idle.push_back(
            IdleStatus(*config, "shadowed", "a configured input of the same name runs instead"));
        continue;
      }
      if (config->disabled) {
        idle.push_back(IdleStatus(*config, "disabled", ""));
        continue;
      }
      want[m.name] = {std::move(*config), Fingerprint(m)};
    }
  }
  // What to stop: gone, disabled, shadowed or changed; and failed ones due a retry.
  std::vector<std::string> to_stop;
  {
    std::lock_guard<std::mutex> lock(mu_);
    idle_ = std::move(idle);
    for (const auto& [name, r] : running_) {
      auto it = want.find(name);
      const bool retry =
          r->done.load() && r->failed.load() && NowMs() - r->ended_ms.load() >= options_.retry_ms;
      if (it == want.end() || it->second.second != r->fingerprint || retry) {
        to_stop.push_back(name);
      }
    }
  }
  // Stop them all at once, then wait for each to drain (messages in progress finish).
  for (const auto& name : to_stop) {
    std::lock_guard<std::mutex> lock(mu_);
    running_[name]->collector->RequestStop();
  }
  for (const auto& name : to_stop) {
    std::unique_ptr<Running> r;
    Running* p = nullptr;
    {
      std::lock_guard<std::mutex> lock(mu_);
      p = running_[name].get();
    }
    if (p->thread.joinable()) p->thread.join();
    {
      std::lock_guard<std::mutex> lock(mu_);
      r = std::move(running_[name]);
      running_.erase(name);
    }
    log::Info("serve: managed input {} stopped", name);
  }
  if (stop_.load()) return;
  for (const auto& [name, w] : want) {
    bool have = false;
    {
      std::lock_guard<std::mutex> lock(mu_);
      have = running_.count(name) > 0;
    }
    if (!have) StartOne(name, w.first, w.second);
  }
}

void ManagedCollectors::Stop() {
  if (stop_.exchange(true)) {
    if (loop_.joinable()) loop_.join();
    return;
  }
  Changed();
  if (loop_.joinable()) loop_.join();
  std::vector<Running*> all;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (auto& [name, r] : running_) {
      r->collector->RequestStop();
      all.push_back(r.get());
    }
  }
  for (Running* r : all) {
    if (r->thread.joinable()) r->thread.join();
  }
}

std::vector<collect::InputStatus> ManagedCollectors::InputStatuses() const {
  std::vector<collect::InputStatus> out;
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, r] : running_) {
    for (auto& st : r->collector->InputStatuses()) out.push_back(std::move(st));
  }
  for (const auto& st : idle_) out.push_back(st);
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.name < b.name; });
  return out;
}

std::string ManagedCollectors::RenderMetrics(std::vector<collect::MetricsSet> sets,
                                             int64_t now_ms) const {
  // Under mu_: a collector leaves running_ (and is destroyed) only under it.
  std::lock_guard<std::mutex> lock(mu_);
  for (const auto& [name, r] : running_) sets.push_back({name, r->collector->metrics()});
  return collect::RenderPrometheusSets(sets, now_ms);
}

}  // namespace cairn::serve
