#include "provision/model.h"

#include <fmt/format.h>

#include <algorithm>
#include <cctype>

#include "provision/json.h"
#include "provision/reader_actions.h"

namespace cairn::provision {

const std::vector<std::string>& DefaultCommercialRegions() {
  static const std::vector<std::string> kRegions = {
      "us-east-1",      "us-east-2",      "us-west-1",      "us-west-2",      "ap-south-1",
      "ap-northeast-1", "ap-northeast-2", "ap-northeast-3", "ap-southeast-1", "ap-southeast-2",
      "ca-central-1",   "eu-central-1",   "eu-west-1",      "eu-west-2",      "eu-west-3",
      "eu-north-1",     "sa-east-1"};
  return kRegions;
}

namespace {

bool ValidRegion(std::string_view r) {
  // "us-west-2", "ap-southeast-1", "us-gov-west-1", "cn-north-1": letters, digits and dashes,
  // ending with a digit.
  if (r.size() < 6 || r.size() > 25 || !std::isdigit(static_cast<unsigned char>(r.back())))
    return false;
  for (char c : r) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return std::count(r.begin(), r.end(), '-') >= 2;
}

bool ValidPrefix(std::string_view p) {
  // Used in bucket, queue, topic, trail and IAM names: keep to what all of them accept.
  if (p.empty() || p.size() > 32) return false;
  if (!std::islower(static_cast<unsigned char>(p.front())) &&
      !std::isdigit(static_cast<unsigned char>(p.front()))) {
    return false;
  }
  for (char c : p) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return p.back() != '-' && p.find("--") == std::string_view::npos;
}

bool ValidBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!(std::islower(static_cast<unsigned char>(c)) ||
          std::isdigit(static_cast<unsigned char>(c)) || c == '-' || c == '.')) {
      return false;
    }
  }
  return std::isalnum(static_cast<unsigned char>(b.front())) &&
         std::isalnum(static_cast<unsigned char>(b.back()));
}

}  // namespace

Status ProvisionSpec::Validate() const {
  if (!ValidPrefix(name_prefix)) {
    return InvalidArgument(
        "name prefix \"{}\": use 1-32 lower-case letters, digits and single dashes, starting with "
        "a letter or digit",
        name_prefix);
  }
  if (!ValidRegion(home_region))
    return InvalidArgument("home region \"{}\" is not a region name", home_region);
  for (const auto& r : regions) {
    if (!ValidRegion(r)) return InvalidArgument("regions: \"{}\" is not a region name", r);
    if (PartitionOf(r) != PartitionOf(home_region)) {
      return InvalidArgument("regions: {} is in another partition than the home region {}", r,
                             home_region);
    }
  }
  if (layout == TrailLayout::kPerRegion && !regions.empty() &&
      std::find(regions.begin(), regions.end(), home_region) == regions.end()) {
    return InvalidArgument(
        "regions: the per-region layout needs the home region {} in the list ({} regions given)",
        home_region, regions.size());
  }
  if (!billing_bucket.empty() && !ValidBucket(billing_bucket)) {
    return InvalidArgument(
        "billing bucket \"{}\" is not a valid S3 bucket name (3-63 of a-z 0-9 . -)",
        billing_bucket);
  }
  if (billing_bucket.empty() && !billing_prefix.empty()) {
    return InvalidArgument("a billing prefix needs a billing bucket");
  }
  if (!bucket.empty() && !ValidBucket(bucket)) {
    return InvalidArgument("bucket \"{}\" is not a valid S3 bucket name (3-63 of a-z 0-9 . -)",
                           bucket);
  }
  if (max_receive_count < 1 || max_receive_count > 1000) {
    return InvalidArgument("max_receive_count {} is outside 1..1000", max_receive_count);
  }
  if (visibility_timeout_s < 0 || visibility_timeout_s > 43200) {
    return InvalidArgument("visibility_timeout {}s is outside 0..43200", visibility_timeout_s);
  }
  if (retention_s < 60 || retention_s > 1209600) {
    return InvalidArgument("message retention {}s is outside 60..1209600", retention_s);
  }
  for (const auto& s : skip) {
    if (s != "cloudtrail" && s != "iam" && s != "s3-settings") {
      return InvalidArgument(
          "skip: \"{}\" is not something provisioning can leave out (cloudtrail, iam, s3-settings)",
          s);
    }
  }
  if (!account.empty() &&
      (account.size() != 12 || !std::all_of(account.begin(), account.end(), ::isdigit))) {
    return InvalidArgument("account \"{}\" is not a 12-digit AWS account id", account);
  }
  return Status::Ok();
}

