// outputlookup <table>: writes the rows to the lookup table <lookups>/<table>.csv (atomically;
// the columns as the results would show them, multivalues joined by a line break) and passes
// them on. Blocking: holds the rows (within the memory budget) until the input ends.

#include "common/fs.h"
#include "query/command_support.h"
#include "query/lookup_files.h"

namespace cairn::query::internal {

void Register_outputlookup(CommandRegistry& r) {
  AddCommand(r, "outputlookup", CommandClass::kBlocking,
             Generic({.name = true},
                     [](Command* c) {
                       if (!c->text.empty()) return Status::Ok();
                       return SyntaxError(c->offset, "outputlookup needs a lookup name");
                     }),
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               ASSIGN_OR_RETURN(std::string path, env.executor->LookupPath(c.text));
               std::string dir = env.executor->options().lookups_dir;
               return MakeOp<BufferOperator>("outputlookup", env.budget,
                                             [path, dir](Results* r) -> Status {
                                               std::vector<std::string> columns =
                                                   r->known ? r->columns : DefaultColumns(r->rows);
                                               std::string text = CsvLine(columns);
                                               std::vector<std::string> cells(columns.size());
                                               for (Row& row : r->rows) {
                                                 for (size_t i = 0; i < columns.size(); ++i) {
                                                   cells[i].clear();
                                                   if (const Values* v = row.Get(columns[i])) {
                                                     for (size_t k = 0; k < v->size(); ++k) {
                                                       cells[i] += (k ? "\n" : "") + (*v)[k];
                                                     }
                                                   }
                                                 }
                                                 text += CsvLine(cells);
                                               }
                                               FileSystem* fs = FileSystem::Default();
                                               RETURN_IF_ERROR(fs->CreateDirs(dir));
                                               return WriteFileAtomic(fs, path, text);
                                             });
             });
}

}  // namespace cairn::query::internal
