#include "serve/auth.h"

#include <fmt/format.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <sodium.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <sstream>

#include "common/digest.h"
#include "common/fs.h"
#include "common/hex.h"
#include "common/log.h"
#include "serve/audit.h"

namespace cairn::serve {

namespace {

// Saves of the users file by this process (Auth reads the file again after one).
std::atomic<uint64_t> g_saves{0};

// scrypt cost: N = 2^15, r = 8, p = 1 (32 MiB, ~0.1 s); the parameters are stored with each
// hash, so raising them later keeps old hashes valid.
constexpr int kLogN = 15;
constexpr int kR = 8;
constexpr int kP = 1;
constexpr size_t kSaltBytes = 16;
constexpr size_t kKeyBytes = 32;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

std::optional<std::string> Scrypt(std::string_view password, std::string_view salt, int log_n,
                                  int r, int p) {
  if (log_n < 10 || log_n > 22 || r < 1 || r > 32 || p < 1 || p > 16) return std::nullopt;
  std::string key(kKeyBytes, '\0');
  const uint64_t n = uint64_t{1} << log_n;
  const uint64_t maxmem = 128 * n * static_cast<uint64_t>(r) * 2 + (1 << 20);
  if (EVP_PBE_scrypt(password.data(), password.size(),
                     reinterpret_cast<const unsigned char*>(salt.data()), salt.size(), n,
                     static_cast<uint64_t>(r), static_cast<uint64_t>(p), maxmem,
                     reinterpret_cast<unsigned char*>(key.data()), key.size()) != 1) {
    return std::nullopt;
  }
  return key;
}

std::vector<std::string> Split(std::string_view s, char sep) {
  std::vector<std::string> out;
  size_t pos = 0;
  for (;;) {
    size_t i = s.find(sep, pos);
    if (i == std::string_view::npos) {
      out.emplace_back(s.substr(pos));
      return out;
    }
    out.emplace_back(s.substr(pos, i - pos));
    pos = i + 1;
  }
}

std::optional<std::string> Base64Decode(std::string_view in) {
  auto val = [](char c) -> int {
    if (c >= 'A' && c <= 'Z') return c - 'A';
    if (c >= 'a' && c <= 'z') return c - 'a' + 26;
    if (c >= '0' && c <= '9') return c - '0' + 52;
    if (c == '+') return 62;
    if (c == '/') return 63;
    return -1;
  };
  while (!in.empty() && in.back() == '=') in.remove_suffix(1);
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  for (char c : in) {
    int v = val(c);
    if (v < 0) return std::nullopt;
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out += static_cast<char>((acc >> bits) & 0xFF);
    }
  }
  return out;
}

bool ConstantTimeEqual(std::string_view a, std::string_view b) {
  return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace

std::string RandomHex(size_t bytes) {
  std::string raw(bytes, '\0');
  if (RAND_bytes(reinterpret_cast<unsigned char*>(raw.data()), static_cast<int>(bytes)) != 1) {
    throw std::runtime_error("RAND_bytes failed");
  }
  return HexEncode(raw);
}

namespace {

void InitSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) throw std::runtime_error("libsodium could not be initialised");
}

}  // namespace

std::string HashPassword(std::string_view password) {
  // argon2id (libsodium's crypto_pwhash_str: random salt, the cost parameters in the string).
  InitSodium();
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0) {
    throw std::runtime_error("argon2id hashing failed (out of memory)");
  }
  return std::string(out);
}

bool VerifyPassword(std::string_view password, std::string_view encoded) {
  if (encoded.starts_with("$argon2id$")) {
    InitSodium();
    const std::string hash(encoded);  // NUL-terminated for libsodium
    return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
  }
  // Hashes written before argon2id: scrypt$LOGN$R$P$SALT_HEX$KEY_HEX.
  auto parts = Split(encoded, '$');
  if (parts.size() != 6 || parts[0] != "scrypt") return false;
  int log_n = 0, r = 0, p = 0;
  try {
    log_n = std::stoi(parts[1]);
    r = std::stoi(parts[2]);
    p = std::stoi(parts[3]);
  } catch (...) {
    return false;
  }
  auto salt = HexDecode(parts[4]);
  auto want = HexDecode(parts[5]);
  if (!salt || !want) return false;
  auto got = Scrypt(password, *salt, log_n, r, p);
  return got && ConstantTimeEqual(*got, *want);
}

