#include "generate/event_writer.h"

#include <algorithm>

#include <fmt/format.h>

#include "common/json_util.h"
#include "common/time_util.h"

namespace cairn::generate {
namespace {

void AppendField(std::string* out, std::string_view name, std::string_view json_value) {
  out->push_back(',');
  out->push_back('"');
  out->append(name);
  out->append("\":");
  out->append(json_value);
}

void AppendStringField(std::string* out, std::string_view name, std::string_view value) {
  out->push_back(',');
  out->push_back('"');
  out->append(name);
  out->append("\":\"");
  out->append(value);  // generated values never need escaping
  out->push_back('"');
}

void AppendTwo(std::string* out, unsigned v) {
  out->push_back(static_cast<char>('0' + v / 10));
  out->push_back(static_cast<char>('0' + v % 10));
}

// Service hosts that call on a principal's behalf, by the service they call.
std::string_view ServiceCaller(Rng* rng, std::string_view service) {
  static constexpr std::string_view kSts[] = {"lambda.amazonaws.com", "ecs-tasks.amazonaws.com",
                                              "ec2.amazonaws.com", "config.amazonaws.com",
                                              "cloudformation.amazonaws.com", "events.amazonaws.com"};
  static constexpr std::string_view kKms[] = {"s3.amazonaws.com", "secretsmanager.amazonaws.com",
                                              "dynamodb.amazonaws.com", "rds.amazonaws.com",
                                              "lambda.amazonaws.com"};
  if (service == "sts") return kSts[rng->Below(std::size(kSts))];
  if (service == "kms") return kKms[rng->Below(std::size(kKms))];
  if (service == "ec2" || service == "logs") return "lambda.amazonaws.com";
  if (service == "elasticloadbalancing") return "ecs.amazonaws.com";
  if (service == "config") return "config.amazonaws.com";
  if (service == "ssm") return "ssm.amazonaws.com";
  if (service == "securityhub") return "securityhub.amazonaws.com";
  if (service == "ecs") return "ecs.amazonaws.com";
  if (service == "autoscaling") return "autoscaling.amazonaws.com";
  if (service == "backup") return "backup.amazonaws.com";
  return "cloudformation.amazonaws.com";
}

bool JsonProtocolService(std::string_view s) {
  static constexpr std::string_view kJson[] = {
      "lambda", "dynamodb", "kms", "secretsmanager", "ssm", "logs", "ecs", "ecr", "glue",
      "athena", "securityhub", "guardduty", "states", "events", "kinesis", "firehose",
      "codebuild", "codepipeline", "config", "acm", "backup", "access-analyzer", "inspector2",
      "wafv2", "eks", "sso", "ce", "health", "tagging", "organizations", "apigateway", "sagemaker"};
  return std::find(std::begin(kJson), std::end(kJson), s) != std::end(kJson);
}

// x^(3/5) * 16 in integers: the wide profile's flatter event-name weights (the catalog's heaviest
// name, 14000, becomes 4865; a weight of 1 stays 16, 0 stays 0).
uint64_t FlattenWeight(uint64_t w) {
  const uint64_t x = w * w * w << 20;  // (16 w^0.6)^5 = 2^20 w^3; w <= 2^16 keeps it in 64 bits
  uint64_t lo = 0, hi = 1;
  while (hi * hi * hi * hi * hi <= x) hi *= 2;
  while (hi - lo > 1) {  // largest r with r^5 <= x
    const uint64_t mid = (lo + hi) / 2;
    (mid * mid * mid * mid * mid <= x ? lo : hi) = mid;
  }
  return lo;
}

// First octets of the wide profile's daily addresses: public ranges only, never the 192, 198 and
// 203 blocks that hold the scenarios' documentation addresses, nor private ranges.
constexpr int kPublicOctets[] = {3,   13,  18,  24,  34,  35,  44,  47,  52,  54,  63,  66,
                                 68,  71,  73,  76,  81,  86,  88,  91,  98,  99,  108, 109,
                                 136, 142, 151, 162, 174, 176, 185, 188, 194, 212, 217};

}  // namespace

void AppendIsoSeconds(int64_t millis, std::string* out) {
  int64_t secs = millis >= 0 ? millis / 1000 : (millis - 999) / 1000;
  int64_t days = secs >= 0 ? secs / 86400 : (secs - 86399) / 86400;
  int64_t sod = secs - days * 86400;
  thread_local int64_t cached_day = INT64_MIN;
  thread_local char cached[11];
  if (days != cached_day) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(days, &y, &m, &d);
    std::string s = fmt::format("{:04}-{:02}-{:02}T", y, m, d);
    std::copy(s.begin(), s.begin() + 11, cached);
    cached_day = days;
  }
  out->append(cached, 11);
  AppendTwo(out, static_cast<unsigned>(sod / 3600));
  out->push_back(':');
  AppendTwo(out, static_cast<unsigned>(sod / 60 % 60));
  out->push_back(':');
  AppendTwo(out, static_cast<unsigned>(sod % 60));
  out->push_back('Z');
}

