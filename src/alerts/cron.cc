#include "alerts/cron.h"

#include <algorithm>
#include <cctype>
#include <charconv>
#include <deque>

#include "common/time_util.h"

namespace cairn::alerts {
namespace {

constexpr int64_t kMinuteMs = 60'000;
constexpr int64_t kDayMs = 86'400'000;

const char* const kMonthNames[] = {"jan", "feb", "mar", "apr", "may", "jun",
                                   "jul", "aug", "sep", "oct", "nov", "dec"};
const char* const kDayNames[] = {"sun", "mon", "tue", "wed", "thu", "fri", "sat"};

Result<int> ParseValue(std::string_view v, int field) {
  std::string lower(v);
  for (char& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (field == 3) {
    for (int i = 0; i < 12; ++i) {
      if (lower == kMonthNames[i]) return i + 1;
    }
  }
  if (field == 4) {
    for (int i = 0; i < 7; ++i) {
      if (lower == kDayNames[i]) return i;
    }
  }
  int n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size() || v.empty()) {
    return InvalidArgument("\"{}\" is not a number{}", v,
                           field == 3   ? " or month name"
                           : field == 4 ? " or weekday name"
                                        : "");
  }
  return n;
}

// Parses one field into `bits` (indexes lo..hi). Returns whether it was `*` (or `*/1`).
template <size_t N>
Result<bool> ParseField(std::string_view text, int field, int lo, int hi, std::bitset<N>* bits) {
  static const char* const kNames[] = {"minute", "hour", "day of month", "month", "day of week"};
  bool star = false;
  size_t start = 0;
  while (start <= text.size()) {
    size_t comma = text.find(',', start);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view part = text.substr(start, comma - start);
    start = comma + 1;
    if (part.empty()) return InvalidArgument("{}: empty list item in \"{}\"", kNames[field], text);
    int step = 1;
    if (size_t slash = part.find('/'); slash != std::string_view::npos) {
      auto s = ParseValue(part.substr(slash + 1), -1);
      if (!s.ok() || *s <= 0) {
        return InvalidArgument("{}: bad step in \"{}\"", kNames[field], part);
      }
      step = *s;
      part = part.substr(0, slash);
    }
    int a = lo, b = hi;
    if (part == "*") {
      if (step == 1) star = true;
    } else if (size_t dash = part.find('-'); dash != std::string_view::npos) {
      auto x = ParseValue(part.substr(0, dash), field);
      auto y = ParseValue(part.substr(dash + 1), field);
      if (!x.ok() || !y.ok()) return InvalidArgument("{}: bad range \"{}\"", kNames[field], part);
      a = *x;
      b = *y;
    } else {
      auto x = ParseValue(part, field);
      if (!x.ok()) return InvalidArgument("{}: {}", kNames[field], x.status().message());
      a = *x;
      // "5/15" means 5, 20, 35, 50 (from 5 to the end, every 15), as cron does.
      b = step > 1 ? hi : *x;
    }
    int max = field == 4 ? 7 : hi;  // 7 = Sunday
    if (a < lo || b > max || a > b) {
      return InvalidArgument("{}: \"{}\" is outside {}-{}", kNames[field], part, lo, max);
    }
    for (int v = a; v <= b; v += step) bits->set(field == 4 ? v % 7 : v);
    if (comma == text.size()) break;
  }
  return star;
}

}  // namespace

Result<CronSchedule> CronSchedule::Parse(std::string_view text) {
  std::string t(text);
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.back()))) t.pop_back();
  while (!t.empty() && std::isspace(static_cast<unsigned char>(t.front()))) t.erase(0, 1);
  std::string expanded = t;
  if (t == "@hourly") expanded = "0 * * * *";
  if (t == "@daily" || t == "@midnight") expanded = "0 0 * * *";
  if (t == "@weekly") expanded = "0 0 * * 0";
  if (t == "@monthly") expanded = "0 0 1 * *";
  if (t == "@yearly" || t == "@annually") expanded = "0 0 1 1 *";
  std::vector<std::string> fields;
  std::string cur;
  for (char c : expanded) {
    if (std::isspace(static_cast<unsigned char>(c))) {
      if (!cur.empty()) fields.push_back(cur);
      cur.clear();
    } else {
      cur.push_back(c);
    }
  }
  if (!cur.empty()) fields.push_back(cur);
  if (fields.size() != 5) {
    return InvalidArgument(
        "cron schedule \"{}\" must have 5 fields (minute hour day-of-month month day-of-week)",
        text);
  }
  CronSchedule c;
  c.text_ = t;
  auto wrap = [&](Status s) {
    return InvalidArgument("cron schedule \"{}\": {}", text, s.message());
  };
  if (auto r = ParseField(fields[0], 0, 0, 59, &c.minutes_); !r.ok()) return wrap(r.status());
  if (auto r = ParseField(fields[1], 1, 0, 23, &c.hours_); !r.ok()) return wrap(r.status());
  auto dom = ParseField(fields[2], 2, 1, 31, &c.days_);
  if (!dom.ok()) return wrap(dom.status());
  if (auto r = ParseField(fields[3], 3, 1, 12, &c.months_); !r.ok()) return wrap(r.status());
  auto dow = ParseField(fields[4], 4, 0, 6, &c.weekdays_);
  if (!dow.ok()) return wrap(dow.status());
  c.dom_star_ = *dom;
  c.dow_star_ = *dow;
  return c;
}

