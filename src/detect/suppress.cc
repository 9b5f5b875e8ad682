#include "detect/suppress.h"

#include <fmt/format.h>

#include <algorithm>
#include <charconv>
#include <optional>

#include "common/config.h"
#include "common/splunk_conf.h"
#include "common/text.h"
#include "detect/sigma.h"

namespace cairn::detect {

namespace {

constexpr int64_t kDayMs = 86'400'000;
constexpr std::string_view kKeyPrefix = "suppress:";

bool IsLevel(std::string_view level) {
  return level == "informational" || level == "low" || level == "medium" || level == "high" ||
         level == "critical";
}

// The settings of one stanza, each unset when the stanza does not give it.
struct Settings {
  std::optional<bool> on;
  std::optional<std::vector<std::string>> levels;  // [default] only
  std::optional<std::vector<std::string>> fields;
  std::optional<int64_t> period_ms;
};

Result<Settings> ReadStanza(const ConfStanza& stanza, std::string_view path) {
  Settings s;
  const bool is_default = stanza.name == "default";
  for (const ConfEntry& e : stanza.entries) {
    auto where = [&] { return fmt::format("{}:{}", path, e.line); };
    if (e.key == "alert.suppress") {
      bool b = false;
      if (!ParseSplunkBool(e.value, &b)) {
        return InvalidArgument("{}: alert.suppress = \"{}\" is not a boolean", where(), e.value);
      }
      s.on = b;
    } else if (e.key == "alert.suppress.levels" && is_default) {
      std::vector<std::string> levels = SplitConfList(AsciiLower(e.value));
      for (const std::string& l : levels) {
        if (!IsLevel(l)) {
          return InvalidArgument(
              "{}: alert.suppress.levels names \"{}\", not a Sigma level (informational, low, "
              "medium, high, critical)",
              where(), l);
        }
      }
      s.levels = std::move(levels);
    } else if (e.key == "alert.suppress.fields") {
      std::vector<std::string> fields = SplitConfList(e.value);
      if (fields.empty()) return InvalidArgument("{}: alert.suppress.fields is empty", where());
      s.fields = std::move(fields);
    } else if (e.key == "alert.suppress.period") {
      std::optional<int64_t> ms = ParseDurationMillis(TrimSpace(e.value));
      if (!ms || *ms <= 0 || *ms > kDayMs) {
        return InvalidArgument(
            "{}: alert.suppress.period = \"{}\" is not a duration from 1ms to 1d (like 1h)",
            where(), e.value);
      }
      s.period_ms = *ms;
    } else {
      return InvalidArgument(
          "{}: unknown setting \"{}\" (known: alert.suppress, alert.suppress.fields, "
          "alert.suppress.period{})",
          where(), e.key, is_default ? ", alert.suppress.levels" : "");
    }
  }
  return s;
}

}  // namespace

Status ApplySuppression(std::string_view conf_text, std::string_view path, LoadedRules* rules,
                        std::vector<std::string>* unknown_stanzas) {
  // The built-in default.
  bool default_on = true;
  std::vector<std::string> levels = {"informational", "low"};
  std::vector<std::string> fields = {"userIdentity.arn"};
  int64_t period_ms = 3'600'000;
  std::vector<std::pair<std::string, Settings>> per_rule;
  if (!conf_text.empty()) {
    ASSIGN_OR_RETURN(ConfFile conf, ParseConf(conf_text, path));
    for (const ConfStanza& stanza : conf.stanzas) {
      ASSIGN_OR_RETURN(Settings s, ReadStanza(stanza, path));
      if (stanza.name == "default") {
        if (s.on) default_on = *s.on;
        if (s.levels) levels = *s.levels;
        if (s.fields) fields = *s.fields;
        if (s.period_ms) period_ms = *s.period_ms;
      } else {
        per_rule.emplace_back(stanza.name, std::move(s));
      }
    }
  }
  for (Rule& r : rules->rules) {
    const bool by_level =
        default_on && std::find(levels.begin(), levels.end(), AsciiLower(r.level)) != levels.end();
    r.suppress = Suppression{};
    if (by_level) r.suppress = Suppression{fields, period_ms};
  }
  for (const auto& [name, s] : per_rule) {
    bool found = false;
    for (Rule& r : rules->rules) {
      if (r.id != name && (r.name.empty() || r.name != name)) continue;
      found = true;
      const bool on = s.on.value_or(true);
      if (!on) {
        r.suppress = Suppression{};
        continue;
      }
      // What the stanza leaves out comes from [default] (what a rule suppressed by its level has).
      r.suppress = Suppression{s.fields.value_or(fields), s.period_ms.value_or(period_ms)};
    }
    if (!found && unknown_stanzas != nullptr) unknown_stanzas->push_back(name);
  }
  return Status::Ok();
}

std::pair<int64_t, int64_t> SuppressWindow(int64_t time_ms, int64_t period_ms) {
  const int64_t day = time_ms - ((time_ms % kDayMs) + kDayMs) % kDayMs;
  const int64_t start = day + (time_ms - day) / period_ms * period_ms;
  return {start, std::min(start + period_ms, day + kDayMs)};
}

std::string PeriodText(int64_t period_ms) {
  if (period_ms % kDayMs == 0) return fmt::format("{}d", period_ms / kDayMs);
  if (period_ms % 3'600'000 == 0) return fmt::format("{}h", period_ms / 3'600'000);
  if (period_ms % 60'000 == 0) return fmt::format("{}m", period_ms / 60'000);
  if (period_ms % 1000 == 0) return fmt::format("{}s", period_ms / 1000);
  return fmt::format("{}ms", period_ms);
}

void AppendSuppressKey(std::string* out, int64_t window_start_ms,
                       const std::vector<std::string_view>& values) {
  *out += kKeyPrefix;
  char digits[24];
  auto [end, ec] = std::to_chars(digits, digits + sizeof(digits), window_start_ms);
  out->append(digits, end);
  out->push_back(':');
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out->push_back('\x1f');
    *out += values[i];
  }
}

std::string SuppressKey(int64_t window_start_ms, const std::vector<std::string_view>& values) {
  std::string key;
  AppendSuppressKey(&key, window_start_ms, values);
  return key;
}

bool ParseSuppressKey(std::string_view key, int64_t* window_start_ms) {
  if (!key.starts_with(kKeyPrefix)) return false;
  key.remove_prefix(kKeyPrefix.size());
  auto [end, ec] = std::from_chars(key.data(), key.data() + key.size(), *window_start_ms);
  return ec == std::errc() && end < key.data() + key.size() && *end == ':';
}

std::vector<bool> RecentAlerts::Known(const std::vector<Key>& keys) const {
  std::vector<bool> out(keys.size(), false);
  std::lock_guard<std::mutex> lock(mu_);
  for (size_t i = 0; i < keys.size(); ++i) {
    auto it = by_window_.find(keys[i].window_start_ms);
    out[i] = it != by_window_.end() && it->second.count(keys[i].text) > 0;
  }
  return out;
}

void RecentAlerts::Add(const std::vector<Key>& keys) {
  std::lock_guard<std::mutex> lock(mu_);
  for (const Key& k : keys) {
    if (by_window_[k.window_start_ms].insert(k.text).second) ++size_;
  }
  // The oldest windows go first; the newest one stays whatever its size.
  while (size_ > max_keys_ && by_window_.size() > 1) {
    size_ -= by_window_.begin()->second.size();
    by_window_.erase(by_window_.begin());
  }
}

size_t RecentAlerts::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return size_;
}

}  // namespace cairn::detect
