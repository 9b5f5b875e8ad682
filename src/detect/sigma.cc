#include "detect/sigma.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <re2/re2.h>
#include <yaml-cpp/yaml.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "common/config.h"
#include "query/value.h"

namespace cairn::detect {

namespace {

constexpr uint8_t kLit = 0;
constexpr uint8_t kStar = 1;
constexpr uint8_t kQuestion = 2;

char Lower(char c) { return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c; }

std::string LowerAscii(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = Lower(c);
  return out;
}

// A pattern under construction: bytes and, per byte, whether it is a wildcard.
struct Pat {
  std::string text;
  std::vector<uint8_t> wild;
  void Add(char c, uint8_t w) {
    text.push_back(c);
    wild.push_back(w);
  }
  void AddLiteral(std::string_view s) {
    for (char c : s) Add(c, kLit);
  }
  bool HasWildcards() const {
    return std::any_of(wild.begin(), wild.end(), [](uint8_t w) { return w != kLit; });
  }
};

// Sigma's escapes: `\*`, `\?` and `\\` are the literal characters; any other backslash is itself.
Pat ParsePlain(std::string_view v) {
  Pat p;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (c == '\\' && i + 1 < v.size() && (v[i + 1] == '*' || v[i + 1] == '?' || v[i + 1] == '\\')) {
      p.Add(v[i + 1], kLit);
      ++i;
    } else if (c == '*') {
      p.Add(c, kStar);
    } else if (c == '?') {
      p.Add(c, kQuestion);
    } else {
      p.Add(c, kLit);
    }
  }
  return p;
}

std::string Base64(std::string_view in) {
  static constexpr char kAlphabet[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  std::string out;
  size_t i = 0;
  for (; i + 3 <= in.size(); i += 3) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8) | uint8_t(in[i + 2]);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += kAlphabet[n & 63];
  }
  size_t rest = in.size() - i;
  if (rest == 1) {
    uint32_t n = uint8_t(in[i]) << 16;
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += "==";
  } else if (rest == 2) {
    uint32_t n = (uint8_t(in[i]) << 16) | (uint8_t(in[i + 1]) << 8);
    out += kAlphabet[(n >> 18) & 63];
    out += kAlphabet[(n >> 12) & 63];
    out += kAlphabet[(n >> 6) & 63];
    out += '=';
  }
  return out;
}

// The three forms `value` takes inside a longer base64 text, by its offset modulo 3: the
// characters that depend on the unknown neighbouring bytes are cut off both ends.
std::vector<std::string> Base64Offsets(std::string_view value) {
  std::vector<std::string> out;
  for (size_t shift = 0; shift < 3; ++shift) {
    std::string padded(shift, ' ');
    padded.append(value);
    std::string enc = Base64(padded);
    // Leading characters that encode the padding bytes (partly or wholly).
    static constexpr size_t kCutFront[] = {0, 2, 3};
    size_t front = kCutFront[shift];
    // Trailing characters that encode a partial group (and its '=' padding).
    size_t total = padded.size();
    size_t back = 0;
    switch (total % 3) {
      case 0: back = 0; break;
      case 1: back = 3; break;  // one byte: 2 chars of which the 2nd is partial, plus "=="
      case 2: back = 2; break;  // two bytes: 3 chars of which the 3rd is partial, plus "="
    }
    if (front + back >= enc.size()) continue;
    out.push_back(enc.substr(front, enc.size() - front - back));
  }
  return out;
}

void Finish(ValueMatcher* m) {
  if (!m->cased) {
    for (size_t i = 0; i < m->text.size(); ++i) {
      if (m->wild[i] == kLit) m->text[i] = Lower(m->text[i]);
    }
  }
  // Shape: stars only at the ends, no '?' → the fast paths.
  size_t n = m->text.size();
  bool lead = n > 0 && m->wild[0] == kStar;
  bool trail = n > (lead ? 1u : 0u) && m->wild[n - 1] == kStar;
  size_t b = lead ? 1 : 0, e = trail ? n - 1 : n;
  bool inner_wild = false;
  for (size_t i = b; i < e; ++i) inner_wild |= m->wild[i] != kLit;
  if (inner_wild) {
    m->shape = ValueMatcher::Shape::kGeneral;
    return;
  }
  m->literal = m->text.substr(b, e - b);
  if (lead && trail) {
    m->shape = ValueMatcher::Shape::kContains;
  } else if (lead) {
    m->shape = ValueMatcher::Shape::kSuffix;
  } else if (trail) {
    m->shape = ValueMatcher::Shape::kPrefix;
  } else {
    m->shape = ValueMatcher::Shape::kExact;
  }
}

bool ParseCidr(std::string_view text, ValueMatcher* m) {
  size_t slash = text.find('/');
  std::string addr(text.substr(0, slash));
  bool v6 = addr.find(':') != std::string::npos;
  uint8_t buf[16];
  if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), buf) != 1) return false;
  int bits = v6 ? 128 : 32;
  int len = bits;
  if (slash != std::string_view::npos) {
    std::string_view l = text.substr(slash + 1);
    if (l.empty() || l.size() > 3) return false;
    len = 0;
    for (char c : l) {
      if (c < '0' || c > '9') return false;
      len = len * 10 + (c - '0');
    }
    if (len > bits) return false;
  }
  m->net.assign(buf, buf + bits / 8);
  m->prefix_len = len;
  return true;
}

