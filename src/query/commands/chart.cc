// chart <aggregations> (by <row field> [<series field>] | over <row field> [by <series field>])
// and timechart [span=] <aggregations>
// [by <series field>] [limit=N] [useother=] [usenull=] [otherstr=] [nullstr=]: one row per row
// key (a field's value, or a time bucket), one column per aggregation and series; series beyond
// the top `limit` by the first aggregation's total become OTHER. Transforming: state grows with
// row keys x series, not rows. Without span=, timechart aggregates into 10-second buckets and
// merges them into the automatic span (a multiple of 10 s) once the time range is known.

#include <map>
#include <set>

#include "query/aggregate.h"
#include "query/command_support.h"
#include "query/time_format.h"

namespace cairn::query::internal {
namespace {

class ChartOperator final : public Operator {
 public:
  ChartOperator(const Command& c, MemoryBudget* budget)
      : c_(c), budget_(budget), cells_(c.aggs), totals_(c.aggs), values_(c.aggs.size()) {}
  ~ChartOperator() override {
    if (charged_) budget_->Charge(c_.name, -charged_).IgnoreError();
  }

  Status Init() {
    timechart_ = c_.name == "timechart";
    if (timechart_) {
      if (c_.by.size() > 1) return InvalidArgument("timechart takes at most one by-field");
      row_field_ = "_time";
      if (!c_.by.empty()) series_field_ = c_.by[0];
      auto it = c_.options.find("span");
      if (it != c_.options.end()) {
        ASSIGN_OR_RETURN(span_, ParseSpan(it->second));
        if (span_ <= 0) return InvalidArgument("{}: span must be positive", c_.name);
      }
    } else {
      if (c_.by.empty()) return InvalidArgument("chart needs 'by field' (or 'over field')");
      if (c_.by.size() > 2) return InvalidArgument("chart takes at most two by-fields");
      row_field_ = c_.by[0];
      if (c_.by.size() > 1) series_field_ = c_.by[1];
    }
    if (c_.aggs.empty()) return InvalidArgument("{} needs a function", c_.name);
    ASSIGN_OR_RETURN(limit_, IntOption(c_, "limit", 10));
    useother_ = BoolOption(c_, "useother", true);
    usenull_ = BoolOption(c_, "usenull", true);
    otherstr_ = StringOption(c_, "otherstr", "OTHER");
    nullstr_ = StringOption(c_, "nullstr", "NULL");
    return Status::Ok();
  }

  Status Push(Rows& rows) override {
    for (Row& row : rows) {
      const double t = row.time();
      if (!any_ || t < lo_) lo_ = t;
      if (!any_ || t > hi_) hi_ = t;
      any_ = true;
      std::string rk;
      if (timechart_) {
        rk = FormatNumber(FloorTo(t, span_ > 0 ? span_ : 10.0));
      } else {
        const Values* v = row.Get(row_field_);
        if (!v) continue;
        rk = v->front();
      }
      std::string series;
      if (!series_field_.empty()) {
        const Values* v = row.Get(series_field_);
        if (v) {
          series = v->front();
        } else if (usenull_) {
          series = nullstr_;
        } else {
          continue;
        }
      }
      for (size_t i = 0; i < c_.aggs.size(); ++i) {
        values_[i] = c_.aggs[i].field.empty() ? nullptr : row.Get(c_.aggs[i].field);
      }
      const OrderKey key = OrderOf(row, seq_++);
      totals_.Add(totals_.Find({series}), values_, t, key, row.weight());
      cells_.Add(cells_.Find({rk, series}), values_, t, key, row.weight());
    }
    return Charge();
  }

  Status MergeFrom(Operator& other) override {
    auto& o = static_cast<ChartOperator&>(other);
    cells_.Merge(o.cells_);
    totals_.Merge(o.totals_);
    if (o.any_) {
      lo_ = any_ ? std::min(lo_, o.lo_) : o.lo_;
      hi_ = any_ ? std::max(hi_, o.hi_) : o.hi_;
      any_ = true;
    }
    return Charge();
  }

