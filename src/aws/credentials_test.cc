#include "aws/credentials.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

#include "aws/config.h"
#include "aws/sts.h"
#include "aws/test_http_server.h"
#include "common/fs.h"
#include "common/testing.h"
#include "common/time_util.h"

namespace cairn::aws {
namespace {

using testing::TestHttpServer;
using testing::TestRequest;
using testing::TestResponse;

std::shared_ptr<HttpClient> LoopbackHttp() {
  HttpOptions o;
  o.use_env_proxy = false;
  o.connect_timeout_ms = 1000;
  return NewCurlHttpClient(o);
}

std::string WriteTemp(const std::string& dir, const std::string& name, const std::string& text) {
  std::string path = dir + "/" + name;
  EXPECT_TRUE(WriteFileAtomic(FileSystem::Default(), path, text).ok());
  return path;
}

// A fake STS on loopback: answers AssumeRole / AssumeRoleWithWebIdentity with credentials that
// name the role, and records who asked.
class FakeSts {
 public:
  FakeSts()
      : server_([this](const TestRequest& req) {
          TestResponse r;
          std::string action = Param(req.body, "Action");
          std::string role = Param(req.body, "RoleArn");
          if (action != "AssumeRole" && action != "AssumeRoleWithWebIdentity") {
            r.status = 400;
            r.body = "<ErrorResponse><Error><Code>InvalidAction</Code></Error></ErrorResponse>";
            return r;
          }
          ++calls_;
          std::string n = std::to_string(calls_.load());
          r.body = "<" + action + "Response><" + action + "Result><Credentials><AccessKeyId>ASIAROLE" + n +
                   "XXXXXX</AccessKeyId><SecretAccessKey>rolesecret" + n + "</SecretAccessKey><SessionToken>roletoken" +
                   n + "</SessionToken><Expiration>2099-01-01T00:00:00Z</Expiration></Credentials></" + action +
                   "Result></" + action + "Response>";
          return r;
        }) {}
  static std::string Param(const std::string& body, const std::string& key) {
    auto parsed = ParseUrl("http://x/?" + body);
    for (const auto& [k, v] : parsed->query) {
      if (k == key) return v;
    }
    return {};
  }
  AwsClientOptions Options() {
    AwsClientOptions o;
    o.region = "us-east-1";
    o.endpoints.service_urls["sts"] = server_.url();
    return o;
  }
  TestHttpServer server_;
  std::atomic<int> calls_{0};
};

TEST(EnvCredentialsTest, ReadsTheStandardVariables) {
  EnvCredentialsProvider p(MapEnvironment(
      {{"AWS_ACCESS_KEY_ID", "AKIAENV000000000"}, {"AWS_SECRET_ACCESS_KEY", "envsecret"}, {"AWS_SESSION_TOKEN", "envtok"}}));
  auto c = p.Get();
  ASSERT_TRUE(c.ok());
  EXPECT_EQ(c->access_key_id, "AKIAENV000000000");
  EXPECT_EQ(c->session_token, "envtok");
  EXPECT_EQ(EnvCredentialsProvider(MapEnvironment({})).Get().status().code(), StatusCode::kNotFound);
  EXPECT_EQ(EnvCredentialsProvider(MapEnvironment({{"AWS_ACCESS_KEY_ID", "x"}})).Get().status().code(),
            StatusCode::kInvalidArgument);
  std::string d = c->Describe();
  EXPECT_EQ(d.find("envsecret"), std::string::npos);
  EXPECT_EQ(d.find("envtok"), std::string::npos);
  EXPECT_NE(d.find("environment"), std::string::npos);
}

TEST(ProfileTest, ParsesConfigAndCredentialsFiles) {
  auto cfg = ParseAwsProfileFile(
      "# comment\n[default]\nregion = us-west-2\n[profile dev]\nrole_arn = arn:aws:iam::1:role/r\n"
      "s3 =\n  max_concurrent_requests = 20\nsource_profile = base\n[sso-session x]\nsso_region = a\n",
      "config", true);
  ASSERT_TRUE(cfg.ok()) << cfg.status().ToString();
  EXPECT_EQ((*cfg)["default"]["region"], "us-west-2");
  EXPECT_EQ((*cfg)["dev"]["source_profile"], "base");
  EXPECT_EQ((*cfg)["dev"].count("max_concurrent_requests"), 0u);
  EXPECT_EQ(cfg->count("x"), 0u);
  auto bad = ParseAwsProfileFile("[default]\nthis line is wrong\n", "/home/u/.aws/credentials", false);
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("/home/u/.aws/credentials:2"), std::string::npos);
}

TEST(ProfileTest, StaticKeysAndAssumeRoleWithExternalId) {
  std::string dir = cairn::testing::MakeTempDir("cairn_profile");
  WriteTemp(dir, "credentials",
            "[base]\naws_access_key_id = AKIABASE00000000\naws_secret_access_key = basesecret\n"
            "[static]\naws_access_key_id = AKIASTATIC000000\naws_secret_access_key = staticsecret\n");
  WriteTemp(dir, "config",
            "[profile cross]\nrole_arn = arn:aws:iam::222222222222:role/reader\nsource_profile = base\n"
            "external_id = ext-123\nrole_session_name = cairn-test\n"
            "[profile loop1]\nrole_arn = arn:aws:iam::1:role/a\nsource_profile = loop2\n"
            "[profile loop2]\nrole_arn = arn:aws:iam::1:role/b\nsource_profile = loop1\n");
  FakeSts sts;
  auto make = [&](std::string profile) {
    ProfileCredentialsProvider::Options o;
    o.files = {dir + "/credentials", dir + "/config", profile};
    o.env = MapEnvironment({});
    o.assume_role = MakeStsRoleAssumer(LoopbackHttp(), sts.Options(), nullptr);
    return ProfileCredentialsProvider(o);
  };
  auto s = make("static").Get();
  ASSERT_TRUE(s.ok());
  EXPECT_EQ(s->access_key_id, "AKIASTATIC000000");
  auto cross = make("cross");
  auto c = cross.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAROLE1XXXXXX");
  EXPECT_EQ(c->session_token, "roletoken1");
  auto reqs = sts.server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(FakeSts::Param(reqs[0].body, "ExternalId"), "ext-123");
  EXPECT_EQ(FakeSts::Param(reqs[0].body, "RoleSessionName"), "cairn-test");
  EXPECT_EQ(FakeSts::Param(reqs[0].body, "RoleArn"), "arn:aws:iam::222222222222:role/reader");
  // Signed with the source profile's keys.
  EXPECT_NE(reqs[0].Header("authorization").find("Credential=AKIABASE00000000/"), std::string::npos);
  // Cached: a second Get does not call STS again.
  ASSERT_TRUE(cross.Get().ok());
  EXPECT_EQ(sts.calls_.load(), 1);
  EXPECT_EQ(make("missing").Get().status().code(), StatusCode::kNotFound);
  auto loop = make("loop1").Get();
  ASSERT_FALSE(loop.ok());
  EXPECT_NE(loop.status().message().find("cycle"), std::string::npos);
}

TEST(WebIdentityTest, ReadsTokenFileAndCallsStsUnsigned) {
  std::string dir = cairn::testing::MakeTempDir("cairn_wi");
  std::string token_file = WriteTemp(dir, "token", "eyJhbGciOiJSUzI1NiJ9.payload.sig\n");
  FakeSts sts;
  auto env = MapEnvironment({{"AWS_WEB_IDENTITY_TOKEN_FILE", token_file},
                             {"AWS_ROLE_ARN", "arn:aws:iam::1:role/irsa"},
                             {"AWS_ROLE_SESSION_NAME", "pod-1"}});
  WebIdentityProvider p(std::nullopt, env, std::make_shared<AwsClient>(LoopbackHttp(), nullptr, sts.Options()));
  auto c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->secret_access_key, "rolesecret1");
  EXPECT_EQ(c->expiration_micros, *ParseIso8601Millis("2099-01-01T00:00:00Z") * 1000);
  auto reqs = sts.server_.requests();
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(FakeSts::Param(reqs[0].body, "Action"), "AssumeRoleWithWebIdentity");
  EXPECT_EQ(FakeSts::Param(reqs[0].body, "WebIdentityToken"), "eyJhbGciOiJSUzI1NiJ9.payload.sig");
  EXPECT_EQ(FakeSts::Param(reqs[0].body, "RoleSessionName"), "pod-1");
  EXPECT_EQ(reqs[0].Header("authorization"), "") << "AssumeRoleWithWebIdentity is unsigned";
  WebIdentityProvider none(std::nullopt, MapEnvironment({}), nullptr);
  EXPECT_EQ(none.Get().status().code(), StatusCode::kNotFound);
}

