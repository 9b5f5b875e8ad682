#pragma once
// What `cairn collect` and `cairn serve` share to run the collectors: the configuration (global
// config + CAIRN_COLLECT_* + flags), the inputs file found and loaded, and the collector's options.
// Defined in cmd_collect.cc.

#include <atomic>
#include <memory>
#include <string>

#include "cli/cli.h"
#include "collect/collector.h"
#include "detect/rule_set.h"

namespace cairn::cli {

struct CollectFlags {
  std::string config;  // --config given to the subcommand (empty: global --config, then
                       // collect.inputs_conf, then ./cairn.toml)
  std::string data;    // --data given to the subcommand (empty: the global one)
  int until_idle = 0;
  int workers = 0;      // >0 overrides collect.workers
  std::string metrics;  // non-empty overrides collect.metrics
  std::string rules;    // --rules: Sigma rules folder for streaming detection ("none": off)
};

struct CollectSetup {
  Config config;     // the global configuration with collect.* from the environment and flags
  std::string path;  // the configuration file the inputs came from ("" = none)
  collect::CollectorOptions options;  // ready for collect::Collector (options.global points
                                      // into a CollectSetup: keep the setup alive while it runs)
  std::unique_ptr<detect::RuleSet> rules;  // options.rules points here
};

// Finds and loads the collector configuration. With `required`, no configuration file is an error
// (InvalidArgument); without it (serve), the setup then has no inputs. Warnings about the file are
// logged. `stop` is the flag a signal handler sets. The setup must not move once loaded (the
// options point at its config): the caller passes where to build it.
Status LoadCollectSetup(const Globals& g, const CollectFlags& flags, bool required,
                        const std::atomic<bool>* stop, CollectSetup* out);

}  // namespace cairn::cli
