#pragma once
// One alert as cairn stores it: a Sigma rule's match, a saved search's triggered run, or an
// integrity finding. Every producer writes the same record to the `alerts` index (sourcetype
// `cairn:alert`), so analysts search alerts like events: `index=alerts level=high | stats count by
// rule_id`.
//
// The record's event id is a hash of what the alert is about (its kind, rule or search, and the
// matched event's id or the search's window), not of when it was raised: raising the same alert
// twice (a retro-hunt after streaming detection, a scheduler catching up after a crash) stores it
// once, because the store drops events whose id it already holds.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "cloudtrail/event.h"
#include "common/status.h"

namespace cairn::store {
class Store;
}

namespace cairn::detect {

inline constexpr std::string_view kAlertsIndex = "alerts";
inline constexpr std::string_view kAlertSourcetype = "cairn:alert";

enum class AlertKind { kSigma, kSavedSearch, kIntegrity };
std::string_view AlertKindName(AlertKind kind);  // "sigma", "saved_search", "integrity"

// The parts of an alert's record that are the same for every alert of one rule, encoded once:
// `head` is the members from alert_type to tags, `tail` the description member, `source` the
// record's source (see ToEvent). A producer that raises many alerts of the same rule (streaming
// detection) shares one of these among them; ToEvent then copies them instead of encoding the
// same title, tags and description for every alert. The record is the same byte for byte.
struct EncodedAlertParts {
  std::string head;
  std::string tail;
  std::string source;
};

struct Alert;
// The parts of `alert` that EncodedAlertParts holds (its kind, rule_id, title, level, tags and
// description), encoded.
std::shared_ptr<const EncodedAlertParts> EncodeAlertParts(const Alert& alert);

struct Alert {
  AlertKind kind = AlertKind::kSigma;
  std::string rule_id;  // Sigma rule id, saved search name, or integrity check name
  std::string title;
  std::string level;              // informational | low | medium | high | critical
  std::vector<std::string> tags;  // e.g. attack.t1562.008
  int64_t time_ms = 0;            // the alert's _time: the matched event's, or the window's end
  // What makes two raisings the same alert: the matched event's eventID, a window's bounds, a
  // digest's key. Required.
  std::string key;
  // The matched event's identity, when there is one (copied as fields of the record).
  std::string event_id;
  std::string event_name;
  std::string event_source;
  std::string user_arn;
  std::string source_ip;
  std::string region;
  std::string account;
  uint64_t result_count = 0;  // a saved search's results, a correlation's count
  std::string description;
  // Further fields, written as they are: name → JSON value text (already encoded).
  std::vector<std::pair<std::string, std::string>> extra_json;
  // When set, the encoding of kind, rule_id, title, level, tags and description
  // (EncodeAlertParts of an alert that has the same ones); ToEvent uses it instead of them, so
  // an alert that has it may leave tags and description empty (a rule's alerts do: one copy).
  std::shared_ptr<const EncodedAlertParts> encoded;
};

// The record as a store event: JSON with the fields above (empty ones left out), `_time` from
// time_ms, event id "alert:" + 32 hex digits of SHA-256 over kind, rule_id and key.
cloudtrail::Event ToEvent(const Alert& alert);

// The indexes that hold events, which rules and alert searches read: every index of `store` but
// the alerts index (an alert search must not find its own alerts) and the internal ones (_audit).
std::vector<std::string> EventIndexes(const store::Store& store);

// Commits `alerts` to the alerts index; durable on return. Returns how many were new.
Result<uint64_t> StoreAlerts(store::Store* store, const std::vector<Alert>& alerts);

}  // namespace cairn::detect
