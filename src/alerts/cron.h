#pragma once
// Cron schedules as Splunk's cron_schedule writes them: five fields (minute hour day-of-month month
// day-of-week), each `*`, a number, a range `a-b`, a step `*/n` or `a-b/n`, or a comma list of
// these; month and weekday names (jan..dec, sun..sat); 0 or 7 for Sunday; and the shorthands
// @hourly, @daily (@midnight), @weekly, @monthly, @yearly (@annually). When both day-of-month and
// day-of-week are restricted, a day matching either runs (as Vixie cron). All times are UTC.

#include <bitset>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::alerts {

class CronSchedule {
 public:
  static Result<CronSchedule> Parse(std::string_view text);

  // Whether the minute starting at `ms` (epoch milliseconds, any ms within the minute) matches.
  bool Matches(int64_t ms) const;
  // The first scheduled minute strictly after `after_ms` (milliseconds, a whole minute); -1 when
  // none within 5 years (e.g. "0 0 31 2 *").
  int64_t Next(int64_t after_ms) const;
  // Every scheduled time in (after_ms, until_ms], oldest first, at most `limit` of them counted
  // from the newest (the oldest are dropped); `*skipped` gets how many were dropped.
  std::vector<int64_t> Between(int64_t after_ms, int64_t until_ms, size_t limit,
                               size_t* skipped) const;
  const std::string& text() const { return text_; }

 private:
  std::string text_;
  std::bitset<60> minutes_;
  std::bitset<24> hours_;
  std::bitset<32> days_;     // 1..31
  std::bitset<13> months_;   // 1..12
  std::bitset<7> weekdays_;  // 0 = Sunday
  bool dom_star_ = true;
  bool dow_star_ = true;
};

}  // namespace cairn::alerts
