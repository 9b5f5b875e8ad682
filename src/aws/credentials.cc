#include "aws/credentials.h"

#include <simdjson.h>

#include <algorithm>
#include <cstdlib>

#include "common/fs.h"
#include "common/log.h"
#include "common/time_util.h"

namespace cairn::aws {

namespace {

std::string_view Trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t' || s.front() == '\r')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n')) {
    s.remove_suffix(1);
  }
  return s;
}

std::string EnvValue(const EnvLookup& env, const std::string& name) {
  if (!env) return {};
  auto v = env(name);
  return v ? *v : std::string();
}

std::string SettingOr(const ProfileSettings& s, const std::string& key, std::string fallback = {}) {
  auto it = s.find(key);
  return it == s.end() ? fallback : it->second;
}

}  // namespace

std::string Credentials::Describe() const {
  std::string id = access_key_id.size() > 8
                       ? access_key_id.substr(0, 4) + "..." + access_key_id.substr(access_key_id.size() - 4)
                       : std::string("****");
  std::string out = id + " (" + provider;
  if (!session_token.empty()) out += ", temporary";
  if (expiration_micros > 0) out += ", expires " + FormatIso8601(expiration_micros / 1000);
  out += ")";
  return out;
}

EnvLookup ProcessEnvironment() {
  return [](const std::string& name) -> std::optional<std::string> {
    const char* v = std::getenv(name.c_str());
    if (v == nullptr) return std::nullopt;
    return std::string(v);
  };
}

EnvLookup MapEnvironment(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const std::string& name) -> std::optional<std::string> {
    auto it = vars.find(name);
    if (it == vars.end()) return std::nullopt;
    return it->second;
  };
}

// ---- static and environment ----

StaticCredentialsProvider::StaticCredentialsProvider(Credentials credentials)
    : credentials_(std::move(credentials)) {
  if (credentials_.provider.empty()) credentials_.provider = "static";
}

Result<Credentials> StaticCredentialsProvider::Get() {
  if (credentials_.empty()) return NotFound("no static access key configured");
  return credentials_;
}

Result<Credentials> EnvCredentialsProvider::Get() {
  Credentials c;
  c.access_key_id = EnvValue(env_, "AWS_ACCESS_KEY_ID");
  c.secret_access_key = EnvValue(env_, "AWS_SECRET_ACCESS_KEY");
  c.session_token = EnvValue(env_, "AWS_SESSION_TOKEN");
  c.provider = "environment";
  if (c.access_key_id.empty() && c.secret_access_key.empty()) {
    return NotFound("AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY are not set");
  }
  if (c.access_key_id.empty()) return InvalidArgument("AWS_SECRET_ACCESS_KEY is set but AWS_ACCESS_KEY_ID is not");
  if (c.secret_access_key.empty()) {
    return InvalidArgument("AWS_ACCESS_KEY_ID is set but AWS_SECRET_ACCESS_KEY is not");
  }
  return c;
}

// ---- shared config files ----

Result<std::map<std::string, ProfileSettings>> ParseAwsProfileFile(std::string_view text,
                                                                   std::string_view path,
                                                                   bool is_config_file) {
  std::map<std::string, ProfileSettings> out;
  std::string section;
  bool in_section = false;
  bool nested = false;  // inside "key =" followed by indented sub-settings
  size_t line_no = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view raw = text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    std::string_view line = Trim(raw);
    if (line.empty() || line[0] == '#' || line[0] == ';') continue;
    bool indented = !raw.empty() && (raw[0] == ' ' || raw[0] == '\t');
    if (line.front() == '[') {
      nested = false;
      if (line.back() != ']') {
        return InvalidArgument("{}:{}: section header lacks ']'", path, line_no);
      }
      std::string_view name = Trim(line.substr(1, line.size() - 2));
      in_section = true;
      if (is_config_file) {
        if (name == "default") {
          section = "default";
        } else if (name.starts_with("profile ") || name.starts_with("profile\t")) {
          section = std::string(Trim(name.substr(8)));
        } else {
          in_section = false;  // [sso-session x], [services x]: not profiles
        }
      } else {
        section = std::string(name);
      }
      if (in_section) out[section];
      continue;
    }
    if (indented && nested) continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      return InvalidArgument("{}:{}: expected 'key = value' or '[section]'", path, line_no);
    }
    if (!in_section) continue;
    std::string key(Trim(line.substr(0, eq)));
    std::string value(Trim(line.substr(eq + 1)));
    std::transform(key.begin(), key.end(), key.begin(), ::tolower);
    nested = value.empty();
    if (!nested) out[section][key] = value;
  }
  return out;
}

