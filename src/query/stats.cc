// Aggregating commands: stats, eventstats, streamstats, timechart, chart, bin, top, rare.

#include <algorithm>
#include <cmath>
#include <deque>
#include <map>
#include <set>

#include "query/exec_internal.h"
#include "query/time_format.h"

namespace cairn::query::internal {
namespace {

// Values seen by one aggregation in one group.
struct Acc {
  long long rows = 0;             // rows seen (count with no field)
  std::vector<std::string> vals;  // values in arrival order
  std::vector<double> times;      // _time of each value (for earliest/latest)
};

std::optional<std::string> Finish(const Aggregation& a, const Acc& acc) {
  const std::string& f = a.func;
  const auto& v = acc.vals;
  if (f == "count") {
    return std::to_string(a.field.empty() ? acc.rows : static_cast<long long>(v.size()));
  }
  if (f == "dc") {
    std::set<std::string> s(v.begin(), v.end());
    return std::to_string(s.size());
  }
  if (v.empty()) return std::nullopt;
  if (f == "first") return v.front();
  if (f == "last") return v.back();
  if (f == "earliest" || f == "latest" || f == "earliest_time" || f == "latest_time") {
    size_t best = 0;
    for (size_t i = 1; i < v.size(); ++i) {
      if (f == "earliest" || f == "earliest_time" ? acc.times[i] < acc.times[best]
                                                  : acc.times[i] >= acc.times[best]) {
        best = i;
      }
    }
    if (f == "earliest_time" || f == "latest_time") return FormatNumber(acc.times[best]);
    return v[best];
  }
  if (f == "min" || f == "max") {
    std::optional<double> num;
    std::optional<std::string> str;
    for (const auto& s : v) {
      if (auto n = ParseNumber(s)) {
        if (!num || (f == "min" ? *n < *num : *n > *num)) num = *n;
      } else if (!str || (f == "min" ? s < *str : s > *str)) {
        str = s;
      }
    }
    if (num) {
      // Keep the value's own text when it is one of the inputs.
      for (const auto& s : v) {
        auto n = ParseNumber(s);
        if (n && *n == *num) return s;
      }
      return FormatNumber(*num);
    }
    return str;
  }
  if (f == "mode") {
    std::map<std::string, long long> freq;
    for (const auto& s : v) ++freq[s];
    std::string best;
    long long bc = -1;
    for (const auto& s : v) {
      if (freq[s] > bc) {
        bc = freq[s];
        best = s;
      }
    }
    return best;
  }
  std::vector<double> nums;
  for (const auto& s : v) {
    if (auto n = ParseNumber(s)) nums.push_back(*n);
  }
  if (nums.empty()) return std::nullopt;
  double sum = 0, sumsq = 0;
  for (double d : nums) {
    sum += d;
    sumsq += d * d;
  }
  double n = static_cast<double>(nums.size());
  if (f == "sum") return FormatNumber(sum);
  if (f == "sumsq") return FormatNumber(sumsq);
  if (f == "avg") return FormatNumber(sum / n);
  if (f == "range") {
    auto [mn, mx] = std::minmax_element(nums.begin(), nums.end());
    return FormatNumber(*mx - *mn);
  }
  if (f == "stdev" || f == "var" || f == "stdevp" || f == "varp") {
    double mean = sum / n;
    double ss = 0;
    for (double d : nums) ss += (d - mean) * (d - mean);
    bool pop = f == "stdevp" || f == "varp";
    double var = pop ? ss / n : (n > 1 ? ss / (n - 1) : 0);
    return FormatNumber(f[0] == 's' ? std::sqrt(var) : var);
  }
  bool perc = f[0] == 'p' || f.rfind("exactperc", 0) == 0 || f.rfind("upperperc", 0) == 0;
  if (f == "median" || perc) {
    std::sort(nums.begin(), nums.end());
    if (f == "median") return FormatNumber(nums[nums.size() / 2]);
    double rank = a.percentile / 100.0 * (n - 1);
    size_t lo = static_cast<size_t>(std::floor(rank));
    size_t hi = std::min(lo + 1, nums.size() - 1);
    double frac = rank - static_cast<double>(lo);
    return FormatNumber(nums[lo] + (nums[hi] - nums[lo]) * frac);
  }
  return std::nullopt;
}

Values FinishValues(const Aggregation& a, const Acc& acc) {
  if (a.func == "values") {
    std::set<std::string> s(acc.vals.begin(), acc.vals.end());
    return Values(s.begin(), s.end());
  }
  if (a.func == "list") {
    Values out(acc.vals.begin(),
               acc.vals.begin() + static_cast<long>(std::min<size_t>(acc.vals.size(), 100)));
    return out;
  }
  auto r = Finish(a, acc);
  if (!r) return {};
  return {*r};
}

// Expands aggregations naming '*' (values(*) as *) against the fields present.
std::vector<Aggregation> ExpandAggs(const std::vector<Aggregation>& aggs, std::vector<Row>& rows,
                                    const std::vector<std::string>& by) {
  bool any = false;
  for (const auto& a : aggs) any |= a.field.find('*') != std::string::npos;
  if (!any) return aggs;
  std::vector<std::string> names = AllFieldNames(rows);
  std::vector<Aggregation> out;
  for (const auto& a : aggs) {
    if (a.field.find('*') == std::string::npos) {
      out.push_back(a);
      continue;
    }
    std::string pfx = a.field.substr(0, a.field.find('*'));
    std::string sfx = a.field.substr(a.field.find('*') + 1);
    for (const auto& n : names) {
      if (std::find(by.begin(), by.end(), n) != by.end()) continue;
      if (!n.empty() && n[0] == '_') continue;
      if (!GlobMatch(a.field, n, false)) continue;
      Aggregation e = a;
      e.field = n;
      if (!a.as.empty()) {
        std::string mid = n.substr(pfx.size(), n.size() - pfx.size() - sfx.size());
        std::string to = a.as;
        size_t star = to.find('*');
        if (star != std::string::npos) to.replace(star, 1, mid);
        e.as = to;
      }
      out.push_back(e);
    }
  }
  return out;
}

void Feed(const std::vector<Aggregation>& aggs, Row& row, std::vector<Acc>* accs) {
  double t = row.time();
  for (size_t i = 0; i < aggs.size(); ++i) {
    Acc& acc = (*accs)[i];
    acc.rows += row.weight();
    if (aggs[i].field.empty()) continue;
    const Values* v = row.Get(aggs[i].field);
    if (!v) continue;
    for (const auto& s : *v) {
      acc.vals.push_back(s);
      acc.times.push_back(t);
    }
  }
}

// Group keys for a row: the cartesian product of its by-field values; empty if any is null.
std::vector<std::vector<std::string>> KeysOf(Row& row, const std::vector<std::string>& by) {
  std::vector<std::vector<std::string>> keys{{}};
  for (const auto& f : by) {
    const Values* v = row.Get(f);
    if (!v) return {};
    std::vector<std::vector<std::string>> next;
    std::set<std::string> uniq;
    for (const auto& k : keys) {
      for (const auto& s : *v) {
        if (v->size() > 1 && !uniq.insert(s).second) continue;
        auto nk = k;
        nk.push_back(s);
        next.push_back(std::move(nk));
      }
      uniq.clear();
    }
    keys = std::move(next);
  }
  return keys;
}

struct KeyLess {
  bool operator()(const std::vector<std::string>& a, const std::vector<std::string>& b) const {
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      int c = CompareMixed(a[i], b[i]);
      if (c != 0) return c < 0;
      if (a[i] != b[i]) return a[i] < b[i];
    }
    return a.size() < b.size();
  }
};

using Groups = std::map<std::vector<std::string>, std::vector<Acc>, KeyLess>;

Groups Aggregate(const std::vector<Aggregation>& aggs, const std::vector<std::string>& by,
                 std::vector<Row>& rows) {
  Groups groups;
  for (Row& row : rows) {
    for (auto& key : KeysOf(row, by)) {
      auto it = groups.find(key);
      if (it == groups.end()) it = groups.emplace(key, std::vector<Acc>(aggs.size())).first;
      Feed(aggs, row, &it->second);
    }
  }
  return groups;
}

Result<double> SpanOf(const Command& c, const std::vector<Row>& rows_unused, double lo, double hi) {
  auto it = c.options.find("span");
  if (it != c.options.end()) {
    ASSIGN_OR_RETURN(double s, ParseSpan(it->second));
    if (s <= 0) return InvalidArgument("{}: span must be positive", c.name);
    return s;
  }
  // Splunk's automatic span for the time range searched.
  double range = hi - lo;
  if (range <= 15 * 60) return 10.0;
  if (range <= 60 * 60) return 60.0;
  if (range <= 4 * 3600) return 300.0;
  if (range <= 24 * 3600) return 1800.0;
  if (range <= 7 * 86400) return 3600.0;
  return 86400.0;
}

double Floor(double t, double span) { return std::floor(t / span) * span; }

}  // namespace

