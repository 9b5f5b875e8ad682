#include "query/aggregate.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <map>
#include <optional>
#include <set>
#include <unordered_map>

#include "store/encoding.h"
#include "store/fields.h"

namespace cairn::query::internal {
namespace {

// An open-addressing set of 64-bit hashes that starts small (a group's dc of a
// few values costs a few words) and can be walked for merges.
class HashSet {
 public:
  void Insert(uint64_t h) {
    if ((size_ + 1) * 4 > slots_.size() * 3) Grow();
    Place(h ? h : 1);  // 0 marks an empty slot
  }
  // Inserts `n` hashes at once. A large set does not fit the caches, so each insert would wait
  // for its slot's cache line: the slots of the values a few places ahead are fetched while
  // the current one is placed.
  void InsertMany(const uint64_t* hs, size_t n) {
    Reserve(size_ + n);
    constexpr size_t kAhead = 16;
    const size_t mask = slots_.size() - 1;
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) __builtin_prefetch(&slots_[hs[i + kAhead] & mask], 1);
      Place(hs[i] ? hs[i] : 1);
    }
  }
  // Room for `n` values in all without growing on the way (one rehash instead of several when a
  // row brings many values at once, as the store's pre-aggregated dc rows do).
  void Reserve(size_t n) {
    size_t slots = slots_.empty() ? 8 : slots_.size();
    while ((n + 1) * 4 > slots * 3) slots *= 2;
    if (slots != slots_.size()) Rehash(slots);
  }
  size_t size() const { return size_; }
  size_t bytes() const { return slots_.capacity() * sizeof(uint64_t); }
  template <typename F>
  void ForEach(F&& f) const {
    for (uint64_t h : slots_) {
      if (h) f(h);
    }
  }
  void Clear() {
    std::vector<uint64_t>().swap(slots_);
    size_ = 0;
  }

 private:
  void Grow() { Rehash(slots_.empty() ? 8 : slots_.size() * 2); }
  // `h` is not 0 and there is room for it.
  void Place(uint64_t h) {
    const size_t mask = slots_.size() - 1;
    for (size_t i = h & mask;; i = (i + 1) & mask) {
      if (slots_[i] == h) return;
      if (slots_[i] == 0) {
        slots_[i] = h;
        ++size_;
        return;
      }
    }
  }
  void Rehash(size_t slots) {
    std::vector<uint64_t> old;
    old.swap(slots_);
    slots_.assign(slots, 0);
    size_ = 0;
    size_t n = 0;
    for (uint64_t v : old) {
      if (v) old[n++] = v;
    }
    constexpr size_t kAhead = 16;
    const size_t mask = slots - 1;
    for (size_t i = 0; i < n; ++i) {
      if (i + kAhead < n) __builtin_prefetch(&slots_[old[i + kAhead] & mask], 1);
      Place(old[i]);
    }
  }
  std::vector<uint64_t> slots_;
  size_t size_ = 0;
};

uint64_t HashValue(std::string_view v) { return store::ValueHash(v); }

class Count final : public Accumulator {
 public:
  explicit Count(bool field) : field_(field) {}
  void Add(const Values* v, double, const OrderKey&, long long weight) override {
    if (!field_) {
      n_ += weight;
    } else if (v) {
      n_ += static_cast<long long>(v->size());
    }
  }
  void Merge(Accumulator& o) override { n_ += static_cast<Count&>(o).n_; }
  Values Result() const override { return {std::to_string(n_)}; }

 private:
  bool field_;
  long long n_ = 0;
};