std::string_view KindName(Kind kind) {
  switch (kind) {
    case Kind::kBucket: return "s3 bucket";
    case Kind::kDeadLetterQueue: return "sqs dead-letter queue";
    case Kind::kQueue: return "sqs queue";
    case Kind::kTopic: return "sns topic";
    case Kind::kSubscription: return "sns subscription";
    case Kind::kTrail: return "cloudtrail trail";
    case Kind::kRole: return "iam role";
    case Kind::kUser: return "iam user";
    case Kind::kAccessKey: return "iam access key";
  }
  return "?";
}

std::string_view KindService(Kind kind) {
  switch (kind) {
    case Kind::kBucket: return "s3";
    case Kind::kDeadLetterQueue:
    case Kind::kQueue: return "sqs";
    case Kind::kTopic:
    case Kind::kSubscription: return "sns";
    case Kind::kTrail: return "cloudtrail";
    case Kind::kRole:
    case Kind::kUser:
    case Kind::kAccessKey: return "iam";
  }
  return "?";
}

std::string Resource::Key() const {
  std::string key = fmt::format("{}|{}|{}", static_cast<int>(kind), region, name);
  if (kind == Kind::kSubscription) key += "|" + Attr("Endpoint");
  return key;
}

std::string Resource::Describe() const {
  std::string what = fmt::format("{} {}", KindName(kind), name);
  if (kind == Kind::kSubscription)
    what = fmt::format("{} {} -> {}", KindName(kind), name, Attr("Endpoint"));
  if (kind == Kind::kAccessKey) what = fmt::format("{} of user {}", KindName(kind), name);
  if (!region.empty() && kind != Kind::kSubscription) what += " (" + region + ")";
  return what;
}

std::string Resource::Attr(std::string_view n) const {
  auto it = attrs.find(std::string(n));
  return it == attrs.end() ? std::string() : it->second;
}

std::string PartitionOf(std::string_view region) {
  if (region.starts_with("cn-")) return "aws-cn";
  if (region.starts_with("us-gov-")) return "aws-us-gov";
  return "aws";
}

std::map<std::string, std::string> StackTags(const std::string& stack) {
  return {{std::string(kTagManaged), "true"}, {std::string(kTagStack), stack}};
}

std::string TagsText(const std::map<std::string, std::string>& tags,
                     const std::map<std::string, std::string>& wanted) {
  std::string out;
  for (const auto& [k, unused] : wanted) {
    auto it = tags.find(k);
    if (it == tags.end()) continue;
    if (!out.empty()) out.push_back(',');
    out += k + "=" + it->second;
  }
  return out;
}

bool HasStackTags(const std::map<std::string, std::string>& tags, const std::string& stack) {
  auto m = tags.find(std::string(kTagManaged));
  auto s = tags.find(std::string(kTagStack));
  return m != tags.end() && m->second == "true" && s != tags.end() && s->second == stack;
}

