// Engine::ExecuteStream: rows of a streaming pipeline leave while the scan is under way, a sink
// that answers "stop" ends the scan, and the rows equal those Run gives.

#include <gtest/gtest.h>

#include <atomic>

#include "query/engine.h"

namespace cairn::query {
namespace {

constexpr int kEvents = 10000;

// Memory events, counting what the scan has handed out.
class CountingSource final : public EventSource {
 public:
  explicit CountingSource(std::vector<EventRecord> events) : inner_(std::move(events)) {}
  Status Scan(const ScanRequest& request, const std::function<bool(EventBatch&)>& sink) override {
    return inner_.Scan(request, [&](EventBatch& b) {
      scanned += b.size();
      ++batches;
      return sink(b);
    });
  }
  std::atomic<uint64_t> scanned{0};
  std::atomic<uint64_t> batches{0};

 private:
  MemoryEventSource inner_;
};

std::vector<EventRecord> Events() {
  std::vector<EventRecord> out;
  for (int i = 0; i < kEvents; ++i) {
    EventRecord e;
    e.time = 1700000000 + i;
    e.raw = "{\"n\":" + std::to_string(i) + ",\"name\":\"" + (i % 3 ? "b" : "a") + "\"}";
    e.index = "main";
    e.sourcetype = "aws:cloudtrail";
    e.source = "test";
    e.host = "h";
    out.push_back(std::move(e));
  }
  return out;
}

EngineOptions Opts() {
  EngineOptions o;
  o.now = 1800000000;
  o.threads = 2;
  return o;
}

// The streamed rows as a table over `columns`, and what the batches saw.
struct Streamed {
  std::vector<std::vector<Values>> rows;
  std::vector<std::string> first_columns;
  bool columns_known = false;
  uint64_t scanned_at_first = 0;
  size_t batches = 0;
};

Streamed Stream(const Engine& engine, CountingSource& source, const std::string& spl,
                const std::vector<std::string>& columns, size_t stop_after_batches = 0) {
  Streamed out;
  auto plan = engine.Prepare(spl);
  EXPECT_TRUE(plan.ok()) << plan.status().ToString();
  std::vector<std::string> names;
  std::vector<Values> values;
  auto done = engine.ExecuteStream(*plan, [&](const SearchResults& batch) {
    if (out.batches++ == 0) {
      out.scanned_at_first = source.scanned.load();
      out.columns_known = batch.columns_known();
      if (batch.columns_known()) out.first_columns = batch.columns();
    }
    EXPECT_GT(batch.size(), 0u);
    EXPECT_LE(batch.size(), 1000u);
    for (size_t i = 0; i < batch.size(); ++i) {
      std::vector<Values> row;
      for (const auto& c : columns) row.push_back(batch.Field(i, c));
      out.rows.push_back(std::move(row));
    }
    return stop_after_batches == 0 || out.batches < stop_after_batches;
  });
  EXPECT_TRUE(done.ok()) << done.status().ToString();
  if (done.ok()) {
    EXPECT_EQ((*done)->size(), 0u);
    EXPECT_TRUE((*done)->status().ok());
  }
  return out;
}

std::vector<std::vector<Values>> RunRows(const Engine& engine, const std::string& spl,
                                         const std::vector<std::string>& columns) {
  auto t = engine.Run(spl);
  EXPECT_TRUE(t.ok()) << t.status().ToString();
  std::vector<std::vector<Values>> out;
  if (!t.ok()) return out;
  for (const auto& r : t->rows) {
    std::vector<Values> row;
    for (const auto& c : columns) {
      auto it = std::find(t->columns.begin(), t->columns.end(), c);
      row.push_back(it == t->columns.end() ? Values{}
                                           : r[static_cast<size_t>(it - t->columns.begin())]);
    }
    out.push_back(std::move(row));
  }
  return out;
}

TEST(EngineStream, StreamingRowsLeaveBeforeTheScanEnds) {
  CountingSource source(Events());
  Engine engine(&source, MacroSet(), Opts());
  const std::vector<std::string> cols = {"_time", "n", "name"};
  Streamed s = Stream(engine, source, "search name=b | eval m=n*2 | table _time n name", cols);
  EXPECT_GT(s.scanned_at_first, 0u);
  EXPECT_LT(s.scanned_at_first, static_cast<uint64_t>(kEvents))
      << "the first batch waited for the scan";
  EXPECT_EQ(source.scanned.load(), static_cast<uint64_t>(kEvents));
  EXPECT_GT(s.batches, 5u);
  // The table named its columns before its input ended.
  EXPECT_TRUE(s.columns_known);
  EXPECT_EQ(s.first_columns, cols);
  EXPECT_EQ(s.rows, RunRows(engine, "search name=b | eval m=n*2 | table _time n name", cols));
  EXPECT_EQ(s.rows.size(), static_cast<size_t>(kEvents - (kEvents + 2) / 3));
}

TEST(EngineStream, EventsStreamInRunsOrder) {
  CountingSource source(Events());
  Engine engine(&source, MacroSet(), Opts());
  const std::vector<std::string> cols = {"_time", "_raw", "n"};
  Streamed s = Stream(engine, source, "search *", cols);
  EXPECT_LT(s.scanned_at_first, static_cast<uint64_t>(kEvents));
  EXPECT_FALSE(s.columns_known);
  EXPECT_EQ(s.rows, RunRows(engine, "search *", cols));
  EXPECT_EQ(s.rows.size(), static_cast<size_t>(kEvents));
}

TEST(EngineStream, StopEndsTheScan) {
  CountingSource source(Events());
  Engine engine(&source, MacroSet(), Opts());
  Streamed s = Stream(engine, source, "search * | fields n", {"n"}, 1);
  EXPECT_EQ(s.batches, 1u);
  EXPECT_LT(source.scanned.load(), static_cast<uint64_t>(kEvents) / 2)
      << "the scan went on after the sink said stop";
  EXPECT_LT(source.batches.load(), 3u);
}

TEST(EngineStream, BlockingAndTransformingCommandsHandTheirRowsAtTheEnd) {
  for (const std::string spl : {"search * | stats count, max(n) as top by name",
                                "search * | sort - n | head 1500 | table n name",
                                "search * | eval k=n%7 | dedup k | sort k | table k n"}) {
    SCOPED_TRACE(spl);
    CountingSource source(Events());
    Engine engine(&source, MacroSet(), Opts());
    const std::vector<std::string> cols = {"name", "count", "top", "n", "k"};
    Streamed s = Stream(engine, source, spl, cols);
    EXPECT_EQ(s.scanned_at_first, static_cast<uint64_t>(kEvents));
    EXPECT_TRUE(s.columns_known);
    EXPECT_EQ(s.rows, RunRows(engine, spl, cols));
    EXPECT_FALSE(s.rows.empty());
  }
}

TEST(EngineStream, HeadStopsTheScanAsInRun) {
  CountingSource source(Events());
  Engine engine(&source, MacroSet(), Opts());
  Streamed s = Stream(engine, source, "search * | eval x=1 | head 1200 | table n x", {"n", "x"});
  EXPECT_EQ(s.rows.size(), 1200u);
  EXPECT_LT(source.scanned.load(), static_cast<uint64_t>(kEvents));
  EXPECT_EQ(s.rows, RunRows(engine, "search * | eval x=1 | head 1200 | table n x", {"n", "x"}));
}

}  // namespace
}  // namespace cairn::query
