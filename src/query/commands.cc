// Row-at-a-time and reshaping commands: search, where, eval, table, fields, rename, sort, head,
// tail, reverse, dedup, spath, mvexpand, rex, fillnull, lookup, inputlookup, outputlookup, append,
// join, makeresults, convert, fieldsummary.

#include <re2/re2.h>
#include <simdjson.h>

#include <algorithm>
#include <cmath>
#include <map>
#include <set>

#include "common/fs.h"
#include "common/json_util.h"
#include "query/exec_internal.h"
#include "query/time_format.h"

namespace cairn::query::internal {

bool BoolOption(const Command& c, const std::string& key, bool def) {
  auto it = c.options.find(key);
  if (it == c.options.end()) return def;
  std::string v = Lower(it->second);
  return v == "t" || v == "true" || v == "1" || v == "yes";
}

Result<long long> IntOption(const Command& c, const std::string& key, long long def) {
  auto it = c.options.find(key);
  if (it == c.options.end()) return def;
  auto n = ParseNumber(it->second);
  if (!n)
    return InvalidArgument("{}: option {} must be a number, got '{}'", c.name, key, it->second);
  return static_cast<long long>(*n);
}

namespace {

std::string Joined(const Values* v) {
  if (!v) return std::string("\x01null");
  std::string s;
  for (const auto& x : *v) {
    s += x;
    s += '\x00';
  }
  return s;
}

void AddColumn(Results* r, const std::string& name) {
  if (!r->known) return;
  if (std::find(r->columns.begin(), r->columns.end(), name) == r->columns.end()) {
    r->columns.push_back(name);
  }
}

// ---- CSV (RFC 4180 subset) for lookup tables ----
Result<std::vector<std::vector<std::string>>> ParseCsv(const std::string& text,
                                                       const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cell += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !cell.empty()) {
        row.push_back(std::move(cell));
        rows.push_back(std::move(row));
      }
      row.clear();
      cell.clear();
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  if (quoted) return InvalidArgument("{}: unterminated quoted cell", path);
  if (any || !cell.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

// Walks a spath path ("a.b{}.c", "a{2}.b") through JSON, collecting matches.
void SpathWalk(simdjson::dom::element el, const std::vector<std::string>& segs, size_t i,
               std::vector<simdjson::dom::element>* out) {
  if (i == segs.size()) {
    out->push_back(el);
    return;
  }
  std::string seg = segs[i];
  std::vector<std::string> idx;  // trailing {} / {N} parts
  while (!seg.empty() && seg.back() == '}') {
    size_t open = seg.rfind('{');
    if (open == std::string::npos) break;
    idx.insert(idx.begin(), seg.substr(open + 1, seg.size() - open - 2));
    seg = seg.substr(0, open);
  }
  std::vector<simdjson::dom::element> cur;
  if (seg.empty()) {
    cur.push_back(el);
  } else {
    simdjson::dom::object obj;
    if (el.get(obj) != simdjson::SUCCESS) return;
    simdjson::dom::element child;
    if (obj[seg].get(child) != simdjson::SUCCESS) return;
    cur.push_back(child);
  }
  for (const auto& ix : idx) {
    std::vector<simdjson::dom::element> next;
    for (auto& c : cur) {
      simdjson::dom::array arr;
      if (c.get(arr) != simdjson::SUCCESS) continue;
      if (ix.empty()) {
        for (auto a : arr) next.push_back(a);
      } else {
        auto n = ParseNumber(ix);
        if (!n) continue;
        long long k = static_cast<long long>(*n) - 1;  // spath indexes from 1
        if (k < 0) continue;
        simdjson::dom::element a;
        if (arr.at(static_cast<size_t>(k)).get(a) == simdjson::SUCCESS) next.push_back(a);
      }
    }
    cur = std::move(next);
  }
  for (auto& c : cur) SpathWalk(c, segs, i + 1, out);
}

std::string ElementText(simdjson::dom::element el) {
  switch (el.type()) {
    case simdjson::dom::element_type::STRING: return std::string(std::string_view(el));
    case simdjson::dom::element_type::INT64: return std::to_string(int64_t(el));
    case simdjson::dom::element_type::UINT64: return std::to_string(uint64_t(el));
    case simdjson::dom::element_type::DOUBLE: return FormatNumber(double(el));
    case simdjson::dom::element_type::BOOL: return bool(el) ? "true" : "false";
    case simdjson::dom::element_type::NULL_VALUE: return "null";
    default: return simdjson::minify(el);
  }
}

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> segs;
  std::string cur;
  int depth = 0;
  for (char c : path) {
    if (c == '{') ++depth;
    if (c == '}') --depth;
    if (c == '.' && depth == 0) {
      segs.push_back(cur);
      cur.clear();
      continue;
    }
    cur += c;
  }
  segs.push_back(cur);
  return segs;
}

}  // namespace

Status Executor::RunCommand(const Command& c, Results* r, int depth) {
  const std::string& n = c.name;
  if (n == "search") {
    ASSIGN_OR_RETURN(SearchPtr s, ResolveSubsearches(*c.search, depth));
    std::vector<Row> keep;
    for (Row& row : r->rows) {
      if (MatchSearch(*s, row)) keep.push_back(std::move(row));
    }
    r->rows = std::move(keep);
    return Status::Ok();
  }
  if (n == "where") {
    std::vector<Row> keep;
    for (Row& row : r->rows) {
      auto v = Evaluate(*c.expr, row, ctx_);
      if (!v.ok()) return v.status().WithContext("where");
      if (v->IsTrue()) keep.push_back(std::move(row));
    }
    r->rows = std::move(keep);
    return Status::Ok();
  }
  if (n == "eval") {
    for (Row& row : r->rows) {
      for (const auto& a : c.assignments) {
        auto v = Evaluate(*a.expr, row, ctx_);
        if (!v.ok()) return v.status().WithContext("eval " + a.field);
        if (v->is_bool()) {
          return InvalidArgument(
              "eval {}: the result of an eval expression cannot be a boolean; "
              "wrap it in if(...)",
              a.field);
        }
        row.Set(a.field, v->ToField());
      }
    }
    for (const auto& a : c.assignments) AddColumn(r, a.field);
    return Status::Ok();
  }
  if (n == "stats") return Stats(c, r);
  if (n == "eventstats") return EventStats(c, r);
  if (n == "streamstats") return StreamStats(c, r);
  if (n == "timechart" || n == "chart") return Chart(c, r);
  if (n == "bin") return Bin(c, r);
  if (n == "top" || n == "rare") return TopRare(c, r);
  if (n == "table") return Table(c, r);
  if (n == "fields") return Fields(c, r);
  if (n == "rename") return RenameCmd(c, r);
  if (n == "sort") return Sort(c, r);
  if (n == "dedup") return Dedup(c, r);
  if (n == "spath") return Spath(c, r);
  if (n == "rex") return Rex(c, r);
  if (n == "fillnull") return FillNull(c, r);
  if (n == "lookup") return Lookup(c, r);
  if (n == "inputlookup") return InputLookup(c, r);
  if (n == "outputlookup") return OutputLookup(c, r);
  if (n == "convert") return Convert(c, r);
  if (n == "fieldsummary") return FieldSummary(c, r);
  if (n == "append" || n == "join") return Join(c, r, depth);
  if (n == "head") {
    if (c.expr) {
      bool keeplast = BoolOption(c, "keeplast", false);
      bool null_ok = BoolOption(c, "null", false);
      size_t i = 0;
      for (; i < r->rows.size(); ++i) {
        auto v = Evaluate(*c.expr, r->rows[i], ctx_);
        if (!v.ok()) return v.status().WithContext("head");
        if (!(v->IsTrue() || (null_ok && v->is_null()))) break;
      }
      if (keeplast && i < r->rows.size()) ++i;
      r->rows.resize(i);
      return Status::Ok();
    }
    if (static_cast<long long>(r->rows.size()) > c.count)
      r->rows.resize(static_cast<size_t>(c.count));
    return Status::Ok();
  }
  if (n == "tail") {
    size_t k = std::min(r->rows.size(), static_cast<size_t>(c.count));
    std::vector<Row> out(std::make_move_iterator(r->rows.end() - static_cast<long>(k)),
                         std::make_move_iterator(r->rows.end()));
    std::reverse(out.begin(), out.end());
    r->rows = std::move(out);
    return Status::Ok();
  }
  if (n == "reverse") {
    std::reverse(r->rows.begin(), r->rows.end());
    return Status::Ok();
  }
  if (n == "mvexpand") {
    ASSIGN_OR_RETURN(long long limit, IntOption(c, "limit", 0));
    const std::string& f = c.fields[0];
    std::vector<Row> out;
    for (Row& row : r->rows) {
      const Values* v = row.Get(f);
      if (!v) {
        out.push_back(std::move(row));
        continue;
      }
      Values vals = *v;
      long long k = 0;
      for (auto& x : vals) {
        if (limit > 0 && k++ >= limit) break;
        Row copy = row;
        copy.Set(f, {x});
        out.push_back(std::move(copy));
      }
    }
    r->rows = std::move(out);
    return Status::Ok();
  }
  if (n == "makeresults") {
    ASSIGN_OR_RETURN(long long count, IntOption(c, "count", 1));
    for (long long i = 0; i < count; ++i) {
      Row row;
      row.Set("_time", {FormatNumber(std::floor(now_))});
      r->rows.push_back(std::move(row));
    }
    if (!r->known) {
      r->known = true;
      r->columns = {"_time"};
    } else {
      AddColumn(r, "_time");
    }
    return Status::Ok();
  }
  return Unsupported("unsupported command: {} at offset {}", n, c.offset);
}

Status Executor::Table(const Command& c, Results* r) {
  std::vector<std::string> names = AllFieldNames(r->rows);
  std::vector<std::string> cols = ExpandPatterns(c.fields, names);
  for (Row& row : r->rows) {
    Row out;
    for (const auto& col : cols) {
      if (const Values* v = row.Get(col)) out.Set(col, *v);
    }
    row = std::move(out);
  }
  r->columns = cols;
  r->known = true;
  return Status::Ok();
}

Status Executor::Fields(const Command& c, Results* r) {
  std::vector<std::string> names = AllFieldNames(r->rows);
  if (r->known) {
    for (const auto& col : r->columns) names.push_back(col);
  }
  std::vector<std::string> sel = ExpandPatterns(c.fields, names);
  std::set<std::string> sel_set(sel.begin(), sel.end());
  for (Row& row : r->rows) {
    std::vector<std::string> drop;
    for (auto& [k, v] : row.fields()) {
      bool listed = sel_set.count(k) > 0;
      bool internal = !k.empty() && k[0] == '_';
      if (c.exclude ? listed : (!listed && !internal)) drop.push_back(k);
    }
    for (const auto& k : drop) row.Remove(k);
  }
  if (c.exclude) {
    if (r->known) {
      std::vector<std::string> cols;
      for (const auto& col : r->columns) {
        if (!sel_set.count(col)) cols.push_back(col);
      }
      r->columns = cols;
    }
  } else {
    r->columns = sel;
    r->known = true;
  }
  return Status::Ok();
}

Status Executor::RenameCmd(const Command& c, Results* r) {
  for (const Rename& rn : c.renames) {
    bool wild = rn.from.find('*') != std::string::npos;
    if (!wild) {
      for (Row& row : r->rows) {
        const Values* v = row.Get(rn.from);
        if (!v) continue;
        Values vals = *v;
        row.Remove(rn.from);
        row.Set(rn.to, std::move(vals));
      }
      if (r->known) {
        for (auto& col : r->columns) {
          if (col == rn.from) col = rn.to;
        }
      }
      continue;
    }
    // Wildcards: the text matched by '*' in `from` replaces '*' in `to`.
    std::string pfx = rn.from.substr(0, rn.from.find('*'));
    std::string sfx = rn.from.substr(rn.from.find('*') + 1);
    if (sfx.find('*') != std::string::npos) {
      return Unsupported("rename supports one '*' per pattern: {}", rn.from);
    }
    auto map_name = [&](const std::string& name) -> std::optional<std::string> {
      if (name.size() < pfx.size() + sfx.size()) return std::nullopt;
      if (name.compare(0, pfx.size(), pfx) != 0) return std::nullopt;
      if (name.compare(name.size() - sfx.size(), sfx.size(), sfx) != 0) return std::nullopt;
      std::string mid = name.substr(pfx.size(), name.size() - pfx.size() - sfx.size());
      std::string to = rn.to;
      size_t star = to.find('*');
      if (star != std::string::npos) to.replace(star, 1, mid);
      return to;
    };
    for (Row& row : r->rows) {
      std::vector<std::pair<std::string, std::string>> moves;
      for (auto& [k, v] : row.fields()) {
        if (auto to = map_name(k)) moves.emplace_back(k, *to);
      }
      std::vector<std::pair<std::string, Values>> vals;
      for (auto& [from, to] : moves) {
        vals.emplace_back(to, *row.Get(from));
        row.Remove(from);
      }
      for (auto& [to, v] : vals) row.Set(to, std::move(v));
    }
    if (r->known) {
      for (auto& col : r->columns) {
        if (auto to = map_name(col)) col = *to;
      }
    }
  }
  return Status::Ok();
}

Status Executor::Sort(const Command& c, Results* r) {
  struct Keyed {
    std::vector<const Values*> keys;
    size_t index;
  };
  std::vector<Keyed> keyed;
  for (size_t i = 0; i < r->rows.size(); ++i) {
    Keyed k{{}, i};
    for (const auto& sk : c.sort_keys) k.keys.push_back(r->rows[i].Get(sk.field));
    keyed.push_back(std::move(k));
  }
  auto cmp_one = [](const SortKey& sk, const Values* a, const Values* b) -> int {
    if (!a || !b) return a ? 1 : (b ? -1 : 0);  // nulls sort first
    const std::string& x = a->front();
    const std::string& y = b->front();
    if (sk.mode == "str") {
      int c = x.compare(y);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (sk.mode == "num") {
      auto nx = ParseNumber(x), ny = ParseNumber(y);
      if (nx && ny) return *nx < *ny ? -1 : (*nx > *ny ? 1 : 0);
      if (nx || ny) return nx ? -1 : 1;
      int c = x.compare(y);
      return c < 0 ? -1 : (c > 0 ? 1 : 0);
    }
    if (sk.mode == "ip") {
      auto parts = [](const std::string& s) {
        std::vector<long> v;
        size_t p = 0;
        while (p <= s.size()) {
          size_t q = s.find('.', p);
          if (q == std::string::npos) q = s.size();
          v.push_back(std::atol(s.substr(p, q - p).c_str()));
          p = q + 1;
        }
        return v;
      };
      auto px = parts(x), py = parts(y);
      return px < py ? -1 : (px > py ? 1 : 0);
    }
    return CompareMixed(x, y);
  };
  std::stable_sort(keyed.begin(), keyed.end(), [&](const Keyed& a, const Keyed& b) {
    for (size_t i = 0; i < c.sort_keys.size(); ++i) {
      int v = cmp_one(c.sort_keys[i], a.keys[i], b.keys[i]);
      if (c.sort_keys[i].descending) v = -v;
      if (v != 0) return v < 0;
    }
    return false;
  });
  long long limit = c.count < 0 ? 10000 : c.count;
  std::vector<Row> out;
  for (const auto& k : keyed) {
    if (limit > 0 && static_cast<long long>(out.size()) >= limit) break;
    out.push_back(std::move(r->rows[k.index]));
  }
  r->rows = std::move(out);
  return Status::Ok();
}

Status Executor::Dedup(const Command& c, Results* r) {
  bool keepempty = BoolOption(c, "keepempty", false);
  bool consecutive = BoolOption(c, "consecutive", false);
  bool keepevents = BoolOption(c, "keepevents", false);
  long long keep_n = c.count > 0 ? c.count : 1;
  std::map<std::string, long long> seen;
  std::string prev;
  bool have_prev = false;
  std::vector<Row> out;
  for (Row& row : r->rows) {
    std::string key;
    bool missing = false;
    for (const auto& f : c.fields) {
      const Values* v = row.Get(f);
      if (!v) missing = true;
      key += Joined(v);
      key += '\x02';
    }
    if (missing) {
      if (keepempty) out.push_back(std::move(row));
      continue;
    }
    if (consecutive) {
      if (have_prev && key == prev) {
        if (keepevents) {
          for (const auto& f : c.fields) row.Remove(f);
          out.push_back(std::move(row));
        }
        continue;
      }
      prev = key;
      have_prev = true;
      out.push_back(std::move(row));
      continue;
    }
    if (++seen[key] > keep_n) {
      if (keepevents) {
        for (const auto& f : c.fields) row.Remove(f);
        out.push_back(std::move(row));
      }
      continue;
    }
    out.push_back(std::move(row));
  }
  r->rows = std::move(out);
  if (!c.sort_keys.empty()) {
    Command s;
    s.name = "sort";
    s.sort_keys = c.sort_keys;
    s.count = 0;
    return Sort(s, r);
  }
  return Status::Ok();
}

Status Executor::Spath(const Command& c, Results* r) {
  std::string input = c.options.count("input") ? c.options.at("input") : "_raw";
  std::string path = c.options.count("path") ? c.options.at("path") : "";
  std::string output = c.options.count("output") ? c.options.at("output") : path;
  thread_local simdjson::dom::parser parser;
  for (Row& row : r->rows) {
    const Values* in = row.Get(input);
    if (!in) continue;
    Values texts = *in;
    if (path.empty()) {
      // Auto-extract every field of the JSON (for an event's _raw they are there already).
      if (input == "_raw" && row.is_event()) continue;
      for (const auto& t : texts) {
        Row tmp;
        if (!FlattenJson(t, "", &tmp)) continue;
        for (auto& [k, v] : tmp.fields()) row.Set(k, v);
      }
      continue;
    }
    Values found;
    std::vector<std::string> segs = SplitPath(path);
    for (const auto& t : texts) {
      simdjson::padded_string padded(t);
      simdjson::dom::element root;
      if (parser.parse(padded).get(root) != simdjson::SUCCESS) continue;
      std::vector<simdjson::dom::element> els;
      SpathWalk(root, segs, 0, &els);
      for (auto& e : els) found.push_back(ElementText(e));
    }
    row.Set(output, found);
  }
  if (!path.empty()) AddColumn(r, output);
  return Status::Ok();
}

Status Executor::Rex(const Command& c, Results* r) {
  std::string field = c.options.count("field") ? c.options.at("field") : "_raw";
  std::string mode = c.options.count("mode") ? Lower(c.options.at("mode")) : "";
  ASSIGN_OR_RETURN(long long max_match, IntOption(c, "max_match", 1));
  if (mode == "sed") {
    const std::string& e = c.text;
    if (e.size() < 2 || (e[0] != 's' && e[0] != 'y')) {
      return InvalidArgument("rex mode=sed expects s/regex/replacement/flags or y/abc/xyz/");
    }
    char delim = e[1];
    std::vector<std::string> parts;
    std::string cur;
    for (size_t i = 2; i < e.size(); ++i) {
      if (e[i] == '\\' && i + 1 < e.size() && e[i + 1] == delim) {
        cur += delim;
        ++i;
      } else if (e[i] == delim) {
        parts.push_back(cur);
        cur.clear();
      } else {
        cur += e[i];
      }
    }
    parts.push_back(cur);
    if (parts.size() < 2) return InvalidArgument("rex mode=sed: incomplete expression '{}'", e);
    std::string flags = parts.size() > 2 ? parts[2] : "";
    if (e[0] == 'y') {
      if (parts[0].size() != parts[1].size()) return InvalidArgument("rex y///: lengths differ");
      for (Row& row : r->rows) {
        const Values* v = row.Get(field);
        if (!v) continue;
        Values vals = *v;
        for (auto& s : vals) {
          for (char& ch : s) {
            size_t p = parts[0].find(ch);
            if (p != std::string::npos) ch = parts[1][p];
          }
        }
        row.Set(field, vals);
      }
      return Status::Ok();
    }
    RE2::Options opts;
    opts.set_log_errors(false);
    if (flags.find('i') != std::string::npos) opts.set_case_sensitive(false);
    RE2 re(PcreToRe2(parts[0]), opts);
    if (!re.ok())
      return InvalidArgument("rex: bad regular expression '{}': {}", parts[0], re.error());
    bool global = flags.find('g') != std::string::npos;
    for (Row& row : r->rows) {
      const Values* v = row.Get(field);
      if (!v) continue;
      Values vals = *v;
      for (auto& s : vals) {
        if (global) {
          RE2::GlobalReplace(&s, re, parts[1]);
        } else {
          RE2::Replace(&s, re, parts[1]);
        }
      }
      row.Set(field, vals);
    }
    return Status::Ok();
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  RE2 re(PcreToRe2(c.text), opts);
  if (!re.ok()) return InvalidArgument("rex: bad regular expression '{}': {}", c.text, re.error());
  const auto& names = re.CapturingGroupNames();  // index -> name
  int ngroups = re.NumberOfCapturingGroups();
  if (names.empty())
    return InvalidArgument("rex: the regular expression has no named group (?<name>...)");
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups) + 1);
  for (Row& row : r->rows) {
    const Values* v = row.Get(field);
    if (!v) continue;
    Values texts = *v;
    std::map<std::string, Values> got;
    long long matches = 0;
    for (const auto& t : texts) {
      size_t pos = 0;
      while (pos <= t.size()) {
        if (max_match > 0 && matches >= max_match) break;
        if (!re.Match(t, pos, t.size(), RE2::UNANCHORED, groups.data(), ngroups + 1)) break;
        ++matches;
        for (const auto& [idx, name] : names) {
          if (groups[idx].data() != nullptr) got[name].push_back(std::string(groups[idx]));
        }
        size_t end = static_cast<size_t>(groups[0].data() - t.data()) + groups[0].size();
        pos = groups[0].empty() ? end + 1 : end;
      }
    }
    for (auto& [name, vals] : got) row.Set(name, vals);
  }
  for (const auto& [idx, name] : names) AddColumn(r, name);
  return Status::Ok();
}

Status Executor::FillNull(const Command& c, Results* r) {
  std::string value = c.options.count("value") ? c.options.at("value") : "0";
  std::vector<std::string> fields = c.fields;
  if (fields.empty()) {
    if (r->known) {
      fields = r->columns;
    } else {
      fields = AllFieldNames(r->rows);
    }
  }
  for (Row& row : r->rows) {
    for (const auto& f : fields) {
      if (!row.Get(f)) row.Set(f, {value});
    }
  }
  for (const auto& f : fields) AddColumn(r, f);
  return Status::Ok();
}

Result<std::string> Executor::LookupPath(const std::string& name) const {
  if (options_.lookups_dir.empty()) {
    return NotFound("lookup table '{}' not found: no lookups folder is configured", name);
  }
  if (name.find('/') != std::string::npos || name.find("..") != std::string::npos) {
    return InvalidArgument("bad lookup name '{}'", name);
  }
  std::string file = name;
  if (file.size() < 4 || file.compare(file.size() - 4, 4, ".csv") != 0) file += ".csv";
  return JoinPath(options_.lookups_dir, file);
}

namespace {
Result<std::vector<std::vector<std::string>>> LoadCsv(const std::string& path,
                                                      const std::string& name) {
  FileSystem* fs = FileSystem::Default();
  if (!fs->Exists(path)) return NotFound("lookup table '{}' not found ({})", name, path);
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path, 256u << 20));
  ASSIGN_OR_RETURN(auto rows, ParseCsv(text, path));
  if (rows.empty()) return InvalidArgument("lookup table {} has no header line", path);
  return rows;
}
}  // namespace

