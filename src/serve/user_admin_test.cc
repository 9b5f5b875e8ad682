// Managing users and API tokens: UserAdmin on the users file, and the management port's routes
// (rest_users.cc) through the router with the server's real Auth.

#include "serve/user_admin.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <thread>

#include "common/fs.h"
#include "common/testing.h"
#include "serve/auth.h"
#include "serve/rest.h"
#include "serve/test_request.h"

namespace cairn::serve {
namespace {

class UserAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cairn_users");
    path_ = dir_ + "/users";
    ASSERT_TRUE(SetUserPassword(path_, "root", "admin", "root-password").ok());
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  std::string dir_;
  std::string path_;
};

TEST_F(UserAdminTest, CreatesChangesAndRemovesUsersAndTheirTokens) {
  UserAdmin admin(path_);
  ASSERT_TRUE(admin.Create("bob", "user", "bob-password").ok());
  EXPECT_EQ(admin.Create("bob", "user", "other-password").code(), StatusCode::kAlreadyExists);
  EXPECT_EQ(admin.Create("b:ob", "user", "bob-password").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(admin.Create("carol", "power", "carol-password").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(admin.Create("carol", "user", "short").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(admin.Update("nobody", "admin", std::nullopt).code(), StatusCode::kNotFound);

  auto token = admin.AddToken("bob");
  ASSERT_TRUE(token.ok()) << token.status().message();
  EXPECT_EQ(token->first.size(), 64u);
  EXPECT_EQ(admin.AddToken("nobody").status().code(), StatusCode::kNotFound);
  auto listing = admin.List();
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->users.size(), 2u);
  EXPECT_EQ(listing->users[0].name, "bob");
  EXPECT_EQ(listing->users[0].role, "user");
  EXPECT_EQ(listing->users[0].tokens, 1u);
  ASSERT_EQ(listing->tokens.size(), 1u);
  EXPECT_EQ(listing->tokens[0].id, token->second);
  EXPECT_EQ(listing->tokens[0].owner, "bob");

  // The file holds hashes only: neither the password nor the token.
  auto text = ReadFileToString(FileSystem::Default(), path_);
  ASSERT_TRUE(text.ok());
  EXPECT_EQ(text->find("bob-password"), std::string::npos);
  EXPECT_EQ(text->find(token->first), std::string::npos);

  ASSERT_TRUE(admin.Update("bob", "admin", std::string("new-bob-password")).ok());
  Auth auth(AuthOptions{path_});
  EXPECT_FALSE(auth.Login("bob", "bob-password", "t").has_value());
  EXPECT_TRUE(auth.Login("bob", "new-bob-password", "t").has_value());

  // Removing a user removes its tokens.
  ASSERT_TRUE(admin.Remove("bob").ok());
  listing = admin.List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->users.size(), 1u);
  EXPECT_TRUE(listing->tokens.empty());
  EXPECT_EQ(admin.Remove("bob").code(), StatusCode::kNotFound);
  EXPECT_EQ(admin.RevokeToken(token->second).code(), StatusCode::kNotFound);
}

TEST_F(UserAdminTest, TheLastAdminStays) {
  UserAdmin admin(path_);
  EXPECT_EQ(admin.Remove("root").code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(admin.Update("root", "user", std::nullopt).code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(admin.Create("second", "admin", "second-password").ok());
  ASSERT_TRUE(admin.Update("root", "user", std::nullopt).ok());
  EXPECT_EQ(admin.Remove("second").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(admin.Remove("root").ok());
}

// Changes from several request threads at once: each is a read-modify-write of the file, and none
// may be lost.
TEST_F(UserAdminTest, ConcurrentChangesAreAllKept) {
  std::vector<std::thread> threads;
  std::atomic<int> failures{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      UserAdmin admin(path_);
      for (int i = 0; i < 3; ++i) {
        if (!admin
                 .Create("u" + std::to_string(t) + "-" + std::to_string(i), "user",
                         "password-of-user")
                 .ok()) {
          failures++;
        }
        if (!admin.AddToken("root").ok()) failures++;
      }
    });
  }
  for (auto& t : threads) t.join();
  EXPECT_EQ(failures.load(), 0);
  auto listing = UserAdmin(path_).List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->users.size(), 13u);
  EXPECT_EQ(listing->tokens.size(), 12u);
}

// The same from several processes (a server's admins beside `cairn serve passwd|token`).
TEST_F(UserAdminTest, ChangesFromSeveralProcessesAreAllKept) {
  std::vector<pid_t> children;
  for (int p = 0; p < 3; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int failed = 0;
      for (int i = 0; i < 3; ++i) {
        failed += !SetUserPassword(path_, "p" + std::to_string(p) + "-" + std::to_string(i), "user",
                                   "password-of-user")
                       .ok();
        failed += !AddApiToken(path_, "root").ok();
      }
      ::_exit(failed);
    }
    children.push_back(pid);
  }
  for (pid_t pid : children) {
    int status = 0;
    ASSERT_EQ(::waitpid(pid, &status, 0), pid);
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
  auto listing = UserAdmin(path_).List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->users.size(), 10u);
  EXPECT_EQ(listing->tokens.size(), 9u);
}

class UserRoutes : public UserAdminTest {
 protected:
  void SetUp() override {
    UserAdminTest::SetUp();
    ASSERT_TRUE(SetUserPassword(path_, "alice", "user", "alice-password").ok());
    auth_ = std::make_unique<Auth>(AuthOptions{path_});
    ctx_.auth = auth_.get();
    RegisterAllRoutes(&router_, &ctx_);
  }

