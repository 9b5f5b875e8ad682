#include "query/parser.h"

#include <cctype>
#include <set>

#include "query/command_registry.h"
#include "query/parser_internal.h"
#include "query/value.h"
#include "query/vocabulary.h"

namespace cairn::query {

namespace internal {

bool Token::IsWordCI(std::string_view t) const {
  if (kind != kWord || text.size() != t.size()) return false;
  for (size_t i = 0; i < t.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(text[i])) != t[i]) return false;
  }
  return true;
}

Status SyntaxError(size_t offset, std::string_view message) {
  return InvalidArgument("at offset {}: {}", offset, message);
}

}  // namespace internal

namespace {

using internal::Token;

const std::set<std::string, std::less<>>& EvalFunctions() {
  static const std::set<std::string, std::less<>> k = {
      "if",        "case",          "coalesce",  "isnull",
      "isnotnull", "isnum",         "isstr",     "isint",
      "like",      "match",         "cidrmatch", "len",
      "lower",     "upper",         "substr",    "replace",
      "split",     "trim",          "ltrim",     "rtrim",
      "mvindex",   "mvcount",       "mvappend",  "mvjoin",
      "mvfilter",  "mvdedup",       "mvsort",    "mvfind",
      "mvzip",     "tostring",      "tonumber",  "round",
      "floor",     "ceil",          "ceiling",   "abs",
      "sqrt",      "pow",           "log",       "ln",
      "exp",       "min",           "max",       "now",
      "time",      "relative_time", "strftime",  "strptime",
      "urldecode", "null",          "true",      "false",
      "typeof",    "nullif",        "random",    "pi",
      "exact",     "mvrange",       "isbool",    "in"};
  return k;
}

bool IsWordChar(char c) {
  return !(std::isspace(static_cast<unsigned char>(c)) || c == '(' || c == ')' || c == '|' ||
           c == '[' || c == ']' || c == ',' || c == '"' || c == '=' || c == '<' || c == '>');
}

// The SPL parser: the pipeline's grammar, the implicit search, eval expressions, and the cursor
// that commands' syntaxes read their arguments with (each command's from its registry entry).
class Parser final : public internal::CommandParser {
 public:
  explicit Parser(std::string_view text) : s_(text) {}

  Result<Pipeline> ParseTop() {
    auto p = ParsePipeline(false);
    if (!p.ok()) return p.status();
    SkipSpace();
    if (pos_ < s_.size()) return Err(pos_, "unexpected '{}'", s_.substr(pos_, 1));
    return p;
  }

  Result<ExprPtr> ParseExprTop() {
    auto e = ParseOr();
    if (!e.ok()) return e.status();
    SkipSpace();
    if (pos_ < s_.size()) return Err(pos_, "unexpected '{}' in expression", s_.substr(pos_, 1));
    return e;
  }

 private:
  template <typename... Args>
  Status Err(size_t offset, fmt::format_string<Args...> f, Args&&... args) {
    return InvalidArgument("at offset {}: {}", offset, fmt::format(f, std::forward<Args>(args)...));
  }

  void SkipSpace() {
    while (pos_ < s_.size() && std::isspace(static_cast<unsigned char>(s_[pos_]))) ++pos_;
  }

