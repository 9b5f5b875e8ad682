// Runs every tests/query/*.test file: each case's search against the file's
// events, checking the rows, the error, the canonical form or the plan. See
// tests/query/README.md for the format.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <set>

#include "common/fs.h"
#include "common/testing.h"
#include "query/case_file.h"
#include "query/engine.h"
#include "query/parser.h"
#include "query/store_source.h"
#include "store/store.h"

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

// Stores the file's events in a fresh store under `dir` (one commit per index).
// Returns false when the store cannot hold them as the memory source does
// (non-JSON events, several hosts).
bool StoreEvents(const testing::CaseFile& file, const std::string& dir,
                 std::unique_ptr<store::Store>* out, std::string* host) {
  std::map<std::string, std::vector<cloudtrail::Event>> by_index;
  std::set<std::string> hosts;
  int n = 0;
  for (const auto& e : file.events) {
    size_t b = e.raw.find_first_not_of(" \t\r\n");
    if (b == std::string::npos || e.raw[b] != '{') return false;
    hosts.insert(e.host);
    cloudtrail::Event ev;
    ev.raw = e.raw;
    ev.time_ms = std::llround(e.time * 1000);
    ev.event_id = "case-" + std::to_string(n++);
    ev.sourcetype = e.sourcetype;
    ev.source = e.source;
    by_index[e.index].push_back(std::move(ev));
  }
  if (hosts.size() > 1) return false;
  if (!hosts.empty()) *host = *hosts.begin();
  store::StoreOptions so;
  so.data_dir = dir;
  so.background_merge = false;
  auto st = store::Store::Open(so);
  if (!st.ok()) {
    ADD_FAILURE() << st.status().ToString();
    return false;
  }
  for (auto& [index, events] : by_index) {
    auto c = (*st)->Commit(index, std::move(events));
    if (!c.ok()) {
      ADD_FAILURE() << file.path << ": " << c.status().ToString();
      return false;
    }
  }
  *out = std::move(st).value();
  return true;
}

// Runs every case of `file` against `source`; returns the number of failed
// cases.
int RunCases(const testing::CaseFile& file, const std::string& rel, EventSource* source,
             const std::string& label, int* total) {
  int failed = 0;
  std::string lookups = cairn::testing::MakeTempDir("cairn_query_lookups");
  for (const auto& [name, csv] : file.lookups) {
    EXPECT_TRUE(WriteFileAtomic(FileSystem::Default(), JoinPath(lookups, name), csv).ok());
  }
  MacroSet macros;
  if (!file.macros.empty()) {
    Status st = macros.LoadConf(file.macros, file.path);
    EXPECT_TRUE(st.ok()) << st.ToString();
  }
  EngineOptions opts;
  opts.now = file.now;
  opts.lookups_dir = lookups;
  Engine engine(source, macros, opts);
  for (const auto& c : file.cases) {
    ++*total;
    std::string where =
        "[" + label + "] " + rel + ":" + std::to_string(c.line) + " (" + c.name + ")";
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
          ADD_FAILURE() << where << ": canonical form\n  got:  " << got
                        << "\n  want: " << c.canonical;
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
      std::string ptext = engine.Explain(*plan);
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
          ADD_FAILURE() << where << ": expected error containing '" << c.error
                        << "', got: " << result.status().ToString();
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
          ADD_FAILURE() << where << ": rows differ\n got:\n"
                        << Joined(got) << " want:\n"
                        << Joined(want);
          ok = false;
        }
      }
    }
    if (!ok) ++failed;
  }
  std::filesystem::remove_all(lookups);
  return failed;
}

TEST(QueryCases, AllFiles) {
  std::string dir = std::string(CAIRN_SOURCE_DIR) + "/tests/query";
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".test") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_FALSE(files.empty()) << "no .test files in " << dir;
  int total = 0, failed = 0, store_total = 0, store_failed = 0;
  std::vector<std::string> skipped;
  for (const auto& path : files) {
    auto text = ReadFileToString(FileSystem::Default(), path, 64u << 20);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto file = testing::ParseCaseFile(path, *text);
    ASSERT_TRUE(file.ok()) << file.status().ToString();
    std::string rel = path.substr(dir.size() + 1);
    MemoryEventSource memory(file->events);
    failed += RunCases(*file, rel, &memory, "memory", &total);

    // The same cases over the store: push-down and column aggregation must not
    // change answers.
    std::string store_dir = cairn::testing::MakeTempDir("cairn_query_store");
    std::unique_ptr<store::Store> st;
    std::string host = "cairn-test";
    if (StoreEvents(*file, store_dir, &st, &host)) {
      StoreSourceOptions so;
      so.host = host;
      StoreEventSource source(st.get(), so);
      store_failed += RunCases(*file, rel, &source, "store", &store_total);
      ASSERT_TRUE(st->Close().ok());
    } else {
      skipped.push_back(rel);
    }
    st.reset();
    std::filesystem::remove_all(store_dir);
  }
  std::printf("query cases: %d run, %d failed, %zu files\n", total, failed, files.size());
  std::string sk;
  for (const auto& s : skipped) sk += " " + s;
  std::printf("query cases on the store: %d run, %d failed (files not storable:%s)\n", store_total,
              store_failed, sk.c_str());
  EXPECT_GT(total, 0);
  EXPECT_GT(store_total, total / 2);
}

}  // namespace
}  // namespace cairn::query
