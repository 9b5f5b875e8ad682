#pragma once
// Where each service's requests go, and which region they are signed for.
//
// Precedence, first match wins (docs/aws-client.md):
//   1. cairn config aws.endpoint_url_<service>   (per service)
//   2. cairn config aws.endpoint_url             (all services)
//   3. AWS_ENDPOINT_URL_<SERVICE>                 (the AWS SDKs' variable: _S3, _SQS, _SNS, _STS, _IAM, _CLOUDTRAIL)
//   4. AWS_ENDPOINT_URL
//   5. the public AWS endpoint for the service and region (partition aware: aws, aws-cn, aws-us-gov)
// AWS_IGNORE_CONFIGURED_ENDPOINT_URLS=true skips 3 and 4, as the SDKs do.
// A custom endpoint makes S3 use path-style addressing (http://host:port/bucket/key) unless
// s3_virtual_host is set; public AWS S3 uses virtual-hosted style for DNS-safe bucket names
// without dots, and path style otherwise.

#include <map>
#include <string>
#include <string_view>

#include "aws/credentials.h"
#include "common/status.h"

namespace cairn::aws {

struct Endpoint {
  std::string scheme = "https";
  std::string host;       // host[:port]
  std::string base_path;  // "" or "/prefix" (no trailing '/') from a custom URL
  std::string signing_region;
  bool custom = false;    // from configuration or the environment
  std::string origin;     // "default", "config aws.endpoint_url_sqs", "env AWS_ENDPOINT_URL" ...
};

struct EndpointConfig {
  std::string region = "us-east-1";
  std::string endpoint_url;                          // aws.endpoint_url
  std::map<std::string, std::string> service_urls;   // service id ("s3", "sqs", ...) -> URL
  bool s3_virtual_host = false;                      // virtual-hosted S3 on a custom endpoint
  EnvLookup env;                                     // empty: no environment lookups
};

// The service ids this client knows: s3 sqs sns sts iam cloudtrail (others get the generic
// "<service>.<region>.<suffix>" pattern).
Result<Endpoint> ResolveEndpoint(std::string_view service, std::string_view region,
                                 const EndpointConfig& config);

// The DNS suffix for a region: amazonaws.com, amazonaws.com.cn for cn-*.
std::string DnsSuffix(std::string_view region);

// True when `bucket` can be a host name label under S3's rules and has no dots (dots break TLS
// wildcard certificates), so virtual-hosted addressing is safe.
bool VirtualHostableBucket(std::string_view bucket);

}  // namespace cairn::aws
