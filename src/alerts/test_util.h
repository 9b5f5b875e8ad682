#pragma once
// Test only: a store in a temporary folder with CloudTrail events at chosen times.

#include <gtest/gtest.h>

#include <memory>
#include <string>
#include <vector>

#include "cloudtrail/event.h"
#include "common/fs.h"
#include "common/testing.h"
#include "common/time_util.h"
#include "store/store.h"

namespace cairn::alerts::testing {

inline int64_t T(const char* iso) { return *ParseIso8601Millis(iso); }

inline cloudtrail::Event MakeEvent(
    const std::string& id, const char* iso, const std::string& name,
    const std::string& arn = "arn:aws:iam::111122223333:user/mallory",
    const std::string& ip = "203.0.113.10") {
  cloudtrail::Event e;
  e.raw = "{\"eventVersion\":\"1.08\",\"eventTime\":\"" + std::string(iso) +
          "\",\"eventSource\":\"cloudtrail.amazonaws.com\",\"eventName\":\"" + name +
          "\",\"awsRegion\":\"us-east-1\",\"sourceIPAddress\":\"" + ip +
          "\",\"userIdentity\":{\"type\":\"IAMUser\",\"arn\":\"" + arn + "\"},\"eventID\":\"" + id +
          "\",\"eventType\":\"AwsApiCall\",\"recipientAccountId\":"
          "\"111122223333\"}";
  e.time_ms = T(iso);
  e.account = "111122223333";
  e.event_id = id;
  e.sourcetype = std::string(cloudtrail::kSourcetypeEvents);
  e.source = "test";
  return e;
}

struct TempStore {
  std::string dir;
  std::unique_ptr<store::Store> store;
  TempStore() {
    dir = cairn::testing::MakeTempDir("cairn_alerts");
    store::StoreOptions options;
    options.data_dir = dir;
    options.background_merge = false;
    options.retention_interval_ms = 0;
    auto s = store::Store::Open(options);
    EXPECT_TRUE(s.ok()) << s.status().ToString();
    if (s.ok()) store = std::move(s).value();
  }
  void Add(std::vector<cloudtrail::Event> events) {
    auto r = store->Commit("main", std::move(events));
    ASSERT_TRUE(r.ok()) << r.status().ToString();
  }
  ~TempStore() {
    store.reset();
    (void)FileSystem::Default()->RemoveAll(dir);
  }
};

}  // namespace cairn::alerts::testing