  // ---- search-mode tokens ----
  Token PeekSearch() {
    SkipSpace();
    Token t;
    t.offset = pos_;
    if (pos_ >= s_.size()) {
      t.end = pos_;
      return t;
    }
    char c = s_[pos_];
    if (c == '(' || c == ')' || c == '|' || c == '[' || c == ']' || c == ',') {
      t.kind = Token::kPunct;
      t.text = std::string(1, c);
      t.end = pos_ + 1;
      return t;
    }
    if (c == '"') {
      t.kind = Token::kString;
      size_t i = pos_ + 1;
      while (i < s_.size() && s_[i] != '"') {
        if (s_[i] == '\\' && i + 1 < s_.size()) {
          char n = s_[i + 1];
          if (n == '"' || n == '\\') {
            t.text += n;
            i += 2;
            continue;
          }
        }
        t.text += s_[i++];
      }
      if (i >= s_.size()) {
        t.kind = Token::kEnd;
        t.text = "unterminated";
        t.end = s_.size();
        bad_quote_ = pos_;
        return t;
      }
      t.end = i + 1;
      return t;
    }
    if (c == '=' || c == '<' || c == '>' ||
        (c == '!' && pos_ + 1 < s_.size() && s_[pos_ + 1] == '=')) {
      t.kind = Token::kOp;
      if (pos_ + 1 < s_.size() && s_[pos_ + 1] == '=') {
        t.text = s_.substr(pos_, 2);
        t.end = pos_ + 2;
      } else {
        t.text = std::string(1, c);
        t.end = pos_ + 1;
      }
      return t;
    }
    size_t i = pos_;
    while (i < s_.size() && IsWordChar(s_[i])) {
      if (s_[i] == '!' && i + 1 < s_.size() && s_[i + 1] == '=') break;
      ++i;
    }
    t.kind = Token::kWord;
    t.text = s_.substr(pos_, i - pos_);
    t.end = i;
    return t;
  }
  void Take(const Token& t) override { pos_ = t.end; }

  Status CheckQuote() override {
    if (bad_quote_ != std::string::npos) return Err(bad_quote_, "unterminated quoted string");
    return Status::Ok();
  }

  bool AtCommandEnd() override {
    Token t = PeekSearch();
    return t.kind == Token::kEnd || t.Is(Token::kPunct, "|") || t.Is(Token::kPunct, "]");
  }

  // ---- pipeline ----
  Result<Pipeline> ParsePipeline(bool subsearch) {
    Pipeline p;
    Token t = PeekSearch();
    RETURN_IF_ERROR(CheckQuote());
    bool first = true;
    if (t.Is(Token::kPunct, "|")) {
      Take(t);
    } else {
      // Implicit search command; a leading "search" word is its name.
      if (t.kind == Token::kWord && Lower(t.text) == "search") {
        Take(t);
        t = PeekSearch();
      }
      Command c;
      c.name = "search";
      c.offset = t.offset;
      ASSIGN_OR_RETURN(c.search, ParseSearchExpr());
      p.commands.push_back(std::move(c));
      first = false;
    }
    while (true) {
      if (!first) {
        Token sep = PeekSearch();
        RETURN_IF_ERROR(CheckQuote());
        if (sep.kind == Token::kEnd) break;
        if (sep.Is(Token::kPunct, "]")) {
          if (subsearch) break;
          return Err(sep.offset, "unexpected ']'");
        }
        if (!sep.Is(Token::kPunct, "|"))
          return Err(sep.offset, "expected '|', found '{}'", sep.text);
        Take(sep);
      }
      first = false;
      ASSIGN_OR_RETURN(Command c, ParseCommand());
      p.commands.push_back(std::move(c));
    }
    return p;
  }

  Result<Command> ParseCommand() {
    Token t = PeekSearch();
    if (t.kind != Token::kWord) return Err(t.offset, "expected a command name after '|'");
    Take(t);
    std::string name = Lower(t.text);
    Command c;
    c.offset = t.offset;
    c.name = name;
    static const std::set<std::string> kOutside = {"tstats", "datamodel", "iplocation", "geostats",
                                                   "from",   "pivot",     "mstats",     "geom"};
    if (kOutside.count(name)) {
      return Unsupported(
          "unsupported: {} at offset {} (needs Splunk data models or lookups that "
          "cairn does not have)",
          name, t.offset);
    }
    const internal::CommandInfo* info = internal::CommandRegistry::Get().Find(name);
    if (!info) return Unsupported("unsupported command: {} at offset {}", name, t.offset);
    c.name = info->name;
    RETURN_IF_ERROR(info->syntax.parse(*this, &c));
    return c;
  }

