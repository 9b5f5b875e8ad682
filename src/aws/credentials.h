#pragma once
// AWS credentials and where they come from. A CredentialsProvider returns the keys to sign with;
// the chain of providers and its order are described in docs/aws-client.md.
//
// Secrets: Credentials never print their secret key or token. Describe() shows the key id's first
// four characters, the provider and the expiry only. Errors from providers name files, profiles,
// variables and URLs, never values read from them.
//
// Thread safety: every provider's Get() may be called from many threads at once.

#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "aws/http.h"
#include "common/clock.h"
#include "common/status.h"

namespace cairn::aws {

struct Credentials {
  std::string access_key_id;
  std::string secret_access_key;
  std::string session_token;     // empty for long-term keys
  int64_t expiration_micros = 0;  // 0: does not expire
  std::string provider;           // "config", "environment", "profile default", "imds", ...

  bool empty() const { return access_key_id.empty() || secret_access_key.empty(); }
  // "AKIA…(provider, expires 2024-01-01T00:00:00Z)": safe to log.
  std::string Describe() const;
};

// Looks up an environment variable; tests pass a map instead of the process environment.
using EnvLookup = std::function<std::optional<std::string>(const std::string& name)>;
EnvLookup ProcessEnvironment();
EnvLookup MapEnvironment(std::map<std::string, std::string> vars);

class CredentialsProvider {
 public:
  virtual ~CredentialsProvider() = default;
  // Returns credentials, or NotFound when this source is not configured (the chain then tries
  // the next), or another error when it is configured but failed.
  virtual Result<Credentials> Get() = 0;
  // Forgets cached credentials (after the service said they expired).
  virtual void Invalidate() {}
  virtual std::string Name() const = 0;
};

// Fixed keys (cairn.toml aws.key_id/secret_key, or inputs.conf key_id/secret_key).
class StaticCredentialsProvider final : public CredentialsProvider {
 public:
  explicit StaticCredentialsProvider(Credentials credentials);
  Result<Credentials> Get() override;
  std::string Name() const override { return "static"; }

 private:
  Credentials credentials_;
};

// AWS_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY, AWS_SESSION_TOKEN.
class EnvCredentialsProvider final : public CredentialsProvider {
 public:
  explicit EnvCredentialsProvider(EnvLookup env) : env_(std::move(env)) {}
  Result<Credentials> Get() override;
  std::string Name() const override { return "environment"; }

 private:
  EnvLookup env_;
};

// One profile's settings from ~/.aws/config and ~/.aws/credentials, merged (credentials wins).
using ProfileSettings = std::map<std::string, std::string>;

// Parses an AWS shared config or credentials file (INI: [section], key = value, '#'/';'
// comments, indented continuation lines for nested settings are skipped). In a config file a
// section "[profile NAME]" names profile NAME ("[default]" also accepted); in a credentials file
// "[NAME]". Returns profile name -> settings. Errors name the file and line.
Result<std::map<std::string, ProfileSettings>> ParseAwsProfileFile(std::string_view text,
                                                                   std::string_view path,
                                                                   bool is_config_file);

struct ProfileFiles {
  std::string credentials_path;  // AWS_SHARED_CREDENTIALS_FILE or ~/.aws/credentials
  std::string config_path;       // AWS_CONFIG_FILE or ~/.aws/config
  std::string profile;           // AWS_PROFILE or "default"
};
ProfileFiles DefaultProfileFiles(const EnvLookup& env);

// Reads both files and returns profile `name`'s merged settings; NotFound when neither file has
// it (a missing file is not an error).
Result<ProfileSettings> LoadProfile(const ProfileFiles& files, std::string_view name);

// Turns a profile with role_arn into credentials: called with (role settings, source
// credentials provider). Supplied by the STS layer so this file needs no STS.
struct RoleSpec {
  std::string role_arn;
  std::string external_id;
  std::string session_name;
  int64_t duration_seconds = 3600;
  std::string web_identity_token_file;  // set: AssumeRoleWithWebIdentity
};
using RoleAssumer = std::function<std::shared_ptr<CredentialsProvider>(
    const RoleSpec& role, std::shared_ptr<CredentialsProvider> source)>;

// Profile credentials: static keys, or role_arn with source_profile (chains of profiles),
// credential_source (Environment, Ec2InstanceMetadata, EcsContainer) or web_identity_token_file.
// NotFound when the profile does not exist or has no credentials at all.
class ProfileCredentialsProvider final : public CredentialsProvider {
 public:
  struct Options {
    ProfileFiles files;
    EnvLookup env;
    RoleAssumer assume_role;  // may be empty: role profiles then fail with Unsupported
    std::shared_ptr<HttpClient> http;  // for credential_source Ec2InstanceMetadata/EcsContainer
    Clock* clock = nullptr;
  };
  explicit ProfileCredentialsProvider(Options options);
  Result<Credentials> Get() override;
  void Invalidate() override;
  std::string Name() const override { return "profile " + options_.files.profile; }

