#include "aws/http.h"

// libcurl is loaded when the first HTTP client is made (dlopen), not linked: it brings 26 shared
// libraries, whose loading made every cairn process, `cairn search` included, start about 10 ms
// later. Only the header's types and constants are used at compile time.
#define CURL_DISABLE_TYPECHECK 1
#include <curl/curl.h>
#include <dlfcn.h>

#include <algorithm>
#include <cctype>
#include <mutex>
#include <type_traits>

#include "common/hex.h"
#include "common/log.h"

namespace cairn::aws {

namespace {

bool IEquals(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    if (std::tolower(static_cast<unsigned char>(a[i])) !=
        std::tolower(static_cast<unsigned char>(b[i])))
      return false;
  }
  return true;
}

bool Unreserved(unsigned char c) {
  return std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~';
}

}  // namespace

std::string_view FindHeader(const HttpHeaders& headers, std::string_view name) {
  for (const auto& [k, v] : headers) {
    if (IEquals(k, name)) return v;
  }
  return {};
}

void RemoveHeader(HttpHeaders* headers, std::string_view name) {
  headers->erase(std::remove_if(headers->begin(), headers->end(),
                                [&](const auto& kv) { return IEquals(kv.first, name); }),
                 headers->end());
}

void SetHeader(HttpHeaders* headers, std::string_view name, std::string value) {
  RemoveHeader(headers, name);
  headers->emplace_back(std::string(name), std::move(value));
}

std::string UriEncode(std::string_view s, bool keep_slash) {
  static const char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(s.size() + s.size() / 4);
  for (unsigned char c : s) {
    if (Unreserved(c) || (keep_slash && c == '/')) {
      out.push_back(static_cast<char>(c));
    } else {
      out.push_back('%');
      out.push_back(kHex[c >> 4]);
      out.push_back(kHex[c & 15]);
    }
  }
  return out;
}

std::string UriDecode(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '%' && i + 2 < s.size()) {
      int hi = HexDigitValue(s[i + 1]);
      int lo = HexDigitValue(s[i + 2]);
      if (hi >= 0 && lo >= 0) {
        out.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
        continue;
      }
    }
    out.push_back(s[i]);
  }
  return out;
}

std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& pairs) {
  std::string out;
  for (const auto& [k, v] : pairs) {
    if (!out.empty()) out.push_back('&');
    out += UriEncode(k, false);
    out.push_back('=');
    out += UriEncode(v, false);
  }
  return out;
}

std::string HttpRequest::Url() const {
  std::string url = scheme + "://" + host + path;
  if (!query.empty()) {
    url.push_back('?');
    url += FormEncode(query);
  }
  return url;
}

std::string HttpRequest::Describe() const { return method + " " + scheme + "://" + host + path; }

Result<ParsedUrl> ParseUrl(std::string_view url) {
  ParsedUrl out;
  size_t p = url.find("://");
  if (p == std::string_view::npos) return InvalidArgument("URL '{}' has no scheme", url);
  out.scheme = std::string(url.substr(0, p));
  std::transform(out.scheme.begin(), out.scheme.end(), out.scheme.begin(), ::tolower);
  if (out.scheme != "http" && out.scheme != "https") {
    return InvalidArgument("URL '{}': scheme must be http or https", url);
  }
  std::string_view rest = url.substr(p + 3);
  size_t end = rest.find_first_of("/?#");
  std::string_view authority = rest.substr(0, end);
  if (authority.find('@') != std::string_view::npos) {
    return InvalidArgument("URL for host '{}' must not carry user information",
                           authority.substr(authority.find('@') + 1));
  }
  if (authority.empty()) return InvalidArgument("URL '{}' has no host", url);
  std::string host(authority);
  std::transform(host.begin(), host.end(), host.begin(), ::tolower);
  std::string default_port = out.scheme == "https" ? ":443" : ":80";
  if (host.size() > default_port.size() &&
      host.compare(host.size() - default_port.size(), default_port.size(), default_port) == 0 &&
      host.back() != ']') {
    host.resize(host.size() - default_port.size());
  }
  out.host = host;
  rest = end == std::string_view::npos ? std::string_view() : rest.substr(end);
  size_t hash = rest.find('#');
  if (hash != std::string_view::npos) rest = rest.substr(0, hash);
  size_t q = rest.find('?');
  std::string_view path = rest.substr(0, q);
  out.path = path.empty() ? "/" : std::string(path);
  if (q != std::string_view::npos) {
    std::string_view query = rest.substr(q + 1);
    while (!query.empty()) {
      size_t amp = query.find('&');
      std::string_view part = query.substr(0, amp);
      if (!part.empty()) {
        size_t eq = part.find('=');
        std::string k = UriDecode(part.substr(0, eq));
        std::string v = eq == std::string_view::npos ? "" : UriDecode(part.substr(eq + 1));
        out.query.emplace_back(std::move(k), std::move(v));
      }
      if (amp == std::string_view::npos) break;
      query = query.substr(amp + 1);
    }
  }
  return out;
}

