// Managed collector inputs: InputAdmin on the managed file (validation, precedence, concurrent
// edits from threads and processes), and the routes of both ports (rest_inputs.cc) through the
// router with the server's real Auth: admins only, CSRF on the UI's POSTs, secrets never shown.

#include "serve/input_admin.h"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>
#include <thread>

#include "common/fs.h"
#include "common/testing.h"
#include "serve/auth.h"
#include "serve/rest.h"
#include "serve/test_request.h"

namespace cairn::serve {
namespace {

constexpr const char* kQueue = "https://sqs.us-west-2.amazonaws.com/123456789012/trail-queue";

collect::InputConfig ConfiguredInput(const std::string& name) {
  collect::InputConfig c;
  c.name = name;
  c.type = "aws_sqs_based_s3";
  c.origin = "cairn.toml:12";
  c.sqs_queue = "configured-queue";
  return c;
}

class InputAdminTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cairn_inputs");
    path_ = dir_ + "/serve/inputs.conf";
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }
  InputAdmin Admin() { return InputAdmin(path_, {ConfiguredInput("site")}); }
  std::string dir_;
  std::string path_;
};

TEST_F(InputAdminTest, CreatesChangesAndRemovesInputs) {
  InputAdmin admin = Admin();
  ASSERT_TRUE(admin
                  .Create("org", {{"sqs_queue_url", kQueue},
                                  {"sqs_queue_region", "us-west-2"},
                                  {"index", "org-trail"},
                                  {"key_id", "AKIAEXAMPLE"},
                                  {"secret_key", "very-secret-value"}})
                  .ok());
  auto listing = admin.List();
  ASSERT_TRUE(listing.ok()) << listing.status().ToString();
  ASSERT_EQ(listing->inputs.size(), 2u);
  EXPECT_EQ(listing->inputs[0].config.name, "site");  // configured first, read-only
  EXPECT_FALSE(listing->inputs[0].managed);
  const auto& org = listing->inputs[1];
  EXPECT_TRUE(org.managed);
  EXPECT_FALSE(org.shadowed);
  EXPECT_EQ(org.config.sqs_queue, kQueue);
  EXPECT_EQ(org.config.index, "org-trail");
  EXPECT_EQ(org.config.sqs_queue_region, "us-west-2");
  EXPECT_TRUE(org.has_static_keys);
  EXPECT_TRUE(org.config.secret_key.empty());  // never listed
  // The file is Splunk's inputs.conf form, 0600.
  auto text = ReadFileToString(FileSystem::Default(), path_, 1 << 20);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("\n[aws_sqs_based_s3://org]\n"), std::string::npos) << *text;
  EXPECT_NE(text->find("\nsqs_queue_url = " + std::string(kQueue) + "\n"), std::string::npos)
      << *text;
  EXPECT_EQ(std::filesystem::status(path_).permissions() & std::filesystem::perms::all,
            std::filesystem::perms::owner_read | std::filesystem::perms::owner_write);

  // Disable, change the index; "" removes an optional key.
  ASSERT_TRUE(
      admin
          .Update("org",
                  {{"disabled", "1"}, {"index", "org-2"}, {"key_id", ""}, {"secret_key", ""}})
          .ok());
  listing = admin.List();
  EXPECT_TRUE(listing->inputs[1].config.disabled);
  EXPECT_EQ(listing->inputs[1].config.index, "org-2");
  EXPECT_FALSE(listing->inputs[1].has_static_keys);
  EXPECT_EQ(admin.Update("nope", {{"disabled", "1"}}).code(), StatusCode::kNotFound);
  EXPECT_EQ(admin.Create("org", {{"sqs_queue_url", kQueue}}).code(), StatusCode::kAlreadyExists);
  ASSERT_TRUE(admin.Remove("org").ok());
  EXPECT_EQ(admin.Remove("org").code(), StatusCode::kNotFound);
  EXPECT_EQ(admin.List()->inputs.size(), 1u);
}

