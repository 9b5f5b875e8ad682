// `cairn search [--index NAME]... [--earliest T] [--latest T] [--format
// table|json|csv|raw]
//               [--limit N] [--explain] [--macros FILE] 'SPL'`: runs one SPL
//               search over the store.
//
// Output: an aligned table when stdout is a terminal, JSON lines otherwise (one
// object per result row; multivalue fields as arrays, null fields left out);
// `--format` overrides. `_time` prints as ISO-8601 UTC with milliseconds.
// Macros come from <data>/macros.conf when present, then
// --macros (later definitions win); lookups from <data>/lookups/. A search that
// names no index searches every index (or the --index set). Errors print the
// search with a caret under the position and exit 2 (bad or unsupported search)
// or 1 (storage). A segment the search's time range includes that cannot be read
// (missing, or failing its checksums) fails the search naming it (exit 1); with --allow-partial
// the search runs without it and warns: a "cairn search: warning: ..." line on stderr and, in
// JSON output, a last line {"_warning": "..."} per segment passed over (docs/query-language.md).

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <regex>
#include <set>
#include <thread>

#include "cli/cli.h"
#include "common/fs.h"
#include "common/json_util.h"
#include "common/time_util.h"
#include "query/engine.h"
#include "query/store_source.h"
#include "query/time_format.h"
#include "store/store.h"