 private:
  Result<std::shared_ptr<CredentialsProvider>> Build(const std::string& profile,
                                                     std::vector<std::string>* visited);
  Options options_;
  std::mutex mu_;
  std::shared_ptr<CredentialsProvider> resolved_;
};

// ECS / EKS Pod Identity container credentials: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI (from
// http://169.254.170.2) or AWS_CONTAINER_CREDENTIALS_FULL_URI (loopback, the ECS/EKS link-local
// addresses, or https), with AWS_CONTAINER_AUTHORIZATION_TOKEN(_FILE) sent as Authorization.
class ContainerCredentialsProvider final : public CredentialsProvider {
 public:
  ContainerCredentialsProvider(EnvLookup env, std::shared_ptr<HttpClient> http);
  Result<Credentials> Get() override;
  std::string Name() const override { return "container"; }

 private:
  EnvLookup env_;
  std::shared_ptr<HttpClient> http_;
};

// EC2 instance metadata, IMDSv2 only: PUT /latest/api/token, then the role name and its keys
// from /latest/meta-data/iam/security-credentials/. AWS_EC2_METADATA_DISABLED=true turns it off;
// AWS_EC2_METADATA_SERVICE_ENDPOINT moves it (tests point it at 127.0.0.1).
class ImdsCredentialsProvider final : public CredentialsProvider {
 public:
  ImdsCredentialsProvider(EnvLookup env, std::shared_ptr<HttpClient> http);
  Result<Credentials> Get() override;
  std::string Name() const override { return "imds"; }

 private:
  EnvLookup env_;
  std::shared_ptr<HttpClient> http_;
};

// Caches another provider's credentials and fetches new ones `refresh_before_micros` before they
// expire. When a refresh fails while the old credentials are still valid, keeps using them (and
// logs a warning). One refresh at a time; other callers wait for it.
class CachingCredentialsProvider final : public CredentialsProvider {
 public:
  CachingCredentialsProvider(std::shared_ptr<CredentialsProvider> inner, Clock* clock,
                             int64_t refresh_before_micros = 5 * 60 * 1'000'000LL);
  Result<Credentials> Get() override;
  void Invalidate() override;
  std::string Name() const override { return inner_->Name(); }
  int fetch_count() const;  // how many times the inner provider was asked (tests)

 private:
  std::shared_ptr<CredentialsProvider> inner_;
  Clock* clock_;
  int64_t refresh_before_;
  mutable std::mutex mu_;
  std::optional<Credentials> cached_;
  int fetches_ = 0;
};

// Tries providers in order. NotFound moves on; the first success is remembered and asked first
// from then on. When none succeeds the error lists every provider's reason.
class ChainCredentialsProvider final : public CredentialsProvider {
 public:
  explicit ChainCredentialsProvider(std::vector<std::shared_ptr<CredentialsProvider>> providers);
  Result<Credentials> Get() override;
  void Invalidate() override;
  std::string Name() const override { return "chain"; }

 private:
  std::vector<std::shared_ptr<CredentialsProvider>> providers_;
  std::mutex mu_;
  int chosen_ = -1;
};

// Parses the JSON credentials document that IMDS and the container endpoint return
// (AccessKeyId, SecretAccessKey, Token, Expiration). `source` names it in errors.
Result<Credentials> ParseCredentialsJson(std::string_view json, std::string_view source);

}  // namespace cairn::aws
