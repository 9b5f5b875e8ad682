#include "query/time_format.h"

#include <cctype>
#include <cmath>
#include <cstring>

#include "common/time_util.h"
#include "query/value.h"

namespace cairn::query {
namespace {

const char* kMonths[] = {"January", "February", "March",     "April",   "May",      "June",
                         "July",    "August",   "September", "October", "November", "December"};
const char* kDays[] = {"Sunday",   "Monday", "Tuesday", "Wednesday",
                       "Thursday", "Friday", "Saturday"};

struct Civil {
  int64_t y;
  unsigned mo, d;
  int h, mi, s;
  double frac;
  int wday;  // 0 = Sunday
  int yday;  // 0-based
};

Civil ToCivil(double t) {
  double fl = std::floor(t);
  int64_t secs = static_cast<int64_t>(fl);
  int64_t days = secs >= 0 ? secs / 86400 : -((-secs + 86399) / 86400);
  int64_t rem = secs - days * 86400;
  Civil c{};
  CivilFromDays(days, &c.y, &c.mo, &c.d);
  c.h = static_cast<int>(rem / 3600);
  c.mi = static_cast<int>((rem % 3600) / 60);
  c.s = static_cast<int>(rem % 60);
  c.frac = t - fl;
  c.wday = static_cast<int>(((days % 7) + 11) % 7);  // 1970-01-01 was a Thursday (4)
  c.yday = static_cast<int>(days - DaysFromCivil(c.y, 1, 1));
  return c;
}

double FromCivil(int64_t y, int mo, int d, int h, int mi, int s) {
  // Normalise month overflow.
  while (mo > 12) {
    mo -= 12;
    ++y;
  }
  while (mo < 1) {
    mo += 12;
    --y;
  }
  return static_cast<double>(DaysFromCivil(y, static_cast<unsigned>(mo), 1) + (d - 1)) * 86400.0 +
         h * 3600.0 + mi * 60.0 + s;
}

// Unit name -> canonical unit: s m h d w mon q y.
std::string CanonUnit(std::string_view u) {
  std::string l = Lower(u);
  if (l == "s" || l == "sec" || l == "secs" || l == "second" || l == "seconds") return "s";
  if (l == "m" || l == "min" || l == "mins" || l == "minute" || l == "minutes") return "m";
  if (l == "h" || l == "hr" || l == "hrs" || l == "hour" || l == "hours") return "h";
  if (l == "d" || l == "day" || l == "days") return "d";
  if (l == "w" || l == "week" || l == "weeks") return "w";
  if (l.size() == 2 && l[0] == 'w' && l[1] >= '0' && l[1] <= '7') return l;
  if (l == "mon" || l == "month" || l == "months") return "mon";
  if (l == "q" || l == "qtr" || l == "qtrs" || l == "quarter" || l == "quarters") return "q";
  if (l == "y" || l == "yr" || l == "yrs" || l == "year" || l == "years") return "y";
  return "";
}

double AddUnits(double t, long long n, const std::string& unit) {
  if (unit == "s") return t + n;
  if (unit == "m") return t + n * 60.0;
  if (unit == "h") return t + n * 3600.0;
  if (unit == "d") return t + n * 86400.0;
  if (unit == "w") return t + n * 604800.0;
  Civil c = ToCivil(t);
  int months = unit == "mon" ? static_cast<int>(n)
               : unit == "q" ? static_cast<int>(3 * n)
                             : static_cast<int>(12 * n);
  int64_t y = c.y;
  int mo = static_cast<int>(c.mo) + months;
  while (mo > 12) {
    mo -= 12;
    ++y;
  }
  while (mo < 1) {
    mo += 12;
    --y;
  }
  return FromCivil(y, mo, c.d, c.h, c.mi, c.s) + c.frac;
}

double Snap(double t, const std::string& unit) {
  Civil c = ToCivil(t);
  if (unit == "s") return std::floor(t);
  if (unit == "m") return FromCivil(c.y, c.mo, c.d, c.h, c.mi, 0);
  if (unit == "h") return FromCivil(c.y, c.mo, c.d, c.h, 0, 0);
  if (unit == "d") return FromCivil(c.y, c.mo, c.d, 0, 0, 0);
  if (unit == "w" || (unit.size() == 2 && unit[0] == 'w')) {
    int target = unit == "w" ? 0 : (unit[1] - '0') % 7;
    int back = (c.wday - target + 7) % 7;
    return FromCivil(c.y, c.mo, c.d, 0, 0, 0) - back * 86400.0;
  }
  if (unit == "mon") return FromCivil(c.y, c.mo, 1, 0, 0, 0);
  if (unit == "q") return FromCivil(c.y, static_cast<int>((c.mo - 1) / 3 * 3 + 1), 1, 0, 0, 0);
  if (unit == "y") return FromCivil(c.y, 1, 1, 0, 0, 0);
  return t;
}

}  // namespace

Result<double> RelativeTime(double t, std::string_view spec) {
  size_t i = 0;
  if (spec.empty()) return InvalidArgument("empty relative time");
  if (Lower(spec) == "now") return t;
  while (i < spec.size()) {
    char c = spec[i];
    if (c == '@') {
      size_t j = i + 1;
      while (j < spec.size() && std::isalnum(static_cast<unsigned char>(spec[j]))) ++j;
      std::string unit = CanonUnit(spec.substr(i + 1, j - i - 1));
      if (unit.empty()) return InvalidArgument("bad snap unit in time modifier '{}'", spec);
      t = Snap(t, unit);
      i = j;
      continue;
    }
    if (c == '+' || c == '-') {
      size_t j = i + 1;
      long long n = 0;
      bool digits = false;
      while (j < spec.size() && std::isdigit(static_cast<unsigned char>(spec[j]))) {
        n = n * 10 + (spec[j] - '0');
        ++j;
        digits = true;
      }
      if (!digits) n = 1;
      size_t k = j;
      while (k < spec.size() && std::isalpha(static_cast<unsigned char>(spec[k]))) ++k;
      std::string unit = CanonUnit(spec.substr(j, k - j));
      if (unit.empty() || unit.size() == 2)
        return InvalidArgument("bad time unit in time modifier '{}'", spec);
      t = AddUnits(t, c == '-' ? -n : n, unit);
      i = k;
      continue;
    }
    return InvalidArgument("bad time modifier '{}' at character {}", spec, i);
  }
  return t;
}

Result<double> ResolveTimeModifier(std::string_view text, double now) {
  std::string_view s = text;
  if (s.empty()) return InvalidArgument("empty time modifier");
  if (Lower(s) == "now") return now;
  if (auto n = ParseNumber(s); n && s[0] != '+' && s[0] != '-') return *n;
  if (s[0] == '+' || s[0] == '-' || s[0] == '@') return RelativeTime(now, s);
  if (auto t = Strptime(s, "%m/%d/%Y:%H:%M:%S")) return *t;
  if (auto t = Strptime(s, "%m/%d/%Y")) return *t;
  if (auto ms = ParseIso8601Millis(s)) return static_cast<double>(*ms) / 1000.0;
  return InvalidArgument(
      "bad time modifier '{}' (expected now, an epoch, -24h@h, or %m/%d/%Y:%H:%M:%S)", text);
}

std::string Strftime(double t, std::string_view f) {
  Civil c = ToCivil(t);
  std::string out;
  auto two = [&](int v) { out += fmt::format("{:02d}", v); };
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      out += f[i];
      continue;
    }
    char k = f[++i];
    int digits = -1;
    if (std::isdigit(static_cast<unsigned char>(k)) && i + 1 < f.size()) {
      digits = k - '0';
      k = f[++i];
    }
    switch (k) {
      case 'Y': out += std::to_string(c.y); break;
      case 'y': two(static_cast<int>(c.y % 100)); break;
      case 'm': two(static_cast<int>(c.mo)); break;
      case 'd': two(static_cast<int>(c.d)); break;
      case 'e': out += fmt::format("{:2d}", c.d); break;
      case 'H': two(c.h); break;
      case 'I': two(c.h % 12 == 0 ? 12 : c.h % 12); break;
      case 'M': two(c.mi); break;
      case 'S': two(c.s); break;
      case 'p': out += c.h < 12 ? "AM" : "PM"; break;
      case 'b':
      case 'h': out += std::string(kMonths[c.mo - 1]).substr(0, 3); break;
      case 'B': out += kMonths[c.mo - 1]; break;
      case 'a': out += std::string(kDays[c.wday]).substr(0, 3); break;
      case 'A': out += kDays[c.wday]; break;
      case 'w': out += std::to_string(c.wday); break;
      case 'u': out += std::to_string(c.wday == 0 ? 7 : c.wday); break;
      case 'j': out += fmt::format("{:03d}", c.yday + 1); break;
      case 'Z': out += "UTC"; break;
      case 'z': out += "+0000"; break;
      case 's': out += std::to_string(static_cast<long long>(std::floor(t))); break;
      case 'T': out += fmt::format("{:02d}:{:02d}:{:02d}", c.h, c.mi, c.s); break;
      case 'F': out += fmt::format("{}-{:02d}-{:02d}", c.y, c.mo, c.d); break;
      case 'D': out += fmt::format("{:02d}/{:02d}/{:02d}", c.mo, c.d, c.y % 100); break;
      case 'N':
      case 'Q':
      case 'f': {
        int n = digits > 0 ? digits : (k == 'Q' ? 3 : (k == 'f' ? 6 : 9));
        long long v = static_cast<long long>(std::floor(c.frac * std::pow(10.0, n) + 1e-6));
        out += fmt::format("{:0{}d}", v, n);
        break;
      }
      case '%': out += '%'; break;
      default:
        out += '%';
        out += k;
        break;
    }
  }
  return out;
}

