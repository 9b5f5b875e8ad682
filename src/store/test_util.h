#pragma once
// Test-only helpers for the store's tests: real CloudTrail records from ../shared/data as Events,
// and synthetic events with controllable identity and time.

#include <simdjson.h>

#include <cstdint>
#include <random>
#include <string>
#include <vector>

#include "cloudtrail/event.h"
#include "common/fs.h"
#include "common/time_util.h"
#include "store/segment.h"
#include "store/segment_writer.h"

namespace cairn::store::testing {

// The manifest entry of a segment the writer just finished, as the store would list it.
inline SegmentDesc DescOf(const SegmentFileInfo& info, std::string file) {
  SegmentDesc d;
  d.file = std::move(file);
  d.partition = info.partition;
  d.event_count = info.event_count;
  d.min_time = info.min_time;
  d.max_time = info.max_time;
  d.bytes = info.file_size;
  d.footer_crc = info.crc;
  return d;
}

// Every record of every file in `dir` (sorted by name), raw bytes exactly as in the file.
inline std::vector<cloudtrail::Event> LoadCloudTrailDir(const std::string& dir) {
  std::vector<cloudtrail::Event> out;
  auto entries = FileSystem::Default()->ListDir(dir);
  if (!entries.ok()) return out;
  std::vector<std::string> names;
  for (const auto& e : *entries) {
    if (!e.is_dir && e.name.size() > 5 && e.name.substr(e.name.size() - 5) == ".json") {
      names.push_back(e.name);
    }
  }
  std::sort(names.begin(), names.end());
  simdjson::ondemand::parser parser;
  for (const auto& name : names) {
    std::string path = JoinPath(dir, name);
    auto text = ReadFileToString(FileSystem::Default(), path);
    if (!text.ok()) continue;
    simdjson::padded_string padded(*text);
    auto doc = parser.iterate(padded);
    for (auto rec : doc["Records"].get_array()) {
      simdjson::ondemand::object obj = rec.get_object();
      std::string_view raw = obj.raw_json().value();
      cloudtrail::Event e;
      e.raw = std::string(raw);
      e.sourcetype = std::string(cloudtrail::kSourcetypeEvents);
      e.source = path;
      // Re-parse the single record for the facts (raw_json consumed the object).
      simdjson::ondemand::parser p2;
      simdjson::padded_string one(e.raw);
      auto d2 = p2.iterate(one);
      std::string_view t = d2["eventTime"].get_string().value();
      e.time_ms = ParseIso8601Millis(t).value_or(0);
      std::string_view id = d2["eventID"].get_string().value();
      e.event_id = std::string(id);
      std::string_view acc;
      if (!d2["recipientAccountId"].get_string().get(acc)) e.account = std::string(acc);
      out.push_back(std::move(e));
    }
  }
  return out;
}

// A small synthetic event. `n` selects the id; values cycle through small vocabularies so that
// postings, columns and singletons all occur.
inline cloudtrail::Event SyntheticEvent(uint64_t n, int64_t time_ms,
                                        std::string account = "111122223333") {
  static const char* kNames[] = {"GetObject",         "PutObject",    "ListBuckets", "AssumeRole",
                                 "DescribeInstances", "ConsoleLogin", "CreateUser"};
  static const char* kSources[] = {"s3.amazonaws.com", "sts.amazonaws.com", "ec2.amazonaws.com",
                                   "iam.amazonaws.com"};
  static const char* kUsers[] = {"alice", "bob", "carol", "dave", "Eve"};
  std::string id = fmt::format("{:08x}-0000-4000-8000-{:012x}", n % 0xffffffff, n);
  std::string raw = fmt::format(
      R"({{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","arn":"arn:aws:iam::{acc}:user/{user}","accountId":"{acc}","userName":"{user}"}},"eventTime":"{time}","eventSource":"{src}","eventName":"{name}","awsRegion":"us-east-{reg}","sourceIPAddress":"10.0.{a}.{b}","userAgent":"aws-cli/2.{ua}","requestParameters":{{"bucketName":"bucket-{bk}","key":"path/to/object-{n}.txt","count":{cnt},"flag":{flag}}},"resources":[{{"ARN":"arn:aws:s3:::bucket-{bk}","type":"AWS::S3::Bucket"}},{{"ARN":"arn:aws:s3:::bucket-{bk}/k{n}"}}],"responseElements":null,"requestID":"REQ{n:X}","eventID":"{id}","readOnly":{ro},"eventType":"AwsApiCall","recipientAccountId":"{acc}"}})",
      fmt::arg("acc", account), fmt::arg("user", kUsers[n % 5]),
      fmt::arg("time", FormatIso8601(time_ms, true)), fmt::arg("src", kSources[n % 4]),
      fmt::arg("name", kNames[n % 7]), fmt::arg("reg", 1 + n % 2), fmt::arg("a", n % 3),
      fmt::arg("b", n % 11), fmt::arg("ua", n % 6), fmt::arg("bk", n % 13), fmt::arg("n", n),
      fmt::arg("cnt", n % 17), fmt::arg("flag", n % 2 ? "true" : "false"), fmt::arg("id", id),
      fmt::arg("ro", n % 3 == 0 ? "true" : "false"));
  cloudtrail::Event e;
  e.raw = std::move(raw);
  e.time_ms = time_ms;
  e.account = std::move(account);
  e.event_id = std::move(id);
  e.sourcetype = std::string(cloudtrail::kSourcetypeEvents);
  e.source = fmt::format("s3://bucket/file-{}.json.gz", n / 100);
  return e;
}

// `count` synthetic events with ids first..first+count-1 spread over [start_ms, start_ms + span).
// An id's time depends only on (id, start, span, seed), as a real event's eventTime never changes
// between deliveries.
inline std::vector<cloudtrail::Event> SyntheticBatch(uint64_t first, size_t count, int64_t start_ms,
                                                     int64_t span_ms, uint32_t seed = 1) {
  std::vector<cloudtrail::Event> out;
  for (size_t i = 0; i < count; ++i) {
    uint64_t x = (first + i) * 0x9E3779B97F4A7C15ull + seed;
    x ^= x >> 31;
    x *= 0xBF58476D1CE4E5B9ull;
    x ^= x >> 29;
    int64_t t = start_ms + static_cast<int64_t>(x % static_cast<uint64_t>(span_ms));
    out.push_back(SyntheticEvent(first + i, t));
  }
  return out;
}

}  // namespace cairn::store::testing
