#include "collect/ingest.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <algorithm>
#include <deque>
#include <optional>
#include <thread>

#include "cloudtrail/reader.h"
#include "collect/integrity.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/safe_path.h"
#include "common/time_util.h"
#include "detect/alert.h"
#include "detect/hunt.h"
#include "detect/neighbours.h"
#include "detect/rule_set.h"

namespace cairn::collect {
namespace {

std::string StripQuotes(std::string_view etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return std::string(etag);
}

int64_t NowMs() { return Clock::System()->NowMicros() / 1000; }

// A bounded byte pipe from the S3 download thread to the reader.
class Pipe {
 public:
  explicit Pipe(size_t capacity) : capacity_(capacity) {}
  Status Write(std::string_view data) {
    std::unique_lock<std::mutex> lock(mu_);
    room_.wait(lock, [&] { return bytes_ < capacity_ || cancelled_; });
    if (cancelled_) return Cancelled("reader stopped");
    chunks_.emplace_back(data);
    bytes_ += data.size();
    data_.notify_one();
    return Status::Ok();
  }
  void Finish(Status s) {
    std::lock_guard<std::mutex> lock(mu_);
    closed_ = true;
    final_ = std::move(s);
    data_.notify_all();
  }
  void Cancel() {
    std::lock_guard<std::mutex> lock(mu_);
    cancelled_ = true;
    room_.notify_all();
  }
  Result<size_t> Read(char* buf, size_t n) {
    std::unique_lock<std::mutex> lock(mu_);
    data_.wait(lock, [&] { return !chunks_.empty() || closed_; });
    if (chunks_.empty()) {
      if (!final_.ok()) return final_;
      return static_cast<size_t>(0);
    }
    std::string& front = chunks_.front();
    size_t k = std::min(n, front.size() - front_pos_);
    std::memcpy(buf, front.data() + front_pos_, k);
    front_pos_ += k;
    bytes_ -= k;
    if (front_pos_ == front.size()) {
      chunks_.pop_front();
      front_pos_ = 0;
    }
    room_.notify_one();
    return k;
  }

 private:
  std::mutex mu_;
  std::condition_variable room_, data_;
  std::deque<std::string> chunks_;
  size_t front_pos_ = 0;
  size_t bytes_ = 0;
  size_t capacity_;
  bool closed_ = false;
  bool cancelled_ = false;
  Status final_;
};

class PipeFile final : public SequentialFile {
 public:
  explicit PipeFile(std::shared_ptr<Pipe> pipe) : pipe_(std::move(pipe)) {}
  Result<size_t> Read(char* buf, size_t n) override { return pipe_->Read(buf, n); }