bool ValidUserName(std::string_view name) {
  if (name.empty() || name.size() > 64) return false;
  return std::all_of(name.begin(), name.end(), [](char c) {
    return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '@' ||
           c == '-';
  });
}

Result<std::vector<UserRecord>> LoadUsersFile(const std::string& path) {
  auto text = ReadFileToString(FileSystem::Default(), path, 16u << 20);
  if (!text.ok()) return text.status();
  std::vector<UserRecord> out;
  std::istringstream in(*text);
  std::string line;
  int n = 0;
  while (std::getline(in, line)) {
    ++n;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.empty() || line[0] == '#') continue;
    auto f = Split(line, ':');
    if (f.size() != 4 || (f[0] != "user" && f[0] != "token")) {
      return InvalidArgument("{}:{}: not a user or token record", path, n);
    }
    UserRecord r;
    r.kind = f[0];
    if (r.kind == "user") {
      r.name = f[1];
      r.role = f[2];
      r.hash = f[3];
      if (r.role != "admin" && r.role != "user")
        return InvalidArgument("{}:{}: role must be admin or user", path, n);
    } else {
      r.id = f[1];
      r.name = f[2];
      r.hash = f[3];
    }
    if (!ValidUserName(r.name)) return InvalidArgument("{}:{}: bad user name", path, n);
    out.push_back(std::move(r));
  }
  return out;
}

Status SaveUsersFile(const std::string& path, const std::vector<UserRecord>& records) {
  std::string text =
      "# cairn serve users and API tokens (see docs/serve.md); written by `cairn serve "
      "passwd|token`\n";
  for (const auto& r : records) {
    if (r.kind == "user") {
      text += fmt::format("user:{}:{}:{}\n", r.name, r.role, r.hash);
    } else {
      text += fmt::format("token:{}:{}:{}\n", r.id, r.name, r.hash);
    }
  }
  const std::string dir =
      path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  if (!dir.empty()) ::mkdir(dir.c_str(), 0700);
  // The file holds hashes only, yet is kept from other local users.
  mode_t old = ::umask(077);
  Status s = WriteFileAtomic(FileSystem::Default(), path, text);
  ::umask(old);
  if (s.ok()) {
    ::chmod(path.c_str(), 0600);
    g_saves++;
  }
  return s;
}

Status ValidateRole(std::string_view role) {
  if (role != "admin" && role != "user") return InvalidArgument("role must be admin or user");
  return Status::Ok();
}

Status ValidatePassword(std::string_view password) {
  if (password.size() < 8) return InvalidArgument("the password must have at least 8 characters");
  return Status::Ok();
}

Status EditUsersFile(const std::string& path,
                     const std::function<Status(std::vector<UserRecord>*)>& change) {
  const std::string dir =
      path.substr(0, path.find_last_of('/') == std::string::npos ? 0 : path.find_last_of('/'));
  if (!dir.empty()) ::mkdir(dir.c_str(), 0700);
  // One change at a time, in this process and between processes (the server's admins and
  // `cairn serve passwd|token`): flock(2) on a file beside it.
  ASSIGN_OR_RETURN(auto lock, FileSystem::Default()->LockFile(path + ".lock", /*wait=*/true));
  std::vector<UserRecord> records;
  auto loaded = LoadUsersFile(path);
  if (loaded.ok()) {
    records = std::move(*loaded);
  } else if (loaded.status().code() != StatusCode::kNotFound) {
    return loaded.status();
  }
  RETURN_IF_ERROR(change(&records));
  return SaveUsersFile(path, records);
}

Status SetUserPassword(const std::string& path, const std::string& name, const std::string& role,
                       std::string_view password) {
  if (!ValidUserName(name))
    return InvalidArgument("user name \"{}\" is not [A-Za-z0-9_.@-]{{1,64}}", name);
  RETURN_IF_ERROR(ValidateRole(role));
  RETURN_IF_ERROR(ValidatePassword(password));
  const UserRecord rec{"user", name, role, "", HashPassword(password)};
  return EditUsersFile(path, [&](std::vector<UserRecord>* records) {
    bool replaced = false;
    for (auto& r : *records) {
      if (r.kind == "user" && r.name == name) {
        r = rec;
        replaced = true;
      }
    }
    if (!replaced) records->push_back(rec);
    return Status::Ok();
  });
}

