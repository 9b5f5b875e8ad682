#include "aws/s3.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>

#include "common/log.h"

namespace cairn::aws {

namespace {

S3ObjectInfo InfoFromHeaders(const HttpResponse& r) {
  S3ObjectInfo info;
  info.etag = std::string(r.Header("ETag"));
  info.last_modified = std::string(r.Header("Last-Modified"));
  info.content_type = std::string(r.Header("Content-Type"));
  info.content_encoding = std::string(r.Header("Content-Encoding"));
  info.version_id = std::string(r.Header("x-amz-version-id"));
  std::string_view range = r.Header("Content-Range");  // "bytes 0-9/443"
  if (size_t slash = range.rfind('/'); slash != std::string_view::npos) {
    info.size = std::strtoull(std::string(range.substr(slash + 1)).c_str(), nullptr, 10);
  } else {
    info.size = std::strtoull(std::string(r.Header("Content-Length")).c_str(), nullptr, 10);
  }
  for (const auto& [k, v] : r.headers) {
    std::string name = k;
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    if (name.starts_with("x-amz-meta-")) info.metadata[name.substr(11)] = v;
  }
  return info;
}

uint64_t RangeStart(std::string_view content_range) {
  // "bytes 100-199/200"
  size_t sp = content_range.find(' ');
  if (sp == std::string_view::npos) return UINT64_MAX;
  return std::strtoull(std::string(content_range.substr(sp + 1)).c_str(), nullptr, 10);
}

}  // namespace

S3Client::S3Client(AwsClient* client, std::string region, bool virtual_host_on_custom)
    : client_(client),
      region_(region.empty() ? client->region() : std::move(region)),
      virtual_host_on_custom_(virtual_host_on_custom) {}

Operation S3Client::Op(std::string api, const std::string& bucket, const std::string& key) const {
  Operation op;
  op.service = "s3";
  op.api = std::move(api);
  op.resource = key.empty() ? "s3://" + bucket : "s3://" + bucket + "/" + key;
  op.region = RegionFor(bucket);
  return op;
}

std::string S3Client::RegionFor(const std::string& bucket) const {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = bucket_regions_.find(bucket);
  return it == bucket_regions_.end() ? region_ : it->second;
}

bool S3Client::LearnRegion(const std::string& bucket, const HttpResponse& error) {
  std::string hinted(error.Header("x-amz-bucket-region"));
  if (hinted.empty() || hinted == RegionFor(bucket)) return false;
  {
    std::lock_guard<std::mutex> lock(mu_);
    bucket_regions_[bucket] = hinted;
  }
  log::Info("S3 bucket {} is in {}; using that region for it", bucket, hinted);
  return true;
}

Result<HttpResponse> S3Client::SendS3(const std::string& api, const std::string& method, const std::string& bucket,
                                      const std::string& key, const std::function<void(HttpRequest*)>& adjust) {
  for (int attempt = 0;; ++attempt) {
    ASSIGN_OR_RETURN(HttpRequest r, MakeRequest(method, bucket, key));
    if (adjust) adjust(&r);
    HttpResponse error;
    Result<HttpResponse> resp = client_->Send(Op(api, bucket, key), std::move(r), nullptr, &error);
    if (resp.ok() || attempt > 0 || !LearnRegion(bucket, error)) return resp;
  }
}

Result<HttpRequest> S3Client::MakeRequest(const std::string& method, const std::string& bucket,
                                          const std::string& key) const {
  if (bucket.empty()) return InvalidArgument("S3 {}: empty bucket name", method);
  ASSIGN_OR_RETURN(Endpoint e, client_->EndpointFor("s3", RegionFor(bucket)));
  HttpRequest r;
  r.method = method;
  r.scheme = e.scheme;
  std::string encoded_key = UriEncode(key, /*keep_slash=*/true);
  bool virtual_host = VirtualHostableBucket(bucket) && (!e.custom || virtual_host_on_custom_);
  if (virtual_host) {
    r.host = bucket + "." + e.host;
    r.path = e.base_path + "/" + encoded_key;
  } else {
    r.host = e.host;
    r.path = e.base_path + "/" + UriEncode(bucket, false) + (key.empty() ? "" : "/" + encoded_key);
  }
  return r;
}

Result<S3ObjectInfo> S3Client::GetObject(const std::string& bucket, const std::string& key,
                                         const std::function<Status(std::string_view)>& on_data,
                                         const GetObjectOptions& options) {
  Operation op = Op("S3 GetObject", bucket, key);
  std::optional<S3ObjectInfo> info;
  uint64_t received = 0;
  std::string etag = options.if_match;
  bool redirected = false;
  for (int resume = 0;; ++resume) {
    ASSIGN_OR_RETURN(HttpRequest r, MakeRequest("GET", bucket, key));
    if (received > 0) {
      r.headers.emplace_back("Range", "bytes=" + std::to_string(received) + "-");
    }
    if (!etag.empty()) r.headers.emplace_back("If-Match", etag);
    uint64_t start_offset = received;
    BodySink sink;
    sink.on_headers = [&](const HttpResponse& head) -> Status {
      if (start_offset > 0) {
        if (head.status != 206 || RangeStart(head.Header("Content-Range")) != start_offset) {
          return Unavailable("{} {}: resume at byte {} got HTTP {} '{}'", op.api, op.resource, start_offset,
                             head.status, head.Header("Content-Range"));
        }
      } else {
        info = InfoFromHeaders(head);
        if (etag.empty()) etag = info->etag;
      }
      return Status::Ok();
    };
    sink.on_data = [&](std::string_view chunk) -> Status {
      received += chunk.size();
      return on_data(chunk);
    };
    HttpResponse error;
    Result<HttpResponse> resp = client_->Send(op, std::move(r), &sink, &error);
    if (!resp.ok() && received == 0 && !redirected && LearnRegion(bucket, error)) {
      redirected = true;
      op = Op("S3 GetObject", bucket, key);
      --resume;
      continue;
    }
    if (resp.ok()) {
      if (!info) return Internal("{} {}: no response headers", op.api, op.resource);
      if (info->size != 0 && received != info->size) {
        return Unavailable("{} {}: received {} of {} bytes", op.api, op.resource, received, info->size);
      }
      info->size = received;
      return *info;
    }
    // Resume only transport failures after some bytes arrived, with the ETag pinned.
    if (resp.status().code() == StatusCode::kUnavailable && received > 0 && !etag.empty() &&
        resume < options.max_resumes) {
      log::Warn("{} {}: interrupted after {} bytes ({}); resuming", op.api, op.resource, received,
                resp.status().message());
      continue;
    }
    if (resp.status().code() == StatusCode::kInvalidArgument &&
        resp.status().message().find("PreconditionFailed") != std::string::npos && received > 0) {
      return Unavailable("{} {}: object changed while it was being read (ETag {} no longer matches)", op.api,
                         op.resource, etag);
    }
    return resp.status();
  }
}

Result<std::string> S3Client::GetObjectToString(const std::string& bucket, const std::string& key,
                                                uint64_t max_bytes, S3ObjectInfo* info_out) {
  std::string out;
  auto info = GetObject(bucket, key, [&](std::string_view chunk) -> Status {
    if (out.size() + chunk.size() > max_bytes) {
      return ResourceExhausted("S3 GetObject s3://{}/{}: object larger than {} bytes", bucket, key, max_bytes);
    }
    out.append(chunk);
    return Status::Ok();
  });
  if (!info.ok()) return info.status();
  if (info_out) *info_out = *info;
  return out;
}

Result<S3ObjectInfo> S3Client::GetObjectToFile(const std::string& bucket, const std::string& key,
                                               WritableFile* file) {
  return GetObject(bucket, key, [&](std::string_view chunk) { return file->Append(chunk); });
}

Result<S3ObjectInfo> S3Client::HeadObject(const std::string& bucket, const std::string& key) {
  ASSIGN_OR_RETURN(HttpResponse resp, SendS3("S3 HeadObject", "HEAD", bucket, key, nullptr));
  return InfoFromHeaders(resp);
}

Result<ListObjectsResult> S3Client::ListObjectsV2(const ListObjectsRequest& req) {
  Operation op = Op("S3 ListObjectsV2", req.bucket, req.prefix);
  auto adjust = [&](HttpRequest* r) {
    if (r->path.empty() || r->path.back() != '/') r->path.push_back('/');
    r->query.emplace_back("list-type", "2");
    if (!req.prefix.empty()) r->query.emplace_back("prefix", req.prefix);
    if (!req.delimiter.empty()) r->query.emplace_back("delimiter", req.delimiter);
    if (!req.start_after.empty()) r->query.emplace_back("start-after", req.start_after);
    if (!req.continuation_token.empty()) r->query.emplace_back("continuation-token", req.continuation_token);
    if (req.max_keys > 0) r->query.emplace_back("max-keys", std::to_string(req.max_keys));
  };
  ASSIGN_OR_RETURN(HttpResponse resp, SendS3(op.api, "GET", req.bucket, "", adjust));
  pugi::xml_document doc;
  pugi::xml_parse_result parsed = doc.load_buffer(resp.body.data(), resp.body.size());
  if (!parsed) {
    return Corruption("{} {}: response is not XML ({} at byte {})", op.api, op.resource, parsed.description(),
                      parsed.offset);
  }
  pugi::xml_node root = doc.child("ListBucketResult");
  if (!root) return Corruption("{} {}: response has no ListBucketResult", op.api, op.resource);
  ListObjectsResult out;
  for (pugi::xml_node c : root.children("Contents")) {
    S3Object o;
    o.key = c.child_value("Key");
    o.etag = c.child_value("ETag");
    o.size = std::strtoull(c.child_value("Size"), nullptr, 10);
    o.last_modified = c.child_value("LastModified");
    o.storage_class = c.child_value("StorageClass");
    out.objects.push_back(std::move(o));
  }
  for (pugi::xml_node p : root.children("CommonPrefixes")) out.common_prefixes.emplace_back(p.child_value("Prefix"));
  out.truncated = std::string_view(root.child_value("IsTruncated")) == "true";
  out.next_continuation_token = root.child_value("NextContinuationToken");
  if (out.truncated && out.next_continuation_token.empty()) {
    return Corruption("{} {}: truncated listing without NextContinuationToken", op.api, op.resource);
  }
  return out;
}

Status S3Client::DeleteObject(const std::string& bucket, const std::string& key) {
  return SendS3("S3 DeleteObject", "DELETE", bucket, key, nullptr).status();
}

Result<std::string> S3Client::GetBucketLocation(const std::string& bucket) {
  ASSIGN_OR_RETURN(HttpRequest r, MakeRequest("GET", bucket, ""));
  if (r.path.empty() || r.path.back() != '/') r.path.push_back('/');
  r.query.emplace_back("location", "");
  Operation op = Op("S3 GetBucketLocation", bucket, "");
  ASSIGN_OR_RETURN(HttpResponse resp, client_->Send(op, std::move(r)));
  pugi::xml_document doc;
  if (!doc.load_buffer(resp.body.data(), resp.body.size()) || !doc.child("LocationConstraint")) {
    return Corruption("{} {}: response has no LocationConstraint", op.api, op.resource);
  }
  std::string loc = doc.child("LocationConstraint").child_value();
  if (loc.empty()) return std::string("us-east-1");
  if (loc == "EU") return std::string("eu-west-1");
  return loc;
}

Result<std::string> S3Client::PutObject(const std::string& bucket, const std::string& key, std::string body,
                                        const std::string& content_type,
                                        const std::map<std::string, std::string>& metadata) {
  auto adjust = [&](HttpRequest* r) {
    r->headers.emplace_back("Content-Type", content_type);
    for (const auto& [k, v] : metadata) r->headers.emplace_back("x-amz-meta-" + k, v);
    r->body = body;
  };
  ASSIGN_OR_RETURN(HttpResponse resp, SendS3("S3 PutObject", "PUT", bucket, key, adjust));
  return std::string(resp.Header("ETag"));
}

Status S3Client::CreateBucket(const std::string& bucket) {
  ASSIGN_OR_RETURN(HttpRequest r, MakeRequest("PUT", bucket, ""));
  if (region_ != "us-east-1") {
    r.headers.emplace_back("Content-Type", "application/xml");
    r.body = "<CreateBucketConfiguration xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\"><LocationConstraint>" +
             region_ + "</LocationConstraint></CreateBucketConfiguration>";
  }
  return client_->Send(Op("S3 CreateBucket", bucket, ""), std::move(r)).status();
}

Status S3Client::DeleteBucket(const std::string& bucket) {
  ASSIGN_OR_RETURN(HttpRequest r, MakeRequest("DELETE", bucket, ""));
  return client_->Send(Op("S3 DeleteBucket", bucket, ""), std::move(r)).status();
}

}  // namespace cairn::aws
