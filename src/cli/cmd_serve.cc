// `cairn serve`: the long-running process that owns the data folder (the writer lock), runs the
// collectors configured in cairn.toml / inputs.conf, merges in the background, and answers
// Splunk's REST search API on the management port (see docs/serve.md).
// `cairn serve passwd USER` sets a user's password (read from stdin); `cairn serve token USER`
// prints a new API token.

#include <fmt/format.h>
#include <unistd.h>

#include <csignal>
#include <cstdio>
#include <fstream>
#include <iostream>
#include <memory>
#include <thread>

#include "cli/alerts_setup.h"
#include "cli/cli.h"
#include "cli/collect_setup.h"
#include "collect/collector.h"
#include "collect/conf.h"
#include "collect/metrics.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/time_util.h"
#include "serve/audit.h"
#include "serve/auth.h"
#include "serve/hec.h"
#include "serve/input_admin.h"
#include "serve/input_runner.h"
#include "serve/jobs.h"
#include "serve/metrics.h"
#include "serve/rest.h"
#include "serve/server.h"
#include "serve/splunk_format.h"
#include "store/store.h"

extern char** environ;

namespace cairn::cli {
namespace {

std::atomic<bool> g_serve_stop{false};
void OnServeSignal(int) { g_serve_stop.store(true); }

struct ServeFlags {
  std::string config;
  std::string data;
  std::string bind;
  int port = -1;
  std::string tls_cert, tls_key;
  int search_workers = 0;
  std::string port_file;
  std::string metrics;
  int ui_port = -2;  // -2: serve.ui_port (default 8000); -1: no web UI
  std::string ui_port_file;
  int hec_port = -1;
  std::string hec_port_file;
  std::string users_file;
  bool no_collect = false;
  AlertsSetupArgs alerts;  // --savedsearches, --cis, --macros
  bool no_alerts = false;
  std::string rules;  // --rules: Sigma rules on every committed batch (collectors and HEC)
  // passwd / token
  std::string user;
  std::string role = "user";
};

std::string UsersFile(const Globals& g, const Config& config, const ServeFlags& f) {
  if (!f.users_file.empty()) return f.users_file;
  return config.GetString("serve.users_file",
                          JoinPath(f.data.empty() ? g.data_dir : f.data, "users"));
}

int RunPasswd(const Globals& g, const ServeFlags& f) {
  std::string password;
  if (isatty(STDIN_FILENO)) std::fprintf(stderr, "Password for %s: ", f.user.c_str());
  std::getline(std::cin, password);
  if (!password.empty() && password.back() == '\r') password.pop_back();
  const std::string path = UsersFile(g, g.config, f);
  Status s = serve::SetUserPassword(path, f.user, f.role, password);
  if (!s.ok()) {
    std::fprintf(stderr, "cairn serve passwd: %s\n", s.message().c_str());
    return kExitUsage;
  }
  std::printf("user %s (%s) saved in %s\n", f.user.c_str(), f.role.c_str(), path.c_str());
  return kExitOk;
}

int RunToken(const Globals& g, const ServeFlags& f) {
  auto token = serve::AddApiToken(UsersFile(g, g.config, f), f.user);
  if (!token.ok()) {
    std::fprintf(stderr, "cairn serve token: %s\n", token.status().message().c_str());
    return kExitUsage;
  }
  std::printf("%s\n", token->c_str());
  return kExitOk;
}

template <typename T>
bool ConfigInt(const Config& config, const char* key, T fallback, T* out) {
  auto v = config.GetInt(key, static_cast<int64_t>(fallback));
  if (!v.ok()) {
    std::fprintf(stderr, "cairn serve: %s\n", v.status().message().c_str());
    return false;
  }
  *out = static_cast<T>(*v);
  return true;
}

int RunServe(Globals* g, const ServeFlags& f) {
  // The collectors' configuration (and collect.* overrides) the way `cairn collect` reads it.
  auto setup = std::make_unique<CollectSetup>();
  CollectFlags cf;
  cf.config = f.config;
  cf.data = f.data;
  cf.rules = f.rules;
  if (Status s = LoadCollectSetup(*g, cf, false, &g_serve_stop, setup.get()); !s.ok()) {
    std::fprintf(stderr, "cairn serve: %s\n", s.message().c_str());
    return kExitUsage;
  }
  // serve --config names a cairn.toml whose [serve] section applies too (a global --config was
  // loaded already by main; CAIRN_* variables and flags still win over the file).
  if (!f.config.empty() && f.config != g->config_path) {
    auto text = ReadFileToString(FileSystem::Default(), f.config, 16u << 20);
    if (text.ok() && !collect::LooksLikeSplunkConf(f.config, *text)) {
      Config merged;
      if (Status s = merged.LoadTomlFile(f.config); !s.ok()) {
        std::fprintf(stderr, "cairn serve: %s\n", s.message().c_str());
        return kExitUsage;
      }
      for (const auto& key : merged.Keys()) {
        if ((key.rfind("serve.", 0) == 0 || key.rfind("alerts.", 0) == 0) &&
            setup->config.Origin(key).rfind("flag", 0) != 0 &&
            setup->config.Origin(key).rfind("env ", 0) != 0) {
          setup->config.Set(key, *merged.GetString(key), merged.Origin(key));
        }
      }
    }
  }
  {
    std::vector<std::string> environment;
    for (char** e = environ; e != nullptr && *e != nullptr; ++e) environment.emplace_back(*e);
    std::vector<std::string> keys;
    for (const char* k : {"bind",
                          "port",
                          "tls_cert",
                          "tls_key",
                          "users_file",
                          "search_workers",
                          "search_threads",
                          "search_concurrency",
                          "max_connections",
                          "max_header_bytes",
                          "max_body_bytes",
                          "read_timeout",
                          "write_timeout",
                          "session_ttl",
                          "job_ttl",
                          "splunk_version",
                          "metrics",
                          "hec_bind",
                          "hec_port",
                          "hec_tls_cert",
                          "hec_tls_key",
                          "hec_max_body_bytes",
                          "hec_max_pending_events",
                          "hec_ack_gather_ms",
                          "hec_ack_gather_events",
                          "hec_committers"}) {
      keys.push_back(std::string("serve.") + k);
    }
    setup->config.LoadEnvironment(environment, keys);
  }
  const Config& config = setup->config;
  const std::string data_dir = setup->options.data_dir;

  serve::ServerOptions so;
  so.bind = f.bind.empty() ? config.GetString("serve.bind", "127.0.0.1") : f.bind;
  if (f.port >= 0) {
    so.port = f.port;
  } else if (!ConfigInt(config, "serve.port", 8089, &so.port)) {
    return kExitUsage;
  }
  so.tls_cert = f.tls_cert.empty() ? config.GetString("serve.tls_cert", "") : f.tls_cert;
  so.tls_key = f.tls_key.empty() ? config.GetString("serve.tls_key", "") : f.tls_key;
  auto header_bytes = config.GetBytes("serve.max_header_bytes", so.max_header_bytes);
  auto body_bytes = config.GetBytes("serve.max_body_bytes", so.max_body_bytes);
  auto read_timeout = config.GetDurationMillis("serve.read_timeout", so.read_timeout_ms);
  auto write_timeout = config.GetDurationMillis("serve.write_timeout", so.write_timeout_ms);
  auto session_ttl = config.GetDurationMillis("serve.session_ttl", 3600'000);
  auto job_ttl = config.GetDurationMillis("serve.job_ttl", 600'000);
  for (const Status* s : {&header_bytes.status(), &body_bytes.status(), &read_timeout.status(),
                          &write_timeout.status(), &session_ttl.status(), &job_ttl.status()}) {
    if (!s->ok()) {
      std::fprintf(stderr, "cairn serve: %s\n", s->message().c_str());
      return kExitUsage;
    }
  }
  so.max_header_bytes = *header_bytes;
  so.max_body_bytes = *body_bytes;
  so.read_timeout_ms = *read_timeout;
  so.write_timeout_ms = *write_timeout;
  if (!ConfigInt(config, "serve.max_connections", 64, &so.max_connections)) return kExitUsage;
  if (so.bind != "127.0.0.1" && so.bind != "::1" && so.bind != "localhost" && so.tls_cert.empty()) {
    log::Warn(
        "serve: listening on {} without TLS: passwords and session keys cross the network in clear",
        so.bind);
  }

  // Users: the file, or a first admin from CAIRN_ADMIN_PASSWORD (never a default password).
  serve::AuthOptions ao;
  ao.users_file = UsersFile(*g, config, f);
  ao.session_ttl_ms = *session_ttl;
  serve::Auth auth(ao);

  // The data folder's writer lock, held until exit; collectors and searches share this store.
  store::StoreOptions sto = WriterStoreOptions(*g);
  sto.data_dir = data_dir;
  auto opened = store::Store::Open(sto);
  if (!opened.ok()) {
    std::fprintf(stderr, "cairn serve: %s\n", opened.status().ToString().c_str());
    return kExitFailed;
  }
  std::unique_ptr<store::Store> st = std::move(*opened);

  // Every login and search into the internal index _audit (committed in the background; stopped,
  // after a last commit, before the store closes).
  serve::AuditLogOptions alo;
  alo.store = st.get();
  auto audit = std::make_unique<serve::AuditLog>(alo);
  auth.SetAudit(audit.get());
  // The status page's recent warnings and errors.
  log::KeepRecent(50);

  if (auth.UserCount() == 0) {
    const char* pw = std::getenv("CAIRN_ADMIN_PASSWORD");
    if (pw != nullptr && *pw != '\0') {
      Status s = serve::SetUserPassword(ao.users_file, "admin", "admin", pw);
      if (!s.ok()) {
        std::fprintf(stderr, "cairn serve: CAIRN_ADMIN_PASSWORD: %s\n", s.message().c_str());
        return kExitUsage;
      }
      log::Info("serve: created user admin from CAIRN_ADMIN_PASSWORD in {}", ao.users_file);
    } else {
      log::Warn(
          "serve: no users in {}: nobody can log in. Add one with `cairn serve passwd NAME --role "
          "admin` "
          "(password on stdin) or set CAIRN_ADMIN_PASSWORD",
          ao.users_file);
    }
  }

  serve::JobManagerOptions jo;
  jo.store = st.get();
  jo.data_dir = data_dir;
  const int cores = std::max(1, static_cast<int>(std::thread::hardware_concurrency()));
  jo.workers = f.search_workers > 0 ? f.search_workers : 0;
  if (jo.workers == 0 &&
      !ConfigInt(config, "serve.search_workers", std::max(1, cores / 2), &jo.workers)) {
    return kExitUsage;
  }
  if (!ConfigInt(config, "serve.search_concurrency", 16, &jo.concurrency)) return kExitUsage;
  if (!ConfigInt(config, "serve.search_threads", 1, &jo.search_threads)) return kExitUsage;
  jo.default_ttl_s = *job_ttl / 1000;
  jo.audit = audit.get();
  auto jobs = std::make_unique<serve::JobManager>(jo);

  std::atomic<bool> stopping{false};
  serve::ServeContext ctx;
  ctx.auth = &auth;
  ctx.jobs = jobs.get();
  ctx.store = st.get();
  ctx.data_dir = data_dir;
  ctx.splunk_version = config.GetString("serve.splunk_version", serve::kDefaultSplunkVersion);
  ctx.stopping = &stopping;
  ctx.audit = audit.get();
  // Inputs admins manage while the server runs (<data>/serve/inputs.conf; a configured input of
  // the same name wins), each run by a collector of its own on this store (serve/input_runner.h).
  serve::InputAdmin input_admin(JoinPath(JoinPath(data_dir, "serve"), "inputs.conf"),
                                setup->options.config.inputs);
  serve::ManagedCollectorsOptions mco;
  mco.path = input_admin.path();
  for (const auto& in : setup->options.config.inputs) mco.configured.push_back(in.name);
  mco.base = setup->options;  // a copy, before the configured collector takes the options
  mco.base.store = st.get();
  serve::ManagedCollectors managed(std::move(mco));
  ctx.inputs = &input_admin;
  ctx.inputs_changed = [&managed] { managed.Changed(); };
  // The status page asks the collectors (once they run) for their inputs' state; set here, before
  // any server thread reads the context.
  std::atomic<collect::Collector*> running_collector{nullptr};
  ctx.collectors = [&running_collector, &managed] {
    collect::Collector* c = running_collector.load();
    auto out = c != nullptr ? c->InputStatuses() : std::vector<collect::InputStatus>{};
    for (auto& st : managed.InputStatuses()) out.push_back(std::move(st));
    return out;
  };
  serve::Router router;
  serve::RegisterAllRoutes(&router, &ctx);
  serve::Router ui_router;  // the web UI on its own port (rest_ui.cc)
  serve::RegisterUi(&ui_router, &ctx);
  serve::ServerOptions ui_so = so;
  if (f.ui_port != -2) {
    ui_so.port = f.ui_port;
  } else if (!ConfigInt(config, "serve.ui_port", so.port == 0 ? 0 : 8000, &ui_so.port)) {
    return kExitUsage;  // (with the management port 0, the UI too takes any free port)
  }

  // The HTTP Event Collector on its own port, when [[serve.hec_token]] tables are configured.
  serve::HecContext hec_ctx;
  std::unique_ptr<serve::HecIngest> hec_ingest;
  std::unique_ptr<serve::HttpServer> hec_server;
  serve::Router hec_router;
  {
    std::string toml_path = !f.config.empty() ? f.config : g->config_path;
    if (toml_path.empty() && FileSystem::Default()->Exists("cairn.toml")) toml_path = "cairn.toml";
    if (!toml_path.empty()) {
      auto text = ReadFileToString(FileSystem::Default(), toml_path, 16u << 20);
      if (text.ok() && !collect::LooksLikeSplunkConf(toml_path, *text)) {
        auto tokens = serve::ParseHecTokens(*text, toml_path);
        if (!tokens.ok()) {
          std::fprintf(stderr, "cairn serve: %s\n", tokens.status().message().c_str());
          return kExitUsage;
        }
        hec_ctx.tokens = std::move(*tokens);
      }
    }
  }
  serve::ServerOptions hso = so;
  if (hec_ctx.tokens.empty() && (f.hec_port >= 0 || config.Has("serve.hec_port"))) {
    log::Warn("serve: no [[serve.hec_token]] configured: the HTTP Event Collector is not started");
  }
  if (!hec_ctx.tokens.empty()) {
    hso.bind = config.GetString("serve.hec_bind", so.bind);
    if (f.hec_port >= 0) {
      hso.port = f.hec_port;
    } else if (!ConfigInt(config, "serve.hec_port", 8088, &hso.port)) {
      return kExitUsage;
    }
    hso.tls_cert = config.GetString("serve.hec_tls_cert", so.tls_cert);
    hso.tls_key = config.GetString("serve.hec_tls_key", so.tls_key);
    auto hec_body = config.GetBytes("serve.hec_max_body_bytes", 16u << 20);
    if (!hec_body.ok()) {
      std::fprintf(stderr, "cairn serve: %s\n", hec_body.status().message().c_str());
      return kExitUsage;
    }
    hso.max_body_bytes = *hec_body;
    hec_ctx.max_decompressed_bytes = std::max<uint64_t>(*hec_body * 4, 64u << 20);
    serve::HecIngestOptions hio;
    hio.store = st.get();
    hio.rules = setup->rules.get();  // [detect] rules / --rules, as for the collectors
    if (!ConfigInt(config, "serve.hec_max_pending_events", hio.max_pending_events,
                   &hio.max_pending_events)) {
      return kExitUsage;
    }
    int64_t gather_ms = hio.ack_gather.count();
    if (!ConfigInt(config, "serve.hec_ack_gather_ms", gather_ms, &gather_ms) ||
        !ConfigInt(config, "serve.hec_ack_gather_events", hio.ack_gather_events,
                   &hio.ack_gather_events) ||
        !ConfigInt(config, "serve.hec_committers", hio.committers, &hio.committers)) {
      return kExitUsage;
    }
    hio.ack_gather = std::chrono::milliseconds(gather_ms);
    if (hio.committers < 1 || hio.committers > 16) {
      std::fprintf(stderr, "cairn serve: serve.hec_committers must be 1 to 16\n");
      return kExitUsage;
    }
    hec_ingest = std::make_unique<serve::HecIngest>(hio);
    hec_ctx.ingest = hec_ingest.get();
    serve::RegisterHecRoutes(&hec_router, &hec_ctx);
  }

  struct sigaction sa {};
  sa.sa_handler = OnServeSignal;
  sigemptyset(&sa.sa_mask);
  sigaction(SIGTERM, &sa, nullptr);
  sigaction(SIGINT, &sa, nullptr);
  signal(SIGPIPE, SIG_IGN);

  auto server = serve::HttpServer::Start(so, &router);
  if (!server.ok()) {
    std::fprintf(stderr, "cairn serve: %s\n", server.status().message().c_str());
    return kExitUsage;
  }
  ctx.http_stats = &(*server)->stats();
  if (hec_ingest) {
    auto hs = serve::HttpServer::Start(hso, &hec_router);
    if (!hs.ok()) {
      std::fprintf(stderr, "cairn serve: HTTP Event Collector: %s\n",
                   hs.status().message().c_str());
      return kExitUsage;
    }
    hec_server = std::move(*hs);
    log::Info("serve: HTTP Event Collector on {}://{}:{} ({} tokens)",
              hec_server->tls() ? "https" : "http", hso.bind, hec_server->port(),
              hec_ctx.tokens.size());
    std::fprintf(stderr, "cairn serve: HTTP Event Collector on %s://%s:%d\n",
                 hec_server->tls() ? "https" : "http", hso.bind.c_str(), hec_server->port());
    if (!f.hec_port_file.empty()) {
      Status s = WriteFileAtomic(FileSystem::Default(), f.hec_port_file,
                                 std::to_string(hec_server->port()) + "\n");
      if (!s.ok()) log::Warn("serve: --hec-port-file: {}", s.message());
    }
  }
  const int port = (*server)->port();
  log::Info("serve: REST API on {}://{}:{} ({} search workers), data {}",
            (*server)->tls() ? "https" : "http", so.bind, port, jo.workers, data_dir);
  std::fprintf(stderr, "cairn serve: listening on %s://%s:%d\n",
               (*server)->tls() ? "https" : "http", so.bind.c_str(), port);
  if (!f.port_file.empty()) {
    Status s = WriteFileAtomic(FileSystem::Default(), f.port_file, std::to_string(port) + "\n");
    if (!s.ok()) log::Warn("serve: --port-file: {}", s.message());
  }

  std::unique_ptr<serve::HttpServer> ui_server;
  if (ui_so.port >= 0) {
    // A UI port that cannot be bound leaves the REST API and collection running (said loudly).
    auto started = serve::HttpServer::Start(ui_so, &ui_router);
    if (!started.ok()) {
      log::Error("serve: web UI not started on port {}: {}", ui_so.port,
                 started.status().message());
      std::fprintf(stderr, "cairn serve: web UI not started: %s\n",
                   started.status().message().c_str());
    } else {
      ui_server = std::move(*started);
    }
  }
  if (ui_server) {
    const int ui_port = ui_server->port();
    log::Info("serve: web UI on {}://{}:{}", ui_server->tls() ? "https" : "http", ui_so.bind,
              ui_port);
    std::fprintf(stderr, "cairn serve: web UI on %s://%s:%d\n", ui_server->tls() ? "https" : "http",
                 ui_so.bind.c_str(), ui_port);
    if (!f.ui_port_file.empty()) {
      Status s =
          WriteFileAtomic(FileSystem::Default(), f.ui_port_file, std::to_string(ui_port) + "\n");
      if (!s.ok()) log::Warn("serve: --ui-port-file: {}", s.message());
    }
  }

  // The collectors, when the configuration names inputs.
  std::unique_ptr<collect::Collector> collector;
  std::thread collector_thread;
  int collector_exit = kExitOk;
  bool has_inputs = false;
  for (const auto& in : setup->options.config.inputs) has_inputs |= !in.disabled;
  std::string metrics_listen =
      !f.metrics.empty()
          ? f.metrics
          : config.GetString("serve.metrics", setup->options.config.settings.metrics_listen);
  if (has_inputs && !f.no_collect) {
    setup->options.store = st.get();
    setup->options.config.settings.metrics_listen.clear();  // served below, with the server's
    collector = std::make_unique<collect::Collector>(std::move(setup->options));
    running_collector = collector.get();
    collector_thread = std::thread([&] {
      auto r = collector->Run();
      if (!r.ok()) {
        log::Error("serve: collection stopped: {}", r.status().ToString());
        collector_exit = kExitFailed;
      }
    });
  } else {
    log::Info("serve: no collector inputs configured{}",
              setup->path.empty() ? "" : " in " + setup->path);
  }
  if (!f.no_collect) managed.Start();

  // The saved-search scheduler on a thread of its own, on this store (alerts are commits beside
  // the collector's and HEC's). Nothing configured: no scheduler.
  std::unique_ptr<alerts::Scheduler> scheduler;
  std::thread scheduler_thread;
  if (!f.no_alerts) {
    auto made = MakeAlertsScheduler(config, data_dir, f.alerts, st.get());
    if (made.ok()) {
      scheduler = std::move(*made);
      for (const auto& [name, why] : scheduler->invalid()) {
        log::Warn("serve: saved search \"{}\" cannot run: {}", name, why.message());
      }
      scheduler->SetRunObserver([a = audit.get()](const alerts::SavedSearch& search,
                                                  const alerts::RunOutcome& out, double seconds) {
        serve::AuditRecord r;
        r.action = "search";
        r.info = out.status.ok() ? "completed" : "failed";
        r.user = "scheduler";
        r.interface = "scheduler";
        r.savedsearch_name = search.name;
        r.search = search.search;
        r.search_id = fmt::format("scheduler__{}_{}", search.name, out.scheduled_ms / 1000);
        r.earliest = FormatIso8601(out.earliest_ms, true);
        r.latest = FormatIso8601(out.latest_ms, true);
        r.ended = true;
        r.result_count = out.result_count;
        r.total_run_time = seconds;
        if (!out.status.ok()) r.error = out.status.message();
        a->Record(std::move(r));
      });
      scheduler_thread = std::thread([&] {
        Status s = scheduler->Loop();
        if (!s.ok()) log::Error("serve: the alerts scheduler stopped: {}", s.ToString());
      });
      log::Info("serve: alerts scheduler running");
    } else if (made.status().code() == StatusCode::kNotFound && f.alerts.files.empty() &&
               !f.alerts.cis) {
      log::Info("serve: no saved searches configured: no alerts scheduler");
    } else {
      std::fprintf(stderr, "cairn serve: alerts: %s\n", made.status().message().c_str());
      g_serve_stop.store(true);
      collector_exit = kExitUsage;
    }
  }

  // One Prometheus endpoint for the collectors' metrics and the server's (serve.metrics, else
  // collect.metrics): the configured collector's unlabelled, each managed input's labelled
  // input="NAME", under the same families.
  std::unique_ptr<collect::MetricsServer> metrics_server;
  if (!metrics_listen.empty()) {
    const serve::ServerStats* http_stats = &(*server)->stats();
    serve::JobManager* job_manager = jobs.get();
    const collect::Metrics* configured = collector ? collector->metrics() : nullptr;
    auto ms = collect::MetricsServer::Start(
        metrics_listen, nullptr, [http_stats, job_manager, configured, &managed] {
          return managed.RenderMetrics({{"", configured}}, Clock::System()->NowMicros() / 1000) +
                 serve::RenderServeMetrics(http_stats, job_manager);
        });
    if (!ms.ok()) {
      log::Error("serve: metrics: {}", ms.status().message());
    } else {
      metrics_server = std::move(*ms);
      log::Info("serve: metrics on http://{}/metrics", metrics_server->address());
    }
  }

  while (!g_serve_stop.load()) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  log::Info("serve: stopping: draining requests, searches and collection");
  stopping = true;
  // Requests in progress get up to the drain time; then running searches are cancelled so that
  // their connections finish.
  std::thread stopper([&] {
    if (ui_server) ui_server->Stop();
    (*server)->Stop();
    if (hec_server) hec_server->Stop();
  });
  if (collector) collector->RequestStop();
  if (scheduler) scheduler->Stop();  // Loop returns within a second (a running search finishes)
  const auto drain_until =
      std::chrono::steady_clock::now() + std::chrono::milliseconds(so.drain_ms);
  while (jobs->running() > 0 && std::chrono::steady_clock::now() < drain_until) {
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  jobs->CancelAll();
  stopper.join();
  if (hec_ingest) {
    hec_ingest->Stop();  // commits what the event collector queued
    const serve::HecIngestStats hs = hec_ingest->stats();
    log::Info(
        "serve: HTTP Event Collector: {} requests, {} events received, {} stored, {} duplicates, "
        "{} commits ({} failed), {} refused busy, {} Sigma alerts",
        hs.requests, hs.events, hs.stored, hs.duplicates, hs.commits, hs.commit_errors, hs.busy,
        hs.alerts);
  }
  managed.Stop();  // each managed input finishes the messages it holds
  if (collector_thread.joinable()) collector_thread.join();
  if (scheduler_thread.joinable()) scheduler_thread.join();
  scheduler.reset();
  metrics_server.reset();
  jobs.reset();
  audit->Stop();  // the last records (the searches just cancelled) are committed first
  {
    const serve::AuditStats as = audit->stats();
    log::Info("serve: audit: {} records, {} stored, {} dropped", as.recorded, as.stored,
              as.dropped);
  }
  Status closed = st->Close();
  if (!closed.ok()) {
    log::Error("serve: closing the store: {}", closed.ToString());
    return kExitFailed;
  }
  log::Info("serve: stopped");
  return collector_exit;
}

}  // namespace

void RegisterServe(CLI::App* app, Globals* g) {
  auto f = std::make_shared<ServeFlags>();
  CLI::App* cmd = app->add_subcommand(
      "serve",
      "Run the search head: Splunk's REST search API, with the configured collectors inside");
  cmd->add_option("--config", f->config,
                  "cairn.toml ([serve] and [[collect.input]]) or a Splunk inputs.conf");
  cmd->add_option("--data", g->data_dir, "Data folder (default ./cairn-data; CAIRN_DATA)");
  cmd->add_option("--bind", f->bind, "Address to listen on (serve.bind, default 127.0.0.1)");
  cmd->add_option("--port", f->port,
                  "Management (REST) port (serve.port, default 8089; 0: any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--ui-port", f->ui_port,
                  "Web UI port (serve.ui_port, default 8000; 0: any free port; -1: no web UI)")
      ->check(CLI::Range(-1, 65535));
  cmd->add_option("--ui-port-file", f->ui_port_file,
                  "Write the web UI's port to this file once listening");
  cmd->add_option("--tls-cert", f->tls_cert, "PEM certificate chain: serve HTTPS (serve.tls_cert)");
  cmd->add_option("--tls-key", f->tls_key, "PEM private key (serve.tls_key)");
  cmd->add_option("--search-workers", f->search_workers,
                  "CPU slots: searches computing at once (serve.search_workers)")
      ->check(CLI::Range(1, 256));
  cmd->add_option("--users", f->users_file, "Users file (serve.users_file, default <data>/users)");
  cmd->add_option("--port-file", f->port_file,
                  "Write the port listened on to this file once listening");
  cmd->add_option(
      "--metrics", f->metrics,
      "Serve Prometheus metrics (collection, requests, searches) on HOST:PORT (serve.metrics, else "
      "collect.metrics)");
  cmd->add_option("--hec-port", f->hec_port,
                  "HTTP Event Collector port (serve.hec_port, default 8088; 0: any free port)")
      ->check(CLI::Range(0, 65535));
  cmd->add_option("--hec-port-file", f->hec_port_file,
                  "Write the HTTP Event Collector's port to this file once listening");
  cmd->add_flag("--no-collect", f->no_collect, "Do not run the configured collectors");
  cmd->add_option("--savedsearches", f->alerts.files,
                  "Run this savedsearches.conf's scheduled alerts (repeatable; default: "
                  "alerts.savedsearches, else <data>/savedsearches.conf)");
  cmd->add_flag("--cis", f->alerts.cis,
                "Also run the built-in CIS AWS Foundations monitoring controls (alerts.cis)");
  cmd->add_option("--macros", f->alerts.macros, "A macros.conf file for the saved searches");
  cmd->add_option(
      "--rules", f->rules,
      "Sigma rules run on every committed batch (collected and HEC events), alerts into "
      "index alerts (default: [detect] rules in cairn.toml; none: off)");
  cmd->add_flag("--no-alerts", f->no_alerts, "Do not run the saved-search scheduler");
  AddNoWaitFlag(cmd, g);

  CLI::App* passwd =
      cmd->add_subcommand("passwd", "Set a user's password (read from stdin) and role");
  passwd->add_option("user", f->user, "User name")->required();
  passwd->add_option("--role", f->role, "admin or user (default user)")
      ->check(CLI::IsMember({"admin", "user"}));
  CLI::App* token = cmd->add_subcommand("token", "Create an API token for a user (printed once)");
  for (CLI::App* sub : {passwd, token}) {
    sub->add_option("--data", g->data_dir, "Data folder (default ./cairn-data; CAIRN_DATA)");
    sub->add_option("--users", f->users_file,
                    "Users file (serve.users_file, default <data>/users)");
  }
  token->add_option("user", f->user, "User name")->required();

  cmd->callback([f, g, passwd, token]() {
    if (passwd->parsed()) {
      g->run = [f, g] { return RunPasswd(*g, *f); };
    } else if (token->parsed()) {
      g->run = [f, g] { return RunToken(*g, *f); };
    } else {
      g->run = [f, g] { return RunServe(g, *f); };
    }
  });
}

}  // namespace cairn::cli
