#include "generate/generator.h"

#include <algorithm>
#include <atomic>
#include <mutex>
#include <set>
#include <thread>

#include <fmt/format.h>

#include "common/json_util.h"
#include "common/time_util.h"
#include "generate/catalog.h"
#include "generate/event_writer.h"
#include "generate/gzip_writer.h"
#include "generate/prng.h"
#include "generate/scenarios.h"
#include "generate/world.h"

namespace cairn::generate {
namespace {

constexpr int64_t kWindowMs = 5 * 60 * 1000;
constexpr int64_t kWindowsPerDay = 288;

// Relative activity by UTC hour: a working day across Europe and the Americas, never zero
// (automation runs all night).
constexpr uint32_t kHourly[24] = {30, 26, 23, 21, 21, 23, 30, 42, 60, 78, 92, 100,
                                  100, 98, 97, 95, 92, 84, 72, 60, 50, 43, 38, 34};

// One delivery file: an (account, region, 5-minute window) and what goes in it.
struct Cell {
  bool insight = false;
  int account = 0;
  int region = 0;
  int64_t window = 0;  // index from the first window
  uint64_t background = 0;
  std::vector<int> specials;  // indexes into Plan::specials, in time order
};

struct Plan {
  int64_t first_window_ms = 0;
  std::vector<Cell> cells;
  std::vector<SpecialEvent> specials;
  std::vector<ScenarioInfo> scenarios;
  uint64_t background = 0;
  uint64_t scenario_events = 0;
  uint64_t insight_events = 0;
};

uint64_t WindowWeight(int64_t window_start_ms) {
  int64_t days = window_start_ms / 86400000;
  int64_t minute_of_day = (window_start_ms % 86400000) / 60000;
  int h = static_cast<int>(minute_of_day / 60), m = static_cast<int>(minute_of_day % 60);
  // Linear between hourly points, in 1/60ths.
  uint64_t w = kHourly[h] * (60 - m) + kHourly[(h + 1) % 24] * m;
  // 1970-01-01 was a Thursday: day % 7 == 2 is Saturday, 3 is Sunday.
  int64_t dow = ((days % 7) + 7) % 7;
  if (dow == 2 || dow == 3) w = w * 2 / 5;
  return w;
}

// Splits `total` over cells in proportion to `weights` (largest remainder; exact integers).
std::vector<uint64_t> Apportion(uint64_t total, const std::vector<uint64_t>& weights) {
  unsigned __int128 sum = 0;
  for (uint64_t w : weights) sum += w;
  std::vector<uint64_t> out(weights.size());
  if (sum == 0) return out;
  std::vector<std::pair<unsigned __int128, size_t>> rema(weights.size());
  uint64_t given = 0;
  for (size_t i = 0; i < weights.size(); ++i) {
    unsigned __int128 q = static_cast<unsigned __int128>(total) * weights[i];
    out[i] = static_cast<uint64_t>(q / sum);
    given += out[i];
    rema[i] = {q % sum, i};
  }
  std::sort(rema.begin(), rema.end(), [](const auto& a, const auto& b) {
    return a.first != b.first ? a.first > b.first : a.second < b.second;
  });
  for (size_t i = 0; given < total; ++i, ++given) out[rema[i].second] += 1;
  return out;
}

Status MakePlan(const GenerateOptions& o, const World& world, EventWriter* writer, Plan* plan) {
  const int64_t windows = static_cast<int64_t>(o.days) * kWindowsPerDay;
  plan->first_window_ms = o.start_ms - ((o.start_ms % kWindowMs) + kWindowMs) % kWindowMs;
  const int64_t start = plan->first_window_ms;
  if (o.scenarios) BuildScenarios(writer, start, o.days, &plan->specials, &plan->scenarios);
  plan->scenario_events = plan->specials.size();
  if (o.insights) BuildInsights(writer, start, o.days, &plan->specials);
  plan->insight_events = plan->specials.size() - plan->scenario_events;
  const uint64_t special = plan->specials.size();
  if (o.events < special) {
    return InvalidArgument(
        "--events {} is too few: the scenarios and Insights events alone are {} (use --events {} or "
        "more, or --no-scenarios)",
        o.events, special, special);
  }
  plan->background = o.events - special;

  const int nacct = static_cast<int>(world.accounts.size());
  const int nreg = static_cast<int>(world.regions.size());
  // Stream weights: the first accounts are the busy ones; us-east-1 (which also records the
  // global services) and the next listed region carry most of the traffic.
  std::vector<uint64_t> acct_w(nacct), reg_w(nreg);
  for (int a = 0; a < nacct; ++a) acct_w[a] = 200 / (a + 2) + 2;
  for (int r = 0, rank = 0; r < nreg; ++r) {
    static constexpr uint64_t kRank[] = {60, 30, 20, 15, 12, 10, 8, 7, 6};
    reg_w[r] = r == world.global_region ? 100 : kRank[std::min<size_t>(rank++, std::size(kRank) - 1)];
  }
  std::vector<uint64_t> weights;
  weights.reserve(static_cast<size_t>(nacct) * nreg * windows);
  for (int a = 0; a < nacct; ++a) {
    for (int r = 0; r < nreg; ++r) {
      for (int64_t w = 0; w < windows; ++w) {
        Rng noise(MixSeed({o.seed, 0x401CE, static_cast<uint64_t>(a), static_cast<uint64_t>(r),
                           static_cast<uint64_t>(w)}));
        weights.push_back(acct_w[a] * reg_w[r] * WindowWeight(start + w * kWindowMs) *
                          noise.Range(600, 1400));
      }
    }
  }
  std::vector<uint64_t> counts = Apportion(plan->background, weights);

  // Cells: one per (kind, account, region, window) that has any record.
  auto cell_key = [&](bool insight, int a, int r, int64_t w) {
    return ((static_cast<int64_t>(insight) * nacct + a) * nreg + r) * windows + w;
  };
  std::vector<std::pair<int64_t, size_t>> index;  // key -> cell, sorted by key
  size_t i = 0;
  for (int a = 0; a < nacct; ++a) {
    for (int r = 0; r < nreg; ++r) {
      for (int64_t w = 0; w < windows; ++w, ++i) {
        if (counts[i] == 0) continue;
        Cell c;
        c.account = a;
        c.region = r;
        c.window = w;
        c.background = counts[i];
        index.emplace_back(cell_key(false, a, r, w), plan->cells.size());
        plan->cells.push_back(std::move(c));
      }
    }
  }
  std::vector<size_t> order(plan->specials.size());
  for (size_t s = 0; s < order.size(); ++s) order[s] = s;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return plan->specials[x].time_ms < plan->specials[y].time_ms;
  });
  for (size_t s : order) {
    const SpecialEvent& ev = plan->specials[s];
    const int64_t w = (ev.time_ms - start) / kWindowMs;
    if (w < 0 || w >= windows) return Internal("special event outside the generated days");
    const int64_t key = cell_key(ev.insight, ev.account, ev.region, w);
    auto it = std::lower_bound(index.begin(), index.end(), std::make_pair(key, size_t{0}));
    size_t ci;
    if (it != index.end() && it->first == key) {
      ci = it->second;
    } else {
      Cell c;
      c.insight = ev.insight;
      c.account = ev.account;
      c.region = ev.region;
      c.window = w;
      ci = plan->cells.size();
      plan->cells.push_back(std::move(c));
      index.insert(it, {key, ci});
    }
    plan->cells[ci].specials.push_back(static_cast<int>(s));
  }
  return Status::Ok();
}

