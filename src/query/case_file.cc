#include "query/case_file.h"

#include <simdjson.h>

#include "common/time_util.h"
#include "query/time_format.h"
#include "query/value.h"

namespace cairn::query::testing {
namespace {

std::string Trim(const std::string& s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return s.substr(b, e - b + 1);
}

bool StartsWith(const std::string& s, const char* p) { return s.rfind(p, 0) == 0; }

// "a | b" -> normalised "a | b" with trimmed cells.
}  // namespace

std::string NormaliseRow(const std::string& line) {
  std::string out;
  size_t p = 0;
  bool first = true;
  while (true) {
    size_t q = line.find('|', p);
    std::string cell = Trim(line.substr(p, q == std::string::npos ? std::string::npos : q - p));
    out += (first ? "" : " | ") + cell;
    first = false;
    if (q == std::string::npos) break;
    p = q + 1;
  }
  return out;
}

namespace {

Result<EventRecord> ParseEventLine(std::string line, double now, int line_no,
                                   const std::string& path) {
  EventRecord ev;
  ev.index = "main";
  ev.sourcetype = "aws:cloudtrail";
  ev.source = path;
  ev.host = "cairn-test";
  ev.time = now;
  bool time_set = false;
  // Leading @key=value settings.
  while (StartsWith(line, "@")) {
    size_t sp = line.find(' ');
    std::string kv = line.substr(1, sp == std::string::npos ? std::string::npos : sp - 1);
    line = sp == std::string::npos ? "" : Trim(line.substr(sp + 1));
    size_t eq = kv.find('=');
    if (eq == std::string::npos)
      return InvalidArgument("{}:{}: bad event setting @{}", path, line_no, kv);
    std::string k = kv.substr(0, eq), v = kv.substr(eq + 1);
    if (k == "sourcetype")
      ev.sourcetype = v;
    else if (k == "index")
      ev.index = v;
    else if (k == "source")
      ev.source = v;
    else if (k == "host")
      ev.host = v;
    else if (k == "time") {
      auto t = ResolveTimeModifier(v, now);
      if (!t.ok()) return InvalidArgument("{}:{}: {}", path, line_no, t.status().message());
      ev.time = *t;
      time_set = true;
    } else {
      return InvalidArgument("{}:{}: unknown event setting @{}", path, line_no, k);
    }
  }
  ev.raw = line;
  if (!time_set && !line.empty() && line[0] == '{') {
    simdjson::dom::parser parser;
    simdjson::dom::element root;
    simdjson::padded_string padded(line);
    if (parser.parse(padded).get(root) != simdjson::SUCCESS) {
      return InvalidArgument("{}:{}: event is not valid JSON", path, line_no);
    }
    std::string_view et;
    if (root["eventTime"].get(et) == simdjson::SUCCESS) {
      auto ms = ParseIso8601Millis(et);
      if (!ms) return InvalidArgument("{}:{}: bad eventTime", path, line_no);
      ev.time = static_cast<double>(*ms) / 1000.0;
    }
  }
  return ev;
}

}  // namespace

Result<CaseFile> ParseCaseFile(const std::string& path, const std::string& text) {
  CaseFile f;
  f.path = path;
  std::vector<std::string> lines;
  size_t p = 0;
  while (p <= text.size()) {
    size_t q = text.find('\n', p);
    if (q == std::string::npos) q = text.size();
    lines.push_back(text.substr(p, q - p));
    p = q + 1;
  }
  enum Mode { kNone, kEvents, kExpect, kMacros, kLookup, kPlan } mode = kNone;
  Case* cur = nullptr;
  for (size_t i = 0; i < lines.size(); ++i) {
    int ln = static_cast<int>(i + 1);
    std::string raw = lines[i];
    if (!raw.empty() && raw.back() == '\r') raw.pop_back();
    std::string line = Trim(raw);
    if (mode == kMacros && (StartsWith(line, "case:") || StartsWith(line, "events:") ||
                            StartsWith(line, "lookup:") || StartsWith(line, "search:"))) {
      mode = kNone;
    }
    if (mode == kMacros) {
      f.macros += raw + "\n";
      continue;
    }
    if (mode == kEvents || mode == kExpect || mode == kLookup || mode == kPlan) {
      if (line.empty()) {
        mode = kNone;
        continue;
      }
      if (mode == kEvents) {
        if (line[0] == '#') continue;
        ASSIGN_OR_RETURN(EventRecord ev, ParseEventLine(line, f.now, ln, path));
        f.events.push_back(std::move(ev));
      } else if (mode == kExpect) {
        cur->expect.push_back(NormaliseRow(raw));
      } else if (mode == kMacros) {
        f.macros += raw + "\n";
      } else if (mode == kLookup) {
        f.lookups.back().second += line + "\n";
      } else {
        cur->plan.push_back(line);
      }
      continue;
    }
    if (line.empty() || line[0] == '#') continue;
    auto value = [&](const char* key) { return Trim(line.substr(std::string(key).size())); };
    if (StartsWith(line, "now:")) {
      auto t = ResolveTimeModifier(value("now:"), 0);
      if (!t.ok()) return InvalidArgument("{}:{}: {}", path, ln, t.status().message());
      f.now = *t;
    } else if (line == "events:") {
      mode = kEvents;
    } else if (line == "macros:") {
      mode = kMacros;
    } else if (StartsWith(line, "lookup:")) {
      f.lookups.emplace_back(value("lookup:"), "");
      mode = kLookup;
    } else if (StartsWith(line, "case:")) {
      f.cases.push_back(Case{});
      cur = &f.cases.back();
      cur->name = value("case:");
      cur->line = ln;
    } else if (StartsWith(line, "search:")) {
      if (!cur) {
        f.cases.push_back(Case{});
        cur = &f.cases.back();
        cur->name = "line " + std::to_string(ln);
        cur->line = ln;
      }
      std::string s = value("search:");
      while (!s.empty() && s.back() == '\\' && i + 1 < lines.size()) {
        s.pop_back();
        s += " " + Trim(lines[++i]);
      }
      cur->search = s;
    } else if (line == "expect:" || line == "expect unordered:") {
      if (!cur) return InvalidArgument("{}:{}: expect before search", path, ln);
      cur->has_expect = true;
      cur->unordered = line != "expect:";
      mode = kExpect;
    } else if (StartsWith(line, "error:")) {
      if (!cur) return InvalidArgument("{}:{}: error before search", path, ln);
      cur->error = value("error:");
    } else if (StartsWith(line, "canonical:")) {
      if (!cur) return InvalidArgument("{}:{}: canonical before search", path, ln);
      cur->canonical = value("canonical:");
    } else if (line == "plan:") {
      if (!cur) return InvalidArgument("{}:{}: plan before search", path, ln);
      mode = kPlan;
    } else {
      return InvalidArgument("{}:{}: unknown line '{}'", path, ln, line);
    }
    if (cur && mode == kNone && false) cur = nullptr;
  }
  for (const Case& c : f.cases) {
    if (c.search.empty())
      return InvalidArgument("{}:{}: case '{}' has no search:", path, c.line, c.name);
    if (!c.has_expect && c.error.empty() && c.canonical.empty() && c.plan.empty()) {
      return InvalidArgument("{}:{}: case '{}' has nothing to check", path, c.line, c.name);
    }
  }
  return f;
}

Result<std::vector<EventRecord>> LoadCloudTrailRecords(const std::string& path,
                                                       const std::string& text) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  if (auto err = parser.parse(padded).get(root); err != simdjson::SUCCESS) {
    return Corruption("{}: not JSON: {}", path, simdjson::error_message(err));
  }
  simdjson::dom::array records;
  if (root["Records"].get(records) != simdjson::SUCCESS) {
    return Corruption("{}: no Records array", path);
  }
  std::vector<EventRecord> out;
  for (auto rec : records) {
    EventRecord ev;
    ev.raw = simdjson::minify(rec);
    std::string_view et;
    if (rec["eventTime"].get(et) == simdjson::SUCCESS) {
      if (auto ms = ParseIso8601Millis(et)) ev.time = static_cast<double>(*ms) / 1000.0;
    }
    ev.index = "aws-cloudtrail";
    ev.sourcetype = "aws:cloudtrail";
    ev.source = path;
    ev.host = "cloudtrail";
    out.push_back(std::move(ev));
  }
  return out;
}

}  // namespace cairn::query::testing
