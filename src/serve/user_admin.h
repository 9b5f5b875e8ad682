#pragma once
// Managing the users file from a running server (admins, through the REST API and the web UI):
// list, create, change and remove users, create and revoke API tokens. Each change is a
// read-modify-write of the file (EditUsersFile: written atomically, one change at a time also
// between processes); the
// server's Auth notices the new file (its modification time), so a removed user's sessions and
// tokens stop working at once. Hashes never leave this module: listings carry names, roles and
// token ids only.
//
// Guards: the last admin cannot be removed or made a user (nobody could manage users after).

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::serve {

struct UserListing {
  struct Token {
    std::string id;     // what revoking names
    std::string owner;  // the user it authenticates as
  };
  struct Person {
    std::string name;
    std::string role;
    size_t tokens = 0;
  };
  std::vector<Person> users;  // by name
  std::vector<Token> tokens;  // by owner, then id
};

class UserAdmin {
 public:
  explicit UserAdmin(std::string users_file) : path_(std::move(users_file)) {}
  Result<UserListing> List() const;
  // AlreadyExists when the name is taken; InvalidArgument for a bad name, role or short password.
  Status Create(const std::string& name, const std::string& role, std::string_view password);
  // Changes what is given. NotFound for an unknown user.
  Status Update(const std::string& name, const std::optional<std::string>& role,
                const std::optional<std::string>& password);
  // Removes the user and its API tokens. NotFound for an unknown user.
  Status Remove(const std::string& name);
  // A new API token for `owner` (returned once; only its hash is kept) and its id.
  Result<std::pair<std::string, std::string>> AddToken(const std::string& owner);
  // NotFound for an unknown id.
  Status RevokeToken(const std::string& id);

 private:
  std::string path_;
};

}  // namespace cairn::serve