ProfileFiles DefaultProfileFiles(const EnvLookup& env) {
  ProfileFiles f;
  std::string home = EnvValue(env, "HOME");
  f.credentials_path = EnvValue(env, "AWS_SHARED_CREDENTIALS_FILE");
  if (f.credentials_path.empty() && !home.empty()) f.credentials_path = home + "/.aws/credentials";
  f.config_path = EnvValue(env, "AWS_CONFIG_FILE");
  if (f.config_path.empty() && !home.empty()) f.config_path = home + "/.aws/config";
  f.profile = EnvValue(env, "AWS_PROFILE");
  if (f.profile.empty()) f.profile = EnvValue(env, "AWS_DEFAULT_PROFILE");
  if (f.profile.empty()) f.profile = "default";
  return f;
}

Result<ProfileSettings> LoadProfile(const ProfileFiles& files, std::string_view name) {
  ProfileSettings merged;
  bool found = false;
  FileSystem* fs = FileSystem::Default();
  for (int i = 0; i < 2; ++i) {
    bool is_config = i == 0;
    const std::string& path = is_config ? files.config_path : files.credentials_path;
    if (path.empty() || !fs->Exists(path)) continue;
    ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path, 16u << 20));
    ASSIGN_OR_RETURN(auto profiles, ParseAwsProfileFile(text, path, is_config));
    auto it = profiles.find(std::string(name));
    if (it == profiles.end()) continue;
    found = true;
    for (auto& [k, v] : it->second) merged[k] = v;  // credentials file (second) wins
  }
  if (!found) {
    return NotFound("profile '{}' not found in {} or {}", name, files.config_path, files.credentials_path);
  }
  return merged;
}

ProfileCredentialsProvider::ProfileCredentialsProvider(Options options) : options_(std::move(options)) {}

