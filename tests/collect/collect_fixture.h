#pragma once
// Test-side AWS for the collector's integration tests: the original site's topology on the fauxqs
// emulator (SNS topics in us-east-1, us-west-1, us-west-2, eu-west-1 and sa-east-1 feeding one
// SQS queue in us-west-2, one bucket), and a test-side "CloudTrail" that gzips log files into the
// bucket and announces them in every notification shape.

#include <map>
#include <memory>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "aws/client.h"
#include "aws/s3.h"
#include "aws/sns.h"
#include "aws/sqs.h"
#include "common/status.h"
#include "harness/fauxqs.h"

namespace cairn::testing {

inline const std::vector<std::string>& SiteRegions() {
  static const std::vector<std::string> r = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "sa-east-1"};
  return r;
}

// gzip (RFC 1952) of `data`.
std::string Gzip(std::string_view data);

// (account, eventID) of every event in `files` (local paths), read with the CloudTrail reader.
std::multiset<std::pair<std::string, std::string>> EventIdsOfFiles(const std::vector<std::string>& paths);
// (account, eventID) of every event stored in `index` under `data_dir`.
std::multiset<std::pair<std::string, std::string>> StoredEventIds(const std::string& data_dir,
                                                                  const std::string& index);

class Site {
 public:
  // `endpoint` is the emulator's (or a proxy's) URL.
  static Result<std::unique_ptr<Site>> Create(const std::string& endpoint, const std::string& queue_name,
                                              const std::string& bucket, int visibility_timeout_s = 30);
  aws::AwsClient* client() { return client_.get(); }
  aws::S3Client& s3() { return *s3_; }
  aws::SqsClient& sqs() { return *sqs_; }
  aws::SnsClient& sns() { return *sns_; }
  const std::string& queue_url() const { return queue_url_; }
  const std::string& bucket() const { return bucket_; }
  const std::string& topic(const std::string& region) { return topics_[region]; }

  // Puts `body` (already gzipped or not) at `key`.
  Status Put(const std::string& key, const std::string& body);
  // CloudTrail's own notification through the region's SNS topic.
  Status AnnounceViaSns(const std::string& region, const std::vector<std::string>& keys);
  // CloudTrail's notification sent straight to the queue.
  Status AnnounceRaw(const std::vector<std::string>& keys);
  // S3 event notification (URL-encoded keys), raw or through SNS.
  Status AnnounceS3Event(const std::vector<std::string>& keys, const std::string& via_region = "");
  // EventBridge "Object Created", raw.
  Status AnnounceEventBridge(const std::string& key);
  Status Send(const std::string& body);
  // Messages visible + in flight.
  Result<int> QueueDepth();

  static std::string CloudTrailNotification(const std::string& bucket, const std::vector<std::string>& keys);
  static std::string S3EventNotification(const std::string& bucket, const std::vector<std::string>& keys);
  static std::string UrlEncodeKey(const std::string& key);

 private:
  std::shared_ptr<aws::AwsClient> client_;
  std::unique_ptr<aws::S3Client> s3_;
  std::unique_ptr<aws::SqsClient> sqs_;
  std::unique_ptr<aws::SnsClient> sns_;
  std::string queue_url_;
  std::string bucket_;
  std::map<std::string, std::string> topics_;
};

// The log files of ../shared/data/cloudtrail/invictus/CloudTrail (sorted paths).
std::vector<std::string> InvictusFiles();
// The region in a CloudTrail file name ("<acct>_CloudTrail_<region>_...").
std::string RegionOfFileName(const std::string& name);

}  // namespace cairn::testing

namespace cairn::testing {

// A tiny synthetic CloudTrail log file: `events` records with eventIDs "<tag>-<i>" in account
// 111122223333 (half of them Describe* calls).
std::string TinyLogFile(const std::string& tag, int events);

// Uploads `files` tiny gzipped log files (keys under AWSLogs/111122223333/CloudTrail/us-west-2/
// 2023/07/10/, named after `tag`) with `threads` uploaders, and announces each with CloudTrail's
// notification, through the SNS topics in turn when `via_sns`, else raw. Returns the keys.
Result<std::vector<std::string>> LoadTinyFiles(Site* site, const std::string& tag, int files, int events,
                                               bool via_sns, int threads = 4);

}  // namespace cairn::testing
