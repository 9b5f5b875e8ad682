#include "serve/user_admin.h"

#include <algorithm>

#include "serve/auth.h"

namespace cairn::serve {
namespace {

UserRecord* FindUser(std::vector<UserRecord>* records, const std::string& name) {
  for (auto& r : *records) {
    if (r.kind == "user" && r.name == name) return &r;
  }
  return nullptr;
}

size_t Admins(const std::vector<UserRecord>& records) {
  return std::count_if(records.begin(), records.end(),
                       [](const UserRecord& r) { return r.kind == "user" && r.role == "admin"; });
}

}  // namespace

Result<UserListing> UserAdmin::List() const {
  auto loaded = LoadUsersFile(path_);
  if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) return loaded.status();
  const std::vector<UserRecord> records =
      loaded.ok() ? std::move(*loaded) : std::vector<UserRecord>{};
  UserListing out;
  for (const auto& r : records) {
    if (r.kind == "user") {
      out.users.push_back({r.name, r.role, 0});
    } else {
      out.tokens.push_back({r.id, r.name});
    }
  }
  std::sort(out.users.begin(), out.users.end(),
            [](const auto& a, const auto& b) { return a.name < b.name; });
  std::sort(out.tokens.begin(), out.tokens.end(), [](const auto& a, const auto& b) {
    return std::tie(a.owner, a.id) < std::tie(b.owner, b.id);
  });
  for (auto& u : out.users) {
    u.tokens = std::count_if(out.tokens.begin(), out.tokens.end(),
                             [&](const auto& t) { return t.owner == u.name; });
  }
  return out;
}

Status UserAdmin::Create(const std::string& name, const std::string& role,
                         std::string_view password) {
  if (!ValidUserName(name))
    return InvalidArgument("user name \"{}\" is not [A-Za-z0-9_.@-]{{1,64}}", name);
  RETURN_IF_ERROR(ValidateRole(role));
  RETURN_IF_ERROR(ValidatePassword(password));
  return EditUsersFile(path_, [&](std::vector<UserRecord>* records) -> Status {
    if (FindUser(records, name) != nullptr) return AlreadyExists("user {} exists", name);
    records->push_back(UserRecord{"user", name, role, "", HashPassword(password)});
    return Status::Ok();
  });
}

Status UserAdmin::Update(const std::string& name, const std::optional<std::string>& role,
                         const std::optional<std::string>& password) {
  if (role) RETURN_IF_ERROR(ValidateRole(*role));
  if (password) RETURN_IF_ERROR(ValidatePassword(*password));
  // Hashing is slow (64 MiB, by design): outside the lock.
  const std::string hash = password ? HashPassword(*password) : "";
  return EditUsersFile(path_, [&](std::vector<UserRecord>* records) -> Status {
    UserRecord* u = FindUser(records, name);
    if (u == nullptr) return NotFound("no user {}", name);
    if (role && u->role == "admin" && *role != "admin" && Admins(*records) == 1)
      return InvalidArgument("{} is the last admin: make another user admin first", name);
    if (role) u->role = *role;
    if (password) u->hash = hash;
    return Status::Ok();
  });
}

Status UserAdmin::Remove(const std::string& name) {
  return EditUsersFile(path_, [&](std::vector<UserRecord>* records) -> Status {
    UserRecord* u = FindUser(records, name);
    if (u == nullptr) return NotFound("no user {}", name);
    if (u->role == "admin" && Admins(*records) == 1)
      return InvalidArgument("{} is the last admin: make another user admin first", name);
    records->erase(std::remove_if(records->begin(), records->end(),
                                  [&](const UserRecord& r) { return r.name == name; }),
                   records->end());
    return Status::Ok();
  });
}

Result<std::pair<std::string, std::string>> UserAdmin::AddToken(const std::string& owner) {
  std::string id;
  ASSIGN_OR_RETURN(std::string token, AddApiToken(path_, owner, &id));
  return std::make_pair(std::move(token), std::move(id));
}

Status UserAdmin::RevokeToken(const std::string& id) {
  return EditUsersFile(path_, [&](std::vector<UserRecord>* records) -> Status {
    auto it = std::find_if(records->begin(), records->end(),
                           [&](const UserRecord& r) { return r.kind == "token" && r.id == id; });
    if (it == records->end()) return NotFound("no API token {}", id);
    records->erase(it);
    return Status::Ok();
  });
}

}  // namespace cairn::serve
