// Search-time field extraction for events: JSON auto-kv of _raw (key=value
// pairs for non-JSON text), the date_* fields, and for sourcetype
// aws:cloudtrail the field aliases and calculated fields that the Splunk Add-on
// for AWS defines. The calculated fields are written here as eval expressions
// and run through this layer's own evaluator; like Splunk, aliases apply first,
// every calculated field sees the fields as they were before any calculated
// field, and the action/status "lookup" runs last, on the calculated errorCode.

#include "query/cim.h"

#include <re2/re2.h>

#include <unordered_map>

#include "query/eval.h"
#include "query/parser.h"
#include "query/time_format.h"

namespace cairn::query::cim {
namespace {

struct Alias {
  const char* from;
  const char* to;
};

// FIELDALIAS-* of [aws:cloudtrail].
constexpr Alias kAliases[] = {
    {"eventType", "app"},
    {"eventSource", "dvc"},
    {"awsRegion", "region"},
    {"awsRegion", "vendor_region"},
    {"eventName", "signature"},
    {"eventName", "command"},
    {"sourceIPAddress", "src"},
    {"sourceIPAddress", "src_ip"},
    {"userIdentity.accountId", "user_group_id"},
    {"errorMessage", "reason"},
    {"errorMessage", "result"},
    {"errorCode", "result_id"},
    {"userIdentity.accessKeyId", "user_access_key"},
    {"responseElements.credentials.accessKeyId", "temp_access_key"},
    {"eventTime", "start_time"},
    {"requestParameters.instanceType", "instance_type"},
    {"requestParameters", "desc"},
};

struct Calc {
  const char* field;
  const char* expr;
};

// The last path segment of an ARN-like string: "arn:aws:iam::1:user/x/alice" ->
// "alice".
#define ARN_TAIL(x) "mvindex(split(mvindex(split(" x ", \":\"), -1), \"/\"), -1)"

// EVAL-* of [aws:cloudtrail], simplified where the add-on special-cases rare
// events.
constexpr Calc kCalcs[] = {
    {"msg", "coalesce(errorCode, \"success\")"},
    {"user_arn", "coalesce('userIdentity.arn', 'requestParameters.roleArn')"},
    {"userName",
     "coalesce('userIdentity.userName', 'requestParameters.sourceIdentity', "
     "'userIdentity.sessionContext.sessionIssuer.userName', " ARN_TAIL(
         "coalesce('userIdentity.arn', 'requestParameters.roleArn')") ")"},
    {"vendor_account", "coalesce('userIdentity.accountId', recipientAccountId)"},
    {"aws_account_id",
     "if('userIdentity.type'=\"AWSAccount\" OR "
     "'userIdentity.type'=\"AWSService\", "
     "recipientAccountId, 'userIdentity.accountId')"},
    {"user",
     "case(eventName=\"CreateUser\", 'responseElements.user.userName', "
     "eventName=\"DeleteUser\" OR eventName=\"DeleteLoginProfile\", "
     "'requestParameters.userName', "
     "eventName=\"UpdateUser\", 'requestParameters.newUserName', "
     "eventName=\"CreateLoginProfile\", "
     "'responseElements.loginProfile.userName', "
     "eventName=\"CreateAccessKey\", "
     "coalesce('responseElements.accessKey.userName', "
     "'userIdentity.userName'), "
     "eventName=\"AssumeRole\" AND 'userIdentity.type'=\"AssumedRole\", "
     "mvindex(split('requestParameters.roleArn', \"/\"), -1), "
     "like(eventName, \"AssumeRole%\"), "
     "mvindex(split('responseElements.assumedRoleUser.arn', \"/\"), -1), "
     "true(), coalesce('userIdentity.userName', "
     "'userIdentity.sessionContext.sessionIssuer.userName'))"},
    {"user_name",
     "case(eventName=\"CreateUser\", 'responseElements.user.userName', "
     "eventName=\"DeleteUser\" OR eventName=\"DeleteLoginProfile\", "
     "'requestParameters.userName', "
     "eventName=\"UpdateUser\", 'requestParameters.newUserName', "
     "eventName=\"CreateLoginProfile\", "
     "'responseElements.loginProfile.userName', "
     "eventName=\"CreateAccessKey\", "
     "coalesce('responseElements.accessKey.userName', "
     "'userIdentity.userName'), "
     "true(), coalesce('userIdentity.userName', "
     "'userIdentity.sessionContext.sessionIssuer.userName', " ARN_TAIL(
         "coalesce('userIdentity.arn', 'requestParameters.roleArn')") "))"},
    {"user_type",
     "case(eventName=\"CreateLoginProfile\" OR like(eventName, \"%User\") OR "
     "eventName=\"CreateAccessKey\" OR eventName=\"ListAccessKeys\" OR "
     "eventName=\"CreateVirtualMFADevice\", null(), "
     "eventName=\"ConsoleLogin\" AND 'userIdentity.type'=\"AssumedRole\" AND "
     "isnull('additionalEventData.LoginTo'), "
     "'userIdentity.sessionContext.sessionIssuer.type', "
     "like(eventName, \"AssumeRole%\"), mvjoin(coalesce('resources{}.type', "
     "mvindex(split('responseElements.assumedRoleUser.arn', \"/\"), 1)), "
     "\",\"), "
     "true(), 'userIdentity.type')"},
    {"user_id",
     "case(eventName=\"CreateUser\", 'responseElements.user.userId', "
     "true(), coalesce(mvindex(split('userIdentity.principalId', \":\"), 0), "
     "'userIdentity.userName'))"},
    {"user_agent", "coalesce(userAgent, 'userAgent{}')"},
    {"vendor_product", "\"AWS CloudTrail\""},
    {"vendor", "\"AWS\""},
    {"product", "\"CloudTrail\""},
    {"dest",
     "case(eventName=\"RunInstances\", "
     "coalesce('responseElements.instancesSet.items{}.instanceId', "
     "eventSource), "
     "like(eventName, \"%Instances\"), "
     "coalesce('requestParameters.instancesSet.items{}.instanceId', "
     "eventSource), "
     "like(eventName, \"%Bucket%\"), coalesce('requestParameters.bucketName', "
     "'requestParameters.host{}', eventSource), "
     "eventName=\"ConsoleLogin\" OR like(eventName, \"AssumeRole%\") OR "
     "eventName=\"CheckMfa\", "
     "coalesce('additionalEventData.LoginTo', eventSource), "
     "true(), eventSource)"},
    {"object",
     "case(like(eventName, \"%Bucket%\"), 'requestParameters.bucketName', "
     "eventName=\"RunInstances\", "
     "'responseElements.instancesSet.items{}.instanceId', "
     "like(eventName, \"%Instances\"), "
     "'requestParameters.instancesSet.items{}.instanceId', "
     "like(eventName, \"%SecurityGroup%\"), "
     "coalesce('responseElements.groupId', 'requestParameters.groupId'), "
     "like(eventName, \"%User\"), coalesce('requestParameters.userName', "
     "'responseElements.user.userName'))"},
    {"rule_action",
     "coalesce('responseElements.networkAcl.entrySet.items{}."
     "ruleAction', 'requestParameters.ruleAction')"},
    {"errorCode",
     "coalesce(errorCode, if('responseElements.ConsoleLogin'=\"Failure\", "
     "\"failure\", \"success\"))"},
    {"authentication_method",
     "case(('additionalEventData.MFAUsed'=\"Yes\" AND "
     "eventName=\"ConsoleLogin\") OR "
     "eventName=\"CheckMfa\", \"MFA\", "
     "'additionalEventData.MFAUsed'=\"No\" AND "
     "eventName=\"ConsoleLogin\", \"SFA\")"},
};

#undef ARN_TAIL

struct Tables {
  std::unordered_map<std::string_view, std::string_view> alias_source;  // target -> source
  std::unordered_map<std::string_view, ExprPtr> calcs;
  std::vector<std::string> computed;
};

void FieldRefs(const Expr& e, std::vector<std::string>* out) {
  if (e.kind == Expr::Kind::kField) out->push_back(e.text);
  for (const auto& a : e.args) FieldRefs(*a, out);
}

const Tables& GetTables() {
  static const Tables* t = [] {
    auto* out = new Tables;
    for (const Alias& a : kAliases) {
      out->alias_source.emplace(a.to, a.from);
      out->computed.emplace_back(a.to);
    }
    for (const Calc& calc : kCalcs) {
      auto e = ParseEvalExpression(calc.expr);
      if (!e.ok()) {
        // A bug in the table above; fail loudly in tests rather than silently.
        fmt::print(stderr, "cairn: bad calculated field {}: {}\n", calc.field,
                   e.status().ToString());
        std::abort();
      }
      out->calcs.emplace(calc.field, std::move(e).value());
      out->computed.emplace_back(calc.field);
    }
    out->computed.emplace_back("action");
    out->computed.emplace_back("status");
    return out;
  }();
  return *t;
}

bool HasPrefix(std::string_view s, std::initializer_list<const char*> prefixes) {
  for (const char* p : prefixes) {
    size_t n = std::char_traits<char>::length(p);
    if (s.size() > n && s.compare(0, n, p) == 0 && std::isupper(static_cast<unsigned char>(s[n]))) {
      return true;
    }
    if (s == p) return true;
  }
  return false;
}

}  // namespace

std::string_view AliasSource(std::string_view target) {
  const auto& m = GetTables().alias_source;
  auto it = m.find(target);
  return it == m.end() ? std::string_view() : it->second;
}

const Expr* Calculation(std::string_view name) {
  const auto& m = GetTables().calcs;
  auto it = m.find(name);
  return it == m.end() ? nullptr : it->second.get();
}

const std::vector<std::string>& ComputedNames() { return GetTables().computed; }

std::vector<std::string> Dependencies(std::string_view name) {
  std::vector<std::string> out;
  if (auto src = AliasSource(name); !src.empty()) {
    out.emplace_back(src);
    out.emplace_back(name);
  } else if (const Expr* e = Calculation(name)) {
    FieldRefs(*e, &out);
  } else if (name == "action" || name == "status") {
    out = Dependencies("errorCode");
    out.emplace_back("eventName");
    if (name == "action") out.emplace_back("action");
  }
  return out;
}

// Stands in for the add-on's aws-cloudtrail-action-status-lookup (eventName,
// errorCode -> action, status): authentication events succeed or fail; change
// events are classified by verb.
std::string ActionOf(std::string_view name, bool success) {
  if (name == "ConsoleLogin" || name == "CheckMfa" || HasPrefix(name, {"AssumeRole"}) ||
      name == "GetSessionToken" || name == "GetFederationToken" || name == "SwitchRole" ||
      name == "ExitRole" || name == "RenewRole") {
    return success ? "success" : "failure";
  }
  if (HasPrefix(name, {"Create", "Run", "Allocate", "Import", "Register", "Copy", "Upload",
                       "Request", "Issue"})) {
    return "created";
  }
  if (HasPrefix(name, {"Delete", "Remove", "Terminate", "Deregister", "Release", "Revoke", "Detach",
                       "Disassociate", "Cancel"})) {
    return "deleted";
  }
  if (HasPrefix(name, {"Start"})) return "started";
  if (HasPrefix(name, {"Stop"})) return "stopped";
  if (HasPrefix(name, {"Put",       "Update",  "Modify", "Set",       "Change", "Replace", "Reset",
                       "Enable",    "Disable", "Attach", "Associate", "Add",    "Tag",     "Untag",
                       "Authorize", "Restore", "Reboot", "Apply",     "Enter",  "Rotate"})) {
    return "modified";
  }
  if (HasPrefix(name, {"Describe", "List", "Get", "Head", "Lookup", "Search", "Select", "Scan",
                       "Query", "BatchGet", "Decrypt", "Encrypt", "Generate"})) {
    return "read";
  }
  return "";
}

void DateFields(double t, FieldMap* out) {
  static const char* kMonths[] = {"january",   "february", "march",    "april",
                                  "may",       "june",     "july",     "august",
                                  "september", "october",  "november", "december"};
  static const char* kDays[] = {"sunday",   "monday", "tuesday", "wednesday",
                                "thursday", "friday", "saturday"};
  std::string s = Strftime(t, "%Y %m %d %H %M %S %w");
  int y, mo, d, h, mi, sec, wd;
  if (std::sscanf(s.c_str(), "%d %d %d %d %d %d %d", &y, &mo, &d, &h, &mi, &sec, &wd) != 7) return;
  (*out)["date_year"] = {std::to_string(y)};
  (*out)["date_month"] = {kMonths[mo - 1]};
  (*out)["date_mday"] = {std::to_string(d)};
  (*out)["date_hour"] = {std::to_string(h)};
  (*out)["date_minute"] = {std::to_string(mi)};
  (*out)["date_second"] = {std::to_string(sec)};
  (*out)["date_wday"] = {kDays[wd]};
  (*out)["date_zone"] = {"0"};
}

bool IsDateField(std::string_view name) {
  return name == "date_year" || name == "date_month" || name == "date_mday" ||
         name == "date_hour" || name == "date_minute" || name == "date_second" ||
         name == "date_wday" || name == "date_zone";
}

void KeyValuePairs(std::string_view raw, Row* row) {
  static const RE2 kv("([A-Za-z_][A-Za-z0-9_.]*)=(\"[^\"]*\"|[^\\s,;\"]+)");
  re2::StringPiece input(raw.data(), raw.size());
  std::string k, v;
  while (RE2::FindAndConsume(&input, kv, &k, &v)) {
    if (v.size() >= 2 && v.front() == '"') v = v.substr(1, v.size() - 2);
    if (!row->GetRaw(k)) row->AppendRaw(k, v);
  }
}

}  // namespace cairn::query::cim
