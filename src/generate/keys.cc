// CloudTrail S3 key parsing and --regions parsing.

#include <cctype>
#include <charconv>
#include <vector>

#include "common/time_util.h"
#include "generate/generator.h"
#include "generate/world.h"

namespace cairn::generate {
namespace {

std::vector<std::string_view> Split(std::string_view s, char sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  for (;;) {
    size_t p = s.find(sep, start);
    if (p == std::string_view::npos) {
      out.push_back(s.substr(start));
      return out;
    }
    out.push_back(s.substr(start, p - start));
    start = p + 1;
  }
}

bool AllDigits(std::string_view s, size_t n) {
  if (s.size() != n) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

int ToInt(std::string_view s) {
  int v = 0;
  std::from_chars(s.data(), s.data() + s.size(), v);
  return v;
}

// "us-east-1", "us-gov-west-1", "cn-north-1", "eu-central-2", "us-isob-east-1"...
bool ValidRegion(std::string_view r) {
  auto parts = Split(r, '-');
  if (parts.size() < 3 || parts.size() > 4) return false;
  for (size_t i = 0; i + 1 < parts.size(); ++i) {
    if (parts[i].empty()) return false;
    for (char c : parts[i]) {
      if (c < 'a' || c > 'z') return false;
    }
  }
  if (parts[0].size() != 2) return false;
  std::string_view n = parts.back();
  if (n.empty() || n.size() > 2) return false;
  for (char c : n) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "20150801T0210Z" (log files) or "20160122T203212Z" (digests) to milliseconds.
std::optional<int64_t> ParseFileTime(std::string_view t) {
  if (t.size() != 14 && t.size() != 16) return std::nullopt;
  if (t[8] != 'T' || t.back() != 'Z') return std::nullopt;
  if (!AllDigits(t.substr(0, 8), 8) || !AllDigits(t.substr(9, t.size() - 10), t.size() - 10)) {
    return std::nullopt;
  }
  int y = ToInt(t.substr(0, 4));
  unsigned mo = ToInt(t.substr(4, 2)), d = ToInt(t.substr(6, 2));
  int h = ToInt(t.substr(9, 2)), mi = ToInt(t.substr(11, 2));
  int s = t.size() == 16 ? ToInt(t.substr(13, 2)) : 0;
  if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 60) return std::nullopt;
  return (DaysFromCivil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s) * 1000;
}

}  // namespace

std::optional<KeyParts> ParseCloudTrailKey(std::string_view key) {
  KeyParts k;
  size_t at = key.find("AWSLogs/");
  if (at == std::string_view::npos || (at > 0 && key[at - 1] != '/')) return std::nullopt;
  k.prefix = std::string(key.substr(0, at));
  auto parts = Split(key.substr(at + 8), '/');
  size_t i = 0;
  if (!parts.empty() && parts[0].size() > 2 && parts[0].substr(0, 2) == "o-") {
    k.organization_id = std::string(parts[0]);
    ++i;
  }
  // <acct>/<CloudTrail|CloudTrail-Insight|CloudTrail-Digest>/<region>/YYYY/MM/DD/<file>
  if (parts.size() - i != 7) return std::nullopt;
  if (!AllDigits(parts[i], 12)) return std::nullopt;
  k.account = std::string(parts[i]);
  std::string_view kind = parts[i + 1];
  if (kind == "CloudTrail") {
    k.kind = KeyKind::kLog;
  } else if (kind == "CloudTrail-Insight") {
    k.kind = KeyKind::kInsight;
  } else if (kind == "CloudTrail-Digest") {
    k.kind = KeyKind::kDigest;
  } else {
    return std::nullopt;
  }
  if (!ValidRegion(parts[i + 2])) return std::nullopt;
  k.region = std::string(parts[i + 2]);
  if (!AllDigits(parts[i + 3], 4) || !AllDigits(parts[i + 4], 2) || !AllDigits(parts[i + 5], 2)) {
    return std::nullopt;
  }
  k.year = ToInt(parts[i + 3]);
  k.month = ToInt(parts[i + 4]);
  k.day = ToInt(parts[i + 5]);
  if (k.month < 1 || k.month > 12 || k.day < 1 || k.day > 31) return std::nullopt;

  std::string_view file = parts[i + 6];
  k.file_name = std::string(file);
  std::string_view stem = file;
  if (stem.size() > 8 && stem.substr(stem.size() - 8) == ".json.gz") {
    stem.remove_suffix(8);
  } else if (stem.size() > 5 && stem.substr(stem.size() - 5) == ".json") {
    stem.remove_suffix(5);
  } else {
    return std::nullopt;
  }
  auto f = Split(stem, '_');
  // f[0] account, f[1] kind, f[2] region, then [id/trail...], time
  if (f.size() < 4 || f[0] != k.account || f[1] != kind || f[2] != k.region) return std::nullopt;
  std::optional<int64_t> t;
  if (k.kind == KeyKind::kDigest) {
    // <acct>_CloudTrail-Digest_<region>_<trail name, may contain '_'>_<trail's home region>_<time>
    // (a multi-region trail's digests in every region name its home region), and "_backfill"
    // after the time for a backfill digest
    if (f.size() >= 7 && f.back() == "backfill") {
      k.backfill = true;
      f.pop_back();
    }
    if (f.size() < 6 || !ValidRegion(f[f.size() - 2])) return std::nullopt;
    k.home_region = std::string(f[f.size() - 2]);
    t = ParseFileTime(f.back());
    if (!t || f.back().size() != 16) return std::nullopt;
    std::string trail;
    for (size_t j = 3; j + 2 < f.size(); ++j) {
      if (!trail.empty()) trail.push_back('_');
      trail.append(f[j]);
    }
    k.trail_name = std::move(trail);
  } else {
    if (f.size() != 5) return std::nullopt;
    t = ParseFileTime(f[3]);
    if (!t || f[3].size() != 14 || f[4].empty()) return std::nullopt;
  }
  k.file_time_ms = *t;
  return k;
}

Result<std::vector<std::string>> ParseRegions(std::string_view spec) {
  if (spec.empty()) return InvalidArgument("--regions is empty");
  if (AllDigits(spec, spec.size()) && spec.size() <= 3) {
    int n = ToInt(spec);
    const auto& all = AllRegions();
    if (n < 1 || n > static_cast<int>(all.size())) {
      return InvalidArgument("--regions {} is not between 1 and {}", n, all.size());
    }
    return std::vector<std::string>(all.begin(), all.begin() + n);
  }
  std::vector<std::string> out;
  for (std::string_view r : Split(spec, ',')) {
    while (!r.empty() && r.front() == ' ') r.remove_prefix(1);
    while (!r.empty() && r.back() == ' ') r.remove_suffix(1);
    if (!ValidRegion(r)) return InvalidArgument("--regions: \"{}\" is not an AWS region name", r);
    for (const auto& seen : out) {
      if (seen == r) return InvalidArgument("--regions: \"{}\" is listed twice", r);
    }
    out.emplace_back(r);
  }
  return out;
}

}  // namespace cairn::generate
