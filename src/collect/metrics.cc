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
#include <initializer_list>
#include <string_view>
#include <variant>

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

// Families in the order first seen, each with its samples: one exposition may hold several
// collectors' samples of a family, which the text format wants under one HELP and TYPE.
class Exposition {
 public:
  using Value = std::variant<uint64_t, double>;  // counts as integers
  // The family `name` (made when new) and a sample of it: `suffix` after the name ("_bucket"),
  // the labels (the input's first, when given) and the value.
  void Add(const char* name, const char* type, const char* help, const std::string& input,
           std::initializer_list<std::pair<const char*, std::string>> labels, Value value,
           const char* suffix = "") {
    Family* f = nullptr;
    for (auto& fam : families_) {
      if (fam.name == name) f = &fam;
    }
    if (f == nullptr) f = &families_.emplace_back(Family{name, type, help, {}});
    std::string l;
    if (!input.empty()) l = fmt::format("input=\"{}\"", LabelValue(input));
    for (const auto& [k, v] : labels) {
      if (!l.empty()) l += ',';
      l += fmt::format("{}=\"{}\"", k, LabelValue(v));
    }
    f->samples +=
        fmt::format("{}{}{}{} ", name, suffix, l.empty() ? "" : "{", l.empty() ? "" : l + "}");
    std::visit([&](auto v) { f->samples += fmt::format("{}\n", v); }, value);
  }
  std::string Text() const {
    std::string out;
    for (const auto& f : families_) {
      out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", f.name, f.help, f.name, f.type);
      out += f.samples;
    }
    return out;
  }

 private:
  static std::string LabelValue(std::string_view v) {
    std::string out;
    for (char c : v) {
      if (c == '\\' || c == '"') {
        out += '\\';
        out += c;
      } else if (c == '\n') {
        out += "\\n";
      } else {
        out += c;
      }
    }
    return out;
  }
  struct Family {
    std::string name, type, help, samples;
  };
  std::vector<Family> families_;
};

void Metrics::Render(int64_t now_ms, const std::string& input, Exposition* x) const {
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    x->Add(name, "counter", help, input, {}, v);
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    x->Add(name, "gauge", help, input, {}, v);
  };
  auto by = [&](const char* name, const char* help, const char* label, const char* value,
                uint64_t v) {
    x->Add(name, "counter", help, input, {{label, value}}, v);
  };
  const char* kMessages = "SQS messages by outcome.";
  by("cairn_collect_messages_total", kMessages, "outcome", "received", messages_received.load());
  by("cairn_collect_messages_total", kMessages, "outcome", "deleted", messages_deleted.load());
  by("cairn_collect_messages_total", kMessages, "outcome", "invalid", messages_invalid.load());
  by("cairn_collect_messages_total", kMessages, "outcome", "test_event", messages_test.load());
  by("cairn_collect_messages_total", kMessages, "outcome", "ignored", messages_ignored.load());
  by("cairn_collect_messages_total", kMessages, "outcome", "retried", messages_retried.load());
  counter("cairn_collect_empty_polls_total", "ReceiveMessage calls that returned nothing.",
          polls_empty.load());
  const char* kFiles = "S3 objects by outcome.";
  by("cairn_collect_files_total", kFiles, "outcome", "ingested", files_ingested.load());
  by("cairn_collect_files_total", kFiles, "outcome", "skipped", files_skipped.load());
  by("cairn_collect_files_total", kFiles, "outcome", "failed", files_failed.load());
  by("cairn_collect_files_total", kFiles, "outcome", "quarantined", files_quarantined.load());
  by("cairn_collect_files_total", kFiles, "outcome", "digest", files_digest.load());
  by("cairn_collect_files_total", kFiles, "outcome", "removed", files_removed.load());
  const char* kIntegrity = "Integrity alerts raised (digest checks, trail changes).";
  by("cairn_integrity_alerts_total", kIntegrity, "source", "digests", integrity_alerts.load());
  by("cairn_integrity_alerts_total", kIntegrity, "source", "trail_change",
     trail_change_alerts.load());
  counter("cairn_integrity_passes_total", "Checks of the saved digests against collected files.",
          integrity_passes.load());
  gauge("cairn_integrity_files_matched",
        "Log files whose collected hash matched their digest, at the last pass.",
        static_cast<double>(integrity_files_matched.load()));
  const char* kEvents = "Events by outcome.";
  by("cairn_collect_events_total", kEvents, "outcome", "read", events_read.load());
  by("cairn_collect_events_total", kEvents, "outcome", "stored", events_stored.load());
  by("cairn_collect_events_total", kEvents, "outcome", "duplicate", events_duplicate.load());
  by("cairn_collect_events_total", kEvents, "outcome", "excluded", events_excluded.load());
  by("cairn_collect_events_total", kEvents, "outcome", "routed", events_routed.load());
  counter("cairn_collect_bytes_total", "Bytes downloaded from S3.", bytes_downloaded.load());
  counter("cairn_collect_commits_total", "Store commits.", commits.load());
  counter("cairn_collect_alerts_stored_total", "New Sigma alerts of streaming detection.",
          alerts_stored.load());
  {
    std::lock_guard<std::mutex> lock(mu_);
    for (const auto& [k, v] : errors_) {
      x->Add("cairn_collect_errors_total", "counter", "Errors by kind.", input, {{"kind", k}}, v);
    }
    const char* kLatency = "cairn_collect_delivery_latency_seconds";
    const char* kLatencyHelp = "From SQS SentTimestamp to durable commit.";
    uint64_t cum = 0;
    for (size_t i = 0; i < bounds_.size(); ++i) {
      cum += buckets_[i];
      x->Add(kLatency, "histogram", kLatencyHelp, input, {{"le", fmt::format("{}", bounds_[i])}},
             cum, "_bucket");
    }
    cum += buckets_.back();
    x->Add(kLatency, "histogram", kLatencyHelp, input, {{"le", "+Inf"}}, cum, "_bucket");
    x->Add(kLatency, "histogram", kLatencyHelp, input, {}, latency_sum_s_, "_sum");
    x->Add(kLatency, "histogram", kLatencyHelp, input, {}, latency_count_, "_count");
  }
  int64_t newest = newest_event_ms.load();
  gauge("cairn_collect_lag_seconds",
        "Now minus the newest stored event's time (0 before any event).",
        newest == 0 ? 0.0 : static_cast<double>(now_ms - newest) / 1000.0);
  gauge("cairn_collect_in_flight_messages", "Messages being worked on.",
        static_cast<double>(in_flight.load()));
}

std::string Metrics::RenderPrometheus(int64_t now_ms) const {
  return RenderPrometheusSets({{"", this}}, now_ms);
}

std::string RenderPrometheusSets(const std::vector<MetricsSet>& sets, int64_t now_ms) {
  Exposition x;
  for (const auto& set : sets) {
    if (set.metrics != nullptr) set.metrics->Render(now_ms, set.input, &x);
  }
  return x.Text();
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
