// `cairn collect`: the SQS/S3 CloudTrail collector (see docs/collect.md).

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <memory>

#include "aws/config.h"
#include "billing/bucket.h"
#include "cli/cli.h"
#include "cli/collect_setup.h"
#include "collect/collector.h"
#include "collect/conf.h"
#include "common/log.h"
#include "detect/rule_set.h"

extern char** environ;

namespace cairn::cli {
namespace {

std::atomic<bool> g_collect_stop{false};
void OnCollectSignal(int) { g_collect_stop.store(true); }

std::vector<std::string> CollectEnvironment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

std::vector<std::string> CollectKeys() {
  std::vector<std::string> keys = aws::AwsConfigKeys();
  for (const char* k :
       {"collect.receivers", "collect.workers", "collect.wait_seconds", "collect.max_attempts",
        "collect.visibility_timeout", "collect.heartbeat", "collect.status_interval",
        "collect.metrics", "collect.max_file_bytes", "collect.commit_batch_bytes",
        "collect.inputs_conf", "collect.integrity_interval", "collect.integrity_grace",
        "collect.integrity_late", "collect.integrity_lookback", "collect.hash_logs"}) {
    keys.emplace_back(k);
  }
  return keys;
}

}  // namespace

Status LoadCollectSetup(const Globals& g, const CollectFlags& flags, bool required,
                        const std::atomic<bool>* stop, CollectSetup* out) {
  out->config = g.config;
  Config& config = out->config;
  config.LoadEnvironment(CollectEnvironment(), CollectKeys());
  if (flags.workers > 0)
    config.Set("collect.workers", std::to_string(flags.workers), "flag --workers");
  if (!flags.metrics.empty()) config.Set("collect.metrics", flags.metrics, "flag --metrics");
  std::string path = flags.config;
  if (path.empty()) path = g.config_path;
  if (path.empty()) path = config.GetString("collect.inputs_conf", "");
  if (path.empty() && ::access("cairn.toml", R_OK) == 0) path = "cairn.toml";
  collect::CollectorOptions& options = out->options;
  options.data_dir = flags.data.empty() ? g.data_dir : flags.data;
  options.until_idle = flags.until_idle;
  options.wait_for_lock = !g.no_wait;
  options.stop = stop;
  options.global = &out->config;
  out->path = path;
  if (path.empty()) {
    if (required)
      return InvalidArgument("no configuration: give --config cairn.toml or --config inputs.conf");
    // No inputs configured (`cairn serve`, whose managed inputs start from these settings):
    // collect.* from the global configuration and CAIRN_COLLECT_* still apply.
    return collect::SettingsFromConfig(config, &options.config.settings);
  }
  auto loaded = collect::LoadCollectConfig(path, config);
  if (!loaded.ok()) return loaded.status();
  for (const auto& w : loaded->warnings) log::Warn("{}", w);
  options.config = std::move(*loaded);
  // [billing] with a bucket: the billing reports are loaded by this process too (the data
  // folder has one writer), at start and every billing.interval (default 6h).
  // The [billing] keys come from the global configuration, CAIRN_BILLING_*, and the
  // collector's own cairn.toml when that is not the global one.
  auto billing_config = std::make_shared<Config>(config);
  if (path.size() > 5 && path.ends_with(".toml") && path != g.config_path) {
    RETURN_IF_ERROR(billing_config->LoadTomlFile(path));
  }
  billing_config->LoadEnvironment(CollectEnvironment(), billing::BillingConfigKeys());
  if (billing_config->Has("billing.bucket")) {
    auto interval = billing_config->GetDurationMillis("billing.interval", 6 * 3'600'000);
    if (!interval.ok() || *interval < 60'000) {
      return InvalidArgument("billing.interval ({}) must be a duration of 1m or more",
                             billing_config->Origin("billing.interval"));
    }
    options.side_task_interval_ms = *interval;
    const std::string data_dir = options.data_dir;
    options.side_task = [billing_config, data_dir](store::Store* store,
                                                   const std::atomic<bool>& stopping) {
      billing::BucketLoad load;
      load.recent_only = true;
      load.data_dir = data_dir;
      load.stop = &stopping;
      auto r = billing::LoadFromBucket(*billing_config, store, load);
      if (!r.ok()) {
        log::Error("billing: {}", r.status().ToString());
        return;
      }
      for (const auto& a : *r) {
        if (!a.skipped && a.error.empty()) {
          log::Info(
              "billing: {} assembly {} loaded ({} rows, lineItem/UnblendedCost total {:.6f}{})",
              a.group, a.assembly_id, a.rows, a.unblended_total, a.finalised ? ", final" : "");
        }
      }
    };
  }
  // Sigma rules streaming over every committed batch.
  if (std::string dir = StreamingRulesDir(flags.rules, path, g); !dir.empty()) {
    ASSIGN_OR_RETURN(out->rules, detect::LoadRuleSet(dir));
    options.rules = out->rules.get();
  }
  return Status();
}

void RegisterCollect(CLI::App* app, Globals* g) {
  auto flags = std::make_shared<CollectFlags>();
  CLI::App* cmd = app->add_subcommand("collect",
                                      "Collect CloudTrail logs from SQS notifications and S3 "
                                      "(reads cairn.toml or a Splunk inputs.conf)");
  cmd->add_option("--config", flags->config,
                  "cairn.toml with [[collect.input]], or a Splunk inputs.conf");
  cmd->add_option("--data", flags->data, "Data folder (default: the global --data)");
  cmd->add_option("--until-idle", flags->until_idle,
                  "Exit after N consecutive empty polls (0: run until SIGTERM)");
  cmd->add_option("--workers", flags->workers, "Parallel S3 downloads (collect.workers)");
  cmd->add_option("--rules", flags->rules,
                  "Sigma rules run on every committed batch, alerts into index alerts (default: "
                  "[detect] rules in cairn.toml; none: off)");
  cmd->add_option("--metrics", flags->metrics,
                  "Serve Prometheus metrics on HOST:PORT (collect.metrics)");
  AddNoWaitFlag(cmd, g);
  cmd->callback([flags, g]() {
    g->run = [flags, g]() -> int {
      auto setup = std::make_unique<CollectSetup>();
      if (Status s = LoadCollectSetup(*g, *flags, true, &g_collect_stop, setup.get()); !s.ok()) {
        std::fprintf(stderr, "cairn collect: %s\n", s.message().c_str());
        return kExitUsage;
      }
      struct sigaction sa {};
      sa.sa_handler = OnCollectSignal;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGTERM, &sa, nullptr);
      sigaction(SIGINT, &sa, nullptr);
      collect::Collector collector(std::move(setup->options));
      auto result = collector.Run();
      if (!result.ok()) {
        std::fprintf(stderr, "cairn collect: %s\n", result.status().ToString().c_str());
        return result.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
      }
      const collect::Metrics* m = collector.metrics();
      double busy =
          std::max<int64_t>(1, m->last_delete_ms.load() - m->first_receive_ms.load()) / 1000.0;
      std::printf(
          "%s\n",
          fmt::format(
              "collected {} messages, {} files, {} events stored, {} quarantined; busy {:.2f} s: "
              "{:.1f} files/s, {:.0f} events/s; delivery-to-searchable p50 {:.0f} ms p99 {:.0f} ms",
              result->messages, result->files, result->events_stored, result->quarantined, busy,
              m->files_ingested.load() / busy, m->events_read.load() / busy,
              m->LatencyQuantileMs(0.5), m->LatencyQuantileMs(0.99))
              .c_str());
      return kExitOk;
    };
  });
}

}  // namespace cairn::cli
