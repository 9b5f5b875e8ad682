#include "query/eval.h"

#include <arpa/inet.h>
#include <re2/re2.h>

#include <algorithm>
#include <cmath>
#include <memory>
#include <random>
#include <set>
#include <unordered_map>

#include "query/time_format.h"

namespace cairn::query {
namespace {

char LowerChar(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c - 'A' + 'a') : c; }

bool IsBreaker(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '[':
    case ']':
    case '<':
    case '>':
    case '(':
    case ')':
    case '{':
    case '}':
    case '|':
    case '!':
    case ';':
    case ',':
    case '\'':
    case '"':
    case '*':
    case '&':
    case '?':
    case '+':
    // minor breakers
    case '/':
    case ':':
    case '=':
    case '@':
    case '.':
    case '-':
    case '$':
    case '#':
    case '%':
    case '\\':
    case '_': return true;
    default: return false;
  }
}

bool IsMajorBreaker(char c) {
  switch (c) {
    case ' ':
    case '\t':
    case '\n':
    case '\r':
    case '[':
    case ']':
    case '<':
    case '>':
    case '(':
    case ')':
    case '{':
    case '}':
    case '|':
    case '!':
    case ';':
    case ',':
    case '\'':
    case '"':
    case '*':
    case '&':
    case '?':
    case '+': return true;
    default: return false;
  }
}

struct Env {
  Row& row;
  const EvalContext& ctx;
  const std::string* bind_name = nullptr;  // mvfilter's current value
  const std::string* bind_value = nullptr;
};

Result<Value> Eval(const Expr& e, Env& env);

Result<RE2*> CachedRegex(const std::string& pattern) {
  thread_local std::unordered_map<std::string, std::unique_ptr<RE2>> cache;
  auto it = cache.find(pattern);
  if (it != cache.end()) return it->second.get();
  if (cache.size() > 1000) cache.clear();
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_unique<RE2>(PcreToRe2(pattern), opts);
  if (!re->ok()) return InvalidArgument("bad regular expression '{}': {}", pattern, re->error());
  RE2* raw = re.get();
  cache.emplace(pattern, std::move(re));
  return raw;
}

std::string Trim(std::string_view s, std::string_view chars, bool left, bool right) {
  size_t b = 0, e = s.size();
  if (left)
    while (b < e && chars.find(s[b]) != std::string_view::npos) ++b;
  if (right)
    while (e > b && chars.find(s[e - 1]) != std::string_view::npos) --e;
  return std::string(s.substr(b, e - b));
}

Values AllValues(const Value& v) {
  if (v.is_null()) return {};
  if (v.is_multi()) return v.multi();
  return {v.AsText()};
}

// Three-valued truth: 1 true, 0 false, -1 null.
int Truth(const Value& v) {
  if (v.is_bool()) return v.boolean() ? 1 : 0;
  return -1;
}

bool CompareScalars(const Value& a, const Value& b, const std::string& op) {
  int c;
  if (a.is_number() && b.is_number()) {
    c = a.number() < b.number() ? -1 : (a.number() > b.number() ? 1 : 0);
  } else if (a.is_string() && b.is_string()) {
    int r = a.text().compare(b.text());
    c = r < 0 ? -1 : (r > 0 ? 1 : 0);
  } else {
    std::string x = a.AsText(), y = b.AsText();
    int r = x.compare(y);
    c = r < 0 ? -1 : (r > 0 ? 1 : 0);
  }
  if (op == "=") return c == 0;
  if (op == "!=") return c != 0;
  if (op == "<") return c < 0;
  if (op == "<=") return c <= 0;
  if (op == ">") return c > 0;
  return c >= 0;
}

Value Compare(const Value& a, const Value& b, const std::string& op) {
  if (a.is_null() || b.is_null()) return Value::Null();
  auto expand = [](const Value& v) {
    std::vector<Value> out;
    if (v.is_multi()) {
      for (const auto& s : v.multi()) out.push_back(Value::FromFieldText(s));
    } else {
      out.push_back(v);
    }
    return out;
  };
  if (op == "!=") {
    Value eq = Compare(a, b, "=");
    return Value::Bool(!eq.IsTrue());
  }
  if (!a.is_multi() && !b.is_multi()) return Value::Bool(CompareScalars(a, b, op));
  for (const Value& x : expand(a)) {
    for (const Value& y : expand(b)) {
      if (CompareScalars(x, y, op)) return Value::Bool(true);
    }
  }
  return Value::Bool(false);
}

