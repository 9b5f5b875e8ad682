#include "serve/audit.h"

#include <fmt/format.h>

#include <chrono>
#include <iterator>

#include "common/json_util.h"
#include "common/log.h"
#include "common/time_util.h"
#include "serve/auth.h"
#include "store/store.h"

namespace cairn::serve {

namespace {

constexpr int kMaxAttempts = 3;
constexpr size_t kMaxFieldBytes = 64 * 1024;  // a search text longer than this is cut

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::system_clock::now().time_since_epoch())
      .count();
}

void AddString(std::string* out, std::string_view name, std::string_view value) {
  if (value.empty()) return;
  if (value.size() > kMaxFieldBytes) value = value.substr(0, kMaxFieldBytes);
  out->push_back(',');
  AppendJsonString(out, name);
  out->push_back(':');
  AppendJsonString(out, value);
}

}  // namespace

cloudtrail::Event AuditEvent(const AuditRecord& r, std::string event_id) {
  std::string json = "{\"timestamp\":";
  AppendJsonString(&json, FormatIso8601(r.time_ms, /*with_millis=*/true));
  AddString(&json, "action", r.action);
  AddString(&json, "info", r.info);
  AddString(&json, "user", r.user);
  AddString(&json, "interface", r.interface);
  AddString(&json, "client", r.client);
  AddString(&json, "reason", r.reason);
  AddString(&json, "search", r.search);
  AddString(&json, "search_id", r.search_id);
  AddString(&json, "savedsearch_name", r.savedsearch_name);
  AddString(&json, "earliest", r.earliest);
  AddString(&json, "latest", r.latest);
  AddString(&json, "exec_mode", r.exec_mode);
  if (r.ended) {
    json += fmt::format(
        ",\"result_count\":{},\"event_count\":{},\"scan_count\":{},\"total_run_time\":{:.3f}",
        r.result_count, r.event_count, r.scan_count, r.total_run_time);
  }
  AddString(&json, "error", r.error);
  json.push_back('}');
  cloudtrail::Event e;
  e.raw = std::move(json);
  e.time_ms = r.time_ms;
  e.event_id = std::move(event_id);
  e.sourcetype = std::string(kAuditSourcetype);
  e.source = "cairn:serve:" + r.action;
  return e;
}

AuditLog::AuditLog(AuditLogOptions options)
    : options_(std::move(options)), id_prefix_(RandomHex(8)) {
  thread_ = std::thread([this] { Loop(); });
}

AuditLog::~AuditLog() { Stop(); }

void AuditLog::Record(AuditRecord record) {
  if (record.time_ms == 0) record.time_ms = NowMs();
  std::lock_guard<std::mutex> l(mu_);
  if (stop_ || queue_.size() >= options_.max_pending) {
    if (stats_.dropped++ % 1000 == 0) {
      log::Warn("serve: audit record dropped ({}): {} dropped so far",
                stop_ ? "the server is stopping" : "too many waiting for the store",
                stats_.dropped);
    }
    return;
  }
  ++stats_.recorded;
  std::string id = fmt::format("audit:{}{:016x}", id_prefix_, next_seq_++);
  queue_.push_back(Pending{AuditEvent(record, std::move(id)), 0});
  cv_.notify_all();
}

Status AuditLog::CommitSome(const std::vector<Pending>& batch) {
  std::vector<cloudtrail::Event> events;
  events.reserve(batch.size());
  for (const Pending& p : batch) events.push_back(p.event);
  auto stats = options_.store->Commit(kAuditIndex, std::move(events));
  return stats.ok() ? Status::Ok() : stats.status();
}

void AuditLog::Loop() {
  std::unique_lock<std::mutex> l(mu_);
  for (;;) {
    cv_.wait(l, [&] { return stop_ || !queue_.empty(); });
    if (queue_.empty()) break;  // stopping, nothing left
    if (!stop_ && flush_requests_ == 0) {
      // Gather: one commit for the records of the next moment, not one per login.
      cv_.wait_for(l, std::chrono::milliseconds(options_.gather_ms),
                   [&] { return stop_ || flush_requests_ > 0; });
    }
    std::vector<Pending> batch(std::make_move_iterator(queue_.begin()),
                               std::make_move_iterator(queue_.end()));
    queue_.clear();
    committing_ = true;
    l.unlock();
    Status s = CommitSome(batch);
    l.lock();
    committing_ = false;
    if (s.ok()) {
      stats_.stored += batch.size();
    } else {
      ++stats_.failed_commits;
      size_t given_up = 0;
      for (auto it = batch.rbegin(); it != batch.rend(); ++it) {
        if (++it->attempts >= kMaxAttempts) {
          ++given_up;
        } else {
          queue_.push_front(std::move(*it));
        }
      }
      stats_.dropped += given_up;
      log::Warn("serve: {} audit records could not be stored in index {} ({}){}", batch.size(),
                kAuditIndex, s.ToString(),
                given_up > 0
                    ? fmt::format("; {} given up after {} attempts", given_up, kMaxAttempts)
                    : std::string("; retrying"));
    }
    last_status_ = s;
    if (queue_.empty()) flush_requests_ = 0;
    flushed_.notify_all();
  }
  stopped_ = true;
  flushed_.notify_all();
}

Status AuditLog::Flush() {
  std::unique_lock<std::mutex> l(mu_);
  if (stopped_) return last_status_;
  ++flush_requests_;
  cv_.notify_all();
  flushed_.wait(l, [&] { return stopped_ || (queue_.empty() && !committing_); });
  return last_status_;
}

void AuditLog::Stop() {
  {
    std::lock_guard<std::mutex> l(mu_);
    stop_ = true;
  }
  cv_.notify_all();
  if (thread_.joinable()) thread_.join();
}

AuditStats AuditLog::stats() const {
  std::lock_guard<std::mutex> l(mu_);
  return stats_;
}

}  // namespace cairn::serve