namespace cairn::cli {
namespace {

struct SearchArgs {
  std::string spl;
  std::vector<std::string> indexes;
  std::string earliest;
  std::string latest;
  std::string format;  // "" = table on a terminal, json otherwise
  long long limit = 0;
  bool explain = false;
  std::string macros;
  std::string host = "cairn";
  bool timing = false;
  int repeat = 1;
  bool allow_partial = false;
  long long memory_budget_mb = 1024;
  int threads = 0;
};

// The per-command rows, time and memory of a finished search (--timing), on stderr: one line for
// the scan (the store's counters; its time is what the commands did not take), then one per
// command.
void PrintProfile(const query::SearchProfile& p, const query::StoreScanStats& scan, double run_ms) {
  double commands_ms = 0;
  size_t width = 4;
  for (const auto& c : p.commands) {
    commands_ms += c.seconds * 1000;
    width = std::max(width, std::min<size_t>(c.command.size(), 60));
  }
  auto mb = [](size_t bytes) { return static_cast<double>(bytes) / (1 << 20); };
  std::fprintf(stderr,
               "cairn search: per command (rows in -> rows out, own time, peak memory; commands "
               "run by the scan's workers show their CPU time summed)\n");
  // The scan's time is what the commands did not take, unless workers ran commands beside it.
  const std::string scan_time =
      commands_ms <= run_ms ? fmt::format("{:.2f} ms", run_ms - commands_ms) : "(in workers)";
  std::fprintf(stderr, "  %-*s  %12s -> %-12s %10s\n", static_cast<int>(width), "scan",
               fmt::format("{}", scan.candidates).c_str(),
               fmt::format("{}", scan.aggregated ? 0 : scan.events_read).c_str(),
               scan_time.c_str());
  for (const auto& c : p.commands) {
    std::string text = c.command.size() > 60 ? c.command.substr(0, 57) + "..." : c.command;
    std::fprintf(stderr, "  %-*s  %12llu -> %-12llu %10s  %10s  %s\n", static_cast<int>(width),
                 text.c_str(), static_cast<unsigned long long>(c.rows_in),
                 static_cast<unsigned long long>(c.rows_out),
                 fmt::format("{:.2f} ms", c.seconds * 1000).c_str(),
                 fmt::format("{:.1f} MB", mb(c.peak_bytes)).c_str(), c.kind.c_str());
  }
  std::fprintf(stderr, "  search peak %.1f MB of a %.0f MB budget\n", mb(p.budget_peak_bytes),
               mb(p.budget_bytes));
}

std::string Cell(const std::string& column, const query::Values& v, const std::string& sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i) {
    if (i) out += sep;
    if (column == "_time") {
      if (auto t = query::ParseNumber(v[i])) {
        out += FormatIso8601(static_cast<int64_t>(std::llround(*t * 1000)), true);
        continue;
      }
    }
    out += v[i];
  }
  return out;
}

// Display width of UTF-8 text (code points; good enough for aligned CloudTrail
// values).
size_t Width(const std::string& s) {
  size_t n = 0;
  for (unsigned char c : s) n += (c & 0xC0) != 0x80;
  return n;
}

void PrintTable(const query::ResultTable& t, size_t rows) {
  std::vector<size_t> w(t.columns.size());
  std::vector<std::vector<std::string>> cells;
  for (size_t i = 0; i < t.columns.size(); ++i) w[i] = Width(t.columns[i]);
  for (size_t r = 0; r < rows; ++r) {
    std::vector<std::string> line;
    for (size_t i = 0; i < t.columns.size(); ++i) {
      std::string c = Cell(t.columns[i], t.rows[r][i], "; ");
      for (char& ch : c) {
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
      }
      if (Width(c) > 120 && t.columns[i] == "_raw") c = c.substr(0, 117) + "...";
      w[i] = std::max(w[i], Width(c));
      line.push_back(std::move(c));
    }
    cells.push_back(std::move(line));
  }
  auto print_line = [&](const std::vector<std::string>& line) {
    std::string out;
    for (size_t i = 0; i < line.size(); ++i) {
      out += line[i];
      if (i + 1 < line.size()) out += std::string(w[i] - Width(line[i]) + 2, ' ');
    }
    while (!out.empty() && out.back() == ' ') out.pop_back();
    std::fputs((out + "\n").c_str(), stdout);
  };
  print_line(t.columns);
  std::vector<std::string> rule;
  for (size_t i = 0; i < t.columns.size(); ++i) rule.push_back(std::string(w[i], '-'));
  print_line(rule);
  for (const auto& line : cells) print_line(line);
}

// One JSON object per row (its own columns when the search fixed none), printed as it is read.
void PrintJsonRow(const query::SearchResults& res, size_t r) {
  std::vector<std::string> names;
  std::vector<query::Values> values;
  res.Cells(r, &names, &values);
  std::string out = "{";
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& v = values[i];
    if (v.empty()) continue;
    if (!first) out += ',';
    first = false;
    AppendJsonString(&out, names[i]);
    out += ':';
    if (v.size() == 1) {
      AppendJsonString(&out, Cell(names[i], v, ""));
    } else {
      out += '[';
      for (size_t k = 0; k < v.size(); ++k) {
        if (k) out += ',';
        AppendJsonString(&out, Cell(names[i], {v[k]}, ""));
      }
      out += ']';
    }
  }
  out += "}\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
}

// Loads the stored events of the rows about to be printed ahead of them, a few dozen blocks at a
// time on every core (printing many events is otherwise one thread decompressing block after
// block).
class Prefetcher {
 public:
  Prefetcher(const query::SearchResults& res, int workers) : res_(res), workers_(workers) {}
  void Before(size_t r) {
    if (r >= ready_) ready_ = std::max(r + 1, res_.PrefetchEvents(r, workers_));
  }

 private:
  const query::SearchResults& res_;
  int workers_;
  size_t ready_ = 0;
};

void PrintJson(const query::SearchResults& res, size_t rows, int workers) {
  Prefetcher ahead(res, workers);
  for (size_t r = 0; r < rows; ++r) {
    ahead.Before(r);
    PrintJsonRow(res, r);
  }
}

