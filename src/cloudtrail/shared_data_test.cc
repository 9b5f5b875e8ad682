// The readers over every real file in ../shared/data/cloudtrail (and the
// notifications, which must not be mistaken for log files). Record counts are
// computed independently here with a simdjson DOM parse of the whole file, then
// compared with what the streaming reader emits.

#include <gtest/gtest.h>
#include <simdjson.h>

#include <algorithm>
#include <map>

#include "cloudtrail/reader.h"
#include "cloudtrail/test_util.h"
#include "common/fs.h"
#include "common/testing.h"

namespace cairn::cloudtrail {
namespace {

std::string DataDir(const std::string& sub) {
  return JoinPath(cairn::testing::SharedDataDir(), sub);
}

// Every regular file below `dir`, recursively, with the given suffix.
std::vector<std::string> ListFiles(const std::string& dir, const std::string& suffix) {
  std::vector<std::string> out;
  auto entries = FileSystem::Default()->ListDir(dir);
  if (!entries.ok()) return out;
  for (const DirEntry& e : *entries) {
    std::string path = JoinPath(dir, e.name);
    if (e.is_dir) {
      auto sub = ListFiles(path, suffix);
      out.insert(out.end(), sub.begin(), sub.end());
    } else if (path.size() >= suffix.size() &&
               path.compare(path.size() - suffix.size(), suffix.size(), suffix) == 0) {
      out.push_back(path);
    }
  }
  std::sort(out.begin(), out.end());
  return out;
}

struct FileRead {
  Result<FileSummary> summary = Status(StatusCode::kInternal, "not run");
  std::vector<Event> events;
};

FileRead Read(const std::string& path, const ReaderOptions& options = {}) {
  FileRead r;
  r.summary = ReadEventsFromPath(FileSystem::Default(), path, options, [&](Event&& e) {
    r.events.push_back(std::move(e));
    return Status::Ok();
  });
  return r;
}

// The number of elements of the file's "Records" array by a whole-document DOM
// parse, or -1.
int64_t DomRecordCount(const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.load(path).get(doc) != simdjson::SUCCESS) return -1;
  simdjson::dom::array records;
  if (doc["Records"].get_array().get(records) != simdjson::SUCCESS) return -1;
  return static_cast<int64_t>(records.size());
}

// Each event's raw bytes must be one JSON object with the event's identity in
// it.
void CheckEvent(const Event& e, const std::string& path) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  ASSERT_EQ(parser.parse(e.raw.view()).get(doc), simdjson::SUCCESS) << path;
  std::string_view time;
  ASSERT_EQ(doc["eventTime"].get_string().get(time), simdjson::SUCCESS) << path;
  EXPECT_GT(e.time_ms, 0);
  std::string_view id;
  if (doc["eventID"].get_string().get(id) == simdjson::SUCCESS) {
    EXPECT_EQ(e.event_id, id);
  } else {
    EXPECT_EQ(e.event_id.substr(0, 2), "h:");
  }
  EXPECT_EQ(e.source, path);
}

TEST(SharedDataTest, InvictusPlainAndGzippedAgreeFileByFile) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::vector<std::string> plain = ListFiles(DataDir("cloudtrail/invictus/CloudTrail"), ".json");
  std::vector<std::string> gz = ListFiles(DataDir("cloudtrail/invictus/s3_layout"), ".json.gz");
  ASSERT_EQ(plain.size(), 55u);
  ASSERT_EQ(gz.size(), 55u);
  std::map<std::string, std::string> gz_by_name;
  for (const std::string& path : gz) gz_by_name[BaseName(path)] = path;

  uint64_t total_plain = 0, total_gz = 0;
  for (const std::string& path : plain) {
    SCOPED_TRACE(path);
    int64_t expected = DomRecordCount(path);
    ASSERT_GT(expected, 0);
    FileRead a = Read(path);
    ASSERT_TRUE(a.summary.ok()) << a.summary.status().ToString();
    EXPECT_EQ(a.summary->shape, FileShape::kRecords);
    EXPECT_FALSE(a.summary->gzipped);
    EXPECT_EQ(a.events.size(), static_cast<size_t>(expected));
    for (const Event& e : a.events) CheckEvent(e, path);

    auto it = gz_by_name.find(BaseName(path) + ".gz");
    ASSERT_NE(it, gz_by_name.end()) << "no gzipped twin";
    FileRead b = Read(it->second);
    ASSERT_TRUE(b.summary.ok()) << b.summary.status().ToString();
    EXPECT_TRUE(b.summary->gzipped);
    EXPECT_EQ(b.summary->shape, FileShape::kRecords);
    EXPECT_EQ(b.summary->decoded_bytes, a.summary->decoded_bytes);
    EXPECT_LT(b.summary->input_bytes, b.summary->decoded_bytes);
    testing::ExpectSameEvents(a.events, b.events, /*same_source=*/false);
    total_plain += a.events.size();
    total_gz += b.events.size();
  }
  EXPECT_EQ(total_plain, 2900u);
  EXPECT_EQ(total_gz, 2900u);
}

