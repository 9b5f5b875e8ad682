// Request-level tests of the AWS drivers: the exact requests (action, parameters, JSON bodies,
// policy documents) recorded from a fake HttpClient, and parsing of real-shaped responses and
// errors. Shapes follow the AWS API references (CloudTrail 2013-11-01 JSON 1.1; IAM 2010-05-08
// Query; S3 REST).

#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "aws/client.h"
#include "aws/http.h"
#include "common/clock.h"
#include "provision/aws_drivers.h"
#include "provision/json.h"

namespace cairn::provision {
namespace {

struct Recorded {
  aws::HttpRequest request;
  std::string target;  // X-Amz-Target action, or Query Action
  std::map<std::string, std::string> form;  // Query parameters (decoded)
};

std::map<std::string, std::string> ParseForm(const std::string& body) {
  std::map<std::string, std::string> out;
  size_t pos = 0;
  while (pos < body.size()) {
    size_t amp = body.find('&', pos);
    if (amp == std::string::npos) amp = body.size();
    std::string pair = body.substr(pos, amp - pos);
    size_t eq = pair.find('=');
    out[aws::UriDecode(pair.substr(0, eq))] = eq == std::string::npos ? "" : aws::UriDecode(pair.substr(eq + 1));
    pos = amp + 1;
  }
  return out;
}

class DriverTest : public ::testing::Test {
 protected:
  using Responder = std::function<aws::HttpResponse(const Recorded&)>;

  void SetUp() override {
    auto http = std::make_shared<aws::FunctionHttpClient>([this](const aws::HttpRequest& r, const aws::BodySink*) {
      Recorded rec;
      rec.request = r;
      std::string_view t = r.headers.empty() ? "" : aws::FindHeader(r.headers, "X-Amz-Target");
      if (!t.empty()) {
        rec.target = std::string(t.substr(t.rfind('.') + 1));
      } else if (r.method == "POST") {
        rec.form = ParseForm(r.body);
        rec.target = rec.form["Action"];
      }
      recorded_.push_back(rec);
      return Result<aws::HttpResponse>(responder_(rec));
    });
    aws::AwsClientOptions o;
    o.region = "us-west-2";
    o.clock = &clock_;
    o.jitter_seed = 7;
    client_ = std::make_unique<aws::AwsClient>(
        http, std::make_shared<aws::StaticCredentialsProvider>(aws::Credentials{"AKIDEXAMPLE", "secret", "", 0, "test"}),
        o);
  }

  static aws::HttpResponse Json(int status, std::string body) {
    return aws::HttpResponse{status, {{"Content-Type", "application/x-amz-json-1.1"}}, std::move(body)};
  }
  static aws::HttpResponse Xml(int status, std::string body) {
    return aws::HttpResponse{status, {{"Content-Type", "text/xml"}}, std::move(body)};
  }
  // The parsed JSON body of recorded request `i`.
  JsonValue Body(size_t i) {
    auto v = JsonValue::Parse(recorded_.at(i).request.body, "request body");
    EXPECT_TRUE(v.ok());
    return v.ok() ? *v : JsonValue();
  }

  Resource Trail(const std::string& region, bool home) {
    Resource t{.kind = Kind::kTrail, .name = "cairn-trail", .region = region,
               .arn = "arn:aws:cloudtrail:" + region + ":111122223333:trail/cairn-trail"};
    t.attrs = {{"S3BucketName", "cairn-cloudtrail-111122223333"},
               {"SnsTopicName", "cairn-cloudtrail"},
               {"IncludeGlobalServiceEvents", home ? "true" : "false"},
               {"IsMultiRegionTrail", "false"},
               {"LogFileValidationEnabled", "true"},
               {"IsLogging", "true"},
               {"tags", "cairn:managed=true,cairn:stack=cairn"}};
    return t;
  }

