#include "cloudtrail/reader.h"

#include <fmt/format.h>
#include <gtest/gtest.h>
#include <openssl/sha.h>
#include <sys/resource.h>
#include <sys/stat.h>

#include <cstring>
#include <thread>

#include "cloudtrail/gzip.h"
#include "cloudtrail/memory_file.h"
#include "cloudtrail/test_util.h"
#include "common/hex.h"
#include "common/testing.h"
#include "common/time_util.h"

namespace cairn::cloudtrail {
namespace {

using testing::Gzip;
using testing::ReadOutcome;
using testing::ReadString;

// A compact event; `extra` is spliced in before the closing brace.
std::string Ev(int i, const std::string& extra = "") {
  return "{\"eventVersion\":\"1.08\",\"eventTime\":\"2023-07-10T12:00:0" + std::to_string(i % 10) +
         "Z\",\"eventID\":\"id-" + std::to_string(i) +
         "\",\"recipientAccountId\":\"111122223333\",\"eventName\":"
         "\"GetObject\"" +
         extra + "}";
}

// Reads `text` with several source read sizes and checks that they all agree:
// the refill paths (a record, key, escape or UTF-8 sequence split across reads)
// must not change the result.
ReadOutcome ReadAllWays(const std::string& text, const std::string& source = "mem.json",
                        ReaderOptions options = {}) {
  ReadOutcome whole = ReadString(text, source, options);
  for (size_t max_read : {size_t{1}, size_t{3}, size_t{64}}) {
    ReadOutcome piece = ReadString(text, source, options, max_read);
    EXPECT_EQ(piece.summary.ok(), whole.summary.ok()) << "max_read " << max_read;
    if (!whole.summary.ok()) {
      EXPECT_EQ(piece.summary.status().message(), whole.summary.status().message());
      continue;
    }
    EXPECT_EQ(piece.events.size(), whole.events.size());
    for (size_t i = 0; i < std::min(piece.events.size(), whole.events.size()); ++i) {
      EXPECT_EQ(piece.events[i].raw, whole.events[i].raw);
      EXPECT_EQ(piece.events[i].event_id, whole.events[i].event_id);
    }
  }
  return whole;
}

std::string ErrorOf(const ReadOutcome& r) {
  return r.summary.ok() ? std::string("(no error)") : r.summary.status().message();
}

bool Contains(const std::string& s, const std::string& part) {
  return s.find(part) != std::string::npos;
}

TEST(ReaderTest, RecordsFileKeepsRawBytesExactly) {
  // Odd whitespace, escapes and non-ASCII must survive byte for byte: no
  // re-serialisation.
  std::string r0 =
      "{ \"eventTime\" : "
      "\"2023-07-10T12:20:01Z\",\n\t\"eventID\":\"a\\u0062c\", \"note\": "
      "\"caf\u00e9 \\\"q\\\" \\\\ \\/ \\ud83d\\ude00\",\"n\":[1, 2.5e3 "
      ",{}],\"t\":true }";
  std::string r1 = Ev(1);
  std::string text = "  {\"Records\" :[\r\n" + r0 + " ,\n " + r1 + "\n]}\n\n";
  ReadOutcome r = ReadAllWays(text, "s3://b/k.json");
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  EXPECT_EQ(r.summary->shape, FileShape::kRecords);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].raw, r0);
  EXPECT_EQ(r.events[1].raw, r1);
  EXPECT_EQ(r.events[0].event_id, "abc");  // the identity is the unescaped value
  EXPECT_EQ(r.events[0].time_ms, *ParseIso8601Millis("2023-07-10T12:20:01Z"));
  EXPECT_EQ(r.events[0].source, "s3://b/k.json");
  EXPECT_EQ(r.events[0].sourcetype, kSourcetypeEvents);
  EXPECT_EQ(r.summary->events, 2u);
  EXPECT_EQ(r.summary->decoded_bytes, text.size());
  EXPECT_EQ(r.summary->input_bytes, text.size());
  EXPECT_FALSE(r.summary->gzipped);
}