Status Executor::Stats(const Command& c, Results* r) {
  std::vector<Aggregation> aggs = ExpandAggs(c.aggs, r->rows, c.by);
  Groups groups = Aggregate(aggs, c.by, r->rows);
  if (groups.empty() && c.by.empty())
    groups.emplace(std::vector<std::string>{}, std::vector<Acc>(aggs.size()));
  std::vector<Row> out;
  for (auto& [key, accs] : groups) {
    Row row;
    for (size_t i = 0; i < c.by.size(); ++i) row.Set(c.by[i], {key[i]});
    for (size_t i = 0; i < aggs.size(); ++i)
      row.Set(aggs[i].OutputName(), FinishValues(aggs[i], accs[i]));
    out.push_back(std::move(row));
  }
  r->rows = std::move(out);
  r->columns = c.by;
  for (const auto& a : aggs) {
    std::string n = a.OutputName();
    if (std::find(r->columns.begin(), r->columns.end(), n) == r->columns.end())
      r->columns.push_back(n);
  }
  r->known = true;
  return Status::Ok();
}

Status Executor::EventStats(const Command& c, Results* r) {
  std::vector<Aggregation> aggs = ExpandAggs(c.aggs, r->rows, c.by);
  Groups groups = Aggregate(aggs, c.by, r->rows);
  for (Row& row : r->rows) {
    auto keys = KeysOf(row, c.by);
    if (keys.empty()) continue;
    auto it = groups.find(keys[0]);
    if (it == groups.end()) continue;
    for (size_t i = 0; i < aggs.size(); ++i)
      row.Set(aggs[i].OutputName(), FinishValues(aggs[i], it->second[i]));
  }
  for (const auto& a : aggs) {
    if (r->known &&
        std::find(r->columns.begin(), r->columns.end(), a.OutputName()) == r->columns.end()) {
      r->columns.push_back(a.OutputName());
    }
  }
  return Status::Ok();
}