namespace {

JsonValue Statement(std::string sid, JsonValue principal, std::vector<std::string> actions,
                    JsonValue resource, JsonValue condition = JsonValue()) {
  JsonValue s = JsonValue::Object();
  if (!sid.empty()) s.Add("Sid", JsonValue::Str(std::move(sid)));
  s.Add("Effect", JsonValue::Str("Allow"));
  if (principal.type() != JsonValue::Type::kNull) s.Add("Principal", std::move(principal));
  s.Add("Action", actions.size() == 1 ? JsonValue::Str(actions[0]) : JsonValue::StrArray(actions));
  s.Add("Resource", std::move(resource));
  if (condition.type() != JsonValue::Type::kNull) s.Add("Condition", std::move(condition));
  return s;
}

JsonValue ServicePrincipal(std::string service) {
  return JsonValue::Object().Add("Service", JsonValue::Str(std::move(service)));
}

JsonValue Cond(std::string op, std::string key, JsonValue value) {
  return JsonValue::Object().Add(std::move(op),
                                 JsonValue::Object().Add(std::move(key), std::move(value)));
}

JsonValue OneOrMany(const std::vector<std::string>& values) {
  return values.size() == 1 ? JsonValue::Str(values[0]) : JsonValue::StrArray(values);
}

std::string Document(std::vector<JsonValue> statements) {
  return JsonValue::Object()
      .Add("Version", JsonValue::Str("2012-10-17"))
      .Add("Statement", JsonValue::Array(std::move(statements)))
      .Dump();
}

std::vector<std::string> Values(const std::map<std::string, std::string>& m) {
  std::vector<std::string> out;
  for (const auto& [k, v] : m) out.push_back(v);
  return out;
}

}  // namespace

std::string BucketPolicy(const StackNames& n) {
  std::string bucket_arn = fmt::format("arn:{}:s3:::{}", n.partition, n.bucket);
  std::vector<std::string> trails = Values(n.trail_arns);
  JsonValue acl_cond = Cond("StringEquals", "aws:SourceArn", OneOrMany(trails));
  JsonValue write_cond = JsonValue::Object().Add(
      "StringEquals", JsonValue::Object()
                          .Add("s3:x-amz-acl", JsonValue::Str("bucket-owner-full-control"))
                          .Add("aws:SourceArn", OneOrMany(trails)));
  return Document({
      Statement("AWSCloudTrailAclCheck", ServicePrincipal("cloudtrail.amazonaws.com"),
                {"s3:GetBucketAcl"}, JsonValue::Str(bucket_arn), std::move(acl_cond)),
      Statement("AWSCloudTrailWrite", ServicePrincipal("cloudtrail.amazonaws.com"),
                {"s3:PutObject"},
                JsonValue::Str(fmt::format("{}/AWSLogs/{}/*", bucket_arn, n.account)),
                std::move(write_cond)),
  });
}

std::string TopicPolicy(const StackNames& n, const std::string& region) {
  // The trail that publishes here: the region's own trail, or the multi-region trail (whose
  // topic lives in the home region).
  std::string trail_arn =
      n.trail_arns.count(region) ? n.trail_arns.at(region) : n.trail_arns.begin()->second;
  return Document({Statement("AWSCloudTrailSNSPolicy", ServicePrincipal("cloudtrail.amazonaws.com"),
                             {"SNS:Publish"}, JsonValue::Str(n.topic_arns.at(region)),
                             Cond("StringEquals", "aws:SourceArn", JsonValue::Str(trail_arn)))});
}

std::string QueuePolicy(const StackNames& n) {
  return Document({Statement("CairnTrailTopics", ServicePrincipal("sns.amazonaws.com"),
                             {"sqs:SendMessage"}, JsonValue::Str(n.queue_arn),
                             Cond("ArnEquals", "aws:SourceArn", OneOrMany(Values(n.topic_arns))))});
}

std::string RedrivePolicy(const StackNames& n, int max_receive_count) {
  return JsonValue::Object()
      .Add("deadLetterTargetArn", JsonValue::Str(n.dlq_arn))
      .Add("maxReceiveCount", JsonValue::Number(max_receive_count))
      .Dump();
}

