#include "aws/config.h"

#include "aws/sts.h"

namespace cairn::aws {

namespace {
const char* const kServices[] = {"s3", "sqs", "sns", "sts", "iam", "cloudtrail"};
}

const std::vector<std::string>& AwsConfigKeys() {
  static const std::vector<std::string> keys = [] {
    std::vector<std::string> k = {"aws.region", "aws.key_id", "aws.secret_key", "aws.session_token",
                                  "aws.profile", "aws.role_arn", "aws.external_id", "aws.role_session_name",
                                  "aws.endpoint_url", "aws.s3_virtual_host", "aws.proxy", "aws.ca_file",
                                  "aws.connect_timeout", "aws.read_timeout", "aws.max_attempts"};
    for (const char* s : kServices) k.push_back(std::string("aws.endpoint_url_") + s);
    return k;
  }();
  return keys;
}

Result<std::shared_ptr<AwsClient>> NewAwsClientFromConfig(const Config& config, const AwsClientSetup& setup) {
  EnvLookup env = setup.env ? setup.env : ProcessEnvironment();
  auto env_or = [&](const char* name) {
    auto v = env(name);
    return v ? *v : std::string();
  };
  std::string region = setup.override_region;
  if (region.empty()) region = config.GetString("aws.region", "");
  if (region.empty()) region = env_or("AWS_REGION");
  if (region.empty()) region = env_or("AWS_DEFAULT_REGION");
  if (region.empty()) region = "us-east-1";

  std::shared_ptr<HttpClient> http = setup.http;
  if (!http) {
    HttpOptions h;
    ASSIGN_OR_RETURN(h.connect_timeout_ms, config.GetDurationMillis("aws.connect_timeout", 10'000));
    ASSIGN_OR_RETURN(h.idle_timeout_ms, config.GetDurationMillis("aws.read_timeout", 60'000));
    h.proxy = config.GetString("aws.proxy", "");
    h.ca_file = config.GetString("aws.ca_file", "");
    http = NewCurlHttpClient(h);
  }

  AwsClientOptions options;
  options.region = region;
  options.clock = setup.clock;
  ASSIGN_OR_RETURN(int64_t attempts, config.GetInt("aws.max_attempts", 5));
  if (attempts < 1 || attempts > 20) {
    return InvalidArgument("aws.max_attempts = {} ({}) must be within 1..20", attempts, config.Origin("aws.max_attempts"));
  }
  options.retry.max_attempts = static_cast<int>(attempts);
  options.endpoints.region = region;
  options.endpoints.env = env;
  options.endpoints.endpoint_url = config.GetString("aws.endpoint_url", "");
  for (const char* s : kServices) {
    std::string v = config.GetString(std::string("aws.endpoint_url_") + s, "");
    if (!v.empty()) options.endpoints.service_urls[s] = v;
  }
  ASSIGN_OR_RETURN(options.endpoints.s3_virtual_host, config.GetBool("aws.s3_virtual_host", false));
  // Fail early on a malformed endpoint, naming where it came from.
  for (const char* s : kServices) RETURN_IF_ERROR(ResolveEndpoint(s, region, options.endpoints).status());

  CredentialChainOptions chain;
  chain.static_credentials = setup.override_credentials;
  if (chain.static_credentials.empty()) {
    chain.static_credentials.access_key_id = config.GetString("aws.key_id", "");
    chain.static_credentials.secret_access_key = config.GetString("aws.secret_key", "");
    chain.static_credentials.session_token = config.GetString("aws.session_token", "");
    chain.static_credentials.provider = "config";
    if (chain.static_credentials.access_key_id.empty() != chain.static_credentials.secret_access_key.empty()) {
      return InvalidArgument("aws.key_id and aws.secret_key must be set together ({} / {})",
                             config.Origin("aws.key_id"), config.Origin("aws.secret_key"));
    }
  }
  chain.profile = config.GetString("aws.profile", "");
  chain.role.role_arn = config.GetString("aws.role_arn", "");
  chain.role.external_id = config.GetString("aws.external_id", "");
  chain.role.session_name = config.GetString("aws.role_session_name", "cairn");
  chain.env = env;
  chain.http = http;
  chain.sts_options = options;
  chain.clock = setup.clock;
  auto credentials = NewDefaultCredentialChain(chain);
  return std::make_shared<AwsClient>(http, credentials, options);
}

}  // namespace cairn::aws