// Each row's _raw on a line, as Splunk's command line prints events (rows without _raw, such as
// those of stats, print as JSON lines).
void PrintRaw(const query::SearchResults& res, size_t rows, int workers) {
  std::string out;
  Prefetcher ahead(res, workers);
  for (size_t r = 0; r < rows; ++r) {
    ahead.Before(r);
    query::Values raw = res.Field(r, "_raw");
    if (raw.empty()) {
      PrintJsonRow(res, r);
      continue;
    }
    out.assign(raw[0]);
    out += '\n';
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
}

// A header line, then one line per row. When the search fixed no columns, a first pass over the
// rows finds them (every field of any row: _time first, _raw last).
void PrintCsv(const query::SearchResults& res, size_t rows, int workers) {
  std::vector<std::string> columns;
  std::vector<std::string> names;
  std::vector<query::Values> values;
  if (res.columns_known()) {
    columns = res.columns();
  } else {
    std::set<std::string> seen;
    Prefetcher ahead(res, workers);
    for (size_t r = 0; r < rows; ++r) {
      ahead.Before(r);
      res.Cells(r, &names, &values);
      seen.insert(names.begin(), names.end());
    }
    bool has_time = seen.erase("_time") > 0, has_raw = seen.erase("_raw") > 0;
    if (has_time) columns.push_back("_time");
    columns.insert(columns.end(), seen.begin(), seen.end());
    if (has_raw) columns.push_back("_raw");
  }
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? "," : "") + query::CsvCell(columns[i]);
  out += "\n";
  std::fwrite(out.data(), 1, out.size(), stdout);
  Prefetcher ahead(res, workers);
  for (size_t r = 0; r < rows; ++r) {
    ahead.Before(r);
    res.Cells(r, &names, &values);
    out.clear();
    for (size_t i = 0; i < columns.size(); ++i) {
      auto it = std::find(names.begin(), names.end(), columns[i]);
      const query::Values empty;
      const query::Values& v =
          it == names.end() ? empty : values[static_cast<size_t>(it - names.begin())];
      out += (i ? "," : "") + query::CsvCell(Cell(columns[i], v, "\n"));
    }
    out += "\n";
    std::fwrite(out.data(), 1, out.size(), stdout);
  }
}

// Prints the error; when it names an offset, shows the search with a caret
// under it.
int ReportError(const Status& st, const std::string& spl) {
  std::string msg = st.message();
  std::fprintf(stderr, "cairn search: %s\n", msg.c_str());
  std::smatch m;
  static const std::regex kOffset("at offset ([0-9]+)");
  // Offsets count in the search after macro expansion when the message says so.
  std::string shown = spl;
  static const std::regex kExpanded("after macro expansion: (.*)\\)$");
  std::smatch e;
  if (std::regex_search(msg, e, kExpanded)) shown = e[1].str();
  if (std::regex_search(msg, m, kOffset)) {
    size_t off = std::stoul(m[1].str());
    if (off <= shown.size() && shown.find('\n') == std::string::npos) {
      std::fprintf(stderr, "  %s\n  %s^ position %zu\n", shown.c_str(),
                   std::string(off, ' ').c_str(), off);
    }
  }
  switch (st.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kUnsupported:
    case StatusCode::kNotFound: return kExitUsage;
    default: return kExitFailed;
  }
}

