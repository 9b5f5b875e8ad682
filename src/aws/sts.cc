#include "aws/sts.h"

#include <pugixml.hpp>

#include "common/fs.h"
#include "common/log.h"
#include "common/time_util.h"

namespace cairn::aws {

namespace {

constexpr std::string_view kVersion = "2011-06-15";

Result<Credentials> CredentialsFromXml(const pugi::xml_document& doc, std::string_view result_node,
                                       std::string_view api, const RoleSpec& role) {
  pugi::xml_node c = doc.first_child().child(std::string(result_node).c_str()).child("Credentials");
  if (!c) return Corruption("{} {}: response has no Credentials", api, role.role_arn);
  Credentials out;
  out.access_key_id = c.child_value("AccessKeyId");
  out.secret_access_key = c.child_value("SecretAccessKey");
  out.session_token = c.child_value("SessionToken");
  auto ms = ParseIso8601Millis(c.child_value("Expiration"));
  if (out.empty() || !ms) return Corruption("{} {}: response credentials are incomplete", api, role.role_arn);
  out.expiration_micros = *ms * 1000;
  out.provider = std::string(api == "STS AssumeRole" ? "assume-role " : "web-identity ") + role.role_arn;
  return out;
}

std::vector<std::pair<std::string, std::string>> RoleParams(const RoleSpec& role) {
  std::vector<std::pair<std::string, std::string>> p;
  p.emplace_back("RoleArn", role.role_arn);
  p.emplace_back("RoleSessionName", role.session_name.empty() ? "cairn" : role.session_name);
  if (role.duration_seconds > 0) p.emplace_back("DurationSeconds", std::to_string(role.duration_seconds));
  return p;
}

std::string EnvOr(const EnvLookup& env, const std::string& name) {
  if (!env) return {};
  auto v = env(name);
  return v ? *v : std::string();
}

}  // namespace

Result<Credentials> StsClient::AssumeRole(const RoleSpec& role) {
  if (role.role_arn.empty()) return InvalidArgument("STS AssumeRole: no role ARN");
  auto params = RoleParams(role);
  if (!role.external_id.empty()) params.emplace_back("ExternalId", role.external_id);
  Operation op{.service = "sts", .api = "STS AssumeRole", .resource = role.role_arn};
  ASSIGN_OR_RETURN(auto doc, client_->Query(op, "AssumeRole", kVersion, params));
  return CredentialsFromXml(*doc, "AssumeRoleResult", "STS AssumeRole", role);
}

Result<Credentials> StsClient::AssumeRoleWithWebIdentity(const RoleSpec& role, const std::string& token) {
  if (role.role_arn.empty()) return InvalidArgument("STS AssumeRoleWithWebIdentity: no role ARN");
  auto params = RoleParams(role);
  params.emplace_back("WebIdentityToken", token);
  Operation op{.service = "sts", .api = "STS AssumeRoleWithWebIdentity", .resource = role.role_arn,
               .unsigned_request = true};
  ASSIGN_OR_RETURN(auto doc, client_->Query(op, "AssumeRoleWithWebIdentity", kVersion, params));
  return CredentialsFromXml(*doc, "AssumeRoleWithWebIdentityResult", "STS AssumeRoleWithWebIdentity", role);
}

Result<CallerIdentity> StsClient::GetCallerIdentity() {
  Operation op{.service = "sts", .api = "STS GetCallerIdentity"};
  ASSIGN_OR_RETURN(auto doc, client_->Query(op, "GetCallerIdentity", kVersion, {}));
  CallerIdentity id;
  id.account = XmlText(*doc, "Account");
  id.arn = XmlText(*doc, "Arn");
  id.user_id = XmlText(*doc, "UserId");
  if (id.account.empty()) return Corruption("STS GetCallerIdentity: response has no Account");
  return id;
}

AssumeRoleProvider::AssumeRoleProvider(RoleSpec role, std::shared_ptr<AwsClient> sts_client)
    : role_(std::move(role)), client_(std::move(sts_client)) {}

Result<Credentials> AssumeRoleProvider::Get() {
  StsClient sts(client_.get());
  return sts.AssumeRole(role_);
}

void AssumeRoleProvider::Invalidate() {
  if (client_->credentials()) client_->credentials()->Invalidate();
}

WebIdentityProvider::WebIdentityProvider(std::optional<RoleSpec> role, EnvLookup env,
                                         std::shared_ptr<AwsClient> unsigned_sts)
    : role_(std::move(role)), env_(std::move(env)), client_(std::move(unsigned_sts)) {}

Result<Credentials> WebIdentityProvider::Get() {
  RoleSpec role;
  if (role_) {
    role = *role_;
  } else {
    role.web_identity_token_file = EnvOr(env_, "AWS_WEB_IDENTITY_TOKEN_FILE");
    role.role_arn = EnvOr(env_, "AWS_ROLE_ARN");
    role.session_name = EnvOr(env_, "AWS_ROLE_SESSION_NAME");
    if (role.web_identity_token_file.empty() && role.role_arn.empty()) {
      return NotFound("AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN are not set");
    }
    if (role.web_identity_token_file.empty() || role.role_arn.empty()) {
      return InvalidArgument("web identity needs both AWS_WEB_IDENTITY_TOKEN_FILE and AWS_ROLE_ARN");
    }
  }
  Result<std::string> token = ReadFileToString(FileSystem::Default(), role.web_identity_token_file, 1 << 20);
  if (!token.ok()) return token.status().WithContext("web identity token file");
  std::string t = *token;
  while (!t.empty() && (t.back() == '\n' || t.back() == '\r' || t.back() == ' ')) t.pop_back();
  if (t.empty()) return InvalidArgument("web identity token file {} is empty", role.web_identity_token_file);
  StsClient sts(client_.get());
  return sts.AssumeRoleWithWebIdentity(role, t);
}

RoleAssumer MakeStsRoleAssumer(std::shared_ptr<HttpClient> http, AwsClientOptions sts_options, Clock* clock) {
  return [http, sts_options, clock](const RoleSpec& role,
                                    std::shared_ptr<CredentialsProvider> source) -> std::shared_ptr<CredentialsProvider> {
    if (!role.web_identity_token_file.empty()) {
      auto client = std::make_shared<AwsClient>(http, nullptr, sts_options);
      return std::make_shared<CachingCredentialsProvider>(
          std::make_shared<WebIdentityProvider>(role, nullptr, client), clock);
    }
    auto client = std::make_shared<AwsClient>(http, std::move(source), sts_options);
    return std::make_shared<CachingCredentialsProvider>(std::make_shared<AssumeRoleProvider>(role, client), clock);
  };
}

std::shared_ptr<CredentialsProvider> NewDefaultCredentialChain(const CredentialChainOptions& o) {
  EnvLookup env = o.env ? o.env : ProcessEnvironment();
  std::shared_ptr<HttpClient> http = o.http ? o.http : NewCurlHttpClient();
  std::shared_ptr<HttpClient> imds_http = o.imds_http;
  if (!imds_http) {
    HttpOptions quick;
    quick.connect_timeout_ms = 1000;
    quick.idle_timeout_ms = 2000;
    quick.use_env_proxy = false;  // instance metadata must never go through a proxy
    imds_http = NewCurlHttpClient(quick);
  }
  AwsClientOptions sts_options = o.sts_options;
  if (!sts_options.endpoints.env) sts_options.endpoints.env = env;
  if (!sts_options.clock) sts_options.clock = o.clock;
  RoleAssumer assumer = MakeStsRoleAssumer(http, sts_options, o.clock);
  auto cached = [&](std::shared_ptr<CredentialsProvider> p) -> std::shared_ptr<CredentialsProvider> {
    return std::make_shared<CachingCredentialsProvider>(std::move(p), o.clock);
  };

  std::vector<std::shared_ptr<CredentialsProvider>> chain;
  if (!o.static_credentials.empty()) {
    Credentials c = o.static_credentials;
    if (c.provider.empty()) c.provider = "config";
    chain.push_back(std::make_shared<StaticCredentialsProvider>(c));
  }
  chain.push_back(std::make_shared<EnvCredentialsProvider>(env));
  chain.push_back(cached(std::make_shared<WebIdentityProvider>(
      std::nullopt, env, std::make_shared<AwsClient>(http, nullptr, sts_options))));
  ProfileCredentialsProvider::Options popts;
  popts.files = DefaultProfileFiles(env);
  if (!o.profile.empty()) popts.files.profile = o.profile;
  popts.env = env;
  popts.assume_role = assumer;
  popts.http = http;
  popts.clock = o.clock;
  chain.push_back(cached(std::make_shared<ProfileCredentialsProvider>(popts)));
  chain.push_back(cached(std::make_shared<ContainerCredentialsProvider>(env, http)));
  chain.push_back(cached(std::make_shared<ImdsCredentialsProvider>(env, imds_http)));
  std::shared_ptr<CredentialsProvider> base = std::make_shared<ChainCredentialsProvider>(std::move(chain));
  if (o.role.role_arn.empty()) return base;
  return assumer(o.role, base);
}

}  // namespace cairn::aws
