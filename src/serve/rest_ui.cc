// The web UI on its own port (serve.ui_port, default 8000): the login page, the application page
// (search, saved searches, AWS overview; src/serve/ui/app.js draws them), the embedded assets and
// a JSON API under /api that runs jobs through the JobManager.
//
// Authentication is the session cookie `cairn_session` only (an Authorization header is ignored,
// so a browser's remembered basic credentials cannot act for a forged request). The cookie holds
// a session key of Auth (the same sessions as the REST API); HttpOnly, SameSite=Strict, Secure
// under TLS. CSRF: every POST needs the session's token (a keyed hash of the session key) in the
// X-CSRF-Token header or a `csrf` form field, else 403; a request a browser marks cross-site
// (Sec-Fetch-Site) is refused too. The login form carries a random token that must match the
// `cairn_login` cookie set with the page (double submit). Every response carries a
// Content-Security-Policy without inline scripts or styles.

#include "serve/rest_ui.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <zlib.h>

#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <map>
#include <mutex>

#include "alerts/cis.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/splunk_conf.h"
#include "common/text.h"
#include "query/macros.h"
#include "query/time_format.h"
#include "query/vocabulary.h"
#include "serve/audit.h"
#include "serve/auth.h"
#include "serve/jobs.h"
#include "serve/rest.h"
#include "serve/splunk_format.h"
#include "serve/ui_assets.h"
#include "store/fields.h"
#include "store/store.h"

namespace cairn::serve {

namespace {

constexpr const char* kSessionCookie = "cairn_session";
constexpr const char* kLoginCookie = "cairn_login";
constexpr size_t kSummaryRows = 10000;  // events the field sidebar looks at
constexpr size_t kTopValues = 10;
constexpr size_t kDownloadChunkRows = 1000;      // rows per piece of an export download, at most
constexpr size_t kDownloadChunkCells = 100'000;  // CSV: rows x fields per piece, about

const std::string& CsrfSecret() {
  static const std::string secret = RandomHex(32);
  return secret;
}

std::string CsrfToken(const std::string& session_key) {
  return Sha256Hex(CsrfSecret() + '\0' + session_key);
}

bool SameSecret(const std::string& a, const std::string& b) {
  return !a.empty() && a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

std::string HtmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      default: out += c;
    }
  }
  return out;
}

constexpr std::string_view kAppPolicy =
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; object-src 'none'; frame-ancestors 'none'; base-uri 'none'; "
    "form-action 'self'";

// Headers every UI response carries; `policy` is its Content-Security-Policy.
Response Secure(Response r, std::string_view policy = kAppPolicy) {
  r.headers.emplace_back("Content-Security-Policy", std::string(policy));
  r.headers.emplace_back("X-Content-Type-Options", "nosniff");
  r.headers.emplace_back("X-Frame-Options", "DENY");
  r.headers.emplace_back("Referrer-Policy", "no-referrer");
  r.headers.emplace_back("Cache-Control", "no-store");
  return r;
}

}  // namespace

Response Json(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = std::move(body);
  return Secure(std::move(r));
}

Response JsonError(int status, std::string_view text) {
  std::string body = "{\"error\":";
  AppendJsonString(&body, text);
  body += "}";
  return Json(status, std::move(body));
}

