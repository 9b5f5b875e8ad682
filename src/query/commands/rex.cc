// rex [field=_raw] [max_match=1] "regex": the named groups (?<name>...) of the regular expression's
// matches in the field become fields (max_match=0: every match, multivalue). rex mode=sed
// "s/regex/replacement/[g][i]" or "y/abc/xyz/" rewrites the field in place. Streaming; the
// expression is compiled once per search.

#include <re2/re2.h>

#include <map>

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

// A row function that applies `edit` to every value of `field`.
RowOperator::Fn EditValues(std::string field, std::function<void(std::string&)> edit) {
  return [field = std::move(field), edit = std::move(edit)](Row& row) -> Result<bool> {
    const Values* v = row.Get(field);
    if (!v) return true;
    Values vals = *v;
    for (auto& s : vals) edit(s);
    row.Set(field, std::move(vals));
    return true;
  };
}

// mode=sed: s/regex/replacement/flags or y/abc/xyz/ ('\' escapes the delimiter).
Result<std::unique_ptr<Operator>> MakeSed(const Command& c, const std::string& field) {
  const std::string& e = c.text;
  if (e.size() < 2 || (e[0] != 's' && e[0] != 'y')) {
    return InvalidArgument("rex mode=sed expects s/regex/replacement/flags or y/abc/xyz/");
  }
  char delim = e[1];
  std::vector<std::string> parts;
  std::string cur;
  for (size_t i = 2; i < e.size(); ++i) {
    if (e[i] == '\\' && i + 1 < e.size() && e[i + 1] == delim) {
      cur += delim;
      ++i;
    } else if (e[i] == delim) {
      parts.push_back(cur);
      cur.clear();
    } else {
      cur += e[i];
    }
  }
  parts.push_back(cur);
  if (parts.size() < 2) return InvalidArgument("rex mode=sed: incomplete expression '{}'", e);
  std::string flags = parts.size() > 2 ? parts[2] : "";
  if (e[0] == 'y') {
    if (parts[0].size() != parts[1].size()) return InvalidArgument("rex y///: lengths differ");
    return MakeOp<RowOperator>(EditValues(field, [from = parts[0], to = parts[1]](std::string& s) {
      for (char& ch : s) {
        size_t p = from.find(ch);
        if (p != std::string::npos) ch = to[p];
      }
    }));
  }
  RE2::Options opts;
  opts.set_log_errors(false);
  if (flags.find('i') != std::string::npos) opts.set_case_sensitive(false);
  auto re = std::make_shared<const RE2>(PcreToRe2(parts[0]), opts);
  if (!re->ok()) {
    return InvalidArgument("rex: bad regular expression '{}': {}", parts[0], re->error());
  }
  bool global = flags.find('g') != std::string::npos;
  return MakeOp<RowOperator>(EditValues(field, [re, global, repl = parts[1]](std::string& s) {
    if (global) {
      RE2::GlobalReplace(&s, *re, repl);
    } else {
      RE2::Replace(&s, *re, repl);
    }
  }));
}

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv&) {
  std::string field = StringOption(c, "field", "_raw");
  ASSIGN_OR_RETURN(long long max_match, IntOption(c, "max_match", 1));
  if (Lower(StringOption(c, "mode", "")) == "sed") return MakeSed(c, field);
  RE2::Options opts;
  opts.set_log_errors(false);
  auto re = std::make_shared<const RE2>(PcreToRe2(c.text), opts);
  if (!re->ok())
    return InvalidArgument("rex: bad regular expression '{}': {}", c.text, re->error());
  const auto& names = re->CapturingGroupNames();  // index -> name
  if (names.empty())
    return InvalidArgument("rex: the regular expression has no named group (?<name>...)");
  int ngroups = re->NumberOfCapturingGroups();
  std::vector<re2::StringPiece> groups(static_cast<size_t>(ngroups) + 1);
  return MakeOp<RowOperator>(
      [re, field, max_match, ngroups, groups](Row& row) mutable -> Result<bool> {
        const Values* v = row.Get(field);
        if (!v) return true;
        Values texts = *v;
        std::map<std::string, Values> got;
        long long matches = 0;
        for (const auto& t : texts) {
          size_t pos = 0;
          while (pos <= t.size()) {
            if (max_match > 0 && matches >= max_match) break;
            if (!re->Match(t, pos, t.size(), RE2::UNANCHORED, groups.data(), ngroups + 1)) break;
            ++matches;
            for (const auto& [idx, name] : re->CapturingGroupNames()) {
              if (groups[idx].data() != nullptr) got[name].push_back(std::string(groups[idx]));
            }
            size_t end = static_cast<size_t>(groups[0].data() - t.data()) + groups[0].size();
            pos = groups[0].empty() ? end + 1 : end;
          }
        }
        for (auto& [name, vals] : got) row.Set(name, std::move(vals));
        return true;
      },
      [re](Schema* s) {
        for (const auto& [idx, name] : re->CapturingGroupNames()) s->Add(name);
      });
}

}  // namespace

void Register_rex(CommandRegistry& r) {
  AddCommand(r, "rex", CommandClass::kStreaming,
             Generic({.quoted_text = true},
                     [](Command* c) {
                       if (!c->text.empty()) return Status::Ok();
                       return SyntaxError(c->offset, "rex needs a quoted regular expression");
                     }),
             Make, AlwaysParallel);
}

}  // namespace cairn::query::internal
