// Every class of SPL command over a million generated events, each search a real `cairn search`
// process under an address-space limit of 1 GB (prlimit --as): streaming and transforming searches
// must finish inside it whatever the number of events, blocking ones either finish or stop with
// the error naming the command and the budget. Answers are checked against facts of the data
// (every event counted once) and, on an hour's sample, against the in-memory engine.

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <string>
#include <vector>

#include "common/fs.h"
#include "common/testing.h"
#include "common/time_util.h"
#include "query/engine.h"
#include "query/store_source.h"
#include "store/store.h"

namespace cairn::query {
namespace {

constexpr long long kEvents = 1'000'000;
constexpr const char* kAddressSpace = "1073741824";  // 1 GiB

struct Proc {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Proc RunShell(const std::string& cmd) {
  std::string err_path = testing::MakeTempDir("cairn_stream_err") + "/stderr";
  Proc r;
  FILE* p = popen((cmd + " 2>" + err_path).c_str(), "r");
  if (!p) return r;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  auto e = ReadFileToString(FileSystem::Default(), err_path, 1 << 20);
  if (e.ok()) r.err = *e;
  std::filesystem::remove_all(std::filesystem::path(err_path).parent_path());
  return r;
}

// JSON lines as maps of field -> first value.
std::vector<std::map<std::string, std::string>> Lines(const std::string& out) {
  std::vector<std::map<std::string, std::string>> rows;
  simdjson::dom::parser parser;
  size_t pos = 0;
  while (pos < out.size()) {
    size_t end = out.find('\n', pos);
    if (end == std::string::npos) end = out.size();
    std::string line = out.substr(pos, end - pos);
    pos = end + 1;
    if (line.empty()) continue;
    simdjson::dom::object obj;
    if (parser.parse(line).get(obj)) continue;
    std::map<std::string, std::string> row;
    for (auto [k, v] : obj) {
      std::string_view s;
      if (v.get(s) == simdjson::SUCCESS) row[std::string(k)] = std::string(s);
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

long long Sum(const std::vector<std::map<std::string, std::string>>& rows, const char* field) {
  long long n = 0;
  for (const auto& r : rows) {
    auto it = r.find(field);
    if (it != r.end()) n += std::stoll(it->second);
  }
  return n;
}

class StreamingTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(testing::MakeTempDir("cairn_streaming"));
    Proc g = RunShell(std::string(CAIRN_BINARY) + " generate --out " + *dir_ + "/logs --events " +
                      std::to_string(kEvents) + " --seed 23 --start 2026-11-02 --days 1");
    ASSERT_EQ(g.code, 0) << g.err;
    Proc i = RunShell(std::string(CAIRN_BINARY) + " --log-level warn --data " + *dir_ +
                      "/data ingest " + *dir_ + "/logs/AWSLogs");
    ASSERT_EQ(i.code, 0) << i.err;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // `cairn search` under the address-space limit.
  static Proc Search(const std::string& spl, const std::string& flags = "") {
    return RunShell(std::string("prlimit --as=") + kAddressSpace + " " + CAIRN_BINARY +
                    " --log-level warn --data " + *dir_ + "/data search --format json " + flags +
                    " " + Quote(spl));
  }

  static std::string* dir_;
};
std::string* StreamingTest::dir_ = nullptr;

TEST_F(StreamingTest, StreamingAndTransformingSearchesStayInsideTheLimit) {
  Proc all = Search("index=* | stats count");
  ASSERT_EQ(all.code, 0) << all.err;
  ASSERT_EQ(Sum(Lines(all.out), "count"), kEvents);

  // Searches that read every event's JSON or columns, each with a fact it must show.
  Proc by_hour = Search("index=* | eval h=strftime(_time, \"%H\") | stats count by h");
  ASSERT_EQ(by_hour.code, 0) << by_hour.err;
  EXPECT_EQ(Lines(by_hour.out).size(), 24u);
  EXPECT_EQ(Sum(Lines(by_hour.out), "count"), kEvents);

  Proc bin = Search("index=* | bin _time span=1h | stats count by _time, eventName");
  ASSERT_EQ(bin.code, 0) << bin.err;
  EXPECT_EQ(Sum(Lines(bin.out), "count"), kEvents);

  Proc buckets = Search("index=* | stats count by requestParameters.bucketName");
  ASSERT_EQ(buckets.code, 0) << buckets.err;
  Proc with_bucket = Search("requestParameters.bucketName=* | stats count");
  ASSERT_EQ(with_bucket.code, 0) << with_bucket.err;
  EXPECT_GT(Sum(Lines(buckets.out), "count"), 0);
  EXPECT_EQ(Sum(Lines(buckets.out), "count"), Sum(Lines(with_bucket.out), "count"));

  Proc dc = Search("index=* | stats dc(eventID) as ids, dc(requestID) as requests");
  ASSERT_EQ(dc.code, 0) << dc.err;
  auto dc_rows = Lines(dc.out);
  ASSERT_EQ(dc_rows.size(), 1u);
  EXPECT_EQ(std::stoll(dc_rows[0]["ids"]), kEvents);  // every event has its own id
  EXPECT_GT(std::stoll(dc_rows[0]["requests"]), kEvents / 2);

  Proc top = Search("index=* | top limit=5 sourceIPAddress");
  ASSERT_EQ(top.code, 0) << top.err;
  EXPECT_EQ(Lines(top.out).size(), 5u);

  Proc chart = Search("index=* | timechart span=1h count by eventName limit=0");
  ASSERT_EQ(chart.code, 0) << chart.err;
  long long charted = 0;
  for (const auto& row : Lines(chart.out)) {
    for (const auto& [k, v] : row) {
      if (k != "_time") charted += std::stoll(v);
    }
  }
  EXPECT_EQ(charted, kEvents);

  // Streaming output of every event's fields, a row per event.
  Proc table = Search("index=* | rename eventName as name | table _time name");
  ASSERT_EQ(table.code, 0) << table.err;
  EXPECT_EQ(static_cast<long long>(Lines(table.out).size()), kEvents);

  Proc running = Search("index=* | streamstats count | tail 1");
  ASSERT_EQ(running.code, 0) << running.err;
  auto last = Lines(running.out);
  ASSERT_EQ(last.size(), 1u);
  EXPECT_EQ(std::stoll(last[0]["count"]), kEvents);
}

TEST_F(StreamingTest, BlockingSearchesStayInTheBudgetOrSaySo) {
  Proc eventstats =
      Search("index=* | eventstats count by eventName | where count < 10 | stats count");
  ASSERT_EQ(eventstats.code, 0) << eventstats.err;
  Proc rare =
      Search("index=* | stats count by eventName | where count < 10 | stats sum(count) as n");
  ASSERT_EQ(rare.code, 0) << rare.err;
  EXPECT_EQ(Sum(Lines(eventstats.out), "count"), Sum(Lines(rare.out), "n"));

  Proc sorted = Search("index=* | sort 0 _time | head 1 | table _time");
  ASSERT_EQ(sorted.code, 0) << sorted.err;
  Proc earliest = Search("index=* | stats min(_time) as t");
  ASSERT_EQ(earliest.code, 0) << earliest.err;
  auto first = Lines(sorted.out);
  ASSERT_EQ(first.size(), 1u);
  auto t = ParseIso8601Millis(first[0]["_time"]);
  ASSERT_TRUE(t.has_value()) << first[0]["_time"];
  EXPECT_DOUBLE_EQ(static_cast<double>(*t) / 1000.0, std::stod(Lines(earliest.out)[0]["t"]));

  Proc dedup = Search("index=* | dedup userIdentity.arn | stats count");
  Proc arns = Search("index=* | stats dc(userIdentity.arn) as n");
  ASSERT_EQ(dedup.code, 0) << dedup.err;
  EXPECT_EQ(Sum(Lines(dedup.out), "count"), Sum(Lines(arns.out), "n"));

  // Beyond its budget a blocking command stops with an error that names it and the budget.
  Proc over = Search("index=* | eval x=1 | sort 0 - x | head 1", "--memory-budget-mb 16");
  EXPECT_EQ(over.code, 1);
  EXPECT_NE(over.err.find("sort: the search needs more than its memory budget of 16 MB"),
            std::string::npos)
      << over.err;
}

TEST_F(StreamingTest, AnHourAgreesWithTheInMemoryEngine) {
  // The sample: the hour from 12:00 UTC, read from the store into memory.
  const double from = static_cast<double>(*ParseIso8601Millis("2026-11-02T12:00:00Z")) / 1000.0;
  const double to = from + 3600;
  store::StoreOptions so;
  so.data_dir = *dir_ + "/data";
  so.read_only = true;
  so.background_merge = false;
  so.retention_interval_ms = 0;
  auto st = store::Store::Open(so);
  ASSERT_TRUE(st.ok()) << st.status().ToString();
  std::vector<EventRecord> sample;
  for (const auto& index : (*st)->ListIndexes()) {
    auto snap = (*st)->GetSnapshot(index);
    ASSERT_TRUE(snap.ok());
    // In segment sequence order: the store delivers events of equal time in (index, segment
    // sequence, ordinal) order, and the in-memory engine keeps its input's order for ties.
    auto segments = (*snap)->segments();
    std::sort(segments.begin(), segments.end(),
              [](const auto& a, const auto& b) { return a->desc().seq < b->desc().seq; });
    for (const auto& seg : segments) {
      ASSERT_TRUE(seg->ForEachEvent([&](uint32_t, cloudtrail::Event&& e) {
                       double t = static_cast<double>(e.time_ms) / 1000.0;
                       if (t < from || t >= to) return Status::Ok();
                       EventRecord rec;
                       rec.time = t;
                       rec.raw = e.raw.str();
                       rec.index = index;
                       rec.sourcetype = e.sourcetype;
                       rec.source = e.source;
                       rec.host = "cairn";
                       sample.push_back(std::move(rec));
                       return Status::Ok();
                     })
                      .ok());
    }
  }
  ASSERT_GT(sample.size(), 10000u);
  MemoryEventSource memory(std::move(sample));
  StoreSourceOptions src_opts;
  StoreEventSource stored(st->get(), src_opts);
  EngineOptions opts;
  opts.earliest = from;
  opts.latest = to;
  opts.now = to;
  Engine on_memory(&memory, MacroSet(), opts);
  Engine on_store(&stored, MacroSet(), opts);
  for (const char* spl : {
           "index=* | stats count by requestParameters.bucketName",
           "index=* | bin _time span=5m | stats count by _time, eventName",
           "index=* | eval h=strftime(_time, \"%M\") | stats count by h",
           "index=* | table _time eventName | head 5",
           "index=* | dedup userIdentity.arn | table userIdentity.arn eventName",
           "index=* | top limit=5 sourceIPAddress",
           "index=* | stats dc(requestID) estdc(requestID) values(awsRegion) first(eventID)",
           "index=* | eventstats count by eventName | where count < 10 | table eventID count",
           "index=* | streamstats count by eventSource | tail 3 | table eventID count",
           "errorCode=* | stats count by errorCode",
           "index=* | sort 0 _time eventID | head 20 | table _time eventID",
           "index=* | timechart span=10m count by eventSource",
           "index=* | fields eventName userIdentity.type | stats count by eventName, "
           "userIdentity.type",
       }) {
    auto a = on_memory.Run(spl);
    auto b = on_store.Run(spl);
    ASSERT_TRUE(a.ok()) << spl << ": " << a.status().ToString();
    ASSERT_TRUE(b.ok()) << spl << ": " << b.status().ToString();
    EXPECT_GT(a->rows.size(), 0u) << spl;
    EXPECT_EQ(a->ToText(), b->ToText()) << spl;
  }
}

}  // namespace
}  // namespace cairn::query
