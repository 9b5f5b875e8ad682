#pragma once
// Throttling of a Sigma rule's own alerts, as Splunk's alert.suppress does for a saved search:
// a suppressed rule raises one alert per window of its period and per value of its fields
// (userIdentity.arn by default) instead of one per matching event. Low-level rules that match
// ordinary traffic (aws_sts_assumerole_misuse matches every call of an assumed role's session)
// then raise a handful of alerts an hour rather than one per event. Such an alert stands for its
// window and the fields' values, not for an event (RuleSet::ToAlert).
//
// Windows are fixed, not started by an alert: [start, start + period) with `start` a multiple of
// the period after the UTC day's midnight (the last window of a day ends at midnight). So the
// streaming path and a retro-hunt agree on every alert's identity whatever the order the events
// arrive in, and the store, which finds duplicates within a UTC day, keeps each alert once.
//
// What is suppressed comes from `suppress.conf` at the top of the rules folder (Splunk .conf
// syntax), else from the built-in default: rules of level informational or low, by
// userIdentity.arn, per hour.
//
//   # the default (0: no rule is suppressed unless its stanza says so)
//   [default]
//   alert.suppress = 1
//   alert.suppress.levels = informational, low
//   alert.suppress.fields = userIdentity.arn
//   # at most 1d
//   alert.suppress.period = 1h
//
//   # a rule id (or name): its own settings; here an alert per matching event
//   [905d389b-b853-46d0-9d3d-dea0d3a3cd49]
//   alert.suppress = 0
//
// Correlations are not suppressed, and a suppressed rule's hits still all reach them.

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <string_view>
#include <unordered_set>
#include <vector>

#include "common/status.h"

namespace cairn::detect {

struct LoadedRules;

// One rule's throttling; off when period_ms is 0.
struct Suppression {
  std::vector<std::string> fields;  // as Sigma writes them: userIdentity.arn
  int64_t period_ms = 0;
  bool on() const { return period_ms > 0; }
};

// The name of the settings file inside a rules folder.
inline constexpr std::string_view kSuppressConfName = "suppress.conf";

// Sets each rule's Suppression from `conf_text` (the file's text, named `path` in errors; empty
// for the built-in default). Errors: a key cairn does not know, a period that is not a duration
// of at most a day, a level that is not a Sigma level, an empty field list (file:line named).
// A stanza naming no loaded rule is reported in `unknown_stanzas`.
Status ApplySuppression(std::string_view conf_text, std::string_view path, LoadedRules* rules,
                        std::vector<std::string>* unknown_stanzas = nullptr);

// The window holding `time_ms`: [first, second), inside one UTC day.
std::pair<int64_t, int64_t> SuppressWindow(int64_t time_ms, int64_t period_ms);

// The text of a period for alert records and --explain: "1h", "30m", "90s", "250ms".
std::string PeriodText(int64_t period_ms);

// A suppressed rule's alert key for the window starting at `window_start_ms` and the fields'
// values: "suppress:<window start ms>:" and the values joined by U+001F.
std::string SuppressKey(int64_t window_start_ms, const std::vector<std::string_view>& values);
// The same, appended to `*out`.
void AppendSuppressKey(std::string* out, int64_t window_start_ms,
                       const std::vector<std::string_view>& values);
// The window start of a key SuppressKey made; false for any other key.
bool ParseSuppressKey(std::string_view key, int64_t* window_start_ms);

// The suppressed alerts a process has stored recently (by rule id and alert key), so that the
// streaming path does not build and commit again an alert the store already holds. Only a
// shortcut: the store keeps one alert per id whatever this forgets. Holds at most `max_keys`
// keys, forgetting the oldest windows first. Thread-safe.
class RecentAlerts {
 public:
  struct Key {
    int64_t window_start_ms = 0;
    std::string text;  // rule id, U+001F, alert key
  };
  explicit RecentAlerts(size_t max_keys = 1 << 18) : max_keys_(max_keys) {}
  // Per key: whether its alert was stored.
  std::vector<bool> Known(const std::vector<Key>& keys) const;
  // Remembers keys whose alerts were stored.
  void Add(const std::vector<Key>& keys);
  size_t size() const;

 private:
  const size_t max_keys_;
  mutable std::mutex mu_;
  std::map<int64_t, std::unordered_set<std::string>> by_window_;  // by window start
  size_t size_ = 0;
};

}  // namespace cairn::detect
