// CloudTrail (JSON 1.1, X-Amz-Target com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.<Action>):
// the trail(s), their logging status and tags. Each call goes to the trail's own region.

#include <fmt/format.h>

#include "provision/aws_drivers.h"
#include "provision/json.h"

namespace cairn::provision {
namespace {

// Desired attribute -> the CreateTrail/UpdateTrail parameter that sets it.
std::string_view ParamFor(std::string_view attr) {
  if (attr == "LogFileValidationEnabled") return "EnableLogFileValidation";
  return attr;
}

bool IsBoolAttr(std::string_view attr) {
  return attr == "IncludeGlobalServiceEvents" || attr == "IsMultiRegionTrail" || attr == "LogFileValidationEnabled";
}

JsonValue TagsList(const std::map<std::string, std::string>& tags) {
  JsonValue list = JsonValue::Array();
  for (const auto& [k, v] : tags) {
    list.Push(JsonValue::Object().Add("Key", JsonValue::Str(k)).Add("Value", JsonValue::Str(v)));
  }
  return list;
}

class CloudTrailDriver final : public ServiceDriver {
 public:
  explicit CloudTrailDriver(aws::AwsClient* client) : client_(client) {}
  std::string_view service() const override { return "cloudtrail"; }

  Result<std::optional<Resource>> Read(const Resource& desired) override {
    JsonValue req = JsonValue::Object()
                        .Add("trailNameList", JsonValue::StrArray({desired.arn}))
                        .Add("includeShadowTrails", JsonValue::Bool(false));
    Result<JsonValue> got = Call("DescribeTrails", desired.arn, desired.region, req);
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) return std::optional<Resource>();
      return got.status();
    }
    const JsonValue* list = got->Find("trailList");
    const JsonValue* trail = nullptr;
    if (list != nullptr) {
      for (const auto& t : list->items()) {
        if (t.GetText("TrailARN") == desired.arn || (t.GetText("Name") == desired.name &&
                                                     t.GetText("HomeRegion") == desired.region)) {
          trail = &t;
        }
      }
    }
    if (trail == nullptr) return std::optional<Resource>();
    Resource r{.kind = Kind::kTrail, .name = desired.name, .region = desired.region};
    r.arn = trail->GetText("TrailARN");
    r.attrs["S3BucketName"] = trail->GetText("S3BucketName");
    std::string topic = trail->GetText("SnsTopicName");
    std::string topic_arn = trail->GetText("SnsTopicARN");
    if (!topic_arn.empty()) topic = topic_arn.substr(topic_arn.rfind(':') + 1);
    r.attrs["SnsTopicName"] = topic;
    for (const char* b : {"IncludeGlobalServiceEvents", "IsMultiRegionTrail", "LogFileValidationEnabled"}) {
      r.attrs[b] = trail->GetText(b) == "true" ? "true" : "false";
    }
    ASSIGN_OR_RETURN(JsonValue status, Call("GetTrailStatus", r.arn, desired.region,
                                            JsonValue::Object().Add("Name", JsonValue::Str(r.arn))));
    r.attrs["IsLogging"] = status.GetText("IsLogging") == "true" ? "true" : "false";
    ASSIGN_OR_RETURN(JsonValue tagged, Call("ListTags", r.arn, desired.region,
                                            JsonValue::Object().Add("ResourceIdList", JsonValue::StrArray({r.arn}))));
    std::map<std::string, std::string> tags;
    if (const JsonValue* rl = tagged.Find("ResourceTagList"); rl != nullptr) {
      for (const auto& res : rl->items()) {
        if (const JsonValue* tl = res.Find("TagsList"); tl != nullptr) {
          for (const auto& t : tl->items()) tags[t.GetText("Key")] = t.GetText("Value");
        }
      }
    }
    auto wanted = ParseTagsText(desired.Attr("tags"));
    r.attrs["tags"] = TagsText(tags, wanted);
    r.managed = !wanted.empty() && r.attrs["tags"] == desired.Attr("tags");
    return std::optional<Resource>(std::move(r));
  }

  Status Create(const Resource& desired, ApplyEffects*) override {
    JsonValue req = JsonValue::Object()
                        .Add("Name", JsonValue::Str(desired.name))
                        .Add("S3BucketName", JsonValue::Str(desired.Attr("S3BucketName")))
                        .Add("SnsTopicName", JsonValue::Str(desired.Attr("SnsTopicName")));
    for (const char* b : {"IncludeGlobalServiceEvents", "IsMultiRegionTrail", "LogFileValidationEnabled"}) {
      req.Add(std::string(ParamFor(b)), JsonValue::Bool(desired.Attr(b) == "true"));
    }
    req.Add("TagsList", TagsList(ParseTagsText(desired.Attr("tags"))));
    RETURN_IF_ERROR(Call("CreateTrail", desired.arn, desired.region, req).status());
    if (desired.Attr("IsLogging") == "true") {
      RETURN_IF_ERROR(Call("StartLogging", desired.arn, desired.region,
                           JsonValue::Object().Add("Name", JsonValue::Str(desired.arn)))
                          .status());
    }
    return Status::Ok();
  }

  Status Update(const Resource& desired, const Resource& current, const std::vector<AttrChange>& changes,
                ApplyEffects*) override {
    std::string arn = current.arn.empty() ? desired.arn : current.arn;
    JsonValue update = JsonValue::Object().Add("Name", JsonValue::Str(arn));
    bool any = false;
    std::optional<bool> logging;
    for (const AttrChange& c : changes) {
      if (c.name == "tags") {
        RETURN_IF_ERROR(Call("AddTags", arn, desired.region,
                             JsonValue::Object()
                                 .Add("ResourceId", JsonValue::Str(arn))
                                 .Add("TagsList", TagsList(ParseTagsText(c.to))))
                            .status());
      } else if (c.name == "IsLogging") {
        logging = c.to == "true";
      } else if (IsBoolAttr(c.name)) {
        update.Add(std::string(ParamFor(c.name)), JsonValue::Bool(c.to == "true"));
        any = true;
      } else {
        update.Add(c.name, JsonValue::Str(c.to));
        any = true;
      }
    }
    if (any) RETURN_IF_ERROR(Call("UpdateTrail", arn, desired.region, update).status());
    if (logging) {
      RETURN_IF_ERROR(Call(*logging ? "StartLogging" : "StopLogging", arn, desired.region,
                           JsonValue::Object().Add("Name", JsonValue::Str(arn)))
                          .status());
    }
    return Status::Ok();
  }

  Status Delete(const Resource& current, ApplyEffects*) override {
    Status s = Call("DeleteTrail", current.arn, current.region,
                    JsonValue::Object().Add("Name", JsonValue::Str(current.arn)))
                   .status();
    return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
  }

 private:
  Result<JsonValue> Call(const std::string& action, const std::string& resource, const std::string& region,
                         const JsonValue& body) {
    aws::Operation op{.service = "cloudtrail", .api = "CloudTrail " + action, .resource = resource, .region = region};
    ASSIGN_OR_RETURN(std::string text, client_->Json(op, kCloudTrailTarget, action, "1.1", body.Dump()));
    if (text.empty()) return JsonValue::Object();
    return JsonValue::Parse(text, "CloudTrail " + action + " " + resource + " response");
  }
  aws::AwsClient* client_;
};

}  // namespace

std::unique_ptr<ServiceDriver> NewCloudTrailDriver(aws::AwsClient* client) {
  return std::make_unique<CloudTrailDriver>(client);
}

}  // namespace cairn::provision
