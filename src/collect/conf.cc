#include "collect/conf.h"

#include <re2/re2.h>
#include <toml++/toml.h>

#include <algorithm>
#include <cctype>
#include <charconv>
#include <map>

#include "common/fs.h"
#include "common/text.h"
#include "store/store.h"

namespace cairn::collect {
namespace {

bool ValidRegion(std::string_view r) {
  static const RE2 kRegion("[a-z]{2}(-gov|-iso|-isob)?-[a-z]+-[0-9]{1,2}");
  return RE2::FullMatch(r, kRegion);
}

Result<int64_t> ParseIntervalMillis(std::string_view v) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec == std::errc() && p == v.data() + v.size() && n >= 0) return n * 1000;
  if (auto d = ParseDurationMillis(v); d && *d >= 0) return *d;
  return InvalidArgument("not a number of seconds or a duration such as 30s");
}

Result<int64_t> ParseIntIn(std::string_view v, int64_t lo, int64_t hi) {
  int64_t n = 0;
  auto [p, ec] = std::from_chars(v.data(), v.data() + v.size(), n);
  if (ec != std::errc() || p != v.data() + v.size()) return InvalidArgument("not an integer");
  if (n < lo || n > hi) return InvalidArgument("must be between {} and {}", lo, hi);
  return n;
}

// Keys cairn reads, and keys Splunk's add-on knows that cairn accepts and ignores (with why).
const std::map<std::string, std::string, std::less<>>& IgnoredKeys() {
  static const auto* keys = new std::map<std::string, std::string, std::less<>>{
      {"script_iterations", "Splunk's modular-input relaunch setting; cairn runs continuously"},
      {"start_by_shell", "Splunk process setting"},
      {"python.version", "Splunk process setting"},
      {"host", "Splunk host field"},
      {"character_set", "CloudTrail files are UTF-8"},
      {"sqs_sns_validation",
       "SNS signature validation is not implemented; trust comes from the queue policy"},
      {"polling_interval", "use interval"},
      {"using_dlq", "the queue's redrive policy is used as configured"},
      {"s3_file_decoder", ""},  // checked below
      {"private_endpoint_enabled", "use AWS_ENDPOINT_URL_SQS / AWS_ENDPOINT_URL_S3"},
      {"sqs_private_endpoint_url", "use AWS_ENDPOINT_URL_SQS"},
      {"s3_private_endpoint_url", "use AWS_ENDPOINT_URL_S3"},
      {"sts_private_endpoint_url", "use AWS_ENDPOINT_URL_STS"},
      {"use_raw_hec", "Splunk HEC setting"},
      {"parse_csv_with_header", "not a CSV input"},
      {"parse_csv_with_delimiter", "not a CSV input"},
      {"metric_index_flag", "Splunk metrics setting"},
      {"aws_s3_region", "the bucket's region is discovered"},
  };
  return *keys;
}

