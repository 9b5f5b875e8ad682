#include "serve/metrics.h"

#include <fmt/format.h>

#include "serve/jobs.h"
#include "serve/server.h"

namespace cairn::serve {

std::string RenderServeMetrics(const ServerStats* http, JobManager* jobs) {
  std::string out;
  auto counter = [&](const char* name, const char* help, uint64_t v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} counter\n{0} {2}\n", name, help, v);
  };
  auto gauge = [&](const char* name, const char* help, double v) {
    out += fmt::format("# HELP {0} {1}\n# TYPE {0} gauge\n{0} {2}\n", name, help, v);
  };
  if (http != nullptr) {
    counter("cairn_serve_connections_total", "Connections accepted.", http->connections.load());
    counter("cairn_serve_connections_refused_total",
            "Connections refused over serve.max_connections.", http->connections_refused.load());
    gauge("cairn_serve_connections_open", "Connections open now.",
          static_cast<double>(http->connections_open.load()));
    counter("cairn_serve_requests_total", "Requests read whole and handled.",
            http->requests.load());
    counter("cairn_serve_bad_requests_total",
            "Requests refused before a handler: malformed, too large, timed out, failed TLS "
            "handshakes.",
            http->bad_requests.load());
    out +=
        "# HELP cairn_serve_responses_total Responses by status class.\n# TYPE "
        "cairn_serve_responses_total counter\n";
    out += fmt::format("cairn_serve_responses_total{{class=\"2xx\"}} {}\n",
                       http->responses_2xx.load());
    out += fmt::format("cairn_serve_responses_total{{class=\"4xx\"}} {}\n",
                       http->responses_4xx.load());
    out += fmt::format("cairn_serve_responses_total{{class=\"5xx\"}} {}\n",
                       http->responses_5xx.load());
    out +=
        "# HELP cairn_serve_request_duration_seconds From a request read whole to its response "
        "sent.\n"
        "# TYPE cairn_serve_request_duration_seconds histogram\n";
    uint64_t cumulative = 0;
    for (size_t i = 0; i < ServerStats::kBuckets; ++i) {
      cumulative += http->latency_buckets[i].load();
      const std::string le = i + 1 < ServerStats::kBuckets
                                 ? fmt::format("{}", ServerStats::kLatencyBounds[i])
                                 : "+Inf";
      out += fmt::format("cairn_serve_request_duration_seconds_bucket{{le=\"{}\"}} {}\n", le,
                         cumulative);
    }
    out += fmt::format("cairn_serve_request_duration_seconds_sum {}\n",
                       http->latency_us_sum.load() / 1e6);
    out += fmt::format("cairn_serve_request_duration_seconds_count {}\n", cumulative);
  }
  if (jobs != nullptr) {
    const auto& c = jobs->counters();
    counter("cairn_serve_search_jobs_created_total",
            "Search jobs created (oneshot and export included).", c.created.load());
    out +=
        "# HELP cairn_serve_searches_total Searches finished, by outcome.\n# TYPE "
        "cairn_serve_searches_total counter\n";
    out += fmt::format("cairn_serve_searches_total{{outcome=\"done\"}} {}\n", c.done.load());
    out += fmt::format("cairn_serve_searches_total{{outcome=\"failed\"}} {}\n", c.failed.load());
    out +=
        fmt::format("cairn_serve_searches_total{{outcome=\"cancelled\"}} {}\n", c.cancelled.load());
    counter("cairn_serve_search_run_microseconds_total",
            "Time searches ran on the workers, summed.", c.run_us_sum.load());
    gauge("cairn_serve_searches_running", "Searches running now.",
          static_cast<double>(jobs->running()));
    gauge("cairn_serve_searches_queued", "Searches waiting for a worker.",
          static_cast<double>(jobs->queued()));
    gauge("cairn_serve_search_jobs", "Jobs kept (running, waiting or holding results).",
          static_cast<double>(jobs->size()));
  }
  return out;
}

}  // namespace cairn::serve
