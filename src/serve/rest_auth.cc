// POST /services/auth/login (username, password -> session key), and
// DELETE /services/authentication/httpauth-tokens/{key} (logout).

#include <fmt/format.h>

#include "common/json_util.h"
#include "serve/auth.h"
#include "serve/rest.h"
#include "serve/splunk_format.h"

namespace cairn::serve {

void RegisterAuth(Router* router, ServeContext* ctx) {
  router->Add(
      "POST", "/services/auth/login",
      [ctx](Request& req) {
        auto name = req.form.Get("username");
        auto password = req.form.Get("password");
        if (!name || !password)
          return ErrorResponse(req, 400, "Login failed: give username and password");
        auto key = ctx->auth->Login(*name, *password, req.remote);
        // The same answer for an unknown user, a wrong password and a rate-limited name.
        if (!key) return ErrorResponse(req, 401, "Login failed");
        if (WantsJson(req)) {
          std::string body = "{\"sessionKey\":";
          AppendJsonString(&body, *key);
          body += ",\"message\":\"\",\"code\":\"\"}";
          return JsonResponse(200, std::move(body));
        }
        return XmlResponse(200,
                           fmt::format("<response>\n  <sessionKey>{}</sessionKey>\n  <messages>\n"
                                       "    <msg code=\"\"></msg>\n  </messages>\n</response>\n",
                                       *key));
      },
      Access::kPublic);
  router->Add("DELETE", "/services/authentication/httpauth-tokens/{key}", [ctx](Request& req) {
    const std::string& key = req.captures["key"];
    // Only one's own session (an admin may end anyone's).
    if (key != req.session_key && req.user->role != "admin")
      return ErrorResponse(req, 403, "Permission denied");
    ctx->auth->Logout(key);
    return WantsJson(req)
               ? JsonResponse(200, "{\"messages\":[]}")
               : XmlResponse(200, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response/>\n");
  });
}

}  // namespace cairn::serve