namespace {

Response Redirect(const std::string& to) {
  Response r;
  r.status = 303;
  r.headers.emplace_back("Location", to);
  return Secure(std::move(r));
}

std::string CookieHeader(const Request& req, const std::string& name, const std::string& value,
                         bool clear = false) {
  std::string c = name + "=" + value + "; Path=/; HttpOnly; SameSite=Strict";
  if (req.tls) c += "; Secure";
  if (clear) c += "; Max-Age=0";
  return c;
}

const char* ContentTypeOf(std::string_view name) {
  auto ends = [&](std::string_view ext) {
    return name.size() >= ext.size() && name.substr(name.size() - ext.size()) == ext;
  };
  if (ends(".html")) return "text/html; charset=utf-8";
  if (ends(".js")) return "text/javascript; charset=utf-8";
  if (ends(".css")) return "text/css; charset=utf-8";
  if (ends(".svg")) return "image/svg+xml";
  return "application/octet-stream";
}

// An embedded asset as served: its bytes, a gzip copy (when that is smaller) and its validator,
// worked out once per process.
struct ServedAsset {
  std::string_view bytes;
  std::string gzip;
  std::string etag;
};

std::string Gzip(std::string_view data) {
  z_stream zs{};
  if (deflateInit2(&zs, 9, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) return {};
  std::string out(deflateBound(&zs, data.size()) + 32, '\0');
  zs.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(data.data()));
  zs.avail_in = static_cast<uInt>(data.size());
  zs.next_out = reinterpret_cast<Bytef*>(out.data());
  zs.avail_out = static_cast<uInt>(out.size());
  const int rc = deflate(&zs, Z_FINISH);
  out.resize(zs.total_out);
  deflateEnd(&zs);
  return rc == Z_STREAM_END ? out : std::string();
}

const ServedAsset* Served(const std::string& name) {
  static std::mutex mu;
  static std::map<std::string, ServedAsset, std::less<>> served;
  const UiAsset* a = FindUiAsset(name);
  if (a == nullptr) return nullptr;
  std::lock_guard<std::mutex> lock(mu);
  auto it = served.find(name);
  if (it != served.end()) return &it->second;
  ServedAsset s;
  s.bytes = std::string_view(reinterpret_cast<const char*>(a->data), a->size);
  s.etag = "\"" + Sha256Hex(s.bytes).substr(0, 32) + "\"";
  if (s.bytes.size() >= 1024) {
    s.gzip = Gzip(s.bytes);
    if (s.gzip.size() >= s.bytes.size()) s.gzip.clear();
  }
  return &served.emplace(name, std::move(s)).first->second;
}

// Whether the client takes gzip (an Accept-Encoding that lists it without q=0).
bool AcceptsGzip(const Request& req) {
  const std::string header = AsciiLower(req.Header("accept-encoding"));
  std::string_view rest = header;
  while (!rest.empty()) {
    const size_t comma = rest.find(',');
    std::string_view part = rest.substr(0, comma);
    rest = comma == std::string_view::npos ? std::string_view() : rest.substr(comma + 1);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    if (part.rfind("gzip", 0) != 0) continue;
    const size_t q = part.find("q=");
    return q == std::string_view::npos ||
           std::strtod(std::string(part.substr(q + 2)).c_str(), nullptr) > 0;
  }
  return false;
}

// An asset, gzipped when the client takes it; revalidated by its ETag on every use (the bundle
// changes with the binary), so a browser that has it gets 304 without the body.
Response Asset(const Request& req, const std::string& name) {
  const ServedAsset* a = Served(name);
  if (a == nullptr) return JsonError(404, "Not Found");
  Response r;
  r.content_type = ContentTypeOf(name);
  if (req.Header("if-none-match") == a->etag) {
    r.status = 304;
  } else if (!a->gzip.empty() && AcceptsGzip(req)) {
    r.body = a->gzip;
    r.headers.emplace_back("Content-Encoding", "gzip");
  } else {
    r.body.assign(a->bytes);
  }
  r.headers.emplace_back("ETag", a->etag);
  r.headers.emplace_back("Vary", "Accept-Encoding");
  r = Secure(std::move(r));
  for (auto& [k, v] : r.headers) {
    if (k == "Cache-Control") v = "private, no-cache";
  }
  return r;
}

// The session the request's cookie names (Auth checks and refreshes it).
std::optional<User> CookieUser(ServeContext* ctx, Request& req) {
  const std::string key = CookieValue(req.Header("cookie"), kSessionCookie);
  req.headers.erase("authorization");
  if (key.empty()) return std::nullopt;
  req.headers["authorization"] = "Splunk " + key;
  auto user = ctx->auth->Authenticate(&req, /*audit_failures=*/false);
  req.headers.erase("authorization");
  return user;
}

Response LoginPage(const Request& req, int status, const std::string& error) {
  const UiAsset* a = FindUiAsset("login.html");
  std::string html(reinterpret_cast<const char*>(a->data), a->size);
  const std::string token = RandomHex(16);
  auto replace = [&](const std::string& from, const std::string& to) {
    size_t at = html.find(from);
    if (at != std::string::npos) html.replace(at, from.size(), to);
  };
  replace("{{csrf}}", token);
  replace("{{error}}", error.empty() ? "" : "<p class=\"error\">" + HtmlEscape(error) + "</p>");
  Response r;
  r.status = status;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(html);
  r.headers.emplace_back("Set-Cookie", CookieHeader(req, kLoginCookie, token));
  return Secure(std::move(r));
}

// The application page. CodeMirror (the SPL editor, editor.js) puts its stylesheet into a <style>
// element, which the policy allows only with the nonce made for this response; the page hands the
// nonce to the script in a <meta name="csp-nonce">.
Response AppPage() {
  const UiAsset* a = FindUiAsset("app.html");
  std::string html(reinterpret_cast<const char*>(a->data), a->size);
  const std::string nonce = RandomHex(16);
  const size_t at = html.find("{{nonce}}");
  if (at != std::string::npos) html.replace(at, 9, nonce);
  std::string policy(kAppPolicy);
  const std::string_view style = "style-src 'self'";
  policy.insert(policy.find(style) + style.size(), " 'nonce-" + nonce + "'");
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body = std::move(html);
  return Secure(std::move(r), policy);
}

// A state-changing request must carry the session's CSRF token and not come from another site.
}  // namespace

