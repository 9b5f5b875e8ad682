#include "provision/options.h"

#include <fmt/format.h>

namespace cairn::provision {

const std::vector<std::string>& ProvisionConfigKeys() {
  static const std::vector<std::string> kKeys = {"provision.name_prefix",
                                                 "provision.home_region",
                                                 "provision.regions",
                                                 "provision.bucket",
                                                 "provision.trail_layout",
                                                 "provision.reader",
                                                 "provision.trusted_principal",
                                                 "provision.external_id",
                                                 "provision.raw_delivery",
                                                 "provision.remove_files_when_done",
                                                 "provision.max_receive_count",
                                                 "provision.visibility_timeout",
                                                 "provision.skip",
                                                 "provision.account",
                                                 "provision.out_dir",
                                                 "provision.interval",
                                                 "provision.index",
                                                 "provision.billing_bucket",
                                                 "provision.billing_prefix"};
  return kKeys;
}

Result<TrailLayout> ParseTrailLayout(const std::string& text) {
  if (text == "multi-region" || text == "multi") return TrailLayout::kMultiRegion;
  if (text == "per-region") return TrailLayout::kPerRegion;
  return InvalidArgument("trail layout \"{}\" is not multi-region or per-region", text);
}

Result<ReaderKind> ParseReaderKind(const std::string& text) {
  if (text == "role") return ReaderKind::kRole;
  if (text == "user") return ReaderKind::kUser;
  if (text == "none") return ReaderKind::kNone;
  return InvalidArgument("reader \"{}\" is not role, user or none", text);
}

Result<std::vector<std::string>> ParseRegions(const std::string& text) {
  if (text.empty() || text == "all") return DefaultCommercialRegions();
  std::string list = text == "site" ? std::string(kSiteRegions) : text;
  std::vector<std::string> out;
  size_t pos = 0;
  while (pos <= list.size()) {
    size_t comma = list.find(',', pos);
    if (comma == std::string::npos) comma = list.size();
    std::string r = list.substr(pos, comma - pos);
    r.erase(0, r.find_first_not_of(" \t"));
    r.erase(r.find_last_not_of(" \t") + 1);
    if (r.empty()) return InvalidArgument("regions \"{}\": empty region name in the list", text);
    out.push_back(r);
    pos = comma + 1;
  }
  return out;
}

Status LoadRunOptions(const Config& config, RunOptions* o) {
  auto where = [&](const char* key) { return fmt::format("{} ({})", key, config.Origin(key)); };
  auto str = [&](const char* key, std::string* out) {
    if (auto v = config.GetString(key)) *out = *v;
  };
  ProvisionSpec& s = o->spec;
  str("provision.name_prefix", &s.name_prefix);
  str("provision.home_region", &s.home_region);
  str("provision.bucket", &s.bucket);
  str("provision.trusted_principal", &s.trusted_principal);
  str("provision.external_id", &s.external_id);
  str("provision.billing_bucket", &s.billing_bucket);
  str("provision.billing_prefix", &s.billing_prefix);
  str("provision.account", &s.account);
  str("provision.out_dir", &o->out_dir);
  str("provision.index", &o->collector.index);
  if (auto v = config.GetString("provision.regions")) {
    auto r = ParseRegions(*v);
    if (!r.ok()) return r.status().WithContext(where("provision.regions"));
    s.regions = *r;
  }
  if (auto v = config.GetString("provision.trail_layout")) {
    auto l = ParseTrailLayout(*v);
    if (!l.ok()) return l.status().WithContext(where("provision.trail_layout"));
    s.layout = *l;
  }
  if (auto v = config.GetString("provision.reader")) {
    auto r = ParseReaderKind(*v);
    if (!r.ok()) return r.status().WithContext(where("provision.reader"));
    s.reader = *r;
  }
  if (auto v = config.GetString("provision.skip")) {
    ASSIGN_OR_RETURN(auto list,
                     ParseRegions(*v == "all" ? std::string("cloudtrail,iam,s3-settings") : *v));
    s.skip.clear();
    for (auto& x : list) s.skip.insert(x);
  }
  ASSIGN_OR_RETURN(s.raw_delivery, config.GetBool("provision.raw_delivery", s.raw_delivery));
  ASSIGN_OR_RETURN(s.remove_files_when_done,
                   config.GetBool("provision.remove_files_when_done", s.remove_files_when_done));
  ASSIGN_OR_RETURN(int64_t mrc, config.GetInt("provision.max_receive_count", s.max_receive_count));
  s.max_receive_count = static_cast<int>(mrc);
  ASSIGN_OR_RETURN(int64_t vis, config.GetDurationMillis("provision.visibility_timeout",
                                                         s.visibility_timeout_s * 1000LL));
  s.visibility_timeout_s = static_cast<int>(vis / 1000);
  ASSIGN_OR_RETURN(int64_t interval, config.GetDurationMillis("provision.interval",
                                                              o->collector.interval_s * 1000LL));
  o->collector.interval_s = static_cast<int>(interval / 1000);
  // Custom endpoints go into the generated config so the collector talks to the same place.
  for (const std::string& key : config.Keys()) {
    if (key == "aws.endpoint_url" || key.starts_with("aws.endpoint_url_") ||
        key == "aws.s3_virtual_host") {
      o->collector.aws_settings[key.substr(4)] = *config.GetString(key);
    }
  }
  return s.Validate();
}

}  // namespace cairn::provision
