// spath [input=_raw] [output=<path>] [path=]<path>: the values at a JSON path of the input field
// ("a.b{}.c": {} iterates an array, {N} picks element N from 1; objects and arrays come back as
// JSON text). Without a path, every field of the JSON (auto-kv names), which an event's _raw
// already has. Streaming.

#include <simdjson.h>

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

// The segments of a path, split at dots outside braces.
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

// Collects the elements that segments [i, end) of a path reach from `el`.
void Walk(simdjson::dom::element el, const std::vector<std::string>& segs, size_t i,
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
        long long k = static_cast<long long>(*n) - 1;  // spath counts from 1
        if (k < 0) continue;
        simdjson::dom::element a;
        if (arr.at(static_cast<size_t>(k)).get(a) == simdjson::SUCCESS) next.push_back(a);
      }
    }
    cur = std::move(next);
  }
  for (auto& c : cur) Walk(c, segs, i + 1, out);
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

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv&) {
  std::string input = StringOption(c, "input", "_raw");
  std::string path = StringOption(c, "path", "");
  if (path.empty()) {
    return MakeOp<RowOperator>([input](Row& row) -> Result<bool> {
      const Values* in = row.Get(input);
      if (!in || (input == "_raw" && row.is_event())) return true;
      Values texts = *in;
      for (const auto& t : texts) {
        Row tmp;
        if (!FlattenJson(t, "", &tmp)) continue;
        for (auto& [k, v] : tmp.fields()) row.Set(k, v);
      }
      return true;
    });
  }
  std::string output = StringOption(c, "output", path);
  std::vector<std::string> segs = SplitPath(path);
  return MakeOp<RowOperator>(
      [input, output, segs](Row& row) -> Result<bool> {
        const Values* in = row.Get(input);
        if (!in) return true;
        Values texts = *in;
        thread_local simdjson::dom::parser parser;
        Values found;
        for (const auto& t : texts) {
          simdjson::padded_string padded(t);
          simdjson::dom::element root;
          if (parser.parse(padded).get(root) != simdjson::SUCCESS) continue;
          std::vector<simdjson::dom::element> els;
          Walk(root, segs, 0, &els);
          for (auto& e : els) found.push_back(ElementText(e));
        }
        row.Set(output, std::move(found));
        return true;
      },
      [output](Schema* s) { s->Add(output); });
}

}  // namespace

void Register_spath(CommandRegistry& r) {
  AddCommand(r, "spath", CommandClass::kStreaming, Generic({.path = true}), Make, AlwaysParallel);
}

}  // namespace cairn::query::internal
