#include "billing/generator.h"

#include <zlib.h>

#include <array>

#include "billing/cur.h"
#include "billing/zip.h"
#include "common/fs.h"
#include "common/time_util.h"
#include "generate/prng.h"

namespace cairn::billing {
namespace {

using generate::MixSeed;
using generate::Rng;

constexpr std::string_view kPayer = "111111111111";
constexpr std::array<std::string_view, 3> kAccounts = {"111111111111", "222222222222",
                                                       "333333333333"};

struct Service {
  std::string_view code, name, usage_type, operation, unit, description;
  uint64_t rate_nanos;  // USD per unit, in 1e-9
  uint64_t max_amount;  // usage amount per row, in 1e-3 units
};
// The description column holds commas and quotes, as AWS's do, so CSV quoting is exercised.
constexpr std::array<Service, 8> kServices = {{
    {"AmazonEC2", "Amazon Elastic Compute Cloud", "BoxUsage:t3.medium", "RunInstances", "Hrs",
     "$0.0416 per On Demand Linux t3.medium Instance Hour", 41'600'000, 1'000},
    {"AmazonS3", "Amazon Simple Storage Service", "TimedStorage-ByteHrs", "StandardStorage",
     "GB-Mo", "$0.023 per GB - first 50 TB / month of storage used, \"Standard\" class", 23'000'000,
     500'000},
    {"AmazonRDS", "Amazon Relational Database Service", "InstanceUsage:db.t3.large",
     "CreateDBInstance:0002", "Hrs",
     "$0.136 per RDS db.t3.large instance hour (or partial hour) running MySQL", 136'000'000,
     1'000},
    {"AWSLambda", "AWS Lambda", "Lambda-GB-Second", "Invoke", "Lambda-GB-Second",
     "AWS Lambda - Total Compute - US East (Northern Virginia)", 16'667, 3'600'000},
    {"AmazonCloudWatch", "AmazonCloudWatch", "CW:MetricMonitorUsage", "MetricStorage", "Metrics",
     "$0.30 per metric-month - first 10,000 metrics", 300'000'000, 100},
    {"AmazonDynamoDB", "Amazon DynamoDB", "ReadRequestUnits", "GetItem", "ReadRequestUnits",
     "$0.25 per million read request units", 250, 90'000'000},
    {"AWSCloudTrail", "AWS CloudTrail", "PaidEventsRecorded", "None", "Events",
     "0.00002 per event recorded in additional trails", 20'000, 900'000},
    {"AmazonVPC", "Amazon Virtual Private Cloud", "NatGateway-Hours", "NatGateway", "Hrs",
     "$0.045 per NAT Gateway Hour", 45'000'000, 1'000},
}};

constexpr std::array<std::string_view, 4> kRegions = {"us-east-1", "us-west-2", "eu-west-1",
                                                      "ap-southeast-2"};
constexpr std::array<std::string_view, 6> kTeams = {"platform", "data", "web",
                                                    "security", "ml",   "finance"};
constexpr std::array<std::string_view, 3> kEnvs = {"prod", "staging", "dev"};

std::vector<CurColumn> Columns(bool many) {
  std::vector<CurColumn> c = {
      {"identity", "LineItemId", "String"},
      {"identity", "TimeInterval", "Interval"},
      {"bill", "InvoiceId", "String"},
      {"bill", "BillingEntity", "String"},
      {"bill", "BillType", "String"},
      {"bill", "PayerAccountId", "String"},
      {"bill", "BillingPeriodStartDate", "DateTime"},
      {"bill", "BillingPeriodEndDate", "DateTime"},
      {"lineItem", "UsageAccountId", "String"},
      {"lineItem", "LineItemType", "String"},
      {"lineItem", "UsageStartDate", "DateTime"},
      {"lineItem", "UsageEndDate", "DateTime"},
      {"lineItem", "ProductCode", "String"},
      {"lineItem", "UsageType", "String"},
      {"lineItem", "Operation", "String"},
      {"lineItem", "AvailabilityZone", "String"},
      {"lineItem", "ResourceId", "String"},
      {"lineItem", "UsageAmount", "OptionalBigDecimal"},
      {"lineItem", "CurrencyCode", "String"},
      {"lineItem", "UnblendedRate", "OptionalBigDecimal"},
      {"lineItem", "UnblendedCost", "OptionalBigDecimal"},
      {"lineItem", "BlendedRate", "OptionalBigDecimal"},
      {"lineItem", "BlendedCost", "OptionalBigDecimal"},
      {"lineItem", "LineItemDescription", "String"},
      {"product", "ProductName", "String"},
      {"product", "region", "String"},
      {"pricing", "unit", "String"},
      {"pricing", "publicOnDemandRate", "OptionalBigDecimal"},
      {"resourceTags", "user:team", "String"},
      {"resourceTags", "user:env", "String"},
      {"resourceTags", "user:cost-center", "String"},
  };
  if (many) {
    for (std::string_view t :
         {"user:app", "user:owner", "user:ticket", "user:build", "aws:createdBy"}) {
      c.push_back({"resourceTags", std::string(t), "String"});
    }
  }
  return c;
}

void AppendCsvField(std::string* out, std::string_view v) {
  if (v.find_first_of(",\"\r\n") == std::string_view::npos) {
    out->append(v);
    return;
  }
  *out += '"';
  for (char c : v) {
    if (c == '"') *out += '"';
    *out += c;
  }
  *out += '"';
}

std::string Decimal(uint64_t nanos) {
  return fmt::format("{}.{:09}", nanos / 1'000'000'000, nanos % 1'000'000'000);
}

// gzip of `text` (zlib, level 1, one member, no name and mtime 0: the same bytes every time).
Result<std::string> Gzip(std::string_view text) {
  z_stream z{};
  if (deflateInit2(&z, 1, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
    return Internal("deflateInit2 failed");
  }
  std::string out;
  out.resize(deflateBound(&z, text.size()) + 64);
  z.next_in = reinterpret_cast<Bytef*>(const_cast<char*>(text.data()));
  z.avail_in = static_cast<uInt>(text.size());
  z.next_out = reinterpret_cast<Bytef*>(out.data());
  z.avail_out = static_cast<uInt>(out.size());
  int rc = deflate(&z, Z_FINISH);
  size_t n = z.total_out;
  deflateEnd(&z);
  if (rc != Z_STREAM_END) return Internal("deflate failed ({})", rc);
  out.resize(n);
  return out;
}

}  // namespace

Result<CurGenResult> GenerateCur(const CurGenOptions& o) {
  if (o.out_dir.empty()) return InvalidArgument("generate billing: no output folder");
  if (o.assemblies < 1 || o.assemblies > 100) return InvalidArgument("assemblies must be 1..100");
  if (o.month < 1 || o.month > 12) return InvalidArgument("month must be 1..12");
  if (o.profile != "few" && o.profile != "many") {
    return InvalidArgument("billing profile \"{}\" is not few or many", o.profile);
  }
  if (o.rows_per_file == 0 || o.rows_per_file > 4'000'000)
    return InvalidArgument("rows per file must be 1..4000000");
  if (o.compression != "GZIP" && o.compression != "ZIP") {
    return InvalidArgument("billing compression \"{}\" is not GZIP or ZIP", o.compression);
  }
  const bool zip = o.compression == "ZIP";
  const bool many = o.profile == "many";
  FileSystem* fs = FileSystem::Default();
  const int64_t start_day = DaysFromCivil(o.year, o.month, 1);
  const int64_t end_day =
      DaysFromCivil(o.month == 12 ? o.year + 1 : o.year, o.month == 12 ? 1 : o.month + 1, 1);
  const int64_t days = end_day - start_day;
  const int64_t start_ms = start_day * 86'400'000;
  auto compact = [](int64_t day) {
    int64_t y;
    unsigned m, d;
    CivilFromDays(day, &y, &m, &d);
    return fmt::format("{:04}{:02}{:02}", y, m, d);
  };
  CurGenResult result;
  result.period = compact(start_day) + "-" + compact(end_day);
  const std::string base = o.prefix.empty() ? o.report : o.prefix + "/" + o.report;
  const std::string period_dir = base + "/" + result.period;
  const std::vector<CurColumn> columns = Columns(many);
  const std::string period_start = FormatIso8601(start_ms);
  const std::string period_end = FormatIso8601(end_day * 86'400'000);
  const uint64_t resources = many ? std::max<uint64_t>(64, o.rows / 8) : 40;

  CurManifest last_manifest;
  for (int a = 1; a <= o.assemblies; ++a) {
    Rng idr(MixSeed({o.seed, 0xA55E, static_cast<uint64_t>(a)}));
    GeneratedAssembly ga;
    ga.assembly_id = fmt::format("{:08x}-{:04x}-4{:03x}-8{:03x}-{:012x}", idr.Next() & 0xffffffff,
                                 idr.Next() & 0xffff, idr.Next() & 0xfff, idr.Next() & 0xfff,
                                 idr.Next() & 0xffffffffffff);
    // Assembly a covers the first a/assemblies of the month; its rows scale with it.
    const int64_t covered_days = std::max<int64_t>(1, days * a / o.assemblies);
    const uint64_t rows = std::max<uint64_t>(1, o.rows * static_cast<uint64_t>(a) / o.assemblies);
    const bool invoiced = o.final_invoice && a == o.assemblies;
    const std::string adir = period_dir + "/" + ga.assembly_id;
    RETURN_IF_ERROR(fs->CreateDirs(JoinPath(o.out_dir, adir)));
    // Rows are a function of (seed, row index), revised by the assembly (estimates change), so
    // the assemblies differ in rows and in costs.
    uint64_t row = 0;
    int file_no = 0;
    while (row < rows) {
      ++file_no;
      const uint64_t file_rows = std::min(o.rows_per_file, rows - row);
      std::string text;
      text.reserve(file_rows * 700);
      for (size_t i = 0; i < columns.size(); ++i) {
        if (i) text += ',';
        text += columns[i].FullName();
      }
      text += '\n';
      for (uint64_t k = 0; k < file_rows; ++k, ++row) {
        Rng r(MixSeed({o.seed, row}));
        Rng rev(MixSeed({o.seed, row, static_cast<uint64_t>(a)}));
        const Service& svc = kServices[r.Below(kServices.size())];
        const uint64_t res = r.Below(resources);
        Rng rr(MixSeed({o.seed, 0x7E5, res}));  // the resource's own attributes
        const std::string_view account = kAccounts[rr.Below(kAccounts.size())];
        const std::string_view region = kRegions[rr.Below(kRegions.size())];
        const int64_t day =
            start_day + static_cast<int64_t>(r.Below(static_cast<uint64_t>(covered_days)));
        const int64_t hour = static_cast<int64_t>(r.Below(24));
        const int64_t t0 = day * 86'400'000 + hour * 3'600'000;
        const uint64_t amount_milli = 1 + r.Below(svc.max_amount);
        // cost = amount * rate, in nanodollars; revised by up to +-5% in each assembly.
        unsigned __int128 cost =
            static_cast<unsigned __int128>(amount_milli) * svc.rate_nanos / 1000;
        cost = cost * (95 + rev.Below(11)) / 100;
        const uint64_t cost_nanos = static_cast<uint64_t>(cost);
        ga.unblended_total += static_cast<double>(cost_nanos) / 1e9;
        std::vector<std::string> f;
        f.reserve(columns.size());
        f.push_back(
            fmt::format("{:016x}{:016x}", MixSeed({o.seed, row, 1}), MixSeed({o.seed, row, 2})));
        f.push_back(FormatIso8601(t0) + "/" + FormatIso8601(t0 + 3'600'000));
        f.push_back(invoiced ? fmt::format("EUINGB{:02}-{}", o.month, 1000 + o.seed % 9000) : "");
        f.push_back("AWS");
        f.push_back("Anniversary");
        f.push_back(std::string(kPayer));
        f.push_back(period_start);
        f.push_back(period_end);
        f.push_back(std::string(account));
        f.push_back("Usage");
        f.push_back(FormatIso8601(t0));
        f.push_back(FormatIso8601(t0 + 3'600'000));
        f.push_back(std::string(svc.code));
        f.push_back(std::string(svc.usage_type));
        f.push_back(std::string(svc.operation));
        f.push_back(fmt::format("{}{}", region, "abc"[rr.Below(3)]));
        f.push_back(fmt::format("arn:aws:{}:{}:{}:resource/{}-{:06}", svc.code, region, account,
                                svc.code, res));
        f.push_back(fmt::format("{}.{:03}", amount_milli / 1000, amount_milli % 1000));
        f.push_back("USD");
        f.push_back(Decimal(svc.rate_nanos));
        f.push_back(Decimal(cost_nanos));
        f.push_back(Decimal(svc.rate_nanos));
        f.push_back(Decimal(cost_nanos));
        f.push_back(std::string(svc.description));
        f.push_back(std::string(svc.name));
        f.push_back(std::string(region));
        f.push_back(std::string(svc.unit));
        f.push_back(Decimal(svc.rate_nanos));
        // Tags: a resource has its tags (some untagged).
        const bool tagged = rr.Below(10) < 8;
        f.push_back(tagged ? std::string(kTeams[rr.Below(kTeams.size())]) : "");
        f.push_back(tagged ? std::string(kEnvs[rr.Below(kEnvs.size())]) : "");
        f.push_back(tagged ? fmt::format("CC-{}", 100 + rr.Below(many ? 900 : 5)) : "");
        if (many) {
          f.push_back(fmt::format("app-{}", rr.Below(2000)));
          f.push_back(fmt::format("user{}@example.com", rr.Below(5000)));
          f.push_back(rr.Below(2) ? fmt::format("OPS-{}", rr.Below(100000)) : "");
          f.push_back(fmt::format("build-{:x}", rr.Next() & 0xffffff));
          f.push_back(fmt::format("AssumedRole:AROA{:016X}:session-{}", rr.Next(), rr.Below(300)));
        }
        for (size_t i = 0; i < f.size(); ++i) {
          if (i) text += ',';
          AppendCsvField(&text, f[i]);
        }
        text += '\n';
      }
      const std::string key =
          fmt::format("{}/{}-{}.csv.{}", adir, o.report, file_no, zip ? "zip" : "gz");
      if (zip) {
        RETURN_IF_ERROR(
            WriteZip(JoinPath(o.out_dir, key), fmt::format("{}-{}.csv", o.report, file_no), text));
      } else {
        ASSIGN_OR_RETURN(std::string gz, Gzip(text));
        RETURN_IF_ERROR(WriteFileAtomic(fs, JoinPath(o.out_dir, key), gz));
      }
      ga.report_keys.push_back(key);
    }
    ga.rows = rows;
    CurManifest m;
    m.assembly_id = ga.assembly_id;
    m.account = std::string(kPayer);
    m.columns = columns;
    m.compression = o.compression;
    m.content_type = "text/csv";
    m.report_id = fmt::format("{:016x}", MixSeed({o.seed, 0x4E9}));
    m.report_name = o.report;
    m.bucket = o.bucket;
    m.period_start = compact(start_day) + "T000000.000Z";
    m.period_end = compact(end_day) + "T000000.000Z";
    m.report_keys = ga.report_keys;
    ga.manifest_key = adir + "/" + o.report + "-Manifest.json";
    RETURN_IF_ERROR(
        WriteFileAtomic(fs, JoinPath(o.out_dir, ga.manifest_key), EncodeCurManifest(m)));
    last_manifest = m;
    result.assemblies.push_back(std::move(ga));
  }
  result.period_manifest_key = period_dir + "/" + o.report + "-Manifest.json";
  RETURN_IF_ERROR(WriteFileAtomic(fs, JoinPath(o.out_dir, result.period_manifest_key),
                                  EncodeCurManifest(last_manifest)));
  return result;
}

namespace {

// "2026-11-03 05:00:00": the DBR's time form.
std::string DbrTime(int64_t ms) {
  std::string iso = FormatIso8601(ms);  // 2026-11-03T05:00:00Z
  return iso.substr(0, 10) + " " + iso.substr(11, 8);
}

std::string SignedDecimal(int64_t nanos) {
  return nanos < 0 ? "-" + Decimal(static_cast<uint64_t>(-nanos))
                   : Decimal(static_cast<uint64_t>(nanos));
}

}  // namespace

Result<DbrGenResult> GenerateDbr(const DbrGenOptions& o) {
  if (o.out_dir.empty()) return InvalidArgument("generate billing: no output folder");
  if (o.versions < 1 || o.versions > 100) return InvalidArgument("versions must be 1..100");
  if (o.month < 1 || o.month > 12) return InvalidArgument("month must be 1..12");
  if (o.rows > 20'000'000) return InvalidArgument("DBR rows must be at most 20000000");
  FileSystem* fs = FileSystem::Default();
  DbrGenResult result;
  result.month = fmt::format("{:04}-{:02}", o.year, o.month);
  result.key = fmt::format("{}-aws-billing-detailed-line-items{}-{}.csv.zip", kPayer,
                           o.with_tags ? "-with-resources-and-tags" : "", result.month);
  if (!o.prefix.empty()) result.key = o.prefix + "/" + result.key;
  const int64_t start_day = DaysFromCivil(o.year, static_cast<unsigned>(o.month), 1);
  const int64_t end_day = DaysFromCivil(o.month == 12 ? o.year + 1 : o.year,
                                        static_cast<unsigned>(o.month == 12 ? 1 : o.month + 1), 1);
  const int64_t days = end_day - start_day;
  std::vector<std::string> header = {
      "InvoiceID",    "PayerAccountId",   "LinkedAccountId",  "RecordType",      "RecordId",
      "ProductName",  "RateId",           "SubscriptionId",   "PricingPlanId",   "UsageType",
      "Operation",    "AvailabilityZone", "ReservedInstance", "ItemDescription", "UsageStartDate",
      "UsageEndDate", "UsageQuantity",    "BlendedRate",      "BlendedCost",     "UnBlendedRate",
      "UnBlendedCost"};
  if (o.with_tags) {
    for (std::string_view h :
         {"ResourceId", "user:team", "user:env", "user:cost-center", "aws:createdBy"}) {
      header.emplace_back(h);
    }
  }
  for (int v = 1; v <= o.versions; ++v) {
    GeneratedDbrVersion gv;
    gv.bucket_dir = JoinPath(o.out_dir, fmt::format("v{}", v));
    const int64_t covered_days = std::max<int64_t>(1, days * v / o.versions);
    const uint64_t rows = std::max<uint64_t>(1, o.rows * static_cast<uint64_t>(v) / o.versions);
    const std::string invoice = o.final_invoice && v == o.versions
                                    ? fmt::format("{}", 100'000'000 + o.seed % 1000)
                                    : "Estimated";
    std::string text;
    text.reserve(rows * 400 + 4096);
    auto put_row = [&](const std::vector<std::string>& f) {
      for (size_t i = 0; i < header.size(); ++i) {
        if (i) text += ',';
        if (i < f.size()) AppendCsvField(&text, f[i]);
      }
      text += '\n';
    };
    put_row(header);
    std::array<int64_t, kAccounts.size()> by_account{};
    int64_t total = 0;
    uint64_t record = 0;
    for (uint64_t row = 0; row < rows; ++row) {
      Rng r(MixSeed({o.seed, 0xDB2, row}));
      Rng rev(MixSeed({o.seed, 0xDB2, row, static_cast<uint64_t>(v)}));
      const Service& svc = kServices[r.Below(kServices.size())];
      const uint64_t res = r.Below(40);
      Rng rr(MixSeed({o.seed, 0x7E5, res}));
      const size_t acct = rr.Below(kAccounts.size());
      const std::string_view region = kRegions[rr.Below(kRegions.size())];
      const int64_t day =
          start_day + static_cast<int64_t>(r.Below(static_cast<uint64_t>(covered_days)));
      const int64_t t0 = day * 86'400'000 + static_cast<int64_t>(r.Below(24)) * 3'600'000;
      const uint64_t amount_milli = 1 + r.Below(svc.max_amount);
      unsigned __int128 cost = static_cast<unsigned __int128>(amount_milli) * svc.rate_nanos / 1000;
      cost = cost * (95 + rev.Below(11)) / 100;
      const auto cost_nanos = static_cast<int64_t>(cost);
      by_account[acct] += cost_nanos;
      total += cost_nanos;
      std::vector<std::string> f = {
          invoice,
          std::string(kPayer),
          std::string(kAccounts[acct]),
          "LineItem",
          fmt::format("{}", 400'000'000'000'000'000ULL + MixSeed({o.seed, row}) % 1'000'000'000),
          std::string(svc.name),
          fmt::format("{}", 10'000'000 + svc.rate_nanos % 9'000'000),
          fmt::format("{}", 1'000'000 + rr.Below(9'000'000)),
          fmt::format("{}", 2'000'000 + rr.Below(9'000'000)),
          std::string(svc.usage_type),
          std::string(svc.operation),
          fmt::format("{}{}", region, "abc"[rr.Below(3)]),
          "N",
          std::string(svc.description),
          DbrTime(t0),
          DbrTime(t0 + 3'600'000),
          fmt::format("{}.{:03}", amount_milli / 1000, amount_milli % 1000),
          Decimal(svc.rate_nanos),
          SignedDecimal(cost_nanos),
          Decimal(svc.rate_nanos),
          SignedDecimal(cost_nanos)};
      if (o.with_tags) {
        const bool tagged = rr.Below(10) < 8;
        f.push_back(fmt::format("arn:aws:{}:{}:{}:resource/{}-{:06}", svc.code, region,
                                kAccounts[acct], svc.code, res));
        f.push_back(tagged ? std::string(kTeams[rr.Below(kTeams.size())]) : "");
        f.push_back(tagged ? std::string(kEnvs[rr.Below(kEnvs.size())]) : "");
        f.push_back(tagged ? fmt::format("CC-{}", 100 + rr.Below(5)) : "");
        f.push_back(tagged ? "AssumedRole:AROAEXAMPLE:deployer" : "");
      }
      put_row(f);
      ++record;
    }
    gv.line_items = rows;
    // The Rounding row: the difference AWS's rounding of blended costs leaves, a real charge.
    Rng rounding(MixSeed({o.seed, 0x40D, static_cast<uint64_t>(v)}));
    const int64_t round_nanos = static_cast<int64_t>(rounding.Below(2001)) - 1000;
    total += round_nanos;
    by_account[0] += round_nanos;
    std::vector<std::string> round_row(header.size());
    round_row[0] = invoice;
    round_row[1] = std::string(kPayer);
    round_row[3] = "Rounding";
    round_row[13] = "Rounding of the unblended costs of the line items to the invoice's precision";
    round_row[18] = SignedDecimal(round_nanos);
    round_row[20] = SignedDecimal(round_nanos);
    put_row(round_row);
    // The summary rows restate sums of the rows above.
    for (size_t a = 0; a < kAccounts.size(); ++a) {
      std::vector<std::string> t(header.size());
      t[0] = invoice;
      t[1] = std::string(kPayer);
      t[2] = std::string(kAccounts[a]);
      t[3] = "AccountTotal";
      t[13] = fmt::format("Total for linked account# {}", kAccounts[a]);
      t[18] = SignedDecimal(by_account[a]);
      t[20] = SignedDecimal(by_account[a]);
      put_row(t);
    }
    for (std::string_view type : {"InvoiceTotal", "StatementTotal"}) {
      std::vector<std::string> t(header.size());
      t[0] = invoice;
      t[1] = std::string(kPayer);
      t[3] = std::string(type);
      t[13] = type == "InvoiceTotal"
                  ? fmt::format("Total for invoice {}", invoice)
                  : fmt::format("Total statement amount for period {}-01 00:00:00 - {}",
                                result.month, DbrTime(end_day * 86'400'000));
      t[18] = SignedDecimal(total);
      t[20] = SignedDecimal(total);
      put_row(t);
    }
    gv.summary_rows = kAccounts.size() + 2;
    gv.charge_total = static_cast<double>(total) / 1e9;
    gv.statement_total = gv.charge_total;
    const std::string entry = result.key.substr(result.key.rfind('/') + 1, std::string::npos);
    const std::string entry_name = entry.substr(0, entry.size() - 4);  // without ".zip"
    const std::string path = JoinPath(gv.bucket_dir, result.key);
    RETURN_IF_ERROR(fs->CreateDirs(DirName(path)));
    RETURN_IF_ERROR(WriteZip(path, entry_name, text));
    if (v == o.versions) {
      const std::string now = JoinPath(o.out_dir, result.key);
      RETURN_IF_ERROR(fs->CreateDirs(DirName(now)));
      RETURN_IF_ERROR(WriteZip(now, entry_name, text));
    }
    if (o.plain_csv) {
      gv.csv_path = JoinPath(o.out_dir, fmt::format("csv/v{}.csv", v));
      RETURN_IF_ERROR(fs->CreateDirs(DirName(gv.csv_path)));
      RETURN_IF_ERROR(WriteFileAtomic(fs, gv.csv_path, text));
    }
    result.versions.push_back(std::move(gv));
  }
  return result;
}

}  // namespace cairn::billing