namespace {

// "p/q/" for "p/q", "/p/q/" or "p/q/"; "" for "" (the whole bucket).
std::string ReportPrefix(std::string prefix) {
  while (!prefix.empty() && prefix.front() == '/') prefix.erase(0, 1);
  if (!prefix.empty() && prefix.back() != '/') prefix.push_back('/');
  return prefix;
}

}  // namespace

std::string ReaderPolicy(const StackNames& n, bool remove_files_when_done) {
  // Group kReaderActions by resource, keeping first-seen order and dropping duplicates (an action
  // both collect and verify need is granted once).
  std::map<ReaderResource, std::vector<std::string>> by_resource;
  for (const ReaderAction& a : kReaderActions) {
    if (a.use == ReaderUse::kRemoveFilesOnly && !remove_files_when_done) continue;
    if (a.use == ReaderUse::kBillingOnly && n.billing_bucket.empty()) continue;
    auto& list = by_resource[a.resource];
    if (std::find(list.begin(), list.end(), a.action) == list.end()) list.emplace_back(a.action);
  }
  std::string bucket_arn = fmt::format("arn:{}:s3:::{}", n.partition, n.bucket);
  std::vector<JsonValue> statements;
  for (auto& [resource, actions] : by_resource) {
    switch (resource) {
      case ReaderResource::kLogObjects:
        statements.push_back(Statement("ReadLogFiles", JsonValue(), actions,
                                       JsonValue::Str(bucket_arn + "/AWSLogs/*")));
        break;
      case ReaderResource::kBucket:
        statements.push_back(
            Statement("ListLogFiles", JsonValue(), actions, JsonValue::Str(bucket_arn),
                      Cond("StringLike", "s3:prefix", JsonValue::Str("AWSLogs/*"))));
        break;
      case ReaderResource::kQueue:
        statements.push_back(
            Statement("ReceiveNotifications", JsonValue(), actions, JsonValue::Str(n.queue_arn)));
        break;
      case ReaderResource::kTrails:
        statements.push_back(
            Statement("TrailStatus", JsonValue(), actions, OneOrMany(Values(n.trail_arns))));
        break;
      case ReaderResource::kAny:
        statements.push_back(
            Statement("DescribeTrails", JsonValue(), actions, JsonValue::Str("*")));
        break;
      case ReaderResource::kReportObjects:
        statements.push_back(Statement(
            "ReadBillingReports", JsonValue(), actions,
            JsonValue::Str(fmt::format("arn:{}:s3:::{}/{}*", n.partition, n.billing_bucket,
                                       ReportPrefix(n.billing_prefix)))));
        break;
      case ReaderResource::kReportBucket:
        statements.push_back(Statement(
            "ListBillingReports", JsonValue(), actions,
            JsonValue::Str(fmt::format("arn:{}:s3:::{}", n.partition, n.billing_bucket)),
            Cond("StringLike", "s3:prefix", JsonValue::Str(ReportPrefix(n.billing_prefix) + "*"))));
        break;
    }
  }
  return Document(std::move(statements));
}

std::string TrustPolicy(const StackNames& n, const ProvisionSpec& spec) {
  std::string principal = spec.trusted_principal.empty()
                              ? fmt::format("arn:{}:iam::{}:root", n.partition, n.account)
                              : spec.trusted_principal;
  JsonValue cond;
  if (!spec.external_id.empty())
    cond = Cond("StringEquals", "sts:ExternalId", JsonValue::Str(spec.external_id));
  JsonValue s = JsonValue::Object()
                    .Add("Effect", JsonValue::Str("Allow"))
                    .Add("Principal", JsonValue::Object().Add("AWS", JsonValue::Str(principal)))
                    .Add("Action", JsonValue::Str("sts:AssumeRole"));
  if (cond.type() != JsonValue::Type::kNull) s.Add("Condition", std::move(cond));
  return Document({std::move(s)});
}

