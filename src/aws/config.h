#pragma once
// Building an AwsClient from cairn's configuration (common/config.h keys, documented in
// docs/aws-client.md):
//   aws.region              default: AWS_REGION, AWS_DEFAULT_REGION, then us-east-1
//   aws.key_id, aws.secret_key, aws.session_token      static keys (first in the chain)
//   aws.profile             a profile of ~/.aws/config (default: AWS_PROFILE, then "default")
//   aws.role_arn, aws.external_id, aws.role_session_name   assume this role on top of the chain
//   aws.endpoint_url, aws.endpoint_url_<service>      custom endpoints (s3 sqs sns sts iam cloudtrail)
//   aws.s3_virtual_host     virtual-hosted S3 addressing on a custom endpoint (default false)
//   aws.proxy, aws.ca_file  HTTP proxy URL (default: libcurl reads *_proxy variables), CA bundle
//   aws.connect_timeout, aws.read_timeout  durations (default 10s, 60s)
//   aws.max_attempts        tries per request, including the first (default 5)

#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/credentials.h"
#include "common/config.h"

namespace cairn::aws {

// Every config key above, for Config::LoadEnvironment's known-key list.
const std::vector<std::string>& AwsConfigKeys();

struct AwsClientSetup {
  std::shared_ptr<HttpClient> http;                  // null: libcurl with the configured options
  EnvLookup env;                                      // null: the process environment
  Clock* clock = nullptr;
  Credentials override_credentials;                   // e.g. inputs.conf key_id/secret_key (wins)
  std::string override_region;                        // e.g. inputs.conf sqs_queue_region (wins)
};

// Reads the aws.* keys and builds the client with the default credential chain. Errors name the
// key and its origin (a malformed duration or URL).
Result<std::shared_ptr<AwsClient>> NewAwsClientFromConfig(const Config& config, const AwsClientSetup& setup = {});

}  // namespace cairn::aws