  // ---- the cursor commands read their arguments with ----
  Token Peek() override { return PeekSearch(); }
  Result<SearchPtr> ParseSearch() override { return ParseSearchExpr(); }
  Result<ExprPtr> ParseExpression() override { return ParseOr(); }

  Result<std::shared_ptr<Pipeline>> ParseSubsearch(size_t open) override {
    ASSIGN_OR_RETURN(Pipeline sub, ParsePipeline(true));
    Token close = PeekSearch();
    if (!close.Is(Token::kPunct, "]")) return Err(open, "unbalanced '[': no matching ']'");
    Take(close);
    return std::make_shared<Pipeline>(std::move(sub));
  }

  Result<std::optional<std::string>> TakeParenthesized() override {
    if (pos_ >= s_.size() || s_[pos_] != '(') return std::optional<std::string>();
    size_t close = s_.find(')', pos_);
    if (close == std::string::npos) return Err(pos_, "unbalanced '(': no matching ')'");
    std::string inner(s_.substr(pos_ + 1, close - pos_ - 1));
    pos_ = close + 1;
    return std::optional<std::string>(std::move(inner));
  }

  Status ExpectCommandEnd() override {
    if (!AtCommandEnd()) {
      Token t = PeekSearch();
      RETURN_IF_ERROR(CheckQuote());
      return Err(t.offset, "unexpected '{}'", t.text);
    }
    return CheckQuote();
  }

  // ---- implicit search ----
  Result<SearchPtr> ParseSearchExpr() {
    auto n = ParseSearchAnd();
    if (!n.ok()) return n.status();
    RETURN_IF_ERROR(CheckQuote());
    Token t = PeekSearch();
    if (t.Is(Token::kPunct, ")")) return Err(t.offset, "unbalanced ')'");
    return n;
  }

  Result<SearchPtr> ParseSearchAnd() {
    std::vector<SearchPtr> kids;
    size_t start = PeekSearch().offset;
    while (true) {
      Token t = PeekSearch();
      RETURN_IF_ERROR(CheckQuote());
      if (t.kind == Token::kEnd || t.Is(Token::kPunct, "|") || t.Is(Token::kPunct, "]") ||
          t.Is(Token::kPunct, ")")) {
        break;
      }
      if (t.Is(Token::kWord, "AND") || t.Is(Token::kPunct, ",")) {
        Take(t);
        continue;
      }
      ASSIGN_OR_RETURN(SearchPtr k, ParseSearchOr());
      kids.push_back(std::move(k));
    }
    if (kids.size() == 1) return std::move(kids[0]);
    auto n = std::make_unique<SearchNode>();
    n->offset = start;
    if (kids.empty()) {
      n->kind = SearchNode::Kind::kTrue;
      return n;
    }
    n->kind = SearchNode::Kind::kAnd;
    n->children = std::move(kids);
    return n;
  }

  Result<SearchPtr> ParseSearchOr() {
    ASSIGN_OR_RETURN(SearchPtr left, ParseSearchNot());
    Token t = PeekSearch();
    if (!t.Is(Token::kWord, "OR")) return left;
    auto n = std::make_unique<SearchNode>();
    n->kind = SearchNode::Kind::kOr;
    n->offset = left->offset;
    n->children.push_back(std::move(left));
    while (true) {
      t = PeekSearch();
      if (!t.Is(Token::kWord, "OR")) break;
      Take(t);
      ASSIGN_OR_RETURN(SearchPtr r, ParseSearchNot());
      n->children.push_back(std::move(r));
    }
    return n;
  }

  Result<SearchPtr> ParseSearchNot() {
    Token t = PeekSearch();
    if (t.Is(Token::kWord, "NOT")) {
      Take(t);
      auto n = std::make_unique<SearchNode>();
      n->kind = SearchNode::Kind::kNot;
      n->offset = t.offset;
      ASSIGN_OR_RETURN(SearchPtr c, ParseSearchNot());
      n->children.push_back(std::move(c));
      return n;
    }
    return ParseSearchPrimary();
  }

