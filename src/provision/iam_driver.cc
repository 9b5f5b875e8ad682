// IAM (Query, version 2010-05-08, global): the reader role (trust policy + inline policy) or the
// reader user (inline policy + access key). IAM returns policy documents URL-encoded (RFC 3986);
// they are decoded before comparison.

#include <pugixml.hpp>

#include <fmt/format.h>

#include "aws/http.h"
#include "provision/aws_drivers.h"
#include "provision/json.h"

namespace cairn::provision {
namespace {

using Params = QueryParams;

pugi::xml_node FindNode(const pugi::xml_node& root, std::string_view name) {
  return root.find_node([&](pugi::xml_node n) { return std::string_view(n.name()) == name; });
}

std::string DecodedPolicy(std::string_view encoded) {
  std::string text = aws::UriDecode(encoded);
  auto canon = CanonicalJson(text);
  return canon.ok() ? *canon : text;
}

std::map<std::string, std::string> ReadTags(const pugi::xml_node& entity) {
  std::map<std::string, std::string> tags;
  for (pugi::xml_node m : entity.child("Tags").children("member")) tags[m.child_value("Key")] = m.child_value("Value");
  return tags;
}

class IamDriver final : public ServiceDriver {
 public:
  explicit IamDriver(aws::AwsClient* client) : client_(client) {}
  std::string_view service() const override { return "iam"; }

  Result<std::optional<Resource>> Read(const Resource& desired) override {
    switch (desired.kind) {
      case Kind::kRole: return ReadEntity(desired, "Role");
      case Kind::kUser: return ReadEntity(desired, "User");
      case Kind::kAccessKey: return ReadKeys(desired);
      default: return Internal("IAM driver: cannot read {}", desired.Describe());
    }
  }

  Status Create(const Resource& desired, ApplyEffects* effects) override {
    if (desired.kind == Kind::kAccessKey) return NewKey(desired, Resource{}, effects);
    bool role = desired.kind == Kind::kRole;
    Params p = {{role ? "RoleName" : "UserName", desired.name}};
    if (role) {
      p.emplace_back("AssumeRolePolicyDocument", desired.Attr("AssumeRolePolicyDocument"));
      p.emplace_back("Description", "cairn: reads CloudTrail log files and notifications");
    }
    AppendQueryTags(&p, ParseTagsText(desired.Attr("tags")));
    Status created = Query(role ? "CreateRole" : "CreateUser", desired.name, p).status();
    if (!created.ok()) return created;
    return PutPolicy(desired, desired.Attr("policy"));
  }

  Status Update(const Resource& desired, const Resource& current, const std::vector<AttrChange>& changes,
                ApplyEffects* effects) override {
    if (desired.kind == Kind::kAccessKey) return NewKey(desired, current, effects);
    bool role = desired.kind == Kind::kRole;
    for (const AttrChange& c : changes) {
      if (c.name == "policy") {
        RETURN_IF_ERROR(PutPolicy(desired, c.to));
      } else if (c.name == "AssumeRolePolicyDocument") {
        RETURN_IF_ERROR(
            Query("UpdateAssumeRolePolicy", desired.name, {{"RoleName", desired.name}, {"PolicyDocument", c.to}})
                .status());
      } else if (c.name == "tags") {
        Params p = {{role ? "RoleName" : "UserName", desired.name}};
        AppendQueryTags(&p, ParseTagsText(c.to));
        RETURN_IF_ERROR(Query(role ? "TagRole" : "TagUser", desired.name, p).status());
      } else {
        return Internal("IAM {}: no way to set attribute {}", desired.Describe(), c.name);
      }
    }
    return Status::Ok();
  }

  Status Delete(const Resource& current, ApplyEffects*) override {
    auto ignore_missing = [](Status s) { return s.code() == StatusCode::kNotFound ? Status::Ok() : s; };
    if (current.kind == Kind::kAccessKey) {
      for (const auto& id : KeyIds(current)) {
        RETURN_IF_ERROR(ignore_missing(
            Query("DeleteAccessKey", current.name, {{"UserName", current.name}, {"AccessKeyId", id}}).status()));
      }
      return Status::Ok();
    }
    bool role = current.kind == Kind::kRole;
    const char* who = role ? "RoleName" : "UserName";
    std::string policy_name = current.handles.count("policy_name") ? current.handles.at("policy_name") : "";
    if (!policy_name.empty()) {
      RETURN_IF_ERROR(ignore_missing(Query(role ? "DeleteRolePolicy" : "DeleteUserPolicy", current.name,
                                           {{who, current.name}, {"PolicyName", policy_name}})
                                         .status()));
    }
    return ignore_missing(Query(role ? "DeleteRole" : "DeleteUser", current.name, {{who, current.name}}).status());
  }

