// `cairn index merge` on the real binary: several ingests make several segments of one day; the
// merge leaves one, with every event once, a clean check and the same search answers.

#include <gtest/gtest.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "common/testing.h"

namespace {

struct Output {
  int status = -1;
  std::string text;
};

Output Cairn(const std::string& args) {
  auto r = cairn::testing::RunCommand(std::string(CAIRN_BINARY_DIR) + "/src/cli/cairn " + args);
  return Output{r.status, r.output};
}

std::string Field(const std::string& info, const std::string& name) {
  size_t at = info.find(name + ":");
  if (at == std::string::npos) return "";
  size_t begin = info.find_first_not_of(' ', at + name.size() + 1);
  return info.substr(begin, info.find_first_of(" \n", begin) - begin);
}

TEST(IndexCli, MergeLeavesOneSegmentWithEveryEventOnce) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_cli_index");
  const std::string logs = dir + "/logs", data = dir + "/data";
  Output gen = Cairn("generate --out " + logs + " --events 3000 --seed 7 --days 1 --accounts 1 --regions 1");
  ASSERT_EQ(gen.status, 0) << gen.text;
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(logs)) {
    if (e.path().extension() == ".gz") files.push_back(e.path().string());
  }
  ASSERT_GE(files.size(), 4u);
  // Four ingests of disjoint files: four commits, four segments of the one day (the background
  // merger of the later ingests may already have merged some of them).
  for (size_t part = 0; part < 4; ++part) {
    std::string args = "--data " + data + " ingest --no-progress";
    for (size_t i = part; i < files.size(); i += 4) args += " " + files[i];
    Output in = Cairn(args);
    ASSERT_EQ(in.status, 0) << in.text;
  }
  Output before = Cairn("--data " + data + " index info aws-cloudtrail");
  ASSERT_EQ(before.status, 0) << before.text;
  EXPECT_EQ(Field(before.text, "events"), "3000");
  const std::string segments = Field(before.text, "segments");
  ASSERT_GE(std::stoi(segments), 2) << before.text;
  Output count_before = Cairn("--data " + data + " search --format csv 'eventName=Get* | stats count'");
  ASSERT_EQ(count_before.status, 0) << count_before.text;

  Output merge = Cairn("--data " + data + " index merge");
  ASSERT_EQ(merge.status, 0) << merge.text;
  EXPECT_NE(merge.text.find("aws-cloudtrail: " + segments + " segments -> 1,"), std::string::npos)
      << merge.text;

  Output after = Cairn("--data " + data + " index info aws-cloudtrail");
  EXPECT_EQ(Field(after.text, "events"), "3000");
  EXPECT_EQ(Field(after.text, "segments"), "1");
  Output check = Cairn("--data " + data + " index check");
  EXPECT_EQ(check.status, 0) << check.text;
  Output count_after = Cairn("--data " + data + " search --format csv 'eventName=Get* | stats count'");
  EXPECT_EQ(count_after.text, count_before.text);
  Output dc = Cairn("--data " + data + " search --format csv 'sourcetype=aws:cloudtrail | stats dc(eventID) as n'");
  EXPECT_EQ(dc.text, "n\n3000\n") << dc.text;

  Output unknown = Cairn("--data " + data + " index merge no-such-index");
  EXPECT_NE(unknown.status, 0);
  EXPECT_NE(unknown.text.find("no-such-index"), std::string::npos) << unknown.text;
  std::filesystem::remove_all(dir);
}

}  // namespace
