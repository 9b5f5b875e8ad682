#include "alerts/conf.h"

#include <gtest/gtest.h>

#include "alerts/cis.h"

namespace cairn::alerts {
namespace {

constexpr char kConf[] = R"(# a comment
[default]
dispatch.earliest_time = -15m@m
alert.severity = 2
action.webhook.param.url = https://hooks.example.com/default

[Stop logging]
search = `cloudtrail` eventName=StopLogging \
  | stats count by userIdentity.arn
cron_schedule = */5 * * * *
enableSched = 1
dispatch.latest_time = now
counttype = number of results
relation = greater than
quantity = 0
alert.severity = 5
alert.suppress = 1
alert.suppress.fields = userIdentity.arn, sourceIPAddress
alert.suppress.period = 1h
alert.digest_mode = 0
alert.track = 0
action.webhook = 1
action.jsonl = 1
action.jsonl.param.path = /tmp/alerts.jsonl
action.syslog = true
action.syslog.param.host = 127.0.0.1
action.syslog.param.port = 5514
action.syslog.param.protocol = TCP
action.slack = 1
action.slack.param.url = http://127.0.0.1:9/slack
request.ui_dispatch_app = search
   ; another comment style

[Disabled one]
search = index=main
disabled = 1
enableSched = 1
cron_schedule = 0 * * * *
dispatch.earliest_time = -1h
counttype = custom
alert_condition = search count > 10
)";

TEST(Conf, ParsesStanzasDefaultsAndContinuations) {
  auto r = ParseSavedSearches(kConf, "test.conf");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 2u);
  const SavedSearch& a = (*r)[0];
  EXPECT_EQ(a.name, "Stop logging");
  EXPECT_EQ(a.origin, "test.conf:7");
  EXPECT_EQ(a.search, "`cloudtrail` eventName=StopLogging \n  | stats count by userIdentity.arn");
  EXPECT_EQ(a.cron_schedule, "*/5 * * * *");
  EXPECT_TRUE(a.Scheduled());
  EXPECT_EQ(a.earliest_time, "-15m@m");  // from [default]
  EXPECT_EQ(a.latest_time, "now");
  EXPECT_EQ(a.counttype, CountType::kResults);
  EXPECT_EQ(a.relation, Relation::kGreaterThan);
  EXPECT_EQ(a.quantity, 0);
  EXPECT_EQ(a.severity, 5);  // its own wins over [default]
  EXPECT_EQ(a.Level(), "high");
  EXPECT_TRUE(a.suppress);
  EXPECT_EQ(a.suppress_fields, (std::vector<std::string>{"userIdentity.arn", "sourceIPAddress"}));
  EXPECT_EQ(a.suppress_period_ms, 3'600'000);
  EXPECT_FALSE(a.digest_mode);
  EXPECT_FALSE(a.track);
  EXPECT_TRUE(a.webhook.enabled);
  EXPECT_EQ(a.webhook.url, "https://hooks.example.com/default");
  EXPECT_TRUE(a.jsonl.enabled);
  EXPECT_EQ(a.jsonl.path, "/tmp/alerts.jsonl");
  EXPECT_TRUE(a.syslog.enabled);
  EXPECT_EQ(a.syslog.port, 5514);
  EXPECT_EQ(a.syslog.protocol, "tcp");
  EXPECT_TRUE(a.slack.enabled);
  EXPECT_EQ(a.other.count("request.ui_dispatch_app"), 1u);

  const SavedSearch& b = (*r)[1];
  EXPECT_TRUE(b.disabled);
  EXPECT_FALSE(b.Scheduled());
  EXPECT_EQ(b.earliest_time, "-1h");
  EXPECT_EQ(b.severity, 2);
  EXPECT_EQ(b.Level(), "informational");
  EXPECT_EQ(b.counttype, CountType::kCustom);
  EXPECT_EQ(b.alert_condition, "search count > 10");
  EXPECT_FALSE(b.webhook.enabled);
}

TEST(Conf, DefaultStanzaAppliesWhereverItIs) {
  auto r = ParseSavedSearches("[a]\nsearch = x\n[default]\nalert.severity = 6\n", "f");
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 1u);
  EXPECT_EQ((*r)[0].severity, 6);
}

TEST(Conf, MalformedLinesNameFileAndLine) {
  auto r = ParseSavedSearches("[ok]\nsearch = x\nthis line has no equals sign\n", "my.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("my.conf:3"), std::string::npos) << r.status().message();

  r = ParseSavedSearches("[broken\nsearch = x\n", "my.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("my.conf:1"), std::string::npos) << r.status().message();

  r = ParseSavedSearches("[a]\nsearch = x\n\nalert.severity = 9\n", "my.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("my.conf:4"), std::string::npos) << r.status().message();

  r = ParseSavedSearches("[a]\ncounttype = number of lemons\n", "my.conf");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("my.conf:2"), std::string::npos);

  r = ParseSavedSearches("[a]\nalert.suppress.period = 5 fortnights\n", "my.conf");
  ASSERT_FALSE(r.ok());

  r = ParseSavedSearches("[a]\n= value\n", "my.conf");
  ASSERT_FALSE(r.ok());
}

TEST(Conf, CountTypesRelationsPeriods) {
  EXPECT_EQ(*ParseCountType("Number of Hosts"), CountType::kHosts);
  EXPECT_EQ(*ParseCountType("always"), CountType::kAlways);
  EXPECT_EQ(*ParseCountType("number of sources"), CountType::kSources);
  auto alias = ParseSavedSearches("[a]\nalert_type = custom\n", "f");
  ASSERT_TRUE(alias.ok());
  EXPECT_EQ((*alias)[0].counttype, CountType::kCustom);
  EXPECT_EQ(*ParseRelation("drops by"), Relation::kDropsBy);
  EXPECT_EQ(*ParseRelation("not equal to"), Relation::kNotEqualTo);
  EXPECT_FALSE(ParseRelation("sideways").ok());
  EXPECT_EQ(*ParsePeriodMs("60s"), 60'000);
  EXPECT_EQ(*ParsePeriodMs("90"), 90'000);
  EXPECT_EQ(*ParsePeriodMs("2d"), 2 * 86'400'000LL);
}

TEST(Conf, BuiltInCisControlsParse) {
  auto r = CisSavedSearches();
  ASSERT_TRUE(r.ok()) << r.status().ToString();
  ASSERT_EQ(r->size(), 15u);
  for (const SavedSearch& s : *r) {
    EXPECT_TRUE(s.Scheduled()) << s.name;
    EXPECT_EQ(s.cron_schedule, "*/5 * * * *") << s.name;
    EXPECT_EQ(s.earliest_time, "-20m@m");
    EXPECT_FALSE(s.search.empty());
    EXPECT_EQ(s.other.count("cairn.cis_filter"), 1u) << s.name;
  }
  EXPECT_EQ((*r)[0].name, "CIS AWS 4.1 - Unauthorized API calls");
  EXPECT_EQ((*r)[14].name, "CIS AWS 4.15 - AWS Organizations changes");
}

}  // namespace
}  // namespace cairn::alerts
