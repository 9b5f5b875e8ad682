#include "query/ast.h"

#include <fmt/format.h>

#include "query/command_registry.h"
#include "query/command_syntax.h"

namespace cairn::query {
namespace {

bool IsIdentStart(char c) { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_'; }
bool IsIdentChar(char c) { return IsIdentStart(c) || (c >= '0' && c <= '9'); }

// Bare in eval when it is word(.word)*, the shape the eval lexer reads back as one field name.
bool BareEvalField(const std::string& s) {
  if (s.empty() || !IsIdentStart(s[0])) return false;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '.') {
      if (i + 1 >= s.size() || !IsIdentChar(s[i + 1])) return false;
      continue;
    }
    if (!IsIdentChar(c)) return false;
  }
  return true;
}

bool SafeSearchWord(const std::string& s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (!(IsIdentChar(c) || c == '.' || c == '{' || c == '}' || c == '@' || c == ':' || c == '-' ||
          c == '*' || c == '/')) {
      return false;
    }
  }
  static const char* kReserved[] = {"AND", "OR", "NOT", "IN", "as", "AS", "by", "BY"};
  for (const char* r : kReserved) {
    if (s == r) return false;
  }
  return true;
}

}  // namespace

std::string Quote(const std::string& s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\') out += '\\';
    out += c;
  }
  out += '"';
  return out;
}

std::string FieldText(const std::string& name) { return SafeSearchWord(name) ? name : Quote(name); }

std::string Aggregation::OutputName() const {
  if (!as.empty()) return as;
  if (field.empty()) return func;
  return func + "(" + field + ")";
}

std::string ToString(const Expr& e) {
  switch (e.kind) {
    case Expr::Kind::kNumber: return e.text;
    case Expr::Kind::kString: return Quote(e.text);
    case Expr::Kind::kField: {
      if (BareEvalField(e.text)) return e.text;
      std::string out = "'";
      for (char c : e.text) {
        if (c == '\'' || c == '\\') out += '\\';
        out += c;
      }
      return out + "'";
    }
    case Expr::Kind::kCall: {
      std::string out = e.text + "(";
      for (size_t i = 0; i < e.args.size(); ++i) {
        if (i) out += ", ";
        out += ToString(*e.args[i]);
      }
      return out + ")";
    }
    case Expr::Kind::kUnary:
      if (e.text == "NOT") return "NOT " + ToString(*e.args[0]);
      return e.text + ToString(*e.args[0]);
    case Expr::Kind::kBinary:
      return "(" + ToString(*e.args[0]) + " " + e.text + " " + ToString(*e.args[1]) + ")";
  }
  return "";
}

std::string ToString(const SearchNode& n) {
  switch (n.kind) {
    case SearchNode::Kind::kTrue: return "*";
    case SearchNode::Kind::kFalse: return "NOT *";
    case SearchNode::Kind::kAnd: {
      std::string out;
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i) out += " AND ";
        const auto& c = *n.children[i];
        out += ToString(c);
      }
      return out;
    }
    case SearchNode::Kind::kOr: {
      std::string out = "(";
      for (size_t i = 0; i < n.children.size(); ++i) {
        if (i) out += " OR ";
        const auto& c = *n.children[i];
        if (c.kind == SearchNode::Kind::kAnd) {
          out += "(" + ToString(c) + ")";
        } else {
          out += ToString(c);
        }
      }
      return out + ")";
    }
    case SearchNode::Kind::kNot: {
      const auto& c = *n.children[0];
      if (c.kind == SearchNode::Kind::kAnd) return "NOT (" + ToString(c) + ")";
      return "NOT " + ToString(c);
    }
    case SearchNode::Kind::kTerm:
      return n.quoted || !SafeSearchWord(n.value) ? Quote(n.value) : n.value;
    case SearchNode::Kind::kCompare: return FieldText(n.field) + n.op + Quote(n.value);
    case SearchNode::Kind::kIn: {
      std::string out = FieldText(n.field) + " IN (";
      for (size_t i = 0; i < n.values.size(); ++i) {
        if (i) out += ", ";
        out += Quote(n.values[i]);
      }
      return out + ")";
    }
    case SearchNode::Kind::kSubsearch: return "[" + ToString(*n.subsearch) + "]";
  }
  return "";
}

SearchPtr CloneSearchNode(const SearchNode& n) {
  auto out = std::make_unique<SearchNode>();
  out->kind = n.kind;
  out->field = n.field;
  out->op = n.op;
  out->value = n.value;
  out->quoted = n.quoted;
  out->values = n.values;
  out->subsearch = n.subsearch;
  out->offset = n.offset;
  return out;
}

SearchPtr CloneSearch(const SearchNode& n) {
  SearchPtr out = CloneSearchNode(n);
  for (const auto& c : n.children) out->children.push_back(CloneSearch(*c));
  return out;
}

std::string ToString(const Command& c) {
  const internal::CommandInfo* info = internal::CommandRegistry::Get().Find(c.name);
  if (info && info->syntax.print) return info->syntax.print(c);
  return c.name + internal::OptionText(c.options);
}

std::string ToString(const Pipeline& p) {
  std::string out;
  if (!p.commands.empty() && p.commands[0].name != "search") out = "| ";
  for (size_t i = 0; i < p.commands.size(); ++i) {
    if (i) out += " | ";
    out += ToString(p.commands[i]);
  }
  return out;
}

}  // namespace cairn::query
