// cairn detect --rules DIR [--data DIR] [--index NAME] [--earliest T] [--latest T] [--dry-run]
//              [--format text|json] [--threads N] [--explain]
//
// A retro-hunt: runs Sigma rules over stored events and stores their alerts in the alerts index
// (the same alerts streaming detection raises; storing one twice keeps one).

#include <fmt/format.h>

#include <chrono>
#include <cmath>
#include <cstdio>
#include <map>
#include <memory>

#include "cli/cli.h"
#include "common/time_util.h"
#include "detect/hunt.h"
#include "detect/rule_set.h"
#include "query/time_format.h"

namespace cairn::cli {
namespace {

struct DetectArgs {
  std::string rules;
  std::string index = "aws-cloudtrail";
  std::string earliest;
  std::string latest;
  std::string format = "text";
  bool dry_run = false;
  bool explain = false;
  int threads = 2;
};

int RunDetect(const DetectArgs& a, Globals* g) {
  std::string dir = a.rules.empty() ? g->config.GetString("detect.rules", "") : a.rules;
  if (dir.empty()) {
    std::fprintf(stderr,
                 "cairn detect: no rules: give --rules DIR or [detect] rules in cairn.toml\n");
    return kExitUsage;
  }
  auto loaded = detect::LoadRuleDirectory(dir);
  if (!loaded.ok()) {
    std::fprintf(stderr, "cairn detect: %s\n", loaded.status().message().c_str());
    return kExitUsage;
  }
  for (const auto& r : loaded->refused) std::fprintf(stderr, "refused: %s\n", r.ToString().c_str());
  const size_t refused = loaded->refused.size();
  detect::RuleSet rules(std::move(loaded).value());
  if (a.explain) {
    for (size_t i = 0; i < rules.rules().size(); ++i) {
      const auto& r = rules.rules()[i];
      std::string suppress = "no (an alert per matching event)";
      if (r.suppress.on()) {
        suppress = "one alert per " + detect::PeriodText(r.suppress.period_ms) + " by";
        for (const std::string& f : r.suppress.fields) suppress += " " + f;
      }
      std::printf("%s  %s  [%s]%s\n  index: %s\n  text: %s\n  suppress: %s\n%s\n", r.id.c_str(),
                  r.title.c_str(), r.level.c_str(),
                  rules.loaded().generates[i] ? "" : " (correlation only)",
                  rules.IndexOf(static_cast<int>(i)).c_str(),
                  rules.TextFilterOf(static_cast<int>(i)).c_str(), suppress.c_str(),
                  r.Explain().c_str());
    }
    for (const auto& c : rules.loaded().correlations) {
      std::printf("%s  %s  [%s]  correlation over %zu rules, timespan %lld ms\n\n", c.id.c_str(),
                  c.title.c_str(), c.level.c_str(), c.rules.size(),
                  static_cast<long long>(c.timespan_ms));
    }
    auto st = rules.index_stats();
    std::printf(
        "%zu rules: %zu by eventName, %zu by eventSource, %zu always checked; %zu refused\n",
        rules.rules().size(), st.by_event_name, st.by_event_source, st.always, refused);
    return kExitOk;
  }
  if (rules.empty()) {
    std::fprintf(stderr, "cairn detect: no rule loaded from %s\n", dir.c_str());
    return kExitUsage;
  }

  detect::HuntOptions opts;
  opts.index = a.index;
  opts.threads = std::max(1, a.threads);
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  if (!a.earliest.empty()) {
    auto t = query::ResolveTimeModifier(a.earliest, now);
    if (!t.ok()) {
      std::fprintf(stderr, "cairn detect: --earliest: %s\n", t.status().message().c_str());
      return kExitUsage;
    }
    if (!std::isinf(*t)) opts.earliest_ms = static_cast<int64_t>(std::floor(*t * 1000));
  }
  if (!a.latest.empty()) {
    auto t = query::ResolveTimeModifier(a.latest, now);
    if (!t.ok()) {
      std::fprintf(stderr, "cairn detect: --latest: %s\n", t.status().message().c_str());
      return kExitUsage;
    }
    if (!std::isinf(*t)) opts.latest_ms = static_cast<int64_t>(std::floor(*t * 1000));
  }

  // A dry run only reads (beside a running collector); storing alerts takes the writer's lock.
  auto st = store::Store::Open(a.dry_run ? ReaderStoreOptions(*g) : WriterStoreOptions(*g));
  if (!st.ok()) {
    std::fprintf(stderr, "cairn detect: open store %s: %s\n", g->data_dir.c_str(),
                 st.status().message().c_str());
    return kExitFailed;
  }
  // The summary: one line per rule that fired, by rule id.
  struct PerRule {
    std::string title, level;
    uint64_t alerts = 0;
    int64_t first = INT64_MAX, last = INT64_MIN;
  };
  std::map<std::string, PerRule> per_rule;
  uint64_t stored = 0;
  size_t raised = 0;
  // Alerts are printed, stored and counted as the hunt finds them, so its memory does not grow
  // with the alerts of the range.
  opts.on_alerts = [&](std::vector<detect::Alert> alerts) -> Status {
    if (a.format == "json") {
      for (const auto& alert : alerts)
        std::printf("%s\n", detect::ToEvent(alert).raw.str().c_str());
      std::fflush(stdout);
    }
    for (const auto& alert : alerts) {
      PerRule& p = per_rule[alert.rule_id];
      p.title = alert.title;
      p.level = alert.level;
      p.alerts++;
      p.first = std::min(p.first, alert.time_ms);
      p.last = std::max(p.last, alert.time_ms);
    }
    raised += alerts.size();
    if (a.dry_run) return Status::Ok();
    auto n = detect::StoreAlerts(st->get(), alerts);
    if (!n.ok()) return n.status().WithContext("store alerts");
    stored += *n;
    return Status::Ok();
  };
  opts.release_segments = true;  // read whole once each: their loaded ids are not kept
  auto t0 = std::chrono::steady_clock::now();
  auto hunt = detect::RetroHunt(st->get(), rules, opts);
  if (!hunt.ok()) {
    std::fprintf(stderr, "cairn detect: %s\n", hunt.status().message().c_str());
    return kExitFailed;
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  if (!a.dry_run) {
    if (Status s = (*st)->Close(); !s.ok()) {
      std::fprintf(stderr, "cairn detect: close store: %s\n", s.message().c_str());
      return kExitFailed;
    }
  }

  FILE* out = a.format == "json" ? stderr : stdout;
  std::fprintf(out, "%-38s %-8s %7s  %-20s %-20s %s\n", "rule_id", "level", "alerts", "first",
               "last", "title");
  for (const auto& [id, p] : per_rule) {
    std::fprintf(out, "%-38s %-8s %7llu  %-20s %-20s %s\n", id.c_str(), p.level.c_str(),
                 static_cast<unsigned long long>(p.alerts), FormatIso8601(p.first).c_str(),
                 FormatIso8601(p.last).c_str(), p.title.c_str());
  }
  std::fprintf(out,
               "%llu events scanned in %.2f s; %zu rules (%zu correlations), %zu refused; %zu "
               "alerts from %zu rules; %s\n",
               static_cast<unsigned long long>(hunt->events_scanned), secs, rules.rules().size(),
               rules.loaded().correlations.size(), refused, raised, per_rule.size(),
               a.dry_run ? "dry run: nothing stored"
                         : fmt::format("{} new in index alerts", stored).c_str());
  return kExitOk;
}

}  // namespace

std::string StreamingRulesDir(const std::string& flag, const std::string& toml_path,
                              const Globals& g) {
  if (flag == "none") return "";
  if (!flag.empty()) return flag;
  if (toml_path.ends_with(".toml")) {
    Config own;
    if (own.LoadTomlFile(toml_path).ok()) {
      std::string dir = own.GetString("detect.rules", "");
      if (!dir.empty()) return dir;
    }
  }
  return g.config.GetString("detect.rules", "");
}

void RegisterDetect(CLI::App* app, Globals* g) {
  auto args = std::make_shared<DetectArgs>();
  CLI::App* cmd = app->add_subcommand(
      "detect", "Run Sigma rules over stored events (retro-hunt); alerts go to index alerts");
  cmd->add_option("--rules", args->rules,
                  "Folder (or file) of Sigma rules (default: [detect] rules in cairn.toml)");
  cmd->add_option("--data", g->data_dir, "Data folder (default ./cairn-data; CAIRN_DATA)");
  cmd->add_option("--index", args->index, "Index hunted (default aws-cloudtrail)");
  cmd->add_option("--earliest", args->earliest,
                  "Earliest event time (Splunk syntax: -24h@h, @d, epoch, ISO)");
  cmd->add_option("--latest", args->latest, "Latest event time, exclusive (same syntax)");
  cmd->add_option("--format", args->format,
                  "text: a summary per rule; json: every alert as a JSON line, summary on stderr")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_flag("--dry-run", args->dry_run, "Report matches without storing alerts");
  cmd->add_flag("--explain", args->explain,
                "Print each loaded rule's compiled condition and index entry, then exit");
  cmd->add_option("--threads", args->threads, "Segments hunted in parallel (default 2)");
  AddNoWaitFlag(cmd, g);
  cmd->callback([args, g] { g->run = [args, g] { return RunDetect(*args, g); }; });
}

}  // namespace cairn::cli