Status Executor::StreamStats(const Command& c, Results* r) {
  std::vector<Aggregation> aggs = c.aggs;
  if (aggs.empty()) aggs.push_back(Aggregation{"count", "", "", 0});
  long long window = 0;
  if (c.options.count("window")) {
    auto n = ParseNumber(c.options.at("window"));
    if (!n || *n < 0) return InvalidArgument("streamstats: window must be a non-negative number");
    window = static_cast<long long>(*n);
  }
  bool current = BoolOption(c, "current", true);
  // Per group: the rows (as single-row accumulators) inside the window.
  std::map<std::vector<std::string>, std::deque<std::vector<Acc>>, KeyLess> state;
  for (Row& row : r->rows) {
    auto keys = KeysOf(row, c.by);
    if (keys.empty()) continue;
    auto& dq = state[keys[0]];
    std::vector<Acc> mine(aggs.size());
    Feed(aggs, row, &mine);
    if (current) {
      dq.push_back(mine);
      if (window > 0 && static_cast<long long>(dq.size()) > window) dq.pop_front();
    }
    std::vector<Acc> merged(aggs.size());
    for (const auto& accs : dq) {
      for (size_t i = 0; i < aggs.size(); ++i) {
        merged[i].rows += accs[i].rows;
        merged[i].vals.insert(merged[i].vals.end(), accs[i].vals.begin(), accs[i].vals.end());
        merged[i].times.insert(merged[i].times.end(), accs[i].times.begin(), accs[i].times.end());
      }
    }
    for (size_t i = 0; i < aggs.size(); ++i) {
      if (!current && dq.empty() && aggs[i].func != "count" && aggs[i].func != "dc") continue;
      row.Set(aggs[i].OutputName(), FinishValues(aggs[i], merged[i]));
    }
    if (!current) {
      dq.push_back(mine);
      if (window > 0 && static_cast<long long>(dq.size()) > window) dq.pop_front();
    }
  }
  for (const auto& a : aggs) {
    if (r->known &&
        std::find(r->columns.begin(), r->columns.end(), a.OutputName()) == r->columns.end()) {
      r->columns.push_back(a.OutputName());
    }
  }
  return Status::Ok();
}