class Dc final : public Accumulator {
 public:
  void Add(const Values* v, double, const OrderKey&, long long) override {
    if (!v) return;
    if (v->size() <= 64) {
      for (const auto& s : *v) set_.Insert(HashValue(s));
      return;
    }
    // Many values in one row (the store's pre-aggregated dc rows): hashed a chunk at a time,
    // then inserted with the slots fetched ahead.
    set_.Reserve(set_.size() + v->size());
    uint64_t chunk[256];
    for (size_t i = 0; i < v->size(); i += std::size(chunk)) {
      const size_t n = std::min(std::size(chunk), v->size() - i);
      for (size_t j = 0; j < n; ++j) chunk[j] = HashValue((*v)[i + j]);
      set_.InsertMany(chunk, n);
    }
  }
  void Merge(Accumulator& o) override {
    // Into the larger set, sized for both first: walking a linear-probing table in slot order
    // while inserting into a smaller one piles the values into long runs (quadratic time).
    HashSet& other = static_cast<Dc&>(o).set_;
    if (other.size() > set_.size()) std::swap(other, set_);
    set_.Reserve(set_.size() + other.size());
    std::vector<uint64_t> hs;
    hs.reserve(other.size());
    other.ForEach([&](uint64_t h) { hs.push_back(h); });
    set_.InsertMany(hs.data(), hs.size());
  }
  Values Result() const override { return {std::to_string(set_.size())}; }
  size_t bytes() const override { return set_.bytes(); }

 private:
  HashSet set_;
};

// HyperLogLog with 2^14 one-byte registers, exact (a hash set) up to 256
// distinct values.
class EstDc final : public Accumulator {
 public:
  static constexpr int kBits = 14;
  static constexpr size_t kRegisters = size_t{1} << kBits;
  static constexpr size_t kExactUpTo = 256;

  void Add(const Values* v, double, const OrderKey&, long long) override {
    if (!v) return;
    for (const auto& s : *v) Insert(HashValue(s));
  }
  void Merge(Accumulator& o) override {
    auto& other = static_cast<EstDc&>(o);
    if (other.registers_.empty()) {
      other.exact_.ForEach([&](uint64_t h) { Insert(h); });
      return;
    }
    Densify();
    for (size_t i = 0; i < kRegisters; ++i)
      registers_[i] = std::max(registers_[i], other.registers_[i]);
  }
  Values Result() const override {
    if (registers_.empty()) return {std::to_string(exact_.size())};
    double sum = 0;
    size_t zeros = 0;
    for (uint8_t r : registers_) {
      sum += std::ldexp(1.0, -static_cast<int>(r));
      zeros += r == 0;
    }
    const double m = static_cast<double>(kRegisters);
    double e = 0.7213 / (1 + 1.079 / m) * m * m / sum;
    if (e <= 2.5 * m && zeros > 0)
      e = m * std::log(m / static_cast<double>(zeros));  // linear counting
    return {std::to_string(static_cast<long long>(std::llround(e)))};
  }
  size_t bytes() const override { return exact_.bytes() + registers_.capacity(); }

 private:
  void Insert(uint64_t h) {
    if (registers_.empty()) {
      exact_.Insert(h);
      if (exact_.size() > kExactUpTo) Densify();
      return;
    }
    size_t idx = h >> (64 - kBits);
    uint64_t rest = (h << kBits) | (uint64_t{1} << (kBits - 1));  // never all zeros
    uint8_t rank = static_cast<uint8_t>(__builtin_clzll(rest) + 1);
    registers_[idx] = std::max(registers_[idx], rank);
  }
  void Densify() {
    if (!registers_.empty()) return;
    registers_.assign(kRegisters, 0);
    HashSet old;
    std::swap(old, exact_);
    old.ForEach([&](uint64_t h) { Insert(h); });
  }
  HashSet exact_;
  std::vector<uint8_t> registers_;
};

class DistinctValues final : public Accumulator {
 public:
  void Add(const Values* v, double, const OrderKey&, long long) override {
    if (!v) return;
    for (const auto& s : *v) {
      if (set_.insert(s).second) bytes_ += s.size() + 48;
    }
  }
  void Merge(Accumulator& o) override {
    for (auto& s : static_cast<DistinctValues&>(o).set_) {
      if (set_.insert(s).second) bytes_ += s.size() + 48;
    }
  }
  Values Result() const override { return Values(set_.begin(), set_.end()); }
  size_t bytes() const override { return bytes_; }

 private:
  std::set<std::string> set_;
  size_t bytes_ = 0;
};

