#include "collect/metrics.h"

#include <arpa/inet.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "common/clock.h"

namespace cairn::collect {

Metrics::Metrics()
    : bounds_{0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 900},
      buckets_(bounds_.size() + 1, 0) {}

void Metrics::CountError(const std::string& kind) {
  std::lock_guard<std::mutex> lock(mu_);
  ++errors_[kind];
}

void Metrics::NoteEventTime(int64_t ms) {
  int64_t cur = newest_event_ms.load(std::memory_order_relaxed);
  while (ms > cur && !newest_event_ms.compare_exchange_weak(cur, ms)) {
  }
}

void Metrics::ObserveLatency(double ms) {
  std::lock_guard<std::mutex> lock(mu_);
  double s = ms / 1000.0;
  size_t i = std::lower_bound(bounds_.begin(), bounds_.end(), s) - bounds_.begin();
  ++buckets_[i];
  latency_sum_s_ += s;
  ++latency_count_;
  constexpr size_t kMaxSamples = 100000;
  if (samples_.size() < kMaxSamples) {
    samples_.push_back(ms);
  } else {
    samples_[sample_next_++ % kMaxSamples] = ms;
  }
}

std::vector<double> Metrics::LatencySamplesMs() const {
  std::lock_guard<std::mutex> lock(mu_);
  return samples_;
}

double Metrics::LatencyQuantileMs(double q) const {
  std::vector<double> s = LatencySamplesMs();
  if (s.empty()) return 0;
  std::sort(s.begin(), s.end());
  size_t i = std::min(s.size() - 1, static_cast<size_t>(q * static_cast<double>(s.size())));
  return s[i];
}

std::string Metrics::RenderPrometheus(int64_t now_ms) const {
  std::string out;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} counter\n{} {}\n", name, help, name, name, v);
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    out += fmt::format("# HELP {} {}\n# TYPE {} gauge\n{} {}\n", name, help, name, name, v);
  };
  out +=
      "# HELP cairn_collect_messages_total SQS messages by outcome.\n# TYPE "
      "cairn_collect_messages_total counter\n";
  out += fmt::format("cairn_collect_messages_total{{outcome=\"received\"}} {}\n",
                     messages_received.load());
  out += fmt::format("cairn_collect_messages_total{{outcome=\"deleted\"}} {}\n",
                     messages_deleted.load());
  out += fmt::format("cairn_collect_messages_total{{outcome=\"invalid\"}} {}\n",
                     messages_invalid.load());
  out += fmt::format("cairn_collect_messages_total{{outcome=\"test_event\"}} {}\n",
                     messages_test.load());
  out += fmt::format("cairn_collect_messages_total{{outcome=\"ignored\"}} {}\n",
                     messages_ignored.load());
  out += fmt::format("cairn_collect_messages_total{{outcome=\"retried\"}} {}\n",
                     messages_retried.load());
  counter("cairn_collect_empty_polls_total", "ReceiveMessage calls that returned nothing.",
          polls_empty.load());
  out +=
      "# HELP cairn_collect_files_total S3 objects by outcome.\n# TYPE cairn_collect_files_total "
      "counter\n";
  out +=
      fmt::format("cairn_collect_files_total{{outcome=\"ingested\"}} {}\n", files_ingested.load());
  out += fmt::format("cairn_collect_files_total{{outcome=\"skipped\"}} {}\n", files_skipped.load());
  out += fmt::format("cairn_collect_files_total{{outcome=\"failed\"}} {}\n", files_failed.load());
  out += fmt::format("cairn_collect_files_total{{outcome=\"quarantined\"}} {}\n",
                     files_quarantined.load());
  out += fmt::format("cairn_collect_files_total{{outcome=\"digest\"}} {}\n", files_digest.load());
  out +=
      "# HELP cairn_integrity_alerts_total Integrity alerts raised (digest checks, trail "
      "changes).\n";
  out += "# TYPE cairn_integrity_alerts_total counter\n";
  out += fmt::format("cairn_integrity_alerts_total{{source=\"digests\"}} {}\n",
                     integrity_alerts.load());
  out += fmt::format("cairn_integrity_alerts_total{{source=\"trail_change\"}} {}\n",
                     trail_change_alerts.load());
  out +=
      "# HELP cairn_integrity_passes_total Checks of the saved digests against collected files.\n";
  out += "# TYPE cairn_integrity_passes_total counter\n";
  out += fmt::format("cairn_integrity_passes_total {}\n", integrity_passes.load());
  out +=
      "# HELP cairn_integrity_files_matched Log files whose collected hash matched their digest, "
      "at the last pass.\n";
  out += "# TYPE cairn_integrity_files_matched gauge\n";
  out += fmt::format("cairn_integrity_files_matched {}\n", integrity_files_matched.load());
  out += fmt::format("cairn_collect_files_total{{outcome=\"removed\"}} {}\n", files_removed.load());
  out +=
      "# HELP cairn_collect_events_total Events by outcome.\n# TYPE cairn_collect_events_total "
      "counter\n";
  out += fmt::format("cairn_collect_events_total{{outcome=\"read\"}} {}\n", events_read.load());
  out += fmt::format("cairn_collect_events_total{{outcome=\"stored\"}} {}\n", events_stored.load());
  out += fmt::format("cairn_collect_events_total{{outcome=\"duplicate\"}} {}\n",
                     events_duplicate.load());
  out += fmt::format("cairn_collect_events_total{{outcome=\"excluded\"}} {}\n",
                     events_excluded.load());
  out += fmt::format("cairn_collect_events_total{{outcome=\"routed\"}} {}\n", events_routed.load());
  counter("cairn_collect_bytes_total", "Bytes downloaded from S3.", bytes_downloaded.load());
  counter("cairn_collect_commits_total", "Store commits.", commits.load());
  counter("cairn_collect_alerts_stored_total", "New Sigma alerts of streaming detection.",
          alerts_stored.load());
  {
    std::lock_guard<std::mutex> lock(mu_);
    out +=
        "# HELP cairn_collect_errors_total Errors by kind.\n# TYPE cairn_collect_errors_total "
        "counter\n";
    for (const auto& [k, v] : errors_)
      out += fmt::format("cairn_collect_errors_total{{kind=\"{}\"}} {}\n", k, v);
    out +=
        "# HELP cairn_collect_delivery_latency_seconds From SQS SentTimestamp to durable commit.\n"
        "# TYPE cairn_collect_delivery_latency_seconds histogram\n";
    uint64_t cum = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cum += buckets_[i];
      out += fmt::format("cairn_collect_delivery_latency_seconds_bucket{{le=\"{}\"}} {}\n",
                         bounds_[i], cum);
    }
    cum += buckets_.back();
    out += fmt::format("cairn_collect_delivery_latency_seconds_bucket{{le=\"+Inf\"}} {}\n", cum);
    out += fmt::format("cairn_collect_delivery_latency_seconds_sum {}\n", latency_sum_s_);
    out += fmt::format("cairn_collect_delivery_latency_seconds_count {}\n", latency_count_);
  }
  int64_t newest = newest_event_ms.load();
  gauge("cairn_collect_lag_seconds",
        "Now minus the newest stored event's time (0 before any event).",
        newest == 0 ? 0.0 : static_cast<double>(now_ms - newest) / 1000.0);
  gauge("cairn_collect_in_flight_messages", "Messages being worked on.",
        static_cast<double>(in_flight.load()));
  return out;
}