Status Executor::Chart(const Command& c, Results* r) {
  bool timechart = c.name == "timechart";
  std::string row_field, series_field;
  if (timechart) {
    row_field = "_time";
    if (c.by.size() > 1) return InvalidArgument("timechart takes at most one by-field");
    if (!c.by.empty()) series_field = c.by[0];
  } else {
    auto over = c.options.find("over");
    if (c.by.empty()) return InvalidArgument("chart needs 'by field' (or 'over field')");
    row_field = c.by[0];
    if (c.by.size() > 1) series_field = c.by[1];
    if (c.by.size() > 2) return InvalidArgument("chart takes at most two by-fields");
    (void)over;
  }
  if (c.aggs.empty()) return InvalidArgument("{} needs a function", c.name);
  ASSIGN_OR_RETURN(long long limit, IntOption(c, "limit", 10));
  bool useother = BoolOption(c, "useother", true);
  bool usenull = BoolOption(c, "usenull", true);
  std::string otherstr = c.options.count("otherstr") ? c.options.at("otherstr") : "OTHER";
  std::string nullstr = c.options.count("nullstr") ? c.options.at("nullstr") : "NULL";

  // Row keys.
  double span = 0, lo = 0, hi = 0;
  if (timechart) {
    bool any = false;
    for (Row& row : r->rows) {
      double t = row.time();
      if (!any || t < lo) lo = t;
      if (!any || t > hi) hi = t;
      any = true;
    }
    ASSIGN_OR_RETURN(span, SpanOf(c, r->rows, lo, hi));
  }
  auto row_key = [&](Row& row) -> std::optional<std::string> {
    if (timechart) return FormatNumber(Floor(row.time(), span));
    const Values* v = row.Get(row_field);
    if (!v) return std::nullopt;
    return v->front();
  };
  auto series_key = [&](Row& row) -> std::optional<std::string> {
    if (series_field.empty()) return std::string();
    const Values* v = row.Get(series_field);
    if (!v) return usenull ? std::optional<std::string>(nullstr) : std::nullopt;
    return v->front();
  };
  // Rank series by their total over all rows.
  std::map<std::string, std::vector<Acc>> totals;
  for (Row& row : r->rows) {
    auto s = series_key(row);
    if (!s) continue;
    auto& accs = totals[*s];
    if (accs.empty()) accs.resize(c.aggs.size());
    Feed(c.aggs, row, &accs);
  }
  std::vector<std::pair<double, std::string>> ranked;
  for (auto& [s, accs] : totals) {
    if (s == nullstr && !series_field.empty()) continue;
    auto v = Finish(c.aggs[0], accs[0]);
    double score = v ? ParseNumber(*v).value_or(0) : 0;
    ranked.emplace_back(score, s);
  }
  std::stable_sort(ranked.begin(), ranked.end(),
                   [](const auto& a, const auto& b) { return a.first > b.first; });
  std::set<std::string> kept;
  bool has_other = false;
  for (size_t i = 0; i < ranked.size(); ++i) {
    if (limit > 0 && static_cast<long long>(i) >= limit) {
      has_other = useother;
      break;
    }
    kept.insert(ranked[i].second);
  }
  bool has_null = !series_field.empty() && totals.count(nullstr) && usenull;
  std::vector<std::string> series(kept.begin(), kept.end());
  if (has_null) series.push_back(nullstr);
  if (has_other) series.push_back(otherstr);

  // Cells: row key x series.
  std::map<std::string, std::map<std::string, std::vector<Acc>>, KeyLess> cells_unused;
  std::map<std::vector<std::string>, std::map<std::string, std::vector<Acc>>, KeyLess> cells;
  for (Row& row : r->rows) {
    auto rk = row_key(row);
    if (!rk) continue;
    auto sk = series_key(row);
    if (!sk) continue;
    std::string s = *sk;
    if (!series_field.empty() && s != nullstr && !kept.count(s)) {
      if (!has_other) continue;
      s = otherstr;
    }
    auto& accs = cells[{*rk}][s];
    if (accs.empty()) accs.resize(c.aggs.size());
    Feed(c.aggs, row, &accs);
  }
  if (timechart && !r->rows.empty()) {
    for (double t = Floor(lo, span); t <= hi; t += span) cells[{FormatNumber(t)}];
  }
  std::vector<std::string> columns{row_field};
  auto col_name = [&](size_t ai, const std::string& s) {
    if (series_field.empty()) return c.aggs[ai].OutputName();
    if (c.aggs.size() == 1) return s;
    return c.aggs[ai].OutputName() + ": " + s;
  };
  std::vector<std::string> col_series =
      series_field.empty() ? std::vector<std::string>{""} : series;
  for (size_t ai = 0; ai < c.aggs.size(); ++ai) {
    for (const auto& s : col_series) columns.push_back(col_name(ai, s));
  }
  std::vector<Row> out;
  for (auto& [rk, by_series] : cells) {
    Row row;
    row.Set(row_field, {rk[0]});
    for (size_t ai = 0; ai < c.aggs.size(); ++ai) {
      for (const auto& s : col_series) {
        auto it = by_series.find(s);
        Values v;
        if (it != by_series.end()) {
          v = FinishValues(c.aggs[ai], it->second[ai]);
        } else if (c.aggs[ai].func == "count" || c.aggs[ai].func == "dc") {
          v = {"0"};
        }
        if (v.empty() && (c.aggs[ai].func == "count" || c.aggs[ai].func == "dc")) v = {"0"};
        row.Set(col_name(ai, s), v);
      }
    }
    out.push_back(std::move(row));
  }
  r->rows = std::move(out);
  r->columns = columns;
  r->known = true;
  return Status::Ok();
}

