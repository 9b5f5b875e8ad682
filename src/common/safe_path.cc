#include "common/safe_path.h"

#include <cstdint>
#include <vector>

namespace cairn {
namespace {

constexpr size_t kHashMarkBytes = 17;  // "~" + 16 hex digits

uint64_t Fnv1a64(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ull;
  for (char c : s) {
    h ^= static_cast<uint8_t>(c);
    h *= 0x100000001b3ull;
  }
  return h;
}

std::string HashMark(std::string_view name) { return fmt::format("~{:016x}", Fnv1a64(name)); }

bool Kept(char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-' ||
         c == '_' || c == '.';
}

// Percent-encodes one component (every byte outside the kept set, '/'
// included).
std::string Encode(std::string_view part) {
  if (part == ".") return "%2E";
  if (part == "..") return "%2E%2E";
  static constexpr char kHex[] = "0123456789ABCDEF";
  std::string out;
  out.reserve(part.size());
  for (char c : part) {
    if (Kept(c)) {
      out.push_back(c);
    } else {
      const auto b = static_cast<uint8_t>(c);
      out.push_back('%');
      out.push_back(kHex[b >> 4]);
      out.push_back(kHex[b & 15]);
    }
  }
  return out;
}

// The longest prefix of an encoded component of at most `n` bytes that does not
// split an escape.
size_t EncodedCut(std::string_view encoded, size_t n) {
  if (n >= encoded.size()) return encoded.size();
  if (n >= 1 && encoded[n - 1] == '%') return n - 1;
  if (n >= 2 && encoded[n - 2] == '%') return n - 2;
  return n;
}

// Fits an encoded component and `suffix` into kMaxSafeComponent bytes: when too
// long (or when `lossy`), its start, the hash mark of `whole`, its extension
// (the last '.' and what follows, when short), then the suffix.
std::string Bound(std::string encoded, std::string_view whole, bool lossy,
                  std::string_view suffix = {}) {
  if (!lossy && encoded.size() + suffix.size() <= kMaxSafeComponent) {
    return encoded.append(suffix);
  }
  std::string ext;
  if (size_t dot = encoded.rfind('.');
      dot != std::string::npos && dot > 0 && encoded.size() - dot <= 16) {
    ext = encoded.substr(dot);
    encoded.resize(dot);
  }
  const size_t room = kMaxSafeComponent - kHashMarkBytes - ext.size() - suffix.size();
  encoded.resize(EncodedCut(encoded, room));
  return encoded + HashMark(whole) + ext + std::string(suffix);
}

// Checks that the joined path stays inside `folder` (see PathUnder).
Result<std::string> CheckedJoin(FileSystem *fs, std::string_view folder, std::string_view name,
                                const std::string &relative) {
  std::string path = JoinPath(folder, relative);
  if (!IsLexicallyUnder(folder, path)) {
    return InvalidArgument("the name \"{}\" does not map to a path inside {}", name, folder);
  }
  // Resolve the deepest part that exists (the folder itself, or some of the
  // name's folders) and check that it is still inside the resolved folder.
  const std::string dir(folder);
  if (!fs->Exists(dir)) return path;
  std::string existing = path;
  while (existing.size() > folder.size() && !fs->Exists(existing)) existing = DirName(existing);
  if (existing.size() <= folder.size()) return path;  // nothing of the name exists yet
  ASSIGN_OR_RETURN(std::string real_folder, fs->RealPath(dir));
  ASSIGN_OR_RETURN(std::string real, fs->RealPath(existing));
  if (!IsLexicallyUnder(real_folder, real)) {
    return InvalidArgument("the name \"{}\" leads out of {} (through {})", name, folder, real);
  }
  return path;
}

}  // namespace

std::string SafeFileName(std::string_view name, std::string_view suffix) {
  if (name.empty()) return HashMark(name) + std::string(suffix);
  return Bound(Encode(name), name, false, suffix);
}

std::string SafeRelativePath(std::string_view name, std::string_view suffix) {
  std::vector<std::string> parts;
  bool lossy = false;
  size_t start = 0;
  while (start <= name.size()) {
    size_t slash = name.find('/', start);
    if (slash == std::string_view::npos) slash = name.size();
    std::string_view part = name.substr(start, slash - start);
    if (part.empty()) {
      lossy = true;
    } else {
      parts.push_back(Encode(part));
    }
    start = slash + 1;
  }
  if (parts.empty()) return HashMark(name) + std::string(suffix);
  for (size_t i = 0; i + 1 < parts.size(); ++i) parts[i] = Bound(std::move(parts[i]), name, false);
  parts.back() = Bound(std::move(parts.back()), name, lossy, suffix);
  size_t total = parts.size() - 1;
  for (const auto &p : parts) total += p.size();
  std::string out;
  if (total > kMaxSafePath) {
    // Keep leading folders while they fit, then the hash of the whole name,
    // then the file name.
    const size_t budget = kMaxSafePath - parts.back().size() - kHashMarkBytes - 1;
    for (size_t i = 0; i + 1 < parts.size() && out.size() + parts[i].size() + 1 <= budget; ++i) {
      out += parts[i];
      out.push_back('/');
    }
    out += HashMark(name);
    out.push_back('/');
    out += parts.back();
    return out;
  }
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i > 0) out.push_back('/');
    out += parts[i];
  }
  return out;
}

namespace {
// Components of `path` without empty and "." ones; false when one is "..".
bool Components(std::string_view path, std::vector<std::string_view> *out) {
  size_t start = 0;
  while (start <= path.size()) {
    size_t slash = path.find('/', start);
    if (slash == std::string_view::npos) slash = path.size();
    std::string_view part = path.substr(start, slash - start);
    if (part == "..") return false;
    if (!part.empty() && part != ".") out->push_back(part);
    start = slash + 1;
  }
  return true;
}
}  // namespace

bool IsLexicallyUnder(std::string_view folder, std::string_view path) {
  if (folder.empty() || path.empty() || (folder.front() == '/') != (path.front() == '/')) {
    return false;
  }
  std::vector<std::string_view> f, p;
  if (!Components(folder, &f) || !Components(path, &p)) return false;
  if (p.size() <= f.size()) return false;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i] != p[i]) return false;
  }
  return true;
}

Result<std::string> PathUnder(FileSystem *fs, std::string_view folder, std::string_view name,
                              std::string_view suffix) {
  return CheckedJoin(fs, folder, name, SafeRelativePath(name, suffix));
}

Result<std::string> FileUnder(FileSystem *fs, std::string_view folder, std::string_view name,
                              std::string_view suffix) {
  return CheckedJoin(fs, folder, name, SafeFileName(name, suffix));
}

}  // namespace cairn