// The whole-file path takes exactly the well-formed Records documents and gives what the
// streaming reader gives; every other shape and every error falls back to the streaming reader.
TEST(ReaderTest, WholeFilePathAgreesWithStreamingOnEdgeShapes) {
  struct Case {
    std::string text;
    bool whole;  // expected to take the whole-file path
  };
  const std::string records = "[" + Ev(1) + ",\n  " + Ev(2, ",\"tags\":[{\"k\":\"},{\"}]") + "]";
  std::vector<Case> cases = {
      {"{\"Records\":" + records + "}", true},
      {"\xEF\xBB\xBF  {\"Records\" : " + records + " }\n", true},
      {"{\"a\":{\"Records\":[]},\"Records\":" + records + ",\"z\":[1,{\"b\":null}]}", true},
      {"{\"Records\":[]}", true},
      {"{\"Rec\\u006frds\":" + records + "}", false},           // an escaped name is not "Records"
      {"{\"Records\":" + records + ",\"Records\":[]}", false},  // two arrays: an error
      {"{\"Records\":" + records + ",\"Events\":[]}", false},
      {"{\"Records\":" + records + "} {\"Records\":[]}", false},  // pasted documents
      {"{\"Records\":" + records + "}\n" + Ev(3), false},
      {"{\"Records\":[" + Ev(1) + ",7]}", false},
      {"{\"Records\":[" + Ev(1) + ",{\"eventName\":\"x\"}]}", false},  // no eventTime
      {"{\"Records\":[" + Ev(1, ",\"eventSource\":\"aws:s3\"") + "]}", false},
      {"{\"Records\":[" + Ev(1) + ",{\"eventTime\":\"yesterday\"}]}", false},
      {"{\"Records\":[" + Ev(1) + "," + Ev(2) + "]", false},  // truncated
      {"{\"Records\":[" + Ev(1) + "," + Ev(2, ",\"x\":tru") + "]}", false},
      {"{\"Records\":[" + Ev(1) + "," + Ev(2, ",\"x\":\"\xff\"") + "]}", false},
      {"[" + Ev(1) + "]", false},
      {Ev(1) + "\n" + Ev(2), false},
      {"{\"Records\":{}}", false},
      {"{}", false},
  };
  ReaderOptions streaming;
  streaming.whole_file_bytes = 0;
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text);
    for (bool gz : {false, true}) {
      std::string bytes = gz ? testing::Gzip(c.text) : c.text;
      ReadOutcome whole = ReadString(bytes, "case.json", ReaderOptions(), 1000);
      ReadOutcome stream = ReadString(bytes, "case.json", streaming, 1000);
      ASSERT_EQ(whole.summary.ok(), stream.summary.ok());
      if (!whole.summary.ok()) {
        EXPECT_EQ(whole.summary.status().ToString(), stream.summary.status().ToString());
        EXPECT_FALSE(c.whole);
      } else {
        EXPECT_EQ(whole.summary->whole_file, c.whole && !std::getenv("CAIRN_READER_STREAMING"));
        EXPECT_EQ(whole.summary->shape, stream.summary->shape);
        EXPECT_EQ(whole.summary->decoded_bytes, stream.summary->decoded_bytes);
        EXPECT_EQ(whole.summary->input_bytes, stream.summary->input_bytes);
      }
      testing::ExpectSameEvents(whole.events, stream.events);
      for (const Event& e : whole.events) EXPECT_EQ(e.source, "case.json");
    }
  }
  // A file larger than whole_file_bytes streams, with the bytes already read replayed.
  std::string big = "{\"Records\":[";
  for (int i = 0; i < 400; ++i) big += (i ? "," : "") + Ev(i);
  big += "]}";
  ReaderOptions small;
  small.whole_file_bytes = 4096;
  ReadOutcome replayed = ReadString(big, "big.json", small, 777);
  ASSERT_TRUE(replayed.summary.ok()) << replayed.summary.status().ToString();
  EXPECT_FALSE(replayed.summary->whole_file);
  ASSERT_EQ(replayed.events.size(), 400u);
  EXPECT_EQ(replayed.events[399].raw, Ev(399));
  EXPECT_EQ(replayed.summary->decoded_bytes, big.size());
}

TEST(ReaderTest, RecordsNeedNotBeTheFirstKey) {
  std::string text =
      "{\"meta\":{\"a\":[1,{\"Records\":5}]},\"s\":\"Records\","
      "\"n\":-1.5,\"Records\":[" +
      Ev(1) + "," + Ev(2) + "],\"after\":null}";
  ReadOutcome r = ReadAllWays(text);
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  EXPECT_EQ(r.summary->shape, FileShape::kRecords);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[1].raw, Ev(2));
}

TEST(ReaderTest, EmptyInputsAndEmptyRecords) {
  for (std::string text : {std::string(""), std::string(" \n\t "), std::string("\xEF\xBB\xBF")}) {
    ReadOutcome r = ReadString(text);
    ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
    EXPECT_EQ(r.summary->shape, FileShape::kEmpty);
  }
  ReadOutcome records = ReadString("{\"Records\":[]}");
  ASSERT_TRUE(records.summary.ok());
  EXPECT_EQ(records.summary->shape, FileShape::kRecords);
  EXPECT_EQ(records.summary->events, 0u);
  ReadOutcome array = ReadString("[ ]");
  ASSERT_TRUE(array.summary.ok());
  EXPECT_EQ(array.summary->shape, FileShape::kArray);
}