  Response Call(const std::string& method, const std::string& target, const std::string& key,
                const std::string& form = "") {
    Request r = testing::TestRequest(method, target, form);
    if (!key.empty()) r.headers["authorization"] = "Splunk " + key;
    return router_.Dispatch(r);
  }
  std::string LogIn(const std::string& name, const std::string& password) {
    return auth_->Login(name, password, "test").value_or("");
  }

  std::unique_ptr<Auth> auth_;
  ServeContext ctx_;
  Router router_;
};

TEST_F(UserRoutes, OnlyAdminsManageUsersAndChangesTakeEffectAtOnce) {
  const std::string alice = LogIn("alice", "alice-password");
  const std::string root = LogIn("root", "root-password");
  ASSERT_FALSE(alice.empty());
  ASSERT_FALSE(root.empty());
  // Without credentials 401; a user 403, for every route; nothing changed.
  EXPECT_EQ(Call("GET", "/services/authentication/users", "").status, 401);
  for (auto [method, target] : std::vector<std::pair<std::string, std::string>>{
           {"GET", "/services/authentication/users"},
           {"POST", "/services/authentication/users"},
           {"GET", "/services/authentication/users/alice"},
           {"POST", "/services/authentication/users/alice"},
           {"DELETE", "/services/authentication/users/root"},
           {"GET", "/services/authorization/tokens"},
           {"POST", "/services/authorization/tokens"},
           {"DELETE", "/services/authorization/tokens/abc"}}) {
    EXPECT_EQ(Call(method, target, alice, "name=mallory&password=mallory-pw&roles=admin").status,
              403)
        << method << " " << target;
  }
  EXPECT_EQ(UserAdmin(path_).List()->users.size(), 2u);

  // An admin creates bob (Splunk's parameters), who can log in at once.
  Response made = Call("POST", "/services/authentication/users?output_mode=json", root,
                       "name=bob&password=bob-password&roles=user");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_NE(made.body.find("\"name\":\"bob\""), std::string::npos) << made.body;
  EXPECT_EQ(made.body.find("argon2"), std::string::npos);
  EXPECT_EQ(Call("POST", "/services/authentication/users", root,
                 "name=bob&password=bob-password&roles=user")
                .status,
            409);
  Response bad = Call("POST", "/services/authentication/users?output_mode=json", root,
                      "name=eve&password=eve-password&roles=power");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("role must be admin or user"), std::string::npos) << bad.body;
  const std::string bob = LogIn("bob", "bob-password");
  ASSERT_FALSE(bob.empty());
  Response listed = Call("GET", "/services/authentication/users", root);
  ASSERT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find("<title>bob</title>"), std::string::npos) << listed.body;

  // A token for bob authenticates as bob until it is revoked.
  Response tok = Call("POST", "/services/authorization/tokens?output_mode=json", root, "name=bob");
  ASSERT_EQ(tok.status, 201) << tok.body;
  const std::string key = "\"token\":\"";
  const size_t at = tok.body.find(key);
  ASSERT_NE(at, std::string::npos) << tok.body;
  const std::string token = tok.body.substr(at + key.size(), 64);
  const std::string id = UserAdmin(path_).List()->tokens.at(0).id;
  EXPECT_EQ(Call("GET", "/services/server/info", token).status, 200);
  Response tokens = Call("GET", "/services/authorization/tokens?output_mode=json", root);
  EXPECT_NE(tokens.body.find(id), std::string::npos);
  EXPECT_EQ(tokens.body.find(token), std::string::npos);  // shown once, never listed
  ASSERT_EQ(Call("DELETE", "/services/authorization/tokens/" + id, root).status, 200);
  EXPECT_EQ(Call("GET", "/services/server/info", token).status, 401);

  // Made admin, bob may manage users; removed, bob's session ends.
  ASSERT_EQ(Call("POST", "/services/authentication/users/bob", root, "roles=admin").status, 200);
  EXPECT_EQ(Call("GET", "/services/authentication/users", bob).status, 200);
  ASSERT_EQ(Call("DELETE", "/services/authentication/users/bob", root).status, 200);
  EXPECT_EQ(Call("GET", "/services/server/info", bob).status, 401);
  EXPECT_EQ(Call("DELETE", "/services/authentication/users/bob", root).status, 404);
  // The last admin cannot remove itself.
  Response last = Call("DELETE", "/services/authentication/users/root?output_mode=json", root);
  EXPECT_EQ(last.status, 400);
  EXPECT_NE(last.body.find("last admin"), std::string::npos) << last.body;
}

}  // namespace
}  // namespace cairn::serve