 private:
  Result<std::optional<Resource>> ReadEntity(const Resource& desired, const char* entity) {
    bool role = desired.kind == Kind::kRole;
    const char* who = role ? "RoleName" : "UserName";
    Result<std::unique_ptr<pugi::xml_document>> got =
        Query(role ? "GetRole" : "GetUser", desired.name, {{who, desired.name}});
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) return std::optional<Resource>();
      return got.status();
    }
    pugi::xml_node node = FindNode(**got, entity);
    Resource r{.kind = desired.kind, .name = desired.name};
    r.arn = node.child_value("Arn");
    if (role) r.attrs["AssumeRolePolicyDocument"] = DecodedPolicy(node.child_value("AssumeRolePolicyDocument"));
    std::map<std::string, std::string> tags = ReadTags(node);
    auto wanted = ParseTagsText(desired.Attr("tags"));
    r.attrs["tags"] = TagsText(tags, wanted);
    r.managed = !wanted.empty() && r.attrs["tags"] == desired.Attr("tags");
    std::string policy_name = PolicyName(desired);
    Result<std::unique_ptr<pugi::xml_document>> policy =
        Query(role ? "GetRolePolicy" : "GetUserPolicy", desired.name, {{who, desired.name}, {"PolicyName", policy_name}});
    if (policy.ok()) {
      r.attrs["policy"] = DecodedPolicy(aws::XmlText(**policy, "PolicyDocument"));
      r.handles["policy_name"] = policy_name;
    } else if (policy.status().code() != StatusCode::kNotFound) {
      return policy.status();
    }
    return std::optional<Resource>(std::move(r));
  }

  Result<std::optional<Resource>> ReadKeys(const Resource& desired) {
    Result<std::unique_ptr<pugi::xml_document>> got =
        Query("ListAccessKeys", desired.name, {{"UserName", desired.name}});
    if (!got.ok()) {
      if (got.status().code() == StatusCode::kNotFound) return std::optional<Resource>();
      return got.status();
    }
    std::vector<std::string> ids;
    pugi::xml_node list = FindNode(**got, "AccessKeyMetadata");
    for (pugi::xml_node m : list.children("member")) ids.emplace_back(m.child_value("AccessKeyId"));
    Resource r{.kind = Kind::kAccessKey, .name = desired.name};
    std::string want = desired.Attr("key_id");
    std::string joined;
    for (const auto& id : ids) joined += (joined.empty() ? "" : ",") + id;
    r.attrs["key_id"] = std::find(ids.begin(), ids.end(), want) != ids.end() ? want : (joined.empty() ? "(none)" : joined);
    r.handles["key_ids"] = joined;
    // The key is cairn's when its user is this stack's.
    Result<std::unique_ptr<pugi::xml_document>> user = Query("GetUser", desired.name, {{"UserName", desired.name}});
    auto stack = desired.handles.find("stack");
    if (user.ok() && stack != desired.handles.end()) {
      r.managed = HasStackTags(ReadTags(FindNode(**user, "User")), stack->second);
    }
    return std::optional<Resource>(std::move(r));
  }

  // Creates a key, hands its secret to `effects` (never to a log), then deletes the user's
  // other keys (IAM allows two; the old one is no longer in any config cairn wrote).
  Status NewKey(const Resource& desired, const Resource& current, ApplyEffects* effects) {
    ASSIGN_OR_RETURN(auto doc, Query("CreateAccessKey", desired.name, {{"UserName", desired.name}}));
    pugi::xml_node key = FindNode(*doc, "AccessKey");
    effects->access_key_id = key.child_value("AccessKeyId");
    effects->secret_access_key = key.child_value("SecretAccessKey");
    if (effects->access_key_id.empty() || effects->secret_access_key.empty()) {
      return Corruption("IAM CreateAccessKey {}: response has no AccessKeyId/SecretAccessKey", desired.name);
    }
    for (const auto& id : KeyIds(current)) {
      if (id == effects->access_key_id) continue;
      Status s = Query("DeleteAccessKey", desired.name, {{"UserName", desired.name}, {"AccessKeyId", id}}).status();
      if (!s.ok() && s.code() != StatusCode::kNotFound) return s;
      effects->notes.push_back(fmt::format("iam access key {} of user {} deleted (replaced by {})", id, desired.name,
                                           effects->access_key_id));
    }
    return Status::Ok();
  }

  static std::vector<std::string> KeyIds(const Resource& r) {
    std::vector<std::string> out;
    auto it = r.handles.find("key_ids");
    if (it == r.handles.end()) return out;
    std::string_view s = it->second;
    size_t pos = 0;
    while (pos < s.size()) {
      size_t comma = s.find(',', pos);
      if (comma == std::string_view::npos) comma = s.size();
      if (comma > pos) out.emplace_back(s.substr(pos, comma - pos));
      pos = comma + 1;
    }
    return out;
  }

  static std::string PolicyName(const Resource& desired) {
    auto it = desired.handles.find("policy_name");
    return it == desired.handles.end() ? desired.name : it->second;
  }

  Status PutPolicy(const Resource& desired, const std::string& document) {
    bool role = desired.kind == Kind::kRole;
    return Query(role ? "PutRolePolicy" : "PutUserPolicy", desired.name,
                 {{role ? "RoleName" : "UserName", desired.name},
                  {"PolicyName", PolicyName(desired)},
                  {"PolicyDocument", document}})
        .status();
  }

  Result<std::unique_ptr<pugi::xml_document>> Query(const std::string& action, const std::string& resource,
                                                    const Params& params) {
    aws::Operation op{.service = "iam", .api = "IAM " + action, .resource = resource};
    return client_->Query(op, action, kIamVersion, params);
  }

  aws::AwsClient* client_;
};

}  // namespace

std::unique_ptr<ServiceDriver> NewIamDriver(aws::AwsClient* client) { return std::make_unique<IamDriver>(client); }

}  // namespace cairn::provision