TEST(ReaderTest, TopLevelArrayOfRecords) {
  std::string text = "\xEF\xBB\xBF[" + Ev(1) + ",\n" + Ev(2) + ",\n" + Ev(3) + "]";
  ReadOutcome r = ReadAllWays(text);
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  EXPECT_EQ(r.summary->shape, FileShape::kArray);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[2].raw, Ev(3));
  EXPECT_EQ(r.events[2].event_id, "id-3");
}

TEST(ReaderTest, NdjsonOneEventPerLine) {
  std::string text = Ev(1) + "\n" + Ev(2) + "\r\n\n" + Ev(3) + "\n";
  ReadOutcome r = ReadAllWays(text);
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  EXPECT_EQ(r.summary->shape, FileShape::kNdjson);
  ASSERT_EQ(r.events.size(), 3u);
  for (int i = 0; i < 3; ++i) EXPECT_EQ(r.events[i].raw, Ev(i + 1));
}

TEST(ReaderTest, SingleEventObject) {
  ReadOutcome r = ReadAllWays("\n" + Ev(7) + "\n");
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  EXPECT_EQ(r.summary->shape, FileShape::kSingleEvent);
  ASSERT_EQ(r.events.size(), 1u);
  EXPECT_EQ(r.events[0].raw, Ev(7));
}

TEST(ReaderTest, EventBridgeEnvelopeYieldsTheDetailBytes) {
  std::string detail =
      "{ \"eventTime\": \"2023-07-10T12:00:00Z\", \"eventID\": \"eb-1\", "
      "\"userIdentity\": {\"accountId\": \"444455556666\"} }";
  std::string envelope =
      "{\"version\":\"0\",\"id\":\"x\",\"detail-type\":"
      "\"AWS API Call via CloudTrail\","
      "\"source\":\"aws.s3\",\"account\":\"444455556666\","
      "\"time\":\"2023-07-10T12:00:00Z\","
      "\"detail\":" +
      detail + ",\"resources\":[]}";
  ReadOutcome r = ReadAllWays(envelope + "\n" + envelope + "\n" + Ev(3) + "\n");
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  EXPECT_EQ(r.summary->shape, FileShape::kNdjson);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].raw, detail);
  EXPECT_EQ(r.events[0].event_id, "eb-1");
  EXPECT_EQ(r.events[0].account, "444455556666");
  EXPECT_EQ(r.events[2].raw, Ev(3));

  std::string s3_event =
      "{\"version\":\"0\",\"detail-type\":\"Object "
      "Created\",\"detail\":{\"bucket\":{}}}";
  ReadOutcome other = ReadString(s3_event);
  ASSERT_FALSE(other.summary.ok());
  EXPECT_TRUE(Contains(ErrorOf(other), "Object Created")) << ErrorOf(other);
}

TEST(ReaderTest, LookupEventsUnescapesCloudTrailEvent) {
  std::string inner =
      "{\"eventVersion\":\"1.08\",\"eventTime\":\"2023-07-10T12:00:00Z\","
      "\"eventID\":\"lk-1\",\"userIdentity\":{\"accountId\":\"123\"},"
      "\"x\":\"a\\\"b\"}";
  std::string escaped;
  for (char c : inner) {
    if (c == '"' || c == '\\') escaped += '\\';
    escaped += c;
  }
  std::string text =
      "{\n  \"Events\": [\n    {\"EventId\": \"lk-1\", \"EventTime\": "
      "1688990400.0, "
      "\"CloudTrailEvent\": \"" +
      escaped + "\"},\n    {\"CloudTrailEvent\": \"" + escaped +
      "\", \"Resources\": []}\n  ],\n  \"NextToken\": \"abc\"\n}\n";
  ReadOutcome r = ReadAllWays(text);
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  EXPECT_EQ(r.summary->shape, FileShape::kLookupEvents);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].raw, inner);
  EXPECT_EQ(r.events[0].event_id, "lk-1");
  EXPECT_EQ(r.events[0].account, "123");
}

TEST(ReaderTest, InsightsEventsGetTheirSourcetype) {
  std::string insight =
      "{\"eventVersion\":\"1.07\",\"eventTime\":\"2020-07-21T20:56:00Z\","
      "\"eventID\":\"i1\",\"eventType\":\"AwsCloudTrailInsight\","
      "\"recipientAccountId\":\"838185438692\"}";
  ReadOutcome r = ReadString("{\"Records\":[" + insight + "," + Ev(1) + "]}");
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  ASSERT_EQ(r.events.size(), 2u);
  EXPECT_EQ(r.events[0].sourcetype, kSourcetypeInsight);
  EXPECT_EQ(r.events[1].sourcetype, kSourcetypeEvents);
  EXPECT_EQ(r.summary->insight_events, 1u);
  EXPECT_EQ(r.summary->events, 2u);
}

