// The reader policy grants exactly the actions cairn's readers call — the list in
// reader_actions.h — each on its narrowest resource, and nothing more; and every AWS client
// call found in the collector's and verifier's code is covered by that list.

#include <gtest/gtest.h>

#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "common/fs.h"
#include "provision/json.h"
#include "provision/model.h"
#include "provision/reader_actions.h"

namespace cairn::provision {
namespace {

struct Grant {
  std::string action, resource, condition;
  bool operator<(const Grant& o) const {
    return std::tie(action, resource, condition) < std::tie(o.action, o.resource, o.condition);
  }
  bool operator==(const Grant& o) const {
    return std::tie(action, resource, condition) == std::tie(o.action, o.resource, o.condition);
  }
};

std::vector<std::string> Texts(const JsonValue* v) {
  std::vector<std::string> out;
  if (v == nullptr) return out;
  if (v->is_array()) {
    for (const auto& i : v->items()) out.push_back(i.text());
  } else {
    out.push_back(v->text());
  }
  return out;
}

std::set<Grant> Grants(const std::string& policy) {
  auto doc = JsonValue::Parse(policy, "reader policy");
  EXPECT_TRUE(doc.ok());
  std::set<Grant> out;
  for (const auto& s : doc->Find("Statement")->items()) {
    EXPECT_EQ(s.GetText("Effect"), "Allow");
    EXPECT_EQ(s.Find("Principal"), nullptr) << "an identity policy has no principal";
    EXPECT_EQ(s.Find("NotAction"), nullptr);
    EXPECT_EQ(s.Find("NotResource"), nullptr);
    std::string cond = s.Find("Condition") ? s.Find("Condition")->Dump() : "";
    for (const auto& a : Texts(s.Find("Action"))) {
      for (const auto& r : Texts(s.Find("Resource"))) out.insert({a, r, cond});
    }
  }
  return out;
}

std::set<std::string> Actions(const std::set<Grant>& grants) {
  std::set<std::string> out;
  for (const auto& g : grants) out.insert(g.action);
  return out;
}

std::set<std::string> ExpectedActions(bool remove_files) {
  std::set<std::string> out;
  for (const auto& a : kReaderActions) {
    if (a.use == ReaderUse::kRemoveFilesOnly && !remove_files) continue;
    if (a.use == ReaderUse::kBillingOnly) continue;  // no billing bucket in these specs
    out.insert(std::string(a.action));
  }
  return out;
}

StackNames Names(TrailLayout layout) {
  ProvisionSpec spec;
  spec.layout = layout;
  spec.regions = {"us-east-1", "us-west-1", "us-west-2", "eu-west-1", "sa-east-1"};
  auto d = BuildDesiredState(spec, "111122223333");
  EXPECT_TRUE(d.ok());
  return d->names;
}

TEST(PolicyTest, ReaderPolicyGrantsExactlyTheReadersActions) {
  for (bool remove : {false, true}) {
    std::set<Grant> grants = Grants(ReaderPolicy(Names(TrailLayout::kPerRegion), remove));
    EXPECT_EQ(Actions(grants), ExpectedActions(remove)) << "remove_files_when_done=" << remove;
    EXPECT_EQ(Actions(grants).count("s3:DeleteObject"), remove ? 1u : 0u);
    for (const auto& g : grants) {
      EXPECT_EQ(g.action.find('*'), std::string::npos) << "no wildcard actions: " << g.action;
      if (g.action.starts_with("s3:") && g.action != "s3:ListBucket") {
        EXPECT_EQ(g.resource, "arn:aws:s3:::cairn-cloudtrail-111122223333/AWSLogs/*") << g.action;
      }
      if (g.action == "s3:ListBucket") {
        EXPECT_EQ(g.resource, "arn:aws:s3:::cairn-cloudtrail-111122223333");
        EXPECT_EQ(g.condition, R"({"StringLike":{"s3:prefix":"AWSLogs/*"}})");
      }
      if (g.action.starts_with("sqs:"))
        EXPECT_EQ(g.resource, "arn:aws:sqs:us-west-2:111122223333:cairn-cloudtrail");
      if (g.action == "cloudtrail:GetTrailStatus") {
        EXPECT_EQ(g.resource.rfind("arn:aws:cloudtrail:", 0), 0u) << g.resource;
      }
      if (g.resource == "*") {
        EXPECT_TRUE(g.action == "cloudtrail:DescribeTrails" ||
                    g.action == "cloudtrail:ListPublicKeys")
            << g.action << " must not be granted on *";
      }
    }
  }
  // The five trails each appear for GetTrailStatus in the per-region layout, one in multi-region.
  int per_region = 0, multi = 0;
  for (const auto& g : Grants(ReaderPolicy(Names(TrailLayout::kPerRegion), false))) {
    per_region += g.action == "cloudtrail:GetTrailStatus";
  }
  for (const auto& g : Grants(ReaderPolicy(Names(TrailLayout::kMultiRegion), false))) {
    multi += g.action == "cloudtrail:GetTrailStatus";
  }
  EXPECT_EQ(per_region, 5);
  EXPECT_EQ(multi, 1);
}

// With a billing bucket, the reader may also read (GetObject) and list (ListBucket, under the
// prefix) the cost and usage reports there, and nothing else of that bucket; without one, the
// policy names no other bucket.
TEST(PolicyTest, BillingBucketIsReadOnlyUnderItsPrefix) {
  ProvisionSpec spec;
  spec.regions = {"us-east-1"};
  spec.billing_bucket = "payer-cur-reports";
  spec.billing_prefix = "/cur/team";
  auto d = BuildDesiredState(spec, "111122223333");
  ASSERT_TRUE(d.ok()) << d.status().ToString();
  std::set<Grant> billing;
  for (const Grant& g : Grants(ReaderPolicy(d->names, false))) {
    if (g.resource.find("payer-cur-reports") != std::string::npos) billing.insert(g);
  }
  std::set<Grant> expected = {{"s3:GetObject", "arn:aws:s3:::payer-cur-reports/cur/team/*", ""},
                              {"s3:ListBucket", "arn:aws:s3:::payer-cur-reports",
                               R"({"StringLike":{"s3:prefix":"cur/team/*"}})"}};
  EXPECT_EQ(billing.size(), expected.size());
  EXPECT_TRUE(billing == expected);
  for (const Grant& g : Grants(ReaderPolicy(Names(TrailLayout::kMultiRegion), false))) {
    EXPECT_EQ(g.resource.find("cur"), std::string::npos) << g.resource;
  }
  spec.billing_bucket = "Not_A_Bucket";
  EXPECT_FALSE(BuildDesiredState(spec, "111122223333").ok());
  spec.billing_bucket = "";
  EXPECT_FALSE(BuildDesiredState(spec, "111122223333").ok()) << "a prefix without a bucket";
}

TEST(PolicyTest, VerifyNeedsListPublicKeysAndTheLogFiles) {
  std::set<std::string> verify;
  for (const auto& a : kReaderActions) {
    if (a.use == ReaderUse::kVerify) verify.insert(std::string(a.action));
  }
  EXPECT_EQ(verify,
            (std::set<std::string>{"cloudtrail:ListPublicKeys", "s3:GetObject", "s3:ListBucket"}));
}

std::string Slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Public method names of the src/aws service clients: every AWS call the readers could make.
std::set<std::string> ClientMethods() {
  std::set<std::string> out;
  std::regex method(R"(^\s+(?:Result<.*>|Status)\s+([A-Z]\w*)\()");
  for (const char* h : {"s3.h", "sqs.h", "sns.h", "sts.h"}) {
    std::istringstream lines(Slurp(std::string(CAIRN_SOURCE_DIR) + "/src/aws/" + h));
    std::string line;
    std::smatch m;
    while (std::getline(lines, line)) {
      if (std::regex_search(line, m, method)) out.insert(m[1]);
    }
  }
  return out;
}

TEST(PolicyTest, EveryAwsCallInTheReadersCodeIsCovered) {
  std::set<std::string> methods = ClientMethods();
  ASSERT_TRUE(methods.count("ReceiveMessage") && methods.count("GetObject") &&
              methods.count("PutObject"))
      << "could not read the client headers";
  std::map<std::string, std::string> mapping;
  for (const auto& c : kClientCallActions) mapping[std::string(c.call)] = std::string(c.action);
  std::set<std::string> granted = ExpectedActions(/*remove_files=*/true);
  int files = 0;
  std::set<std::string> seen;
  for (const char* layer : {"collect", "verify"}) {
    std::string dir = std::string(CAIRN_SOURCE_DIR) + "/src/" + layer;
    auto names = FileSystem::Default()->ListDir(dir);
    if (!names.ok()) continue;  // the layer is not written yet
    for (const auto& entry : *names) {
      const std::string& name = entry.name;
      if (!name.ends_with(".cc") || name.ends_with("_test.cc")) continue;
      ++files;
      std::string text = Slurp(dir + "/" + name);
      std::regex call(R"([.>]([A-Z]\w*)\()");
      for (std::sregex_iterator it(text.begin(), text.end(), call), end; it != end; ++it) {
        std::string m = (*it)[1];
        if (!methods.count(m)) continue;
        seen.insert(m);
        ASSERT_TRUE(mapping.count(m))
            << layer << "/" << name << " calls " << m
            << ", which reader_actions.h does not list: add it (and its IAM action)";
        if (!mapping[m].empty())
          EXPECT_TRUE(granted.count(mapping[m])) << m << " needs " << mapping[m];
      }
      // CloudTrail calls go through AwsClient::Json with the action name as a literal.
      for (const auto& c : kClientCallActions) {
        if (c.action.starts_with("cloudtrail:") &&
            text.find("\"" + std::string(c.call) + "\"") != std::string::npos) {
          seen.insert(std::string(c.call));
        }
      }
    }
  }
  ASSERT_GT(files, 0) << "no source of src/collect or src/verify was read";
  EXPECT_TRUE(seen.count("ReceiveMessage")) << "the collector must poll SQS";
  std::string list;
  for (const auto& s : seen) list += s + " ";
  RecordProperty("reader_calls", list);
}

}  // namespace
}  // namespace cairn::provision
