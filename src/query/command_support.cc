#include "query/command_support.h"

#include <set>

#include "query/aggregate.h"

namespace cairn::query::internal {

size_t HeldRows::Add(Row row) {
  constexpr uint32_t kWhole = 0x80000000u;
  if (row.Unmodified() && (!extraction_ || extraction_ == row.extraction())) {
    extraction_ = row.extraction();
    const EventView& e = *row.event();
    where_.push_back(static_cast<uint32_t>(refs_.size()));
    refs_.push_back({e.origin, e.ordinal, e.time});
    return sizeof(Ref) + sizeof(uint32_t);
  }
  row.Compact();
  size_t bytes = row.MemoryUsage() + sizeof(uint32_t);
  where_.push_back(kWhole | static_cast<uint32_t>(rows_.size()));
  rows_.push_back(std::move(row));
  return bytes;
}

Row HeldRows::Take(size_t i) {
  constexpr uint32_t kWhole = 0x80000000u;
  uint32_t w = where_[i];
  if (w & kWhole) return std::move(rows_[w & ~kWhole]);
  Ref& r = refs_[w];
  EventView v = r.origin->View(r.ordinal, r.time);
  v.origin = std::move(r.origin);
  return Row::FromEvent(std::move(v), extraction_);
}

Row HeldRows::Get(size_t i) const {
  constexpr uint32_t kWhole = 0x80000000u;
  uint32_t w = where_[i];
  if (w & kWhole) return rows_[w & ~kWhole];
  const Ref& r = refs_[w];
  EventView v = r.origin->View(r.ordinal, r.time);
  v.origin = r.origin;
  return Row::FromEvent(std::move(v), extraction_);
}

void HeldRows::Clear() {
  std::vector<Ref>().swap(refs_);
  std::vector<Row>().swap(rows_);
  std::vector<uint32_t>().swap(where_);
}

Status RowOperator::Push(Rows& rows) {
  size_t w = 0;
  for (size_t i = 0; i < rows.size(); ++i) {
    ASSIGN_OR_RETURN(bool keep, fn_(rows[i]));
    if (!keep) continue;
    if (w != i) rows[w] = std::move(rows[i]);
    ++w;
  }
  rows.resize(w);
  return Emit(rows);
}

Status RowOperator::Finish(Schema* schema) {
  if (schema_) schema_(schema);
  return FinishNext(schema);
}

BufferOperator::~BufferOperator() {
  if (charged_) budget_->Charge(name_, -charged_).IgnoreError();
}

Status BufferOperator::Push(Rows& rows) {
  long long bytes = 0;
  for (Row& r : rows) bytes += static_cast<long long>(rows_.Add(std::move(r)));
  charged_ += bytes;
  counters_.peak_bytes = std::max(counters_.peak_bytes, static_cast<size_t>(charged_));
  return budget_->Charge(name_, bytes);
}

Status BufferOperator::Finish(Schema* schema) {
  Results r;
  r.rows.reserve(rows_.size());
  for (size_t i = 0; i < rows_.size(); ++i) r.rows.push_back(rows_.Take(i));
  rows_.Clear();
  r.columns = schema->columns;
  r.known = schema->known;
  RETURN_IF_ERROR(run_(&r));
  schema->columns = std::move(r.columns);
  schema->known = r.known;
  budget_->Charge(name_, -charged_).IgnoreError();
  charged_ = 0;
  RETURN_IF_ERROR(Emit(r.rows));
  return FinishNext(schema);
}

std::vector<std::vector<std::string>> KeysOf(Row& row, const std::vector<std::string>& by) {
  std::vector<std::vector<std::string>> keys{{}};
  for (const auto& f : by) {
    const Values* v = row.Get(f);
    if (!v) return {};
    if (v->size() == 1) {
      for (auto& k : keys) k.push_back(v->front());
      continue;
    }
    std::vector<std::vector<std::string>> next;
    std::set<std::string> uniq;
    for (const auto& k : keys) {
      for (const auto& s : *v) {
        if (!uniq.insert(s).second) continue;
        auto nk = k;
        nk.push_back(s);
        next.push_back(std::move(nk));
      }
      uniq.clear();
    }
    keys = std::move(next);
  }
  return keys;
}

bool KeyLess::operator()(const std::vector<std::string>& a,
                         const std::vector<std::string>& b) const {
  for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
    int c = CompareMixed(a[i], b[i]);
    if (c != 0) return c < 0;
    if (a[i] != b[i]) return a[i] < b[i];
  }
  return a.size() < b.size();
}

double AutoSpan(double lo, double hi) {
  double range = hi - lo;
  if (range <= 15 * 60) return 10.0;
  if (range <= 60 * 60) return 60.0;
  if (range <= 4 * 3600) return 300.0;
  if (range <= 24 * 3600) return 1800.0;
  if (range <= 7 * 86400) return 3600.0;
  return 86400.0;
}

