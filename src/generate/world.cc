#include "generate/world.h"

#include <algorithm>

#include <fmt/format.h>

#include "generate/prng.h"

namespace cairn::generate {
namespace {

constexpr std::string_view kOrgs[] = {"acme", "globex", "initech", "umbrella", "hooli",
                                      "vandelay", "tyrell", "soylent", "wonka", "cyberdyne"};
constexpr std::string_view kEnvs[] = {"prod", "staging", "dev", "security", "shared", "sandbox",
                                      "data", "logging", "network", "qa"};
constexpr std::string_view kHumans[] = {
    "alice", "bob", "carol", "dave", "erin", "frank", "grace", "heidi", "ivan", "judy",
    "mallory", "niaj", "olivia", "peggy", "rupert", "sybil", "trent", "victor", "walter", "zoe"};
constexpr std::string_view kServiceUsers[] = {"terraform-ci", "backup-svc", "legacy-app",
                                              "monitoring-agent", "reporting-svc"};
constexpr std::string_view kFunctions[] = {"api-handler",   "image-resizer",    "order-processor",
                                           "auth-authorizer", "report-generator", "slack-notifier",
                                           "etl-transform", "cost-reporter"};

// Wide profile: the crowd of principals each account adds (docs/generator.md).
constexpr int kWideUsers = 800;  // IAM users: every pair of kHumans and kSurnames
constexpr int kWideRoles = 400;  // roles: every pair of kTeams and kPurposes
constexpr std::string_view kSurnames[] = {
    "smith",    "jones",    "garcia",  "miller",  "davis",    "lopez",  "wilson", "moore",
    "taylor",   "thomas",   "martin",  "lee",     "walker",   "hall",   "allen",  "young",
    "king",     "wright",   "scott",   "green",   "baker",    "adams",  "nelson", "hill",
    "campbell", "mitchell", "roberts", "carter",  "phillips", "evans",  "turner", "torres",
    "parker",   "collins",  "edwards", "stewart", "morris",   "murphy", "cook",   "rogers"};
constexpr std::string_view kTeams[] = {"payments", "search",  "identity", "billing",  "catalog",
                                       "checkout", "ml",      "platform", "data",     "mobile",
                                       "growth",   "support", "risk",     "ledger",   "media",
                                       "infra",    "partner", "insights", "shipping", "pricing"};
constexpr std::string_view kPurposes[] = {"api",      "worker", "etl",   "batch",     "deploy",
                                          "reader",   "writer", "sync",  "cleanup",   "export",
                                          "import",   "report", "cron",  "scheduler", "indexer",
                                          "notifier", "backup", "audit", "migrator",  "cache"};
constexpr std::string_view kSessionBases[] = {"botocore-session", "aws-go-sdk", "aws-sdk-java",
                                              "aws-sdk-js", "terraform-run"};

std::string Kernel(Rng* r) {
  static constexpr std::string_view kKernels[] = {"5.10.", "5.15.", "6.1.", "6.5.", "6.8."};
  return fmt::format("{}{}-{}-aws", kKernels[r->Below(std::size(kKernels))], r->Range(0, 240),
                     r->Range(1000, 1070));
}

// An SDK or CLI user agent with its own versions: thousands of distinct strings over a crowd.
std::string WideAgent(Rng* r) {
  switch (r->Below(6)) {
    case 0: {
      std::string os;
      if (r->Chance(400)) {
        os = fmt::format("Darwin/{}.{}.0", r->Range(21, 24), r->Range(0, 6));
      } else {
        os = r->Chance(200) ? std::string("Windows/10") : "Linux/" + Kernel(r);
      }
      return fmt::format("aws-cli/2.{}.{} Python/3.11.{} {} exe/x86_64 prompt/off", r->Range(9, 18),
                         r->Range(0, 45), r->Range(0, 9), os);
    }
    case 1: {
      const int64_t minor = r->Range(28, 35), patch = r->Range(0, 99);
      return fmt::format(
          "Boto3/1.{}.{} md/Botocore#1.{}.{} ua/2.0 os/linux#{} md/arch#x86_64 lang/python#3.{}.{} "
          "md/pyimpl#CPython cfg/retry-mode#{} Botocore/1.{}.{}",
          minor, patch, minor, patch, Kernel(r), r->Range(9, 12), r->Range(0, 12),
          r->Chance(500) ? "legacy" : "standard", minor, patch);
    }
    case 2:
      return fmt::format(
          "aws-sdk-go-v2/1.{}.{} os/linux lang/go#1.{}.{} md/GOOS#linux md/GOARCH#{}",
          r->Range(20, 32), r->Range(0, 9), r->Range(20, 23), r->Range(0, 12),
          r->Chance(700) ? "amd64" : "arm64");
    case 3: {
      const int64_t jdk = r->Chance(500) ? 17 : 21, update = r->Range(1, 12);
      return fmt::format(
          "aws-sdk-java/2.{}.{} Linux/{} OpenJDK_64-Bit_Server_VM/{}.0.{}+{}-LTS Java/{}.0.{} "
          "vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/{}",
          r->Range(20, 28), r->Range(0, 60), Kernel(r), jdk, update, r->Range(1, 12), jdk, update,
          r->Chance(500) ? "legacy" : "standard");
    }
    case 4:
      return fmt::format("aws-sdk-js/3.{}.0 ua/2.0 os/linux#{} lang/js md/nodejs#{}.{}.{}",
                         r->Range(400, 700), Kernel(r), 18 + 2 * r->Range(0, 2), r->Range(0, 18),
                         r->Range(0, 3));
    default:
      return fmt::format(
          "APN/1.0 HashiCorp/1.0 Terraform/1.{}.{} (+https://www.terraform.io) "
          "terraform-provider-aws/5.{}.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
          "aws-sdk-go-v2/1.{}.{} ua/2.0 os/linux lang/go#1.{}.{} md/GOOS#linux md/GOARCH#amd64",
          r->Range(5, 9), r->Range(0, 8), r->Range(20, 80), r->Range(20, 32), r->Range(0, 9),
          r->Range(20, 23), r->Range(0, 12));
  }
}

std::string WideBrowser(Rng* r) {
  static constexpr std::string_view kOs[] = {"Macintosh; Intel Mac OS X 10_15_7",
                                             "Windows NT 10.0; Win64; x64", "X11; Linux x86_64"};
  const std::string_view os = kOs[r->Below(std::size(kOs))];
  if (r->Chance(250)) {
    const int64_t v = r->Range(115, 132);
    return fmt::format("Mozilla/5.0 ({}; rv:{}.0) Gecko/20100101 Firefox/{}.0", os, v, v);
  }
  return fmt::format(
      "Mozilla/5.0 ({}) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/{}.0.{}.{} Safari/537.36", os,
      r->Range(110, 131), r->Range(5000, 6800), r->Range(0, 200));
}

std::string Ip(Rng* rng, std::initializer_list<int> first_octets) {
  // Never 192.0.2/24, 198.51.100/24 or 203.0.113/24: those are reserved for scenario attackers.
  int a = *(first_octets.begin() + rng->Below(first_octets.size()));
  return fmt::format("{}.{}.{}.{}", a, rng->Range(1, 254), rng->Range(0, 255), rng->Range(1, 254));
}

std::string Chars(Rng* rng, size_t n, std::string_view alphabet) {
  std::string s;
  AppendRandomChars(rng, &s, n, alphabet);
  return s;
}

std::string Uuid(Rng* rng) {
  std::string s;
  AppendUuid(rng, &s);
  return s;
}

void Finish(Account* a) {
  uint64_t sum = 0;
  a->principal_cumulative.clear();
  for (const auto& p : a->principals) {
    sum += p.weight;
    a->principal_cumulative.push_back(sum);
  }
}

// Wide profile: hundreds of IAM users and roles per account, each with its own user agents, after
// the default principals (whose indexes, and every draw of the account's own Rng, stay as they
// are).
void AddCrowd(uint64_t seed, int index, const std::string& acct, Account* a) {
  Rng rng(MixSeed({seed, 0xC20D, static_cast<uint64_t>(index)}));
  for (int i = 0; i < kWideUsers; ++i) {
    Principal p;
    p.type = PrincipalType::kIamUser;
    p.name = fmt::format("{}.{}", kHumans[i % std::size(kHumans)],
                         kSurnames[(i / std::size(kHumans) + index * 7) % std::size(kSurnames)]);
    p.id = "AIDA" + Chars(&rng, 16, kUpperAlnum);
    p.arn = fmt::format("arn:aws:iam::{}:user/{}", acct, p.name);
    p.daily = true;
    for (int k = 0, n = 1 + static_cast<int>(rng.Below(2)); k < n; ++k) {
      p.agent_names.push_back(WideAgent(&rng));
    }
    if (rng.Chance(350)) {
      p.console_per_mille = 200 + static_cast<uint32_t>(rng.Below(500));
      p.browser = WideBrowser(&rng);
    }
    p.mfa = rng.Chance(900);
    p.weight = 1 + static_cast<uint32_t>(rng.Below(4));
    a->principals.push_back(std::move(p));
  }
  for (int i = 0; i < kWideRoles; ++i) {
    Principal p;
    p.type = PrincipalType::kAssumedRole;
    p.name = fmt::format("{}-{}-role", kTeams[i % std::size(kTeams)],
                         kPurposes[(i / std::size(kTeams) + index * 3) % std::size(kPurposes)]);
    p.id = "AROA" + Chars(&rng, 16, kUpperAlnum);
    p.arn = fmt::format("arn:aws:iam::{}:role/{}", acct, p.name);
    p.session_names = {std::string(kSessionBases[rng.Below(std::size(kSessionBases))])};
    p.daily = true;
    p.agent_names.push_back(WideAgent(&rng));
    p.weight = 1 + static_cast<uint32_t>(rng.Below(6));
    a->principals.push_back(std::move(p));
  }
}

Account MakeAccount(uint64_t seed, int index, std::string id, const std::string& org,
                    const std::vector<std::string>& regions, Profile profile) {
  Rng rng(MixSeed({seed, 0xACC0, static_cast<uint64_t>(index)}));
  Account a;
  a.index = index;
  a.id = std::move(id);
  a.env = std::string(kEnvs[index % std::size(kEnvs)]);
  if (index >= static_cast<int>(std::size(kEnvs))) a.env += std::to_string(index);
  const std::string& acct = a.id;

  std::vector<std::string> office = {Ip(&rng, {81, 86, 91, 62}), Ip(&rng, {81, 86, 91, 62})};
  std::string nat = Ip(&rng, {3, 18, 52, 54});

  // IAM users: a few humans who use the console and the CLI, and service users with keys.
  size_t first_human = (index * 4) % std::size(kHumans);
  int humans = 4 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < humans; ++i) {
    Principal p;
    p.type = PrincipalType::kIamUser;
    p.name = std::string(kHumans[(first_human + i) % std::size(kHumans)]);
    p.id = "AIDA" + Chars(&rng, 16, kUpperAlnum);
    p.arn = fmt::format("arn:aws:iam::{}:user/{}", acct, p.name);
    p.access_key = "AKIA" + Chars(&rng, 16, kUpperAlnum);
    p.ips = {office[rng.Below(2)], Ip(&rng, {24, 73, 98, 174, 82, 88, 109})};
    if (rng.Chance(500)) p.ips.push_back(Ip(&rng, {24, 73, 98, 174}));
    p.agents = {static_cast<int>(rng.Below(kConsoleAgents)), 4 + static_cast<int>(rng.Below(2))};
    p.console_per_mille = 450 + static_cast<uint32_t>(rng.Below(300));
    p.mfa = i != humans - 1;  // one user per account never set up MFA
    p.weight = 30 + static_cast<uint32_t>(rng.Below(30));
    a.principals.push_back(std::move(p));
  }
  for (size_t i = 0; i < std::size(kServiceUsers); ++i) {
    if (i >= 3 && !rng.Chance(500)) continue;
    Principal p;
    p.type = PrincipalType::kIamUser;
    p.name = std::string(kServiceUsers[i]);
    p.id = "AIDA" + Chars(&rng, 16, kUpperAlnum);
    p.arn = fmt::format("arn:aws:iam::{}:user/{}", acct, p.name);
    p.access_key = "AKIA" + Chars(&rng, 16, kUpperAlnum);
    p.ips = {i == 0 ? Ip(&rng, {4, 20, 40, 140}) : nat};
    p.agents = {i == 0 ? 8 : 6 + static_cast<int>(rng.Below(4))};
    p.weight = i == 0 ? 60 : 35;
    a.principals.push_back(std::move(p));
  }