void AppendRecord(const Record& r, std::string* out) {
  out->append("{\"eventVersion\":\"");
  out->append(r.event_version);
  out->push_back('"');
  AppendField(out, "userIdentity", r.user_identity);
  out->append(",\"eventTime\":\"");
  AppendIsoSeconds(r.time_ms, out);
  out->push_back('"');
  AppendStringField(out, "eventSource", r.event_source);
  AppendStringField(out, "eventName", r.event_name);
  AppendStringField(out, "awsRegion", r.region);
  AppendStringField(out, "sourceIPAddress", r.source_ip);
  AppendStringField(out, "userAgent", r.user_agent);
  if (!r.error_code.empty()) AppendStringField(out, "errorCode", r.error_code);
  if (!r.error_message.empty()) {
    out->append(",\"errorMessage\":");
    AppendJsonString(out, r.error_message);
  }
  AppendField(out, "requestParameters", r.request_parameters);
  AppendField(out, "responseElements", r.response_elements);
  if (!r.additional_event_data.empty()) {
    AppendField(out, "additionalEventData", r.additional_event_data);
  }
  if (!r.request_id.empty()) AppendStringField(out, "requestID", r.request_id);
  AppendStringField(out, "eventID", r.event_id);
  AppendField(out, "readOnly", r.read_only ? "true" : "false");
  if (!r.resources.empty()) AppendField(out, "resources", r.resources);
  AppendStringField(out, "eventType", r.event_type);
  AppendField(out, "managementEvent", r.management_event ? "true" : "false");
  AppendStringField(out, "recipientAccountId", r.recipient_account);
  AppendStringField(out, "eventCategory", r.event_category);
  if (!r.tls_host.empty()) {
    out->append(r.tls13 ? ",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.3\",\"cipherSuite\":"
                          "\"TLS_AES_128_GCM_SHA256\",\"clientProvidedHostHeader\":\""
                        : ",\"tlsDetails\":{\"tlsVersion\":\"TLSv1.2\",\"cipherSuite\":"
                          "\"ECDHE-RSA-AES128-GCM-SHA256\",\"clientProvidedHostHeader\":\"");
    out->append(r.tls_host);
    out->append("\"}");
  }
  if (r.session_from_console) out->append(",\"sessionCredentialFromConsole\":\"true\"");
  out->push_back('}');
}

int EventWriter::Table::Pick(Rng* rng) const {
  uint64_t x = rng->Below(cumulative.back());
  size_t i = std::upper_bound(cumulative.begin(), cumulative.end(), x) - cumulative.begin();
  return entries[i];
}

EventWriter::EventWriter(const World* world, const Catalog* catalog, bool data_events)
    : world_(world), catalog_(catalog) {
  for (int g = 0; g < 2; ++g) {
    for (int s = 0; s < 2; ++s) BuildTable(&tables_[g][s], g == 1, s == 1, data_events);
  }
}

void EventWriter::BuildTable(Table* t, bool global, bool service, bool data_events) {
  uint64_t sum = 0;
  const auto& entries = catalog_->entries();
  for (size_t i = 0; i < entries.size(); ++i) {
    const CatalogEntry& e = entries[i];
    if (e.weight == 0) continue;
    if (((e.flags & kServiceOnly) != 0) != service) continue;
    if ((e.flags & kData) && !data_events) continue;
    // The global stream (us-east-1) sees both its regional traffic and the global services.
    if ((e.flags & kGlobal) && !global) continue;
    sum += world_->profile == Profile::kWide ? FlattenWeight(e.weight) : e.weight;
    t->entries.push_back(static_cast<int>(i));
    t->cumulative.push_back(sum);
  }
}

void EventWriter::BeginCell() { last_principal_ = -1; }

int EventWriter::PickPrincipal(Rng* rng, int account) {
  // A principal usually makes several calls in a row.
  if (last_principal_ >= 0 && rng->Chance(550)) return last_principal_;
  const Account& a = world_->accounts[account];
  uint64_t x = rng->Below(a.principal_cumulative.back());
  int p = static_cast<int>(std::upper_bound(a.principal_cumulative.begin(),
                                            a.principal_cumulative.end(), x) -
                           a.principal_cumulative.begin());
  last_principal_ = p;
  return p;
}

