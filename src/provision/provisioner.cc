#include "provision/provisioner.h"

#include <fmt/format.h>

#include "common/fs.h"
#include "common/log.h"
#include "provision/aws_drivers.h"

namespace cairn::provision {

namespace {

// AWS answers that mean "what you just created is not visible to me yet".
bool IsConsistencyError(const Status& s) {
  for (const char* code : {"InsufficientS3BucketPolicyException", "InsufficientSnsTopicPolicyException",
                           "InvalidParameterValue", "MalformedPolicyDocument"}) {
    if (HasAwsCode(s, code)) {
      // IAM rejects a trust policy naming a principal it cannot see yet as MalformedPolicyDocument
      // ("Invalid principal"); anything else with that code is a real error.
      if (std::string_view(code) == "MalformedPolicyDocument" &&
          s.message().find("Invalid principal") == std::string::npos) {
        return false;
      }
      if (std::string_view(code) == "InvalidParameterValue" && s.message().find("does not exist") == std::string::npos) {
        return false;
      }
      return true;
    }
  }
  return false;
}

}  // namespace

Provisioner::Provisioner(std::vector<ServiceDriver*> drivers, ProvisionerOptions options)
    : options_(options), clock_(options.clock ? options.clock : Clock::System()) {
  for (ServiceDriver* d : drivers) drivers_[std::string(d->service())] = d;
}

Result<ServiceDriver*> Provisioner::DriverFor(const Resource& r) {
  auto it = drivers_.find(KindService(r.kind));
  if (it == drivers_.end()) {
    return Internal("no driver for service {} ({})", KindService(r.kind), r.Describe());
  }
  return it->second;
}

Result<std::vector<std::optional<Resource>>> Provisioner::ReadAll(const DesiredState& desired) {
  std::vector<std::optional<Resource>> observed;
  for (const Resource& r : desired.resources) {
    ASSIGN_OR_RETURN(ServiceDriver * driver, DriverFor(r));
    Result<std::optional<Resource>> got = driver->Read(r);
    if (!got.ok()) return got.status().WithContext("reading " + r.Describe());
    observed.push_back(std::move(got).value());
  }
  return observed;
}

Result<Plan> Provisioner::PlanApply(const DesiredState& desired) {
  ASSIGN_OR_RETURN(auto observed, ReadAll(desired));
  Plan plan = DiffForApply(desired.resources, observed);
  plan.notes = desired.skipped;
  return plan;
}

Result<Plan> Provisioner::PlanDestroy(const DesiredState& desired) {
  ASSIGN_OR_RETURN(auto observed, ReadAll(desired));
  Plan plan = DiffForDestroy(desired.resources, observed);
  plan.notes = desired.skipped;
  return plan;
}

Status Provisioner::ExecuteOne(const Change& change, ApplyEffects* effects) {
  ASSIGN_OR_RETURN(ServiceDriver * driver, DriverFor(change.desired));
  for (int attempt = 1;; ++attempt) {
    Status s;
    switch (change.action) {
      case Action::kCreate: s = driver->Create(change.desired, effects); break;
      case Action::kUpdate: s = driver->Update(change.desired, *change.current, change.attrs, effects); break;
      case Action::kDelete: s = driver->Delete(*change.current, effects); break;
      case Action::kNoop:
      case Action::kKeep: return Status::Ok();
    }
    if (s.ok() || !IsConsistencyError(s) || attempt >= options_.consistency_attempts) return s;
    log::Info("{}: {}; waiting for AWS to see the change ({}/{})", change.desired.Describe(), s.message(), attempt,
              options_.consistency_attempts - 1);
    clock_->SleepMicros(options_.consistency_delay_ms * 1000);
  }
}

Status Provisioner::Execute(const Plan& plan, ApplyEffects* effects, std::vector<std::string>* done) {
  int total = plan.Count(Action::kCreate) + plan.Count(Action::kUpdate) + plan.Count(Action::kDelete);
  int n = 0;
  for (const Change& c : plan.changes) {
    if (c.action == Action::kNoop || c.action == Action::kKeep) continue;
    Status s = ExecuteOne(c, effects);
    if (!s.ok()) {
      return Status(s.code(), fmt::format("{} {} failed: {} ({} of {} changes made; run apply again to finish)",
                                          ActionSymbol(c.action), c.desired.Describe(), s.message(), n, total));
    }
    ++n;
    done->push_back(fmt::format("{} {}", ActionSymbol(c.action), c.desired.Describe()));
  }
  return Status::Ok();
}

Status RunProvision(const RunOptions& options, const std::string& account, std::vector<ServiceDriver*> drivers,
                    RunReport* report, ProvisionerOptions provisioner_options) {
  ASSIGN_OR_RETURN(report->desired, BuildDesiredState(options.spec, account));
  DesiredState& d = report->desired;
  ExistingKey existing;
  bool user_reader = options.spec.reader == ReaderKind::kUser && !options.spec.Skipped("iam");
  if (user_reader) {
    ASSIGN_OR_RETURN(existing, ReadExistingKey(options.out_dir, d.names.stack));
    for (Resource& r : d.resources) {
      if (r.kind == Kind::kAccessKey) r.attrs["key_id"] = existing.key_id.empty() ? "(new)" : existing.key_id;
    }
  }
  Provisioner provisioner(std::move(drivers), provisioner_options);
  if (options.command == Command::kDestroy) {
    ASSIGN_OR_RETURN(report->plan, provisioner.PlanDestroy(d));
  } else {
    ASSIGN_OR_RETURN(report->plan, provisioner.PlanApply(d));
  }
  if (options.command == Command::kPlan) return Status::Ok();

  ApplyEffects effects;
  Status s = provisioner.Execute(report->plan, &effects, &report->done);
  report->notes.insert(report->notes.end(), effects.notes.begin(), effects.notes.end());
  if (!s.ok()) return s;
  if (options.command == Command::kDestroy) {
    std::string toml = JoinPath(options.out_dir, "cairn.toml");
    if (!report->done.empty() && FileSystem::Default()->Exists(toml)) {
      report->notes.push_back(fmt::format("{} and inputs.conf still describe the removed resources; delete them",
                                          toml));
    }
    return Status::Ok();
  }
  CollectorConfigInput config = options.collector;
  if (!effects.access_key_id.empty()) {
    config.key_id = effects.access_key_id;
    config.secret_key = effects.secret_access_key;
  } else if (user_reader) {
    config.key_id = existing.key_id;
    config.secret_key = existing.secret_key;
  }
  RETURN_IF_ERROR(WriteCollectorConfig(options.out_dir, d, config));
  report->config_path = JoinPath(options.out_dir, "cairn.toml");
  report->notes.push_back(fmt::format("wrote {} and {}{}", report->config_path,
                                      JoinPath(options.out_dir, "inputs.conf"),
                                      config.secret_key.empty() ? "" : " (mode 0600: they hold the reader's secret key)"));
  return Status::Ok();
}

}  // namespace cairn::provision