  // Roles and the sessions that use them.
  auto add_role = [&](std::string name, std::vector<std::string> sessions,
                      std::vector<std::string> ips, std::vector<int> agents, uint32_t console,
                      uint32_t weight, std::string invoked_by = "") {
    Principal p;
    p.type = PrincipalType::kAssumedRole;
    p.name = std::move(name);
    p.id = "AROA" + Chars(&rng, 16, kUpperAlnum);
    p.arn = fmt::format("arn:aws:iam::{}:role/{}", acct, p.name);
    p.session_names = std::move(sessions);
    p.ips = std::move(ips);
    p.agents = std::move(agents);
    p.console_per_mille = console;
    p.weight = weight;
    p.invoked_by = std::move(invoked_by);
    a.principals.push_back(std::move(p));
  };
  std::vector<std::string> emails;
  for (int i = 0; i < 3; ++i) {
    emails.push_back(fmt::format("{}@{}.example.com",
                                 kHumans[(first_human + 7 + i) % std::size(kHumans)], org));
  }
  std::vector<std::string> home = {office[0], office[1], Ip(&rng, {24, 73, 98, 174}),
                                   Ip(&rng, {82, 88, 109, 151})};
  add_role("AWSReservedSSO_AdministratorAccess_" + Chars(&rng, 16, kLowerHex), emails, home,
           {0, 1, 2, 4}, 700, 80);
  add_role("AWSReservedSSO_ReadOnlyAccess_" + Chars(&rng, 16, kLowerHex), emails, home,
           {0, 1, 3, 5}, 800, 70);
  add_role("OrganizationAccountAccessRole", {"admin-session"}, {office[0]}, {0, 4}, 300, 8);
  add_role("github-actions-deploy", {"GitHubActions"},
           {Ip(&rng, {4, 20, 40}), Ip(&rng, {4, 20, 40}), Ip(&rng, {4, 20, 40}),
            Ip(&rng, {4, 20, 40}), Ip(&rng, {4, 20, 40})},
           {8}, 0, 90);
  int lambdas = 3 + static_cast<int>(rng.Below(3));
  for (int i = 0; i < lambdas; ++i) {
    std::string fn = fmt::format("{}-{}", a.env, kFunctions[(index + i) % std::size(kFunctions)]);
    a.functions.push_back(fn);
    add_role(fn + "-role", {fn}, {Ip(&rng, {3, 18, 52, 54}), Ip(&rng, {3, 18, 52, 54})},
             {6 + static_cast<int>(rng.Below(3))}, 0, 60 + static_cast<uint32_t>(rng.Below(60)));
  }
  add_role("ecs-task-web-role",
           {Chars(&rng, 32, kLowerHex), Chars(&rng, 32, kLowerHex), Chars(&rng, 32, kLowerHex)},
           {nat}, {10}, 0, 90);
  add_role("eks-node-role", {"i-" + Chars(&rng, 17, kLowerHex), "i-" + Chars(&rng, 17, kLowerHex)},
           {nat}, {11}, 0, 50);
  add_role("AWSServiceRoleForConfig", {"AWSConfig-Describe"}, {"config.amazonaws.com"},
           {12}, 0, 40, "config.amazonaws.com");
  add_role("datadog-integration-role", {"DatadogAWSIntegration"},
           {Ip(&rng, {3, 44}), Ip(&rng, {3, 44})}, {7}, 0, 30);