Result<std::shared_ptr<CredentialsProvider>> ProfileCredentialsProvider::Build(
    const std::string& profile, std::vector<std::string>* visited) {
  if (std::find(visited->begin(), visited->end(), profile) != visited->end()) {
    return InvalidArgument("profile '{}' is part of a source_profile cycle", profile);
  }
  visited->push_back(profile);
  ASSIGN_OR_RETURN(ProfileSettings s, LoadProfile(options_.files, profile));
  std::string role_arn = SettingOr(s, "role_arn");
  Credentials keys;
  keys.access_key_id = SettingOr(s, "aws_access_key_id");
  keys.secret_access_key = SettingOr(s, "aws_secret_access_key");
  keys.session_token = SettingOr(s, "aws_session_token");
  keys.provider = "profile " + profile;
  if (role_arn.empty()) {
    if (!keys.empty()) return std::shared_ptr<CredentialsProvider>(std::make_shared<StaticCredentialsProvider>(keys));
    if (!keys.access_key_id.empty() || !keys.secret_access_key.empty()) {
      return InvalidArgument("profile '{}' needs both aws_access_key_id and aws_secret_access_key", profile);
    }
    if (s.count("credential_process")) {
      return Unsupported("profile '{}': credential_process is not supported", profile);
    }
    if (s.count("sso_session") || s.count("sso_start_url")) {
      return Unsupported("profile '{}': SSO credentials are not supported; use role_arn or keys", profile);
    }
    return NotFound("profile '{}' has no credentials", profile);
  }
  if (!options_.assume_role) {
    return Unsupported("profile '{}' assumes role but no STS client is available", profile);
  }
  RoleSpec spec;
  spec.role_arn = role_arn;
  spec.external_id = SettingOr(s, "external_id");
  spec.session_name = SettingOr(s, "role_session_name", "cairn");
  if (auto d = SettingOr(s, "duration_seconds"); !d.empty()) spec.duration_seconds = std::atoll(d.c_str());
  spec.web_identity_token_file = SettingOr(s, "web_identity_token_file");
  if (!spec.web_identity_token_file.empty()) return options_.assume_role(spec, nullptr);

  std::shared_ptr<CredentialsProvider> source;
  std::string source_profile = SettingOr(s, "source_profile");
  std::string credential_source = SettingOr(s, "credential_source");
  if (!source_profile.empty()) {
    if (source_profile == profile) {
      if (keys.empty()) return InvalidArgument("profile '{}' is its own source_profile but has no keys", profile);
      source = std::make_shared<StaticCredentialsProvider>(keys);
    } else {
      ASSIGN_OR_RETURN(source, Build(source_profile, visited));
    }
  } else if (credential_source == "Environment") {
    source = std::make_shared<EnvCredentialsProvider>(options_.env);
  } else if (credential_source == "Ec2InstanceMetadata") {
    source = std::make_shared<ImdsCredentialsProvider>(options_.env, options_.http);
  } else if (credential_source == "EcsContainer") {
    source = std::make_shared<ContainerCredentialsProvider>(options_.env, options_.http);
  } else if (!credential_source.empty()) {
    return InvalidArgument("profile '{}': unknown credential_source '{}'", profile, credential_source);
  } else {
    return InvalidArgument("profile '{}' has role_arn but no source_profile or credential_source", profile);
  }
  return options_.assume_role(spec, std::move(source));
}

Result<Credentials> ProfileCredentialsProvider::Get() {
  std::shared_ptr<CredentialsProvider> p;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (!resolved_) {
      std::vector<std::string> visited;
      ASSIGN_OR_RETURN(resolved_, Build(options_.files.profile, &visited));
    }
    p = resolved_;
  }
  return p->Get();
}

void ProfileCredentialsProvider::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  if (resolved_) resolved_->Invalidate();
}

// ---- JSON credential documents (IMDS, containers) ----

Result<Credentials> ParseCredentialsJson(std::string_view json, std::string_view source) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element doc;
  // Never quote the document in an error: it holds the secret.
  if (parser.parse(padded).get(doc) != simdjson::SUCCESS || !doc.is_object()) {
    return Corruption("credentials from {} are not a JSON object", source);
  }
  std::string_view code;
  if (doc["Code"].get(code) == simdjson::SUCCESS && code != "Success") {
    return PermissionDenied("credentials from {}: Code is '{}'", source, code);
  }
  Credentials c;
  std::string_view v;
  if (doc["AccessKeyId"].get(v) != simdjson::SUCCESS) return Corruption("credentials from {} lack AccessKeyId", source);
  c.access_key_id = std::string(v);
  if (doc["SecretAccessKey"].get(v) != simdjson::SUCCESS) {
    return Corruption("credentials from {} lack SecretAccessKey", source);
  }
  c.secret_access_key = std::string(v);
  if (doc["Token"].get(v) == simdjson::SUCCESS) c.session_token = std::string(v);
  if (doc["Expiration"].get(v) == simdjson::SUCCESS) {
    auto ms = ParseIso8601Millis(v);
    if (!ms) return Corruption("credentials from {}: Expiration '{}' is not a time", source, v);
    c.expiration_micros = *ms * 1000;
  }
  c.provider = std::string(source);
  return c;
}

// ---- containers ----

ContainerCredentialsProvider::ContainerCredentialsProvider(EnvLookup env, std::shared_ptr<HttpClient> http)
    : env_(std::move(env)), http_(std::move(http)) {}