// Applies one key to `in`. Unknown keys append a warning. `where` is "file:line".
Status ApplyInputKey(InputConfig* in, std::string_view key, std::string_view raw_value,
                     const std::string& where, std::vector<std::string>* warnings) {
  std::string_view v = TrimSpace(raw_value);
  auto bad = [&](const std::string& why) {
    return InvalidArgument("{}: key {}: {}", where, key, why);
  };
  auto boolean = [&](bool* out) -> Status {
    if (!ParseSplunkBool(v, out))
      return bad("\"" + std::string(v) + "\" is not a boolean (0/1, true/false)");
    return Status::Ok();
  };
  if (key == "key_id") {
    in->key_id = std::string(v);
  } else if (key == "secret_key") {
    in->secret_key = std::string(v);
  } else if (key == "aws_account") {
    in->aws_account = std::string(v);
  } else if (key == "aws_iam_role") {
    if (!v.empty() && v.substr(0, 8) != "arn:aws:" && v.substr(0, 4) != "arn:") {
      return bad(
          "\"" + std::string(v) +
          "\" is not a role ARN (cairn takes the role's ARN, arn:aws:iam::<account>:role/<name>)");
    }
    in->role_arn = std::string(v);
  } else if (key == "sqs_queue" || key == "sqs_queue_url") {
    if (v.empty()) return bad("empty queue");
    in->sqs_queue = std::string(v);
  } else if (key == "sqs_queue_region") {
    if (!ValidRegion(v))
      return bad("\"" + std::string(v) + "\" is not an AWS region such as us-west-2");
    in->sqs_queue_region = std::string(v);
  } else if (key == "interval") {
    auto ms = ParseIntervalMillis(v);
    if (!ms.ok()) return bad("\"" + std::string(v) + "\" " + ms.status().message());
    in->interval_ms = *ms;
  } else if (key == "index") {
    if (!store::Store::ValidIndexName(v)) {
      return bad("\"" + std::string(v) +
                 "\" is not a valid index name ([a-z0-9_-], 1-100 characters)");
    }
    in->index = std::string(v);
  } else if (key == "sourcetype") {
    if (v.empty()) return bad("empty sourcetype");
    in->sourcetype_as_written = std::string(v);
    in->sourcetype = NormalizeSourcetype(v);
  } else if (key == "exclude_describe_events") {
    return boolean(&in->exclude_describe_events);
  } else if (key == "blacklist") {
    if (!v.empty()) {
      RE2 re(v, RE2::Quiet);
      if (!re.ok())
        return bad("\"" + std::string(v) + "\" is not a valid regular expression: " + re.error());
    }
    in->blacklist = std::string(v);
  } else if (key == "excluded_events_index") {
    if (!v.empty() && !store::Store::ValidIndexName(v)) {
      return bad("\"" + std::string(v) +
                 "\" is not a valid index name ([a-z0-9_-], 1-100 characters)");
    }
    in->excluded_events_index = std::string(v);
  } else if (key == "remove_files_when_done") {
    return boolean(&in->remove_files_when_done);
  } else if (key == "disabled") {
    return boolean(&in->disabled);
  } else if (key == "sqs_batch_size") {
    auto n = ParseIntIn(v, 1, 10);
    if (!n.ok()) return bad("\"" + std::string(v) + "\" " + n.status().message());
    in->sqs_batch_size = static_cast<int>(*n);
  } else if (key == "s3_file_decoder") {
    if (AsciiLower(v) != "cloudtrail") {
      return bad("\"" + std::string(v) +
                 "\" is not supported (cairn collects CloudTrail files only)");
    }
  } else if (auto it = IgnoredKeys().find(key); it != IgnoredKeys().end()) {
    // Known and deliberately ignored.
  } else {
    warnings->push_back(fmt::format("{}: unknown key \"{}\" ignored", where, key));
  }
  return Status::Ok();
}

Status CheckInput(const InputConfig& in) {
  if (in.disabled) return Status::Ok();
  if (in.sqs_queue.empty()) {
    return InvalidArgument("{}: input \"{}\" has no sqs_queue", in.origin, in.name);
  }
  if (!in.key_id.empty() != !in.secret_key.empty()) {
    return InvalidArgument("{}: input \"{}\": key_id and secret_key must be given together",
                           in.origin, in.name);
  }
  return Status::Ok();
}

}  // namespace

std::string InputConfig::ExclusionPattern() const {
  return blacklist.empty() ? std::string("^(?:Describe|List|Get)") : blacklist;
}

std::string NormalizeSourcetype(std::string_view sourcetype) {
  std::string v = AsciiLower(TrimSpace(sourcetype));
  if (v == "aws-cloudtrail" || v == "aws:cloudtrail") return "aws:cloudtrail";
  return std::string(TrimSpace(sourcetype));
}

Status InputsFromConf(const ConfFile& conf, CollectConfig* out) {
  const ConfStanza* defaults = nullptr;
  std::map<std::string, const ConfStanza*> type_defaults;
  for (const auto& s : conf.stanzas) {
    if (s.name == "default") defaults = &s;
    if (s.name == "aws_cloudtrail" || s.name == "aws_sqs_based_s3") type_defaults[s.name] = &s;
  }
  for (const auto& s : conf.stanzas) {
    if (s.name == "default" || type_defaults.count(s.name) > 0) continue;
    size_t sep = s.name.find("://");
    std::string type = sep == std::string::npos ? s.name : s.name.substr(0, sep);
    if (sep == std::string::npos || (type != "aws_cloudtrail" && type != "aws_sqs_based_s3")) {
      out->warnings.push_back(
          fmt::format("{}:{}: stanza [{}] is not an aws_cloudtrail:// or "
                      "aws_sqs_based_s3:// input; skipped",
                      conf.path, s.line, s.name));
      continue;
    }
    InputConfig in;
    in.type = type;
    in.name = s.name.substr(sep + 3);
    in.origin = fmt::format("{}:{}", conf.path, s.line);
    if (type == "aws_cloudtrail") in.exclude_describe_events = true;  // Splunk's default
    in.sourcetype_as_written = type == "aws_cloudtrail" ? "aws:cloudtrail" : "aws:cloudtrail";
    std::vector<const ConfStanza*> layers;
    if (defaults != nullptr) layers.push_back(defaults);
    if (auto it = type_defaults.find(type); it != type_defaults.end()) layers.push_back(it->second);
    layers.push_back(&s);
    for (const ConfStanza* layer : layers) {
      for (const auto& e : layer->entries) {
        RETURN_IF_ERROR(ApplyInputKey(&in, e.key, e.value, fmt::format("{}:{}", conf.path, e.line),
                                      layer == &s ? &out->warnings : &out->warnings));
      }
    }
    RETURN_IF_ERROR(CheckInput(in));
    out->inputs.push_back(std::move(in));
  }
  // Warnings for [default] keys are emitted once per input above; keep them unique.
  std::sort(out->warnings.begin(), out->warnings.end());
  out->warnings.erase(std::unique(out->warnings.begin(), out->warnings.end()), out->warnings.end());
  return Status::Ok();
}

