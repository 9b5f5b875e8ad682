#include "detect/neighbours.h"

#include <algorithm>
#include <utility>
#include <vector>

namespace cairn::detect {
namespace {

using Stretches = std::map<int64_t, int64_t>;

// The parts of [start, end) that `done` does not cover, in order.
std::vector<std::pair<int64_t, int64_t>> Missing(const Stretches& done, int64_t start,
                                                 int64_t end) {
  std::vector<std::pair<int64_t, int64_t>> out;
  int64_t at = start;
  auto it = done.upper_bound(start);
  if (it != done.begin()) --it;
  for (; it != done.end() && it->first < end && at < end; ++it) {
    if (it->second <= at) continue;
    if (it->first > at) out.emplace_back(at, it->first);
    at = std::max(at, it->second);
  }
  if (at < end) out.emplace_back(at, end);
  return out;
}

// Adds [start, end) to `done`, merging the stretches it meets.
void Cover(Stretches* done, int64_t start, int64_t end) {
  auto it = done->upper_bound(start);
  if (it != done->begin() && std::prev(it)->second >= start) --it;
  while (it != done->end() && it->first <= end) {
    start = std::min(start, it->first);
    end = std::max(end, it->second);
    it = done->erase(it);
  }
  (*done)[start] = end;
}

int64_t SaturatingAdd(int64_t a, int64_t b) {
  if (b > 0 && a > INT64_MAX - b) return INT64_MAX;
  if (b < 0 && a < INT64_MIN - b) return INT64_MIN;
  return a + b;
}

}  // namespace

StoredNeighbours::StoredNeighbours(store::Store* store, const RuleSet* rules,
                                   StreamingCorrelator* correlator)
    : store_(store), rules_(rules), correlator_(correlator) {
  for (const Correlation& c : rules->loaded().correlations) {
    span_ms_ = std::max(span_ms_, std::max<int64_t>(c.timespan_ms, 1));
  }
}

Status StoredNeighbours::Before(std::string_view index, int64_t oldest_ms, int64_t newest_ms) {
  if (span_ms_ == 0 || oldest_ms > newest_ms) return Status::Ok();
  const int64_t start = SaturatingAdd(oldest_ms, -span_ms_);
  const int64_t end = SaturatingAdd(SaturatingAdd(newest_ms, span_ms_), 1);
  // One hunt at a time: a batch waits for the stretch another batch is reading, so its windows
  // are not judged without those hits. The first call for an index comes before this run's
  // first commit to it: its snapshot holds only what earlier runs stored.
  std::lock_guard<std::mutex> lock(mu_);
  auto it = indexes_.find(index);
  if (it == indexes_.end()) {
    Index fresh;
    auto snap = store_->GetSnapshot(index);
    if (snap.ok()) {
      fresh.before = std::move(snap).value();
    } else if (snap.status().code() != StatusCode::kNotFound) {
      return snap.status();
    }
    it = indexes_.emplace(std::string(index), std::move(fresh)).first;
  }
  Index& ix = it->second;
  if (ix.before == nullptr) return Status::Ok();  // nothing was stored before this run
  for (const auto& [from, to] : Missing(ix.hunted, start, end)) {
    HuntOptions o;
    o.index = std::string(index);
    o.earliest_ms = from;
    o.latest_ms = to;
    o.alerts = false;  // the correlator raises what the hits complete
    o.correlated_only = true;
    ASSIGN_OR_RETURN(HuntResult found, RetroHunt(*ix.before, *rules_, o));
    events_read_ += found.events_scanned;
    correlator_->AddStored(found.hits);
  }
  Cover(&ix.hunted, start, end);
  return Status::Ok();
}

uint64_t StoredNeighbours::events_read() const {
  std::lock_guard<std::mutex> lock(mu_);
  return events_read_;
}

}  // namespace cairn::detect
