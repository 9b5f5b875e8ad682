#pragma once
// cairn serve's audit trail: a record for every login (successful or not) and every search, kept
// in the store's internal index `_audit` (sourcetype cairn:audit), searched like any index but
// only when named (`index=_audit`; index=* leaves it out, see query/store_source.h).
//
// Record() only queues: a login or a search never waits for a disk commit. One thread commits
// what is queued through Store::Commit (durable, deduplicated on the record's id) after gathering
// for up to `gather_ms`, so many records share a segment. A failed commit is logged as a warning
// and the batch retried at the next round (ids are stable, so a retried record is stored once),
// up to three times; nothing is ever reported to the request that caused the record. At most
// `max_pending` records wait; beyond, new ones are dropped and counted (a warning says so).
// Stop() commits what is queued, then ends the thread (call it before the store closes).
//
// What a record may hold: user names, client addresses, the search text and times, counts, fixed
// reasons and error messages of searches. Never a password, session key or token: callers pass
// none, and no field of AuditRecord is meant for one.
//
// Thread safety: Record, Flush and stats may be called from any thread.

#include <condition_variable>
#include <cstdint>
#include <deque>
#include <mutex>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

#include "cloudtrail/event.h"
#include "common/status.h"

namespace cairn::store {
class Store;
}

namespace cairn::serve {

inline constexpr std::string_view kAuditIndex = "_audit";
inline constexpr std::string_view kAuditSourcetype = "cairn:audit";

struct AuditRecord {
  int64_t time_ms = 0;    // the record's _time; 0: when Record is called
  std::string action;     // "login" or "search"
  std::string info;       // login: succeeded | failed; search: granted | completed | failed |
                          // cancelled | refused
  std::string user;       // who (for a failed login: the name given)
  std::string interface;  // rest, rest_basic, rest_token, ui, scheduler
  std::string client;     // the peer address ("ip:port"); "" for the scheduler
  std::string reason;     // why a login failed or a search was refused
  std::string search;     // the search text
  std::string search_id;  // the job's sid
  std::string savedsearch_name;
  std::string earliest;  // as given (Splunk time modifiers) or ISO times of the window
  std::string latest;
  std::string exec_mode;  // normal, blocking, oneshot, export (REST)
  // When a search ends (info completed/failed/cancelled).
  bool ended = false;
  uint64_t result_count = 0;
  uint64_t event_count = 0;
  uint64_t scan_count = 0;
  double total_run_time = 0;  // seconds
  std::string error;
};

// The record as a store event: JSON with the non-empty fields, _time from time_ms, event id
// "audit:" + 32 hex digits unique to this record.
cloudtrail::Event AuditEvent(const AuditRecord& record, std::string event_id);

struct AuditLogOptions {
  store::Store* store = nullptr;  // required
  int64_t gather_ms = 1000;       // how long a round waits for more records before committing
  size_t max_pending = 100'000;
  std::string host = "cairn";
};

struct AuditStats {
  uint64_t recorded = 0;  // accepted by Record
  uint64_t stored = 0;    // committed
  uint64_t dropped = 0;   // refused (queue full) or given up after failed commits
  uint64_t failed_commits = 0;
};

class AuditLog {
 public:
  explicit AuditLog(AuditLogOptions options);
  ~AuditLog();  // Stop()
  AuditLog(const AuditLog&) = delete;
  AuditLog& operator=(const AuditLog&) = delete;

  // Queues the record; returns at once.
  void Record(AuditRecord record);
  // Commits everything queued so far before returning (tests, and Stop).
  Status Flush();
  // Commits what is queued and stops the thread; later records are dropped. Idempotent.
  void Stop();
  AuditStats stats() const;

 private:
  struct Pending {
    cloudtrail::Event event;
    int attempts = 0;
  };
  void Loop();
  Status CommitSome(const std::vector<Pending>& batch);  // mu_ not held

  AuditLogOptions options_;
  std::string id_prefix_;  // random per process: ids are unique across restarts
  mutable std::mutex mu_;
  std::condition_variable cv_;       // records queued, or stopping
  std::condition_variable flushed_;  // a round committed
  std::deque<Pending> queue_;
  uint64_t next_seq_ = 0;
  uint64_t flush_requests_ = 0;  // Flush calls waiting: no gathering until the queue is empty
  Status last_status_;           // of the last commit
  bool committing_ = false;
  bool stop_ = false;
  bool stopped_ = false;
  AuditStats stats_;
  std::thread thread_;
};

}  // namespace cairn::serve
