#include "provision/collector_config.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>

#include <fmt/format.h>

#include "common/fs.h"
#include "common/json_util.h"

namespace cairn::provision {
namespace {

// TOML basic strings use JSON's escapes for the characters we can meet here.
std::string Quoted(std::string_view s) { return JsonString(s); }

std::string Header(const DesiredState& d, const char* comment) {
  return fmt::format(
      "{0} Written by `cairn provision apply` for stack \"{1}\" (account {2}, home region {3}).\n"
      "{0} Re-running apply rewrites this file; edit the provisioning options instead.\n",
      comment, d.names.stack, d.names.account, d.spec.home_region);
}

Status WriteFileMode(const std::string& path, std::string_view data, mode_t mode) {
  std::string tmp = path + ".tmp";
  ::unlink(tmp.c_str());
  int fd = ::open(tmp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) return IOError("{}: cannot create: {}", tmp, std::strerror(errno));
  ::fchmod(fd, mode);  // whatever the umask says
  size_t done = 0;
  while (done < data.size()) {
    ssize_t n = ::write(fd, data.data() + done, data.size() - done);
    if (n < 0) {
      if (errno == EINTR) continue;
      int e = errno;
      ::close(fd);
      ::unlink(tmp.c_str());
      return IOError("{}: write failed: {}", tmp, std::strerror(e));
    }
    done += static_cast<size_t>(n);
  }
  if (::fsync(fd) != 0 || ::close(fd) != 0) {
    ::unlink(tmp.c_str());
    return IOError("{}: fsync/close failed: {}", tmp, std::strerror(errno));
  }
  if (::rename(tmp.c_str(), path.c_str()) != 0) {
    int e = errno;
    ::unlink(tmp.c_str());
    return IOError("{}: rename to {} failed: {}", tmp, path, std::strerror(e));
  }
  return Status::Ok();
}

std::string Trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r");
  if (b == std::string_view::npos) return "";
  size_t e = s.find_last_not_of(" \t\r");
  return std::string(s.substr(b, e - b + 1));
}

}  // namespace

std::string RenderCairnToml(const DesiredState& d, const CollectorConfigInput& in) {
  std::string out = Header(d, "#");
  if (!in.secret_key.empty()) out += "# Holds the reader's secret access key: keep it private (mode 0600).\n";
  out += "\n[aws]\n";
  out += fmt::format("region = {}\n", Quoted(d.spec.home_region));
  for (const auto& [k, v] : in.aws_settings) out += fmt::format("{} = {}\n", k, Quoted(v));
  if (d.spec.reader == ReaderKind::kRole && !d.spec.external_id.empty()) {
    out += fmt::format("external_id = {}\n", Quoted(d.spec.external_id));
  }
  out += "\n[[collect.input]]\n";
  out += fmt::format("name = {}\n", Quoted(d.names.stack));
  out += fmt::format("sqs_queue = {}\n", Quoted(d.names.queue));
  out += fmt::format("sqs_queue_region = {}\n", Quoted(d.spec.home_region));
  if (d.spec.reader == ReaderKind::kRole && !d.spec.Skipped("iam")) {
    out += fmt::format("aws_iam_role = {}\n", Quoted(d.names.reader_arn));
  }
  if (!in.key_id.empty()) {
    out += fmt::format("key_id = {}\n", Quoted(in.key_id));
    out += fmt::format("secret_key = {}\n", Quoted(in.secret_key));
  }
  out += fmt::format("interval = {}\n", in.interval_s);
  out += fmt::format("index = {}\n", Quoted(in.index));
  out += fmt::format("sourcetype = {}\n", Quoted(in.sourcetype));
  out += "exclude_describe_events = false\n";
  out += fmt::format("remove_files_when_done = {}\n", d.spec.remove_files_when_done ? "true" : "false");
  return out;
}

std::string RenderInputsConf(const DesiredState& d, const CollectorConfigInput& in) {
  std::string out = Header(d, "#");
  out += fmt::format("[aws_cloudtrail://{}]\n", d.names.stack);
  if (d.spec.reader == ReaderKind::kRole && !d.spec.Skipped("iam")) {
    out += fmt::format("aws_iam_role = {}\n", d.names.reader_arn);
  }
  if (!in.key_id.empty()) {
    out += fmt::format("key_id = {}\n", in.key_id);
    out += fmt::format("secret_key = {}\n", in.secret_key);
  }
  out += fmt::format("sqs_queue = {}\n", d.names.queue);
  out += fmt::format("sqs_queue_region = {}\n", d.spec.home_region);
  out += fmt::format("interval = {}\n", in.interval_s);
  out += fmt::format("index = {}\n", in.index);
  out += fmt::format("sourcetype = {}\n", in.sourcetype);
  out += "exclude_describe_events = 0\n";
  out += fmt::format("remove_files_when_done = {}\n", d.spec.remove_files_when_done ? 1 : 0);
  return out;
}

Status WriteCollectorConfig(const std::string& out_dir, const DesiredState& d, const CollectorConfigInput& in) {
  RETURN_IF_ERROR(FileSystem::Default()->CreateDirs(out_dir));
  mode_t mode = in.secret_key.empty() ? 0644 : 0600;
  RETURN_IF_ERROR(WriteFileMode(JoinPath(out_dir, "cairn.toml"), RenderCairnToml(d, in), mode));
  return WriteFileMode(JoinPath(out_dir, "inputs.conf"), RenderInputsConf(d, in), mode);
}

Result<ExistingKey> ReadExistingKey(const std::string& out_dir, const std::string& stack) {
  ExistingKey key;
  std::string path = JoinPath(out_dir, "inputs.conf");
  if (!FileSystem::Default()->Exists(path)) return key;
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(FileSystem::Default(), path, 1 << 20));
  std::string want = "[aws_cloudtrail://" + stack + "]";
  bool in_stanza = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    std::string line = Trim(std::string_view(text).substr(pos, nl - pos));
    pos = nl + 1;
    if (line.empty() || line[0] == '#') continue;
    if (line[0] == '[') {
      in_stanza = line == want;
      continue;
    }
    if (!in_stanza) continue;
    size_t eq = line.find('=');
    if (eq == std::string::npos) continue;
    std::string k = Trim(std::string_view(line).substr(0, eq));
    std::string v = Trim(std::string_view(line).substr(eq + 1));
    if (k == "key_id") key.key_id = v;
    if (k == "secret_key") key.secret_key = v;
  }
  if (key.key_id.empty() != key.secret_key.empty()) return ExistingKey{};
  return key;
}

}  // namespace cairn::provision
