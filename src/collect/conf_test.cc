#include "collect/conf.h"

#include <gtest/gtest.h>

#include "collect/site_conf_testdata.h"
#include "common/fs.h"
#include "common/testing.h"

namespace cairn::collect {
namespace {

TEST(ConfTest, SiteFileParsesAsWritten) {
  auto conf = ParseConf(kSiteConf, "inputs.conf");
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  CollectConfig out;
  ASSERT_TRUE(InputsFromConf(*conf, &out).ok());
  EXPECT_TRUE(out.warnings.empty()) << out.warnings[0];
  ASSERT_EQ(out.inputs.size(), 1u);
  const InputConfig& in = out.inputs[0];
  EXPECT_EQ(in.name, "its-aws-idg-cloudtrail");
  EXPECT_EQ(in.type, "aws_cloudtrail");
  EXPECT_EQ(in.origin, "inputs.conf:1");
  EXPECT_FALSE(in.exclude_describe_events);
  EXPECT_EQ(in.index, "aws-cloudtrail");
  EXPECT_EQ(in.interval_ms, 1000);
  EXPECT_FALSE(in.remove_files_when_done);
  EXPECT_EQ(in.key_id, "key");
  EXPECT_EQ(in.secret_key, "secret");
  EXPECT_EQ(in.sqs_queue, "its-aws-idg-cloudtrail");
  EXPECT_EQ(in.sqs_queue_region, "us-west-2");
  EXPECT_EQ(in.sourcetype, "aws:cloudtrail");
  EXPECT_EQ(in.sourcetype_as_written, "aws-cloudtrail");
}

TEST(ConfTest, KeysBeforeAnyStanzaAreDefaultsForEveryStanza) {
  constexpr char kText[] =
      "# Puppet managed\n"
      "exclude_describe_events = 0\n"
      "   interval = 5\n"
      "[aws_cloudtrail]\n"
      "index = typed\n"
      "[aws_cloudtrail://a]\n"
      "sqs_queue = qa\n"
      "[aws_sqs_based_s3://b]\n"
      "sqs_queue_url = https://sqs.eu-west-1.amazonaws.com/123456789012/qb\n"
      "interval = 7\n"
      "blacklist = ^(?:Describe|List)\n"
      "exclude_describe_events = 1\n"
      "excluded_events_index = aws-excluded\n"
      "s3_file_decoder = CloudTrail\n";
  auto conf = ParseConf(kText, "x.conf");
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  CollectConfig out;
  ASSERT_TRUE(InputsFromConf(*conf, &out).ok());
  ASSERT_EQ(out.inputs.size(), 2u);
  EXPECT_EQ(out.inputs[0].name, "a");
  EXPECT_FALSE(out.inputs[0].exclude_describe_events);  // [default] overrides Splunk's default of 1
  EXPECT_EQ(out.inputs[0].interval_ms, 5000);
  EXPECT_EQ(out.inputs[0].index, "typed");
  EXPECT_EQ(out.inputs[1].name, "b");
  EXPECT_EQ(out.inputs[1].index, "aws-cloudtrail");  // type defaults are per type
  EXPECT_EQ(out.inputs[1].interval_ms, 7000);
  EXPECT_TRUE(out.inputs[1].exclude_describe_events);
  EXPECT_EQ(out.inputs[1].ExclusionPattern(), "^(?:Describe|List)");
  EXPECT_EQ(out.inputs[1].excluded_events_index, "aws-excluded");
}

TEST(ConfTest, SplunkDefaultExcludesDescribeEvents) {
  auto conf = ParseConf("[aws_cloudtrail://x]\nsqs_queue = q\n", "i.conf");
  ASSERT_TRUE(conf.ok());
  CollectConfig out;
  ASSERT_TRUE(InputsFromConf(*conf, &out).ok());
  EXPECT_TRUE(out.inputs[0].exclude_describe_events);
  EXPECT_EQ(out.inputs[0].ExclusionPattern(), "^(?:Describe|List|Get)");
}

TEST(ConfTest, ContinuationCommentsAndUnknownKeys) {
  constexpr char kText[] =
      "[aws_cloudtrail://x]\n"
      "sqs_queue = a\\\nb\n"
      "# a comment = not a key\n"
      "frobnicate = 1\n"
      "sourcetype = my#type\n";
  auto conf = ParseConf(kText, "c.conf");
  ASSERT_TRUE(conf.ok()) << conf.status().ToString();
  CollectConfig out;
  ASSERT_TRUE(InputsFromConf(*conf, &out).ok());
  EXPECT_EQ(out.inputs[0].sqs_queue, "a\nb");
  EXPECT_EQ(out.inputs[0].sourcetype, "my#type");
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_NE(out.warnings[0].find("c.conf:5"), std::string::npos) << out.warnings[0];
  EXPECT_NE(out.warnings[0].find("frobnicate"), std::string::npos);
}

TEST(ConfTest, BadValuesNameFileLineAndKeyButNeverTheSecret) {
  struct Case {
    const char* text;
    const char* expect;
  } cases[] = {
      {"[aws_cloudtrail://x]\nsqs_queue = q\nexclude_describe_events = maybe\n",
       "b.conf:3: key exclude_describe_events"},
      {"[aws_cloudtrail://x]\nsqs_queue = q\ninterval = soon\n", "b.conf:3: key interval"},
      {"[aws_cloudtrail://x]\nsqs_queue = q\nindex = Has Spaces\n", "b.conf:3: key index"},
      {"[aws_cloudtrail://x]\nsqs_queue = q\nblacklist = ^(Describe\n", "b.conf:3: key blacklist"},
      {"[aws_cloudtrail://x]\nsqs_queue = q\nsqs_queue_region = mars\n",
       "b.conf:3: key sqs_queue_region"},
      {"[aws_cloudtrail://x]\nsqs_queue = q\nsecret_key = hunter2\n", "key_id and secret_key"},
      {"[aws_cloudtrail://x]\nsqs_queue = q\naws_iam_role = reader\n",
       "b.conf:3: key aws_iam_role"},
      {"[aws_cloudtrail://x]\nindex = a\n", "has no sqs_queue"},
      {"[aws_cloudtrail://x\n", "b.conf:1"},
      {"[aws_cloudtrail://x]\njust words\n", "b.conf:2"},
  };
  for (const auto& c : cases) {
    auto conf = ParseConf(c.text, "b.conf");
    Status s = conf.status();
    if (conf.ok()) {
      CollectConfig out;
      s = InputsFromConf(*conf, &out);
    }
    ASSERT_FALSE(s.ok()) << c.text;
    EXPECT_NE(s.message().find(c.expect), std::string::npos) << s.message();
    EXPECT_EQ(s.message().find("hunter2"), std::string::npos) << s.message();
  }
}

TEST(ConfTest, TomlInputsAndSettings) {
  constexpr char kToml[] =
      "[collect]\n"
      "workers = 8\n"
      "visibility_timeout = \"5m\"\n"
      "metrics = \"127.0.0.1:0\"\n"
      "[[collect.input]]\n"
      "name = \"main\"\n"
      "sqs_queue = \"trail-queue\"\n"
      "sqs_queue_region = \"us-west-2\"\n"
      "sourcetype = \"aws-cloudtrail\"\n"
      "exclude_describe_events = true\n"
      "interval = 2\n"
      "[[collect.input]]\n"
      "sqs_queue = \"other\"\n"
      "bogus = 1\n";
  CollectConfig out;
  Status s = InputsFromToml(kToml, "cairn.toml", &out);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_EQ(out.settings.workers, 8);
  EXPECT_EQ(out.settings.visibility_timeout_s, 300);
  EXPECT_EQ(out.settings.metrics_listen, "127.0.0.1:0");
  ASSERT_EQ(out.inputs.size(), 2u);
  EXPECT_EQ(out.inputs[0].name, "main");
  EXPECT_TRUE(out.inputs[0].exclude_describe_events);
  EXPECT_EQ(out.inputs[0].interval_ms, 2000);
  EXPECT_EQ(out.inputs[0].sourcetype, "aws:cloudtrail");
  EXPECT_EQ(out.inputs[1].name, "input2");
  EXPECT_FALSE(out.inputs[1].exclude_describe_events);
  ASSERT_EQ(out.warnings.size(), 1u);
  EXPECT_NE(out.warnings[0].find("cairn.toml:14"), std::string::npos) << out.warnings[0];

  CollectConfig bad;
  s = InputsFromToml("[collect]\nworkers = 0\n", "c.toml", &bad);
  EXPECT_NE(s.message().find("c.toml:2: key collect.workers"), std::string::npos) << s.message();
}

TEST(ConfTest, HashLogsIsOnUnlessTurnedOff) {
  CollectConfig on;
  ASSERT_TRUE(InputsFromToml("[collect]\nworkers = 2\n", "c.toml", &on).ok());
  EXPECT_TRUE(on.settings.hash_logs);
  CollectConfig off;
  Status s = InputsFromToml("[collect]\nhash_logs = false\n", "c.toml", &off);
  ASSERT_TRUE(s.ok()) << s.ToString();
  EXPECT_FALSE(off.settings.hash_logs);
  CollectConfig bad;
  s = InputsFromToml("[collect]\nhash_logs = \"sometimes\"\n", "c.toml", &bad);
  EXPECT_NE(s.message().find("c.toml:2: key collect.hash_logs"), std::string::npos) << s.message();
}

TEST(ConfTest, DetectsFormat) {
  EXPECT_TRUE(LooksLikeSplunkConf("/etc/inputs.conf", ""));
  EXPECT_FALSE(LooksLikeSplunkConf("cairn.toml", "[aws_cloudtrail://x]"));
  EXPECT_TRUE(LooksLikeSplunkConf("site-inputs", "[aws_cloudtrail://x]\nindex = a\n"));
  EXPECT_FALSE(LooksLikeSplunkConf("site", "[collect]\nworkers = 2\n"));
}

TEST(ConfTest, LoadCollectConfigReadsTheSiteFile) {
  std::string dir = cairn::testing::MakeTempDir();
  std::string path = dir + "/inputs.conf";
  ASSERT_TRUE(WriteFileAtomic(FileSystem::Default(), path, kSiteConf).ok());
  Config global;
  global.Set("collect.workers", "3", "flag");
  auto cfg = LoadCollectConfig(path, global);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ(cfg->inputs.size(), 1u);
  EXPECT_EQ(cfg->settings.workers, 3);
  FileSystem::Default()->RemoveAll(dir);
}

}  // namespace
}  // namespace cairn::collect
