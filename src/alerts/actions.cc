#include "alerts/actions.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include "common/json_util.h"
#include "common/time_util.h"

namespace cairn::alerts {
namespace {

void Field(std::string* out, std::string_view name, std::string_view value) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
  AppendJsonString(out, value);
}

void RawField(std::string* out, std::string_view name, std::string_view json) {
  if (out->back() != '{') out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
  out->append(json);
}

std::string Body(const Triggered& t) {
  std::string out = "{";
  Field(&out, "sid", t.sid);
  Field(&out, "search_name", t.search_name);
  Field(&out, "app", t.app);
  Field(&out, "owner", t.owner);
  Field(&out, "results_link", t.results_link);
  RawField(&out, "result", t.results_json.empty() ? "{}" : t.results_json.front());
  Field(&out, "level", t.alert.level);
  Field(&out, "trigger_time", FormatIso8601(t.scheduled_ms));
  Field(&out, "earliest", FormatIso8601(t.earliest_ms, true));
  Field(&out, "latest", FormatIso8601(t.latest_ms, true));
  RawField(&out, "result_count", std::to_string(t.result_count));
  Field(&out, "alert_key", t.alert.key);
  Field(&out, "alert_id", detect::ToEvent(t.alert).event_id);
  return out;
}

}  // namespace

std::string WebhookPayload(const Triggered& t) { return Body(t) + "}"; }

std::string JsonlLine(const Triggered& t) {
  std::string out = Body(t);
  out += ",\"results\":[";
  for (size_t i = 0; i < t.results_json.size(); ++i) {
    if (i) out.push_back(',');
    out += t.results_json[i];
  }
  out += "]}";
  return out;
}

std::string SlackPayload(const Triggered& t, const std::string& channel) {
  const std::string& level = t.alert.level;
  std::string color = level == "critical" || level == "high" ? "danger"
                      : level == "medium"                    ? "warning"
                                                             : "#439FE0";
  std::string text = fmt::format(
      "cairn alert *{}* ({}): {} result{} between {} and {}", t.search_name, level, t.result_count,
      t.result_count == 1 ? "" : "s", FormatIso8601(t.earliest_ms), FormatIso8601(t.latest_ms));
  std::string out = "{";
  if (!channel.empty()) Field(&out, "channel", channel);
  Field(&out, "username", "cairn");
  Field(&out, "text", text);
  out += ",\"attachments\":[{";
  Field(&out, "color", color);
  Field(&out, "title", t.alert.title.empty() ? t.search_name : t.alert.title);
  if (!t.alert.description.empty()) Field(&out, "text", t.alert.description);
  out += ",\"fields\":[";
  auto add = [&](std::string_view name, std::string_view value, bool first) {
    if (!first) out.push_back(',');
    out += "{";
    Field(&out, "title", name);
    Field(&out, "value", value);
    out += ",\"short\":true}";
  };
  add("search", t.search_name, true);
  add("level", level, false);
  add("results", std::to_string(t.result_count), false);
  add("sid", t.sid, false);
  if (!t.results_json.empty()) add("first result", t.results_json.front(), false);
  if (!t.results_link.empty()) add("link", t.results_link, false);
  out += "]}]}";
  return out;
}

std::string SyslogMessage(const Triggered& t, int facility, const std::string& hostname) {
  // RFC 5424 severities: 2 critical, 3 error, 4 warning, 5 notice, 6 informational.
  const std::string& level = t.alert.level;
  int severity = level == "critical" ? 2
                 : level == "high"   ? 3
                 : level == "medium" ? 4
                 : level == "low"    ? 5
                                     : 6;
  std::string host = hostname;
  if (host.empty()) {
    char buf[256] = {0};
    if (::gethostname(buf, sizeof(buf) - 1) == 0) host = buf;
  }
  if (host.empty()) host = "-";
  // SD-PARAM values escape '"', '\' and ']'.
  auto sd = [](std::string_view v) {
    std::string out;
    for (char c : v) {
      if (c == '"' || c == '\\' || c == ']') out.push_back('\\');
      out.push_back(c);
    }
    return out;
  };
  // 32473 is the private enterprise number reserved for documentation (RFC 5612).
  return fmt::format(
      "<{}>1 {} {} cairn - alert [cairn@32473 search_name=\"{}\" sid=\"{}\" level=\"{}\" "
      "result_count=\"{}\" earliest=\"{}\" latest=\"{}\" alert_key=\"{}\"] {}",
      facility * 8 + severity, FormatIso8601(t.scheduled_ms, true), host, sd(t.search_name),
      sd(t.sid), sd(level), t.result_count, FormatIso8601(t.earliest_ms, true),
      FormatIso8601(t.latest_ms, true), sd(t.alert.key), WebhookPayload(t));
}

