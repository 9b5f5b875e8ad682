// join [type=inner|left|outer] [max=1] [overwrite=true] [f1 f2 ...] [subsearch]: each row gets
// the fields of the subsearch's results (at most 50000) whose join fields equal its own (up to
// `max` of them, one output row each; 0: all); type=left (outer) keeps rows without a match.
// The subsearch runs once, when the search starts; its results are held (within the memory
// budget) and indexed by their join fields, and the rows stream through the index. Without join
// fields the rows are joined on every field they share with the subsearch's results, which is
// known only when the input ends, so that form holds the rows.

#include <unordered_map>

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

constexpr size_t kMaxJoinRows = 50000;

// The subsearch's results (charged to the memory budget while they live) and their index on the
// join fields.
class JoinTable {
 public:
  JoinTable(Results sub, bool left, long long max, bool overwrite, MemoryBudget* budget)
      : sub_(std::move(sub)), left_(left), max_(max), overwrite_(overwrite), budget_(budget) {}
  ~JoinTable() {
    if (charged_) budget_->Charge("join", -charged_).IgnoreError();
  }
  JoinTable(const JoinTable&) = delete;
  JoinTable& operator=(const JoinTable&) = delete;

  // Charges the results to the budget.
  Status Charge() {
    long long bytes = 0;
    for (const Row& row : sub_.rows) bytes += static_cast<long long>(row.MemoryUsage());
    charged_ += bytes;
    return budget_->Charge("join", bytes);
  }
  size_t bytes() const { return static_cast<size_t>(charged_); }

  // Indexes the results on `keys`.
  void Index(std::vector<std::string> keys) {
    keys_ = std::move(keys);
    for (size_t i = 0; i < sub_.rows.size(); ++i) {
      if (auto k = Key(sub_.rows[i])) index_[*k].push_back(i);
    }
  }

  // Appends to `out` the joined rows of `row` (moving from it).
  void Join(Row& row, Rows* out) {
    auto k = Key(row);
    auto it = k ? index_.find(*k) : index_.end();
    if (it == index_.end()) {
      if (left_) out->push_back(std::move(row));
      return;
    }
    long long n = 0;
    for (size_t i : it->second) {
      if (max_ > 0 && n++ >= max_) break;
      Row joined = row;
      for (auto& [f, v] : sub_.rows[i].fields()) {
        if (v.empty()) continue;
        if (!overwrite_ && joined.Get(f)) continue;
        joined.Set(f, v);
      }
      out->push_back(std::move(joined));
    }
  }

  // The subsearch's field names (not internal ones) or its columns, added to a known schema.
  void AddColumns(Schema* schema) {
    if (!schema->known) return;
    if (sub_.known) {
      for (const auto& col : sub_.columns) schema->Add(col);
      return;
    }
    for (const auto& col : AllFieldNames(sub_.rows)) {
      if (col.empty() || col[0] != '_') schema->Add(col);
    }
  }

  std::vector<Row>& rows() { return sub_.rows; }

 private:
  // The values of the join fields, or nullopt when one is absent.
  std::optional<std::string> Key(Row& row) const {
    std::string key;
    for (const auto& k : keys_) {
      const Values* v = row.Get(k);
      if (!v) return std::nullopt;
      key += v->front();
      key += '\x02';
    }
    return key;
  }

  Results sub_;
  bool left_;
  long long max_;
  bool overwrite_;
  MemoryBudget* budget_;
  long long charged_ = 0;
  std::vector<std::string> keys_;
  std::unordered_map<std::string, std::vector<size_t>> index_;
};

class JoinOperator final : public Operator {
 public:
  explicit JoinOperator(std::unique_ptr<JoinTable> table) : table_(std::move(table)) {
    counters_.peak_bytes = table_->bytes();
  }
  Status Push(Rows& rows) override {
    Rows out;
    out.reserve(rows.size());
    for (Row& row : rows) table_->Join(row, &out);
    return Emit(out);
  }
  Status Finish(Schema* schema) override {
    table_->AddColumns(schema);
    return FinishNext(schema);
  }

 private:
  std::unique_ptr<JoinTable> table_;
};

Result<std::unique_ptr<Operator>> Make(const Command& c, OpEnv& env) {
  std::string type = Lower(StringOption(c, "type", "inner"));
  if (type == "outer") type = "left";
  if (type != "inner" && type != "left") return Unsupported("join type={} is not supported", type);
  ASSIGN_OR_RETURN(long long max, IntOption(c, "max", 1));
  bool overwrite = BoolOption(c, "overwrite", true);
  Results sub;
  RETURN_IF_ERROR(env.executor->ExecPipeline(*c.subsearch, &sub, env.depth + 1));
  if (sub.rows.size() > kMaxJoinRows) sub.rows.resize(kMaxJoinRows);
  auto table =
      std::make_unique<JoinTable>(std::move(sub), type == "left", max, overwrite, env.budget);
  RETURN_IF_ERROR(table->Charge());
  if (!c.fields.empty()) {
    table->Index(c.fields);
    return MakeOp<JoinOperator>(std::move(table));
  }
  // No join fields: the fields the rows share with the subsearch's results, once the rows are in.
  std::shared_ptr<JoinTable> shared(std::move(table));
  return MakeOp<BufferOperator>("join", env.budget, [shared](Results* r) -> Status {
    std::vector<std::string> mine = AllFieldNames(r->rows);
    std::vector<std::string> theirs = AllFieldNames(shared->rows());
    std::vector<std::string> keys;
    for (const auto& x : mine) {
      if (!x.empty() && x[0] != '_' && std::binary_search(theirs.begin(), theirs.end(), x)) {
        keys.push_back(x);
      }
    }
    shared->Index(std::move(keys));
    Rows out;
    for (Row& row : r->rows) shared->Join(row, &out);
    r->rows = std::move(out);
    Schema schema{r->columns, r->known};
    shared->AddColumns(&schema);
    r->columns = std::move(schema.columns);
    return Status::Ok();
  });
}

}  // namespace

void Register_join(CommandRegistry& r) {
  CommandInfo info;
  info.name = "join";
  info.syntax = Generic({.fields = true, .subsearch = true}, [](Command* c) {
    if (c->subsearch) return Status::Ok();
    return SyntaxError(c->offset, "join needs a subsearch in [ ]");
  });
  info.classes = {CommandClass::kStreaming, CommandClass::kBlocking};
  info.class_of = [](const Command& c) {
    return c.fields.empty() ? CommandClass::kBlocking : CommandClass::kStreaming;
  };
  info.make = Make;
  r.Add(std::move(info));
}

}  // namespace cairn::query::internal
