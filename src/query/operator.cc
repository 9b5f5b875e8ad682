#include "query/operator.h"

#include <fmt/format.h>

#include <algorithm>
#include <chrono>

namespace cairn::query::internal {

void Schema::Add(const std::string& name) {
  if (!known) return;
  if (std::find(columns.begin(), columns.end(), name) == columns.end()) columns.push_back(name);
}

Status MemoryBudget::Charge(const std::string& holder, long long bytes) {
  size_t now = bytes >= 0
                   ? used_.fetch_add(static_cast<size_t>(bytes)) + static_cast<size_t>(bytes)
                   : used_.fetch_sub(static_cast<size_t>(-bytes)) - static_cast<size_t>(-bytes);
  size_t peak = peak_.load();
  while (now > peak && !peak_.compare_exchange_weak(peak, now)) {
  }
  if (bytes > 0 && now > limit_) {
    return Status(StatusCode::kResourceExhausted,
                  fmt::format("{}: the search needs more than its memory budget of {} MB "
                              "(cairn search --memory-budget-mb); "
                              "narrow the search (time range, filters) or raise the budget",
                              holder, limit_ >> 20));
  }
  return Status::Ok();
}

Status Operator::MergeFrom(Operator&) {
  return Status(StatusCode::kInternal, "this command's operators do not merge");
}

namespace {
double SecondsSince(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
}
}  // namespace

void Operator::Counters::Add(const Counters& o) {
  rows_in += o.rows_in;
  rows_out += o.rows_out;
  seconds += o.seconds;
  downstream_seconds += o.downstream_seconds;
  peak_bytes = std::max(peak_bytes, o.peak_bytes);
}

Status Operator::Feed(Rows& rows) {
  counters_.rows_in += rows.size();
  auto t0 = std::chrono::steady_clock::now();
  Status s = Push(rows);
  counters_.seconds += SecondsSince(t0);
  return s;
}

Status Operator::Close(Schema* schema) {
  auto t0 = std::chrono::steady_clock::now();
  Status s = Finish(schema);
  counters_.seconds += SecondsSince(t0);
  return s;
}

Status Operator::Emit(Rows& rows) {
  if (rows.empty() || !next_) return Status::Ok();
  counters_.rows_out += rows.size();
  auto t0 = std::chrono::steady_clock::now();
  Status s = next_->Feed(rows);
  counters_.downstream_seconds += SecondsSince(t0);
  return s;
}

Status Operator::FinishNext(Schema* schema) {
  if (!next_) return Status::Ok();
  auto t0 = std::chrono::steady_clock::now();
  Status s = next_->Close(schema);
  counters_.downstream_seconds += SecondsSince(t0);
  return s;
}

}  // namespace cairn::query::internal
