// S3: the log bucket, its policy, default encryption, public access block and tags.

#include <openssl/evp.h>
#include <pugixml.hpp>

#include <fmt/format.h>

#include "aws/s3.h"
#include "common/log.h"
#include "provision/aws_drivers.h"
#include "provision/json.h"

namespace cairn::provision {

bool HasAwsCode(const Status& status, std::string_view code) {
  if (status.ok()) return false;
  const std::string& m = status.message();
  std::string needle = ": " + std::string(code) + ":";
  return m.find(needle) != std::string::npos;
}

std::string ContentMd5(std::string_view body) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  EVP_Digest(body.data(), body.size(), digest, &len, EVP_md5(), nullptr);
  unsigned char out[64];
  int n = EVP_EncodeBlock(out, digest, static_cast<int>(len));
  return std::string(reinterpret_cast<char*>(out), static_cast<size_t>(n));
}

void AppendQueryTags(QueryParams* params, const std::map<std::string, std::string>& tags) {
  int i = 1;
  for (const auto& [k, v] : tags) {
    params->emplace_back(fmt::format("Tags.member.{}.Key", i), k);
    params->emplace_back(fmt::format("Tags.member.{}.Value", i), v);
    ++i;
  }
}

std::map<std::string, std::string> ParseTagsText(std::string_view text) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t comma = text.find(',', pos);
    if (comma == std::string_view::npos) comma = text.size();
    std::string_view item = text.substr(pos, comma - pos);
    size_t eq = item.find('=');
    if (eq != std::string_view::npos) out[std::string(item.substr(0, eq))] = std::string(item.substr(eq + 1));
    pos = comma + 1;
  }
  return out;
}

namespace {

constexpr std::string_view kS3Ns = "http://s3.amazonaws.com/doc/2006-03-01/";

std::string XmlEscape(std::string_view s) {
  std::string out;
  for (char c : s) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&apos;"; break;
      default: out.push_back(c);
    }
  }
  return out;
}

std::string PublicAccessBlockText(bool acls, bool policy, bool ignore, bool restrict) {
  auto b = [](bool v) { return v ? "true" : "false"; };
  return fmt::format("BlockPublicAcls={},BlockPublicPolicy={},IgnorePublicAcls={},RestrictPublicBuckets={}", b(acls),
                     b(policy), b(ignore), b(restrict));
}

class S3Driver final : public ServiceDriver {
 public:
  explicit S3Driver(aws::AwsClient* client) : client_(client) {}
  std::string_view service() const override { return "s3"; }

