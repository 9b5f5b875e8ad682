#include "alerts/scheduler.h"

#include <openssl/sha.h>
#include <simdjson.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <set>
#include <tuple>

#include "common/hex.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/time_util.h"
#include "query/engine.h"
#include "query/store_source.h"
#include "query/time_format.h"
#include "store/store.h"

namespace cairn::alerts {
namespace {

constexpr int64_t kMinuteMs = 60'000;

std::string ShortHash(std::string_view text) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), digest);
  return HexEncode(std::string_view(reinterpret_cast<const char*>(digest), 8));
}

// A row as a JSON object: single values as strings, multivalues as arrays; _time as ISO 8601.
std::string RowJson(const std::vector<std::string>& names, const std::vector<query::Values>& values,
                    bool with_raw) {
  std::string out = "{";
  bool first = true;
  for (size_t i = 0; i < names.size(); ++i) {
    const auto& v = values[i];
    if (v.empty()) continue;
    if (!with_raw && names[i] == "_raw") continue;
    if (!first) out.push_back(',');
    first = false;
    AppendJsonString(&out, names[i]);
    out.push_back(':');
    auto cell = [&](const std::string& s) {
      if (names[i] == "_time") {
        if (auto t = query::ParseNumber(s)) {
          AppendJsonString(&out,
                           FormatIso8601(static_cast<int64_t>(std::llround(*t * 1000)), true));
          return;
        }
      }
      AppendJsonString(&out, s);
    };
    if (v.size() == 1) {
      cell(v[0]);
    } else {
      out.push_back('[');
      for (size_t k = 0; k < v.size(); ++k) {
        if (k) out.push_back(',');
        cell(v[k]);
      }
      out.push_back(']');
    }
  }
  out.push_back('}');
  return out;
}

std::string First(const query::Values& v) { return v.empty() ? std::string() : v.front(); }

// SPL string literal.
std::string Quote(std::string_view s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out.push_back('\\');
    out.push_back(c);
  }
  out.push_back('"');
  return out;
}

bool Compare(Relation r, double count, double quantity, int64_t previous) {
  switch (r) {
    case Relation::kGreaterThan: return count > quantity;
    case Relation::kLessThan: return count < quantity;
    case Relation::kEqualTo: return count == quantity;
    case Relation::kNotEqualTo: return count != quantity;
    case Relation::kDropsBy:
      return previous >= 0 && static_cast<double>(previous) - count >= quantity;
    case Relation::kRisesBy:
      return previous >= 0 && count - static_cast<double>(previous) >= quantity;
  }
  return false;
}

std::string SafeName(std::string_view name) {
  std::string out;
  for (char c : name) out.push_back(std::isalnum(static_cast<unsigned char>(c)) ? c : '_');
  return out;
}

}  // namespace

std::string StateToJson(const std::map<std::string, SearchState>& state) {
  std::string out = "{\"format\":\"cairn-alerts-state\",\"version\":1,\"searches\":{";
  bool first = true;
  for (const auto& [name, s] : state) {
    if (!first) out.push_back(',');
    first = false;
    out += "\n";
    AppendJsonString(&out, name);
    out += fmt::format(
        ":{{\"last_run_ms\":{},\"last_run\":\"{}\",\"last_count\":{},\"runs\":{},\"triggered\":{},"
        "\"action_failures\":{},\"search_failures\":{},\"suppressed_until\":{{",
        s.last_run_ms, s.last_run_ms >= 0 ? FormatIso8601(s.last_run_ms) : "", s.last_count, s.runs,
        s.triggered, s.action_failures, s.search_failures);
    bool f2 = true;
    for (const auto& [key, until] : s.suppressed_until) {
      if (!f2) out.push_back(',');
      f2 = false;
      AppendJsonString(&out, key);
      out += ":" + std::to_string(until);
    }
    out += "}}";
  }
  out += "\n}}\n";
  return out;
}