void AddUiPost(Router* router, const std::string& pattern, Handler h, Access access) {
  router->Add(
      "POST", pattern,
      [h = std::move(h)](Request& req) {
        if (!CsrfOk(req)) return JsonError(403, "CSRF token missing or wrong");
        return h(req);
      },
      access);
}

bool CsrfOk(const Request& req) {
  const std::string site = req.Header("sec-fetch-site");
  if (!site.empty() && site != "same-origin" && site != "none") return false;
  std::string token = req.Header("x-csrf-token");
  if (token.empty()) token = req.form.Get("csrf", "");
  return SameSecret(token, CsrfToken(req.session_key));
}

namespace {

bool IsAdmin(const Request& req) { return req.user && req.user->role == "admin"; }

std::string JobStatusJson(const JobStatus& s) {
  std::string out = "{\"sid\":";
  AppendJsonString(&out, s.sid);
  out += ",\"search\":";
  AppendJsonString(&out, s.search);
  out += fmt::format(
      ",\"dispatchState\":\"{}\",\"isDone\":{},\"isFailed\":{},\"isFinalized\":{},"
      "\"doneProgress\":{},\"eventCount\":{},\"resultCount\":{},\"scanCount\":{},"
      "\"runDuration\":{},\"eventsSearch\":{},\"messages\":[",
      DispatchStateName(s.state),
      s.state == DispatchState::kDone || s.state == DispatchState::kFailed,
      s.state == DispatchState::kFailed, s.finalized, s.progress, s.event_count, s.result_count,
      s.scan_count, s.run_duration, s.events_search);
  for (size_t i = 0; i < s.messages.size(); ++i) {
    if (i > 0) out += ',';
    out += "{\"type\":";
    AppendJsonString(&out, s.messages[i].type);
    out += ",\"text\":";
    AppendJsonString(&out, s.messages[i].text);
    out += '}';
  }
  out += "]}";
  return out;
}

Response StatusError(const cairn::Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound: return JsonError(404, s.message());
    case StatusCode::kInvalidArgument: return JsonError(400, s.message());
    case StatusCode::kResourceExhausted: return JsonError(503, s.message());
    default: return JsonError(500, s.message());
  }
}

// Each field's coverage and top values over the first kSummaryRows events of a done job.
std::string SummaryJson(const ResultPage& page) {
  struct Stat {
    size_t count = 0;
    std::map<std::string, size_t> values;
  };
  std::vector<Stat> stats(page.fields.size());
  for (const auto& row : page.rows) {
    for (size_t j = 0; j < row.size() && j < stats.size(); ++j) {
      if (row[j].empty()) continue;
      ++stats[j].count;
      std::vector<std::string> seen;
      for (const auto& v : row[j]) {
        if (std::find(seen.begin(), seen.end(), v) != seen.end()) continue;
        seen.push_back(v);
        ++stats[j].values[v];
      }
    }
  }
  std::vector<size_t> order;
  for (size_t j = 0; j < page.fields.size(); ++j) {
    const std::string& f = page.fields[j];
    if (f == "_raw" || f == "_time" || stats[j].count == 0) continue;
    order.push_back(j);
  }
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    if (stats[a].count != stats[b].count) return stats[a].count > stats[b].count;
    return page.fields[a] < page.fields[b];
  });
  std::string out = fmt::format("{{\"events\":{},\"fields\":[", page.rows.size());
  for (size_t k = 0; k < order.size(); ++k) {
    const size_t j = order[k];
    std::vector<std::pair<std::string, size_t>> top(stats[j].values.begin(), stats[j].values.end());
    std::stable_sort(top.begin(), top.end(),
                     [](const auto& a, const auto& b) { return a.second > b.second; });
    if (k > 0) out += ',';
    out += "{\"name\":";
    AppendJsonString(&out, page.fields[j]);
    out += fmt::format(",\"count\":{},\"distinct\":{},\"top\":[", stats[j].count, top.size());
    for (size_t t = 0; t < top.size() && t < kTopValues; ++t) {
      if (t > 0) out += ',';
      out += "{\"value\":";
      AppendJsonString(&out, top[t].first);
      out += fmt::format(",\"count\":{}}}", top[t].second);
    }
    out += "]}";
  }
  out += "]}";
  return out;
}