TEST_F(InputAdminTest, BadSettingsAreRefusedNamingTheProblem) {
  InputAdmin admin = Admin();
  auto refused = [&](const std::string& name, std::map<std::string, std::string> keys,
                     const std::string& says) {
    Status s = admin.Create(name, keys);
    EXPECT_EQ(s.code(), StatusCode::kInvalidArgument) << name;
    EXPECT_NE(s.message().find(says), std::string::npos) << s.message();
  };
  refused("bad name!", {{"sqs_queue_url", kQueue}}, "input name \"bad name!\"");
  refused("q", {}, "sqs_queue_url: an input needs its queue");
  refused("q", {{"sqs_queue_url", "https://example.com/not a queue"}},
          "sqs_queue_url: \"https://example.com/not a queue\" is not a queue URL");
  refused("q", {{"sqs_queue_url", "queue/with/slashes"}}, "is neither a queue URL");
  refused("q", {{"sqs_queue_url", kQueue}, {"sqs_queue_region", "mars-1"}},
          "sqs_queue_region: \"mars-1\" is not an AWS region");
  refused("q", {{"sqs_queue_url", kQueue}, {"index", "Bad Index"}},
          "index: \"Bad Index\" is not a valid index name");
  refused("q", {{"sqs_queue_url", kQueue}, {"interval", "soon"}}, "interval: \"soon\"");
  refused("q", {{"sqs_queue_url", kQueue}, {"colour", "blue"}}, "unknown input setting \"colour\"");
  refused("q", {{"sqs_queue_url", kQueue}, {"index", "a\n[aws_sqs_based_s3://evil]"}},
          "index: a control character");
  refused("q", {{"sqs_queue_url", kQueue}, {"key_id", "AKIA"}},
          "key_id and secret_key must be given together");
  // A secret in a refused request is not echoed.
  Status s = admin.Create("q", {{"sqs_queue_url", kQueue},
                                {"key_id", "AKIA"},
                                {"secret_key", "sekrit-1"},
                                {"index", "BAD"}});
  EXPECT_FALSE(s.ok());
  EXPECT_EQ(s.message().find("sekrit-1"), std::string::npos) << s.message();
  EXPECT_FALSE(std::filesystem::exists(path_));  // nothing written
}