  ManualClock clock_{1'700'000'000'000'000};
  std::unique_ptr<aws::AwsClient> client_;
  std::vector<Recorded> recorded_;
  Responder responder_ = [](const Recorded&) { return Json(200, "{}"); };
};

// ---------------------------------------------------------------- CloudTrail

TEST_F(DriverTest, CloudTrailCreateSendsTheDocumentedShapes) {
  auto driver = NewCloudTrailDriver(client_.get());
  responder_ = [](const Recorded& r) {
    if (r.target == "CreateTrail") {
      return Json(200, R"({"Name":"cairn-trail","S3BucketName":"cairn-cloudtrail-111122223333",)"
                       R"("SnsTopicName":"cairn-cloudtrail","SnsTopicARN":"arn:aws:sns:eu-west-1:111122223333:cairn-cloudtrail",)"
                       R"("IncludeGlobalServiceEvents":false,"IsMultiRegionTrail":false,)"
                       R"("TrailARN":"arn:aws:cloudtrail:eu-west-1:111122223333:trail/cairn-trail",)"
                       R"("LogFileValidationEnabled":true,"IsOrganizationTrail":false})");
    }
    return Json(200, "{}");
  };
  ApplyEffects fx;
  ASSERT_TRUE(driver->Create(Trail("eu-west-1", false), &fx).ok());
  ASSERT_EQ(recorded_.size(), 2u);
  const aws::HttpRequest& create = recorded_[0].request;
  EXPECT_EQ(create.method, "POST");
  EXPECT_EQ(create.host, "cloudtrail.eu-west-1.amazonaws.com");
  EXPECT_EQ(aws::FindHeader(create.headers, "X-Amz-Target"),
            "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101.CreateTrail");
  EXPECT_EQ(aws::FindHeader(create.headers, "Content-Type"), "application/x-amz-json-1.1");
  EXPECT_NE(std::string(aws::FindHeader(create.headers, "Authorization")).find("/eu-west-1/cloudtrail/aws4_request"),
            std::string::npos);
  JsonValue b = Body(0);
  EXPECT_EQ(b.GetText("Name"), "cairn-trail");
  EXPECT_EQ(b.GetText("S3BucketName"), "cairn-cloudtrail-111122223333");
  EXPECT_EQ(b.GetText("SnsTopicName"), "cairn-cloudtrail");
  EXPECT_EQ(b.Find("IncludeGlobalServiceEvents")->type(), JsonValue::Type::kBool);
  EXPECT_EQ(b.GetText("IncludeGlobalServiceEvents"), "false");
  EXPECT_EQ(b.GetText("IsMultiRegionTrail"), "false");
  EXPECT_EQ(b.GetText("EnableLogFileValidation"), "true");
  EXPECT_EQ(b.Find("LogFileValidationEnabled"), nullptr) << "the request parameter is EnableLogFileValidation";
  EXPECT_EQ(b.Find("IsLogging"), nullptr);
  ASSERT_NE(b.Find("TagsList"), nullptr);
  ASSERT_EQ(b.Find("TagsList")->items().size(), 2u);
  EXPECT_EQ(b.Find("TagsList")->items()[0].GetText("Key"), "cairn:managed");
  EXPECT_EQ(b.Find("TagsList")->items()[0].GetText("Value"), "true");
  EXPECT_EQ(b.Find("TagsList")->items()[1].GetText("Key"), "cairn:stack");
  EXPECT_EQ(recorded_[1].target, "StartLogging");
  EXPECT_EQ(Body(1).Dump(), R"({"Name":"arn:aws:cloudtrail:eu-west-1:111122223333:trail/cairn-trail"})");
}

TEST_F(DriverTest, CloudTrailReadParsesDescribeStatusAndTags) {
  auto driver = NewCloudTrailDriver(client_.get());
  responder_ = [](const Recorded& r) {
    if (r.target == "DescribeTrails") {
      return Json(200, R"({"trailList":[{"Name":"cairn-trail","S3BucketName":"cairn-cloudtrail-111122223333",)"
                       R"("SnsTopicName":"cairn-cloudtrail","SnsTopicARN":"arn:aws:sns:us-west-2:111122223333:cairn-cloudtrail",)"
                       R"("IncludeGlobalServiceEvents":true,"IsMultiRegionTrail":false,"HomeRegion":"us-west-2",)"
                       R"("TrailARN":"arn:aws:cloudtrail:us-west-2:111122223333:trail/cairn-trail",)"
                       R"("LogFileValidationEnabled":true,"HasCustomEventSelectors":false,)"
                       R"("HasInsightSelectors":false,"IsOrganizationTrail":false}]})");
    }
    if (r.target == "GetTrailStatus") {
      return Json(200, R"({"IsLogging":false,"LatestDeliveryTime":1.689E9,"StartLoggingTime":1.688E9,)"
                       R"("LatestDeliveryAttemptTime":"2023-07-10T12:00:00Z"})");
    }
    if (r.target == "ListTags") {
      return Json(200, R"({"ResourceTagList":[{"ResourceId":"arn:aws:cloudtrail:us-west-2:111122223333:trail/cairn-trail",)"
                       R"("TagsList":[{"Key":"cairn:stack","Value":"cairn"},{"Key":"cairn:managed","Value":"true"},)"
                       R"({"Key":"owner","Value":"secops"}]}]})");
    }
    return Json(400, R"({"__type":"UnknownOperationException"})");
  };
  auto got = driver->Read(Trail("us-west-2", true));
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  const Resource& r = **got;
  EXPECT_TRUE(r.managed);
  EXPECT_EQ(r.Attr("IsLogging"), "false");
  EXPECT_EQ(r.Attr("IncludeGlobalServiceEvents"), "true");
  EXPECT_EQ(r.Attr("LogFileValidationEnabled"), "true");
  EXPECT_EQ(r.Attr("SnsTopicName"), "cairn-cloudtrail");
  EXPECT_EQ(r.Attr("tags"), "cairn:managed=true,cairn:stack=cairn") << "only cairn's tags are compared";
  ASSERT_EQ(recorded_.size(), 3u);
  EXPECT_EQ(Body(0).Dump(),
            R"({"trailNameList":["arn:aws:cloudtrail:us-west-2:111122223333:trail/cairn-trail"],"includeShadowTrails":false})");
  EXPECT_EQ(Body(1).Dump(), R"({"Name":"arn:aws:cloudtrail:us-west-2:111122223333:trail/cairn-trail"})");
  EXPECT_EQ(Body(2).Dump(), R"({"ResourceIdList":["arn:aws:cloudtrail:us-west-2:111122223333:trail/cairn-trail"]})");
}

TEST_F(DriverTest, CloudTrailMissingTrailReadsAsAbsent) {
  auto driver = NewCloudTrailDriver(client_.get());
  responder_ = [](const Recorded&) { return Json(200, R"({"trailList":[]})"); };
  auto empty = driver->Read(Trail("sa-east-1", false));
  ASSERT_TRUE(empty.ok());
  EXPECT_FALSE(empty->has_value());
  responder_ = [](const Recorded&) {
    return Json(400, R"({"__type":"TrailNotFoundException","Message":"Unknown trail: cairn-trail for the user"})");
  };
  auto missing = driver->Read(Trail("sa-east-1", false));
  ASSERT_TRUE(missing.ok()) << missing.status().ToString();
  EXPECT_FALSE(missing->has_value());
}

TEST_F(DriverTest, CloudTrailUpdateSendsOnlyTheChanges) {
  auto driver = NewCloudTrailDriver(client_.get());
  Resource desired = Trail("us-west-1", false);
  Resource current = desired;
  std::vector<AttrChange> changes = {{"IncludeGlobalServiceEvents", "true", "false"},
                                     {"LogFileValidationEnabled", "false", "true"},
                                     {"IsLogging", "false", "true"},
                                     {"tags", "", "cairn:managed=true,cairn:stack=cairn"}};
  ApplyEffects fx;
  ASSERT_TRUE(driver->Update(desired, current, changes, &fx).ok());
  ASSERT_EQ(recorded_.size(), 3u);
  EXPECT_EQ(recorded_[0].target, "AddTags");
  EXPECT_EQ(Body(0).Dump(),
            R"({"ResourceId":"arn:aws:cloudtrail:us-west-1:111122223333:trail/cairn-trail","TagsList":)"
            R"([{"Key":"cairn:managed","Value":"true"},{"Key":"cairn:stack","Value":"cairn"}]})");
  EXPECT_EQ(recorded_[1].target, "UpdateTrail");
  EXPECT_EQ(Body(1).Dump(), R"({"Name":"arn:aws:cloudtrail:us-west-1:111122223333:trail/cairn-trail",)"
                            R"("IncludeGlobalServiceEvents":false,"EnableLogFileValidation":true})");
  EXPECT_EQ(recorded_[2].target, "StartLogging");
}

TEST_F(DriverTest, CloudTrailErrorsNameTheApiTheTrailAndAwsMessage) {
  auto driver = NewCloudTrailDriver(client_.get());
  responder_ = [](const Recorded&) {
    return Json(400, R"({"__type":"TrailAlreadyExistsException","Message":"Trail cairn-trail already exists for customer: 111122223333"})");
  };
  ApplyEffects fx;
  Status exists = driver->Create(Trail("us-east-1", false), &fx);
  EXPECT_EQ(exists.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(exists.message().find("CloudTrail CreateTrail arn:aws:cloudtrail:us-east-1:111122223333:trail/cairn-trail: "
                                  "TrailAlreadyExistsException: Trail cairn-trail already exists"),
            std::string::npos)
      << exists.message();

  recorded_.clear();
  responder_ = [](const Recorded&) {
    return Json(400, R"({"__type":"AccessDeniedException","Message":"User: arn:aws:iam::111122223333:user/ops is not authorized to perform: cloudtrail:DescribeTrails"})");
  };
  auto denied = driver->Read(Trail("us-east-1", false));
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("CloudTrail DescribeTrails"), std::string::npos);
  EXPECT_EQ(recorded_.size(), 1u) << "access denied is not retried";

  // Throttling is retried (with backoff on the injected clock) and then succeeds.
  recorded_.clear();
  int calls = 0;
  responder_ = [&calls](const Recorded&) {
    if (++calls < 3) return Json(400, R"({"__type":"ThrottlingException","Message":"Rate exceeded"})");
    return Json(200, "{}");
  };
  Resource current = Trail("us-east-1", false);
  ASSERT_TRUE(driver->Delete(current, &fx).ok());
  EXPECT_EQ(recorded_.size(), 3u);
  EXPECT_EQ(recorded_[2].target, "DeleteTrail");
}

// ---------------------------------------------------------------- IAM

Resource Role() {
  Resource r{.kind = Kind::kRole, .name = "cairn-cloudtrail-reader", .arn = "arn:aws:iam::111122223333:role/cairn-cloudtrail-reader"};
  r.handles["policy_name"] = "cairn-cloudtrail-read";
  r.attrs = {{"AssumeRolePolicyDocument",
              R"({"Statement":{"Action":"sts:AssumeRole","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"}},"Version":"2012-10-17"})"},
             {"policy", R"({"Statement":{"Action":"s3:GetObject","Effect":"Allow","Resource":"arn:aws:s3:::b/AWSLogs/*"},"Version":"2012-10-17"})"},
             {"tags", "cairn:managed=true,cairn:stack=cairn"}};
  return r;
}

TEST_F(DriverTest, IamCreateRoleAndPolicyQueryParameters) {
  auto driver = NewIamDriver(client_.get());
  responder_ = [](const Recorded& r) {
    return Xml(200, "<" + r.target + "Response xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><ResponseMetadata>"
                    "<RequestId>7a62c49f-347e-4fc4-9331-6e8eEXAMPLE</RequestId></ResponseMetadata></" +
                        r.target + "Response>");
  };
  ApplyEffects fx;
  Resource role = Role();
  ASSERT_TRUE(driver->Create(role, &fx).ok());
  ASSERT_EQ(recorded_.size(), 2u);
  EXPECT_EQ(recorded_[0].request.host, "iam.amazonaws.com");
  EXPECT_NE(std::string(aws::FindHeader(recorded_[0].request.headers, "Authorization")).find("/us-east-1/iam/aws4_request"),
            std::string::npos);
  auto& create = recorded_[0].form;
  EXPECT_EQ(create["Action"], "CreateRole");
  EXPECT_EQ(create["Version"], "2010-05-08");
  EXPECT_EQ(create["RoleName"], "cairn-cloudtrail-reader");
  EXPECT_EQ(create["AssumeRolePolicyDocument"], role.Attr("AssumeRolePolicyDocument"));
  EXPECT_EQ(create["Tags.member.1.Key"], "cairn:managed");
  EXPECT_EQ(create["Tags.member.1.Value"], "true");
  EXPECT_EQ(create["Tags.member.2.Key"], "cairn:stack");
  EXPECT_EQ(create["Tags.member.2.Value"], "cairn");
  auto& put = recorded_[1].form;
  EXPECT_EQ(put["Action"], "PutRolePolicy");
  EXPECT_EQ(put["RoleName"], "cairn-cloudtrail-reader");
  EXPECT_EQ(put["PolicyName"], "cairn-cloudtrail-read");
  EXPECT_EQ(put["PolicyDocument"], role.Attr("policy"));
}

TEST_F(DriverTest, IamReadDecodesUrlEncodedPolicies) {
  auto driver = NewIamDriver(client_.get());
  Resource role = Role();
  responder_ = [&](const Recorded& r) {
    if (r.target == "GetRole") {
      return Xml(200, std::string("<GetRoleResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetRoleResult><Role>"
                                  "<Path>/</Path><Arn>arn:aws:iam::111122223333:role/cairn-cloudtrail-reader</Arn>"
                                  "<RoleName>cairn-cloudtrail-reader</RoleName><AssumeRolePolicyDocument>") +
                          aws::UriEncode(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"sts:AssumeRole"}]})",
                                         false) +
                          "</AssumeRolePolicyDocument><CreateDate>2023-07-10T12:00:00Z</CreateDate>"
                          "<RoleId>AROADBQP57FF2AEXAMPLE</RoleId><Tags><member><Key>cairn:managed</Key><Value>true</Value></member>"
                          "<member><Key>cairn:stack</Key><Value>cairn</Value></member></Tags></Role></GetRoleResult>"
                          "<ResponseMetadata><RequestId>df37e965-9967-11e1-a4c3-270EXAMPLE04</RequestId></ResponseMetadata>"
                          "</GetRoleResponse>");
    }
    return Xml(200, std::string("<GetRolePolicyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><GetRolePolicyResult>"
                                "<PolicyName>cairn-cloudtrail-read</PolicyName><RoleName>cairn-cloudtrail-reader</RoleName>"
                                "<PolicyDocument>") +
                        aws::UriEncode(R"({"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["s3:GetObject"],"Resource":"arn:aws:s3:::b/AWSLogs/*"}]})",
                                       false) +
                        "</PolicyDocument></GetRolePolicyResult></GetRolePolicyResponse>");
  };
  auto got = driver->Read(role);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_TRUE((*got)->managed);
  EXPECT_EQ((*got)->Attr("AssumeRolePolicyDocument"), role.Attr("AssumeRolePolicyDocument"))
      << "decoded and canonical: the same policy reads as unchanged";
  EXPECT_EQ((*got)->Attr("policy"), role.Attr("policy"));
  EXPECT_EQ(recorded_[1].form["PolicyName"], "cairn-cloudtrail-read");
}

TEST_F(DriverTest, IamNoSuchEntityReadsAsAbsentAndOtherErrorsAreNamed) {
  auto driver = NewIamDriver(client_.get());
  responder_ = [](const Recorded&) {
    return Xml(404, "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
                    "<Code>NoSuchEntity</Code><Message>The role with name cairn-cloudtrail-reader cannot be found.</Message>"
                    "</Error><RequestId>4d2b4f5e-EXAMPLE</RequestId></ErrorResponse>");
  };
  auto got = driver->Read(Role());
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_FALSE(got->has_value());

  responder_ = [](const Recorded&) {
    return Xml(409, "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
                    "<Code>EntityAlreadyExists</Code><Message>Role with name cairn-cloudtrail-reader already exists.</Message>"
                    "</Error><RequestId>4d2b4f5e-EXAMPLE</RequestId></ErrorResponse>");
  };
  ApplyEffects fx;
  Status exists = driver->Create(Role(), &fx);
  EXPECT_EQ(exists.code(), StatusCode::kAlreadyExists);
  EXPECT_NE(exists.message().find("IAM CreateRole cairn-cloudtrail-reader: EntityAlreadyExists: Role with name"),
            std::string::npos)
      << exists.message();

  responder_ = [](const Recorded&) {
    return Xml(403, "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><Error><Type>Sender</Type>"
                    "<Code>AccessDenied</Code><Message>User: arn:aws:iam::111122223333:user/ops is not authorized to "
                    "perform: iam:GetRole</Message></Error><RequestId>r</RequestId></ErrorResponse>");
  };
  auto denied = driver->Read(Role());
  ASSERT_FALSE(denied.ok());
  EXPECT_EQ(denied.status().code(), StatusCode::kPermissionDenied);
  EXPECT_NE(denied.status().message().find("IAM GetRole cairn-cloudtrail-reader: AccessDenied:"), std::string::npos);

  int calls = 0;
  recorded_.clear();
  responder_ = [&calls](const Recorded& r) {
    if (++calls == 1) {
      return Xml(400, "<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code><Message>Rate exceeded</Message>"
                      "</Error></ErrorResponse>");
    }
    return Xml(200, "<" + r.target + "Response/>");
  };
  Resource role = Role();
  std::vector<AttrChange> changes = {{"tags", "", role.Attr("tags")}};
  ASSERT_TRUE(driver->Update(role, role, changes, &fx).ok());
  ASSERT_EQ(recorded_.size(), 2u);
  EXPECT_EQ(recorded_[1].form["Action"], "TagRole");
  EXPECT_EQ(recorded_[1].form["Tags.member.2.Value"], "cairn");
}

TEST_F(DriverTest, IamUserAccessKeyIsCreatedOldOnesDeletedSecretOnlyInEffects) {
  auto driver = NewIamDriver(client_.get());
  responder_ = [](const Recorded& r) {
    if (r.target == "CreateAccessKey") {
      return Xml(200, "<CreateAccessKeyResponse xmlns=\"https://iam.amazonaws.com/doc/2010-05-08/\"><CreateAccessKeyResult>"
                      "<AccessKey><UserName>cairn-cloudtrail-reader</UserName><AccessKeyId>AKIAIOSFODNN7EXAMPLE</AccessKeyId>"
                      "<Status>Active</Status><SecretAccessKey>wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY</SecretAccessKey>"
                      "</AccessKey></CreateAccessKeyResult></CreateAccessKeyResponse>");
    }
    return Xml(200, "<" + r.target + "Response/>");
  };
  Resource key{.kind = Kind::kAccessKey, .name = "cairn-cloudtrail-reader"};
  key.attrs["key_id"] = "(new)";
  Resource current = key;
  current.handles["key_ids"] = "AKIAOLDKEY1EXAMPLE";
  ApplyEffects fx;
  ASSERT_TRUE(driver->Update(key, current, {{"key_id", "AKIAOLDKEY1EXAMPLE", "(new)"}}, &fx).ok());
  EXPECT_EQ(fx.access_key_id, "AKIAIOSFODNN7EXAMPLE");
  EXPECT_EQ(fx.secret_access_key, "wJalrXUtnFEMI/K7MDENG/bPxRfiCYzEXAMPLEKEY");
  ASSERT_EQ(recorded_.size(), 2u);
  EXPECT_EQ(recorded_[0].form["UserName"], "cairn-cloudtrail-reader");
  EXPECT_EQ(recorded_[1].form["Action"], "DeleteAccessKey");
  EXPECT_EQ(recorded_[1].form["AccessKeyId"], "AKIAOLDKEY1EXAMPLE");
  for (const auto& n : fx.notes) EXPECT_EQ(n.find("wJalr"), std::string::npos) << "no secret in notes";
}

// ---------------------------------------------------------------- S3 bucket settings

TEST_F(DriverTest, S3BucketSettingsAreSentWithContentMd5AndReadBack) {
  auto driver = NewS3Driver(client_.get());
  Resource bucket{.kind = Kind::kBucket, .name = "cairn-cloudtrail-111122223333", .region = "us-west-2"};
  bucket.attrs = {{"policy", R"({"Statement":"x","Version":"2012-10-17"})"},
                  {"encryption", "AES256"},
                  {"public_access_block",
                   "BlockPublicAcls=true,BlockPublicPolicy=true,IgnorePublicAcls=true,RestrictPublicBuckets=true"},
                  {"tags", "cairn:managed=true,cairn:stack=cairn"}};
  ApplyEffects fx;
  ASSERT_TRUE(driver->Create(bucket, &fx).ok());
  ASSERT_EQ(recorded_.size(), 5u);
  EXPECT_EQ(recorded_[0].request.method, "PUT");
  EXPECT_NE(recorded_[0].request.body.find("<LocationConstraint>us-west-2</LocationConstraint>"), std::string::npos);
  std::vector<std::string> subresources;
  for (size_t i = 1; i < recorded_.size(); ++i) {
    const auto& r = recorded_[i].request;
    EXPECT_EQ(r.method, "PUT");
    ASSERT_EQ(r.query.size(), 1u);
    subresources.push_back(r.query[0].first);
    EXPECT_EQ(aws::FindHeader(r.headers, "Content-MD5"), ContentMd5(r.body)) << r.query[0].first;
  }
  EXPECT_EQ(subresources, (std::vector<std::string>{"tagging", "encryption", "publicAccessBlock", "policy"}));
  EXPECT_NE(recorded_[1].request.body.find("<Tag><Key>cairn:managed</Key><Value>true</Value></Tag>"), std::string::npos);
  EXPECT_NE(recorded_[2].request.body.find("<SSEAlgorithm>AES256</SSEAlgorithm>"), std::string::npos);
  EXPECT_NE(recorded_[3].request.body.find("<RestrictPublicBuckets>true</RestrictPublicBuckets>"), std::string::npos);
  EXPECT_EQ(recorded_[4].request.body, bucket.Attr("policy"));
  // RFC 1864 example: base64(md5("")) is 1B2M2Y8AsgTpgAmY7PhCfg==.
  EXPECT_EQ(ContentMd5(""), "1B2M2Y8AsgTpgAmY7PhCfg==");

  // Read back: missing sub-resources are "", present ones parsed.
  recorded_.clear();
  responder_ = [](const Recorded& r) {
    std::string sub = r.request.query.empty() ? "" : r.request.query[0].first;
    if (sub == "policy") {
      return Xml(404, "<Error><Code>NoSuchBucketPolicy</Code><Message>The bucket policy does not exist</Message></Error>");
    }
    if (sub == "encryption") {
      return Xml(200, "<ServerSideEncryptionConfiguration><Rule><ApplyServerSideEncryptionByDefault><SSEAlgorithm>"
                      "aws:kms</SSEAlgorithm></ApplyServerSideEncryptionByDefault><BucketKeyEnabled>true"
                      "</BucketKeyEnabled></Rule></ServerSideEncryptionConfiguration>");
    }
    if (sub == "publicAccessBlock") {
      return Xml(404, "<Error><Code>NoSuchPublicAccessBlockConfiguration</Code><Message>none</Message></Error>");
    }
    if (sub == "tagging") return Xml(404, "<Error><Code>NoSuchTagSet</Code><Message>none</Message></Error>");
    return Xml(200, "");
  };
  auto got = driver->Read(bucket);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  ASSERT_TRUE(got->has_value());
  EXPECT_EQ((*got)->Attr("policy"), "");
  EXPECT_EQ((*got)->Attr("encryption"), "aws:kms");
  EXPECT_EQ((*got)->Attr("public_access_block"), "");
  EXPECT_FALSE((*got)->managed);
  EXPECT_EQ(recorded_[0].request.method, "HEAD");
}

TEST_F(DriverTest, S3BucketNotEmptyIsKeptNotFailed) {
  auto driver = NewS3Driver(client_.get());
  responder_ = [](const Recorded&) {
    return Xml(409, "<Error><Code>BucketNotEmpty</Code><Message>The bucket you tried to delete is not empty</Message></Error>");
  };
  Resource bucket{.kind = Kind::kBucket, .name = "logs-bucket", .region = "us-west-2"};
  ApplyEffects fx;
  ASSERT_TRUE(driver->Delete(bucket, &fx).ok());
  ASSERT_EQ(fx.notes.size(), 1u);
  EXPECT_NE(fx.notes[0].find("kept"), std::string::npos);
}

}  // namespace
}  // namespace cairn::provision

namespace cairn::provision {
namespace {

TEST_F(DriverTest, S3EndpointWithoutSubresourcesIsRefusedNotMisread) {
  auto driver = NewS3Driver(client_.get());
  responder_ = [](const Recorded&) {
    return Xml(200, "<?xml version=\"1.0\"?><ListBucketResult><Name>b</Name></ListBucketResult>");
  };
  Resource bucket{.kind = Kind::kBucket, .name = "cairn-logs", .region = "us-west-2"};
  bucket.attrs = {{"policy", "{}"}, {"tags", "cairn:managed=true,cairn:stack=cairn"}};
  auto got = driver->Read(bucket);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kUnsupported);
  EXPECT_NE(got.status().message().find("--skip s3-settings"), std::string::npos) << got.status().message();
  // With the settings skipped (no attributes wanted) only the bucket's existence is read.
  recorded_.clear();
  bucket.attrs.clear();
  got = driver->Read(bucket);
  ASSERT_TRUE(got.ok());
  EXPECT_TRUE(got->has_value());
  EXPECT_EQ(recorded_.size(), 1u);
}

}  // namespace
}  // namespace cairn::provision
