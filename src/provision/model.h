#pragma once
// The resource model: what `cairn provision` wants to exist (the desired state), built from a
// ProvisionSpec and the account id, with every name, ARN and policy document computed up front.
//
// A Resource is one thing AWS holds (a bucket, a queue, a topic, a subscription, a trail, a role
// or user, an access key) with the attributes cairn manages, each as canonical text so that the
// differ compares strings: policies as JSON text (compared in canonical form, json.h), tags as
// "k=v,k=v" (only cairn's keys), booleans as "true"/"false". Sub-resources that AWS sets with their
// own calls (bucket policy, encryption, public access block, a trail's logging status, a role's
// inline policy) are attributes of their parent, so one resource reads as one line of the plan.
//
// Thread safety: plain data.

#include <map>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::provision {

enum class TrailLayout { kMultiRegion, kPerRegion };
enum class ReaderKind { kRole, kUser, kNone };

// The regions enabled by default in every commercial account (opt-in regions must be listed).
const std::vector<std::string>& DefaultCommercialRegions();
// The original site's five regions.
inline constexpr std::string_view kSiteRegions =
    "us-east-1,us-west-1,us-west-2,eu-west-1,sa-east-1";

struct ProvisionSpec {
  std::string name_prefix = "cairn";  // stack name; prefix of every resource name
  std::string home_region = "us-west-2";
  std::vector<std::string> regions;  // per-region layout; empty = DefaultCommercialRegions()
  std::string bucket;                // "" = "<prefix>-cloudtrail-<account>"
  TrailLayout layout = TrailLayout::kMultiRegion;
  ReaderKind reader = ReaderKind::kRole;
  std::string trusted_principal;        // role trust; "" = arn:<partition>:iam::<account>:root
  std::string external_id;              // role trust condition sts:ExternalId ("" = none)
  bool raw_delivery = false;            // SNS RawMessageDelivery on the subscriptions
  bool remove_files_when_done = false;  // reader may s3:DeleteObject
  // The cost and usage report bucket the reader may read (cairn billing); "" = none. The prefix
  // is the report path prefix inside it ("" = the whole bucket).
  std::string billing_bucket;
  std::string billing_prefix;
  int max_receive_count = 5;  // redrive to the dead-letter queue after this many receives
  int visibility_timeout_s = 300;
  int retention_s = 1209600;  // 14 days: a stopped collector loses nothing for two weeks
  // What to leave alone, for emulators: "cloudtrail", "iam", "s3-settings" (bucket policy,
  // encryption, public access block and tags).
  std::set<std::string> skip;
  std::string account;  // "" = ask STS GetCallerIdentity

  // Checks names, regions and numbers; errors name the option.
  Status Validate() const;
  bool Skipped(std::string_view service) const { return skip.count(std::string(service)) > 0; }
};

enum class Kind {
  kBucket,
  kDeadLetterQueue,
  kQueue,
  kTopic,
  kSubscription,
  kTrail,
  kRole,
  kUser,
  kAccessKey
};

// "s3 bucket", "sqs queue", ... as the plan prints them.
std::string_view KindName(Kind kind);
// The service that owns resources of `kind`: s3 sqs sns cloudtrail iam.
std::string_view KindService(Kind kind);

struct Resource {
  Kind kind = Kind::kBucket;
  std::string name = {};  // bucket, queue, topic, trail, role or user name; subscription: topic ARN
  std::string region = {};  // "" for IAM (global)
  std::string arn = {};     // computed for desired resources; as read for observed ones
  std::map<std::string, std::string> attrs = {};  // managed attributes, canonical text (diffed)
  // Not diffed. Observed: what Update/Delete need (queue URL, subscription ARN, key ids).
  // Desired: "stack" for kinds without tags of their own (subscriptions, access keys).
  std::map<std::string, std::string> handles = {};
  bool managed =
      false;  // observed only: carries this stack's tags (or belongs to a resource that does)

  // Identity: kind, region, name (and the endpoint for subscriptions).
  std::string Key() const;
  // "sns topic cairn-cloudtrail (us-east-1)".
  std::string Describe() const;
  std::string Attr(std::string_view name) const;
};

// The names and ARNs everything else refers to.
struct StackNames {
  std::string account;
  std::string partition;  // aws, aws-cn, aws-us-gov
  std::string stack;      // = name_prefix
  std::string bucket;
  std::string queue, queue_arn;
  std::string dlq, dlq_arn;
  std::string topic;                              // the same name in every region
  std::map<std::string, std::string> topic_arns;  // region -> ARN
  std::string trail;                              // the same name in every region
  std::map<std::string, std::string> trail_arns;  // region -> ARN (one entry when multi-region)
  std::string reader;                             // role or user name
  std::string reader_arn;
  std::string reader_policy_name;
  std::vector<std::string> trail_regions;      // where trails (and topics) live
  std::string billing_bucket, billing_prefix;  // ProvisionSpec's; "" = no billing grant
};

struct DesiredState {
  ProvisionSpec spec;
  StackNames names;
  std::vector<Resource> resources;   // in creation order
  std::vector<std::string> skipped;  // "cloudtrail: 5 trails not managed (--skip cloudtrail)"
};

// The partition of a region: "aws-cn" for cn-*, "aws-us-gov" for us-gov-*, else "aws".
std::string PartitionOf(std::string_view region);

// Builds the desired state. `spec` must be valid and `account` a 12-digit id.
Result<DesiredState> BuildDesiredState(const ProvisionSpec& spec, const std::string& account);

// Tags every cairn-created resource carries.
inline constexpr std::string_view kTagManaged = "cairn:managed";
inline constexpr std::string_view kTagStack = "cairn:stack";
std::map<std::string, std::string> StackTags(const std::string& stack);
// "k=v,k=v" over the keys of `wanted` only (other tags on the resource are not cairn's business).
std::string TagsText(const std::map<std::string, std::string>& tags,
                     const std::map<std::string, std::string>& wanted);
// True when `tags` holds this stack's tags.
bool HasStackTags(const std::map<std::string, std::string>& tags, const std::string& stack);

// The policy documents (compact JSON, statement order fixed). Tests check them field by field.
std::string BucketPolicy(const StackNames& n);
std::string TopicPolicy(const StackNames& n, const std::string& region);
std::string QueuePolicy(const StackNames& n);
std::string RedrivePolicy(const StackNames& n, int max_receive_count);
std::string ReaderPolicy(const StackNames& n, bool remove_files_when_done);
std::string TrustPolicy(const StackNames& n, const ProvisionSpec& spec);

}  // namespace cairn::provision
