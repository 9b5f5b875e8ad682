#include "query/value.h"

#include <charconv>
#include <cmath>
#include <cstdlib>

namespace cairn::query {

std::optional<double> ParseNumber(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  if (s.empty() || s.size() > 64) return std::nullopt;
  std::string_view body = s;
  bool neg = false;
  if (body.front() == '+' || body.front() == '-') {
    neg = body.front() == '-';
    body.remove_prefix(1);
  }
  if (body.size() > 2 && body[0] == '0' && (body[1] == 'x' || body[1] == 'X')) {
    uint64_t v = 0;
    auto [p, ec] = std::from_chars(body.data() + 2, body.data() + body.size(), v, 16);
    if (ec != std::errc() || p != body.data() + body.size()) return std::nullopt;
    return neg ? -static_cast<double>(v) : static_cast<double>(v);
  }
  if (body.empty() || !(std::isdigit(static_cast<unsigned char>(body[0])) || body[0] == '.')) {
    return std::nullopt;
  }
  double d = 0;
  auto [p, ec] = std::from_chars(body.data(), body.data() + body.size(), d);
  if (ec != std::errc() || p != body.data() + body.size()) return std::nullopt;
  if (!std::isfinite(d)) return std::nullopt;
  return neg ? -d : d;
}

std::string FormatNumber(double d) {
  if (std::isnan(d)) return "nan";
  if (std::isinf(d)) return d > 0 ? "inf" : "-inf";
  if (d == 0) return "0";
  if (std::fabs(d) < 1e15 && d == std::floor(d)) {
    char buf[32];
    auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), static_cast<long long>(d));
    return std::string(buf, p);
  }
  char buf[64];
  auto [p, ec] = std::to_chars(buf, buf + sizeof(buf), d);
  return std::string(buf, p);
}

int CompareMixed(std::string_view a, std::string_view b) {
  auto na = ParseNumber(a);
  auto nb = ParseNumber(b);
  if (na && nb) return *na < *nb ? -1 : (*na > *nb ? 1 : 0);
  if (na) return -1;
  if (nb) return 1;
  int c = a.compare(b);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

Value Value::FromFieldText(std::string s) {
  if (auto n = ParseNumber(s)) return Number(*n, std::move(s));
  return String(std::move(s));
}

Value Value::FromField(const Values& values) {
  if (values.empty()) return Null();
  if (values.size() == 1) return FromFieldText(values[0]);
  Value v;
  v.kind_ = Kind::kMulti;
  v.multi_ = values;
  return v;
}

std::optional<double> Value::AsNumber() const {
  switch (kind_) {
    case Kind::kNumber: return num_;
    case Kind::kString: return ParseNumber(str_);
    case Kind::kMulti: return ParseNumber(multi_.front());
    default: return std::nullopt;
  }
}

std::string Value::AsText() const {
  switch (kind_) {
    case Kind::kNull: return "";
    case Kind::kNumber: return str_.empty() ? FormatNumber(num_) : str_;
    case Kind::kString: return str_;
    case Kind::kBool: return bool_ ? "true" : "false";
    case Kind::kMulti: return multi_.front();
  }
  return "";
}

Values Value::ToField() const {
  switch (kind_) {
    case Kind::kNull: return {};
    case Kind::kMulti: return multi_;
    default: return {AsText()};
  }
}

}  // namespace cairn::query
