// Loud failure on the real binary: a search whose time range includes a segment that cannot be
// read (deleted, a flipped byte in its footer, a flipped byte in its event blocks) exits 1
// naming it; with --allow-partial it answers without that segment and says so on stderr and in a
// last JSON line; `cairn index list` and `index info` name it and exit 1. A search whose time
// range leaves the segment out is unaffected. A damaged MANIFEST fails every command that opens
// the data folder, reader or writer, naming the file, and the writer leaves it as it found it.

#include <gtest/gtest.h>

#include <filesystem>
#include <iterator>
#include <set>
#include <string>

#include "cli/cli_util.h"

namespace cairn::testing {
namespace {

class UnreadableSegmentTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() {
    dir_ = new std::string(MakeTempDir("cairn_cli_unreadable"));
    const std::string logs = *dir_ + "/logs";
    CairnRun gen = Cairn("generate --out " + logs +
                         " --events 3000 --seed 11 --days 3 --accounts 1 --regions 1");
    ASSERT_EQ(gen.status, 0) << gen.err;
    CairnRun in = Cairn("--data " + *dir_ + "/pristine ingest --no-progress " + logs + "/AWSLogs");
    ASSERT_EQ(in.status, 0) << in.err;
  }
  static void TearDownTestSuite() {
    std::filesystem::remove_all(*dir_);
    delete dir_;
  }

  // A copy of the ingested data folder in which `damage` is done to one segment of the middle
  // day; returns the copy's path and fills the victim.
  std::string Damaged(const std::string& name, ListedSegment* victim,
                      void (*damage)(const std::string& path)) {
    const std::string data = *dir_ + "/" + name;
    std::filesystem::copy(*dir_ + "/pristine", data, std::filesystem::copy_options::recursive);
    auto segments = ListedSegments(data, "aws-cloudtrail");
    std::set<int64_t> days;
    for (const auto& s : segments) days.insert(s.partition);
    EXPECT_EQ(days.size(), 3u);
    first_day_ = *days.begin();
    // A segment of the middle day, so a time range can leave it out.
    for (const auto& s : segments) {
      if (s.partition == *std::next(days.begin())) *victim = s;
    }
    damage(victim->path);
    return data;
  }

  static void FlipByte(const std::string& path, uint64_t offset) {
    std::string bytes = ReadWholeFile(path);
    ASSERT_LT(offset, bytes.size());
    bytes[offset] ^= 0x20;
    std::ofstream(path, std::ios::binary | std::ios::trunc) << bytes;
  }

  // The whole search must fail naming the segment, and pass with --allow-partial minus exactly
  // its events.
  void ExpectLoudThenPartial(const std::string& data, const ListedSegment& victim,
                             const std::string& spl) {
    CairnRun strict = Cairn("--data " + data + " search --format csv '" + spl + "'");
    EXPECT_EQ(strict.status, 1) << strict.out << strict.err;
    EXPECT_EQ(strict.out, "") << "no partial answer";
    EXPECT_NE(strict.err.find(victim.path), std::string::npos) << strict.err;

    CairnRun partial =
        Cairn("--data " + data + " search --allow-partial --format json '" + spl + "'");
    EXPECT_EQ(partial.status, 0) << partial.err;
    const std::string expected_count = std::to_string(3000 - victim.events);
    EXPECT_EQ(partial.out.find("{\"count\":\"" + expected_count + "\"}\n"), 0u) << partial.out;
    const std::string last =
        partial.out.substr(partial.out.rfind('\n', partial.out.size() - 2) + 1);
    EXPECT_EQ(last.rfind("{\"_warning\":\"segment " + victim.path, 0), 0u) << partial.out;
    EXPECT_NE(partial.err.find("cairn search: warning: segment " + victim.path), std::string::npos)
        << partial.err;
  }