// list(): the first 100 values in result order.
class List final : public Accumulator {
 public:
  static constexpr size_t kMax = 100;
  void Add(const Values* v, double, const OrderKey& key, long long) override {
    if (!v) return;
    uint32_t i = 0;
    for (const auto& s : *v) {
      if (items_.size() >= kMax && !(Item{key, i, {}} < items_.back())) return;
      items_.push_back({key, i++, s});
      Trim();
    }
  }
  void Merge(Accumulator& o) override {
    // Both lists are in order: merge them (checking only the last two items, as Trim does after
    // one Add, misses a disorder in the middle and kept a worker's values after the other's).
    const auto mid = static_cast<std::ptrdiff_t>(items_.size());
    for (auto& it : static_cast<List&>(o).items_) items_.push_back(std::move(it));
    std::inplace_merge(items_.begin(), items_.begin() + mid, items_.end());
    if (items_.size() > kMax) items_.resize(kMax);
  }
  Values Result() const override {
    Values out;
    for (const auto& it : items_) out.push_back(it.value);
    return out;
  }

 private:
  struct Item {
    OrderKey key;
    uint32_t index;
    std::string value;
    bool operator<(const Item& o) const { return key == o.key ? index < o.index : key < o.key; }
  };
  void Trim() {
    if (items_.size() > 1 && items_[items_.size() - 1] < items_[items_.size() - 2]) {
      std::stable_sort(items_.begin(), items_.end());
    }
    if (items_.size() > kMax) items_.resize(kMax);
  }
  std::vector<Item> items_;
};

// first()/last(): the first value of the first row, the last value of the last
// row.
class FirstLast final : public Accumulator {
 public:
  explicit FirstLast(bool last) : last_(last) {}
  void Add(const Values* v, double, const OrderKey& key, long long) override {
    if (!v || v->empty()) return;
    if (!have_ || (last_ ? !(key < key_) : key < key_)) {
      have_ = true;
      key_ = key;
      value_ = last_ ? v->back() : v->front();
    }
  }
  void Merge(Accumulator& o) override {
    auto& other = static_cast<FirstLast&>(o);
    if (!other.have_) return;
    if (!have_ || (last_ ? !(other.key_ < key_) : other.key_ < key_)) {
      have_ = true;
      key_ = other.key_;
      value_ = std::move(other.value_);
    }
  }
  Values Result() const override { return have_ ? Values{value_} : Values{}; }

 private:
  bool last_;
  bool have_ = false;
  OrderKey key_;
  std::string value_;
};

// earliest/latest (the value of the row with the smallest/largest _time; ties:
// the first row for earliest, the last for latest) and
// earliest_time/latest_time (that time).
class ByTime final : public Accumulator {
 public:
  ByTime(bool latest, bool time_only) : latest_(latest), time_only_(time_only) {}
  void Add(const Values* v, double time, const OrderKey& key, long long) override {
    if (!v || v->empty()) return;
    Offer(time, key, latest_ ? v->back() : v->front());
  }
  void Merge(Accumulator& o) override {
    auto& other = static_cast<ByTime&>(o);
    if (other.have_) Offer(other.time_, other.key_, other.value_);
  }
  Values Result() const override {
    if (!have_) return {};
    return {time_only_ ? FormatNumber(time_) : value_};
  }

 private:
  void Offer(double time, const OrderKey& key, const std::string& value) {
    bool better;
    if (!have_) {
      better = true;
    } else if (latest_) {
      better = time > time_ || (time == time_ && !(key < key_));
    } else {
      better = time < time_ || (time == time_ && key < key_);
    }
    if (!better) return;
    have_ = true;
    time_ = time;
    key_ = key;
    value_ = value;
  }
  bool latest_, time_only_;
  bool have_ = false;
  double time_ = 0;
  OrderKey key_;
  std::string value_;
};

// min()/max(): numbers before strings; a number keeps the text of its first
// occurrence.
class MinMax final : public Accumulator {
 public:
  explicit MinMax(bool max) : max_(max) {}
  void Add(const Values* v, double, const OrderKey& key, long long) override {
    if (!v) return;
    for (const auto& s : *v) Offer(s, ParseNumber(s), key);
  }
  void Merge(Accumulator& o) override {
    auto& other = static_cast<MinMax&>(o);
    if (other.num_) Offer(other.num_text_, other.num_, other.num_key_);
    if (other.str_) Offer(*other.str_, std::nullopt, OrderKey{});
  }
  Values Result() const override {
    if (num_) return {num_text_};
    if (str_) return {*str_};
    return {};
  }

