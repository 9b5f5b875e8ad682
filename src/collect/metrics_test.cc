#include "collect/metrics.h"

#include <gtest/gtest.h>

#include <regex>
#include <set>
#include <sstream>
#include <string>

namespace cairn::collect {
namespace {

// The collector logs where its metrics are served from address(): it must be the address bound,
// not 127.0.0.1 whatever was asked.
TEST(MetricsServerTest, AddressIsTheOneBound) {
  Metrics metrics;
  auto loopback2 = MetricsServer::Start("127.0.0.2:0", &metrics);
  ASSERT_TRUE(loopback2.ok()) << loopback2.status().ToString();
  EXPECT_GT((*loopback2)->port(), 0);
  EXPECT_EQ((*loopback2)->address(), "127.0.0.2:" + std::to_string((*loopback2)->port()));
  auto any = MetricsServer::Start("0.0.0.0:0", &metrics);
  ASSERT_TRUE(any.ok()) << any.status().ToString();
  EXPECT_EQ((*any)->address(), "0.0.0.0:" + std::to_string((*any)->port()));
  auto port_only = MetricsServer::Start("0", &metrics);
  ASSERT_TRUE(port_only.ok()) << port_only.status().ToString();
  EXPECT_EQ((*port_only)->address(), "127.0.0.1:" + std::to_string((*port_only)->port()));
  EXPECT_FALSE(MetricsServer::Start("example.com:9464", &metrics).ok());
}

// Several collectors in one exposition (`cairn serve`: the configured collector and each managed
// input): every family once, one HELP and TYPE, with each set's samples together under it; the
// unlabelled set renders as a lone collector does, the others carry input="NAME".
TEST(MetricsTest, SeveralCollectorsShareEachFamily) {
  Metrics configured, live, other;
  configured.files_ingested = 5;
  live.files_ingested = 7;
  live.events_stored = 35;
  live.CountError("sqs_receive");
  live.ObserveLatency(200);
  live.integrity_passes = 2;
  other.files_ingested = 1;
  const int64_t now = 1'700'000'000'000;
  live.NoteEventTime(now - 30'000);
  const std::string text =
      RenderPrometheusSets({{"", &configured}, {"live", &live}, {"x\"y", &other}}, now);
  EXPECT_NE(text.find("cairn_collect_files_total{outcome=\"ingested\"} 5\n"), std::string::npos)
      << text;
  EXPECT_NE(text.find("cairn_collect_files_total{input=\"live\",outcome=\"ingested\"} 7\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cairn_collect_files_total{input=\"x\\\"y\",outcome=\"ingested\"} 1\n"),
            std::string::npos)
      << text;
  EXPECT_NE(text.find("cairn_collect_events_total{input=\"live\",outcome=\"stored\"} 35\n"),
            std::string::npos);
  EXPECT_NE(text.find("cairn_collect_errors_total{input=\"live\",kind=\"sqs_receive\"} 1\n"),
            std::string::npos);
  EXPECT_NE(
      text.find("cairn_collect_delivery_latency_seconds_bucket{input=\"live\",le=\"0.25\"} 1\n"),
      std::string::npos);
  EXPECT_NE(text.find("cairn_collect_delivery_latency_seconds_count{input=\"live\"} 1\n"),
            std::string::npos);
  EXPECT_NE(text.find("cairn_collect_lag_seconds{input=\"live\"} 30\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_collect_lag_seconds 0\n"), std::string::npos);
  EXPECT_NE(text.find("cairn_integrity_passes_total{input=\"live\"} 2\n"), std::string::npos);
  // Each family's TYPE once, and its samples right after it (none of another family between).
  std::istringstream lines(text);
  std::string line, family;
  std::set<std::string> typed, closed;
  while (std::getline(lines, line)) {
    if (line.rfind("# HELP ", 0) == 0) continue;
    if (line.rfind("# TYPE ", 0) == 0) {
      if (!family.empty()) closed.insert(family);
      family = line.substr(7, line.find(' ', 7) - 7);
      EXPECT_TRUE(typed.insert(family).second) << "second TYPE of " << family;
      continue;
    }
    const std::string name = line.substr(0, line.find_first_of("{ "));
    EXPECT_EQ(name.rfind(family, 0), 0u) << line << " outside its family " << family;
    EXPECT_EQ(closed.count(name), 0u) << line;
  }
  EXPECT_EQ(typed.size(), 14u);  // every family of a collector, once
  // A lone collector's page is the one set without a label.
  EXPECT_EQ(configured.RenderPrometheus(now), RenderPrometheusSets({{"", &configured}}, now));
  EXPECT_EQ(configured.RenderPrometheus(now).find("input="), std::string::npos);
}

}  // namespace
}  // namespace cairn::collect
