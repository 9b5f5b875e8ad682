#pragma once
// The `cairn` command line: global options shared by every subcommand, and one Register function
// per subcommand (each in its own cmd_*.cc). A subcommand's callback stores its work in
// Globals::run; main() runs it after logging and configuration are set up, and exits with its code.

#include <CLI/CLI.hpp>
#include <functional>
#include <string>

#include "common/config.h"
#include "store/store.h"

namespace cairn::cli {

struct Globals {
  std::string data_dir = "./cairn-data";
  std::string config_path;  // --config; empty means ./cairn.toml when it exists
  std::string log_level = "info";
  std::string log_format = "text";
  Config config;             // file + CAIRN_* + flags, filled before run() is called
  std::function<int()> run;  // the chosen subcommand's work; returns the exit code
  bool no_wait = false;      // --no-wait: a writer fails at once when another holds the data folder
};

// The store as a command that only reads it opens it (search, index list/info/check, retention
// show): it never creates, renames or deletes anything and runs beside a writer.
inline store::StoreOptions ReaderStoreOptions(const Globals& g) {
  store::StoreOptions opt;
  opt.data_dir = g.data_dir;
  opt.read_only = true;
  opt.background_merge = false;
  opt.retention_interval_ms = 0;
  return opt;
}

// The store as a command that writes it opens it: it takes the data folder's lock, waiting for
// another writer unless --no-wait was given.
inline store::StoreOptions WriterStoreOptions(const Globals& g) {
  store::StoreOptions opt;
  opt.data_dir = g.data_dir;
  opt.wait_for_lock = !g.no_wait;
  return opt;
}

// Adds --no-wait to a command that writes the data folder.
inline void AddNoWaitFlag(CLI::App* cmd, Globals* g) {
  cmd->add_flag("--no-wait", g->no_wait,
                "Fail at once when another cairn process is writing the data folder (default: "
                "wait for it)");
}

// Exit codes: 0 success, 1 the job failed (errors were reported), 2 bad usage or configuration.
inline constexpr int kExitOk = 0;
inline constexpr int kExitFailed = 1;
inline constexpr int kExitUsage = 2;

void RegisterGenerate(CLI::App* app, Globals* g);
void RegisterIndex(CLI::App* app, Globals* g);
void RegisterIngest(CLI::App* app, Globals* g);
void RegisterSearch(CLI::App* app, Globals* g);
void RegisterProvision(CLI::App* app, Globals* g);
void RegisterCollect(CLI::App* app, Globals* g);
void RegisterBackfill(CLI::App* app, Globals* g);
void RegisterVerify(CLI::App* app, Globals* g);
void RegisterServe(CLI::App* app, Globals* g);
void RegisterAlerts(CLI::App* app, Globals* g);
void RegisterBilling(CLI::App* app, Globals* g);
void RegisterDetect(CLI::App* app, Globals* g);

// The Sigma rules folder for streaming detection (ingest, collect, backfill): the --rules flag,
// else `[detect] rules` of `toml_path` (a command's own --config, when it is a .toml file), else
// of the global configuration; "" when there is none or the flag says "none".
std::string StreamingRulesDir(const std::string& flag, const std::string& toml_path,
                              const Globals& g);

}  // namespace cairn::cli
