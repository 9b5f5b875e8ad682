#include "serve/input_admin.h"

#include <re2/re2.h>
#include <sys/stat.h>

#include <algorithm>
#include <set>

#include "common/fs.h"
#include "common/splunk_conf.h"

namespace cairn::serve {
namespace {

constexpr std::string_view kStanzaPrefix = "aws_sqs_based_s3://";

const std::set<std::string>& Keys() {
  static const auto* keys = new std::set<std::string>{"sqs_queue_url",
                                                      "sqs_queue_region",
                                                      "index",
                                                      "sourcetype",
                                                      "interval",
                                                      "disabled",
                                                      "aws_account",
                                                      "aws_iam_role",
                                                      "key_id",
                                                      "secret_key",
                                                      "exclude_describe_events",
                                                      "blacklist",
                                                      "excluded_events_index",
                                                      "remove_files_when_done",
                                                      "sqs_batch_size"};
  return *keys;
}

bool ValidInputName(const std::string& name) {
  static const RE2 kName("[A-Za-z0-9_.-]{1,64}");
  return RE2::FullMatch(name, kName);
}

// A queue name (SQS: 1-80 of [A-Za-z0-9_-], ".fifo" allowed at the end) or a queue URL:
// http(s)://HOST[:PORT]/ACCOUNT/NAME (AWS's https://sqs.REGION.amazonaws.com/123456789012/NAME,
// or an endpoint's such as fauxqs on 127.0.0.1).
Status CheckQueue(const std::string& q) {
  static const RE2 kName("[A-Za-z0-9_-]{1,80}(\\.fifo)?");
  static const RE2 kUrl(
      "https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?/[A-Za-z0-9_-]{1,64}/[A-Za-z0-9_-]{1,80}(\\.fifo)?");
  if (q.rfind("http", 0) == 0) {
    if (!RE2::FullMatch(q, kUrl)) {
      return InvalidArgument(
          "sqs_queue_url: \"{}\" is not a queue URL such as "
          "https://sqs.us-east-1.amazonaws.com/123456789012/cloudtrail-queue",
          q);
    }
    return Status::Ok();
  }
  if (!RE2::FullMatch(q, kName)) {
    return InvalidArgument(
        "sqs_queue_url: \"{}\" is neither a queue URL "
        "(https://sqs.REGION.amazonaws.com/ACCOUNT/NAME) "
        "nor a queue name ([A-Za-z0-9_-], 1-80 characters)",
        q);
  }
  return Status::Ok();
}

std::string Format(const std::vector<ManagedInput>& inputs) {
  std::string out =
      "# Collector inputs managed by `cairn serve` (REST /services/data/inputs/aws_sqs_based_s3,\n"
      "# web UI Inputs page). Rewritten on every change; inputs of cairn.toml or --config win\n"
      "# over a stanza of the same name.\n";
  for (const auto& in : inputs) {
    out += "\n[";
    out += kStanzaPrefix;
    out += in.name + "]\n";
    for (const auto& [k, v] : in.keys) out += k + " = " + v + "\n";
  }
  return out;
}

Status CheckValue(const std::string& key, const std::string& value) {
  for (char c : value) {
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
      return InvalidArgument("{}: a control character (such as a line break) is not allowed", key);
  }
  if (!value.empty() && (value.back() == '\\' || value.front() == ' ' || value.back() == ' '))
    return InvalidArgument("{}: a value may not end in a backslash or start or end with a blank",
                           key);
  return Status::Ok();
}

// Applies `keys` to `in` (unknown keys and bad values refused), then checks the whole stanza.
Status Apply(ManagedInput* in, const std::map<std::string, std::string>& keys,
             const std::string& path) {
  for (const auto& [k, v] : keys) {
    if (!IsManagedInputKey(k))
      return InvalidArgument(
          "unknown input setting \"{}\" (one of sqs_queue_url, "
          "sqs_queue_region, index, sourcetype, interval, disabled, ...)",
          k);
    RETURN_IF_ERROR(CheckValue(k, v));
    if (k == "sqs_queue_url" && v.empty())
      return InvalidArgument("sqs_queue_url: an input needs its queue");
    in->Set(k, v);
  }
  return ManagedInputConfig(*in, path).status();
}

}  // namespace

const std::string* ManagedInput::Get(const std::string& key) const {
  for (const auto& [k, v] : keys) {
    if (k == key) return &v;
  }
  return nullptr;
}

void ManagedInput::Set(const std::string& key, const std::string& value) {
  auto it = std::find_if(keys.begin(), keys.end(), [&](const auto& kv) { return kv.first == key; });
  if (value.empty()) {
    if (it != keys.end()) keys.erase(it);
  } else if (it != keys.end()) {
    it->second = value;
  } else {
    keys.emplace_back(key, value);
  }
}

bool IsManagedInputKey(const std::string& key) { return Keys().count(key) > 0; }

Result<std::vector<ManagedInput>> LoadManagedInputs(const std::string& path) {
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(FileSystem::Default(), path, 16u << 20));
  ASSIGN_OR_RETURN(ConfFile conf, ParseConf(text, path));
  std::vector<ManagedInput> out;
  for (const auto& s : conf.stanzas) {
    if (s.name == "default" && s.entries.empty()) continue;
    if (s.name.rfind(kStanzaPrefix, 0) != 0) {
      return InvalidArgument("{}:{}: stanza [{}] is not an aws_sqs_based_s3:// input", path, s.line,
                             s.name);
    }
    ManagedInput in;
    in.name = s.name.substr(kStanzaPrefix.size());
    for (const auto& e : s.entries) in.Set(e.key, e.value);
    out.push_back(std::move(in));
  }
  return out;
}

