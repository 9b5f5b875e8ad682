#pragma once
// STS (Query protocol, version 2011-06-15): AssumeRole (with external id, for cross-account
// access), AssumeRoleWithWebIdentity (EKS/IRSA, unsigned), GetCallerIdentity; and the credential
// providers built on them. Temporary credentials in responses are never logged or put in errors.

#include <memory>
#include <string>

#include "aws/client.h"
#include "aws/credentials.h"

namespace cairn::aws {

struct CallerIdentity {
  std::string account;
  std::string arn;
  std::string user_id;
};

class StsClient {
 public:
  // `client` must outlive this object.
  explicit StsClient(AwsClient* client) : client_(client) {}

  Result<Credentials> AssumeRole(const RoleSpec& role);
  // Unsigned: the token is the proof. Reads nothing from disk; pass the token's text.
  Result<Credentials> AssumeRoleWithWebIdentity(const RoleSpec& role, const std::string& token);
  Result<CallerIdentity> GetCallerIdentity();

 private:
  AwsClient* client_;
};

// Assumes `role` with credentials from `source` (cached and refreshed by the caller's
// CachingCredentialsProvider).
class AssumeRoleProvider final : public CredentialsProvider {
 public:
  AssumeRoleProvider(RoleSpec role, std::shared_ptr<AwsClient> sts_client);
  Result<Credentials> Get() override;
  void Invalidate() override;
  std::string Name() const override { return "assume-role " + role_.role_arn; }

 private:
  RoleSpec role_;
  std::shared_ptr<AwsClient> client_;
};

// AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN (+ AWS_ROLE_SESSION_NAME), or a profile's
// web_identity_token_file: the token file is read again on every refresh (it rotates).
class WebIdentityProvider final : public CredentialsProvider {
 public:
  // `role` empty: read from the environment at each Get (NotFound when unset).
  WebIdentityProvider(std::optional<RoleSpec> role, EnvLookup env, std::shared_ptr<AwsClient> unsigned_sts);
  Result<Credentials> Get() override;
  std::string Name() const override { return "web-identity"; }

 private:
  std::optional<RoleSpec> role_;
  EnvLookup env_;
  std::shared_ptr<AwsClient> client_;
};

struct CredentialChainOptions {
  Credentials static_credentials;  // cairn.toml aws.key_id / aws.secret_key, inputs.conf key_id/secret_key
  std::string profile;             // overrides AWS_PROFILE
  RoleSpec role;                   // aws.role_arn: assumed with whatever the chain found
  EnvLookup env;                   // empty: the process environment
  std::shared_ptr<HttpClient> http;       // STS and container endpoint
  std::shared_ptr<HttpClient> imds_http;  // null: a client with 1 s connect timeout
  AwsClientOptions sts_options;           // region, endpoints, retry for STS calls
  Clock* clock = nullptr;
};

// The default chain (docs/aws-client.md): static keys from config, environment, web identity,
// shared config/credentials profile, container, EC2 IMDSv2 — each cached and refreshed five
// minutes before expiry; then, when `role.role_arn` is set, AssumeRole on top of it.
std::shared_ptr<CredentialsProvider> NewDefaultCredentialChain(const CredentialChainOptions& options);

// A RoleAssumer that calls STS with `sts_options`, for profiles with role_arn.
RoleAssumer MakeStsRoleAssumer(std::shared_ptr<HttpClient> http, AwsClientOptions sts_options, Clock* clock);

}  // namespace cairn::aws
