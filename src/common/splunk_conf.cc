#include "common/splunk_conf.h"

#include <cctype>
#include <map>

#include "common/text.h"

namespace cairn {
Result<ConfFile> ParseConf(std::string_view text, std::string_view path) {
  ConfFile out;
  out.path = std::string(path);
  out.stanzas.push_back(ConfStanza{"default", 0, {}});
  size_t current = 0;
  std::map<std::string, size_t> by_name{{"default", 0}};
  int line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t end = text.find('\n', pos);
    if (end == std::string_view::npos) end = text.size();
    std::string line(text.substr(pos, end - pos));
    pos = end + 1;
    ++line_no;
    const int first_line = line_no;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    // Continuation: a trailing backslash joins the next physical line.
    while (!line.empty() && line.back() == '\\' && pos <= text.size()) {
      line.pop_back();
      if (pos >= text.size()) break;
      size_t e2 = text.find('\n', pos);
      if (e2 == std::string_view::npos) e2 = text.size();
      std::string next(text.substr(pos, e2 - pos));
      if (!next.empty() && next.back() == '\r') next.pop_back();
      pos = e2 + 1;
      ++line_no;
      line += "\n";
      line += next;
    }
    std::string_view t = TrimSpace(line);
    if (t.empty() || t.front() == '#' || t.front() == ';') continue;
    if (t.front() == '[') {
      if (t.back() != ']') {
        return InvalidArgument("{}:{}: stanza header \"{}\" has no closing ']'", path, first_line,
                               t);
      }
      std::string name(TrimSpace(t.substr(1, t.size() - 2)));
      if (name.empty()) return InvalidArgument("{}:{}: empty stanza name", path, first_line);
      auto it = by_name.find(name);
      if (it == by_name.end()) {
        out.stanzas.push_back(ConfStanza{name, first_line, {}});
        current = out.stanzas.size() - 1;
        by_name[name] = current;
      } else {
        current = it->second;
        if (out.stanzas[current].line == 0) out.stanzas[current].line = first_line;
      }
      continue;
    }
    size_t eq = t.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("{}:{}: expected \"key = value\", a [stanza] or a # comment", path,
                             first_line);
    }
    std::string key(TrimSpace(t.substr(0, eq)));
    if (key.empty()) return InvalidArgument("{}:{}: a value without a key", path, first_line);
    out.stanzas[current].entries.push_back(
        ConfEntry{key, std::string(TrimSpace(t.substr(eq + 1))), first_line});
  }
  return out;
}

const std::string* FindConfValue(const ConfStanza& stanza, std::string_view key) {
  const std::string* found = nullptr;
  for (const ConfEntry& e : stanza.entries) {
    if (e.key == key) found = &e.value;
  }
  return found;
}

bool ParseSplunkBool(std::string_view text, bool* out) {
  std::string v = AsciiLower(TrimSpace(text));
  if (v == "1" || v == "true" || v == "t" || v == "yes" || v == "y" || v == "on") {
    *out = true;
  } else if (v == "0" || v == "false" || v == "f" || v == "no" || v == "n" || v == "off") {
    *out = false;
  } else {
    return false;
  }
  return true;
}

std::vector<std::string> SplitConfList(std::string_view value) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : value) {
    if (c == ',' || std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) out.push_back(std::move(cur));
  return out;
}

}  // namespace cairn