// What the SPL editor highlights and completes (GET /api/vocabulary): the query layer's commands,
// eval functions and stats functions, and the field names every CloudTrail event may have (the
// store's column fields, the event time and Splunk's own fields; the page adds the fields of the
// searches it ran). The same for every user, so it is built once.
const std::string& VocabularyJson() {
  static const std::string body = [] {
    auto list = [](std::string* out, const char* key, const std::vector<std::string>& names) {
      *out += fmt::format("\"{}\":[", key);
      for (size_t i = 0; i < names.size(); ++i) {
        if (i > 0) *out += ',';
        AppendJsonString(out, names[i]);
      }
      *out += ']';
    };
    std::vector<std::string> fields = {
        "_time", "_raw", "index", "host", "source", "sourcetype", std::string(store::kTimeField)};
    for (std::string_view f : store::kColumnFields) {
      if (f[0] != '_' && std::find(fields.begin(), fields.end(), f) == fields.end())
        fields.emplace_back(f);
    }
    std::string out = "{";
    list(&out, "commands", query::SplCommandNames());
    out += ',';
    list(&out, "eval_functions", query::SplEvalFunctionNames());
    out += ',';
    list(&out, "stats_functions", query::SplStatsFunctionNames());
    out += ',';
    list(&out, "fields", fields);
    out += '}';
    return out;
  }();
  return body;
}

std::mutex saved_mu;  // the saved searches file: read-modify-write under it

std::string SavedPath(const ServeContext* ctx) {
  return JoinPath(JoinPath(ctx->data_dir, "serve"), "savedsearches.conf");
}

// The saved searches, none when the file does not exist yet. An unreadable or malformed file is
// an error (naming it and the line), so a save never overwrites what it could not read.
Result<std::vector<SavedSearch>> LoadSaved(const ServeContext* ctx) {
  FileSystem* fs = FileSystem::Default();
  const std::string path = SavedPath(ctx);
  if (!fs->Exists(path)) return std::vector<SavedSearch>{};
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path, 16u << 20));
  return ParseSavedSearches(text, path);
}

std::string SavedJson(const std::vector<SavedSearch>& list, std::string_view key = "saved") {
  std::string out = "{\"" + std::string(key) + "\":[";
  for (size_t i = 0; i < list.size(); ++i) {
    if (i > 0) out += ',';
    const auto& s = list[i];
    out += "{\"name\":";
    AppendJsonString(&out, s.name);
    out += ",\"search\":";
    AppendJsonString(&out, s.search);
    out += ",\"earliest_time\":";
    AppendJsonString(&out, s.earliest_time);
    out += ",\"latest_time\":";
    AppendJsonString(&out, s.latest_time);
    out += ",\"description\":";
    AppendJsonString(&out, s.description);
    out += ",\"visualization\":";
    AppendJsonString(&out, s.visualization);
    out += s.builtin ? ",\"builtin\":true}" : ",\"builtin\":false}";
  }
  out += "]}";
  return out;
}

std::string OneLine(std::string s) {
  for (char& c : s) {
    if (c == '\n' || c == '\r') c = ' ';
  }
  return s;
}