bool CronSchedule::Matches(int64_t ms) const {
  int64_t days = ms >= 0 ? ms / kDayMs : (ms - kDayMs + 1) / kDayMs;
  int64_t in_day = ms - days * kDayMs;
  int minute = static_cast<int>(in_day / kMinuteMs % 60);
  int hour = static_cast<int>(in_day / 3'600'000);
  if (!minutes_[minute] || !hours_[hour]) return false;
  int64_t y;
  unsigned m, d;
  CivilFromDays(days, &y, &m, &d);
  if (!months_[m]) return false;
  int weekday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  bool dom_ok = days_[d];
  bool dow_ok = weekdays_[weekday];
  if (dom_star_ || dow_star_) return dom_ok && dow_ok;
  return dom_ok || dow_ok;
}

int64_t CronSchedule::Next(int64_t after_ms) const {
  int64_t t =
      (after_ms >= 0 ? after_ms / kMinuteMs : (after_ms - kMinuteMs + 1) / kMinuteMs) * kMinuteMs +
      kMinuteMs;
  const int64_t stop = t + 5 * 366 * kDayMs;
  while (t < stop) {
    if (Matches(t)) return t;
    // Skip whole days and hours that cannot match.
    int64_t days = t >= 0 ? t / kDayMs : (t - kDayMs + 1) / kDayMs;
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    int weekday = static_cast<int>(((days % 7) + 11) % 7);
    bool day_ok = months_[m] && ((dom_star_ || dow_star_) ? (days_[d] && weekdays_[weekday])
                                                          : (days_[d] || weekdays_[weekday]));
    if (!day_ok) {
      t = (days + 1) * kDayMs;
      continue;
    }
    int hour = static_cast<int>((t - days * kDayMs) / 3'600'000);
    if (!hours_[hour]) {
      t = days * kDayMs + (hour + 1) * 3'600'000LL;
      continue;
    }
    t += kMinuteMs;
  }
  return -1;
}

std::vector<int64_t> CronSchedule::Between(int64_t after_ms, int64_t until_ms, size_t limit,
                                           size_t* skipped) const {
  std::deque<int64_t> times;
  size_t dropped = 0;
  for (int64_t t = Next(after_ms); t >= 0 && t <= until_ms; t = Next(t)) {
    times.push_back(t);
    if (times.size() > limit) {
      times.pop_front();
      ++dropped;
    }
  }
  if (skipped) *skipped = dropped;
  return {times.begin(), times.end()};
}

}  // namespace cairn::alerts
