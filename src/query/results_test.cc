// SearchResults: a search that fixes no columns gets the union of its rows' fields as columns
// (_time first, _raw last, the rest in name order), and each row's cells under them are what the
// row itself answers for each name.

#include <gtest/gtest.h>

#include <set>

#include "query/engine.h"

namespace cairn::query {
namespace {

EventRecord Event(double time, std::string raw, std::string sourcetype) {
  EventRecord e;
  e.time = time;
  e.raw = std::move(raw);
  e.index = "main";
  e.sourcetype = std::move(sourcetype);
  e.source = "test";
  e.host = "h";
  return e;
}

TEST(SearchResults, TheTableOfRowsWithDifferentFieldsIsTheUnionOfTheirCells) {
  // Rows with different fields, a multivalue, and CloudTrail events (whose calculated fields
  // depend on the event) among plain JSON ones.
  MemoryEventSource source({
      Event(1700000003, R"({"b":"x","a":2})", "json"),
      Event(1700000002, R"({"c":[1,2],"z":null})", "json"),
      Event(
          1700000001,
          R"({"eventName":"CreateUser","errorCode":"AccessDenied","responseElements":{"user":{"userName":"eve"}}})",
          "aws:cloudtrail"),
      Event(1700000000, R"({"eventName":"ConsoleLogin","userIdentity":{"type":"AssumedRole"}})",
            "aws:cloudtrail"),
  });
  EngineOptions o;
  o.now = 1800000000;
  Engine engine(&source, MacroSet(), o);
  auto plan = engine.Prepare("search *");
  ASSERT_TRUE(plan.ok()) << plan.status().ToString();
  auto res = engine.ExecuteRows(*plan);
  ASSERT_TRUE(res.ok()) << res.status().ToString();
  const SearchResults& r = **res;
  ASSERT_EQ(r.size(), 4u);

  ResultTable t = r.ToTable();
  ASSERT_GE(t.columns.size(), 3u);
  EXPECT_EQ(t.columns.front(), "_time");
  EXPECT_EQ(t.columns.back(), "_raw");
  std::vector<std::string> middle(t.columns.begin() + 1, t.columns.end() - 1);
  EXPECT_TRUE(std::is_sorted(middle.begin(), middle.end()));
  EXPECT_EQ(std::set<std::string>(middle.begin(), middle.end()).size(), middle.size());

  std::set<std::string> own;
  for (size_t i = 0; i < r.size(); ++i) {
    std::vector<std::string> names;
    std::vector<Values> values;
    r.Cells(i, &names, &values);
    ASSERT_EQ(names.size(), values.size());
    own.insert(names.begin(), names.end());
    ASSERT_EQ(t.rows[i].size(), t.columns.size());
    for (size_t c = 0; c < t.columns.size(); ++c) {
      EXPECT_EQ(t.rows[i][c], r.Field(i, t.columns[c])) << "row " << i << " " << t.columns[c];
    }
  }
  EXPECT_EQ(own, std::set<std::string>(t.columns.begin(), t.columns.end()));
  for (const char* name : {"a", "b", "c{}", "user", "errorCode", "eventName"}) {
    EXPECT_TRUE(own.count(name)) << name;
  }
  EXPECT_FALSE(own.count("z")) << "a null leaf is no field";
  // Spot checks of the cells themselves (rows are newest first).
  auto cell = [&](size_t row, const std::string& name) {
    auto it = std::find(t.columns.begin(), t.columns.end(), name);
    return it == t.columns.end() ? Values{}
                                 : t.rows[row][static_cast<size_t>(it - t.columns.begin())];
  };
  EXPECT_EQ(cell(0, "a"), Values{"2"});
  EXPECT_EQ(cell(1, "a"), Values{});
  EXPECT_EQ(cell(1, "c{}"), (Values{"1", "2"}));  // an array's values, as Splunk names them
  EXPECT_EQ(cell(2, "user"), Values{"eve"});
  EXPECT_EQ(cell(2, "errorCode"), Values{"AccessDenied"});
  EXPECT_EQ(cell(3, "errorCode"), Values{"success"});
  EXPECT_EQ(cell(3, "_time"), Values{"1700000000"});
}

}  // namespace
}  // namespace cairn::query