// The status page's JSON. The recent warnings and errors (which name users and addresses of
// failed logins) only for an admin.
std::string StatusJson(ServeContext* ctx, bool admin) {
  const int64_t now_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                             std::chrono::system_clock::now().time_since_epoch())
                             .count();
  std::string body = fmt::format("{{\"now_ms\":{},\"indexes\":[", now_ms);
  bool first = true;
  if (ctx->store != nullptr) {
    for (const auto& name : ctx->store->ListIndexes()) {
      auto info = ctx->store->Info(name);
      if (!info.ok()) continue;
      if (!first) body += ',';
      first = false;
      body += "{\"name\":";
      AppendJsonString(&body, info->name);
      body += fmt::format(
          ",\"events\":{},\"segments\":{},\"bytes\":{},\"min_time_ms\":{},"
          "\"max_time_ms\":{},\"broken_segments\":{}}}",
          info->events, info->segments, info->bytes, info->min_time, info->max_time,
          info->broken_segments);
    }
  }
  body += "],\"collectors\":[";
  if (ctx->collectors) {
    const auto inputs = ctx->collectors();
    for (size_t i = 0; i < inputs.size(); ++i) {
      const collect::InputStatus& in = inputs[i];
      if (i > 0) body += ',';
      body += "{\"name\":";
      AppendJsonString(&body, in.name);
      body += ",\"queue\":";
      AppendJsonString(&body, in.queue);
      body += ",\"region\":";
      AppendJsonString(&body, in.region);
      body += ",\"index\":";
      AppendJsonString(&body, in.index);
      body += ",\"state\":";
      AppendJsonString(&body, in.state);
      // Lag: how far the newest collected event is behind now; before any event, how long the
      // oldest message in progress has waited; else unknown (null).
      std::string lag = "null", basis = "none";
      if (in.newest_event_ms > 0) {
        // (An event stamped ahead of this clock counts as no lag.)
        lag = fmt::format("{:.3f}", std::max<int64_t>(0, now_ms - in.newest_event_ms) / 1000.0);
        basis = "newest_event";
      } else if (in.oldest_in_flight_ms > 0) {
        lag = fmt::format("{:.3f}", (now_ms - in.oldest_in_flight_ms) / 1000.0);
        basis = "oldest_message";
      }
      body += fmt::format(
          ",\"polls\":{},\"messages_received\":{},\"messages_done\":{},"
          "\"files_ingested\":{},\"events_collected\":{},\"last_poll_ms\":{},"
          "\"newest_event_ms\":{},\"lag_seconds\":{},\"lag_basis\":\"{}\","
          "\"oldest_message_age_seconds\":{},\"last_error_ms\":{},\"last_error\":",
          in.polls, in.messages_received, in.messages_done, in.files_ingested, in.events_collected,
          in.last_poll_ms, in.newest_event_ms, lag, basis,
          in.oldest_in_flight_ms > 0
              ? fmt::format("{:.3f}", (now_ms - in.oldest_in_flight_ms) / 1000.0)
              : std::string("null"),
          in.last_error_ms);
      AppendJsonString(&body, in.last_error);
      body += '}';
    }
  }
  body += "],\"recent_errors\":[";
  const auto recent = admin ? log::Recent() : std::vector<log::RecentRecord>{};
  for (size_t i = recent.size(); i-- > 0;) {  // newest first
    if (i + 1 < recent.size()) body += ',';
    body += fmt::format("{{\"time_ms\":{},\"level\":\"{}\",\"message\":", recent[i].time_ms,
                        recent[i].level == log::Level::kError ? "error" : "warn");
    AppendJsonString(&body, recent[i].message);
    body += '}';
  }
  body += "],\"jobs_running\":";
  body += std::to_string(ctx->jobs != nullptr ? ctx->jobs->running() : 0);
  body += ",\"jobs_queued\":";
  body += std::to_string(ctx->jobs != nullptr ? ctx->jobs->queued() : 0);
  if (ctx->audit != nullptr) {
    const AuditStats a = ctx->audit->stats();
    body += fmt::format(
        ",\"audit\":{{\"recorded\":{},\"stored\":{},\"dropped\":{},\"failed_commits\":{}}}",
        a.recorded, a.stored, a.dropped, a.failed_commits);
  }
  body += ",\"server\":";
  AppendJsonString(&body, ctx->server_name);
  body += "}";
  return body;
}

}  // namespace

std::string CookieValue(const std::string& header, const std::string& name) {
  size_t pos = 0;
  while (pos < header.size()) {
    size_t end = header.find(';', pos);
    if (end == std::string::npos) end = header.size();
    std::string_view part(header.data() + pos, end - pos);
    while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
    const size_t eq = part.find('=');
    if (eq != std::string_view::npos && part.substr(0, eq) == name) {
      return std::string(part.substr(eq + 1));
    }
    pos = end + 1;
  }
  return "";
}

Result<std::vector<SavedSearch>> ParseSavedSearches(const std::string& text,
                                                    std::string_view origin) {
  ASSIGN_OR_RETURN(ConfFile conf, ParseConf(text, origin));
  const ConfStanza* defaults = nullptr;
  for (const ConfStanza& st : conf.stanzas) {
    if (st.name == "default") defaults = &st;
  }
  // A key of the stanza, else of [default], else "".
  auto get = [&](const ConfStanza& st, std::string_view key) {
    const std::string* v = FindConfValue(st, key);
    if (v == nullptr && defaults != nullptr) v = FindConfValue(*defaults, key);
    return v != nullptr ? *v : std::string();
  };
  std::vector<SavedSearch> out;
  for (const ConfStanza& st : conf.stanzas) {
    if (st.name == "default") continue;
    const bool table = get(st, "display.general.type") == "statistics";
    SavedSearch s{st.name,
                  get(st, "search"),
                  get(st, "dispatch.earliest_time"),
                  get(st, "dispatch.latest_time"),
                  get(st, "description"),
                  table ? "" : get(st, "display.visualizations.charting.chart")};
    out.push_back(std::move(s));
  }
  return out;
}

std::string FormatSavedSearches(const std::vector<SavedSearch>& searches) {
  std::string out =
      "# Saved searches of cairn serve's web UI (Splunk's savedsearches.conf form).\n";
  for (const auto& s : searches) {
    out += "\n[" + s.name + "]\n";
    out += "search = " + OneLine(s.search) + "\n";
    if (!s.earliest_time.empty())
      out += "dispatch.earliest_time = " + OneLine(s.earliest_time) + "\n";
    if (!s.latest_time.empty()) out += "dispatch.latest_time = " + OneLine(s.latest_time) + "\n";
    if (!s.description.empty()) out += "description = " + OneLine(s.description) + "\n";
    if (!s.visualization.empty()) {
      out += "display.general.type = visualizations\n";
      out += "display.visualizations.charting.chart = " + OneLine(s.visualization) + "\n";
    }
  }
  return out;
}