  // Root: rare, console only, with MFA.
  {
    Principal p;
    p.type = PrincipalType::kRoot;
    p.name = "root";
    p.arn = fmt::format("arn:aws:iam::{}:root", acct);
    p.ips = {office[0]};
    p.agents = {0};
    p.console_per_mille = 1000;
    p.mfa = true;
    p.weight = 1;
    a.root = static_cast<int>(a.principals.size());
    a.principals.push_back(std::move(p));
  }
  // Federated users issued by the legacy-app user (GetFederationToken).
  int issuer = -1;
  for (size_t i = 0; i < a.principals.size(); ++i) {
    if (a.principals[i].name == "legacy-app" || (issuer < 0 && a.principals[i].name == "backup-svc")) {
      issuer = static_cast<int>(i);
    }
  }
  for (int i = 0; i < 2; ++i) {
    Principal p;
    p.type = PrincipalType::kFederatedUser;
    p.name = fmt::format("partner-{}", kHumans[(first_human + 12 + i) % std::size(kHumans)]);
    p.arn = fmt::format("arn:aws:sts::{}:federated-user/{}", acct, p.name);
    p.ips = {Ip(&rng, {62, 77, 85, 94})};
    p.agents = {5};
    p.issuer = issuer;
    p.weight = 6;
    a.principals.push_back(std::move(p));
  }
  if (profile == Profile::kWide) AddCrowd(seed, index, acct, &a);
  Finish(&a);

