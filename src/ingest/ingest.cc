#include "ingest/ingest.h"

#include <glob.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <fmt/format.h>

#include "common/clock.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/quarantine.h"
#include "common/safe_path.h"
#include "common/time_util.h"

namespace cairn::ingest {
namespace {

bool HasIngestableName(std::string_view name) {
  auto ends = [&](std::string_view suffix) {
    return name.size() >= suffix.size() && name.substr(name.size() - suffix.size()) == suffix;
  };
  return ends(".json") || ends(".json.gz") || ends(".gz") || ends(".jsonl") || ends(".ndjson") ||
         ends(".jsonl.gz") || ends(".ndjson.gz");
}

Status Walk(FileSystem* fs, const std::string& dir, std::vector<std::string>* out) {
  ASSIGN_OR_RETURN(auto entries, fs->ListDir(dir));
  std::sort(entries.begin(), entries.end(),
            [](const DirEntry& a, const DirEntry& b) { return a.name < b.name; });
  for (const auto& e : entries) {
    if (!e.name.empty() && e.name[0] == '.') continue;
    std::string path = JoinPath(dir, e.name);
    if (e.is_dir) {
      RETURN_IF_ERROR(Walk(fs, path, out));
    } else if (HasIngestableName(e.name)) {
      out->push_back(std::move(path));
    }
  }
  return Status::Ok();
}

bool IsDir(FileSystem* fs, const std::string& path) { return fs->ListDir(path).ok(); }

// The date folders "YYYY/MM/DD" right above a file, as CloudTrail's S3 layout has them
// (AWSLogs/<account>/CloudTrail/<region>/YYYY/MM/DD/<file>); empty when the path has none.
std::string_view DateFolders(std::string_view path) {
  const size_t name = path.rfind('/');
  if (name == std::string_view::npos || name < 11) return {};
  std::string_view d = path.substr(name - 10, 10);  // YYYY/MM/DD
  if (name > 10 && path[name - 11] != '/') return {};
  for (size_t i = 0; i < d.size(); ++i) {
    const bool slash = i == 4 || i == 7;
    if (slash ? d[i] != '/' : (d[i] < '0' || d[i] > '9')) return {};
  }
  return d;
}

Result<std::string> CopyStdin(FileSystem* fs, const std::string& data_dir) {
  std::string dir = JoinPath(data_dir, "tmp");
  RETURN_IF_ERROR(fs->CreateDirs(dir));
  std::string path = JoinPath(dir, fmt::format("stdin-{}.json", ::getpid()));
  ASSIGN_OR_RETURN(auto out, fs->NewWritableFile(path));
  char buf[1 << 16];
  while (true) {
    ssize_t n = ::read(0, buf, sizeof(buf));
    if (n < 0) {
      if (errno == EINTR) continue;
      return IOError("read standard input: {}", std::strerror(errno));
    }
    if (n == 0) break;
    RETURN_IF_ERROR(out->Append(std::string_view(buf, static_cast<size_t>(n))));
  }
  RETURN_IF_ERROR(out->Close());
  return path;
}

// Copies a rejected file with its reason into <data>/quarantine/local/. Failure to quarantine is
// logged, never fatal: the rejection is still reported in the summary.
void QuarantineFile(FileSystem* fs, const std::string& data_dir, const std::string& path,
                    const std::string& reason) {
  Quarantine q(fs, Clock::System(), JoinPath(data_dir, "quarantine"));
  auto kept = q.Keep("local", BaseName(path),
                     {{"path", JsonString(path)}, {"reason", JsonString(reason)}},
                     {.bytes = nullptr, .file = path});
  if (!kept.ok()) log::Error("could not quarantine {}: {}", path, kept.status().message());
}

// One unit of work for the committer: some events, all from one file.
struct Chunk {
  std::vector<cloudtrail::Event> events;
  uint64_t bytes = 0;
};

class Pipeline {
 public:
  Pipeline(const std::vector<std::string>& files, const IngestOptions& options, Sink* sink)
      : files_(files), options_(options), sink_(sink) {}

