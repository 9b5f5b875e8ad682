#pragma once
// Test only: a small HTTP/1.1 server on 127.0.0.1 (port chosen by the kernel) that answers each
// request with a handler's response, records every request, and can misbehave on purpose: close
// without answering, cut the body short, or wait before answering. One thread per connection;
// keep-alive supported. Used to test the libcurl client, credential endpoints (IMDS, ECS, STS)
// and the retry logic without any network.

#include <atomic>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

namespace cairn::aws::testing {

struct TestRequest {
  std::string method;
  std::string target;  // path?query as sent
  std::string path;
  std::string query;
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string Header(const std::string& lower_name) const {
    auto it = headers.find(lower_name);
    return it == headers.end() ? std::string() : it->second;
  }
};

struct TestResponse {
  int status = 200;
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  bool close_without_response = false;  // read the request, then close the socket
  long truncate_body_at = -1;           // send Content-Length of the whole body, then only this many bytes
  int delay_ms = 0;                     // wait before answering
};

class TestHttpServer {
 public:
  using Handler = std::function<TestResponse(const TestRequest&)>;
  explicit TestHttpServer(Handler handler);
  ~TestHttpServer();
  TestHttpServer(const TestHttpServer&) = delete;
  TestHttpServer& operator=(const TestHttpServer&) = delete;

  int port() const { return port_; }
  std::string url() const { return "http://127.0.0.1:" + std::to_string(port_); }
  std::string host() const { return "127.0.0.1:" + std::to_string(port_); }
  std::vector<TestRequest> requests() const;
  int connections() const { return connections_.load(); }

 private:
  void AcceptLoop();
  void Serve(int fd);

  Handler handler_;
  int listen_fd_ = -1;
  int port_ = 0;
  std::atomic<bool> stop_{false};
  std::atomic<int> connections_{0};
  std::thread acceptor_;
  mutable std::mutex mu_;
  std::vector<TestRequest> requests_;
  std::vector<std::thread> workers_;
};

}  // namespace cairn::aws::testing