  for (const auto& p : a.principals) {
    if (p.type == PrincipalType::kIamUser) a.user_names.push_back(p.name);
    if (p.type == PrincipalType::kAssumedRole) a.role_names.push_back(p.name);
  }

  for (const char* b : {"assets", "logs", "terraform-state", "data-lake-raw", "backups", "exports",
                        "static-site", "athena-results"}) {
    a.buckets.push_back(fmt::format("{}-{}-{}", org, a.env, b));
  }
  a.object_prefixes = {"uploads/2026/", "images/thumbs/", "exports/daily/", "raw/events/dt=",
                       "state/", "reports/"};
  a.policy_arns = {"arn:aws:iam::aws:policy/ReadOnlyAccess",
                   "arn:aws:iam::aws:policy/AmazonS3ReadOnlyAccess",
                   "arn:aws:iam::aws:policy/CloudWatchLogsFullAccess",
                   "arn:aws:iam::aws:policy/service-role/AWSLambdaBasicExecutionRole",
                   "arn:aws:iam::aws:policy/AmazonSSMManagedInstanceCore",
                   fmt::format("arn:aws:iam::{}:policy/{}-app-access", acct, a.env),
                   fmt::format("arn:aws:iam::{}:policy/deploy-boundary", acct)};
  a.policy_names = {"inline-s3-access", "allow-kms-decrypt", "ssm-read", "sqs-consume"};
  a.tables = {"orders", "users", "sessions", "inventory", "audit-log"};
  a.queues = {"order-events", "email-outbound", "order-events-dlq", "etl-jobs"};
  a.topics = {"alerts", "deploy-notifications", "billing-alarms"};
  a.secrets = {a.env + "/db/postgres", a.env + "/api/stripe", "ci/github-token",
               "rds!db-" + Uuid(&rng)};
  for (int i = 0; i < 4; ++i) a.kms_keys.push_back(Uuid(&rng));
  for (const auto& fn : a.functions) a.log_groups.push_back("/aws/lambda/" + fn);
  a.log_groups.push_back("/ecs/web");
  a.log_groups.push_back("/aws/eks/" + a.env + "/cluster");
  a.stacks = {"network-baseline", "app-web", "data-pipeline", "CDKToolkit"};
  a.clusters = {a.env + "-web", a.env + "-batch"};
  a.repos = {"web", "api", "worker"};
  a.params = {"/app/" + a.env + "/db_host", "/app/" + a.env + "/feature_flags",
              "/cwagent/config", "/aws/service/ami-amazon-linux-latest/al2023-ami-kernel-default-x86_64"};
  a.db_instances = {"orders-db", "analytics-db"};
  a.lbs = {"web-alb", "api-nlb"};
  a.apis = {Chars(&rng, 10, "abcdefghijklmnopqrstuvwxyz0123456789")};
  a.alarms = {"HighCPU-web", "5xx-rate", "BillingAlarm", "DLQ-not-empty"};
  a.rules = {"nightly-etl", "guardduty-findings-to-sns"};
  a.streams = {"clickstream", "audit-events"};
  a.sfns = {"order-workflow"};
  a.trail = org + "-org-trail";
  a.zone = "Z" + Chars(&rng, 13, kUpperAlnum);
  a.distribution = "E" + Chars(&rng, 13, kUpperAlnum);

