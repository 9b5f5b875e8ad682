#include "collect/ledger.h"

#include <fcntl.h>
#include <simdjson.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "common/json_util.h"
#include "common/log.h"

namespace cairn::collect {
namespace {

std::string MapKey(const std::string& bucket, const std::string& key) {
  std::string k;
  k.reserve(bucket.size() + key.size() + 1);
  k += bucket;
  k.push_back('\0');
  k += key;
  return k;
}

uint32_t Crc(std::string_view s) {
  return static_cast<uint32_t>(crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
}

}  // namespace

std::string Ledger::EncodeLine(const LedgerEntry& e) {
  std::string json = "{\"bucket\":";
  AppendJsonString(&json, e.bucket);
  json += ",\"key\":";
  AppendJsonString(&json, e.key);
  json += ",\"etag\":";
  AppendJsonString(&json, e.etag);
  json += fmt::format(",\"events\":{},\"time\":{},\"how\":", e.events, e.time_ms);
  AppendJsonString(&json, e.how);
  json += "}";
  return fmt::format("{:08x} {}\n", Crc(json), json);
}

std::optional<LedgerEntry> Ledger::DecodeLine(std::string_view line) {
  if (!line.empty() && line.back() == '\n') line.remove_suffix(1);
  if (line.size() < 10 || line[8] != ' ') return std::nullopt;
  uint32_t crc = 0;
  for (int i = 0; i < 8; ++i) {
    char c = line[i];
    int v = c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
    if (v < 0) return std::nullopt;
    crc = crc * 16 + static_cast<uint32_t>(v);
  }
  std::string_view json = line.substr(9);
  if (Crc(json) != crc) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(json.data(), json.size()).get(root)) return std::nullopt;
  LedgerEntry e;
  std::string_view s;
  if (root["bucket"].get(s)) return std::nullopt;
  e.bucket = std::string(s);
  if (root["key"].get(s)) return std::nullopt;
  e.key = std::string(s);
  if (root["etag"].get(s)) return std::nullopt;
  e.etag = std::string(s);
  uint64_t n = 0;
  if (!root["events"].get(n)) e.events = n;
  int64_t t = 0;
  if (!root["time"].get(t)) e.time_ms = t;
  if (!root["how"].get(s)) e.how = std::string(s);
  return e;
}

Result<std::unique_ptr<Ledger>> Ledger::Open(const std::string& path) {
  std::unique_ptr<Ledger> l(new Ledger());
  l->path_ = path;
  l->fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND | O_CLOEXEC, 0600);
  if (l->fd_ < 0) return IOError("open ledger {}: {}", path, std::strerror(errno));
  std::lock_guard<std::mutex> lock(l->mu_);
  RETURN_IF_ERROR(l->CatchUpLocked());
  return l;
}

Ledger::~Ledger() {
  if (fd_ >= 0) ::close(fd_);
}

Status Ledger::CatchUpLocked() {
  struct stat st;
  if (::fstat(fd_, &st) != 0) return IOError("stat ledger {}: {}", path_, std::strerror(errno));
  uint64_t size = static_cast<uint64_t>(st.st_size);
  if (size <= offset_) return Status::Ok();
  std::string buf(size - offset_, '\0');
  size_t got = 0;
  while (got < buf.size()) {
    ssize_t n = ::pread(fd_, buf.data() + got, buf.size() - got, static_cast<off_t>(offset_ + got));
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IOError("read ledger {}: {}", path_, std::strerror(errno));
    if (n == 0) break;
    got += static_cast<size_t>(n);
  }
  buf.resize(got);
  size_t pos = 0;
  while (pos < buf.size()) {
    size_t nl = buf.find('\n', pos);
    if (nl == std::string::npos) {
      // A torn last line: another writer is mid-append, or a crash cut it. Cut it off only when
      // it is old (nobody else appends the same bytes again); here we just stop before it.
      break;
    }
    std::string_view line(buf.data() + pos, nl - pos + 1);
    if (auto e = DecodeLine(line)) {
      etags_[MapKey(e->bucket, e->key)] = e->etag;
    } else {
      log::Warn("ledger {}: damaged line at byte {} skipped", path_, offset_ + pos);
    }
    pos = nl + 1;
  }
  offset_ += pos;
  return Status::Ok();
}

std::optional<std::string> Ledger::Find(const std::string& bucket, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string k = MapKey(bucket, key);
  auto it = etags_.find(k);
  if (it == etags_.end()) {
    (void)CatchUpLocked();
    it = etags_.find(k);
    if (it == etags_.end()) return std::nullopt;
  }
  return it->second;
}

bool Ledger::Contains(const std::string& bucket, const std::string& key, const std::string& etag) {
  auto got = Find(bucket, key);
  return got.has_value() && (etag.empty() || *got == etag);
}

Status Ledger::Record(const std::vector<LedgerEntry>& entries) {
  if (entries.empty()) return Status::Ok();
  std::string text;
  for (const auto& e : entries) text += EncodeLine(e);
  std::lock_guard<std::mutex> lock(mu_);
  // A torn tail left by a crash is closed with a newline first so our lines stay whole.
  struct stat st;
  if (::fstat(fd_, &st) == 0 && st.st_size > 0) {
    char last = '\n';
    if (::pread(fd_, &last, 1, st.st_size - 1) == 1 && last != '\n') text.insert(text.begin(), '\n');
  }
  size_t done = 0;
  while (done < text.size()) {
    ssize_t n = ::write(fd_, text.data() + done, text.size() - done);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) return IOError("append to ledger {}: {}", path_, std::strerror(errno));
    done += static_cast<size_t>(n);
  }
  if (::fdatasync(fd_) != 0) return IOError("fdatasync ledger {}: {}", path_, std::strerror(errno));
  for (const auto& e : entries) etags_[MapKey(e.bucket, e.key)] = e.etag;
  (void)CatchUpLocked();
  return Status::Ok();
}

size_t Ledger::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return etags_.size();
}

}  // namespace cairn::collect
