#pragma once
// What the REST handlers share, and one Register function per rest_*.cc file. To add an endpoint
// family (the web UI, the HTTP Event Collector), write rest_<name>.cc with a Register<Name>
// function that calls router->Add for each route, declare it here and call it in
// RegisterAllRoutes (rest_routes.cc). See README.md.

#include <atomic>
#include <functional>
#include <string>
#include <vector>

#include "collect/input_status.h"
#include "common/status.h"
#include "serve/router.h"

namespace cairn::store {
class Store;
}

namespace cairn::serve {

class Auth;
class InputAdmin;
class AuditLog;
class JobManager;
struct ServerStats;

struct ServeContext {
  Auth* auth = nullptr;
  JobManager* jobs = nullptr;
  store::Store* store = nullptr;  // the writer store the process holds
  std::string data_dir;
  std::string server_name = "cairn";
  std::string splunk_version;               // what /services/server/info reports
  const ServerStats* http_stats = nullptr;  // may be null (tests)
  std::atomic<bool>* stopping = nullptr;    // set when the server drains (may be null)
  AuditLog* audit = nullptr;                // the _audit writer (may be null)
  // The collectors running inside the process, for the status page (unset: none).
  std::function<std::vector<collect::InputStatus>()> collectors;
  // The managed collector inputs (input_admin.h; null: not managed here) and what to call after
  // an admin changed them (the server reconciles its collectors).
  InputAdmin* inputs = nullptr;
  std::function<void()> inputs_changed;
};

void RegisterServerInfo(Router* router, ServeContext* ctx);  // rest_server_info.cc
void RegisterAuth(Router* router, ServeContext* ctx);        // rest_auth.cc
void RegisterSearch(Router* router, ServeContext* ctx);      // rest_search.cc
void RegisterUsers(Router* router, ServeContext* ctx);       // rest_users.cc (admins)
void RegisterInputs(Router* router, ServeContext* ctx);      // rest_inputs.cc (admins)
// The web UI's own port (pages, assets, its JSON API, cookie sessions): rest_ui.cc.
void RegisterUi(Router* router, ServeContext* ctx);
// The HTTP Event Collector's routes, for its own port (rest_hec.cc; HecContext is in hec.h).
struct HecContext;
void RegisterHecRoutes(Router* router, HecContext* hec);
// Every route of the management port, and the authenticator.
void RegisterAllRoutes(Router* router, ServeContext* ctx);  // rest_routes.cc

// The HTTP status of an admin edit's error (users, tokens, inputs): not found 404, invalid 400,
// already exists 409, else 500.
int HttpStatusOf(const Status& s);  // rest_routes.cc

}  // namespace cairn::serve