Status Executor::Lookup(const Command& c, Results* r) {
  ASSIGN_OR_RETURN(std::string path, LookupPath(c.text));
  ASSIGN_OR_RETURN(auto table, LoadCsv(path, c.text));
  const auto& header = table[0];
  auto col = [&](const std::string& name) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  std::vector<int> in_cols;
  for (const auto& f : c.lookup_inputs) {
    int i = col(f.name);
    if (i < 0) return InvalidArgument("lookup {}: no column '{}'", c.text, f.name);
    in_cols.push_back(i);
  }
  std::vector<std::pair<int, std::string>> outs;  // column, event field
  if (c.lookup_outputs.empty()) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (std::find(in_cols.begin(), in_cols.end(), static_cast<int>(i)) == in_cols.end()) {
        outs.emplace_back(static_cast<int>(i), header[i]);
      }
    }
  } else {
    for (const auto& f : c.lookup_outputs) {
      int i = col(f.name);
      if (i < 0) return InvalidArgument("lookup {}: no column '{}'", c.text, f.name);
      outs.emplace_back(i, f.local.empty() ? f.name : f.local);
    }
  }
  std::multimap<std::string, size_t> index;
  for (size_t i = 1; i < table.size(); ++i) {
    std::string key;
    for (int ic : in_cols) {
      key += ic < static_cast<int>(table[i].size()) ? table[i][static_cast<size_t>(ic)] : "";
      key += '\x02';
    }
    index.emplace(key, i);
  }
  for (Row& row : r->rows) {
    std::string key;
    bool missing = false;
    for (const auto& f : c.lookup_inputs) {
      const Values* v = row.Get(f.local.empty() ? f.name : f.local);
      if (!v) {
        missing = true;
        break;
      }
      key += v->front();
      key += '\x02';
    }
    if (missing) continue;
    auto [lo, hi] = index.equal_range(key);
    if (lo == hi) continue;
    for (const auto& [ci, field] : outs) {
      if (c.output_new && row.Get(field)) continue;
      Values vals;
      for (auto it = lo; it != hi; ++it) {
        const auto& tr = table[it->second];
        if (ci < static_cast<int>(tr.size()) && !tr[static_cast<size_t>(ci)].empty()) {
          vals.push_back(tr[static_cast<size_t>(ci)]);
        }
      }
      row.Set(field, vals);
    }
  }
  for (const auto& [ci, field] : outs) AddColumn(r, field);
  return Status::Ok();
}

