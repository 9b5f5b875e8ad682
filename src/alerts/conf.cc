#include "alerts/conf.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <utility>

#include "common/log.h"
#include "common/splunk_conf.h"
#include "common/text.h"

namespace cairn::alerts {
namespace {

Result<bool> ParseBool(std::string_view value) {
  bool b = false;
  if (TrimSpace(value).empty()) return false;  // an empty setting is off
  if (!ParseSplunkBool(value, &b)) {
    return InvalidArgument("\"{}\" is not a boolean (true/false/1/0)", value);
  }
  return b;
}

Result<long long> ParseInt(std::string_view value) {
  value = TrimSpace(value);
  long long out = 0;
  auto [p, ec] = std::from_chars(value.data(), value.data() + value.size(), out);
  if (ec != std::errc() || p != value.data() + value.size()) {
    return InvalidArgument("\"{}\" is not a whole number", value);
  }
  return out;
}

// Applies one setting to `s`; an error for a value it cannot use.
Status Apply(SavedSearch* s, const std::string& key, const std::string& value) {
  auto set_bool = [&](bool* out) -> Status {
    auto b = ParseBool(value);
    if (!b.ok()) return b.status();
    *out = *b;
    return Status::Ok();
  };
  if (key == "search") {
    s->search = value;
  } else if (key == "description") {
    s->description = value;
  } else if (key == "cron_schedule") {
    s->cron_schedule = std::string(TrimSpace(value));
  } else if (key == "enablesched") {
    return set_bool(&s->enable_sched);
  } else if (key == "disabled") {
    return set_bool(&s->disabled);
  } else if (key == "dispatch.earliest_time") {
    s->earliest_time = std::string(TrimSpace(value));
  } else if (key == "dispatch.latest_time") {
    s->latest_time = std::string(TrimSpace(value));
  } else if (key == "counttype" || key == "alert_type") {  // alert_type: the REST API's name
    auto c = ParseCountType(value);
    if (!c.ok()) return c.status();
    s->counttype = *c;
  } else if (key == "relation") {
    if (TrimSpace(value).empty()) return Status::Ok();
    auto r = ParseRelation(value);
    if (!r.ok()) return r.status();
    s->relation = *r;
  } else if (key == "quantity") {
    if (TrimSpace(value).empty()) return Status::Ok();
    std::string v(TrimSpace(value));
    char* end = nullptr;
    double q = std::strtod(v.c_str(), &end);
    if (end == v.c_str() || *end != '\0') return InvalidArgument("\"{}\" is not a number", value);
    s->quantity = q;
  } else if (key == "alert_condition") {
    s->alert_condition = value;
  } else if (key == "alert.track") {
    return set_bool(&s->track);
  } else if (key == "alert.severity") {
    auto n = ParseInt(value);
    if (!n.ok()) return n.status();
    if (*n < 1 || *n > 6) return InvalidArgument("alert.severity {} is not 1..6", *n);
    s->severity = static_cast<int>(*n);
  } else if (key == "alert.suppress") {
    return set_bool(&s->suppress);
  } else if (key == "alert.suppress.fields") {
    s->suppress_fields = SplitConfList(value);
  } else if (key == "alert.suppress.period") {
    if (TrimSpace(value).empty()) return Status::Ok();
    auto p = ParsePeriodMs(value);
    if (!p.ok()) return p.status();
    s->suppress_period_ms = *p;
  } else if (key == "alert.digest_mode") {
    return set_bool(&s->digest_mode);
  } else if (key == "action.webhook") {
    return set_bool(&s->webhook.enabled);
  } else if (key == "action.webhook.param.url") {
    s->webhook.url = std::string(TrimSpace(value));
  } else if (key == "action.slack") {
    return set_bool(&s->slack.enabled);
  } else if (key == "action.slack.param.url") {
    s->slack.url = std::string(TrimSpace(value));
  } else if (key == "action.slack.param.channel") {
    s->slack.channel = std::string(TrimSpace(value));
  } else if (key == "action.jsonl") {
    return set_bool(&s->jsonl.enabled);
  } else if (key == "action.jsonl.param.path") {
    s->jsonl.path = std::string(TrimSpace(value));
  } else if (key == "action.syslog") {
    return set_bool(&s->syslog.enabled);
  } else if (key == "action.syslog.param.host") {
    s->syslog.host = std::string(TrimSpace(value));
  } else if (key == "action.syslog.param.port") {
    auto n = ParseInt(value);
    if (!n.ok()) return n.status();
    if (*n < 1 || *n > 65535) return InvalidArgument("port {} is not 1..65535", *n);
    s->syslog.port = static_cast<int>(*n);
  } else if (key == "action.syslog.param.protocol") {
    std::string p = AsciiLower(TrimSpace(value));
    if (p != "udp" && p != "tcp")
      return InvalidArgument("protocol \"{}\" is not udp or tcp", value);
    s->syslog.protocol = p;
  } else if (key == "action.syslog.param.facility") {
    auto n = ParseInt(value);
    if (!n.ok()) return n.status();
    if (*n < 0 || *n > 23) return InvalidArgument("facility {} is not 0..23", *n);
    s->syslog.facility = static_cast<int>(*n);
  } else if (key == "cairn.tags") {
    s->tags = SplitConfList(value);
  } else {
    s->other[key] = value;
  }
  return Status::Ok();
}

}  // namespace

std::string SavedSearch::Level() const {
  switch (severity) {
    case 1:
    case 2: return "informational";
    case 3: return "low";
    case 4: return "medium";
    case 5: return "high";
    default: return "critical";
  }
}

Result<CountType> ParseCountType(std::string_view text) {
  std::string t = AsciiLower(TrimSpace(text));
  if (t == "number of events" || t == "events") return CountType::kEvents;
  if (t == "number of results" || t == "results") return CountType::kResults;
  if (t == "number of hosts" || t == "hosts") return CountType::kHosts;
  if (t == "number of sources" || t == "sources") return CountType::kSources;
  if (t == "always") return CountType::kAlways;
  if (t == "custom") return CountType::kCustom;
  return InvalidArgument(
      "counttype \"{}\" is not number of events, number of results, number of hosts, number of "
      "sources, always or custom",
      text);
}

Result<Relation> ParseRelation(std::string_view text) {
  std::string t = AsciiLower(TrimSpace(text));
  if (t == "greater than" || t == "greater") return Relation::kGreaterThan;
  if (t == "less than" || t == "less") return Relation::kLessThan;
  if (t == "equal to" || t == "equal") return Relation::kEqualTo;
  if (t == "not equal to" || t == "notequal") return Relation::kNotEqualTo;
  if (t == "drops by" || t == "drops") return Relation::kDropsBy;
  if (t == "rises by" || t == "rises") return Relation::kRisesBy;
  return InvalidArgument(
      "relation \"{}\" is not greater than, less than, equal to, not equal to, drops by or rises "
      "by",
      text);
}

std::string_view CountTypeName(CountType c) {
  switch (c) {
    case CountType::kEvents: return "number of events";
    case CountType::kResults: return "number of results";
    case CountType::kHosts: return "number of hosts";
    case CountType::kSources: return "number of sources";
    case CountType::kAlways: return "always";
    case CountType::kCustom: return "custom";
  }
  return "?";
}

std::string_view RelationName(Relation r) {
  switch (r) {
    case Relation::kGreaterThan: return "greater than";
    case Relation::kLessThan: return "less than";
    case Relation::kEqualTo: return "equal to";
    case Relation::kNotEqualTo: return "not equal to";
    case Relation::kDropsBy: return "drops by";
    case Relation::kRisesBy: return "rises by";
  }
  return "?";
}

Result<int64_t> ParsePeriodMs(std::string_view text) {
  std::string t = AsciiLower(TrimSpace(text));
  size_t i = 0;
  while (i < t.size() && std::isdigit(static_cast<unsigned char>(t[i]))) ++i;
  if (i == 0) return InvalidArgument("period \"{}\" is not a number with s, m, h or d", text);
  int64_t n = std::stoll(t.substr(0, i));
  std::string unit = t.substr(i);
  int64_t mult = 0;
  if (unit.empty() || unit == "s" || unit == "sec" || unit == "secs") mult = 1000;
  if (unit == "m" || unit == "min" || unit == "mins") mult = 60'000;
  if (unit == "h" || unit == "hr" || unit == "hrs") mult = 3'600'000;
  if (unit == "d" || unit == "day" || unit == "days") mult = 86'400'000;
  if (mult == 0) return InvalidArgument("period \"{}\" has an unknown unit", text);
  return n * mult;
}

Result<std::vector<SavedSearch>> ParseSavedSearches(std::string_view text,
                                                    std::string_view origin) {
  ASSIGN_OR_RETURN(ConfFile conf, ParseConf(text, origin));
  // The [default] stanza (and settings before any stanza) applies to every search that does not
  // set the key itself.
  const ConfStanza* defaults = nullptr;
  for (const ConfStanza& st : conf.stanzas) {
    if (st.name == "default") defaults = &st;
  }
  std::vector<SavedSearch> out;
  for (const ConfStanza& st : conf.stanzas) {
    if (st.name == "default") continue;
    SavedSearch s;
    s.name = st.name;
    s.origin = fmt::format("{}:{}", origin, st.line);
    auto sets = [&](const std::string& key) {
      return std::any_of(st.entries.begin(), st.entries.end(),
                         [&](const ConfEntry& e) { return AsciiLower(e.key) == key; });
    };
    auto apply_all = [&](const ConfStanza& from, bool skip_if_set) -> Status {
      for (const ConfEntry& e : from.entries) {
        const std::string key = AsciiLower(e.key);
        if (skip_if_set && sets(key)) continue;
        if (Status err = Apply(&s, key, e.value); !err.ok()) {
          return InvalidArgument("{}:{}: [{}] {}: {}", origin, e.line, from.name, key,
                                 err.message());
        }
      }
      return Status::Ok();
    };
    if (defaults != nullptr) RETURN_IF_ERROR(apply_all(*defaults, true));
    RETURN_IF_ERROR(apply_all(st, false));
    for (const auto& [key, value] : s.other) {
      log::Debug("{}: [{}] {} is not used by cairn (ignored)", origin, s.name, key);
    }
    out.push_back(std::move(s));
  }
  return out;
}

}  // namespace cairn::alerts