Result<std::map<std::string, SearchState>> StateFromJson(std::string_view json) {
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) {
    return Corruption("alerts state is not JSON");
  }
  int64_t version = 0;
  if (root["version"].get(version) || version != 1) {
    return Corruption("alerts state version {} is not 1", version);
  }
  simdjson::dom::object searches;
  if (root["searches"].get(searches)) return Corruption("alerts state lacks \"searches\"");
  std::map<std::string, SearchState> out;
  for (auto [key, value] : searches) {
    SearchState s;
    int64_t i = 0;
    uint64_t u = 0;
    if (!value["last_run_ms"].get(i)) s.last_run_ms = i;
    if (!value["last_count"].get(i)) s.last_count = i;
    if (!value["runs"].get(u)) s.runs = u;
    if (!value["triggered"].get(u)) s.triggered = u;
    if (!value["action_failures"].get(u)) s.action_failures = u;
    if (!value["search_failures"].get(u)) s.search_failures = u;
    simdjson::dom::object sup;
    if (!value["suppressed_until"].get(sup)) {
      for (auto [k, v] : sup) {
        int64_t until = 0;
        if (!v.get(until)) s.suppressed_until[std::string(k)] = until;
      }
    }
    out[std::string(key)] = std::move(s);
  }
  return out;
}

Scheduler::Scheduler(std::vector<SavedSearch> searches, SchedulerOptions options)
    : searches_(std::move(searches)), opt_(std::move(options)) {}

std::string Scheduler::state_path() const {
  return JoinPath(JoinPath(opt_.data_dir, "alerts"), "state.json");
}

