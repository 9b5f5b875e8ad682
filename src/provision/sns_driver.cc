// SNS (Query): one topic per trail region with its policy and tags, and the topic -> queue
// subscriptions.

#include <pugixml.hpp>

#include <fmt/format.h>

#include "aws/sns.h"
#include "provision/aws_drivers.h"
#include "provision/json.h"

namespace cairn::provision {
namespace {

using Params = QueryParams;

// <Attributes><entry><key>..</key><value>..</value></entry>...</Attributes>
std::map<std::string, std::string> ReadEntries(const pugi::xml_document& doc) {
  std::map<std::string, std::string> out;
  pugi::xml_node attrs = doc.find_node([](pugi::xml_node n) { return std::string_view(n.name()) == "Attributes"; });
  for (pugi::xml_node e : attrs.children("entry")) out[e.child_value("key")] = e.child_value("value");
  return out;
}

class SnsDriver final : public ServiceDriver {
 public:
  explicit SnsDriver(aws::AwsClient* client) : client_(client) {}
  std::string_view service() const override { return "sns"; }

  Result<std::optional<Resource>> Read(const Resource& desired) override {
    if (desired.kind == Kind::kSubscription) return ReadSubscription(desired);
    Result<std::unique_ptr<pugi::xml_document>> got =
        Query("GetTopicAttributes", desired.arn, desired.region, {{"TopicArn", desired.arn}});
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) return std::optional<Resource>();
      return got.status();
    }
    auto attrs = ReadEntries(**got);
    Resource r{.kind = Kind::kTopic, .name = desired.name, .region = desired.region, .arn = desired.arn};
    if (!attrs["Policy"].empty()) {
      auto canon = CanonicalJson(attrs["Policy"]);
      r.attrs["Policy"] = canon.ok() ? *canon : attrs["Policy"];
    }
    ASSIGN_OR_RETURN(auto tags, Tags(desired.arn, desired.region));
    auto wanted = ParseTagsText(desired.Attr("tags"));
    r.attrs["tags"] = TagsText(tags, wanted);
    r.managed = !wanted.empty() && r.attrs["tags"] == desired.Attr("tags");
    return std::optional<Resource>(std::move(r));
  }

  Status Create(const Resource& desired, ApplyEffects*) override {
    if (desired.kind == Kind::kSubscription) {
      Params p = {{"TopicArn", desired.name},
                  {"Protocol", desired.Attr("Protocol")},
                  {"Endpoint", desired.Attr("Endpoint")},
                  {"ReturnSubscriptionArn", "true"}};
      aws::AppendQueryMap(&p, "Attributes", {{"RawMessageDelivery", desired.Attr("RawMessageDelivery")}});
      return Query("Subscribe", desired.name, desired.region, p).status();
    }
    Params p = {{"Name", desired.name}};
    aws::AppendQueryMap(&p, "Attributes", {{"Policy", desired.Attr("Policy")}});
    AppendQueryTags(&p, ParseTagsText(desired.Attr("tags")));
    ASSIGN_OR_RETURN(auto doc, Query("CreateTopic", desired.arn, desired.region, p));
    std::string arn = aws::XmlText(*doc, "TopicArn");
    if (arn != desired.arn) {
      return Internal("SNS CreateTopic {}: created {}, expected {} (wrong account or region?)", desired.name, arn,
                      desired.arn);
    }
    return Status::Ok();
  }

  Status Update(const Resource& desired, const Resource& current, const std::vector<AttrChange>& changes,
                ApplyEffects*) override {
    for (const AttrChange& c : changes) {
      if (desired.kind == Kind::kSubscription) {
        if (c.name != "RawMessageDelivery") {
          return Internal("SNS subscription {}: attribute {} cannot change", desired.Describe(), c.name);
        }
        std::string sub = current.handles.count("arn") ? current.handles.at("arn") : "";
        RETURN_IF_ERROR(Query("SetSubscriptionAttributes", sub, desired.region,
                              {{"SubscriptionArn", sub}, {"AttributeName", c.name}, {"AttributeValue", c.to}})
                            .status());
      } else if (c.name == "tags") {
        Params p = {{"ResourceArn", desired.arn}};
        AppendQueryTags(&p, ParseTagsText(c.to));
        RETURN_IF_ERROR(Query("TagResource", desired.arn, desired.region, p).status());
      } else {
        RETURN_IF_ERROR(Query("SetTopicAttributes", desired.arn, desired.region,
                              {{"TopicArn", desired.arn}, {"AttributeName", c.name}, {"AttributeValue", c.to}})
                            .status());
      }
    }
    return Status::Ok();
  }

