// `cairn billing load|collect|backfill|status`: AWS Cost and Usage Reports into index aws-billing
// (see docs/billing.md).

#include <fmt/format.h>
#include <simdjson.h>

#include <cstdio>
#include <map>
#include <memory>

#include "aws/config.h"
#include "aws/s3.h"
#include "billing/bucket.h"
#include "billing/loader.h"
#include "cli/cli.h"
#include "common/clock.h"
#include "common/log.h"
#include "common/time_util.h"

extern char** environ;

namespace cairn::cli {
namespace {

struct BillingFlags {
  std::string config;
  std::string dir;       // load: the local folder standing for the bucket
  std::string manifest;  // load: one manifest key (relative to the folder)
  std::string report, prefix, index;
  std::string from, to;  // backfill: YYYY-MM
  bool dbr = false;      // load: Detailed Billing Reports under --prefix instead of a CUR report
};

void PrintResults(const std::vector<billing::AssemblyResult>& results, double secs) {
  uint64_t rows = 0;
  for (const auto& r : results) {
    if (!r.error.empty()) {
      std::printf("%s\n",
                  fmt::format("{} {}: NOT LOADED: {}", r.group, r.manifest_key, r.error).c_str());
      continue;
    }
    rows += r.skipped ? 0 : r.rows;
    if (r.group.starts_with("dbr/")) {
      std::printf(
          "%s\n",
          fmt::format("{} version {}: {}{}", r.group, r.assembly_id,
                      r.skipped ? fmt::format("already loaded ({} rows)", r.rows)
                                : fmt::format("{} charge rows, {} new, {} replaced, {} summary "
                                              "rows left out, UnBlendedCost total {:.6f} "
                                              "(statement total {:.6f})",
                                              r.rows, r.added, r.replaced_events, r.summary_rows,
                                              r.unblended_total, r.statement_total),
                      r.finalised ? ", final (invoiced)" : "")
              .c_str());
      continue;
    }
    std::printf("%s\n",
                fmt::format("{} {} assembly {}: {}{}", r.group, r.period, r.assembly_id,
                            r.skipped ? fmt::format("already loaded ({} rows)", r.rows)
                                      : fmt::format("{} rows from {} files, {} new, {} replaced, "
                                                    "lineItem/UnblendedCost total {:.6f}",
                                                    r.rows, r.files, r.added, r.replaced_events,
                                                    r.unblended_total),
                            r.finalised ? ", final (invoiced)" : "")
                    .c_str());
  }
  std::printf("%s\n", fmt::format("billing: {} periods, {} rows loaded in {:.2f} s ({:.0f} rows/s)",
                                  results.size(), rows, secs, rows / std::max(secs, 1e-9))
                          .c_str());
}

// The [billing] settings: the command's --config file (when given) over the global configuration.
Result<Config> BillingConfig(const Globals& g, const BillingFlags& f) {
  Config c = g.config;
  if (!f.config.empty()) RETURN_IF_ERROR(c.LoadTomlFile(f.config));
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  std::vector<std::string> keys = aws::AwsConfigKeys();
  for (const auto& k : billing::BillingConfigKeys()) keys.push_back(k);
  c.LoadEnvironment(env, keys);
  return c;
}

int Run(Globals* g, const BillingFlags& f, const std::string& mode) {
  auto config = BillingConfig(*g, f);
  if (!config.ok()) {
    std::fprintf(stderr, "cairn billing: %s\n", config.status().message().c_str());
    return kExitUsage;
  }
  const Config& c = *config;
  const std::string index =
      !f.index.empty() ? f.index : c.GetString("billing.index", std::string(billing::kIndex));
  if (!store::Store::ValidIndexName(index)) {
    std::fprintf(stderr, "cairn billing: index \"%s\" is not [a-z0-9_-]{1,100}\n", index.c_str());
    return kExitUsage;
  }
  if (mode == "load" && f.manifest.empty() && f.report.empty() && !f.dbr &&
      !c.Has("billing.report")) {
    std::fprintf(stderr, "cairn billing load: give --report NAME, --manifest KEY or --dbr\n");
    return kExitUsage;
  }
  auto dbr_set = c.GetBool("billing.dbr", false);
  if (!dbr_set.ok()) {
    std::fprintf(stderr, "cairn billing: %s\n", dbr_set.status().message().c_str());
    return kExitUsage;
  }
  if (mode != "load" &&
      (!c.Has("billing.bucket") || (f.report.empty() && !c.Has("billing.report") && !*dbr_set))) {
    std::fprintf(stderr,
                 "cairn billing %s: [billing] bucket and report must be set (cairn.toml or "
                 "CAIRN_BILLING_BUCKET / CAIRN_BILLING_REPORT)\n",
                 mode.c_str());
    return kExitUsage;
  }

  store::StoreOptions so = WriterStoreOptions(*g);
  // A load is one short process: merges would start after the publish only to be cut short by
  // the exit. Its segments (a day's rows per commit) are merged by `cairn index merge` or by the
  // next long-running writer.
  so.background_merge = false;
  auto opened = store::Store::Open(so);
  if (!opened.ok()) {
    std::fprintf(stderr, "cairn billing: %s\n", opened.status().ToString().c_str());
    return kExitFailed;
  }
  auto& store = *opened;
  const int64_t t0 = Clock::System()->NowMicros();
  Result<std::vector<billing::AssemblyResult>> results = std::vector<billing::AssemblyResult>{};
  if (mode == "load") {
    auto source = billing::NewLocalSource(f.dir);
    billing::LoadOptions lo;
    lo.index = index;
    lo.ledger_path = JoinPath(g->data_dir, "billing/ledger.jsonl");
    billing::Loader loader(store.get(), source.get(), lo);
    if (f.dbr) {
      std::string from = f.from, to = f.to;
      std::erase(from, '-');
      std::erase(to, '-');
      results = loader.LoadDbr(!f.prefix.empty() ? f.prefix : c.GetString("billing.dbr_prefix", ""),
                               from.substr(0, std::min<size_t>(6, from.size())),
                               to.substr(0, std::min<size_t>(6, to.size())));
    } else if (!f.manifest.empty()) {
      auto r = loader.LoadManifest(f.manifest);
      if (r.ok()) {
        results->push_back(*r);
      } else {
        results = r.status();
      }
    } else {
      const std::string report = !f.report.empty() ? f.report : c.GetString("billing.report", "");
      const std::string prefix = !f.prefix.empty() ? f.prefix : c.GetString("billing.prefix", "");
      auto all = billing::ListPeriods(source.get(), prefix, report);
      std::vector<std::string> periods;
      if (all.ok()) {
        for (const auto& p : *all) {
          std::string from = f.from, to = f.to;
          std::erase(from, '-');
          std::erase(to, '-');
          const std::string month = billing::PeriodMonth(p);
          if (!from.empty() && month < from.substr(0, 6)) continue;
          if (!to.empty() && month > to.substr(0, 6)) continue;
          periods.push_back(p);
        }
      }
      if (!all.ok()) {
        results = all.status();
      } else if (!periods.empty()) {
        results = loader.LoadReport(prefix, report, periods);
      }
    }
  } else {
    billing::BucketLoad load;
    load.recent_only = mode == "collect";
    load.from = f.from;
    load.to = f.to;
    load.data_dir = g->data_dir;
    load.report = f.report;
    load.prefix = f.prefix;
    load.index = index;
    results = billing::LoadFromBucket(c, store.get(), load);
  }
  const double secs = (Clock::System()->NowMicros() - t0) / 1e6;
  if (!results.ok()) {
    std::fprintf(stderr, "cairn billing %s: %s\n", mode.c_str(),
                 results.status().ToString().c_str());
    const StatusCode code = results.status().code();
    return code == StatusCode::kUnsupported || code == StatusCode::kInvalidArgument ? kExitUsage
                                                                                    : kExitFailed;
  }
  if (results->empty()) std::printf("billing: no report periods to load\n");
  PrintResults(*results, secs);
  bool any_failed = false;
  for (const auto& r : *results) any_failed |= !r.error.empty();
  Status closed = store->Close();
  if (!closed.ok()) {
    std::fprintf(stderr, "cairn billing: %s\n", closed.ToString().c_str());
    return kExitFailed;
  }
  if (any_failed) {
    std::fprintf(stderr, "cairn billing %s: some report objects were not loaded (above)\n",
                 mode.c_str());
    return kExitFailed;
  }
  return kExitOk;
}

int Status_(Globals* g, const BillingFlags& f) {
  auto opened = store::Store::Open(ReaderStoreOptions(*g));
  if (!opened.ok()) {
    std::fprintf(stderr, "cairn billing status: %s\n", opened.status().ToString().c_str());
    return kExitFailed;
  }
  const std::string index = f.index.empty() ? std::string(billing::kIndex) : f.index;
  auto groups = (*opened)->Groups(index);
  // The ledger's last line per group and assembly says whether the period is final.
  std::map<std::string, bool> final_of;  // "<group> <assembly>" -> finalised
  if (auto text = ReadFileToString(FileSystem::Default(),
                                   JoinPath(g->data_dir, "billing/ledger.jsonl"), 256 << 20);
      text.ok()) {
    simdjson::dom::parser parser;
    size_t pos = 0;
    while (pos < text->size()) {
      size_t nl = text->find('\n', pos);
      if (nl == std::string::npos) break;  // a torn last line
      simdjson::dom::element e;
      std::string_view group, assembly;
      bool fin = false;
      if (parser.parse(text->data() + pos, nl - pos).get(e) == simdjson::SUCCESS &&
          e["group"].get(group) == simdjson::SUCCESS &&
          e["assemblyId"].get(assembly) == simdjson::SUCCESS &&
          e["finalised"].get(fin) == simdjson::SUCCESS) {
        final_of[std::string(group) + " " + std::string(assembly)] = fin;
      }
      pos = nl + 1;
    }
  }
  if (groups.empty()) std::printf("no billing periods loaded in %s\n", index.c_str());
  for (const auto& [name, info] : groups) {
    std::printf(
        "%s\n",
        fmt::format("{}: assembly {} live ({} rows{}){}", name,
                    info.live_version.empty() ? "(none)" : info.live_version, info.live_events,
                    final_of[name + " " + info.live_version] ? ", final: invoiced" : "",
                    info.staged_versions.empty()
                        ? ""
                        : fmt::format("; staged, not published: {} ({} rows)",
                                      fmt::join(info.staged_versions, ", "), info.staged_events))
            .c_str());
  }
  return kExitOk;
}

}  // namespace

void RegisterBilling(CLI::App* app, Globals* g) {
  auto flags = std::make_shared<BillingFlags>();
  CLI::App* cmd = app->add_subcommand(
      "billing",
      "AWS Cost and Usage Reports into index aws-billing, the latest assembly of each "
      "billing period only (docs/billing.md)");
  cmd->require_subcommand(1);
  auto common = [&](CLI::App* sub) {
    sub->add_option("--config", flags->config, "TOML file with a [billing] section (and [aws])");
    sub->add_option("--report", flags->report, "Report name (default: billing.report)");
    sub->add_option("--prefix", flags->prefix, "Report path prefix (default: billing.prefix)");
    sub->add_option("--index", flags->index, "Index (default aws-billing)");
    AddNoWaitFlag(sub, g);
  };
  CLI::App* load = cmd->add_subcommand(
      "load",
      "Load reports from a local folder laid out as the report bucket (every period, or "
      "one --manifest)");
  load->add_option("dir", flags->dir, "Folder standing for the bucket")->required();
  load->add_option("--manifest", flags->manifest,
                   "One manifest's key (relative to DIR): load the assembly it names");
  load->add_option("--from", flags->from, "First month (YYYY-MM)");
  load->add_option("--to", flags->to, "Last month (YYYY-MM)");
  load->add_flag("--dbr", flags->dbr,
                 "Load the Detailed Billing Reports (<account>-aws-billing-detailed-line-items"
                 "...-YYYY-MM.csv.zip) directly under --prefix (default: billing.dbr_prefix, or "
                 "the folder's top)");
  common(load);
  load->callback([flags, g]() { g->run = [flags, g]() { return Run(g, *flags, "load"); }; });
  CLI::App* collect = cmd->add_subcommand(
      "collect",
      "Load the current and previous month's latest assemblies from the report bucket "
      "(run it daily; a re-run with nothing new is a no-op)");
  common(collect);
  collect->callback([flags, g]() { g->run = [flags, g]() { return Run(g, *flags, "collect"); }; });
  CLI::App* backfill =
      cmd->add_subcommand("backfill", "Load every period's latest assembly from the report bucket");
  backfill->add_option("--from", flags->from, "First month (YYYY-MM)");
  backfill->add_option("--to", flags->to, "Last month (YYYY-MM)");
  common(backfill);
  backfill->callback(
      [flags, g]() { g->run = [flags, g]() { return Run(g, *flags, "backfill"); }; });
  CLI::App* status = cmd->add_subcommand("status", "The assembly loaded for each billing period");
  status->add_option("--index", flags->index, "Index (default aws-billing)");
  status->callback([flags, g]() { g->run = [flags, g]() { return Status_(g, *flags); }; });
}

}  // namespace cairn::cli
