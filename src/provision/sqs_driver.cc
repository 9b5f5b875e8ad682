// SQS (JSON 1.0): the collector's queue and its dead-letter queue, their attributes and tags.

#include <fmt/format.h>

#include "aws/sqs.h"
#include "provision/aws_drivers.h"
#include "provision/json.h"

namespace cairn::provision {
namespace {

// Attributes holding JSON documents: compared in canonical form.
bool IsJsonAttr(const std::string& name) { return name == "Policy" || name == "RedrivePolicy"; }

class SqsDriver final : public ServiceDriver {
 public:
  explicit SqsDriver(aws::AwsClient* client) : client_(client) {}
  std::string_view service() const override { return "sqs"; }

  Result<std::optional<Resource>> Read(const Resource& desired) override {
    aws::SqsClient sqs(client_);
    Result<std::string> url = sqs.GetQueueUrl(desired.name, desired.region);
    if (!url.ok()) {
      if (url.status().code() == StatusCode::kNotFound) return std::optional<Resource>();
      return url.status();
    }
    Result<std::map<std::string, std::string>> attrs = sqs.GetQueueAttributes(*url, {"All"});
    if (!attrs.ok()) {
      // Deleted between the two calls.
      if (attrs.status().code() == StatusCode::kNotFound) return std::optional<Resource>();
      return attrs.status();
    }
    Resource r{.kind = desired.kind, .name = desired.name, .region = desired.region};
    r.arn = (*attrs)["QueueArn"];
    r.handles["url"] = *url;
    for (const auto& [name, unused] : desired.attrs) {
      if (name == "tags") continue;
      auto it = attrs->find(name);
      if (it == attrs->end() || it->second.empty()) continue;
      if (IsJsonAttr(name)) {
        auto canon = CanonicalJson(it->second);
        r.attrs[name] = canon.ok() ? *canon : it->second;
      } else {
        r.attrs[name] = it->second;
      }
    }
    ASSIGN_OR_RETURN(std::string body, Call("ListQueueTags", *url, desired.region,
                                            JsonValue::Object().Add("QueueUrl", JsonValue::Str(*url)).Dump()));
    ASSIGN_OR_RETURN(JsonValue doc, JsonValue::Parse(body, "SQS ListQueueTags " + *url));
    std::map<std::string, std::string> tags;
    if (const JsonValue* t = doc.Find("Tags"); t != nullptr && t->is_object()) {
      for (const auto& [k, v] : t->members()) tags[k] = v.text();
    }
    auto wanted = ParseTagsText(desired.Attr("tags"));
    r.attrs["tags"] = TagsText(tags, wanted);
    r.managed = !wanted.empty() && r.attrs["tags"] == desired.Attr("tags");
    return std::optional<Resource>(std::move(r));
  }

  Status Create(const Resource& desired, ApplyEffects*) override {
    JsonValue attributes = JsonValue::Object();
    for (const auto& [k, v] : desired.attrs) {
      if (k != "tags") attributes.Add(k, JsonValue::Str(v));
    }
    JsonValue tags = JsonValue::Object();
    for (const auto& [k, v] : ParseTagsText(desired.Attr("tags"))) tags.Add(k, JsonValue::Str(v));
    JsonValue req = JsonValue::Object()
                        .Add("QueueName", JsonValue::Str(desired.name))
                        .Add("Attributes", std::move(attributes))
                        .Add("tags", std::move(tags));
    Result<std::string> body = Call("CreateQueue", desired.name, desired.region, req.Dump());
    return body.status();
  }

  Status Update(const Resource& desired, const Resource& current, const std::vector<AttrChange>& changes,
                ApplyEffects*) override {
    std::string url = current.handles.count("url") ? current.handles.at("url") : "";
    if (url.empty()) return Internal("SQS queue {}: no URL from the read", desired.name);
    JsonValue attributes = JsonValue::Object();
    bool any_attr = false;
    for (const AttrChange& c : changes) {
      if (c.name == "tags") {
        JsonValue tags = JsonValue::Object();
        for (const auto& [k, v] : ParseTagsText(c.to)) tags.Add(k, JsonValue::Str(v));
        RETURN_IF_ERROR(Call("TagQueue", url, desired.region,
                             JsonValue::Object().Add("QueueUrl", JsonValue::Str(url)).Add("Tags", std::move(tags)).Dump())
                            .status());
      } else {
        attributes.Add(c.name, JsonValue::Str(c.to));
        any_attr = true;
      }
    }
    if (any_attr) {
      RETURN_IF_ERROR(Call("SetQueueAttributes", url, desired.region,
                           JsonValue::Object()
                               .Add("QueueUrl", JsonValue::Str(url))
                               .Add("Attributes", std::move(attributes))
                               .Dump())
                          .status());
    }
    return Status::Ok();
  }

  Status Delete(const Resource& current, ApplyEffects*) override {
    std::string url = current.handles.count("url") ? current.handles.at("url") : "";
    Status s = Call("DeleteQueue", url, current.region, JsonValue::Object().Add("QueueUrl", JsonValue::Str(url)).Dump())
                   .status();
    return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
  }

 private:
  Result<std::string> Call(const std::string& action, const std::string& resource, const std::string& region,
                           std::string body) {
    aws::Operation op{.service = "sqs", .api = "SQS " + action, .resource = resource, .region = region};
    return client_->Json(op, "AmazonSQS", action, "1.0", std::move(body));
  }
  aws::AwsClient* client_;
};

}  // namespace

std::unique_ptr<ServiceDriver> NewSqsDriver(aws::AwsClient* client) { return std::make_unique<SqsDriver>(client); }

}  // namespace cairn::provision
