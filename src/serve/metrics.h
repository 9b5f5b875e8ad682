#pragma once
// `cairn serve`'s own Prometheus metrics (text format 0.0.4), appended to the collector's on the
// metrics port (serve.metrics, else collect.metrics). Names and meanings: docs/serve.md, "Logs
// and metrics".

#include <string>

namespace cairn::serve {

struct ServerStats;
class JobManager;

// Either may be null (left out).
std::string RenderServeMetrics(const ServerStats* http, JobManager* jobs);

}  // namespace cairn::serve
