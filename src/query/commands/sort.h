#pragma once
// The sort operator, also used by dedup's sortby.

#include <memory>
#include <optional>

#include "query/command_support.h"

namespace cairn::query::internal {

class SortOperator final : public Operator {
 public:
  // `limit` 0: keep every row.
  SortOperator(std::vector<SortKey> keys, long long limit, MemoryBudget* budget);
  ~SortOperator() override;
  Status Push(Rows& rows) override;
  Status Finish(Schema* schema) override;

 private:
  // The first value of one sort field, with its number when it reads as one (compared without
  // parsing it again).
  struct Key {
    std::optional<std::string> text;
    std::optional<double> number;
  };
  // Small: a sort of every row keeps one per row (the row itself is in held_).
  struct Entry {
    Key key;                                 // the first sort field's
    std::unique_ptr<std::vector<Key>> more;  // the other fields' (several fields only)
    uint64_t seq = 0;                        // arrival order, for stable ties
    uint32_t bytes = 0;                      // charged to the budget
    std::unique_ptr<Row> row;                // while the limit keeps few rows; else in held_
  };
  static const Key& KeyOf(const Entry& e, size_t i) { return i == 0 ? e.key : (*e.more)[i - 1]; }
  bool Before(const Entry& a, const Entry& b) const;
  // Charges the budget for entries_' capacity as it grows.
  Status ChargeCapacity();
  void Trim();

  std::vector<SortKey> keys_;
  long long limit_;
  MemoryBudget* budget_;
  std::vector<Entry> entries_;
  HeldRows held_;  // sort 0: the rows, by arrival
  uint64_t seq_ = 0;
  long long charged_ = 0;
  size_t charged_capacity_ = 0;
};

}  // namespace cairn::query::internal
