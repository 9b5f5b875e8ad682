// Splunk's search REST API: /services/search/jobs (and /services/search/v2/jobs, which clients use
// when the server reports 9.0.2 or later): create (normal, blocking, oneshot), list, status,
// results/events/results_preview, control (cancel, finalize), delete, and export.

#include <fmt/format.h>

#include <cmath>
#include <condition_variable>
#include <memory>
#include <mutex>

#include "common/json_util.h"
#include "common/log.h"
#include "query/engine.h"
#include "serve/jobs.h"
#include "serve/rest.h"
#include "serve/splunk_format.h"

namespace cairn::serve {

namespace {

bool IsAdmin(const Request& req) { return req.user && req.user->role == "admin"; }

Response StatusError(const Request& req, const cairn::Status& s) {
  switch (s.code()) {
    case StatusCode::kNotFound: return ErrorResponse(req, 404, "Unknown sid.");
    case StatusCode::kInvalidArgument: return ErrorResponse(req, 400, s.message());
    case StatusCode::kAlreadyExists: return ErrorResponse(req, 409, s.message());
    case StatusCode::kResourceExhausted: return ErrorResponse(req, 503, s.message());
    case StatusCode::kUnavailable: return ErrorResponse(req, 503, s.message());
    default: return ErrorResponse(req, 500, s.message());
  }
}

// A non-negative integer parameter; nullopt (and *bad set) when present but not a number.
std::optional<size_t> SizeParam(const Request& req, std::string_view key, size_t fallback,
                                bool* bad) {
  auto v = req.Param(key);
  if (!v || v->empty()) return fallback;
  size_t n = 0;
  for (char c : *v) {
    if (c < '0' || c > '9' || n > (size_t{1} << 40)) {
      *bad = true;
      return std::nullopt;
    }
    n = n * 10 + static_cast<size_t>(c - '0');
  }
  return n;
}

std::string JobPath(const std::string& sid) {
  return "/services/search/jobs/" + PercentEncode(sid);
}

Entry JobEntry(const JobStatus& s) {
  Entry e;
  e.name = s.search;  // Splunk titles a job with its search; clients read content.sid
  e.id = JobPath(s.sid);
  e.author = s.owner;
  e.updated = IsoTime(s.created);
  const std::string base = JobPath(s.sid);
  e.links = {{"search.log", base + "/search.log"},
             {"events", base + "/events"},
             {"results", base + "/results"},
             {"results_preview", base + "/results_preview"},
             {"control", base + "/control"}};
  const bool done = s.state == DispatchState::kDone || s.state == DispatchState::kFailed;
  e.content = {
      {"sid", s.sid},
      {"dispatchState", DispatchStateName(s.state)},
      {"isDone", done},
      {"isFailed", s.state == DispatchState::kFailed},
      {"isFinalized", s.finalized},
      {"isPaused", false},
      {"isSaved", false},
      {"isSavedSearch", false},
      {"isZombie", false},
      {"isPreviewEnabled", false},
      {"isEventsPreviewEnabled", false},
      {"isRealTimeSearch", false},
      {"doneProgress", s.progress},
      {"eventCount", s.event_count},
      {"eventAvailableCount", s.events_search ? s.result_count : 0},
      {"eventIsStreaming", s.events_search},
      {"eventIsTruncated", false},
      {"resultCount", s.result_count},
      {"resultIsStreaming", s.events_search},
      {"resultPreviewCount", s.result_count},
      {"scanCount", s.scan_count},
      {"dropCount", 0},
      {"runDuration", s.run_duration},
      {"ttl", s.ttl_s},
      {"priority", 5},
      {"label", ""},
      {"eventSearch", s.search},
      {"reportSearch", ""},
      {"published", IsoTime(s.created)},
      {"createTime", IsoTime(s.created)},
  };
  if (std::isfinite(s.earliest)) e.content.emplace_back("earliestTime", IsoTime(s.earliest));
  if (std::isfinite(s.latest)) e.content.emplace_back("latestTime", IsoTime(s.latest));
  e.messages = s.messages;
  return e;
}

Response SidResponse(const Request& req, int status, const std::string& sid) {
  if (WantsJson(req)) {
    std::string body = "{\"sid\":";
    AppendJsonString(&body, sid);
    body += '}';
    return JsonResponse(status, std::move(body));
  }
  return XmlResponse(
      status,
      fmt::format(
          "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <sid>{}</sid>\n</response>\n",
          XmlEscape(sid)));
}

Response PageResponse(const Request& req, const ResultPage& page, OutputMode mode) {
  Response r;
  r.body = FormatResults(page, mode, &r.content_type);
  return r;
}

// Reads the search parameters shared by job creation and export.
std::optional<Response> ReadJobRequest(const Request& req, JobRequest* jr) {
  auto search = req.Param("search");
  if (!search || search->find_first_not_of(" \t\r\n") == std::string::npos) {
    return ErrorResponse(req, 400, "Missing search: give the search parameter.");
  }
  jr->search = *search;
  jr->earliest_time = req.Param("earliest_time", "");
  jr->latest_time = req.Param("latest_time", "");
  bool bad = false;
  auto max_count = SizeParam(req, "max_count", 0, &bad);
  auto ttl = SizeParam(req, "timeout", 0, &bad);
  if (bad) return ErrorResponse(req, 400, "max_count and timeout must be non-negative integers.");
  jr->max_count = *max_count;
  jr->ttl_s = static_cast<int64_t>(*ttl);
  jr->owner = req.user->name;
  jr->sid = req.Param("id", "");
  jr->interface = "rest";
  jr->client = req.remote;
  return std::nullopt;
}

Response CreateJob(ServeContext* ctx, Request& req) {
  const std::string exec_mode = req.Param("exec_mode", "normal");
  if (exec_mode != "normal" && exec_mode != "blocking" && exec_mode != "oneshot") {
    return ErrorResponse(req, 400, "exec_mode must be normal, blocking or oneshot.");
  }
  auto mode = ParseOutputMode(req.Param("output_mode", ""));
  if (!mode) return ErrorResponse(req, 400, "Unknown output_mode.");
  JobRequest jr;
  if (auto err = ReadJobRequest(req, &jr)) return *err;
  jr.hidden = exec_mode == "oneshot";
  jr.exec_mode = exec_mode;
  auto sid = ctx->jobs->Create(jr);
  if (!sid.ok()) return StatusError(req, sid.status());
  if (exec_mode == "normal") return SidResponse(req, 201, *sid);
  auto st = ctx->jobs->Wait(*sid, req.user->name, IsAdmin(req));
  if (!st.ok()) return StatusError(req, st.status());
  if (exec_mode == "blocking") return SidResponse(req, 201, *sid);
  // oneshot: the results themselves (count 100 by default as in Splunk; 0 = all), then the job
  // is gone.
  bool bad = false;
  auto offset = SizeParam(req, "offset", 0, &bad);
  auto count = SizeParam(req, "count", 100, &bad);
  if (bad) {
    ctx->jobs->Remove(*sid);
    return ErrorResponse(req, 400, "offset and count must be non-negative integers.");
  }
  auto page = ctx->jobs->Results(*sid, req.user->name, IsAdmin(req), *offset, *count);
  ctx->jobs->Remove(*sid);
  if (!page.ok()) return StatusError(req, page.status());
  if (st->state == DispatchState::kFailed) {
    std::string text = st->messages.empty() ? "Search failed." : st->messages.back().text;
    return ErrorResponse(req, 400, text);
  }
  return PageResponse(req, *page, *mode);
}

Response JobResults(ServeContext* ctx, Request& req, bool preview) {
  auto mode = ParseOutputMode(req.Param("output_mode", ""));
  if (!mode) return ErrorResponse(req, 400, "Unknown output_mode.");
  bool bad = false;
  auto offset = SizeParam(req, "offset", 0, &bad);
  auto count = SizeParam(req, "count", 100, &bad);
  if (bad) return ErrorResponse(req, 400, "offset and count must be non-negative integers.");
  const std::string& sid = req.captures["sid"];
  auto st = ctx->jobs->Status(sid, req.user->name, IsAdmin(req));
  if (!st.ok()) return StatusError(req, st.status());
  const bool done = st->state == DispatchState::kDone || st->state == DispatchState::kFailed;
  if (!done && !preview) {
    // As Splunk: results of an unfinished job are "no content" yet.
    Response r;
    r.status = 204;
    return r;
  }
  auto page = ctx->jobs->Results(sid, req.user->name, IsAdmin(req), *offset, *count);
  if (!page.ok()) return StatusError(req, page.status());
  return PageResponse(req, *page, *mode);
}

// An export under way: the search's thread formats each batch of rows it finds into one piece
// and hands it here; the response's thread writes it. One piece waits at most (the search waits
// for it to be taken), so the export holds a batch of rows, not its result.
struct ExportChannel {
  std::mutex mu;
  std::condition_variable cv;
  std::string piece;  // formatted rows not yet taken
  bool has_piece = false;
  bool ended = false;  // the job is done or failed: no piece follows
  bool gone = false;   // the client went away (or the answer was never sent)

