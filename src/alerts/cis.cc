#include "alerts/cis.h"

#include <cmath>

#include "common/json_util.h"
#include "common/time_util.h"
#include "detect/alert.h"
#include "query/engine.h"
#include "query/store_source.h"
#include "query/value.h"
#include "store/store.h"

namespace cairn::alerts {
namespace {

constexpr char kCisConf[] =
#include "cis_savedsearches.inc"
    ;

std::string One(const query::Values& v) { return v.empty() ? "-" : v.front(); }

}  // namespace

std::string_view CisSavedSearchesConf() { return kCisConf; }

Result<std::vector<SavedSearch>> CisSavedSearches() {
  return ParseSavedSearches(CisSavedSearchesConf(), "builtin:cis_savedsearches.conf");
}

Result<std::vector<CisControlResult>> RunCisReport(store::Store* store,
                                                   const query::MacroSet& macros, double earliest,
                                                   double latest, double now) {
  auto searches = CisSavedSearches();
  if (!searches.ok()) return searches.status();
  query::StoreSourceOptions src_opts;
  src_opts.indexes = detect::EventIndexes(*store);
  if (src_opts.indexes.empty()) src_opts.indexes.push_back("main");
  query::StoreEventSource source(store, src_opts);
  query::EngineOptions opts;
  opts.now = now;
  opts.earliest = earliest;
  opts.latest = latest;
  query::Engine engine(&source, macros, opts);
  std::vector<CisControlResult> out;
  for (const SavedSearch& s : *searches) {
    CisControlResult r;
    // "CIS AWS 4.1 - Unauthorized API calls"
    std::string rest = s.name.substr(std::string("CIS AWS ").size());
    size_t dash = rest.find(" - ");
    r.id = rest.substr(0, dash);
    r.title = dash == std::string::npos ? rest : rest.substr(dash + 3);
    auto f = s.other.find("cairn.cis_filter");
    if (f != s.other.end()) r.filter = f->second;
    r.search = s.search;
    auto plan = engine.Prepare(s.search);
    if (!plan.ok()) {
      r.status = plan.status();
      out.push_back(std::move(r));
      continue;
    }
    auto res = engine.ExecuteRows(*plan);
    if (!res.ok()) {
      r.status = res.status();
      out.push_back(std::move(r));
      continue;
    }
    const query::SearchResults& rows = **res;
    r.count = rows.size();
    for (size_t i = 0; i < rows.size(); ++i) {
      auto t = query::ParseNumber(One(rows.Field(i, "_time")));
      if (!t) continue;
      int64_t ms = static_cast<int64_t>(std::llround(*t * 1000));
      r.times_ms.push_back(ms);
      if (r.first_ms < 0 || ms < r.first_ms) r.first_ms = ms;
      if (r.last_ms < 0 || ms > r.last_ms) r.last_ms = ms;
    }
    // Events come newest first; the examples are the oldest ten, in time order.
    for (size_t k = 0; k < rows.size() && k < 10; ++k) {
      size_t i = rows.size() - 1 - k;
      auto t = query::ParseNumber(One(rows.Field(i, "_time")));
      r.examples.push_back(fmt::format(
          "{} {} {} {} {}", t ? FormatIso8601(static_cast<int64_t>(std::llround(*t * 1000))) : "-",
          One(rows.Field(i, "eventName")), One(rows.Field(i, "userIdentity.arn")),
          One(rows.Field(i, "sourceIPAddress")), One(rows.Field(i, "eventID"))));
    }
    if (Status late = rows.status(); !late.ok()) r.status = late;
    out.push_back(std::move(r));
  }
  return out;
}

std::string CisReportText(const std::vector<CisControlResult>& results) {
  std::string out = fmt::format("{:<6} {:<58} {:>8}  {:<6} {:<20} {:<20}\n", "CIS", "control",
                                "events", "result", "first", "last");
  int passed = 0;
  for (const auto& r : results) {
    std::string verdict = !r.status.ok() ? "ERROR" : r.passed() ? "PASS" : "FAIL";
    if (r.passed()) ++passed;
    out += fmt::format("{:<6} {:<58} {:>8}  {:<6} {:<20} {:<20}\n", r.id, r.title.substr(0, 58),
                       r.count, verdict, r.first_ms >= 0 ? FormatIso8601(r.first_ms) : "-",
                       r.last_ms >= 0 ? FormatIso8601(r.last_ms) : "-");
    if (!r.status.ok()) out += "       error: " + r.status.message() + "\n";
    for (const auto& e : r.examples) out += "       " + e + "\n";
  }
  out += fmt::format(
      "{} of {} controls passed (no matching event); FAIL: the control's alarm "
      "would have fired\n",
      passed, results.size());
  return out;
}

std::string CisReportJson(const std::vector<CisControlResult>& results) {
  std::string out = "{\"report\":\"cis-aws-foundations-monitoring\",\"controls\":[";
  for (size_t i = 0; i < results.size(); ++i) {
    const auto& r = results[i];
    if (i) out += ",";
    out += "\n{\"id\":" + JsonString(r.id) + ",\"title\":" + JsonString(r.title) +
           ",\"filter\":" + JsonString(r.filter) + ",\"search\":" + JsonString(r.search) +
           ",\"count\":" + std::to_string(r.count) + ",\"result\":" +
           JsonString(!r.status.ok() ? "error"
                      : r.passed()   ? "pass"
                                     : "fail");
    if (r.first_ms >= 0) out += ",\"first\":" + JsonString(FormatIso8601(r.first_ms, true));
    if (r.last_ms >= 0) out += ",\"last\":" + JsonString(FormatIso8601(r.last_ms, true));
    if (!r.status.ok()) out += ",\"error\":" + JsonString(r.status.message());
    out += ",\"examples\":[";
    for (size_t k = 0; k < r.examples.size(); ++k) {
      if (k) out += ",";
      out += JsonString(r.examples[k]);
    }
    out += "]}";
  }
  out += "\n]}\n";
  return out;
}

}  // namespace cairn::alerts
