#include "detect/alert.h"

#include "common/digest.h"
#include "common/hex.h"
#include "common/json_util.h"
#include "common/time_util.h"
#include "query/store_source.h"
#include "store/store.h"

namespace cairn::detect {

std::string_view AlertKindName(AlertKind kind) {
  switch (kind) {
    case AlertKind::kSigma: return "sigma";
    case AlertKind::kSavedSearch: return "saved_search";
    case AlertKind::kIntegrity: return "integrity";
  }
  return "unknown";
}

namespace {

void AddString(std::string* out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
  AppendJsonString(out, value);
}

std::string AlertId(const Alert& alert) {
  std::string identity;
  identity.append(AlertKindName(alert.kind));
  identity.push_back('\0');
  identity.append(alert.rule_id);
  identity.push_back('\0');
  identity.append(alert.key);
  const Sha256Digest digest = Sha256(identity);
  return "alert:" + HexEncode(std::string_view(reinterpret_cast<const char*>(digest.data()), 16));
}

}  // namespace

namespace {

// The members from alert_type to tags.
void AppendHead(std::string* json, const Alert& alert) {
  AddString(json, "alert_type", AlertKindName(alert.kind));
  AddString(json, "rule_id", alert.rule_id);
  AddString(json, "title", alert.title);
  AddString(json, "level", alert.level);
  if (!alert.tags.empty()) {
    *json += ",\"tags\":[";
    for (size_t i = 0; i < alert.tags.size(); ++i) {
      if (i > 0) json->push_back(',');
      AppendJsonString(json, alert.tags[i]);
    }
    json->push_back(']');
  }
}

std::string SourceOf(const Alert& alert) {
  return std::string("cairn:") + std::string(AlertKindName(alert.kind)) + ":" + alert.rule_id;
}

}  // namespace

std::shared_ptr<const EncodedAlertParts> EncodeAlertParts(const Alert& alert) {
  auto parts = std::make_shared<EncodedAlertParts>();
  AppendHead(&parts->head, alert);
  AddString(&parts->tail, "description", alert.description);
  parts->source = SourceOf(alert);
  return parts;
}

cloudtrail::Event ToEvent(const Alert& alert) {
  std::string json;
  json.reserve(1024);  // an alert's record is 0.5–1 KB: one allocation
  json += "{\"eventTime\":";
  AppendJsonString(&json, FormatIso8601(alert.time_ms, /*with_millis=*/true));
  if (alert.encoded != nullptr) {
    json += alert.encoded->head;
  } else {
    AppendHead(&json, alert);
  }
  AddString(&json, "alert_key", alert.key);
  AddString(&json, "eventID", alert.event_id);
  AddString(&json, "eventName", alert.event_name);
  AddString(&json, "eventSource", alert.event_source);
  AddString(&json, "sourceIPAddress", alert.source_ip);
  AddString(&json, "awsRegion", alert.region);
  AddString(&json, "recipientAccountId", alert.account);
  if (!alert.user_arn.empty()) {
    json += ",\"userIdentity\":{\"arn\":";
    AppendJsonString(&json, alert.user_arn);
    json.push_back('}');
  }
  if (alert.result_count > 0) json += ",\"result_count\":" + std::to_string(alert.result_count);
  if (alert.encoded != nullptr) {
    json += alert.encoded->tail;
  } else {
    AddString(&json, "description", alert.description);
  }
  for (const auto& [name, value] : alert.extra_json) {
    json.push_back(',');
    AppendJsonString(&json, name);
    json.push_back(':');
    json += value;
  }
  json.push_back('}');

  cloudtrail::Event event;
  event.raw = std::move(json);
  event.time_ms = alert.time_ms;
  event.account = alert.account;
  event.event_id = AlertId(alert);
  event.sourcetype = std::string(kAlertSourcetype);
  event.source = alert.encoded != nullptr ? alert.encoded->source : SourceOf(alert);
  return event;
}

std::vector<std::string> EventIndexes(const store::Store& store) {
  std::vector<std::string> out;
  for (std::string& index : store.ListIndexes()) {
    if (index != kAlertsIndex && !query::IsInternalIndex(index)) out.push_back(std::move(index));
  }
  return out;
}

Result<uint64_t> StoreAlerts(store::Store* store, const std::vector<Alert>& alerts) {
  if (alerts.empty()) return uint64_t{0};
  std::vector<cloudtrail::Event> events;
  events.reserve(alerts.size());
  for (const Alert& alert : alerts) events.push_back(ToEvent(alert));
  auto stats = store->Commit(kAlertsIndex, std::move(events));
  if (!stats.ok()) return stats.status();
  return stats->added;
}

}  // namespace cairn::detect
