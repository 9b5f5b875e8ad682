#pragma once
// The ServiceDrivers that talk to AWS through the shared AwsClient (src/aws): requests the
// service clients in src/aws do not have (S3 bucket policy/encryption/public access block/
// tagging, SNS topic attributes and subscriptions, SQS queue tags, every CloudTrail and IAM call)
// are built here on top of AwsClient::Send / Query / Json.
//
//   S3          REST/XML   HEAD bucket, GET/PUT ?policy ?encryption ?publicAccessBlock ?tagging,
//                          CreateBucket, DeleteBucket (Content-MD5 on the PUTs that require it)
//   SQS         JSON 1.0   GetQueueUrl, GetQueueAttributes, ListQueueTags, CreateQueue (with tags),
//                          SetQueueAttributes, TagQueue, DeleteQueue
//   SNS         Query      GetTopicAttributes, ListTagsForResource, CreateTopic (with tags),
//                          SetTopicAttributes, TagResource, DeleteTopic, ListSubscriptionsByTopic,
//                          GetSubscriptionAttributes, Subscribe, SetSubscriptionAttributes, Unsubscribe
//   CloudTrail  JSON 1.1   DescribeTrails, GetTrailStatus, ListTags, CreateTrail, UpdateTrail,
//                          StartLogging, StopLogging, AddTags, DeleteTrail
//   IAM         Query      GetRole, GetRolePolicy, CreateRole, UpdateAssumeRolePolicy, PutRolePolicy,
//                          TagRole, DeleteRolePolicy, DeleteRole; GetUser, GetUserPolicy, CreateUser,
//                          PutUserPolicy, TagUser, DeleteUserPolicy, DeleteUser; ListAccessKeys,
//                          CreateAccessKey, DeleteAccessKey
//
// Each driver keeps a pointer to the client, which must outlive it. Regions come from the
// resource (S3 and SQS: the home region; SNS and CloudTrail: the resource's region; IAM: global).

#include <map>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "aws/client.h"
#include "provision/driver.h"

namespace cairn::provision {

std::unique_ptr<ServiceDriver> NewS3Driver(aws::AwsClient* client);
std::unique_ptr<ServiceDriver> NewSqsDriver(aws::AwsClient* client);
std::unique_ptr<ServiceDriver> NewSnsDriver(aws::AwsClient* client);
std::unique_ptr<ServiceDriver> NewCloudTrailDriver(aws::AwsClient* client);
std::unique_ptr<ServiceDriver> NewIamDriver(aws::AwsClient* client);

// The CloudTrail JSON target prefix and the IAM Query version, for tests.
inline constexpr std::string_view kCloudTrailTarget = "com.amazonaws.cloudtrail.v20131101.CloudTrail_20131101";
inline constexpr std::string_view kIamVersion = "2010-05-08";
inline constexpr std::string_view kSnsVersion = "2010-03-31";

// True when `status` is an AWS error with code `code` (the client writes "...: <Code>: ...").
bool HasAwsCode(const Status& status, std::string_view code);

// base64(MD5(body)), the Content-MD5 header S3 requires on some PUTs.
std::string ContentMd5(std::string_view body);

// Parameters of a Query-protocol request (IAM, SNS), and the `Tags.member.N.Key/Value` form
// both take tags in.
using QueryParams = std::vector<std::pair<std::string, std::string>>;
void AppendQueryTags(QueryParams* params, const std::map<std::string, std::string>& tags);

}  // namespace cairn::provision
