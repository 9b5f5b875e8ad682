// streamstats <aggregations> [by f ...] [window=N] [current=t|f]: each row gets the aggregations
// over the rows before it in its group (and itself, unless current=f), over the last N rows of
// the group when window is set. Streaming: memory grows with the groups (and their windows), and
// each row costs O(1) without a window, O(N) with one.

#include <deque>
#include <unordered_map>

#include "query/aggregate.h"
#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class StreamStatsOperator final : public Operator {
 public:
  StreamStatsOperator(const Command& c, std::vector<Aggregation> aggs, long long window,
                      bool current, MemoryBudget* budget)
      : c_(c), aggs_(std::move(aggs)), window_(window), current_(current), budget_(budget) {}
  ~StreamStatsOperator() override {
    if (charged_) budget_->Charge("streamstats", -charged_).IgnoreError();
  }

  Status Push(Rows& rows) override {
    long long grown = 0;
    for (Row& row : rows) {
      auto keys = KeysOf(row, c_.by);
      if (keys.empty()) continue;
      auto [it, fresh] = groups_.try_emplace(Encode(keys[0]));
      Group& g = it->second;
      if (fresh) {
        grown += static_cast<long long>(it->first.size()) + 128;
        if (window_ == 0) {
          for (const auto& a : aggs_) g.accs.push_back(MakeAccumulator(a));
        }
      }
      Contribution mine;
      mine.time = row.time();
      mine.key = OrderOf(row, seq_++);
      mine.weight = row.weight();
      for (const auto& a : aggs_) {
        const Values* v = a.field.empty() ? nullptr : row.Get(a.field);
        mine.values.push_back(v ? std::optional<Values>(*v) : std::nullopt);
      }
      if (window_ == 0) {
        if (current_) Feed(g.accs, mine);
        Set(row, g.accs, g.rows == 0 && !current_);
        if (!current_) Feed(g.accs, mine);
        ++g.rows;
        continue;
      }
      if (current_) Slide(g, std::move(mine), &grown);
      std::vector<std::unique_ptr<Accumulator>> accs;
      for (const auto& a : aggs_) accs.push_back(MakeAccumulator(a));
      for (const auto& c : g.window) Feed(accs, c);
      Set(row, accs, g.window.empty() && !current_);
      if (!current_) Slide(g, std::move(mine), &grown);
    }
    charged_ += grown;
    counters_.peak_bytes = std::max(counters_.peak_bytes, static_cast<size_t>(charged_));
    if (grown) RETURN_IF_ERROR(budget_->Charge("streamstats", grown));
    return Emit(rows);
  }

  Status Finish(Schema* schema) override {
    for (const auto& a : aggs_) schema->Add(a.OutputName());
    return FinishNext(schema);
  }

 private:
  struct Contribution {
    std::vector<std::optional<Values>> values;  // per aggregation
    double time = 0;
    OrderKey key;
    long long weight = 1;
  };
  struct Group {
    std::vector<std::unique_ptr<Accumulator>> accs;  // without a window
    std::deque<Contribution> window;                 // with one
    long long rows = 0;
  };

  void Feed(std::vector<std::unique_ptr<Accumulator>>& accs, const Contribution& c) {
    for (size_t i = 0; i < aggs_.size(); ++i) {
      accs[i]->Add(c.values[i] ? &*c.values[i] : nullptr, c.time, c.key, c.weight);
    }
  }
  // Sets the results on `row`; before any row of its group (current=f), only count and dc show
  // (as 0).
  void Set(Row& row, const std::vector<std::unique_ptr<Accumulator>>& accs, bool empty_before) {
    for (size_t i = 0; i < aggs_.size(); ++i) {
      if (empty_before && aggs_[i].func != "count" && aggs_[i].func != "dc") continue;
      row.Set(aggs_[i].OutputName(), accs[i]->Result());
    }
  }
  void Slide(Group& g, Contribution c, long long* grown) {
    long long b = 64;
    for (const auto& v : c.values) {
      if (v) {
        for (const auto& s : *v) b += static_cast<long long>(s.size()) + 32;
      }
    }
    g.window.push_back(std::move(c));
    *grown += b;
    if (static_cast<long long>(g.window.size()) > window_) {
      g.window.pop_front();
      *grown -= b;  // about what the dropped one held
    }
  }
  static std::string Encode(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
      uint32_t n = static_cast<uint32_t>(p.size());
      out.append(reinterpret_cast<const char*>(&n), sizeof(n));
      out.append(p);
    }
    return out;
  }

  const Command& c_;
  std::vector<Aggregation> aggs_;
  long long window_;
  bool current_;
  MemoryBudget* budget_;
  std::unordered_map<std::string, Group> groups_;
  uint64_t seq_ = 0;
  long long charged_ = 0;
};

}  // namespace

void Register_streamstats(CommandRegistry& r) {
  AddCommand(r, "streamstats", CommandClass::kStreaming, Aggregations(),
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               std::vector<Aggregation> aggs = c.aggs;
               if (aggs.empty()) aggs.push_back(Aggregation{"count", "", "", 0});
               long long window = 0;
               if (c.options.count("window")) {
                 auto n = ParseNumber(c.options.at("window"));
                 if (!n || *n < 0) {
                   return InvalidArgument("streamstats: window must be a non-negative number");
                 }
                 window = static_cast<long long>(*n);
               }
               return MakeOp<StreamStatsOperator>(c, std::move(aggs), window,
                                                  BoolOption(c, "current", true), env.budget);
             });
}

}  // namespace cairn::query::internal