Status ValidateSavedSearch(const SavedSearch& s) {
  if (s.name.empty() || s.name.size() > 100) {
    return InvalidArgument("a saved search needs a name of 1 to 100 characters");
  }
  for (unsigned char c : s.name) {
    if (c < 0x20 || c == 0x7f || c == '[' || c == ']') {
      return InvalidArgument("a saved search's name may not hold [, ] or control characters");
    }
  }
  if (s.name != OneLine(s.name) || s.name.front() == ' ' || s.name.back() == ' ') {
    return InvalidArgument("a saved search's name may not start or end with a space");
  }
  if (s.search.find_first_not_of(" \t\r\n") == std::string::npos) {
    return InvalidArgument("a saved search needs a search");
  }
  if (!s.visualization.empty() && s.visualization != "line" && s.visualization != "column" &&
      s.visualization != "bar" && s.visualization != "pie") {
    return InvalidArgument("a saved search's visualization is line, column, bar, pie or none");
  }
  return Status::Ok();
}

// The CIS AWS Foundations monitoring report over ?earliest= (default -7d@d) and ?latest=
// (default now), the page `cairn alerts report cis --format html` writes: self-contained (inline
// CSS and SVG, no script), so its policy allows inline styles and nothing else.
Response CisReportPage(ServeContext* ctx, Request& req) {
  if (!CookieUser(ctx, req)) return Redirect("/login");
  if (ctx->store == nullptr) return JsonError(503, "no store is open");
  const double now =
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
  auto earliest = query::ResolveTimeModifier(req.query.Get("earliest", "-7d@d"), now);
  if (!earliest.ok()) return JsonError(400, "earliest: " + earliest.status().message());
  const std::string latest_text = req.query.Get("latest", "now");
  auto latest =
      latest_text == "now" ? Result<double>(now) : query::ResolveTimeModifier(latest_text, now);
  if (!latest.ok()) return JsonError(400, "latest: " + latest.status().message());
  auto macros = query::MacroSet::ForDataDir(FileSystem::Default(), ctx->data_dir);
  if (!macros.ok()) return StatusError(macros.status());
  auto results = alerts::RunCisReport(ctx->store, *macros, *earliest, *latest, now);
  if (!results.ok()) return StatusError(results.status());
  Response r;
  r.content_type = "text/html; charset=utf-8";
  r.body =
      alerts::CisReportHtml(*results, static_cast<int64_t>(*earliest * 1000),
                            static_cast<int64_t>(*latest * 1000), static_cast<int64_t>(now * 1000));
  return Secure(std::move(r),
                "default-src 'none'; style-src 'unsafe-inline'; img-src data:; "
                "frame-ancestors 'none'; base-uri 'none'; form-action 'none'");
}