Status Executor::Bin(const Command& c, Results* r) {
  const std::string& f = c.fields[0];
  std::string target = c.text.empty() ? f : c.text;
  double span = 0;
  if (c.options.count("span")) {
    ASSIGN_OR_RETURN(span, ParseSpan(c.options.at("span")));
    if (span <= 0) return InvalidArgument("bin: span must be positive");
  } else if (c.options.count("bins")) {
    auto bins = ParseNumber(c.options.at("bins"));
    if (!bins || *bins < 1) return InvalidArgument("bin: bins must be a positive number");
    std::optional<double> mn, mx;
    for (Row& row : r->rows) {
      const Values* v = row.Get(f);
      if (!v) continue;
      if (auto n = ParseNumber(v->front())) {
        mn = mn ? std::min(*mn, *n) : *n;
        mx = mx ? std::max(*mx, *n) : *n;
      }
    }
    if (!mn) return Status::Ok();
    double range = *mx - *mn;
    span = 1;
    while (range / span >= *bins) span *= 10;
  } else if (f == "_time") {
    double lo = 0, hi = 0;
    bool any = false;
    for (Row& row : r->rows) {
      double t = row.time();
      if (!any || t < lo) lo = t;
      if (!any || t > hi) hi = t;
      any = true;
    }
    ASSIGN_OR_RETURN(span, SpanOf(c, r->rows, lo, hi));
  } else {
    return InvalidArgument("bin {} needs span= or bins=", f);
  }
  for (Row& row : r->rows) {
    const Values* v = row.Get(f);
    if (!v) continue;
    auto n = ParseNumber(v->front());
    if (!n) continue;
    double b = Floor(*n, span);
    if (f == "_time") {
      row.Set(target, {FormatNumber(b)});
    } else {
      row.Set(target, {FormatNumber(b) + "-" + FormatNumber(b + span)});
    }
  }
  return Status::Ok();
}

