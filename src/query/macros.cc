#include "query/macros.h"

#include <cctype>

namespace cairn::query {
namespace {

std::string Trim(std::string_view s) {
  size_t b = 0, e = s.size();
  while (b < e && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
  while (e > b && std::isspace(static_cast<unsigned char>(s[e - 1]))) --e;
  return std::string(s.substr(b, e - b));
}

// Splits macro call arguments on commas outside quotes and parentheses.
std::vector<std::string> SplitArgs(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  bool quote = false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (quote) {
      cur += c;
      if (c == '\\' && i + 1 < s.size()) {
        cur += s[++i];
      } else if (c == '"') {
        quote = false;
      }
      continue;
    }
    if (c == '"') quote = true;
    if (c == '(') ++depth;
    if (c == ')') --depth;
    if (c == ',' && depth == 0) {
      out.push_back(Trim(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.push_back(Trim(cur));
  return out;
}

}  // namespace

MacroSet::MacroSet() { Define("cloudtrail", {}, "sourcetype=aws:cloudtrail"); }

void MacroSet::Define(std::string name, std::vector<std::string> args, std::string definition) {
  std::string key = args.empty() ? name : name + "(" + std::to_string(args.size()) + ")";
  macros_[key] = Macro{std::move(args), std::move(definition)};
}

Status MacroSet::LoadConf(std::string_view text, std::string_view origin) {
  std::string stanza;
  std::map<std::string, std::string> kv;
  auto flush = [&]() -> Status {
    if (stanza.empty()) return Status::Ok();
    std::string name = stanza;
    std::vector<std::string> args;
    size_t paren = stanza.find('(');
    if (paren != std::string::npos) name = stanza.substr(0, paren);
    if (kv.count("args") && !Trim(kv["args"]).empty()) {
      for (auto& a : SplitArgs(kv["args"])) args.push_back(a);
    } else if (paren != std::string::npos) {
      int n = std::atoi(stanza.c_str() + paren + 1);
      for (int i = 1; i <= n; ++i) args.push_back("arg" + std::to_string(i));
    }
    Define(name, args, kv.count("definition") ? kv["definition"] : "");
    kv.clear();
    return Status::Ok();
  };
  size_t line_no = 0;
  size_t pos = 0;
  std::string pending;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string_view::npos) nl = text.size();
    std::string line(text.substr(pos, nl - pos));
    pos = nl + 1;
    ++line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (!line.empty() && line.back() == '\\') {
      line.pop_back();
      pending += line + "\n";
      if (pos > text.size()) break;
      continue;
    }
    line = pending + line;
    pending.clear();
    std::string t = Trim(line);
    if (t.empty() || t[0] == '#') {
      if (pos > text.size()) break;
      continue;
    }
    if (t[0] == '[') {
      RETURN_IF_ERROR(flush());
      if (t.back() != ']')
        return InvalidArgument("{}:{}: stanza header without ']'", origin, line_no);
      stanza = Trim(t.substr(1, t.size() - 2));
    } else {
      size_t eq = t.find('=');
      if (eq == std::string::npos) {
        return InvalidArgument("{}:{}: expected 'key = value'", origin, line_no);
      }
      if (stanza.empty()) {
        return InvalidArgument("{}:{}: setting outside a [macro] stanza", origin, line_no);
      }
      kv[Trim(t.substr(0, eq))] = Trim(t.substr(eq + 1));
    }
    if (pos > text.size()) break;
  }
  return flush();
}

Result<std::string> MacroSet::Expand(std::string_view spl) const { return ExpandDepth(spl, 0); }

Result<std::string> MacroSet::ExpandDepth(std::string_view spl, int depth) const {
  if (depth > 32)
    return InvalidArgument("macro expansion nested too deeply (a macro refers to itself?)");
  std::string out;
  size_t i = 0;
  bool changed = false;
  while (i < spl.size()) {
    char c = spl[i];
    if (c == '"') {  // copy quoted strings untouched
      size_t j = i + 1;
      while (j < spl.size() && spl[j] != '"') {
        if (spl[j] == '\\') ++j;
        ++j;
      }
      out.append(spl.substr(i, std::min(j + 1, spl.size()) - i));
      i = j + 1;
      continue;
    }
    if (c != '`') {
      out += c;
      ++i;
      continue;
    }
    size_t end = spl.find('`', i + 1);
    if (end == std::string_view::npos) {
      return InvalidArgument("at offset {}: unterminated macro (no closing backtick)", i);
    }
    std::string call = Trim(spl.substr(i + 1, end - i - 1));
    std::string name = call;
    std::vector<std::string> args;
    size_t paren = call.find('(');
    if (paren != std::string::npos) {
      if (call.back() != ')') return InvalidArgument("at offset {}: bad macro call `{}`", i, call);
      name = Trim(call.substr(0, paren));
      args = SplitArgs(std::string_view(call).substr(paren + 1, call.size() - paren - 2));
      if (args.size() == 1 && args[0].empty()) args.clear();
    }
    std::string key = args.empty() ? name : name + "(" + std::to_string(args.size()) + ")";
    auto it = macros_.find(key);
    if (it == macros_.end()) {
      return InvalidArgument("at offset {}: unknown macro `{}`", i, key);
    }
    std::string def = it->second.definition;
    for (size_t a = 0; a < args.size(); ++a) {
      std::string arg = args[a];
      if (arg.size() >= 2 && arg.front() == '"' && arg.back() == '"')
        arg = arg.substr(1, arg.size() - 2);
      std::string token = "$" + it->second.args[a] + "$";
      for (size_t p = def.find(token); p != std::string::npos;
           p = def.find(token, p + arg.size())) {
        def.replace(p, token.size(), arg);
      }
    }
    out += def;
    changed = true;
    i = end + 1;
  }
  if (changed) return ExpandDepth(out, depth + 1);
  return out;
}

Status MacroSet::LoadFile(FileSystem* fs, const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path, 16u << 20));
  return LoadConf(text, path);
}

Result<MacroSet> MacroSet::ForDataDir(FileSystem* fs, const std::string& data_dir) {
  MacroSet macros;
  const std::string conf = JoinPath(data_dir, "macros.conf");
  if (fs->Exists(conf)) RETURN_IF_ERROR(macros.LoadFile(fs, conf));
  return macros;
}

}  // namespace cairn::query
