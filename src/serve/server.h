#pragma once
// The HTTP(S) server: Boost.Beast over Asio with synchronous I/O, one thread per connection (at
// most max_connections; one more is answered 503 and closed), OpenSSL TLS when a certificate and
// key are given. Every request goes to a Router.
//
// Limits: the request line and headers (max_header_bytes, else 431), the body (max_body_bytes,
// else 413), malformed HTTP (400, connection closed). Timeouts: a watchdog thread shuts down a
// connection that takes longer than read_timeout_ms to send a whole request (also an idle
// keep-alive connection) or longer than write_timeout_ms to take a response piece; while a
// handler runs (a blocking search), or a streamed response waits for its next piece (an export's
// search), no timeout applies.
//
// Stop() stops accepting, closes idle connections, lets requests in progress finish for up to
// drain_ms, then shuts down the rest and waits for every connection thread.
//
// Thread safety: Start, port and Stop from one thread; handlers run on connection threads.

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include "common/status.h"
#include "serve/router.h"

namespace cairn::serve {

struct ServerOptions {
  std::string bind = "127.0.0.1";
  int port = 8089;       // 0: any free port (see HttpServer::port)
  std::string tls_cert;  // PEM certificate chain; with tls_key, the server speaks HTTPS only
  std::string tls_key;   // PEM private key
  size_t max_header_bytes = 16 << 10;
  size_t max_body_bytes = 16 << 20;
  int64_t read_timeout_ms = 30'000;
  int64_t write_timeout_ms = 60'000;
  int max_connections = 64;
  int64_t drain_ms = 10'000;
};

struct ServerStats {
  // Upper bounds (seconds) of the request latency histogram's buckets; the last is +Inf.
  static constexpr double kLatencyBounds[] = {0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25,
                                              0.5,   1,     2.5,  5,     10,   30};
  static constexpr size_t kBuckets = sizeof(kLatencyBounds) / sizeof(double) + 1;
  std::atomic<uint64_t> connections{0};
  std::atomic<uint64_t> connections_refused{0};  // over max_connections
  std::atomic<int64_t> connections_open{0};
  std::atomic<uint64_t> requests{0};
  std::atomic<uint64_t> bad_requests{0};  // malformed, too large, timed out
  std::atomic<uint64_t> responses_2xx{0}, responses_4xx{0}, responses_5xx{0};
  std::atomic<uint64_t> latency_us_sum{0};  // time from a whole request read to its response sent
  std::atomic<uint64_t> latency_buckets[kBuckets] = {};  // not cumulative
  void ObserveLatency(double seconds) {
    size_t i = 0;
    while (i + 1 < kBuckets && seconds > kLatencyBounds[i]) ++i;
    latency_buckets[i]++;
  }
};

class HttpServer {
 public:
  // Binds and starts accepting. InvalidArgument for a bad address or TLS files, Unavailable when
  // the port is taken.
  static Result<std::unique_ptr<HttpServer>> Start(const ServerOptions& options,
                                                   const Router* router);
  ~HttpServer();  // Stop()
  int port() const;
  bool tls() const;
  void Stop();
  const ServerStats& stats() const;

  struct Impl;

 private:
  HttpServer() = default;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::serve