Status PostJson(aws::HttpClient* http, const std::string& url, const std::string& body,
                int64_t timeout_ms) {
  auto parsed = aws::ParseUrl(url);
  if (!parsed.ok()) return InvalidArgument("webhook URL: {}", parsed.status().message());
  if (parsed->scheme != "http" && parsed->scheme != "https") {
    return InvalidArgument("webhook URL scheme {} is not http or https", parsed->scheme);
  }
  aws::HttpRequest req;
  req.method = "POST";
  req.scheme = parsed->scheme;
  req.host = parsed->host;
  req.path = parsed->path;
  req.query = parsed->query;
  req.body = body;
  req.idle_timeout_ms = timeout_ms;
  aws::SetHeader(&req.headers, "Content-Type", "application/json");
  // Webhook URLs often carry their secret in the path (Slack's /services/T../B../token): errors
  // and logs name the scheme and host only.
  const std::string where = "POST " + req.scheme + "://" + req.host + "/...";
  auto hide_path = [&](std::string msg) {
    for (size_t at; req.path.size() > 1 && (at = msg.find(req.path)) != std::string::npos;) {
      msg.replace(at, req.path.size(), "/...");
    }
    return msg;
  };
  auto resp = http->Send(req);
  if (!resp.ok()) {
    return Status(resp.status().code(), hide_path(resp.status().message()));
  }
  if (!resp->ok()) return Unavailable("{} answered HTTP {}", where, resp->status);
  return Status::Ok();
}

Status AppendLine(FileSystem* fs, const std::string& path, const std::string& line) {
  auto f = fs->NewAppendableFile(path);
  if (!f.ok()) return f.status();
  if (Status s = (*f)->Append(line + "\n"); !s.ok()) return s;
  if (Status s = (*f)->Sync(); !s.ok()) return s;
  return (*f)->Close();
}

Status SendSyslog(const SyslogAction& action, const std::string& message, int64_t timeout_ms) {
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  const bool tcp = action.protocol == "tcp";
  hints.ai_socktype = tcp ? SOCK_STREAM : SOCK_DGRAM;
  addrinfo* res = nullptr;
  std::string port = std::to_string(action.port);
  if (int rc = ::getaddrinfo(action.host.c_str(), port.c_str(), &hints, &res); rc != 0) {
    return Unavailable("syslog {}:{}: {}", action.host, action.port, ::gai_strerror(rc));
  }
  std::string where = fmt::format("syslog {}://{}:{}", action.protocol, action.host, action.port);
  int fd = ::socket(res->ai_family, res->ai_socktype | SOCK_CLOEXEC, res->ai_protocol);
  if (fd < 0) {
    ::freeaddrinfo(res);
    return Unavailable("{}: socket: {}", where, std::strerror(errno));
  }
  Status result = Status::Ok();
  if (!tcp) {
    if (::sendto(fd, message.data(), message.size(), 0, res->ai_addr, res->ai_addrlen) < 0) {
      result = Unavailable("{}: send: {}", where, std::strerror(errno));
    }
  } else {
    // Connect without blocking beyond the timeout, then send with a send timeout.
    int flags = ::fcntl(fd, F_GETFL, 0);
    ::fcntl(fd, F_SETFL, flags | O_NONBLOCK);
    int rc = ::connect(fd, res->ai_addr, res->ai_addrlen);
    if (rc < 0 && errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      rc = ::poll(&p, 1, static_cast<int>(timeout_ms));
      if (rc == 0) {
        result = Unavailable("{}: connect timed out after {} ms", where, timeout_ms);
      } else {
        int err = 0;
        socklen_t len = sizeof(err);
        ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len);
        if (err != 0) result = Unavailable("{}: connect: {}", where, std::strerror(err));
      }
    } else if (rc < 0) {
      result = Unavailable("{}: connect: {}", where, std::strerror(errno));
    }
    if (result.ok()) {
      ::fcntl(fd, F_SETFL, flags);
      timeval tv{static_cast<time_t>(timeout_ms / 1000),
                 static_cast<suseconds_t>((timeout_ms % 1000) * 1000)};
      ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
      // Octet counting (RFC 6587 3.4.1): "LEN SP MSG".
      std::string framed = std::to_string(message.size()) + " " + message;
      size_t off = 0;
      while (off < framed.size()) {
        ssize_t n = ::send(fd, framed.data() + off, framed.size() - off, MSG_NOSIGNAL);
        if (n < 0) {
          if (errno == EINTR) continue;
          result = Unavailable("{}: send: {}", where, std::strerror(errno));
          break;
        }
        off += static_cast<size_t>(n);
      }
    }
  }
  ::close(fd);
  ::freeaddrinfo(res);
  return result;
}

}  // namespace cairn::alerts