std::string Metrics::StatusLine(int64_t now_ms) const {
  int64_t newest = newest_event_ms.load();
  uint64_t errors = 0;
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : errors_) errors += v;
  }
  return fmt::format(
      "collect: messages {} received {} deleted {} invalid {} retried; files {} ingested {} "
      "skipped {} "
      "quarantined; events {} stored {} duplicate {} excluded; {:.1f} MB; errors {}; in flight {}; "
      "lag {}",
      messages_received.load(), messages_deleted.load(), messages_invalid.load(),
      messages_retried.load(), files_ingested.load(), files_skipped.load(),
      files_quarantined.load(), events_stored.load(), events_duplicate.load(),
      events_excluded.load(), bytes_downloaded.load() / 1e6, errors, in_flight.load(),
      newest == 0 ? std::string("-") : fmt::format("{:.0f}s", (now_ms - newest) / 1000.0));
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::Start(const std::string& listen,
                                                            const Metrics* metrics,
                                                            std::function<std::string()> extra) {
  std::string host = "127.0.0.1";
  std::string port_text = listen;
  if (size_t colon = listen.rfind(':'); colon != std::string::npos) {
    host = listen.substr(0, colon);
    port_text = listen.substr(colon + 1);
  }
  int port = 0;
  try {
    port = std::stoi(port_text);
  } catch (...) {
    return InvalidArgument("metrics address \"{}\" is not HOST:PORT", listen);
  }
  if (port < 0 || port > 65535) return InvalidArgument("metrics port {} out of range", port);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<uint16_t>(port));
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    return InvalidArgument("metrics address \"{}\": \"{}\" is not an IPv4 address", listen, host);
  }
  std::unique_ptr<MetricsServer> s(new MetricsServer());
  s->metrics_ = metrics;
  s->extra_ = std::move(extra);
  s->fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (s->fd_ < 0) return IOError("metrics socket: {}", std::strerror(errno));
  int one = 1;
  ::setsockopt(s->fd_, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
  if (::bind(s->fd_, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0) {
    return IOError("metrics bind {}: {}", listen, std::strerror(errno));
  }
  if (::listen(s->fd_, 16) != 0)
    return IOError("metrics listen {}: {}", listen, std::strerror(errno));
  socklen_t len = sizeof(addr);
  ::getsockname(s->fd_, reinterpret_cast<sockaddr*>(&addr), &len);
  s->port_ = ntohs(addr.sin_port);
  char bound[INET_ADDRSTRLEN] = {};
  ::inet_ntop(AF_INET, &addr.sin_addr, bound, sizeof(bound));
  s->address_ = fmt::format("{}:{}", bound, s->port_);
  s->thread_ = std::thread([p = s.get()] { p->Loop(); });
  return s;
}

MetricsServer::~MetricsServer() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
  if (fd_ >= 0) ::close(fd_);
}

