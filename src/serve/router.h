#pragma once
// Routes: (method, path pattern) -> handler, with who may call it. Handlers live in rest_*.cc
// files, each with a Register* function that adds its routes (see README.md, "Adding routes").
//
// Patterns are absolute paths whose segments are literals or {name} (one segment, captured into
// Request::captures, percent-decoded). A path under /servicesNS/<user>/<app>/ is matched as the
// same path under /services/ (the user and app are kept in Request::ns_user/ns_app), as Splunk
// does. When several routes match, the one with the fewest captures wins (so
// /services/search/jobs/export beats /services/search/jobs/{sid}). A trailing slash is ignored.
//
// Dispatch authenticates (unless the route is public), checks the role, calls the handler and
// turns a missing route (404), a wrong method (405), missing credentials (401), a too-weak role
// (403) and a handler's exception (500) into Splunk-shaped error bodies.
//
// Thread safety: add every route before the server starts; Dispatch is then safe from any thread.

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "serve/http.h"

namespace cairn::serve {

enum class Access {
  kPublic,  // no credentials (health check, login)
  kUser,    // any authenticated user
  kAdmin,   // role admin
};

using Handler = std::function<Response(Request&)>;

class Router {
 public:
  // method: "GET", "POST", "DELETE", ... or "*" for any.
  void Add(std::string method, std::string pattern, Handler handler, Access access = Access::kUser);
  // Resolves credentials (Authorization header, session cookie); nullopt when absent or wrong.
  // Set before serving; without one every non-public route answers 401.
  void SetAuthenticator(std::function<std::optional<User>(Request&)> authenticate) {
    authenticate_ = std::move(authenticate);
  }
  // Splits /servicesNS/<user>/<app>/rest into /services/rest and the namespace; decodes the path.
  // False when the path is not valid (bad escape, NUL, "..").
  static bool NormalizePath(const std::string& raw_path, Request* req);
  Response Dispatch(Request& req) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;  // "{name}" for captures
    Handler handler;
    Access access;
    int captures = 0;
  };
  std::vector<Route> routes_;
  std::function<std::optional<User>(Request&)> authenticate_;
};

}  // namespace cairn::serve
