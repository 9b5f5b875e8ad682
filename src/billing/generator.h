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
  // "GZIP" (<report>-<n>.csv.gz) or "ZIP" (<report>-<n>.csv.zip, one CSV entry each, the
  // manifest's compression "ZIP"): the same rows either way.
  std::string compression = "GZIP";
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

// Synthetic Detailed Billing Reports: several versions of one month's object (AWS rewrites it in
// place as the month goes; version k covers the first k/versions of the month with revised
// costs), each a ZIP archive of one CSV with the DBR's columns, LineItem rows, a Rounding row and
// the summary rows (an AccountTotal per account, InvoiceTotal, StatementTotal):
//
//   <out>/v<k>/<prefix>/<key>   the bucket as version k left it (k = 1..versions)
//   <out>/<prefix>/<key>        the bucket now (the last version)
//   <out>/csv/v<k>.csv          with plain_csv: version k's CSV as it is (for a peer that reads
//                               CSV, not ZIP)
//
// key = <payer>-aws-billing-detailed-line-items-with-resources-and-tags-YYYY-MM.csv.zip
// (<payer>-aws-billing-detailed-line-items-YYYY-MM.csv.zip without tags: no ResourceId and tag
// columns). The same options give the same bytes.
struct DbrGenOptions {
  std::string out_dir;
  std::string prefix;  // "" = the bucket's top
  int year = 2026;
  int month = 11;
  int versions = 3;
  uint64_t rows = 10'000;  // LineItem rows of the last version
  uint64_t seed = 1;
  bool with_tags = true;
  bool final_invoice = false;  // the last version carries the invoice number, not "Estimated"
  bool plain_csv = false;
};

struct GeneratedDbrVersion {
  std::string bucket_dir;  // <out>/v<k>
  std::string csv_path;    // with plain_csv
  uint64_t line_items = 0;
  uint64_t summary_rows = 0;
  double charge_total = 0;     // UnBlendedCost over LineItem and Rounding rows
  double statement_total = 0;  // the StatementTotal row's UnBlendedCost (the same sum)
};

struct DbrGenResult {
  std::string key;
  std::string month;                          // "YYYY-MM"
  std::vector<GeneratedDbrVersion> versions;  // oldest first
};

Result<DbrGenResult> GenerateDbr(const DbrGenOptions& options);

}  // namespace cairn::billing