Result<DesiredState> BuildDesiredState(const ProvisionSpec& spec, const std::string& account) {
  RETURN_IF_ERROR(spec.Validate());
  if (account.size() != 12 || !std::all_of(account.begin(), account.end(), ::isdigit)) {
    return InvalidArgument("account \"{}\" is not a 12-digit AWS account id", account);
  }
  DesiredState d;
  d.spec = spec;
  StackNames& n = d.names;
  n.account = account;
  n.partition = PartitionOf(spec.home_region);
  n.stack = spec.name_prefix;
  n.bucket = spec.bucket.empty() ? fmt::format("{}-cloudtrail-{}", spec.name_prefix, account)
                                 : spec.bucket;
  n.billing_bucket = spec.billing_bucket;
  n.billing_prefix = spec.billing_prefix;
  n.queue = spec.name_prefix + "-cloudtrail";
  n.dlq = spec.name_prefix + "-cloudtrail-dlq";
  n.queue_arn = fmt::format("arn:{}:sqs:{}:{}:{}", n.partition, spec.home_region, account, n.queue);
  n.dlq_arn = fmt::format("arn:{}:sqs:{}:{}:{}", n.partition, spec.home_region, account, n.dlq);
  n.topic = spec.name_prefix + "-cloudtrail";
  n.trail = spec.name_prefix + "-trail";
  n.reader = spec.name_prefix + "-cloudtrail-reader";
  n.reader_policy_name = spec.name_prefix + "-cloudtrail-read";
  if (spec.layout == TrailLayout::kMultiRegion) {
    n.trail_regions = {spec.home_region};
  } else {
    n.trail_regions = spec.regions.empty() ? DefaultCommercialRegions() : spec.regions;
    std::sort(n.trail_regions.begin(), n.trail_regions.end());
    n.trail_regions.erase(std::unique(n.trail_regions.begin(), n.trail_regions.end()),
                          n.trail_regions.end());
    if (std::find(n.trail_regions.begin(), n.trail_regions.end(), spec.home_region) ==
        n.trail_regions.end()) {
      return InvalidArgument("regions: the per-region layout needs the home region {} in the list",
                             spec.home_region);
    }
  }
  for (const auto& r : n.trail_regions) {
    n.topic_arns[r] = fmt::format("arn:{}:sns:{}:{}:{}", n.partition, r, account, n.topic);
    n.trail_arns[r] =
        fmt::format("arn:{}:cloudtrail:{}:{}:trail/{}", n.partition, r, account, n.trail);
  }
  bool role = spec.reader == ReaderKind::kRole;
  n.reader_arn = spec.reader == ReaderKind::kNone
                     ? ""
                     : fmt::format("arn:{}:iam::{}:{}/{}", n.partition, account,
                                   role ? "role" : "user", n.reader);

  std::map<std::string, std::string> tags = StackTags(n.stack);
  std::string tags_text = TagsText(tags, tags);

  Resource bucket{.kind = Kind::kBucket,
                  .name = n.bucket,
                  .region = spec.home_region,
                  .arn = fmt::format("arn:{}:s3:::{}", n.partition, n.bucket)};
  bucket.attrs = {{"policy", BucketPolicy(n)},
                  {"encryption", "AES256"},
                  {"public_access_block",
                   "BlockPublicAcls=true,BlockPublicPolicy=true,IgnorePublicAcls=true,"
                   "RestrictPublicBuckets=true"},
                  {"tags", tags_text}};
  if (spec.Skipped("s3-settings")) {
    // An S3-compatible store without bucket policy/encryption/public-access-block/tagging: the
    // bucket is created and nothing else; unproven ownership means destroy keeps it.
    bucket.attrs.clear();
    d.skipped.push_back(
        fmt::format("s3: policy, encryption, public access block and tags of bucket {} not read or "
                    "changed (skip s3-settings); destroy keeps the bucket",
                    n.bucket));
  }
  d.resources.push_back(bucket);

  Resource dlq{
      .kind = Kind::kDeadLetterQueue, .name = n.dlq, .region = spec.home_region, .arn = n.dlq_arn};
  dlq.attrs = {{"MessageRetentionPeriod", std::to_string(spec.retention_s)}, {"tags", tags_text}};
  d.resources.push_back(dlq);

  Resource queue{
      .kind = Kind::kQueue, .name = n.queue, .region = spec.home_region, .arn = n.queue_arn};
  queue.attrs = {{"Policy", QueuePolicy(n)},
                 {"RedrivePolicy", RedrivePolicy(n, spec.max_receive_count)},
                 {"MessageRetentionPeriod", std::to_string(spec.retention_s)},
                 {"VisibilityTimeout", std::to_string(spec.visibility_timeout_s)},
                 {"tags", tags_text}};
  d.resources.push_back(queue);

  for (const auto& r : n.trail_regions) {
    Resource topic{.kind = Kind::kTopic, .name = n.topic, .region = r, .arn = n.topic_arns[r]};
    topic.attrs = {{"Policy", TopicPolicy(n, r)}, {"tags", tags_text}};
    d.resources.push_back(topic);
  }
  for (const auto& r : n.trail_regions) {
    Resource sub{.kind = Kind::kSubscription, .name = n.topic_arns[r], .region = r};
    sub.attrs = {{"Endpoint", n.queue_arn},
                 {"Protocol", "sqs"},
                 {"RawMessageDelivery", spec.raw_delivery ? "true" : "false"}};
    sub.handles["stack"] = n.stack;
    d.resources.push_back(sub);
  }
  if (spec.Skipped("cloudtrail")) {
    d.skipped.push_back(fmt::format("cloudtrail: {} trail(s) not read or changed (skip cloudtrail)",
                                    n.trail_regions.size()));
  } else {
    for (const auto& r : n.trail_regions) {
      Resource trail{.kind = Kind::kTrail, .name = n.trail, .region = r, .arn = n.trail_arns[r]};
      bool multi = spec.layout == TrailLayout::kMultiRegion;
      trail.attrs = {
          {"S3BucketName", n.bucket},
          {"SnsTopicName", n.topic},
          {"IncludeGlobalServiceEvents", (multi || r == spec.home_region) ? "true" : "false"},
          {"IsMultiRegionTrail", multi ? "true" : "false"},
          {"LogFileValidationEnabled", "true"},
          {"IsLogging", "true"},
          {"tags", tags_text}};
      d.resources.push_back(trail);
    }
  }
  if (spec.reader != ReaderKind::kNone) {
    if (spec.Skipped("iam")) {
      d.skipped.push_back(fmt::format("iam: reader {} {} not read or changed (skip iam)",
                                      role ? "role" : "user", n.reader));
    } else if (role) {
      Resource r{.kind = Kind::kRole, .name = n.reader, .arn = n.reader_arn};
      r.handles["policy_name"] = n.reader_policy_name;
      r.attrs = {{"AssumeRolePolicyDocument", TrustPolicy(n, spec)},
                 {"policy", ReaderPolicy(n, spec.remove_files_when_done)},
                 {"tags", tags_text}};
      d.resources.push_back(r);
    } else {
      Resource u{.kind = Kind::kUser, .name = n.reader, .arn = n.reader_arn};
      u.handles["policy_name"] = n.reader_policy_name;
      u.attrs = {{"policy", ReaderPolicy(n, spec.remove_files_when_done)}, {"tags", tags_text}};
      d.resources.push_back(u);
      Resource key{.kind = Kind::kAccessKey, .name = n.reader};
      key.handles["stack"] = n.stack;
      key.attrs = {{"key_id", ""}};  // filled by the provisioner from the generated config it finds
      d.resources.push_back(key);
    }
  }
  return d;
}

}  // namespace cairn::provision
