// `cairn alerts list|test NAME|run [--once]|history [NAME]|report cis`: saved searches in Splunk's
// savedsearches.conf form, run on their cron schedules as alerts (src/alerts, docs/alerts.md).
//
// Saved searches come from every --savedsearches FILE, else from the configuration key
// alerts.savedsearches (a path), else from <data>/savedsearches.conf when it exists; --cis adds the
// built-in CIS AWS Foundations monitoring controls. Macros: <data>/macros.conf, then --macros.

#include <fmt/format.h>

#include <atomic>
#include <chrono>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <memory>

#include "alerts/cis.h"
#include "alerts/conf.h"
#include "alerts/scheduler.h"
#include "cli/alerts_setup.h"
#include "cli/cli.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/time_util.h"
#include "detect/alert.h"
#include "query/engine.h"
#include "query/store_source.h"
#include "query/time_format.h"
#include "store/store.h"

namespace cairn::cli {
namespace {

struct AlertsArgs {
  std::vector<std::string> files;
  std::string macros;
  bool cis = false;
  std::string name;
  bool once = false;
  std::string now;    // run/test: as if it were this time
  std::string since;  // run: searches without state run every window after this
  long long max_catchup_runs = 100;
  double max_catchup_hours = 24;
  int64_t action_timeout_ms = 10'000;
  std::string earliest = "-24h";
  std::string latest;
  std::string format = "text";
  long long limit = 100;
};

std::atomic<alerts::Scheduler*> g_running{nullptr};

void OnSignal(int) {
  if (alerts::Scheduler* s = g_running.load()) s->Stop();
}

int Fail(const Status& st) {
  std::fprintf(stderr, "cairn alerts: %s\n", st.message().c_str());
  return st.code() == StatusCode::kInvalidArgument || st.code() == StatusCode::kNotFound
             ? kExitUsage
             : kExitFailed;
}

double NowSeconds() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Result<double> ResolveTime(const std::string& text, double now, const char* flag) {
  auto t = query::ResolveTimeModifier(text, now);
  if (!t.ok()) return InvalidArgument("{}: {}", flag, t.status().message());
  return *t;
}

Result<std::vector<alerts::SavedSearch>> LoadSearches(const Config& config,
                                                      const std::string& data_dir,
                                                      const std::vector<std::string>& given,
                                                      bool cis_flag) {
  FileSystem* fs = FileSystem::Default();
  std::vector<std::string> files = given;
  auto cis_config = config.GetBool("alerts.cis", false);
  if (!cis_config.ok()) return cis_config.status();
  if (files.empty()) {
    if (auto p = config.GetString("alerts.savedsearches")) {
      files.push_back(*p);
    } else if (std::string d = JoinPath(data_dir, "savedsearches.conf"); fs->Exists(d)) {
      files.push_back(d);
    }
  }
  std::vector<alerts::SavedSearch> out;
  for (const auto& f : files) {
    auto text = ReadFileToString(fs, f, 16u << 20);
    if (!text.ok()) return text.status();
    auto parsed = alerts::ParseSavedSearches(*text, f);
    if (!parsed.ok()) return parsed.status();
    for (auto& s : *parsed) out.push_back(std::move(s));
  }
  if (cis_flag || *cis_config) {
    auto cis = alerts::CisSavedSearches();
    if (!cis.ok()) return cis.status();
    for (auto& s : *cis) out.push_back(std::move(s));
  }
  if (out.empty()) {
    return NotFound(
        "no saved searches: give --savedsearches FILE, set alerts.savedsearches, put "
        "savedsearches.conf in the data folder, or add the built-in CIS controls with --cis "
        "(or alerts.cis = true)");
  }
  return out;
}

Result<std::vector<alerts::SavedSearch>> LoadSearches(const Globals& g, const AlertsArgs& a) {
  return LoadSearches(g.config, g.data_dir, a.files, a.cis);
}

Result<query::MacroSet> LoadMacros(const std::string& data_dir, const std::string& extra) {
  FileSystem* fs = FileSystem::Default();
  ASSIGN_OR_RETURN(query::MacroSet macros, query::MacroSet::ForDataDir(fs, data_dir));
  if (!extra.empty()) RETURN_IF_ERROR(macros.LoadFile(fs, extra));
  return macros;
}

Result<query::MacroSet> LoadMacros(const Globals& g, const AlertsArgs& a) {
  return LoadMacros(g.data_dir, a.macros);
}

alerts::SchedulerOptions BaseOptions(const Config& config, const std::string& data_dir,
                                     store::Store* store, query::MacroSet macros) {
  alerts::SchedulerOptions o;
  o.data_dir = data_dir;
  o.store = store;
  o.macros = std::move(macros);
  o.lookups_dir = JoinPath(data_dir, "lookups");
  o.results_link_base = config.GetString("alerts.results_link_base", "");
  return o;
}

alerts::SchedulerOptions BaseOptions(const Globals& g, const AlertsArgs& a, store::Store* store,
                                     query::MacroSet macros) {
  alerts::SchedulerOptions o = BaseOptions(g.config, g.data_dir, store, std::move(macros));
  o.max_catchup_runs = static_cast<size_t>(a.max_catchup_runs);
  o.max_catchup_ms = static_cast<int64_t>(a.max_catchup_hours * 3'600'000);
  o.actions.timeout_ms = a.action_timeout_ms;
  return o;
}

std::string Actions(const alerts::SavedSearch& s) {
  std::string out;
  auto add = [&](bool on, const char* name) {
    if (!on) return;
    if (!out.empty()) out += ",";
    out += name;
  };
  add(s.webhook.enabled, "webhook");
  add(s.slack.enabled, "slack");
  add(s.jsonl.enabled, "jsonl");
  add(s.syslog.enabled, "syslog");
  return out.empty() ? "-" : out;
}

int RunList(const Globals& g, const AlertsArgs& a) {
  auto searches = LoadSearches(g, a);
  if (!searches.ok()) return Fail(searches.status());
  // The state file is read without opening the store.
  std::map<std::string, alerts::SearchState> state;
  std::string path = JoinPath(JoinPath(g.data_dir, "alerts"), "state.json");
  if (FileSystem::Default()->Exists(path)) {
    auto text = ReadFileToString(FileSystem::Default(), path, 64u << 20);
    if (text.ok()) {
      auto st = alerts::StateFromJson(*text);
      if (st.ok()) state = std::move(st).value();
    }
  }
  auto macros = LoadMacros(g, a);
  if (!macros.ok()) return Fail(macros.status());
  query::Engine check(nullptr, *macros, query::EngineOptions());
  const int64_t now_ms = static_cast<int64_t>(NowSeconds() * 1000);
  int broken = 0;
  std::printf("%-48s %-14s %-8s %-20s %-20s %-8s %s\n", "name", "schedule", "enabled", "last run",
              "next run", "level", "actions");
  for (const auto& s : *searches) {
    std::string next = "-";
    if (s.Scheduled()) {
      auto cron = alerts::CronSchedule::Parse(s.cron_schedule);
      if (!cron.ok()) return Fail(InvalidArgument("{}: {}", s.origin, cron.status().message()));
      int64_t t = cron->Next(now_ms);
      if (t >= 0) next = FormatIso8601(t);
    }
    auto it = state.find(s.name);
    std::string last = it != state.end() && it->second.last_run_ms >= 0
                           ? FormatIso8601(it->second.last_run_ms)
                           : "-";
    // A search the engine cannot run is never scheduled (alerts run says so once).
    const char* enabled = s.Scheduled() ? "yes" : "no";
    if (auto plan = check.Prepare(s.search); !plan.ok()) {
      enabled = "INVALID";
      ++broken;
      std::fprintf(stderr, "cairn alerts: [%s] (%s) cannot run: %s\n", s.name.c_str(),
                   s.origin.c_str(), plan.status().message().substr(0, 300).c_str());
    }
    std::printf("%-48s %-14s %-8s %-20s %-20s %-8s %s\n", s.name.substr(0, 48).c_str(),
                s.cron_schedule.empty() ? "-" : s.cron_schedule.c_str(), enabled, last.c_str(),
                next.c_str(), s.Level().c_str(), Actions(s).c_str());
  }
  return broken > 0 ? kExitFailed : kExitOk;
}

int RunTest(const Globals& g, const AlertsArgs& a) {
  auto searches = LoadSearches(g, a);
  if (!searches.ok()) return Fail(searches.status());
  auto macros = LoadMacros(g, a);
  if (!macros.ok()) return Fail(macros.status());
  const alerts::SavedSearch* found = nullptr;
  for (const auto& s : *searches) {
    if (s.name == a.name) found = &s;
  }
  if (found == nullptr) return Fail(NotFound("no saved search named [{}]", a.name));
  double now = NowSeconds();
  if (!a.now.empty()) {
    auto t = ResolveTime(a.now, now, "--now");
    if (!t.ok()) return Fail(t.status());
    now = *t;
  }
  auto st = store::Store::Open(ReaderStoreOptions(g));
  if (!st.ok()) return Fail(st.status());
  alerts::SchedulerOptions o = BaseOptions(g, a, st->get(), std::move(macros).value());
  alerts::Scheduler sched(*searches, o);
  if (Status s = sched.Init(); !s.ok()) return Fail(s);
  // The most recent scheduled time (or now, for an unscheduled search).
  int64_t at = static_cast<int64_t>(now * 1000);
  if (found->Scheduled()) {
    auto cron = alerts::CronSchedule::Parse(found->cron_schedule);
    if (cron.ok()) {
      size_t skipped = 0;
      auto times = cron->Between(at - 367LL * 86'400'000, at, 1, &skipped);
      if (!times.empty()) at = times.back();
    }
  }
  auto r = sched.RunWindow(*found, at, /*dry_run=*/true);
  if (!r.ok()) return Fail(r.status());
  std::printf("saved search [%s] (%s)\n  scheduled time %s, window [%s, %s)\n", found->name.c_str(),
              found->origin.c_str(), FormatIso8601(at).c_str(),
              FormatIso8601(r->earliest_ms).c_str(), FormatIso8601(r->latest_ms).c_str());
  if (!r->status.ok()) {
    std::printf("  search failed: %s\n", r->status.message().c_str());
    return kExitFailed;
  }
  std::printf("  %s: %llu; condition: %s %s %g -> %s\n",
              std::string(alerts::CountTypeName(found->counttype)).c_str(),
              static_cast<unsigned long long>(r->result_count),
              std::string(alerts::CountTypeName(found->counttype)).c_str(),
              std::string(alerts::RelationName(found->relation)).c_str(), found->quantity,
              r->triggered ? "TRIGGERED" : "not triggered");
  std::printf("  alerts it would raise: %zu (dry run: nothing stored, no action run)\n",
              r->triggered_alerts.size());
  for (const auto& t : r->triggered_alerts) {
    std::printf("  webhook payload: %s\n", alerts::WebhookPayload(t).c_str());
    break;
  }
  (void)st->release();
  return kExitOk;
}

int RunRun(const Globals& g, const AlertsArgs& a) {
  auto searches = LoadSearches(g, a);
  if (!searches.ok()) return Fail(searches.status());
  auto macros = LoadMacros(g, a);
  if (!macros.ok()) return Fail(macros.status());
  std::unique_ptr<ManualClock> fixed;
  const double wall = NowSeconds();
  if (!a.now.empty()) {
    if (!a.once) return Fail(InvalidArgument("--now needs --once"));
    auto t = ResolveTime(a.now, wall, "--now");
    if (!t.ok()) return Fail(t.status());
    fixed = std::make_unique<ManualClock>(static_cast<int64_t>(*t * 1e6));
  }
  auto st = store::Store::Open(WriterStoreOptions(g));
  if (!st.ok()) return Fail(st.status());
  alerts::SchedulerOptions o = BaseOptions(g, a, st->get(), std::move(macros).value());
  if (fixed) o.clock = fixed.get();
  if (!a.since.empty()) {
    double base = fixed ? static_cast<double>(fixed->NowMicros()) / 1e6 : wall;
    auto t = ResolveTime(a.since, base, "--since");
    if (!t.ok()) return Fail(t.status());
    o.first_run_since_ms = static_cast<int64_t>(*t * 1000);
  }
  alerts::Scheduler sched(std::move(searches).value(), std::move(o));
  if (Status s = sched.Init(); !s.ok()) return Fail(s);
  int code = kExitOk;
  if (a.once) {
    auto r = sched.RunDue();
    if (!r.ok()) return Fail(r.status());
    size_t triggered = 0, fresh = 0, failed_searches = 0, failed_actions = 0;
    for (const auto& x : *r) {
      triggered += x.triggered;
      fresh += x.new_alerts;
      failed_searches += !x.status.ok();
      failed_actions += static_cast<size_t>(x.actions_failed);
      if (x.new_alerts > 0) {
        std::printf("%s  %s  %llu result(s), %zu new alert(s)\n",
                    FormatIso8601(x.scheduled_ms).c_str(), x.search_name.c_str(),
                    static_cast<unsigned long long>(x.result_count), x.new_alerts);
      }
    }
    std::fprintf(stderr,
                 "cairn alerts: %zu run(s), %zu triggered, %zu new alert(s), %zu search "
                 "failure(s), %zu action failure(s), %zu search(es) that cannot run\n",
                 r->size(), triggered, fresh, failed_searches, failed_actions,
                 sched.invalid().size());
    if (failed_searches > 0 || !sched.invalid().empty()) code = kExitFailed;
  } else {
    g_running.store(&sched);
    std::signal(SIGTERM, OnSignal);
    std::signal(SIGINT, OnSignal);
    log::Info("alerts scheduler running {} saved search(es) until SIGTERM",
              sched.searches().size());
    Status s = sched.Loop();
    g_running.store(nullptr);
    if (!s.ok()) return Fail(s);
  }
  if (Status s = (*st)->Close(); !s.ok()) return Fail(s);
  return code;
}

int RunHistory(const Globals& g, const AlertsArgs& a) {
  double now = NowSeconds();
  query::EngineOptions opts;
  opts.now = now;
  auto e = ResolveTime(a.earliest, now, "--earliest");
  if (!e.ok()) return Fail(e.status());
  opts.earliest = *e;
  auto st = store::Store::Open(ReaderStoreOptions(g));
  if (!st.ok()) return Fail(st.status());
  query::StoreSourceOptions so;
  so.indexes = {std::string(detect::kAlertsIndex)};
  query::StoreEventSource source(st->get(), so);
  query::Engine engine(&source, query::MacroSet(), opts);
  std::string spl = "index=alerts alert_type=saved_search";
  if (!a.name.empty()) {
    std::string q;
    for (char c : a.name) {
      if (c == '"' || c == '\\') q.push_back('\\');
      q.push_back(c);
    }
    spl += " rule_id=\"" + q + "\"";
  }
  spl += fmt::format(
      " | head {} | table _time rule_id level result_count window_earliest "
      "window_latest eventName",
      a.limit);
  auto r = engine.Run(spl);
  if (!r.ok()) return Fail(r.status());
  std::printf("%-24s %-40s %-13s %7s  %-24s %-24s %s\n", "_time", "search", "level", "results",
              "window from", "window to", "first eventName");
  for (const auto& row : r->rows) {
    auto cell = [&](size_t i) { return i < row.size() && !row[i].empty() ? row[i][0] : "-"; };
    std::string t = cell(0);
    if (auto n = query::ParseNumber(t)) t = FormatIso8601(static_cast<int64_t>(*n * 1000), true);
    std::printf("%-24s %-40s %-13s %7s  %-24s %-24s %s\n", t.c_str(), cell(1).substr(0, 40).c_str(),
                cell(2).c_str(), cell(3).c_str(), cell(4).c_str(), cell(5).c_str(),
                cell(6).c_str());
  }
  std::fprintf(stderr, "cairn alerts: %zu alert(s)\n", r->rows.size());
  (void)st->release();
  return kExitOk;
}

int RunReport(const Globals& g, const AlertsArgs& a) {
  if (a.name != "cis") return Fail(InvalidArgument("unknown report \"{}\" (known: cis)", a.name));
  auto macros = LoadMacros(g, a);
  if (!macros.ok()) return Fail(macros.status());
  double now = NowSeconds();
  auto e = ResolveTime(a.earliest, now, "--earliest");
  if (!e.ok()) return Fail(e.status());
  double latest = std::numeric_limits<double>::infinity();
  if (!a.latest.empty()) {
    auto l = ResolveTime(a.latest, now, "--latest");
    if (!l.ok()) return Fail(l.status());
    latest = *l;
  }
  auto st = store::Store::Open(ReaderStoreOptions(g));
  if (!st.ok()) return Fail(st.status());
  auto r = alerts::RunCisReport(st->get(), *macros, *e, latest, now);
  if (!r.ok()) return Fail(r.status());
  std::string out;
  if (a.format == "json") {
    out = alerts::CisReportJson(*r);
  } else if (a.format == "html") {
    out = alerts::CisReportHtml(
        *r, static_cast<int64_t>(std::llround(*e * 1000)),
        std::isinf(latest) ? -1 : static_cast<int64_t>(std::llround(latest * 1000)),
        static_cast<int64_t>(std::llround(now * 1000)));
  } else {
    out = alerts::CisReportText(*r);
  }
  std::fwrite(out.data(), 1, out.size(), stdout);
  (void)st->release();
  for (const auto& c : *r) {
    if (!c.status.ok()) return kExitFailed;
  }
  return kExitOk;
}

void DataFlags(CLI::App* cmd, Globals* g) {
  cmd->add_option("--data", g->data_dir, "Data folder (default ./cairn-data; CAIRN_DATA)");
  cmd->add_option("--config", g->config_path,
                  "TOML configuration file (default ./cairn.toml; [alerts] savedsearches = PATH)");
}

void CommonFlags(CLI::App* cmd, Globals* g, AlertsArgs* a) {
  DataFlags(cmd, g);
  cmd->add_option("--savedsearches", a->files,
                  "A savedsearches.conf file (repeatable; default: alerts.savedsearches, else "
                  "<data>/savedsearches.conf)");
  cmd->add_flag("--cis", a->cis, "Add the built-in CIS AWS Foundations monitoring controls");
  cmd->add_option("--macros", a->macros, "A macros.conf file (after <data>/macros.conf)");
}

}  // namespace

Result<std::unique_ptr<alerts::Scheduler>> MakeAlertsScheduler(const Config& config,
                                                               const std::string& data_dir,
                                                               const AlertsSetupArgs& args,
                                                               store::Store* store) {
  auto searches = LoadSearches(config, data_dir, args.files, args.cis);
  if (!searches.ok()) return searches.status();
  auto macros = LoadMacros(data_dir, args.macros);
  if (!macros.ok()) return macros.status();
  auto sched = std::make_unique<alerts::Scheduler>(
      std::move(searches).value(), BaseOptions(config, data_dir, store, std::move(macros).value()));
  RETURN_IF_ERROR(sched->Init());
  return sched;
}

void RegisterAlerts(CLI::App* app, Globals* g) {
  auto args = std::make_shared<AlertsArgs>();
  CLI::App* cmd = app->add_subcommand(
      "alerts", "Saved searches (savedsearches.conf) run on schedules as alerts");
  cmd->require_subcommand(1);

  CLI::App* list = cmd->add_subcommand("list", "List the saved searches, their schedules and runs");
  CommonFlags(list, g, args.get());
  list->callback([g, args] { g->run = [g, args] { return RunList(*g, *args); }; });

  CLI::App* test = cmd->add_subcommand(
      "test",
      "Run one saved search over its latest window and say whether it would trigger "
      "(stores nothing, runs no action)");
  test->add_option("name", args->name, "The saved search (stanza name)")->required();
  CommonFlags(test, g, args.get());
  test->add_option("--now", args->now, "As if it were this time (Splunk time syntax)");
  test->callback([g, args] { g->run = [g, args] { return RunTest(*g, *args); }; });

  CLI::App* run = cmd->add_subcommand(
      "run",
      "Run what is due (each scheduled window once), then loop until SIGTERM (or exit "
      "with --once)");
  CommonFlags(run, g, args.get());
  AddNoWaitFlag(run, g);
  run->add_flag("--once", args->once, "Run what is due, then exit (for cron)");
  run->add_option("--now", args->now, "With --once: as if it were this time");
  run->add_option("--since", args->since,
                  "Searches never run before run every scheduled window after this time "
                  "(default: only their latest)");
  run->add_option("--max-catchup-runs", args->max_catchup_runs,
                  "Missed windows run per search after downtime (default 100; older ones are "
                  "skipped with a warning)")
      ->check(CLI::Range(1LL, 1000000LL));
  run->add_option("--max-catchup-hours", args->max_catchup_hours,
                  "Missed windows older than this are skipped with a warning (default 24)");
  run->add_option("--action-timeout-ms", args->action_timeout_ms,
                  "Per action (HTTP, syslog TCP) time limit (default 10000)");
  run->callback([g, args] { g->run = [g, args] { return RunRun(*g, *args); }; });

  CLI::App* history = cmd->add_subcommand("history", "The alerts saved searches raised");
  history->add_option("name", args->name, "Only this saved search");
  DataFlags(history, g);
  history->add_option("--earliest", args->earliest, "Since (default -24h)");
  history->add_option("--limit", args->limit, "At most N alerts, newest first (default 100)");
  history->callback([g, args] { g->run = [g, args] { return RunHistory(*g, *args); }; });

  // `cairn alerts report cis` and its alias `cairn report cis`, with the same flags.
  auto add_report = [g, args](CLI::App* parent, const char* name) {
    CLI::App* report = parent->add_subcommand(
        name, "A report over stored events: `cis` (CIS AWS Foundations monitoring 4.1-4.15)");
    report->add_option("name", args->name, "The report: cis")->required();
    DataFlags(report, g);
    report->add_option("--earliest", args->earliest, "Earliest time (default -24h)");
    report->add_option("--latest", args->latest, "Latest time, exclusive (default: no bound)");
    report
        ->add_option("--format", args->format,
                     "text (default), json, or html (one self-contained page with a chart per "
                     "control)")
        ->check(CLI::IsMember({"text", "json", "html"}));
    report->add_option("--macros", args->macros, "A macros.conf file (after <data>/macros.conf)");
    report->callback([g, args] { g->run = [g, args] { return RunReport(*g, *args); }; });
  };
  add_report(cmd, "report");
  add_report(app, "report");
}

}  // namespace cairn::cli
