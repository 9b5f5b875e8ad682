#include "query/engine.h"

#include <algorithm>
#include <cmath>
#include <optional>
#include <set>
#include <thread>
#include <unordered_map>
#include <unordered_set>

#include "common/clock.h"
#include "common/thread_pool.h"
#include "common/time_util.h"
#include "query/command_registry.h"
#include "query/command_support.h"
#include "query/commands/eventstats.h"
#include "query/exec_internal.h"
#include "query/parser.h"
#include "query/time_format.h"

namespace cairn::query {

using internal::Executor;
using internal::Results;

MemoryEventSource::MemoryEventSource(std::vector<EventRecord> events) {
  for (auto& e : events) events_.push_back(std::make_shared<const EventRecord>(std::move(e)));
  std::stable_sort(events_.begin(), events_.end(),
                   [](const auto& a, const auto& b) { return a->time > b->time; });
}

Status MemoryEventSource::Scan(const ScanRequest& request,
                               const std::function<bool(EventBatch&)>& sink) {
  EventBatch batch;
  uint64_t batch_tiebreak = 0;
  for (const auto& e : events_) {
    if (e->time < request.earliest || e->time >= request.latest) continue;
    EventView v;
    v.time = e->time;
    v.raw = e->raw;
    v.index = e->index;
    v.sourcetype = e->sourcetype;
    v.source = e->source;
    v.host = e->host;
    v.fields = e->fields;
    v.owner = e;
    v.tiebreak = batch_tiebreak++;
    batch.events.push_back(std::move(v));
    if (batch.size() == 1024) {
      if (!sink(batch)) return Status::Ok();
      batch.clear();
    }
  }
  if (!batch.empty()) sink(batch);
  return Status::Ok();
}

namespace {

std::string TimeText(double t) {
  if (std::isinf(t)) return t < 0 ? "-inf" : "+inf";
  return FormatIso8601(static_cast<int64_t>(std::llround(t * 1000)), std::fmod(t, 1.0) != 0);
}

}  // namespace

std::string Plan::ToString() const {
  std::string out = "time: [" + TimeText(earliest) + ", " + TimeText(latest) + ")\n";
  if (scans_events) {
    out += "scan: events where " + (predicate ? query::ToString(*predicate) : std::string("*"));
    if (scan_limit >= 0) out += " limit " + std::to_string(scan_limit);
    out += "\n";
  } else {
    out += "scan: none\n";
  }
  out += "pipeline: " +
         (rest && !rest->commands.empty() ? query::ToString(*rest) : std::string("(none)")) + "\n";
  return out;
}

std::string ResultTable::ToText() const {
  auto cell = [](const Values& v) {
    std::string s;
    for (size_t i = 0; i < v.size(); ++i) {
      if (i) s += " ; ";
      s += v[i];
    }
    return s;
  };
  std::string out;
  for (size_t i = 0; i < columns.size(); ++i) out += (i ? " | " : "") + columns[i];
  out += "\n";
  for (const auto& r : rows) {
    for (size_t i = 0; i < r.size(); ++i) out += (i ? " | " : "") + cell(r[i]);
    out += "\n";
  }
  return out;
}

Engine::Engine(EventSource* source, MacroSet macros, EngineOptions options)
    : source_(source), macros_(std::move(macros)), options_(std::move(options)) {}

namespace {
double NowOf(const EngineOptions& o) {
  if (o.now != 0) return o.now;
  return static_cast<double>(Clock::System()->NowMicros()) / 1e6;
}
}  // namespace

Result<Plan> Engine::Prepare(std::string_view spl) const {
  ASSIGN_OR_RETURN(std::string expanded, macros_.Expand(spl));
  auto parsed = ParseSpl(expanded);
  if (!parsed.ok()) {
    if (expanded != spl) {
      return Status(parsed.status().code(),
                    parsed.status().message() +
                        " (offsets count in the search after macro expansion: " + expanded + ")");
    }
    return parsed.status();
  }
  Executor ex(source_, options_, NowOf(options_), &macros_);
  return ex.MakePlan(*parsed, expanded);
}

Result<ResultTable> Engine::Run(std::string_view spl) const {
  ASSIGN_OR_RETURN(Plan plan, Prepare(spl));
  return Execute(plan);
}

namespace {

// What a command of class `c` holds while it runs (for --explain).
std::string_view MemoryBehaviour(internal::CommandClass c) {
  switch (c) {
    case internal::CommandClass::kStreaming: return "row by row, holds no rows";
    case internal::CommandClass::kTransforming: return "holds one entry per group";
    case internal::CommandClass::kBlocking: return "holds the rows it needs, within the budget";
    case internal::CommandClass::kGenerating: return "makes its own rows";
  }
  return "";
}

}  // namespace

std::string Engine::Explain(const Plan& plan) const {
  std::string out = plan.ToString();
  if (plan.rest) {
    for (size_t i = 0; i < plan.rest->commands.size(); ++i) {
      const Command& c = plan.rest->commands[i];
      const internal::CommandInfo* info = internal::CommandRegistry::Get().Find(c.name);
      if (!info) continue;
      const internal::CommandClass k = info->class_of(c);
      out += fmt::format("command {}: {} ({}: {})\n", i + 1, ToString(c), internal::ToString(k),
                         MemoryBehaviour(k));
    }
    out += fmt::format("memory budget: {} MB\n", options_.memory_budget_bytes >> 20);
  }
  if (plan.scans_events && source_) {
    ScanRequest req;
    req.earliest = plan.earliest;
    req.latest = plan.latest;
    req.predicate = plan.predicate.get();
    req.limit = plan.scan_limit;
    const Command* next =
        plan.rest && !plan.rest->commands.empty() ? &plan.rest->commands[0] : nullptr;
    out += source_->Explain(req, next);
  }
  return out;
}

struct SearchResults::Impl {
  std::unique_ptr<internal::Executor> owned;  // owns what the rows point at (null in a batch)
  internal::Executor* executor = nullptr;     // owned, or the running search's (a batch)
  internal::Schema schema;
  internal::HeldRows rows;
};

SearchResults::SearchResults(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
SearchResults::~SearchResults() = default;
bool SearchResults::columns_known() const { return impl_->schema.known; }
const std::vector<std::string>& SearchResults::columns() const { return impl_->schema.columns; }
size_t SearchResults::size() const { return impl_->rows.size(); }
Status SearchResults::status() const { return impl_->executor->errors()->First(); }
const SearchProfile& SearchResults::profile() const { return impl_->executor->profile(); }

namespace {

// A row's own cells when the search fixed no columns: _time, the other public fields in name
// order, _raw, each with its values moved out of the row (which the caller drops). One walk of
// the row's fields, which are kept in name order.
void OwnCells(Row& row, std::vector<std::string>* names, std::vector<Values>* values) {
  names->clear();
  values->clear();
  Values time, raw;
  for (auto& [k, v] : row.fields()) {
    if (v.empty()) continue;
    if (k == "_time") {
      time = std::move(v);
    } else if (k == "_raw") {
      raw = std::move(v);
    } else if (!k.empty() && k[0] != '_') {
      names->push_back(k);
      values->push_back(std::move(v));
    }
  }
  if (!time.empty()) {
    names->insert(names->begin(), "_time");
    values->insert(values->begin(), std::move(time));
  }
  if (!raw.empty()) {
    names->push_back("_raw");
    values->push_back(std::move(raw));
  }
}

}  // namespace

void SearchResults::Cells(size_t i, std::vector<std::string>* names,
                          std::vector<Values>* values) const {
  Row row = impl_->rows.Get(i);
  if (!impl_->schema.known) return OwnCells(row, names, values);
  *names = impl_->schema.columns;
  values->clear();
  for (const auto& c : *names) {
    const Values* v = row.Get(c);
    values->push_back(v ? *v : Values{});
  }
}

Values SearchResults::Field(size_t i, std::string_view name) const {
  Row row = impl_->rows.Get(i);
  const Values* v = row.Get(name);
  return v ? *v : Values{};
}

size_t SearchResults::PrefetchEvents(size_t begin, int workers) const {
  // 48 blocks of the writer's 256 KB stay well inside the 32 MB event-block cache.
  constexpr size_t kMaxUnits = 48, kMaxRows = 16384;
  struct Unit {
    const EventOrigin* origin;
    uint64_t unit;
    uint32_t ordinal;
  };
  std::vector<Unit> units;
  std::set<std::pair<const EventOrigin*, uint64_t>> seen;
  size_t end = begin;
  for (; end < size() && end - begin < kMaxRows; ++end) {
    Row row = impl_->rows.Get(end);
    const EventView* e = row.event();
    if (!e || e->raw_loaded || !e->origin) continue;
    const uint64_t unit = e->origin->LoadUnit(e->ordinal);
    if (!seen.emplace(e->origin.get(), unit).second) continue;
    if (units.size() == kMaxUnits) break;
    units.push_back(Unit{e->origin.get(), unit, e->ordinal});
  }
  // Errors are recorded for the search by LoadRaw; the rows report them when read.
  (void)ParallelFor(units.size(), workers, std::chrono::microseconds(0), [&](size_t i, int) {
    std::shared_ptr<const void> owner;
    (void)units[i].origin->LoadRaw(units[i].ordinal, &owner);
    return Status::Ok();
  });
  return end;
}

ResultTable SearchResults::ToTable() const {
  ResultTable t;
  if (impl_->schema.known) {
    t.columns = impl_->schema.columns;
    std::vector<std::string> names;
    for (size_t i = 0; i < size(); ++i) {
      t.rows.emplace_back();
      Cells(i, &names, &t.rows.back());
    }
    return t;
  }
  // Without a fixed schema the columns are the union of the rows' own: each row's cells are taken
  // once (every field extracted), then placed under the union's columns.
  std::vector<std::vector<std::string>> row_names(size());
  std::vector<std::vector<Values>> row_values(size());
  std::unordered_set<std::string_view> seen;
  std::vector<std::string_view> names;
  for (size_t i = 0; i < size(); ++i) {
    Cells(i, &row_names[i], &row_values[i]);
    for (const auto& n : row_names[i]) {
      if (seen.insert(n).second) names.push_back(n);
    }
  }
  const bool has_time = seen.count("_time"), has_raw = seen.count("_raw");
  std::sort(names.begin(), names.end());
  if (has_time) t.columns.emplace_back("_time");
  for (const auto& n : names) {
    if (n != "_time" && n != "_raw") t.columns.emplace_back(n);
  }
  if (has_raw) t.columns.emplace_back("_raw");
  std::unordered_map<std::string_view, size_t> column_of;
  for (size_t c = 0; c < t.columns.size(); ++c) column_of.emplace(t.columns[c], c);
  t.rows.resize(size());
  for (size_t i = 0; i < size(); ++i) {
    std::vector<Values>& out = t.rows[i];
    out.resize(t.columns.size());
    for (size_t k = 0; k < row_names[i].size(); ++k) {
      out[column_of.at(row_names[i][k])] = std::move(row_values[i][k]);
    }
  }
  return t;
}

namespace {

// The end of a search's pipeline: holds the result rows (charging the memory budget).
class HoldOperator final : public internal::Operator {
 public:
  HoldOperator(internal::HeldRows* rows, internal::MemoryBudget* budget)
      : rows_(rows), budget_(budget) {}
  Status Push(internal::Rows& rows) override {
    long long bytes = 0;
    for (Row& r : rows) bytes += static_cast<long long>(rows_->Add(std::move(r)));
    return budget_->Charge("results", bytes);
  }
  Status Finish(internal::Schema*) override { return Status::Ok(); }

 private:
  internal::HeldRows* rows_;
  internal::MemoryBudget* budget_;
};

// The end of a streamed search's pipeline: hands the rows on to the caller's sink in batches as
// they come (see Engine::ExecuteStream).
class StreamOperator final : public internal::Operator {
 public:
  StreamOperator(internal::Executor* ex, const internal::Schema* live, internal::Schema fixed,
                 const Engine::RowSink* sink, size_t batch_rows)
      : live_(live),
        fixed_(std::move(fixed)),
        sink_(sink),
        batch_rows_(std::max<size_t>(1, batch_rows)) {
    auto impl = std::make_unique<SearchResults::Impl>();
    impl->executor = ex;
    impl_ = impl.get();
    batch_ = std::make_unique<SearchResults>(std::move(impl));
  }
  Status Push(internal::Rows& rows) override {
    for (Row& r : rows) {
      if (stopped_) return Status::Ok();
      impl_->rows.Add(std::move(r));
      if (impl_->rows.size() >= batch_rows_) Deliver();
    }
    if (impl_->rows.size() > 0) Deliver();
    return Status::Ok();
  }
  Status Finish(internal::Schema*) override { return Status::Ok(); }
  bool Done() const override { return stopped_; }

 private:
  void Deliver() {
    // The columns as they stand: those a finishing command fixed, else those the pipeline's last
    // commands name.
    impl_->schema = live_->known ? *live_ : fixed_;
    if (!stopped_ && !(*sink_)(*batch_)) stopped_ = true;
    impl_->rows.Clear();
  }
  const internal::Schema* live_;
  internal::Schema fixed_;
  const Engine::RowSink* sink_;
  size_t batch_rows_;
  SearchResults::Impl* impl_;
  std::unique_ptr<SearchResults> batch_;
  bool stopped_ = false;
};

// The output columns of a plan whose rows stream, when its commands name them before its input
// ends: a table or fields (plain names) followed only by commands that keep the columns. Unknown
// otherwise (each row then shows its own fields).
internal::Schema StreamedColumns(const Plan& plan) {
  internal::Schema s;
  if (!plan.rest) return s;
  for (const Command& c : plan.rest->commands) {
    const bool plain = std::none_of(c.fields.begin(), c.fields.end(), [](const std::string& f) {
      return f.find('*') != std::string::npos;
    });
    if ((c.name == "table" || (c.name == "fields" && !c.exclude)) && plain) {
      s.columns = c.fields;
      s.known = true;
    } else if (c.name != "search" && c.name != "where" && c.name != "head" && c.name != "dedup") {
      s = internal::Schema();
    }
  }
  return s;
}

}  // namespace

Result<std::unique_ptr<SearchResults>> Engine::ExecuteRows(const Plan& plan) const {
  auto impl = std::make_unique<SearchResults::Impl>();
  impl->owned = std::make_unique<Executor>(source_, options_, NowOf(options_), &macros_);
  impl->executor = impl->owned.get();
  HoldOperator sink(&impl->rows, impl->executor->budget());
  RETURN_IF_ERROR(impl->executor->RunPlan(plan, &sink, &impl->schema, 0));
  return std::make_unique<SearchResults>(std::move(impl));
}

Result<std::unique_ptr<SearchResults>> Engine::ExecuteStream(const Plan& plan, const RowSink& sink,
                                                             size_t batch_rows) const {
  auto impl = std::make_unique<SearchResults::Impl>();
  impl->owned = std::make_unique<Executor>(source_, options_, NowOf(options_), &macros_);
  impl->executor = impl->owned.get();
  StreamOperator out(impl->executor, &impl->schema, StreamedColumns(plan), &sink, batch_rows);
  RETURN_IF_ERROR(impl->executor->RunPlan(plan, &out, &impl->schema, 0));
  return std::make_unique<SearchResults>(std::move(impl));
}

Result<ResultTable> Engine::Execute(const Plan& plan) const {
  ASSIGN_OR_RETURN(std::unique_ptr<SearchResults> rows, ExecuteRows(plan));
  ResultTable t = rows->ToTable();
  RETURN_IF_ERROR(rows->status());
  return t;
}

namespace internal {

Result<SearchPtr> Executor::RewriteTime(const SearchNode& n) const {
  auto out = CloneSearch(n);
  std::vector<SearchNode*> stack{out.get()};
  while (!stack.empty()) {
    SearchNode* x = stack.back();
    stack.pop_back();
    if (x->kind == SearchNode::Kind::kCompare && (x->field == "earliest" || x->field == "latest")) {
      if (x->op != "=")
        return InvalidArgument("at offset {}: {} takes '=' only", x->offset, x->field);
      auto t = ResolveTimeModifier(x->value, now_);
      if (!t.ok()) return InvalidArgument("at offset {}: {}", x->offset, t.status().message());
      bool early = x->field == "earliest";
      x->field = "_time";
      x->op = early ? ">=" : "<";
      x->value = FormatNumber(*t);
    }
    for (auto& c : x->children) stack.push_back(c.get());
  }
  return out;
}

Result<Plan> Executor::MakePlan(const Pipeline& p, std::string expanded) const {
  Plan plan;
  plan.expanded = std::move(expanded);
  plan.earliest = options_.earliest;
  plan.latest = options_.latest;
  auto rest = std::make_shared<Pipeline>();
  size_t start = 0;
  if (!p.commands.empty() && p.commands[0].name == "search") {
    start = 1;
    const SearchNode& s = *p.commands[0].search;
    std::vector<const SearchNode*> parts;
    if (s.kind == SearchNode::Kind::kAnd) {
      for (const auto& c : s.children) parts.push_back(c.get());
    } else {
      parts.push_back(&s);
    }
    auto pred = std::make_unique<SearchNode>();
    pred->kind = SearchNode::Kind::kAnd;
    for (const SearchNode* part : parts) {
      if (part->kind == SearchNode::Kind::kCompare && part->op == "=" &&
          (part->field == "earliest" || part->field == "latest")) {
        auto t = ResolveTimeModifier(part->value, now_);
        if (!t.ok()) return InvalidArgument("at offset {}: {}", part->offset, t.status().message());
        if (part->field == "earliest") {
          plan.earliest = std::max(plan.earliest, *t);
        } else {
          plan.latest = std::min(plan.latest, *t);
        }
        continue;
      }
      if (part->kind == SearchNode::Kind::kTrue) continue;
      ASSIGN_OR_RETURN(SearchPtr rewritten, RewriteTime(*part));
      pred->children.push_back(std::move(rewritten));
    }
    if (pred->children.size() == 1) {
      plan.predicate = std::move(pred->children[0]);
    } else if (!pred->children.empty()) {
      plan.predicate = std::move(pred);
    }
    if (p.commands.size() > 1 && p.commands[1].name == "head" && !p.commands[1].expr) {
      plan.scan_limit = p.commands[1].count;
    }
  } else {
    plan.scans_events = false;
  }
  for (size_t i = start; i < p.commands.size(); ++i) {
    const Command& c = p.commands[i];
    if (c.name == "search") {
      Command copy;
      copy.name = c.name;
      copy.offset = c.offset;
      ASSIGN_OR_RETURN(copy.search, RewriteTime(*c.search));
      rest->commands.push_back(std::move(copy));
      continue;
    }
    // Commands hold unique_ptrs; re-parse-free copy through the canonical form
    // is not needed: share the original pipeline's command by moving a deep
    // copy.
    Command copy;
    copy.name = c.name;
    copy.offset = c.offset;
    copy.options = c.options;
    copy.fields = c.fields;
    copy.exclude = c.exclude;
    if (c.expr) {
      ASSIGN_OR_RETURN(copy.expr, ParseEvalExpression(ToString(*c.expr)));
    }
    for (const auto& a : c.assignments) {
      ASSIGN_OR_RETURN(ExprPtr e, ParseEvalExpression(ToString(*a.expr)));
      copy.assignments.push_back({a.field, std::move(e)});
    }
    copy.aggs = c.aggs;
    copy.by = c.by;
    copy.renames = c.renames;
    copy.sort_keys = c.sort_keys;
    copy.count = c.count;
    copy.text = c.text;
    copy.lookup_inputs = c.lookup_inputs;
    copy.lookup_outputs = c.lookup_outputs;
    copy.output_new = c.output_new;
    copy.subsearch = c.subsearch;
    rest->commands.push_back(std::move(copy));
  }
  plan.rest = rest;
  return plan;
}

Result<SearchPtr> Executor::ResolveSubsearches(const SearchNode& n, int depth) {
  if (n.kind == SearchNode::Kind::kSubsearch) {
    Results sub;
    RETURN_IF_ERROR(ExecPipeline(*n.subsearch, &sub, depth + 1));
    if (sub.rows.size() > options_.max_subsearch_rows) sub.rows.resize(options_.max_subsearch_rows);
    ResultTable t = ToTable(&sub);
    auto out = std::make_unique<SearchNode>();
    out->offset = n.offset;
    out->kind = SearchNode::Kind::kOr;
    // A `search` column holds ready-made search text (as `return` and `format`
    // produce).
    auto search_col = std::find(t.columns.begin(), t.columns.end(), "search");
    for (const auto& row : t.rows) {
      if (search_col != t.columns.end()) {
        const Values& v = row[search_col - t.columns.begin()];
        if (v.empty()) continue;
        ASSIGN_OR_RETURN(Pipeline p, ParseSpl(v[0]));
        if (p.commands.size() != 1 || p.commands[0].name != "search") {
          return InvalidArgument("subsearch returned a search field that is not a search: {}",
                                 v[0]);
        }
        out->children.push_back(std::move(p.commands[0].search));
        continue;
      }
      auto conj = std::make_unique<SearchNode>();
      conj->kind = SearchNode::Kind::kAnd;
      for (size_t i = 0; i < t.columns.size(); ++i) {
        const std::string& col = t.columns[i];
        if (col.empty() || col[0] == '_' || row[i].empty()) continue;
        auto one = std::make_unique<SearchNode>();
        if (row[i].size() == 1) {
          one->kind = SearchNode::Kind::kCompare;
          one->field = col;
          one->op = "=";
          one->value = row[i][0];
        } else {
          one->kind = SearchNode::Kind::kIn;
          one->field = col;
          one->values = row[i];
        }
        conj->children.push_back(std::move(one));
      }
      if (conj->children.empty()) continue;
      if (conj->children.size() == 1) {
        out->children.push_back(std::move(conj->children[0]));
      } else {
        out->children.push_back(std::move(conj));
      }
    }
    if (out->children.empty()) {
      out->kind = SearchNode::Kind::kFalse;
    } else if (out->children.size() == 1) {
      return std::move(out->children[0]);
    }
    return out;
  }
  SearchPtr out = CloneSearchNode(n);
  out->subsearch = nullptr;  // resolved above; only subsearch nodes carry one
  for (const auto& c : n.children) {
    ASSIGN_OR_RETURN(SearchPtr k, ResolveSubsearches(*c, depth));
    out->children.push_back(std::move(k));
  }
  return out;
}

Status Executor::ExecPipeline(const Pipeline& p, Results* r, int depth) {
  if (depth > 8) return InvalidArgument("subsearches nested too deeply");
  ASSIGN_OR_RETURN(Plan plan, MakePlan(p, ""));
  return ExecPlan(plan, r, depth);
}

namespace {

// The end of a pipeline: keeps the rows and the final schema (charging the
// memory budget).
class CollectOperator final : public Operator {
 public:
  CollectOperator(Results* out, MemoryBudget* budget) : out_(out), budget_(budget) {}
  ~CollectOperator() override {
    if (charged_) budget_->Charge("results", -charged_).IgnoreError();
  }
  Status Push(Rows& rows) override {
    long long bytes = 0;
    for (Row& r : rows) {
      bytes += static_cast<long long>(r.MemoryUsage());
      out_->rows.push_back(std::move(r));
    }
    charged_ += bytes;
    return budget_->Charge("results", bytes);
  }
  Status Finish(Schema* schema) override {
    out_->columns = schema->columns;
    out_->known = schema->known;
    return Status::Ok();
  }

 private:
  Results* out_;
  MemoryBudget* budget_;
  long long charged_ = 0;
};

}  // namespace

Status Executor::ExecPlan(const Plan& plan, Results* r, int depth) {
  CollectOperator sink(r, &budget_);
  Schema schema;
  schema.columns = r->columns;
  schema.known = r->known;
  return RunPlan(plan, &sink, &schema, depth);
}

size_t Executor::ParallelPrefix(const Plan& plan) const {
  if (!plan.rest || !plan.scans_events) return 0;
  const auto& cmds = plan.rest->commands;
  for (size_t i = 0; i < cmds.size(); ++i) {
    const CommandInfo* info = CommandRegistry::Get().Find(cmds[i].name);
    if (!info || !info->parallel || !info->parallel(cmds[i])) return 0;
    if (info->class_of(cmds[i]) == CommandClass::kTransforming) return i + 1;
  }
  return 0;
}

Status Executor::RunParallel(const Plan& plan, const ScanRequest& req, size_t prefix, int workers,
                             const std::function<void(EventBatch&, Rows*)>& to_rows,
                             const std::vector<Operator*>& main_ops, int depth) {
  // Each worker runs its own operators of the prefix; the last one's state is merged into the
  // pipeline's own operator of that command, which then finishes as if it had seen every row.
  OpEnv env{this, &budget_, depth};
  std::vector<std::vector<std::unique_ptr<Operator>>> chains(static_cast<size_t>(workers));
  for (auto& chain : chains) {
    for (size_t i = 0; i < prefix; ++i) {
      const Command& c = plan.rest->commands[i];
      ASSIGN_OR_RETURN(std::unique_ptr<Operator> op,
                       CommandRegistry::Get().Find(c.name)->make(c, env));
      if (!chain.empty()) chain.back()->set_next(op.get());
      chain.push_back(std::move(op));
    }
  }
  std::vector<Status> status(static_cast<size_t>(workers));
  std::vector<Rows> rows(static_cast<size_t>(workers));
  RETURN_IF_ERROR(source_->ScanParallel(req, workers, [&](int w, EventBatch& batch) {
    auto& st = status[static_cast<size_t>(w)];
    Rows& r = rows[static_cast<size_t>(w)];
    to_rows(batch, &r);
    st = chains[static_cast<size_t>(w)].front()->Feed(r);
    if (st.ok()) st = errors_->First();
    return st.ok();
  }));
  for (const auto& st : status) RETURN_IF_ERROR(st);
  for (auto& chain : chains) {
    RETURN_IF_ERROR(main_ops.back()->MergeFrom(*chain.back()));
    for (size_t i = 0; i < prefix; ++i) main_ops[i]->AddCounters(chain[i]->counters());
  }
  return Status::Ok();
}

namespace {

// `bin _time span=S | stats <functions> by <fields including _time>` (bin without AS, stats
// without options) as one command for EventSource::PreAggregate: the stats command with
// option "span" and _time left out of its by fields. Nothing otherwise.
std::optional<Command> BinnedStats(const Pipeline& p) {
  if (p.commands.size() < 2) return std::nullopt;
  const Command& bin = p.commands[0];
  const Command& stats = p.commands[1];
  if (bin.name != "bin" || bin.fields != std::vector<std::string>{"_time"} || !bin.text.empty() ||
      bin.options.size() != 1 || !bin.options.count("span")) {
    return std::nullopt;
  }
  if (stats.name != "stats" || !stats.options.empty()) return std::nullopt;
  auto t = std::find(stats.by.begin(), stats.by.end(), "_time");
  if (t == stats.by.end()) return std::nullopt;
  Command fused;
  fused.name = stats.name;
  fused.offset = stats.offset;
  fused.aggs = stats.aggs;
  fused.by = stats.by;
  fused.by.erase(fused.by.begin() + (t - stats.by.begin()));
  fused.options["span"] = bin.options.at("span");
  return fused;
}

}  // namespace

namespace {

void ExprFieldsRead(const Expr& e, std::vector<std::string>* out);

// Groups beyond this many are not spelled out as a search: the events are all read instead.
constexpr size_t kMaxNarrowGroups = 1024;

}  // namespace

Result<SearchPtr> Executor::NarrowToGroups(const Plan& plan, const Rows& groups, OpEnv& env) {
  const auto& cmds = plan.rest->commands;
  if (cmds.size() < 2 || cmds[1].name != "where" || !cmds[1].expr || cmds[0].by.empty()) {
    return SearchPtr();
  }
  const Command& es = cmds[0];
  std::vector<std::string> read;
  ExprFieldsRead(*cmds[1].expr, &read);
  for (const auto& f : read) {
    const bool known = std::find(es.by.begin(), es.by.end(), f) != es.by.end() ||
                       std::any_of(es.aggs.begin(), es.aggs.end(),
                                   [&](const Aggregation& a) { return a.OutputName() == f; });
    if (!known) return SearchPtr();
  }
  // The where over each group's row (its by fields and results, as each of its events will carry
  // them) and over a row with none of them (the events without a by-field): when that one passes,
  // every event may, and nothing is narrowed.
  Results kept;
  CollectOperator collect(&kept, &budget_);
  ASSIGN_OR_RETURN(std::unique_ptr<Operator> where,
                   CommandRegistry::Get().Find("where")->make(cmds[1], env));
  where->set_next(&collect);
  Rows probe(1);
  RETURN_IF_ERROR(where->Feed(probe));
  if (!kept.rows.empty()) return SearchPtr();
  Rows copy(groups.begin(), groups.end());
  RETURN_IF_ERROR(where->Feed(copy));
  Schema ignored;
  RETURN_IF_ERROR(where->Close(&ignored));
  if (kept.rows.size() > kMaxNarrowGroups) return SearchPtr();
  // Each kept group as `by1=v1 AND by2=v2 …`, OR-ed: a search matches such a value
  // case-insensitively, so it may take a few events more, never fewer; values a search would
  // read as a pattern or escape are not narrowed on.
  auto any = std::make_unique<SearchNode>();
  any->kind = SearchNode::Kind::kOr;
  if (kept.rows.empty()) any->kind = SearchNode::Kind::kFalse;
  for (Row& g : kept.rows) {
    auto all = std::make_unique<SearchNode>();
    all->kind = SearchNode::Kind::kAnd;
    for (const auto& b : es.by) {
      const Values* v = g.Get(b);
      if (!v || v->size() != 1) return SearchPtr();
      const std::string text = (*v)[0];
      if (text.empty() || text.find_first_of("*\\\"") != std::string::npos) return SearchPtr();
      auto eq = std::make_unique<SearchNode>();
      eq->kind = SearchNode::Kind::kCompare;
      eq->field = b;
      eq->op = "=";
      eq->value = text;
      all->children.push_back(std::move(eq));
    }
    any->children.push_back(std::move(all));
  }
  return any;
}

Status Executor::RunPlan(const Plan& plan, Operator* sink, Schema* schema, int depth) {
  // The operators, first to last, then the sink.
  std::vector<std::unique_ptr<Operator>> ops;
  OpEnv env{this, &budget_, depth};
  bool eventstats_streamed = false;  // the first command, eventstats, annotates as events stream
  if (plan.rest) {
    for (const Command& c : plan.rest->commands) {
      const CommandInfo* info = CommandRegistry::Get().Find(c.name);
      if (!info) return Unsupported("unsupported command: {} at offset {}", c.name, c.offset);
      ASSIGN_OR_RETURN(std::unique_ptr<Operator> op, info->make(c, env));
      if (!ops.empty()) ops.back()->set_next(op.get());
      ops.push_back(std::move(op));
    }
  }
  if (!ops.empty()) ops.back()->set_next(sink);
  Operator* first = ops.empty() ? sink : ops.front().get();
  if (plan.scans_events) {
    if (!source_) return InvalidArgument("no event source to search (no data folder?)");
    SearchPtr pred;
    if (plan.predicate) {
      ASSIGN_OR_RETURN(pred, ResolveSubsearches(*plan.predicate, depth));
    }
    ScanRequest req;
    req.earliest = plan.earliest;
    req.latest = plan.latest;
    req.predicate = pred.get();
    req.limit = plan.scan_limit;
    req.errors = errors_;
    req.fields = FieldsRead(plan);
    const int workers = options_.threads > 0
                            ? options_.threads
                            : static_cast<int>(std::thread::hardware_concurrency());
    req.workers = std::max(1, workers);
    extractions_.push_back(std::make_unique<Extraction>(req.fields));
    const Extraction* ex = extractions_.back().get();
    bool aggregated = false;
    if (plan.rest && !plan.rest->commands.empty() && plan.scan_limit < 0) {
      const Command& c = plan.rest->commands[0];
      auto feed = [&](Rows& rows) {
        RETURN_IF_ERROR(first->Feed(rows));
        return errors_->First();
      };
      if (c.name == "stats" || c.name == "timechart" || c.name == "top" || c.name == "rare") {
        ASSIGN_OR_RETURN(aggregated, source_->PreAggregate(req, c, feed));
      } else if (auto binned = BinnedStats(*plan.rest)) {
        // `bin _time span=S | stats … by _time, …`: the source counts per time bucket; bin then
        // finds each counted row's _time already at its bucket's start.
        ASSIGN_OR_RETURN(aggregated, source_->PreAggregate(req, *binned, feed));
      } else if (auto stats = c.name == "eventstats" ? EventStatsAsStats(c) : std::nullopt) {
        // eventstats whose groups the source can count: the groups first, then the events stream
        // through an operator that annotates each with its group's results.
        Results groups;
        CollectOperator collect(&groups, &budget_);
        ASSIGN_OR_RETURN(std::unique_ptr<Operator> stats_op,
                         CommandRegistry::Get().Find("stats")->make(*stats, env));
        stats_op->set_next(&collect);
        auto feed_stats = [&](Rows& rows) {
          RETURN_IF_ERROR(stats_op->Feed(rows));
          return errors_->First();
        };
        ASSIGN_OR_RETURN(bool counted, source_->PreAggregate(req, *stats, feed_stats));
        if (counted) {
          Schema ignored;
          RETURN_IF_ERROR(stats_op->Close(&ignored));
          // `eventstats … | where <test of the by fields and results only>`: the test picks the
          // groups, and the scan reads only their events (the where still tests each one).
          ASSIGN_OR_RETURN(SearchPtr narrowed, NarrowToGroups(plan, groups.rows, env));
          if (narrowed) {
            if (pred) {
              auto both = std::make_unique<SearchNode>();
              both->kind = SearchNode::Kind::kAnd;
              both->children.push_back(std::move(pred));
              both->children.push_back(std::move(narrowed));
              narrowed = std::move(both);
            }
            pred = std::move(narrowed);
            req.predicate = pred.get();
          }
          std::unique_ptr<Operator> annotate = MakeEventStatsAnnotate(c, std::move(groups.rows));
          annotate->set_next(ops.size() > 1 ? ops[1].get() : sink);
          ops[0] = std::move(annotate);
          first = ops[0].get();
          eventstats_streamed = true;
        }
      }
    }
    // The events of a batch as rows, without those the predicate or time range rule out.
    auto to_rows = [&](EventBatch& batch, Rows* rows) {
      rows->clear();
      for (auto& e : batch.events) {
        if (e.time < plan.earliest || e.time >= plan.latest) continue;
        Row row = Row::FromEvent(std::move(e), ex);
        if (pred && !batch.exact && !MatchSearch(*pred, row)) continue;
        rows->push_back(std::move(row));
      }
    };
    size_t prefix = ParallelPrefix(plan);
    if (!aggregated && prefix > 0 && workers > 1 && plan.scan_limit < 0) {
      std::vector<Operator*> main_ops;
      for (size_t i = 0; i < prefix; ++i) main_ops.push_back(ops[i].get());
      RETURN_IF_ERROR(RunParallel(plan, req, prefix, workers, to_rows, main_ops, depth));
    } else if (!aggregated) {
      long long taken = 0;
      Status pushed;
      Rows rows;
      RETURN_IF_ERROR(source_->Scan(req, [&](EventBatch& batch) {
        to_rows(batch, &rows);
        if (plan.scan_limit >= 0 && static_cast<long long>(rows.size()) > plan.scan_limit - taken) {
          rows.resize(static_cast<size_t>(plan.scan_limit - taken));
        }
        taken += static_cast<long long>(rows.size());
        pushed = first->Feed(rows);
        if (pushed.ok()) pushed = errors_->First();
        return pushed.ok() && !first->Done() && !(plan.scan_limit >= 0 && taken >= plan.scan_limit);
      }));
      RETURN_IF_ERROR(pushed);
    }
  }
  RETURN_IF_ERROR(first->Close(schema));
  if (depth == 0 && plan.rest) {
    profile_.commands.clear();
    for (size_t i = 0; i < ops.size(); ++i) {
      const Command& c = plan.rest->commands[i];
      const Operator::Counters& k = ops[i]->counters();
      CommandProfile p;
      p.command = ToString(c);
      p.kind = i == 0 && eventstats_streamed
                   ? "streaming (groups counted first)"
                   : std::string(ToString(CommandRegistry::Get().Find(c.name)->class_of(c)));
      p.rows_in = k.rows_in;
      p.rows_out = k.rows_out;
      p.seconds = std::max(0.0, k.own_seconds());
      p.peak_bytes = k.peak_bytes;
      profile_.commands.push_back(std::move(p));
    }
    profile_.budget_peak_bytes = budget_.peak();
    profile_.budget_bytes = budget_.limit();
  }
  return errors_->First();
}

namespace {

void SearchFieldsRead(const SearchNode& n, std::vector<std::string>* out) {
  if (n.kind == SearchNode::Kind::kCompare || n.kind == SearchNode::Kind::kIn)
    out->push_back(n.field);
  for (const auto& c : n.children) SearchFieldsRead(*c, out);
}

void ExprFieldsRead(const Expr& e, std::vector<std::string>* out) {
  if (e.kind == Expr::Kind::kField) out->push_back(e.text);
  for (const auto& a : e.args) ExprFieldsRead(*a, out);
}

}  // namespace

std::vector<std::string> FieldsRead(const Plan& plan) {
  std::vector<std::string> out;
  if (plan.predicate) SearchFieldsRead(*plan.predicate, &out);
  if (plan.rest) {
    for (const Command& c : plan.rest->commands) {
      if (c.search) SearchFieldsRead(*c.search, &out);
      if (c.expr) ExprFieldsRead(*c.expr, &out);
      for (const auto& a : c.assignments) ExprFieldsRead(*a.expr, &out);
      for (const auto& a : c.aggs) out.push_back(a.field);
      for (const auto& f : c.by) out.push_back(f);
      for (const auto& f : c.fields) out.push_back(f);
      for (const auto& k : c.sort_keys) out.push_back(k.field);
      for (const auto& r : c.renames) {
        size_t open = r.from.find('(');
        out.push_back(open == std::string::npos || r.from.back() != ')'
                          ? r.from
                          : r.from.substr(open + 1, r.from.size() - open - 2));
      }
      for (const auto& l : c.lookup_inputs) out.push_back(l.local.empty() ? l.name : l.local);
      for (const char* key : {"field", "input"}) {
        auto it = c.options.find(key);
        if (it != c.options.end()) out.push_back(it->second);
      }
    }
  }
  std::erase_if(out,
                [](const std::string& f) { return f.empty() || f.find('*') != std::string::npos; });
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  return out;
}

ResultTable Executor::ToTable(Results* r) {
  ResultTable t;
  t.columns = r->known ? r->columns : DefaultColumns(r->rows);
  for (Row& row : r->rows) {
    std::vector<Values> out;
    for (const auto& c : t.columns) {
      const Values* v = row.Get(c);
      out.push_back(v ? *v : Values{});
    }
    t.rows.push_back(std::move(out));
  }
  return t;
}

}  // namespace internal
}  // namespace cairn::query
