// Managing collector inputs (admins only; input_admin.h), on both ports:
//   management port, in the shapes of Splunk's AWS add-on:
//     GET|POST /services/data/inputs/aws_sqs_based_s3
//     GET|POST|DELETE /services/data/inputs/aws_sqs_based_s3/{name}
//     POST /services/data/inputs/aws_sqs_based_s3/{name}/enable, .../{name}/disable
//       (name, sqs_queue_url, sqs_queue_region, index, sourcetype, interval, disabled, ...)
//   web UI (cookie session, CSRF token on every POST):
//     GET /api/inputs, POST /api/inputs, POST /api/inputs/{name},
//     POST /api/inputs/{name}/delete
//     (the form's empty fields are left out; key_id and secret_key set or replace the static
//     keys together; clear_keys=1 removes them)
// Listings hold configured inputs (read-only) and managed ones, each with its collector's state
// and lag; secret_key is never shown (static_keys says whether keys are set). After a change the
// server's ManagedCollectors reconcile at once (ServeContext::inputs_changed).

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <map>
#include <optional>
#include <string>

#include "common/json_util.h"
#include "serve/input_admin.h"
#include "serve/rest.h"
#include "serve/rest_ui.h"
#include "serve/splunk_format.h"

namespace cairn::serve {
namespace {

constexpr const char* kInputsPath = "/services/data/inputs/aws_sqs_based_s3";

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

// One input with what its collector reports.
struct Shown {
  const InputListing::Item* item;
  std::optional<collect::InputStatus> status;
  std::string state;
  std::optional<double> lag_seconds;  // as the status page computes it
};

std::vector<Shown> Merge(const InputListing& listing, ServeContext* ctx) {
  std::vector<collect::InputStatus> statuses;
  if (ctx->collectors) statuses = ctx->collectors();
  const int64_t now = NowMs();
  std::vector<Shown> out;
  for (const auto& item : listing.inputs) {
    Shown s{&item, std::nullopt, "", std::nullopt};
    if (item.managed && item.shadowed) {
      s.state = "shadowed";
    } else {
      for (const auto& st : statuses) {
        if (st.name == item.config.name && st.state != "shadowed") {
          s.status = st;
          break;
        }
      }
      s.state = s.status
                    ? s.status->state
                    : (!item.error.empty() ? "invalid"
                                           : (item.config.disabled ? "disabled" : "not running"));
      // Disabled, but its collector still finishing what it holds.
      if (s.status && item.managed && item.config.disabled &&
          (s.state == "polling" || s.state == "starting" || s.state == "retrying")) {
        s.state = "stopping";
      }
    }
    if (s.status) {
      if (s.status->newest_event_ms > 0) {
        s.lag_seconds = std::max<int64_t>(0, now - s.status->newest_event_ms) / 1000.0;
      } else if (s.status->oldest_in_flight_ms > 0) {
        s.lag_seconds = (now - s.status->oldest_in_flight_ms) / 1000.0;
      }
    }
    out.push_back(std::move(s));
  }
  return out;
}

Entry InputEntry(const Shown& s) {
  const collect::InputConfig& c = s.item->config;
  Entry e;
  e.name = c.name;
  e.id = std::string(kInputsPath) + "/" + c.name;
  e.author = s.item->managed ? "admin" : "nobody";
  e.content = {{"sqs_queue_url", c.sqs_queue},
               {"sqs_queue_region", c.sqs_queue_region},
               {"index", c.index},
               {"sourcetype", c.sourcetype},
               {"interval", static_cast<int64_t>(c.interval_ms / 1000)},
               {"disabled", c.disabled},
               {"aws_account", c.aws_account},
               {"aws_iam_role", c.role_arn},
               {"static_keys", s.item->has_static_keys},
               {"exclude_describe_events", c.exclude_describe_events},
               {"remove_files_when_done", c.remove_files_when_done},
               {"sqs_batch_size", static_cast<int64_t>(c.sqs_batch_size)},
               {"managed", s.item->managed},
               {"origin", s.item->managed ? std::string("managed") : c.origin},
               {"shadowed", s.item->shadowed},
               {"error", s.item->error},
               {"state", s.state}};
  if (s.lag_seconds) e.content.emplace_back("lag_seconds", *s.lag_seconds);
  if (s.status) {
    e.content.emplace_back("events_collected", s.status->events_collected);
    e.content.emplace_back("files_ingested", s.status->files_ingested);
    e.content.emplace_back("last_error", s.status->last_error);
  }
  return e;
}

std::string InputJson(const Shown& s) {
  const collect::InputConfig& c = s.item->config;
  std::string b = "{\"name\":";
  AppendJsonString(&b, c.name);
  auto str = [&](const char* k, const std::string& v) {
    b += fmt::format(",\"{}\":", k);
    AppendJsonString(&b, v);
  };
  str("sqs_queue_url", c.sqs_queue);
  str("sqs_queue_region", c.sqs_queue_region);
  str("index", c.index);
  str("sourcetype", c.sourcetype);
  str("origin", s.item->managed ? std::string("managed") : c.origin);
  str("error", s.item->error);
  str("state", s.state);
  str("last_error", s.status ? s.status->last_error : "");
  b += fmt::format(
      ",\"interval\":{},\"disabled\":{},\"managed\":{},\"shadowed\":{},\"static_keys\":{},"
      "\"events_collected\":{},\"lag_seconds\":{}}}",
      c.interval_ms / 1000, c.disabled, s.item->managed, s.item->shadowed, s.item->has_static_keys,
      s.status ? s.status->events_collected : 0,
      s.lag_seconds ? fmt::format("{:.3f}", *s.lag_seconds) : std::string("null"));
  return b;
}

// The input settings among `params` (name, output_mode and csrf aside); an unknown one is an error
// naming it.
Result<std::map<std::string, std::string>> Settings(const Params& params) {
  std::map<std::string, std::string> out;
  for (const auto& [k, v] : params.items()) {
    if (k == "name" || k == "output_mode" || k == "csrf") continue;
    if (!IsManagedInputKey(k)) {
      return InvalidArgument(
          "unknown input setting \"{}\" (sqs_queue_url, sqs_queue_region, index, sourcetype, "
          "interval, disabled, aws_account, aws_iam_role, key_id, secret_key, "
          "exclude_describe_events, blacklist, excluded_events_index, remove_files_when_done, "
          "sqs_batch_size)",
          k);
    }
    out[k] = v;
  }
  return out;
}

// Both query string and body (Splunk's clients send a body; curl users often the query).
Params AllParams(const Request& req) {
  Params p;
  for (const auto& [k, v] : req.query.items()) p.Add(k, v);
  for (const auto& [k, v] : req.form.items()) p.Add(k, v);
  return p;
}

Response InputsFeed(const Request& req, ServeContext* ctx, const std::string& name, int status) {
  auto listing = ctx->inputs->List();
  if (!listing.ok()) return ErrorResponse(req, 500, listing.status().message());
  std::vector<Entry> entries;
  for (const auto& s : Merge(*listing, ctx)) {
    if (name.empty() || s.item->config.name == name) entries.push_back(InputEntry(s));
  }
  if (!name.empty() && entries.empty()) return ErrorResponse(req, 404, "No input " + name);
  Feed feed;
  feed.title = "aws_sqs_based_s3";
  feed.origin = kInputsPath;
  feed.entries = std::move(entries);
  return WantsJson(req) ? JsonResponse(status, FeedJson(feed)) : XmlResponse(status, FeedXml(feed));
}

void Changed(ServeContext* ctx) {
  if (ctx->inputs_changed) ctx->inputs_changed();
}

}  // namespace

void RegisterInputs(Router* router, ServeContext* ctx) {
  if (ctx->inputs == nullptr) return;
  const std::string one = std::string(kInputsPath) + "/{name}";
  router->Add(
      "GET", kInputsPath, [ctx](Request& req) { return InputsFeed(req, ctx, "", 200); },
      Access::kAdmin);
  router->Add(
      "POST", kInputsPath,
      [ctx](Request& req) {
        const Params p = AllParams(req);
        const std::string name = p.Get("name", "");
        auto keys = Settings(p);
        Status s = keys.ok() ? ctx->inputs->Create(name, *keys) : keys.status();
        if (!s.ok()) return ErrorResponse(req, HttpStatusOf(s), s.message());
        Changed(ctx);
        return InputsFeed(req, ctx, name, 201);
      },
      Access::kAdmin);
  router->Add(
      "GET", one, [ctx](Request& req) { return InputsFeed(req, ctx, req.captures["name"], 200); },
      Access::kAdmin);
  router->Add(
      "POST", one,
      [ctx](Request& req) {
        const std::string& name = req.captures["name"];
        auto keys = Settings(AllParams(req));
        Status s = keys.ok() ? ctx->inputs->Update(name, *keys) : keys.status();
        if (!s.ok()) return ErrorResponse(req, HttpStatusOf(s), s.message());
        Changed(ctx);
        return InputsFeed(req, ctx, name, 200);
      },
      Access::kAdmin);
  for (const char* action : {"enable", "disable"}) {
    router->Add(
        "POST", one + "/" + action,
        [ctx, action](Request& req) {
          const std::string& name = req.captures["name"];
          Status s = ctx->inputs->Update(
              name, {{"disabled", std::string(action) == "disable" ? "1" : "0"}});
          if (!s.ok()) return ErrorResponse(req, HttpStatusOf(s), s.message());
          Changed(ctx);
          return InputsFeed(req, ctx, name, 200);
        },
        Access::kAdmin);
  }
  router->Add(
      "DELETE", one,
      [ctx](Request& req) {
        Status s = ctx->inputs->Remove(req.captures["name"]);
        if (!s.ok()) return ErrorResponse(req, HttpStatusOf(s), s.message());
        Changed(ctx);
        Feed feed;
        feed.title = "aws_sqs_based_s3";
        feed.origin = kInputsPath;
        return WantsJson(req) ? JsonResponse(200, FeedJson(feed)) : XmlResponse(200, FeedXml(feed));
      },
      Access::kAdmin);
}

void RegisterUiInputs(Router* router, ServeContext* ctx) {
  if (ctx->inputs == nullptr) return;
  auto post = [router](const std::string& pattern, Handler h) {
    AddUiPost(router, pattern, std::move(h), Access::kAdmin);
  };
  auto answer = [ctx](const Status& s) {
    if (!s.ok()) return JsonError(HttpStatusOf(s), s.message());
    Changed(ctx);
    return Json(200, "{\"ok\":true}");
  };
  router->Add(
      "GET", "/api/inputs",
      [ctx](Request&) {
        auto listing = ctx->inputs->List();
        if (!listing.ok()) return JsonError(500, listing.status().message());
        std::string body = "{\"file\":";
        AppendJsonString(&body, ctx->inputs->path());
        body += ",\"inputs\":[";
        bool first = true;
        for (const auto& s : Merge(*listing, ctx)) {
          if (!first) body += ',';
          first = false;
          body += InputJson(s);
        }
        body += "]}";
        return Json(200, std::move(body));
      },
      Access::kAdmin);
  // The UI's form sends every field; empty ones are left out (an update keeps what it has). The
  // static keys are set or replaced together (both given) and removed with clear_keys=1.
  auto form_settings = [](const Request& req) -> Result<std::map<std::string, std::string>> {
    Params p;
    bool clear_keys = false;
    for (const auto& [k, v] : req.form.items()) {
      if (k == "clear_keys") {
        clear_keys = v == "1";
      } else if (!v.empty()) {
        p.Add(k, v);
      }
    }
    ASSIGN_OR_RETURN(auto keys, Settings(p));
    const bool id = keys.count("key_id") > 0, secret = keys.count("secret_key") > 0;
    if (id != secret) {
      return InvalidArgument(
          "key_id and secret_key: give both to set or replace the static keys (leave both empty "
          "to keep them)");
    }
    if (clear_keys) {
      if (id) return InvalidArgument("clear_keys: given with new keys (choose one)");
      keys["key_id"] = "";
      keys["secret_key"] = "";
    }
    return keys;
  };
  post("/api/inputs", [ctx, answer, form_settings](Request& req) {
    auto keys = form_settings(req);
    if (!keys.ok()) return answer(keys.status());
    return answer(ctx->inputs->Create(req.form.Get("name", ""), *keys));
  });
  post("/api/inputs/{name}", [ctx, answer, form_settings](Request& req) {
    auto keys = form_settings(req);
    if (!keys.ok()) return answer(keys.status());
    return answer(ctx->inputs->Update(req.captures["name"], *keys));
  });
  post("/api/inputs/{name}/delete",
       [ctx, answer](Request& req) { return answer(ctx->inputs->Remove(req.captures["name"])); });
}

}  // namespace cairn::serve
