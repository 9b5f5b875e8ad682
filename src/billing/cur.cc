#include "billing/cur.h"

#include <simdjson.h>

#include <algorithm>
#include <charconv>
#include <cstdlib>
#include <cstring>

#include "common/json_util.h"
#include "common/time_util.h"

namespace cairn::billing {

std::string CurManifest::PeriodFolder() const {
  return period_start.substr(0, 8) + "-" + period_end.substr(0, 8);
}

std::string CurManifest::Group() const {
  // Report names may hold ! * ' ( ), which a group name may not: they become '_'.
  std::string name = report_name;
  for (char& c : name) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.';
    if (!ok) c = '_';
  }
  return (cur2 ? "cur2/" : "cur/") + name + "/" + PeriodFolder();
}

namespace {
std::optional<int64_t> ParsePeriodTime(std::string_view s);

bool IsDigits(std::string_view s) {
  if (s.empty()) return false;
  for (char c : s) {
    if (c < '0' || c > '9') return false;
  }
  return true;
}

// "20261101T000000.000Z" (what CUR manifests hold) or "2026-11-01T00:00:00Z".
std::optional<int64_t> ParsePeriodTime(std::string_view s) {
  if (s.size() >= 15 && IsDigits(s.substr(0, 8)) && s[8] == 'T') {
    std::string iso = fmt::format("{}-{}-{}T{}:{}:{}Z", s.substr(0, 4), s.substr(4, 2),
                                  s.substr(6, 2), s.substr(9, 2), s.substr(11, 2), s.substr(13, 2));
    return ParseIso8601Millis(iso);
  }
  return ParseIso8601Millis(s);
}

}  // namespace

int64_t CurManifest::PeriodStartMs() const { return ParsePeriodTime(period_start).value_or(0); }

void RowToJson(const std::vector<std::string>& names, const std::vector<char>& numeric,
               const std::vector<std::string_view>& f, std::string* raw) {
  raw->clear();
  *raw += '{';
  bool first = true;
  for (size_t i = 0; i < f.size(); ++i) {
    if (f[i].empty()) continue;
    if (!first) *raw += ',';
    first = false;
    *raw += names[i];
    if (numeric[i] && IsJsonNumber(f[i])) {
      *raw += f[i];
    } else {
      AppendJsonString(raw, f[i]);
    }
  }
  *raw += '}';
}

bool IsJsonNumber(std::string_view t) {
  size_t i = 0, n = t.size();
  if (i < n && t[i] == '-') ++i;
  if (i == n) return false;
  if (t[i] == '0') {
    ++i;
  } else if (t[i] >= '1' && t[i] <= '9') {
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
  } else {
    return false;
  }
  if (i < n && t[i] == '.') {
    ++i;
    size_t d = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == d) return false;
  }
  if (i < n && (t[i] == 'e' || t[i] == 'E')) {
    ++i;
    if (i < n && (t[i] == '+' || t[i] == '-')) ++i;
    size_t d = i;
    while (i < n && t[i] >= '0' && t[i] <= '9') ++i;
    if (i == d) return false;
  }
  return i == n;
}