TEST(ContainerTest, RelativeIsLinkLocalAndFullUriWithAuthToken) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse r;
    if (req.Header("authorization") != "Bearer pod-token") {
      r.status = 401;
      return r;
    }
    r.body = R"({"AccessKeyId":"ASIAECS000000000","SecretAccessKey":"ecssecret","Token":"ecstoken","Expiration":"2099-01-01T00:00:00Z"})";
    return r;
  });
  std::string dir = cairn::testing::MakeTempDir("cairn_ecs");
  std::string tok = WriteTemp(dir, "tok", "Bearer pod-token\n");
  ContainerCredentialsProvider p(
      MapEnvironment({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", server.url() + "/v2/credentials/abc"},
                      {"AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tok}}),
      LoopbackHttp());
  auto c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAECS000000000");
  EXPECT_EQ(c->session_token, "ecstoken");
  EXPECT_EQ(server.requests()[0].path, "/v2/credentials/abc");
  ContainerCredentialsProvider remote(
      MapEnvironment({{"AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://evil.example.com/creds"}}), LoopbackHttp());
  EXPECT_EQ(remote.Get().status().code(), StatusCode::kInvalidArgument);
  ContainerCredentialsProvider none(MapEnvironment({}), LoopbackHttp());
  EXPECT_EQ(none.Get().status().code(), StatusCode::kNotFound);
  // Relative URIs go to the ECS agent's link-local address.
  std::vector<std::string> urls;
  auto recorder = std::make_shared<FunctionHttpClient>([&](const HttpRequest& r, const BodySink*) -> Result<HttpResponse> {
    urls.push_back(r.Url());
    HttpResponse resp;
    resp.status = 200;
    resp.body = R"({"AccessKeyId":"A1234567890","SecretAccessKey":"s","Token":"t","Expiration":"2099-01-01T00:00:00Z"})";
    return resp;
  });
  ContainerCredentialsProvider rel(MapEnvironment({{"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/v2/credentials/x"}}),
                                   recorder);
  ASSERT_TRUE(rel.Get().ok());
  EXPECT_EQ(urls.at(0), "http://169.254.170.2/v2/credentials/x");
}

TEST(ImdsTest, TokenThenRoleThenCredentials) {
  TestHttpServer server([](const TestRequest& req) {
    TestResponse r;
    if (req.method == "PUT" && req.path == "/latest/api/token") {
      if (req.Header("x-aws-ec2-metadata-token-ttl-seconds").empty()) r.status = 400;
      r.body = "imds-session-token";
      return r;
    }
    if (req.Header("x-aws-ec2-metadata-token") != "imds-session-token") {
      r.status = 401;
      return r;
    }
    if (req.path == "/latest/meta-data/iam/security-credentials/") {
      r.body = "collector-role\n";
    } else if (req.path == "/latest/meta-data/iam/security-credentials/collector-role") {
      r.body = R"({"Code":"Success","Type":"AWS-HMAC","AccessKeyId":"ASIAIMDS00000000","SecretAccessKey":"imdssecret","Token":"imdstoken","Expiration":"2099-01-01T00:00:00Z"})";
    } else {
      r.status = 404;
    }
    return r;
  });
  ImdsCredentialsProvider p(MapEnvironment({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", server.url()}}), LoopbackHttp());
  auto c = p.Get();
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->access_key_id, "ASIAIMDS00000000");
  EXPECT_EQ(c->session_token, "imdstoken");
  auto reqs = server.requests();
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_EQ(reqs[0].method, "PUT");
  EXPECT_EQ(ImdsCredentialsProvider(MapEnvironment({{"AWS_EC2_METADATA_DISABLED", "true"}}), LoopbackHttp())
                .Get()
                .status()
                .code(),
            StatusCode::kNotFound);
  // Nothing listening: NotFound, so the chain moves on.
  ImdsCredentialsProvider absent(MapEnvironment({{"AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1"}}),
                                 LoopbackHttp());
  EXPECT_EQ(absent.Get().status().code(), StatusCode::kNotFound);
}

struct SequenceProvider : CredentialsProvider {
  ManualClock* clock;
  std::atomic<int> calls{0};
  bool fail = false;
  Result<Credentials> Get() override {
    if (fail) return Unavailable("sts down");
    int n = ++calls;
    return Credentials{"ASIA" + std::to_string(n) + "0000000000", "s", "t", clock->NowMicros() + 3600'000'000LL, "seq"};
  }
  std::string Name() const override { return "seq"; }
};

TEST(CachingTest, RefreshesBeforeExpiryAndKeepsValidOnesOnFailure) {
  ManualClock clock(1'000'000'000'000'000);
  auto inner = std::make_shared<SequenceProvider>();
  inner->clock = &clock;
  CachingCredentialsProvider cache(inner, &clock, 5 * 60 * 1'000'000LL);
  EXPECT_EQ(cache.Get()->access_key_id, "ASIA10000000000");
  clock.Advance(50 * 60 * 1'000'000LL);  // 10 minutes left: still fine
  EXPECT_EQ(cache.Get()->access_key_id, "ASIA10000000000");
  clock.Advance(6 * 60 * 1'000'000LL);  // 4 minutes left: refresh
  EXPECT_EQ(cache.Get()->access_key_id, "ASIA20000000000");
  clock.Advance(56 * 60 * 1'000'000LL);
  inner->fail = true;  // refresh fails, but the current ones are valid for 4 more minutes
  auto kept = cache.Get();
  ASSERT_TRUE(kept.ok());
  EXPECT_EQ(kept->access_key_id, "ASIA20000000000");
  clock.Advance(5 * 60 * 1'000'000LL);  // expired and STS still down
  EXPECT_EQ(cache.Get().status().code(), StatusCode::kUnavailable);
  // Concurrent callers share one refresh.
  inner->fail = false;
  cache.Invalidate();
  int before = cache.fetch_count();
  std::vector<std::thread> threads;
  for (int i = 0; i < 8; ++i) threads.emplace_back([&] { EXPECT_TRUE(cache.Get().ok()); });
  for (auto& t : threads) t.join();
  EXPECT_EQ(cache.fetch_count() - before, 1);
}

TEST(ChainTest, OrderAndReasons) {
  auto env = MapEnvironment({{"AWS_ACCESS_KEY_ID", "AKIAENV000000000"}, {"AWS_SECRET_ACCESS_KEY", "e"},
                             {"AWS_EC2_METADATA_DISABLED", "true"}, {"HOME", "/nonexistent"}});
  CredentialChainOptions o;
  o.env = env;
  o.http = LoopbackHttp();
  auto chain = NewDefaultCredentialChain(o);
  EXPECT_EQ(chain->Get()->provider, "environment");
  o.static_credentials = Credentials{"AKIACONFIG000000", "c", "", 0, ""};
  EXPECT_EQ(NewDefaultCredentialChain(o)->Get()->provider, "config");
  CredentialChainOptions empty;
  empty.env = MapEnvironment({{"AWS_EC2_METADATA_DISABLED", "true"}, {"HOME", "/nonexistent"}});
  empty.http = LoopbackHttp();
  auto none = NewDefaultCredentialChain(empty)->Get();
  ASSERT_FALSE(none.ok());
  EXPECT_EQ(none.status().code(), StatusCode::kNotFound);
  for (const char* name : {"environment", "web-identity", "profile default", "container", "imds"}) {
    EXPECT_NE(none.status().message().find(name), std::string::npos) << none.status().message();
  }
}

TEST(ConfigTest, BuildsClientFromKeys) {
  Config cfg;
  ASSERT_TRUE(cfg.LoadTomlString(
                     "[aws]\nregion = \"us-west-2\"\nkey_id = \"AKIACFG000000000\"\nsecret_key = \"cfgsecret\"\n"
                     "endpoint_url_sqs = \"http://127.0.0.1:4566\"\nmax_attempts = 3\n",
                     "test.toml")
                  .ok());
  AwsClientSetup setup;
  setup.env = MapEnvironment({{"AWS_ENDPOINT_URL_S3", "http://127.0.0.1:9000"}});
  auto client = NewAwsClientFromConfig(cfg, setup);
  ASSERT_TRUE(client.ok()) << client.status().ToString();
  EXPECT_EQ((*client)->region(), "us-west-2");
  EXPECT_EQ((*client)->EndpointFor("sqs")->host, "127.0.0.1:4566");
  EXPECT_EQ((*client)->EndpointFor("s3")->host, "127.0.0.1:9000");
  EXPECT_EQ((*client)->EndpointFor("sns")->host, "sns.us-west-2.amazonaws.com");
  EXPECT_EQ((*client)->credentials()->Get()->access_key_id, "AKIACFG000000000");
  EXPECT_EQ((*client)->options().retry.max_attempts, 3);
  Config half;
  ASSERT_TRUE(half.LoadTomlString("[aws]\nkey_id = \"AKIA\"\n", "half.toml").ok());
  EXPECT_EQ(NewAwsClientFromConfig(half, setup).status().code(), StatusCode::kInvalidArgument);
}

}  // namespace
}  // namespace cairn::aws
