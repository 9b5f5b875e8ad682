#pragma once
// One CloudTrail event as it moves from a reader to the store: the original JSON bytes exactly as
// they appeared in the file, plus the few facts every later stage needs without parsing again.

#include <cstdint>
#include <string>
#include <string_view>

namespace cairn::cloudtrail {

inline constexpr std::string_view kSourcetypeEvents = "aws:cloudtrail";
inline constexpr std::string_view kSourcetypeInsight = "aws:cloudtrail:insight";

struct Event {
  std::string raw;         // the event's original JSON text, byte for byte
  int64_t time_ms = 0;     // eventTime, UTC, milliseconds since the epoch
  std::string account;     // recipientAccountId, else userIdentity.accountId, else ""
  std::string event_id;    // eventID, else "h:" + 32 hex digits of a stable hash of `raw`
  std::string sourcetype;  // kSourcetypeEvents or kSourcetypeInsight
  std::string source;      // the file path or S3 key the event came from
};

}  // namespace cairn::cloudtrail
