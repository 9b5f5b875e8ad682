#pragma once
// Test support (linked only into tests): the tests/query/*.test file format and a loader of
// CloudTrail Records files. The format is described in tests/query/README.md.

#include <string>
#include <vector>

#include "common/status.h"
#include "query/row.h"

namespace cairn::query::testing {

struct Case {
  std::string name;
  int line = 0;
  std::string search;
  bool has_expect = false;
  std::vector<std::string> expect;  // header line then rows, normalised
  bool unordered = false;
  std::string error;              // expected error substring
  std::string canonical;          // expected canonical parse
  std::vector<std::string> plan;  // expected plan substrings
};

struct CaseFile {
  std::string path;
  double now = 1688990400;  // 2023-07-10T12:00:00Z
  std::vector<EventRecord> events;
  std::string macros;
  std::vector<std::pair<std::string, std::string>> lookups;  // file name, CSV text
  std::vector<Case> cases;
};

// Splits a table line on '|' and joins the trimmed cells with " | " (cells may not hold '|').
std::string NormaliseRow(const std::string& line);

Result<CaseFile> ParseCaseFile(const std::string& path, const std::string& text);

// Events of a CloudTrail file ({"Records":[...]}); _time from eventTime, sourcetype
// aws:cloudtrail, index aws-cloudtrail, source = path, host from the caller.
Result<std::vector<EventRecord>> LoadCloudTrailRecords(const std::string& path,
                                                       const std::string& text);

}  // namespace cairn::query::testing
