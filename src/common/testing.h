#pragma once
// Test-only helpers (include from *_test.cc files only).
//
// Shared test material lives in ../shared/data beside the repository. A user's own clone may not
// have it: tests that need it skip with a message. Under CI (CI=true) its absence is a failure.

#include <gtest/gtest.h>

#include <sys/wait.h>

#include <cstdio>
#include <cstdlib>
#include <string>
#include <unistd.h>

namespace cairn::testing {

// The exit status (-1 when it could not run or did not exit) and the combined stdout and stderr
// of a shell command.
struct CommandResult {
  int status = -1;
  std::string output;
};
inline CommandResult RunCommand(const std::string& command) {
  CommandResult r;
  FILE* p = ::popen((command + " 2>&1").c_str(), "r");
  if (p == nullptr) return r;
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof(buf), p)) > 0) r.output.append(buf, n);
  int st = ::pclose(p);
  r.status = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return r;
}

// The shared data folder (CAIRN_SHARED_DATA overrides ../shared/data).
inline std::string SharedDataDir() {
  if (const char* env = std::getenv("CAIRN_SHARED_DATA")) return env;
#ifdef CAIRN_SOURCE_DIR
  return std::string(CAIRN_SOURCE_DIR) + "/../shared/data";
#else
  return "../shared/data";
#endif
}

inline bool SharedDataAvailable() { return ::access(SharedDataDir().c_str(), R_OK) == 0; }

inline bool UnderCi() {
  const char* ci = std::getenv("CI");
  return ci != nullptr && std::string(ci) == "true";
}

// A fresh empty folder under /tmp, removed by the caller (or left for inspection on failure).
inline std::string MakeTempDir(const char* prefix = "cairn_test") {
  std::string tmpl = std::string("/tmp/") + prefix + "_XXXXXX";
  char* p = ::mkdtemp(tmpl.data());
  return p ? std::string(p) : std::string();
}

}  // namespace cairn::testing

// Use at the top of a test that reads ../shared/data.
#define CAIRN_REQUIRE_SHARED_DATA()                                                        \
  do {                                                                                     \
    if (!::cairn::testing::SharedDataAvailable()) {                                        \
      if (::cairn::testing::UnderCi()) {                                                   \
        FAIL() << "shared test data missing at " << ::cairn::testing::SharedDataDir()     \
               << " (required under CI=true)";                                            \
      }                                                                                    \
      GTEST_SKIP() << "shared test data not found at " << ::cairn::testing::SharedDataDir() \
                   << "; this clone has no ../shared, so tests on real data are skipped";   \
    }                                                                                      \
  } while (0)
