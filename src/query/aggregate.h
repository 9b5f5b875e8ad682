#pragma once
// Internal to the query layer: the state of the stats family's functions
// (stats, chart, timechart, eventstats, streamstats) per group, fed one row at
// a time, merged across partial aggregates, finished into field values.
//
// Memory grows with groups and with distinct values where the function needs
// them (dc, values, mode), never with rows, except for the exact percentiles
// (median, percN), which keep every numeric value and charge the search's
// memory budget (see Aggregates::bytes).
//
// Exactness: dc counts distinct 64-bit hashes of the values, so two distinct
// values count once only when their hashes collide: with n distinct values the
// chance of any collision is about n^2 / 2^65 (1 in 9 million for two million
// values). A source that pre-aggregates may hand dc a value's DcToken instead
// of the value (see DcToken): that adds a second 64-bit hash, so the bound
// doubles (1 in 4.6 million for two million values). estdc is a HyperLogLog estimate (exact up to
// 256 distinct values, then 2^14 registers: about 0.8% standard error).
//
// Order: first, last, list, mode's ties and earliest/latest's ties follow the
// rows' OrderKeys, so partial aggregates of rows taken in any order merge to
// the result of the rows taken in order.

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "query/ast.h"
#include "query/row.h"
#include "query/value.h"

namespace cairn::query::internal {

// The position of a row in the search's result order (smaller first).
struct OrderKey {
  uint64_t major = 0;
  uint64_t minor = 0;
  bool operator<(const OrderKey& o) const {
    return major != o.major ? major < o.major : minor < o.minor;
  }
  bool operator==(const OrderKey& o) const { return major == o.major && minor == o.minor; }
};

// The order key of a row: an event's place in the source's order (newest first, then the
// source's tiebreak), whichever worker reads it; other rows follow events in arrival order `seq`.
OrderKey OrderOf(const Row& row, uint64_t seq);

// One function of one group.
class Accumulator {
 public:
  virtual ~Accumulator() = default;
  // `values` of the aggregated field in one row (null: the row lacks it); the
  // row's _time, order and weight (rows standing for several events count that
  // many for `count`).
  virtual void Add(const Values* values, double time, const OrderKey& key, long long weight) = 0;
  // Folds `other` (the same function) into this one.
  virtual void Merge(Accumulator& other) = 0;
  virtual Values Result() const = 0;
  // Bytes held beyond the object itself, for the memory budget.
  virtual size_t bytes() const { return 0; }
};

// An 8-byte stand-in for `value` that dc counts as it would count the value
// itself (within the collision bound above): a short string, cheaper to hand
// over than a long value. Only for fields that feed nothing but dc.
std::string DcToken(std::string_view value);
// DcToken of a value whose store::ValueHash is `hash` (value-hash columns hold it).
std::string DcTokenOfHash(uint64_t hash);

// A new accumulator for aggregation `a` (func as the parser canonicalised it).
// Unknown functions are refused by the parser; here they give an accumulator
// that yields null.
std::unique_ptr<Accumulator> MakeAccumulator(const Aggregation& a);

// Whether a function's result depends only on the multiset of rows, not their
// order or on floating-point summation order (for parallel partial
// aggregation).
bool OrderFree(const Aggregation& a);

}  // namespace cairn::query::internal

namespace cairn::query::internal {

// The groups of a stats-family command: by-field values -> one accumulator per
// aggregation. Memory: one entry per group (its key and accumulators), tracked
// in bytes().
class GroupTable {
 public:
  explicit GroupTable(std::vector<Aggregation> aggs);
  ~GroupTable();
  GroupTable(GroupTable&&) noexcept;
  GroupTable& operator=(GroupTable&&) noexcept;

  // The group of `key`, created on first use.
  size_t Find(const std::vector<std::string>& key);
  // Feeds a row to group `g`: `values[i]` is aggregation i's field in the row
  // (null: absent).
  void Add(size_t g, const std::vector<const Values*>& values, double time, const OrderKey& key,
           long long weight);
  // Folds every group of `other` into this table.
  void Merge(GroupTable& other);
  // Folds group `src` of `other` (the same aggregations) into group `dst` of this table.
  void MergeGroup(size_t dst, GroupTable& other, size_t src);

  size_t size() const { return keys_.size(); }
  const std::vector<std::string>& key(size_t g) const { return keys_[g]; }
  Values Result(size_t g, size_t agg) const;
  const std::vector<Aggregation>& aggs() const { return aggs_; }
  // Group numbers in Splunk's order of their keys (each part by CompareMixed,
  // then bytewise).
  std::vector<size_t> Sorted() const;
  size_t bytes() const { return bytes_; }

 private:
  struct Index;
  std::vector<Aggregation> aggs_;
  bool count_only_ = true;  // every aggregation a plain count: no accumulator objects
  std::vector<std::vector<std::string>> keys_;
  std::vector<long long> counts_;                   // count_only_
  std::vector<std::unique_ptr<Accumulator>> accs_;  // size() * aggs_.size()
  std::unique_ptr<Index> index_;
  std::string scratch_;
  size_t bytes_ = 0;
};

}  // namespace cairn::query::internal
