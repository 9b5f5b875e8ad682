#include "serve/router.h"

#include <exception>

#include "common/log.h"
#include "serve/splunk_format.h"

namespace cairn::serve {

namespace {

std::vector<std::string> SplitPath(const std::string& path) {
  std::vector<std::string> out;
  size_t pos = 1;
  while (pos <= path.size()) {
    size_t slash = path.find('/', pos);
    if (slash == std::string::npos) slash = path.size();
    if (slash > pos) out.push_back(path.substr(pos, slash - pos));
    pos = slash + 1;
  }
  return out;
}

}  // namespace

void Router::Add(std::string method, std::string pattern, Handler handler, Access access) {
  Route r;
  r.method = std::move(method);
  r.segments = SplitPath(pattern);
  for (const auto& s : r.segments) {
    if (s.size() > 2 && s.front() == '{' && s.back() == '}') ++r.captures;
  }
  r.handler = std::move(handler);
  r.access = access;
  routes_.push_back(std::move(r));
}

bool Router::NormalizePath(const std::string& raw_path, Request* req) {
  if (raw_path.empty() || raw_path[0] != '/') return false;
  // Segments are decoded one by one so that an encoded '/' stays inside its segment.
  std::vector<std::string> raw = SplitPath(raw_path);
  std::vector<std::string> segs;
  for (const auto& s : raw) {
    auto d = PercentDecode(s, false);
    if (!d || d->find('\0') != std::string::npos || *d == ".." || *d == ".") return false;
    segs.push_back(std::move(*d));
  }
  if (segs.size() >= 3 && segs[0] == "servicesNS") {
    req->ns_user = segs[1];
    req->ns_app = segs[2];
    segs.erase(segs.begin() + 1, segs.begin() + 3);
    segs[0] = "services";
  }
  std::string path;
  for (const auto& s : segs) {
    path += '/';
    // Re-encode a '/' that was escaped so the router still sees one segment.
    if (s.find('/') != std::string::npos) {
      path += PercentEncode(s);
    } else {
      path += s;
    }
  }
  req->path = path.empty() ? "/" : path;
  return true;
}

Response Router::Dispatch(Request& req) const {
  const std::vector<std::string> segs = SplitPath(req.path);
  const Route* best = nullptr;
  bool other_method = false;
  std::map<std::string, std::string> best_caps;
  for (const auto& r : routes_) {
    if (r.segments.size() != segs.size()) continue;
    std::map<std::string, std::string> caps;
    bool ok = true;
    for (size_t i = 0; i < segs.size() && ok; ++i) {
      const std::string& p = r.segments[i];
      if (p.size() > 2 && p.front() == '{' && p.back() == '}') {
        auto d = PercentDecode(segs[i], false);
        caps[p.substr(1, p.size() - 2)] = d ? *d : segs[i];
      } else {
        ok = p == segs[i];
      }
    }
    if (!ok) continue;
    if (r.method != "*" && r.method != req.method) {
      other_method = true;
      continue;
    }
    if (best == nullptr || r.captures < best->captures) {
      best = &r;
      best_caps = std::move(caps);
    }
  }
  if (best == nullptr) {
    // An unknown path still needs credentials first, so it reveals nothing to strangers.
    if (!authenticate_ || !authenticate_(req)) return Unauthorized(req);
    if (other_method) return ErrorResponse(req, 405, "Method not allowed");
    return ErrorResponse(req, 404, "Not Found");
  }
  if (best->access != Access::kPublic) {
    std::optional<User> user = authenticate_ ? authenticate_(req) : std::nullopt;
    if (!user) return Unauthorized(req);
    req.user = std::move(*user);
    if (best->access == Access::kAdmin && req.user->role != "admin") {
      return ErrorResponse(req, 403, "Permission denied");
    }
  }
  req.captures = std::move(best_caps);
  try {
    return best->handler(req);
  } catch (const std::exception& e) {
    log::Error("serve: {} {}: {}", req.method, req.path, e.what());
    return ErrorResponse(req, 500, "Internal error");
  }
}

}  // namespace cairn::serve