std::optional<double> Num(const Value& v) {
  if (v.is_bool() || v.is_null()) return std::nullopt;
  return v.AsNumber();
}

Result<Value> Arith(const std::string& op, const Value& a, const Value& b) {
  if (a.is_null() || b.is_null()) return Value::Null();
  if (op == ".") return Value::String(a.AsText() + b.AsText());
  if (op == "+") {
    if (a.is_number() && b.is_number()) return Value::Number(a.number() + b.number());
    if (a.is_string() && b.is_string()) return Value::String(a.AsText() + b.AsText());
    auto x = Num(a), y = Num(b);
    if (x && y && !a.is_string() && !b.is_string()) return Value::Number(*x + *y);
    if (!a.is_bool() && !b.is_bool() && (a.is_string() || b.is_string())) {
      return Value::String(a.AsText() + b.AsText());
    }
    return Value::Null();
  }
  auto x = Num(a), y = Num(b);
  if (!x || !y) return Value::Null();
  if (op == "-") return Value::Number(*x - *y);
  if (op == "*") return Value::Number(*x * *y);
  if (op == "/") {
    if (*y == 0) return Value::Null();
    return Value::Number(*x / *y);
  }
  if (op == "%") {
    if (*y == 0) return Value::Null();
    return Value::Number(std::fmod(*x, *y));
  }
  return InvalidArgument("unknown operator {}", op);
}

std::string UrlDecode(std::string_view s) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '+') {
      out += ' ';
    } else if (s[i] == '%' && i + 2 < s.size() &&
               std::isxdigit(static_cast<unsigned char>(s[i + 1])) &&
               std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
      out += static_cast<char>(std::stoi(std::string(s.substr(i + 1, 2)), nullptr, 16));
      i += 2;
    } else {
      out += s[i];
    }
  }
  return out;
}

