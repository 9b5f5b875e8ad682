#pragma once
// Test-side launcher for the fauxqs S3/SQS/SNS emulator (npm package pinned in package.json).
// Start() runs `node tests/harness/fauxqs_server.mjs` from the repository root, which binds
// 127.0.0.1 on a kernel-chosen port; it waits until GET /health answers, and the destructor
// stops the process (SIGTERM, then SIGKILL). The child also dies with the test process
// (PR_SET_PDEATHSIG) and when its stdin pipe closes, so no emulator outlives a crashed test.
//
// Use CAIRN_REQUIRE_FAUXQS() first in a test: when node or node_modules/fauxqs is missing it
// skips with a message, or fails under CI=true (`make test` installs them with `npm ci`).

#include <gtest/gtest.h>
#include <sys/types.h>

#include <memory>
#include <string>

#include "common/status.h"

namespace cairn::testing {

class FauxqsServer {
 public:
  // `default_region` is the region fauxqs uses for requests it cannot attribute to one.
  static Result<std::unique_ptr<FauxqsServer>> Start(const std::string& default_region = "us-east-1");
  ~FauxqsServer();
  FauxqsServer(const FauxqsServer&) = delete;
  FauxqsServer& operator=(const FauxqsServer&) = delete;

  int port() const { return port_; }
  // "http://127.0.0.1:<port>": the endpoint for every service.
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  pid_t pid() const { return pid_; }
  void Stop();

 private:
  FauxqsServer() = default;
  pid_t pid_ = -1;
  int port_ = 0;
  int stdin_fd_ = -1;
};

// The repository root (where package.json and node_modules live).
std::string RepositoryRoot();
// "" when fauxqs can be started, else why not (no node, no node_modules/fauxqs).
std::string FauxqsUnavailableReason();

// A test suite sharing one emulator: started before the suite's first test (unless fauxqs is
// unavailable, which CAIRN_REQUIRE_FAUXQS() then reports), stopped after its last. A failed start
// fails every test of the suite with the reason. A subclass that overrides SetUp calls
// FauxqsSuite::SetUp() first and returns when HasFatalFailure() or server_ is null.
class FauxqsSuite : public ::testing::Test {
 protected:
  static void SetUpTestSuite();
  static void TearDownTestSuite();
  void SetUp() override;

  static FauxqsServer* server_;
  static std::string* start_error_;
};

}  // namespace cairn::testing

#define CAIRN_REQUIRE_FAUXQS()                                                                   \
  do {                                                                                           \
    std::string _why = ::cairn::testing::FauxqsUnavailableReason();                              \
    if (!_why.empty()) {                                                                         \
      const char* _ci = std::getenv("CI");                                                       \
      if (_ci != nullptr && std::string(_ci) == "true") {                                        \
        FAIL() << "fauxqs emulator unavailable under CI=true: " << _why;                         \
      }                                                                                          \
      GTEST_SKIP() << "fauxqs emulator unavailable (" << _why << "); run `npm ci` in the "       \
                   << "repository root (make test does) to run the AWS integration tests";     \
    }                                                                                            \
  } while (0)
