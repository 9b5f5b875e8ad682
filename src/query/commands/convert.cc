// convert [timeformat=F] fn(field) [as name], ...: rewrites each value of a field (into `name`
// when given): ctime (epoch to text in F, default %m/%d/%Y %H:%M:%S), mktime (text in F to
// epoch), dur2sec ([D+]HH:MM:SS to seconds), num and auto (numbers; auto keeps the others),
// rmcomma, rmunit (the leading number), mstime (MM:SS.SSS to seconds); none and memk keep the
// value. Streaming.

#include <cstdio>
#include <set>

#include "query/command_support.h"
#include "query/time_format.h"

namespace cairn::query::internal {
namespace {

// One conversion: `fn` applied to `field`'s values, set as `target`.
struct Conversion {
  std::string fn, field, target;
};

// The converted values of `s` (none when `fn` cannot convert it).
void Convert(const std::string& fn, const std::string& tf, const std::string& s, Values* out) {
  if (fn == "ctime") {
    auto n = ParseNumber(s);
    out->push_back(n ? Strftime(*n, tf) : s);
  } else if (fn == "mktime") {
    if (auto t = Strptime(s, tf)) out->push_back(FormatNumber(*t));
  } else if (fn == "dur2sec") {
    int d = 0, h = 0, m = 0, sec = 0;
    if (std::sscanf(s.c_str(), "%d+%d:%d:%d", &d, &h, &m, &sec) == 4) {
      out->push_back(std::to_string(d * 86400 + h * 3600 + m * 60 + sec));
    } else if (std::sscanf(s.c_str(), "%d:%d:%d", &h, &m, &sec) == 3) {
      out->push_back(std::to_string(h * 3600 + m * 60 + sec));
    }
  } else if (fn == "num" || fn == "auto") {
    if (auto n = ParseNumber(s)) {
      out->push_back(FormatNumber(*n));
    } else if (fn == "auto") {
      out->push_back(s);
    }
  } else if (fn == "rmcomma") {
    std::string t;
    for (char ch : s) {
      if (ch != ',') t += ch;
    }
    out->push_back(t);
  } else if (fn == "rmunit") {
    size_t i = 0;
    while (i < s.size() &&
           (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.' || s[i] == '-')) {
      ++i;
    }
    if (i) out->push_back(s.substr(0, i));
  } else if (fn == "mstime") {
    int m = 0;
    double sec = 0;
    if (std::sscanf(s.c_str(), "%d:%lf", &m, &sec) == 2) {
      out->push_back(FormatNumber(m * 60 + sec));
    } else if (auto n = ParseNumber(s)) {
      out->push_back(FormatNumber(*n));
    }
  } else {
    out->push_back(s);
  }
}

// [options] fn(field) [as name], ...; the conversion is kept as a Rename from "fn(field)".
Status Parse(CommandParser& p, Command* c) {
  static const std::set<std::string> kFunctions = {"ctime", "mktime", "dur2sec", "num",  "auto",
                                                   "none",  "rmunit", "rmcomma", "memk", "mstime"};
  while (!p.AtCommandEnd()) {
    ASSIGN_OR_RETURN(bool skipped, TakeOptionOrComma(p, c));
    if (skipped) continue;
    Token t = p.Peek();
    if (t.kind != Token::kWord) return SyntaxError(t.offset, "convert expects function(field)");
    p.Take(t);
    std::string fn = Lower(t.text);
    ASSIGN_OR_RETURN(std::optional<std::string> field, p.TakeParenthesized());
    if (!field) return SyntaxError(t.offset, "convert expects function(field)");
    if (!kFunctions.count(fn)) {
      return Unsupported("unsupported function: {} at offset {}", fn, t.offset);
    }
    Rename r{fn + "(" + *field + ")", ""};
    Token as = p.Peek();
    if (as.IsWordCI("as")) {
      p.Take(as);
      ASSIGN_OR_RETURN(r.to, p.FieldName("a name after 'as'"));
    }
    c->renames.push_back(r);
  }
  return p.CheckQuote();
}

std::string Print(const Command& c) {
  std::string out = "convert" + OptionText(c.options);
  for (size_t i = 0; i < c.renames.size(); ++i) {
    out += (i ? ", " : " ") + c.renames[i].from;
    if (!c.renames[i].to.empty()) out += " as " + FieldText(c.renames[i].to);
  }
  return out;
}

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv&) {
  std::string tf = StringOption(c, "timeformat", "%m/%d/%Y %H:%M:%S");
  std::vector<Conversion> convs;
  for (const Rename& rn : c.renames) {  // from is "fn(field)"
    size_t open = rn.from.find('(');
    Conversion cv;
    cv.fn = rn.from.substr(0, open);
    cv.field = rn.from.substr(open + 1, rn.from.size() - open - 2);
    cv.target = rn.to.empty() ? cv.field : rn.to;
    convs.push_back(std::move(cv));
  }
  return MakeOp<RowOperator>(
      [convs, tf](Row& row) -> Result<bool> {
        for (const auto& cv : convs) {
          const Values* v = row.Get(cv.field);
          if (!v) continue;
          Values out;
          for (const auto& s : *v) Convert(cv.fn, tf, s, &out);
          row.Set(cv.target, std::move(out));
        }
        return true;
      },
      [convs](Schema* s) {
        for (const auto& cv : convs) s->Add(cv.target);
      });
}

}  // namespace

void Register_convert(CommandRegistry& r) {
  AddCommand(r, "convert", CommandClass::kStreaming, CommandSyntax{Parse, Print}, Make,
             AlwaysParallel);
}

}  // namespace cairn::query::internal
