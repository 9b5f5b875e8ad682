#pragma once
// The CIS AWS Foundations Benchmark monitoring controls (4.1-4.15) as built-in saved searches, and
// the report `cairn alerts report cis` prints: per control, how many events matched its filter in
// a time range, the first and last, a few examples, and whether it passed (no event) or not.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "alerts/conf.h"
#include "common/status.h"
#include "query/macros.h"

namespace cairn::store {
class Store;
}

namespace cairn::alerts {

// The shipped savedsearches.conf text (src/alerts/cis_savedsearches.conf, compiled in).
std::string_view CisSavedSearchesConf();
// It parsed (origin "builtin:cis_savedsearches.conf").
Result<std::vector<SavedSearch>> CisSavedSearches();

struct CisControlResult {
  std::string id;      // "4.1"
  std::string title;   // "Unauthorized API calls"
  std::string filter;  // the benchmark's CloudWatch Logs filter pattern
  std::string search;  // the SPL cairn runs
  uint64_t count = 0;
  int64_t first_ms = -1, last_ms = -1;
  std::vector<std::string> examples;  // up to 10: "time eventName user sourceIP eventID"
  std::vector<int64_t> times_ms;      // every matched event's _time (the HTML report's chart)
  Status status;                      // the search's error, if any
  bool passed() const { return status.ok() && count == 0; }
};

// Runs every control over [earliest, latest) (epoch seconds; infinities for no bound).
Result<std::vector<CisControlResult>> RunCisReport(store::Store* store,
                                                   const query::MacroSet& macros, double earliest,
                                                   double latest, double now);
std::string CisReportText(const std::vector<CisControlResult>& results);
std::string CisReportJson(const std::vector<CisControlResult>& results);
// One self-contained HTML page (inline CSS and SVG, no script, nothing fetched): a summary table,
// then per control its filter, SPL, count, first/last, examples and a bar chart of its events over
// [earliest_ms, latest_ms) (or over the events' span when a bound is open: pass -1) in 24 bins.
// Every value is HTML-escaped. `generated_ms` is printed as the report's time. (cis_html.cc)
std::string CisReportHtml(const std::vector<CisControlResult>& results, int64_t earliest_ms,
                          int64_t latest_ms, int64_t generated_ms);

}  // namespace cairn::alerts
