// Search-time field extraction for events: JSON auto-kv of _raw (key=value pairs for non-JSON
// text), the date_* fields, and for sourcetype aws:cloudtrail the field aliases and calculated
// fields that the Splunk Add-on for AWS defines. The calculated fields are written here as eval
// expressions and run through this layer's own evaluator; like Splunk, aliases apply first, every
// calculated field sees the fields as they were before any calculated field, and the action/status
// "lookup" runs last, on the calculated errorCode.

#include <re2/re2.h>

#include <mutex>

#include "query/eval.h"
#include "query/parser.h"
#include "query/row.h"
#include "query/time_format.h"

namespace cairn::query {
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

// The last path segment of an ARN-like string: "arn:aws:iam::1:user/x/alice" -> "alice".
#define ARN_TAIL(x) "mvindex(split(mvindex(split(" x ", \":\"), -1), \"/\"), -1)"

// EVAL-* of [aws:cloudtrail], simplified where the add-on special-cases rare events.
constexpr Calc kCalcs[] = {
    {"msg", "coalesce(errorCode, \"success\")"},
    {"user_arn", "coalesce('userIdentity.arn', 'requestParameters.roleArn')"},
    {"userName",
     "coalesce('userIdentity.userName', 'requestParameters.sourceIdentity', "
     "'userIdentity.sessionContext.sessionIssuer.userName', "
     ARN_TAIL("coalesce('userIdentity.arn', 'requestParameters.roleArn')") ")"},
    {"vendor_account", "coalesce('userIdentity.accountId', recipientAccountId)"},
    {"aws_account_id",
     "if('userIdentity.type'=\"AWSAccount\" OR 'userIdentity.type'=\"AWSService\", "
     "recipientAccountId, 'userIdentity.accountId')"},
    {"user",
     "case(eventName=\"CreateUser\", 'responseElements.user.userName', "
     "eventName=\"DeleteUser\" OR eventName=\"DeleteLoginProfile\", 'requestParameters.userName', "
     "eventName=\"UpdateUser\", 'requestParameters.newUserName', "
     "eventName=\"CreateLoginProfile\", 'responseElements.loginProfile.userName', "
     "eventName=\"CreateAccessKey\", coalesce('responseElements.accessKey.userName', 'userIdentity.userName'), "
     "eventName=\"AssumeRole\" AND 'userIdentity.type'=\"AssumedRole\", mvindex(split('requestParameters.roleArn', \"/\"), -1), "
     "like(eventName, \"AssumeRole%\"), mvindex(split('responseElements.assumedRoleUser.arn', \"/\"), -1), "
     "true(), coalesce('userIdentity.userName', 'userIdentity.sessionContext.sessionIssuer.userName'))"},
    {"user_name",
     "case(eventName=\"CreateUser\", 'responseElements.user.userName', "
     "eventName=\"DeleteUser\" OR eventName=\"DeleteLoginProfile\", 'requestParameters.userName', "
     "eventName=\"UpdateUser\", 'requestParameters.newUserName', "
     "eventName=\"CreateLoginProfile\", 'responseElements.loginProfile.userName', "
     "eventName=\"CreateAccessKey\", coalesce('responseElements.accessKey.userName', 'userIdentity.userName'), "
     "true(), coalesce('userIdentity.userName', 'userIdentity.sessionContext.sessionIssuer.userName', "
     ARN_TAIL("coalesce('userIdentity.arn', 'requestParameters.roleArn')") "))"},
    {"user_type",
     "case(eventName=\"CreateLoginProfile\" OR like(eventName, \"%User\") OR "
     "eventName=\"CreateAccessKey\" OR eventName=\"ListAccessKeys\" OR "
     "eventName=\"CreateVirtualMFADevice\", null(), "
     "eventName=\"ConsoleLogin\" AND 'userIdentity.type'=\"AssumedRole\" AND "
     "isnull('additionalEventData.LoginTo'), 'userIdentity.sessionContext.sessionIssuer.type', "
     "like(eventName, \"AssumeRole%\"), mvjoin(coalesce('resources{}.type', "
     "mvindex(split('responseElements.assumedRoleUser.arn', \"/\"), 1)), \",\"), "
     "true(), 'userIdentity.type')"},
    {"user_id",
     "case(eventName=\"CreateUser\", 'responseElements.user.userId', "
     "true(), coalesce(mvindex(split('userIdentity.principalId', \":\"), 0), 'userIdentity.userName'))"},
    {"user_agent", "coalesce(userAgent, 'userAgent{}')"},
    {"vendor_product", "\"AWS CloudTrail\""},
    {"vendor", "\"AWS\""},
    {"product", "\"CloudTrail\""},
    {"dest",
     "case(eventName=\"RunInstances\", coalesce('responseElements.instancesSet.items{}.instanceId', eventSource), "
     "like(eventName, \"%Instances\"), coalesce('requestParameters.instancesSet.items{}.instanceId', eventSource), "
     "like(eventName, \"%Bucket%\"), coalesce('requestParameters.bucketName', 'requestParameters.host{}', eventSource), "
     "eventName=\"ConsoleLogin\" OR like(eventName, \"AssumeRole%\") OR eventName=\"CheckMfa\", "
     "coalesce('additionalEventData.LoginTo', eventSource), "
     "true(), eventSource)"},
    {"object",
     "case(like(eventName, \"%Bucket%\"), 'requestParameters.bucketName', "
     "eventName=\"RunInstances\", 'responseElements.instancesSet.items{}.instanceId', "
     "like(eventName, \"%Instances\"), 'requestParameters.instancesSet.items{}.instanceId', "
     "like(eventName, \"%SecurityGroup%\"), coalesce('responseElements.groupId', 'requestParameters.groupId'), "
     "like(eventName, \"%User\"), coalesce('requestParameters.userName', 'responseElements.user.userName'))"},
    {"rule_action",
     "coalesce('responseElements.networkAcl.entrySet.items{}.ruleAction', 'requestParameters.ruleAction')"},
    {"errorCode",
     "coalesce(errorCode, if('responseElements.ConsoleLogin'=\"Failure\", \"failure\", \"success\"))"},
    {"authentication_method",
     "case(('additionalEventData.MFAUsed'=\"Yes\" AND eventName=\"ConsoleLogin\") OR "
     "eventName=\"CheckMfa\", \"MFA\", 'additionalEventData.MFAUsed'=\"No\" AND "
     "eventName=\"ConsoleLogin\", \"SFA\")"},
};

#undef ARN_TAIL

struct Compiled {
  std::vector<std::pair<std::string, ExprPtr>> calcs;
};

const Compiled& CompiledCalcs() {
  static const Compiled* c = [] {
    auto* out = new Compiled;
    for (const Calc& calc : kCalcs) {
      auto e = ParseEvalExpression(calc.expr);
      if (!e.ok()) {
        // A bug in the table above; fail loudly in tests rather than silently.
        fmt::print(stderr, "cairn: bad calculated field {}: {}\n", calc.field, e.status().ToString());
        std::abort();
      }
      out->calcs.emplace_back(calc.field, std::move(e).value());
    }
    return out;
  }();
  return *c;
}

bool HasPrefix(const std::string& s, std::initializer_list<const char*> prefixes) {
  for (const char* p : prefixes) {
    size_t n = std::char_traits<char>::length(p);
    if (s.size() > n && s.compare(0, n, p) == 0 && std::isupper(static_cast<unsigned char>(s[n]))) {
      return true;
    }
    if (s == p) return true;
  }
  return false;
}

// Stands in for the add-on's aws-cloudtrail-action-status-lookup (eventName, errorCode ->
// action, status): authentication events succeed or fail; change events are classified by verb.
void ActionStatus(Row* row) {
  const Values* ec = row->GetRaw("errorCode");
  bool success = ec && !ec->empty() && (*ec)[0] == "success";
  row->SetRaw("status", {success ? "success" : "failure"});
  const Values* en = row->GetRaw("eventName");
  if (!en || en->empty()) return;
  const std::string& name = (*en)[0];
  std::string action;
  if (name == "ConsoleLogin" || name == "CheckMfa" || HasPrefix(name, {"AssumeRole"}) ||
      name == "GetSessionToken" || name == "GetFederationToken" || name == "SwitchRole" ||
      name == "ExitRole" || name == "RenewRole") {
    action = success ? "success" : "failure";
  } else if (HasPrefix(name, {"Create", "Run", "Allocate", "Import", "Register", "Copy", "Upload",
                              "Request", "Issue"})) {
    action = "created";
  } else if (HasPrefix(name, {"Delete", "Remove", "Terminate", "Deregister", "Release", "Revoke",
                              "Detach", "Disassociate", "Cancel"})) {
    action = "deleted";
  } else if (HasPrefix(name, {"Start"})) {
    action = "started";
  } else if (HasPrefix(name, {"Stop"})) {
    action = "stopped";
  } else if (HasPrefix(name, {"Put", "Update", "Modify", "Set", "Change", "Replace", "Reset",
                              "Enable", "Disable", "Attach", "Associate", "Add", "Tag", "Untag",
                              "Authorize", "Restore", "Reboot", "Apply", "Enter", "Rotate"})) {
    action = "modified";
  } else if (HasPrefix(name, {"Describe", "List", "Get", "Head", "Lookup", "Search", "Select",
                              "Scan", "Query", "BatchGet", "Decrypt", "Encrypt", "Generate"})) {
    action = "read";
  }
  if (!action.empty()) row->SetRaw("action", {action});
}

void DateFields(double t, Row* row) {
  static const char* kMonths[] = {"january", "february", "march",     "april",   "may",      "june",
                                  "july",    "august",   "september", "october", "november", "december"};
  static const char* kDays[] = {"sunday", "monday", "tuesday", "wednesday", "thursday", "friday", "saturday"};
  std::string s = Strftime(t, "%Y %m %d %H %M %S %w");
  int y, mo, d, h, mi, sec, wd;
  if (std::sscanf(s.c_str(), "%d %d %d %d %d %d %d", &y, &mo, &d, &h, &mi, &sec, &wd) != 7) return;
  row->SetRaw("date_year", {std::to_string(y)});
  row->SetRaw("date_month", {kMonths[mo - 1]});
  row->SetRaw("date_mday", {std::to_string(d)});
  row->SetRaw("date_hour", {std::to_string(h)});
  row->SetRaw("date_minute", {std::to_string(mi)});
  row->SetRaw("date_second", {std::to_string(sec)});
  row->SetRaw("date_wday", {kDays[wd]});
  row->SetRaw("date_zone", {"0"});
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

class DefaultFieldExtractor final : public FieldExtractor {
 public:
  void Extract(const EventRecord& event, Row* row) const override {
    std::string_view raw = event.raw;
    size_t b = raw.find_first_not_of(" \t\r\n");
    bool json = b != std::string_view::npos && (raw[b] == '{' || raw[b] == '[');
    if (!json || !FlattenJson(raw, "", row)) KeyValuePairs(raw, row);
    DateFields(event.time, row);
    if (event.sourcetype != "aws:cloudtrail") return;
    for (const Alias& a : kAliases) {
      if (const Values* v = row->GetRaw(a.from)) {
        Values copy = *v;
        row->SetRaw(a.to, std::move(copy));
      }
    }
    EvalContext ctx;
    std::vector<std::pair<const std::string*, Values>> results;
    for (const auto& [field, expr] : CompiledCalcs().calcs) {
      auto v = Evaluate(*expr, *row, ctx);
      results.emplace_back(&field, v.ok() ? v->ToField() : Values{});
    }
    for (auto& [field, vals] : results) {
      if (vals.empty()) {
        row->SetRaw(*field, {});
      } else {
        row->SetRaw(*field, std::move(vals));
      }
    }
    ActionStatus(row);
  }
};

}  // namespace

const FieldExtractor* DefaultExtractor() {
  static const DefaultFieldExtractor* e = new DefaultFieldExtractor;
  return e;
}

}  // namespace cairn::query