  for (size_t r = 0; r < regions.size(); ++r) {
    RegionalPool pool;
    Rng rr(MixSeed({seed, 0xBEEF, static_cast<uint64_t>(index), HashName(regions[r])}));
    auto ids = [&](std::vector<std::string>* v, const char* prefix, int n) {
      for (int i = 0; i < n; ++i) v->push_back(prefix + Chars(&rr, 17, kLowerHex));
    };
    ids(&pool.instances, "i-", 24);
    ids(&pool.volumes, "vol-", 24);
    ids(&pool.snapshots, "snap-", 12);
    ids(&pool.amis, "ami-", 5);
    ids(&pool.vpcs, "vpc-", 2);
    ids(&pool.subnets, "subnet-", 6);
    ids(&pool.sgs, "sg-", 8);
    pool.detector = Chars(&rr, 32, kLowerHex);
    a.regional.push_back(std::move(pool));
  }
  return a;
}

}  // namespace

std::string_view PrincipalTypeName(PrincipalType type) {
  switch (type) {
    case PrincipalType::kIamUser: return "IAMUser";
    case PrincipalType::kAssumedRole: return "AssumedRole";
    case PrincipalType::kRoot: return "Root";
    case PrincipalType::kAwsService: return "AWSService";
    case PrincipalType::kFederatedUser: return "FederatedUser";
  }
  return "Unknown";
}

