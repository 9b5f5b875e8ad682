#include "aws/client.h"

#include <pugixml.hpp>

#include <algorithm>
#include <cmath>
#include <cstring>

#include "aws/sigv4.h"
#include "common/log.h"

namespace cairn::aws {

int64_t RetryPolicy::DelayMillis(int retry, bool throttled, double unit) const {
  int64_t base = throttled ? throttle_base_delay_ms : base_delay_ms;
  int shift = std::clamp(retry - 1, 0, 30);
  double ceiling = std::min<double>(static_cast<double>(max_delay_ms), static_cast<double>(base) * std::ldexp(1.0, shift));
  return static_cast<int64_t>(ceiling * std::clamp(unit, 0.0, 1.0));
}

AwsClient::AwsClient(std::shared_ptr<HttpClient> http, std::shared_ptr<CredentialsProvider> credentials,
                     AwsClientOptions options)
    : http_(std::move(http)),
      credentials_(std::move(credentials)),
      options_(std::move(options)),
      clock_(options_.clock ? options_.clock : Clock::System()),
      rng_(options_.jitter_seed ? options_.jitter_seed : std::random_device{}()) {
  if (options_.region.empty()) options_.region = "us-east-1";
  options_.endpoints.region = options_.region;
}

Result<Endpoint> AwsClient::EndpointFor(std::string_view service, std::string_view region) const {
  return ResolveEndpoint(service, region.empty() ? std::string_view(options_.region) : region, options_.endpoints);
}

double AwsClient::NextUnit() {
  std::lock_guard<std::mutex> lock(rng_mu_);
  return std::uniform_real_distribution<double>(0.0, 1.0)(rng_);
}

int64_t AwsClient::retries() const {
  std::lock_guard<std::mutex> lock(stats_mu_);
  return retries_;
}

Result<HttpResponse> AwsClient::Send(const Operation& op, HttpRequest request, const BodySink* sink,
                                     HttpResponse* error_response) {
  ASSIGN_OR_RETURN(Endpoint endpoint, EndpointFor(op.service, op.region));
  if (request.host.empty()) {
    request.scheme = endpoint.scheme;
    request.host = endpoint.host;
    request.path = endpoint.base_path + (request.path.empty() ? "/" : request.path);
  }
  std::string signing_region = endpoint.signing_region;
  const RetryPolicy& policy = options_.retry;
  int max_attempts = std::max(1, op.retry ? policy.max_attempts : 1);
  bool refreshed = false;
  uint64_t delivered = 0;
  BodySink counting;
  if (sink != nullptr) {
    counting.on_headers = sink->on_headers;
    counting.on_data = [&](std::string_view chunk) {
      delivered += chunk.size();
      return sink->on_data ? sink->on_data(chunk) : Status::Ok();
    };
  }
  if (request.idle_timeout_ms == 0) request.idle_timeout_ms = op.idle_timeout_ms;
  Status last;
  for (int attempt = 1;; ++attempt) {
    Credentials creds;
    HttpRequest r = request;
    if (credentials_ && !op.unsigned_request) {
      Result<Credentials> c = credentials_->Get();
      if (!c.ok()) return c.status().WithContext(op.api + " " + op.resource + ": credentials");
      creds = std::move(c).value();
      SigningParams params = ParamsFor(op.service, signing_region, clock_->NowMicros());
      if (op.payload_hash) params.payload_hash = op.payload_hash;
      Result<SignatureParts> signed_parts = SignRequest(creds, params, &r);
      if (!signed_parts.ok()) return signed_parts.status();
    }
    int64_t start = clock_->NowMicros();
    Result<HttpResponse> resp = http_->Execute(r, sink ? &counting : nullptr);
    bool retryable = false;
    bool throttled = false;
    std::string why;
    if (!resp.ok()) {
      last = Status(resp.status().code(),
                    RedactSecrets(fmt::format("{} {}: {}", op.api, op.resource, resp.status().message()), &creds));
      retryable = resp.status().retryable() && delivered == 0;
      why = resp.status().message();
    } else {
      log::Debug("{} {} -> HTTP {} in {} ms", op.api, op.resource, resp->status,
                 (clock_->NowMicros() - start) / 1000);
      if (resp->ok()) return resp;
      AwsError err = ParseAwsError(*resp);
      if (error_response != nullptr) *error_response = *resp;
      last = ErrorStatus(err, op.api, op.resource, &creds);
      if (IsExpiredCredentialsCode(err.code) && credentials_ && !refreshed) {
        refreshed = true;
        credentials_->Invalidate();
        log::Warn("{} {}: credentials expired ({}), refreshing and retrying", op.api, op.resource, err.code);
        --attempt;
        continue;
      }
      retryable = IsRetryableError(err) && delivered == 0;
      throttled = IsThrottlingCode(err.code) || err.http_status == 429;
      why = err.code;
    }
    if (!retryable || attempt >= max_attempts) {
      if (retryable && attempt > 1) {
        return Status(StatusCode::kUnavailable,
                      fmt::format("{} (gave up after {} attempts)", last.message(), attempt));
      }
      return last;
    }
    int64_t delay = policy.DelayMillis(attempt, throttled, NextUnit());
    log::Warn("{} {}: {}; retry {}/{} in {} ms", op.api, op.resource, RedactSecrets(why, &creds), attempt,
              max_attempts - 1, delay);
    {
      std::lock_guard<std::mutex> lock(stats_mu_);
      ++retries_;
    }
    clock_->SleepMicros(delay * 1000);
  }
}

Result<std::unique_ptr<pugi::xml_document>> AwsClient::Query(
    const Operation& op, std::string_view action, std::string_view version,
    const std::vector<std::pair<std::string, std::string>>& params) {
  std::vector<std::pair<std::string, std::string>> form;
  form.reserve(params.size() + 2);
  form.emplace_back("Action", std::string(action));
  form.emplace_back("Version", std::string(version));
  form.insert(form.end(), params.begin(), params.end());
  HttpRequest r;
  r.method = "POST";
  r.path = "/";
  r.headers.emplace_back("Content-Type", "application/x-www-form-urlencoded; charset=utf-8");
  r.body = FormEncode(form);
  ASSIGN_OR_RETURN(HttpResponse resp, Send(op, std::move(r)));
  auto doc = std::make_unique<pugi::xml_document>();
  pugi::xml_parse_result parsed = doc->load_buffer(resp.body.data(), resp.body.size());
  if (!parsed) {
    return Corruption("{} {}: response is not XML ({} at byte {})", op.api, op.resource, parsed.description(),
                      parsed.offset);
  }
  return doc;
}

Result<std::string> AwsClient::Json(const Operation& op, std::string_view target_prefix, std::string_view action,
                                    std::string_view json_version, std::string body) {
  HttpRequest r;
  r.method = "POST";
  r.path = "/";
  r.headers.emplace_back("X-Amz-Target", std::string(target_prefix) + "." + std::string(action));
  r.headers.emplace_back("Content-Type", "application/x-amz-json-" + std::string(json_version));
  r.body = body.empty() ? "{}" : std::move(body);
  ASSIGN_OR_RETURN(HttpResponse resp, Send(op, std::move(r)));
  return std::move(resp.body);
}

std::string XmlText(const pugi::xml_document& doc, const char* name) {
  pugi::xml_node n = doc.find_node([&](pugi::xml_node node) { return std::strcmp(node.name(), name) == 0; });
  return n ? std::string(n.child_value()) : std::string();
}

}  // namespace cairn::aws
