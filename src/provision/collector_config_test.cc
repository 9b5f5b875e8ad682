#include "provision/collector_config.h"

#include <gtest/gtest.h>
#include <sys/stat.h>

#include "common/fs.h"
#include "common/testing.h"

namespace cairn::provision {
namespace {

DesiredState Desired(ReaderKind reader) {
  ProvisionSpec spec;
  spec.reader = reader;
  spec.remove_files_when_done = reader == ReaderKind::kUser;
  auto d = BuildDesiredState(spec, "111122223333");
  EXPECT_TRUE(d.ok());
  return *d;
}

TEST(CollectorConfigTest, RoleConfigNamesTheQueueRegionRoleAndIndex) {
  CollectorConfigInput in;
  in.aws_settings["endpoint_url"] = "http://127.0.0.1:4566";
  DesiredState d = Desired(ReaderKind::kRole);
  std::string conf = RenderInputsConf(d, in);
  EXPECT_NE(conf.find("[aws_cloudtrail://cairn]\n"), std::string::npos) << conf;
  EXPECT_NE(conf.find("aws_iam_role = arn:aws:iam::111122223333:role/cairn-cloudtrail-reader\n"), std::string::npos);
  EXPECT_NE(conf.find("sqs_queue = cairn-cloudtrail\n"), std::string::npos);
  EXPECT_NE(conf.find("sqs_queue_region = us-west-2\n"), std::string::npos);
  EXPECT_NE(conf.find("index = aws-cloudtrail\n"), std::string::npos);
  EXPECT_NE(conf.find("remove_files_when_done = 0\n"), std::string::npos);
  EXPECT_EQ(conf.find("key_id"), std::string::npos);
  std::string toml = RenderCairnToml(d, in);
  EXPECT_NE(toml.find("[aws]\nregion = \"us-west-2\"\nendpoint_url = \"http://127.0.0.1:4566\"\n"), std::string::npos)
      << toml;
  EXPECT_NE(toml.find("[[collect.input]]\nname = \"cairn\"\nsqs_queue = \"cairn-cloudtrail\"\n"), std::string::npos);
}

TEST(CollectorConfigTest, SecretGoesOnlyToMode0600FilesAndIsReadBack) {
  std::string dir = cairn::testing::MakeTempDir("provision-config");
  CollectorConfigInput in;
  in.key_id = "AKIAIOSFODNN7EXAMPLE";
  in.secret_key = "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY";
  DesiredState d = Desired(ReaderKind::kUser);
  ASSERT_TRUE(WriteCollectorConfig(dir, d, in).ok());
  for (const char* f : {"/cairn.toml", "/inputs.conf"}) {
    struct stat st;
    ASSERT_EQ(::stat((dir + f).c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 0777, 0600u) << f;
  }
  auto key = ReadExistingKey(dir, "cairn");
  ASSERT_TRUE(key.ok());
  EXPECT_EQ(key->key_id, in.key_id);
  EXPECT_EQ(key->secret_key, in.secret_key);
  auto other = ReadExistingKey(dir, "other-stack");
  ASSERT_TRUE(other.ok());
  EXPECT_TRUE(other->key_id.empty());
  auto none = ReadExistingKey(dir + "/missing", "cairn");
  ASSERT_TRUE(none.ok());
  EXPECT_TRUE(none->key_id.empty());
  auto text = ReadFileToString(FileSystem::Default(), dir + "/inputs.conf", 1 << 20);
  ASSERT_TRUE(text.ok());
  EXPECT_NE(text->find("remove_files_when_done = 1"), std::string::npos);
}

}  // namespace
}  // namespace cairn::provision