Status Executor::InputLookup(const Command& c, Results* r) {
  ASSIGN_OR_RETURN(std::string path, LookupPath(c.text));
  ASSIGN_OR_RETURN(auto table, LoadCsv(path, c.text));
  bool append = BoolOption(c, "append", false);
  if (!append) {
    r->rows.clear();
    r->columns.clear();
    r->known = true;
  }
  const auto& header = table[0];
  for (size_t i = 1; i < table.size(); ++i) {
    Row row;
    for (size_t j = 0; j < header.size() && j < table[i].size(); ++j) {
      if (!table[i][j].empty()) row.Set(header[j], {table[i][j]});
    }
    if (c.expr) {
      auto v = Evaluate(*c.expr, row, ctx_);
      if (!v.ok()) return v.status().WithContext("inputlookup where");
      if (!v->IsTrue()) continue;
    }
    r->rows.push_back(std::move(row));
  }
  for (const auto& h : header) {
    if (!r->known || std::find(r->columns.begin(), r->columns.end(), h) == r->columns.end()) {
      r->columns.push_back(h);
    }
  }
  r->known = true;
  return Status::Ok();
}

Status Executor::OutputLookup(const Command& c, Results* r) {
  ASSIGN_OR_RETURN(std::string path, LookupPath(c.text));
  ResultTable t;
  {
    Results copy;
    copy.rows = r->rows;
    copy.columns = r->columns;
    copy.known = r->known;
    t = ToTable(&copy);
  }
  std::string out;
  for (size_t i = 0; i < t.columns.size(); ++i) out += (i ? "," : "") + CsvCell(t.columns[i]);
  out += "\n";
  for (const auto& row : t.rows) {
    for (size_t i = 0; i < row.size(); ++i) {
      std::string cell;
      for (size_t k = 0; k < row[i].size(); ++k) cell += (k ? "\n" : "") + row[i][k];
      out += (i ? "," : "") + CsvCell(cell);
    }
    out += "\n";
  }
  FileSystem* fs = FileSystem::Default();
  RETURN_IF_ERROR(fs->CreateDirs(options_.lookups_dir));
  return WriteFileAtomic(fs, path, out);
}