namespace {

// The libcurl functions cairn calls, resolved from libcurl.so.4 on first use.
struct CurlApi {
  CURLcode (*global_init)(long);
  CURL* (*easy_init)();
  void (*easy_cleanup)(CURL*);
  void (*easy_reset)(CURL*);
  CURLcode (*easy_setopt)(CURL*, CURLoption, ...);
  CURLcode (*easy_perform)(CURL*);
  CURLcode (*easy_getinfo)(CURL*, CURLINFO, ...);
  const char* (*easy_strerror)(CURLcode);
  struct curl_slist* (*slist_append)(struct curl_slist*, const char*);
  void (*slist_free_all)(struct curl_slist*);
  std::string error;  // why loading failed; empty when every function was found
};

const CurlApi& Curl() {
  static const CurlApi api = [] {
    CurlApi a{};
    void* lib = ::dlopen("libcurl.so.4", RTLD_NOW | RTLD_LOCAL);
    if (lib == nullptr) {
      const char* e = ::dlerror();
      a.error =
          fmt::format("cannot load libcurl.so.4 (Debian package libcurl4), needed for HTTP: {}",
                      e ? e : "unknown error");
      return a;
    }
    auto sym = [&](auto& fn, const char* name) {
      fn = reinterpret_cast<std::remove_reference_t<decltype(fn)>>(::dlsym(lib, name));
      if (fn == nullptr && a.error.empty()) a.error = fmt::format("libcurl.so.4 lacks {}", name);
    };
    sym(a.global_init, "curl_global_init");
    sym(a.easy_init, "curl_easy_init");
    sym(a.easy_cleanup, "curl_easy_cleanup");
    sym(a.easy_reset, "curl_easy_reset");
    sym(a.easy_setopt, "curl_easy_setopt");
    sym(a.easy_perform, "curl_easy_perform");
    sym(a.easy_getinfo, "curl_easy_getinfo");
    sym(a.easy_strerror, "curl_easy_strerror");
    sym(a.slist_append, "curl_slist_append");
    sym(a.slist_free_all, "curl_slist_free_all");
    if (a.error.empty()) a.global_init(CURL_GLOBAL_DEFAULT);
    return a;
  }();
  return api;
}

struct Transfer {
  const BodySink* sink = nullptr;
  HttpResponse* response = nullptr;
  size_t max_buffered = 0;
  Status sink_status;
  bool too_large = false;
  bool status_seen = false;
  bool headers_delivered = false;
};

Status DeliverHeaders(Transfer* t) {
  if (t->headers_delivered) return Status::Ok();
  t->headers_delivered = true;
  if (t->sink->on_headers) return t->sink->on_headers(*t->response);
  return Status::Ok();
}

size_t OnHeader(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  std::string_view line(data, size * n);
  while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.remove_suffix(1);
  if (line.substr(0, 5) == "HTTP/") {
    // A new status line (after 100-continue or a proxy CONNECT): start over.
    t->response->headers.clear();
    size_t sp = line.find(' ');
    t->response->status =
        sp == std::string_view::npos ? 0 : std::atoi(std::string(line.substr(sp + 1, 3)).c_str());
    t->status_seen = true;
    return size * n;
  }
  size_t colon = line.find(':');
  if (colon != std::string_view::npos) {
    std::string_view name = line.substr(0, colon);
    std::string_view value = line.substr(colon + 1);
    while (!value.empty() && (value.front() == ' ' || value.front() == '\t'))
      value.remove_prefix(1);
    while (!value.empty() && (value.back() == ' ' || value.back() == '\t')) value.remove_suffix(1);
    t->response->headers.emplace_back(std::string(name), std::string(value));
  }
  return size * n;
}

size_t OnBody(char* data, size_t size, size_t n, void* user) {
  auto* t = static_cast<Transfer*>(user);
  size_t len = size * n;
  if (t->sink != nullptr && t->response->ok()) {
    Status st = DeliverHeaders(t);
    if (st.ok() && t->sink->on_data) st = t->sink->on_data(std::string_view(data, len));
    if (!st.ok()) {
      t->sink_status = std::move(st);
      return 0;  // aborts the transfer with CURLE_WRITE_ERROR
    }
    return len;
  }
  if (t->response->body.size() + len > t->max_buffered) {
    t->too_large = true;
    return 0;
  }
  t->response->body.append(data, len);
  return len;
}

class CurlHttpClient final : public HttpClient {
 public:
  explicit CurlHttpClient(HttpOptions options) : options_(std::move(options)) {}

