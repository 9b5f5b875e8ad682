#pragma once
// A fault-injecting HTTP proxy on 127.0.0.1 in front of the emulator, for the collector's fault
// tests. One request per connection (it answers "Connection: close"). S3 object GETs (paths
// containing "/AWSLogs/") are sabotaged in turn: 503 SlowDown, 500 InternalError, connection
// reset, a truncated body, a response slower than `slow_ms`; every other request passes through.

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cairn::testing {

class FaultProxy {
 public:
  FaultProxy(int upstream_port, int slow_ms);
  ~FaultProxy();
  std::string endpoint() const { return "http://127.0.0.1:" + std::to_string(port_); }
  int faults() const { return faults_.load(); }

 private:
  void Loop();
  void Handle(int fd);
  int upstream_port_;
  int slow_ms_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> counter_{0};
  std::atomic<int> faults_{0};
  std::thread thread_;
  std::vector<std::thread> handlers_;
};

}  // namespace cairn::testing