Status Executor::TopRare(const Command& c, Results* r) {
  bool top = c.name == "top";
  ASSIGN_OR_RETURN(long long limit, IntOption(c, "limit", 10));
  bool showcount = BoolOption(c, "showcount", true);
  bool showperc = BoolOption(c, "showperc", true);
  bool useother = BoolOption(c, "useother", false);
  std::string countfield = c.options.count("countfield") ? c.options.at("countfield") : "count";
  std::string percentfield =
      c.options.count("percentfield") ? c.options.at("percentfield") : "percent";
  std::string otherstr = c.options.count("otherstr") ? c.options.at("otherstr") : "OTHER";
  struct Group {
    long long total = 0;
    std::map<std::vector<std::string>, long long> counts;
    std::map<std::vector<std::string>, size_t> first_seen;
  };
  std::map<std::vector<std::string>, Group, KeyLess> groups;
  size_t seq = 0;
  for (Row& row : r->rows) {
    auto bykeys = KeysOf(row, c.by);
    if (bykeys.empty()) continue;
    auto vals = KeysOf(row, c.fields);
    if (vals.empty()) continue;
    Group& g = groups[bykeys[0]];
    ++g.total;
    for (auto& v : vals) {
      ++g.counts[v];
      g.first_seen.emplace(v, seq++);
    }
  }
  std::vector<Row> out;
  for (auto& [bk, g] : groups) {
    std::vector<std::pair<std::vector<std::string>, long long>> items(g.counts.begin(),
                                                                      g.counts.end());
    std::stable_sort(items.begin(), items.end(), [&](const auto& a, const auto& b) {
      if (a.second != b.second) return top ? a.second > b.second : a.second < b.second;
      return KeyLess()(a.first, b.first);
    });
    long long shown = 0, rest = 0;
    for (size_t i = 0; i < items.size(); ++i) {
      if (limit > 0 && static_cast<long long>(i) >= limit) {
        rest += items[i].second;
        continue;
      }
      Row row;
      for (size_t k = 0; k < c.by.size(); ++k) row.Set(c.by[k], {bk[k]});
      for (size_t k = 0; k < c.fields.size(); ++k) row.Set(c.fields[k], {items[i].first[k]});
      if (showcount) row.Set(countfield, {std::to_string(items[i].second)});
      if (showperc) {
        row.Set(percentfield, {fmt::format("{:.6f}", 100.0 * static_cast<double>(items[i].second) /
                                                         static_cast<double>(g.total))});
      }
      ++shown;
      out.push_back(std::move(row));
    }
    if (useother && rest > 0) {
      Row row;
      for (size_t k = 0; k < c.by.size(); ++k) row.Set(c.by[k], {bk[k]});
      for (size_t k = 0; k < c.fields.size(); ++k) row.Set(c.fields[k], {otherstr});
      if (showcount) row.Set(countfield, {std::to_string(rest)});
      if (showperc)
        row.Set(percentfield, {fmt::format("{:.6f}", 100.0 * static_cast<double>(rest) /
                                                         static_cast<double>(g.total))});
      out.push_back(std::move(row));
    }
  }
  r->rows = std::move(out);
  r->columns = c.by;
  for (const auto& f : c.fields) r->columns.push_back(f);
  if (showcount) r->columns.push_back(countfield);
  if (showperc) r->columns.push_back(percentfield);
  r->known = true;
  return Status::Ok();
}

}  // namespace cairn::query::internal