Status Executor::Join(const Command& c, Results* r, int depth) {
  Results sub;
  RETURN_IF_ERROR(ExecPipeline(*c.subsearch, &sub, depth + 1));
  size_t cap = c.name == "join" ? 50000 : options_.max_subsearch_rows;
  if (sub.rows.size() > cap) sub.rows.resize(cap);
  if (c.name == "append") {
    std::vector<std::string> before;
    bool known = r->known;
    if (known && sub.known) {
      for (const auto& col : sub.columns) AddColumn(r, col);
    } else if (known) {
      r->known = false;  // let the output list every field
    }
    for (Row& row : sub.rows) r->rows.push_back(std::move(row));
    return Status::Ok();
  }
  std::string type = c.options.count("type") ? Lower(c.options.at("type")) : "inner";
  if (type == "outer") type = "left";
  if (type != "inner" && type != "left") return Unsupported("join type={} is not supported", type);
  ASSIGN_OR_RETURN(long long max, IntOption(c, "max", 1));
  bool overwrite = BoolOption(c, "overwrite", true);
  std::vector<std::string> keys = c.fields;
  if (keys.empty()) {
    std::vector<std::string> a = AllFieldNames(r->rows), b = AllFieldNames(sub.rows);
    for (const auto& x : a) {
      if (!x.empty() && x[0] != '_' && std::binary_search(b.begin(), b.end(), x)) keys.push_back(x);
    }
  }
  std::multimap<std::string, size_t> index;
  for (size_t i = 0; i < sub.rows.size(); ++i) {
    std::string key;
    bool missing = false;
    for (const auto& k : keys) {
      const Values* v = sub.rows[i].Get(k);
      if (!v) {
        missing = true;
        break;
      }
      key += v->front();
      key += '\x02';
    }
    if (!missing) index.emplace(key, i);
  }
  std::vector<Row> out;
  for (Row& row : r->rows) {
    std::string key;
    bool missing = false;
    for (const auto& k : keys) {
      const Values* v = row.Get(k);
      if (!v) {
        missing = true;
        break;
      }
      key += v->front();
      key += '\x02';
    }
    auto [lo, hi] = missing ? std::make_pair(index.end(), index.end()) : index.equal_range(key);
    if (lo == hi) {
      if (type == "left") out.push_back(std::move(row));
      continue;
    }
    long long n = 0;
    for (auto it = lo; it != hi; ++it) {
      if (max > 0 && n++ >= max) break;
      Row joined = row;
      for (auto& [k, v] : sub.rows[it->second].fields()) {
        if (v.empty()) continue;
        if (!overwrite && joined.Get(k)) continue;
        joined.Set(k, v);
      }
      out.push_back(std::move(joined));
    }
  }
  r->rows = std::move(out);
  if (r->known) {
    if (sub.known) {
      for (const auto& col : sub.columns) AddColumn(r, col);
    } else {
      for (const auto& col : AllFieldNames(sub.rows)) {
        if (col.empty() || col[0] != '_') AddColumn(r, col);
      }
    }
  }
  return Status::Ok();
}

