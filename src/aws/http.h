#pragma once
// HTTP as an outside effect. Every AWS call goes through an HttpClient, so tests can record
// requests, replay canned responses or inject faults (resets, 5xx, truncated bodies, slowness).
//
// A request is kept in parts (scheme, host, URI-encoded path, decoded query pairs, headers) because
// the SigV4 signer needs them separately; Url() joins them exactly as they go on the wire.
//
// Errors: a transport failure (DNS, connect, reset, timeout, truncated body) is kUnavailable, so
// callers may retry. An HTTP error status is NOT a transport failure: Send returns the response
// and the caller decides. Error messages name the method, host and path, never the query string
// or any header (either may carry a signature or a token).

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cairn::aws {

using HttpHeaders = std::vector<std::pair<std::string, std::string>>;

// The value of header `name` (case-insensitive), or "" when absent.
std::string_view FindHeader(const HttpHeaders& headers, std::string_view name);
// Sets header `name` (case-insensitive), replacing any existing values.
void SetHeader(HttpHeaders* headers, std::string_view name, std::string value);
void RemoveHeader(HttpHeaders* headers, std::string_view name);

struct HttpRequest {
  std::string method = "GET";
  std::string scheme = "https";
  // Host as in the Host header: "example.com" or "127.0.0.1:4566" (port only when not default).
  std::string host;
  // The URI path as sent on the wire: already percent-encoded, starting with '/'.
  std::string path = "/";
  // Query parameters, decoded; encoded with UriEncode when sent. Order is kept on the wire.
  std::vector<std::pair<std::string, std::string>> query;
  HttpHeaders headers;
  std::string body;
  // Longest time without receiving a byte before the request fails (0: the client's default).
  // Long polls set this above their wait time.
  int64_t idle_timeout_ms = 0;

  // scheme://host/path?query, with the query encoded as SigV4 encodes it.
  std::string Url() const;
  // "GET https://host/path": safe for messages (no query, no headers).
  std::string Describe() const;
};

struct HttpResponse {
  int status = 0;
  HttpHeaders headers;  // names as received; look up with Header()
  std::string body;     // empty when the body went to a sink
  std::string_view Header(std::string_view name) const { return FindHeader(headers, name); }
  bool ok() const { return status >= 200 && status < 300; }
};

// Receives a streamed 2xx response: on_headers once with the status and headers (before any
// data, or at the end for an empty body), then on_data piece by piece. Either may be empty.
// Returning an error aborts the transfer and Execute returns that error.
struct BodySink {
  std::function<Status(const HttpResponse& head)> on_headers;
  std::function<Status(std::string_view chunk)> on_data;
};

class HttpClient {
 public:
  virtual ~HttpClient() = default;

  // Sends `request`. When `sink` is set and the status is 2xx, the body is passed to `sink` as it
  // arrives and response.body stays empty (memory stays bounded); any other status collects the
  // body into response.body (capped) so the error can be parsed. Thread-safe.
  virtual Result<HttpResponse> Execute(const HttpRequest& request, const BodySink* sink) = 0;

  Result<HttpResponse> Send(const HttpRequest& request) { return Execute(request, nullptr); }
  Result<HttpResponse> SendStreaming(const HttpRequest& request, const BodySink& sink) {
    return Execute(request, &sink);
  }
};

struct HttpOptions {
  int64_t connect_timeout_ms = 10'000;
  // A transfer slower than 1 byte/s for this long fails (libcurl's low-speed limit).
  int64_t idle_timeout_ms = 60'000;
  // Whole-request cap (0: none). Streaming downloads of large objects rely on the idle timeout.
  int64_t total_timeout_ms = 0;
  // Proxy URL. Empty: libcurl reads http_proxy/https_proxy/no_proxy from the environment.
  std::string proxy;
  // False: never use a proxy, whatever the environment says (instance metadata, loopback tests).
  bool use_env_proxy = true;
  // CA bundle file; empty uses the system's CAs.
  std::string ca_file;
  // Largest body collected into HttpResponse::body; more is ResourceExhausted.
  size_t max_buffered_body = 256u << 20;
  std::string user_agent = "cairn/0.1";
};

// The libcurl client. Keeps a pool of easy handles so connections (and TLS sessions) are reused
// across calls; safe for concurrent use from many threads.
std::shared_ptr<HttpClient> NewCurlHttpClient(const HttpOptions& options = {});

// A client that hands each request to a function: for tests (record, fake, inject faults).
class FunctionHttpClient final : public HttpClient {
 public:
  using Handler = std::function<Result<HttpResponse>(const HttpRequest&, const BodySink*)>;
  explicit FunctionHttpClient(Handler handler) : handler_(std::move(handler)) {}
  Result<HttpResponse> Execute(const HttpRequest& request, const BodySink* sink) override {
    return handler_(request, sink);
  }

 private:
  Handler handler_;
};

// Percent-encodes `s` as SigV4 requires: every byte except A-Z a-z 0-9 - _ . ~ becomes %XY
// (upper-case hex); '/' is kept when `keep_slash`.
std::string UriEncode(std::string_view s, bool keep_slash);
// Decodes %XY escapes ('+' is kept as '+'). Malformed escapes are kept as they are.
std::string UriDecode(std::string_view s);
// Encodes `pairs` as an application/x-www-form-urlencoded body (UriEncode for names and values).
std::string FormEncode(const std::vector<std::pair<std::string, std::string>>& pairs);

// A parsed absolute URL: "https://host:port/base/path?x=y".
struct ParsedUrl {
  std::string scheme;
  std::string host;  // host[:port], port dropped when it is the scheme's default
  std::string path;  // encoded path, "/" when empty
  std::vector<std::pair<std::string, std::string>> query;  // decoded
};
Result<ParsedUrl> ParseUrl(std::string_view url);

}  // namespace cairn::aws