void FeedRows(GroupTable* table, const std::vector<std::string>& by, Rows& rows,
              std::vector<long long>* first_group) {
  const auto& aggs = table->aggs();
  std::vector<const Values*> values(aggs.size());
  for (size_t r = 0; r < rows.size(); ++r) {
    Row& row = rows[r];
    auto keys = KeysOf(row, by);
    if (first_group) first_group->push_back(-1);
    if (keys.empty()) continue;
    for (size_t i = 0; i < aggs.size(); ++i) {
      values[i] = aggs[i].field.empty() ? nullptr : row.Get(aggs[i].field);
    }
    const double t = row.time();
    const OrderKey order{0, r};
    for (size_t k = 0; k < keys.size(); ++k) {
      size_t g = table->Find(keys[k]);
      if (k == 0 && first_group) first_group->back() = static_cast<long long>(g);
      table->Add(g, values, t, order, row.weight());
    }
  }
}

std::string StringOption(const Command& c, const std::string& key, const std::string& def) {
  auto it = c.options.find(key);
  return it == c.options.end() ? def : it->second;
}

void AddCommand(CommandRegistry& r, std::string name, CommandClass cls, CommandSyntax syntax,
                std::function<Result<std::unique_ptr<Operator>>(const Command&, OpEnv&)> make,
                std::function<bool(const Command&)> parallel) {
  CommandInfo info;
  info.name = std::move(name);
  info.syntax = std::move(syntax);
  info.classes = {cls};
  info.class_of = [cls](const Command&) { return cls; };
  info.make = std::move(make);
  info.parallel = std::move(parallel);
  r.Add(std::move(info));
}

bool AlwaysParallel(const Command&) { return true; }

bool BoolOption(const Command& c, const std::string& key, bool def) {
  auto it = c.options.find(key);
  if (it == c.options.end()) return def;
  std::string v = Lower(it->second);
  return v == "t" || v == "true" || v == "1" || v == "yes";
}

Result<long long> IntOption(const Command& c, const std::string& key, long long def) {
  auto it = c.options.find(key);
  if (it == c.options.end()) return def;
  auto n = ParseNumber(it->second);
  if (!n)
    return InvalidArgument("{}: option {} must be a number, got '{}'", c.name, key, it->second);
  return static_cast<long long>(*n);
}

std::vector<std::string> AllFieldNames(std::vector<Row>& rows) {
  std::set<std::string> names;
  for (Row& row : rows) {
    for (auto& [k, v] : row.fields()) {
      if (!v.empty()) names.insert(k);
    }
  }
  return std::vector<std::string>(names.begin(), names.end());
}

std::vector<std::string> ExpandPatterns(const std::vector<std::string>& patterns,
                                        const std::vector<std::string>& names) {
  std::vector<std::string> out;
  std::set<std::string> seen;
  for (const auto& p : patterns) {
    if (p.find('*') == std::string::npos) {
      if (seen.insert(p).second) out.push_back(p);
      continue;
    }
    for (const auto& n : names) {
      if (GlobMatch(p, n, false) && seen.insert(n).second) out.push_back(n);
    }
  }
  return out;
}

std::vector<std::string> DefaultColumns(std::vector<Row>& rows) {
  std::vector<std::string> columns;
  bool has_time = false, has_raw = false;
  for (const auto& n : AllFieldNames(rows)) {
    if (n == "_time")
      has_time = true;
    else if (n == "_raw")
      has_raw = true;
    else if (!n.empty() && n[0] != '_')
      columns.push_back(n);
  }
  if (has_time) columns.insert(columns.begin(), "_time");
  if (has_raw) columns.push_back("_raw");
  return columns;
}

std::vector<Aggregation> ExpandAggregations(const std::vector<Aggregation>& aggs,
                                            const std::vector<std::string>& names,
                                            const std::vector<std::string>& by) {
  std::vector<Aggregation> out;
  for (const auto& a : aggs) {
    size_t star = a.field.find('*');
    if (star == std::string::npos) {
      out.push_back(a);
      continue;
    }
    std::string pfx = a.field.substr(0, star);
    std::string sfx = a.field.substr(star + 1);
    for (const auto& n : names) {
      if (std::find(by.begin(), by.end(), n) != by.end()) continue;
      if (!n.empty() && n[0] == '_') continue;
      if (!GlobMatch(a.field, n, false)) continue;
      Aggregation e = a;
      e.field = n;
      if (!a.as.empty()) {
        std::string mid = n.substr(pfx.size(), n.size() - pfx.size() - sfx.size());
        std::string to = a.as;
        size_t as_star = to.find('*');
        if (as_star != std::string::npos) to.replace(as_star, 1, mid);
        e.as = to;
      }
      out.push_back(e);
    }
  }
  return out;
}

bool HasWildcardAggregation(const Command& c) {
  for (const auto& a : c.aggs) {
    if (a.field.find('*') != std::string::npos) return true;
  }
  return false;
}

}  // namespace cairn::query::internal
