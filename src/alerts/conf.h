#pragma once
// Splunk's savedsearches.conf, as far as scheduled alerts need it.
//
// The file is a list of stanzas: `[name]` lines, then `key = value` lines. A line ending in a
// backslash continues on the next (the backslash and line break become one line break, as Splunk
// keeps them); `#` starts a comment line; blank lines are ignored. Settings of the `[default]`
// stanza apply to every stanza that does not set them itself, whatever their order in the file.
// Keys that cairn does not use are kept (SavedSearch::other) and logged at debug level. A line
// that is none of these is an error naming the file and the line.

#include <cstdint>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::alerts {

enum class CountType { kEvents, kResults, kHosts, kSources, kAlways, kCustom };
enum class Relation { kGreaterThan, kLessThan, kEqualTo, kNotEqualTo, kDropsBy, kRisesBy };

struct WebhookAction {
  bool enabled = false;
  std::string url;
};
struct SlackAction {
  bool enabled = false;
  std::string url;
  std::string channel;  // optional, copied into the payload
};
struct JsonlAction {
  bool enabled = false;
  std::string path;
};
struct SyslogAction {
  bool enabled = false;
  std::string host = "127.0.0.1";
  int port = 514;
  std::string protocol = "udp";  // udp | tcp
  int facility = 1;              // user
};

struct SavedSearch {
  std::string name;
  std::string origin;  // "file:line" of the stanza
  std::string search;
  std::string description;
  std::string cron_schedule;
  bool enable_sched = false;
  bool disabled = false;
  std::string earliest_time;  // dispatch.earliest_time ("" = the previous scheduled time)
  std::string latest_time;    // dispatch.latest_time ("" = the scheduled time)
  CountType counttype = CountType::kEvents;
  Relation relation = Relation::kGreaterThan;
  double quantity = 0;
  std::string alert_condition;  // counttype = custom: a search over the results
  bool track = true;            // alert.track
  int severity = 3;             // alert.severity 1..6
  bool suppress = false;
  std::vector<std::string> suppress_fields;
  int64_t suppress_period_ms = 0;
  bool digest_mode = true;  // alert.digest_mode: one alert per run (true) or per result
  WebhookAction webhook;
  SlackAction slack;
  JsonlAction jsonl;
  SyslogAction syslog;
  std::vector<std::string> tags;             // cairn.tags = a, b
  std::map<std::string, std::string> other;  // keys cairn does not use

  // Whether the scheduler runs it: scheduled, not disabled, with a schedule.
  bool Scheduled() const { return enable_sched && !disabled && !cron_schedule.empty(); }
  // alert.severity as a cairn alert level: 1-2 informational, 3 low, 4 medium, 5 high, 6 critical.
  std::string Level() const;
};

// Parses savedsearches.conf text. `origin` names the file in errors ("file:line: ...").
Result<std::vector<SavedSearch>> ParseSavedSearches(std::string_view text,
                                                    std::string_view origin = "savedsearches.conf");

// "number of events" and the rest as Splunk writes them (case-insensitive; also the short forms
// "events", "results", "hosts", "greater", "less", "equal", "notequal", "drops", "rises").
Result<CountType> ParseCountType(std::string_view text);
Result<Relation> ParseRelation(std::string_view text);
std::string_view CountTypeName(CountType c);
std::string_view RelationName(Relation r);

// A period as alert.suppress.period writes it: "60s", "5m", "1h", "1d", or plain seconds.
Result<int64_t> ParsePeriodMs(std::string_view text);

}  // namespace cairn::alerts