Status Executor::Convert(const Command& c, Results* r) {
  std::string tf = c.options.count("timeformat") ? c.options.at("timeformat") : "%m/%d/%Y %H:%M:%S";
  for (const Rename& rn : c.renames) {
    size_t open = rn.from.find('(');
    std::string fn = rn.from.substr(0, open);
    std::string field = rn.from.substr(open + 1, rn.from.size() - open - 2);
    std::string target = rn.to.empty() ? field : rn.to;
    for (Row& row : r->rows) {
      const Values* v = row.Get(field);
      if (!v) continue;
      Values out;
      for (const auto& s : *v) {
        if (fn == "ctime") {
          auto n = ParseNumber(s);
          out.push_back(n ? Strftime(*n, tf) : s);
        } else if (fn == "mktime") {
          auto t = Strptime(s, tf);
          if (t) out.push_back(FormatNumber(*t));
        } else if (fn == "dur2sec") {
          int d = 0, h = 0, m = 0, sec = 0;
          if (std::sscanf(s.c_str(), "%d+%d:%d:%d", &d, &h, &m, &sec) == 4) {
            out.push_back(std::to_string(d * 86400 + h * 3600 + m * 60 + sec));
          } else if (std::sscanf(s.c_str(), "%d:%d:%d", &h, &m, &sec) == 3) {
            out.push_back(std::to_string(h * 3600 + m * 60 + sec));
          }
        } else if (fn == "num" || fn == "auto") {
          auto n = ParseNumber(s);
          if (n)
            out.push_back(FormatNumber(*n));
          else if (fn == "auto")
            out.push_back(s);
        } else if (fn == "rmcomma") {
          std::string t;
          for (char ch : s)
            if (ch != ',') t += ch;
          out.push_back(t);
        } else if (fn == "rmunit") {
          size_t i = 0;
          while (i < s.size() &&
                 (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == '-'))
            ++i;
          if (i) out.push_back(s.substr(0, i));
        } else if (fn == "mstime") {
          int m = 0;
          double sec = 0;
          if (std::sscanf(s.c_str(), "%d:%lf", &m, &sec) == 2)
            out.push_back(FormatNumber(m * 60 + sec));
          else if (auto n = ParseNumber(s))
            out.push_back(FormatNumber(*n));
        } else {
          out.push_back(s);
        }
      }
      row.Set(target, out);
    }
    AddColumn(r, target);
  }
  return Status::Ok();
}