TEST(ReaderTest, AccountFallsBackToUserIdentity) {
  std::string both =
      "{\"eventTime\":\"2023-01-01T00:00:00Z\",\"userIdentity\":{\"accountId\":"
      "\"222\"},\"recipientAccountId\":\"111\"}";
  std::string identity_only =
      "{\"userIdentity\":{\"type\":\"Root\","
      "\"accountId\":\"222\"},\"eventTime\":"
      "\"2023-01-01T00:00:00Z\"}";
  std::string neither =
      "{\"eventTime\":\"2023-01-01T00:00:00Z\",\"userIdentity\":{\"type\":"
      "\"AWSService\"}}";
  ReadOutcome r = ReadString("[" + both + "," + identity_only + "," + neither + "]");
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[0].account, "111");
  EXPECT_EQ(r.events[1].account, "222");
  EXPECT_EQ(r.events[2].account, "");
}

TEST(ReaderTest, EventsWithoutEventIdGetAStableContentHash) {
  std::string rec = "{\"eventTime\":\"2023-07-10T12:00:00Z\",\"eventName\":\"X\"}";
  std::string other = "{\"eventTime\":\"2023-07-10T12:00:00Z\",\"eventName\":\"Y\"}";
  ReadOutcome r = ReadString("[" + rec + "," + rec + "," + other + "]");
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  ASSERT_EQ(r.events.size(), 3u);
  // SHA-256 of the raw bytes, first 128 bits in hex: the same on every machine
  // and run.
  EXPECT_EQ(r.events[0].event_id, "h:a31ec7f71d4598917e5af88f70ca67d3");
  EXPECT_EQ(r.events[1].event_id, r.events[0].event_id);
  EXPECT_NE(r.events[2].event_id, r.events[0].event_id);
  EXPECT_EQ(r.events[2].event_id.size(), 34u);
  // An empty eventID is no identity either.
  ReadOutcome empty_id = ReadString("{\"eventTime\":\"2023-07-10T12:00:00Z\",\"eventID\":\"\"}");
  ASSERT_TRUE(empty_id.summary.ok());
  EXPECT_EQ(empty_id.events.at(0).event_id.substr(0, 2), "h:");
}

TEST(ReaderTest, DigestIsRecognisedAndNotIndexed) {
  std::string digest =
      "{\"awsAccountId\":\"111\",\"digestStartTime\":\"2015-08-17T14:01:31Z\","
      "\"digestEndTime\":\"2015-08-17T15:01:31Z\",\"logFiles\":[]}";
  ReadOutcome r = ReadString(digest + "\n");
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  EXPECT_EQ(r.summary->shape, FileShape::kDigest);
  EXPECT_EQ(r.summary->digest_json, digest);
  EXPECT_TRUE(r.events.empty());
  // By key name alone, for a digest object without the usual members.
  ReadOutcome by_path = ReadString("{\"awsAccountId\":\"1\"}",
                                   "AWSLogs/1/CloudTrail-Digest/us-east-1/2015/08/17/x.json.gz");
  ASSERT_TRUE(by_path.summary.ok()) << ErrorOf(by_path);
  EXPECT_EQ(by_path.summary->shape, FileShape::kDigest);
  // Something after the digest is an error.
  ReadOutcome trailing = ReadString(digest + "\n{}");
  ASSERT_FALSE(trailing.summary.ok());
}

TEST(ReaderTest, GzippedInputIsDetectedByMagicBytes) {
  std::string a = "{\"Records\":[" + Ev(1) + "," + Ev(2), b = "," + Ev(3) + "]}";
  // Two gzip members split inside the records; the name says .json, not .gz.
  std::string gz = Gzip(a) + Gzip(b);
  ReadOutcome r = ReadAllWays(gz, "plain-name.json");
  ASSERT_TRUE(r.summary.ok()) << ErrorOf(r);
  EXPECT_TRUE(r.summary->gzipped);
  EXPECT_EQ(r.summary->input_bytes, gz.size());
  EXPECT_EQ(r.summary->decoded_bytes, (a + b).size());
  ASSERT_EQ(r.events.size(), 3u);
  EXPECT_EQ(r.events[2].raw, Ev(3));
}