const EventWriter::SessionKey& EventWriter::Session(uint64_t tag, int account, int principal,
                                                     int session, uint64_t hour) {
  const uint64_t id = MixSeed({tag, static_cast<uint64_t>(account), static_cast<uint64_t>(principal),
                               static_cast<uint64_t>(session), hour});
  SessionKey& slot = session_cache_[id & 255];
  if (slot.id == id) return slot;
  // Temporary credentials last an hour; the key (and its creation time) is a function of the
  // principal, the session and the hour, so each key belongs to exactly one principal.
  Rng k(MixSeed({world_->seed, id}));
  slot.id = id;
  slot.key.assign("ASIA");
  AppendRandomChars(&k, &slot.key, 16, kUpperAlnum);
  slot.created.clear();
  AppendIsoSeconds(static_cast<int64_t>(hour) * 3600000 - k.Range(30, 900) * 1000, &slot.created);
  return slot;
}

std::string_view EventWriter::SourceIp(Rng* rng, int account, int pi, int64_t time_ms) {
  const Principal& p = world_->accounts[account].principals[pi];
  if (!p.daily) return p.ips[rng->Below(p.ips.size())];
  // Home, office or phone: three addresses a day, new ones every day.
  const uint64_t day = static_cast<uint64_t>(time_ms / 86400000);
  Rng r(MixSeed({world_->seed, 0xDA1, static_cast<uint64_t>(account), static_cast<uint64_t>(pi),
                 day, rng->Below(3)}));
  daily_ip_ = fmt::format("{}.{}.{}.{}", kPublicOctets[r.Below(std::size(kPublicOctets))],
                          r.Range(0, 255), r.Range(0, 255), r.Range(1, 254));
  return daily_ip_;
}

