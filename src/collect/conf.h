#pragma once
// Splunk .conf files (inputs.conf) and cairn.toml [[collect.input]] tables, turned into the
// collector's inputs. docs/collect.md lists every key, its meaning and its default.
//
// Splunk's .conf rules as implemented here: lines are read one by one; leading and trailing
// whitespace is ignored; a line whose first non-blank character is '#' is a comment (a '#' later
// in a line is part of the value); "[NAME]" opens a stanza; "key = value" sets a key (whitespace
// around '=' ignored); a line ending in a backslash continues on the next line (the backslash
// becomes a newline); keys before any stanza belong to [default]. [default] applies to every
// stanza, a stanza named after an input type ("[aws_cloudtrail]") to every stanza of that type,
// and a stanza's own keys win. A repeated key keeps its last value.
//
// Errors (InvalidArgument) name the file, the line and the key; unknown keys are warnings with
// file and line. Secrets (secret_key) never appear in a message.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/config.h"
#include "common/splunk_conf.h"
#include "common/status.h"

namespace cairn::collect {

// One collector input: one SQS queue to poll, and what to do with what it names.
struct InputConfig {
  std::string name;    // stanza name after "://" (or the TOML name)
  std::string type;    // "aws_cloudtrail", "aws_sqs_based_s3" or "cairn"
  std::string origin;  // "file:line" of the stanza header
  // Credentials: static keys win; else aws_account names a profile of ~/.aws/config; else the
  // default chain. role_arn (aws_iam_role) is assumed on top.
  std::string key_id;
  std::string secret_key;  // secret: never logged
  std::string aws_account;
  std::string role_arn;
  std::string sqs_queue;  // a queue name or URL
  std::string sqs_queue_region;
  int64_t interval_ms = 30'000;  // pause after an empty poll
  std::string index = "aws-cloudtrail";
  std::string sourcetype = "aws:cloudtrail";  // after normalisation (see NormalizeSourcetype)
  std::string sourcetype_as_written;
  bool exclude_describe_events = false;
  std::string blacklist;  // RE2; "" = ^(?:Describe|List|Get) when excluding
  std::string excluded_events_index;
  bool remove_files_when_done = false;
  int sqs_batch_size = 10;  // MaxNumberOfMessages, 1..10
  bool disabled = false;

  // The regex that exclusion uses (blacklist, else the Describe/List/Get default).
  std::string ExclusionPattern() const;
};

// Settings of the collector as a whole ([collect] in cairn.toml, CAIRN_COLLECT_* variables).
struct CollectSettings {
  int receivers = 2;               // SQS long-poll loops per input
  int workers = 4;                 // parallel S3 downloads + decodes
  int wait_seconds = 20;           // ReceiveMessage long poll (0..20)
  int max_attempts = 5;            // ApproximateReceiveCount at which a bad file is quarantined
  int visibility_timeout_s = 120;  // set on receipt and extended by the heartbeat
  int64_t heartbeat_ms = 30'000;   // how often in-progress messages are extended
  int64_t status_interval_ms = 60'000;      // one-line status in the log (0: off)
  std::string metrics_listen;               // "127.0.0.1:9464"; "" = off
  uint64_t max_file_bytes = 8ull << 30;     // decompressed bytes per file
  uint64_t commit_batch_bytes = 32u << 20;  // raw event bytes buffered before a partial commit
  // A failure of this machine (store, ledger, local folders) is retried this many times, after
  // local_retry_ms, then twice that, and so on; then the collector stops (exit 1), leaving the
  // message on the queue. Such failures never quarantine an object.
  int local_retries = 4;
  int64_t local_retry_ms = 500;
  // Continuous verification (collect/integrity.h): how often the saved digests are checked
  // against the collected files (0: never), how long after a digest's end its files may still
  // arrive, and how long a region may go without a digest.
  int64_t integrity_interval_ms = 300'000;
  int64_t integrity_grace_ms = 2 * 3600'000;
  int64_t integrity_late_ms = 3 * 3600'000;
  int64_t integrity_lookback_ms = 7 * 24 * 3600'000LL;  // digests older than this are not re-read
  // Benchmark-only (docs/collect.md): false skips the SHA-256 of every log file and with it the
  // continuous verification (the collector warns at start). Measures what hashing costs.
  bool hash_logs = true;
};

// Everything `cairn collect` needs from its configuration.
struct CollectConfig {
  std::vector<InputConfig> inputs;
  CollectSettings settings;
  std::vector<std::string> warnings;  // unknown keys and ignored settings, "file:line: ..."
};

// Turns a parsed inputs.conf into inputs (stanzas "aws_cloudtrail://NAME" and
// "aws_sqs_based_s3://NAME"; other stanzas are warned about and skipped; disabled ones kept with
// disabled = true). Errors name file, line and key.
Status InputsFromConf(const ConfFile& conf, CollectConfig* out);

// Reads [collect] settings and [[collect.input]] tables from cairn.toml text. Errors name the
// file, line and key.
Status InputsFromToml(std::string_view text, std::string_view path, CollectConfig* out);

// Overlays collect.* keys from `config` (CAIRN_COLLECT_* variables, flags) onto settings.
Status SettingsFromConfig(const Config& config, CollectSettings* settings);

// True when `text` looks like a Splunk .conf file rather than TOML: a path ending ".conf", or a
// stanza header containing "://", or "key = value" lines with unquoted string values.
bool LooksLikeSplunkConf(std::string_view path, std::string_view text);

// Loads `path` (either format). Also reads collect.inputs_conf when a TOML file names one.
Result<CollectConfig> LoadCollectConfig(const std::string& path, const Config& global);

// "aws-cloudtrail" (the site's spelling) and "aws:cloudtrail" both become "aws:cloudtrail", the
// sourcetype the `cloudtrail` search macro uses; anything else is kept as written.
std::string NormalizeSourcetype(std::string_view sourcetype);

}  // namespace cairn::collect
