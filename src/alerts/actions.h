#pragma once
// What a triggered saved search does besides storing its alert record: POST a webhook (Splunk's
// payload), POST a Slack-compatible message, append a JSON line to a file, send a syslog message
// (RFC 5424 over UDP, or over TCP with octet-counting framing, RFC 6587). Each action reports its
// failure as a Status; the caller logs and counts it. The alert record is stored before any action
// runs, so a failed action never loses it.

#include <cstdint>
#include <string>
#include <vector>

#include "alerts/conf.h"
#include "aws/http.h"
#include "common/fs.h"
#include "common/status.h"
#include "detect/alert.h"

namespace cairn::alerts {

// One triggered alert as the actions describe it.
struct Triggered {
  std::string search_name;
  std::string sid;  // "scheduler__cairn__<name>_at_<scheduled seconds>"
  std::string app = "cairn";
  std::string owner = "cairn";
  std::string results_link;  // a `cairn search` command line, or a URL when serve's is known
  int64_t scheduled_ms = 0;
  int64_t earliest_ms = 0;
  int64_t latest_ms = 0;
  uint64_t result_count = 0;
  detect::Alert alert;
  // The alert's results as JSON objects (the first is Splunk's `result`); at most a few.
  std::vector<std::string> results_json;
};

// Splunk's webhook body: {"sid", "search_name", "app", "owner", "results_link", "result"} plus
// cairn's "severity", "level", "trigger_time", "earliest", "latest", "result_count".
std::string WebhookPayload(const Triggered& t);
// {"text": ..., "attachments": [{"color", "title", "fields": [...]}]} for Slack incoming webhooks
// (and Mattermost, Rocket.Chat, which take the same shape).
std::string SlackPayload(const Triggered& t, const std::string& channel);
// One JSON line: the webhook payload plus "results" (the first few).
std::string JsonlLine(const Triggered& t);
// The RFC 5424 message (without TCP framing): <PRI>1 TIMESTAMP HOST cairn - alert [SD] MSG.
std::string SyslogMessage(const Triggered& t, int facility, const std::string& hostname);

struct ActionOptions {
  int64_t timeout_ms = 10'000;  // per action: HTTP total time, TCP connect and send
  std::string hostname;         // syslog HOSTNAME ("" = gethostname)
};

// POSTs `body` (JSON) to `url`; a non-2xx answer is an error naming the status.
Status PostJson(aws::HttpClient* http, const std::string& url, const std::string& body,
                int64_t timeout_ms);
Status AppendLine(FileSystem* fs, const std::string& path, const std::string& line);
Status SendSyslog(const SyslogAction& action, const std::string& message, int64_t timeout_ms);

}  // namespace cairn::alerts
