// fieldsummary [maxvals=N] [fields...]: one row per field with its count, distinct count,
// numeric statistics and most frequent values. Transforming: memory grows with the fields and
// their distinct values, not the rows.

#include <cmath>
#include <map>

#include "common/json_util.h"
#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class FieldSummaryOperator final : public Operator {
 public:
  FieldSummaryOperator(const Command& c, long long maxvals, MemoryBudget* budget)
      : c_(c), maxvals_(maxvals), budget_(budget) {}
  ~FieldSummaryOperator() override {
    if (charged_) budget_->Charge("fieldsummary", -charged_).IgnoreError();
  }

  Status Push(Rows& rows) override {
    long long grown = 0;
    for (Row& row : rows) {
      for (auto& [name, vals] : row.fields()) {
        if (vals.empty() || !Wanted(name)) continue;
        auto [it, fresh] = stats_.try_emplace(name);
        if (fresh) grown += static_cast<long long>(name.size()) + 128;
        Stats& s = it->second;
        ++s.count;
        for (const auto& v : vals) {
          auto [f, added] = s.freq.try_emplace(v, 0);
          if (added) grown += static_cast<long long>(v.size()) + 64;
          ++f->second;
          if (auto n = ParseNumber(v)) {
            ++s.numeric;
            s.sum += *n;
            s.sumsq += *n * *n;
            s.min = s.numeric == 1 ? *n : std::min(s.min, *n);
            s.max = s.numeric == 1 ? *n : std::max(s.max, *n);
          }
        }
      }
    }
    charged_ += grown;
    counters_.peak_bytes = std::max(counters_.peak_bytes, static_cast<size_t>(charged_));
    return grown ? budget_->Charge("fieldsummary", grown) : Status::Ok();
  }

  Status Finish(Schema* schema) override {
    std::vector<std::string> names;
    for (const auto& [name, s] : stats_) names.push_back(name);
    if (!c_.fields.empty()) names = ExpandPatterns(c_.fields, names);  // in the order asked
    Rows out;
    for (const auto& name : names) {
      auto found = stats_.find(name);
      if (found == stats_.end()) continue;
      Stats& s = found->second;
      Row o;
      o.Set("field", {name});
      o.Set("count", {std::to_string(s.count)});
      o.Set("distinct_count", {std::to_string(s.freq.size())});
      o.Set("is_exact", {"1"});
      o.Set("numeric_count", {std::to_string(s.numeric)});
      if (s.numeric > 0) {
        double n = static_cast<double>(s.numeric);
        o.Set("min", {FormatNumber(s.min)});
        o.Set("max", {FormatNumber(s.max)});
        o.Set("mean", {FormatNumber(s.sum / n)});
        double var = s.numeric > 1 ? (s.sumsq - s.sum * s.sum / n) / (n - 1) : 0;
        o.Set("stdev", {FormatNumber(std::sqrt(std::max(0.0, var)))});
      } else if (!s.freq.empty()) {
        o.Set("min", {s.freq.begin()->first});
        o.Set("max", {s.freq.rbegin()->first});
      }
      std::vector<std::pair<std::string, long long>> fv(s.freq.begin(), s.freq.end());
      std::stable_sort(fv.begin(), fv.end(),
                       [](const auto& a, const auto& b) { return a.second > b.second; });
      std::string json = "[";
      for (size_t i = 0; i < fv.size() && static_cast<long long>(i) < maxvals_; ++i) {
        if (i) json += ",";
        json += "{\"value\":" + ::cairn::JsonString(fv[i].first) +
                ",\"count\":" + std::to_string(fv[i].second) + "}";
      }
      json += "]";
      o.Set("values", {json});
      out.push_back(std::move(o));
    }
    stats_.clear();
    schema->columns = {"field", "count", "distinct_count", "is_exact", "max",
                       "mean",  "min",   "numeric_count",  "stdev",    "values"};
    schema->known = true;
    RETURN_IF_ERROR(Emit(out));
    return FinishNext(schema);
  }

 private:
  struct Stats {
    long long count = 0, numeric = 0;
    double sum = 0, sumsq = 0, min = 0, max = 0;
    std::map<std::string, long long> freq;
  };
  bool Wanted(const std::string& name) const {
    if (!name.empty() && name[0] == '_' && name != "_time") return false;
    if (c_.fields.empty()) return true;
    for (const auto& p : c_.fields) {
      if (p == name || (p.find('*') != std::string::npos && GlobMatch(p, name, false))) return true;
    }
    return false;
  }
  const Command& c_;
  long long maxvals_;
  MemoryBudget* budget_;
  std::map<std::string, Stats> stats_;
  long long charged_ = 0;
};

}  // namespace

void Register_fieldsummary(CommandRegistry& r) {
  AddCommand(r, "fieldsummary", CommandClass::kTransforming, Generic({.fields = true}),
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               ASSIGN_OR_RETURN(long long maxvals, IntOption(c, "maxvals", 100));
               return MakeOp<FieldSummaryOperator>(c, maxvals, env.budget);
             });
}

}  // namespace cairn::query::internal
