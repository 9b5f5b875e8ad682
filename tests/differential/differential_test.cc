// Differential search tests: every case in tests/differential/cases.txt runs as SPL through the
// cairn binary (ingest, then `search --format json`) and as SQL in DuckDB over the same files; the
// result sets must agree (tests/differential/run.mjs does the work and prints each disagreement
// with the SPL, the SQL and both result sets). One test per data set: the shared real CloudTrail
// files, a generated set and a generated set of the wide profile. Skipped when node or the DuckDB
// module is missing (a failure under CI=true).

#include <gtest/gtest.h>
#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>

#include "common/testing.h"

namespace cairn {
namespace {

std::string Quote(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

cairn::testing::CommandResult Run(const std::string& command) {
  return cairn::testing::RunCommand(command);
}

// Runs run.mjs with the given data-set arguments; skips or fails as the script says.
void RunDifferential(const std::string& name, const std::string& dataset_args) {
  if (Run("node --version").status != 0) {
    if (testing::UnderCi()) FAIL() << "node is required for the differential tests under CI=true";
    GTEST_SKIP() << "node not found: differential tests against DuckDB skipped";
  }
  const std::string dir = std::string(CAIRN_SOURCE_DIR) + "/tests/differential";
  const std::string command = "node " + Quote(dir + "/run.mjs") + " --cairn " +
                              Quote(CAIRN_BINARY) + " --cases " + Quote(dir + "/cases.txt") +
                              " --name " + name + " " + dataset_args;
  auto r = Run(command);
  if (r.status == 77) {
    if (testing::UnderCi())
      FAIL() << "the differential run was skipped under CI=true:\n" << r.output;
    GTEST_SKIP() << r.output;
  }
  std::printf("%s", r.output.c_str());
  EXPECT_EQ(r.status, 0) << "differential cases disagree with DuckDB (details above):\n" << command;
  // The script's summary line names how many cases ran; a run that checked nothing is a failure.
  EXPECT_NE(r.output.find("differential cases agree"), std::string::npos);
  EXPECT_EQ(r.output.find(" 0 of 0 "), std::string::npos);
}

TEST(Differential, SharedRealCloudTrail) {
  CAIRN_REQUIRE_SHARED_DATA();
  RunDifferential("real", "--files " + Quote(::cairn::testing::SharedDataDir() +
                                             "/cloudtrail/invictus/CloudTrail/*.json"));
}

// Generated events (every attack scenario included); 5000 keeps the test within its time budget
// on a loaded two-core machine, since half the cases extract fields from every event.
TEST(Differential, GeneratedEvents) { RunDifferential("generated", "--generate 5000:7"); }

// Generated events of the wide profile: every access key and request id distinct, thousands of
// principals, addresses and user agents, so dc(), values() and dedup meet high cardinality.
TEST(Differential, GeneratedWideEvents) { RunDifferential("wide", "--generate 5000:7:wide"); }

}  // namespace
}  // namespace cairn