// A configured input wins: its name cannot be taken, it cannot be changed here, and a managed
// stanza of its name written by hand is listed as shadowed.
TEST_F(InputAdminTest, ConfiguredInputsWinOnANameClash) {
  InputAdmin admin = Admin();
  Status taken = admin.Create("site", {{"sqs_queue_url", kQueue}});
  EXPECT_EQ(taken.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(taken.message().find("configured in cairn.toml:12"), std::string::npos)
      << taken.message();
  EXPECT_EQ(admin.Update("site", {{"disabled", "1"}}).code(), StatusCode::kInvalidArgument);
  EXPECT_EQ(admin.Remove("site").code(), StatusCode::kInvalidArgument);
  ASSERT_TRUE(InputAdmin(path_, {}).Create("site", {{"sqs_queue_url", kQueue}}).ok());
  auto listing = admin.List();
  ASSERT_EQ(listing->inputs.size(), 2u);
  EXPECT_TRUE(listing->inputs[1].managed);
  EXPECT_TRUE(listing->inputs[1].shadowed);
}

TEST_F(InputAdminTest, ConcurrentChangesAreAllKept) {
  std::vector<std::thread> threads;
  for (int t = 0; t < 6; ++t) {
    threads.emplace_back([&, t] {
      InputAdmin admin(path_, {});
      for (int i = 0; i < 4; ++i) {
        const std::string name = "t" + std::to_string(t) + "-" + std::to_string(i);
        EXPECT_TRUE(admin.Create(name, {{"sqs_queue_url", kQueue}}).ok());
        EXPECT_TRUE(admin.Update(name, {{"index", "idx-" + name}}).ok());
      }
    });
  }
  for (auto& t : threads) t.join();
  auto listing = InputAdmin(path_, {}).List();
  ASSERT_TRUE(listing.ok());
  ASSERT_EQ(listing->inputs.size(), 24u);
  for (const auto& in : listing->inputs) EXPECT_EQ(in.config.index, "idx-" + in.config.name);
}

TEST_F(InputAdminTest, ChangesFromSeveralProcessesAreAllKept) {
  std::vector<pid_t> children;
  for (int p = 0; p < 3; ++p) {
    const pid_t pid = ::fork();
    ASSERT_GE(pid, 0);
    if (pid == 0) {
      int failed = 0;
      InputAdmin admin(path_, {});
      for (int i = 0; i < 4; ++i) {
        failed += !admin
                       .Create("p" + std::to_string(p) + "-" + std::to_string(i),
                               {{"sqs_queue_url", kQueue}})
                       .ok();
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
  auto listing = InputAdmin(path_, {}).List();
  ASSERT_TRUE(listing.ok());
  EXPECT_EQ(listing->inputs.size(), 12u);
}

class InputRoutes : public InputAdminTest {
 protected:
  void SetUp() override {
    InputAdminTest::SetUp();
    users_ = dir_ + "/users";
    ASSERT_TRUE(SetUserPassword(users_, "root", "admin", "root-password").ok());
    ASSERT_TRUE(SetUserPassword(users_, "alice", "user", "alice-password").ok());
    auth_ = std::make_unique<Auth>(AuthOptions{users_});
    admin_ = std::make_unique<InputAdmin>(path_, std::vector{ConfiguredInput("site")});
    ctx_.auth = auth_.get();
    ctx_.inputs = admin_.get();
    ctx_.inputs_changed = [this] { ++changes_; };
    ctx_.collectors = [] {
      collect::InputStatus st;
      st.name = "site";
      st.state = "polling";
      st.events_collected = 7;
      return std::vector<collect::InputStatus>{st};
    };
    RegisterAllRoutes(&router_, &ctx_);
    RegisterUi(&ui_router_, &ctx_);
  }
  Response Call(const std::string& method, const std::string& target, const std::string& key,
                const std::string& form = "") {
    Request r = testing::TestRequest(method, target, form);
    if (!key.empty()) r.headers["authorization"] = "Splunk " + key;
    return router_.Dispatch(r);
  }
  Response Ui(const std::string& method, const std::string& target, const std::string& session,
              const std::string& form = "", const std::string& csrf = "") {
    Request r = testing::TestRequest(method, target, form);
    if (!session.empty()) r.headers["cookie"] = "cairn_session=" + session;
    if (!csrf.empty()) r.headers["x-csrf-token"] = csrf;
    return ui_router_.Dispatch(r);
  }
  std::string LogIn(const std::string& name, const std::string& password) {
    return auth_->Login(name, password, "test").value_or("");
  }
  std::string Csrf(const std::string& session) {
    Response me = Ui("GET", "/api/me", session);
    const std::string key = "\"csrf\":\"";
    const size_t at = me.body.find(key);
    return at == std::string::npos ? "" : me.body.substr(at + key.size(), 64);
  }

  std::string users_;
  std::unique_ptr<Auth> auth_;
  std::unique_ptr<InputAdmin> admin_;
  ServeContext ctx_;
  Router router_, ui_router_;
  int changes_ = 0;
};

TEST_F(InputRoutes, OnlyAdminsManageInputs) {
  const std::string alice = LogIn("alice", "alice-password");
  const std::string root = LogIn("root", "root-password");
  ASSERT_FALSE(alice.empty());
  ASSERT_FALSE(root.empty());
  const std::string base = "/services/data/inputs/aws_sqs_based_s3";
  const std::vector<std::pair<std::string, std::string>> routes = {{"GET", base},
                                                                   {"POST", base},
                                                                   {"GET", base + "/site"},
                                                                   {"POST", base + "/org"},
                                                                   {"POST", base + "/org/disable"},
                                                                   {"POST", base + "/org/enable"},
                                                                   {"DELETE", base + "/org"}};
  for (const auto& [method, target] : routes) {
    EXPECT_EQ(Call(method, target, "", "name=org&sqs_queue_url=q1").status, 401)
        << method << " " << target;
    EXPECT_EQ(Call(method, target, alice, "name=org&sqs_queue_url=q1").status, 403)
        << method << " " << target;
  }
  // The Splunk-style namespace folds onto the same routes.
  EXPECT_EQ(Call("GET", "/servicesNS/nobody/search/data/inputs/aws_sqs_based_s3", alice).status,
            403);
  EXPECT_FALSE(std::filesystem::exists(path_));
  EXPECT_EQ(changes_, 0);

  // An admin adds one (Splunk's parameters), sees it listed with the configured one, disables,
  // enables and removes it; every change tells the server.
  Response made = Call("POST", base + "?output_mode=json", root,
                       "name=org&sqs_queue_url=" + std::string(kQueue) +
                           "&index=org-trail&key_id=AKIA1&secret_key=never-shown-2");
  ASSERT_EQ(made.status, 201) << made.body;
  EXPECT_NE(made.body.find("\"name\":\"org\""), std::string::npos) << made.body;
  EXPECT_NE(made.body.find("\"managed\":true"), std::string::npos) << made.body;
  EXPECT_NE(made.body.find("\"static_keys\":true"), std::string::npos) << made.body;
  EXPECT_EQ(made.body.find("never-shown-2"), std::string::npos) << made.body;
  EXPECT_EQ(changes_, 1);
  Response listed = Call("GET", base, root);
  ASSERT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find("<title>org</title>"), std::string::npos) << listed.body;
  EXPECT_NE(listed.body.find("<title>site</title>"), std::string::npos) << listed.body;
  EXPECT_EQ(listed.body.find("never-shown-2"), std::string::npos);
  Response site = Call("GET", base + "/site?output_mode=json", root);
  EXPECT_NE(site.body.find("\"state\":\"polling\""), std::string::npos) << site.body;
  EXPECT_NE(site.body.find("\"origin\":\"cairn.toml:12\""), std::string::npos) << site.body;
  Response bad = Call("POST", base + "/org?output_mode=json", root, "sqs_queue_region=moon-1");
  EXPECT_EQ(bad.status, 400);
  EXPECT_NE(bad.body.find("sqs_queue_region: \\\"moon-1\\\" is not an AWS region"),
            std::string::npos)
      << bad.body;
  EXPECT_EQ(Call("POST", base, root, "name=site&sqs_queue_url=q2").status, 409);
  EXPECT_EQ(Call("POST", base + "/org", root, "output_mode=json&colour=red").status, 400);
  ASSERT_EQ(Call("POST", base + "/org/disable", root).status, 200);
  EXPECT_TRUE(admin_->List()->inputs[1].config.disabled);
  ASSERT_EQ(Call("POST", base + "/org/enable", root).status, 200);
  EXPECT_FALSE(admin_->List()->inputs[1].config.disabled);
  ASSERT_EQ(Call("DELETE", base + "/org", root).status, 200);
  EXPECT_EQ(Call("DELETE", base + "/org", root).status, 404);
  EXPECT_EQ(Call("GET", base + "/org", root).status, 404);
  EXPECT_EQ(changes_, 4);
}

TEST_F(InputRoutes, TheUiApiIsForAdminsWithTheCsrfToken) {
  const std::string alice = LogIn("alice", "alice-password");
  const std::string root = LogIn("root", "root-password");
  const std::string form = "name=web&sqs_queue_url=web-queue&index=&sqs_queue_region=";
  EXPECT_EQ(Ui("GET", "/api/inputs", "").status, 401);
  EXPECT_EQ(Ui("GET", "/api/inputs", alice).status, 403);
  EXPECT_EQ(Ui("POST", "/api/inputs", alice, form, Csrf(alice)).status, 403);
  EXPECT_EQ(Ui("POST", "/api/inputs", root, form).status, 403);  // no CSRF token
  EXPECT_EQ(Ui("POST", "/api/inputs", root, form, "0000").status, 403);
  EXPECT_FALSE(std::filesystem::exists(path_));
  const std::string csrf = Csrf(root);
  Response made = Ui("POST", "/api/inputs", root, form, csrf);
  ASSERT_EQ(made.status, 200) << made.body;
  Response listed = Ui("GET", "/api/inputs", root);
  ASSERT_EQ(listed.status, 200);
  EXPECT_NE(listed.body.find("\"name\":\"web\",\"sqs_queue_url\":\"web-queue\""), std::string::npos)
      << listed.body;
  EXPECT_NE(listed.body.find("\"events_collected\":7"), std::string::npos) << listed.body;
  ASSERT_EQ(Ui("POST", "/api/inputs/web", root, "disabled=1", csrf).status, 200);
  EXPECT_NE(Ui("GET", "/api/inputs", root).body.find("\"state\":\"disabled\""), std::string::npos);
  EXPECT_EQ(Ui("POST", "/api/inputs/web/delete", alice, "", Csrf(alice)).status, 403);
  ASSERT_EQ(Ui("POST", "/api/inputs/web/delete", root, "", csrf).status, 200);
  EXPECT_EQ(admin_->List()->inputs.size(), 1u);
  EXPECT_EQ(changes_, 3);
}

// The UI's form sets or replaces an input's static keys (both together), keeps them when both
// fields are left empty, and removes them with clear_keys; the secret is in the file only, never
// in an answer.
TEST_F(InputRoutes, TheUiFormSetsKeepsAndClearsStaticKeys) {
  const std::string root = LogIn("root", "root-password");
  const std::string csrf = Csrf(root);
  const std::string secret = "ui-secret-never-shown-3";
  Response made =
      Ui("POST", "/api/inputs", root,
         "name=keyed&sqs_queue_url=keyed-queue&key_id=AKIDFIRST&secret_key=" + secret, csrf);
  ASSERT_EQ(made.status, 200) << made.body;
  EXPECT_EQ(made.body.find(secret), std::string::npos);
  Response listed = Ui("GET", "/api/inputs", root);
  EXPECT_NE(listed.body.find("\"static_keys\":true"), std::string::npos) << listed.body;
  EXPECT_EQ(listed.body.find(secret), std::string::npos) << listed.body;
  EXPECT_EQ(listed.body.find("secret_key"), std::string::npos) << listed.body;
  auto file_has = [&](const std::string& text) {
    std::ifstream in(path_);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str().find(text) != std::string::npos;
  };
  EXPECT_TRUE(file_has("secret_key = " + secret));
  // Empty key fields (as the form sends them with another change) keep the keys.
  ASSERT_EQ(Ui("POST", "/api/inputs/keyed", root, "index=keyed&key_id=&secret_key=", csrf).status,
            200);
  EXPECT_TRUE(file_has("key_id = AKIDFIRST"));
  EXPECT_TRUE(file_has("secret_key = " + secret));
  // One of the two alone is refused, naming both; nothing changes.
  Response half = Ui("POST", "/api/inputs/keyed", root, "key_id=AKIDSECOND", csrf);
  EXPECT_EQ(half.status, 400);
  EXPECT_NE(half.body.find("key_id and secret_key: give both"), std::string::npos) << half.body;
  EXPECT_TRUE(file_has("key_id = AKIDFIRST"));
  // Both replace them.
  ASSERT_EQ(
      Ui("POST", "/api/inputs/keyed", root, "key_id=AKIDSECOND&secret_key=second-secret", csrf)
          .status,
      200);
  EXPECT_TRUE(file_has("key_id = AKIDSECOND"));
  EXPECT_TRUE(file_has("secret_key = second-secret"));
  EXPECT_FALSE(file_has(secret));
  EXPECT_EQ(
      Ui("POST", "/api/inputs/keyed", root, "clear_keys=1&key_id=A&secret_key=B", csrf).status,
      400);
  // clear_keys removes both: the input uses the default credentials chain.
  ASSERT_EQ(Ui("POST", "/api/inputs/keyed", root, "clear_keys=1&key_id=&secret_key=", csrf).status,
            200);
  EXPECT_FALSE(file_has("key_id"));
  EXPECT_FALSE(file_has("secret_key"));
  EXPECT_NE(Ui("GET", "/api/inputs", root).body.find("\"static_keys\":false"), std::string::npos);
}

}  // namespace
}  // namespace cairn::serve