void AppendDatePath(int64_t ms, std::string* out) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(ms / 86400000, &y, &m, &d);
  out->append(fmt::format("{:04}/{:02}/{:02}", y, m, d));
}

// The object key of a cell's file (relative to out_dir). The file time is the window's end.
std::string CellKey(const World& world, const Plan& plan, const Cell& c, uint64_t seed) {
  const Account& a = world.accounts[c.account];
  const std::string& region = world.regions[c.region];
  const int64_t t = plan.first_window_ms + (c.window + 1) * kWindowMs;
  const char* kind = c.insight ? "CloudTrail-Insight" : "CloudTrail";
  std::string key = "AWSLogs/" + a.id + "/" + kind + "/" + region + "/";
  AppendDatePath(t, &key);
  int64_t y;
  unsigned mo, d;
  CivilFromDays(t / 86400000, &y, &mo, &d);
  int64_t sod = (t % 86400000) / 1000;
  key += fmt::format("/{}_{}_{}_{:04}{:02}{:02}T{:02}{:02}Z_", a.id, kind, region, y, mo, d,
                     sod / 3600, sod / 60 % 60);
  Rng rng(MixSeed({seed, 0xF11E, static_cast<uint64_t>(c.insight), static_cast<uint64_t>(c.account),
                   static_cast<uint64_t>(c.region), static_cast<uint64_t>(c.window)}));
  AppendRandomChars(&rng, &key, 16, kAlnum);
  key += ".json.gz";
  return key;
}