Status Executor::FieldSummary(const Command& c, Results* r) {
  std::vector<std::string> names = AllFieldNames(r->rows);
  if (!c.fields.empty()) names = ExpandPatterns(c.fields, names);
  ASSIGN_OR_RETURN(long long maxvals, IntOption(c, "maxvals", 100));
  std::vector<Row> out;
  for (const auto& name : names) {
    if (!name.empty() && name[0] == '_' && name != "_time") continue;
    long long count = 0, numeric = 0;
    double sum = 0, sumsq = 0;
    std::optional<double> mn, mx;
    std::map<std::string, long long> freq;
    for (Row& row : r->rows) {
      const Values* v = row.Get(name);
      if (!v) continue;
      ++count;
      for (const auto& s : *v) {
        ++freq[s];
        if (auto n = ParseNumber(s)) {
          ++numeric;
          sum += *n;
          sumsq += *n * *n;
          mn = mn ? std::min(*mn, *n) : *n;
          mx = mx ? std::max(*mx, *n) : *n;
        }
      }
    }
    Row o;
    o.Set("field", {name});
    o.Set("count", {std::to_string(count)});
    o.Set("distinct_count", {std::to_string(freq.size())});
    o.Set("is_exact", {"1"});
    o.Set("numeric_count", {std::to_string(numeric)});
    if (numeric > 0) {
      o.Set("min", {FormatNumber(*mn)});
      o.Set("max", {FormatNumber(*mx)});
      o.Set("mean", {FormatNumber(sum / numeric)});
      double var = numeric > 1 ? (sumsq - sum * sum / numeric) / (numeric - 1) : 0;
      o.Set("stdev", {FormatNumber(std::sqrt(std::max(0.0, var)))});
    } else if (!freq.empty()) {
      o.Set("min", {freq.begin()->first});
      o.Set("max", {freq.rbegin()->first});
    }
    std::vector<std::pair<std::string, long long>> fv(freq.begin(), freq.end());
    std::stable_sort(fv.begin(), fv.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    std::string json = "[";
    for (size_t i = 0; i < fv.size() && static_cast<long long>(i) < maxvals; ++i) {
      if (i) json += ",";
      json += "{\"value\":" + ::cairn::JsonString(fv[i].first) +
              ",\"count\":" + std::to_string(fv[i].second) + "}";
    }
    json += "]";
    o.Set("values", {json});
    out.push_back(std::move(o));
  }
  r->rows = std::move(out);
  r->columns = {"field", "count", "distinct_count", "is_exact", "max",
                "mean",  "min",   "numeric_count",  "stdev",    "values"};
  r->known = true;
  return Status::Ok();
}

}  // namespace cairn::query::internal

namespace cairn::query {

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace cairn::query
