// The audit trail over a real store: logins (good, bad, bogus key, basic auth) and jobs (done, bad
// search) become records in the internal index _audit, with their user, outcome and counts, and
// never with a password or key; index=* does not see them; Stop commits what is queued.

#include "serve/audit.h"

#include <gtest/gtest.h>

#include <filesystem>

#include "common/testing.h"
#include "query/engine.h"
#include "query/store_source.h"
#include "serve/auth.h"
#include "serve/jobs.h"
#include "store/store.h"
#include "store/test_util.h"

namespace cairn::serve {
namespace {

constexpr int64_t kStart = 1'700'000'000'000;

class AuditTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = testing::MakeTempDir("cairn_audit");
    store::StoreOptions so;
    so.data_dir = dir_ + "/data";
    so.background_merge = false;
    auto st = store::Store::Open(so);
    ASSERT_TRUE(st.ok()) << st.status().ToString();
    store_ = std::move(*st);
    ASSERT_TRUE(
        store_->Commit("main", store::testing::SyntheticBatch(0, 500, kStart, 3'600'000)).ok());
  }
  void TearDown() override {
    (void)store_->Close();
    std::filesystem::remove_all(dir_);
  }
  // The rows of `spl` over the store, each row's cells joined by '|', rows by '\n'.
  std::string Run(const std::string& spl) {
    query::StoreEventSource source(store_.get(), {});
    query::EngineOptions eo;
    eo.now = 2e9;
    query::Engine engine(&source, query::MacroSet(), eo);
    auto r = engine.Run(spl);
    EXPECT_TRUE(r.ok()) << spl << ": " << r.status().ToString();
    std::string out;
    if (!r.ok()) return out;
    for (const auto& row : r->rows) {
      for (size_t j = 0; j < row.size(); ++j) {
        if (j > 0) out += '|';
        out += row[j].empty() ? "-" : row[j][0];
      }
      out += '\n';
    }
    return out;
  }
  std::string dir_;
  std::unique_ptr<store::Store> store_;
};

