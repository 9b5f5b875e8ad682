#pragma once
// The AWS Cost and Usage Report (legacy CUR) as cairn reads it: the manifest AWS writes beside
// every assembly (docs/billing.md, "The report's layout"), and the conversion of one CSV row into
// a store event.
//
// A row becomes a JSON object holding every non-empty column under its CUR name
// ("lineItem/UnblendedCost", "product/ProductName", "resourceTags/user:team"), numeric columns
// (manifest type BigDecimal, OptionalBigDecimal, Double) as JSON numbers; `_time` is
// lineItem/UsageStartDate; the event id is "<assemblyId>-<file>-<row>", so loading the same
// assembly again deduplicates and another assembly never collides.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include "cloudtrail/event.h"
#include "common/status.h"

namespace cairn::billing {

inline constexpr std::string_view kIndex = "aws-billing";
inline constexpr std::string_view kSourcetype = "aws:billing:cur";

struct CurColumn {
  std::string category;  // "lineItem"
  std::string name;      // "UnblendedCost"
  std::string type;      // "OptionalBigDecimal", "String", "DateTime", ...
  // The CSV header's name: "category/name" (legacy CUR), or the name alone (CUR 2.0).
  std::string FullName() const { return category.empty() ? name : category + "/" + name; }
};

struct CurManifest {
  bool cur2 = false;        // a Data Exports (CUR 2.0) manifest: executionId, dataFiles
  std::string assembly_id;  // legacy: assemblyId; CUR 2.0: executionId
  std::string account;      // the payer account
  std::string report_id;
  std::string report_name;
  std::string bucket;
  std::string compression;   // "GZIP", "ZIP", "Parquet"
  std::string content_type;  // "text/csv", "Parquet"
  std::string period_start;  // "20261101T000000.000Z"
  std::string period_end;
  std::vector<CurColumn> columns;
  std::vector<std::string> report_keys;

  // "20261101-20261201": the period's folder name.
  std::string PeriodFolder() const;
  int64_t PeriodStartMs() const;  // checked by ParseCurManifest
  // The store's replacement group of this report's period: "cur/<report>/<period folder>"
  // ("cur2/<export>/<period folder>" for CUR 2.0).
  std::string Group() const;
};

// InvalidArgument naming `name` when the JSON is malformed or lacks assemblyId, billingPeriod,
// reportKeys or columns; Unsupported for Parquet reports.
Result<CurManifest> ParseCurManifest(std::string_view json, std::string_view name);
// The JSON of `m` (the generator writes it; ParseCurManifest reads it back).
std::string EncodeCurManifest(const CurManifest& m);

// Whether `text` is a JSON number exactly as written (so it can be copied into the event).
bool IsJsonNumber(std::string_view text);

// Replaces `*raw` with a row's JSON object: each non-empty field `f[i]` under `names[i]` (a quoted
// JSON key with its colon), copied as a number when `numeric[i]` and it is one, else as a string.
void RowToJson(const std::vector<std::string>& names, const std::vector<char>& numeric,
               const std::vector<std::string_view>& f, std::string* raw);

// Holds event texts for a batch in large shared chunks, each text followed by at least
// cloudtrail::kJsonPadding readable bytes, so the store parses them where they are instead of
// copying each into a padded buffer of its own.
class TextArena {
 public:
  cloudtrail::SharedText Put(std::string_view text);

 private:
  std::shared_ptr<char[]> chunk_;
  size_t used_ = 0;
  size_t cap_ = 0;
};

// Turns the rows of one report file into events. Built from the file's header row and the
// manifest's column types.
class RowConverter {
 public:
  // `arena` (optional, outliving the converter) receives the events' texts.
  RowConverter(const std::vector<std::string_view>& header, const CurManifest& manifest,
               std::string source, int file_number, int64_t fallback_time_ms,
               TextArena* arena = nullptr);
  // InvalidArgument (naming the source and row) when the row has another number of fields than
  // the header or no usable time.
  Status Convert(const std::vector<std::string_view>& fields, uint64_t row, cloudtrail::Event* out);
  // Sum of lineItem/UnblendedCost over the rows converted (for the ledger and tests).
  double unblended_total() const { return unblended_total_; }
  bool saw_invoice() const { return saw_invoice_; }
  size_t columns() const { return names_.size(); }

 private:
  std::vector<std::string> names_;  // quoted JSON keys with the colon: "\"lineItem/X\":"
  std::vector<char> numeric_;
  int time_col_ = -1, account_col_ = -1, cost_col_ = -1, invoice_col_ = -1;
  std::string prefix_;             // "<assemblyId>-<file>-"
  cloudtrail::SharedText source_;  // a shared view: copying it into each event is free
  TextArena* arena_;
  std::string scratch_;
  int64_t fallback_time_ms_;
  double unblended_total_ = 0;
  bool saw_invoice_ = false;
};

}  // namespace cairn::billing