Status EditManagedInputs(const std::string& path,
                         const std::function<Status(std::vector<ManagedInput>*)>& change) {
  const size_t slash = path.find_last_of('/');
  if (slash != std::string::npos && slash > 0) ::mkdir(path.substr(0, slash).c_str(), 0700);
  // One change at a time, in this process and between processes: flock(2) on a file beside it.
  ASSIGN_OR_RETURN(auto lock, FileSystem::Default()->LockFile(path + ".lock", /*wait=*/true));
  std::vector<ManagedInput> inputs;
  auto loaded = LoadManagedInputs(path);
  if (loaded.ok()) {
    inputs = std::move(*loaded);
  } else if (loaded.status().code() != StatusCode::kNotFound) {
    return loaded.status();
  }
  RETURN_IF_ERROR(change(&inputs));
  std::sort(inputs.begin(), inputs.end(),
            [](const ManagedInput& a, const ManagedInput& b) { return a.name < b.name; });
  // The file may hold static keys: 0600 like the rest of the data folder (WriteFileAtomic).
  return WriteFileAtomic(FileSystem::Default(), path, Format(inputs));
}

Result<collect::InputConfig> ManagedInputConfig(const ManagedInput& input,
                                                const std::string& path) {
  if (!ValidInputName(input.name))
    return InvalidArgument("input name \"{}\" is not [A-Za-z0-9_.-]{{1,64}}", input.name);
  const std::string* queue = input.Get("sqs_queue_url");
  if (queue == nullptr) return InvalidArgument("sqs_queue_url: input {} has no queue", input.name);
  RETURN_IF_ERROR(CheckQueue(*queue));
  for (const auto& [k, v] : input.keys) {
    if (!IsManagedInputKey(k)) return InvalidArgument("unknown input setting \"{}\"", k);
  }
  // The collector's own reader decides the rest (region, index, booleans, regexes, numbers).
  ConfFile conf;
  conf.path = path;
  ConfStanza s;
  s.name = std::string(kStanzaPrefix) + input.name;
  s.line = 1;
  int line = 2;
  for (const auto& [k, v] : input.keys) s.entries.push_back({k, v, line++});
  conf.stanzas.push_back(std::move(s));
  collect::CollectConfig out;
  Status parsed = collect::InputsFromConf(conf, &out);
  if (!parsed.ok()) {
    // "<path>:<line>: key index: ..." -> "index: ...": the key is what the admin gave.
    std::string m = parsed.message();
    const size_t at = m.find(": key ");
    if (at != std::string::npos) m = m.substr(at + 6);
    return InvalidArgument("input {}: {}", input.name, m);
  }
  if (out.inputs.size() != 1) return InvalidArgument("input {}: not an input", input.name);
  return std::move(out.inputs[0]);
}

