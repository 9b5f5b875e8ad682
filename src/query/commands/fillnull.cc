// fillnull [value=V] [f1 f2 ...]: sets absent fields to V (default 0). With
// fields named it streams; without, it fills every field of any row (or every
// known column), so it holds the rows until the input ends.

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv& env) {
  std::string value = StringOption(c, "value", "0");
  const Command* cmd = &c;
  if (c.fields.empty()) {
    return MakeOp<BufferOperator>("fillnull", env.budget, [cmd, value](Results* r) {
      std::vector<std::string> fields = r->known ? r->columns : AllFieldNames(r->rows);
      for (Row& row : r->rows) {
        for (const auto& f : fields) {
          if (!row.Get(f)) row.Set(f, {value});
        }
      }
      for (const auto& f : fields) {
        if (r->known && std::find(r->columns.begin(), r->columns.end(), f) == r->columns.end()) {
          r->columns.push_back(f);
        }
      }
      return Status::Ok();
    });
  }
  return MakeOp<RowOperator>(
      [cmd, value](Row& row) -> Result<bool> {
        for (const auto& f : cmd->fields) {
          if (!row.Get(f)) row.Set(f, {value});
        }
        return true;
      },
      [cmd](Schema* s) {
        for (const auto& f : cmd->fields) s->Add(f);
      });
}

}  // namespace

void Register_fillnull(CommandRegistry& r) {
  CommandInfo info;
  info.name = "fillnull";
  info.syntax = Generic({.fields = true});
  info.classes = {CommandClass::kStreaming, CommandClass::kBlocking};
  info.class_of = [](const Command& c) {
    return c.fields.empty() ? CommandClass::kBlocking : CommandClass::kStreaming;
  };
  info.make = Make;
  info.parallel = [](const Command& c) { return !c.fields.empty(); };
  r.Add(std::move(info));
}

}  // namespace cairn::query::internal
