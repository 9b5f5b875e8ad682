#include "serve/auth.h"
#include "serve/rest.h"

namespace cairn::serve {

void RegisterAllRoutes(Router* router, ServeContext* ctx) {
  router->SetAuthenticator([auth = ctx->auth](Request& req) { return auth->Authenticate(&req); });
  RegisterServerInfo(router, ctx);
  RegisterAuth(router, ctx);
  RegisterSearch(router, ctx);
  RegisterUsers(router, ctx);
  RegisterInputs(router, ctx);
}

}  // namespace cairn::serve