InputAdmin::InputAdmin(std::string path, std::vector<collect::InputConfig> configured)
    : path_(std::move(path)), configured_(std::move(configured)) {}

const collect::InputConfig* InputAdmin::Configured(const std::string& name) const {
  for (const auto& c : configured_) {
    if (c.name == name) return &c;
  }
  return nullptr;
}

Result<InputListing> InputAdmin::List() const {
  InputListing out;
  for (const auto& c : configured_) {
    InputListing::Item item;
    item.config = c;
    item.has_static_keys = !c.key_id.empty();
    item.config.secret_key.clear();
    out.inputs.push_back(std::move(item));
  }
  auto loaded = LoadManagedInputs(path_);
  if (!loaded.ok() && loaded.status().code() != StatusCode::kNotFound) return loaded.status();
  if (!loaded.ok()) return out;
  for (const auto& m : *loaded) {
    InputListing::Item item;
    item.managed = true;
    item.shadowed = Configured(m.name) != nullptr;
    auto config = ManagedInputConfig(m, path_);
    if (config.ok()) {
      item.config = std::move(*config);
    } else {
      item.error = config.status().message();
      item.config.name = m.name;
      item.config.type = "aws_sqs_based_s3";
      if (const std::string* q = m.Get("sqs_queue_url")) item.config.sqs_queue = *q;
    }
    item.has_static_keys = m.Get("key_id") != nullptr;
    item.config.secret_key.clear();
    out.inputs.push_back(std::move(item));
  }
  return out;
}

Status InputAdmin::Create(const std::string& name, const std::map<std::string, std::string>& keys) {
  if (!ValidInputName(name))
    return InvalidArgument("input name \"{}\" is not [A-Za-z0-9_.-]{{1,64}}", name);
  if (const collect::InputConfig* c = Configured(name)) {
    return AlreadyExists("input {} is configured in {} (that file wins; choose another name)", name,
                         c->origin);
  }
  if (keys.count("sqs_queue_url") == 0)
    return InvalidArgument("sqs_queue_url: an input needs its queue");
  ManagedInput in;
  in.name = name;
  RETURN_IF_ERROR(Apply(&in, keys, path_));
  return EditManagedInputs(path_, [&](std::vector<ManagedInput>* inputs) -> Status {
    for (const auto& m : *inputs) {
      if (m.name == name) return AlreadyExists("input {} exists", name);
    }
    inputs->push_back(in);
    return Status::Ok();
  });
}

Status InputAdmin::Update(const std::string& name, const std::map<std::string, std::string>& keys) {
  if (const collect::InputConfig* c = Configured(name)) {
    return InvalidArgument("input {} is configured in {}: change it there", name, c->origin);
  }
  return EditManagedInputs(path_, [&](std::vector<ManagedInput>* inputs) -> Status {
    for (auto& m : *inputs) {
      if (m.name != name) continue;
      ManagedInput changed = m;
      RETURN_IF_ERROR(Apply(&changed, keys, path_));
      m = std::move(changed);
      return Status::Ok();
    }
    return NotFound("no input {}", name);
  });
}

Status InputAdmin::Remove(const std::string& name) {
  if (const collect::InputConfig* c = Configured(name)) {
    return InvalidArgument("input {} is configured in {}: remove it there", name, c->origin);
  }
  return EditManagedInputs(path_, [&](std::vector<ManagedInput>* inputs) -> Status {
    auto it = std::find_if(inputs->begin(), inputs->end(),
                           [&](const ManagedInput& m) { return m.name == name; });
    if (it == inputs->end()) return NotFound("no input {}", name);
    inputs->erase(it);
    return Status::Ok();
  });
}

}  // namespace cairn::serve