 private:
  void Offer(const std::string& s, std::optional<double> n, const OrderKey& key) {
    if (n) {
      if (!num_ || (max_ ? *n > *num_ : *n < *num_) || (*n == *num_ && key < num_key_)) {
        num_ = n;
        num_text_ = s;
        num_key_ = key;
      }
    } else if (!str_ || (max_ ? s > *str_ : s < *str_)) {
      str_ = s;
    }
  }
  bool max_;
  std::optional<double> num_;
  std::string num_text_;
  OrderKey num_key_;
  std::optional<std::string> str_;
};

// sum, sumsq, avg, range, stdev, stdevp, var, varp over the numeric values:
// count, compensated sums, running mean and squared deviations (merged with
// Chan's formula), min and max.
class Moments final : public Accumulator {
 public:
  explicit Moments(std::string func) : func_(std::move(func)) {}
  void Add(const Values* v, double, const OrderKey&, long long) override {
    if (!v) return;
    for (const auto& s : *v) {
      auto x = ParseNumber(s);
      if (!x) continue;
      ++n_;
      AddTo(&sum_, &sum_c_, *x);
      AddTo(&sumsq_, &sumsq_c_, *x * *x);
      double delta = *x - mean_;
      mean_ += delta / static_cast<double>(n_);
      m2_ += delta * (*x - mean_);
      min_ = std::min(min_, *x);
      max_ = std::max(max_, *x);
    }
  }
  void Merge(Accumulator& o) override {
    auto& b = static_cast<Moments&>(o);
    if (b.n_ == 0) return;
    if (n_ == 0) {
      *this = b;
      return;
    }
    double na = static_cast<double>(n_), nb = static_cast<double>(b.n_);
    double delta = b.mean_ - mean_;
    mean_ += delta * nb / (na + nb);
    m2_ += b.m2_ + delta * delta * na * nb / (na + nb);
    n_ += b.n_;
    AddTo(&sum_, &sum_c_, b.sum_);
    AddTo(&sum_, &sum_c_, b.sum_c_);
    AddTo(&sumsq_, &sumsq_c_, b.sumsq_);
    AddTo(&sumsq_, &sumsq_c_, b.sumsq_c_);
    min_ = std::min(min_, b.min_);
    max_ = std::max(max_, b.max_);
  }
  Values Result() const override {
    if (n_ == 0) return {};
    double n = static_cast<double>(n_);
    double sum = sum_ + sum_c_;
    if (func_ == "sum") return {FormatNumber(sum)};
    if (func_ == "sumsq") return {FormatNumber(sumsq_ + sumsq_c_)};
    if (func_ == "avg") return {FormatNumber(sum / n)};
    if (func_ == "range") return {FormatNumber(max_ - min_)};
    bool pop = func_ == "stdevp" || func_ == "varp";
    double var = pop ? m2_ / n : (n > 1 ? m2_ / (n - 1) : 0);
    return {FormatNumber(func_[0] == 's' ? std::sqrt(var) : var)};
  }

 private:
  // Neumaier's compensated summation: the result does not depend on the order
  // of the terms in practice, so partial sums merged in any order agree.
  static void AddTo(double* sum, double* c, double x) {
    double t = *sum + x;
    if (std::fabs(*sum) >= std::fabs(x)) {
      *c += (*sum - t) + x;
    } else {
      *c += (x - t) + *sum;
    }
    *sum = t;
  }
  std::string func_;
  long long n_ = 0;
  double sum_ = 0, sum_c_ = 0, sumsq_ = 0, sumsq_c_ = 0;
  double mean_ = 0, m2_ = 0;
  double min_ = std::numeric_limits<double>::infinity();
  double max_ = -std::numeric_limits<double>::infinity();
};