TEST_F(AuditTest, LoginsAndSearchesAreRecordedWithoutSecrets) {
  const std::string users = dir_ + "/users";
  ASSERT_TRUE(SetUserPassword(users, "alice", "admin", "alice-Secret-1").ok());
  AuditLogOptions ao;
  ao.store = store_.get();
  ao.gather_ms = 50;
  AuditLog audit(ao);
  AuthOptions opt;
  opt.users_file = users;
  Auth auth(opt);
  auth.SetAudit(&audit);
  EXPECT_FALSE(auth.Login("alice", "wrong-Guess-9", "10.0.0.9:5000").has_value());
  EXPECT_FALSE(auth.Login("mallory", "alice-Secret-1", "10.0.0.9:5001", "ui").has_value());
  auto key = auth.Login("alice", "alice-Secret-1", "10.0.0.9:5002");
  ASSERT_TRUE(key.has_value());
  Request r;
  r.remote = "10.0.0.9:5003";
  r.headers["authorization"] = "Bearer not-a-Real-key-77";
  EXPECT_FALSE(auth.Authenticate(&r).has_value());
  r.headers["authorization"] = "Splunk " + *key;
  EXPECT_TRUE(auth.Authenticate(&r).has_value());  // a valid key: no record
  r.headers.erase("authorization");
  EXPECT_FALSE(auth.Authenticate(&r).has_value());  // no credentials: no record
  r.headers["authorization"] = "Bearer not-a-Real-key-77";
  EXPECT_FALSE(auth.Authenticate(&r, /*audit_failures=*/false).has_value());  // not recorded

  {
    JobManagerOptions jo;
    jo.store = store_.get();
    jo.data_dir = dir_;
    jo.workers = 1;
    jo.audit = &audit;
    JobManager jobs(jo);
    JobRequest good;
    good.search = "search eventName=ConsoleLogin | stats count";
    good.owner = "alice";
    good.interface = "rest";
    good.client = "10.0.0.9:5004";
    good.earliest_time = "0";
    good.exec_mode = "oneshot";
    auto sid = jobs.Create(good);
    ASSERT_TRUE(sid.ok()) << sid.status().ToString();
    ASSERT_TRUE(jobs.Wait(*sid, "alice", false).ok());
    JobRequest bad = good;
    bad.search = "search * | nosuchcommand";
    EXPECT_FALSE(jobs.Create(bad).ok());
  }
  ASSERT_TRUE(audit.Flush().ok());
  const AuditStats stats = audit.stats();
  EXPECT_EQ(stats.recorded, 7u);  // 4 logins, granted + completed, refused
  EXPECT_EQ(stats.stored, 7u);
  EXPECT_EQ(stats.dropped, 0u);

  EXPECT_EQ(Run("index=_audit action=login | fillnull value=- user, reason | sort client | table "
                "info, user, interface, client, reason"),
            "failed|alice|rest|10.0.0.9:5000|wrong password\n"
            "failed|mallory|ui|10.0.0.9:5001|unknown user\n"
            "succeeded|alice|rest|10.0.0.9:5002|-\n"
            "failed|-|rest_token|10.0.0.9:5003|unknown session key or token\n");
  const std::string searches =
      Run("index=_audit action=search | sort info | table info, user, interface, exec_mode, "
          "result_count, search");
  EXPECT_EQ(searches,
            "completed|alice|rest|oneshot|1|search eventName=ConsoleLogin | stats count\n"
            "granted|alice|rest|oneshot|-|search eventName=ConsoleLogin | stats count\n"
            "refused|alice|rest|oneshot|-|search * | nosuchcommand\n");
  EXPECT_EQ(Run("index=_audit | stats count by sourcetype"), "cairn:audit|7\n");
  // index=* and a search without index= do not see the internal index.
  EXPECT_EQ(Run("index=* | stats count by index"), "main|500\n");
  EXPECT_EQ(Run("* | stats count by index"), "main|500\n");
  // No secret in any record.
  const std::string raw = Run("index=_audit | table _raw");
  for (const std::string& secret : {std::string("wrong-Guess-9"), std::string("alice-Secret-1"),
                                    std::string("not-a-Real-key-77"), *key}) {
    EXPECT_EQ(raw.find(secret), std::string::npos) << secret << " in " << raw;
  }
}

TEST_F(AuditTest, StopCommitsWhatIsQueuedAndLaterRecordsAreDropped) {
  AuditLogOptions ao;
  ao.store = store_.get();
  ao.gather_ms = 60'000;  // no round would start by itself within the test
  AuditLog audit(ao);
  for (int i = 0; i < 5; ++i) {
    AuditRecord r;
    r.action = "login";
    r.info = "succeeded";
    r.user = "u" + std::to_string(i);
    audit.Record(std::move(r));
  }
  audit.Stop();
  EXPECT_EQ(audit.stats().stored, 5u);
  audit.Record(AuditRecord{});
  EXPECT_EQ(audit.stats().dropped, 1u);
  EXPECT_EQ(Run("index=_audit | stats count"), "5\n");
}

TEST_F(AuditTest, AFailedCommitIsRetriedAndNeverReachesTheCaller) {
  AuditLogOptions ao;
  ao.store = store_.get();
  ao.gather_ms = 10;
  AuditLog audit(ao);
  ASSERT_TRUE(store_->Close().ok());  // every commit now fails
  AuditRecord r;
  r.action = "search";
  r.info = "granted";
  audit.Record(r);  // returns at once
  EXPECT_FALSE(audit.Flush().ok());
  const AuditStats s = audit.stats();
  EXPECT_EQ(s.stored, 0u);
  EXPECT_EQ(s.failed_commits, 3u);  // three attempts, then given up
  EXPECT_EQ(s.dropped, 1u);
}

}  // namespace
}  // namespace cairn::serve