  ~CurlHttpClient() override {
    for (CURL* h : idle_) Curl().easy_cleanup(h);
  }

  Result<HttpResponse> Execute(const HttpRequest& request, const BodySink* sink) override {
    if (!Curl().error.empty()) return Unavailable("{}: {}", request.Describe(), Curl().error);
    CURL* h = Acquire();
    if (h == nullptr) return Internal("curl_easy_init failed");
    Result<HttpResponse> r = Perform(h, request, sink);
    Release(h);
    return r;
  }

 private:
  CURL* Acquire() {
    {
      std::lock_guard<std::mutex> lock(mu_);
      if (!idle_.empty()) {
        CURL* h = idle_.back();
        idle_.pop_back();
        return h;
      }
    }
    return Curl().easy_init();
  }

  void Release(CURL* h) {
    std::lock_guard<std::mutex> lock(mu_);
    if (idle_.size() < 64) {
      idle_.push_back(h);
    } else {
      Curl().easy_cleanup(h);
    }
  }

  Result<HttpResponse> Perform(CURL* h, const HttpRequest& request, const BodySink* sink) {
    // Keep the connection cache and TLS session of the handle; reset per-request options.
    Curl().easy_reset(h);
    HttpResponse response;
    Transfer t;
    t.sink = sink;
    t.response = &response;
    t.max_buffered = options_.max_buffered_body;

    std::string url = request.Url();
    Curl().easy_setopt(h, CURLOPT_URL, url.c_str());
    Curl().easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
    Curl().easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
    Curl().easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
    Curl().easy_setopt(h, CURLOPT_PATH_AS_IS,
                       1L);  // S3 keys may hold "/./" or "/../": send as signed
    Curl().easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
                       static_cast<long>(options_.connect_timeout_ms));
    int64_t idle_ms =
        request.idle_timeout_ms > 0 ? request.idle_timeout_ms : options_.idle_timeout_ms;
    Curl().easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L);
    Curl().easy_setopt(h, CURLOPT_LOW_SPEED_TIME,
                       static_cast<long>(std::max<int64_t>(1, (idle_ms + 999) / 1000)));
    if (options_.total_timeout_ms > 0) {
      Curl().easy_setopt(h, CURLOPT_TIMEOUT_MS, static_cast<long>(options_.total_timeout_ms));
    }
    if (!options_.proxy.empty()) {
      Curl().easy_setopt(h, CURLOPT_PROXY, options_.proxy.c_str());
    } else if (!options_.use_env_proxy) {
      Curl().easy_setopt(h, CURLOPT_PROXY, "");  // "" disables proxies, environment included
    }
    if (!options_.ca_file.empty()) Curl().easy_setopt(h, CURLOPT_CAINFO, options_.ca_file.c_str());
    Curl().easy_setopt(h, CURLOPT_USERAGENT, options_.user_agent.c_str());
    Curl().easy_setopt(h, CURLOPT_ACCEPT_ENCODING, nullptr);  // bodies byte for byte as stored
    Curl().easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L);

    if (request.method == "GET") {
      Curl().easy_setopt(h, CURLOPT_HTTPGET, 1L);
    } else if (request.method == "HEAD") {
      Curl().easy_setopt(h, CURLOPT_NOBODY, 1L);
    } else {
      Curl().easy_setopt(h, CURLOPT_CUSTOMREQUEST, request.method.c_str());
      if (request.method == "POST" || request.method == "PUT" || !request.body.empty()) {
        Curl().easy_setopt(h, CURLOPT_POSTFIELDS, request.body.data());
        Curl().easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
                           static_cast<curl_off_t>(request.body.size()));
      }
    }

    struct curl_slist* headers = nullptr;
    bool has_content_type = false;
    for (const auto& [k, v] : request.headers) {
      if (IEquals(k, "host")) continue;  // libcurl derives Host from the URL (same value)
      if (IEquals(k, "content-type")) has_content_type = true;
      std::string line = v.empty() ? k + ";" : k + ": " + v;
      headers = Curl().slist_append(headers, line.c_str());
    }
    // No "Expect: 100-continue" round trip, and no form content type libcurl would invent.
    headers = Curl().slist_append(headers, "Expect:");
    if (!has_content_type && request.method != "GET" && request.method != "HEAD") {
      headers = Curl().slist_append(headers, "Content-Type:");
    }
    Curl().easy_setopt(h, CURLOPT_HTTPHEADER, headers);
    Curl().easy_setopt(h, CURLOPT_HEADERFUNCTION, OnHeader);
    Curl().easy_setopt(h, CURLOPT_HEADERDATA, &t);
    Curl().easy_setopt(h, CURLOPT_WRITEFUNCTION, OnBody);
    Curl().easy_setopt(h, CURLOPT_WRITEDATA, &t);
    char errbuf[CURL_ERROR_SIZE] = {0};
    Curl().easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);

    CURLcode rc = Curl().easy_perform(h);
    Curl().slist_free_all(headers);
    if (!t.sink_status.ok()) return t.sink_status;
    if (t.too_large) {
      return ResourceExhausted("{}: response body larger than {} bytes", request.Describe(),
                               options_.max_buffered_body);
    }
    if (rc != CURLE_OK) {
      std::string detail = errbuf[0] != 0 ? std::string(errbuf) : Curl().easy_strerror(rc);
      // errbuf can name the URL; keep only the part before any '?'.
      if (size_t q = detail.find('?'); q != std::string::npos) detail.resize(q);
      return Unavailable("{}: {} (curl {})", request.Describe(), detail, static_cast<int>(rc));
    }
    long code = 0;
    Curl().easy_getinfo(h, CURLINFO_RESPONSE_CODE, &code);
    response.status = static_cast<int>(code);
    if (sink != nullptr && response.ok()) RETURN_IF_ERROR(DeliverHeaders(&t));
    return response;
  }

  HttpOptions options_;
  std::mutex mu_;
  std::vector<CURL*> idle_;
};

}  // namespace

std::shared_ptr<HttpClient> NewCurlHttpClient(const HttpOptions& options) {
  return std::make_shared<CurlHttpClient>(options);
}

}  // namespace cairn::aws