  Status Delete(const Resource& current, ApplyEffects*) override {
    Status s;
    if (current.kind == Kind::kSubscription) {
      std::string sub = current.handles.count("arn") ? current.handles.at("arn") : "";
      s = Query("Unsubscribe", sub, current.region, {{"SubscriptionArn", sub}}).status();
    } else {
      s = Query("DeleteTopic", current.arn, current.region, {{"TopicArn", current.arn}}).status();
    }
    return s.code() == StatusCode::kNotFound ? Status::Ok() : s;
  }

 private:
  Result<std::optional<Resource>> ReadSubscription(const Resource& desired) {
    const std::string& topic = desired.name;
    std::string token;
    std::string sub_arn;
    do {
      Params p = {{"TopicArn", topic}};
      if (!token.empty()) p.emplace_back("NextToken", token);
      Result<std::unique_ptr<pugi::xml_document>> got = Query("ListSubscriptionsByTopic", topic, desired.region, p);
      if (!got.ok()) {
        if (got.status().code() == StatusCode::kNotFound) return std::optional<Resource>();
        return got.status();
      }
      pugi::xml_node subs = (*got)->find_node(
          [](pugi::xml_node n) { return std::string_view(n.name()) == "Subscriptions"; });
      for (pugi::xml_node m : subs.children("member")) {
        if (std::string_view(m.child_value("Protocol")) == desired.Attr("Protocol") &&
            m.child_value("Endpoint") == desired.Attr("Endpoint")) {
          std::string arn = m.child_value("SubscriptionArn");
          if (arn != "PendingConfirmation") sub_arn = arn;
        }
      }
      token = aws::XmlText(**got, "NextToken");
    } while (!token.empty() && sub_arn.empty());
    if (sub_arn.empty()) return std::optional<Resource>();
    ASSIGN_OR_RETURN(auto doc, Query("GetSubscriptionAttributes", sub_arn, desired.region,
                                     {{"SubscriptionArn", sub_arn}}));
    auto attrs = ReadEntries(*doc);
    Resource r{.kind = Kind::kSubscription, .name = topic, .region = desired.region, .arn = sub_arn};
    r.attrs["Endpoint"] = desired.Attr("Endpoint");
    r.attrs["Protocol"] = desired.Attr("Protocol");
    r.attrs["RawMessageDelivery"] = attrs["RawMessageDelivery"].empty() ? "false" : attrs["RawMessageDelivery"];
    r.handles["arn"] = sub_arn;
    // A subscription is cairn's when its topic is this stack's.
    Result<std::map<std::string, std::string>> tags = Tags(topic, desired.region);
    auto stack = desired.handles.find("stack");
    if (tags.ok() && stack != desired.handles.end()) r.managed = HasStackTags(*tags, stack->second);
    return std::optional<Resource>(std::move(r));
  }

  Result<std::map<std::string, std::string>> Tags(const std::string& arn, const std::string& region) {
    ASSIGN_OR_RETURN(auto doc, Query("ListTagsForResource", arn, region, {{"ResourceArn", arn}}));
    std::map<std::string, std::string> tags;
    pugi::xml_node list = doc->find_node([](pugi::xml_node n) { return std::string_view(n.name()) == "Tags"; });
    for (pugi::xml_node m : list.children("member")) tags[m.child_value("Key")] = m.child_value("Value");
    return tags;
  }

  Result<std::unique_ptr<pugi::xml_document>> Query(const std::string& action, const std::string& resource,
                                                    const std::string& region, const Params& params) {
    aws::Operation op{.service = "sns", .api = "SNS " + action, .resource = resource, .region = region};
    return client_->Query(op, action, kSnsVersion, params);
  }

  aws::AwsClient* client_;
};

}  // namespace

std::unique_ptr<ServiceDriver> NewSnsDriver(aws::AwsClient* client) { return std::make_unique<SnsDriver>(client); }

}  // namespace cairn::provision