Result<CurManifest> ParseCurManifest(std::string_view json, std::string_view name) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS || !root.is_object()) {
    return InvalidArgument("{}: not a JSON object (a CUR manifest was expected)", name);
  }
  CurManifest m;
  auto str = [&](simdjson::dom::element e, const char* key) -> std::string {
    std::string_view v;
    if (e[key].get(v) == simdjson::SUCCESS) return std::string(v);
    return "";
  };
  m.assembly_id = str(root, "assemblyId");
  m.account = str(root, "account");
  m.report_id = str(root, "reportId");
  m.report_name = str(root, "reportName");
  m.bucket = str(root, "bucket");
  m.compression = str(root, "compression");
  m.content_type = str(root, "contentType");
  simdjson::dom::element period;
  if (root["billingPeriod"].get(period) == simdjson::SUCCESS && period.is_object()) {
    m.period_start = str(period, "start");
    m.period_end = str(period, "end");
  }
  simdjson::dom::array keys;
  if (root["reportKeys"].get(keys) == simdjson::SUCCESS) {
    for (auto k : keys) {
      std::string_view v;
      if (k.get(v) != simdjson::SUCCESS)
        return InvalidArgument("{}: reportKeys holds a non-string", name);
      m.report_keys.emplace_back(v);
    }
  }
  simdjson::dom::array cols;
  if (root["columns"].get(cols) == simdjson::SUCCESS) {
    for (auto c : cols) {
      if (!c.is_object()) return InvalidArgument("{}: columns holds a non-object", name);
      CurColumn col{str(c, "category"), str(c, "name"), str(c, "type")};
      if (col.name.empty()) return InvalidArgument("{}: a column without a name", name);
      m.columns.push_back(std::move(col));
    }
  }
  // Data Exports (CUR 2.0): executionId names the delivery, dataFiles its files as S3 URLs under
  // <prefix>/<export>/data/BILLING_PERIOD=YYYY-MM/, the export name and the period come from
  // those paths.
  simdjson::dom::array data_files;
  if (m.assembly_id.empty() && root["dataFiles"].get(data_files) == simdjson::SUCCESS) {
    m.cur2 = true;
    m.assembly_id = str(root, "executionId");
    for (auto f : data_files) {
      std::string_view url;
      if (f.get(url) != simdjson::SUCCESS)
        return InvalidArgument("{}: dataFiles holds a non-string", name);
      std::string_view key = url;
      if (key.starts_with("s3://")) {
        key.remove_prefix(5);
        const size_t slash = key.find('/');
        if (slash == std::string_view::npos)
          return InvalidArgument("{}: data file {} has no key", name, url);
        if (m.bucket.empty()) m.bucket = std::string(key.substr(0, slash));
        key.remove_prefix(slash + 1);
      }
      m.report_keys.emplace_back(key);
    }
    if (!m.report_keys.empty()) {
      const std::string& k = m.report_keys[0];
      const size_t part = k.find("/data/BILLING_PERIOD=");
      if (part != std::string::npos) {
        const size_t name_at = k.rfind('/', part - 1);
        m.report_name = k.substr(name_at == std::string::npos ? 0 : name_at + 1,
                                 part - (name_at == std::string::npos ? 0 : name_at + 1));
        const std::string ym = k.substr(part + 21, 7);  // YYYY-MM
        if (ym.size() == 7 && ym[4] == '-' && IsDigits(ym.substr(0, 4)) &&
            IsDigits(ym.substr(5, 2)) && m.period_start.empty()) {
          const int y = std::stoi(ym.substr(0, 4)), mo = std::stoi(ym.substr(5, 2));
          if (mo >= 1 && mo <= 12) {
            m.period_start = fmt::format("{:04}{:02}01T000000.000Z", y, mo);
            m.period_end = fmt::format("{:04}{:02}01T000000.000Z", mo == 12 ? y + 1 : y,
                                       mo == 12 ? 1 : mo + 1);
          }
        }
      }
    }
  }
  std::string lower_type = m.content_type;
  for (char& c : lower_type) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  bool parquet = lower_type.find("parquet") != std::string::npos || m.compression == "Parquet";
  for (const auto& k : m.report_keys)
    parquet |= k.ends_with(".parquet") || k.ends_with(".snappy.parquet");
  if (parquet) {
    return Unsupported(
        "{}: the report is in Parquet, which cairn does not read (no Parquet reader is packaged in "
        "Debian for it); set the report's format to text/csv with GZIP compression "
        "(docs/billing.md)",
        name);
  }
  if (m.assembly_id.empty())
    return InvalidArgument("{}: no assemblyId or executionId (not a CUR manifest?)", name);
  if (m.period_start.size() < 8 || m.period_end.size() < 8 ||
      !IsDigits(m.period_start.substr(0, 8)) || !IsDigits(m.period_end.substr(0, 8)) ||
      !ParsePeriodTime(m.period_start)) {
    return InvalidArgument("{}: billingPeriod start/end missing or malformed", name);
  }
  if (m.report_name.empty()) return InvalidArgument("{}: no reportName", name);
  if (m.columns.empty()) return InvalidArgument("{}: no columns", name);
  return m;
}

std::string EncodeCurManifest(const CurManifest& m) {
  std::string o = "{\"assemblyId\":";
  AppendJsonString(&o, m.assembly_id);
  o += ",\"account\":";
  AppendJsonString(&o, m.account);
  o += ",\"columns\":[";
  for (size_t i = 0; i < m.columns.size(); ++i) {
    if (i) o += ',';
    o += "{\"category\":";
    AppendJsonString(&o, m.columns[i].category);
    o += ",\"name\":";
    AppendJsonString(&o, m.columns[i].name);
    o += ",\"type\":";
    AppendJsonString(&o, m.columns[i].type);
    o += '}';
  }
  o += "],\"charset\":\"UTF-8\",\"compression\":";
  AppendJsonString(&o, m.compression);
  o += ",\"contentType\":";
  AppendJsonString(&o, m.content_type);
  o += ",\"reportId\":";
  AppendJsonString(&o, m.report_id);
  o += ",\"reportName\":";
  AppendJsonString(&o, m.report_name);
  o += ",\"billingPeriod\":{\"start\":";
  AppendJsonString(&o, m.period_start);
  o += ",\"end\":";
  AppendJsonString(&o, m.period_end);
  o += "},\"bucket\":";
  AppendJsonString(&o, m.bucket);
  o += ",\"reportKeys\":[";
  for (size_t i = 0; i < m.report_keys.size(); ++i) {
    if (i) o += ',';
    AppendJsonString(&o, m.report_keys[i]);
  }
  o += "],\"additionalArtifactKeys\":[]}";
  return o;
}

