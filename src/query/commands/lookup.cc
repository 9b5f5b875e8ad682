// lookup <table> <field> [AS <local>] ... [OUTPUT|OUTPUTNEW <field> [AS <local>] ...]: adds the
// columns of the CSV table's rows whose input columns equal the row's fields (several matches
// give multivalues). The table is read once per search; then each row is looked up on its own.
// Streaming.

#include <map>

#include "query/command_support.h"
#include "query/lookup_files.h"

namespace cairn::query::internal {
namespace {

struct Table {
  std::vector<std::vector<std::string>> rows;        // header first
  std::multimap<std::string, size_t> index;          // input columns' values -> row
  std::vector<std::pair<int, std::string>> outputs;  // column, field set on the event
};

Result<std::shared_ptr<const Table>> LoadTable(const Command& c, Executor* ex) {
  ASSIGN_OR_RETURN(std::string path, ex->LookupPath(c.text));
  auto t = std::make_shared<Table>();
  ASSIGN_OR_RETURN(t->rows, LoadCsv(path, c.text));
  const auto& header = t->rows[0];
  auto col = [&](const std::string& name) -> int {
    for (size_t i = 0; i < header.size(); ++i) {
      if (header[i] == name) return static_cast<int>(i);
    }
    return -1;
  };
  std::vector<int> in_cols;
  for (const auto& f : c.lookup_inputs) {
    int i = col(f.name);
    if (i < 0) return InvalidArgument("lookup {}: no column '{}'", c.text, f.name);
    in_cols.push_back(i);
  }
  if (c.lookup_outputs.empty()) {
    for (size_t i = 0; i < header.size(); ++i) {
      if (std::find(in_cols.begin(), in_cols.end(), static_cast<int>(i)) == in_cols.end()) {
        t->outputs.emplace_back(static_cast<int>(i), header[i]);
      }
    }
  } else {
    for (const auto& f : c.lookup_outputs) {
      int i = col(f.name);
      if (i < 0) return InvalidArgument("lookup {}: no column '{}'", c.text, f.name);
      t->outputs.emplace_back(i, f.local.empty() ? f.name : f.local);
    }
  }
  for (size_t i = 1; i < t->rows.size(); ++i) {
    std::string key;
    for (int ic : in_cols) {
      key += ic < static_cast<int>(t->rows[i].size()) ? t->rows[i][static_cast<size_t>(ic)] : "";
      key += '\x02';
    }
    t->index.emplace(key, i);
  }
  return std::shared_ptr<const Table>(std::move(t));
}

// [options] <table> field [as local], ... [OUTPUT|OUTPUTNEW field [as local], ...]
Status Parse(CommandParser& p, Command* c) {
  while (true) {
    ASSIGN_OR_RETURN(bool opt, p.TryOption(&c->options));
    if (!opt) break;
  }
  ASSIGN_OR_RETURN(c->text, p.FieldName("a lookup name"));
  std::vector<LookupField>* target = &c->lookup_inputs;
  while (!p.AtCommandEnd()) {
    Token t = p.Peek();
    if (t.Is(Token::kPunct, ",")) {
      p.Take(t);
      continue;
    }
    if (t.Is(Token::kWord, "OUTPUT") || t.Is(Token::kWord, "OUTPUTNEW") ||
        t.Is(Token::kWord, "output") || t.Is(Token::kWord, "outputnew")) {
      p.Take(t);
      c->output_new = Lower(t.text) == "outputnew";
      target = &c->lookup_outputs;
      continue;
    }
    LookupField f;
    ASSIGN_OR_RETURN(f.name, p.FieldName("a lookup field"));
    Token as = p.Peek();
    if (as.IsWordCI("as")) {
      p.Take(as);
      ASSIGN_OR_RETURN(f.local, p.FieldName("a field after 'as'"));
    }
    target->push_back(f);
  }
  RETURN_IF_ERROR(p.CheckQuote());
  if (c->lookup_inputs.empty()) return SyntaxError(c->offset, "lookup needs an input field");
  return Status::Ok();
}

std::string LookupFields(const std::vector<LookupField>& fs) {
  std::string out;
  for (size_t i = 0; i < fs.size(); ++i) {
    if (i) out += ", ";
    out += FieldText(fs[i].name);
    if (!fs[i].local.empty() && fs[i].local != fs[i].name) out += " as " + FieldText(fs[i].local);
  }
  return out;
}

std::string Print(const Command& c) {
  std::string out = "lookup" + OptionText(c.options) + " " + FieldText(c.text) + " " +
                    LookupFields(c.lookup_inputs);
  if (!c.lookup_outputs.empty()) {
    out += std::string(c.output_new ? " OUTPUTNEW " : " OUTPUT ") + LookupFields(c.lookup_outputs);
  }
  return out;
}

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv& env) {
  ASSIGN_OR_RETURN(std::shared_ptr<const Table> table, LoadTable(c, env.executor));
  const Command* cmd = &c;
  return MakeOp<RowOperator>(
      [cmd, table](Row& row) -> Result<bool> {
        std::string key;
        for (const auto& f : cmd->lookup_inputs) {
          const Values* v = row.Get(f.local.empty() ? f.name : f.local);
          if (!v) return true;
          key += v->front();
          key += '\x02';
        }
        auto [lo, hi] = table->index.equal_range(key);
        if (lo == hi) return true;
        for (const auto& [ci, field] : table->outputs) {
          if (cmd->output_new && row.Get(field)) continue;
          Values vals;
          for (auto it = lo; it != hi; ++it) {
            const auto& tr = table->rows[it->second];
            if (ci < static_cast<int>(tr.size()) && !tr[static_cast<size_t>(ci)].empty()) {
              vals.push_back(tr[static_cast<size_t>(ci)]);
            }
          }
          row.Set(field, vals);
        }
        return true;
      },
      [table](Schema* s) {
        for (const auto& [ci, field] : table->outputs) s->Add(field);
      });
}

}  // namespace

void Register_lookup(CommandRegistry& r) {
  AddCommand(r, "lookup", CommandClass::kStreaming, CommandSyntax{Parse, Print}, Make,
             AlwaysParallel);
}

}  // namespace cairn::query::internal