void EventWriter::MakeIdentity(int account, int pi, int64_t time_ms, bool console, int session,
                               Identity* id, Rng* event_key) {
  const Account& a = world_->accounts[account];
  const Principal& p = a.principals[pi];
  const uint64_t hour = static_cast<uint64_t>(time_ms / 3600000);
  // Only roles run several sessions at once; users, root and federated users have one.
  if (p.type == PrincipalType::kAssumedRole) {
    session %= static_cast<int>(p.session_names.size());
  } else {
    session = 0;
  }
  auto session_key = [&](uint64_t tag) -> const SessionKey& {
    if (event_key == nullptr) return Session(tag, account, pi, session, hour);
    event_key_.key.assign("ASIA");
    AppendRandomChars(event_key, &event_key_.key, 16, kUpperAlnum);
    event_key_.created.clear();
    AppendIsoSeconds(time_ms - event_key->Range(60, 3540) * 1000, &event_key_.created);
    return event_key_;
  };
  auto attributes = [&](const std::string& created, bool mfa) {
    id->json.append("\"attributes\":{\"creationDate\":\"");
    id->json.append(created);
    id->json.append(mfa ? "\",\"mfaAuthenticated\":\"true\"}" : "\",\"mfaAuthenticated\":\"false\"}");
  };
  id->json.clear();
  id->console = console;
  switch (p.type) {
    case PrincipalType::kIamUser: {
      id->caller_arn = p.arn;
      id->json.append("{\"type\":\"IAMUser\",\"principalId\":\"").append(p.id);
      id->json.append("\",\"arn\":\"").append(p.arn);
      id->json.append("\",\"accountId\":\"").append(a.id);
      if (console || event_key != nullptr) {
        const SessionKey& sk = session_key(0xC0);
        id->access_key = sk.key;
        id->json.append("\",\"accessKeyId\":\"").append(sk.key);
        id->json.append("\",\"userName\":\"").append(p.name);
        id->json.append("\",\"sessionContext\":{\"sessionIssuer\":{},\"webIdFederationData\":{},");
        attributes(sk.created, p.mfa);
        id->json.append("}}");
      } else {
        id->access_key = p.access_key;
        id->json.append("\",\"accessKeyId\":\"").append(p.access_key);
        id->json.append("\",\"userName\":\"").append(p.name).append("\"}");
      }
      break;
    }
    case PrincipalType::kAssumedRole: {
      std::string_view sess = p.session_names[session];
      if (p.daily) {
        // A crowd role's session is named as the SDKs name one, after its start: a new name (and
        // ARN) each day.
        const uint64_t day = static_cast<uint64_t>(time_ms / 86400000);
        Rng r(MixSeed({world_->seed, 0x5E5D, static_cast<uint64_t>(account),
                       static_cast<uint64_t>(pi), day}));
        daily_session_ = fmt::format("{}-{}", sess, day * 86400 + r.Below(86400));
        sess = daily_session_;
      }
      const SessionKey& sk = session_key(0x5E55);
      const std::string& key = sk.key;
      id->access_key = key;
      id->caller_arn.assign("arn:aws:sts::").append(a.id).append(":assumed-role/");
      id->caller_arn.append(p.name).append("/").append(sess);
      id->json.append("{\"type\":\"AssumedRole\",\"principalId\":\"").append(p.id);
      id->json.append(":").append(sess);
      id->json.append("\",\"arn\":\"").append(id->caller_arn);
      id->json.append("\",\"accountId\":\"").append(a.id);
      id->json.append("\",\"accessKeyId\":\"").append(key);
      id->json.append("\",\"sessionContext\":{\"sessionIssuer\":{\"type\":\"Role\",\"principalId\":\"");
      id->json.append(p.id).append("\",\"arn\":\"").append(p.arn);
      id->json.append("\",\"accountId\":\"").append(a.id);
      id->json.append("\",\"userName\":\"").append(p.name);
      id->json.append("\"},\"webIdFederationData\":{},");
      attributes(sk.created, false);
      id->json.append("}");
      if (!p.invoked_by.empty()) id->json.append(",\"invokedBy\":\"").append(p.invoked_by).append("\"");
      id->json.append("}");
      break;
    }
    case PrincipalType::kRoot: {
      const SessionKey& sk = session_key(0x2007);
      const std::string& key = sk.key;
      id->access_key = key;
      id->caller_arn = p.arn;
      id->json.append("{\"type\":\"Root\",\"principalId\":\"").append(a.id);
      id->json.append("\",\"arn\":\"").append(p.arn);
      id->json.append("\",\"accountId\":\"").append(a.id);
      id->json.append("\",\"accessKeyId\":\"").append(key);
      id->json.append("\",\"sessionContext\":{\"sessionIssuer\":{},\"webIdFederationData\":{},");
      attributes(sk.created, p.mfa);
      id->json.append("}}");
      break;
    }
    case PrincipalType::kFederatedUser: {
      const SessionKey& sk = session_key(0xFED);
      const std::string& key = sk.key;
      id->access_key = key;
      id->caller_arn = p.arn;
      id->json.append("{\"type\":\"FederatedUser\",\"principalId\":\"").append(a.id);
      id->json.append(":").append(p.name);
      id->json.append("\",\"arn\":\"").append(p.arn);
      id->json.append("\",\"accountId\":\"").append(a.id);
      id->json.append("\",\"accessKeyId\":\"").append(key);
      id->json.append("\",\"sessionContext\":{");
      if (p.issuer >= 0) {
        const Principal& is = a.principals[p.issuer];
        id->json.append("\"sessionIssuer\":{\"type\":\"IAMUser\",\"principalId\":\"").append(is.id);
        id->json.append("\",\"arn\":\"").append(is.arn);
        id->json.append("\",\"accountId\":\"").append(a.id);
        id->json.append("\",\"userName\":\"").append(is.name).append("\"},");
      }
      id->json.append("\"webIdFederationData\":{},");
      attributes(sk.created, false);
      id->json.append("}}");
      break;
    }
    case PrincipalType::kAwsService:
      id->access_key.clear();
      id->caller_arn.clear();
      id->json = "{\"type\":\"AWSService\",\"invokedBy\":\"" + p.name + "\"}";
      break;
  }
}

void EventWriter::ResetVars(Rng* rng, int account, int region, int64_t time_ms) {
  rng_ = rng;
  account_ = &world_->accounts[account];
  pool_ = &account_->regional[region];
  region_ = world_->regions[region];
  time_ms_ = time_ms;
  role_ = -1;
  have_ = 0;
}

