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
  AddCommand(r, "lookup", CommandClass::kStreaming, Make, AlwaysParallel);
}

}  // namespace cairn::query::internal
