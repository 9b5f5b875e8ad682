// Runs every tests/query/*.test file: each case's search against the file's events, checking the
// rows, the error, the canonical form or the plan. See tests/query/README.md for the format.

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>

#include "common/fs.h"
#include "common/testing.h"
#include "query/case_file.h"
#include "query/engine.h"
#include "query/parser.h"

namespace cairn::query {
namespace {

std::vector<std::string> TableLines(const ResultTable& t) {
  std::vector<std::string> out;
  std::string text = t.ToText();
  size_t p = 0;
  while (p < text.size()) {
    size_t q = text.find('\n', p);
    out.push_back(testing::NormaliseRow(text.substr(p, q - p)));
    p = q + 1;
  }
  return out;
}

std::string Joined(const std::vector<std::string>& v) {
  std::string s;
  for (const auto& l : v) s += "  " + l + "\n";
  return s;
}

TEST(QueryCases, AllFiles) {
  std::string dir = std::string(CAIRN_SOURCE_DIR) + "/tests/query";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".test") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no .test files in " << dir;
  int total = 0, failed = 0;
  for (const auto& path : files) {
    auto text = ReadFileToString(FileSystem::Default(), path, 64u << 20);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto file = testing::ParseCaseFile(path, *text);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    std::string lookups = cairn::testing::MakeTempDir("cairn_query_lookups");
    for (const auto& [name, csv] : file->lookups) {
      ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), JoinPath(lookups, name), csv).ok());
    }
    MacroSet macros;
    if (!file->macros.empty()) {
      Status st = macros.LoadConf(file->macros, path);
      ASSERT_TRUE(st.ok()) << st.ToString();
    }
    MemoryEventSource source(file->events);
    EngineOptions opts;
    opts.now = file->now;
    opts.lookups_dir = lookups;
    Engine engine(&source, macros, opts);
    for (const auto& c : file->cases) {
      ++total;
      std::string where = path.substr(dir.size() + 1) + ":" + std::to_string(c.line) + " (" + c.name + ")";
      std::string search = c.search;
      bool ok = true;
      if (!c.canonical.empty() || !c.plan.empty()) {
        auto plan = engine.Prepare(search);
        if (!plan.ok()) {
          ADD_FAILURE() << where << ": " << plan.status().ToString();
          ++failed;
          continue;
        }
        if (!c.canonical.empty()) {
          auto parsed = ParseSpl(plan->expanded);
          std::string got = parsed.ok() ? ToString(*parsed) : parsed.status().ToString();
          if (got != c.canonical) {
            ADD_FAILURE() << where << ": canonical form\n  got:  " << got << "\n  want: " << c.canonical;
            ok = false;
          }
          // The canonical form must parse back to itself.
          auto again = ParseSpl(got);
          if (!again.ok() || ToString(*again) != got) {
            ADD_FAILURE() << where << ": canonical form does not round-trip: "
                          << (again.ok() ? ToString(*again) : again.status().ToString());
            ok = false;
          }
        }
        std::string ptext = plan->ToString();
        for (const auto& want : c.plan) {
          if (ptext.find(want) == std::string::npos) {
            ADD_FAILURE() << where << ": plan lacks '" << want << "'\n" << ptext;
            ok = false;
          }
        }
      }
      if (c.has_expect || !c.error.empty()) {
        auto result = engine.Run(search);
        if (!c.error.empty()) {
          if (result.ok()) {
            ADD_FAILURE() << where << ": expected error containing '" << c.error << "', got rows:\n"
                          << result->ToText();
            ok = false;
          } else if (result.status().message().find(c.error) == std::string::npos) {
            ADD_FAILURE() << where << ": expected error containing '" << c.error << "', got: "
                          << result.status().ToString();
            ok = false;
          }
        } else if (!result.ok()) {
          ADD_FAILURE() << where << ": " << result.status().ToString();
          ok = false;
        } else {
          std::vector<std::string> got = TableLines(*result);
          std::vector<std::string> want = c.expect;
          if (c.unordered && !got.empty() && !want.empty()) {
            std::sort(got.begin() + 1, got.end());
            std::sort(want.begin() + 1, want.end());
          }
          if (got != want) {
            ADD_FAILURE() << where << ": rows differ\n got:\n" << Joined(got) << " want:\n" << Joined(want);
            ok = false;
          }
        }
      }
      if (!ok) ++failed;
    }
    std::filesystem::remove_all(lookups);
  }
  std::printf("query cases: %d run, %d failed, %zu files\n", total, failed, files.size());
  EXPECT_GT(total, 0);
}

}  // namespace
}  // namespace cairn::query