Result<std::string> AddApiToken(const std::string& path, const std::string& name, std::string* id) {
  std::string token = RandomHex(32);
  std::string token_id = RandomHex(6);
  RETURN_IF_ERROR(EditUsersFile(path, [&](std::vector<UserRecord>* records) -> Status {
    bool found = false;
    for (const auto& r : *records) found |= r.kind == "user" && r.name == name;
    if (!found) return NotFound("no user {}", name);
    records->push_back(UserRecord{"token", name, "", token_id, Sha256Hex(token)});
    return Status::Ok();
  }));
  if (id != nullptr) *id = token_id;
  return token;
}

Auth::Auth(AuthOptions options)
    : options_(std::move(options)),
      cache_secret_(RandomHex(32)),
      dummy_hash_(HashPassword(RandomHex(16))) {}

void Auth::ReloadIfChanged() {
  struct stat st {};
  int64_t mtime = -2;
  if (::stat(options_.users_file.c_str(), &st) == 0) {
    mtime = static_cast<int64_t>(st.st_mtim.tv_sec) * 1'000'000'000 + st.st_mtim.tv_nsec;
  }
  const auto seen = std::make_tuple(mtime, static_cast<uint64_t>(st.st_ino),
                                    static_cast<int64_t>(st.st_size), g_saves.load());
  if (seen == file_seen_) return;
  file_seen_ = seen;
  users_.clear();
  tokens_.clear();
  basic_cache_.clear();
  if (mtime == -2) return;
  auto loaded = LoadUsersFile(options_.users_file);
  if (!loaded.ok()) {
    log::Error("serve: users file: {}", loaded.status().message());
    return;
  }
  for (auto& r : *loaded) {
    if (r.kind == "user") {
      users_[r.name] = r;
    } else {
      tokens_[r.hash] = r;
    }
  }
  // Sessions of users removed or changed to another role follow the file.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    auto u = users_.find(it->second.user.name);
    if (u == users_.end()) {
      it = sessions_.erase(it);
    } else {
      it->second.user.role = u->second.role;
      ++it;
    }
  }
}

size_t Auth::UserCount() {
  std::lock_guard<std::mutex> l(mu_);
  ReloadIfChanged();
  return users_.size();
}