  Result<SearchPtr> ParseSearchPrimary() {
    Token t = PeekSearch();
    RETURN_IF_ERROR(CheckQuote());
    if (t.Is(Token::kPunct, "(")) {
      Take(t);
      ASSIGN_OR_RETURN(SearchPtr inner, ParseSearchAnd());
      Token close = PeekSearch();
      if (!close.Is(Token::kPunct, ")")) return Err(t.offset, "unbalanced '(': no matching ')'");
      Take(close);
      return inner;
    }
    if (t.Is(Token::kPunct, "[")) {
      Take(t);
      auto n = std::make_unique<SearchNode>();
      n->kind = SearchNode::Kind::kSubsearch;
      n->offset = t.offset;
      ASSIGN_OR_RETURN(n->subsearch, ParseSubsearch(t.offset));
      return n;
    }
    if (t.kind == Token::kOp) return Err(t.offset, "'{}' needs a field name before it", t.text);
    if (t.kind != Token::kWord && t.kind != Token::kString) {
      return Err(t.offset, "unexpected '{}'", t.text);
    }
    Take(t);
    if (t.kind == Token::kWord && t.text.find('`') != std::string::npos) {
      return Err(t.offset, "macro not expanded: {}", t.text);
    }
    auto n = std::make_unique<SearchNode>();
    n->offset = t.offset;
    Token op = PeekSearch();
    if (op.kind == Token::kOp) {
      if (op.text == "==") return Err(op.offset, "'==' is not a search operator; use '='");
      Take(op);
      Token v = PeekSearch();
      RETURN_IF_ERROR(CheckQuote());
      if (v.kind != Token::kWord && v.kind != Token::kString) {
        return Err(op.offset, "expected a value after '{}{}'", t.text, op.text);
      }
      Take(v);
      n->kind = SearchNode::Kind::kCompare;
      n->field = t.text;
      n->op = op.text;
      n->value = v.text;
      return n;
    }
    if ((op.Is(Token::kWord, "IN") || op.Is(Token::kWord, "in")) && t.kind == Token::kWord) {
      size_t save = pos_;
      Take(op);
      Token open = PeekSearch();
      if (open.Is(Token::kPunct, "(")) {
        Take(open);
        n->kind = SearchNode::Kind::kIn;
        n->field = t.text;
        while (true) {
          Token v = PeekSearch();
          RETURN_IF_ERROR(CheckQuote());
          if (v.Is(Token::kPunct, ")")) {
            Take(v);
            break;
          }
          if (v.Is(Token::kPunct, ",")) {
            Take(v);
            continue;
          }
          if (v.kind != Token::kWord && v.kind != Token::kString) {
            return Err(open.offset, "unterminated IN list");
          }
          Take(v);
          n->values.push_back(v.text);
        }
        return n;
      }
      pos_ = save;
    }
    n->kind = SearchNode::Kind::kTerm;
    n->value = t.text;
    n->quoted = t.kind == Token::kString;
    return n;
  }

