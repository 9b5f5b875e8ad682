// Managing users and API tokens (admins only), on both ports:
//   management port, in Splunk's shapes:
//     GET|POST /services/authentication/users, GET|POST|DELETE
//     /services/authentication/users/{name}
//       (name, password, roles: admin or user)
//     GET|POST /services/authorization/tokens (name: the owner), DELETE .../tokens/{id}
//   web UI (cookie session, CSRF token on every POST):
//     GET /api/users, POST /api/users, POST /api/users/{name}, POST /api/users/{name}/delete,
//     POST /api/tokens, POST /api/tokens/{id}/delete
// The work is UserAdmin's (user_admin.h); a token is shown once, in the answer that creates it.

#include <optional>
#include <string>

#include "common/json_util.h"
#include "serve/auth.h"
#include "serve/rest.h"
#include "serve/rest_ui.h"
#include "serve/splunk_format.h"
#include "serve/user_admin.h"

namespace cairn::serve {
namespace {

constexpr const char* kUsersPath = "/services/authentication/users";
constexpr const char* kTokensPath = "/services/authorization/tokens";

// Splunk's `roles` (repeatable there; one here): admin or user.
std::optional<std::string> RoleParam(const Request& req) { return req.Param("roles"); }

Entry UserEntry(const UserListing::Person& u) {
  Entry e;
  e.name = u.name;
  e.id = std::string(kUsersPath) + "/" + u.name;
  e.author = "system";
  e.content = {{"roles", u.role}, {"tokens", static_cast<int64_t>(u.tokens)}};
  return e;
}

Entry TokenEntry(const UserListing::Token& t, const std::string& token = "") {
  Entry e;
  e.name = t.id;
  e.id = std::string(kTokensPath) + "/" + t.id;
  e.author = t.owner;
  e.content = {{"id", t.id}, {"owner", t.owner}};
  if (!token.empty()) e.content.emplace_back("token", token);
  return e;
}

Response FeedResponse(const Request& req, int status, const char* title, const char* origin,
                      std::vector<Entry> entries) {
  Feed feed;
  feed.title = title;
  feed.origin = origin;
  feed.entries = std::move(entries);
  return WantsJson(req) ? JsonResponse(status, FeedJson(feed)) : XmlResponse(status, FeedXml(feed));
}

// The listing's entries for `name` (all when empty); 404 when a named user is missing.
Response UsersFeed(const Request& req, UserAdmin& admin, const std::string& name, int status) {
  auto listing = admin.List();
  if (!listing.ok()) return ErrorResponse(req, 500, listing.status().message());
  std::vector<Entry> entries;
  for (const auto& u : listing->users) {
    if (name.empty() || u.name == name) entries.push_back(UserEntry(u));
  }
  if (!name.empty() && entries.empty()) return ErrorResponse(req, 404, "No user " + name);
  return FeedResponse(req, status, "users", kUsersPath, std::move(entries));
}

void RegisterManagementRoutes(Router* router, ServeContext* ctx) {
  auto admin = [ctx] { return UserAdmin(ctx->auth->users_file()); };
  router->Add(
      "GET", kUsersPath,
      [admin](Request& req) {
        auto a = admin();
        return UsersFeed(req, a, "", 200);
      },
      Access::kAdmin);
  router->Add(
      "POST", kUsersPath,
      [admin](Request& req) {
        auto a = admin();
        const std::string name = req.Param("name", "");
        Status s = a.Create(name, RoleParam(req).value_or("user"), req.Param("password", ""));
        if (!s.ok()) return ErrorResponse(req, HttpStatusOf(s), s.message());
        return UsersFeed(req, a, name, 201);
      },
      Access::kAdmin);
  const std::string one = std::string(kUsersPath) + "/{name}";
  router->Add(
      "GET", one,
      [admin](Request& req) {
        auto a = admin();
        return UsersFeed(req, a, req.captures["name"], 200);
      },
      Access::kAdmin);
  router->Add(
      "POST", one,
      [admin](Request& req) {
        auto a = admin();
        const std::string& name = req.captures["name"];
        Status s = a.Update(name, RoleParam(req), req.Param("password"));
        if (!s.ok()) return ErrorResponse(req, HttpStatusOf(s), s.message());
        return UsersFeed(req, a, name, 200);
      },
      Access::kAdmin);
  router->Add(
      "DELETE", one,
      [admin](Request& req) {
        Status s = admin().Remove(req.captures["name"]);
        if (!s.ok()) return ErrorResponse(req, HttpStatusOf(s), s.message());
        return FeedResponse(req, 200, "users", kUsersPath, {});
      },
      Access::kAdmin);
  router->Add(
      "GET", kTokensPath,
      [admin](Request& req) {
        auto listing = admin().List();
        if (!listing.ok()) return ErrorResponse(req, 500, listing.status().message());
        std::vector<Entry> entries;
        for (const auto& t : listing->tokens) entries.push_back(TokenEntry(t));
        return FeedResponse(req, 200, "tokens", kTokensPath, std::move(entries));
      },
      Access::kAdmin);
  router->Add(
      "POST", kTokensPath,
      [admin](Request& req) {
        const std::string owner = req.Param("name", "");
        auto made = admin().AddToken(owner);
        if (!made.ok())
          return ErrorResponse(req, HttpStatusOf(made.status()), made.status().message());
        return FeedResponse(req, 201, "tokens", kTokensPath,
                            {TokenEntry({made->second, owner}, made->first)});
      },
      Access::kAdmin);
  router->Add(
      "DELETE", std::string(kTokensPath) + "/{id}",
      [admin](Request& req) {
        Status s = admin().RevokeToken(req.captures["id"]);
        if (!s.ok()) return ErrorResponse(req, HttpStatusOf(s), s.message());
        return FeedResponse(req, 200, "tokens", kTokensPath, {});
      },
      Access::kAdmin);
}

Response UiStatus(const Status& s) {
  if (s.ok()) return Json(200, "{\"ok\":true}");
  return JsonError(HttpStatusOf(s), s.message());
}

}  // namespace

void RegisterUsers(Router* router, ServeContext* ctx) { RegisterManagementRoutes(router, ctx); }

void RegisterUiUsers(Router* router, ServeContext* ctx) {
  auto admin = [ctx] { return UserAdmin(ctx->auth->users_file()); };
  // POSTs: admins only, with the session's CSRF token.
  auto post = [router](const std::string& pattern, Handler h) {
    AddUiPost(router, pattern, std::move(h), Access::kAdmin);
  };
  router->Add(
      "GET", "/api/users",
      [admin](Request&) {
        auto listing = admin().List();
        if (!listing.ok()) return JsonError(500, listing.status().message());
        std::string body = "{\"users\":[";
        for (size_t i = 0; i < listing->users.size(); ++i) {
          const auto& u = listing->users[i];
          body += i ? ",{\"name\":" : "{\"name\":";
          AppendJsonString(&body, u.name);
          body += ",\"role\":";
          AppendJsonString(&body, u.role);
          body += ",\"tokens\":" + std::to_string(u.tokens) + "}";
        }
        body += "],\"tokens\":[";
        for (size_t i = 0; i < listing->tokens.size(); ++i) {
          const auto& t = listing->tokens[i];
          body += i ? ",{\"id\":" : "{\"id\":";
          AppendJsonString(&body, t.id);
          body += ",\"owner\":";
          AppendJsonString(&body, t.owner);
          body += "}";
        }
        body += "]}";
        return Json(200, std::move(body));
      },
      Access::kAdmin);
  post("/api/users", [admin](Request& req) {
    return UiStatus(admin().Create(req.form.Get("name", ""), req.form.Get("role", "user"),
                                   req.form.Get("password", "")));
  });
  post("/api/users/{name}", [admin](Request& req) {
    auto role = req.form.Get("role");
    auto password = req.form.Get("password");
    if (role && role->empty()) role.reset();
    if (password && password->empty()) password.reset();
    return UiStatus(admin().Update(req.captures["name"], role, password));
  });
  post("/api/users/{name}/delete",
       [admin](Request& req) { return UiStatus(admin().Remove(req.captures["name"])); });
  post("/api/tokens", [admin](Request& req) {
    auto made = admin().AddToken(req.form.Get("owner", ""));
    if (!made.ok()) return UiStatus(made.status());
    std::string body = "{\"id\":";
    AppendJsonString(&body, made->second);
    body += ",\"token\":";
    AppendJsonString(&body, made->first);
    body += "}";
    return Json(201, std::move(body));
  });
  post("/api/tokens/{id}/delete",
       [admin](Request& req) { return UiStatus(admin().RevokeToken(req.captures["id"])); });
}

}  // namespace cairn::serve
