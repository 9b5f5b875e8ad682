#include "common/config.h"

#include <gtest/gtest.h>

namespace cairn {
namespace {

TEST(ConfigTest, TomlEnvAndPrecedence) {
  Config c;
  ASSERT_TRUE(c.LoadTomlString("[store]\nsegment_bytes = \"64MiB\"\nmerge = true\n"
                               "[log]\nlevel = \"debug\"\nregions = [\"us-east-1\", \"eu-west-1\"]\n",
                               "test.toml")
                  .ok());
  EXPECT_EQ(*c.GetBytes("store.segment_bytes", 0), 64ull << 20);
  EXPECT_TRUE(*c.GetBool("store.merge", false));
  EXPECT_EQ(c.GetString("log.regions", ""), "us-east-1,eu-west-1");
  EXPECT_EQ(c.Origin("log.level"), "test.toml");
  c.LoadEnvironment({"CAIRN_LOG_LEVEL=warn", "PATH=/bin", "CAIRN_DATA=/tmp/x"}, {"data"});
  EXPECT_EQ(c.GetString("log.level", ""), "warn");
  EXPECT_EQ(c.Origin("log.level"), "env CAIRN_LOG_LEVEL");
  EXPECT_EQ(c.GetString("data", ""), "/tmp/x");
  c.Set("log.level", "error", "flag --log-level");
  EXPECT_EQ(c.GetString("log.level", ""), "error");
}

TEST(ConfigTest, BadValuesNameTheKey) {
  Config c;
  c.Set("ingest.workers", "many", "flag --workers");
  auto r = c.GetInt("ingest.workers", 1);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.status().message().find("ingest.workers"), std::string::npos);
  EXPECT_NE(r.status().message().find("flag --workers"), std::string::npos);
  EXPECT_EQ(*c.GetInt("missing", 3), 3);
}

TEST(ConfigTest, TomlSyntaxErrorNamesLine) {
  Config c;
  Status s = c.LoadTomlString("a = 1\nb = = 2\n", "bad.toml");
  ASSERT_FALSE(s.ok());
  EXPECT_NE(s.message().find("bad.toml:2"), std::string::npos) << s.message();
}

TEST(ConfigTest, SizesAndDurations) {
  EXPECT_EQ(ParseBytes("4096"), 4096u);
  EXPECT_EQ(ParseBytes("2G"), 2ull << 30);
  EXPECT_EQ(ParseBytes("10 MB"), 10ull << 20);
  EXPECT_FALSE(ParseBytes("lots"));
  EXPECT_EQ(ParseDurationMillis("250ms"), 250);
  EXPECT_EQ(ParseDurationMillis("30"), 30000);
  EXPECT_EQ(ParseDurationMillis("7d"), 7 * 86400000LL);
  EXPECT_FALSE(ParseDurationMillis("5 parsecs"));
}

}  // namespace
}  // namespace cairn
