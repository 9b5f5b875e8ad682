#include "query/command_support.h"

#include <set>

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

std::string StringOption(const Command& c, const std::string& key, const std::string& def) {
  auto it = c.options.find(key);
  return it == c.options.end() ? def : it->second;
}

void AddCommand(CommandRegistry& r, std::string name, CommandClass cls,
                std::function<Result<std::unique_ptr<Operator>>(const Command&, OpEnv&)> make,
                std::function<bool(const Command&)> parallel) {
  CommandInfo info;
  info.name = std::move(name);
  info.class_of = [cls](const Command&) { return cls; };
  info.make = std::move(make);
  info.parallel = std::move(parallel);
  r.Add(std::move(info));
}

bool AlwaysParallel(const Command&) { return true; }

bool HasWildcardAggregation(const Command& c) {
  for (const auto& a : c.aggs) {
    if (a.field.find('*') != std::string::npos) return true;
  }
  return false;
}

}  // namespace cairn::query::internal
