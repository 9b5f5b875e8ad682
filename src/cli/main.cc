// cairn: AWS CloudTrail collection, storage, search and detection in one program.

#include <unistd.h>

#include <cstdio>
#include <vector>

#include "cli/cli.h"
#include "common/log.h"

extern char** environ;

namespace cairn::cli {
namespace {

std::vector<std::string> Environment() {
  std::vector<std::string> out;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) out.emplace_back(*e);
  return out;
}

int Main(int argc, char** argv) {
  CLI::App app{"cairn: AWS CloudTrail collection, storage, search and detection"};
  app.set_version_flag("--version", "cairn 0.1.0");
  app.require_subcommand(1);
  Globals g;
  app.add_option("--data", g.data_dir, "Data folder (default ./cairn-data; CAIRN_DATA)");
  app.add_option("--config", g.config_path, "TOML configuration file (default ./cairn.toml)");
  app.add_option("--log-level", g.log_level, "debug|info|warn|error|off (CAIRN_LOG_LEVEL)");
  app.add_option("--log-format", g.log_format, "text|json (CAIRN_LOG_FORMAT)");
  RegisterGenerate(&app, &g);
  RegisterIndex(&app, &g);
  RegisterIngest(&app, &g);
  RegisterSearch(&app, &g);
  RegisterProvision(&app, &g);
  RegisterCollect(&app, &g);
  RegisterBackfill(&app, &g);
  RegisterVerify(&app, &g);
  RegisterAlerts(&app, &g);
  RegisterBilling(&app, &g);
  RegisterDetect(&app, &g);
  RegisterServe(&app, &g);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? kExitOk : kExitUsage;
  }

  // Precedence: defaults < file < CAIRN_* environment < flags.
  std::string config_path = g.config_path;
  if (config_path.empty() && ::access("cairn.toml", R_OK) == 0) config_path = "cairn.toml";
  if (!config_path.empty()) {
    Status s = g.config.LoadTomlFile(config_path);
    if (!s.ok()) {
      std::fprintf(stderr, "cairn: %s\n", s.message().c_str());
      return kExitUsage;
    }
  }
  g.config.LoadEnvironment(Environment(), {"data", "log.level", "log.format"});
  // --data may be given before the subcommand or after it (`cairn search --data DIR ...`).
  bool data_flag = app.count("--data") > 0;
  for (CLI::App* sub : app.get_subcommands()) {
    if (sub->get_option_no_throw("--data") != nullptr && sub->count("--data") > 0) data_flag = true;
    for (CLI::App* subsub : sub->get_subcommands()) {  // `cairn alerts run --data DIR`
      if (subsub->get_option_no_throw("--data") != nullptr && subsub->count("--data") > 0) {
        data_flag = true;
      }
    }
  }
  if (data_flag) g.config.Set("data", g.data_dir, "flag --data");
  if (app.count("--log-level") > 0) g.config.Set("log.level", g.log_level, "flag --log-level");
  if (app.count("--log-format") > 0) g.config.Set("log.format", g.log_format, "flag --log-format");
  g.data_dir = g.config.GetString("data", g.data_dir);

  log::Level level;
  std::string level_text = g.config.GetString("log.level", g.log_level);
  if (!log::ParseLevel(level_text, &level)) {
    std::fprintf(stderr, "cairn: log level \"%s\" (%s) is not debug, info, warn, error or off\n",
                 level_text.c_str(), g.config.Origin("log.level").c_str());
    return kExitUsage;
  }
  log::SetLevel(level);
  std::string format = g.config.GetString("log.format", g.log_format);
  if (format == "json") {
    log::SetFormat(log::Format::kJson);
  } else if (format != "text") {
    std::fprintf(stderr, "cairn: log format \"%s\" is not text or json\n", format.c_str());
    return kExitUsage;
  }
  if (!g.run) return kExitUsage;
  return g.run();
}

}  // namespace
}  // namespace cairn::cli

int main(int argc, char** argv) { return cairn::cli::Main(argc, argv); }
