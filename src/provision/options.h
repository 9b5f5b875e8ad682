#pragma once
// `cairn provision` options from configuration: a provision.toml (or cairn.toml) [provision]
// table, CAIRN_PROVISION_* variables and flags, all as common/config.h keys. docs/provision.md
// lists them:
//
//   provision.name_prefix          "cairn"        stack name and resource-name prefix
//   provision.home_region          "us-west-2"    bucket, queue and (multi-region) trail
//   provision.regions              all | site | comma list (default all: DefaultCommercialRegions)
//   provision.bucket               "<prefix>-cloudtrail-<account>"
//   provision.trail_layout         multi-region | per-region
//   provision.reader               role | user | none
//   provision.trusted_principal    role trust principal (default the account's root)
//   provision.external_id          role trust condition sts:ExternalId
//   provision.raw_delivery         SNS raw message delivery (default false)
//   provision.remove_files_when_done   reader may delete log files (default false)
//   provision.max_receive_count    redrive to the dead-letter queue after N receives (5)
//   provision.visibility_timeout   queue default visibility timeout (300s)
//   provision.skip                 what to leave alone: cloudtrail, iam, s3-settings (emulators)
//   provision.account              account id (default: STS GetCallerIdentity)
//   provision.out_dir              where apply writes cairn.toml and inputs.conf (".")
//   provision.interval             collector poll interval written to the config (30)
//   provision.index                index written to the config (aws-cloudtrail)
//   provision.billing_bucket       cost and usage report bucket the reader may read ("" = none)
//   provision.billing_prefix       the reports' prefix in that bucket

#include <string>
#include <vector>

#include "common/config.h"
#include "provision/provisioner.h"

namespace cairn::provision {

// Every key above, for Config::LoadEnvironment.
const std::vector<std::string>& ProvisionConfigKeys();

// Fills `options` (all but command) from `config`. Errors name the key and where it came from.
Status LoadRunOptions(const Config& config, RunOptions* options);

// Parses "multi-region"/"per-region", "role"/"user"/"none", and a region list ("all", "site",
// or "us-east-1,eu-west-1").
Result<TrailLayout> ParseTrailLayout(const std::string& text);
Result<ReaderKind> ParseReaderKind(const std::string& text);
Result<std::vector<std::string>> ParseRegions(const std::string& text);

}  // namespace cairn::provision
