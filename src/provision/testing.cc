#include "provision/testing.h"

#include <fmt/format.h>

namespace cairn::provision::testing {

Status FakeCloud::Injected(const std::string& op, const Resource& r) {
  std::string what = r.Describe();
  for (size_t i = 0; i < failures_.size(); ++i) {
    if (failures_[i].op == op && what.find(failures_[i].match) != std::string::npos) {
      Status s = failures_[i].status;
      failures_.erase(failures_.begin() + static_cast<long>(i));
      return s;
    }
  }
  return Status::Ok();
}

void FakeCloud::FailOnce(const std::string& op, const std::string& match, Status status) {
  failures_.push_back({op, match, std::move(status)});
}

class FakeDriver final : public ServiceDriver {
 public:
  FakeDriver(FakeCloud* cloud, std::string service) : cloud_(cloud), service_(std::move(service)) {}
  std::string_view service() const override { return service_; }

  Result<std::optional<Resource>> Read(const Resource& desired) override {
    RETURN_IF_ERROR(cloud_->Injected("Read", desired));
    auto it = cloud_->resources.find(desired.Key());
    if (it == cloud_->resources.end()) return std::optional<Resource>();
    Resource r = it->second;
    auto stack = desired.handles.find("stack");
    if (desired.kind == Kind::kSubscription || desired.kind == Kind::kAccessKey) {
      // Owned through the parent: the topic named by the subscription, the key's user.
      for (const auto& [k, p] : cloud_->resources) {
        bool parent = desired.kind == Kind::kSubscription ? (p.kind == Kind::kTopic && p.arn == desired.name)
                                                           : (p.kind == Kind::kUser && p.name == desired.name);
        if (parent && stack != desired.handles.end()) {
          r.managed = HasStackTags(ParseTagsText(p.Attr("tags")), stack->second);
        }
      }
      if (desired.kind == Kind::kAccessKey) {
        r.handles["key_ids"] = r.Attr("key_id");
        if (r.Attr("key_id").empty()) r.attrs["key_id"] = "(none)";
      }
    } else {
      auto all = ParseTagsText(r.Attr("tags"));
      auto wanted = ParseTagsText(desired.Attr("tags"));
      r.attrs["tags"] = TagsText(all, wanted);
      r.managed = !wanted.empty() && r.attrs["tags"] == desired.Attr("tags");
      for (const auto& [k, v] : all) r.handles["tag:" + k] = v;
    }
    return std::optional<Resource>(std::move(r));
  }

  Status Create(const Resource& desired, ApplyEffects* effects) override {
    RETURN_IF_ERROR(cloud_->Injected("Create", desired));
    cloud_->calls.push_back("Create " + desired.Describe());
    Resource r = desired;
    r.handles.clear();
    if (r.kind == Kind::kAccessKey) NewKey(&r, effects);
    cloud_->resources[r.Key()] = std::move(r);
    return Status::Ok();
  }

  Status Update(const Resource& desired, const Resource&, const std::vector<AttrChange>& changes,
                ApplyEffects* effects) override {
    RETURN_IF_ERROR(cloud_->Injected("Update", desired));
    cloud_->calls.push_back("Update " + desired.Describe());
    auto it = cloud_->resources.find(desired.Key());
    if (it == cloud_->resources.end()) return NotFound("{}: does not exist", desired.Describe());
    for (const AttrChange& c : changes) {
      if (c.name == "tags") {
        auto all = ParseTagsText(it->second.Attr("tags"));
        for (const auto& [k, v] : ParseTagsText(c.to)) all[k] = v;
        it->second.attrs["tags"] = TagsText(all, all);
      } else {
        it->second.attrs[c.name] = c.to;
      }
    }
    if (desired.kind == Kind::kAccessKey) NewKey(&it->second, effects);
    return Status::Ok();
  }

  Status Delete(const Resource& current, ApplyEffects*) override {
    RETURN_IF_ERROR(cloud_->Injected("Delete", current));
    cloud_->calls.push_back("Delete " + current.Describe());
    cloud_->resources.erase(current.Key());
    return Status::Ok();
  }

 private:
  void NewKey(Resource* r, ApplyEffects* effects) {
    ++cloud_->keys_issued;
    effects->access_key_id = fmt::format("AKIAFAKE{:08d}", cloud_->keys_issued);
    effects->secret_access_key = fmt::format("fake-secret-{}", cloud_->keys_issued);
    r->attrs["key_id"] = effects->access_key_id;
  }
  FakeCloud* cloud_;
  std::string service_;
};

std::unique_ptr<ServiceDriver> FakeCloud::Driver(const std::string& service) {
  return std::make_unique<FakeDriver>(this, service);
}

std::vector<std::unique_ptr<ServiceDriver>> FakeCloud::AllDrivers() {
  std::vector<std::unique_ptr<ServiceDriver>> out;
  for (const char* s : {"s3", "sqs", "sns", "cloudtrail", "iam"}) out.push_back(Driver(s));
  return out;
}

}  // namespace cairn::provision::testing