void MetricsServer::Loop() {
  while (!stop_) {
    pollfd p{fd_, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0) continue;
    int c = ::accept4(fd_, nullptr, nullptr, SOCK_CLOEXEC);
    if (c < 0) continue;
    timeval tv{2, 0};
    ::setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    std::string req;
    char buf[2048];
    while (req.find("\r\n\r\n") == std::string::npos && req.size() < 16384) {
      ssize_t n = ::recv(c, buf, sizeof(buf), 0);
      if (n <= 0) break;
      req.append(buf, static_cast<size_t>(n));
    }
    std::string body =
        metrics_ != nullptr ? metrics_->RenderPrometheus(Clock::System()->NowMicros() / 1000) : "";
    if (extra_) body += extra_();
    std::string status = req.rfind("GET ", 0) == 0 ? "200 OK" : "405 Method Not Allowed";
    std::string resp = fmt::format(
        "HTTP/1.0 {}\r\nContent-Type: text/plain; version=0.0.4\r\nContent-Length: "
        "{}\r\nConnection: close\r\n\r\n{}",
        status, body.size(), body);
    size_t sent = 0;
    while (sent < resp.size()) {
      ssize_t n = ::send(c, resp.data() + sent, resp.size() - sent, MSG_NOSIGNAL);
      if (n <= 0) break;
      sent += static_cast<size_t>(n);
    }
    ::close(c);
  }
}

}  // namespace cairn::collect
