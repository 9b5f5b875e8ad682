// `cairn index list|info|check|merge|delete|retention`: inspect and manage the store's indexes.

#include <fmt/format.h>

#include <algorithm>
#include <cstdio>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "cli/cli.h"
#include "common/time_util.h"
#include "store/store.h"

namespace cairn::cli {
namespace {

// The store for a subcommand that only reads it (list, info, check, retention show).
Result<std::unique_ptr<store::Store>> OpenForReading(const Globals& g) {
  return store::Store::Open(ReaderStoreOptions(g));
}

// The store for a subcommand that changes it (merge, delete, retention set): the data folder's
// writer lock; merges and retention run in the foreground only.
Result<std::unique_ptr<store::Store>> OpenForWriting(const Globals& g) {
  store::StoreOptions opt = WriterStoreOptions(g);
  opt.background_merge = false;
  opt.retention_interval_ms = 0;
  return store::Store::Open(opt);
}

std::string Bytes(uint64_t n) {
  const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  double v = static_cast<double>(n);
  int u = 0;
  while (v >= 1024 && u < 4) {
    v /= 1024;
    ++u;
  }
  return u == 0 ? fmt::format("{} B", n) : fmt::format("{:.1f} {}", v, units[u]);
}

std::string Time(int64_t ms, bool empty) { return empty ? "-" : FormatIso8601(ms); }

// "90d", "12h", "30m", "45s", "0"/"none" (no limit) -> milliseconds.
std::optional<int64_t> ParseAge(const std::string& s) {
  if (s == "0" || s == "none") return 0;
  if (s.size() < 2) return std::nullopt;
  int64_t unit;
  switch (s.back()) {
    case 'd': unit = 86'400'000; break;
    case 'h': unit = 3'600'000; break;
    case 'm': unit = 60'000; break;
    case 's': unit = 1'000; break;
    default: return std::nullopt;
  }
  try {
    size_t used = 0;
    long long n = std::stoll(s.substr(0, s.size() - 1), &used);
    if (used != s.size() - 1 || n < 0) return std::nullopt;
    return n * unit;
  } catch (...) {
    return std::nullopt;
  }
}

// "500GB", "2T", "1048576", "0"/"none" -> bytes (K/M/G/T are powers of 1024; a trailing B or iB
// is allowed).
std::optional<uint64_t> ParseSize(std::string s) {
  if (s == "0" || s == "none") return 0;
  if (s.size() > 2 && s.substr(s.size() - 2) == "iB") s.resize(s.size() - 2);
  else if (s.size() > 1 && (s.back() == 'B' || s.back() == 'b')) s.pop_back();
  uint64_t mult = 1;
  if (!s.empty()) {
    switch (s.back()) {
      case 'K': case 'k': mult = 1ull << 10; break;
      case 'M': case 'm': mult = 1ull << 20; break;
      case 'G': case 'g': mult = 1ull << 30; break;
      case 'T': case 't': mult = 1ull << 40; break;
      default: break;
    }
    if (mult != 1) s.pop_back();
  }
  try {
    size_t used = 0;
    unsigned long long n = std::stoull(s, &used);
    if (used != s.size() || s.empty()) return std::nullopt;
    return n * mult;
  } catch (...) {
    return std::nullopt;
  }
}

std::string AgeText(int64_t ms) {
  if (ms == 0) return "none";
  if (ms % 86'400'000 == 0) return fmt::format("{}d", ms / 86'400'000);
  if (ms % 3'600'000 == 0) return fmt::format("{}h", ms / 3'600'000);
  return fmt::format("{}s", ms / 1000);
}

// Names the segments that cannot be read on stderr (their events are in no count printed) and
// returns the exit status: 1 when there are any.
int ReportUnreadable(const std::vector<store::CheckProblem>& broken) {
  for (const auto& p : broken) {
    std::fprintf(stderr, "cairn index: segment %s cannot be read: %s\n", p.path.c_str(),
                 p.status.message().c_str());
  }
  if (broken.empty()) return kExitOk;
  std::fprintf(stderr,
               "cairn index: %zu segment(s) cannot be read; their events are not counted "
               "(`cairn index check` verifies every segment)\n",
               broken.size());
  return kExitFailed;
}

int Fail(const Status& s) {
  std::fprintf(stderr, "cairn index: %s\n", s.message().c_str());
  return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
}

// `index info --sections`: the parts of every segment, summed by name, largest first.
Status PrintSizeReport(const store::Snapshot& snap) {
  std::map<std::string, store::PartSize> sum;
  uint64_t total = 0, events = 0;
  for (const auto& seg : snap.segments()) {
    ASSIGN_OR_RETURN(auto parts, seg->SizeReport());
    events += seg->event_count();
    for (const auto& p : parts) {
      store::PartSize& s = sum[p.part];
      s.part = p.part;
      s.bytes += p.bytes;
      s.raw_bytes += p.raw_bytes;
      s.entries += p.entries;
      total += p.bytes;
    }
  }
  std::vector<store::PartSize> rows;
  for (auto& [name, p] : sum) rows.push_back(std::move(p));
  std::stable_sort(rows.begin(), rows.end(),
                   [](const auto& a, const auto& b) { return a.bytes > b.bytes; });
  std::printf("\n%-64s %14s %7s %9s %14s %12s\n", "PART (summed over segments)", "BYTES", "SHARE",
              "B/EVENT", "RAW BYTES", "ENTRIES");
  auto row = [&](const std::string& name, uint64_t bytes, uint64_t raw, uint64_t entries) {
    std::printf("%-64s %14llu %6.2f%% %9.2f %14s %12s\n", name.c_str(),
                static_cast<unsigned long long>(bytes), total ? 100.0 * bytes / total : 0.0,
                events ? static_cast<double>(bytes) / events : 0.0,
                raw ? std::to_string(raw).c_str() : "",
                entries ? std::to_string(entries).c_str() : "");
  };
  for (const auto& p : rows) {
    if (p.bytes > 0 || p.entries > 0) row(p.part, p.bytes, p.raw_bytes, p.entries);
  }
  row("total (segment files)", total, 0, 0);
  return Status::Ok();
}

}  // namespace

void RegisterIndex(CLI::App* app, Globals* g) {
  CLI::App* cmd = app->add_subcommand("index", "List, inspect, check and manage indexes in the store");
  cmd->require_subcommand(1);

  CLI::App* list = cmd->add_subcommand(
      "list",
      "Indexes with events, segments, bytes and time range; exit 1 when a segment cannot be read");
  list->callback([g] {
    g->run = [g] {
      auto st = OpenForReading(*g);
      if (!st.ok()) return Fail(st.status());
      std::printf("%-24s %12s %9s %12s  %-20s  %-20s  %10s\n", "INDEX", "EVENTS", "SEGMENTS",
                  "BYTES", "FIRST", "LAST", "UNREADABLE");
      std::vector<store::CheckProblem> broken;
      for (const auto& name : (*st)->ListIndexes()) {
        auto info = (*st)->Info(name);
        if (!info.ok()) return Fail(info.status());
        bool empty = info->events == 0;
        std::printf("%-24s %12llu %9llu %12s  %-20s  %-20s  %10llu\n", name.c_str(),
                    static_cast<unsigned long long>(info->events),
                    static_cast<unsigned long long>(info->segments), Bytes(info->bytes).c_str(),
                    Time(info->min_time, empty).c_str(), Time(info->max_time, empty).c_str(),
                    static_cast<unsigned long long>(info->broken_segments));
        if (auto snap = (*st)->GetSnapshot(name); snap.ok()) {
          for (const auto& p : (*snap)->broken()) broken.push_back(p);
        }
      }
      return ReportUnreadable(broken);
    };
  });

  auto info_name = std::make_shared<std::string>();
  auto info_sections = std::make_shared<bool>(false);
  CLI::App* info = cmd->add_subcommand(
      "info", "Details of one index; exit 1 when one of its segments cannot be read");
  info->add_option("name", *info_name, "Index name")->required();
  info->add_flag(
      "--sections", *info_sections,
      "Also where the bytes go: every segment section, column and keys-table field, "
      "summed over the index's readable segments (reads every dictionary and key block)");
  info->callback([g, info_name, info_sections] {
    g->run = [g, info_name, info_sections] {
      auto st = OpenForReading(*g);
      if (!st.ok()) return Fail(st.status());
      auto i = (*st)->Info(*info_name);
      if (!i.ok()) return Fail(i.status());
      bool empty = i->events == 0;
      std::printf("index:        %s\n", i->name.c_str());
      std::printf("events:       %llu\n", static_cast<unsigned long long>(i->events));
      std::printf("segments:     %llu (%llu unreadable)\n", static_cast<unsigned long long>(i->segments),
                  static_cast<unsigned long long>(i->broken_segments));
      std::printf("days:         %llu\n", static_cast<unsigned long long>(i->partitions));
      std::printf("bytes:        %llu (%s)\n", static_cast<unsigned long long>(i->bytes), Bytes(i->bytes).c_str());
      std::printf("first event:  %s\n", Time(i->min_time, empty).c_str());
      std::printf("last event:   %s\n", Time(i->max_time, empty).c_str());
      std::printf("generation:   %llu\n", static_cast<unsigned long long>(i->generation));
      std::printf("retention:    max age %s, max size %s\n", AgeText(i->retention.max_age_ms).c_str(),
                  i->retention.max_bytes == 0 ? "none" : Bytes(i->retention.max_bytes).c_str());
      auto snap = (*st)->GetSnapshot(*info_name);
      if (!snap.ok()) return Fail(snap.status());
      if (*info_sections) {
        Status s = PrintSizeReport(**snap);
        if (!s.ok()) return Fail(s);
      }
      return ReportUnreadable((*snap)->broken());
    };
  });

  auto check_names = std::make_shared<std::vector<std::string>>();
  CLI::App* check = cmd->add_subcommand(
      "check", "Verify every checksum of every segment; exit 1 when anything is corrupt");
  check->add_option("names", *check_names, "Indexes to check (default: all)");
  check->callback([g, check_names] {
    g->run = [g, check_names] {
      auto st = OpenForReading(*g);
      if (!st.ok()) return Fail(st.status());
      std::vector<std::string> names = *check_names;
      if (names.empty()) names = (*st)->ListIndexes();
      bool bad = false;
      for (const auto& name : names) {
        auto report = (*st)->Check(name);
        if (!report.ok()) return Fail(report.status());
        for (const auto& p : report->problems) {
          std::string msg = p.status.message();
          if (msg.rfind(p.path + ": ", 0) == 0) msg = msg.substr(p.path.size() + 2);
          std::printf("CORRUPT %s: %s\n", p.path.c_str(), msg.c_str());
        }
        bad |= !report->ok();
        std::printf("%s: %s, %llu segments, %llu events checked\n", name.c_str(),
                    report->ok() ? "ok" : fmt::format("{} problem(s)", report->problems.size()).c_str(),
                    static_cast<unsigned long long>(report->segments_checked),
                    static_cast<unsigned long long>(report->events_checked));
      }
      return bad ? kExitFailed : kExitOk;
    };
  });

  auto merge_names = std::make_shared<std::vector<std::string>>();
  CLI::App* merge = cmd->add_subcommand(
      "merge", "Merge each day's segments into as few as the segment size limit allows");
  merge->add_option("names", *merge_names, "Indexes to merge (default: all)");
  AddNoWaitFlag(merge, g);
  merge->callback([g, merge_names] {
    g->run = [g, merge_names] {
      auto st = OpenForWriting(*g);
      if (!st.ok()) return Fail(st.status());
      std::vector<std::string> names = *merge_names;
      if (names.empty()) names = (*st)->ListIndexes();
      for (const auto& name : names) {
        auto before = (*st)->Info(name);
        if (!before.ok()) return Fail(before.status());
        Status s = (*st)->MergeNow(name);
        if (!s.ok()) return Fail(s);
        auto after = (*st)->Info(name);
        if (!after.ok()) return Fail(after.status());
        std::printf("%s: %llu segments -> %llu, %s -> %s\n", name.c_str(),
                    static_cast<unsigned long long>(before->segments),
                    static_cast<unsigned long long>(after->segments), Bytes(before->bytes).c_str(),
                    Bytes(after->bytes).c_str());
      }
      return kExitOk;
    };
  });

  struct DeleteFlags {
    std::string name;
    bool yes = false;
  };
  auto del = std::make_shared<DeleteFlags>();
  CLI::App* delete_cmd = cmd->add_subcommand("delete", "Delete an index and all its events");
  delete_cmd->add_option("name", del->name, "Index name")->required();
  delete_cmd->add_flag("--yes", del->yes, "Confirm the deletion");
  AddNoWaitFlag(delete_cmd, g);
  delete_cmd->callback([g, del] {
    g->run = [g, del] {
      if (!del->yes) {
        std::fprintf(stderr, "cairn index delete: pass --yes to delete index %s and all its events\n",
                     del->name.c_str());
        return kExitUsage;
      }
      auto st = OpenForWriting(*g);
      if (!st.ok()) return Fail(st.status());
      Status s = (*st)->DeleteIndex(del->name);
      if (!s.ok()) return Fail(s);
      std::printf("deleted index %s\n", del->name.c_str());
      return kExitOk;
    };
  });

  CLI::App* retention = cmd->add_subcommand("retention", "Show or set an index's retention");
  retention->require_subcommand(1);
  auto show_name = std::make_shared<std::string>();
  CLI::App* show = retention->add_subcommand("show", "Show the retention of an index");
  show->add_option("name", *show_name, "Index name")->required();
  show->callback([g, show_name] {
    g->run = [g, show_name] {
      auto st = OpenForReading(*g);
      if (!st.ok()) return Fail(st.status());
      auto r = (*st)->GetRetention(*show_name);
      if (!r.ok()) return Fail(r.status());
      std::printf("%s: max age %s, max size %s\n", show_name->c_str(), AgeText(r->max_age_ms).c_str(),
                  r->max_bytes == 0 ? "none" : Bytes(r->max_bytes).c_str());
      return kExitOk;
    };
  });
  struct SetFlags {
    std::string name, max_age, max_size;
    bool apply = false;
  };
  auto set = std::make_shared<SetFlags>();
  CLI::App* set_cmd = retention->add_subcommand("set", "Set an index's retention (unset parts keep their value)");
  set_cmd->add_option("name", set->name, "Index name")->required();
  set_cmd->add_option("--max-age", set->max_age, "Drop events older than this: 90d, 12h, none");
  set_cmd->add_option("--max-size", set->max_size, "Keep the index under this size: 500G, 2T, none");
  set_cmd->add_flag("--apply", set->apply, "Apply the policy now");
  AddNoWaitFlag(set_cmd, g);
  set_cmd->callback([g, set] {
    g->run = [g, set] {
      auto st = OpenForWriting(*g);
      if (!st.ok()) return Fail(st.status());
      store::RetentionPolicy p;
      auto old = (*st)->GetRetention(set->name);
      if (old.ok()) p = *old;
      if (!set->max_age.empty()) {
        auto age = ParseAge(set->max_age);
        if (!age) return Fail(InvalidArgument("--max-age \"{}\" is not like 90d, 12h, 30m or none", set->max_age));
        p.max_age_ms = *age;
      }
      if (!set->max_size.empty()) {
        auto size = ParseSize(set->max_size);
        if (!size) return Fail(InvalidArgument("--max-size \"{}\" is not like 500G, 2T or none", set->max_size));
        p.max_bytes = *size;
      }
      Status s = (*st)->SetRetention(set->name, p);
      if (!s.ok()) return Fail(s);
      std::printf("%s: max age %s, max size %s\n", set->name.c_str(), AgeText(p.max_age_ms).c_str(),
                  p.max_bytes == 0 ? "none" : Bytes(p.max_bytes).c_str());
      if (set->apply) {
        auto r = (*st)->ApplyRetention(set->name);
        if (!r.ok()) return Fail(r.status());
        std::printf("removed %llu segments, %llu events, %s\n",
                    static_cast<unsigned long long>(r->segments_removed),
                    static_cast<unsigned long long>(r->events_removed), Bytes(r->bytes_removed).c_str());
      }
      return kExitOk;
    };
  });
}

}  // namespace cairn::cli