const std::string& EventWriter::Resolve(int var) {
  const uint64_t bit = 1ull << var;
  std::string& v = vars_[var];
  if (have_ & bit) return v;
  have_ |= bit;
  v.clear();
  Rng* rng = rng_;
  const Account& a = *account_;
  // Skewed choice: low indexes are the busy resources.
  auto pick = [rng](const std::vector<std::string>& list) -> const std::string& {
    size_t n = list.size();
    return list[std::min(rng->Below(n), rng->Below(n))];
  };
  auto role = [&]() -> const Principal& {
    if (role_ < 0) {
      // Any role of the account; the busiest roles are assumed most.
      int n = 0;
      for (;;) {
        int i = static_cast<int>(rng->Below(a.principals.size()));
        if (a.principals[i].type == PrincipalType::kAssumedRole || ++n > 64) {
          role_ = i;
          break;
        }
      }
      if (a.principals[role_].type != PrincipalType::kAssumedRole) {
        for (size_t i = 0; i < a.principals.size(); ++i) {
          if (a.principals[i].type == PrincipalType::kAssumedRole) role_ = static_cast<int>(i);
        }
      }
    }
    return a.principals[role_];
  };
  switch (static_cast<Var>(var)) {
    case Var::kAcct: v = a.id; break;
    case Var::kRegion: v = region_; break;
    case Var::kAz: v = region_; v.push_back(static_cast<char>('a' + rng->Below(3))); break;
    case Var::kBucket: v = pick(a.buckets); break;
    case Var::kObjKey: {
      v = pick(a.object_prefixes);
      AppendRandomChars(rng, &v, 12, kLowerHex);
      static constexpr std::string_view kExt[] = {".json", ".jpg", ".csv.gz", ".parquet", ".png"};
      v.append(kExt[rng->Below(std::size(kExt))]);
      break;
    }
    case Var::kInstance: v = pick(pool_->instances); break;
    case Var::kVolume: v = pick(pool_->volumes); break;
    case Var::kSnapshot: v = pick(pool_->snapshots); break;
    case Var::kAmi: v = pick(pool_->amis); break;
    case Var::kVpc: v = pick(pool_->vpcs); break;
    case Var::kSubnet: v = pick(pool_->subnets); break;
    case Var::kSg: v = pick(pool_->sgs); break;
    case Var::kEni: v = "eni-"; AppendRandomChars(rng, &v, 17, kLowerHex); break;
    case Var::kUser: v = pick(a.user_names); break;
    case Var::kRole: v = role().name; break;
    case Var::kRoleArn: v = role().arn; break;
    case Var::kSessName: {
      const Principal& r = role();
      v = r.session_names[rng->Below(r.session_names.size())];
      break;
    }
    case Var::kPolicyArn: v = pick(a.policy_arns); break;
    case Var::kPolicyName: v = pick(a.policy_names); break;
    case Var::kFn: v = pick(a.functions); break;
    case Var::kFnArn:
      v = "arn:aws:lambda:" + std::string(region_) + ":" + a.id + ":function:" + Resolve(static_cast<int>(Var::kFn));
      break;
    case Var::kTable: v = pick(a.tables); break;
    case Var::kQueueName: v = pick(a.queues); break;
    case Var::kQueueUrl:
      v = "https://sqs." + std::string(region_) + ".amazonaws.com/" + a.id + "/" +
          Resolve(static_cast<int>(Var::kQueueName));
      break;
    case Var::kTopicArn: v = "arn:aws:sns:" + std::string(region_) + ":" + a.id + ":" + pick(a.topics); break;
    case Var::kSecret: v = pick(a.secrets); break;
    case Var::kSecretArn:
      v = "arn:aws:secretsmanager:" + std::string(region_) + ":" + a.id + ":secret:" +
          Resolve(static_cast<int>(Var::kSecret)) + "-";
      AppendRandomChars(rng, &v, 6, kAlnum);
      break;
    case Var::kKmsKey: v = pick(a.kms_keys); break;
    case Var::kKmsArn:
      v = "arn:aws:kms:" + std::string(region_) + ":" + a.id + ":key/" + Resolve(static_cast<int>(Var::kKmsKey));
      break;
    case Var::kLogGroup: v = pick(a.log_groups); break;
    case Var::kLogStream:
      v = "2026/11/01/[$LATEST]";
      AppendRandomChars(rng, &v, 32, kLowerHex);
      break;
    case Var::kStack: v = pick(a.stacks); break;
    case Var::kStackId:
      v = "arn:aws:cloudformation:" + std::string(region_) + ":" + a.id + ":stack/" +
          Resolve(static_cast<int>(Var::kStack)) + "/";
      AppendUuid(rng, &v);
      break;
    case Var::kCluster: v = pick(a.clusters); break;
    case Var::kRepo: v = pick(a.repos); break;
    case Var::kUuid:
    case Var::kUuid2:
    case Var::kReqId: AppendUuid(rng, &v); break;
    case Var::kHex8: AppendRandomChars(rng, &v, 8, kLowerHex); break;
    case Var::kHex17: AppendRandomChars(rng, &v, 17, kLowerHex); break;
    case Var::kNum: v = std::to_string(time_ms_ / 1000 - rng->Range(60, 3600)); break;
    case Var::kBytes: v = std::to_string(rng->Range(200, 5000000)); break;
    case Var::kTime: AppendIsoSeconds(time_ms_, &v); break;
    case Var::kEpochMs: v = std::to_string(time_ms_); break;
    case Var::kTrail: v = a.trail; break;
    case Var::kTrailArn: v = "arn:aws:cloudtrail:" + world_->regions[world_->global_region] + ":" + a.id + ":trail/" + a.trail; break;
    case Var::kDetector: v = pool_->detector; break;
    case Var::kZone: v = a.zone; break;
    case Var::kDist: v = a.distribution; break;
    case Var::kNewKey: AppendRandomChars(rng, &v, 16, kUpperAlnum); break;
    case Var::kParam: v = pick(a.params); break;
    case Var::kIp:
      v = std::to_string(rng->Range(3, 99)) + "." + std::to_string(rng->Range(0, 255)) + "." +
          std::to_string(rng->Range(0, 255)) + "." + std::to_string(rng->Range(1, 254));
      break;
    case Var::kCallerArn: v = caller_arn_; break;
    case Var::kDbInstance: v = pick(a.db_instances); break;
    case Var::kLb: v = pick(a.lbs); break;
    case Var::kApi: v = pick(a.apis); break;
    case Var::kAlarm: v = pick(a.alarms); break;
    case Var::kRule: v = pick(a.rules); break;
    case Var::kStream: v = pick(a.streams); break;
    case Var::kSfn:
      v = "arn:aws:states:" + std::string(region_) + ":" + a.id + ":stateMachine:" + pick(a.sfns);
      break;
    case Var::kCount: break;
  }
  return v;
}