namespace {

bool AllowedContainerHost(const ParsedUrl& u) {
  if (u.scheme == "https") return true;
  std::string host = u.host;
  if (!host.empty() && host[0] == '[') {
    size_t close = host.find(']');
    host = host.substr(1, close - 1);
  } else if (size_t colon = host.rfind(':'); colon != std::string::npos) {
    host = host.substr(0, colon);
  }
  return host == "localhost" || host.starts_with("127.") || host == "::1" || host == "169.254.170.2" ||
         host == "169.254.170.23" || host == "fd00:ec2::23";
}

}  // namespace

Result<Credentials> ContainerCredentialsProvider::Get() {
  std::string relative = EnvValue(env_, "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
  std::string full = EnvValue(env_, "AWS_CONTAINER_CREDENTIALS_FULL_URI");
  std::string url;
  if (!relative.empty()) {
    url = "http://169.254.170.2" + (relative.front() == '/' ? relative : "/" + relative);
  } else if (!full.empty()) {
    url = full;
  } else {
    return NotFound("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI and _FULL_URI are not set");
  }
  ASSIGN_OR_RETURN(ParsedUrl u, ParseUrl(url));
  if (relative.empty() && !AllowedContainerHost(u)) {
    return InvalidArgument(
        "AWS_CONTAINER_CREDENTIALS_FULL_URI host '{}' is not loopback, the ECS/EKS address or https", u.host);
  }
  HttpRequest req;
  req.method = "GET";
  req.scheme = u.scheme;
  req.host = u.host;
  req.path = u.path;
  req.query = u.query;
  req.idle_timeout_ms = 5000;
  std::string token;
  if (std::string file = EnvValue(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE"); !file.empty()) {
    ASSIGN_OR_RETURN(token, ReadFileToString(FileSystem::Default(), file, 64 << 10));
    token = std::string(Trim(token));
  } else {
    token = EnvValue(env_, "AWS_CONTAINER_AUTHORIZATION_TOKEN");
  }
  if (!token.empty()) req.headers.emplace_back("Authorization", token);
  req.headers.emplace_back("Accept", "application/json");
  Result<HttpResponse> resp = http_->Send(req);
  if (!resp.ok()) return resp.status().WithContext("container credentials");
  if (!resp->ok()) {
    return Unavailable("container credentials from {}: HTTP {}", req.Describe(), resp->status);
  }
  return ParseCredentialsJson(resp->body, "container endpoint");
}

// ---- EC2 instance metadata (IMDSv2) ----

ImdsCredentialsProvider::ImdsCredentialsProvider(EnvLookup env, std::shared_ptr<HttpClient> http)
    : env_(std::move(env)), http_(std::move(http)) {}

Result<Credentials> ImdsCredentialsProvider::Get() {
  std::string disabled = EnvValue(env_, "AWS_EC2_METADATA_DISABLED");
  std::transform(disabled.begin(), disabled.end(), disabled.begin(), ::tolower);
  if (disabled == "true") return NotFound("instance metadata disabled by AWS_EC2_METADATA_DISABLED");
  std::string endpoint = EnvValue(env_, "AWS_EC2_METADATA_SERVICE_ENDPOINT");
  if (endpoint.empty()) endpoint = "http://169.254.169.254";
  ASSIGN_OR_RETURN(ParsedUrl base, ParseUrl(endpoint));
  auto make = [&](std::string method, std::string path) {
    HttpRequest r;
    r.method = std::move(method);
    r.scheme = base.scheme;
    r.host = base.host;
    r.path = std::move(path);
    r.idle_timeout_ms = 2000;
    return r;
  };
  HttpRequest token_req = make("PUT", "/latest/api/token");
  token_req.headers.emplace_back("X-aws-ec2-metadata-token-ttl-seconds", "21600");
  Result<HttpResponse> token = http_->Send(token_req);
  if (!token.ok()) {
    // Not on EC2 (nothing answers): the chain moves on.
    return NotFound("no instance metadata service at {}: {}", base.host, token.status().message());
  }
  if (!token->ok()) {
    return Unavailable("instance metadata token request to {}: HTTP {}", base.host, token->status);
  }
  std::string tok(Trim(token->body));
  HttpRequest role_req = make("GET", "/latest/meta-data/iam/security-credentials/");
  role_req.headers.emplace_back("X-aws-ec2-metadata-token", tok);
  ASSIGN_OR_RETURN(HttpResponse role, http_->Send(role_req));
  if (role.status == 404) return NotFound("this EC2 instance has no IAM role");
  if (!role.ok()) return Unavailable("instance metadata role lookup at {}: HTTP {}", base.host, role.status);
  std::string_view name = Trim(role.body);
  if (size_t nl = name.find('\n'); nl != std::string_view::npos) name = Trim(name.substr(0, nl));
  if (name.empty()) return NotFound("this EC2 instance has no IAM role");
  HttpRequest creds_req = make("GET", "/latest/meta-data/iam/security-credentials/" + UriEncode(name, false));
  creds_req.headers.emplace_back("X-aws-ec2-metadata-token", tok);
  ASSIGN_OR_RETURN(HttpResponse creds, http_->Send(creds_req));
  if (!creds.ok()) {
    return Unavailable("instance metadata credentials for role '{}': HTTP {}", name, creds.status);
  }
  ASSIGN_OR_RETURN(Credentials c, ParseCredentialsJson(creds.body, "imds"));
  return c;
}

// ---- caching and chains ----

CachingCredentialsProvider::CachingCredentialsProvider(std::shared_ptr<CredentialsProvider> inner,
                                                       Clock* clock, int64_t refresh_before_micros)
    : inner_(std::move(inner)), clock_(clock ? clock : Clock::System()), refresh_before_(refresh_before_micros) {}

Result<Credentials> CachingCredentialsProvider::Get() {
  std::lock_guard<std::mutex> lock(mu_);
  int64_t now = clock_->NowMicros();
  if (cached_ && (cached_->expiration_micros == 0 || now < cached_->expiration_micros - refresh_before_)) {
    return *cached_;
  }
  ++fetches_;
  Result<Credentials> fresh = inner_->Get();
  if (fresh.ok()) {
    cached_ = *fresh;
    return fresh;
  }
  if (cached_ && now < cached_->expiration_micros) {
    log::Warn("refreshing AWS credentials from {} failed, using the current ones until they expire: {}",
              inner_->Name(), fresh.status().ToString());
    return *cached_;
  }
  return fresh;
}

void CachingCredentialsProvider::Invalidate() {
  std::lock_guard<std::mutex> lock(mu_);
  cached_.reset();
  inner_->Invalidate();
}

int CachingCredentialsProvider::fetch_count() const {
  std::lock_guard<std::mutex> lock(mu_);
  return fetches_;
}

ChainCredentialsProvider::ChainCredentialsProvider(std::vector<std::shared_ptr<CredentialsProvider>> providers)
    : providers_(std::move(providers)) {}

Result<Credentials> ChainCredentialsProvider::Get() {
  int chosen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    chosen = chosen_;
  }
  if (chosen >= 0) return providers_[chosen]->Get();
  std::string reasons;
  bool only_not_found = true;
  for (size_t i = 0; i < providers_.size(); ++i) {
    Result<Credentials> r = providers_[i]->Get();
    if (r.ok()) {
      std::lock_guard<std::mutex> lock(mu_);
      chosen_ = static_cast<int>(i);
      log::Info("using AWS credentials {}", r->Describe());
      return r;
    }
    if (r.status().code() != StatusCode::kNotFound) only_not_found = false;
    if (!reasons.empty()) reasons += "; ";
    reasons += providers_[i]->Name() + ": " + r.status().message();
  }
  if (only_not_found) return NotFound("no AWS credentials found ({})", reasons);
  return PermissionDenied("no usable AWS credentials ({})", reasons);
}

void ChainCredentialsProvider::Invalidate() {
  int chosen;
  {
    std::lock_guard<std::mutex> lock(mu_);
    chosen = chosen_;
  }
  if (chosen >= 0) providers_[chosen]->Invalidate();
}

}  // namespace cairn::aws