  // ---- eval expressions ----
  Token PeekEval() override {
    SkipSpace();
    Token t;
    t.offset = pos_;
    if (pos_ >= s_.size()) {
      t.end = pos_;
      return t;
    }
    char c = s_[pos_];
    if (c == '"' || c == '\'') {
      t.kind = c == '"' ? Token::kString : Token::kField;
      size_t i = pos_ + 1;
      while (i < s_.size() && s_[i] != c) {
        if (s_[i] == '\\' && i + 1 < s_.size()) {
          char n = s_[i + 1];
          if (n == c || n == '\\') {
            t.text += n;
            i += 2;
            continue;
          }
          if (c == '"' && n == 'n') {
            t.text += '\n';
            i += 2;
            continue;
          }
          if (c == '"' && n == 't') {
            t.text += '\t';
            i += 2;
            continue;
          }
        }
        t.text += s_[i++];
      }
      if (i >= s_.size()) {
        bad_quote_ = pos_;
        t.kind = Token::kEnd;
        t.end = s_.size();
        return t;
      }
      t.end = i + 1;
      return t;
    }
    if (std::isdigit(static_cast<unsigned char>(c)) ||
        (c == '.' && pos_ + 1 < s_.size() &&
         std::isdigit(static_cast<unsigned char>(s_[pos_ + 1])))) {
      size_t i = pos_;
      bool dot = false;
      while (i < s_.size() &&
             (std::isdigit(static_cast<unsigned char>(s_[i])) || (s_[i] == '.' && !dot))) {
        if (s_[i] == '.') dot = true;
        ++i;
      }
      if (i < s_.size() && (s_[i] == 'e' || s_[i] == 'E')) {
        size_t j = i + 1;
        if (j < s_.size() && (s_[j] == '+' || s_[j] == '-')) ++j;
        if (j < s_.size() && std::isdigit(static_cast<unsigned char>(s_[j]))) {
          i = j;
          while (i < s_.size() && std::isdigit(static_cast<unsigned char>(s_[i]))) ++i;
        }
      }
      t.kind = Token::kNumber;
      t.text = s_.substr(pos_, i - pos_);
      t.end = i;
      return t;
    }
    if (std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == '@') {
      size_t i = pos_;
      while (i < s_.size()) {
        char d = s_[i];
        if (std::isalnum(static_cast<unsigned char>(d)) || d == '_' || d == '@') {
          ++i;
        } else if (d == '{' && i + 1 < s_.size() && s_[i + 1] == '}') {
          i += 2;
        } else if (d == '.' && i + 1 < s_.size() &&
                   (std::isalnum(static_cast<unsigned char>(s_[i + 1])) || s_[i + 1] == '_')) {
          ++i;
        } else {
          break;
        }
      }
      t.kind = Token::kWord;
      t.text = s_.substr(pos_, i - pos_);
      t.end = i;
      return t;
    }
    static const char* kOps[] = {"==", "!=", "<=", ">=", "=", "<", ">", "+",
                                 "-",  "*",  "/",  "%",  ".", "(", ")", ","};
    for (const char* op : kOps) {
      size_t n = std::char_traits<char>::length(op);
      if (s_.substr(pos_, n) == op) {
        t.kind = Token::kOp;
        t.text = op;
        t.end = pos_ + n;
        return t;
      }
    }
    t.kind = Token::kOp;
    t.text = std::string(1, c);
    t.end = pos_ + 1;
    return t;
  }

  ExprPtr MakeBinary(std::string op, ExprPtr a, ExprPtr b, size_t offset) {
    auto e = std::make_unique<Expr>();
    e->kind = Expr::Kind::kBinary;
    e->text = std::move(op);
    e->offset = offset;
    e->args.push_back(std::move(a));
    e->args.push_back(std::move(b));
    return e;
  }