// The whole-file fast path and the streaming reader give the same events, summary and errors for
// every file of the shared data; the fast path is taken for every well-formed Records file.
TEST(SharedDataTest, WholeFileAndStreamingReadsAgree) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::vector<std::string> files = ListFiles(DataDir("cloudtrail"), ".json");
  std::vector<std::string> gz = ListFiles(DataDir("cloudtrail"), ".json.gz");
  files.insert(files.end(), gz.begin(), gz.end());
  ASSERT_GE(files.size(), 110u);
  ReaderOptions streaming;
  streaming.whole_file_bytes = 0;
  size_t fast_files = 0, records_files = 0, events = 0;
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    FileRead whole = Read(path);
    FileRead stream = Read(path, streaming);
    ASSERT_EQ(whole.summary.ok(), stream.summary.ok());
    EXPECT_FALSE(stream.summary.ok() && stream.summary->whole_file);
    if (!whole.summary.ok()) {
      EXPECT_EQ(whole.summary.status().ToString(), stream.summary.status().ToString());
      continue;
    }
    EXPECT_EQ(whole.summary->shape, stream.summary->shape);
    EXPECT_EQ(whole.summary->events, stream.summary->events);
    EXPECT_EQ(whole.summary->insight_events, stream.summary->insight_events);
    EXPECT_EQ(whole.summary->decoded_bytes, stream.summary->decoded_bytes);
    EXPECT_EQ(whole.summary->input_bytes, stream.summary->input_bytes);
    EXPECT_EQ(whole.summary->digest_json, stream.summary->digest_json);
    if (whole.summary->shape == FileShape::kRecords) {
      ++records_files;
      if (whole.summary->whole_file) ++fast_files;
    }
    testing::ExpectSameEvents(whole.events, stream.events);
    for (size_t i = 0; i < whole.events.size(); ++i) {
      // Views into the whole file or into the streaming arenas.
      EXPECT_TRUE(whole.events[i].raw.padded());
      EXPECT_TRUE(stream.events[i].raw.padded());
      EXPECT_EQ(whole.events[i].source, path);
    }
    events += whole.events.size();
  }
  EXPECT_GE(records_files, 110u);
  EXPECT_EQ(fast_files, records_files);
  EXPECT_GE(events, 5800u);
}

