#pragma once
// S3 (REST/XML). GetObject streams the body to a sink with bounded memory; when the connection
// fails mid-body it resumes with "Range: bytes=N-" and "If-Match: <ETag>" so a changed object
// is never spliced. Addressing: path style on custom endpoints (emulators, S3-compatible
// stores), virtual-hosted style on AWS for DNS-safe names without dots, path style otherwise.
//
// A bucket in another region than the client's is found from S3's x-amz-bucket-region answer
// (301 PermanentRedirect, 400 AuthorizationHeaderMalformed): the request is re-signed for that
// region once, and the bucket's region is remembered.
//
// Errors name the API and s3://bucket/key: "S3 GetObject s3://b/k: NoSuchKey: ... (HTTP 404)".
//
// Thread safety: all methods may be called concurrently.

#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include "aws/client.h"
#include "common/fs.h"

namespace cairn::aws {

struct S3ObjectInfo {
  std::string etag;  // as S3 sends it, with quotes
  uint64_t size = 0;
  std::string last_modified;
  std::string content_type;
  std::string content_encoding;
  std::string version_id;
  std::map<std::string, std::string> metadata;  // x-amz-meta-* without the prefix, lower-case names
};

struct S3Object {
  std::string key;
  std::string etag;
  uint64_t size = 0;
  std::string last_modified;
  std::string storage_class;
};

struct ListObjectsRequest {
  std::string bucket = {};
  std::string prefix = {};
  std::string delimiter = {};
  std::string start_after = {};
  std::string continuation_token = {};
  int max_keys = 1000;
};

struct ListObjectsResult {
  std::vector<S3Object> objects;
  std::vector<std::string> common_prefixes;
  bool truncated = false;
  std::string next_continuation_token;
};

struct GetObjectOptions {
  std::string if_match;    // only this ETag
  int max_resumes = 3;     // Range resumes after a mid-body failure
};

class S3Client {
 public:
  // `client` must outlive this object. `region` "" = the client's region (the bucket's region).
  explicit S3Client(AwsClient* client, std::string region = "", bool virtual_host_on_custom = false);

  // Streams the object to `on_data`. Returns its metadata after the last byte was delivered.
  Result<S3ObjectInfo> GetObject(const std::string& bucket, const std::string& key,
                                 const std::function<Status(std::string_view)>& on_data,
                                 const GetObjectOptions& options = {});
  // Convenience: the whole object in memory, refused above `max_bytes` (ResourceExhausted).
  Result<std::string> GetObjectToString(const std::string& bucket, const std::string& key,
                                        uint64_t max_bytes, S3ObjectInfo* info = nullptr);
  // Streams into `file` (appending). The file is not synced or closed.
  Result<S3ObjectInfo> GetObjectToFile(const std::string& bucket, const std::string& key, WritableFile* file);

  Result<S3ObjectInfo> HeadObject(const std::string& bucket, const std::string& key);
  Result<ListObjectsResult> ListObjectsV2(const ListObjectsRequest& request);
  Status DeleteObject(const std::string& bucket, const std::string& key);
  // "us-east-1" for the empty LocationConstraint, "eu-west-1" for the legacy "EU".
  Result<std::string> GetBucketLocation(const std::string& bucket);
  // Returns the ETag.
  Result<std::string> PutObject(const std::string& bucket, const std::string& key, std::string body,
                                const std::string& content_type = "application/octet-stream",
                                const std::map<std::string, std::string>& metadata = {});
  Status CreateBucket(const std::string& bucket);
  Status DeleteBucket(const std::string& bucket);

  // The request for bucket/key, addressed but unsigned (exposed for tests and presigning).
  Result<HttpRequest> MakeRequest(const std::string& method, const std::string& bucket, const std::string& key) const;

 private:
  Operation Op(std::string api, const std::string& bucket, const std::string& key) const;
  std::string RegionFor(const std::string& bucket) const;
  // Learns the bucket's region from an error response; true when it changed.
  bool LearnRegion(const std::string& bucket, const HttpResponse& error);
  // Builds (MakeRequest + `adjust`) and sends, following one region redirect.
  Result<HttpResponse> SendS3(const std::string& api, const std::string& method, const std::string& bucket,
                              const std::string& key, const std::function<void(HttpRequest*)>& adjust);
  AwsClient* client_;
  std::string region_;
  mutable std::mutex mu_;
  std::map<std::string, std::string> bucket_regions_;
  bool virtual_host_on_custom_;
};

}  // namespace cairn::aws