  // The formatting, by the search's thread while it runs, then (after `ended`) the response's.
  OutputMode mode = OutputMode::kXml;
  size_t max_count = 0;
  size_t offset = 0;  // of the held row
  bool head_done = false;
  std::vector<std::string> head_fields;
  // The last row, held back until the next shows it is not the last (json marks "lastrow").
  bool has_held = false;
  std::vector<std::string> held_fields;
  std::vector<query::Values> held_row;

  size_t taken() const { return offset + (has_held ? 1 : 0); }
  void Add(const std::vector<std::string>& fields, std::vector<query::Values>& values,
           std::string* out) {
    if (!head_done) {
      // CSV needs one header: the first row's fields (a table or stats search has the same
      // fields in every row).
      head_fields = fields;
      *out += ExportHead(head_fields, mode);
      head_done = true;
    }
    const std::vector<std::string>& f = mode == OutputMode::kCsv ? head_fields : fields;
    std::vector<query::Values> row(f.size());
    for (size_t k = 0; k < fields.size(); ++k) {
      auto it = std::find(f.begin(), f.end(), fields[k]);
      if (it != f.end()) row[static_cast<size_t>(it - f.begin())] = std::move(values[k]);
    }
    if (has_held) *out += ExportRow(held_fields, held_row, offset++, false, mode);
    held_fields = f;
    held_row = std::move(row);
    has_held = true;
  }
  std::string Finish(const std::vector<Message>& messages) {
    std::string out;
    if (has_held) out += ExportRow(held_fields, held_row, offset++, true, mode);
    has_held = false;
    if (!head_done) out += ExportHead({}, mode);
    out += ExportMessages(messages, mode);
    out += ExportTail(mode);
    return out;
  }
};

// Ends the export's search when the response is gone without having written everything (the
// client went away, or the answer was never sent): the search stops at its next batch and is
// recorded as cancelled.
struct ExportGuard {
  std::shared_ptr<ExportChannel> ch;
  JobManager* jobs = nullptr;
  std::string sid;
  ~ExportGuard() {
    if (!ch) return;
    {
      std::lock_guard<std::mutex> l(ch->mu);
      ch->gone = true;
    }
    ch->cv.notify_all();
    jobs->Remove(sid);
  }
};

Response Export(ServeContext* ctx, Request& req) {
  auto mode = ParseOutputMode(req.Param("output_mode", ""));
  if (!mode || *mode == OutputMode::kJsonRows || *mode == OutputMode::kJsonCols) {
    return ErrorResponse(req, 400, "output_mode for export must be xml, json, csv or raw.");
  }
  JobRequest jr;
  if (auto err = ReadJobRequest(req, &jr)) return *err;
  jr.hidden = true;
  jr.sid.clear();
  jr.exec_mode = "export";
  auto ch = std::make_shared<ExportChannel>();
  ch->mode = *mode;
  ch->max_count = jr.max_count != 0 ? jr.max_count : ctx->jobs->default_max_count();
  // The rows go out as the search finds them (Engine::ExecuteStream): each batch becomes one
  // piece, handed over when the previous one has been taken.
  auto rows = [ch](const query::SearchResults& batch) {
    std::string out;
    std::vector<std::string> names;
    std::vector<query::Values> values;
    bool more = true;
    for (size_t i = 0; i < batch.size(); ++i) {
      if (ch->taken() >= ch->max_count) {
        more = false;
        break;
      }
      batch.Cells(i, &names, &values);
      ch->Add(names, values, &out);
    }
    std::unique_lock<std::mutex> l(ch->mu);
    ch->cv.wait(l, [&] { return !ch->has_piece || ch->gone; });
    if (ch->gone) return false;
    ch->piece = std::move(out);
    ch->has_piece = true;
    ch->cv.notify_all();
    return more && ch->taken() < ch->max_count;
  };
  auto ended = [ch] {
    {
      std::lock_guard<std::mutex> l(ch->mu);
      ch->ended = true;
    }
    ch->cv.notify_all();
  };
  auto sid = ctx->jobs->CreateStreaming(jr, rows, ended);
  if (!sid.ok()) return StatusError(req, sid.status());
  auto guard = std::make_shared<ExportGuard>();
  guard->ch = ch;
  guard->jobs = ctx->jobs;
  guard->sid = *sid;
  const std::string user = req.user->name;
  const bool admin = IsAdmin(req);
  // The answer begins with the first rows, or when the search ends: one that fails before it has
  // found a row is answered with an error, as a finished job's would be.
  bool first_ready = false;
  {
    std::unique_lock<std::mutex> l(ch->mu);
    ch->cv.wait(l, [&] { return ch->has_piece || ch->ended; });
    first_ready = ch->has_piece;
  }
  if (!first_ready) {
    auto st = ctx->jobs->Status(*sid, user, admin);
    if (!st.ok() || st->state == DispatchState::kFailed) {
      std::string text = !st.ok()
                             ? st.status().message()
                             : (st->messages.empty() ? "Search failed." : st->messages.back().text);
      return ErrorResponse(req, 400, text);
    }
  }
  Response r;
  r.content_type = *mode == OutputMode::kJson  ? "application/json; charset=utf-8"
                   : *mode == OutputMode::kCsv ? "text/csv; charset=utf-8"
                   : *mode == OutputMode::kRaw ? "text/plain; charset=utf-8"
                                               : "text/xml; charset=utf-8";
  JobManager* jobs = ctx->jobs;
  const std::string id = *sid;
  r.stream = [jobs, id, ch, guard, user,
              admin](const std::function<bool(std::string_view)>& write) {
    for (;;) {
      std::string piece;
      {
        std::unique_lock<std::mutex> l(ch->mu);
        ch->cv.wait(l, [&] { return ch->has_piece || ch->ended; });
        if (!ch->has_piece) break;
        piece.swap(ch->piece);
        ch->has_piece = false;
      }
      ch->cv.notify_all();
      if (!write(piece)) {
        // The client went away: the guard (when the response is dropped) cancels the search.
        log::Info("serve: export of job {}: the client went away; the search is cancelled", id);
        return;
      }
    }
    // The search has ended. A failure now can only be told in the stream (and is logged).
    std::vector<Message> messages;
    auto st = jobs->Status(id, user, admin);
    if (st.ok() && st->state == DispatchState::kFailed) {
      const std::string text =
          st->messages.empty() ? std::string("Search failed.") : st->messages.back().text;
      log::Warn("serve: export of job {}: {}", id, text);
      messages.push_back(Message{"ERROR", text});
    }
    write(ch->Finish(messages));
  };
  return r;
}

}  // namespace

void RegisterSearch(Router* router, ServeContext* ctx) {
  for (const std::string base : {"/services/search/jobs", "/services/search/v2/jobs"}) {
    router->Add("POST", base, [ctx](Request& req) { return CreateJob(ctx, req); });
    router->Add("GET", base, [ctx](Request& req) {
      Feed feed;
      feed.title = "jobs";
      feed.origin = "/services/search/jobs";
      feed.version = ctx->splunk_version;
      for (const auto& s : ctx->jobs->List(req.user->name, IsAdmin(req)))
        feed.entries.push_back(JobEntry(s));
      return WantsJson(req) ? JsonResponse(200, FeedJson(feed)) : XmlResponse(200, FeedXml(feed));
    });
    router->Add("*", base + "/export", [ctx](Request& req) {
      if (req.method != "GET" && req.method != "POST")
        return ErrorResponse(req, 405, "Method not allowed");
      return Export(ctx, req);
    });
    router->Add("GET", base + "/{sid}", [ctx](Request& req) {
      auto st = ctx->jobs->Status(req.captures["sid"], req.user->name, IsAdmin(req));
      if (!st.ok()) return StatusError(req, st.status());
      Feed feed;
      feed.title = "jobs";
      feed.origin = "/services/search/jobs";
      feed.version = ctx->splunk_version;
      feed.entries.push_back(JobEntry(*st));
      return WantsJson(req) ? JsonResponse(200, FeedJson(feed))
                            : XmlResponse(200, EntryXml(feed.entries[0]));
    });
    router->Add("DELETE", base + "/{sid}", [ctx](Request& req) {
      cairn::Status s = ctx->jobs->Cancel(req.captures["sid"], req.user->name, IsAdmin(req));
      if (!s.ok()) return StatusError(req, s);
      return WantsJson(req)
                 ? JsonResponse(
                       200,
                       "{\"messages\":[{\"type\":\"INFO\",\"text\":\"Search job cancelled.\"}]}")
                 : XmlResponse(
                       200,
                       "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <messages>\n"
                       "    <msg type=\"INFO\">Search job cancelled.</msg>\n  "
                       "</messages>\n</response>\n");
    });
    router->Add("POST", base + "/{sid}/control", [ctx](Request& req) {
      const std::string action = req.Param("action", "");
      const std::string& sid = req.captures["sid"];
      cairn::Status s;
      std::string text;
      if (action == "cancel") {
        s = ctx->jobs->Cancel(sid, req.user->name, IsAdmin(req));
        text = "Search job cancelled.";
      } else if (action == "finalize") {
        s = ctx->jobs->Finalize(sid, req.user->name, IsAdmin(req));
        text = "Search job finalized.";
      } else if (action == "pause" || action == "unpause" || action == "touch" ||
                 action == "enablepreview" || action == "disablepreview" || action == "setttl" ||
                 action == "setpriority" || action == "save" || action == "unsave") {
        // Accepted for compatibility: cairn's searches are not paused or previewed; touch keeps it.
        auto st = ctx->jobs->Status(sid, req.user->name, IsAdmin(req));
        s = st.ok() ? cairn::Status() : st.status();
        text = "Search job updated.";
      } else {
        return ErrorResponse(
            req, 400,
            "action must be cancel, finalize, pause, unpause, touch, setttl or setpriority.");
      }
      if (!s.ok()) return StatusError(req, s);
      if (WantsJson(req)) {
        std::string body = "{\"messages\":[{\"type\":\"INFO\",\"text\":";
        AppendJsonString(&body, text);
        body += "}]}";
        return JsonResponse(200, std::move(body));
      }
      return XmlResponse(
          200, fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <messages>\n"
                           "    <msg type=\"INFO\">{}</msg>\n  </messages>\n</response>\n",
                           text));
    });
    // v1 reads results with GET, v2 with POST (the JavaScript SDK does so); both answer both.
    for (const char* method : {"GET", "POST"}) {
      router->Add(method, base + "/{sid}/results",
                  [ctx](Request& req) { return JobResults(ctx, req, false); });
      router->Add(method, base + "/{sid}/events",
                  [ctx](Request& req) { return JobResults(ctx, req, false); });
      router->Add(method, base + "/{sid}/results_preview",
                  [ctx](Request& req) { return JobResults(ctx, req, true); });
    }
  }
}

}  // namespace cairn::serve