  Result<IngestSummary> Run(const ProgressFn& progress, double interval) {
    auto start = std::chrono::steady_clock::now();
    size_t threads = options_.threads;
    if (threads == 0) threads = std::max<size_t>(1, std::thread::hardware_concurrency());
    threads = std::min(threads, std::max<size_t>(1, files_.size()));

    readers_total_ = threads;
    // Several committers: the store builds their segments in parallel, each on its own batch.
    size_t commit_threads = options_.commit_threads;
    if (commit_threads == 0) {
      commit_threads = std::max<size_t>(1, std::thread::hardware_concurrency());
      if (size_t useful = sink_->useful_concurrent_commits(); useful > 0) {
        commit_threads = std::min(commit_threads, useful);
      }
    }
    std::vector<std::thread> committers;
    for (size_t i = 0; i < commit_threads; ++i) committers.emplace_back([this] { CommitLoop(); });
    std::vector<std::thread> readers;
    for (size_t i = 0; i < threads; ++i) readers.emplace_back([this] { ReadLoop(); });

    auto elapsed = [&] {
      return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    };
    if (progress) {
      // The bytes to read, for the progress bar's fraction, added up here while the readers
      // already work (a stat per file: tens of thousands of files take a second, which the
      // readers do not wait for); until then the fraction is by files.
      uint64_t total = 0;
      auto last = std::chrono::steady_clock::now();
      for (size_t i = 0; i < files_.size() && !Stopped(); ++i) {
        auto size = options_.fs->FileSize(files_[i]);
        total += size.ok() ? *size : 0;
        if (i % 1024 == 1023 &&
            std::chrono::steady_clock::now() - last >= std::chrono::duration<double>(interval)) {
          progress(Snapshot(elapsed()));
          last = std::chrono::steady_clock::now();
        }
      }
      input_total_ = total;
      std::unique_lock<std::mutex> lock(done_mu_);
      while (!done_cv_.wait_for(lock, std::chrono::duration<double>(interval),
                                [this] { return readers_done_ == readers_total_; })) {
        lock.unlock();
        progress(Snapshot(elapsed()));
        lock.lock();
      }
    }
    for (auto& t : readers) t.join();
    {
      std::lock_guard<std::mutex> lock(queue_mu_);
      readers_finished_ = true;
    }
    queue_cv_.notify_all();
    for (auto& t : committers) t.join();
    if (progress) progress(Snapshot(elapsed()));

    if (!fatal_.ok()) return fatal_;
    summary_.elapsed_seconds = elapsed();
    return std::move(summary_);
  }

 private:
  Progress Snapshot(double elapsed) {
    Progress p;
    p.files_done = files_done_;
    p.files_total = files_.size();
    p.events = events_read_;
    p.input_bytes_done = input_done_;
    p.input_bytes_total = input_total_;
    p.elapsed_seconds = elapsed;
    return p;
  }

  bool Stopped() {
    std::lock_guard<std::mutex> lock(queue_mu_);
    return !fatal_.ok();
  }

  // Hands a chunk to the committer, waiting while too much is queued.
  void Push(Chunk chunk) {
    std::unique_lock<std::mutex> lock(queue_mu_);
    room_cv_.wait(lock, [&] {
      return !fatal_.ok() || queued_bytes_ == 0 ||
             queued_bytes_ + chunk.bytes <= options_.max_queued_bytes;
    });
    if (!fatal_.ok()) return;
    queued_bytes_ += chunk.bytes;
    queue_.push_back(std::move(chunk));
    queue_cv_.notify_one();
  }

  void ReadLoop() {
    while (!Stopped()) {
      size_t i = next_file_.fetch_add(1);
      if (i >= files_.size()) break;
      input_done_.fetch_add(ReadOne(files_[i]));
      files_done_.fetch_add(1);
    }
    std::lock_guard<std::mutex> lock(done_mu_);
    ++readers_done_;
    done_cv_.notify_all();
  }

  // Reads one file and hands its events on; returns the bytes read from it.
  uint64_t ReadOne(const std::string& path) {
    // Sized like this thread's previous file, so a file's events are seldom moved as it grows.
    thread_local size_t last_events = 0;
    Chunk chunk;
    chunk.events.reserve(std::min<size_t>(last_events + last_events / 4, 1 << 16));
    uint64_t streamed_events = 0;
    auto on_event = [&](cloudtrail::Event&& e) -> Status {
      chunk.bytes += e.raw.size() + e.source.size() + 64;
      chunk.events.push_back(std::move(e));
      if (chunk.bytes >= options_.max_file_buffer_bytes) {
        streamed_events += chunk.events.size();
        Push(std::move(chunk));
        chunk = Chunk();
        if (Stopped()) return Cancelled("ingest stopped");
      }
      return Status::Ok();
    };
    auto result = cloudtrail::ReadEventsFromPath(options_.fs, path, options_.reader, on_event);
    if (!result.ok()) {
      if (result.status().code() == StatusCode::kCancelled) return 0;
      std::string reason = result.status().message();
      log::Warn("rejected {}: {}", path, reason);
      if (options_.quarantine) QuarantineFile(options_.fs, options_.data_dir, path, reason);
      std::lock_guard<std::mutex> lock(summary_mu_);
      summary_.rejected.push_back({path, reason, streamed_events});
      return 0;
    }
    const cloudtrail::FileSummary& fs = *result;
    last_events = static_cast<size_t>(fs.events);
    if (fs.shape == cloudtrail::FileShape::kDigest) {
      Status s = SaveDigest(path, fs.digest_json);
      if (!s.ok()) log::Error("could not keep digest {}: {}", path, s.message());
    }
    events_read_.fetch_add(fs.events);
    {
      std::lock_guard<std::mutex> lock(summary_mu_);
      summary_.files++;
      if (fs.shape == cloudtrail::FileShape::kDigest) summary_.digest_files++;
      summary_.events += fs.events;
      summary_.insight_events += fs.insight_events;
      summary_.input_bytes += fs.input_bytes;
      summary_.decoded_bytes += fs.decoded_bytes;
      summary_.shapes[std::string(cloudtrail::FileShapeName(fs.shape))]++;
    }
    if (!chunk.events.empty()) Push(std::move(chunk));
    return fs.input_bytes;
  }

