#include "aws/endpoints.h"

#include <algorithm>
#include <cctype>

#include "aws/http.h"

namespace cairn::aws {

namespace {

std::string Upper(std::string_view s) {
  std::string out(s);
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return c == '-' || c == ' ' ? '_' : static_cast<char>(std::toupper(c));
  });
  return out;
}

Result<Endpoint> FromUrl(std::string_view url, std::string origin, std::string_view region) {
  Result<ParsedUrl> parsed = ParseUrl(url);
  if (!parsed.ok()) return parsed.status().WithContext(origin);
  Endpoint e;
  e.scheme = parsed->scheme;
  e.host = parsed->host;
  e.base_path = parsed->path == "/" ? "" : parsed->path;
  while (!e.base_path.empty() && e.base_path.back() == '/') e.base_path.pop_back();
  e.signing_region = std::string(region);
  e.custom = true;
  e.origin = std::move(origin);
  return e;
}

}  // namespace

std::string DnsSuffix(std::string_view region) {
  return region.starts_with("cn-") ? "amazonaws.com.cn" : "amazonaws.com";
}

bool VirtualHostableBucket(std::string_view b) {
  if (b.size() < 3 || b.size() > 63) return false;
  for (char c : b) {
    if (!(std::islower(static_cast<unsigned char>(c)) || std::isdigit(static_cast<unsigned char>(c)) || c == '-')) {
      return false;
    }
  }
  return b.front() != '-' && b.back() != '-';
}

Result<Endpoint> ResolveEndpoint(std::string_view service, std::string_view region_in,
                                 const EndpointConfig& config) {
  std::string region(region_in.empty() ? std::string_view(config.region) : region_in);
  if (region.empty()) region = "us-east-1";
  std::string svc(service);
  if (auto it = config.service_urls.find(svc); it != config.service_urls.end() && !it->second.empty()) {
    return FromUrl(it->second, "config aws.endpoint_url_" + svc, region);
  }
  if (!config.endpoint_url.empty()) return FromUrl(config.endpoint_url, "config aws.endpoint_url", region);
  if (config.env) {
    auto ignore = config.env("AWS_IGNORE_CONFIGURED_ENDPOINT_URLS");
    bool ignored = ignore && (*ignore == "true" || *ignore == "TRUE" || *ignore == "1");
    if (!ignored) {
      std::string var = "AWS_ENDPOINT_URL_" + Upper(svc);
      if (auto v = config.env(var); v && !v->empty()) return FromUrl(*v, "env " + var, region);
      if (auto v = config.env("AWS_ENDPOINT_URL"); v && !v->empty()) {
        return FromUrl(*v, "env AWS_ENDPOINT_URL", region);
      }
    }
  }
  Endpoint e;
  e.scheme = "https";
  e.signing_region = region;
  e.origin = "default";
  std::string suffix = DnsSuffix(region);
  if (svc == "iam") {
    if (region.starts_with("cn-")) {
      e.host = "iam.cn-north-1.amazonaws.com.cn";
      e.signing_region = "cn-north-1";
    } else if (region.starts_with("us-gov-")) {
      e.host = "iam.us-gov.amazonaws.com";
      e.signing_region = "us-gov-west-1";
    } else {
      e.host = "iam.amazonaws.com";
      e.signing_region = "us-east-1";
    }
  } else {
    // s3, sqs, sns, sts, cloudtrail and the rest: regional endpoints.
    e.host = svc + "." + region + "." + suffix;
  }
  return e;
}

}  // namespace cairn::aws
