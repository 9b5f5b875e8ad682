#include "verify/s3_source.h"

namespace cairn::verify {
namespace {

constexpr const char* kSignatureMetadata = "signature";  // x-amz-meta-signature

std::optional<std::string> SignatureOf(const aws::S3ObjectInfo& info) {
  auto it = info.metadata.find(kSignatureMetadata);
  if (it == info.metadata.end()) return std::nullopt;
  return it->second;
}

bool IsDigestKey(const std::string& key) {
  return key.find("/CloudTrail-Digest/") != std::string::npos;
}

}  // namespace

S3Source::S3Source(aws::S3Client* s3, std::string bucket) : s3_(s3), bucket_(std::move(bucket)) {}

Result<std::vector<ObjectInfo>> S3Source::List(const std::string& prefix) {
  std::vector<ObjectInfo> out;
  aws::ListObjectsRequest req;
  req.bucket = bucket_;
  req.prefix = prefix;
  for (;;) {
    ASSIGN_OR_RETURN(aws::ListObjectsResult page, s3_->ListObjectsV2(req));
    for (auto& o : page.objects) out.push_back(ObjectInfo{std::move(o.key), o.size});
    if (!page.truncated || page.next_continuation_token.empty()) break;
    req.continuation_token = page.next_continuation_token;
  }
  return out;
}

Result<std::vector<std::string>> S3Source::ListFolders(const std::string& prefix) {
  std::vector<std::string> out;
  aws::ListObjectsRequest req;
  req.bucket = bucket_;
  req.prefix = prefix;
  req.delimiter.push_back('/');  // not = "/": GCC 12 warns falsely (-Wrestrict) on that
  for (;;) {
    ASSIGN_OR_RETURN(aws::ListObjectsResult page, s3_->ListObjectsV2(req));
    for (const auto& p : page.common_prefixes) {
      if (p.size() > prefix.size() + 1 && p.starts_with(prefix) && p.back() == '/') {
        std::string_view name(p);
        name.remove_prefix(prefix.size());
        name.remove_suffix(1);
        out.emplace_back(name);
      }
    }
    if (!page.truncated || page.next_continuation_token.empty()) break;
    req.continuation_token = page.next_continuation_token;
  }
  return out;
}

Result<std::string> S3Source::Read(const std::string& key) {
  aws::S3ObjectInfo info;
  ASSIGN_OR_RETURN(std::string bytes, s3_->GetObjectToString(bucket_, key, kMaxObjectBytes, &info));
  if (IsDigestKey(key)) {
    std::lock_guard<std::mutex> lock(mu_);
    signatures_[key] = SignatureOf(info);
  }
  return bytes;
}

Result<std::optional<std::string>> S3Source::ReadSignature(const std::string& key) {
  {
    std::lock_guard<std::mutex> lock(mu_);
    auto it = signatures_.find(key);
    if (it != signatures_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(aws::S3ObjectInfo info, s3_->HeadObject(bucket_, key));
  return SignatureOf(info);
}

std::string S3Source::Describe(const std::string& key) const {
  return "s3://" + bucket_ + "/" + key;
}

}  // namespace cairn::verify
