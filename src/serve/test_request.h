#pragma once
// Tests of route handlers: a Request as the HTTP server hands it to the Router.

#include <gtest/gtest.h>

#include <map>
#include <string>

#include "serve/http.h"
#include "serve/router.h"

namespace cairn::testing {

// `target` split into the normalised path and the query string's parameters; `form` parsed as an
// application/x-www-form-urlencoded body (and kept as the body); from 127.0.0.1.
inline serve::Request TestRequest(const std::string& method, const std::string& target,
                                  const std::string& form = "",
                                  std::map<std::string, std::string> headers = {}) {
  serve::Request r;
  r.method = method;
  r.target = target;
  const size_t q = target.find('?');
  EXPECT_TRUE(serve::Router::NormalizePath(target.substr(0, q), &r)) << target;
  if (q != std::string::npos) serve::ParseUrlEncoded(target.substr(q + 1), &r.query);
  serve::ParseUrlEncoded(form, &r.form);
  r.body = form;
  r.headers = std::move(headers);
  r.remote = "127.0.0.1:1";
  return r;
}

}  // namespace cairn::testing
