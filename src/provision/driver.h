#pragma once
// One ServiceDriver per AWS service (s3, sqs, sns, cloudtrail, iam): the state reader and the
// applier for the resource kinds that service owns. The provisioner reads every desired resource
// through its driver, diffs, then calls Create/Update/Delete in plan order — so plan, apply and
// destroy are tested with in-memory drivers (provision/testing.h), the request encoding with a
// recording HttpClient, and the whole thing against the fauxqs emulator.
//
// Errors: AWS errors come back as the AWS client's Status ("<API> <resource>: <Code>: <message>").
// Read returns nullopt (not an error) when the resource does not exist.
//
// Thread safety: a driver is used from one thread at a time.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "provision/model.h"
#include "provision/plan.h"

namespace cairn::provision {

// What applying produced that is not in AWS's state: a new access key (its secret lives only
// here and in the generated config file), and remarks for the report.
struct ApplyEffects {
  std::string access_key_id;
  std::string secret_access_key;
  std::vector<std::string> notes;
};

class ServiceDriver {
 public:
  virtual ~ServiceDriver() = default;
  // "s3", "sqs", "sns", "cloudtrail" or "iam" (KindService of the kinds it handles).
  virtual std::string_view service() const = 0;

  // What exists for `desired` (same kind, name and region), with the same attribute names,
  // `managed` set when it carries the tags in desired.attrs["tags"] (subscriptions and access
  // keys: when their parent does), and the handles Update/Delete need. nullopt: does not exist.
  virtual Result<std::optional<Resource>> Read(const Resource& desired) = 0;
  virtual Status Create(const Resource& desired, ApplyEffects* effects) = 0;
  // Sets only the attributes in `changes`.
  virtual Status Update(const Resource& desired, const Resource& current, const std::vector<AttrChange>& changes,
                        ApplyEffects* effects) = 0;
  virtual Status Delete(const Resource& current, ApplyEffects* effects) = 0;
};

// "k=v,k=v" back into a map.
std::map<std::string, std::string> ParseTagsText(std::string_view text);

}  // namespace cairn::provision