int RunSearch(const Globals& g, const SearchArgs& a) {
  using Clock = std::chrono::steady_clock;
  auto t0 = Clock::now();
  FileSystem* fs = FileSystem::Default();
  auto loaded = query::MacroSet::ForDataDir(fs, g.data_dir);
  if (!loaded.ok()) return ReportError(loaded.status(), "");
  query::MacroSet macros = std::move(loaded).value();
  if (!a.macros.empty()) {
    if (Status st = macros.LoadFile(fs, a.macros); !st.ok()) return ReportError(st, "");
  }
  query::EngineOptions opts;
  opts.lookups_dir = JoinPath(g.data_dir, "lookups");
  double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  opts.now = now;
  opts.memory_budget_bytes = static_cast<size_t>(a.memory_budget_mb) << 20;
  opts.threads = a.threads;
  if (!a.earliest.empty()) {
    auto t = query::ResolveTimeModifier(a.earliest, now);
    if (!t.ok()) return ReportError(InvalidArgument("--earliest: {}", t.status().message()), "");
    opts.earliest = *t;
  }
  if (!a.latest.empty()) {
    auto t = query::ResolveTimeModifier(a.latest, now);
    if (!t.ok()) return ReportError(InvalidArgument("--latest: {}", t.status().message()), "");
    opts.latest = *t;
  }
  auto st = store::Store::Open(ReaderStoreOptions(g));
  if (!st.ok()) return ReportError(st.status(), "");
  query::StoreSourceOptions src_opts;
  src_opts.indexes = a.indexes;
  src_opts.host = a.host;
  src_opts.allow_partial = a.allow_partial;
  query::StoreEventSource source(st->get(), src_opts);
  query::Engine engine(&source, std::move(macros), opts);
  auto plan = engine.Prepare(a.spl);
  if (!plan.ok()) return ReportError(plan.status(), a.spl);
  if (a.explain) {
    std::fputs(engine.Explain(*plan).c_str(), stdout);
    if (!a.timing) return kExitOk;
    // --explain --timing: run it too and show what each command did, without the results.
    auto t1 = Clock::now();
    auto result = engine.ExecuteRows(*plan);
    if (!result.ok()) return ReportError(result.status(), a.spl);
    const double ms = std::chrono::duration<double, std::milli>(Clock::now() - t1).count();
    std::fflush(stdout);
    PrintProfile((*result)->profile(), source.last_stats(), ms);
    return kExitOk;
  }
  auto t1 = Clock::now();
  auto result = engine.ExecuteRows(*plan);
  if (!result.ok() && result.status().code() == StatusCode::kCorruption && a.allow_partial) {
    // A segment failed its checksums while being read: find every such segment in the time
    // range, set them aside (they become the snapshot's broken segments, which the source then
    // passes over with a warning) and run the search again.
    const int64_t from_ms = std::isinf(opts.earliest)
                                ? INT64_MIN
                                : static_cast<int64_t>(std::floor(opts.earliest * 1000));
    const int64_t to_ms = std::isinf(opts.latest)
                              ? INT64_MAX
                              : static_cast<int64_t>(std::floor(opts.latest * 1000)) + 1;
    size_t set_aside = 0;
    for (const auto& name : (*st)->ListIndexes()) {
      auto moved = (*st)->SetAsideCorrupt(name, from_ms, to_ms);
      if (moved.ok()) set_aside += moved->size();
    }
    if (set_aside > 0) result = engine.ExecuteRows(*plan);
  }
  if (!result.ok()) return ReportError(result.status(), a.spl);
  auto t2 = Clock::now();
  double best_ms = std::chrono::duration<double, std::milli>(t2 - t1).count();
  for (int i = 1; i < a.repeat; ++i) {  // warm, in-process timings (--timing --repeat N)
    auto s0 = Clock::now();
    auto again = engine.Run(a.spl);
    if (!again.ok()) return ReportError(again.status(), a.spl);
    best_ms =
        std::min(best_ms, std::chrono::duration<double, std::milli>(Clock::now() - s0).count());
  }
  const query::SearchResults& res = **result;
  size_t rows = res.size();
  if (a.limit > 0 && static_cast<size_t>(a.limit) < rows) rows = static_cast<size_t>(a.limit);
  std::string format = a.format;
  if (format.empty()) format = isatty(STDOUT_FILENO) ? "table" : "json";
  const int print_workers =
      a.threads > 0 ? a.threads
                    : std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  if (format == "table") {
    PrintTable(res.ToTable(), rows);
  } else if (format == "csv") {
    PrintCsv(res, rows, print_workers);
  } else if (format == "raw") {
    PrintRaw(res, rows, print_workers);
  } else {
    PrintJson(res, rows, print_workers);
  }
  std::fflush(stdout);
  // An event that could not be read while its row was printed.
  if (Status late = res.status(); !late.ok()) return ReportError(late, a.spl);
  const std::vector<std::string> warnings = source.warnings();
  for (const auto& w : warnings) {
    std::fprintf(stderr, "cairn search: warning: %s\n", w.c_str());
    if (format == "json") {
      std::string line = "{\"_warning\":";
      AppendJsonString(&line, w);
      line += "}\n";
      std::fwrite(line.data(), 1, line.size(), stdout);
    }
  }
  std::fflush(stdout);
  if (a.timing) {
    auto ms = [](auto d) { return std::chrono::duration<double, std::milli>(d).count(); };
    auto stats = source.last_stats();
    std::fprintf(stderr,
                 "cairn search: %zu rows; open+plan %.2f ms, run %.2f ms (best of %d: %.2f ms); "
                 "segments %llu/%llu, "
                 "candidates %llu, events read %llu%s\n",
                 res.size(), ms(t1 - t0), ms(t2 - t1), a.repeat, best_ms,
                 static_cast<unsigned long long>(stats.segments_in_range),
                 static_cast<unsigned long long>(stats.segments_total),
                 static_cast<unsigned long long>(stats.candidates),
                 static_cast<unsigned long long>(stats.events_read),
                 stats.aggregated ? ", aggregated from columns" : "");
    PrintProfile(res.profile(), stats, ms(t2 - t1));
  }
  // The store was only read: let the process exit without freeing its caches one by one (for a
  // search over hundreds of segments that took longer than the search; the system reclaims the
  // memory at once).
  (void)st->release();
  return kExitOk;
}

}  // namespace