cloudtrail::SharedText TextArena::Put(std::string_view text) {
  constexpr size_t kChunk = 8 << 20;
  const size_t need = text.size() + cloudtrail::kJsonPadding;
  if (!chunk_ || used_ + need > cap_) {
    cap_ = std::max(kChunk, need);
    chunk_ = std::shared_ptr<char[]>(new char[cap_]);
    std::memset(chunk_.get() + cap_ - cloudtrail::kJsonPadding, 0, cloudtrail::kJsonPadding);
    used_ = 0;
  }
  char* at = chunk_.get() + used_;
  std::memcpy(at, text.data(), text.size());
  used_ += text.size();
  // The padding is the next text's bytes (or the chunk's zeroed tail): readable, of any content.
  return cloudtrail::SharedText(std::string_view(at, text.size()),
                                std::shared_ptr<const char[]>(chunk_));
}

RowConverter::RowConverter(const std::vector<std::string_view>& header, const CurManifest& manifest,
                           std::string source, int file_number, int64_t fallback_time_ms,
                           TextArena* arena)
    : prefix_(fmt::format("{}-{}-", manifest.assembly_id, file_number)),
      fallback_time_ms_(fallback_time_ms),
      arena_(arena) {
  {
    TextArena names;  // the source name as a shared view, so events share one copy
    source_ = names.Put(source);
  }
  for (size_t i = 0; i < header.size(); ++i) {
    std::string_view h = header[i];
    std::string key;
    AppendJsonString(&key, h);
    key += ':';
    names_.push_back(std::move(key));
    // The manifest's type of this column (matched by category/name).
    std::string type;
    for (const auto& c : manifest.columns) {
      if (c.FullName() == h) {
        type = c.type;
        break;
      }
    }
    for (char& ch : type) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    numeric_.push_back(type == "bigdecimal" || type == "optionalbigdecimal" || type == "double" ||
                       type == "optionaldouble" || type == "long" || type == "decimal" ||
                       type == "float" || type == "integer" || type == "bigint");
    // Legacy CUR and CUR 2.0 names of the columns with a role.
    if (h == "lineItem/UsageStartDate" || h == "line_item_usage_start_date")
      time_col_ = static_cast<int>(i);
    if (h == "lineItem/UsageAccountId" || h == "line_item_usage_account_id")
      account_col_ = static_cast<int>(i);
    if (h == "lineItem/UnblendedCost" || h == "line_item_unblended_cost")
      cost_col_ = static_cast<int>(i);
    if (h == "bill/InvoiceId" || h == "bill_invoice_id") invoice_col_ = static_cast<int>(i);
  }
}

Status RowConverter::Convert(const std::vector<std::string_view>& f, uint64_t row,
                             cloudtrail::Event* out) {
  if (f.size() != names_.size()) {
    return InvalidArgument("{}: row {} has {} fields, the header {}", source_.view(), row, f.size(),
                           names_.size());
  }
  int64_t t = fallback_time_ms_;
  if (time_col_ >= 0 && !f[time_col_].empty()) {
    auto parsed = ParseIso8601Millis(f[time_col_]);
    if (!parsed) {
      return InvalidArgument("{}: row {}: lineItem/UsageStartDate \"{}\" is not a time",
                             source_.view(), row, f[time_col_]);
    }
    t = *parsed;
  }
  std::string& raw = arena_ ? scratch_ : out->raw.mutable_string();
  RowToJson(names_, numeric_, f, &raw);
  if (arena_) out->raw = arena_->Put(raw);
  if (cost_col_ >= 0 && !f[cost_col_].empty()) {
    double v = 0;
    auto r = std::from_chars(f[cost_col_].data(), f[cost_col_].data() + f[cost_col_].size(), v);
    if (r.ec == std::errc()) unblended_total_ += v;
  }
  if (invoice_col_ >= 0 && !f[invoice_col_].empty()) saw_invoice_ = true;
  out->time_ms = t;
  out->account = account_col_ >= 0 ? std::string(f[account_col_]) : std::string();
  out->event_id = prefix_ + std::to_string(row);
  out->sourcetype = std::string(kSourcetype);
  out->source = source_;
  return Status::Ok();
}

}  // namespace cairn::billing