  Result<ExprPtr> ParseOr() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseAndExpr());
    while (true) {
      Token t = PeekEval();
      if (!(t.IsWordCI("or") || t.IsWordCI("xor"))) break;
      Take(t);
      ASSIGN_OR_RETURN(ExprPtr right, ParseAndExpr());
      std::string op = t.IsWordCI("or") ? "OR" : "XOR";
      left = MakeBinary(op, std::move(left), std::move(right), t.offset);
    }
    return left;
  }

  Result<ExprPtr> ParseAndExpr() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseNotExpr());
    while (true) {
      Token t = PeekEval();
      if (!t.IsWordCI("and")) break;
      Take(t);
      ASSIGN_OR_RETURN(ExprPtr right, ParseNotExpr());
      left = MakeBinary("AND", std::move(left), std::move(right), t.offset);
    }
    return left;
  }

  Result<ExprPtr> ParseNotExpr() {
    Token t = PeekEval();
    if (t.IsWordCI("not")) {
      Take(t);
      ASSIGN_OR_RETURN(ExprPtr inner, ParseNotExpr());
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kUnary;
      e->text = "NOT";
      e->offset = t.offset;
      e->args.push_back(std::move(inner));
      return e;
    }
    return ParseCompare();
  }

  Result<ExprPtr> ParseCompare() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseAdd());
    Token t = PeekEval();
    if (t.kind == Token::kOp &&
        (t.text == "=" || t.text == "==" || t.text == "!=" || t.text == "<" || t.text == "<=" ||
         t.text == ">" || t.text == ">=")) {
      Take(t);
      ASSIGN_OR_RETURN(ExprPtr right, ParseAdd());
      return MakeBinary(t.text == "==" ? "=" : t.text, std::move(left), std::move(right), t.offset);
    }
    if (t.IsWordCI("like")) {
      Take(t);
      ASSIGN_OR_RETURN(ExprPtr right, ParseAdd());
      return MakeBinary("LIKE", std::move(left), std::move(right), t.offset);
    }
    if (t.IsWordCI("in")) {
      // x IN ("a", "b") inside eval/where.
      Take(t);
      Token open = PeekEval();
      if (!open.Is(Token::kOp, "(")) return Err(open.offset, "expected '(' after IN");
      Take(open);
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kCall;
      e->text = "in";
      e->offset = t.offset;
      e->args.push_back(std::move(left));
      ASSIGN_OR_RETURN(auto args, ParseArgs(open.offset));
      for (auto& a : args) e->args.push_back(std::move(a));
      return e;
    }
    return left;
  }

  Result<ExprPtr> ParseAdd() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseMul());
    while (true) {
      Token t = PeekEval();
      if (!(t.Is(Token::kOp, "+") || t.Is(Token::kOp, "-") || t.Is(Token::kOp, "."))) break;
      Take(t);
      ASSIGN_OR_RETURN(ExprPtr right, ParseMul());
      left = MakeBinary(t.text, std::move(left), std::move(right), t.offset);
    }
    return left;
  }

  Result<ExprPtr> ParseMul() {
    ASSIGN_OR_RETURN(ExprPtr left, ParseUnary());
    while (true) {
      Token t = PeekEval();
      if (!(t.Is(Token::kOp, "*") || t.Is(Token::kOp, "/") || t.Is(Token::kOp, "%"))) break;
      Take(t);
      ASSIGN_OR_RETURN(ExprPtr right, ParseUnary());
      left = MakeBinary(t.text, std::move(left), std::move(right), t.offset);
    }
    return left;
  }

  Result<ExprPtr> ParseUnary() {
    Token t = PeekEval();
    if (t.Is(Token::kOp, "-") || t.Is(Token::kOp, "+")) {
      Take(t);
      ASSIGN_OR_RETURN(ExprPtr inner, ParseUnary());
      if (t.text == "+") return inner;
      if (inner->kind == Expr::Kind::kNumber) {
        inner->number = -inner->number;
        inner->text = "-" + inner->text;
        return inner;
      }
      auto e = std::make_unique<Expr>();
      e->kind = Expr::Kind::kUnary;
      e->text = "-";
      e->offset = t.offset;
      e->args.push_back(std::move(inner));
      return e;
    }
    return ParsePrimary();
  }

  Result<std::vector<ExprPtr>> ParseArgs(size_t open_offset) {
    std::vector<ExprPtr> args;
    Token t = PeekEval();
    if (t.Is(Token::kOp, ")")) {
      Take(t);
      return args;
    }
    while (true) {
      ASSIGN_OR_RETURN(ExprPtr a, ParseOr());
      args.push_back(std::move(a));
      t = PeekEval();
      if (t.Is(Token::kOp, ",")) {
        Take(t);
        continue;
      }
      if (t.Is(Token::kOp, ")")) {
        Take(t);
        return args;
      }
      return Err(open_offset, "unbalanced '(': expected ',' or ')' at offset {}", t.offset);
    }
  }

  Result<ExprPtr> ParsePrimary() {
    Token t = PeekEval();
    RETURN_IF_ERROR(CheckQuote());
    auto e = std::make_unique<Expr>();
    e->offset = t.offset;
    switch (t.kind) {
      case Token::kNumber: {
        Take(t);
        auto n = ParseNumber(t.text);
        if (!n) return Err(t.offset, "bad number '{}'", t.text);
        e->kind = Expr::Kind::kNumber;
        e->number = *n;
        e->text = t.text;
        return e;
      }
      case Token::kString:
        Take(t);
        e->kind = Expr::Kind::kString;
        e->text = t.text;
        return e;
      case Token::kField:
        Take(t);
        e->kind = Expr::Kind::kField;
        e->text = t.text;
        return e;
      case Token::kWord: {
        Take(t);
        Token open = PeekEval();
        if (open.Is(Token::kOp, "(") && open.offset == t.end) {
          Take(open);
          std::string fname = Lower(t.text);
          if (!IsKnownEvalFunction(fname)) {
            return Unsupported("unsupported function: {} at offset {}", t.text, t.offset);
          }
          e->kind = Expr::Kind::kCall;
          e->text = fname;
          ASSIGN_OR_RETURN(e->args, ParseArgs(open.offset));
          return e;
        }
        e->kind = Expr::Kind::kField;
        e->text = t.text;
        return e;
      }
      case Token::kOp:
        if (t.text == "(") {
          Take(t);
          ASSIGN_OR_RETURN(ExprPtr inner, ParseOr());
          Token close = PeekEval();
          if (!close.Is(Token::kOp, ")")) return Err(t.offset, "unbalanced '(': no matching ')'");
          Take(close);
          return inner;
        }
        return Err(t.offset, "unexpected '{}' in expression", t.text);
      default: break;
    }
    return Err(t.offset, "expression expected");
  }

  // Reads a field name token (word or quoted string) in search mode.
  Result<std::string> FieldName(const char* what) override {
    Token t = PeekSearch();
    RETURN_IF_ERROR(CheckQuote());
    if (t.kind != Token::kWord && t.kind != Token::kString) {
      return Err(t.offset, "expected {}", what);
    }
    Take(t);
    return t.text;
  }

  // Tries `key=value`; returns true and fills when present.
  Result<bool> TryOption(std::map<std::string, std::string>* options) override {
    size_t save = pos_;
    Token k = PeekSearch();
    if (k.kind != Token::kWord) return false;
    Take(k);
    Token eq = PeekSearch();
    if (!eq.Is(Token::kOp, "=") || eq.offset != k.end) {
      pos_ = save;
      return false;
    }
    Take(eq);
    Token v = PeekSearch();
    RETURN_IF_ERROR(CheckQuote());
    if (v.kind != Token::kWord && v.kind != Token::kString) {
      return Err(eq.offset, "expected a value for option '{}'", k.text);
    }
    Take(v);
    (*options)[Lower(k.text)] = v.text;
    return true;
  }

  std::string_view s_;
  size_t pos_ = 0;
  size_t bad_quote_ = std::string::npos;
};

}  // namespace

bool IsKnownEvalFunction(std::string_view name) { return EvalFunctions().count(name) > 0; }

std::vector<std::string> SplEvalFunctionNames() {
  return {EvalFunctions().begin(), EvalFunctions().end()};
}

Result<Pipeline> ParseSpl(std::string_view text) {
  Parser p(text);
  return p.ParseTop();
}

Result<ExprPtr> ParseEvalExpression(std::string_view text) {
  Parser p(text);
  return p.ParseExprTop();
}

}  // namespace cairn::query
