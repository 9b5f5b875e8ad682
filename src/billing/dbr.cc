#include "billing/dbr.h"

#include <algorithm>
#include <charconv>
#include <map>

#include "common/json_util.h"
#include "common/time_util.h"

namespace cairn::billing {
namespace {

bool Digits(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::optional<double> ParseDouble(std::string_view s) {
  double v = 0;
  auto r = std::from_chars(s.data(), s.data() + s.size(), v);
  if (r.ec != std::errc() || r.ptr != s.data() + s.size()) return std::nullopt;
  return v;
}

}  // namespace

std::optional<DbrObject> ParseDbrKey(std::string_view key, std::string_view prefix) {
  std::string p(prefix);
  if (!p.empty() && p.back() != '/') p += '/';
  if (!key.starts_with(p)) return std::nullopt;
  std::string_view name = key.substr(p.size());
  if (name.find('/') != std::string_view::npos) return std::nullopt;
  constexpr std::string_view kTags = "-aws-billing-detailed-line-items-with-resources-and-tags-";
  constexpr std::string_view kPlain = "-aws-billing-detailed-line-items-";
  constexpr std::string_view kExt = ".csv.zip";
  if (name.size() < 12 || !Digits(name.substr(0, 12)) || !name.ends_with(kExt)) {
    return std::nullopt;
  }
  DbrObject o;
  o.key = std::string(key);
  o.account = std::string(name.substr(0, 12));
  std::string_view rest = name.substr(12);
  if (rest.starts_with(kTags)) {
    o.with_tags = true;
    rest.remove_prefix(kTags.size());
  } else if (rest.starts_with(kPlain)) {
    rest.remove_prefix(kPlain.size());
  } else {
    return std::nullopt;
  }
  rest.remove_suffix(kExt.size());
  if (rest.size() != 7 || rest[4] != '-' || !Digits(rest.substr(0, 4)) ||
      !Digits(rest.substr(5, 2))) {
    return std::nullopt;
  }
  const int month = (rest[5] - '0') * 10 + (rest[6] - '0');
  if (month < 1 || month > 12) return std::nullopt;
  o.month = std::string(rest);
  return o;
}

std::vector<DbrObject> ChooseDbrObjects(const std::vector<std::string>& keys,
                                        std::string_view prefix) {
  std::map<std::pair<std::string, std::string>, DbrObject> chosen;  // (month, account)
  for (const auto& k : keys) {
    auto o = ParseDbrKey(k, prefix);
    if (!o) continue;
    auto [it, fresh] = chosen.try_emplace({o->month, o->account}, *o);
    if (!fresh && o->with_tags && !it->second.with_tags) it->second = *o;
  }
  std::vector<DbrObject> out;
  for (auto& [k, o] : chosen) out.push_back(std::move(o));
  return out;
}

std::optional<int64_t> ParseDbrTime(std::string_view t) {
  if (t.size() == 19 && t[10] == ' ') {
    std::string iso(t);
    iso[10] = 'T';
    iso += 'Z';
    return ParseIso8601Millis(iso);
  }
  return ParseIso8601Millis(t);
}

Result<DbrRowConverter> DbrRowConverter::Make(const std::vector<std::string_view>& header,
                                              std::string source, std::string version,
                                              int64_t fallback_time_ms, TextArena* arena) {
  DbrRowConverter c;
  c.prefix_ = version + "-";
  c.fallback_time_ms_ = fallback_time_ms;
  c.arena_ = arena;
  {
    TextArena names;
    c.source_ = names.Put(source);
  }
  int cost_col = -1, unblended_col = -1;
  for (size_t i = 0; i < header.size(); ++i) {
    std::string_view h = header[i];
    // A byte order mark before the first column's name (a CSV saved by a spreadsheet) is not part
    // of the name.
    if (i == 0 && h.starts_with("\xEF\xBB\xBF")) h.remove_prefix(3);
    std::string key;
    AppendJsonString(&key, h);
    key += ':';
    c.names_.push_back(std::move(key));
    // The DBR's numeric columns (Rate/Cost in a report without consolidated billing).
    c.numeric_.push_back(h == "UsageQuantity" || h == "BlendedRate" || h == "BlendedCost" ||
                         h == "UnBlendedRate" || h == "UnBlendedCost" || h == "Rate" ||
                         h == "Cost");
    const int col = static_cast<int>(i);
    if (h == "UsageStartDate") c.time_col_ = col;
    if (h == "LinkedAccountId") c.account_col_ = col;
    if (h == "PayerAccountId") c.payer_col_ = col;
    if (h == "RecordType") c.type_col_ = col;
    if (h == "InvoiceID") c.invoice_col_ = col;
    if (h == "UnBlendedCost") unblended_col = col;
    if (h == "Cost") cost_col = col;
  }
  c.cost_col_ = unblended_col >= 0 ? unblended_col : cost_col;
  if (c.type_col_ < 0 || c.cost_col_ < 0) {
    return InvalidArgument(
        "{}: not a Detailed Billing Report: the header has no RecordType or no UnBlendedCost/Cost "
        "column",
        source);
  }
  return c;
}

Result<bool> DbrRowConverter::Convert(const std::vector<std::string_view>& f, uint64_t row,
                                      cloudtrail::Event* out) {
  if (f.size() != names_.size()) {
    return InvalidArgument("{}: row {} has {} fields, the header {}", source_.view(), row, f.size(),
                           names_.size());
  }
  const std::string_view type = f[type_col_];
  std::optional<double> cost;
  if (!f[cost_col_].empty()) cost = ParseDouble(f[cost_col_]);
  if (type != "LineItem" && type != "Rounding") {
    ++summary_rows_;
    if (type == "StatementTotal" && cost) statement_total_ = *cost;
    return false;
  }
  int64_t t = fallback_time_ms_;
  if (time_col_ >= 0 && !f[time_col_].empty()) {
    auto parsed = ParseDbrTime(f[time_col_]);
    if (!parsed) {
      return InvalidArgument("{}: row {}: UsageStartDate \"{}\" is not a time", source_.view(), row,
                             f[time_col_]);
    }
    t = *parsed;
  }
  std::string& raw = arena_ ? scratch_ : out->raw.mutable_string();
  RowToJson(names_, numeric_, f, &raw);
  if (arena_) out->raw = arena_->Put(raw);
  if (cost) unblended_total_ += *cost;
  if (invoice_col_ >= 0 && !f[invoice_col_].empty() && f[invoice_col_] != "Estimated") {
    saw_invoice_ = true;
  }
  out->time_ms = t;
  // The account that used it: LinkedAccountId (empty in a report without consolidated billing,
  // where the payer is the only account).
  std::string_view account = account_col_ >= 0 ? f[account_col_] : std::string_view();
  if (account.empty() && payer_col_ >= 0) account = f[payer_col_];
  out->account = std::string(account);
  out->event_id = prefix_ + std::to_string(row);
  out->sourcetype = std::string(kDbrSourcetype);
  out->source = source_;
  return true;
}

}  // namespace cairn::billing
