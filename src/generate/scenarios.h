#pragma once
// Attack scenarios embedded at known times, and CloudTrail Insights events. Both are built before
// the background traffic, as finished JSON records that the file writer merges (by time) into the
// delivery file of their (account, region, 5-minute window).

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include "generate/event_writer.h"

namespace cairn::generate {

// A finished record placed into a file.
struct SpecialEvent {
  bool insight = false;  // CloudTrail-Insight file rather than CloudTrail
  int account = 0;
  int region = 0;
  int64_t time_ms = 0;
  std::string json;
};

// What scenarios.json says about one scenario (docs/format/scenarios.md).
struct ScenarioInfo {
  std::string name;
  std::string description;
  std::string technique;  // MITRE ATT&CK id
  int account = 0;
  int region = 0;
  std::vector<int64_t> times;
  std::vector<std::string> event_ids;
  std::string event_source, event_name, user_arn, source_ip;
  // JSON Pointer -> string value; exactly expected_count records in the data set match all.
  std::vector<std::pair<std::string, std::string>> match;
  uint64_t expected_count = 0;
};

// Appends the scenario records and their descriptions. Times fall in [start_ms, start_ms + days).
void BuildScenarios(EventWriter* writer, int64_t start_ms, int days,
                    std::vector<SpecialEvent>* events, std::vector<ScenarioInfo>* infos);

// Appends Insights events: per account and day, two insights, each a Start and an End record.
void BuildInsights(EventWriter* writer, int64_t start_ms, int days,
                   std::vector<SpecialEvent>* events);

// How many records BuildScenarios / BuildInsights add (so the background can make up the rest).
uint64_t InsightEventCount(int accounts, int days);

}  // namespace cairn::generate
