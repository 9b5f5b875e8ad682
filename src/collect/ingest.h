#pragma once
// Reading one S3 object into the store: the part `cairn collect` and `cairn backfill` share.
//
// ObjectIngester::Ingest streams GetObject into the CloudTrail reader through a bounded pipe
// (memory stays at the pipe's 4 MiB plus the reader's buffer plus at most commit_batch_bytes of
// decoded events per file), applies the input's exclusion filter, commits through the
// GroupCommitter (which merges concurrent files into one store commit) and records the object
// in the ledger after the commit is durable. Digest files are written under <data>/digests/,
// their bucket and key turned into a path by PathUnder (common/safe_path.h): a key cannot reach
// outside that folder.
//
// Thread safety: Ingest may be called from many threads at once.

#include <re2/re2.h>

#include <condition_variable>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include "aws/s3.h"
#include "cloudtrail/event.h"
#include "collect/conf.h"
#include "collect/ledger.h"
#include "collect/metrics.h"
#include "collect/notification.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/quarantine.h"
#include "store/store.h"

namespace cairn::detect {
class RuleSet;
class StoredNeighbours;
class StreamingCorrelator;
}  // namespace cairn::detect

namespace cairn::collect {

// Merges concurrent Commit calls for one index into one store commit (leader/followers).
class GroupCommitter {
 public:
  GroupCommitter(store::Store* store, Metrics* metrics);
  ~GroupCommitter();
  // Returns when `events` are durable (or the shared commit failed: nothing of them stored).
  Status Commit(const std::string& index, std::vector<cloudtrail::Event> events);
  // Streaming detection: every batch committed is checked against `rules` (not owned; null: off)
  // and their alerts are stored in the alerts index once the batch is durable. A failed alert
  // write fails the commit, so the batch's source is retried (its events are deduplicated, the
  // alerts' ids are stable).
  // Correlation rules run over the committed batches' hits (detect::StreamingCorrelator).
  void SetRules(const detect::RuleSet* rules);
  // Makes the correlations' open windows final and stores their alerts (when collection stops).
  Status FlushCorrelations();
  // At the start: the correlations' windows still open are read back from the store
  // (detect::WarmCorrelator), so a burst split by a restart is correlated whole.
  Status WarmCorrelations();
  // For a run over stored history (a backfill) instead: before each batch, the stored events
  // near it are read back for the correlations (detect::StoredNeighbours). After SetRules.
  void ReadStoredNeighbours();

 private:
  struct Request {
    std::vector<cloudtrail::Event> events;
    bool done = false;
    Status status;
  };
  struct Queue {
    bool busy = false;
    std::vector<Request*> pending;
  };
  store::Store* store_;
  Metrics* metrics_;
  const detect::RuleSet* rules_ = nullptr;
  std::unique_ptr<detect::StreamingCorrelator> correlator_;
  std::unique_ptr<detect::StoredNeighbours> neighbours_;  // ReadStoredNeighbours
  std::mutex mu_;
  std::condition_variable cv_;
  std::map<std::string, Queue> queues_;
};

// Decides where an event goes: the input's index, the excluded-events index, or nowhere.
class EventFilter {
 public:
  explicit EventFilter(const InputConfig& input);
  // nullptr: keep in input.index. Otherwise the index name, or "" to drop.
  const std::string* Route(const cloudtrail::Event& event) const;
  const std::string& index() const { return index_; }

 private:
  std::string index_;
  std::string excluded_index_;
  std::unique_ptr<RE2> exclude_;
};

enum class FileOutcome { kIngested, kSkipped, kDigest, kEmpty };

struct FileResult {
  FileOutcome outcome = FileOutcome::kIngested;
  std::string etag;
  uint64_t events = 0;
  uint64_t bytes = 0;
  int64_t newest_event_ms = 0;  // the newest time of the events stored (0: none)
};

// The collector's records in the local quarantine, <data>/quarantine/{messages,files}/
// (docs/collect.md), written by cairn::Quarantine (common/quarantine.h). Thread-safe.
class Quarantine {
 public:
  Quarantine(FileSystem* fs, std::string dir) : kept_(fs, Clock::System(), std::move(dir)) {}
  // Keeps an SQS message that is not a notification. Returns when durable.
  Status KeepMessage(const std::string& queue_url, const std::string& message_id, int receive_count,
                     const std::string& body, const std::vector<std::string>& reasons);
  // Keeps the record (and, when `content` is not null, a copy) of an unreadable object.
  Status KeepFile(const ObjectRef& ref, const std::string& reason, int attempts,
                  const std::string* content);
  const std::string& dir() const { return kept_.dir(); }

 private:
  cairn::Quarantine kept_;
};

struct IngestContext {
  std::string data_dir;
  FileSystem* fs = FileSystem::Default();  // the data folder's (digests are written through it)
  store::Store* store = nullptr;
  GroupCommitter* committer = nullptr;
  Ledger* ledger = nullptr;
  Metrics* metrics = nullptr;
  uint64_t max_file_bytes = 8ull << 30;
  uint64_t commit_batch_bytes = 32u << 20;
  bool hash_logs = true;  // CollectSettings::hash_logs (digest files are hashed whatever it says)
  std::string how = "collect";  // recorded in the ledger
};

// What became of one object: a FileResult, or a failure and where it came from.
//
// Only the object's own side — S3 (GetObject) and the reader (its bytes) — can fail for good; a
// failure of this machine — the store, the ledger, the digests folder — says nothing about the
// object, whatever its status code (a store's "not found" is not a missing object), so it is
// always transient and never a reason to quarantine the object or delete its message.
struct IngestResult {
  Status status;       // OK, or why the object was not (fully) ingested
  bool local = false;  // the failure came from this machine, not from S3 or the object's bytes
  FileResult file;     // when status is OK

  bool ok() const { return status.ok(); }
  // Retrying cannot help: an error of the object itself (IsPermanent), never a local one.
  bool permanent() const;
  static IngestResult Ok(FileResult file) {
    return IngestResult{Status::Ok(), false, std::move(file)};
  }
  static IngestResult Object(Status s) { return IngestResult{std::move(s), false, {}}; }
  static IngestResult Local(Status s) { return IngestResult{std::move(s), true, {}}; }
};

class ObjectIngester {
 public:
  ObjectIngester(const IngestContext& context, const InputConfig& input, aws::S3Client* s3);
  // Ingests one object. A failure says where it came from (IngestResult::local): S3 or the
  // reader (kUnavailable = try later; kInvalidArgument/kResourceExhausted/kNotFound/kCorruption =
  // this object will not get better), or the store, ledger or local folders (always transient).
  IngestResult Ingest(const ObjectRef& ref);
  const InputConfig& input() const { return input_; }

 private:
  Status SaveDigest(const ObjectRef& ref, const std::string& json, const std::string& signature,
                    const std::string& sha256);
  IngestContext ctx_;
  InputConfig input_;
  EventFilter filter_;
  aws::S3Client* s3_;
};

// True for errors of an object (from S3 or the reader) that retrying will not fix. Never apply
// it to a local error: see IngestResult.
bool IsPermanent(const Status& s);

}  // namespace cairn::collect
