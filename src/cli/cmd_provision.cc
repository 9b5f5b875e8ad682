// `cairn provision plan|apply|destroy`: sets up CloudTrail, the log bucket, the SNS topics, the
// SQS queue and the reader's IAM identity, and writes the collector's configuration
// (docs/provision.md).

#include <fmt/format.h>

#include <cstdio>
#include <memory>

#include "aws/config.h"
#include "aws/sts.h"
#include "cli/cli.h"
#include "provision/aws_drivers.h"
#include "provision/options.h"

extern char** environ;

namespace cairn::cli {
namespace {

struct ProvisionFlags {
  std::string home_region, regions, bucket, trail_layout, reader, name_prefix, out_dir, skip,
      account;
  std::string trusted_principal, external_id;
  std::string billing_bucket, billing_prefix;
  bool raw_delivery = false;
  bool remove_files_when_done = false;
  bool quiet = false;
};

int Run(provision::Command command, const ProvisionFlags& f, Globals* g, CLI::App* cmd) {
  const char* verb = command == provision::Command::kPlan    ? "plan"
                     : command == provision::Command::kApply ? "apply"
                                                             : "destroy";
  std::vector<std::string> env;
  for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
  g->config.LoadEnvironment(env, provision::ProvisionConfigKeys());
  g->config.LoadEnvironment(env, aws::AwsConfigKeys());
  auto set = [&](const char* flag, const char* key, const std::string& value) {
    if (cmd->count(flag) > 0) g->config.Set(key, value, std::string("flag ") + flag);
  };
  set("--home-region", "provision.home_region", f.home_region);
  set("--regions", "provision.regions", f.regions);
  set("--bucket", "provision.bucket", f.bucket);
  set("--trail-layout", "provision.trail_layout", f.trail_layout);
  set("--reader", "provision.reader", f.reader);
  set("--name-prefix", "provision.name_prefix", f.name_prefix);
  set("--out-dir", "provision.out_dir", f.out_dir);
  set("--skip", "provision.skip", f.skip);
  set("--account", "provision.account", f.account);
  set("--trusted-principal", "provision.trusted_principal", f.trusted_principal);
  set("--external-id", "provision.external_id", f.external_id);
  set("--billing-bucket", "provision.billing_bucket", f.billing_bucket);
  set("--billing-prefix", "provision.billing_prefix", f.billing_prefix);
  if (f.raw_delivery) g->config.Set("provision.raw_delivery", "true", "flag --raw-delivery");
  if (f.remove_files_when_done) {
    g->config.Set("provision.remove_files_when_done", "true", "flag --remove-files-when-done");
  }

  provision::RunOptions options;
  options.command = command;
  options.verbose = !f.quiet;
  if (Status s = provision::LoadRunOptions(g->config, &options); !s.ok()) {
    std::fprintf(stderr, "cairn provision %s: %s\n", verb, s.message().c_str());
    return kExitUsage;
  }
  aws::AwsClientSetup setup;
  setup.override_region = options.spec.home_region;
  auto client = aws::NewAwsClientFromConfig(g->config, setup);
  if (!client.ok()) {
    std::fprintf(stderr, "cairn provision %s: %s\n", verb, client.status().message().c_str());
    return kExitUsage;
  }
  std::string account = options.spec.account;
  if (account.empty()) {
    aws::StsClient sts(client->get());
    auto who = sts.GetCallerIdentity();
    if (!who.ok()) {
      std::fprintf(stderr, "cairn provision %s: cannot learn the account id: %s\n", verb,
                   who.status().message().c_str());
      return kExitFailed;
    }
    account = who->account;
  }
  std::vector<std::unique_ptr<provision::ServiceDriver>> owned;
  owned.push_back(provision::NewS3Driver(client->get()));
  owned.push_back(provision::NewSqsDriver(client->get()));
  owned.push_back(provision::NewSnsDriver(client->get()));
  if (!options.spec.Skipped("cloudtrail"))
    owned.push_back(provision::NewCloudTrailDriver(client->get()));
  if (!options.spec.Skipped("iam")) owned.push_back(provision::NewIamDriver(client->get()));
  std::vector<provision::ServiceDriver*> drivers;
  for (auto& d : owned) drivers.push_back(d.get());

  provision::RunReport report;
  Status s = provision::RunProvision(options, account, drivers, &report);
  if (!report.plan.changes.empty() || !report.plan.notes.empty()) {
    std::printf("cairn provision %s: stack \"%s\", account %s, home region %s, %s trail layout\n",
                verb, options.spec.name_prefix.c_str(), account.c_str(),
                options.spec.home_region.c_str(),
                options.spec.layout == provision::TrailLayout::kMultiRegion ? "multi-region"
                                                                            : "per-region");
    std::fputs(report.plan.Format(options.verbose).c_str(), stdout);
  }
  for (const auto& line : report.done) std::printf("done: %s\n", line.c_str());
  for (const auto& note : report.notes) std::printf("note: %s\n", note.c_str());
  if (!s.ok()) {
    std::fprintf(stderr, "cairn provision %s: %s\n", verb, s.message().c_str());
    return s.code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
  }
  if (command == provision::Command::kPlan) {
    std::printf("%s\n", report.plan.Converged()
                            ? "Nothing to do: AWS matches the configuration."
                            : "Run `cairn provision apply` to make these changes.");
  }
  return kExitOk;
}

}  // namespace

void RegisterProvision(CLI::App* app, Globals* g) {
  auto flags = std::make_shared<ProvisionFlags>();
  CLI::App* cmd = app->add_subcommand(
      "provision",
      "Set up CloudTrail, the log bucket, SNS topics, the SQS queue and the reader's IAM identity, "
      "and write the collector configuration (plan shows, apply converges, destroy removes)");
  cmd->require_subcommand(1);
  struct Verb {
    const char* name;
    const char* help;
    provision::Command command;
  };
  for (const Verb& v :
       {Verb{"plan", "Show what apply would create, change or delete; change nothing",
             provision::Command::kPlan},
        Verb{"apply",
             "Create or fix everything so AWS matches the configuration; write the "
             "collector config",
             provision::Command::kApply},
        Verb{"destroy", "Remove what cairn created (tagged cairn:stack=NAME), nothing else",
             provision::Command::kDestroy}}) {
    CLI::App* sub = cmd->add_subcommand(v.name, v.help);
    sub->add_option("--config", g->config_path,
                    "provision.toml (or cairn.toml) with a [provision] table");
    sub->add_option("--home-region", flags->home_region,
                    "Region of the bucket, queue and trail (us-west-2)");
    sub->add_option("--regions", flags->regions,
                    "Trail regions for the per-region layout: all (default), site "
                    "(us-east-1,us-west-1,us-west-2,"
                    "eu-west-1,sa-east-1) or a comma list");
    sub->add_option("--bucket", flags->bucket,
                    "Log bucket name (default <prefix>-cloudtrail-<account>)");
    sub->add_option("--trail-layout", flags->trail_layout,
                    "multi-region (recommended) or per-region");
    sub->add_option("--reader", flags->reader,
                    "role (recommended), user (with an access key) or none");
    sub->add_option("--trusted-principal", flags->trusted_principal,
                    "Who may assume the reader role");
    sub->add_option("--external-id", flags->external_id, "sts:ExternalId the reader role requires");
    sub->add_option("--billing-bucket", flags->billing_bucket,
                    "Also let the reader read this cost and usage report bucket (cairn billing)");
    sub->add_option("--billing-prefix", flags->billing_prefix,
                    "The reports' prefix in --billing-bucket (default: the whole bucket)");
    sub->add_flag("--raw-delivery", flags->raw_delivery, "SNS raw message delivery to the queue");
    sub->add_flag("--remove-files-when-done", flags->remove_files_when_done,
                  "Let the reader delete log files after collecting them");
    sub->add_option("--name-prefix", flags->name_prefix,
                    "Stack name and resource-name prefix (cairn)");
    sub->add_option("--out-dir", flags->out_dir,
                    "Where apply writes cairn.toml and inputs.conf (.)");
    sub->add_option("--skip", flags->skip,
                    "What to leave alone, for emulators: cloudtrail,iam,s3-settings (or all)");
    sub->add_option("--account", flags->account, "Account id (default: STS GetCallerIdentity)");
    sub->add_flag("--quiet", flags->quiet, "Do not list unchanged resources");
    provision::Command command = v.command;
    sub->callback([flags, g, sub, command] {
      g->run = [flags, g, sub, command] { return Run(command, *flags, g, sub); };
    });
  }
}

}  // namespace cairn::cli
