#include "generate/scenarios.h"

#include <fmt/format.h>

#include "common/json_util.h"

namespace cairn::generate {
namespace {

constexpr int64_t kDayMs = 86400000;

int64_t At(int64_t start_ms, int days, int day, int h, int m, int s) {
  return start_ms + static_cast<int64_t>(day % days) * kDayMs + ((h * 60 + m) * 60 + s) * 1000ll;
}

int FindPrincipal(const Account& a, std::string_view name, PrincipalType type) {
  for (size_t i = 0; i < a.principals.size(); ++i) {
    if (a.principals[i].name == name && a.principals[i].type == type) return static_cast<int>(i);
  }
  return -1;
}

// The IAM user who never set up MFA (the weak spot attackers find).
int UserWithoutMfa(const Account& a) {
  for (size_t i = 0; i < a.principals.size(); ++i) {
    const Principal& p = a.principals[i];
    if (p.type == PrincipalType::kIamUser && p.console_per_mille > 0 && !p.mfa) {
      return static_cast<int>(i);
    }
  }
  return 0;
}

int FirstHuman(const Account& a, int not_this) {
  for (size_t i = 0; i < a.principals.size(); ++i) {
    const Principal& p = a.principals[i];
    if (p.type == PrincipalType::kIamUser && p.console_per_mille > 0 &&
        static_cast<int>(i) != not_this) {
      return static_cast<int>(i);
    }
  }
  return 0;
}

int ServiceUser(const Account& a, std::string_view preferred) {
  int i = FindPrincipal(a, preferred, PrincipalType::kIamUser);
  if (i >= 0) return i;
  for (size_t j = 0; j < a.principals.size(); ++j) {
    const Principal& p = a.principals[j];
    if (p.type == PrincipalType::kIamUser && p.console_per_mille == 0) return static_cast<int>(j);
  }
  return 0;
}

constexpr std::string_view kAttackerCli =
    "aws-cli/1.18.69 Python/3.8.10 Linux/5.4.0-1045-aws botocore/1.17.4";
constexpr std::string_view kAttackerBoto = "Boto3/1.9.201 Python/3.7.3 Linux/4.19.0-6-amd64 Botocore/1.12.201";

class ScenarioBuilder {
 public:
  ScenarioBuilder(EventWriter* w, uint64_t seed) : w_(w), rng_(seed) {}

  // One API call by principal `pi` (CLI keys) with `overrides` for the catalog's placeholders.
  // `request` replaces the catalog's requestParameters when non-empty.
  SpecialEvent Call(ScenarioInfo* info, int account, int region, int64_t t, int pi,
                    std::string_view ip, std::string_view ua, std::string_view service,
                    std::string_view name, std::vector<std::pair<Var, std::string>> overrides,
                    std::string_view request = {}, std::string_view error_code = {},
                    std::string_view error_message = {}) {
    const Catalog& c = w_->catalog();
    const int ei = c.Find(service, name);
    const CatalogEntry& e = c.entries()[ei];
    Identity id;
    w_->MakeIdentity(account, pi, t, false, 0, &id);
    overrides.emplace_back(Var::kCallerArn, id.caller_arn);
    w_->StartVars(&rng_, account, region, t, overrides);
    std::string req(request), resp, res, event_id, request_id, host;
    if (req.empty() && !e.request.empty()) w_->Expand(e.request, &req);
    if (error_code.empty() && !e.response.empty()) w_->Expand(e.response, &resp);
    if (!e.resources.empty()) w_->Expand(e.resources, &res);
    AppendUuid(&rng_, &request_id);
    AppendUuid(&rng_, &event_id);
    const std::string& region_name = w_->world().regions[region];
    host = std::string(e.service) + ((e.flags & kGlobal) ? "" : "." + region_name) + ".amazonaws.com";
    Record r;
    r.event_version = e.event_version;
    r.user_identity = id.json;
    r.time_ms = t;
    r.event_source = e.event_source;
    r.event_name = e.event_name;
    r.region = region_name;
    r.source_ip = ip;
    r.user_agent = ua;
    r.error_code = error_code;
    r.error_message = error_message;
    r.request_parameters = req.empty() ? std::string_view("null") : std::string_view(req);
    r.response_elements = resp.empty() ? std::string_view("null") : std::string_view(resp);
    r.request_id = request_id;
    r.event_id = event_id;
    r.read_only = (e.flags & kReadOnly) != 0;
    r.resources = res;
    r.recipient_account = w_->world().accounts[account].id;
    r.tls_host = host;
    SpecialEvent ev;
    ev.account = account;
    ev.region = region;
    ev.time_ms = t;
    AppendRecord(r, &ev.json);
    info->times.push_back(t);
    info->event_ids.push_back(event_id);
    info->user_arn = id.caller_arn;
    info->source_ip = std::string(ip);
    info->event_source = e.event_source;
    info->event_name = std::string(e.event_name);
    info->account = account;
    info->region = region;
    return ev;
  }