namespace {

std::string TomlScalar(const toml::node& node) {
  if (auto s = node.value_exact<std::string>()) return *s;
  if (auto b = node.value_exact<bool>()) return *b ? "1" : "0";
  if (auto i = node.value_exact<int64_t>()) return std::to_string(*i);
  if (auto d = node.value_exact<double>()) return fmt::format("{}", *d);
  return "";
}

Status ApplySetting(CollectSettings* s, std::string_view key, const std::string& v,
                    const std::string& where, std::vector<std::string>* warnings) {
  auto bad = [&](std::string_view why) {
    return InvalidArgument("{}: key collect.{}: \"{}\" {}", where, key, v, why);
  };
  auto integer = [&](int* out, int64_t lo, int64_t hi) -> Status {
    auto n = ParseIntIn(v, lo, hi);
    if (!n.ok()) return bad(n.status().message());
    *out = static_cast<int>(*n);
    return Status::Ok();
  };
  auto duration = [&](int64_t* out) -> Status {
    auto d = ParseDurationMillis(v);
    if (!d || *d < 0) return bad("is not a duration such as 30s");
    *out = *d;
    return Status::Ok();
  };
  if (key == "receivers") return integer(&s->receivers, 1, 64);
  if (key == "workers") return integer(&s->workers, 1, 256);
  if (key == "wait_seconds") return integer(&s->wait_seconds, 0, 20);
  if (key == "max_attempts") return integer(&s->max_attempts, 1, 1000);
  if (key == "visibility_timeout") {
    int64_t ms = 0;
    RETURN_IF_ERROR(duration(&ms));
    if (ms < 1000 || ms > 12 * 3600 * 1000) return bad("must be between 1s and 12h");
    s->visibility_timeout_s = static_cast<int>(ms / 1000);
    return Status::Ok();
  }
  if (key == "heartbeat") return duration(&s->heartbeat_ms);
  if (key == "integrity_interval") return duration(&s->integrity_interval_ms);
  if (key == "integrity_grace") return duration(&s->integrity_grace_ms);
  if (key == "integrity_late") return duration(&s->integrity_late_ms);
  if (key == "integrity_lookback") return duration(&s->integrity_lookback_ms);
  if (key == "status_interval") return duration(&s->status_interval_ms);
  if (key == "hash_logs") {
    if (!ParseSplunkBool(v, &s->hash_logs)) return bad("is not a boolean such as true or false");
    return Status::Ok();
  }
  if (key == "metrics") {
    s->metrics_listen = v;
    return Status::Ok();
  }
  if (key == "max_file_bytes" || key == "commit_batch_bytes") {
    auto b = ParseBytes(v);
    if (!b || *b == 0) return bad("is not a size such as 64MiB");
    (key == "max_file_bytes" ? s->max_file_bytes : s->commit_batch_bytes) = *b;
    return Status::Ok();
  }
  if (key == "inputs_conf" || key == "input") return Status::Ok();  // handled by the caller
  warnings->push_back(fmt::format("{}: unknown key \"collect.{}\" ignored", where, key));
  return Status::Ok();
}

}  // namespace