  Result<std::optional<Resource>> Read(const Resource& desired) override {
    region_ = desired.region;
    aws::S3Client s3(client_, desired.region);
    Result<aws::HttpResponse> head = Send(s3, "S3 HeadBucket", "HEAD", desired.name, "", "", "");
    if (!head.ok()) {
      if (head.status().code() == StatusCode::kNotFound) return std::optional<Resource>();
      if (head.status().code() == StatusCode::kPermissionDenied) {
        return Status(head.status().code(),
                      head.status().message() + " (the bucket name may belong to another account; choose --bucket)");
      }
      return head.status();
    }
    Resource r{.kind = Kind::kBucket, .name = desired.name, .region = desired.region, .arn = desired.arn};
    if (desired.attrs.empty()) return std::optional<Resource>(std::move(r));  // skip s3-settings

    ASSIGN_OR_RETURN(std::string policy, GetSub(s3, "S3 GetBucketPolicy", desired.name, "policy"));
    if (!policy.empty()) {
      auto canon = CanonicalJson(policy);
      r.attrs["policy"] = canon.ok() ? *canon : policy;
    }

    ASSIGN_OR_RETURN(std::string enc, GetSub(s3, "S3 GetBucketEncryption", desired.name, "encryption"));
    if (!enc.empty()) {
      pugi::xml_document doc;
      if (doc.load_string(enc.c_str())) {
        pugi::xml_node rule = doc.child("ServerSideEncryptionConfiguration").child("Rule");
        r.attrs["encryption"] = rule.child("ApplyServerSideEncryptionByDefault").child_value("SSEAlgorithm");
      }
    }

    ASSIGN_OR_RETURN(std::string pab, GetSub(s3, "S3 GetPublicAccessBlock", desired.name, "publicAccessBlock"));
    if (!pab.empty()) {
      pugi::xml_document doc;
      if (doc.load_string(pab.c_str())) {
        pugi::xml_node c = doc.child("PublicAccessBlockConfiguration");
        auto t = [&](const char* n) { return std::string_view(c.child_value(n)) == "true"; };
        r.attrs["public_access_block"] =
            PublicAccessBlockText(t("BlockPublicAcls"), t("BlockPublicPolicy"), t("IgnorePublicAcls"),
                                  t("RestrictPublicBuckets"));
      }
    }

    ASSIGN_OR_RETURN(std::string tagging, GetSub(s3, "S3 GetBucketTagging", desired.name, "tagging"));
    std::map<std::string, std::string> tags;
    if (!tagging.empty()) {
      pugi::xml_document doc;
      if (doc.load_string(tagging.c_str())) {
        for (pugi::xml_node t : doc.child("Tagging").child("TagSet").children("Tag")) {
          tags[t.child_value("Key")] = t.child_value("Value");
        }
      }
    }
    auto wanted = ParseTagsText(desired.Attr("tags"));
    r.attrs["tags"] = TagsText(tags, wanted);
    r.managed = !wanted.empty() && TagsText(tags, wanted) == desired.Attr("tags");
    for (const auto& [k, v] : tags) r.handles["tag:" + k] = v;
    return std::optional<Resource>(std::move(r));
  }

  Status Create(const Resource& desired, ApplyEffects* effects) override {
    region_ = desired.region;
    aws::S3Client s3(client_, desired.region);
    Status created = s3.CreateBucket(desired.name);
    if (!created.ok() && !HasAwsCode(created, "BucketAlreadyOwnedByYou")) return created;
    std::vector<AttrChange> all;
    for (const char* a : {"tags", "encryption", "public_access_block", "policy"}) {
      if (desired.attrs.count(a)) all.push_back({a, "", desired.Attr(a)});
    }
    return Update(desired, Resource{}, all, effects);
  }

  Status Update(const Resource& desired, const Resource& current, const std::vector<AttrChange>& changes,
                ApplyEffects*) override {
    region_ = desired.region;
    aws::S3Client s3(client_, desired.region);
    for (const AttrChange& c : changes) {
      if (c.name == "tags") {
        // PutBucketTagging replaces the whole set: keep the tags that are not cairn's.
        std::map<std::string, std::string> tags;
        for (const auto& [k, v] : current.handles) {
          if (k.starts_with("tag:")) tags[k.substr(4)] = v;
        }
        for (const auto& [k, v] : ParseTagsText(c.to)) tags[k] = v;
        std::string body = fmt::format("<Tagging xmlns=\"{}\"><TagSet>", kS3Ns);
        for (const auto& [k, v] : tags) {
          body += fmt::format("<Tag><Key>{}</Key><Value>{}</Value></Tag>", XmlEscape(k), XmlEscape(v));
        }
        body += "</TagSet></Tagging>";
        RETURN_IF_ERROR(PutSub(s3, "S3 PutBucketTagging", desired.name, "tagging", body, "application/xml"));
      } else if (c.name == "encryption") {
        std::string body = fmt::format(
            "<ServerSideEncryptionConfiguration xmlns=\"{}\"><Rule><ApplyServerSideEncryptionByDefault>"
            "<SSEAlgorithm>{}</SSEAlgorithm></ApplyServerSideEncryptionByDefault></Rule>"
            "</ServerSideEncryptionConfiguration>",
            kS3Ns, XmlEscape(c.to));
        RETURN_IF_ERROR(PutSub(s3, "S3 PutBucketEncryption", desired.name, "encryption", body, "application/xml"));
      } else if (c.name == "public_access_block") {
        auto flags = ParseTagsText(c.to);
        std::string body = fmt::format("<PublicAccessBlockConfiguration xmlns=\"{}\">", kS3Ns);
        for (const char* f : {"BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy", "RestrictPublicBuckets"}) {
          body += fmt::format("<{0}>{1}</{0}>", f, flags[f] == "true" ? "true" : "false");
        }
        body += "</PublicAccessBlockConfiguration>";
        RETURN_IF_ERROR(
            PutSub(s3, "S3 PutPublicAccessBlock", desired.name, "publicAccessBlock", body, "application/xml"));
      } else if (c.name == "policy") {
        RETURN_IF_ERROR(PutSub(s3, "S3 PutBucketPolicy", desired.name, "policy", c.to, "application/json"));
      } else {
        return Internal("S3 bucket {}: no way to set attribute {}", desired.name, c.name);
      }
    }
    return Status::Ok();
  }

