#pragma once
// What a route handler sees and returns: a parsed request (method, path, query and form
// parameters, headers, body, the authenticated user) and a response (status, content type, body,
// or a producer of chunks for a streamed body). Independent of the HTTP library: the server
// (server.h) fills a Request from Boost.Beast and writes the Response.

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::serve {

// Request parameters in the order given; a key may repeat (Get returns the last).
class Params {
 public:
  void Add(std::string key, std::string value) {
    items_.emplace_back(std::move(key), std::move(value));
  }
  std::optional<std::string> Get(std::string_view key) const;
  std::string Get(std::string_view key, std::string_view fallback) const;
  std::vector<std::string> GetAll(std::string_view key) const;
  bool Has(std::string_view key) const { return Get(key).has_value(); }
  const std::vector<std::pair<std::string, std::string>>& items() const { return items_; }

 private:
  std::vector<std::pair<std::string, std::string>> items_;
};

struct User {
  std::string name;
  std::string role;  // "admin" or "user"
};

struct Request {
  std::string method;  // "GET", "POST", "DELETE", ...
  std::string target;  // as received, with the query string
  std::string path;    // decoded path without the query string; /servicesNS/<u>/<a>/ -> /services/
  std::string ns_user, ns_app;  // from /servicesNS/<user>/<app>/ ("" otherwise)
  Params query;                 // from the query string
  Params form;  // from an application/x-www-form-urlencoded body (also when no type given)
  std::map<std::string, std::string> headers;  // lower-case names
  std::string body;
  std::string remote;  // "ip:port"
  bool tls = false;
  std::map<std::string, std::string> captures;  // {name} parts of the matched route
  std::optional<User> user;                     // set by the authentication step
  std::string session_key;                      // the session or token that authenticated it

  // A parameter from the form body, else from the query string.
  std::optional<std::string> Param(std::string_view key) const;
  std::string Param(std::string_view key, std::string_view fallback) const;
  std::string Header(std::string_view lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::vector<std::pair<std::string, std::string>> headers;
  std::string body;
  // A streamed body (chunked transfer): called once; it calls `write` with each piece and stops
  // early when `write` returns false (the client went away). Takes the place of `body`.
  std::function<void(const std::function<bool(std::string_view)>& write)> stream;
};

// Percent-decoding ('+' as space when `plus_is_space`). Returns nullopt on a bad escape.
std::optional<std::string> PercentDecode(std::string_view s, bool plus_is_space);
// Parses "a=1&b=2" into `out`. False (with `out` partly filled) on a bad escape.
bool ParseUrlEncoded(std::string_view text, Params* out);
std::string PercentEncode(std::string_view s);

// XML text/attribute escaping (&, <, >, ", ') and removal of characters XML 1.0 forbids.
std::string XmlEscape(std::string_view s);

}  // namespace cairn::serve
