// Compatibility with real detection content: every `search:` of the Splunk
// Security Content detections in ../shared/data/spl/security_content must parse
// and run against the real CloudTrail events in
// ../shared/data/cloudtrail/invictus, except those needing data models (tstats)
// or GeoIP (iplocation), which must fail naming the unsupported command.

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <regex>
#include <set>

#include "common/fs.h"
#include "common/testing.h"
#include "query/case_file.h"
#include "query/engine.h"
#include "query/store_source.h"
#include "store/store.h"

namespace cairn::query {
namespace {

// The value of a top-level `search: '...'` single-quoted YAML scalar (folded
// over lines).
std::string ExtractSearch(const std::string& yml) {
  size_t p = yml.find("\nsearch: '");
  if (p == std::string::npos) return "";
  p += 10;
  std::string out;
  bool pending_space = false;
  for (size_t i = p; i < yml.size(); ++i) {
    char c = yml[i];
    if (c == '\'') {
      if (i + 1 < yml.size() && yml[i + 1] == '\'') {
        out += '\'';
        ++i;
        continue;
      }
      break;
    }
    if (c == '\n') {
      pending_space = true;
      while (i + 1 < yml.size() && (yml[i + 1] == ' ' || yml[i + 1] == '\t')) ++i;
      continue;
    }
    if (pending_space) {
      out += ' ';
      pending_space = false;
    }
    out += c;
  }
  return out;
}

TEST(SecurityContent, EveryDetectionParsesAndRuns) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::string data = cairn::testing::SharedDataDir();
  FileSystem* fs = FileSystem::Default();
  std::vector<EventRecord> events;
  std::string ct_dir = data + "/cloudtrail/invictus/CloudTrail";
  for (const auto& e : std::filesystem::directory_iterator(ct_dir)) {
    if (e.path().extension() != ".json") continue;
    auto text = ReadFileToString(fs, e.path().string(), 256u << 20);
    ASSERT_TRUE(text.ok()) << text.status().ToString();
    auto recs = testing::LoadCloudTrailRecords(e.path().string(), *text);
    ASSERT_TRUE(recs.ok()) << recs.status().ToString();
    for (auto& r : *recs) events.push_back(std::move(r));
  }
  ASSERT_GT(events.size(), 2000u);
  size_t event_count = events.size();
  // The same events in a store, so that every detection also runs through the
  // store's push-down.
  std::string store_dir = cairn::testing::MakeTempDir("cairn_compat_store");
  std::unique_ptr<store::Store> st;
  {
    store::StoreOptions so;
    so.data_dir = store_dir;
    so.background_merge = false;
    auto opened = store::Store::Open(so);
    ASSERT_TRUE(opened.ok()) << opened.status().ToString();
    st = std::move(opened).value();
    std::vector<cloudtrail::Event> batch;
    for (size_t i = 0; i < events.size(); ++i) {
      cloudtrail::Event ev;
      ev.raw = events[i].raw;
      ev.time_ms = std::llround(events[i].time * 1000);
      ev.event_id = "compat-" + std::to_string(i);  // keep every record, as the memory source does
      ev.sourcetype = events[i].sourcetype;
      ev.source = events[i].source;
      batch.push_back(std::move(ev));
    }
    auto c = st->Commit(events.front().index, std::move(batch));
    ASSERT_TRUE(c.ok()) << c.status().ToString();
    ASSERT_EQ(c->added, event_count);
  }
  StoreSourceOptions store_opts;
  store_opts.host = events.front().host;
  StoreEventSource store_source(st.get(), store_opts);
  MemoryEventSource memory_source(std::move(events));

  auto conf = ReadFileToString(
      fs, std::string(CAIRN_SOURCE_DIR) + "/tests/query/security_content_macros.conf", 1 << 20);
  ASSERT_TRUE(conf.ok());

  // Lookup tables the detections read, with the columns Security Content ships
  // them with.
  std::string lookups = cairn::testing::MakeTempDir("cairn_compat_lookups");
  ASSERT_TRUE(WriteFileAtomic(fs, lookups + "/s3_deletion_baseline.csv",
                              "arn,latestCount,numDataPoints,avgApiCalls,stdevApiCalls\n")
                  .ok());

  std::vector<std::string> files;
  for (const auto& e : std::filesystem::directory_iterator(data + "/spl/security_content")) {
    if (e.path().extension() == ".yml") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  ASSERT_EQ(files.size(), 60u);

  std::map<std::string, std::string> memory_rows;  // detection -> rows from the memory source
  for (EventSource* source :
       {static_cast<EventSource*>(&memory_source), static_cast<EventSource*>(&store_source)}) {
    const char* label = source == &memory_source ? "memory" : "store";
    int passed = 0, unsupported = 0, failed = 0;
    std::string report;
    std::regex filter_macro("`([A-Za-z0-9_]+_filter)`");
    for (const auto& path : files) {
      auto yml = ReadFileToString(fs, path, 1 << 20);
      ASSERT_TRUE(yml.ok());
      std::string spl = ExtractSearch(*yml);
      std::string name = std::filesystem::path(path).stem().string();
      ASSERT_FALSE(spl.empty()) << name << ": no search:";
      MacroSet macros;
      ASSERT_TRUE(macros.LoadConf(*conf).ok());
      for (std::sregex_iterator it(spl.begin(), spl.end(), filter_macro), end; it != end; ++it) {
        macros.Define((*it)[1].str(), {}, "search *");
      }
      EngineOptions opts;
      opts.now = 1689033600;  // 2023-07-11T00:00:00Z, the day after the data
      opts.lookups_dir = lookups;
      Engine engine(source, std::move(macros), opts);
      auto result = engine.Run(spl);
      if (result.ok()) {
        ++passed;
        report += fmt::format("  PASS  {} ({} rows)\n", name, result->rows.size());
        if (source == &memory_source) {
          memory_rows[name] = result->ToText();
        } else {
          EXPECT_EQ(result->ToText(), memory_rows[name]) << name << ": the store gives other rows";
        }
      } else if (result.status().code() == StatusCode::kUnsupported &&
                 (result.status().message().rfind("unsupported: tstats", 0) == 0 ||
                  result.status().message().rfind("unsupported: iplocation", 0) == 0)) {
        ++unsupported;
        std::string msg = result.status().message();
        report += fmt::format("  UNSUP {}: {}\n", name, msg.substr(0, msg.find(" at offset")));
      } else {
        ++failed;
        report += fmt::format("  FAIL  {}: {}\n", name, result.status().ToString());
      }
    }
    std::printf(
        "[%s] security content over %zu real events: %d ran, %d "
        "unsupported (tstats/iplocation), %d failed\n%s",
        label, event_count, passed, unsupported, failed, report.c_str());
    EXPECT_EQ(failed, 0);
    EXPECT_EQ(unsupported,
              13);  // the detections built on `| tstats ... from datamodel=...`
    EXPECT_EQ(passed, 47);
  }
  ASSERT_TRUE(st->Close().ok());
  std::filesystem::remove_all(store_dir);
  std::filesystem::remove_all(lookups);
}

}  // namespace
}  // namespace cairn::query
