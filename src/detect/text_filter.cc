#include "detect/text_filter.h"

#include <re2/re2.h>

#include <algorithm>
#include <cctype>

#include "store/encoding.h"

namespace cairn::detect {

namespace {

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) {
    if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  }
  return out;
}

// Pieces that may be written otherwise in JSON text (numbers: 1e3 and 1000) or that no text
// without a backslash can hold (quotes, control bytes) say nothing.
bool Telling(std::string_view piece) {
  if (piece.size() < 3) return false;
  bool numeric = true;
  for (char c : piece) {
    const auto u = static_cast<unsigned char>(c);
    if (u < 0x20 || c == '"' || c == '\\') return false;
    if (!std::isdigit(u) && c != '.' && c != '-' && c != '+' && c != 'e' && c != 'E') {
      numeric = false;
    }
  }
  return !numeric;
}

// How often each byte (either case) occurs in CloudTrail JSON, per mille, as measured over 2,000
// generated events; the bytes not listed are rarer than 1 in 1,000.
int Frequency(char c) {
  if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
  if (c >= '0' && c <= '9') return 15;
  switch (c) {
    case '"': return 97;
    case 'e': return 85;
    case 'a': return 60;
    case 's': return 51;
    case 't': return 48;
    case 'r': return 43;
    case ':':
    case 'n': return 40;
    case 'i': return 36;
    case 'o': return 35;
    case 'c': return 29;
    case 'd': return 27;
    case ',': return 23;
    case '-':
    case 'm':
    case 'u': return 20;
    case 'l': return 19;
    case 'p': return 15;
    case '.': return 14;
    case 'v': return 11;
    case 'g': return 10;
    case 'w':
    case 'b':
    case 'y':
    case 'f': return 9;
    case '/':
    case 'h': return 7;
    case '{':
    case '}':
    case ' ':
    case 'z': return 5;
    case 'k':
    case 'x': return 3;
    case '_':
    case 'q': return 2;
    case 'j': return 1;
    default: return 0;
  }
}

}  // namespace

std::vector<std::string> TextFilter::RegexLiterals(std::string_view pattern) {
  if (pattern.find_first_of("|()[]\\") != std::string_view::npos) return {};
  std::vector<std::string> out;
  std::string run;
  auto flush = [&] {
    if (Telling(run)) out.push_back(Lower(run));
    run.clear();
  };
  for (size_t i = 0; i < pattern.size(); ++i) {
    const char c = pattern[i];
    switch (c) {
      case '*':
      case '?':
        if (!run.empty()) run.pop_back();  // the byte before may be absent
        flush();
        break;
      case '{': {
        if (!run.empty()) run.pop_back();  // {0,n} may leave it out
        flush();
        const size_t close = pattern.find('}', i);
        if (close == std::string_view::npos) return {};
        i = close;
        break;
      }
      case '+':  // the byte before is there at least once; what follows need not be next to it
      case '.':
      case '^':
      case '$': flush(); break;
      case '}': return {};
      default: run.push_back(c);
    }
  }
  flush();
  return out;
}

TextFilter::Node TextFilter::Literal(std::string_view piece) {
  Node n;
  if (!Telling(piece)) return n;
  n.op = Op::kLiteral;
  n.literal = Lower(piece);
  // The search's anchors: the literal's two rarest bytes, so few places are compared in full.
  std::vector<size_t> order(n.literal.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    return Frequency(n.literal[x]) < Frequency(n.literal[y]);
  });
  n.anchor_a = order[0];
  n.anchor_b = order[1];
  return n;
}

void TextFilter::DropLiterals(std::vector<Node>* nodes, bool drop_held) {
  std::vector<Node>& kept = *nodes;
  std::vector<bool> drop(kept.size(), false);
  for (size_t x = 0; x < kept.size(); ++x) {
    for (size_t y = 0; y < kept.size() && !drop[x]; ++y) {
      if (x == y || drop[y] || kept[x].op != Op::kLiteral || kept[y].op != Op::kLiteral) continue;
      const std::string& held = drop_held ? kept[x].literal : kept[y].literal;
      const std::string& holder = drop_held ? kept[y].literal : kept[x].literal;
      drop[x] = kept[x].literal == kept[y].literal ? y < x  // the first of equal literals stays
                                                   : holder.find(held) != std::string::npos;
    }
  }
  std::vector<Node> out;
  for (size_t x = 0; x < kept.size(); ++x) {
    if (!drop[x]) out.push_back(std::move(kept[x]));
  }
  kept = std::move(out);
}

TextFilter::Node TextFilter::All(std::vector<Node> children) {
  std::vector<Node> kept;
  for (Node& c : children) {
    if (c.op == Op::kTrue) continue;
    if (c.op == Op::kAnd) {
      for (Node& g : c.children) kept.push_back(std::move(g));
    } else {
      kept.push_back(std::move(c));
    }
  }
  // A literal another literal of the same `and` holds adds nothing ("role" beside
  // "assumedrole": the longer one's presence implies it).
  DropLiterals(&kept, /*drop_held=*/true);
  if (kept.empty()) return Node{};
  if (kept.size() == 1) return std::move(kept[0]);
  Node n;
  n.op = Op::kAnd;
  n.children = std::move(kept);
  return n;
}