  Rng* rng() { return &rng_; }

 private:
  EventWriter* w_;
  Rng rng_;
};

}  // namespace

void BuildScenarios(EventWriter* w, int64_t start_ms, int days, std::vector<SpecialEvent>* events,
                    std::vector<ScenarioInfo>* infos) {
  const World& world = w->world();
  const int nacct = static_cast<int>(world.accounts.size());
  const int nreg = static_cast<int>(world.regions.size());
  const int global = world.global_region;
  const int other_region = (global + 1) % nreg;
  ScenarioBuilder b(w, MixSeed({world.seed, 0x5CE7A410}));

  // Defense evasion in account 0 with a stolen access key of the user without MFA.
  {
    const int acct = 0;
    const Account& a = world.accounts[acct];
    const int actor = UserWithoutMfa(a);
    const std::string ip = "203.0.113.10";
    ScenarioInfo stop;
    stop.name = "cloudtrail_stop_logging";
    stop.description = "CloudTrail logging stopped with a stolen access key from an unknown IP";
    stop.technique = "T1562.008";
    events->push_back(b.Call(&stop, acct, global, At(start_ms, days, 0, 3, 17, 42), actor, ip,
                             kAttackerCli, "cloudtrail", "StopLogging", {}));
    stop.match = {{"/eventSource", "cloudtrail.amazonaws.com"}, {"/eventName", "StopLogging"}};
    stop.expected_count = 1;
    infos->push_back(std::move(stop));

    ScenarioInfo del;
    del.name = "cloudtrail_delete_trail";
    del.description = "The organisation's trail deleted right after logging was stopped";
    del.technique = "T1562.008";
    events->push_back(b.Call(&del, acct, global, At(start_ms, days, 0, 3, 19, 5), actor, ip,
                             kAttackerCli, "cloudtrail", "DeleteTrail", {}));
    del.match = {{"/eventSource", "cloudtrail.amazonaws.com"}, {"/eventName", "DeleteTrail"}};
    del.expected_count = 1;
    infos->push_back(std::move(del));

    ScenarioInfo gd;
    gd.name = "guardduty_detector_deleted";
    gd.description = "GuardDuty detector deleted in a second region by the same actor";
    gd.technique = "T1562.001";
    events->push_back(b.Call(&gd, acct, other_region, At(start_ms, days, 0, 3, 21, 10), actor, ip,
                             kAttackerCli, "guardduty", "DeleteDetector", {}));
    gd.match = {{"/eventSource", "guardduty.amazonaws.com"}, {"/eventName", "DeleteDetector"}};
    gd.expected_count = 1;
    infos->push_back(std::move(gd));
  }

  // Root console sign-in without MFA.
  {
    const int acct = 1 % nacct;
    const Account& a = world.accounts[acct];
    const int64_t t = At(start_ms, days, 1, 7, 42, 13);
    ScenarioInfo info;
    info.name = "root_console_login_without_mfa";
    info.description = "Successful root console sign-in without MFA from an unknown IP";
    info.technique = "T1078.004";
    std::string ident = "{\"type\":\"Root\",\"principalId\":\"" + a.id + "\",\"arn\":\"" +
                        a.principals[a.root].arn + "\",\"accountId\":\"" + a.id + "\"}";
    std::string event_id;
    AppendUuid(b.rng(), &event_id);
    Record r;
    r.user_identity = ident;
    r.time_ms = t;
    r.event_source = "signin.amazonaws.com";
    r.event_name = "ConsoleLogin";
    r.region = world.regions[global];
    r.source_ip = "198.51.100.23";
    r.user_agent = UserAgents()[1];
    r.response_elements = "{\"ConsoleLogin\":\"Success\"}";
    r.additional_event_data =
        "{\"LoginTo\":\"https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true\","
        "\"MobileVersion\":\"No\",\"MFAUsed\":\"No\"}";
    r.event_id = event_id;
    r.event_type = "AwsConsoleSignIn";
    r.recipient_account = a.id;
    r.tls_host = "signin.aws.amazon.com";
    SpecialEvent ev;
    ev.account = acct;
    ev.region = global;
    ev.time_ms = t;
    AppendRecord(r, &ev.json);
    events->push_back(std::move(ev));
    info.account = acct;
    info.region = global;
    info.times = {t};
    info.event_ids = {event_id};
    info.event_source = "signin.amazonaws.com";
    info.event_name = "ConsoleLogin";
    info.user_arn = a.principals[a.root].arn;
    info.source_ip = "198.51.100.23";
    info.match = {{"/eventName", "ConsoleLogin"},
                  {"/userIdentity/type", "Root"},
                  {"/additionalEventData/MFAUsed", "No"}};
    info.expected_count = 1;
    infos->push_back(std::move(info));
  }

  // Persistence and privilege escalation with the legacy-app user's key.
  {
    const int acct = 0;
    const Account& a = world.accounts[acct];
    const int actor = ServiceUser(a, "legacy-app");
    const int victim = FirstHuman(a, actor);
    const std::string ip = "203.0.113.45";
    ScenarioInfo key;
    key.name = "iam_create_access_key_other_user";
    key.description = "An access key created for another IAM user";
    key.technique = "T1098.001";
    events->push_back(b.Call(&key, acct, global, At(start_ms, days, 2, 11, 5, 31), actor, ip,
                             kAttackerBoto, "iam", "CreateAccessKey",
                             {{Var::kUser, a.principals[victim].name}}));
    key.match = {{"/eventName", "CreateAccessKey"},
                 {"/userIdentity/arn", key.user_arn},
                 {"/requestParameters/userName", a.principals[victim].name}};
    key.expected_count = 1;
    infos->push_back(std::move(key));

    ScenarioInfo admin;
    admin.name = "iam_attach_admin_policy";
    admin.description = "AdministratorAccess attached to an IAM user";
    admin.technique = "T1098";
    const std::string policy = "arn:aws:iam::aws:policy/AdministratorAccess";
    events->push_back(b.Call(&admin, acct, global, At(start_ms, days, 2, 11, 8, 2), actor, ip,
                             kAttackerBoto, "iam", "AttachUserPolicy",
                             {{Var::kUser, a.principals[actor].name}, {Var::kPolicyArn, policy}}));
    admin.match = {{"/eventName", "AttachUserPolicy"}, {"/requestParameters/policyArn", policy}};
    admin.expected_count = 1;
    infos->push_back(std::move(admin));
  }

  // Exfiltration: an EBS snapshot made public.
  {
    const int acct = 2 % nacct;
    const Account& a = world.accounts[acct];
    int actor = FindPrincipal(a, "OrganizationAccountAccessRole", PrincipalType::kAssumedRole);
    if (actor < 0) actor = 0;
    const std::string& snapshot = a.regional[other_region].snapshots[0];
    const std::string request =
        "{\"snapshotId\":\"" + snapshot +
        "\",\"createVolumePermission\":{\"add\":{\"items\":[{\"group\":\"all\"}]}},"
        "\"attributeType\":\"CREATE_VOLUME_PERMISSION\"}";
    ScenarioInfo info;
    info.name = "ebs_snapshot_shared_public";
    info.description = "An EBS snapshot's createVolumePermission opened to everyone (group all)";
    info.technique = "T1537";
    events->push_back(b.Call(&info, acct, other_region, At(start_ms, days, 3, 14, 21, 55), actor,
                             "198.51.100.77", kAttackerCli, "ec2", "ModifySnapshotAttribute",
                             {{Var::kSnapshot, snapshot}}, request));
    info.match = {{"/eventName", "ModifySnapshotAttribute"},
                  {"/requestParameters/createVolumePermission/add/items/0/group", "all"}};
    info.expected_count = 1;
    infos->push_back(std::move(info));
  }

  // Discovery: a burst of AccessDenied from one IP enumerating with a stolen key.
  {
    const int acct = 0;
    const Account& a = world.accounts[acct];
    const int actor = ServiceUser(a, "backup-svc");
    const std::string ip = "203.0.113.77";
    static constexpr std::pair<std::string_view, std::string_view> kCalls[] = {
        {"iam", "ListUsers"}, {"iam", "ListRoles"}, {"iam", "ListPolicies"},
        {"iam", "GetAccountSummary"}, {"iam", "ListGroups"}, {"s3", "ListBuckets"},
        {"iam", "ListAccessKeys"}, {"organizations", "DescribeOrganization"},
        {"iam", "ListAttachedUserPolicies"}, {"iam", "GetUser"}};
    ScenarioInfo info;
    info.name = "access_denied_burst";
    info.description = "45 AccessDenied errors in under 4 minutes from one IP enumerating the account";
    info.technique = "T1087.004";
    const int64_t t0 = At(start_ms, days, 4, 20, 40, 20);
    const int kBurst = 45;
    for (int i = 0; i < kBurst; ++i) {
      const auto& [svc, name] = kCalls[b.rng()->Below(std::size(kCalls))];
      const int64_t t = t0 + i * 5000 + static_cast<int64_t>(b.rng()->Below(4000));
      std::string arn = a.principals[actor].arn;
      std::string message = fmt::format(
          "User: {} is not authorized to perform: {}:{} because no identity-based policy allows "
          "the {}:{} action",
          arn, svc, name, svc, name);
      events->push_back(b.Call(&info, acct, global, t, actor, ip, kAttackerBoto, svc, name, {}, {},
                               "AccessDenied", message));
    }
    info.event_source.clear();  // several
    info.event_name.clear();
    info.match = {{"/sourceIPAddress", ip}, {"/errorCode", "AccessDenied"}};
    info.expected_count = kBurst;
    infos->push_back(std::move(info));
  }
}

uint64_t InsightEventCount(int accounts, int days) {
  return static_cast<uint64_t>(accounts) * static_cast<uint64_t>(days) * 4;
}

void BuildInsights(EventWriter* w, int64_t start_ms, int days, std::vector<SpecialEvent>* events) {
  const World& world = w->world();
  const Catalog& catalog = w->catalog();
  std::vector<int> candidates;
  for (size_t i = 0; i < catalog.entries().size(); ++i) {
    const CatalogEntry& e = catalog.entries()[i];
    if (e.weight > 0 && !(e.flags & (kReadOnly | kData | kServiceOnly))) {
      candidates.push_back(static_cast<int>(i));
    }
  }
  for (size_t ai = 0; ai < world.accounts.size(); ++ai) {
    const Account& a = world.accounts[ai];
    for (int d = 0; d < days; ++d) {
      for (int k = 0; k < 2; ++k) {
        Rng rng(MixSeed({world.seed, 0x1A5, ai, static_cast<uint64_t>(d), static_cast<uint64_t>(k)}));
        const CatalogEntry& e = catalog.entries()[candidates[rng.Below(candidates.size())]];
        const int region = (e.flags & kGlobal)
                               ? world.global_region
                               : static_cast<int>(rng.Below(world.regions.size()));
        const bool errors = rng.Chance(300);
        const int minutes = static_cast<int>(rng.Range(1, 30));
        const int64_t t_start = start_ms + d * kDayMs + rng.Range(0, 86400 - 3600) * 1000;
        const int64_t t_end = t_start + minutes * 60000ll;
        const Principal& p = a.principals[rng.Below(a.principals.size())];
        const std::string arn = p.type == PrincipalType::kAssumedRole
                                    ? "arn:aws:sts::" + a.id + ":assumed-role/" + p.name
                                    : p.arn;
        const std::string_view agent = UserAgents()[p.agents.empty() ? 6 : p.agents.back()];
        // Averages in calls per minute, written with integer arithmetic (no float formatting).
        const uint64_t baseline = rng.Range(1, 900);        // 0.0001 .. 0.0900
        const uint64_t insight = rng.Range(8000, 400000);  // 0.8 .. 40.0
        auto avg = [](uint64_t ten_thousandths) {
          return fmt::format("{}.{:04}", ten_thousandths / 10000, ten_thousandths % 10000);
        };
        std::string shared;
        AppendUuid(&rng, &shared);
        for (int state = 0; state < 2; ++state) {
          std::string event_id;
          AppendUuid(&rng, &event_id);
          SpecialEvent ev;
          ev.insight = true;
          ev.account = static_cast<int>(ai);
          ev.region = region;
          ev.time_ms = state == 0 ? t_start : t_end;
          std::string& j = ev.json;
          j.append("{\"eventVersion\":\"1.08\",\"eventTime\":\"");
          AppendIsoSeconds(ev.time_ms, &j);
          j.append("\",\"awsRegion\":\"").append(world.regions[region]);
          j.append("\",\"eventID\":\"").append(event_id);
          j.append("\",\"eventType\":\"AwsCloudTrailInsight\",\"recipientAccountId\":\"").append(a.id);
          j.append("\",\"sharedEventID\":\"").append(shared);
          j.append("\",\"insightDetails\":{\"state\":\"").append(state == 0 ? "Start" : "End");
          j.append("\",\"eventSource\":\"").append(e.event_source);
          j.append("\",\"eventName\":\"").append(e.event_name);
          j.append("\",\"insightType\":\"").append(errors ? "ApiErrorRateInsight" : "ApiCallRateInsight");
          if (errors) j.append("\",\"errorCode\":\"AccessDenied");
          j.append("\",\"insightContext\":{\"statistics\":{\"baseline\":{\"average\":");
          j.append(avg(baseline)).append("},\"insight\":{\"average\":").append(avg(insight));
          j.append("},\"insightDuration\":").append(std::to_string(minutes));
          j.append(",\"baselineDuration\":").append(std::to_string(rng.Range(10000, 11520)));
          j.append("},\"attributions\":[{\"attribute\":\"userIdentityArn\",\"insight\":[{\"value\":\"");
          j.append(arn).append("\",\"average\":").append(avg(insight));
          j.append("}],\"baseline\":[{\"value\":\"").append(arn).append("\",\"average\":").append(avg(baseline));
          j.append("}]},{\"attribute\":\"userAgent\",\"insight\":[{\"value\":");
          AppendJsonString(&j, agent);
          j.append(",\"average\":").append(avg(insight)).append("}],\"baseline\":[{\"value\":");
          AppendJsonString(&j, agent);
          j.append(",\"average\":").append(avg(baseline));
          j.append("}]},{\"attribute\":\"errorCode\",\"insight\":[{\"value\":\"");
          j.append(errors ? "AccessDenied" : "null").append("\",\"average\":").append(avg(insight));
          j.append("}],\"baseline\":[{\"value\":\"null\",\"average\":").append(avg(baseline));
          j.append("}]}]}},\"eventCategory\":\"Insight\"}");
          events->push_back(std::move(ev));
        }
      }
    }
  }
}

}  // namespace cairn::generate
