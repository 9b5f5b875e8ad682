#pragma once
// What `cairn alerts run` and `cairn serve` share to run the saved-search scheduler: the saved
// searches (--savedsearches, else alerts.savedsearches, else <data>/savedsearches.conf; plus the
// built-in CIS controls with --cis or alerts.cis = true), the macros and the scheduler's options.
// Defined in cmd_alerts.cc.

#include <memory>
#include <string>
#include <vector>

#include "alerts/scheduler.h"
#include "common/config.h"
#include "store/store.h"

namespace cairn::cli {

struct AlertsSetupArgs {
  std::vector<std::string> files;  // --savedsearches
  std::string macros;              // --macros
  bool cis = false;                // --cis (alerts.cis in the configuration also turns it on)
};

// A scheduler over `store` (initialised: Init has run). NotFound when no saved search is configured
// (serve then runs no scheduler); other errors name the file at fault.
Result<std::unique_ptr<alerts::Scheduler>> MakeAlertsScheduler(const Config& config,
                                                               const std::string& data_dir,
                                                               const AlertsSetupArgs& args,
                                                               store::Store* store);

}  // namespace cairn::cli
