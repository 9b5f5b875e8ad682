#pragma once
// Loading from the report bucket with the [billing] settings of cairn.toml: shared by
// `cairn billing collect|backfill` and by `cairn collect`, which runs the same load every
// billing.interval (default 6h) when [billing] has a bucket.

#include <atomic>
#include <string>
#include <vector>

#include "billing/loader.h"
#include "common/config.h"
#include "store/store.h"

namespace cairn::billing {

// The [billing] keys (also CAIRN_BILLING_*), for Config::LoadEnvironment.
const std::vector<std::string>& BillingConfigKeys();

struct BucketLoad {
  bool recent_only = false;           // collect: the current and the previous month (UTC now)
  std::string from, to;               // backfill: months "YYYY-MM" (empty: unbounded)
  std::string data_dir;               // for the ledger and downloads
  std::string report, prefix, index;  // override billing.report/prefix/index when set
  const std::atomic<bool>* stop = nullptr;
};

// Reads billing.* from `config` (bucket and report required: InvalidArgument naming them), builds
// the S3 client on the default credential chain with billing.role_arn / billing.external_id
// assumed on top and billing.region, lists the report's periods and loads each chosen period's
// current assembly into `store`.
Result<std::vector<AssemblyResult>> LoadFromBucket(const Config& config, store::Store* store,
                                                   const BucketLoad& load);

}  // namespace cairn::billing
