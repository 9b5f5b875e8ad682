#pragma once
// The collector configuration `cairn provision apply` writes for what it provisioned, in both
// forms `cairn collect` reads (src/collect/conf.h, docs/collect.md):
//
//   OUT/cairn.toml   [aws] region/endpoints, one [[collect.input]] table
//   OUT/inputs.conf  one Splunk stanza [aws_cloudtrail://<stack>] with the add-on's keys
//
// Both name the queue, its region, the index (aws-cloudtrail), the sourcetype, remove_files_when_done,
// and the reader's credentials: the role ARN to assume (aws_iam_role), or the user's access key
// (key_id / secret_key). A file holding a secret is created with mode 0600 (written to a
// temporary file with that mode, fsynced, renamed), and the secret is never printed or logged.

#include <map>
#include <string>

#include "common/status.h"
#include "provision/model.h"

namespace cairn::provision {

struct CollectorConfigInput {
  std::string key_id;      // user reader: the access key (both or neither)
  std::string secret_key;
  // aws.endpoint_url / aws.endpoint_url_<service> that provisioning used (emulators): carried
  // over so the collector talks to the same place.
  std::map<std::string, std::string> aws_settings;
  int interval_s = 30;
  std::string index = "aws-cloudtrail";
  std::string sourcetype = "aws:cloudtrail";
};

std::string RenderCairnToml(const DesiredState& d, const CollectorConfigInput& in);
std::string RenderInputsConf(const DesiredState& d, const CollectorConfigInput& in);

// Writes both files into `out_dir` (created when missing).
Status WriteCollectorConfig(const std::string& out_dir, const DesiredState& d, const CollectorConfigInput& in);

// The key_id and secret_key of the stanza for `stack` in OUT/inputs.conf, when a previous apply
// wrote one: the existing key is kept as long as IAM still has it. Missing file: both empty.
struct ExistingKey {
  std::string key_id;
  std::string secret_key;
};
Result<ExistingKey> ReadExistingKey(const std::string& out_dir, const std::string& stack);

}  // namespace cairn::provision
