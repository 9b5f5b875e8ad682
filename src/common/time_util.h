#pragma once
// UTC time parsing and formatting used across layers. Times are milliseconds since the epoch.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace cairn {

// Parses ISO 8601 / RFC 3339 UTC times as CloudTrail writes them: "2023-07-10T08:12:34Z",
// with optional fractional seconds ("...34.123Z") and an optional offset ("+00:00", "-07:00").
// A date alone ("2023-07-10") means midnight UTC. Returns nullopt on anything else.
std::optional<int64_t> ParseIso8601Millis(std::string_view text);

// "2023-07-10T08:12:34Z" (no fraction); with_millis adds ".123".
std::string FormatIso8601(int64_t millis, bool with_millis = false);

// Days since 1970-01-01 for a civil date, and back (proleptic Gregorian).
int64_t DaysFromCivil(int64_t y, unsigned m, unsigned d);
void CivilFromDays(int64_t days, int64_t* y, unsigned* m, unsigned* d);

}  // namespace cairn
