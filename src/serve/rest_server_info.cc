// GET /health (no credentials: for load balancers and scripts that wait for the server) and
// GET /services/server/info (the version clients read to choose the v2 search endpoints).

#include <unistd.h>

#include "serve/rest.h"
#include "serve/splunk_format.h"

namespace cairn::serve {

void RegisterServerInfo(Router* router, ServeContext* ctx) {
  router->Add(
      "GET", "/health",
      [ctx](Request&) {
        Response r = JsonResponse(200, "{\"status\":\"ok\"}");
        if (ctx->stopping != nullptr && ctx->stopping->load()) {
          r = JsonResponse(503, "{\"status\":\"stopping\"}");
        }
        return r;
      },
      Access::kPublic);
  router->Add("GET", "/services/server/info", [ctx](Request& req) {
    Feed feed;
    feed.title = "server-info";
    feed.origin = "/services/server/info";
    feed.version = ctx->splunk_version;
    Entry e;
    e.name = "server-info";
    e.id = "/services/server/info/server-info";
    e.author = "system";
    e.content = {{"version", ctx->splunk_version},
                 {"build", "cairn"},
                 {"serverName", ctx->server_name},
                 {"product_type", "enterprise"},
                 {"os_name", "Linux"},
                 {"cpu_arch", "x86_64"},
                 {"numberOfCores", static_cast<int64_t>(::sysconf(_SC_NPROCESSORS_ONLN))},
                 {"isFree", false},
                 {"isTrial", false},
                 {"server_roles", "search_head"},
                 {"guid", "cairn"}};
    feed.entries.push_back(std::move(e));
    if (WantsJson(req)) return JsonResponse(200, FeedJson(feed));
    return XmlResponse(200, FeedXml(feed));
  });
}

}  // namespace cairn::serve
