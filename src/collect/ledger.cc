#include "collect/ledger.h"

#include <simdjson.h>
#include <zlib.h>

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

// The ledger's own failures are local ones (IOError), whatever errno the file system met: they
// never make an S3 object's error permanent.
Status LedgerError(const Status& s) { return s.ok() ? s : IOError("ledger: {}", s.message()); }

uint32_t Crc(std::string_view s) {
  return static_cast<uint32_t>(
      crc32(0L, reinterpret_cast<const Bytef*>(s.data()), static_cast<uInt>(s.size())));
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
  if (!e.sha256.empty()) {
    json += ",\"sha256\":";
    AppendJsonString(&json, e.sha256);
  }
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
  if (!root["sha256"].get(s)) e.sha256 = std::string(s);
  return e;
}

Result<std::unique_ptr<Ledger>> Ledger::Load(FileSystem* fs, const std::string& path,
                                             std::unique_ptr<WritableFile> appender) {
  std::unique_ptr<Ledger> l(new Ledger());
  l->fs_ = fs;
  l->path_ = path;
  l->appender_ = std::move(appender);
  auto reader = fs->NewRandomAccessFile(path);
  if (!reader.ok()) return LedgerError(reader.status());
  l->reader_ = std::move(reader).value();
  std::lock_guard<std::mutex> lock(l->mu_);
  RETURN_IF_ERROR(l->CatchUpLocked());
  return l;
}

Result<std::unique_ptr<Ledger>> Ledger::Open(FileSystem* fs, const std::string& path) {
  // The appender first: it creates the file the reader then opens.
  auto appender = fs->NewAppendableFile(path);
  if (!appender.ok()) return LedgerError(appender.status());
  return Load(fs, path, std::move(appender).value());
}

Result<std::unique_ptr<Ledger>> Ledger::OpenReadOnly(FileSystem* fs, const std::string& path) {
  if (!fs->Exists(path)) {
    return NotFound("no ledger at {}: nothing was collected into this data folder", path);
  }
  return Load(fs, path, nullptr);
}

Ledger::~Ledger() = default;

Status Ledger::CatchUpLocked() {
  // The size now, not the reader's at open: other processes append to the same file.
  auto size = fs_->FileSize(path_);
  if (!size.ok()) return LedgerError(size.status());
  if (*size <= offset_) return Status::Ok();
  std::string buf(*size - offset_, '\0');
  auto got = reader_->Read(offset_, buf.size(), buf.data());
  if (!got.ok()) return LedgerError(got.status());
  buf.resize(*got);
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
      RememberLocked(*e);
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

void Ledger::RememberLocked(const LedgerEntry& e) {
  std::string k = MapKey(e.bucket, e.key);
  if (e.sha256.empty()) {
    hashes_.erase(k);
  } else {
    hashes_[k] = e.sha256;
  }
  etags_[std::move(k)] = e.etag;
}

std::optional<std::string> Ledger::FindSha256(const std::string& bucket, const std::string& key) {
  std::lock_guard<std::mutex> lock(mu_);
  std::string k = MapKey(bucket, key);
  if (!etags_.contains(k)) (void)CatchUpLocked();
  auto it = hashes_.find(k);
  if (it == hashes_.end()) return std::nullopt;
  return it->second;
}

bool Ledger::Contains(const std::string& bucket, const std::string& key, const std::string& etag) {
  auto got = Find(bucket, key);
  return got.has_value() && (etag.empty() || *got == etag);
}

Status Ledger::Record(const std::vector<LedgerEntry>& entries) {
  if (entries.empty()) return Status::Ok();
  if (appender_ == nullptr) return InvalidArgument("ledger {} is open for reading only", path_);
  std::string text;
  for (const auto& e : entries) text += EncodeLine(e);
  std::lock_guard<std::mutex> lock(mu_);
  // A torn tail left by a crash is closed with a newline first so our lines stay whole.
  if (auto size = fs_->FileSize(path_); size.ok() && *size > 0) {
    char last = '\n';
    if (auto got = reader_->Read(*size - 1, 1, &last); got.ok() && *got == 1 && last != '\n') {
      text.insert(text.begin(), '\n');
    }
  }
  // One Append is one write(2) of the whole text on the O_APPEND descriptor (a short write
  // continues with the rest), so processes sharing the ledger never interleave their lines.
  RETURN_IF_ERROR(LedgerError(appender_->Append(text)));
  RETURN_IF_ERROR(LedgerError(appender_->Sync()));
  for (const auto& e : entries) RememberLocked(e);
  (void)CatchUpLocked();
  return Status::Ok();
}

size_t Ledger::size() const {
  std::lock_guard<std::mutex> lock(mu_);
  return etags_.size();
}

}  // namespace cairn::collect