void RegisterUi(Router* router, ServeContext* ctx) {
  router->SetAuthenticator([ctx](Request& req) { return CookieUser(ctx, req); });
  // Pages: without a session, to the login page.
  auto page = [ctx](Request& req) {
    if (!CookieUser(ctx, req)) return Redirect("/login");
    return AppPage();
  };
  router->Add(
      "GET", "/", [](Request&) { return Redirect("/search"); }, Access::kPublic);
  for (const char* p : {"/search", "/saved", "/aws", "/status", "/users", "/inputs"})
    router->Add("GET", p, page, Access::kPublic);
  router->Add(
      "GET", "/reports/cis", [ctx](Request& req) { return CisReportPage(ctx, req); },
      Access::kPublic);
  router->Add(
      "GET", "/login",
      [ctx](Request& req) {
        if (CookieUser(ctx, req)) return Redirect("/search");
        return LoginPage(req, 200, "");
      },
      Access::kPublic);
  router->Add(
      "POST", "/login",
      [ctx](Request& req) {
        const std::string cookie = CookieValue(req.Header("cookie"), kLoginCookie);
        const std::string site = req.Header("sec-fetch-site");
        if (!SameSecret(req.form.Get("csrf", ""), cookie) ||
            (!site.empty() && site != "same-origin" && site != "none")) {
          return LoginPage(req, 403, "The form expired; try again.");
        }
        auto key = ctx->auth->Login(req.form.Get("username", ""), req.form.Get("password", ""),
                                    req.remote, "ui");
        if (!key) return LoginPage(req, 401, "Login failed.");
        Response r = Redirect("/search");
        r.headers.emplace_back("Set-Cookie", CookieHeader(req, kSessionCookie, *key));
        r.headers.emplace_back("Set-Cookie", CookieHeader(req, kLoginCookie, "", true));
        return r;
      },
      Access::kPublic);
  router->Add("POST", "/logout", [ctx](Request& req) {
    if (!CsrfOk(req)) return JsonError(403, "CSRF token missing or wrong");
    ctx->auth->Logout(req.session_key);
    Response r = Redirect("/login");
    r.headers.emplace_back("Set-Cookie", CookieHeader(req, kSessionCookie, "", true));
    return r;
  });
  // Assets: the stylesheet and the icon are public (the login page uses them), the rest needs a
  // session.
  router->Add(
      "GET", "/static/{name}",
      [ctx](Request& req) {
        const std::string& name = req.captures["name"];
        if (name != "app.css" && name != "favicon.svg" && !CookieUser(ctx, req)) {
          return JsonError(401, "Login required");
        }
        if (name == "login.html" || name == "app.html") return JsonError(404, "Not Found");
        return Asset(req, name);
      },
      Access::kPublic);

  // The JSON API the page calls (same origin). POSTs are checked for the CSRF token.
  auto post = [router](const std::string& pattern, Handler h) {
    AddUiPost(router, pattern, std::move(h));
  };
  RegisterUiUsers(router, ctx);
  RegisterUiInputs(router, ctx);
  router->Add("GET", "/api/me", [](Request& req) {
    std::string body = "{\"user\":";
    AppendJsonString(&body, req.user->name);
    body += ",\"role\":";
    AppendJsonString(&body, req.user->role);
    body += ",\"csrf\":";
    AppendJsonString(&body, CsrfToken(req.session_key));
    body += "}";
    return Json(200, std::move(body));
  });
  router->Add("GET", "/api/vocabulary", [](Request&) { return Json(200, VocabularyJson()); });
  post("/api/jobs", [ctx](Request& req) {
    JobRequest jr;
    jr.search = req.form.Get("search", "");
    jr.earliest_time = req.form.Get("earliest_time", "");
    jr.latest_time = req.form.Get("latest_time", "");
    jr.owner = req.user->name;
    jr.interface = "ui";
    jr.client = req.remote;
    auto sid = ctx->jobs->Create(jr);
    if (!sid.ok()) return StatusError(sid.status());
    std::string body = "{\"sid\":";
    AppendJsonString(&body, *sid);
    body += "}";
    return Json(201, std::move(body));
  });
  router->Add("GET", "/api/jobs/{sid}", [ctx](Request& req) {
    auto s = ctx->jobs->Status(req.captures["sid"], req.user->name, IsAdmin(req));
    if (!s.ok()) return StatusError(s.status());
    return Json(200, JobStatusJson(*s));
  });
  router->Add("GET", "/api/jobs/{sid}/results", [ctx](Request& req) {
    const size_t offset = std::strtoull(req.Param("offset", "0").c_str(), nullptr, 10);
    size_t count = std::strtoull(req.Param("count", "50").c_str(), nullptr, 10);
    count = std::clamp<size_t>(count, 1, 10000);
    auto page =
        ctx->jobs->Results(req.captures["sid"], req.user->name, IsAdmin(req), offset, count);
    if (!page.ok()) return StatusError(page.status());
    std::string type;
    return Json(200, FormatResults(*page, OutputMode::kJson, &type));
  });
  router->Add("GET", "/api/jobs/{sid}/summary", [ctx](Request& req) {
    auto page =
        ctx->jobs->Results(req.captures["sid"], req.user->name, IsAdmin(req), 0, kSummaryRows);
    if (!page.ok()) return StatusError(page.status());
    return Json(200, SummaryJson(*page));
  });
  // Every result of a done job as a download, streamed (chunked) a chunk of rows at a time: the
  // answer is never whole in memory, whatever the job's size.
  router->Add("GET", "/api/jobs/{sid}/export", [ctx](Request& req) {
    const bool csv = req.Param("output_mode", "csv") == "csv";
    const OutputMode mode = csv ? OutputMode::kCsv : OutputMode::kJson;
    auto reader = ctx->jobs->ReadResults(req.captures["sid"], req.user->name, IsAdmin(req));
    if (!reader.ok()) {
      if (reader.status().code() == StatusCode::kUnavailable) {
        return JsonError(409, reader.status().message());
      }
      return StatusError(reader.status());
    }
    Response r;
    r.content_type = csv ? "text/csv; charset=utf-8" : "application/json; charset=utf-8";
    r.headers.emplace_back("Content-Disposition", fmt::format("attachment; filename=\"results.{}\"",
                                                              csv ? "csv" : "json"));
    std::shared_ptr<ResultReader> rows = std::move(*reader);
    const std::string sid = req.captures["sid"];
    r.stream = [rows, mode, sid](const std::function<bool(std::string_view)>& write) {
      if (mode == OutputMode::kCsv) {
        // The header names every field, so an events search's rows are read twice (first for
        // their fields).
        if (!write(DownloadHead(rows->fields(), mode))) return;
        // A row is aligned with every field: fewer rows a piece when there are many fields.
        const size_t csv_rows =
            std::clamp<size_t>(kDownloadChunkCells / std::max<size_t>(1, rows->fields().size()),
                               100, kDownloadChunkRows);
        for (;;) {
          auto chunk = rows->Next(csv_rows);
          if (chunk.empty()) break;
          if (!write(DownloadCsvRows(rows->fields(), chunk))) return;
        }
      } else {
        // JSON: each row with its own fields, and the list of fields at the end.
        if (!write(DownloadHead({}, mode))) return;
        std::vector<std::vector<std::string>> names;
        std::vector<std::vector<query::Values>> values;
        for (bool first = true; rows->NextOwn(kDownloadChunkRows, &names, &values); first = false) {
          if (!write(DownloadJsonRows(names, values, first))) return;
        }
      }
      const std::vector<Message> messages = rows->messages();
      for (const auto& m : messages) {
        if (m.type == "ERROR") log::Warn("serve: export of job {}: {}", sid, m.text);
      }
      write(DownloadTail(rows->seen_fields(), messages, mode));
    };
    return Secure(std::move(r));
  });
  post("/api/jobs/{sid}/cancel", [ctx](Request& req) {
    cairn::Status s = ctx->jobs->Cancel(req.captures["sid"], req.user->name, IsAdmin(req));
    if (!s.ok()) return StatusError(s);
    return Json(200, "{}");
  });
  // The status page: the store's indexes, the collectors and their lag, the search workers'
  // load, the audit writer and the server's recent warnings and errors.
  router->Add("GET", "/api/status",
              [ctx](Request& req) { return Json(200, StatusJson(ctx, IsAdmin(req))); });
  router->Add("GET", "/api/saved", [ctx](Request&) {
    std::lock_guard<std::mutex> l(saved_mu);
    auto list = LoadSaved(ctx);
    if (!list.ok()) return JsonError(500, list.status().message());
    return Json(200, SavedJson(WithBuiltinSearches(*list)));
  });
  router->Add("GET", "/api/overview", [ctx](Request&) {
    std::lock_guard<std::mutex> l(saved_mu);
    auto list = LoadSaved(ctx);
    if (!list.ok()) return JsonError(500, list.status().message());
    return Json(200, SavedJson(OverviewPanels(*list), "panels"));
  });
  post("/api/saved", [ctx](Request& req) {
    SavedSearch s{req.form.Get("name", ""),          req.form.Get("search", ""),
                  req.form.Get("earliest_time", ""), req.form.Get("latest_time", ""),
                  req.form.Get("description", ""),   req.form.Get("visualization", "")};
    if (Status v = ValidateSavedSearch(s); !v.ok()) return JsonError(400, v.message());
    std::lock_guard<std::mutex> l(saved_mu);
    auto loaded = LoadSaved(ctx);
    if (!loaded.ok()) return JsonError(500, loaded.status().message());
    std::vector<SavedSearch>& list = *loaded;
    auto it =
        std::find_if(list.begin(), list.end(), [&](const auto& x) { return x.name == s.name; });
    if (it != list.end()) {
      *it = s;
    } else {
      list.push_back(s);
    }
    FileSystem* fs = FileSystem::Default();
    Status st = fs->CreateDirs(JoinPath(ctx->data_dir, "serve"));
    if (st.ok()) st = WriteFileAtomic(fs, SavedPath(ctx), FormatSavedSearches(list));
    if (!st.ok()) {
      log::Error("serve: saving searches: {}", st.ToString());
      return JsonError(500, "Could not save the search");
    }
    log::Info("serve: user {} saved search {:?}", req.user->name, s.name);
    return Json(200, SavedJson(WithBuiltinSearches(list)));
  });
  post("/api/saved/delete", [ctx](Request& req) {
    const std::string name = req.form.Get("name", "");
    std::lock_guard<std::mutex> l(saved_mu);
    auto loaded = LoadSaved(ctx);
    if (!loaded.ok()) return JsonError(500, loaded.status().message());
    std::vector<SavedSearch>& list = *loaded;
    auto it =
        std::remove_if(list.begin(), list.end(), [&](const auto& x) { return x.name == name; });
    if (it == list.end()) return JsonError(404, "No such saved search");
    list.erase(it, list.end());
    Status st = WriteFileAtomic(FileSystem::Default(), SavedPath(ctx), FormatSavedSearches(list));
    if (!st.ok()) return JsonError(500, "Could not save the searches");
    return Json(200, SavedJson(WithBuiltinSearches(list)));
  });
}

}  // namespace cairn::serve
