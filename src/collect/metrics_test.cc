#include "collect/metrics.h"

#include <gtest/gtest.h>

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

}  // namespace
}  // namespace cairn::collect