Status Scheduler::Init() {
  if (opt_.store == nullptr) return InvalidArgument("alerts scheduler: no store");
  if (!opt_.http) {
    aws::HttpOptions h;
    h.total_timeout_ms = opt_.actions.timeout_ms;
    h.connect_timeout_ms = std::min<int64_t>(opt_.actions.timeout_ms, 10'000);
    h.idle_timeout_ms = opt_.actions.timeout_ms;
    opt_.http = aws::NewCurlHttpClient(h);
  }
  std::set<std::string> names;
  for (const SavedSearch& s : searches_) {
    if (!names.insert(s.name).second) {
      return InvalidArgument("{}: saved search [{}] is defined twice", s.origin, s.name);
    }
    if (!s.Scheduled()) continue;
    auto cron = CronSchedule::Parse(s.cron_schedule);
    if (!cron.ok())
      return InvalidArgument("{}: [{}] {}", s.origin, s.name, cron.status().message());
    // A search the engine cannot run (a syntax error, a command cairn lacks) is reported once
    // and left out of the schedule, instead of failing at every scheduled time.
    query::Engine check(nullptr, opt_.macros, query::EngineOptions());
    auto plan = check.Prepare(s.search);
    if (!plan.ok()) {
      log::Error("saved search [{}] ({}) cannot run and is not scheduled: {}", s.name, s.origin,
                 plan.status().message());
      invalid_[s.name] = plan.status();
      continue;
    }
    crons_.emplace(s.name, std::move(cron).value());
  }
  const std::string path = state_path();
  if (opt_.fs->Exists(path)) {
    auto text = ReadFileToString(opt_.fs, path, 64u << 20);
    if (!text.ok()) return text.status();
    auto st = StateFromJson(*text);
    if (!st.ok()) return Corruption("{}: {}", path, st.status().message());
    state_ = std::move(st).value();
  }
  return Status::Ok();
}

const SearchState* Scheduler::state(const std::string& name) const {
  auto it = state_.find(name);
  return it == state_.end() ? nullptr : &it->second;
}

int64_t Scheduler::NextRun(const std::string& name, int64_t after_ms) const {
  auto it = crons_.find(name);
  return it == crons_.end() ? -1 : it->second.Next(after_ms);
}

Status Scheduler::SaveState() {
  const std::string dir = JoinPath(opt_.data_dir, "alerts");
  RETURN_IF_ERROR(opt_.fs->CreateDirs(dir));
  return WriteFileAtomic(opt_.fs, state_path(), StateToJson(state_));
}

Result<std::pair<int64_t, int64_t>> Scheduler::Window(const SavedSearch& search,
                                                      int64_t scheduled_ms) const {
  const double at = static_cast<double>(scheduled_ms) / 1000.0;
  int64_t latest = scheduled_ms;
  if (!search.latest_time.empty()) {
    auto t = query::ResolveTimeModifier(search.latest_time, at);
    if (!t.ok()) {
      return InvalidArgument("[{}] dispatch.latest_time: {}", search.name, t.status().message());
    }
    latest = static_cast<int64_t>(std::llround(*t * 1000));
  }
  int64_t earliest;
  if (!search.earliest_time.empty()) {
    auto t = query::ResolveTimeModifier(search.earliest_time, at);
    if (!t.ok()) {
      return InvalidArgument("[{}] dispatch.earliest_time: {}", search.name, t.status().message());
    }
    earliest = static_cast<int64_t>(std::llround(*t * 1000));
  } else {
    // No earliest: from the previous scheduled time, so that consecutive windows tile.
    earliest = scheduled_ms - kMinuteMs;
    auto it = crons_.find(search.name);
    if (it != crons_.end()) {
      for (int64_t t = scheduled_ms - kMinuteMs; t > scheduled_ms - 367LL * 86'400'000;
           t -= kMinuteMs) {
        if (it->second.Matches(t)) {
          earliest = t;
          break;
        }
      }
    }
  }
  if (earliest > latest) {
    return InvalidArgument("[{}] the window's earliest time {} is after its latest {}", search.name,
                           FormatIso8601(earliest), FormatIso8601(latest));
  }
  return std::make_pair(earliest, latest);
}

Result<RunOutcome> Scheduler::RunWindow(const SavedSearch& search, int64_t scheduled_ms,
                                        bool dry_run) {
  RunOutcome out;
  out.search_name = search.name;
  out.scheduled_ms = scheduled_ms;
  auto window = Window(search, scheduled_ms);
  if (!window.ok()) {
    out.status = window.status();
    return out;
  }
  out.earliest_ms = window->first;
  out.latest_ms = window->second;
  SearchState& state = state_[search.name];

  // The search, over the window, "now" being the scheduled time. Without index=, every index but
  // the alerts index (an alert search must not find its own alerts) and the internal ones.
  query::StoreSourceOptions src_opts;
  src_opts.indexes = detect::EventIndexes(*opt_.store);
  if (src_opts.indexes.empty()) src_opts.indexes.push_back("main");
  query::StoreEventSource source(opt_.store, src_opts);
  query::EngineOptions eopts;
  eopts.now = static_cast<double>(scheduled_ms) / 1000.0;
  eopts.earliest = static_cast<double>(out.earliest_ms) / 1000.0;
  eopts.latest = static_cast<double>(out.latest_ms) / 1000.0;
  eopts.lookups_dir = opt_.lookups_dir;
  eopts.memory_budget_bytes = opt_.memory_budget_bytes;
  eopts.threads = opt_.search_threads;
  query::Engine engine(&source, opt_.macros, eopts);
  std::string spl = search.search;
  auto plan = engine.Prepare(spl);
  if (!plan.ok()) {
    out.status = plan.status();
    return out;
  }
  auto res = engine.ExecuteRows(*plan);
  if (!res.ok()) {
    out.status = res.status();
    return out;
  }
  const query::SearchResults& rows = **res;
  const size_t n = rows.size();
  std::vector<std::string> names;
  std::vector<query::Values> values;

  // The count the condition compares.
  uint64_t count = n;
  if (search.counttype == CountType::kHosts || search.counttype == CountType::kSources) {
    const char* field = search.counttype == CountType::kHosts ? "host" : "source";
    std::set<std::string> distinct;
    for (size_t i = 0; i < n; ++i) {
      for (auto& h : rows.Field(i, field)) distinct.insert(h);
    }
    count = distinct.size();
  }
  out.result_count = count;
  const int64_t previous = state.last_count;

  bool trigger = false;
  switch (search.counttype) {
    case CountType::kAlways: trigger = true; break;
    case CountType::kCustom: {
      if (search.alert_condition.empty() || n == 0) {
        trigger = n > 0 && search.alert_condition.empty();
        break;
      }
      // The condition is a search over the results: each result becomes an event whose raw is
      // the result as JSON.
      std::vector<query::EventRecord> events;
      for (size_t i = 0; i < n && i < 10000; ++i) {
        rows.Cells(i, &names, &values);
        query::EventRecord e;
        e.raw = RowJson(names, values, false);
        for (size_t k = 0; k < names.size(); ++k) {
          if (names[k] == "_time" && !values[k].empty()) {
            if (auto t = query::ParseNumber(values[k][0])) e.time = *t;
          }
        }
        e.index = "results";
        e.sourcetype = "cairn:results";
        e.host = "cairn";
        events.push_back(std::move(e));
      }
      query::MemoryEventSource results(std::move(events));
      query::EngineOptions copts;
      copts.now = eopts.now;
      query::Engine cond_engine(&results, query::MacroSet(), copts);
      std::string cond = search.alert_condition;
      size_t p = cond.find_first_not_of(" \t\n");
      cond = p == std::string::npos ? "" : cond.substr(p);
      if (!cond.empty() && cond[0] == '|') cond = cond.substr(1);
      if (cond.rfind("search ", 0) != 0) cond = "search * | " + cond;
      auto r = cond_engine.Run(cond);
      if (!r.ok()) {
        out.status = InvalidArgument("[{}] alert_condition: {}", search.name, r.status().message());
        return out;
      }
      trigger = !r->rows.empty();
      break;
    }
    default:
      trigger = Compare(search.relation, static_cast<double>(count), search.quantity, previous);
  }
  out.triggered = trigger;
  if (!dry_run) {
    state.last_count = static_cast<int64_t>(count);
  }
  if (!trigger) return out;

  // Throttling, judged at the scheduled time (so that a catch-up throttles as the live run would
  // have).
  auto& sup = state.suppressed_until;
  for (auto it = sup.begin(); it != sup.end();) {
    it = it->second <= scheduled_ms ? sup.erase(it) : std::next(it);
  }
  const bool throttle = search.suppress && search.suppress_period_ms > 0;
  auto suppress_key = [&](size_t row) {
    std::string key;
    for (const auto& f : search.suppress_fields) {
      if (!key.empty()) key.push_back('\x1f');
      query::Values v = rows.Field(row, f);
      for (size_t k = 0; k < v.size(); ++k) key += (k ? "\x1e" : "") + v[k];
    }
    return key;
  };
  std::vector<size_t> kept;  // result rows that alert
  std::vector<std::string> kept_keys;
  std::set<std::string> keys_this_run;
  if (throttle && search.suppress_fields.empty()) {
    if (sup.count("") > 0) {
      out.suppressed = 1;
      return out;
    }
    for (size_t i = 0; i < n; ++i) kept.push_back(i);
    keys_this_run.insert("");
  } else {
    for (size_t i = 0; i < n; ++i) {
      if (throttle) {
        std::string key = suppress_key(i);
        if (sup.count(key) > 0) {
          ++out.suppressed;
          continue;
        }
        keys_this_run.insert(key);
      }
      kept.push_back(i);
    }
    if (throttle && kept.empty() && n > 0) return out;
  }

  // The alert records.
  std::vector<detect::Alert> alerts;
  std::vector<std::vector<std::string>> alert_results;
  const std::string window_key = fmt::format("{}-{}", out.earliest_ms, out.latest_ms);
  const std::string sid =
      fmt::format("scheduler__cairn__cairn__{}_at_{}", SafeName(search.name), scheduled_ms / 1000);
  auto base_alert = [&]() {
    detect::Alert a;
    a.kind = detect::AlertKind::kSavedSearch;
    a.rule_id = search.name;
    a.title = search.name;
    a.level = search.Level();
    a.tags = search.tags;
    a.time_ms = out.latest_ms;
    a.description = search.description;
    a.extra_json.emplace_back("search_name", JsonString(search.name));
    a.extra_json.emplace_back("sid", JsonString(sid));
    a.extra_json.emplace_back("window_earliest", JsonString(FormatIso8601(out.earliest_ms, true)));
    a.extra_json.emplace_back("window_latest", JsonString(FormatIso8601(out.latest_ms, true)));
    a.extra_json.emplace_back("scheduled_time", JsonString(FormatIso8601(scheduled_ms)));
    a.extra_json.emplace_back("severity", std::to_string(search.severity));
    a.extra_json.emplace_back("tracked", search.track ? "true" : "false");
    return a;
  };
  auto copy_event_fields = [&](detect::Alert* a, size_t row) {
    a->event_id = First(rows.Field(row, "eventID"));
    a->event_name = First(rows.Field(row, "eventName"));
    a->event_source = First(rows.Field(row, "eventSource"));
    a->user_arn = First(rows.Field(row, "userIdentity.arn"));
    a->source_ip = First(rows.Field(row, "sourceIPAddress"));
    a->region = First(rows.Field(row, "awsRegion"));
    a->account = First(rows.Field(row, "recipientAccountId"));
  };
  if (search.digest_mode) {
    detect::Alert a = base_alert();
    a.key = window_key;
    a.result_count = kept.size();
    if (!kept.empty()) copy_event_fields(&a, kept.front());
    std::vector<std::string> results;
    for (size_t i = 0; i < kept.size() && i < opt_.max_results_in_payload; ++i) {
      rows.Cells(kept[i], &names, &values);
      results.push_back(RowJson(names, values, true));
    }
    if (!results.empty()) a.extra_json.emplace_back("first_result", results.front());
    alerts.push_back(std::move(a));
    alert_results.push_back(std::move(results));
  } else {
    if (kept.size() > opt_.max_alerts_per_run) {
      log::Warn("saved search [{}]: {} results, alerting the first {} (max_alerts_per_run)",
                search.name, kept.size(), opt_.max_alerts_per_run);
      kept.resize(opt_.max_alerts_per_run);
    }
    for (size_t row : kept) {
      rows.Cells(row, &names, &values);
      std::string json = RowJson(names, values, true);
      detect::Alert a = base_alert();
      std::string id = First(rows.Field(row, "eventID"));
      a.key = window_key + "/" + (id.empty() ? ShortHash(RowJson(names, values, false)) : id);
      a.result_count = 1;
      copy_event_fields(&a, row);
      a.extra_json.emplace_back("first_result", json);
      alerts.push_back(std::move(a));
      alert_results.push_back({std::move(json)});
    }
  }
  out.alerts = alerts.size();
  for (size_t i = 0; i < alerts.size(); ++i) {
    Triggered t;
    t.search_name = search.name;
    t.sid = sid;
    t.scheduled_ms = scheduled_ms;
    t.earliest_ms = out.earliest_ms;
    t.latest_ms = out.latest_ms;
    t.result_count = alerts[i].result_count;
    t.alert = alerts[i];
    t.results_json = alert_results[i];
    if (!opt_.results_link_base.empty()) {
      t.results_link = opt_.results_link_base + "/alerts?sid=" + sid;
    }
    out.triggered_alerts.push_back(std::move(t));
  }
  if (dry_run) return out;

  // Which alerts are new: the alerts index already holds those of a run that stored them and
  // then stopped before its state was written.
  std::set<std::string> existing;
  {
    query::StoreSourceOptions aopts;
    aopts.indexes = {std::string(detect::kAlertsIndex)};
    query::StoreEventSource asrc(opt_.store, aopts);
    query::EngineOptions o;
    o.now = eopts.now;
    // A second either side: the alerts of this run carry _time = the window's end exactly.
    o.earliest = static_cast<double>(out.latest_ms - 1000) / 1000.0;
    o.latest = static_cast<double>(out.latest_ms + 1000) / 1000.0;
    o.threads = 1;
    query::Engine aeng(&asrc, query::MacroSet(), o);
    auto r =
        aeng.Run(fmt::format("index={} source={} | table alert_key rule_id", detect::kAlertsIndex,
                             Quote("cairn:saved_search:" + search.name)));
    if (!r.ok()) return r.status();
    // The name may hold wildcard characters: compare rule_id exactly.
    for (const auto& row : r->rows) {
      if (row.size() == 2 && !row[0].empty() && !row[1].empty() && row[1][0] == search.name) {
        existing.insert(row[0][0]);
      }
    }
  }
  std::vector<detect::Alert> fresh;
  std::vector<size_t> fresh_index;
  for (size_t i = 0; i < alerts.size(); ++i) {
    if (existing.count(alerts[i].key) == 0) {
      fresh.push_back(alerts[i]);
      fresh_index.push_back(i);
    }
  }
  auto added = detect::StoreAlerts(opt_.store, fresh);
  if (!added.ok()) return added.status();
  out.new_alerts = fresh.size();
  state.triggered += out.new_alerts > 0 ? 1 : 0;
  for (const auto& k : keys_this_run) sup[k] = scheduled_ms + search.suppress_period_ms;

  // The actions, for the new alerts only.
  for (size_t i : fresh_index) {
    const Triggered& t = out.triggered_alerts[i];
    auto run = [&](std::string_view what, Status s) {
      if (s.ok()) {
        ++out.actions_ok;
      } else {
        ++out.actions_failed;
        ++state.action_failures;
        log::Error("saved search [{}]: action {} failed (the alert is stored): {}", search.name,
                   what, s.message());
      }
    };
    if (search.webhook.enabled && !search.webhook.url.empty()) {
      run("webhook", PostJson(opt_.http.get(), search.webhook.url, WebhookPayload(t),
                              opt_.actions.timeout_ms));
    }
    if (search.slack.enabled && !search.slack.url.empty()) {
      run("slack", PostJson(opt_.http.get(), search.slack.url,
                            SlackPayload(t, search.slack.channel), opt_.actions.timeout_ms));
    }
    if (search.jsonl.enabled && !search.jsonl.path.empty()) {
      run("jsonl", AppendLine(opt_.fs, search.jsonl.path, JsonlLine(t)));
    }
    if (search.syslog.enabled) {
      run("syslog",
          SendSyslog(search.syslog, SyslogMessage(t, search.syslog.facility, opt_.actions.hostname),
                     opt_.actions.timeout_ms));
    }
  }
  return out;
}

Result<std::vector<RunOutcome>> Scheduler::RunDue() {
  const int64_t now_ms = opt_.clock->NowMicros() / 1000;
  // (time, search index) for every due window.
  std::vector<std::pair<int64_t, size_t>> due;
  for (size_t i = 0; i < searches_.size(); ++i) {
    const SavedSearch& s = searches_[i];
    auto cron = crons_.find(s.name);
    if (cron == crons_.end()) continue;
    auto st = state_.find(s.name);
    int64_t after;
    size_t limit = opt_.max_catchup_runs;
    if (st != state_.end() && st->second.last_run_ms >= 0) {
      after = st->second.last_run_ms;
    } else if (opt_.first_run_since_ms >= 0) {
      after = opt_.first_run_since_ms;
    } else {
      after = now_ms - opt_.max_catchup_ms;
      limit = 1;  // first sight: the most recent scheduled time only
    }
    int64_t floor = now_ms - opt_.max_catchup_ms;
    size_t skipped = 0;
    if (after < floor) {
      // Count what the age bound skips (cheaply: only to report it).
      size_t old = 0;
      int64_t first_old = cron->second.Next(after);
      if (first_old >= 0 && first_old <= floor) {
        cron->second.Between(after, floor, 1, &old);
        skipped += old + 1;
        log::Warn(
            "saved search [{}]: {} scheduled run(s) from {} to {} are older than the catch-up "
            "limit ({} h) and are skipped",
            s.name, old + 1, FormatIso8601(first_old), FormatIso8601(floor),
            opt_.max_catchup_ms / 3'600'000);
      }
      after = floor;
    }
    size_t dropped = 0;
    auto times = cron->second.Between(after, now_ms, limit, &dropped);
    if (dropped > 0 && limit > 1) {
      log::Warn(
          "saved search [{}]: {} missed scheduled run(s) before {} exceed the catch-up limit "
          "({} runs) and are skipped",
          s.name, dropped, FormatIso8601(times.empty() ? now_ms : times.front()),
          opt_.max_catchup_runs);
    }
    for (int64_t t : times) due.emplace_back(t, i);
  }
  std::sort(due.begin(), due.end());
  std::vector<RunOutcome> outcomes;
  for (size_t k = 0; k < due.size(); ++k) {
    const auto [t, i] = due[k];
    if (stop_.load()) break;
    const SavedSearch& s = searches_[i];
    const auto started = std::chrono::steady_clock::now();
    auto r = RunWindow(s, t, /*dry_run=*/false);
    if (!r.ok()) return r.status();  // storage: stop, the window stays due
    if (observer_) {
      observer_(s, *r,
                std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count());
    }
    SearchState& st = state_[s.name];
    if (!r->status.ok()) {
      ++st.search_failures;
      log::Error("saved search [{}] at {} failed: {}", s.name, FormatIso8601(t),
                 r->status.message());
    } else if (r->triggered) {
      log::Info("saved search [{}] at {}: {} result(s), triggered, {} new alert(s), {} suppressed",
                s.name, FormatIso8601(t), r->result_count, r->new_alerts, r->suppressed);
    } else {
      log::Debug("saved search [{}] at {}: {} result(s), not triggered", s.name, FormatIso8601(t),
                 r->result_count);
    }
    ++st.runs;
    st.last_run_ms = t;
    if (opt_.before_state_write && !opt_.before_state_write(s.name, t)) {
      return Cancelled("stopped before writing the state of [{}] at {}", s.name, FormatIso8601(t));
    }
    // One state write per scheduled time (after every search due then ran), not per run: the
    // fsyncs would otherwise dominate a catch-up. A crash before it only repeats runs whose
    // alerts are already stored.
    if (k + 1 == due.size() || due[k + 1].first != t) RETURN_IF_ERROR(SaveState());
    outcomes.push_back(std::move(r).value());
  }
  if (due.empty() && !opt_.fs->Exists(state_path())) RETURN_IF_ERROR(SaveState());
  return outcomes;
}

Status Scheduler::Loop() {
  while (!stop_.load()) {
    auto r = RunDue();
    if (!r.ok()) {
      if (stop_.load()) break;
      log::Error("alerts scheduler: {}", r.status().message());
    }
    const int64_t now_ms = opt_.clock->NowMicros() / 1000;
    int64_t next = -1;
    for (const auto& [name, cron] : crons_) {
      int64_t t = cron.Next(now_ms);
      if (t >= 0 && (next < 0 || t < next)) next = t;
    }
    if (next < 0) next = now_ms + 60'000;
    while (!stop_.load()) {
      int64_t left = next - opt_.clock->NowMicros() / 1000;
      if (left <= 0) break;
      opt_.clock->SleepMicros(std::min<int64_t>(left, 1000) * 1000);
    }
  }
  return Status::Ok();
}

}  // namespace cairn::alerts