TextFilter::Node TextFilter::Any(std::vector<Node> children) {
  if (children.empty()) return Node{};  // nothing known: say nothing
  std::vector<Node> kept;
  for (Node& c : children) {
    if (c.op == Op::kTrue) return Node{};
    if (c.op == Op::kOr) {
      for (Node& g : c.children) kept.push_back(std::move(g));
    } else {
      kept.push_back(std::move(c));
    }
  }
  // A literal holding another literal of the same `or` adds nothing ("accessdeniedexception"
  // beside "accessdenied").
  DropLiterals(&kept, /*drop_held=*/false);
  if (kept.size() == 1) return std::move(kept[0]);
  Node n;
  n.op = Op::kOr;
  n.children = std::move(kept);
  return n;
}

TextFilter::Node TextFilter::OfMatcher(const ValueMatcher& m) {
  std::vector<Node> pieces;
  switch (m.kind) {
    case ValueMatcher::Kind::kGlob: {
      std::string piece;
      for (size_t i = 0; i <= m.text.size(); ++i) {
        if (i == m.text.size() || (i < m.wild.size() && m.wild[i])) {
          pieces.push_back(Literal(piece));
          piece.clear();
        } else {
          piece.push_back(m.text[i]);
        }
      }
      return All(std::move(pieces));
    }
    case ValueMatcher::Kind::kRegex:
      if (m.regex == nullptr) return Node{};
      for (const std::string& run : RegexLiterals(m.regex->pattern())) {
        pieces.push_back(Literal(run));
      }
      return All(std::move(pieces));
    default: return Node{};
  }
}

TextFilter::Node TextFilter::OfField(const FieldTest& t) {
  std::vector<Node> values;
  for (const auto& alternatives : t.values) {
    std::vector<Node> alts;
    for (const ValueMatcher& m : alternatives) alts.push_back(OfMatcher(m));
    values.push_back(Any(std::move(alts)));
  }
  return t.all ? All(std::move(values)) : Any(std::move(values));
}

TextFilter::Node TextFilter::OfSelection(const Selection& s) {
  std::vector<Node> parts;
  if (!s.keywords.empty()) {
    for (const ValueMatcher& m : s.keywords) parts.push_back(OfMatcher(m));
    return s.keywords_all ? All(std::move(parts)) : Any(std::move(parts));
  }
  for (const auto& map : s.maps) {
    std::vector<Node> fields;
    for (const FieldTest& t : map) fields.push_back(OfField(t));
    parts.push_back(All(std::move(fields)));
  }
  return Any(std::move(parts));
}

TextFilter::Node TextFilter::OfCondition(const Rule& r, const Condition& c) {
  std::vector<Node> parts;
  switch (c.op) {
    case Condition::Op::kSel: return OfSelection(r.selections[c.selections[0]]);
    case Condition::Op::kNot: return Node{};
    case Condition::Op::kAnd:
    case Condition::Op::kOr:
      for (const Condition& ch : c.children) parts.push_back(OfCondition(r, ch));
      return c.op == Condition::Op::kAnd ? All(std::move(parts)) : Any(std::move(parts));
    case Condition::Op::kOf:
      if (c.count == 0) return Node{};
      for (int sel : c.selections) parts.push_back(OfSelection(r.selections[sel]));
      // All of them must hold, or at least one of them.
      return c.count < 0 ? All(std::move(parts)) : Any(std::move(parts));
  }
  return Node{};
}

TextFilter TextFilter::Of(const Rule& rule) {
  TextFilter f;
  f.root_ = OfCondition(rule, rule.condition);
  return f;
}

bool TextFilter::Eval(const Node& n, std::string_view text, const uint64_t* present) {
  switch (n.op) {
    case Op::kTrue: return true;
    case Op::kLiteral:
      if (present != nullptr && n.number >= 0) {
        return (present[n.number / 64] >> (n.number % 64) & 1) != 0;
      }
      return store::FindCaselessAt(text, n.literal, n.anchor_a, n.anchor_b) !=
             std::string_view::npos;
    case Op::kAnd:
      return std::all_of(n.children.begin(), n.children.end(),
                         [&](const Node& c) { return Eval(c, text, present); });
    case Op::kOr:
      return std::any_of(n.children.begin(), n.children.end(),
                         [&](const Node& c) { return Eval(c, text, present); });
  }
  return true;
}

void TextFilter::CollectLiterals(const Node& n, std::vector<std::string>* out) {
  if (n.op == Op::kLiteral) out->push_back(n.literal);
  for (const Node& c : n.children) CollectLiterals(c, out);
}

std::string TextFilter::Text(const Node& n, bool top) {
  switch (n.op) {
    case Op::kTrue: return "always";
    case Op::kLiteral: return "\"" + n.literal + "\"";
    case Op::kAnd:
    case Op::kOr: {
      std::string out = top ? "" : "(";
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i > 0) out += n.op == Op::kAnd ? " and " : " or ";
        out += Text(n.children[i], false);
      }
      return top ? out : out + ")";
    }
  }
  return "always";
}

}  // namespace cairn::detect
