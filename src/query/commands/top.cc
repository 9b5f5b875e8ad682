// top / rare [N] <fields> [by <fields>] [limit=N] [showcount=] [showperc=] [useother=] [otherstr=]
// [countfield=] [percentfield=]: the most (least) common value combinations per group, with
// counts and percentages. Transforming: memory grows with the distinct combinations, not the
// rows; only the shown ones are sorted.

#include <fmt/format.h>

#include <unordered_map>

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

class TopOperator final : public Operator {
 public:
  TopOperator(const Command& c, MemoryBudget* budget) : c_(c), budget_(budget) {}
  ~TopOperator() override {
    if (charged_) budget_->Charge(c_.name, -charged_).IgnoreError();
  }

  Status Init() {
    top_ = c_.name == "top";
    ASSIGN_OR_RETURN(limit_, IntOption(c_, "limit", 10));
    return Status::Ok();
  }

  Status Push(Rows& rows) override {
    long long grown = 0;
    for (Row& row : rows) {
      auto by = KeysOf(row, c_.by);
      if (by.empty()) continue;
      auto vals = KeysOf(row, c_.fields);
      if (vals.empty()) continue;
      auto [git, fresh] = groups_.try_emplace(std::move(by[0]));
      if (fresh) grown += 128;
      Group& g = git->second;
      // An event weighs 1; a row the store counted in advance, the events it stands for.
      const long long w = row.weight();
      g.total += w;
      for (auto& v : vals) {
        std::string k = Encode(v);
        auto [it, added] = g.counts.try_emplace(std::move(k), 0);
        if (added) grown += static_cast<long long>(it->first.size()) + 64;
        it->second += w;
      }
    }
    charged_ += grown;
    counters_.peak_bytes = std::max(counters_.peak_bytes, static_cast<size_t>(charged_));
    return grown ? budget_->Charge(c_.name, grown) : Status::Ok();
  }

  Status MergeFrom(Operator& other) override {
    auto& o = static_cast<TopOperator&>(other);
    long long grown = 0;
    for (auto& [bk, og] : o.groups_) {
      auto [git, fresh] = groups_.try_emplace(bk);
      if (fresh) grown += 128;
      git->second.total += og.total;
      for (auto& [k, n] : og.counts) {
        auto [it, added] = git->second.counts.try_emplace(k, 0);
        if (added) grown += static_cast<long long>(k.size()) + 64;
        it->second += n;
      }
    }
    charged_ += grown;
    return grown ? budget_->Charge(c_.name, grown) : Status::Ok();
  }