void EventWriter::Expand(const Template& t, std::string* out) {
  for (const auto& piece : t.pieces) {
    out->append(piece.literal);
    if (piece.var >= 0) out->append(Resolve(piece.var));
  }
}

void EventWriter::StartVars(Rng* rng, int account, int region, int64_t time_ms,
                            const std::vector<std::pair<Var, std::string>>& overrides) {
  ResetVars(rng, account, region, time_ms);
  for (const auto& [var, value] : overrides) {
    vars_[static_cast<int>(var)] = value;
    have_ |= 1ull << static_cast<int>(var);
  }
}

void EventWriter::AppendConsoleLogin(Rng* rng, int account, int region, int64_t time_ms,
                                     std::string* out) {
  const Account& a = world_->accounts[account];
  // Humans sign in: IAM users with console access, SSO sessions, and (rarely) root with MFA.
  int pi = -1;
  uint64_t roll = rng->Below(100);
  for (int tries = 0; tries < 64 && pi < 0; ++tries) {
    int i = static_cast<int>(rng->Below(a.principals.size()));
    const Principal& p = a.principals[i];
    if (roll < 3) {
      pi = a.root;
    } else if (p.console_per_mille > 0 && p.type != PrincipalType::kRoot) {
      pi = i;
    }
  }
  if (pi < 0) pi = a.root;
  const Principal& p = a.principals[pi];
  const bool failed = p.type == PrincipalType::kIamUser && rng->Chance(80);
  const bool mfa = p.type == PrincipalType::kAssumedRole ? false : (p.mfa && !failed);
  std::string& ident = identity_.json;
  ident.clear();
  switch (p.type) {
    case PrincipalType::kRoot:
      ident = "{\"type\":\"Root\",\"principalId\":\"" + a.id + "\",\"arn\":\"" + p.arn +
              "\",\"accountId\":\"" + a.id + "\"}";
      break;
    case PrincipalType::kAssumedRole: {
      Identity id;
      MakeIdentity(account, pi, time_ms, true, static_cast<int>(rng->Below(8)), &id,
                   world_->profile == Profile::kWide ? rng : nullptr);
      ident = std::move(id.json);
      break;
    }
    default:
      ident = "{\"type\":\"IAMUser\",\"principalId\":\"" + p.id + "\",\"arn\":\"" + p.arn +
              "\",\"accountId\":\"" + a.id + "\",\"userName\":\"" + p.name + "\"}";
      break;
  }
  event_id_.clear();
  AppendUuid(rng, &event_id_);
  extra_ = "{\"LoginTo\":\"https://console.aws.amazon.com/console/home?state=hashArgs%23&isauthcode=true\",\"MobileVersion\":\"No\",\"MFAUsed\":\"";
  extra_.append(mfa ? "Yes\"}" : "No\"}");
  Record r;
  r.user_identity = ident;
  r.time_ms = time_ms;
  r.event_source = "signin.amazonaws.com";
  r.event_name = "ConsoleLogin";
  r.region = world_->regions[region];
  r.source_ip = SourceIp(rng, account, pi, time_ms);
  r.user_agent = UserAgents()[rng->Below(2)];
  if (!p.browser.empty()) r.user_agent = p.browser;
  if (failed) r.error_message = "Failed authentication";
  r.response_elements = failed ? "{\"ConsoleLogin\":\"Failure\"}" : "{\"ConsoleLogin\":\"Success\"}";
  r.additional_event_data = extra_;
  r.event_id = event_id_;
  r.event_type = "AwsConsoleSignIn";
  r.recipient_account = a.id;
  r.tls_host = "signin.aws.amazon.com";
  r.tls13 = rng->Chance(700);
  AppendRecord(r, out);
}