void RegisterSearch(CLI::App* app, Globals* g) {
  auto args = std::make_shared<SearchArgs>();
  CLI::App* cmd = app->add_subcommand("search", "Run an SPL search over the stored events");
  cmd->add_option("spl", args->spl, "The search (SPL), e.g. 'eventName=StopLogging | stats count'")
      ->required();
  cmd->add_option("--data", g->data_dir, "Data folder (default ./cairn-data; CAIRN_DATA)");
  cmd->add_option("--index", args->indexes,
                  "Index searched when the search names none (repeatable; "
                  "default: every index)");
  cmd->add_option("--earliest", args->earliest,
                  "Earliest time (Splunk syntax: -24h@h, @d, epoch, ISO)");
  cmd->add_option("--latest", args->latest,
                  "Latest time, exclusive (same syntax; default: no bound)");
  cmd->add_option("--format", args->format,
                  "table (default on a terminal), json (lines; default otherwise), csv, raw "
                  "(each event's _raw on a line)")
      ->check(CLI::IsMember({"table", "json", "csv", "raw"}));
  cmd->add_option("--limit", args->limit, "Print at most N result rows (0: all)");
  cmd->add_flag("--explain", args->explain,
                "Print the plan: what is pushed into the store, each command's class and what it "
                "holds (with --timing: run it and print each command's rows, time and memory)");
  cmd->add_option("--macros", args->macros, "A macros.conf file (after <data>/macros.conf)");
  cmd->add_option("--host", args->host, "The host field of events (default cairn)");
  cmd->add_flag("--timing", args->timing,
                "Print timings, push-down counters and each command's rows in and out, own time "
                "and peak memory to stderr");
  cmd->add_flag("--allow-partial", args->allow_partial,
                "Search without segments that cannot be read, warning on stderr and, in JSON "
                "output, with a last line {\"_warning\": ...} per segment (default: such a "
                "segment in the time range fails the search)");
  cmd->add_option("--memory-budget-mb", args->memory_budget_mb,
                  "What one search may hold in blocking commands, groups and results "
                  "(default 1024); beyond it the search stops with an error naming the command")
      ->check(CLI::Range(1LL, 1LL << 30));
  cmd->add_option("--threads", args->threads,
                  "Threads that scan segments when the search allows it (default: one per core)")
      ->check(CLI::Range(0, 256));
  cmd->add_option("--repeat", args->repeat,
                  "Run the search N times in-process (warm timings with --timing)")
      ->check(CLI::Range(1, 1000000));
  cmd->callback([g, args] { g->run = [g, args] { return RunSearch(*g, *args); }; });
}

}  // namespace cairn::cli
