#pragma once
// The synthetic organisation the generator simulates: accounts with their principals (IAM users,
// roles and their sessions, root, federated users), the IP addresses and user agents each
// principal habitually uses, and the resources API calls refer to (buckets, instances, keys...).
//
// Everything is derived from the seed alone, so two runs with the same seed see the same world.
// A World is immutable after construction and safe to share between threads.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::generate {

// The statistics of the generated traffic (docs/generator.md). kDefault is the original data set;
// kWide has far more distinct values: thousands of principals per account whose addresses and role
// sessions change daily, a temporary access key per event, versioned user agents and a flat
// event-name mix.
enum class Profile { kDefault, kWide };

std::string_view ProfileName(Profile profile);
std::optional<Profile> ParseProfile(std::string_view name);

enum class PrincipalType { kIamUser, kAssumedRole, kRoot, kAwsService, kFederatedUser };

std::string_view PrincipalTypeName(PrincipalType type);

struct Principal {
  PrincipalType type = PrincipalType::kIamUser;
  std::string name;        // user name, role name or federated user name
  std::string id;          // AIDA… (user), AROA… (role); empty for root and federated users
  std::string arn;         // user, role (the session issuer), root or federated-user ARN
  std::string access_key;  // AKIA… long-term key of an IAM user (CLI/SDK use); else empty
  std::vector<std::string> session_names;  // roles: the sessions seen (one per concurrent use)
  std::string invoked_by;  // a service-linked role's service host ("config.amazonaws.com")
  std::vector<std::string> ips;            // the few addresses this principal calls from
  std::vector<int> agents;                 // indexes into UserAgents()
  uint32_t console_per_mille = 0;          // share of this principal's calls made in the console
  bool mfa = false;                        // signs in to the console with MFA
  int issuer = -1;                         // federated users: index of the issuing IAM user
  uint32_t weight = 0;                     // relative activity
  // Wide profile's crowd of principals: their addresses (and a role's session name) change every
  // day (see EventWriter), and they use their own user agents instead of `agents`.
  bool daily = false;
  std::vector<std::string> agent_names;  // SDK and CLI user agents
  std::string browser;                   // console user agent (when console_per_mille > 0)
};

// Resource names that vary by region (EC2 ids, GuardDuty detector).
struct RegionalPool {
  std::vector<std::string> instances, volumes, snapshots, amis, vpcs, subnets, sgs;
  std::string detector;
};

struct Account {
  int index = 0;
  std::string id;   // 12 digits
  std::string env;  // "prod", "staging", ... (names its resources)
  std::vector<Principal> principals;
  std::vector<uint64_t> principal_cumulative;  // running sum of weights, for weighted choice
  int root = -1;                               // index of the Root principal
  std::vector<RegionalPool> regional;          // one per World region
  std::vector<std::string> buckets, object_prefixes, user_names, role_names, policy_arns,
      policy_names, functions, tables, queues, topics, secrets, kms_keys, log_groups, stacks,
      clusters, repos, params, db_instances, lbs, apis, alarms, rules, streams, sfns;
  std::string trail, zone, distribution;
};

struct World {
  World(uint64_t seed, int accounts, std::vector<std::string> regions,
        Profile profile = Profile::kDefault);

  uint64_t seed;
  Profile profile;
  std::string org;  // company name used in resource names
  std::vector<std::string> regions;
  int global_region = 0;  // where global services are recorded (us-east-1 when listed)
  std::vector<Account> accounts;
};

// The user-agent strings principals use. Console agents come first (see kConsoleAgents).
const std::vector<std::string_view>& UserAgents();
inline constexpr int kConsoleAgents = 4;

// The default region list and the pool a --regions count draws from.
const std::vector<std::string>& AllRegions();
std::vector<std::string> DefaultRegions();

}  // namespace cairn::generate