std::string_view ProfileName(Profile profile) {
  return profile == Profile::kWide ? "wide" : "default";
}

std::optional<Profile> ParseProfile(std::string_view name) {
  if (name == "default") return Profile::kDefault;
  if (name == "wide") return Profile::kWide;
  return std::nullopt;
}

const std::vector<std::string_view>& UserAgents() {
  static const std::vector<std::string_view> kAgents = {
      // Console agents (kConsoleAgents of them).
      "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
      "Chrome/123.0.0.0 Safari/537.36",
      "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:124.0) Gecko/20100101 Firefox/124.0",
      "AWS Internal",
      "console.amazonaws.com",
      // 4..
      "aws-cli/2.15.30 Python/3.11.8 Darwin/23.4.0 exe/x86_64 prompt/off",
      "aws-cli/2.15.30 Python/3.11.8 Linux/6.5.0-1016-aws exe/x86_64.ubuntu.22 prompt/off",
      "Boto3/1.34.69 md/Botocore#1.34.69 ua/2.0 os/linux#5.10.213-201.855.amzn2.x86_64 "
      "md/arch#x86_64 lang/python#3.12.2 md/pyimpl#CPython cfg/retry-mode#legacy Botocore/1.34.69",
      "aws-sdk-go/1.51.6 (go1.21.8; linux; amd64)",
      "APN/1.0 HashiCorp/1.0 Terraform/1.7.5 (+https://www.terraform.io) "
      "terraform-provider-aws/5.42.0 (+https://registry.terraform.io/providers/hashicorp/aws) "
      "aws-sdk-go-v2/1.26.0 ua/2.0 os/linux lang/go#1.22.1 md/GOOS#linux md/GOARCH#amd64",
      "aws-sdk-java/2.25.16 Linux/5.10.213-201.855.amzn2.x86_64 OpenJDK_64-Bit_Server_VM/17.0.10+7-LTS "
      "Java/17.0.10 vendor/Amazon.com_Inc. io/sync http/Apache cfg/retry-mode/legacy",
      "aws-sdk-js/3.540.0 ua/2.0 os/linux#5.10.213 lang/js md/nodejs#20.11.1",
      "aws-sdk-go-v2/1.25.3 os/linux lang/go#1.21.8 md/GOOS#linux md/GOARCH#amd64 "
      "exec-env/AWS_ECS_EC2",
      "AWS Config",
  };
  return kAgents;
}

const std::vector<std::string>& AllRegions() {
  static const std::vector<std::string> kRegions = {
      "us-east-1",      "eu-west-1",    "us-west-2",    "ap-southeast-2", "us-east-2",
      "eu-central-1",   "ap-northeast-1", "eu-west-2",  "ap-south-1",     "ca-central-1",
      "sa-east-1",      "ap-southeast-1", "eu-north-1", "us-west-1",      "eu-west-3",
      "ap-northeast-2", "af-south-1"};
  return kRegions;
}

std::vector<std::string> DefaultRegions() {
  return {AllRegions().begin(), AllRegions().begin() + 4};
}

World::World(uint64_t seed_in, int account_count, std::vector<std::string> regions_in,
             Profile profile_in)
    : seed(seed_in), profile(profile_in), regions(std::move(regions_in)) {
  Rng rng(MixSeed({seed, 0x0F9}));
  org = std::string(kOrgs[rng.Below(std::size(kOrgs))]);
  global_region = 0;
  for (size_t i = 0; i < regions.size(); ++i) {
    if (regions[i] == "us-east-1") global_region = static_cast<int>(i);
  }
  // Account ids are distinct: a (vanishingly rare) repeat is redrawn.
  std::vector<std::string> ids;
  while (static_cast<int>(ids.size()) < account_count) {
    std::string id = std::to_string(rng.Range(1, 9)) + Chars(&rng, 11, kDigits);
    if (std::find(ids.begin(), ids.end(), id) == ids.end()) ids.push_back(std::move(id));
  }
  for (int i = 0; i < account_count; ++i) {
    accounts.push_back(MakeAccount(seed, i, ids[i], org, regions, profile));
  }
}

}  // namespace cairn::generate
