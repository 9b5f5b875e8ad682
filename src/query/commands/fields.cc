// fields [+|-] f1 f2 ... (wildcards allowed): keeps (or removes) the named
// fields; internal fields (names starting with '_') stay unless removed by
// name. Streaming.

#include <set>

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class FieldsOperator final : public Operator {
 public:
  explicit FieldsOperator(const Command& c) : c_(c) {
    for (const auto& f : c.fields) wild_ |= f.find('*') != std::string::npos;
  }
  Status Push(Rows& rows) override {
    for (Row& row : rows) {
      if (!wild_ && !c_.exclude) {
        row.Restrict(c_.fields);
        continue;
      }
      if (!wild_) {
        for (const auto& f : c_.fields) row.Remove(f);
        continue;
      }
      std::vector<std::string> drop;
      for (auto& [k, v] : row.fields()) {
        bool listed = Listed(k);
        if (listed && !v.empty()) seen_.insert(k);
        bool internal = !k.empty() && k[0] == '_';
        if (c_.exclude ? listed : (!listed && !internal)) drop.push_back(k);
      }
      for (const auto& k : drop) row.Remove(k);
    }
    return Emit(rows);
  }
  Status Finish(Schema* schema) override {
    std::vector<std::string> names(seen_.begin(), seen_.end());
    if (schema->known) names.insert(names.end(), schema->columns.begin(), schema->columns.end());
    std::vector<std::string> sel = ExpandPatterns(c_.fields, names);
    if (c_.exclude) {
      if (schema->known) {
        std::set<std::string> gone(sel.begin(), sel.end());
        std::erase_if(schema->columns, [&](const std::string& col) { return gone.count(col) > 0; });
      }
    } else {
      schema->columns = sel;
      schema->known = true;
    }
    return FinishNext(schema);
  }

 private:
  bool Listed(const std::string& name) const {
    for (const auto& p : c_.fields) {
      if (p == name || (p.find('*') != std::string::npos && GlobMatch(p, name, false))) return true;
    }
    return false;
  }
  const Command& c_;
  bool wild_ = false;
  std::set<std::string> seen_;
};

}  // namespace

void Register_fields(CommandRegistry& r) {
  AddCommand(
      r, "fields", CommandClass::kStreaming, Generic({.sign = true, .fields = true}),
      [](const Command& c, OpEnv&) -> Result<std::unique_ptr<Operator>> {
        return MakeOp<FieldsOperator>(c);
      },
      [](const Command& c) {
        for (const auto& f : c.fields) {
          if (f.find('*') != std::string::npos) return false;
        }
        return true;
      });
}

}  // namespace cairn::query::internal