// ReadEventsFromPath opens a file once: a small one is read with one call, a larger one by
// position, one of no size (a pipe) as a stream. All read the same events as the bytes in memory.
TEST(ReaderTest, FromPathReadsSmallLargeAndPipedFilesAlike) {
  // Events with a pseudo-random (fixed LCG, seed 7) value each, so that gzip leaves the large
  // file well above the small-file size.
  uint64_t x = 7;
  std::string small = "{\"Records\":[" + Ev(1) + "," + Ev(2) + "]}", large = "{\"Records\":[";
  for (int i = 0; i < 12000; ++i) {
    std::string noise;
    for (int k = 0; k < 4; ++k) {
      x = x * 6364136223846793005ull + 1442695040888963407ull;
      noise += fmt::format("{:016x}", x);
    }
    large += (i ? "," : "") + Ev(i, ",\"requestID\":\"" + noise + "\"");
  }
  large += "]}";
  const std::string dir = ::cairn::testing::MakeTempDir("cairn_reader");
  FileSystem* fs = FileSystem::Default();
  auto from_path = [&](const std::string& name) {
    ReadOutcome out;
    ReaderOptions options;
    if (const char* env = std::getenv("CAIRN_READER_STREAMING"); env != nullptr && *env == '1') {
      options.whole_file_bytes = 0;
    }
    out.summary = ReadEventsFromPath(fs, JoinPath(dir, name), options, [&](Event&& e) {
      out.events.push_back(std::move(e));
      return Status::Ok();
    });
    return out;
  };
  struct Case {
    std::string name, bytes, text;
  };
  const std::vector<Case> cases = {{"small.json.gz", Gzip(small), small},
                                   {"large.json.gz", Gzip(large), large},
                                   {"large.json", large, large},
                                   {"empty.json", "", ""}};
  ASSERT_GT(cases[1].bytes.size(), size_t{256} << 10);
  for (const Case& c : cases) {
    SCOPED_TRACE(c.name);
    ASSERT_TRUE(WriteFileAtomic(fs, JoinPath(dir, c.name), c.bytes).ok());
    ReadOutcome got = from_path(c.name), want = ReadString(c.text, JoinPath(dir, c.name));
    ASSERT_TRUE(got.summary.ok()) << ErrorOf(got);
    EXPECT_EQ(got.summary->input_bytes, c.bytes.size());
    EXPECT_EQ(got.summary->decoded_bytes, c.text.size());
    testing::ExpectSameEvents(got.events, want.events);
  }
  // A named pipe: no size, read as a stream while a thread writes it.
  const std::string fifo = JoinPath(dir, "pipe.json.gz");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::thread writer([&] {
    auto out = fs->NewWritableFile(fifo);
    if (out.ok()) {
      (*out)->Append(cases[1].bytes).IgnoreError();
      (*out)->Close().IgnoreError();
    }
  });
  ReadOutcome piped = from_path("pipe.json.gz");
  writer.join();
  ASSERT_TRUE(piped.summary.ok()) << ErrorOf(piped);
  EXPECT_EQ(piped.summary->input_bytes, cases[1].bytes.size());
  testing::ExpectSameEvents(piped.events, ReadString(large, fifo).events);
  fs->RemoveAll(dir).IgnoreError();
}

TEST(ReaderTest, TruncatedGzipNamesSourceAndCompressedOffset) {
  std::string gz = Gzip("{\"Records\":[" + Ev(1) + "]}");
  ReadOutcome r = ReadString(gz.substr(0, gz.size() - 4), "AWSLogs/x.json.gz");
  ASSERT_FALSE(r.summary.ok());
  EXPECT_EQ(r.summary.status().code(), StatusCode::kInvalidArgument);
  EXPECT_TRUE(Contains(ErrorOf(r), "AWSLogs/x.json.gz")) << ErrorOf(r);
  EXPECT_TRUE(Contains(ErrorOf(r), "truncated gzip")) << ErrorOf(r);
  EXPECT_TRUE(Contains(ErrorOf(r), "compressed byte " + std::to_string(gz.size() - 4)))
      << ErrorOf(r);
}