 private:
  std::shared_ptr<Pipe> pipe_;
};

}  // namespace

bool IsPermanent(const Status& s) {
  switch (s.code()) {
    case StatusCode::kInvalidArgument:
    case StatusCode::kResourceExhausted:
    case StatusCode::kNotFound:
    case StatusCode::kUnsupported:
    case StatusCode::kCorruption: return true;
    default: return false;
  }
}

bool IngestResult::permanent() const { return !status.ok() && !local && IsPermanent(status); }

GroupCommitter::GroupCommitter(store::Store* store, Metrics* metrics)
    : store_(store), metrics_(metrics) {}

GroupCommitter::~GroupCommitter() = default;

void GroupCommitter::SetRules(const detect::RuleSet* rules) {
  rules_ = rules;
  correlator_ = rules == nullptr ? nullptr : std::make_unique<detect::StreamingCorrelator>(rules);
  neighbours_ = nullptr;
}

void GroupCommitter::ReadStoredNeighbours() {
  if (correlator_ == nullptr) return;
  neighbours_ = std::make_unique<detect::StoredNeighbours>(store_, rules_, correlator_.get());
}

Status GroupCommitter::FlushCorrelations() {
  if (correlator_ == nullptr) return Status::Ok();
  auto stored = detect::StoreAlerts(store_, correlator_->Flush());
  if (!stored.ok()) {
    metrics_->CountError("alerts");
    return stored.status();
  }
  metrics_->alerts_stored += *stored;
  return Status::Ok();
}

Status GroupCommitter::WarmCorrelations() {
  if (correlator_ == nullptr) return Status::Ok();
  ASSIGN_OR_RETURN(std::vector<detect::Alert> alerts,
                   detect::WarmCorrelator(store_, *rules_, correlator_.get()));
  auto stored = detect::StoreAlerts(store_, alerts);
  if (!stored.ok()) return stored.status();
  metrics_->alerts_stored += *stored;
  return Status::Ok();
}

Status GroupCommitter::Commit(const std::string& index, std::vector<cloudtrail::Event> events) {
  if (events.empty()) return Status::Ok();
  Request req;
  req.events = std::move(events);
  std::unique_lock<std::mutex> lock(mu_);
  Queue& q = queues_[index];
  q.pending.push_back(&req);
  while (!req.done) {
    if (!q.busy) {
      q.busy = true;
      std::vector<Request*> group;
      group.swap(q.pending);
      lock.unlock();
      std::vector<cloudtrail::Event> batch;
      size_t n = 0;
      for (Request* r : group) n += r->events.size();
      batch.reserve(n);
      int64_t newest = 0;
      int64_t oldest = INT64_MAX;
      for (Request* r : group) {
        for (auto& e : r->events) {
          newest = std::max(newest, e.time_ms);
          oldest = std::min(oldest, e.time_ms);
          batch.push_back(std::move(e));
        }
      }
      Status near =
          neighbours_ == nullptr ? Status::Ok() : neighbours_->Before(index, oldest, newest);
      detect::BatchAlerts alerts(rules_, index, batch, correlator_.get());
      Result<store::CommitStats> stats =
          near.ok() ? store_->Commit(index, std::move(batch)) : Result<store::CommitStats>(near);
      if (stats.ok() && alerts.any()) {
        auto stored = alerts.Store(store_, stats->skipped);
        if (stored.ok()) {
          metrics_->alerts_stored += *stored;
        } else {
          metrics_->CountError("alerts");
          log::Error("storing {} alerts failed: {}", alerts.matches(), stored.status().ToString());
          stats = stored.status();
        }
      }
      if (stats.ok()) {
        metrics_->commits++;
        metrics_->events_stored += stats->added;
        metrics_->events_duplicate += stats->duplicates;
        metrics_->NoteEventTime(newest);
      } else {
        metrics_->CountError("store");
        log::Error("store commit to index {} failed: {}", index, stats.status().ToString());
      }
      lock.lock();
      for (Request* r : group) {
        r->done = true;
        r->status = stats.ok() ? Status::Ok() : stats.status();
      }
      q.busy = false;
      cv_.notify_all();
    } else {
      cv_.wait(lock);
    }
  }
  return req.status;
}

EventFilter::EventFilter(const InputConfig& input)
    : index_(input.index), excluded_index_(input.excluded_events_index) {
  if (input.exclude_describe_events || !input.blacklist.empty()) {
    if (input.exclude_describe_events) exclude_ = std::make_unique<RE2>(input.ExclusionPattern());
  }
}

const std::string* EventFilter::Route(const cloudtrail::Event& event) const {
  if (exclude_ == nullptr) return nullptr;
  thread_local simdjson::ondemand::parser parser;
  simdjson::padded_string padded(event.raw);
  std::string_view name;
  auto doc = parser.iterate(padded);
  if (doc.error()) return nullptr;
  if (doc["eventName"].get_string().get(name) != simdjson::SUCCESS) return nullptr;
  if (!RE2::PartialMatch(name, *exclude_)) return nullptr;
  static const std::string kDrop;
  return excluded_index_.empty() ? &kDrop : &excluded_index_;
}

Status Quarantine::KeepMessage(const std::string& queue_url, const std::string& message_id,
                               int receive_count, const std::string& body,
                               const std::vector<std::string>& reasons) {
  std::string list = "[";
  for (size_t i = 0; i < reasons.size(); ++i) {
    if (i > 0) list += ",";
    AppendJsonString(&list, reasons[i]);
  }
  list += "]";
  return kept_
      .Keep("messages", message_id,
            {{"queue", JsonString(queue_url)},
             {"message_id", JsonString(message_id)},
             {"receive_count", std::to_string(receive_count)},
             {"reasons", list},
             {"body", JsonString(ValidUtf8(body) ? body : std::string("(not UTF-8)"))}})
      .status();
}

Status Quarantine::KeepFile(const ObjectRef& ref, const std::string& reason, int attempts,
                            const std::string* content) {
  return kept_
      .Keep("files", ref.bucket + "/" + ref.key,
            {{"bucket", JsonString(ref.bucket)},
             {"key", JsonString(ref.key)},
             {"etag", JsonString(ref.etag)},
             {"attempts", std::to_string(attempts)},
             {"reason", JsonString(reason)}},
            {.bytes = content, .file = {}})
      .status();
}

ObjectIngester::ObjectIngester(const IngestContext& context, const InputConfig& input,
                               aws::S3Client* s3)
    : ctx_(context), input_(input), filter_(input), s3_(s3) {}

namespace {

// An event that turns a trail's logging off or changes where it goes (StopLogging, DeleteTrail,
// UpdateTrail) as an integrity alert; nullopt for any other event. Cheap for the others: two
// substring searches before any parsing.
std::optional<detect::Alert> TrailChangeAlert(const cloudtrail::Event& e) {
  std::string_view raw = e.raw.view();
  if (raw.find("cloudtrail.amazonaws.com") == std::string_view::npos) return std::nullopt;
  if (raw.find("StopLogging") == std::string_view::npos &&
      raw.find("DeleteTrail") == std::string_view::npos &&
      raw.find("UpdateTrail") == std::string_view::npos) {
    return std::nullopt;
  }
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(raw.data(), raw.size()).get(root) != simdjson::SUCCESS) return std::nullopt;
  auto text = [&](std::initializer_list<std::string_view> path) -> std::string {
    simdjson::dom::element at = root;
    for (std::string_view step : path) {
      if (at.at_key(step).get(at) != simdjson::SUCCESS) return "";
    }
    std::string_view s;
    return at.get(s) == simdjson::SUCCESS ? std::string(s) : std::string();
  };
  const std::string name = text({"eventName"});
  if (text({"eventSource"}) != "cloudtrail.amazonaws.com" ||
      (name != "StopLogging" && name != "DeleteTrail" && name != "UpdateTrail")) {
    return std::nullopt;
  }
  detect::Alert a;
  a.kind = detect::AlertKind::kIntegrity;
  a.rule_id = "integrity:trail_change";
  const std::string error = text({"errorCode"});
  a.title = fmt::format("CloudTrail {}{}", name, error.empty() ? "" : " attempted (" + error + ")");
  a.level = name == "UpdateTrail" || !error.empty() ? "high" : "critical";
  a.tags = {"attack.defense-evasion", "attack.t1562.008"};
  a.time_ms = e.time_ms;
  a.key = e.event_id;
  a.event_id = e.event_id;
  a.event_name = name;
  a.event_source = "cloudtrail.amazonaws.com";
  a.user_arn = text({"userIdentity", "arn"});
  a.source_ip = text({"sourceIPAddress"});
  a.region = text({"awsRegion"});
  a.account = e.account;
  const std::string trail = text({"requestParameters", "name"});
  a.description = fmt::format("{} on trail {} by {}", name, trail.empty() ? "?" : trail,
                              a.user_arn.empty() ? "?" : a.user_arn);
  if (!trail.empty()) a.extra_json = {{"trail", JsonString(trail)}};
  return a;
}

}  // namespace