std::string ManifestJson(const GenerateOptions& o, const World& world, const Plan& plan) {
  std::string j = "{\n  \"format\": \"cairn-generate-manifest\",\n  \"version\": 1,\n";
  if (o.profile != Profile::kDefault) {
    j += fmt::format("  \"profile\": \"{}\",\n", ProfileName(o.profile));
  }
  j += fmt::format("  \"seed\": {},\n  \"start\": \"{}\",\n  \"days\": {},\n", o.seed,
                   FormatIso8601(plan.first_window_ms), o.days);
  j += fmt::format(
      "  \"events\": {},\n  \"background_events\": {},\n  \"scenario_events\": {},\n"
      "  \"insight_events\": {},\n  \"files\": {},\n",
      o.events, plan.background, plan.scenario_events, plan.insight_events, plan.cells.size());
  j += fmt::format("  \"data_events\": {},\n  \"insights\": {},\n  \"scenarios_enabled\": {},\n",
                   o.data_events, o.insights, o.scenarios);
  j += "  \"accounts\": [";
  for (size_t i = 0; i < world.accounts.size(); ++i) {
    j += fmt::format("{}{{\"id\": \"{}\", \"name\": \"{}\"}}", i ? ", " : "", world.accounts[i].id,
                     world.accounts[i].env);
  }
  j += "],\n  \"regions\": [";
  for (size_t i = 0; i < world.regions.size(); ++i) {
    j += fmt::format("{}\"{}\"", i ? ", " : "", world.regions[i]);
  }
  j += fmt::format("],\n  \"global_region\": \"{}\",\n  \"scenarios\": [", world.regions[world.global_region]);
  for (size_t i = 0; i < plan.scenarios.size(); ++i) {
    const ScenarioInfo& s = plan.scenarios[i];
    j += i ? ",\n    {" : "\n    {";
    j += "\"name\": " + JsonString(s.name);
    j += ",\n     \"description\": " + JsonString(s.description);
    j += ",\n     \"technique\": " + JsonString(s.technique);
    j += ",\n     \"account\": " + JsonString(world.accounts[s.account].id);
    j += ",\n     \"region\": " + JsonString(world.regions[s.region]);
    auto [lo, hi] = std::minmax_element(s.times.begin(), s.times.end());
    j += ",\n     \"start_time\": " + JsonString(FormatIso8601(*lo));
    j += ",\n     \"end_time\": " + JsonString(FormatIso8601(*hi));
    j += ",\n     \"event_source\": " + (s.event_source.empty() ? "null" : JsonString(s.event_source));
    j += ",\n     \"event_name\": " + (s.event_name.empty() ? "null" : JsonString(s.event_name));
    j += ",\n     \"user_arn\": " + JsonString(s.user_arn);
    j += ",\n     \"source_ip\": " + JsonString(s.source_ip);
    j += ",\n     \"match\": {";
    for (size_t m = 0; m < s.match.size(); ++m) {
      j += (m ? ", " : "") + JsonString(s.match[m].first) + ": " + JsonString(s.match[m].second);
    }
    j += fmt::format("}},\n     \"expected_count\": {}", s.expected_count);
    j += ",\n     \"events\": [";
    for (size_t e = 0; e < s.event_ids.size(); ++e) {
      j += fmt::format("{}{{\"eventID\": \"{}\", \"eventTime\": \"{}\"}}", e ? ",\n                " : "",
                       s.event_ids[e], FormatIso8601(s.times[e]));
    }
    j += "]}";
  }
  j += plan.scenarios.empty() ? "]\n}\n" : "\n  ]\n}\n";
  return j;
}

}  // namespace