  Status Finish(Schema* schema) override {
    bool showcount = BoolOption(c_, "showcount", true);
    bool showperc = BoolOption(c_, "showperc", true);
    bool useother = BoolOption(c_, "useother", false);
    std::string countfield = StringOption(c_, "countfield", "count");
    std::string percentfield = StringOption(c_, "percentfield", "percent");
    std::string otherstr = StringOption(c_, "otherstr", "OTHER");
    Rows out;
    for (auto& [bk, g] : groups_) {
      struct Item {
        std::vector<std::string> key;
        long long count;
      };
      std::vector<Item> items;
      items.reserve(g.counts.size());
      for (auto& [k, n] : g.counts) items.push_back({Decode(k), n});
      auto before = [&](const Item& a, const Item& b) {
        if (a.count != b.count) return top_ ? a.count > b.count : a.count < b.count;
        return KeyLess()(a.key, b.key);
      };
      size_t shown = items.size();
      if (limit_ > 0 && static_cast<size_t>(limit_) < items.size()) {
        shown = static_cast<size_t>(limit_);
        std::partial_sort(items.begin(), items.begin() + static_cast<long>(shown), items.end(),
                          before);
      } else {
        std::sort(items.begin(), items.end(), before);
      }
      long long rest = 0;
      for (size_t i = shown; i < items.size(); ++i) rest += items[i].count;
      // The total as a plain local: C++20 lets a lambda capture a structured binding, but clang
      // before 16 rejects it, and Debian 12's clang 14 builds the fuzz targets.
      const double total = static_cast<double>(g.total);
      auto percent = [&](long long n) {
        return fmt::format("{:.6f}", 100.0 * static_cast<double>(n) / total);
      };
      for (size_t i = 0; i < shown; ++i) {
        Row row;
        for (size_t k = 0; k < c_.by.size(); ++k) row.Set(c_.by[k], {bk[k]});
        for (size_t k = 0; k < c_.fields.size(); ++k) row.Set(c_.fields[k], {items[i].key[k]});
        if (showcount) row.Set(countfield, {std::to_string(items[i].count)});
        if (showperc) row.Set(percentfield, {percent(items[i].count)});
        out.push_back(std::move(row));
      }
      if (useother && rest > 0) {
        Row row;
        for (size_t k = 0; k < c_.by.size(); ++k) row.Set(c_.by[k], {bk[k]});
        for (size_t k = 0; k < c_.fields.size(); ++k) row.Set(c_.fields[k], {otherstr});
        if (showcount) row.Set(countfield, {std::to_string(rest)});
        if (showperc) row.Set(percentfield, {percent(rest)});
        out.push_back(std::move(row));
      }
    }
    groups_.clear();
    schema->columns = c_.by;
    for (const auto& f : c_.fields) schema->columns.push_back(f);
    if (showcount) schema->columns.push_back(countfield);
    if (showperc) schema->columns.push_back(percentfield);
    schema->known = true;
    RETURN_IF_ERROR(Emit(out));
    return FinishNext(schema);
  }

 private:
  struct Group {
    long long total = 0;
    std::unordered_map<std::string, long long> counts;  // encoded value combination -> count
  };
  static std::string Encode(const std::vector<std::string>& parts) {
    std::string out;
    for (const auto& p : parts) {
      uint32_t n = static_cast<uint32_t>(p.size());
      out.append(reinterpret_cast<const char*>(&n), sizeof(n));
      out.append(p);
    }
    return out;
  }
  static std::vector<std::string> Decode(const std::string& k) {
    std::vector<std::string> parts;
    size_t i = 0;
    while (i + sizeof(uint32_t) <= k.size()) {
      uint32_t n;
      std::memcpy(&n, k.data() + i, sizeof(n));
      i += sizeof(n);
      parts.emplace_back(k.substr(i, n));
      i += n;
    }
    return parts;
  }

  const Command& c_;
  MemoryBudget* budget_;
  bool top_ = true;
  long long limit_ = 10;
  std::map<std::vector<std::string>, Group, KeyLess> groups_;
  long long charged_ = 0;
};

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv& env) {
  auto op = std::make_unique<TopOperator>(c, env.budget);
  RETURN_IF_ERROR(op->Init());
  return std::unique_ptr<Operator>(std::move(op));
}

}  // namespace

void Register_top(CommandRegistry& r) {
  // `top 5 user` is Splunk's shorthand for `top limit=5 user`: the leading number becomes the
  // limit= option (so the canonical text and the operator see one spelling).
  CommandSyntax syntax =
      Generic({.leading_count = true, .fields = true, .by = true}, [](Command* c) {
        if (c->count >= 0) {
          if (c->options.count("limit"))
            return SyntaxError(c->offset, c->name + ": give the count or limit=, not both");
          c->options["limit"] = std::to_string(c->count);
          c->count = -1;
        }
        if (!c->fields.empty()) return Status::Ok();
        return SyntaxError(c->offset, c->name + " needs a field");
      });
  AddCommand(r, "top", CommandClass::kTransforming, syntax, Make, AlwaysParallel);
  AddCommand(r, "rare", CommandClass::kTransforming, syntax, Make, AlwaysParallel);
}

}  // namespace cairn::query::internal
