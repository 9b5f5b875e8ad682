#pragma once
// ObjectSource over S3: the trail's bucket as `cairn verify s3://bucket[/prefix]` reads it.
// Keys come from ListObjectsV2, bytes from GetObject, a digest's signature from its
// x-amz-meta-signature (kept from the GetObject that read the digest, else asked with HeadObject).
// The reader needs s3:ListBucket on the bucket and s3:GetObject on its objects.
//
// Thread safety: Read may be called from several threads at once (S3Client allows it); the other
// methods from one.

#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "aws/s3.h"
#include "verify/source.h"

namespace cairn::verify {

class S3Source : public ObjectSource {
 public:
  // `s3` must outlive the source.
  S3Source(aws::S3Client* s3, std::string bucket);
  std::string bucket() const override { return bucket_; }
  Result<std::vector<ObjectInfo>> List(const std::string& prefix) override;
  Result<std::vector<std::string>> ListFolders(const std::string& prefix) override;
  Result<std::string> Read(const std::string& key) override;
  Result<std::optional<std::string>> ReadSignature(const std::string& key) override;
  std::string Describe(const std::string& key) const override;

  // Objects above this size are not read (ResourceExhausted): no CloudTrail file is near it.
  static constexpr uint64_t kMaxObjectBytes = 1ull << 30;

 private:
  aws::S3Client* s3_;
  std::string bucket_;
  std::mutex mu_;
  std::map<std::string, std::optional<std::string>> signatures_;  // from GetObject of digests
};

}  // namespace cairn::verify
