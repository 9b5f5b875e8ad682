#pragma once
// The catalog of API calls the generator draws from: a few hundred eventNames over ~40 services,
// each with a relative weight (heavy-tailed), flags, and templates for requestParameters,
// responseElements and resources. Templates are JSON text with @var@ placeholders that the event
// writer fills from the account's resource population (see Var).
//
// The catalog is immutable after construction and safe to share between threads.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::generate {

// Placeholders usable in templates. Each is resolved at most once per event, so a bucket named in
// requestParameters is the same bucket named in resources.
enum class Var : uint8_t {
  kAcct, kRegion, kAz, kBucket, kObjKey, kInstance, kVolume, kSnapshot, kAmi, kVpc, kSubnet, kSg,
  kEni, kUser, kRole, kRoleArn, kPolicyArn, kPolicyName, kFn, kFnArn, kTable, kQueueUrl,
  kQueueName, kTopicArn, kSecret, kSecretArn, kKmsKey, kKmsArn, kLogGroup, kLogStream, kStack,
  kStackId, kCluster, kRepo, kUuid, kUuid2, kReqId, kHex8, kHex17, kNum, kBytes, kTime, kEpochMs,
  kTrail, kTrailArn, kDetector, kZone, kDist, kNewKey, kSessName, kParam, kIp, kCallerArn,
  kDbInstance, kLb, kApi, kAlarm, kRule, kStream, kSfn, kCount
};
inline constexpr int kVarCount = static_cast<int>(Var::kCount);

// A template compiled into literal pieces and placeholders.
struct Template {
  struct Piece {
    std::string_view literal;  // appended as is (points into the catalog's static text)
    int var = -1;              // >= 0: a Var to substitute after the literal
  };
  std::vector<Piece> pieces;
  bool empty() const { return pieces.empty(); }
};

enum EntryFlags : uint32_t {
  kReadOnly = 1u << 0,
  kGlobal = 1u << 1,        // recorded in us-east-1 only (IAM, sign-in, CloudFront, Route 53...)
  kData = 1u << 2,          // a data event (only with --data-events)
  kServiceOnly = 1u << 3,   // called by AWSService principals only
  kServiceEvent = 1u << 4,  // eventType AwsServiceEvent
};

struct CatalogEntry {
  std::string event_source;  // "ec2.amazonaws.com"
  std::string_view service;  // "ec2"
  std::string_view event_name;
  uint32_t flags = 0;
  uint32_t weight = 0;  // 0: never drawn for background traffic (scenario-only calls)
  std::string_view event_version;  // "1.08" or "1.09"
  Template request;    // empty: requestParameters null
  Template response;   // empty: responseElements null
  Template resources;  // empty: no resources field
};

class Catalog {
 public:
  // Parses the built-in table. Aborts on a malformed built-in table (a programming error that the
  // unit tests catch).
  Catalog();

  const std::vector<CatalogEntry>& entries() const { return entries_; }
  // Index of an entry by source prefix and name ("iam", "CreateAccessKey"); -1 when absent.
  int Find(std::string_view service, std::string_view event_name) const;
  size_t service_count() const { return service_count_; }

 private:
  std::vector<CatalogEntry> entries_;
  size_t service_count_ = 0;
};

// Compiles "…@bucket@…" into pieces. Unknown placeholder names abort (built-in text only).
Template CompileTemplate(std::string_view text);

// The name of a Var as written in templates ("bucket").
std::string_view VarName(int var);

}  // namespace cairn::generate