// mode(): the most frequent value; ties go to the value seen first.
class Mode final : public Accumulator {
 public:
  void Add(const Values* v, double, const OrderKey& key, long long) override {
    if (!v) return;
    for (const auto& s : *v) Offer(s, 1, key);
  }
  void Merge(Accumulator& o) override {
    for (auto& [s, e] : static_cast<Mode&>(o).freq_) Offer(s, e.count, e.first);
  }
  Values Result() const override {
    const std::string* best = nullptr;
    const Entry* be = nullptr;
    for (const auto& [s, e] : freq_) {
      if (!be || e.count > be->count || (e.count == be->count && e.first < be->first)) {
        best = &s;
        be = &e;
      }
    }
    return best ? Values{*best} : Values{};
  }
  size_t bytes() const override { return bytes_; }

 private:
  struct Entry {
    long long count = 0;
    OrderKey first;
  };
  void Offer(const std::string& s, long long n, const OrderKey& key) {
    auto [it, fresh] = freq_.try_emplace(s);
    if (fresh) {
      it->second.first = key;
      bytes_ += s.size() + 64;
    } else if (key < it->second.first) {
      it->second.first = key;
    }
    it->second.count += n;
  }
  std::unordered_map<std::string, Entry> freq_;
  size_t bytes_ = 0;
};

// median (the upper middle value), percN / exactpercN / upperpercN (linear
// interpolation).
class Percentile final : public Accumulator {
 public:
  Percentile(bool median, double p) : median_(median), p_(p) {}
  void Add(const Values* v, double, const OrderKey&, long long) override {
    if (!v) return;
    for (const auto& s : *v) {
      if (auto x = ParseNumber(s)) nums_.push_back(*x);
    }
  }
  void Merge(Accumulator& o) override {
    auto& b = static_cast<Percentile&>(o).nums_;
    nums_.insert(nums_.end(), b.begin(), b.end());
  }
  Values Result() const override {
    if (nums_.empty()) return {};
    std::vector<double> v = nums_;
    std::sort(v.begin(), v.end());
    if (median_) return {FormatNumber(v[v.size() / 2])};
    double rank = p_ / 100.0 * static_cast<double>(v.size() - 1);
    size_t lo = static_cast<size_t>(std::floor(rank));
    size_t hi = std::min(lo + 1, v.size() - 1);
    double frac = rank - static_cast<double>(lo);
    return {FormatNumber(v[lo] + (v[hi] - v[lo]) * frac)};
  }
  size_t bytes() const override { return nums_.capacity() * sizeof(double); }

 private:
  bool median_;
  double p_;
  std::vector<double> nums_;
};

class Null final : public Accumulator {
 public:
  void Add(const Values*, double, const OrderKey&, long long) override {}
  void Merge(Accumulator&) override {}
  Values Result() const override { return {}; }
};

}  // namespace

std::string DcToken(std::string_view value) { return DcTokenOfHash(HashValue(value)); }

std::string DcTokenOfHash(uint64_t hash) {
  return std::string(reinterpret_cast<const char*>(&hash), sizeof(hash));
}

OrderKey OrderOf(const Row& row, uint64_t seq) {
  const EventView* e = row.event();
  if (!e) return OrderKey{~uint64_t{0}, seq};
  // Newer first: a larger time gives a smaller key.
  int64_t ms = static_cast<int64_t>(std::llround(e->time * 1000));
  uint64_t major = static_cast<uint64_t>(std::numeric_limits<int64_t>::max() - ms) >> 1;
  return OrderKey{major, e->tiebreak};
}

std::unique_ptr<Accumulator> MakeAccumulator(const Aggregation& a) {
  const std::string& f = a.func;
  if (f == "count") return std::make_unique<Count>(!a.field.empty());
  if (f == "dc") return std::make_unique<Dc>();
  if (f == "estdc") return std::make_unique<EstDc>();
  if (f == "values") return std::make_unique<DistinctValues>();
  if (f == "list") return std::make_unique<List>();
  if (f == "first" || f == "last") return std::make_unique<FirstLast>(f == "last");
  if (f == "earliest" || f == "latest") return std::make_unique<ByTime>(f == "latest", false);
  if (f == "earliest_time" || f == "latest_time") {
    return std::make_unique<ByTime>(f == "latest_time", true);
  }
  if (f == "min" || f == "max") return std::make_unique<MinMax>(f == "max");
  if (f == "sum" || f == "sumsq" || f == "avg" || f == "range" || f == "stdev" || f == "stdevp" ||
      f == "var" || f == "varp") {
    return std::make_unique<Moments>(f);
  }
  if (f == "mode") return std::make_unique<Mode>();
  if (f == "median") return std::make_unique<Percentile>(true, 50);
  if (f == "perc" || f[0] == 'p' || f.rfind("exactperc", 0) == 0 || f.rfind("upperperc", 0) == 0) {
    return std::make_unique<Percentile>(false, a.percentile);
  }
  return std::make_unique<Null>();
}

