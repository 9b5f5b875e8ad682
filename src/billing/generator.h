#pragma once
// Synthetic Cost and Usage Reports (legacy CUR layout) for tests, demos and benchmarks:
//
//   <out>/<prefix>/<report>/<YYYYMMDD-YYYYMMDD>/<report>-Manifest.json        (the current
//   assembly) <out>/<prefix>/<report>/<YYYYMMDD-YYYYMMDD>/<assemblyId>/<report>-Manifest.json
//   <out>/<prefix>/<report>/<YYYYMMDD-YYYYMMDD>/<assemblyId>/<report>-<n>.csv.gz
//
// One month, several assemblies (AWS rewrites the month's report as it goes: assembly k covers
// the first k/assemblies of the month with revised costs), a payer and two linked accounts,
// resource tags. The same options give the same bytes.

#include <cstdint>
#include <string>
#include <vector>

#include "common/status.h"

namespace cairn::billing {

struct CurGenOptions {
  std::string out_dir;
  std::string prefix = "cur";
  std::string report = "cairn-cur";
  std::string bucket = "cairn-billing-reports";
  int year = 2026;
  int month = 11;
  int assemblies = 3;
  uint64_t rows = 10'000;            // rows of the last assembly
  uint64_t rows_per_file = 250'000;  // a larger assembly is split into <report>-1, -2, ...
  uint64_t seed = 1;
  // "few": 40 resources, 3 tag keys with few values; "many": a resource per ~8 rows, 8 tag keys
  // with thousands of values.
  std::string profile = "few";
  bool final_invoice = false;  // the last assembly carries bill/InvoiceId (the month is invoiced)
};

struct GeneratedAssembly {
  std::string assembly_id;
  std::string manifest_key;  // the assembly-level manifest
  std::vector<std::string> report_keys;
  uint64_t rows = 0;
  double unblended_total = 0;  // sum of lineItem/UnblendedCost
};

struct CurGenResult {
  std::string period;                         // "20261101-20261201"
  std::string period_manifest_key;            // names the last assembly
  std::vector<GeneratedAssembly> assemblies;  // oldest first
};

Result<CurGenResult> GenerateCur(const CurGenOptions& options);

}  // namespace cairn::billing
