// rename a AS b, ... (one '*' per pattern: the text it matches carries over).
// Streaming.

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

// For a wildcard rename: the new name of `name`, or nullopt when `from` does
// not match it.
std::optional<std::string> MapName(const Rename& rn, const std::string& name) {
  std::string pfx = rn.from.substr(0, rn.from.find('*'));
  std::string sfx = rn.from.substr(rn.from.find('*') + 1);
  if (name.size() < pfx.size() + sfx.size()) return std::nullopt;
  if (name.compare(0, pfx.size(), pfx) != 0) return std::nullopt;
  if (name.compare(name.size() - sfx.size(), sfx.size(), sfx) != 0) return std::nullopt;
  std::string mid = name.substr(pfx.size(), name.size() - pfx.size() - sfx.size());
  std::string to = rn.to;
  size_t star = to.find('*');
  if (star != std::string::npos) to.replace(star, 1, mid);
  return to;
}

// from as to, from as to, ...
Status Parse(CommandParser& p, Command* c) {
  while (!p.AtCommandEnd()) {
    Token t = p.Peek();
    if (t.Is(Token::kPunct, ",")) {
      p.Take(t);
      continue;
    }
    ASSIGN_OR_RETURN(std::string from, p.FieldName("a field to rename"));
    Token as = p.Peek();
    if (!as.IsWordCI("as")) return SyntaxError(as.offset, "rename expects 'field as newname'");
    p.Take(as);
    ASSIGN_OR_RETURN(std::string to, p.FieldName("a new name after 'as'"));
    c->renames.push_back({from, to});
  }
  RETURN_IF_ERROR(p.CheckQuote());
  if (c->renames.empty()) return SyntaxError(c->offset, "rename needs 'field as newname'");
  return Status::Ok();
}

std::string Print(const Command& c) {
  std::string out = "rename";
  for (size_t i = 0; i < c.renames.size(); ++i) {
    out += (i ? ", " : " ") + FieldText(c.renames[i].from) + " as " + FieldText(c.renames[i].to);
  }
  return out;
}

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv&) {
  for (const Rename& rn : c.renames) {
    size_t star = rn.from.find('*');
    if (star != std::string::npos && rn.from.find('*', star + 1) != std::string::npos) {
      return Unsupported("rename supports one '*' per pattern: {}", rn.from);
    }
  }
  const Command* cmd = &c;
  return MakeOp<RowOperator>(
      [cmd](Row& row) -> Result<bool> {
        for (const Rename& rn : cmd->renames) {
          if (rn.from.find('*') == std::string::npos) {
            const Values* v = row.Get(rn.from);
            if (!v) continue;
            Values vals = *v;
            row.Remove(rn.from);
            row.Set(rn.to, std::move(vals));
            continue;
          }
          std::vector<std::pair<std::string, std::string>> moves;
          for (auto& [k, v] : row.fields()) {
            if (auto to = MapName(rn, k)) moves.emplace_back(k, *to);
          }
          std::vector<std::pair<std::string, Values>> vals;
          for (auto& [from, to] : moves) {
            vals.emplace_back(to, *row.Get(from));
            row.Remove(from);
          }
          for (auto& [to, v] : vals) row.Set(to, std::move(v));
        }
        return true;
      },
      [cmd](Schema* s) {
        if (!s->known) return;
        for (const Rename& rn : cmd->renames) {
          bool wild = rn.from.find('*') != std::string::npos;
          for (auto& col : s->columns) {
            if (!wild && col == rn.from) {
              col = rn.to;
            } else if (wild) {
              if (auto to = MapName(rn, col)) col = *to;
            }
          }
        }
      });
}

}  // namespace

void Register_rename(CommandRegistry& r) {
  AddCommand(r, "rename", CommandClass::kStreaming, CommandSyntax{Parse, Print}, Make,
             AlwaysParallel);
}

}  // namespace cairn::query::internal