bool Auth::RateLimited(const std::string& name, int64_t now) {
  auto it = failures_.find(name);
  if (it == failures_.end()) return false;
  auto& times = it->second;
  times.erase(
      std::remove_if(times.begin(), times.end(), [&](int64_t t) { return now - t > 60'000; }),
      times.end());
  if (times.empty()) {
    failures_.erase(it);
    return false;
  }
  return static_cast<int>(times.size()) >= options_.max_failures;
}

void Auth::AuditLogin(const std::string& name, bool ok, std::string_view reason,
                      const std::string& remote, std::string_view interface) {
  if (audit_ == nullptr) return;
  AuditRecord r;
  r.action = "login";
  r.info = ok ? "succeeded" : "failed";
  r.user = name.size() > 256 ? name.substr(0, 256) : name;
  r.reason = std::string(reason);
  r.client = remote;
  r.interface = std::string(interface);
  audit_->Record(std::move(r));
}

std::optional<User> Auth::CheckPassword(const std::string& name, const std::string& password,
                                        const std::string& remote, std::string_view interface) {
  std::string hash;
  std::string role;
  const int64_t now = NowMs();
  {
    std::lock_guard<std::mutex> l(mu_);
    ReloadIfChanged();
    if (RateLimited(name, now)) {
      log::Warn("serve: login of \"{}\" from {} refused: too many failures in the last minute",
                name, remote);
      AuditLogin(name, false, "too many failures in the last minute", remote, interface);
      return std::nullopt;
    }
    auto it = users_.find(name);
    if (it != users_.end()) {
      hash = it->second.hash;
      role = it->second.role;
    }
  }
  // An unknown user costs the same hash as a known one, so timing does not tell them apart.
  const bool ok = VerifyPassword(password, hash.empty() ? dummy_hash_ : hash) && !hash.empty();
  std::lock_guard<std::mutex> l(mu_);
  if (!ok) {
    failures_[name].push_back(now);
    if (failures_.size() > 10000) failures_.erase(failures_.begin());
    log::Warn("serve: failed login of \"{}\" from {}", name, remote);
    AuditLogin(name, false, hash.empty() ? "unknown user" : "wrong password", remote, interface);
    return std::nullopt;
  }
  failures_.erase(name);
  return User{name, role};
}

std::optional<std::string> Auth::Login(const std::string& name, const std::string& password,
                                       const std::string& remote, std::string_view interface) {
  auto user = CheckPassword(name, password, remote, interface);
  if (!user) return std::nullopt;
  std::string key = RandomHex(32);
  std::lock_guard<std::mutex> l(mu_);
  const int64_t now = NowMs();
  // Expired sessions go when new ones come.
  for (auto it = sessions_.begin(); it != sessions_.end();) {
    it = it->second.expires_ms < now ? sessions_.erase(it) : std::next(it);
  }
  sessions_[key] = Session{*user, now + options_.session_ttl_ms};
  log::Info("serve: {} logged in from {}", name, remote);
  AuditLogin(name, true, "", remote, interface);
  return key;
}

void Auth::Logout(const std::string& session_key) {
  std::lock_guard<std::mutex> l(mu_);
  sessions_.erase(session_key);
}

std::optional<User> Auth::Authenticate(Request* req, bool audit_failures) {
  const std::string header = req->Header("authorization");
  auto fail = [&](std::string_view reason, const std::string& name,
                  std::string_view interface) -> std::optional<User> {
    if (audit_failures) AuditLogin(name, false, reason, req->remote, interface);
    return std::nullopt;
  };
  const size_t sp = header.find(' ');
  if (sp == std::string::npos) {
    if (header.empty()) return std::nullopt;  // no credentials: not a login attempt
    return fail("malformed Authorization header", "", "rest");
  }
  std::string scheme = header.substr(0, sp);
  for (char& c : scheme) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  std::string cred = header.substr(sp + 1);
  while (!cred.empty() && cred.front() == ' ') cred.erase(0, 1);
  while (!cred.empty() && cred.back() == ' ') cred.pop_back();
  if (cred.empty()) return fail("empty credentials", "", "rest");
  const int64_t now = NowMs();
  if (scheme == "splunk" || scheme == "bearer") {
    std::lock_guard<std::mutex> l(mu_);
    ReloadIfChanged();
    auto it = sessions_.find(cred);
    if (it != sessions_.end()) {
      if (it->second.expires_ms < now) {
        const std::string name = it->second.user.name;
        sessions_.erase(it);
        return fail("session expired", name, "rest_token");
      }
      it->second.expires_ms = now + options_.session_ttl_ms;
      req->session_key = cred;
      return it->second.user;
    }
    {  // API tokens, under either scheme (Splunk takes its tokens both ways)
      auto t = tokens_.find(Sha256Hex(cred));
      if (t != tokens_.end()) {
        auto u = users_.find(t->second.name);
        if (u == users_.end())
          return fail("the token's user no longer exists", t->second.name, "rest_token");
        return User{u->second.name, u->second.role};
      }
    }
    return fail("unknown session key or token", "", "rest_token");
  }
  if (scheme == "basic") {
    auto decoded = Base64Decode(cred);
    if (!decoded) return fail("malformed basic credentials", "", "rest_basic");
    const size_t colon = decoded->find(':');
    if (colon == std::string::npos) return fail("malformed basic credentials", "", "rest_basic");
    const std::string name = decoded->substr(0, colon);
    const std::string password = decoded->substr(colon + 1);
    const std::string cache_key = Sha256Hex(cache_secret_ + '\0' + *decoded);
    {
      std::lock_guard<std::mutex> l(mu_);
      ReloadIfChanged();
      auto it = basic_cache_.find(cache_key);
      if (it != basic_cache_.end() && it->second > now) {
        auto u = users_.find(name);
        if (u != users_.end()) return User{name, u->second.role};
      }
    }
    // A password check: audited as a login (successful or not) once per remembered period.
    auto user = CheckPassword(name, password, req->remote, "rest_basic");
    if (!user) return std::nullopt;
    std::lock_guard<std::mutex> l(mu_);
    if (basic_cache_.size() > 10000) basic_cache_.clear();
    basic_cache_[cache_key] = now + 5 * 60'000;
    AuditLogin(name, true, "", req->remote, "rest_basic");
    return user;
  }
  return fail("unsupported authorization scheme", "", "rest");
}

}  // namespace cairn::serve
