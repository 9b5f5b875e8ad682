#include "aws/sns.h"

#include <pugixml.hpp>

namespace cairn::aws {

namespace {
constexpr std::string_view kVersion = "2010-03-31";
}

std::string RegionFromArn(std::string_view arn) {
  // arn:partition:service:region:account:resource
  size_t pos = 0;
  for (int i = 0; i < 3; ++i) {
    pos = arn.find(':', pos);
    if (pos == std::string_view::npos) return {};
    ++pos;
  }
  size_t end = arn.find(':', pos);
  if (end == std::string_view::npos) return {};
  return std::string(arn.substr(pos, end - pos));
}

void AppendQueryMap(std::vector<std::pair<std::string, std::string>>* params, const std::string& prefix,
                    const std::map<std::string, std::string>& values) {
  int i = 1;
  for (const auto& [k, v] : values) {
    params->emplace_back(prefix + ".entry." + std::to_string(i) + ".key", k);
    params->emplace_back(prefix + ".entry." + std::to_string(i) + ".value", v);
    ++i;
  }
}

Result<std::string> SnsClient::CreateTopic(const std::string& name, const std::string& region,
                                           const std::map<std::string, std::string>& attributes) {
  std::vector<std::pair<std::string, std::string>> params = {{"Name", name}};
  AppendQueryMap(&params, "Attributes", attributes);
  Operation op{.service = "sns", .api = "SNS CreateTopic", .resource = name, .region = region};
  ASSIGN_OR_RETURN(auto doc, client_->Query(op, "CreateTopic", kVersion, params));
  std::string arn = XmlText(*doc, "TopicArn");
  if (arn.empty()) return Corruption("SNS CreateTopic {}: response has no TopicArn", name);
  return arn;
}

Result<std::string> SnsClient::Subscribe(const std::string& topic_arn, const std::string& protocol,
                                         const std::string& endpoint,
                                         const std::map<std::string, std::string>& attributes) {
  std::vector<std::pair<std::string, std::string>> params = {
      {"TopicArn", topic_arn}, {"Protocol", protocol}, {"Endpoint", endpoint}, {"ReturnSubscriptionArn", "true"}};
  AppendQueryMap(&params, "Attributes", attributes);
  Operation op{.service = "sns", .api = "SNS Subscribe", .resource = topic_arn, .region = RegionFromArn(topic_arn)};
  ASSIGN_OR_RETURN(auto doc, client_->Query(op, "Subscribe", kVersion, params));
  std::string arn = XmlText(*doc, "SubscriptionArn");
  if (arn.empty()) return Corruption("SNS Subscribe {}: response has no SubscriptionArn", topic_arn);
  return arn;
}

Result<std::string> SnsClient::Publish(const std::string& topic_arn, const std::string& message,
                                       const std::string& subject) {
  std::vector<std::pair<std::string, std::string>> params = {{"TopicArn", topic_arn}, {"Message", message}};
  if (!subject.empty()) params.emplace_back("Subject", subject);
  Operation op{.service = "sns", .api = "SNS Publish", .resource = topic_arn, .region = RegionFromArn(topic_arn)};
  ASSIGN_OR_RETURN(auto doc, client_->Query(op, "Publish", kVersion, params));
  return XmlText(*doc, "MessageId");
}

Status SnsClient::DeleteTopic(const std::string& topic_arn) {
  Operation op{.service = "sns", .api = "SNS DeleteTopic", .resource = topic_arn, .region = RegionFromArn(topic_arn)};
  return client_->Query(op, "DeleteTopic", kVersion, {{"TopicArn", topic_arn}}).status();
}

}  // namespace cairn::aws
