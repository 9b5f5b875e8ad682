// cairn ingest [--data DIR] [--index NAME] [--format text|json] PATH...

#include <fmt/format.h>
#include <unistd.h>

#include <cstdio>
#include <memory>

#include "cli/cli.h"
#include "common/log.h"
#include "detect/hunt.h"
#include "detect/rule_set.h"
#include "ingest/ingest.h"
#include "ingest/store_sink.h"

namespace cairn::cli {
namespace {

struct IngestArgs {
  std::vector<std::string> paths;
  std::string index = "aws-cloudtrail";
  std::string format = "text";
  std::string sink = "store";
  size_t threads = 0;
  std::string max_decompressed = "8GiB";
  bool no_progress = false;
  std::string rules;  // Sigma rules run on every committed batch ("" : [detect] rules, if any)
};

std::string Duration(double seconds) {
  if (seconds < 0 || seconds > 1e7) return "--:--";
  int s = static_cast<int>(seconds + 0.5);
  if (s >= 3600) return fmt::format("{}:{:02}:{:02}", s / 3600, (s / 60) % 60, s % 60);
  return fmt::format("{}:{:02}", s / 60, s % 60);
}

std::string Count(uint64_t n) {
  if (n >= 10'000'000) return fmt::format("{:.1f}M", n / 1e6);
  if (n >= 10'000) return fmt::format("{:.1f}k", n / 1e3);
  return std::to_string(n);
}

// A one-line bar redrawn in place on a terminal; plain lines every 5 s otherwise.
ingest::ProgressFn MakeProgress(bool tty) {
  auto last_line = std::make_shared<double>(-1e9);
  return [tty, last_line](const ingest::Progress& p) {
    double mbps = p.elapsed_seconds > 0 ? p.input_bytes_done / 1e6 / p.elapsed_seconds : 0;
    double frac = p.input_bytes_total > 0
                      ? static_cast<double>(p.input_bytes_done) / p.input_bytes_total
                      : (p.files_total ? static_cast<double>(p.files_done) / p.files_total : 0);
    double eta = frac > 0.001 ? p.elapsed_seconds * (1 - frac) / frac : -1;
    if (tty) {
      constexpr int kWidth = 24;
      int filled = static_cast<int>(frac * kWidth);
      std::string bar(filled, '#');
      bar.resize(kWidth, '.');
      std::fprintf(stderr, "\r[%s] %3.0f%%  files %llu/%llu  events %s  %.1f MB/s  ETA %s   ",
                   bar.c_str(), frac * 100, static_cast<unsigned long long>(p.files_done),
                   static_cast<unsigned long long>(p.files_total), Count(p.events).c_str(), mbps,
                   Duration(eta).c_str());
      if (p.files_done == p.files_total) std::fprintf(stderr, "\n");
      std::fflush(stderr);
    } else if (p.elapsed_seconds - *last_line >= 5.0 || p.files_done == p.files_total) {
      *last_line = p.elapsed_seconds;
      log::Info("ingest progress: files {}/{}, events {}, {:.1f} MB/s, eta {}", p.files_done,
                p.files_total, p.events, mbps, Duration(eta));
    }
  };
}

int RunIngest(const IngestArgs& args, Globals* g) {
  ingest::IngestOptions options;
  options.data_dir = g->data_dir;
  options.index = args.index;
  options.threads = args.threads;
  auto cap = ParseBytes(args.max_decompressed);
  if (!cap) {
    std::fprintf(stderr, "cairn ingest: --max-decompressed \"%s\" is not a size like 8GiB\n",
                 args.max_decompressed.c_str());
    return kExitUsage;
  }
  options.reader.max_decompressed_bytes = *cap;
  // The store first: its lock covers everything this command writes into the data folder (a
  // copy of stdin, quarantine, digests).
  std::unique_ptr<store::Store> store;
  std::unique_ptr<ingest::Sink> sink;
  if (args.sink == "null") {
    sink = std::make_unique<ingest::NullSink>();
  } else {
    auto opened = store::Store::Open(WriterStoreOptions(*g));
    if (!opened.ok()) {
      std::fprintf(stderr, "cairn ingest: open store %s: %s\n", g->data_dir.c_str(),
                   opened.status().message().c_str());
      return kExitFailed;
    }
    store = std::move(opened).value();
    sink = std::make_unique<ingest::StoreSink>(store.get());
  }
  // Streaming detection: the rules see every batch after it is stored.
  std::unique_ptr<detect::RuleSet> rules;
  std::unique_ptr<ingest::Sink> store_sink;
  detect::DetectingSink* detecting = nullptr;
  const std::string rules_dir = StreamingRulesDir(args.rules, "", *g);
  if (!rules_dir.empty()) {
    if (!store) {
      std::fprintf(stderr, "cairn ingest: --rules needs --sink store\n");
      return kExitUsage;
    }
    auto loaded = detect::LoadRuleSet(rules_dir);
    if (!loaded.ok()) {
      std::fprintf(stderr, "cairn ingest: %s\n", loaded.status().message().c_str());
      return kExitUsage;
    }
    rules = std::move(loaded).value();
    store_sink = std::move(sink);
    // Files are read day by day, each account and region in turn: correlations wait for that.
    auto d = std::make_unique<detect::DetectingSink>(store_sink.get(), rules.get(), store.get(),
                                                     ingest::kReadOrderLatenessMs);
    detecting = d.get();
    sink = std::move(d);
  }
  auto files = ingest::ExpandPaths(options.fs, args.paths, g->data_dir);
  if (!files.ok()) {
    std::fprintf(stderr, "cairn ingest: %s\n", files.status().message().c_str());
    return kExitUsage;
  }
  ingest::ProgressFn progress;
  if (!args.no_progress) progress = MakeProgress(::isatty(2) == 1);
  auto summary = ingest::IngestFiles(*files, options, sink.get(), progress);
  if (!summary.ok()) {
    std::fprintf(stderr, "cairn ingest: %s\n", summary.status().message().c_str());
    return kExitFailed;
  }
  if (detecting) {
    // The correlations' windows still open at the end of the input are final now.
    auto flushed = detecting->Flush();
    if (!flushed.ok()) {
      std::fprintf(stderr, "cairn ingest: storing correlation alerts: %s\n",
                   flushed.status().message().c_str());
      return kExitFailed;
    }
    const auto& ds = detecting->stats();
    log::Info("sigma: {} events checked, {} matches, {} new alerts in index alerts",
              ds.events.load(), ds.matches.load(), ds.alerts_stored.load());
  }
  if (store) {
    Status s = store->Close();
    if (!s.ok()) {
      std::fprintf(stderr, "cairn ingest: close store: %s\n", s.message().c_str());
      return kExitFailed;
    }
  }
  if (args.format == "json") {
    std::printf("%s\n", summary->ToJson().c_str());
  } else {
    std::printf("%s", summary->ToText().c_str());
  }
  return summary->rejected.empty() ? kExitOk : kExitFailed;
}

}  // namespace

void RegisterIngest(CLI::App* app, Globals* g) {
  auto args = std::make_shared<IngestArgs>();
  CLI::App* cmd = app->add_subcommand(
      "ingest", "Read CloudTrail files (.json, .json.gz, any shape) into the store");
  cmd->add_option("paths", args->paths, "Files, folders (recursive), globs, or - for stdin")
      ->required();
  cmd->add_option("--data", g->data_dir, "Data folder (default ./cairn-data; CAIRN_DATA)");
  cmd->add_option("--index", args->index, "Index to store into");
  cmd->add_option("--format", args->format, "Summary format")
      ->check(CLI::IsMember({"text", "json"}));
  cmd->add_option("--sink", args->sink, "store, or null to read and drop (benchmarks)")
      ->check(CLI::IsMember({"store", "null"}));
  cmd->add_option("--threads", args->threads, "Reader threads (default: cores)");
  cmd->add_option("--max-decompressed", args->max_decompressed,
                  "Cap on one file's decompressed size (gzip bomb guard)");
  cmd->add_flag("--no-progress", args->no_progress, "No progress output");
  cmd->add_option("--rules", args->rules,
                  "Sigma rules run on every committed batch, alerts into index alerts (default: "
                  "[detect] rules in cairn.toml; none: off)");
  AddNoWaitFlag(cmd, g);
  cmd->callback([args, g] { g->run = [args, g] { return RunIngest(*args, g); }; });
}

}  // namespace cairn::cli