bool CidrContains(const ValueMatcher& m, std::string_view value) {
  std::string addr(value);
  uint8_t buf[16];
  bool v6 = addr.find(':') != std::string::npos;
  if ((v6 ? 16u : 4u) != m.net.size()) return false;
  if (inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), buf) != 1) return false;
  int full = m.prefix_len / 8, rest = m.prefix_len % 8;
  if (!std::equal(buf, buf + full, m.net.begin())) return false;
  if (rest == 0) return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (buf[full] & mask) == (m.net[full] & mask);
}

}  // namespace

bool GlobMatch(const ValueMatcher& m, std::string_view s) {
  switch (m.shape) {
    case ValueMatcher::Shape::kExact: return s == m.literal;
    case ValueMatcher::Shape::kPrefix: return s.starts_with(m.literal);
    case ValueMatcher::Shape::kSuffix: return s.ends_with(m.literal);
    case ValueMatcher::Shape::kContains: return s.find(m.literal) != std::string_view::npos;
    case ValueMatcher::Shape::kGeneral: break;
  }
  const std::string& p = m.text;
  size_t pi = 0, si = 0, star = std::string::npos, mark = 0;
  auto char_len = [&](size_t at) {
    // '?' is one character: a UTF-8 lead byte and its continuation bytes.
    size_t len = 1;
    while (at + len < s.size() && (uint8_t(s[at + len]) & 0xC0) == 0x80) ++len;
    return len;
  };
  while (si < s.size()) {
    if (pi < p.size() && m.wild[pi] == kQuestion) {
      ++pi;
      si += char_len(si);
    } else if (pi < p.size() && m.wild[pi] == kStar) {
      star = pi++;
      mark = si;
    } else if (pi < p.size() && p[pi] == s[si]) {
      ++pi;
      ++si;
    } else if (star != std::string::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && m.wild[pi] == kStar) ++pi;
  return pi == p.size();
}

bool ValueMatcher::MatchText(std::string_view value, std::string_view lowered) const {
  switch (kind) {
    case Kind::kGlob: return GlobMatch(*this, cased ? value : lowered);
    case Kind::kRegex: return RE2::PartialMatch(value, *regex);
    case Kind::kCidr: return CidrContains(*this, value);
    case Kind::kNumber: {
      auto x = query::ParseNumber(value);
      if (!x) return false;
      switch (cmp) {
        case Cmp::kGt: return *x > number;
        case Cmp::kGte: return *x >= number;
        case Cmp::kLt: return *x < number;
        case Cmp::kLte: return *x <= number;
      }
      return false;
    }
    default: return false;  // kNull, kExists, kFieldRef are decided by the evaluator
  }
}

std::string ValueMatcher::ToString() const {
  switch (kind) {
    case Kind::kGlob: {
      std::string out = cased ? "cased:" : "";
      for (size_t i = 0; i < text.size(); ++i) {
        if (wild[i] == kLit && (text[i] == '*' || text[i] == '?' || text[i] == '\\')) {
          out.push_back('\\');
        }
        out.push_back(text[i]);
      }
      return "'" + out + "'";
    }
    case Kind::kRegex: return "re:/" + regex->pattern() + "/";
    case Kind::kCidr: {
      char buf[INET6_ADDRSTRLEN];
      inet_ntop(net.size() == 16 ? AF_INET6 : AF_INET, net.data(), buf, sizeof(buf));
      return fmt::format("cidr:{}/{}", buf, prefix_len);
    }
    case Kind::kNumber: {
      static constexpr const char* kOps[] = {">", ">=", "<", "<="};
      return fmt::format("{}{}", kOps[static_cast<int>(cmp)], query::FormatNumber(number));
    }
    case Kind::kNull: return "null";
    case Kind::kExists: return exists ? "exists" : "absent";
    case Kind::kFieldRef: {
      static constexpr const char* kShapes[] = {"", "startswith:", "endswith:", "contains:", ""};
      return fmt::format("fieldref:{}{}", kShapes[static_cast<int>(shape)], ref_field);
    }
  }
  return "?";
}

std::string FieldTest::ToString() const {
  std::string out = field + (all ? " all of [" : " in [");
  for (size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out += ", ";
    for (size_t j = 0; j < values[i].size(); ++j) {
      if (j > 0) out += "|";
      out += values[i][j].ToString();
    }
  }
  return out + "]";
}

Result<std::vector<ValueMatcher>> CompileValue(std::string_view value,
                                               const std::vector<std::string>& modifiers,
                                               bool is_null) {
  bool contains = false, startswith = false, endswith = false, re = false, cidr = false;
  bool base64 = false, base64offset = false, exists = false, fieldref = false, windash = false;
  bool cased = false, re_i = false, re_m = false, re_s = false;
  std::optional<ValueMatcher::Cmp> cmp;
  for (const std::string& mod : modifiers) {
    if (mod == "contains")
      contains = true;
    else if (mod == "startswith")
      startswith = true;
    else if (mod == "endswith")
      endswith = true;
    else if (mod == "all")
      continue;  // the field test's
    else if (mod == "re")
      re = true;
    else if (mod == "i")
      re_i = true;
    else if (mod == "m")
      re_m = true;
    else if (mod == "s")
      re_s = true;
    else if (mod == "cidr")
      cidr = true;
    else if (mod == "base64")
      base64 = true;
    else if (mod == "base64offset")
      base64offset = true;
    else if (mod == "exists")
      exists = true;
    else if (mod == "fieldref")
      fieldref = true;
    else if (mod == "windash")
      windash = true;
    else if (mod == "cased")
      cased = true;
    else if (mod == "gt")
      cmp = ValueMatcher::Cmp::kGt;
    else if (mod == "gte")
      cmp = ValueMatcher::Cmp::kGte;
    else if (mod == "lt")
      cmp = ValueMatcher::Cmp::kLt;
    else if (mod == "lte")
      cmp = ValueMatcher::Cmp::kLte;
    else if (mod == "utf16le" || mod == "utf16be" || mod == "utf16" || mod == "wide")
      return InvalidArgument(
          "modifier |{} (UTF-16 text inside base64) does not apply to CloudTrail's UTF-8 JSON",
          mod);
    else if (mod == "expand")
      return InvalidArgument("modifier |expand needs placeholder values, which cairn has none of");
    else
      return InvalidArgument("unknown modifier |{}", mod);
  }
  if ((re_i || re_m || re_s) && !re)
    return InvalidArgument("regular expression flags |i |m |s without |re");
  if (contains + startswith + endswith > 1)
    return InvalidArgument("more than one of |contains |startswith |endswith on one field");

  std::vector<ValueMatcher> out;
  if (is_null) {
    if (!modifiers.empty()) return InvalidArgument("a modifier on a null value");
    ValueMatcher m;
    m.kind = ValueMatcher::Kind::kNull;
    out.push_back(std::move(m));
    return out;
  }
  if (exists) {
    ValueMatcher m;
    m.kind = ValueMatcher::Kind::kExists;
    std::string v = LowerAscii(value);
    if (v != "true" && v != "false") return InvalidArgument("|exists takes true or false");
    m.exists = v == "true";
    out.push_back(std::move(m));
    return out;
  }
  if (cmp) {
    auto x = query::ParseNumber(value);
    if (!x) return InvalidArgument("|gt/|gte/|lt/|lte on \"{}\", which is not a number", value);
    ValueMatcher m;
    m.kind = ValueMatcher::Kind::kNumber;
    m.cmp = *cmp;
    m.number = *x;
    out.push_back(std::move(m));
    return out;
  }
  if (cidr) {
    ValueMatcher m;
    m.kind = ValueMatcher::Kind::kCidr;
    if (!ParseCidr(value, &m)) return InvalidArgument("|cidr \"{}\" is not a network", value);
    out.push_back(std::move(m));
    return out;
  }
  if (fieldref) {
    ValueMatcher m;
    m.kind = ValueMatcher::Kind::kFieldRef;
    m.ref_field = std::string(value);
    m.cased = cased;
    m.shape = contains     ? ValueMatcher::Shape::kContains
              : startswith ? ValueMatcher::Shape::kPrefix
              : endswith   ? ValueMatcher::Shape::kSuffix
                           : ValueMatcher::Shape::kExact;
    if (base64 || base64offset || windash || re)
      return InvalidArgument("|fieldref combined with an encoding or |re");
    out.push_back(std::move(m));
    return out;
  }
  if (re) {
    if (contains || startswith || endswith || base64 || base64offset || windash)
      return InvalidArgument("|re combined with a string modifier");
    RE2::Options opt;
    opt.set_log_errors(false);
    opt.set_case_sensitive(!re_i);
    opt.set_dot_nl(re_s);
    std::string pattern = re_m ? "(?m)" + std::string(value) : std::string(value);
    auto rx = std::make_shared<RE2>(pattern, opt);
    if (!rx->ok()) {
      return InvalidArgument("regular expression /{}/ that RE2 cannot run: {}", value, rx->error());
    }
    ValueMatcher m;
    m.kind = ValueMatcher::Kind::kRegex;
    m.regex = std::move(rx);
    out.push_back(std::move(m));
    return out;
  }

  // String values: encodings first, then the placement wildcards, then case.
  std::vector<Pat> forms;
  Pat parsed = ParsePlain(value);
  if (base64 || base64offset) {
    if (base64 && base64offset) return InvalidArgument("both |base64 and |base64offset");
    if (parsed.HasWildcards())
      return InvalidArgument("|base64 on a value with wildcards (\"{}\")", value);
    if (windash) return InvalidArgument("|windash combined with |base64");
    if (base64) {
      Pat p;
      p.AddLiteral(Base64(parsed.text));
      forms.push_back(std::move(p));
    } else {
      for (const std::string& s : Base64Offsets(parsed.text)) {
        Pat p;
        p.AddLiteral(s);
        forms.push_back(std::move(p));
      }
    }
  } else if (windash) {
    // Every '-' written as each of the dashes Windows command lines accept.
    static constexpr std::string_view kDashes[] = {"-", "/", "\u2013", "\u2014", "\u2015"};
    for (std::string_view dash : kDashes) {
      Pat p;
      for (size_t i = 0; i < parsed.text.size(); ++i) {
        if (parsed.wild[i] == kLit && parsed.text[i] == '-') {
          p.AddLiteral(dash);
        } else {
          p.Add(parsed.text[i], parsed.wild[i]);
        }
      }
      forms.push_back(std::move(p));
    }
  } else {
    forms.push_back(std::move(parsed));
  }
  for (Pat& p : forms) {
    ValueMatcher m;
    m.kind = ValueMatcher::Kind::kGlob;
    m.cased = cased;
    if ((contains || endswith) && (p.wild.empty() || p.wild.front() != kStar)) {
      p.text.insert(p.text.begin(), '*');
      p.wild.insert(p.wild.begin(), kStar);
    }
    if ((contains || startswith) && (p.wild.empty() || p.wild.back() != kStar)) p.Add('*', kStar);
    m.text = std::move(p.text);
    m.wild = std::move(p.wild);
    Finish(&m);
    out.push_back(std::move(m));
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// Conditions

namespace {

struct Token {
  enum class Kind { kWord, kOpen, kClose, kEnd } kind = Kind::kEnd;
  std::string text;
};

Result<std::vector<Token>> Tokenize(std::string_view s) {
  std::vector<Token> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
    } else if (c == '(') {
      out.push_back({Token::Kind::kOpen, "("});
      ++i;
    } else if (c == ')') {
      out.push_back({Token::Kind::kClose, ")"});
      ++i;
    } else if (c == '|') {
      return InvalidArgument(
          "an aggregation in the condition (Sigma 1 \"| count() ...\"); write it as a "
          "correlation rule");
    } else {
      size_t j = i;
      while (j < s.size() && s[j] != ' ' && s[j] != '\t' && s[j] != '\n' && s[j] != '\r' &&
             s[j] != '(' && s[j] != ')' && s[j] != '|') {
        ++j;
      }
      out.push_back({Token::Kind::kWord, std::string(s.substr(i, j - i))});
      i = j;
    }
  }
  out.push_back({Token::Kind::kEnd, ""});
  return out;
}

bool NameGlob(std::string_view pattern, std::string_view name) {
  ValueMatcher m;
  Pat p = ParsePlain(pattern);
  m.text = p.text;
  m.wild = p.wild;
  m.cased = true;
  Finish(&m);
  return GlobMatch(m, name);
}

class CondParser {
 public:
  CondParser(std::vector<Token> toks, const std::vector<Selection>& sels)
      : toks_(std::move(toks)), sels_(sels) {}

  Result<Condition> Parse() {
    ASSIGN_OR_RETURN(Condition c, Or());
    if (Peek().kind != Token::Kind::kEnd)
      return InvalidArgument("unexpected \"{}\" in the condition", Peek().text);
    return c;
  }

 private:
  const Token& Peek() const { return toks_[pos_]; }
  bool IsWord(std::string_view w) const {
    return Peek().kind == Token::Kind::kWord && LowerAscii(Peek().text) == w;
  }

  Result<Condition> Or() {
    ASSIGN_OR_RETURN(Condition first, And());
    if (!IsWord("or")) return first;
    Condition c;
    c.op = Condition::Op::kOr;
    c.children.push_back(std::move(first));
    while (IsWord("or")) {
      ++pos_;
      ASSIGN_OR_RETURN(Condition next, And());
      c.children.push_back(std::move(next));
    }
    return c;
  }
  Result<Condition> And() {
    ASSIGN_OR_RETURN(Condition first, Not());
    if (!IsWord("and")) return first;
    Condition c;
    c.op = Condition::Op::kAnd;
    c.children.push_back(std::move(first));
    while (IsWord("and")) {
      ++pos_;
      ASSIGN_OR_RETURN(Condition next, Not());
      c.children.push_back(std::move(next));
    }
    return c;
  }
  Result<Condition> Not() {
    // Nesting is bounded so a hostile rule cannot exhaust the stack.
    if (++depth_ > kMaxDepth)
      return InvalidArgument("a condition nested more than {} deep", kMaxDepth);
    struct Leave {
      int* d;
      ~Leave() { --*d; }
    } leave{&depth_};
    if (IsWord("not")) {
      ++pos_;
      ASSIGN_OR_RETURN(Condition inner, Not());
      Condition c;
      c.op = Condition::Op::kNot;
      c.children.push_back(std::move(inner));
      return c;
    }
    return Primary();
  }
  Result<Condition> Primary() {
    const Token& t = Peek();
    if (t.kind == Token::Kind::kOpen) {
      ++pos_;
      ASSIGN_OR_RETURN(Condition inner, Or());
      if (Peek().kind != Token::Kind::kClose) return InvalidArgument("missing ) in the condition");
      ++pos_;
      return inner;
    }
    if (t.kind != Token::Kind::kWord) {
      return InvalidArgument("the condition ends where a selection was expected");
    }
    std::string word = t.text;
    std::string lw = LowerAscii(word);
    bool quantifier = lw == "all" || lw == "any" ||
                      (!word.empty() && std::all_of(word.begin(), word.end(), ::isdigit));
    if (quantifier && toks_[pos_ + 1].kind == Token::Kind::kWord &&
        LowerAscii(toks_[pos_ + 1].text) == "of") {
      pos_ += 2;
      if (Peek().kind != Token::Kind::kWord)
        return InvalidArgument("\"{} of\" without a selection pattern", word);
      Condition c;
      c.op = Condition::Op::kOf;
      c.pattern = Peek().text;
      ++pos_;
      if (lw == "all") {
        c.count = -1;
      } else if (lw == "any") {
        c.count = 1;
      } else {
        if (word.size() > 6) return InvalidArgument("\"{} of\": the count is too large", word);
        c.count = std::stoi(word);
        if (c.count < 1) return InvalidArgument("\"{} of\": the count must be at least 1", word);
      }
      bool them = LowerAscii(c.pattern) == "them";
      for (size_t i = 0; i < sels_.size(); ++i) {
        // `them` leaves out identifiers that start with an underscore, as the spec says.
        if (them ? !sels_[i].name.starts_with("_") : NameGlob(c.pattern, sels_[i].name)) {
          c.selections.push_back(static_cast<int>(i));
        }
      }
      if (c.selections.empty())
        return InvalidArgument("\"{} of {}\" names no selection of the detection", word, c.pattern);
      return c;
    }
    if (lw == "and" || lw == "or" || lw == "of" || lw == "them")
      return InvalidArgument("unexpected \"{}\" in the condition", word);
    for (size_t i = 0; i < sels_.size(); ++i) {
      if (sels_[i].name == word) {
        ++pos_;
        Condition c;
        c.op = Condition::Op::kSel;
        c.selections.push_back(static_cast<int>(i));
        return c;
      }
    }
    return InvalidArgument("the condition names \"{}\", which the detection does not define", word);
  }

  static constexpr int kMaxDepth = 64;
  std::vector<Token> toks_;
  const std::vector<Selection>& sels_;
  size_t pos_ = 0;
  int depth_ = 0;
};

}  // namespace

Result<Condition> ParseCondition(std::string_view text, const std::vector<Selection>& sels) {
  ASSIGN_OR_RETURN(std::vector<Token> toks, Tokenize(text));
  return CondParser(std::move(toks), sels).Parse();
}

std::string Condition::ToString(const std::vector<Selection>& sels) const {
  switch (op) {
    case Op::kSel: return sels[selections[0]].name;
    case Op::kNot: return "not " + children[0].ToString(sels);
    case Op::kOf: {
      std::string out = (count < 0 ? std::string("all") : std::to_string(count)) + " of (";
      for (size_t i = 0; i < selections.size(); ++i) {
        if (i > 0) out += ", ";
        out += sels[selections[i]].name;
      }
      return out + ")";
    }
    case Op::kAnd:
    case Op::kOr: {
      std::string out = "(";
      for (size_t i = 0; i < children.size(); ++i) {
        if (i > 0) out += op == Op::kAnd ? " and " : " or ";
        out += children[i].ToString(sels);
      }
      return out + ")";
    }
  }
  return "?";
}

std::vector<std::string> Rule::Fields() const {
  std::vector<std::string> out;
  std::set<std::string> seen;
  auto add = [&](const std::string& f) {
    if (seen.insert(f).second) out.push_back(f);
  };
  for (const Selection& s : selections) {
    for (const auto& map : s.maps) {
      for (const FieldTest& t : map) {
        add(t.field);
        for (const auto& alts : t.values) {
          for (const ValueMatcher& m : alts) {
            if (m.kind == ValueMatcher::Kind::kFieldRef) add(m.ref_field);
          }
        }
      }
    }
  }
  return out;
}

std::string Rule::Explain() const {
  std::string out = "condition: " + condition.ToString(selections) + "\n";
  for (const Selection& s : selections) {
    out += s.name + ":";
    if (!s.keywords.empty()) {
      out += " keywords";
      for (const ValueMatcher& m : s.keywords) out += " " + m.ToString();
      out += "\n";
      continue;
    }
    out += "\n";
    for (size_t i = 0; i < s.maps.size(); ++i) {
      out += i == 0 ? "  " : "  or ";
      for (size_t j = 0; j < s.maps[i].size(); ++j) {
        if (j > 0) out += " and ";
        out += s.maps[i][j].ToString();
      }
      out += "\n";
    }
  }
  return out;
}

// ---------------------------------------------------------------------------------------------
// YAML

namespace {

// A missing key gives an invalid node, whose type may not be asked: test it first.
std::string Scalar(const YAML::Node& n) { return (n && n.IsScalar()) ? n.Scalar() : std::string(); }

std::vector<std::string> ScalarList(const YAML::Node& n) {
  std::vector<std::string> out;
  if (!n) return out;
  if (n.IsScalar()) out.push_back(n.Scalar());
  if (n.IsSequence()) {
    for (const auto& e : n) {
      if (e.IsScalar()) out.push_back(e.Scalar());
    }
  }
  return out;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t i = 0;
  while (true) {
    size_t j = s.find(sep, i);
    out.emplace_back(s.substr(i, j == std::string_view::npos ? std::string_view::npos : j - i));
    if (j == std::string_view::npos) break;
    i = j + 1;
  }
  return out;
}

Result<FieldTest> CompileField(const std::string& key, const YAML::Node& value) {
  std::vector<std::string> parts = Split(key, '|');
  FieldTest t;
  t.field = parts[0];
  if (t.field.empty()) return InvalidArgument("a modifier without a field name (\"{}\")", key);
  if (t.field.find_first_of("{}") != std::string::npos)
    return InvalidArgument("field name \"{}\" with braces", t.field);
  std::vector<std::string> mods(parts.begin() + 1, parts.end());
  for (const std::string& m : mods) t.all |= m == "all";
  std::vector<std::pair<std::string, bool>> values;  // text, is_null
  if (value.IsNull()) {
    values.emplace_back("", true);
  } else if (value.IsScalar()) {
    values.emplace_back(value.Scalar(), false);
  } else if (value.IsSequence()) {
    for (const auto& e : value) {
      if (e.IsNull()) {
        values.emplace_back("", true);
      } else if (e.IsScalar()) {
        values.emplace_back(e.Scalar(), false);
      } else {
        return InvalidArgument("field {}: a list element that is not a plain value", key);
      }
    }
    if (values.empty()) return InvalidArgument("field {}: an empty list of values", key);
  } else {
    return InvalidArgument("field {}: a map as a value", key);
  }
  for (const auto& [text, is_null] : values) {
    auto ms = CompileValue(text, mods, is_null);
    if (!ms.ok()) return InvalidArgument("field {}: {}", key, ms.status().message());
    t.values.push_back(std::move(ms).value());
  }
  return t;
}

Result<std::vector<FieldTest>> CompileMap(const YAML::Node& map) {
  std::vector<FieldTest> out;
  for (const auto& kv : map) {
    ASSIGN_OR_RETURN(FieldTest t, CompileField(kv.first.Scalar(), kv.second));
    out.push_back(std::move(t));
  }
  if (out.empty()) return InvalidArgument("an empty map");
  return out;
}

Result<Selection> CompileSelection(const std::string& name, const YAML::Node& node) {
  Selection s;
  s.name = name;
  auto keywords = [&](const std::vector<std::string>& words) -> Status {
    for (const std::string& w : words) {
      ASSIGN_OR_RETURN(auto ms, CompileValue(w, {"contains"}, false));
      for (auto& m : ms) s.keywords.push_back(std::move(m));
    }
    return Status::Ok();
  };
  if (node.IsMap()) {
    ASSIGN_OR_RETURN(auto map, CompileMap(node));
    s.maps.push_back(std::move(map));
  } else if (node.IsSequence()) {
    bool maps = false, scalars = false;
    for (const auto& e : node) {
      if (e.IsMap()) {
        maps = true;
      } else if (e.IsScalar()) {
        scalars = true;
      } else {
        return InvalidArgument("selection {}: a list element that is neither a map nor a value",
                               name);
      }
    }
    if (maps && scalars)
      return InvalidArgument("selection {}: a list mixing maps and values", name);
    if (maps) {
      for (const auto& e : node) {
        auto map = CompileMap(e);
        if (!map.ok()) return InvalidArgument("selection {}: {}", name, map.status().message());
        s.maps.push_back(std::move(map).value());
      }
    } else {
      RETURN_IF_ERROR(keywords(ScalarList(node)));
    }
  } else if (node.IsScalar()) {
    RETURN_IF_ERROR(keywords({node.Scalar()}));
  } else {
    return InvalidArgument("selection {} is empty", name);
  }
  if (s.maps.empty() && s.keywords.empty()) return InvalidArgument("selection {} is empty", name);
  return s;
}

Status CheckLogsource(const YAML::Node& doc) {
  const YAML::Node ls = doc["logsource"];
  if (!ls || !ls.IsMap()) return InvalidArgument("no logsource");
  std::string product = LowerAscii(Scalar(ls["product"]));
  std::string service = LowerAscii(Scalar(ls["service"]));
  if (product != "aws" || service != "cloudtrail") {
    return InvalidArgument(
        "logsource product \"{}\" service \"{}\": cairn runs product aws, service cloudtrail",
        product, service);
  }
  return Status::Ok();
}

Result<Rule> CompileRule(const YAML::Node& doc, const std::string& file) {
  Rule r;
  r.file = file;
  r.id = Scalar(doc["id"]);
  r.name = Scalar(doc["name"]);
  r.title = Scalar(doc["title"]);
  r.level = LowerAscii(Scalar(doc["level"]));
  r.status = Scalar(doc["status"]);
  r.description = Scalar(doc["description"]);
  r.tags = ScalarList(doc["tags"]);
  if (r.title.empty()) return InvalidArgument("no title");
  if (r.id.empty()) return InvalidArgument("no id");
  if (r.level.empty()) r.level = "medium";
  RETURN_IF_ERROR(CheckLogsource(doc));
  const YAML::Node det = doc["detection"];
  if (!det || !det.IsMap()) return InvalidArgument("no detection map");
  const YAML::Node cond = det["condition"];
  if (!cond) return InvalidArgument("detection without a condition");
  for (const auto& kv : det) {
    std::string key = kv.first.Scalar();
    if (key == "condition" || key == "timeframe") continue;
    ASSIGN_OR_RETURN(Selection s, CompileSelection(key, kv.second));
    r.selections.push_back(std::move(s));
  }
  std::vector<std::string> conds = ScalarList(cond);
  if (conds.empty()) return InvalidArgument("an empty condition");
  std::vector<Condition> parsed;
  for (const std::string& c : conds) {
    ASSIGN_OR_RETURN(Condition pc, ParseCondition(c, r.selections));
    parsed.push_back(std::move(pc));
  }
  if (parsed.size() == 1) {
    r.condition = std::move(parsed[0]);
  } else {
    r.condition.op = Condition::Op::kOr;  // a list of conditions: any of them
    r.condition.children = std::move(parsed);
  }
  return r;
}

Result<Correlation> CompileCorrelation(const YAML::Node& doc, const std::string& file) {
  Correlation c;
  c.file = file;
  c.id = Scalar(doc["id"]);
  c.name = Scalar(doc["name"]);
  c.title = Scalar(doc["title"]);
  c.level = LowerAscii(Scalar(doc["level"]));
  c.description = Scalar(doc["description"]);
  c.tags = ScalarList(doc["tags"]);
  if (c.title.empty()) return InvalidArgument("correlation without a title");
  if (c.id.empty()) return InvalidArgument("correlation without an id");
  if (c.level.empty()) c.level = "medium";
  const YAML::Node cor = doc["correlation"];
  if (!cor || !cor.IsMap()) return InvalidArgument("correlation is not a map");
  std::string type = Scalar(cor["type"]);
  if (type == "event_count") {
    c.type = Correlation::Type::kEventCount;
  } else if (type == "value_count") {
    c.type = Correlation::Type::kValueCount;
  } else if (type == "temporal") {
    c.type = Correlation::Type::kTemporal;
  } else if (type == "temporal_ordered") {
    c.type = Correlation::Type::kTemporalOrdered;
  } else {
    return InvalidArgument("correlation type \"{}\"", type);
  }
  if (cor["aliases"]) return InvalidArgument("correlation field aliases");
  c.rule_refs = ScalarList(cor["rules"]);
  if (c.rule_refs.empty()) return InvalidArgument("correlation without rules");
  c.group_by = ScalarList(cor["group-by"]);
  std::string span = Scalar(cor["timespan"]);
  if (span.empty()) span = Scalar(cor["timeframe"]);
  if (span.empty()) return InvalidArgument("correlation without a timespan");
  auto ms = ParseDurationMillis(span);
  if (!ms || *ms <= 0) return InvalidArgument("correlation timespan \"{}\"", span);
  c.timespan_ms = *ms;
  std::string generate = Scalar(cor["generate"]);
  if (generate.empty()) generate = Scalar(doc["generate"]);
  c.generate = LowerAscii(generate) == "true";
  const YAML::Node cond = cor["condition"];
  if (!cond) {
    if (c.type == Correlation::Type::kEventCount || c.type == Correlation::Type::kValueCount)
      return InvalidArgument("{} correlation without a condition", type);
    c.cmp = Correlation::Cmp::kGte;
    c.threshold = static_cast<int64_t>(c.rule_refs.size());
  } else {
    if (!cond.IsMap()) return InvalidArgument("correlation condition is not a map");
    int ops = 0;
    for (const auto& kv : cond) {
      std::string k = kv.first.Scalar();
      if (k == "field") {
        c.field = Scalar(kv.second);
        continue;
      }
      static const std::map<std::string, Correlation::Cmp> kOps = {{"gt", Correlation::Cmp::kGt},
                                                                   {"gte", Correlation::Cmp::kGte},
                                                                   {"lt", Correlation::Cmp::kLt},
                                                                   {"lte", Correlation::Cmp::kLte},
                                                                   {"eq", Correlation::Cmp::kEq}};
      auto it = kOps.find(k);
      if (it == kOps.end()) return InvalidArgument("correlation condition \"{}\"", k);
      auto n = query::ParseNumber(Scalar(kv.second));
      if (!n) return InvalidArgument("correlation condition {} is not a number", k);
      c.cmp = it->second;
      c.threshold = static_cast<int64_t>(*n);
      ++ops;
    }
    if (ops != 1) {
      return InvalidArgument("correlation condition with {} comparisons (cairn takes exactly one)",
                             ops);
    }
    if (c.cmp == Correlation::Cmp::kLt || c.cmp == Correlation::Cmp::kLte) {
      // "fewer than N in the window" needs windows with no events at all to fire; cairn only
      // sees windows that have events.
      return InvalidArgument("correlation condition lt/lte (absence of events)");
    }
  }
  if (c.type == Correlation::Type::kValueCount && c.field.empty())
    return InvalidArgument("value_count correlation without condition.field");
  return c;
}

}  // namespace

void ParseSigmaText(std::string_view text, const std::string& file, LoadedRules* out) {
  std::vector<YAML::Node> docs;
  try {
    docs = YAML::LoadAll(std::string(text));
  } catch (const YAML::Exception& e) {
    out->refused.push_back({file, fmt::format("not YAML: {}", e.what())});
    return;
  }
  int n = 0;
  for (const YAML::Node& doc : docs) {
    ++n;
    if (!doc || doc.IsNull()) continue;
    std::string where = docs.size() > 1 ? fmt::format("{} (document {})", file, n) : file;
    try {
      if (!doc.IsMap()) {
        out->refused.push_back({where, "a document that is not a map"});
        continue;
      }
      if (doc["action"]) {
        out->refused.push_back({where, fmt::format("rule collection action \"{}\" (multi-document "
                                                   "global/repeat rules)",
                                                   Scalar(doc["action"]))});
        continue;
      }
      if (doc["correlation"]) {
        auto c = CompileCorrelation(doc, where);
        if (c.ok()) {
          out->correlations.push_back(std::move(c).value());
        } else {
          out->refused.push_back({where, c.status().message()});
        }
        continue;
      }
      auto r = CompileRule(doc, where);
      if (r.ok()) {
        out->rules.push_back(std::move(r).value());
      } else {
        out->refused.push_back({where, r.status().message()});
      }
    } catch (const YAML::Exception& e) {
      out->refused.push_back({where, fmt::format("unexpected YAML shape: {}", e.what())});
    }
  }
}

void ResolveCorrelations(LoadedRules* loaded) {
  loaded->generates.assign(loaded->rules.size(), true);
  std::vector<Correlation> kept;
  std::vector<bool> referenced(loaded->rules.size(), false), generated(loaded->rules.size(), false);
  for (Correlation& c : loaded->correlations) {
    c.rules.clear();
    std::string missing;
    for (const std::string& ref : c.rule_refs) {
      int found = -1;
      for (size_t i = 0; i < loaded->rules.size(); ++i) {
        if (loaded->rules[i].id == ref ||
            (!loaded->rules[i].name.empty() && loaded->rules[i].name == ref)) {
          found = static_cast<int>(i);
          break;
        }
      }
      if (found < 0) {
        missing = ref;
        break;
      }
      c.rules.push_back(found);
    }
    if (!missing.empty()) {
      loaded->refused.push_back(
          {c.file, fmt::format("correlation names rule \"{}\", which did not load", missing)});
      continue;
    }
    for (int i : c.rules) {
      referenced[i] = true;
      if (c.generate) generated[i] = true;
    }
    kept.push_back(std::move(c));
  }
  loaded->correlations = std::move(kept);
  // As the spec says: a rule a correlation refers to raises no alerts of its own unless one of
  // its correlations says `generate: true`.
  for (size_t i = 0; i < loaded->rules.size(); ++i) {
    loaded->generates[i] = !referenced[i] || generated[i];
  }
}

Result<LoadedRules> LoadRuleDirectory(const std::string& dir) {
  namespace fs = std::filesystem;
  std::error_code ec;
  std::vector<std::string> files;
  if (fs::is_regular_file(dir, ec)) {
    files.push_back(dir);
  } else {
    fs::recursive_directory_iterator it(dir, ec), end;
    if (ec) return NotFound("rules folder {}: {}", dir, ec.message());
    for (; it != end; it.increment(ec)) {
      if (ec) return IOError("rules folder {}: {}", dir, ec.message());
      if (!it->is_regular_file()) continue;
      std::string ext = it->path().extension().string();
      if (ext == ".yml" || ext == ".yaml") files.push_back(it->path().string());
    }
  }
  std::sort(files.begin(), files.end());
  LoadedRules out;
  for (const std::string& f : files) {
    std::ifstream in(f, std::ios::binary);
    if (!in) {
      out.refused.push_back({f, "cannot be read"});
      continue;
    }
    std::stringstream ss;
    ss << in.rdbuf();
    ParseSigmaText(ss.str(), f, &out);
  }
  ResolveCorrelations(&out);
  std::string conf_text, conf_path;
  if (fs::is_directory(dir, ec)) {
    conf_path = (fs::path(dir) / kSuppressConfName).string();
    if (fs::exists(conf_path, ec)) {
      std::ifstream in(conf_path, std::ios::binary);
      if (!in) return IOError("{}: cannot be read", conf_path);
      std::stringstream ss;
      ss << in.rdbuf();
      conf_text = ss.str();
    }
  }
  std::vector<std::string> unknown;
  RETURN_IF_ERROR(ApplySuppression(conf_text, conf_path, &out, &unknown));
  for (const std::string& name : unknown) {
    out.refused.push_back({conf_path, fmt::format("stanza [{}] names no loaded rule", name)});
  }
  return out;
}

}  // namespace cairn::detect