Status ObjectIngester::SaveDigest(const ObjectRef& ref, const std::string& json,
                                  const std::string& signature, const std::string& sha256) {
  std::string name = ref.bucket + "/" + ref.key;
  if (name.ends_with(".gz")) name.resize(name.size() - 3);
  ASSIGN_OR_RETURN(std::string path, PathUnder(ctx_.fs, JoinPath(ctx_.data_dir, "digests"), name));
  RETURN_IF_ERROR(ctx_.fs->CreateDirs(DirName(path)));
  // The sidecar first: a digest is complete once it is there (collect/integrity.h).
  RETURN_IF_ERROR(SaveDigestMeta(ctx_.fs, path, signature, sha256));
  return WriteFileAtomic(ctx_.fs, path, json);
}

IngestResult ObjectIngester::Ingest(const ObjectRef& ref) {
  FileResult result;
  if (ctx_.ledger->Contains(ref.bucket, ref.key, ref.etag)) {
    ctx_.metrics->files_skipped++;
    result.outcome = FileOutcome::kSkipped;
    return IngestResult::Ok(result);
  }
  if (ref.key.empty() || ref.key.back() == '/') {
    result.outcome = FileOutcome::kEmpty;
    return IngestResult::Ok(result);
  }
  const std::string source = "s3://" + ref.bucket + "/" + ref.key;
  auto pipe = std::make_shared<Pipe>(4u << 20);
  Result<aws::S3ObjectInfo> info = Status::Ok();
  uint64_t downloaded = 0;
  std::thread producer([&] {
    auto got = s3_->GetObject(ref.bucket, ref.key, [&](std::string_view chunk) {
      downloaded += chunk.size();
      return pipe->Write(chunk);
    });
    pipe->Finish(got.ok() ? Status::Ok() : got.status());
    info = std::move(got);
  });

  std::map<std::string, std::vector<cloudtrail::Event>> buffers;
  uint64_t buffered = 0;
  uint64_t events = 0;
  int64_t newest = 0;
  // A commit that failed inside the reader's callback: the reader reports it as its own error,
  // but it is the store's.
  Status local;
  const bool custom_sourcetype = input_.sourcetype != cloudtrail::kSourcetypeEvents;
  auto flush = [&]() -> Status {
    for (auto& [index, evs] : buffers) {
      if (evs.empty()) continue;
      RETURN_IF_ERROR(ctx_.committer->Commit(index, std::move(evs)));
      evs.clear();
    }
    buffered = 0;
    return Status::Ok();
  };
  cloudtrail::ReaderOptions options;
  options.max_decompressed_bytes = ctx_.max_file_bytes;
  // Checked against the digests that list the file (collect/integrity.h); a digest's own hash is
  // what the next digest links to, so digests are hashed even with hash_logs off (a benchmark
  // setting).
  options.sha256 = ctx_.hash_logs || ref.key.find("/CloudTrail-Digest/") != std::string::npos;
  std::vector<detect::Alert> trail_changes;
  auto summary = cloudtrail::ReadEvents(
      std::make_unique<PipeFile>(pipe), source, options, [&](cloudtrail::Event&& e) -> Status {
        ++events;
        if (auto alert = TrailChangeAlert(e)) trail_changes.push_back(std::move(*alert));
        if (custom_sourcetype && e.sourcetype == cloudtrail::kSourcetypeEvents)
          e.sourcetype = input_.sourcetype;
        const std::string* route = filter_.Route(e);
        std::string index = filter_.index();
        if (route != nullptr) {
          ctx_.metrics->events_excluded++;
          if (route->empty()) return Status::Ok();
          ctx_.metrics->events_routed++;
          index = *route;
        }
        buffered += e.raw.size();
        newest = std::max(newest, e.time_ms);
        buffers[index].push_back(std::move(e));
        if (buffered >= ctx_.commit_batch_bytes) {
          local = flush();
          return local;
        }
        return Status::Ok();
      });
  if (!summary.ok()) pipe->Cancel();
  producer.join();
  ctx_.metrics->bytes_downloaded += downloaded;
  ctx_.metrics->events_read += events;
  if (!local.ok()) return IngestResult::Local(local.WithContext("store"));
  // When the reader failed first, the download ends Cancelled by it: the reader's error is the
  // object's.
  if (!summary.ok() && (info.ok() || info.status().code() == StatusCode::kCancelled)) {
    return IngestResult::Object(summary.status());
  }
  if (!info.ok()) return IngestResult::Object(info.status());
  if (!summary.ok()) return IngestResult::Object(summary.status());
  result.etag = StripQuotes(info->etag);
  result.bytes = downloaded;
  result.events = summary->events;
  result.newest_event_ms = newest;
  if (summary->shape == cloudtrail::FileShape::kDigest) {
    auto signature = info->metadata.find("signature");
    if (Status s =
            SaveDigest(ref, summary->digest_json,
                       signature == info->metadata.end() ? "" : signature->second, summary->sha256);
        !s.ok()) {
      return IngestResult::Local(s.WithContext("digests"));
    }
    ctx_.metrics->files_digest++;
    result.outcome = FileOutcome::kDigest;
  } else {
    if (Status s = flush(); !s.ok()) return IngestResult::Local(s.WithContext("store"));
    // After the events, before the ledger: a crash in between reads the file again, which
    // raises the same alerts (stored once).
    if (!trail_changes.empty()) {
      auto added = detect::StoreAlerts(ctx_.store, trail_changes);
      if (!added.ok()) return IngestResult::Local(added.status().WithContext("alerts"));
      ctx_.metrics->trail_change_alerts += *added;
      for (const detect::Alert& a : trail_changes) {
        log::Error("integrity: trail_change: {} ({}, event {})", a.description, a.region,
                   a.event_id);
      }
    }
    ctx_.metrics->files_ingested++;
    result.outcome = summary->shape == cloudtrail::FileShape::kEmpty ? FileOutcome::kEmpty
                                                                     : FileOutcome::kIngested;
  }
  Status recorded = ctx_.ledger->Record({LedgerEntry{
      ref.bucket, ref.key, result.etag, result.events, NowMs(), ctx_.how, summary->sha256}});
  if (!recorded.ok()) return IngestResult::Local(recorded.WithContext("ledger"));
  return IngestResult::Ok(result);
}

}  // namespace cairn::collect
