#pragma once
// Users, sessions and API tokens of `cairn serve`.
//
// The users file (serve.users_file, default <data>/users; mode 0600) holds one record a line:
//   user:NAME:ROLE:HASH          a user (role admin or user) and its salted password hash:
//                                argon2id in libsodium's string form ($argon2id$v=19$m=...),
//                                or (written by earlier versions, still accepted)
//                                scrypt$LOGN$R$P$SALT_HEX$KEY_HEX
//   token:ID:NAME:SHA256_HEX                         an API token of user NAME (its SHA-256)
// Lines starting with '#' and blank lines are ignored. `cairn serve passwd` and `cairn serve
// token` write it (atomically); a running server reads it again when its modification time
// changes, so users can be added without a restart.
//
// Credentials a request may carry: "Authorization: Splunk <session key>", "Authorization: Bearer
// <session key or API token>", "Authorization: Basic <base64 user:password>". Session keys come
// from Login and expire after session_ttl_ms without use. A successful basic-auth check is
// remembered for a few minutes (by a keyed hash of the credentials), so that clients sending basic
// auth on every request do not pay the password hash each time.
//
// Failed logins are logged (user name and peer, never the password) and rate-limited per user
// name: after max_failures within a minute, that name is refused without checking for a minute.
// With an AuditLog (SetAudit), every password check (Login, and basic auth when not remembered)
// and every session key or token that does not authenticate is also written to the _audit index
// with the user name, the outcome, a reason, the peer and the interface (never the password,
// key or token).
//
// Thread safety: every method is safe from any thread.

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <vector>

#include "common/status.h"
#include "serve/http.h"

namespace cairn::serve {

class AuditLog;

struct UserRecord {
  std::string kind;  // "user" or "token"
  std::string name;  // user name (tokens: the owner)
  std::string role;  // users only
  std::string id;    // tokens only
  std::string hash;  // users: $argon2id$... (or an older scrypt$...); tokens: SHA-256 hex
};

// argon2id (libsodium, interactive cost: 64 MiB, 2 passes) with a random salt, in libsodium's
// string form; VerifyPassword also accepts the scrypt hashes earlier versions wrote.
std::string HashPassword(std::string_view password);
// Constant-time comparison of the derived key. False for a malformed record.
bool VerifyPassword(std::string_view password, std::string_view encoded);
// A random key of `bytes` bytes, hex-encoded.
std::string RandomHex(size_t bytes);
bool ValidUserName(std::string_view name);           // [A-Za-z0-9_.@-]{1,64}
Status ValidateRole(std::string_view role);          // admin or user
Status ValidatePassword(std::string_view password);  // at least 8 characters

Result<std::vector<UserRecord>> LoadUsersFile(const std::string& path);  // NotFound when absent
Status SaveUsersFile(const std::string& path, const std::vector<UserRecord>& records);
// A read-modify-write of the file (an absent file reads as empty): `change` edits the records,
// which are saved unless it fails. Changes are made one at a time, also between processes (an
// flock on `<path>.lock`), so a server's admins and `cairn serve passwd|token` lose none.
Status EditUsersFile(const std::string& path,
                     const std::function<Status(std::vector<UserRecord>*)>& change);
// Sets (adds or replaces) user `name`'s password and role in the file.
Status SetUserPassword(const std::string& path, const std::string& name, const std::string& role,
                       std::string_view password);
// Adds an API token for `name`; returns the token (shown once; only its hash is stored) and, with
// `id`, the token's id.
Result<std::string> AddApiToken(const std::string& path, const std::string& name,
                                std::string* id = nullptr);

struct AuthOptions {
  std::string users_file;
  int64_t session_ttl_ms = 3600'000;
  int max_failures = 5;
};

class Auth {
 public:
  explicit Auth(AuthOptions options);
  const std::string& users_file() const { return options_.users_file; }
  // Number of users known (after reading the file).
  size_t UserCount();
  // Where logins are audited (not owned; null: nowhere). Set before serving.
  void SetAudit(AuditLog* audit) { audit_ = audit; }
  // A new session key for valid credentials; nullopt otherwise (also while the name is
  // rate-limited). `remote` and `interface` (rest, ui) only for the log and the audit record.
  std::optional<std::string> Login(const std::string& name, const std::string& password,
                                   const std::string& remote, std::string_view interface = "rest");
  void Logout(const std::string& session_key);
  // The user the request's Authorization header names, if valid. Sets req->session_key.
  // `audit_failures`: write presented credentials that fail to the audit log (the web UI, whose
  // stale session cookies are no login attempts, passes false).
  std::optional<User> Authenticate(Request* req, bool audit_failures = true);

 private:
  struct Session {
    User user;
    int64_t expires_ms;
  };
  void ReloadIfChanged();  // mu_ held
  std::optional<User> CheckPassword(const std::string& name, const std::string& password,
                                    const std::string& remote, std::string_view interface);
  void AuditLogin(const std::string& name, bool ok, std::string_view reason,
                  const std::string& remote, std::string_view interface);
  bool RateLimited(const std::string& name, int64_t now);  // mu_ held
  AuthOptions options_;
  std::mutex mu_;
  // What the file was when last read: its modification time, inode and size, and how many saves
  // this process had made (a rewrite within the file system's timestamp granularity, perhaps on
  // a reused inode, still shows).
  std::tuple<int64_t, uint64_t, int64_t, uint64_t> file_seen_{-1, 0, 0, 0};
  std::map<std::string, UserRecord> users_;               // by name
  std::map<std::string, UserRecord> tokens_;              // by hash
  std::map<std::string, Session> sessions_;               // by key
  std::map<std::string, int64_t> basic_cache_;            // keyed hash of credentials -> expiry
  std::map<std::string, std::vector<int64_t>> failures_;  // name -> failure times
  std::string cache_secret_;
  std::string dummy_hash_;  // checked against for unknown users
  AuditLog* audit_ = nullptr;
};

}  // namespace cairn::serve
