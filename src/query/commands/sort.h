#pragma once
// The sort operator, also used by dedup's sortby.

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
  struct Entry {
    std::vector<std::optional<std::string>> keys;  // first value of each sort field
    uint64_t seq = 0;                              // arrival order, for stable ties
    size_t bytes = 0;
    Row row;  // while the limit keeps few rows; else in held_ at index seq
  };
  bool Before(const Entry& a, const Entry& b) const;
  void Trim();

  std::vector<SortKey> keys_;
  long long limit_;
  MemoryBudget* budget_;
  std::vector<Entry> entries_;
  HeldRows held_;  // sort 0: the rows, by arrival
  uint64_t seq_ = 0;
  long long charged_ = 0;
};

}  // namespace cairn::query::internal
