#include "collect/collect_fixture.h"

#include <gtest/gtest.h>

#include "common/testing.h"

#include <zlib.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "cloudtrail/reader.h"
#include "cloudtrail/test_util.h"
#include "common/fs.h"
#include "common/json_util.h"
#include "store/store.h"

namespace cairn::testing {

std::string Gzip(std::string_view data) { return cloudtrail::testing::Gzip(std::string(data)); }

std::multiset<std::pair<std::string, std::string>> EventIdsOfFiles(const std::vector<std::string>& paths) {
  std::multiset<std::pair<std::string, std::string>> ids;
  for (const auto& p : paths) {
    auto r = cloudtrail::ReadEventsFromPath(FileSystem::Default(), p, {}, [&](cloudtrail::Event&& e) {
      ids.emplace(e.account, e.event_id);
      return Status::Ok();
    });
    if (!r.ok()) ADD_FAILURE() << r.status().ToString();
  }
  return ids;
}

std::multiset<std::pair<std::string, std::string>> StoredEventIds(const std::string& data_dir,
                                                                  const std::string& index) {
  std::multiset<std::pair<std::string, std::string>> ids;
  store::StoreOptions o;
  o.data_dir = data_dir;
  o.read_only = true;
  auto st = store::Store::Open(o);
  if (!st.ok()) {
    ADD_FAILURE() << st.status().ToString();
    return ids;
  }
  auto snap = (*st)->GetSnapshot(index);
  if (!snap.ok()) return ids;
  for (const auto& seg : (*snap)->segments()) {
    Status s = seg->ForEachEvent([&](uint32_t, cloudtrail::Event&& e) {
      ids.emplace(e.account, e.event_id);
      return Status::Ok();
    });
    if (!s.ok()) ADD_FAILURE() << s.ToString();
  }
  (void)(*st)->Close();
  return ids;
}

Result<std::unique_ptr<Site>> Site::Create(const std::string& endpoint, const std::string& queue_name,
                                           const std::string& bucket, int visibility_timeout_s) {
  auto site = std::make_unique<Site>();
  aws::HttpOptions h;
  h.use_env_proxy = false;
  aws::AwsClientOptions o;
  o.region = "us-west-2";
  o.endpoints.endpoint_url = endpoint;
  o.retry.base_delay_ms = 10;
  o.retry.throttle_base_delay_ms = 10;
  site->client_ = std::make_shared<aws::AwsClient>(
      aws::NewCurlHttpClient(h),
      std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"test", "test", "", 0, "test"}), o);
  site->s3_ = std::make_unique<aws::S3Client>(site->client_.get());
  site->sqs_ = std::make_unique<aws::SqsClient>(site->client_.get());
  site->sns_ = std::make_unique<aws::SnsClient>(site->client_.get());
  site->bucket_ = bucket;
  RETURN_IF_ERROR(site->s3_->CreateBucket(bucket));
  ASSIGN_OR_RETURN(site->queue_url_,
                   site->sqs_->CreateQueue(queue_name, {{"VisibilityTimeout", std::to_string(visibility_timeout_s)}}));
  std::string queue_arn = "arn:aws:sqs:us-west-2:000000000000:" + queue_name;
  for (const auto& region : SiteRegions()) {
    ASSIGN_OR_RETURN(std::string topic, site->sns_->CreateTopic(queue_name + "-" + region, region));
    RETURN_IF_ERROR(site->sns_->Subscribe(topic, "sqs", queue_arn).status());
    site->topics_[region] = topic;
  }
  return site;
}

Status Site::Put(const std::string& key, const std::string& body) { return s3_->PutObject(bucket_, key, body).status(); }

std::string Site::CloudTrailNotification(const std::string& bucket, const std::vector<std::string>& keys) {
  std::string j = "{\"s3Bucket\":" + JsonString(bucket) + ",\"s3ObjectKey\":[";
  for (size_t i = 0; i < keys.size(); ++i) j += (i ? "," : "") + JsonString(keys[i]);
  return j + "]}";
}

std::string Site::UrlEncodeKey(const std::string& key) {
  std::string out;
  for (unsigned char c : key) {
    if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '/' || c == '~') {
      out.push_back(static_cast<char>(c));
    } else if (c == ' ') {
      out.push_back('+');
    } else {
      out += fmt::format("%{:02X}", c);
    }
  }
  return out;
}

std::string Site::S3EventNotification(const std::string& bucket, const std::vector<std::string>& keys) {
  std::string j = "{\"Records\":[";
  for (size_t i = 0; i < keys.size(); ++i) {
    j += (i ? "," : "");
    j += fmt::format(
        R"({{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"us-west-2","eventTime":"2023-07-10T12:00:00.000Z",)"
        R"("eventName":"ObjectCreated:Put","s3":{{"s3SchemaVersion":"1.0","bucket":{{"name":{},"arn":"arn:aws:s3:::{}"}},)"
        R"("object":{{"key":{},"size":1}}}}}})",
        JsonString(bucket), bucket, JsonString(UrlEncodeKey(keys[i])));
  }
  return j + "]}";
}