  Status SaveDigest(const std::string& path, const std::string& json) {
    std::string dir = JoinPath(options_.data_dir, "digests");
    RETURN_IF_ERROR(options_.fs->CreateDirs(dir));
    std::string name = BaseName(path);
    if (name.ends_with(".gz")) name.resize(name.size() - 3);
    ASSIGN_OR_RETURN(std::string dest, FileUnder(options_.fs, dir, name));
    return WriteFileAtomic(options_.fs, dest, json);
  }

  void CommitLoop() {
    const bool gather = sink_->gathers_batches();
    std::vector<cloudtrail::Event> batch;
    if (gather) batch.reserve(std::min<size_t>(options_.batch_events, 1 << 20));
    uint64_t batch_bytes = 0;
    auto commit = [&](std::vector<cloudtrail::Event>* events) -> Status {
      ASSIGN_OR_RETURN(SinkStats stats, sink_->Commit(options_.index, events));
      std::lock_guard<std::mutex> lock(summary_mu_);
      summary_.added += stats.added;
      summary_.duplicates += stats.duplicates;
      return Status::Ok();
    };
    auto flush = [&]() -> Status {
      if (batch.empty()) return Status::Ok();
      RETURN_IF_ERROR(commit(&batch));
      batch.clear();  // keeps the capacity for the next batch
      batch_bytes = 0;
      return Status::Ok();
    };
    while (true) {
      Chunk chunk;
      bool finished = false;
      {
        std::unique_lock<std::mutex> lock(queue_mu_);
        queue_cv_.wait(lock, [&] { return !queue_.empty() || readers_finished_; });
        if (queue_.empty()) {
          finished = true;
        } else {
          chunk = std::move(queue_.front());
          queue_.pop_front();
          queued_bytes_ -= chunk.bytes;
          room_cv_.notify_all();
        }
      }
      if (finished) break;
      if (!gather) {  // each file's events as they come
        Status s = commit(&chunk.events);
        if (!s.ok()) return Fail(s);
        continue;
      }
      batch_bytes += chunk.bytes;
      // Appended rather than adopted, so the batch keeps one allocation for the whole run.
      for (auto& e : chunk.events) batch.push_back(std::move(e));
      if (batch.size() >= options_.batch_events || batch_bytes >= options_.batch_bytes) {
        Status s = flush();
        if (!s.ok()) return Fail(s);
      }
    }
    Status s = flush();
    if (!s.ok()) Fail(s);
  }

  void Fail(const Status& s) {
    log::Error("commit failed: {}", s.message());
    std::lock_guard<std::mutex> lock(queue_mu_);
    if (fatal_.ok()) fatal_ = s.WithContext("commit");
    queue_.clear();
    queued_bytes_ = 0;
    room_cv_.notify_all();
  }

  const std::vector<std::string>& files_;
  const IngestOptions& options_;
  Sink* sink_;

  std::atomic<size_t> next_file_{0};
  std::atomic<uint64_t> files_done_{0}, events_read_{0}, input_done_{0};
  uint64_t input_total_ = 0;  // progress only: 0 until the progress thread has added it up

  std::mutex queue_mu_;
  std::condition_variable queue_cv_, room_cv_;
  std::deque<Chunk> queue_;
  uint64_t queued_bytes_ = 0;
  bool readers_finished_ = false;
  Status fatal_;

  std::mutex done_mu_;
  std::condition_variable done_cv_;
  size_t readers_total_ = 0, readers_done_ = 0;