  static std::string* dir_;
  int64_t first_day_ = 0;
};
std::string* UnreadableSegmentTest::dir_ = nullptr;

TEST_F(UnreadableSegmentTest, DeletedSegment) {
  ListedSegment victim;
  const std::string data = Damaged(
      "deleted", &victim, [](const std::string& p) { ASSERT_TRUE(std::filesystem::remove(p)); });
  ExpectLoudThenPartial(data, victim, "index=* | stats count");

  // A time range without the segment's day does not need it.
  CairnRun first_day = Cairn("--data " + data + " search --format csv --latest " +
                             std::to_string((first_day_ + 1) * 86400) + " 'index=* | stats count'");
  EXPECT_EQ(first_day.status, 0) << first_day.err;
  EXPECT_EQ(first_day.err, "");
  // Another index name leaves it out too.
  CairnRun other = Cairn("--data " + data + " search --format csv 'index=other | stats count'");
  EXPECT_EQ(other.status, 0) << other.err;

  CairnRun list = Cairn("--data " + data + " index list");
  EXPECT_EQ(list.status, 1);
  EXPECT_NE(list.err.find("segment " + victim.path + " cannot be read"), std::string::npos)
      << list.err;
  CairnRun info = Cairn("--data " + data + " index info aws-cloudtrail");
  EXPECT_EQ(info.status, 1);
  EXPECT_NE(info.out.find("(1 unreadable)"), std::string::npos) << info.out;
  EXPECT_NE(info.err.find(victim.path), std::string::npos) << info.err;
}

TEST_F(UnreadableSegmentTest, FlippedByteInTheFooter) {
  ListedSegment victim;
  const std::string data = Damaged("footer", &victim, [](const std::string& p) {
    // The footer ends 16 bytes before the end (then the trailer: length, crc, end magic).
    FlipByte(p, std::filesystem::file_size(p) - 20);
  });
  ExpectLoudThenPartial(data, victim, "index=* | stats count");
  CairnRun list = Cairn("--data " + data + " index list");
  EXPECT_EQ(list.status, 1);
  EXPECT_NE(list.err.find(victim.path), std::string::npos) << list.err;
}

TEST_F(UnreadableSegmentTest, FlippedByteInAnEventBlock) {
  ListedSegment victim;
  const std::string data = Damaged("block", &victim, [](const std::string& p) {
    // The raw event blocks come first, after the 16-byte header.
    FlipByte(p, 200);
  });
  // The segment opens (its footer is intact); reading its events fails its block checksum. The
  // eval of _raw makes the search read every event's raw text.
  ExpectLoudThenPartial(data, victim, "index=* | eval n=len(_raw) | stats count");
}

TEST_F(UnreadableSegmentTest, FlippedByteInTheManifest) {
  ListedSegment victim;
  const std::string data = Damaged("manifest", &victim, [](const std::string&) {});
  const std::string manifest = data + "/indexes/aws-cloudtrail/MANIFEST";
  FlipByte(manifest, std::filesystem::file_size(manifest) / 2);
  const std::string damaged = ReadWholeFile(manifest);
  // Readers: nothing can be answered, with or without --allow-partial (the manifest lists
  // every segment of the index).
  for (const std::string& command :
       {std::string("search --format csv 'index=* | stats count'"),
        std::string("search --allow-partial --format csv 'index=* | stats count'"),
        std::string("index list"), std::string("index info aws-cloudtrail"),
        std::string("index check")}) {
    CairnRun run = Cairn("--data " + data + " " + command);
    EXPECT_NE(run.status, 0) << command << ": " << run.out;
    EXPECT_EQ(run.out.find("count"), std::string::npos) << command << ": " << run.out;
    EXPECT_NE(run.err.find(manifest), std::string::npos) << command << ": " << run.err;
  }
  // A writer fails the same way and neither repairs nor replaces the manifest.
  CairnRun ingest = Cairn("--data " + data + " ingest --no-progress " + *dir_ + "/logs/AWSLogs");
  EXPECT_NE(ingest.status, 0) << ingest.out;
  EXPECT_NE(ingest.err.find(manifest), std::string::npos) << ingest.err;
  EXPECT_EQ(ReadWholeFile(manifest), damaged);
}

}  // namespace
}  // namespace cairn::testing
