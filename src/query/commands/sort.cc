// sort [N] [+|-]f [num(f)|str(f)|ip(f)|auto(f)] ...: orders rows by the keys (nulls first; stable
// for ties). Keeps only the N best rows at a time (default 10000; `sort 0` keeps all, within the
// memory budget), so a limited sort holds N rows whatever its input. Blocking.

#include "query/commands/sort.h"

#include "query/command_support.h"

namespace cairn::query::internal {
namespace {

template <typename K>
int CompareKey(const SortKey& sk, const K& ka, const K& kb) {
  const std::optional<std::string>& a = ka.text;
  const std::optional<std::string>& b = kb.text;
  if (!a || !b) return a ? 1 : (b ? -1 : 0);  // nulls sort first
  const std::string& x = *a;
  const std::string& y = *b;
  if (sk.mode == "str") {
    int c = x.compare(y);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (sk.mode == "num" || sk.mode.empty() || sk.mode == "auto") {
    // Numbers first, in numeric order; then strings bytewise (CompareMixed's order, and num()'s).
    const auto& nx = ka.number;
    const auto& ny = kb.number;
    if (nx && ny) return *nx < *ny ? -1 : (*nx > *ny ? 1 : 0);
    if (nx || ny) return nx ? -1 : 1;
    int c = x.compare(y);
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  if (sk.mode == "ip") {
    auto parts = [](const std::string& s) {
      std::vector<long> v;
      size_t p = 0;
      while (p <= s.size()) {
        size_t q = s.find('.', p);
        if (q == std::string::npos) q = s.size();
        v.push_back(std::atol(s.substr(p, q - p).c_str()));
        p = q + 1;
      }
      return v;
    };
    auto px = parts(x), py = parts(y);
    return px < py ? -1 : (px > py ? 1 : 0);
  }
  return CompareMixed(x, y);
}

}  // namespace

SortOperator::SortOperator(std::vector<SortKey> keys, long long limit, MemoryBudget* budget)
    : keys_(std::move(keys)), limit_(limit), budget_(budget) {}

SortOperator::~SortOperator() {
  if (charged_) budget_->Charge("sort", -charged_).IgnoreError();
}

bool SortOperator::Before(const Entry& a, const Entry& b) const {
  for (size_t i = 0; i < keys_.size(); ++i) {
    int v = CompareKey(keys_[i], KeyOf(a, i), KeyOf(b, i));
    if (keys_[i].descending) v = -v;
    if (v != 0) return v < 0;
  }
  return a.seq < b.seq;
}

namespace {

// Heap bytes of a key beyond the entry (a string longer than the inline buffer).
size_t KeyBytes(const std::optional<std::string>& text) {
  return text && text->size() > 15 ? text->capacity() + 1 : 0;
}

}  // namespace

Status SortOperator::ChargeCapacity() {
  const size_t capacity = entries_.capacity();
  if (capacity <= charged_capacity_) return Status::Ok();
  const long long more = static_cast<long long>((capacity - charged_capacity_) * sizeof(Entry));
  charged_capacity_ = capacity;
  charged_ += more;
  return budget_->Charge("sort", more);
}

Status SortOperator::Push(Rows& rows) {
  long long bytes = 0;
  for (Row& row : rows) {
    Entry e;
    e.seq = seq_++;
    size_t extra = 0;
    for (size_t i = 0; i < keys_.size(); ++i) {
      const Values* v = row.Get(keys_[i].field);
      Key k;
      if (v) {
        k.text = v->front();
        k.number = ParseNumber(*k.text);
      }
      extra += KeyBytes(k.text);
      if (i == 0) {
        e.key = std::move(k);
      } else {
        if (!e.more) e.more = std::make_unique<std::vector<Key>>();
        e.more->push_back(std::move(k));
      }
    }
    if (e.more) extra += e.more->capacity() * sizeof(Key) + sizeof(std::vector<Key>);
    if (limit_ > 0) {
      row.Compact();
      extra += row.MemoryUsage() + sizeof(Row);
      e.row = std::make_unique<Row>(std::move(row));
    } else {
      extra += held_.Add(std::move(row));
    }
    e.bytes = static_cast<uint32_t>(std::min<size_t>(extra, UINT32_MAX));
    bytes += static_cast<long long>(e.bytes);
    entries_.push_back(std::move(e));
  }
  charged_ += bytes;
  Status st = budget_->Charge("sort", bytes);
  if (st.ok()) st = ChargeCapacity();
  if (limit_ > 0 && entries_.size() >= 2 * static_cast<size_t>(limit_) + 1024) Trim();
  counters_.peak_bytes = std::max(counters_.peak_bytes, static_cast<size_t>(charged_));
  return st;
}

// Keeps the limit_ best entries.
void SortOperator::Trim() {
  auto before = [this](const Entry& a, const Entry& b) { return Before(a, b); };
  std::nth_element(entries_.begin(), entries_.begin() + limit_, entries_.end(), before);
  long long freed = 0;
  for (size_t i = static_cast<size_t>(limit_); i < entries_.size(); ++i) {
    freed += static_cast<long long>(entries_[i].bytes);
  }
  entries_.resize(static_cast<size_t>(limit_));
  charged_ -= freed;
  budget_->Charge("sort", -freed).IgnoreError();
}

Status SortOperator::Finish(Schema* schema) {
  if (limit_ > 0 && entries_.size() > static_cast<size_t>(limit_)) Trim();
  std::sort(entries_.begin(), entries_.end(),
            [this](const Entry& a, const Entry& b) { return Before(a, b); });
  Rows out;
  for (auto& e : entries_) {
    out.push_back(limit_ > 0 ? std::move(*e.row) : held_.Take(e.seq));
    if (out.size() == 1024) {
      RETURN_IF_ERROR(Emit(out));
      out.clear();
      if (Done()) break;
    }
  }
  std::vector<Entry>().swap(entries_);
  held_.Clear();
  budget_->Charge("sort", -charged_).IgnoreError();
  charged_ = 0;
  charged_capacity_ = 0;
  RETURN_IF_ERROR(Emit(out));
  return FinishNext(schema);
}

namespace {

// [N] [limit=N] [+|-]field | [+|-]mode(field) [desc|d], ... (mode: num, str, ip, auto)
Status Parse(CommandParser& p, Command* c) {
  Token t = p.Peek();
  if (t.kind == Token::kWord && !t.text.empty() &&
      t.text.find_first_not_of("0123456789") == std::string::npos) {
    p.Take(t);
    c->count = std::stoll(t.text);
  }
  bool pending_desc = false, pending_sign = false;
  while (!p.AtCommandEnd()) {
    ASSIGN_OR_RETURN(bool skipped, TakeOptionOrComma(p, c));
    if (skipped) continue;
    t = p.Peek();
    if (t.kind != Token::kWord && t.kind != Token::kString) {
      return SyntaxError(t.offset, "expected a sort field");
    }
    p.Take(t);
    std::string w = t.text;
    SortKey k;
    if (t.kind == Token::kWord && (w == "-" || w == "+")) {
      pending_desc = w == "-";
      pending_sign = true;
      continue;
    }
    if (t.kind == Token::kWord && (w[0] == '-' || w[0] == '+')) {
      k.descending = w[0] == '-';
      w = w.substr(1);
    } else if (pending_sign) {
      k.descending = pending_desc;
    }
    pending_sign = false;
    if (t.kind == Token::kWord) {
      ASSIGN_OR_RETURN(std::optional<std::string> field, p.TakeParenthesized());
      if (field) {
        std::string mode = Lower(w);
        if (mode != "num" && mode != "str" && mode != "ip" && mode != "auto") {
          return Unsupported("unsupported function: {} in sort at offset {}", w, t.offset);
        }
        k.mode = mode;
        w = *field;
      }
    }
    k.field = w;
    Token d = p.Peek();
    if (d.Is(Token::kWord, "desc") || d.Is(Token::kWord, "d")) {
      p.Take(d);
      k.descending = !k.descending;
    }
    c->sort_keys.push_back(k);
  }
  RETURN_IF_ERROR(p.CheckQuote());
  auto limit = c->options.find("limit");
  if (limit != c->options.end()) {
    auto n = ParseNumber(limit->second);
    if (!n) return SyntaxError(c->offset, "sort limit must be a number");
    c->count = static_cast<long long>(*n);
    c->options.erase(limit);
  }
  if (c->sort_keys.empty()) return SyntaxError(c->offset, "sort needs at least one field");
  return Status::Ok();
}

std::string Print(const Command& c) {
  std::string out = "sort";
  if (c.count >= 0) out += " " + std::to_string(c.count);
  for (size_t i = 0; i < c.sort_keys.size(); ++i) {
    const SortKey& k = c.sort_keys[i];
    out += (i ? ", " : " ") + std::string(k.descending ? "-" : "+");
    out += k.mode.empty() ? FieldText(k.field) : k.mode + "(" + FieldText(k.field) + ")";
  }
  return out;
}

}  // namespace

void Register_sort(CommandRegistry& r) {
  AddCommand(r, "sort", CommandClass::kBlocking, CommandSyntax{Parse, Print},
             [](const Command& c, OpEnv& env) -> Result<std::unique_ptr<Operator>> {
               long long limit = c.count < 0 ? 10000 : c.count;
               return MakeOp<SortOperator>(c.sort_keys, limit, env.budget);
             });
}

}  // namespace cairn::query::internal