  Status Delete(const Resource& current, ApplyEffects* effects) override {
    aws::S3Client s3(client_, current.region);
    Status s = s3.DeleteBucket(current.name);
    if (HasAwsCode(s, "BucketNotEmpty")) {
      // Log files are evidence: cairn never empties the bucket. Its policy stays so that a
      // trail re-created later can deliver again.
      effects->notes.push_back(fmt::format(
          "s3 bucket {} kept: it still holds log files (empty it yourself, then run destroy again)", current.name));
      return Status::Ok();
    }
    return s;
  }

 private:
  // A bucket-level request with one sub-resource query parameter ("" for none).
  Result<aws::HttpResponse> Send(aws::S3Client& s3, const std::string& api, const std::string& method,
                                 const std::string& bucket, const std::string& subresource, std::string body,
                                 const std::string& content_type) {
    ASSIGN_OR_RETURN(aws::HttpRequest r, s3.MakeRequest(method, bucket, ""));
    if (!subresource.empty()) {
      if (r.path.empty() || r.path.back() != '/') r.path.push_back('/');
      r.query.emplace_back(subresource, "");
    }
    if (!body.empty()) {
      r.headers.emplace_back("Content-Type", content_type);
      r.headers.emplace_back("Content-MD5", ContentMd5(body));
      r.body = std::move(body);
    }
    aws::Operation op{.service = "s3", .api = api, .resource = "s3://" + bucket, .region = region_};
    return client_->Send(op, std::move(r));
  }

  // The sub-resource document, or "" when S3 says there is none.
  Result<std::string> GetSub(aws::S3Client& s3, const std::string& api, const std::string& bucket,
                             const std::string& subresource) {
    Result<aws::HttpResponse> r = Send(s3, api, "GET", bucket, subresource, "", "");
    if (!r.ok()) {
      for (const char* absent : {"NoSuchBucketPolicy", "ServerSideEncryptionConfigurationNotFoundError",
                                 "NoSuchPublicAccessBlockConfiguration", "NoSuchTagSet", "NoSuchTagSetError"}) {
        if (HasAwsCode(r.status(), absent)) return std::string();
      }
      return r.status();
    }
    // An S3-compatible store that does not know the sub-resource may answer with the bucket's
    // listing instead of an error: refuse to read that as a setting.
    if (r->body.find("<ListBucketResult") != std::string::npos) {
      return Unsupported("{} s3://{}: the S3 endpoint does not implement ?{} (it answered with a bucket listing); "
                         "use --skip s3-settings with this endpoint",
                         api, bucket, subresource);
    }
    return std::move(r->body);
  }

  Status PutSub(aws::S3Client& s3, const std::string& api, const std::string& bucket, const std::string& subresource,
                const std::string& body, const std::string& content_type) {
    return Send(s3, api, "PUT", bucket, subresource, body, content_type).status();
  }

  aws::AwsClient* client_;
  std::string region_;  // the bucket's (home) region, for signing
};

}  // namespace

std::unique_ptr<ServiceDriver> NewS3Driver(aws::AwsClient* client) { return std::make_unique<S3Driver>(client); }

}  // namespace cairn::provision