bool OrderFree(const Aggregation& a) {
  const std::string& f = a.func;
  return f == "count" || f == "dc" || f == "estdc" || f == "values" || f == "min" || f == "max" ||
         f == "range" || f == "median" || f == "perc" || f[0] == 'p' ||
         f.rfind("exactperc", 0) == 0 || f.rfind("upperperc", 0) == 0;
}

}  // namespace cairn::query::internal

#include "store/flat_map.h"

namespace cairn::query::internal {

struct GroupTable::Index {
  store::FlatStringMap map;
};

GroupTable::GroupTable(std::vector<Aggregation> aggs)
    : aggs_(std::move(aggs)), index_(std::make_unique<Index>()) {
  for (const auto& a : aggs_) count_only_ &= a.func == "count" && a.field.empty();
}
GroupTable::~GroupTable() = default;
GroupTable::GroupTable(GroupTable&&) noexcept = default;
GroupTable& GroupTable::operator=(GroupTable&&) noexcept = default;

size_t GroupTable::Find(const std::vector<std::string>& key) {
  scratch_.clear();
  for (const auto& part : key) {
    uint32_t n = static_cast<uint32_t>(part.size());
    scratch_.append(reinterpret_cast<const char*>(&n), sizeof(n));
    scratch_.append(part);
  }
  bool inserted;
  uint32_t* g = index_->map.FindOrInsert(scratch_, static_cast<uint32_t>(keys_.size()), &inserted);
  if (!inserted) return *g;
  keys_.push_back(key);
  bytes_ += 2 * scratch_.size() + 64 + sizeof(std::string) * key.size();
  if (count_only_) {
    counts_.push_back(0);
  } else {
    for (const auto& a : aggs_) accs_.push_back(MakeAccumulator(a));
    bytes_ += aggs_.size() * 64;
  }
  return *g;
}

void GroupTable::Add(size_t g, const std::vector<const Values*>& values, double time,
                     const OrderKey& key, long long weight) {
  if (count_only_) {
    counts_[g] += weight;
    return;
  }
  for (size_t i = 0; i < aggs_.size(); ++i) {
    Accumulator& acc = *accs_[g * aggs_.size() + i];
    size_t before = acc.bytes();
    acc.Add(values[i], time, key, weight);
    bytes_ += acc.bytes() - before;
  }
}

void GroupTable::Merge(GroupTable& other) {
  for (size_t og = 0; og < other.size(); ++og) MergeGroup(Find(other.keys_[og]), other, og);
}

void GroupTable::MergeGroup(size_t g, GroupTable& other, size_t og) {
  if (count_only_) {
    counts_[g] += other.counts_[og];
    return;
  }
  for (size_t i = 0; i < aggs_.size(); ++i) {
    Accumulator& acc = *accs_[g * aggs_.size() + i];
    size_t before = acc.bytes();
    acc.Merge(*other.accs_[og * aggs_.size() + i]);
    bytes_ += acc.bytes() - before;
  }
}

Values GroupTable::Result(size_t g, size_t agg) const {
  if (count_only_) return {std::to_string(counts_[g])};
  return accs_[g * aggs_.size() + agg]->Result();
}

std::vector<size_t> GroupTable::Sorted() const {
  std::vector<size_t> order(keys_.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t x, size_t y) {
    const auto& a = keys_[x];
    const auto& b = keys_[y];
    for (size_t i = 0; i < a.size() && i < b.size(); ++i) {
      int c = CompareMixed(a[i], b[i]);
      if (c != 0) return c < 0;
      if (a[i] != b[i]) return a[i] < b[i];
    }
    return a.size() < b.size();
  });
  return order;
}

}  // namespace cairn::query::internal