// Regression (found by fuzz_reader): ISA-L notices corrupt deflate data at a point that depends
// on how much input it holds, so the offset is reported as approximate; the outcome (error code,
// events delivered) must not depend on read sizes.
TEST(ReaderTest, CorruptGzipFailsTheSameWhateverTheReadSizes) {
  std::string text = "{\"Records\":[";
  for (int i = 0; i < 200; ++i)
    text += (i ? "," : "") + Ev(i, ",\"k\":\"" + std::to_string(i * 7919) + "\"");
  text += "]}";
  std::string gz = Gzip(text);
  for (size_t at : {gz.size() / 3, gz.size() / 2}) {
    std::string bad = gz;
    for (size_t i = at; i < at + 16; ++i) bad[i] = static_cast<char>(bad[i] ^ 0xA5);
    ReadOutcome whole = ReadString(bad, "c.json.gz");
    ASSERT_FALSE(whole.summary.ok());
    EXPECT_EQ(whole.summary.status().code(), StatusCode::kInvalidArgument);
    EXPECT_TRUE(Contains(ErrorOf(whole), "c.json.gz")) << ErrorOf(whole);
    EXPECT_TRUE(Contains(ErrorOf(whole), "compressed byte")) << ErrorOf(whole);
    for (size_t max_read : {size_t{3}, size_t{100}}) {
      ReadOutcome piece = ReadString(bad, "c.json.gz", {}, max_read);
      ASSERT_FALSE(piece.summary.ok());
      EXPECT_EQ(piece.summary.status().code(), whole.summary.status().code());
      EXPECT_EQ(piece.events.size(), whole.events.size());
    }
  }
}

TEST(ReaderTest, DecompressedCapAppliesThroughTheReader) {
  std::string text = "{\"Records\":[" + Ev(1) + "," + std::string(1 << 20, ' ') + Ev(2) + "]}";
  ReaderOptions options;
  options.max_decompressed_bytes = 100000;
  ReadOutcome gz = ReadString(Gzip(text), "bomb.json.gz", options);
  ASSERT_FALSE(gz.summary.ok());
  EXPECT_EQ(gz.summary.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Contains(ErrorOf(gz), "100000")) << ErrorOf(gz);
  ReadOutcome plain = ReadString(text, "big.json", options);
  EXPECT_EQ(plain.summary.status().code(), StatusCode::kResourceExhausted);
}

TEST(ReaderTest, EventLargerThanTheCapIsResourceExhausted) {
  std::string big = Ev(1, ",\"pad\":\"" + std::string(3 << 20, 'x') + "\"");
  ReaderOptions options;
  options.max_event_bytes = 1 << 20;
  ReadOutcome r = ReadString("{\"Records\":[" + Ev(0) + "," + big + "]}", "big.json", options);
  ASSERT_FALSE(r.summary.ok());
  EXPECT_EQ(r.summary.status().code(), StatusCode::kResourceExhausted);
  EXPECT_TRUE(Contains(ErrorOf(r), "max_event_bytes")) << ErrorOf(r);
  EXPECT_TRUE(Contains(ErrorOf(r), "byte " + std::to_string(12 + Ev(0).size() + 1))) << ErrorOf(r);
  // The same event under the default cap reads, and the buffer grew only to
  // hold it.
  ReadOutcome ok = ReadString("{\"Records\":[" + Ev(0) + "," + big + "]}");
  ASSERT_TRUE(ok.summary.ok()) << ErrorOf(ok);
  EXPECT_EQ(ok.events.at(1).raw, big);
  EXPECT_LE(ok.summary->peak_buffer_bytes, 2 * big.size() + (1 << 20));
}

TEST(ReaderTest, CallbackErrorStopsReading) {
  int calls = 0;
  auto result = ReadEvents(
      std::make_unique<StringSequentialFile>("[" + Ev(1) + "," + Ev(2) + "," + Ev(3) + "]"),
      "m.json", {}, [&](Event&&) {
        return ++calls == 2 ? Status(StatusCode::kCancelled, "enough") : Status::Ok();
      });
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.status().code(), StatusCode::kCancelled);
  EXPECT_EQ(calls, 2);
}

// --- bad input: each error names the source, the problem and the byte offset.

struct BadCase {
  std::string name;
  std::string text;
  StatusCode code;
  std::vector<std::string> parts;  // all must appear in the message
};

