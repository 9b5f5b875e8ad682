// table f1 f2 ... (wildcards allowed): keeps the named fields, in that order,
// as the output columns. Streaming: each row keeps what matches; the columns of
// wildcard names are the names matched in any row, known when the input ends.

#include <set>

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class TableOperator final : public Operator {
 public:
  explicit TableOperator(const Command& c) : c_(c) {
    for (const auto& f : c.fields) wild_ |= f.find('*') != std::string::npos;
  }
  Status Push(Rows& rows) override {
    for (Row& row : rows) {
      Row out;
      if (wild_) {
        for (auto& [k, v] : row.fields()) {
          if (v.empty() || !Listed(k)) continue;
          seen_.insert(k);
        }
      }
      for (const auto& col : Columns(row)) {
        if (const Values* v = row.Get(col)) out.Set(col, *v);
      }
      row = std::move(out);
    }
    return Emit(rows);
  }
  Status Finish(Schema* schema) override {
    schema->columns =
        ExpandPatterns(c_.fields, std::vector<std::string>(seen_.begin(), seen_.end()));
    schema->known = true;
    return FinishNext(schema);
  }

 private:
  bool Listed(const std::string& name) const {
    for (const auto& p : c_.fields) {
      if (p.find('*') != std::string::npos && GlobMatch(p, name, false)) return true;
    }
    return false;
  }
  // This row's columns in table order (plain names as given, wildcards against
  // its fields).
  std::vector<std::string> Columns(Row& row) {
    if (!wild_) return c_.fields;
    std::vector<std::string> names;
    for (auto& [k, v] : row.fields()) {
      if (!v.empty()) names.push_back(k);
    }
    return ExpandPatterns(c_.fields, names);
  }
  const Command& c_;
  bool wild_ = false;
  std::set<std::string> seen_;
};

}  // namespace

void Register_table(CommandRegistry& r) {
  AddCommand(
      r, "table", CommandClass::kStreaming, Generic({.fields = true}),
      [](const Command& c, OpEnv&) -> Result<std::unique_ptr<Operator>> {
        return MakeOp<TableOperator>(c);
      },
      [](const Command& c) {
        for (const auto& f : c.fields) {
          if (f.find('*') != std::string::npos) return false;
        }
        return true;
      });
}

}  // namespace cairn::query::internal