Status Site::AnnounceViaSns(const std::string& region, const std::vector<std::string>& keys) {
  return sns_->Publish(topics_.at(region), CloudTrailNotification(bucket_, keys)).status();
}
Status Site::AnnounceRaw(const std::vector<std::string>& keys) { return Send(CloudTrailNotification(bucket_, keys)); }
Status Site::AnnounceS3Event(const std::vector<std::string>& keys, const std::string& via_region) {
  std::string body = S3EventNotification(bucket_, keys);
  if (via_region.empty()) return Send(body);
  return sns_->Publish(topics_.at(via_region), body).status();
}
Status Site::AnnounceEventBridge(const std::string& key) {
  return Send(fmt::format(
      R"({{"version":"0","id":"e","detail-type":"Object Created","source":"aws.s3","account":"000000000000",)"
      R"("time":"2023-07-10T12:00:00Z","region":"us-west-2","resources":["arn:aws:s3:::{}"],)"
      R"("detail":{{"version":"0","bucket":{{"name":{}}},"object":{{"key":{},"size":1}},"reason":"PutObject"}}}})",
      bucket_, JsonString(bucket_), JsonString(key)));
}
Status Site::Send(const std::string& body) { return sqs_->SendMessage(queue_url_, body).status(); }

Result<int> Site::QueueDepth() {
  ASSIGN_OR_RETURN(auto attrs, sqs_->GetQueueAttributes(
                                   queue_url_, {"ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"}));
  return std::stoi(attrs["ApproximateNumberOfMessages"]) + std::stoi(attrs["ApproximateNumberOfMessagesNotVisible"]);
}

std::vector<std::string> InvictusFiles() {
  std::vector<std::string> out;
  std::string dir = SharedDataDir() + "/cloudtrail/invictus/CloudTrail";
  for (const auto& e : std::filesystem::directory_iterator(dir)) {
    if (e.path().extension() == ".json") out.push_back(e.path());
  }
  std::sort(out.begin(), out.end());
  return out;
}

std::string RegionOfFileName(const std::string& name) {
  size_t a = name.find("_CloudTrail_");
  if (a == std::string::npos) return "us-east-1";
  a += 12;
  size_t b = name.find('_', a);
  return name.substr(a, b - a);
}

}  // namespace cairn::testing

namespace cairn::testing {

std::string TinyLogFile(const std::string& tag, int events) {
  std::string j = "{\"Records\":[";
  for (int i = 0; i < events; ++i) {
    j += (i ? "," : "");
    j += fmt::format(
        R"({{"eventVersion":"1.08","userIdentity":{{"type":"IAMUser","accountId":"111122223333","userName":"bench"}},)"
        R"("eventTime":"2023-07-10T12:{:02}:{:02}Z","eventSource":"ec2.amazonaws.com","eventName":"{}",)"
        R"("awsRegion":"us-west-2","sourceIPAddress":"192.0.2.{}","eventID":"{}-{}","recipientAccountId":"111122223333"}})",
        (i / 60) % 60, i % 60, i % 2 ? "DescribeInstances" : "RunInstances", i % 250, tag, i);
  }
  return j + "]}";
}

Result<std::vector<std::string>> LoadTinyFiles(Site* site, const std::string& tag, int files, int events,
                                               bool via_sns, int threads) {
  std::vector<std::string> keys(files);
  for (int i = 0; i < files; ++i) {
    keys[i] = fmt::format("AWSLogs/111122223333/CloudTrail/us-west-2/2023/07/10/111122223333_CloudTrail_us-west-2_"
                          "20230710T1200Z_{}-{:06}.json.gz",
                          tag, i);
  }
  std::atomic<int> next{0};
  std::mutex mu;
  Status first;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&] {
      for (int i = next++; i < files; i = next++) {
        Status s = site->Put(keys[i], Gzip(TinyLogFile(fmt::format("{}-{}", tag, i), events)));
        if (s.ok()) {
          s = via_sns ? site->AnnounceViaSns(SiteRegions()[i % SiteRegions().size()], {keys[i]})
                      : site->AnnounceRaw({keys[i]});
        }
        if (!s.ok()) {
          std::lock_guard<std::mutex> lock(mu);
          if (first.ok()) first = s;
        }
      }
    });
  }
  for (auto& t : pool) t.join();
  if (!first.ok()) return first;
  return keys;
}

}  // namespace cairn::testing