TEST(ReaderTest, BadInputIsRejectedWithItsOffset) {
  std::string e1 = Ev(1);
  std::string bad_utf8 = Ev(2, ",\"s\":\"ab\xC3\x28\"");  // 0xC3 not followed by a continuation
  size_t utf8_at = 12 + e1.size() + 1 + bad_utf8.find('\xC3');
  std::vector<BadCase> cases = {
      {"pasted in Records",
       "{\"Records\":[" + e1 + "\n" + e1 + "]}",
       StatusCode::kInvalidArgument,
       {"bad.json", "pasted together", "byte " + std::to_string(12 + e1.size() + 1)}},
      {"pasted on one line",
       e1 + " " + e1,
       StatusCode::kInvalidArgument,
       {"pasted together", "byte " + std::to_string(e1.size() + 1)}},
      {"invalid utf-8",
       "{\"Records\":[" + e1 + "," + bad_utf8 + "]}",
       StatusCode::kInvalidArgument,
       {"invalid UTF-8", "byte " + std::to_string(utf8_at)}},
      {"records not array",
       "{\"Records\":{\"a\":1}}",
       StatusCode::kInvalidArgument,
       {"\"Records\" at byte 11 is not an array"}},
      {"records missing",
       "{\"foo\":[1,2]}",
       StatusCode::kInvalidArgument,
       {"no \"Records\" array", "byte 0"}},
      {"record not object",
       "{\"Records\":[" + e1 + ",\"str\"]}",
       StatusCode::kInvalidArgument,
       {"record 1", "not a JSON object", "byte " + std::to_string(12 + e1.size() + 1)}},
      {"array element not object",
       "[1]",
       StatusCode::kInvalidArgument,
       {"record 0", "not a JSON object", "byte 1"}},
      {"unterminated record",
       "{\"Records\":[" + e1.substr(0, 30),
       StatusCode::kInvalidArgument,
       {"unexpected end of input", "byte 42", "starts at byte 12", "inside a string"}},
      {"unterminated array",
       "{\"Records\":[" + e1,
       StatusCode::kInvalidArgument,
       {"unexpected end of input", "not closed"}},
      {"garbage",
       "hello",
       StatusCode::kInvalidArgument,
       {"expected a JSON object or array", "byte 0"}},
      {"garbage inside record",
       "[{\"eventTime\":\"2023-07-10T12:00:00Z\",\"a\":tru}]",
       StatusCode::kInvalidArgument,
       {"invalid JSON", "starts at byte 1"}},
      {"mismatched bracket",
       "[{\"a\":[1}]",
       StatusCode::kInvalidArgument,
       {"mismatched '}'", "byte 8"}},
      {"trailing data",
       "{\"Records\":[]} x",
       StatusCode::kInvalidArgument,
       {"unexpected 'x' at byte 15"}},
      {"trailing comma", "[" + e1 + ",]", StatusCode::kInvalidArgument, {"trailing ','"}},
      {"bad preamble value",
       "{\"x\":tru,\"Records\":[]}",
       StatusCode::kInvalidArgument,
       {"invalid JSON", "byte 5"}},
      {"no eventTime",
       "[{\"eventName\":\"X\"}]",
       StatusCode::kInvalidArgument,
       {"record at byte 1", "no \"eventTime\""}},
      {"bad eventTime",
       "[{\"eventTime\":\"yesterday\"}]",
       StatusCode::kInvalidArgument,
       {"byte 1", "\"yesterday\"", "ISO 8601"}},
      {"sns notification",
       "{\"s3Bucket\":\"b\",\"s3ObjectKey\":[\"k\"]}",
       StatusCode::kInvalidArgument,
       {"SNS notification", "not a log file"}},
      {"s3 event notification",
       "{\"Records\":[{\"eventVersion\":\"2.1\",\"eventSource\":\"aws:s3\","
       "\"eventTime\":"
       "\"1970-01-01T00:00:00.000Z\",\"s3\":{}}]}",
       StatusCode::kInvalidArgument,
       {"s3 notification", "byte 12"}},
      {"second records",
       "{\"Records\":[],\"Records\":[]}",
       StatusCode::kInvalidArgument,
       {"second", "byte 24"}},
      {"too deep",
       std::string("[") + std::string(2000, '[') + std::string(2000, ']') + "]",
       StatusCode::kInvalidArgument,
       {"record 0", "not a JSON object"}},
      {"too deep object",
       "[" + std::string(1100, '{'),
       StatusCode::kInvalidArgument,
       {"nested deeper"}},
  };
  for (const BadCase& c : cases) {
    SCOPED_TRACE(c.name);
    ReadOutcome r = ReadAllWays(c.text, "bad.json");
    ASSERT_FALSE(r.summary.ok());
    EXPECT_EQ(r.summary.status().code(), c.code) << ErrorOf(r);
    EXPECT_TRUE(Contains(ErrorOf(r), "bad.json")) << ErrorOf(r);
    for (const std::string& part : c.parts) {
      EXPECT_TRUE(Contains(ErrorOf(r), part)) << "missing \"" << part << "\" in: " << ErrorOf(r);
    }
  }
}

// --- bounded memory over a large stream.

// Produces {"Records":[e0,e1,...]} of about `target` bytes on the fly, never
// holding it.
class GeneratedRecords final : public SequentialFile {
 public:
  explicit GeneratedRecords(uint64_t target) : target_(target) { pending_ = "{\"Records\":[\n"; }

  Result<size_t> Read(char* buf, size_t n) override {
    size_t done = 0;
    while (done < n) {
      if (offset_ == pending_.size()) {
        if (finished_) break;
        NextChunk();
      }
      size_t k = std::min(n - done, pending_.size() - offset_);
      std::memcpy(buf + done, pending_.data() + offset_, k);
      offset_ += k;
      done += k;
    }
    return done;
  }

