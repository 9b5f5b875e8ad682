#include "common/config.h"

#include <cctype>
#include <charconv>
#include <cstdio>
#include <sstream>

#include <toml++/toml.h>

namespace cairn {
namespace {

std::string Lower(std::string_view s) {
  std::string out;
  for (char c : s) out.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  return out;
}

std::string ScalarText(const toml::node& node) {
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto b = node.value_exact<bool>()) return *b ? "true" : "false";
  if (auto i = node.value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = node.value_exact<double>()) {
    std::ostringstream os;
    os << *d;
    return os.str();
  }
  if (auto dt = node.value_exact<toml::date>()) {
    char buf[16];
    std::snprintf(buf, sizeof(buf), "%04d-%02d-%02d", dt->year, dt->month, dt->day);
    return buf;
  }
  return "";
}

void Flatten(const toml::table& table, const std::string& prefix, const std::string& origin,
             Config* config) {
  for (const auto& [k, node] : table) {
    std::string key = prefix.empty() ? std::string(k.str()) : prefix + "." + std::string(k.str());
    if (const auto* sub = node.as_table()) {
      Flatten(*sub, key, origin, config);
    } else if (const auto* arr = node.as_array()) {
      std::string joined;
      for (const auto& item : *arr) {
        if (!joined.empty()) joined += ",";
        joined += ScalarText(item);
      }
      config->Set(key, joined, origin);
    } else {
      config->Set(key, ScalarText(node), origin);
    }
  }
}

}  // namespace

Status Config::LoadTomlString(std::string_view text, std::string_view origin) {
  try {
    toml::table table = toml::parse(text, std::string(origin));
    Flatten(table, "", std::string(origin), this);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("{}:{}:{}: {}", origin, e.source().begin.line, e.source().begin.column,
                           e.description());
  }
  return Status::Ok();
}

Status Config::LoadTomlFile(const std::string& path) {
  try {
    toml::table table = toml::parse_file(path);
    Flatten(table, "", path, this);
  } catch (const toml::parse_error& e) {
    return InvalidArgument("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column,
                           e.description());
  }
  return Status::Ok();
}

std::string Config::EnvName(std::string_view key) {
  std::string out = "CAIRN_";
  for (char c : key) {
    if (c == '.' || c == '-') out.push_back('_');
    else out.push_back(static_cast<char>(std::toupper(static_cast<unsigned char>(c))));
  }
  return out;
}

void Config::LoadEnvironment(const std::vector<std::string>& environ_list,
                             const std::vector<std::string>& known_keys) {
  std::map<std::string, std::string> by_env;
  for (const auto& key : known_keys) by_env[EnvName(key)] = key;
  for (const auto& [key, entry] : entries_) by_env[EnvName(key)] = key;
  for (const auto& kv : environ_list) {
    size_t eq = kv.find('=');
    if (eq == std::string::npos) continue;
    auto it = by_env.find(kv.substr(0, eq));
    if (it != by_env.end()) Set(it->second, kv.substr(eq + 1), "env " + it->first);
  }
}

void Config::Set(std::string key, std::string value, std::string origin) {
  entries_[std::move(key)] = Entry{std::move(value), std::move(origin)};
}

bool Config::Has(std::string_view key) const { return entries_.find(key) != entries_.end(); }

std::optional<std::string> Config::GetString(std::string_view key) const {
  auto it = entries_.find(key);
  if (it == entries_.end()) return std::nullopt;
  return it->second.value;
}

std::string Config::GetString(std::string_view key, std::string_view fallback) const {
  auto v = GetString(key);
  return v ? *v : std::string(fallback);
}

std::string Config::Origin(std::string_view key) const {
  auto it = entries_.find(key);
  return it == entries_.end() ? "default" : it->second.origin;
}

std::vector<std::string> Config::Keys() const {
  std::vector<std::string> out;
  for (const auto& [k, v] : entries_) out.push_back(k);
  return out;
}

Result<int64_t> Config::GetInt(std::string_view key, int64_t fallback) const {
  auto v = GetString(key);
  if (!v) return fallback;
  int64_t out = 0;
  auto [p, ec] = std::from_chars(v->data(), v->data() + v->size(), out);
  if (ec != std::errc() || p != v->data() + v->size()) {
    return InvalidArgument("{} = \"{}\" ({}): not an integer", key, *v, Origin(key));
  }
  return out;
}

Result<bool> Config::GetBool(std::string_view key, bool fallback) const {
  auto v = GetString(key);
  if (!v) return fallback;
  std::string l = Lower(*v);
  if (l == "1" || l == "true" || l == "yes" || l == "on") return true;
  if (l == "0" || l == "false" || l == "no" || l == "off") return false;
  return InvalidArgument("{} = \"{}\" ({}): not a boolean", key, *v, Origin(key));
}

Result<uint64_t> Config::GetBytes(std::string_view key, uint64_t fallback) const {
  auto v = GetString(key);
  if (!v) return fallback;
  auto b = ParseBytes(*v);
  if (!b) return InvalidArgument("{} = \"{}\" ({}): not a size like 64MiB", key, *v, Origin(key));
  return *b;
}

Result<int64_t> Config::GetDurationMillis(std::string_view key, int64_t fallback) const {
  auto v = GetString(key);
  if (!v) return fallback;
  auto d = ParseDurationMillis(*v);
  if (!d) return InvalidArgument("{} = \"{}\" ({}): not a duration like 30s", key, *v, Origin(key));
  return *d;
}

std::optional<uint64_t> ParseBytes(std::string_view text) {
  size_t i = 0;
  uint64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    n = n * 10 + static_cast<uint64_t>(text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = Lower(text.substr(i));
  while (!unit.empty() && unit.front() == ' ') unit.erase(0, 1);
  uint64_t mult;
  if (unit.empty() || unit == "b") mult = 1;
  else if (unit == "k" || unit == "kb" || unit == "kib") mult = 1ull << 10;
  else if (unit == "m" || unit == "mb" || unit == "mib") mult = 1ull << 20;
  else if (unit == "g" || unit == "gb" || unit == "gib") mult = 1ull << 30;
  else if (unit == "t" || unit == "tb" || unit == "tib") mult = 1ull << 40;
  else return std::nullopt;
  return n * mult;
}

std::optional<int64_t> ParseDurationMillis(std::string_view text) {
  size_t i = 0;
  int64_t n = 0;
  while (i < text.size() && std::isdigit(static_cast<unsigned char>(text[i]))) {
    n = n * 10 + (text[i] - '0');
    ++i;
  }
  if (i == 0) return std::nullopt;
  std::string unit = Lower(text.substr(i));
  if (unit.empty() || unit == "s") return n * 1000;
  if (unit == "ms") return n;
  if (unit == "m" || unit == "min") return n * 60'000;
  if (unit == "h") return n * 3'600'000;
  if (unit == "d") return n * 86'400'000;
  if (unit == "w") return n * 7 * 86'400'000;
  return std::nullopt;
}

}  // namespace cairn
