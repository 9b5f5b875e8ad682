// `cairn backfill`: ingest CloudTrail logs by listing S3 (see docs/collect.md).

#include <fmt/format.h>

#include <csignal>
#include <cstdio>
#include <memory>
#include <sstream>

#include "aws/config.h"
#include "aws/s3.h"
#include "cli/cli.h"
#include "collect/backfill.h"
#include "collect/collector.h"
#include "collect/conf.h"
#include "common/log.h"
#include "common/time_util.h"
#include "detect/rule_set.h"

extern char** environ;

namespace cairn::cli {
namespace {

std::atomic<bool> g_backfill_stop{false};
void OnBackfillSignal(int) { g_backfill_stop.store(true); }

std::vector<std::string> SplitList(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, ',')) {
    if (!item.empty()) out.push_back(item);
  }
  return out;
}

}  // namespace

void RegisterBackfill(CLI::App* app, Globals* g) {
  struct Flags {
    std::string url, from, to, accounts, regions, config, data, index = "aws-cloudtrail";
    std::string rules;
    int workers = 8;
    bool no_progress = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app->add_subcommand("backfill",
                                      "Ingest CloudTrail logs already in S3 "
                                      "(AWSLogs/.../CloudTrail/<region>/YYYY/MM/DD/), resumable");
  cmd->add_option("url", flags->url, "s3://BUCKET[/PREFIX]")->required();
  cmd->add_option("--from", flags->from, "First day (YYYY-MM-DD, UTC)")->required();
  cmd->add_option("--to", flags->to, "Last day, inclusive (YYYY-MM-DD, UTC)")->required();
  cmd->add_option("--accounts", flags->accounts, "Comma list of account ids (default: discover)");
  cmd->add_option("--regions", flags->regions, "Comma list of regions (default: discover)");
  cmd->add_option("--workers", flags->workers, "Parallel downloads (default 8)");
  cmd->add_option("--index", flags->index,
                  "Index (default aws-cloudtrail, or the first input of --config)");
  cmd->add_option(
      "--config", flags->config,
      "cairn.toml or inputs.conf: index, sourcetype, exclusion, credentials of its first input");
  cmd->add_option("--data", flags->data, "Data folder (default: the global --data)");
  cmd->add_flag("--no-progress", flags->no_progress, "No progress bar");
  cmd->add_option("--rules", flags->rules,
                  "Sigma rules run on every committed batch, alerts into index alerts (default: "
                  "[detect] rules in cairn.toml; none: off)");
  AddNoWaitFlag(cmd, g);
  cmd->callback([flags, g]() {
    g->run = [flags, g]() -> int {
      std::vector<std::string> env;
      for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
      Config config = g->config;
      config.LoadEnvironment(env, aws::AwsConfigKeys());
      collect::BackfillOptions o;
      Status s = collect::ParseS3Url(flags->url, &o.bucket, &o.prefix);
      auto from = ParseIso8601Millis(flags->from);
      auto to = ParseIso8601Millis(flags->to);
      if (!s.ok() || !from || !to) {
        std::fprintf(
            stderr, "cairn backfill: %s\n",
            !s.ok() ? s.message().c_str() : "--from/--to must be dates such as 2023-07-10");
        return kExitUsage;
      }
      o.from_day = *from / 86'400'000;
      o.to_day = *to / 86'400'000;
      o.accounts = SplitList(flags->accounts);
      o.regions = SplitList(flags->regions);
      o.workers = flags->workers;
      o.data_dir = flags->data.empty() ? g->data_dir : flags->data;
      o.progress = !flags->no_progress;
      o.wait_for_lock = !g->no_wait;
      o.stop = &g_backfill_stop;
      o.input.index = flags->index;
      o.input.name = "backfill";
      if (!flags->config.empty()) {
        auto loaded = collect::LoadCollectConfig(flags->config, config);
        if (!loaded.ok()) {
          std::fprintf(stderr, "cairn backfill: %s\n", loaded.status().message().c_str());
          return kExitUsage;
        }
        if (!loaded->inputs.empty()) o.input = loaded->inputs[0];
      }
      std::unique_ptr<detect::RuleSet> rules;
      if (std::string dir = StreamingRulesDir(flags->rules, flags->config, *g); !dir.empty()) {
        auto r = detect::LoadRuleSet(dir);
        if (!r.ok()) {
          std::fprintf(stderr, "cairn backfill: %s\n", r.status().message().c_str());
          return kExitUsage;
        }
        rules = std::move(r).value();
        o.rules = rules.get();
      }
      auto client = collect::MakeInputClient(o.input, config);
      if (!client.ok()) {
        std::fprintf(stderr, "cairn backfill: %s\n", client.status().ToString().c_str());
        return kExitUsage;
      }
      aws::S3Client s3(client->get());
      struct sigaction sa {};
      sa.sa_handler = OnBackfillSignal;
      sigemptyset(&sa.sa_mask);
      sigaction(SIGTERM, &sa, nullptr);
      sigaction(SIGINT, &sa, nullptr);
      collect::Metrics metrics;
      auto sum = collect::RunBackfill(o, &s3, &metrics);
      if (!sum.ok()) {
        std::fprintf(stderr, "cairn backfill: %s\n", sum.status().ToString().c_str());
        return kExitFailed;
      }
      std::printf(
          "%s\n",
          fmt::format("backfill: {} day prefixes ({} done before), {} objects listed, {} ingested, "
                      "{} already in the ledger, {} quarantined; {} events stored, {} duplicates",
                      sum->units, sum->units_resumed, sum->objects_listed, sum->files_ingested,
                      sum->files_skipped, sum->files_failed, sum->events_stored,
                      sum->events_duplicate)
              .c_str());
      return sum->files_failed > 0 ? kExitFailed : kExitOk;
    };
  });
}

}  // namespace cairn::cli
