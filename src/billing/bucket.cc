#include "billing/bucket.h"

#include <algorithm>

#include "aws/config.h"
#include "aws/s3.h"
#include "common/clock.h"
#include "common/time_util.h"

namespace cairn::billing {

const std::vector<std::string>& BillingConfigKeys() {
  static const std::vector<std::string> k = {
      "billing.bucket",   "billing.prefix",      "billing.report", "billing.region",
      "billing.role_arn", "billing.external_id", "billing.index",  "billing.interval",
      "billing.dbr",      "billing.dbr_prefix"};
  return k;
}

Result<std::vector<AssemblyResult>> LoadFromBucket(const Config& global, store::Store* store,
                                                   const BucketLoad& load) {
  Config c = global;
  const std::string bucket = c.GetString("billing.bucket", "");
  const std::string report = !load.report.empty() ? load.report : c.GetString("billing.report", "");
  const std::string prefix = !load.prefix.empty() ? load.prefix : c.GetString("billing.prefix", "");
  const std::string index =
      !load.index.empty() ? load.index : c.GetString("billing.index", std::string(kIndex));
  ASSIGN_OR_RETURN(const bool dbr, c.GetBool("billing.dbr", false));
  const std::string dbr_prefix = c.GetString("billing.dbr_prefix", "");
  if (bucket.empty() || (report.empty() && !dbr)) {
    return InvalidArgument(
        "[billing] bucket and report (or dbr = true) must be set (cairn.toml, or "
        "CAIRN_BILLING_BUCKET / CAIRN_BILLING_REPORT / CAIRN_BILLING_DBR)");
  }
  if (!store::Store::ValidIndexName(index)) {
    return InvalidArgument("billing.index \"{}\" is not [a-z0-9_-]{{1,100}}", index);
  }
  // The report bucket is often the payer account's: its role is assumed on top of the default
  // credential chain, with the external id the payer asked for.
  if (auto role = c.GetString("billing.role_arn")) {
    c.Set("aws.role_arn", *role, c.Origin("billing.role_arn"));
  }
  if (auto ext = c.GetString("billing.external_id")) {
    c.Set("aws.external_id", *ext, c.Origin("billing.external_id"));
  }
  aws::AwsClientSetup setup;
  setup.override_region = c.GetString("billing.region", "");
  ASSIGN_OR_RETURN(auto client, aws::NewAwsClientFromConfig(c, setup));
  aws::S3Client s3(client.get());
  auto source = NewS3Source(&s3, bucket, JoinPath(load.data_dir, "billing/tmp"));

  std::string from = load.from, to = load.to;
  if (load.recent_only) {
    // The current and the previous month: AWS still revises the previous month's report early
    // in the next.
    int64_t y;
    unsigned m, d;
    CivilFromDays(Clock::System()->NowMicros() / 86'400'000'000, &y, &m, &d);
    if (m == 1) {
      y -= 1;
      m = 12;
    } else {
      m -= 1;
    }
    from = fmt::format("{:04}{:02}", y, m);
  }
  auto month_of = [](std::string s) {
    s.erase(std::remove(s.begin(), s.end(), '-'), s.end());
    return s.substr(0, 6);
  };
  LoadOptions lo;
  lo.index = index;
  lo.ledger_path = JoinPath(load.data_dir, "billing/ledger.jsonl");
  lo.stop = load.stop;
  Loader loader(store, source.get(), lo);
  std::vector<AssemblyResult> out;
  if (!report.empty()) {
    ASSIGN_OR_RETURN(auto all, ListPeriods(source.get(), prefix, report));
    std::vector<std::string> periods;
    for (const auto& p : all) {
      const std::string month = PeriodMonth(p);
      if (!from.empty() && month < month_of(from)) continue;
      if (!to.empty() && month > month_of(to)) continue;
      periods.push_back(p);
    }
    if (!periods.empty()) {
      ASSIGN_OR_RETURN(out, loader.LoadReport(prefix, report, periods));
    }
  }
  if (dbr) {
    ASSIGN_OR_RETURN(auto d, loader.LoadDbr(dbr_prefix, from.empty() ? "" : month_of(from),
                                            to.empty() ? "" : month_of(to)));
    std::move(d.begin(), d.end(), std::back_inserter(out));
  }
  return out;
}

}  // namespace cairn::billing
