#pragma once
// Loads Cost and Usage Reports into the store: for each billing period, the assembly its
// period-level manifest names, staged as a replacement group version and published in one
// manifest swap (store.h, "Replacement groups"), so searches see exactly one assembly of a period.
//
// Where the report's files come from is a ReportSource: a local folder laid out as the bucket
// (tests, `cairn billing load`), or the bucket itself through S3 (`cairn billing collect`).
//
// Idempotence: the store's replacement groups say which assembly of each period is live; a period
// whose manifest names that assembly (with nothing staged) is skipped. A load interrupted at any
// point resumes: its staged part deduplicates and the publish happens once. The ledger file
// (<data>/billing/ledger.json) records what was loaded, totals and whether a period is final,
// for people and `cairn billing status`; it is not needed for correctness.
//
// Thread safety: one Loader per thread; it commits from one helper thread while it parses.

#include <atomic>
#include <cstdint>
#include <limits>
#include <map>
#include <memory>
#include <string>
#include <vector>

#include "aws/s3.h"
#include "billing/cur.h"
#include "billing/dbr.h"
#include "billing/zip.h"
#include "common/fs.h"
#include "common/status.h"
#include "store/store.h"

namespace cairn::billing {

class ReportSource {
 public:
  virtual ~ReportSource() = default;
  // Keys (bucket-relative, "/"-separated) under `prefix`, sorted.
  virtual Result<std::vector<std::string>> List(const std::string& prefix) = 0;
  // A small object (a manifest) in memory; NotFound when absent.
  virtual Result<std::string> Read(const std::string& key) = 0;
  // The object's bytes as a stream (downloaded first when remote).
  virtual Result<std::unique_ptr<SequentialFile>> Open(const std::string& key) = 0;
  // The object's bytes with random access (a ZIP archive's directory is at its end; downloaded
  // first when remote). Unsupported unless the source overrides it.
  virtual Result<std::unique_ptr<RandomAccessFile>> OpenRandom(const std::string& key);
  // "s3://bucket/key" or the local path, for events' `source` and messages.
  virtual std::string Describe(const std::string& key) const = 0;
};

// A local folder standing for the bucket: key K is <root>/K.
std::unique_ptr<ReportSource> NewLocalSource(std::string root,
                                             FileSystem* fs = FileSystem::Default());
// The bucket through S3. Report files are downloaded to `tmp_dir` (removed after reading).
std::unique_ptr<ReportSource> NewS3Source(aws::S3Client* s3, std::string bucket,
                                          std::string tmp_dir);

struct LoadOptions {
  std::string index = std::string(kIndex);
  // Rows buffered (per UTC day) before the fullest days are committed, about half of them per
  // staged commit. Memory is about 1 KB per buffered row, twice (one commit in flight).
  size_t batch_rows = 120'000;
  std::string ledger_path;  // "" = no ledger
  // Checked between rows: when it turns true the load returns Cancelled, leaving what it staged
  // for the next run to finish.
  const std::atomic<bool>* stop = nullptr;
  // What a ZIP archive (a DBR, a ZIP-compressed CUR file) may declare (zip.h).
  ZipLimits zip_limits;
};

struct AssemblyResult {
  std::string group;   // "cur/<report>/<YYYYMMDD-YYYYMMDD>"
  std::string period;  // "YYYYMMDD-YYYYMMDD"
  std::string assembly_id;
  std::string manifest_key;
  bool skipped = false;          // already the live assembly: nothing read
  uint64_t rows = 0;             // rows read
  uint64_t added = 0;            // events stored by this run (rows deduplicated against an
                                 // interrupted earlier run of the same assembly are not)
  uint64_t replaced_events = 0;  // events of the previous assembly dropped
  double unblended_total = 0;    // sum of lineItem/UnblendedCost over the rows read
  bool finalised = false;        // bill/InvoiceId was set: AWS issued the invoice
  uint64_t files = 0;
  uint64_t summary_rows = 0;  // DBR: StatementTotal, InvoiceTotal... rows counted, not loaded
  // DBR: the report's StatementTotal UnBlendedCost, when it has that row (NaN otherwise).
  double statement_total = std::numeric_limits<double>::quiet_NaN();
  // LoadDbr: why this object was not loaded (nothing of it is searched); "" when it was.
  std::string error;
};

class Loader {
 public:
  Loader(store::Store* store, ReportSource* source, LoadOptions options);
  // Loads the assembly described by the manifest at `manifest_key` (period-level or
  // assembly-level; both name one assembly).
  Result<AssemblyResult> LoadManifest(const std::string& manifest_key);
  // Every period of report `report` under `prefix` ("" for none): each period folder's
  // <report>-Manifest.json. `periods` non-empty: only those period folders ("20261101-20261201").
  Result<std::vector<AssemblyResult>> LoadReport(const std::string& prefix,
                                                 const std::string& report,
                                                 const std::vector<std::string>& periods = {});
  // Every Detailed Billing Report object directly under `prefix` ("" for the bucket's top), one
  // per payer account and month (dbr.h, ChooseDbrObjects), months from..to ("YYYYMM", "" for
  // unbounded). Each object is the month's replacement group "dbr/<account>/<YYYY-MM>" with the
  // version "<CRC-32 of the CSV>-<its size>" (from the ZIP directory), so a rewritten object
  // replaces the month's rows in one swap and the same object again is skipped. An object that
  // cannot be read (a hostile or damaged archive, a malformed CSV) is reported in its result's
  // `error` and leaves the month as it was; the others still load. Only a stop (Cancelled) or a
  // failure to list ends the call early.
  Result<std::vector<AssemblyResult>> LoadDbr(const std::string& prefix,
                                              const std::string& from_month = "",
                                              const std::string& to_month = "");
  // One DBR object.
  Result<AssemblyResult> LoadDbrObject(const DbrObject& object);

 private:
  // Makes the staged version of r's group live (r->replaced_events: the previous version's
  // events dropped), then records it in the ledger.
  Status Publish(AssemblyResult* r);
  Status RecordInLedger(const AssemblyResult& r);
  // A report file as a CSV stream: gunzipped, unzipped (".zip", zip.h) or as it is.
  Result<std::unique_ptr<SequentialFile>> OpenReportFile(const std::string& key,
                                                         ZipEntryInfo* zip_info = nullptr);
  store::Store* store_;
  ReportSource* source_;
  LoadOptions options_;
};

// The report's period folders under `prefix`/`report`/ that hold a period-level manifest, sorted:
// "YYYYMMDD-YYYYMMDD" (legacy CUR, <report>-Manifest.json in it) or
// "metadata/BILLING_PERIOD=YYYY-MM" (a CUR 2.0 data export named `report`).
Result<std::vector<std::string>> ListPeriods(ReportSource* source, const std::string& prefix,
                                             const std::string& report);

// The month "YYYYMM" of a period folder of either form ("" when it is neither).
std::string PeriodMonth(std::string_view period_folder);

}  // namespace cairn::billing
