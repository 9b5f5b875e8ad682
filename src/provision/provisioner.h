#pragma once
// The provisioner: reads the current state of every desired resource through its service's
// driver, diffs (plan.h), and applies the plan in order — creates and updates in creation order
// (bucket, dead-letter queue, queue, topics, subscriptions, trails, reader), deletes in reverse.
//
//   plan     reads only; changes nothing, writes nothing
//   apply    converges: after a successful apply, plan is empty (Converged()). It stops at the
//            first failure with the API, the resource and AWS's message; everything is read
//            afresh next time, so running apply again finishes the job.
//   destroy  deletes what carries this stack's tags (and the subscriptions/keys of what does),
//            keeps everything else and says so.
//
// Some AWS errors right after a create only mean "not visible yet" (a trail created just after
// its bucket or topic policy was set): those are retried a few times with a pause.
//
// Thread safety: one thread at a time.

#include <cstdio>
#include <map>
#include <string>
#include <vector>

#include "common/clock.h"
#include "provision/collector_config.h"
#include "provision/driver.h"
#include "provision/model.h"
#include "provision/plan.h"

namespace cairn::provision {

struct ProvisionerOptions {
  Clock* clock = nullptr;              // nullptr: the system clock (pauses between consistency retries)
  int consistency_attempts = 6;
  int64_t consistency_delay_ms = 5'000;
};

class Provisioner {
 public:
  // `drivers` are not owned and must outlive the provisioner; one per service that the desired
  // states will use (skipped services need none).
  explicit Provisioner(std::vector<ServiceDriver*> drivers, ProvisionerOptions options = {});

  Result<Plan> PlanApply(const DesiredState& desired);
  Result<Plan> PlanDestroy(const DesiredState& desired);

  // Carries out the creates, updates and deletes of `plan`. `done` receives one line per change
  // made ("+ sqs queue ..."). On failure returns the driver's error with the change it was making.
  Status Execute(const Plan& plan, ApplyEffects* effects, std::vector<std::string>* done);

 private:
  Result<std::vector<std::optional<Resource>>> ReadAll(const DesiredState& desired);
  Result<ServiceDriver*> DriverFor(const Resource& r);
  Status ExecuteOne(const Change& change, ApplyEffects* effects);

  std::map<std::string, ServiceDriver*, std::less<>> drivers_;
  ProvisionerOptions options_;
  Clock* clock_;
};

enum class Command { kPlan, kApply, kDestroy };

struct RunOptions {
  Command command = Command::kPlan;
  ProvisionSpec spec;
  std::string out_dir = ".";            // where apply writes cairn.toml and inputs.conf
  CollectorConfigInput collector;       // aws settings, interval, index for the generated config
  bool verbose = true;                  // list unchanged resources too
};

struct RunReport {
  DesiredState desired;
  Plan plan;
  std::vector<std::string> done;   // changes made
  std::vector<std::string> notes;  // kept buckets, replaced keys, files written
  std::string config_path;         // OUT/cairn.toml when apply wrote it
};

// One `cairn provision` run for `account` with `drivers`. `report` is filled as far as the run
// got, also when it fails (what was done before the failure).
Status RunProvision(const RunOptions& options, const std::string& account, std::vector<ServiceDriver*> drivers,
                    RunReport* report, ProvisionerOptions provisioner_options = {});

}  // namespace cairn::provision
