#pragma once
// Time helpers with Splunk's syntax, all in UTC: relative time modifiers (earliest=-24h@h),
// strftime/strptime formats. Times are epoch seconds as double. Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"

namespace cairn::query {

// Resolves a time modifier against `now`: "now", "0", an epoch number, "%m/%d/%Y:%H:%M:%S",
// ISO 8601, or relative chains like "-24h", "-24h@h", "@d", "-7d@w0", "+1d@d-2h". Units: s m h d w
// mon q y (and their long spellings); @wN snaps to weekday N (0 = Sunday).
Result<double> ResolveTimeModifier(std::string_view text, double now);

// Applies a relative chain to `t` (the body of relative_time()).
Result<double> RelativeTime(double t, std::string_view spec);

// Formats `t` like C strftime plus Splunk's %N/%3N/%6N/%Q (subseconds) and %s.
std::string Strftime(double t, std::string_view format);

// Parses `text` with `format`; nullopt when it does not match.
std::optional<double> Strptime(std::string_view text, std::string_view format);

// Parses a span like "5m", "1h", "30", "1d", "1mon" into seconds (months are 30 days; callers
// that need calendar months check `months`).
Result<double> ParseSpan(std::string_view text, int* months = nullptr);

}  // namespace cairn::query
