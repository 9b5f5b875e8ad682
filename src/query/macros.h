#pragma once
// Search macros, as in Splunk's macros.conf: `name` or `name(arg1, arg2)` in backticks is replaced
// by the definition of stanza [name] or [name(2)], with $argname$ substituted. Expansion is
// textual and recursive (depth <= 32). Not thread-safe while being loaded; read-only use is.

#include <map>
#include <string>
#include <string_view>
#include <vector>

#include "common/fs.h"
#include "common/status.h"

namespace cairn::query {

class MacroSet {
 public:
  // A set holding the built-in `cloudtrail` macro (sourcetype=aws:cloudtrail).
  MacroSet();

  // Parses macros.conf text: [stanza] lines, then `definition = ...` and `args = a, b`; backslash
  // at line end continues a line; # comments. Later definitions replace earlier ones. Errors name
  // the line.
  Status LoadConf(std::string_view text, std::string_view origin = "macros.conf");
  // LoadConf of the file at `path` (at most 16 MiB); errors name the file.
  Status LoadFile(FileSystem* fs, const std::string& path);
  // The built-in macros and the data folder's macros.conf, when there is one.
  static Result<MacroSet> ForDataDir(FileSystem* fs, const std::string& data_dir);

  // Adds or replaces one macro. `args` names its arguments (the stanza is name(N)).
  void Define(std::string name, std::vector<std::string> args, std::string definition);

  // Replaces every `macro` in `spl`. Unknown macros and bad argument counts are kInvalidArgument
  // errors naming the offset in `spl`.
  Result<std::string> Expand(std::string_view spl) const;

 private:
  struct Macro {
    std::vector<std::string> args;
    std::string definition;
  };
  Result<std::string> ExpandDepth(std::string_view spl, int depth) const;
  std::map<std::string, Macro> macros_;  // key: "name" or "name(N)"
};

}  // namespace cairn::query