Status InputsFromToml(std::string_view text, std::string_view path, CollectConfig* out) {
  toml::table root;
  try {
    root = toml::parse(text, std::string(path));
  } catch (const toml::parse_error& e) {
    return InvalidArgument("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column,
                           e.description());
  }
  const toml::table* collect = root["collect"].as_table();
  if (collect == nullptr) return Status::Ok();
  for (const auto& [k, node] : *collect) {
    if (k.str() == "input") continue;
    if (node.is_table() || node.is_array()) {
      out->warnings.push_back(fmt::format("{}:{}: collect.{} is not a setting; ignored", path,
                                          node.source().begin.line, k.str()));
      continue;
    }
    RETURN_IF_ERROR(ApplySetting(&out->settings, k.str(), TomlScalar(node),
                                 fmt::format("{}:{}", path, node.source().begin.line),
                                 &out->warnings));
  }
  const toml::node_view<const toml::node> inputs = (*collect)["input"];
  if (!inputs) return Status::Ok();
  const toml::array* arr = inputs.as_array();
  if (arr == nullptr) {
    return InvalidArgument("{}:{}: collect.input must be an array of tables ([[collect.input]])",
                           path, inputs.node()->source().begin.line);
  }
  int n = 0;
  for (const auto& item : *arr) {
    ++n;
    const toml::table* t = item.as_table();
    if (t == nullptr) {
      return InvalidArgument("{}:{}: collect.input #{} is not a table", path,
                             item.source().begin.line, n);
    }
    InputConfig in;
    in.type = "cairn";
    in.origin = fmt::format("{}:{}", path, item.source().begin.line);
    in.name = fmt::format("input{}", n);
    for (const auto& [k, node] : *t) {
      std::string where = fmt::format("{}:{}", path, node.source().begin.line);
      if (k.str() == "name") {
        in.name = TomlScalar(node);
        continue;
      }
      RETURN_IF_ERROR(ApplyInputKey(&in, k.str(), TomlScalar(node), where, &out->warnings));
    }
    if (in.sourcetype_as_written.empty()) in.sourcetype_as_written = in.sourcetype;
    RETURN_IF_ERROR(CheckInput(in));
    out->inputs.push_back(std::move(in));
  }
  return Status::Ok();
}

Status SettingsFromConfig(const Config& config, CollectSettings* settings) {
  std::vector<std::string> ignored;
  for (const std::string& key : config.Keys()) {
    if (key.rfind("collect.", 0) != 0) continue;
    std::string sub = key.substr(8);
    if (sub.find('.') != std::string::npos || sub == "input" || sub == "inputs_conf") continue;
    RETURN_IF_ERROR(
        ApplySetting(settings, sub, *config.GetString(key), config.Origin(key), &ignored));
  }
  return Status::Ok();
}

bool LooksLikeSplunkConf(std::string_view path, std::string_view text) {
  if (path.size() >= 5 && path.substr(path.size() - 5) == ".conf") return true;
  if (path.size() >= 5 && path.substr(path.size() - 5) == ".toml") return false;
  static const RE2 kInputStanza("(?m)^\\s*\\[[A-Za-z0-9_]+://[^\\]]*\\]\\s*$");
  return RE2::PartialMatch(text, kInputStanza);
}

Result<CollectConfig> LoadCollectConfig(const std::string& path, const Config& global) {
  CollectConfig out;
  RETURN_IF_ERROR(SettingsFromConfig(global, &out.settings));
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(FileSystem::Default(), path, 16 << 20));
  if (LooksLikeSplunkConf(path, text)) {
    ASSIGN_OR_RETURN(ConfFile conf, ParseConf(text, path));
    RETURN_IF_ERROR(InputsFromConf(conf, &out));
  } else {
    RETURN_IF_ERROR(InputsFromToml(text, path, &out));
    Config file_config;
    RETURN_IF_ERROR(file_config.LoadTomlString(text, path));
    if (auto conf_path = file_config.GetString("collect.inputs_conf")) {
      std::string p = *conf_path;
      if (!p.empty() && p[0] != '/') p = JoinPath(DirName(path), p);
      ASSIGN_OR_RETURN(std::string conf_text, ReadFileToString(FileSystem::Default(), p, 16 << 20));
      ASSIGN_OR_RETURN(ConfFile conf, ParseConf(conf_text, p));
      RETURN_IF_ERROR(InputsFromConf(conf, &out));
    }
    // Flags and CAIRN_COLLECT_* variables win over the file.
    RETURN_IF_ERROR(SettingsFromConfig(global, &out.settings));
  }
  std::map<std::string, std::string> seen;
  for (const auto& in : out.inputs) {
    auto [it, fresh] = seen.emplace(in.name, in.origin);
    if (!fresh)
      return InvalidArgument("{}: input \"{}\" is also defined at {}", in.origin, in.name,
                             it->second);
  }
  return out;
}

}  // namespace cairn::collect