std::optional<double> Strptime(std::string_view text, std::string_view f) {
  int64_t y = 1970;
  int mo = 1, d = 1, h = 0, mi = 0, s = 0;
  double frac = 0;
  bool pm = false, has_p = false;
  double offset = 0;
  std::optional<double> epoch;
  size_t p = 0;
  auto num = [&](int maxd, long long* out) -> bool {
    size_t st = p;
    bool neg = false;
    if (p < text.size() && (text[p] == '-' || text[p] == '+') && maxd > 4) {
      neg = text[p] == '-';
      ++p;
    }
    long long v = 0;
    while (p < text.size() && p - st < static_cast<size_t>(maxd) &&
           std::isdigit(static_cast<unsigned char>(text[p]))) {
      v = v * 10 + (text[p] - '0');
      ++p;
    }
    if (p == st) return false;
    *out = neg ? -v : v;
    return true;
  };
  auto name = [&](const char* const* names, int n, int* idx) -> bool {
    for (int k = 0; k < n; ++k) {
      std::string full = names[k];
      for (size_t len : {full.size(), size_t{3}}) {
        if (p + len <= text.size() && Lower(text.substr(p, len)) == Lower(full.substr(0, len))) {
          *idx = k;
          p += len;
          return true;
        }
      }
    }
    return false;
  };
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != '%' || i + 1 >= f.size()) {
      if (std::isspace(static_cast<unsigned char>(f[i]))) {
        while (p < text.size() && std::isspace(static_cast<unsigned char>(text[p]))) ++p;
        continue;
      }
      if (p >= text.size() || text[p] != f[i]) return std::nullopt;
      ++p;
      continue;
    }
    char k = f[++i];
    int digits = -1;
    if (std::isdigit(static_cast<unsigned char>(k)) && i + 1 < f.size()) {
      digits = k - '0';
      k = f[++i];
    }
    long long v = 0;
    int idx = 0;
    switch (k) {
      case 'Y':
        if (!num(4, &v)) {
          return std::nullopt;
        }
        y = v;
        break;
      case 'y':
        if (!num(2, &v)) {
          return std::nullopt;
        }
        y = v < 69 ? 2000 + v : 1900 + v;
        break;
      case 'm':
        if (!num(2, &v)) {
          return std::nullopt;
        }
        mo = static_cast<int>(v);
        break;
      case 'd':
      case 'e':
        while (p < text.size() && text[p] == ' ') ++p;
        if (!num(2, &v)) {
          return std::nullopt;
        }
        d = static_cast<int>(v);
        break;
      case 'H':
      case 'I':
        if (!num(2, &v)) {
          return std::nullopt;
        }
        h = static_cast<int>(v);
        break;
      case 'M':
        if (!num(2, &v)) {
          return std::nullopt;
        }
        mi = static_cast<int>(v);
        break;
      case 'S':
        if (!num(2, &v)) {
          return std::nullopt;
        }
        s = static_cast<int>(v);
        break;
      case 'j':
        if (!num(3, &v)) {
          return std::nullopt;
        }
        mo = 1;
        d = static_cast<int>(v);
        break;
      case 'p':
        has_p = true;
        if (p + 2 > text.size()) return std::nullopt;
        pm = Lower(text.substr(p, 2)) == "pm";
        p += 2;
        break;
      case 'b':
      case 'B':
      case 'h':
        if (!name(kMonths, 12, &idx)) {
          return std::nullopt;
        }
        mo = idx + 1;
        break;
      case 'a':
      case 'A':
        if (!name(kDays, 7, &idx)) {
          return std::nullopt;
        }
        break;
      case 's':
        if (!num(12, &v)) {
          return std::nullopt;
        }
        epoch = static_cast<double>(v);
        break;
      case 'Z':
        while (p < text.size() && std::isalpha(static_cast<unsigned char>(text[p]))) ++p;
        break;
      case 'z': {
        if (p < text.size() && (text[p] == 'Z' || text[p] == 'z')) {
          ++p;
          break;
        }
        if (p >= text.size() || (text[p] != '+' && text[p] != '-')) return std::nullopt;
        int sign = text[p] == '-' ? -1 : 1;
        ++p;
        long long hh = 0, mm = 0;
        if (!num(2, &hh)) return std::nullopt;
        if (p < text.size() && text[p] == ':') ++p;
        num(2, &mm);
        offset = sign * (hh * 3600.0 + mm * 60.0);
        break;
      }
      case 'N':
      case 'Q':
      case 'f': {
        size_t st = p;
        int maxd = digits > 0 ? digits : 9;
        while (p < text.size() && p - st < static_cast<size_t>(maxd) &&
               std::isdigit(static_cast<unsigned char>(text[p])))
          ++p;
        if (p == st) return std::nullopt;
        frac = std::stod(std::string(text.substr(st, p - st))) /
               std::pow(10.0, static_cast<double>(p - st));
        break;
      }
      case 'T': {
        auto r = Strptime(text.substr(p, 8), "%H:%M:%S");
        if (!r || p + 8 > text.size()) return std::nullopt;
        h = std::atoi(std::string(text.substr(p, 2)).c_str());
        mi = std::atoi(std::string(text.substr(p + 3, 2)).c_str());
        s = std::atoi(std::string(text.substr(p + 6, 2)).c_str());
        p += 8;
        break;
      }
      case 'F': {
        if (!num(4, &v)) {
          return std::nullopt;
        }
        y = v;
        if (p >= text.size() || text[p] != '-') {
          return std::nullopt;
        }
        ++p;
        if (!num(2, &v)) {
          return std::nullopt;
        }
        mo = static_cast<int>(v);
        if (p >= text.size() || text[p] != '-') {
          return std::nullopt;
        }
        ++p;
        if (!num(2, &v)) {
          return std::nullopt;
        }
        d = static_cast<int>(v);
        break;
      }
      case '%':
        if (p >= text.size() || text[p] != '%') {
          return std::nullopt;
        }
        ++p;
        break;
      default: return std::nullopt;
    }
  }
  if (p != text.size()) return std::nullopt;
  if (epoch) return *epoch + frac;
  if (has_p) {
    if (pm && h < 12) h += 12;
    if (!pm && h == 12) h = 0;
  }
  if (mo < 1 || mo > 12 || d < 1 || d > 366 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return FromCivil(y, mo, d, h, mi, s) + frac - offset;
}

Result<double> ParseSpan(std::string_view text, int* months) {
  if (months) *months = 0;
  size_t i = 0;
  while (i < text.size() && (std::isdigit(static_cast<unsigned char>(text[i])) || text[i] == '.'))
    ++i;
  double n = 1;
  if (i > 0) {
    auto v = ParseNumber(text.substr(0, i));
    if (!v) return InvalidArgument("bad span '{}'", text);
    n = *v;
  }
  std::string_view unit = text.substr(i);
  if (unit.empty()) {
    if (i == 0) return InvalidArgument("bad span '{}'", text);
    return n;
  }
  std::string u = CanonUnit(unit);
  if (u == "s") return n;
  if (u == "m") return n * 60;
  if (u == "h") return n * 3600;
  if (u == "d") return n * 86400;
  if (u == "w") return n * 604800;
  if (u == "mon" || u == "q" || u == "y") {
    int m = static_cast<int>(n) * (u == "mon" ? 1 : u == "q" ? 3 : 12);
    if (months) *months = m;
    return m * 30 * 86400.0;
  }
  return InvalidArgument("bad span unit in '{}' (use s, m, h, d, w, mon)", text);
}

}  // namespace cairn::query
