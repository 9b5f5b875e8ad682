#include "detect/alert.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include "common/fs.h"
#include "common/testing.h"
#include "store/store.h"

namespace cairn::detect {
namespace {

Alert SampleAlert() {
  Alert a;
  a.kind = AlertKind::kSigma;
  a.rule_id = "4db60cc0-36fb-42b7-9b58-a5b53019fb74";
  a.title = "AWS CloudTrail Important Change";
  a.level = "medium";
  a.tags = {"attack.defense-evasion", "attack.t1562.008"};
  a.time_ms = 1700000000123;
  a.key = "ev-1";
  a.event_id = "ev-1";
  a.event_name = "StopLogging";
  a.event_source = "cloudtrail.amazonaws.com";
  a.user_arn = "arn:aws:iam::111122223333:user/mallory";
  a.source_ip = "203.0.113.9";
  a.account = "111122223333";
  a.extra_json = {{"count", "3"}};
  return a;
}

TEST(Alert, EncodedPartsGiveTheSameRecord) {
  Alert a = SampleAlert();
  a.description = "A \"quoted\" description\nover two lines";
  a.tags.push_back("tag with \\ backslash");
  const cloudtrail::Event plain = ToEvent(a);
  a.encoded = EncodeAlertParts(a);
  const cloudtrail::Event encoded = ToEvent(a);
  EXPECT_EQ(encoded.raw.str(), plain.raw.str());
  EXPECT_EQ(encoded.event_id, plain.event_id);
  EXPECT_EQ(encoded.source, plain.source);
  EXPECT_EQ(encoded.source, "cairn:sigma:4db60cc0-36fb-42b7-9b58-a5b53019fb74");
  // The parts replace the fields: what the record says comes from them.
  Alert other = a;
  other.title = "changed";
  EXPECT_EQ(ToEvent(other).raw.str(), plain.raw.str());
  // Without tags or a description, the parts leave those members out as ToEvent does.
  Alert bare = SampleAlert();
  bare.tags.clear();
  const std::string bare_plain = ToEvent(bare).raw.str();
  bare.encoded = EncodeAlertParts(bare);
  EXPECT_EQ(ToEvent(bare).raw.str(), bare_plain);
  EXPECT_EQ(bare_plain.find("\"tags\""), std::string::npos);
}

TEST(Alert, RecordIsJsonWithTheAlertsFields) {
  cloudtrail::Event e = ToEvent(SampleAlert());
  EXPECT_EQ(e.sourcetype, "cairn:alert");
  EXPECT_EQ(e.time_ms, 1700000000123);
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(e.raw.str()).get(doc), simdjson::SUCCESS) << e.raw;
  EXPECT_EQ(std::string_view(doc["eventTime"]), "2023-11-14T22:13:20.123Z");
  EXPECT_EQ(std::string_view(doc["alert_type"]), "sigma");
  EXPECT_EQ(std::string_view(doc["userIdentity"]["arn"]), "arn:aws:iam::111122223333:user/mallory");
  EXPECT_EQ(std::string_view(doc["tags"].at(1)), "attack.t1562.008");
  EXPECT_EQ(int64_t(doc["count"]), 3);
  EXPECT_EQ(e.event_id.rfind("alert:", 0), 0u);
  EXPECT_EQ(e.event_id.size(), 6u + 32u);
}

TEST(Alert, IdDependsOnWhatNotWhen) {
  Alert a = SampleAlert();
  Alert later = a;
  later.time_ms += 60000;
  later.title = "renamed";
  EXPECT_EQ(ToEvent(a).event_id, ToEvent(later).event_id);
  Alert other_event = a;
  other_event.key = "ev-2";
  EXPECT_NE(ToEvent(a).event_id, ToEvent(other_event).event_id);
  Alert other_kind = a;
  other_kind.kind = AlertKind::kSavedSearch;
  EXPECT_NE(ToEvent(a).event_id, ToEvent(other_kind).event_id);
}

TEST(Alert, StoringTheSameAlertTwiceKeepsOne) {
  std::string dir = testing::MakeTempDir("cairn_alert");
  store::StoreOptions options;
  options.data_dir = dir;
  options.background_merge = false;
  auto store = store::Store::Open(options);
  ASSERT_TRUE(store.ok()) << store.status().ToString();
  Alert second = SampleAlert();
  second.key = "ev-2";
  auto first = StoreAlerts(store->get(), {SampleAlert(), second});
  ASSERT_TRUE(first.ok()) << first.status().ToString();
  EXPECT_EQ(*first, 2u);
  auto again = StoreAlerts(store->get(), {SampleAlert()});
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  EXPECT_EQ(*again, 0u);
  auto info = (*store)->Info(kAlertsIndex);
  ASSERT_TRUE(info.ok()) << info.status().ToString();
  EXPECT_EQ(info->events, 2u);
  store->reset();
  (void)FileSystem::Default()->RemoveAll(dir);
}

}  // namespace
}  // namespace cairn::detect