  Status Finish(Schema* schema) override {
    // Timechart without span: merge the 10-second buckets into the automatic span.
    double span = span_;
    if (timechart_ && span_ <= 0) {
      span = AutoSpan(lo_, hi_);
      if (span != 10.0) {
        GroupTable merged(c_.aggs);
        for (size_t g = 0; g < cells_.size(); ++g) {
          const auto& k = cells_.key(g);
          double b = ParseNumber(k[0]).value_or(0);
          merged.MergeGroup(merged.Find({FormatNumber(FloorTo(b, span)), k[1]}), cells_, g);
        }
        cells_ = std::move(merged);
      }
    }
    // Rank the series by the first aggregation's total.
    std::vector<std::pair<double, std::string>> ranked;
    bool null_seen = false;
    std::vector<size_t> order(totals_.size());
    for (size_t g = 0; g < totals_.size(); ++g) order[g] = g;
    std::sort(order.begin(), order.end(),
              [&](size_t a, size_t b) { return totals_.key(a)[0] < totals_.key(b)[0]; });
    for (size_t g : order) {
      const std::string& s = totals_.key(g)[0];
      if (!series_field_.empty() && s == nullstr_) {
        null_seen = true;
        continue;
      }
      Values v = totals_.Result(g, 0);
      ranked.emplace_back(v.empty() ? 0 : ParseNumber(v[0]).value_or(0), s);
    }
    std::stable_sort(ranked.begin(), ranked.end(),
                     [](const auto& a, const auto& b) { return a.first > b.first; });
    std::set<std::string> kept;
    bool has_other = false;
    for (size_t i = 0; i < ranked.size(); ++i) {
      if (limit_ > 0 && static_cast<long long>(i) >= limit_) {
        has_other = useother_;
        break;
      }
      kept.insert(ranked[i].second);
    }
    bool has_null = !series_field_.empty() && null_seen && usenull_;
    std::vector<std::string> series(kept.begin(), kept.end());
    if (has_null) series.push_back(nullstr_);
    if (has_other) series.push_back(otherstr_);

    // Cells by row key, series outside the kept ones folded into OTHER.
    GroupTable cells(c_.aggs);
    for (size_t g = 0; g < cells_.size(); ++g) {
      const auto& k = cells_.key(g);
      std::string s = k[1];
      if (!series_field_.empty() && s != nullstr_ && !kept.count(s)) {
        if (!has_other) continue;
        s = otherstr_;
      }
      cells.MergeGroup(cells.Find({k[0], s}), cells_, g);
    }
    std::map<std::vector<std::string>, std::map<std::string, size_t>, KeyLess> by_row;
    for (size_t g = 0; g < cells.size(); ++g) by_row[{cells.key(g)[0]}][cells.key(g)[1]] = g;
    if (timechart_ && any_) {
      for (double t = FloorTo(lo_, span); t <= hi_; t += span) by_row[{FormatNumber(t)}];
    }
    std::vector<std::string> columns{row_field_};
    auto col_name = [&](size_t ai, const std::string& s) {
      if (series_field_.empty()) return c_.aggs[ai].OutputName();
      if (c_.aggs.size() == 1) return s;
      return c_.aggs[ai].OutputName() + ": " + s;
    };
    std::vector<std::string> col_series =
        series_field_.empty() ? std::vector<std::string>{""} : series;
    for (size_t ai = 0; ai < c_.aggs.size(); ++ai) {
      for (const auto& s : col_series) columns.push_back(col_name(ai, s));
    }
    Rows out;
    for (auto& [rk, by_series] : by_row) {
      Row row;
      row.Set(row_field_, {rk[0]});
      for (size_t ai = 0; ai < c_.aggs.size(); ++ai) {
        bool zero = c_.aggs[ai].func == "count" || c_.aggs[ai].func == "dc";
        for (const auto& s : col_series) {
          auto it = by_series.find(s);
          Values v;
          if (it != by_series.end()) v = cells.Result(it->second, ai);
          if (v.empty() && zero) v = {"0"};
          row.Set(col_name(ai, s), v);
        }
      }
      out.push_back(std::move(row));
    }
    schema->columns = columns;
    schema->known = true;
    RETURN_IF_ERROR(Emit(out));
    return FinishNext(schema);
  }

 private:
  Status Charge() {
    long long now = static_cast<long long>(cells_.bytes() + totals_.bytes());
    long long delta = now - charged_;
    charged_ = now;
    counters_.peak_bytes = std::max(counters_.peak_bytes, static_cast<size_t>(now));
    return delta ? budget_->Charge(c_.name, delta) : Status::Ok();
  }

  const Command& c_;
  MemoryBudget* budget_;
  bool timechart_ = false;
  std::string row_field_, series_field_;
  double span_ = 0;  // 0: automatic (timechart)
  long long limit_ = 10;
  bool useother_ = true, usenull_ = true;
  std::string otherstr_, nullstr_;
  GroupTable cells_;   // (row key, series)
  GroupTable totals_;  // (series)
  std::vector<const Values*> values_;
  bool any_ = false;
  double lo_ = 0, hi_ = 0;
  uint64_t seq_ = 0;
  long long charged_ = 0;
};

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv& env) {
  auto op = std::make_unique<ChartOperator>(c, env.budget);
  RETURN_IF_ERROR(op->Init());
  return std::unique_ptr<Operator>(std::move(op));
}

}  // namespace

void Register_chart(CommandRegistry& r) {
  auto check = [](Command* c) {
    if (!c->aggs.empty()) return Status::Ok();
    return SyntaxError(c->offset, c->name + " needs at least one function (for example count)");
  };
  // chart count over X by Y == chart count by X, Y (X the rows, Y the series).
  AddCommand(r, "chart", CommandClass::kTransforming, Aggregations(check, /*over=*/true), Make,
             AlwaysParallel);
  AddCommand(r, "timechart", CommandClass::kTransforming, Aggregations(check), Make,
             AlwaysParallel);
}

}  // namespace cairn::query::internal