void EventWriter::AppendBackground(Rng* rng, int account, int region, int64_t time_ms,
                                   std::string* out) {
  const Account& a = world_->accounts[account];
  const bool global = region == world_->global_region;
  const uint64_t roll = rng->Below(1000);
  if (global && roll < 4) {
    AppendConsoleLogin(rng, account, region, time_ms, out);
    return;
  }
  const bool service_call = roll >= 4 && roll < 120;
  const int ei = tables_[global][service_call].Pick(rng);
  const CatalogEntry& e = catalog_->entries()[ei];

  ResetVars(rng, account, region, time_ms);
  Record r;
  std::string_view service_host;
  if (service_call) {
    service_host = (e.flags & kServiceEvent) ? std::string_view(e.event_source)
                                             : ServiceCaller(rng, e.service);
    identity_.json.clear();
    if (e.flags & kServiceEvent) {
      identity_.json.append("{\"accountId\":\"").append(a.id).append("\",\"invokedBy\":\"");
    } else {
      identity_.json.append("{\"type\":\"AWSService\",\"invokedBy\":\"");
    }
    identity_.json.append(service_host).append("\"}");
    caller_arn_.clear();
    r.source_ip = service_host;
    r.user_agent = service_host;
  } else {
    const int pi = PickPrincipal(rng, account);
    const Principal& p = a.principals[pi];
    const bool console = p.console_per_mille > 0 && rng->Chance(p.console_per_mille);
    MakeIdentity(account, pi, time_ms, console, static_cast<int>(rng->Below(8)), &identity_,
                 world_->profile == Profile::kWide ? rng : nullptr);
    caller_arn_ = identity_.caller_arn;
    if (!p.invoked_by.empty()) {
      r.source_ip = p.invoked_by;
      r.user_agent = p.invoked_by;
    } else {
      r.source_ip = SourceIp(rng, account, pi, time_ms);
      if (!p.agent_names.empty()) {
        r.user_agent = console ? std::string_view(p.browser)
                               : std::string_view(p.agent_names[rng->Below(p.agent_names.size())]);
      } else {
        int agent = p.agents[0];
        if (console) {
          if (agent >= kConsoleAgents) agent = static_cast<int>(rng->Below(kConsoleAgents));
        } else {
          for (int g : p.agents) {
            if (g >= kConsoleAgents) agent = g;
          }
        }
        r.user_agent = UserAgents()[agent];
      }
      r.session_from_console = console;
      if (rng->Chance(880)) {
        tls_host_.assign(e.service);
        if (!(e.flags & kGlobal)) tls_host_.append(".").append(region_);
        tls_host_.append(".amazonaws.com");
        r.tls_host = tls_host_;
        r.tls13 = rng->Chance(600);
      }
    }
  }
  r.user_identity = identity_.json;
  r.event_version = e.event_version;
  r.time_ms = time_ms;
  r.event_source = e.event_source;
  r.event_name = e.event_name;
  r.region = region_;
  r.read_only = (e.flags & kReadOnly) != 0;
  r.recipient_account = a.id;
  if (e.flags & kServiceEvent) r.event_type = "AwsServiceEvent";
  if (e.flags & kData) {
    r.management_event = false;
    r.event_category = "Data";
  }

  // Errors: ~7% of principals' calls, rarely for AWS services calling each other.
  const bool error = rng->Chance(service_call ? 8 : 74);
  request_.clear();
  response_.clear();
  resources_.clear();
  if (!e.request.empty()) {
    Expand(e.request, &request_);
    r.request_parameters = request_;
  }
  if (!e.resources.empty()) {
    Expand(e.resources, &resources_);
    r.resources = resources_;
  }
  if (error) {
    const uint64_t kind = rng->Below(100);
    const bool json_service = JsonProtocolService(e.service);
    error_message_.clear();
    if (kind < 40) {
      if (e.service == "ec2") {
        r.error_code = "Client.UnauthorizedOperation";
        error_message_ = "You are not authorized to perform this operation. User: " + caller_arn_ +
                         " is not authorized to perform: ec2:" + std::string(e.event_name) +
                         " because no identity-based policy allows the ec2:" +
                         std::string(e.event_name) + " action. Encoded authorization failure message: ";
        AppendRandomChars(rng, &error_message_, 48, kAlnum);
      } else {
        r.error_code = json_service ? "AccessDeniedException" : "AccessDenied";
        error_message_ = "User: " + caller_arn_ + " is not authorized to perform: " +
                         std::string(e.service) + ":" + std::string(e.event_name) +
                         " because no identity-based policy allows the " + std::string(e.service) +
                         ":" + std::string(e.event_name) + " action";
      }
    } else if (kind < 55) {
      if (e.service == "ec2") {
        r.error_code = "Client.RequestLimitExceeded";
        error_message_ = "Request limit exceeded.";
      } else if (e.service == "s3") {
        r.error_code = "SlowDown";
        error_message_ = "Please reduce your request rate.";
      } else {
        r.error_code = json_service ? "ThrottlingException" : "Throttling";
        error_message_ = "Rate exceeded";
      }
    } else if (kind < 82) {
      if (e.service == "iam") {
        r.error_code = "NoSuchEntityException";
        error_message_ = "The user with name " + Resolve(static_cast<int>(Var::kUser)) + " cannot be found.";
      } else if (e.service == "ec2") {
        r.error_code = "Client.InvalidInstanceID.NotFound";
        error_message_ = "The instance ID '" + Resolve(static_cast<int>(Var::kInstance)) + "' does not exist";
      } else if (e.service == "s3") {
        if (e.event_name == "GetBucketPolicy") {
          r.error_code = "NoSuchBucketPolicy";
          error_message_ = "The bucket policy does not exist";
        } else if (e.event_name == "GetBucketEncryption") {
          r.error_code = "ServerSideEncryptionConfigurationNotFoundError";
          error_message_ = "The server side encryption configuration was not found";
        } else {
          r.error_code = (e.flags & kData) ? "NoSuchKey" : "NoSuchBucket";
          error_message_ = (e.flags & kData) ? "The specified key does not exist."
                                             : "The specified bucket does not exist";
        }
      } else {
        r.error_code = "ResourceNotFoundException";
        error_message_ = "Requested resource not found";
      }
    } else {
      r.error_code = e.service == "ec2" ? "Client.InvalidParameterValue" : "ValidationException";
      error_message_ = "1 validation error detected: Value at 'maxResults' failed to satisfy constraint: Member must have value less than or equal to 1000";
    }
    r.error_message = error_message_;
  } else if (!e.response.empty()) {
    Expand(e.response, &response_);
    r.response_elements = response_;
  }

  request_id_.clear();
  if (e.service == "s3") {
    AppendRandomChars(rng, &request_id_, 16, kUpperAlnum);
  } else {
    AppendUuid(rng, &request_id_);
  }
  if (e.flags & kServiceEvent) request_id_.clear();
  r.request_id = request_id_;
  event_id_.clear();
  AppendUuid(rng, &event_id_);
  r.event_id = event_id_;

  if (e.flags & kData) {
    extra_.clear();
    if (e.service == "s3") {
      extra_.append("{\"SignatureVersion\":\"SigV4\",\"CipherSuite\":\"TLS_AES_128_GCM_SHA256\",\"bytesTransferredIn\":");
      extra_.append(e.event_name == "PutObject" ? std::to_string(rng->Range(200, 5000000)) : "0");
      extra_.append(",\"AuthenticationMethod\":\"AuthHeader\",\"x-amz-id-2\":\"");
      AppendRandomChars(rng, &extra_, 76, kAlnum);
      extra_.append("\",\"bytesTransferredOut\":");
      extra_.append(e.event_name == "GetObject" && !error ? std::to_string(rng->Range(200, 5000000)) : "0");
      extra_.append("}");
    } else {
      extra_.append("{\"functionVersion\":\"").append(Resolve(static_cast<int>(Var::kFnArn))).append(":$LATEST\"}");
    }
    r.additional_event_data = extra_;
  }
  AppendRecord(r, out);
}

}  // namespace cairn::generate
