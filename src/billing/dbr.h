#pragma once
// The Detailed Billing Report (DBR), the CUR's predecessor, as cairn reads it (docs/billing.md,
// "Detailed Billing Reports"): one object per payer account and month at the top of the report
// bucket (or under a prefix), rewritten by AWS several times a month,
//
//   <account>-aws-billing-detailed-line-items-with-resources-and-tags-YYYY-MM.csv.zip
//   <account>-aws-billing-detailed-line-items-YYYY-MM.csv.zip
//
// each a ZIP archive of one CSV (zip.h). A row becomes an event of sourcetype aws:billing:dbr with
// the DBR's own column names as fields (InvoiceID, LinkedAccountId, ProductName, UnBlendedCost,
// user:team, ...); the cost and quantity columns are JSON numbers; `_time` is UsageStartDate
// ("YYYY-MM-DD HH:MM:SS", UTC).
//
// Only rows that are charges become events: RecordType LineItem and Rounding. The summary rows
// (StatementTotal, InvoiceTotal, AccountTotal and any other record type) restate sums of those and
// are counted, not loaded, so `stats sum(UnBlendedCost)` is the bill.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "billing/cur.h"
#include "cloudtrail/event.h"
#include "common/status.h"

namespace cairn::billing {

inline constexpr std::string_view kDbrSourcetype = "aws:billing:dbr";

struct DbrObject {
  std::string key;         // the full key
  std::string account;     // the payer account (12 digits)
  std::string month;       // "YYYY-MM"
  bool with_tags = false;  // the "-with-resources-and-tags" report
  // The store's replacement group of the month: "dbr/<account>/<YYYY-MM>".
  std::string Group() const { return "dbr/" + account + "/" + month; }
};

// `key` (bucket-relative) when it names a DBR object directly under `prefix` ("" for the bucket's
// top); nullopt otherwise (other reports, the monthly "aws-billing-csv" summary, deeper keys).
std::optional<DbrObject> ParseDbrKey(std::string_view key, std::string_view prefix);

// The DBR objects among `keys` under `prefix`, one per account and month: where both detailed
// reports exist for a month, the one with resources and tags (the other holds the same charges
// without those columns; loading both would count each twice). Sorted by month, then account.
std::vector<DbrObject> ChooseDbrObjects(const std::vector<std::string>& keys,
                                        std::string_view prefix);

// "2026-11-03 05:00:00" (the DBR's form) or ISO 8601, as milliseconds since the epoch (UTC).
std::optional<int64_t> ParseDbrTime(std::string_view text);

// Turns the rows of one DBR CSV into events. Built from its header row.
class DbrRowConverter {
 public:
  // InvalidArgument (naming `source`) when the header lacks RecordType or a cost column.
  static Result<DbrRowConverter> Make(const std::vector<std::string_view>& header,
                                      std::string source, std::string version,
                                      int64_t fallback_time_ms, TextArena* arena);
  // Fills `out` for a charge row (true), or counts a summary row and returns false.
  // InvalidArgument (naming the source and row) when the row has another number of fields than
  // the header or an unreadable UsageStartDate.
  Result<bool> Convert(const std::vector<std::string_view>& fields, uint64_t row,
                       cloudtrail::Event* out);
  double unblended_total() const { return unblended_total_; }  // over the charge rows
  // The StatementTotal row's UnBlendedCost (the report's own total), when it has one.
  std::optional<double> statement_total() const { return statement_total_; }
  uint64_t summary_rows() const { return summary_rows_; }
  // An InvoiceID other than "Estimated" on a charge row: AWS issued the month's invoice.
  bool saw_invoice() const { return saw_invoice_; }

 private:
  DbrRowConverter() = default;
  std::vector<std::string> names_;  // quoted JSON keys with the colon
  std::vector<char> numeric_;
  int time_col_ = -1, account_col_ = -1, payer_col_ = -1, cost_col_ = -1, type_col_ = -1,
      invoice_col_ = -1;
  std::string prefix_;  // "<version>-"
  cloudtrail::SharedText source_;
  TextArena* arena_ = nullptr;
  std::string scratch_;
  int64_t fallback_time_ms_ = 0;
  double unblended_total_ = 0;
  std::optional<double> statement_total_;
  uint64_t summary_rows_ = 0;
  bool saw_invoice_ = false;
};

}  // namespace cairn::billing
