// The command registry against what documents and exercises it: docs/query-language.md's command
// table names every registered command (and only those) with its classes, every entry can parse,
// print and run, and every command form in tests/query/*.test has one of its entry's classes.

#include "query/command_registry.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "query/parser.h"
#include "query/vocabulary.h"

namespace cairn::query::internal {
namespace {

std::string ReadSource(const std::string& path) {
  std::ifstream in(std::string(CAIRN_SOURCE_DIR) + "/" + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// A markdown table row's cells ('|' escaped as "\|" inside a cell is not a separator).
std::vector<std::string> Cells(const std::string& line) {
  std::vector<std::string> cells;
  std::string cur;
  for (size_t i = 0; i < line.size(); ++i) {
    if (line[i] == '\\' && i + 1 < line.size() && line[i + 1] == '|') {
      cur += '|';
      ++i;
    } else if (line[i] == '|') {
      cells.push_back(cur);
      cur.clear();
    } else {
      cur += line[i];
    }
  }
  cells.erase(cells.begin());  // before the leading '|'
  return cells;
}

// The first word of each `code span` of a cell: the command names a row documents.
std::vector<std::string> CommandNames(const std::string& cell) {
  std::vector<std::string> names;
  size_t p = 0;
  while ((p = cell.find('`', p)) != std::string::npos) {
    size_t end = cell.find('`', p + 1);
    if (end == std::string::npos) break;
    std::string span = cell.substr(p + 1, end - p - 1);
    names.push_back(span.substr(0, span.find_first_of(" [")));
    p = end + 1;
  }
  return names;
}

std::set<std::string> ClassWords(const std::string& cell) {
  std::set<std::string> out;
  for (const char* c : {"streaming", "transforming", "blocking", "generating"}) {
    if (cell.find(c) != std::string::npos) out.insert(c);
  }
  return out;
}

struct DocRow {
  std::vector<std::string> names;
  std::set<std::string> classes;
};

// The rows of the table in the "## Commands" section.
std::vector<DocRow> DocumentedCommands() {
  std::string doc = ReadSource("docs/query-language.md");
  size_t start = doc.find("\n## Commands\n");
  size_t end = doc.find("\n## ", start + 1);
  std::vector<DocRow> rows;
  if (start == std::string::npos) return rows;
  std::istringstream section(doc.substr(start, end - start));
  std::string line;
  while (std::getline(section, line)) {
    if (line.rfind("| `", 0) != 0) continue;
    auto cells = Cells(line);
    if (cells.size() < 3) continue;
    rows.push_back({CommandNames(cells[0]), ClassWords(cells[1])});
  }
  return rows;
}

TEST(QueryCommands, EveryCommandIsDocumentedWithItsClasses) {
  const CommandRegistry& reg = CommandRegistry::Get();
  std::vector<DocRow> rows = DocumentedCommands();
  ASSERT_FALSE(rows.empty()) << "no command table in docs/query-language.md";
  std::map<std::string, const DocRow*> row_of;
  for (const auto& row : rows) {
    for (const auto& n : row.names) {
      EXPECT_TRUE(row_of.emplace(n, &row).second) << n << " is documented twice";
      EXPECT_NE(reg.Find(n), nullptr)
          << "docs/query-language.md documents " << n << ", which no registry entry is called";
    }
  }
  for (const auto& name : reg.Names()) {
    const CommandInfo* info = reg.Find(name);
    auto it = row_of.find(name);
    if (it == row_of.end()) {
      ADD_FAILURE() << name << " is not in docs/query-language.md's command table";
      continue;
    }
    std::set<std::string> classes;
    for (CommandClass c : info->classes) classes.insert(std::string(ToString(c)));
    EXPECT_EQ(it->second->classes, classes) << "the classes documented for " << name;
    for (const auto& alias : info->aliases) {
      auto a = row_of.find(alias);
      EXPECT_TRUE(a != row_of.end() && a->second == it->second)
          << "alias " << alias << " is not documented beside " << name;
    }
  }
}

TEST(QueryCommands, EveryEntryParsesPrintsAndRuns) {
  const CommandRegistry& reg = CommandRegistry::Get();
  for (const auto& name : reg.Names()) {
    const CommandInfo* info = reg.Find(name);
    EXPECT_TRUE(info->syntax.parse && info->syntax.print) << name;
    EXPECT_TRUE(info->make && info->class_of) << name;
    EXPECT_FALSE(info->classes.empty()) << name;
  }
}

// Every command of every search in tests/query has one of the classes its entry declares.
TEST(QueryCommands, ParsedFormsHaveADeclaredClass) {
  const CommandRegistry& reg = CommandRegistry::Get();
  size_t checked = 0;
  std::set<std::string> seen;
  for (const auto& e :
       std::filesystem::directory_iterator(std::string(CAIRN_SOURCE_DIR) + "/tests/query")) {
    if (e.path().extension() != ".test") continue;
    std::ifstream in(e.path());
    std::string line;
    while (std::getline(in, line)) {
      if (line.rfind("search: ", 0) != 0) continue;
      std::string spl = line.substr(8);
      while (!spl.empty() && spl.back() == '\\' && std::getline(in, line)) {
        spl.pop_back();
        spl += line;
      }
      auto p = ParseSpl(spl);
      if (!p.ok()) continue;  // an error case, or a search using macros
      for (const Command& c : p->commands) {
        const CommandInfo* info = reg.Find(c.name);
        ASSERT_NE(info, nullptr) << c.name;
        CommandClass cls = info->class_of(c);
        EXPECT_NE(std::find(info->classes.begin(), info->classes.end(), cls), info->classes.end())
            << ToString(c) << " is " << ToString(cls) << ", not a class its entry declares";
        seen.insert(c.name);
        ++checked;
      }
    }
  }
  EXPECT_GT(checked, 300u);
  EXPECT_EQ(seen.size(), reg.Names().size()) << "some command has no case in tests/query";
}

// The editor's vocabulary (query/vocabulary.h) is what the parsers accept: every listed command
// and alias has a registry entry, every eval function is known to the evaluator, and a name the
// aggregation parser refuses is not listed.
TEST(Vocabulary, ListsWhatTheParsersAccept) {
  const auto commands = SplCommandNames();
  EXPECT_TRUE(std::is_sorted(commands.begin(), commands.end()));
  for (const char* name : {"stats", "eval", "timechart", "bucket", "bin", "search"}) {
    EXPECT_NE(std::find(commands.begin(), commands.end(), name), commands.end()) << name;
  }
  for (const auto& c : commands) EXPECT_NE(CommandRegistry::Get().Find(c), nullptr) << c;
  EXPECT_GT(commands.size(), CommandRegistry::Get().Names().size());  // the aliases too

  const auto eval = SplEvalFunctionNames();
  EXPECT_NE(std::find(eval.begin(), eval.end(), "strftime"), eval.end());
  for (const auto& f : eval) EXPECT_TRUE(IsKnownEvalFunction(f)) << f;

  const auto stats = SplStatsFunctionNames();
  for (const char* f : {"count", "dc", "values", "latest"}) {
    EXPECT_NE(std::find(stats.begin(), stats.end(), f), stats.end()) << f;
  }
  for (const auto& f : stats) {
    const std::string arg = f == "count" || f == "c" ? "" : "(x)";
    EXPECT_TRUE(ParseSpl("| stats " + f + arg).ok()) << f;
  }
  EXPECT_FALSE(ParseSpl("| stats nosuchfn(x)").ok());
  EXPECT_EQ(std::find(stats.begin(), stats.end(), "strftime"), stats.end());
}

}  // namespace
}  // namespace cairn::query::internal
