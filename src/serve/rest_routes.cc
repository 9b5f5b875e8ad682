#include "serve/auth.h"
#include "serve/rest.h"

namespace cairn::serve {

int HttpStatusOf(const Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound: return 404;
    case StatusCode::kInvalidArgument: return 400;
    case StatusCode::kAlreadyExists: return 409;
    default: return 500;
  }
}

void RegisterAllRoutes(Router* router, ServeContext* ctx) {
  router->SetAuthenticator([auth = ctx->auth](Request& req) { return auth->Authenticate(&req); });
  RegisterServerInfo(router, ctx);
  RegisterAuth(router, ctx);
  RegisterSearch(router, ctx);
  RegisterUsers(router, ctx);
  RegisterInputs(router, ctx);
}

}  // namespace cairn::serve
