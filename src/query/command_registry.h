#pragma once
// Internal to the query layer: one entry per SPL command. A command lives in
// its own file under src/query/commands/ (commands/<file>.cc defines `void
// Register_<file>(CommandRegistry&)`, which the build finds by the file's
// name), with how it is written (its syntax: parsing and canonical text), its
// execution class, and how it runs. The parser knows no command by name: it
// reads a command's name, finds its entry (an unknown name is an error when the
// search is parsed) and lets the entry's syntax read the arguments. Adding a
// command touches its file, docs/query-language.md (whose command table a test
// checks against the registry) and its tests.

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "query/ast.h"
#include "query/operator.h"

namespace cairn::query {
struct EngineOptions;
}

namespace cairn::query::internal {

class Executor;
class CommandParser;

// How a command holds rows (docs/query-language.md lists each command's class).
enum class CommandClass {
  kStreaming,     // one row at a time; memory independent of the rows
  kTransforming,  // state sized by its groups; emits when its input ends
  kBlocking,      // holds rows (within the memory budget) until its input ends
  kGenerating,    // makes rows without input
};
std::string_view ToString(CommandClass c);

// What an operator may use while it is built and runs.
struct OpEnv {
  Executor* executor;    // subsearches, lookups, now
  MemoryBudget* budget;  // for what it holds
  int depth = 0;         // subsearch nesting
};

// How a command is written (command_syntax.h has the shapes most commands share).
struct CommandSyntax {
  // Reads the command's arguments (the text after its name, up to the command's end) into `c`,
  // whose name and offset are set; checks them (errors name an offset).
  std::function<Status(CommandParser&, Command*)> parse;
  // The canonical text of a parsed instance, which parses back to the same command.
  std::function<std::string(const Command&)> print;
};

struct CommandInfo {
  std::string name;
  std::vector<std::string> aliases;  // other names that parse to this command (bucket: bin)
  CommandSyntax syntax;
  // The classes its instances may have, the usual one first (some commands stream or block
  // depending on options); docs/query-language.md lists them, which a test checks.
  std::vector<CommandClass> classes;
  // The class of a parsed instance: one of `classes`.
  std::function<CommandClass(const Command&)> class_of;
  // Builds the running operator.
  std::function<Result<std::unique_ptr<Operator>>(const Command&, OpEnv&)> make;
  // Whether an instance may run in several workers over parts of the input: a streaming command
  // that treats each row on its own (and runs no subsearch), or a transforming one whose
  // operators' partial states merge (Operator::MergeFrom) to the state of the whole input.
  std::function<bool(const Command&)> parallel;
};

class CommandRegistry {
 public:
  static const CommandRegistry& Get();
  // The entry of a command by its name or an alias (lower case); null when unknown.
  const CommandInfo* Find(std::string_view name) const;
  // Every command's name (not aliases), sorted.
  std::vector<std::string> Names() const;
  // Every name and alias, sorted (what query/vocabulary.h gives the editor).
  std::vector<std::string> NamesAndAliases() const;
  void Add(CommandInfo info);

 private:
  std::vector<CommandInfo> commands_;
};

}  // namespace cairn::query::internal