  std::mutex summary_mu_;
  IngestSummary summary_;
};

}  // namespace

Result<std::vector<std::string>> ExpandPaths(FileSystem* fs, const std::vector<std::string>& args,
                                             const std::string& data_dir) {
  std::vector<std::string> out;
  for (const auto& arg : args) {
    if (arg == "-") {
      ASSIGN_OR_RETURN(std::string path, CopyStdin(fs, data_dir));
      out.push_back(std::move(path));
      continue;
    }
    if (fs->Exists(arg)) {
      if (IsDir(fs, arg)) RETURN_IF_ERROR(Walk(fs, arg, &out));
      else out.push_back(arg);
      continue;
    }
    glob_t g{};
    int rc = ::glob(arg.c_str(), 0, nullptr, &g);
    if (rc != 0 || g.gl_pathc == 0) {
      ::globfree(&g);
      return NotFound("{}: no such file, folder or matching pattern", arg);
    }
    for (size_t i = 0; i < g.gl_pathc; ++i) {
      std::string p = g.gl_pathv[i];
      if (IsDir(fs, p)) RETURN_IF_ERROR(Walk(fs, p, &out));
      else out.push_back(std::move(p));
    }
    ::globfree(&g);
  }
  // The same file named twice (overlapping folders) is read once; the store would dedup anyway.
  std::sort(out.begin(), out.end());
  out.erase(std::unique(out.begin(), out.end()), out.end());
  // A day's files together, whatever their account and region: a store commit then holds one or
  // two days, and its segments are large enough to be left as they are, where path order (each
  // account and region through all its days) splits every commit into one small segment per day
  // that the store has to merge again (docs/benchmarks.md, "store").
  std::vector<std::pair<std::string_view, size_t>> by_day(out.size());  // (date folders, index)
  for (size_t i = 0; i < out.size(); ++i) by_day[i] = {DateFolders(out[i]), i};
  std::sort(by_day.begin(), by_day.end());
  std::vector<std::string> sorted;
  sorted.reserve(out.size());
  for (const auto& [day, i] : by_day) sorted.push_back(std::move(out[i]));
  return sorted;
}

Result<IngestSummary> IngestFiles(const std::vector<std::string>& files, const IngestOptions& options,
                                  Sink* sink, const ProgressFn& progress, double interval) {
  Pipeline pipeline(files, options, sink);
  return pipeline.Run(progress, interval);
}

std::string IngestSummary::ToJson() const {
  std::string out = fmt::format(
      "{{\"files\":{},\"digest_files\":{},\"events\":{},\"added\":{},\"duplicates\":{},"
      "\"insight_events\":{},\"input_bytes\":{},\"decoded_bytes\":{},\"elapsed_seconds\":{:.3f},"
      "\"events_per_second\":{:.0f},\"shapes\":{{",
      files, digest_files, events, added, duplicates, insight_events, input_bytes, decoded_bytes,
      elapsed_seconds, elapsed_seconds > 0 ? events / elapsed_seconds : 0.0);
  bool first = true;
  for (const auto& [shape, n] : shapes) {
    if (!first) out += ",";
    first = false;
    AppendJsonString(&out, shape);
    out += fmt::format(":{}", n);
  }
  out += "},\"rejected\":[";
  first = true;
  for (const auto& r : rejected) {
    if (!first) out += ",";
    first = false;
    out += "{\"path\":";
    AppendJsonString(&out, r.path);
    out += ",\"reason\":";
    AppendJsonString(&out, r.reason);
    out += fmt::format(",\"events_kept\":{}}}", r.events_kept);
  }
  out += "]}";
  return out;
}

std::string IngestSummary::ToText() const {
  double mb = input_bytes / 1e6;
  std::string out = fmt::format(
      "files: {} ({} digest)\nevents: {} read, {} added, {} duplicates skipped, {} insights\n"
      "bytes: {:.1f} MB read, {:.1f} MB decoded\nelapsed: {:.2f} s ({:.0f} events/s, {:.1f} MB/s)\n"
      "rejected: {}\n",
      files, digest_files, events, added, duplicates, insight_events, mb, decoded_bytes / 1e6,
      elapsed_seconds, elapsed_seconds > 0 ? events / elapsed_seconds : 0.0,
      elapsed_seconds > 0 ? mb / elapsed_seconds : 0.0, rejected.size());
  for (const auto& r : rejected) {
    out += fmt::format("  {}: {}", r.path, r.reason);
    if (r.events_kept > 0) out += fmt::format(" ({} events before the failure were kept)", r.events_kept);
    out += "\n";
  }
  return out;
}

}  // namespace cairn::ingest