TEST(SharedDataTest, AwsDocsExamplesReadAsTheirShape) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::vector<std::string> files = ListFiles(DataDir("cloudtrail/aws-docs"), ".json");
  ASSERT_GE(files.size(), 25u);
  int records_files = 0, events = 0, insights = 0, digests = 0, sns = 0;
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    std::string name = BaseName(path);
    FileRead r = Read(path);
    if (name.find("__records_file") != std::string::npos) {
      ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
      EXPECT_EQ(r.summary->shape, FileShape::kRecords);
      EXPECT_EQ(static_cast<int64_t>(r.events.size()), DomRecordCount(path));
      for (const Event& e : r.events) CheckEvent(e, path);
      ++records_files;
    } else if (name.find("__insight") != std::string::npos) {
      ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
      EXPECT_EQ(r.summary->shape, FileShape::kSingleEvent);
      ASSERT_EQ(r.events.size(), 1u);
      EXPECT_EQ(r.events[0].sourcetype, kSourcetypeInsight);
      EXPECT_EQ(r.summary->insight_events, 1u);
      EXPECT_EQ(r.events[0].account, "838185438692");
      ++insights;
    } else if (name.find("__digest") != std::string::npos) {
      ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
      EXPECT_EQ(r.summary->shape, FileShape::kDigest);
      EXPECT_TRUE(r.events.empty());
      auto text = ReadFileToString(FileSystem::Default(), path);
      ASSERT_TRUE(text.ok());
      // The digest document is kept whole, byte for byte (the verifier hashes
      // and signs it).
      EXPECT_NE(text->find(r.summary->digest_json), std::string::npos);
      EXPECT_NE(r.summary->digest_json.find("digestStartTime"), std::string::npos);
      ++digests;
    } else if (name.find("__sns") != std::string::npos) {
      // CloudTrail's SNS "new log file" notification: not events, a pointer to
      // files.
      ASSERT_FALSE(r.summary.ok());
      EXPECT_EQ(r.summary.status().code(), StatusCode::kInvalidArgument);
      EXPECT_NE(r.summary.status().message().find("SNS notification"), std::string::npos);
      EXPECT_NE(r.summary.status().message().find(path), std::string::npos);
      ++sns;
    } else if (name == "cloudtrail-event-reference-user-identity__5__event.json") {
      // A documentation fragment: only a userIdentity block, no eventTime. Not
      // an event.
      ASSERT_FALSE(r.summary.ok());
      EXPECT_NE(r.summary.status().message().find("no \"eventTime\""), std::string::npos)
          << r.summary.status().message();
      ++events;
    } else if (name.find("__event") != std::string::npos) {
      ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
      EXPECT_EQ(r.summary->shape, FileShape::kSingleEvent);
      ASSERT_EQ(r.events.size(), 1u);
      CheckEvent(r.events[0], path);
      EXPECT_EQ(r.events[0].sourcetype, kSourcetypeEvents);
      EXPECT_FALSE(r.events[0].account.empty());
      ++events;
    } else {
      ADD_FAILURE() << "unexpected file " << name;
    }
  }
  EXPECT_EQ(records_files, 8);
  EXPECT_EQ(insights, 1);
  EXPECT_EQ(digests, 2);
  EXPECT_EQ(sns, 2);
  EXPECT_EQ(events, 13);

  // The Records example with Insights events carries the insight sourcetype per
  // event.
  FileRead nine =
      Read(DataDir("cloudtrail/aws-docs/"
                   "cloudtrail-log-file-examples__9__records_file.json"));
  ASSERT_TRUE(nine.summary.ok());
  EXPECT_EQ(nine.summary->insight_events, 2u);
}

TEST(SharedDataTest, DigestFolderFilesAreDigests) {
  CAIRN_REQUIRE_SHARED_DATA();
  for (const std::string& path : ListFiles(DataDir("digest"), "__digest.json")) {
    SCOPED_TRACE(path);
    FileRead r = Read(path);
    ASSERT_TRUE(r.summary.ok()) << r.summary.status().ToString();
    EXPECT_EQ(r.summary->shape, FileShape::kDigest);
  }
}

TEST(SharedDataTest, MalformedFileIsRejectedWithItsOffset) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::string path = DataDir("cloudtrail/malformed/concatenated-objects.json");
  FileRead r = Read(path);
  ASSERT_FALSE(r.summary.ok());
  EXPECT_EQ(r.summary.status().code(), StatusCode::kInvalidArgument);
  const std::string& msg = r.summary.status().message();
  EXPECT_NE(msg.find(path), std::string::npos) << msg;
  EXPECT_NE(msg.find("pasted together"), std::string::npos) << msg;
  // Byte 3327 is the '{' of the second object, where a ',' or ']' had to be
  // (python's json module reports the same position: "Expecting ',' delimiter:
  // line 112 column 1 (char 3327)").
  EXPECT_NE(msg.find("at byte 3327"), std::string::npos) << msg;
  // The one record before the bad spot was delivered; the error stops the file
  // there.
  EXPECT_EQ(r.events.size(), 1u);
}

TEST(SharedDataTest, NotificationsAreNotLogFiles) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::vector<std::string> files = ListFiles(DataDir("notifications"), ".json");
  ASSERT_GE(files.size(), 10u);
  for (const std::string& path : files) {
    SCOPED_TRACE(path);
    FileRead r = Read(path);
    ASSERT_FALSE(r.summary.ok()) << "read " << r.events.size() << " events";
    EXPECT_EQ(r.summary.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(r.events.empty()) << r.summary.status().message();
  }
}

}  // namespace
}  // namespace cairn::cloudtrail