Result<GenerateSummary> Generate(const GenerateOptions& o, FileSystem* fs) {
  if (o.out_dir.empty()) return InvalidArgument("--out is required");
  if (o.days < 1 || o.days > 366) return InvalidArgument("--days {} is not between 1 and 366", o.days);
  if (o.accounts < 1 || o.accounts > 100) {
    return InvalidArgument("--accounts {} is not between 1 and 100", o.accounts);
  }
  if (o.events == 0) return InvalidArgument("--events must be at least 1");
  if (o.events > 10'000'000'000ull) return InvalidArgument("--events {} is above 10^10", o.events);
  std::vector<std::string> regions = o.regions.empty() ? DefaultRegions() : o.regions;
  for (const auto& r : regions) {
    auto parsed = ParseRegions(r);
    if (!parsed.ok()) return parsed.status();
  }

  const std::string logs_dir = JoinPath(o.out_dir, "AWSLogs");
  if (fs->Exists(logs_dir)) {
    if (!o.overwrite) {
      return AlreadyExists("{} already exists; remove it or pass --overwrite", logs_dir);
    }
    RETURN_IF_ERROR(fs->RemoveAll(logs_dir));
  }

  const Catalog catalog;
  const World world(o.seed, o.accounts, regions, o.profile);
  Plan plan;
  {
    EventWriter planner(&world, &catalog, o.data_events);
    RETURN_IF_ERROR(MakePlan(o, world, &planner, &plan));
  }

  // Folders first (few), then the files in parallel.
  std::vector<std::string> keys(plan.cells.size());
  std::set<std::string> dirs;
  for (size_t i = 0; i < plan.cells.size(); ++i) {
    keys[i] = CellKey(world, plan, plan.cells[i], o.seed);
    dirs.insert(DirName(keys[i]));
  }
  RETURN_IF_ERROR(fs->CreateDirs(o.out_dir));
  for (const auto& d : dirs) RETURN_IF_ERROR(fs->CreateDirs(JoinPath(o.out_dir, d)));

  int threads = o.threads > 0 ? o.threads : static_cast<int>(std::thread::hardware_concurrency());
  threads = std::max(1, std::min<int>(threads, static_cast<int>(plan.cells.size())));
  std::atomic<size_t> next{0};
  std::atomic<uint64_t> bytes{0}, raw_bytes{0}, written_events{0};
  std::mutex mu;
  Status first_error;
  std::atomic<bool> failed{false};

  auto work = [&]() {
    EventWriter writer(&world, &catalog, o.data_events);
    GzipCompressor gz;
    std::string json;
    std::vector<int64_t> times;
    for (;;) {
      const size_t ci = next.fetch_add(1);
      if (ci >= plan.cells.size() || failed.load()) return;
      const Cell& c = plan.cells[ci];
      Rng rng(MixSeed({o.seed, 0xCE11, static_cast<uint64_t>(c.insight),
                       static_cast<uint64_t>(c.account), static_cast<uint64_t>(c.region),
                       static_cast<uint64_t>(c.window)}));
      const int64_t window_start = plan.first_window_ms + c.window * kWindowMs;
      times.resize(c.background);
      for (auto& t : times) t = window_start + static_cast<int64_t>(rng.Below(kWindowMs));
      std::sort(times.begin(), times.end());
      writer.BeginCell();
      json.clear();
      json.reserve((c.background + c.specials.size()) * 1600 + 64);
      json.append("{\"Records\":[");
      size_t bi = 0, si = 0;
      bool first = true;
      while (bi < times.size() || si < c.specials.size()) {
        if (!first) json.push_back(',');
        first = false;
        const SpecialEvent* sp = si < c.specials.size() ? &plan.specials[c.specials[si]] : nullptr;
        if (sp != nullptr && (bi == times.size() || sp->time_ms <= times[bi])) {
          json.append(sp->json);
          ++si;
        } else {
          writer.AppendBackground(&rng, c.account, c.region, times[bi], &json);
          ++bi;
        }
      }
      json.append("]}");
      Status s;
      auto compressed = gz.Compress(json);
      if (!compressed.ok()) {
        s = compressed.status();
      } else {
        const std::string path = JoinPath(o.out_dir, keys[ci]);
        auto file = fs->NewWritableFile(path);
        if (!file.ok()) {
          s = file.status();
        } else {
          s = (*file)->Append(*compressed);
          if (s.ok()) s = (*file)->Close();
        }
        bytes += compressed->size();
      }
      raw_bytes += json.size();
      written_events += c.background + c.specials.size();
      if (!s.ok()) {
        std::lock_guard<std::mutex> lock(mu);
        if (first_error.ok()) first_error = s;
        failed = true;
        return;
      }
    }
  };
  std::vector<std::thread> pool;
  for (int t = 1; t < threads; ++t) pool.emplace_back(work);
  work();
  for (auto& t : pool) t.join();
  RETURN_IF_ERROR(first_error);
  if (written_events.load() != o.events) {
    return Internal("wrote {} events instead of {}", written_events.load(), o.events);
  }

  GenerateSummary summary;
  summary.manifest_path = JoinPath(o.out_dir, "scenarios.json");
  RETURN_IF_ERROR(WriteFileAtomic(fs, summary.manifest_path, ManifestJson(o, world, plan)));
  summary.files = plan.cells.size();
  summary.events = written_events.load();
  summary.background_events = plan.background;
  summary.scenario_events = plan.scenario_events;
  summary.insight_events = plan.insight_events;
  summary.bytes = bytes.load();
  summary.uncompressed_bytes = raw_bytes.load();
  for (const auto& a : world.accounts) summary.accounts.push_back(a.id);
  summary.regions = world.regions;
  return summary;
}

}  // namespace cairn::generate