  uint64_t events() const { return events_; }

 private:
  void NextChunk() {
    pending_.clear();
    offset_ = 0;
    for (int i = 0; i < 64 && !finished_; ++i) {
      if (events_ > 0) pending_ += ",\n";
      pending_ +=
          "  {\"eventVersion\":\"1.08\",\"eventTime\":\"2023-07-10T12:00:00Z\","
          "\"eventID\":\"gen-" +
          std::to_string(events_) +
          "\",\"recipientAccountId\":\"111122223333\",\"eventSource\":\"s3."
          "amazonaws.com\","
          "\"requestParameters\":{\"bucketName\":\"b\",\"key\":\"" +
          std::string(200 + events_ % 300, 'k') + "\"},\"responseElements\":null}";
      ++events_;
      if (written_ + pending_.size() >= target_) finished_ = true;
    }
    if (finished_) pending_ += "\n]}\n";
    written_ += pending_.size();
  }

  uint64_t target_;
  std::string pending_;
  size_t offset_ = 0;
  uint64_t events_ = 0;
  uint64_t written_ = 0;
  bool finished_ = false;
};

long MaxRssKb() {
  rusage usage{};
  getrusage(RUSAGE_SELF, &usage);
  return usage.ru_maxrss;
}

TEST(ReaderTest, LargeStreamUsesBoundedMemory) {
  constexpr uint64_t kTarget = 200ull << 20;
  auto source = std::make_unique<GeneratedRecords>(kTarget);
  GeneratedRecords* gen = source.get();
  long rss_before = MaxRssKb();
  uint64_t count = 0;
  auto result = ReadEvents(std::move(source), "generated.json", {}, [&](Event&& e) {
    if (e.event_id != "gen-" + std::to_string(count)) {
      return Status(StatusCode::kInternal, "out of order: " + e.event_id);
    }
    ++count;
    return Status::Ok();
  });
  ASSERT_TRUE(result.ok()) << result.status().ToString();
  EXPECT_GE(result->decoded_bytes, kTarget);
  EXPECT_EQ(result->events, gen->events());
  EXPECT_EQ(count, gen->events());
  // The first whole_file_bytes are read whole before the reader knows the file is larger; then
  // it streams through a buffer that does not grow.
  EXPECT_LE(result->peak_buffer_bytes, ReaderOptions().whole_file_bytes + (size_t{2} << 20));
  EXPECT_FALSE(result->whole_file);
  long grown_kb = MaxRssKb() - rss_before;
  EXPECT_LT(grown_kb, 64 << 10) << "peak RSS grew by " << grown_kb << " KiB for a 200 MiB stream";
}

}  // namespace
}  // namespace cairn::cloudtrail

namespace cairn::cloudtrail {
namespace {

// The hash a digest records for a log file is of its decoded bytes: the same text gives the
// same hash gzipped or not, read whole or in pieces, and any change of a byte changes it.
TEST(ReaderTest, Sha256OfTheDecodedBytes) {
  const std::string text = "{\"Records\":[" + Ev(1) + "," + Ev(2) + "]}\n";
  ReaderOptions options;
  options.sha256 = true;
  ReadOutcome plain = ReadString(text, "f.json", options);
  ASSERT_TRUE(plain.summary.ok()) << ErrorOf(plain);
  unsigned char expected[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(text.data()), text.size(), expected);
  EXPECT_EQ(plain.summary->sha256,
            HexEncode(std::string_view(reinterpret_cast<const char*>(expected), sizeof(expected))));
  for (size_t max_read : {size_t{1}, size_t{7}, size_t{1} << 20}) {
    ReadOutcome gz = ReadString(Gzip(text), "f.json.gz", options, max_read);
    ASSERT_TRUE(gz.summary.ok()) << ErrorOf(gz);
    EXPECT_EQ(gz.summary->sha256, plain.summary->sha256) << "max_read " << max_read;
  }
  options.whole_file_bytes = 0;  // the streaming reader
  ReadOutcome streamed = ReadString(Gzip(text), "f.json.gz", options);
  EXPECT_EQ(streamed.summary->sha256, plain.summary->sha256);

  std::string changed = text;
  changed.back() = ' ';  // a trailing space instead of the newline parses the same
  ReadOutcome other = ReadString(changed, "f.json", options);
  ASSERT_TRUE(other.summary.ok()) << ErrorOf(other);
  EXPECT_NE(other.summary->sha256, plain.summary->sha256);

  ReaderOptions off;
  EXPECT_TRUE(ReadString(text, "f.json", off).summary->sha256.empty());
}

}  // namespace
}  // namespace cairn::cloudtrail
