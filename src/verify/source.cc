#include "verify/source.h"

#include <algorithm>

#include "common/safe_path.h"

namespace cairn::verify {
namespace {

// Undoes SafeFileName's percent-encoding of one name; nullopt for a name it could not have made
// (a '~' hash mark: the original is lost, or a bad escape).
std::optional<std::string> DecodeName(std::string_view name) {
  std::string out;
  for (size_t i = 0; i < name.size(); ++i) {
    char c = name[i];
    if (c == '~') return std::nullopt;
    if (c != '%') {
      out.push_back(c);
      continue;
    }
    if (i + 2 >= name.size()) return std::nullopt;
    auto hex = [](char h) -> int {
      if (h >= '0' && h <= '9') return h - '0';
      if (h >= 'A' && h <= 'F') return h - 'A' + 10;
      if (h >= 'a' && h <= 'f') return h - 'a' + 10;
      return -1;
    };
    int hi = hex(name[i + 1]), lo = hex(name[i + 2]);
    if (hi < 0 || lo < 0) return std::nullopt;
    out.push_back(static_cast<char>(hi * 16 + lo));
    i += 2;
  }
  return out;
}

}  // namespace

LocalFolderSource::LocalFolderSource(FileSystem* fs, std::string root, std::string bucket)
    : fs_(fs), root_(std::move(root)), bucket_(std::move(bucket)) {}

Status LocalFolderSource::Walk(const std::string& dir, const std::string& key_prefix, int depth,
                               std::vector<ObjectInfo>* out) {
  if (depth > kMaxDepth) {
    return InvalidArgument("{}: more than {} folders deep (a symbolic link loop?)", dir, kMaxDepth);
  }
  ASSIGN_OR_RETURN(auto entries, fs_->ListDir(dir));
  for (const auto& e : entries) {
    auto name = DecodeName(e.name);
    if (!name) continue;
    const std::string path = JoinPath(dir, e.name);
    if (e.is_dir) {
      RETURN_IF_ERROR(Walk(path, key_prefix + *name + "/", depth + 1, out));
      continue;
    }
    if (name->ends_with(kSignatureSuffix)) continue;
    ObjectInfo info;
    info.key = key_prefix + *name;
    auto size = fs_->FileSize(path);
    info.size = size.ok() ? *size : 0;
    out->push_back(std::move(info));
  }
  return Status::Ok();
}

Result<std::vector<ObjectInfo>> LocalFolderSource::List(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  // Walk from the deepest folder the prefix names whole, then filter on the full prefix.
  std::string folder_key =
      prefix.substr(0, prefix.rfind('/') == std::string::npos ? 0 : prefix.rfind('/') + 1);
  std::string dir = root_;
  if (!folder_key.empty()) {
    // Without its trailing '/': a name that loses an empty component gets a hash mark.
    ASSIGN_OR_RETURN(dir, PathUnder(fs_, root_, folder_key.substr(0, folder_key.size() - 1)));
  }
  if (!fs_->Exists(dir)) return out;
  RETURN_IF_ERROR(Walk(dir, folder_key, 0, &out));
  std::erase_if(out, [&](const ObjectInfo& o) { return !o.key.starts_with(prefix); });
  std::sort(out.begin(), out.end(),
            [](const ObjectInfo& a, const ObjectInfo& b) { return a.key < b.key; });
  return out;
}

Result<std::vector<std::string>> LocalFolderSource::ListFolders(const std::string& prefix) {
  std::vector<std::string> out;
  if (prefix.empty() || prefix.back() != '/') return out;
  ASSIGN_OR_RETURN(std::string dir, PathUnder(fs_, root_, prefix.substr(0, prefix.size() - 1)));
  if (!fs_->Exists(dir)) return out;
  ASSIGN_OR_RETURN(auto entries, fs_->ListDir(dir));
  for (const auto& e : entries) {
    if (!e.is_dir) continue;
    auto name = DecodeName(e.name);
    if (name) out.push_back(std::move(*name));
  }
  std::sort(out.begin(), out.end());
  return out;
}

Result<std::string> LocalFolderSource::Read(const std::string& key) {
  ASSIGN_OR_RETURN(std::string path, PathUnder(fs_, root_, key));
  if (!fs_->Exists(path)) return NotFound("{}: no such object", Describe(key));
  return ReadFileToString(fs_, path);
}

Result<std::optional<std::string>> LocalFolderSource::ReadSignature(const std::string& key) {
  ASSIGN_OR_RETURN(std::string path, PathUnder(fs_, root_, key));
  if (!fs_->Exists(path)) return NotFound("{}: no such object", Describe(key));
  ASSIGN_OR_RETURN(std::string sig_path, PathUnder(fs_, root_, key, kSignatureSuffix));
  if (!fs_->Exists(sig_path)) return std::optional<std::string>();
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs_, sig_path, 1 << 16));
  auto space = [](char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; };
  while (!text.empty() && space(text.back())) text.pop_back();
  size_t start = 0;
  while (start < text.size() && space(text[start])) ++start;
  return std::optional<std::string>(text.substr(start));
}

std::string LocalFolderSource::Describe(const std::string& key) const {
  return JoinPath(root_, key);
}

}  // namespace cairn::verify
