#pragma once
// SNS (Query protocol, version 2010-03-31): the calls tests and provisioning need. The topic's
// region is taken from its ARN, so one client serves topics in every region.

#include <map>
#include <string>

#include "aws/client.h"

namespace cairn::aws {

// The region field of an ARN ("arn:aws:sns:us-west-1:123:t" -> "us-west-1"), "" if malformed.
std::string RegionFromArn(std::string_view arn);

class SnsClient {
 public:
  explicit SnsClient(AwsClient* client) : client_(client) {}

  // Returns the topic ARN (idempotent on AWS for the same name and attributes).
  Result<std::string> CreateTopic(const std::string& name, const std::string& region = "",
                                  const std::map<std::string, std::string>& attributes = {});
  // Returns the subscription ARN. For "sqs", `endpoint` is the queue ARN.
  Result<std::string> Subscribe(const std::string& topic_arn, const std::string& protocol,
                                const std::string& endpoint,
                                const std::map<std::string, std::string>& attributes = {});
  // Returns the message id.
  Result<std::string> Publish(const std::string& topic_arn, const std::string& message,
                              const std::string& subject = "");
  Status DeleteTopic(const std::string& topic_arn);

 private:
  AwsClient* client_;
};

// Adds "Attributes.entry.N.key/value" parameters as the Query protocol spells a map.
void AppendQueryMap(std::vector<std::pair<std::string, std::string>>* params, const std::string& prefix,
                    const std::map<std::string, std::string>& values);

}  // namespace cairn::aws
