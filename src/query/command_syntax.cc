#include "query/command_syntax.h"

#include <fmt/format.h>

#include <cctype>
#include <set>

#include "query/value.h"
#include "query/vocabulary.h"

namespace cairn::query::internal {
namespace {

Status ParseGeneric(CommandParser& p, Command* c, const GenericArgs& g) {
  bool in_by = false, in_sortby = false;
  while (!p.AtCommandEnd()) {
    Token t = p.Peek();
    RETURN_IF_ERROR(p.CheckQuote());
    if (g.paren_expr && t.Is(Token::kPunct, "(")) {
      ASSIGN_OR_RETURN(c->expr, p.ParseExpression());
      continue;
    }
    if (g.where && t.IsWordCI("where") && !c->text.empty()) {
      p.Take(t);
      ASSIGN_OR_RETURN(c->expr, p.ParseExpression());
      continue;
    }
    ASSIGN_OR_RETURN(bool opt, p.TryOption(&c->options));
    if (opt) continue;
    t = p.Peek();
    if (t.Is(Token::kPunct, ",")) {
      p.Take(t);
      continue;
    }
    if (g.subsearch && t.Is(Token::kPunct, "[")) {
      p.Take(t);
      ASSIGN_OR_RETURN(c->subsearch, p.ParseSubsearch(t.offset));
      continue;
    }
    if (g.by && t.IsWordCI("by")) {
      p.Take(t);
      in_by = true;
      continue;
    }
    if (g.sortby && t.Is(Token::kWord, "sortby")) {
      p.Take(t);
      in_sortby = true;
      continue;
    }
    if (g.as_name && t.IsWordCI("as")) {
      p.Take(t);
      ASSIGN_OR_RETURN(c->text, p.FieldName("a name after 'as'"));
      continue;
    }
    auto unexpected = [&] {
      return SyntaxError(t.offset, fmt::format("unexpected '{}' in {}", t.text, c->name));
    };
    if (t.kind != Token::kWord && t.kind != Token::kString) return unexpected();
    p.Take(t);
    if (in_sortby) {
      SortKey k;
      std::string w = t.text;
      if (!w.empty() && (w[0] == '-' || w[0] == '+')) {
        k.descending = w[0] == '-';
        w = w.substr(1);
      }
      if (w.empty()) {
        ASSIGN_OR_RETURN(w, p.FieldName("a sortby field"));
      }
      k.field = w;
      c->sort_keys.push_back(k);
      continue;
    }
    if (in_by) {
      c->by.push_back(t.text);
      continue;
    }
    bool is_int = t.kind == Token::kWord && !t.text.empty() &&
                  t.text.find_first_not_of("0123456789") == std::string::npos;
    if (g.leading_count && is_int && c->count < 0 && c->fields.empty()) {
      c->count = std::stoll(t.text);
      continue;
    }
    if (g.sign && t.kind == Token::kWord && c->fields.empty() && !c->exclude) {
      if (t.text == "-" || t.text == "+") {
        c->exclude = t.text == "-";
        continue;
      }
      if (t.text.size() > 1 && (t.text[0] == '-' || t.text[0] == '+')) {
        c->exclude = t.text[0] == '-';
        c->fields.push_back(t.text.substr(1));
        continue;
      }
    }
    if (g.quoted_text && t.kind == Token::kString) {
      c->text = t.text;
      continue;
    }
    if (g.name && c->text.empty()) {
      c->text = t.text;
      continue;
    }
    if (g.path && !c->options.count("path")) {
      c->options["path"] = t.text;
      continue;
    }
    if (!g.fields) return unexpected();
    c->fields.push_back(t.text);
  }
  return p.CheckQuote();
}

std::string PrintGeneric(const Command& c, const GenericArgs& g) {
  std::string out = c.name + OptionText(c.options);
  if (g.sign && c.exclude) out += " -";
  if (g.leading_count && c.count > 0) out += " " + std::to_string(c.count);
  if (g.quoted_text) out += " " + Quote(c.text);
  if (g.name) out += " " + FieldText(c.text);
  if (g.where && c.expr) out += " where " + ToString(*c.expr);
  if (!c.fields.empty()) out += " " + JoinFields(c.fields);
  if (g.as_name && !c.text.empty()) out += " as " + FieldText(c.text);
  if (!c.by.empty()) out += " by " + JoinFields(c.by);
  if (!c.sort_keys.empty()) {
    out += " sortby";
    for (size_t i = 0; i < c.sort_keys.size(); ++i) {
      out += (i ? ", " : " ") + std::string(c.sort_keys[i].descending ? "-" : "+") +
             FieldText(c.sort_keys[i].field);
    }
  }
  if (c.subsearch) out += " [" + ToString(*c.subsearch) + "]";
  return out;
}

const std::set<std::string, std::less<>>& StatsFunctions() {
  static const std::set<std::string, std::less<>> k = {
      "count",       "c",    "dc",   "distinct_count", "values", "list",  "min",   "max",
      "avg",         "mean", "sum",  "earliest",       "latest", "first", "last",  "stdev",
      "stdevp",      "var",  "varp", "median",         "range",  "mode",  "sumsq", "earliest_time",
      "latest_time", "estdc"};
  return k;
}

// One aggregation after its function's name `t`.
Result<Aggregation> ParseAggregation(CommandParser& p, const Command& c, const Token& t) {
  Aggregation a;
  std::string fname = Lower(t.text);
  ASSIGN_OR_RETURN(std::optional<std::string> arg, p.TakeParenthesized());
  if (arg) {
    std::string s = *arg;
    while (!s.empty() && std::isspace(static_cast<unsigned char>(s.back()))) s.pop_back();
    size_t b = 0;
    while (b < s.size() && std::isspace(static_cast<unsigned char>(s[b]))) ++b;
    s = s.substr(b);
    if (s.size() >= 2 && (s.front() == '"' || s.front() == '\'') && s.back() == s.front()) {
      s = s.substr(1, s.size() - 2);
    }
    if (fname == "eval") {
      return Unsupported("unsupported function: eval() inside {} at offset {}", c.name, t.offset);
    }
    a.field = s;
  }
  // percentiles: percN, pN, exactpercN, upperpercN, perc_N
  std::string base = fname;
  for (const char* pre : {"exactperc", "upperperc", "perc", "p"}) {
    std::string pfx(pre);
    if (fname.size() > pfx.size() && fname.compare(0, pfx.size(), pfx) == 0) {
      std::string rest = fname.substr(pfx.size());
      if (!rest.empty() && rest[0] == '_') rest = rest.substr(1);
      auto n = ParseNumber(rest);
      if (n && *n >= 0 && *n <= 100) {
        base = "perc";
        a.percentile = *n;
        break;
      }
    }
  }
  if (base != "perc" && !StatsFunctions().count(fname)) {
    return Unsupported("unsupported function: {} at offset {}", t.text, t.offset);
  }
  if (fname == "c") fname = "count";
  if (fname == "distinct_count") fname = "dc";
  if (fname == "mean") fname = "avg";
  a.func = fname;
  if (a.field.empty() && fname != "count" && base != "perc") {
    return SyntaxError(t.offset, fmt::format("{} needs a field: {}(field)", fname, fname));
  }
  Token as = p.Peek();
  if (as.IsWordCI("as")) {
    p.Take(as);
    ASSIGN_OR_RETURN(a.as, p.FieldName("a name after 'as'"));
  }
  return a;
}

Status ParseAggregations(CommandParser& p, Command* c, bool over) {
  bool in_by = false;
  std::string over_field;
  while (!p.AtCommandEnd()) {
    ASSIGN_OR_RETURN(bool skipped, TakeOptionOrComma(p, c));
    if (skipped) continue;
    Token t = p.Peek();
    if (over && !in_by && t.IsWordCI("over")) {
      // chart's "over <row field> [by <series field>]": the row field comes first in `by`.
      p.Take(t);
      if (!over_field.empty()) return SyntaxError(t.offset, "'over' given twice");
      ASSIGN_OR_RETURN(over_field, p.FieldName("a field name after 'over'"));
      continue;
    }
    if (t.IsWordCI("by")) {
      p.Take(t);
      in_by = true;
      continue;
    }
    if (in_by) {
      ASSIGN_OR_RETURN(std::string f, p.FieldName("a field name"));
      c->by.push_back(f);
      continue;
    }
    if (t.kind != Token::kWord) return SyntaxError(t.offset, "expected a stats function");
    p.Take(t);
    ASSIGN_OR_RETURN(Aggregation a, ParseAggregation(p, *c, t));
    c->aggs.push_back(std::move(a));
  }
  if (!over_field.empty()) c->by.insert(c->by.begin(), over_field);
  return p.CheckQuote();
}

std::string PrintAggregations(const Command& c) {
  std::string out = c.name + OptionText(c.options);
  for (size_t i = 0; i < c.aggs.size(); ++i) {
    const Aggregation& a = c.aggs[i];
    out += (i ? ", " : " ") + a.func;
    if (!a.field.empty()) out += "(" + FieldText(a.field) + ")";
    if (!a.as.empty()) out += " as " + FieldText(a.as);
  }
  if (!c.by.empty()) out += " by " + JoinFields(c.by);
  return out;
}

// Runs `parse`, then `check` when given.
std::function<Status(CommandParser&, Command*)> Then(
    std::function<Status(CommandParser&, Command*)> parse, CheckFn check) {
  if (!check) return parse;
  return [parse = std::move(parse), check = std::move(check)](CommandParser& p, Command* c) {
    RETURN_IF_ERROR(parse(p, c));
    return check(c);
  };
}

}  // namespace

CommandSyntax Generic(GenericArgs args, CheckFn check) {
  CommandSyntax s;
  s.parse = Then([args](CommandParser& p, Command* c) { return ParseGeneric(p, c, args); },
                 std::move(check));
  s.print = [args](const Command& c) { return PrintGeneric(c, args); };
  return s;
}

CommandSyntax Aggregations(CheckFn check, bool over) {
  CommandSyntax s;
  s.parse = Then([over](CommandParser& p, Command* c) { return ParseAggregations(p, c, over); },
                 std::move(check));
  s.print = PrintAggregations;
  return s;
}

CommandSyntax Expression() {
  CommandSyntax s;
  s.parse = [](CommandParser& p, Command* c) -> Status {
    ASSIGN_OR_RETURN(c->expr, p.ParseExpression());
    return p.ExpectCommandEnd();
  };
  s.print = [](const Command& c) { return c.name + " " + ToString(*c.expr); };
  return s;
}

CommandSyntax SearchExpression() {
  CommandSyntax s;
  s.parse = [](CommandParser& p, Command* c) -> Status {
    ASSIGN_OR_RETURN(c->search, p.ParseSearch());
    return Status::Ok();
  };
  s.print = [](const Command& c) { return c.name + " " + ToString(*c.search); };
  return s;
}

CommandSyntax WithPrinter(CommandSyntax syntax, std::function<std::string(const Command&)> print) {
  syntax.print = std::move(print);
  return syntax;
}

Result<bool> TakeOptionOrComma(CommandParser& p, Command* c) {
  ASSIGN_OR_RETURN(bool opt, p.TryOption(&c->options));
  if (opt) return true;
  Token t = p.Peek();
  RETURN_IF_ERROR(p.CheckQuote());
  if (!t.Is(Token::kPunct, ",")) return false;
  p.Take(t);
  return true;
}

Status CountOrLimit(Command* c) {
  if (c->count >= 0 || c->expr) return Status::Ok();
  c->count = 10;
  auto it = c->options.find("limit");
  if (it != c->options.end()) {
    auto v = ParseNumber(it->second);
    if (!v) return SyntaxError(c->offset, fmt::format("{} limit must be a number", c->name));
    c->count = static_cast<long long>(*v);
    c->options.erase(it);
  }
  return Status::Ok();
}

std::string OptionText(const std::map<std::string, std::string>& options) {
  std::string out;
  for (const auto& [k, v] : options) out += " " + k + "=" + FieldText(v);
  return out;
}

std::string JoinFields(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t i = 0; i < fields.size(); ++i) {
    if (i) out += ", ";
    out += FieldText(fields[i]);
  }
  return out;
}

}  // namespace cairn::query::internal

namespace cairn::query {

std::vector<std::string> SplStatsFunctionNames() {
  const auto& k = internal::StatsFunctions();
  return {k.begin(), k.end()};
}

}  // namespace cairn::query
