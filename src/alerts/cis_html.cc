// `cairn report cis --format html`: the CIS monitoring report as one self-contained page.

#include <fmt/format.h>

#include <algorithm>
#include <string>
#include <vector>

#include "alerts/cis.h"
#include "common/time_util.h"

namespace cairn::alerts {
namespace {

constexpr int kBins = 24;

std::string Esc(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string Time(int64_t ms) { return ms < 0 ? "-" : FormatIso8601(ms); }

// A bar chart of `times` over [from, to) in kBins bins, with the axis' ends and the tallest bar's
// count written as text.
std::string Chart(const std::vector<int64_t>& times, int64_t from, int64_t to) {
  constexpr int kW = 720, kH = 120, kLeft = 40, kBottom = 20, kTop = 8;
  std::vector<uint64_t> bins(kBins, 0);
  const int64_t span = std::max<int64_t>(1, to - from);
  for (int64_t t : times) {
    if (t < from || t > to) continue;
    int64_t b = (t - from) * kBins / span;
    bins[static_cast<size_t>(std::clamp<int64_t>(b, 0, kBins - 1))]++;
  }
  const uint64_t top = std::max<uint64_t>(1, *std::max_element(bins.begin(), bins.end()));
  const double bw = static_cast<double>(kW - kLeft) / kBins;
  const int plot_h = kH - kBottom - kTop;
  std::string svg = fmt::format(
      "<svg class=\"chart\" role=\"img\" viewBox=\"0 0 {} {}\" width=\"{}\" height=\"{}\" "
      "xmlns=\"http://www.w3.org/2000/svg\"><title>events per bin, {} to {}</title>",
      kW, kH, kW, kH, Esc(Time(from)), Esc(Time(to)));
  svg += fmt::format(
      "<line x1=\"{}\" y1=\"{}\" x2=\"{}\" y2=\"{}\" class=\"axis\"/>"
      "<text x=\"{}\" y=\"{}\" class=\"lbl\" text-anchor=\"end\">{}</text>"
      "<text x=\"{}\" y=\"{}\" class=\"lbl\" text-anchor=\"end\">0</text>",
      kLeft, kH - kBottom, kW, kH - kBottom, kLeft - 4, kTop + 10, top, kLeft - 4, kH - kBottom);
  for (int i = 0; i < kBins; ++i) {
    if (bins[i] == 0) continue;
    const double h = static_cast<double>(bins[i]) * plot_h / static_cast<double>(top);
    svg += fmt::format(
        "<rect x=\"{:.1f}\" y=\"{:.1f}\" width=\"{:.1f}\" height=\"{:.1f}\" class=\"bar\">"
        "<title>{}: {}</title></rect>",
        kLeft + i * bw + 1, kH - kBottom - h, bw - 2, h, Esc(Time(from + span * i / kBins)),
        bins[i]);
  }
  svg += fmt::format(
      "<text x=\"{}\" y=\"{}\" class=\"lbl\">{}</text>"
      "<text x=\"{}\" y=\"{}\" class=\"lbl\" text-anchor=\"end\">{}</text></svg>",
      kLeft, kH - 4, Esc(Time(from)), kW, kH - 4, Esc(Time(to)));
  return svg;
}

constexpr char kStyle[] = R"(
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:24px;color:#1b1f24;background:#fff}
h1{font-size:22px;margin:0 0 4px}
h2{font-size:17px;margin:0 0 8px}
h3{font-size:14px;margin:8px 0 2px}
.meta{color:#57606a;margin:0 0 16px}
table.sum{border-collapse:collapse;margin:0 0 24px;width:100%;max-width:1100px}
table.sum th,table.sum td{border-bottom:1px solid #d0d7de;padding:4px 8px;text-align:left;vertical-align:top}
table.sum td.n{text-align:right;font-variant-numeric:tabular-nums}
.PASS{color:#1a7f37;font-weight:600}.FAIL{color:#cf222e;font-weight:600}.ERROR{color:#9a6700;font-weight:600}
section{border:1px solid #d0d7de;border-radius:6px;padding:12px 16px;margin:0 0 16px;max-width:1100px}
dl{display:grid;grid-template-columns:max-content 1fr;gap:2px 12px;margin:0 0 8px}
dt{color:#57606a}dd{margin:0}
code,pre{font-family:ui-monospace,SFMono-Regular,Menlo,monospace;font-size:12px;white-space:pre-wrap;word-break:break-all}
pre{background:#f6f8fa;padding:6px 8px;border-radius:4px;margin:4px 0}
.chart .bar{fill:#0969da}.chart .axis{stroke:#8c959f}.chart .lbl{font-size:11px;fill:#57606a}
)";

}  // namespace

std::string CisReportHtml(const std::vector<CisControlResult>& results, int64_t earliest_ms,
                          int64_t latest_ms, int64_t generated_ms) {
  // The chart's range: the report's bounds, else the events' span.
  int64_t from = earliest_ms, to = latest_ms;
  int64_t lo = -1, hi = -1;
  for (const auto& r : results) {
    if (r.first_ms >= 0 && (lo < 0 || r.first_ms < lo)) lo = r.first_ms;
    if (r.last_ms >= 0 && r.last_ms > hi) hi = r.last_ms;
  }
  if (from < 0) from = lo >= 0 ? lo : generated_ms - 86'400'000;
  if (to < 0) to = hi >= 0 ? hi + 1 : generated_ms;
  if (to <= from) to = from + 1;

  int passed = 0, failed = 0, errors = 0;
  for (const auto& r : results) {
    if (!r.status.ok()) {
      ++errors;
    } else if (r.passed()) {
      ++passed;
    } else {
      ++failed;
    }
  }
  std::string out =
      "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
      "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
      "<title>CIS AWS Foundations monitoring report</title><style>";
  out += kStyle;
  out += "</style></head><body>\n<h1>CIS AWS Foundations Benchmark: monitoring (4.1-4.15)</h1>\n";
  out += fmt::format(
      "<p class=\"meta\">Events from {} to {}; generated {}. {} passed, {} failed, {} errors. A "
      "control passes when no event matched its filter.</p>\n",
      Esc(earliest_ms < 0 ? "the beginning" : Time(earliest_ms)),
      Esc(latest_ms < 0 ? "now" : Time(latest_ms)), Esc(Time(generated_ms)), passed, failed,
      errors);
  out +=
      "<table class=\"sum\"><thead><tr><th>CIS</th><th>Control</th><th>Events</th><th>Result</th>"
      "<th>First</th><th>Last</th></tr></thead><tbody>\n";
  for (const auto& r : results) {
    const char* verdict = !r.status.ok() ? "ERROR" : r.passed() ? "PASS" : "FAIL";
    out += fmt::format(
        "<tr><td><a href=\"#c{}\">{}</a></td><td>{}</td><td class=\"n\">{}</td>"
        "<td class=\"{}\">{}</td><td>{}</td><td>{}</td></tr>\n",
        Esc(r.id), Esc(r.id), Esc(r.title), r.count, verdict, verdict, Esc(Time(r.first_ms)),
        Esc(Time(r.last_ms)));
  }
  out += "</tbody></table>\n";
  for (const auto& r : results) {
    const char* verdict = !r.status.ok() ? "ERROR" : r.passed() ? "PASS" : "FAIL";
    out += fmt::format("<section id=\"c{}\"><h2>{} {} <span class=\"{}\">{}</span></h2>\n<dl>",
                       Esc(r.id), Esc(r.id), Esc(r.title), verdict, verdict);
    out +=
        fmt::format("<dt>Events</dt><dd>{}</dd><dt>First</dt><dd>{}</dd><dt>Last</dt><dd>{}</dd>",
                    r.count, Esc(Time(r.first_ms)), Esc(Time(r.last_ms)));
    if (!r.status.ok()) out += fmt::format("<dt>Error</dt><dd>{}</dd>", Esc(r.status.message()));
    out += fmt::format("<dt>Filter</dt><dd><pre>{}</pre></dd><dt>Search</dt><dd><pre>{}</pre></dd>",
                       Esc(r.filter), Esc(r.search));
    out += "</dl>\n";
    out += Chart(r.times_ms, from, to);
    if (!r.examples.empty()) {
      out += "\n<h3>Examples</h3><pre>";
      for (const auto& e : r.examples) out += Esc(e) + "\n";
      out += "</pre>";
    }
    out += "</section>\n";
  }
  out += "</body></html>\n";
  return out;
}

}  // namespace cairn::alerts