bool CidrMatch(std::string_view cidr, std::string_view ip) {
  size_t slash = cidr.find('/');
  std::string net(cidr.substr(0, slash));
  int bits =
      slash == std::string_view::npos ? -1 : std::atoi(std::string(cidr.substr(slash + 1)).c_str());
  unsigned char a[16], b[16];
  std::string ips(ip);
  if (inet_pton(AF_INET, net.c_str(), a) == 1) {
    if (inet_pton(AF_INET, ips.c_str(), b) != 1) return false;
    if (bits < 0) bits = 32;
    if (bits > 32) return false;
    uint32_t x = (uint32_t(a[0]) << 24) | (uint32_t(a[1]) << 16) | (uint32_t(a[2]) << 8) | a[3];
    uint32_t y = (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
    uint32_t mask = bits == 0 ? 0 : ~uint32_t(0) << (32 - bits);
    return (x & mask) == (y & mask);
  }
  if (inet_pton(AF_INET6, net.c_str(), a) == 1) {
    if (inet_pton(AF_INET6, ips.c_str(), b) != 1) return false;
    if (bits < 0) bits = 128;
    for (int i = 0; i < 16 && bits > 0; ++i, bits -= 8) {
      unsigned char m = bits >= 8 ? 0xff : static_cast<unsigned char>(0xff << (8 - bits));
      if ((a[i] & m) != (b[i] & m)) return false;
    }
    return true;
  }
  return false;
}

std::string FormatCommas(double d) {
  bool neg = d < 0;
  double a = std::fabs(d);
  std::string frac;
  double ip = std::floor(a);
  if (a != ip) {
    frac = fmt::format("{:.2f}", a - ip).substr(1);
    if (frac == ".00") frac.clear();
    if (frac == ".100") {
      ip += 1;
      frac.clear();
    }
  }
  std::string digits = fmt::format("{:.0f}", ip);
  std::string out;
  int n = 0;
  for (auto it = digits.rbegin(); it != digits.rend(); ++it) {
    if (n && n % 3 == 0) out += ',';
    out += *it;
    ++n;
  }
  std::reverse(out.begin(), out.end());
  return (neg ? "-" : "") + out + frac;
}

std::string FormatDuration(double d) {
  long long s = static_cast<long long>(std::floor(std::fabs(d)));
  long long days = s / 86400;
  s %= 86400;
  std::string out = fmt::format("{:02d}:{:02d}:{:02d}", s / 3600, (s % 3600) / 60, s % 60);
  if (days) out = fmt::format("{}+{}", days, out);
  return d < 0 ? "-" + out : out;
}

Result<Value> Call(const Expr& e, Env& env) {
  const std::string_view f = e.text;  // a view compares lengths before bytes
  const auto& args = e.args;
  size_t n = args.size();
  auto need = [&](size_t lo, size_t hi) -> Status {
    if (n < lo || n > hi) {
      if (lo == hi) return InvalidArgument("{}() takes {} argument(s), got {}", f, lo, n);
      return InvalidArgument("{}() takes {} to {} arguments, got {}", f, lo, hi, n);
    }
    return Status::Ok();
  };
  auto arg = [&](size_t i) { return Eval(*args[i], env); };

  if (f == "if") {
    RETURN_IF_ERROR(need(3, 3));
    ASSIGN_OR_RETURN(Value c, arg(0));
    return c.IsTrue() ? arg(1) : arg(2);
  }
  if (f == "case") {
    if (n % 2) return InvalidArgument("case() takes condition/value pairs");
    for (size_t i = 0; i < n; i += 2) {
      ASSIGN_OR_RETURN(Value c, arg(i));
      if (c.IsTrue()) return arg(i + 1);
    }
    return Value::Null();
  }
  if (f == "coalesce") {
    for (size_t i = 0; i < n; ++i) {
      ASSIGN_OR_RETURN(Value v, arg(i));
      if (!v.is_null()) return v;
    }
    return Value::Null();
  }
  if (f == "null") {
    RETURN_IF_ERROR(need(0, 0));
    return Value::Null();
  }
  if (f == "true") {
    RETURN_IF_ERROR(need(0, 0));
    return Value::Bool(true);
  }
  if (f == "false") {
    RETURN_IF_ERROR(need(0, 0));
    return Value::Bool(false);
  }
  if (f == "now" || f == "time") {
    RETURN_IF_ERROR(need(0, 0));
    return Value::Number(env.ctx.now);
  }
  if (f == "pi") return Value::Number(M_PI);
  if (f == "random") {
    thread_local std::mt19937 rng(12345);
    return Value::Number(static_cast<double>(rng() & 0x7fffffff));
  }
  if (f == "mvfilter") {
    RETURN_IF_ERROR(need(1, 1));
    // The field the predicate names; every value of it is tried in turn.
    std::string field;
    std::vector<const Expr*> stack{args[0].get()};
    while (!stack.empty()) {
      const Expr* x = stack.back();
      stack.pop_back();
      if (x->kind == Expr::Kind::kField) {
        if (!field.empty() && field != x->text)
          return InvalidArgument("mvfilter() may name only one field");
        field = x->text;
      }
      for (const auto& a : x->args) stack.push_back(a.get());
    }
    if (field.empty()) return InvalidArgument("mvfilter() needs a predicate on a field");
    const Values* vals = env.row.Get(field);
    if (!vals) return Value::Null();
    Values keep;
    Values copy = *vals;
    for (const std::string& v : copy) {
      Env sub{env.row, env.ctx, &field, &v};
      ASSIGN_OR_RETURN(Value r, Eval(*args[0], sub));
      if (r.IsTrue()) keep.push_back(v);
    }
    return Value::Multi(std::move(keep));
  }

  std::vector<Value> v;
  for (size_t i = 0; i < n; ++i) {
    ASSIGN_OR_RETURN(Value x, arg(i));
    v.push_back(std::move(x));
  }
  if (f == "isnull") {
    RETURN_IF_ERROR(need(1, 1));
    return Value::Bool(v[0].is_null());
  }
  if (f == "isnotnull") {
    RETURN_IF_ERROR(need(1, 1));
    return Value::Bool(!v[0].is_null());
  }
  if (f == "isnum") {
    RETURN_IF_ERROR(need(1, 1));
    return Value::Bool(v[0].is_number());
  }
  if (f == "isint") {
    RETURN_IF_ERROR(need(1, 1));
    return Value::Bool(v[0].is_number() && v[0].number() == std::floor(v[0].number()));
  }
  if (f == "isstr") {
    RETURN_IF_ERROR(need(1, 1));
    return Value::Bool(v[0].is_string());
  }
  if (f == "isbool") {
    RETURN_IF_ERROR(need(1, 1));
    return Value::Bool(v[0].is_bool());
  }
  if (f == "typeof") {
    RETURN_IF_ERROR(need(1, 1));
    switch (v[0].kind()) {
      case Value::Kind::kNumber: return Value::String("Number");
      case Value::Kind::kString:
      case Value::Kind::kMulti: return Value::String("String");
      case Value::Kind::kBool: return Value::String("Boolean");
      default: return Value::String("Invalid");
    }
  }
  if (f == "nullif") {
    RETURN_IF_ERROR(need(2, 2));
    return Compare(v[0], v[1], "=").IsTrue() ? Value::Null() : v[0];
  }
  if (f == "in") {
    if (n < 2) return InvalidArgument("in() needs a value and a list");
    if (v[0].is_null()) return Value::Null();
    for (size_t i = 1; i < n; ++i) {
      if (Compare(v[0], v[i], "=").IsTrue()) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (f == "like") {
    RETURN_IF_ERROR(need(2, 2));
    if (v[0].is_null() || v[1].is_null()) return Value::Null();
    for (const auto& s : AllValues(v[0])) {
      if (LikeMatch(s, v[1].AsText())) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (f == "match") {
    RETURN_IF_ERROR(need(2, 2));
    if (v[0].is_null() || v[1].is_null()) return Value::Null();
    ASSIGN_OR_RETURN(RE2 * re, CachedRegex(v[1].AsText()));
    for (const auto& s : AllValues(v[0])) {
      if (RE2::PartialMatch(s, *re)) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (f == "cidrmatch") {
    RETURN_IF_ERROR(need(2, 2));
    if (v[0].is_null() || v[1].is_null()) return Value::Null();
    for (const auto& s : AllValues(v[1])) {
      if (CidrMatch(v[0].AsText(), s)) return Value::Bool(true);
    }
    return Value::Bool(false);
  }
  if (f == "len") {
    RETURN_IF_ERROR(need(1, 1));
    if (v[0].is_null()) return Value::Null();
    std::string s = v[0].AsText();
    size_t chars = 0;
    for (unsigned char c : s) chars += (c & 0xC0) != 0x80;
    return Value::Number(static_cast<double>(chars));
  }
  if (f == "lower" || f == "upper") {
    RETURN_IF_ERROR(need(1, 1));
    if (v[0].is_null()) return Value::Null();
    Values out;
    for (auto s : AllValues(v[0])) {
      for (char& c : s)
        c = static_cast<char>(f == "lower" ? std::tolower(static_cast<unsigned char>(c))
                                           : std::toupper(static_cast<unsigned char>(c)));
      out.push_back(std::move(s));
    }
    if (out.size() == 1) return Value::String(out[0]);
    return Value::Multi(std::move(out));
  }
  if (f == "trim" || f == "ltrim" || f == "rtrim") {
    RETURN_IF_ERROR(need(1, 2));
    if (v[0].is_null()) return Value::Null();
    std::string chars = n == 2 ? v[1].AsText() : std::string(" \t\n\r");
    return Value::String(Trim(v[0].AsText(), chars, f != "rtrim", f != "ltrim"));
  }
  if (f == "substr") {
    RETURN_IF_ERROR(need(2, 3));
    if (v[0].is_null() || v[1].is_null()) return Value::Null();
    std::string s = v[0].AsText();
    auto st = Num(v[1]);
    if (!st) return Value::Null();
    long long start = static_cast<long long>(*st);
    long long len_s = static_cast<long long>(s.size());
    long long b = start > 0 ? start - 1 : (start < 0 ? len_s + start : 0);
    if (b < 0) b = 0;
    if (b > len_s) return Value::String("");
    long long len = len_s - b;
    if (n == 3) {
      auto l = Num(v[2]);
      if (!l) return Value::Null();
      len = std::min(len, static_cast<long long>(*l));
      if (len < 0) len = 0;
    }
    return Value::String(s.substr(static_cast<size_t>(b), static_cast<size_t>(len)));
  }
  if (f == "replace") {
    RETURN_IF_ERROR(need(3, 3));
    if (v[0].is_null() || v[1].is_null() || v[2].is_null()) return Value::Null();
    ASSIGN_OR_RETURN(RE2 * re, CachedRegex(v[1].AsText()));
    Values out;
    for (auto s : AllValues(v[0])) {
      RE2::GlobalReplace(&s, *re, v[2].AsText());
      out.push_back(std::move(s));
    }
    if (out.size() == 1) return Value::String(out[0]);
    return Value::Multi(std::move(out));
  }
  if (f == "split") {
    RETURN_IF_ERROR(need(2, 2));
    if (v[0].is_null() || v[1].is_null()) return Value::Null();
    std::string s = v[0].AsText(), d = v[1].AsText();
    Values out;
    if (d.empty()) {
      for (char c : s) out.emplace_back(1, c);
    } else {
      size_t p = 0;
      while (true) {
        size_t q = s.find(d, p);
        if (q == std::string::npos) {
          out.push_back(s.substr(p));
          break;
        }
        out.push_back(s.substr(p, q - p));
        p = q + d.size();
      }
    }
    if (out.size() == 1) return Value::String(out[0]);
    return Value::Multi(std::move(out));
  }
  if (f == "mvcount") {
    RETURN_IF_ERROR(need(1, 1));
    if (v[0].is_null()) return Value::Null();
    return Value::Number(static_cast<double>(AllValues(v[0]).size()));
  }
  if (f == "mvindex") {
    RETURN_IF_ERROR(need(2, 3));
    if (v[0].is_null()) return Value::Null();
    Values all = AllValues(v[0]);
    long long sz = static_cast<long long>(all.size());
    auto s = Num(v[1]);
    if (!s) return Value::Null();
    long long a = static_cast<long long>(*s);
    if (a < 0) a += sz;
    if (a < 0 || a >= sz) return Value::Null();
    if (n == 2) return Value::FromFieldText(all[static_cast<size_t>(a)]);
    auto e2 = Num(v[2]);
    if (!e2) return Value::Null();
    long long b = static_cast<long long>(*e2);
    if (b < 0) b += sz;
    if (b >= sz) b = sz - 1;
    if (b < a) return Value::Null();
    return Value::Multi(Values(all.begin() + a, all.begin() + b + 1));
  }
  if (f == "mvappend") {
    Values out;
    for (const auto& x : v) {
      for (auto& s : AllValues(x)) out.push_back(std::move(s));
    }
    return Value::Multi(std::move(out));
  }
  if (f == "mvjoin") {
    RETURN_IF_ERROR(need(2, 2));
    if (v[0].is_null()) return Value::Null();
    std::string out, d = v[1].AsText();
    Values all = AllValues(v[0]);
    for (size_t i = 0; i < all.size(); ++i) {
      if (i) out += d;
      out += all[i];
    }
    return Value::String(out);
  }
  if (f == "mvdedup") {
    RETURN_IF_ERROR(need(1, 1));
    Values out;
    std::set<std::string> seen;
    for (auto& s : AllValues(v[0])) {
      if (seen.insert(s).second) out.push_back(s);
    }
    return Value::Multi(std::move(out));
  }
  if (f == "mvsort") {
    RETURN_IF_ERROR(need(1, 1));
    Values all = AllValues(v[0]);
    std::sort(all.begin(), all.end());
    return Value::Multi(std::move(all));
  }
  if (f == "mvfind") {
    RETURN_IF_ERROR(need(2, 2));
    if (v[0].is_null()) return Value::Null();
    ASSIGN_OR_RETURN(RE2 * re, CachedRegex(v[1].AsText()));
    Values all = AllValues(v[0]);
    for (size_t i = 0; i < all.size(); ++i) {
      if (RE2::PartialMatch(all[i], *re)) return Value::Number(static_cast<double>(i));
    }
    return Value::Null();
  }
  if (f == "mvzip") {
    RETURN_IF_ERROR(need(2, 3));
    if (v[0].is_null() || v[1].is_null()) return Value::Null();
    std::string d = n == 3 ? v[2].AsText() : ",";
    Values a = AllValues(v[0]), b = AllValues(v[1]), out;
    for (size_t i = 0; i < std::min(a.size(), b.size()); ++i) out.push_back(a[i] + d + b[i]);
    return Value::Multi(std::move(out));
  }
  if (f == "mvrange") {
    RETURN_IF_ERROR(need(2, 3));
    auto a = Num(v[0]), b = Num(v[1]);
    double step = 1;
    if (n == 3) {
      auto s = Num(v[2]);
      if (!s || *s == 0) return Value::Null();
      step = *s;
    }
    if (!a || !b) return Value::Null();
    Values out;
    for (double x = *a; step > 0 ? x < *b : x > *b; x += step) {
      out.push_back(FormatNumber(x));
      if (out.size() > 100000) break;
    }
    return Value::Multi(std::move(out));
  }
  if (f == "tostring") {
    RETURN_IF_ERROR(need(1, 2));
    if (v[0].is_null()) return Value::Null();
    if (v[0].is_bool()) return Value::String(v[0].boolean() ? "True" : "False");
    if (n == 2) {
      std::string mode = Lower(v[1].AsText());
      auto x = Num(v[0]);
      if (!x) return Value::String(v[0].AsText());
      if (mode == "hex") return Value::String(fmt::format("0x{:X}", static_cast<long long>(*x)));
      if (mode == "commas") return Value::String(FormatCommas(*x));
      if (mode == "duration") return Value::String(FormatDuration(*x));
      return InvalidArgument("tostring() format must be hex, commas or duration");
    }
    if (v[0].is_multi()) return v[0];
    return Value::String(v[0].AsText());
  }
  if (f == "tonumber") {
    RETURN_IF_ERROR(need(1, 2));
    if (v[0].is_null()) return Value::Null();
    std::string s = Trim(v[0].AsText(), " \t", true, true);
    if (n == 2) {
      auto b = Num(v[1]);
      if (!b || *b < 2 || *b > 36) return InvalidArgument("tonumber() base must be 2 to 36");
      if (*b == 16 && s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) s = s.substr(2);
      char* end = nullptr;
      long long r = std::strtoll(s.c_str(), &end, static_cast<int>(*b));
      if (s.empty() || *end) return Value::Null();
      return Value::Number(static_cast<double>(r));
    }
    auto x = ParseNumber(s);
    if (!x) return Value::Null();
    return Value::Number(*x);
  }
  // Numeric functions.
  auto num1 = [&](auto fn) -> Result<Value> {
    RETURN_IF_ERROR(need(1, 1));
    auto x = Num(v[0]);
    if (!x) return Value::Null();
    double r = fn(*x);
    if (!std::isfinite(r)) return Value::Null();
    return Value::Number(r);
  };
  if (f == "abs") return num1([](double x) { return std::fabs(x); });
  if (f == "floor") return num1([](double x) { return std::floor(x); });
  if (f == "ceil" || f == "ceiling") return num1([](double x) { return std::ceil(x); });
  if (f == "sqrt") return num1([](double x) { return std::sqrt(x); });
  if (f == "ln") return num1([](double x) { return std::log(x); });
  if (f == "exp") return num1([](double x) { return std::exp(x); });
  if (f == "exact") return num1([](double x) { return x; });
  if (f == "round") {
    RETURN_IF_ERROR(need(1, 2));
    auto x = Num(v[0]);
    if (!x) return Value::Null();
    int digits = 0;
    if (n == 2) {
      auto d = Num(v[1]);
      if (!d) return Value::Null();
      digits = static_cast<int>(*d);
    }
    double m = std::pow(10.0, digits);
    double r = std::round(*x * m) / m;
    if (digits > 0) return Value::Number(r, fmt::format("{:.{}f}", r, digits));
    return Value::Number(r);
  }
  if (f == "pow") {
    RETURN_IF_ERROR(need(2, 2));
    auto x = Num(v[0]), y = Num(v[1]);
    if (!x || !y) return Value::Null();
    double r = std::pow(*x, *y);
    if (!std::isfinite(r)) return Value::Null();
    return Value::Number(r);
  }
  if (f == "log") {
    RETURN_IF_ERROR(need(1, 2));
    auto x = Num(v[0]);
    if (!x || *x <= 0) return Value::Null();
    double base = 10;
    if (n == 2) {
      auto b = Num(v[1]);
      if (!b || *b <= 0 || *b == 1) return Value::Null();
      base = *b;
    }
    return Value::Number(std::log(*x) / std::log(base));
  }
  if (f == "min" || f == "max") {
    std::optional<std::string> best;
    for (const auto& x : v) {
      for (const auto& s : AllValues(x)) {
        if (!best || (f == "min" ? CompareMixed(s, *best) < 0 : CompareMixed(s, *best) > 0))
          best = s;
      }
    }
    if (!best) return Value::Null();
    return Value::FromFieldText(*best);
  }
  if (f == "relative_time") {
    RETURN_IF_ERROR(need(2, 2));
    auto t = Num(v[0]);
    if (!t || v[1].is_null()) return Value::Null();
    auto r = RelativeTime(*t, v[1].AsText());
    if (!r.ok()) return Value::Null();
    return Value::Number(*r);
  }
  if (f == "strftime") {
    RETURN_IF_ERROR(need(2, 2));
    auto t = Num(v[0]);
    if (!t || v[1].is_null()) return Value::Null();
    return Value::String(Strftime(*t, v[1].AsText()));
  }
  if (f == "strptime") {
    RETURN_IF_ERROR(need(2, 2));
    if (v[0].is_null() || v[1].is_null()) return Value::Null();
    auto t = Strptime(v[0].AsText(), v[1].AsText());
    if (!t) return Value::Null();
    return Value::Number(*t);
  }
  if (f == "urldecode") {
    RETURN_IF_ERROR(need(1, 1));
    if (v[0].is_null()) return Value::Null();
    return Value::String(UrlDecode(v[0].AsText()));
  }
  return Unsupported("unsupported function: {}", f);
}

Result<Value> Eval(const Expr& e, Env& env) {
  switch (e.kind) {
    case Expr::Kind::kNumber: return Value::Number(e.number, e.text);
    case Expr::Kind::kString: return Value::String(e.text);
    case Expr::Kind::kField: {
      if (env.bind_name && *env.bind_name == e.text) return Value::FromFieldText(*env.bind_value);
      const Values* v = env.row.Get(e.text);
      if (!v) return Value::Null();
      return Value::FromField(*v);
    }
    case Expr::Kind::kCall: return Call(e, env);
    case Expr::Kind::kUnary: {
      ASSIGN_OR_RETURN(Value x, Eval(*e.args[0], env));
      if (e.text == "NOT") {
        int t = Truth(x);
        if (t < 0) return Value::Null();
        return Value::Bool(t == 0);
      }
      auto d = Num(x);
      if (!d) return Value::Null();
      return Value::Number(-*d);
    }
    case Expr::Kind::kBinary: {
      const std::string& op = e.text;
      if (op == "AND" || op == "OR" || op == "XOR") {
        ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], env));
        int ta = Truth(a);
        if (op == "AND" && ta == 0) return Value::Bool(false);
        if (op == "OR" && ta == 1) return Value::Bool(true);
        ASSIGN_OR_RETURN(Value b, Eval(*e.args[1], env));
        int tb = Truth(b);
        if (op == "AND") {
          if (tb == 0) return Value::Bool(false);
          if (ta == 1 && tb == 1) return Value::Bool(true);
          return Value::Null();
        }
        if (op == "OR") {
          if (tb == 1) return Value::Bool(true);
          if (ta == 0 && tb == 0) return Value::Bool(false);
          return Value::Null();
        }
        if (ta < 0 || tb < 0) return Value::Null();
        return Value::Bool(ta != tb);
      }
      ASSIGN_OR_RETURN(Value a, Eval(*e.args[0], env));
      ASSIGN_OR_RETURN(Value b, Eval(*e.args[1], env));
      if (op == "=" || op == "!=" || op == "<" || op == "<=" || op == ">" || op == ">=") {
        return Compare(a, b, op);
      }
      if (op == "LIKE") {
        if (a.is_null() || b.is_null()) return Value::Null();
        return Value::Bool(LikeMatch(a.AsText(), b.AsText()));
      }
      return Arith(op, a, b);
    }
  }
  return Internal("bad expression node");
}

bool GlobMatchImpl(std::string_view p, std::string_view t, bool nocase) {
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && (nocase ? LowerChar(p[pi]) == LowerChar(t[ti]) : p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*') ++pi;
  return pi == p.size();
}

bool ValueMatches(const std::string& pattern, const std::string& value) {
  if (pattern.find('*') == std::string::npos) {
    if (pattern.size() != value.size()) {
      auto a = ParseNumber(pattern), b = ParseNumber(value);
      return a && b && *a == *b;
    }
    for (size_t i = 0; i < value.size(); ++i) {
      if (LowerChar(pattern[i]) != LowerChar(value[i])) return false;
    }
    return true;
  }
  return GlobMatchImpl(pattern, value, true);
}

bool CompareMatch(const SearchNode& n, Row& row) {
  const Values* vals = row.Get(n.field);
  const std::string& op = n.op;
  if (op == "=") {
    if (!vals) return false;
    if (n.value == "*") {
      for (const auto& v : *vals) {
        if (!v.empty()) return true;
      }
      return false;
    }
    for (const auto& v : *vals) {
      if (ValueMatches(n.value, v)) return true;
    }
    return false;
  }
  if (op == "!=") {
    if (!vals) return false;
    if (n.value == "*") return false;
    for (const auto& v : *vals) {
      if (ValueMatches(n.value, v)) return false;
    }
    return true;
  }
  if (!vals) return false;
  auto rhs = ParseNumber(n.value);
  for (const auto& v : *vals) {
    int c;
    auto lhs = ParseNumber(v);
    if (lhs && rhs) {
      c = *lhs < *rhs ? -1 : (*lhs > *rhs ? 1 : 0);
    } else {
      int r = Lower(v).compare(Lower(n.value));
      c = r < 0 ? -1 : (r > 0 ? 1 : 0);
    }
    if ((op == "<" && c < 0) || (op == "<=" && c <= 0) || (op == ">" && c > 0) ||
        (op == ">=" && c >= 0)) {
      return true;
    }
  }
  return false;
}

}  // namespace

bool GlobMatch(std::string_view pattern, std::string_view text, bool nocase) {
  return GlobMatchImpl(pattern, text, nocase);
}

bool LikeMatch(std::string_view t, std::string_view p) {
  size_t pi = 0, ti = 0, star = std::string_view::npos, mark = 0;
  while (ti < t.size()) {
    if (pi < p.size() && p[pi] == '%') {
      star = pi++;
      mark = ti;
    } else if (pi < p.size() && (p[pi] == '_' || p[pi] == t[ti])) {
      ++pi;
      ++ti;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      ti = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '%') ++pi;
  return pi == p.size();
}

bool TermMatch(std::string_view raw, std::string_view term) {
  if (term.empty()) return false;
  if (term == "*") return true;
  if (term.find('*') != std::string_view::npos) {
    // A wildcard term matches within one major-breaker token.
    size_t i = 0;
    while (i < raw.size()) {
      while (i < raw.size() && IsMajorBreaker(raw[i])) ++i;
      size_t j = i;
      while (j < raw.size() && !IsMajorBreaker(raw[j])) ++j;
      if (j > i) {
        std::string_view tok = raw.substr(i, j - i);
        if (GlobMatchImpl(term, tok, true)) return true;
        // Also try every suffix starting after a minor breaker.
        for (size_t k = 1; k < tok.size(); ++k) {
          if (IsBreaker(tok[k - 1]) && GlobMatchImpl(term, tok.substr(k), true)) return true;
        }
      }
      i = j;
    }
    return false;
  }
  std::string lraw = Lower(raw);
  std::string lterm = Lower(term);
  size_t p = lraw.find(lterm);
  while (p != std::string::npos) {
    bool left = p == 0 || IsBreaker(lraw[p - 1]) || IsBreaker(lterm.front());
    size_t e = p + lterm.size();
    bool right = e == lraw.size() || IsBreaker(lraw[e]) || IsBreaker(lterm.back());
    if (left && right) return true;
    p = lraw.find(lterm, p + 1);
  }
  return false;
}

std::string PcreToRe2(std::string_view pattern) {
  std::string out;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size()) {
      out += pattern[i];
      out += pattern[++i];
      continue;
    }
    if (pattern.substr(i, 3) == "(?<" && i + 3 < pattern.size() && pattern[i + 3] != '=' &&
        pattern[i + 3] != '!') {
      out += "(?P<";
      i += 2;
      continue;
    }
    out += pattern[i];
  }
  return out;
}

Result<Value> Evaluate(const Expr& e, Row& row, const EvalContext& ctx) {
  Env env{row, ctx};
  return Eval(e, env);
}

bool MatchSearch(const SearchNode& n, Row& row) {
  switch (n.kind) {
    case SearchNode::Kind::kTrue: return true;
    case SearchNode::Kind::kFalse: return false;
    case SearchNode::Kind::kSubsearch: return false;
    case SearchNode::Kind::kAnd:
      for (const auto& c : n.children) {
        if (!MatchSearch(*c, row)) return false;
      }
      return true;
    case SearchNode::Kind::kOr:
      for (const auto& c : n.children) {
        if (MatchSearch(*c, row)) return true;
      }
      return false;
    case SearchNode::Kind::kNot: return !MatchSearch(*n.children[0], row);
    case SearchNode::Kind::kTerm: {
      if (n.value == "*") return true;
      const Values* raw = row.Get("_raw");
      if (raw) {
        for (const auto& r : *raw) {
          if (TermMatch(r, n.value)) return true;
        }
        return false;
      }
      for (auto& [k, vals] : row.fields()) {
        for (const auto& v : vals) {
          if (TermMatch(v, n.value)) return true;
        }
      }
      return false;
    }
    case SearchNode::Kind::kCompare: return CompareMatch(n, row);
    case SearchNode::Kind::kIn: {
      SearchNode tmp;
      tmp.kind = SearchNode::Kind::kCompare;
      tmp.field = n.field;
      tmp.op = "=";
      for (const auto& v : n.values) {
        tmp.value = v;
        if (CompareMatch(tmp, row)) return true;
      }
      return false;
    }
  }
  return false;
}

}  // namespace cairn::query
