#pragma once
// Collector inputs managed from a running server (admins, through the REST API and the web UI):
// SQS-based-S3 inputs kept in <data>/serve/inputs.conf, in Splunk's inputs.conf form
// ("[aws_sqs_based_s3://NAME]" stanzas), beside the inputs of cairn.toml / the inputs.conf given
// with --config (the "configured" inputs, which this module never changes).
//
// Precedence: a configured input wins over a managed one of the same name. Creating such a
// managed input is refused (AlreadyExists); one that appears in the file anyway (written by hand,
// or the configuration gained the name later) is listed as shadowed and does not run.
//
// Each change is a read-modify-write of the file under an flock on <file>.lock (one change at a
// time, also between processes), written atomically; the running server reads the file again
// (ManagedCollectors, input_runner.h) and starts, restarts or stops collectors to match.
//
// Validation (InvalidArgument, naming the key): the input's name, the queue (a queue name, or an
// SQS URL https://sqs.REGION.amazonaws.com/ACCOUNT/NAME or an endpoint's
// http(s)://HOST/ACCOUNT/NAME), the region, the index (the store's rules), and every other key
// through the collector's own inputs.conf reader (collect/conf.h). Secrets (secret_key) never leave
// this module: listings say only whether static keys are set.
//
// Thread safety: an InputAdmin holds no state but its path; calls from any thread.

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "collect/conf.h"
#include "common/status.h"

namespace cairn::serve {

// One stanza of the managed file: its name and its keys as written (key order kept).
struct ManagedInput {
  std::string name;
  std::vector<std::pair<std::string, std::string>> keys;
  const std::string* Get(const std::string& key) const;
  void Set(const std::string& key, const std::string& value);  // "" removes the key
};

// The keys an admin may set (Splunk's add-on names): sqs_queue_url, sqs_queue_region, index,
// sourcetype, interval, disabled, aws_account, aws_iam_role, key_id, secret_key,
// exclude_describe_events, blacklist, excluded_events_index, remove_files_when_done,
// sqs_batch_size.
bool IsManagedInputKey(const std::string& key);

// The file's stanzas (NotFound when there is no file). Errors name the file and line.
Result<std::vector<ManagedInput>> LoadManagedInputs(const std::string& path);
// One read-modify-write of the file, as described above. `change` may fail (nothing written).
Status EditManagedInputs(const std::string& path,
                         const std::function<Status(std::vector<ManagedInput>*)>& change);
// What the collector makes of a stanza (origin "<path>:<line>"); InvalidArgument naming the key.
Result<collect::InputConfig> ManagedInputConfig(const ManagedInput& input, const std::string& path);

struct InputListing {
  struct Item {
    collect::InputConfig config;  // secret_key cleared
    bool managed = false;         // from the managed file (else configured: read-only)
    bool shadowed = false;        // managed, but a configured input has its name
    bool has_static_keys = false;
    std::string error;  // a managed stanza the collector would refuse (it does not run)
  };
  std::vector<Item> inputs;  // configured first (as configured), then managed by name
};

class InputAdmin {
 public:
  // `configured`: the inputs of the server's configuration (precedence above).
  InputAdmin(std::string path, std::vector<collect::InputConfig> configured);
  const std::string& path() const { return path_; }

  Result<InputListing> List() const;
  // AlreadyExists when the name is taken (by a managed or a configured input); InvalidArgument
  // for a bad name, an unknown key, a missing queue or a bad value.
  Status Create(const std::string& name, const std::map<std::string, std::string>& keys);
  // Sets the keys given ("" removes an optional key). NotFound for an unknown managed input;
  // InvalidArgument for a configured one (change it in its file) or a bad value.
  Status Update(const std::string& name, const std::map<std::string, std::string>& keys);
  // NotFound for an unknown managed input; InvalidArgument for a configured one.
  Status Remove(const std::string& name);

 private:
  const collect::InputConfig* Configured(const std::string& name) const;
  std::string path_;
  std::vector<collect::InputConfig> configured_;
};

}  // namespace cairn::serve
