#include "store/store.h"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <condition_variable>
#include <map>
#include <mutex>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "common/log.h"
#include "store/encoding.h"
#include "store/flat_map.h"
#include "store/segment_format.h"

namespace cairn::store {
namespace {

constexpr std::string_view kIndexesDir = "indexes";
constexpr std::string_view kDeletedPrefix = ".deleted-";
constexpr std::string_view kLockFile = "LOCK";
constexpr std::string_view kTempSuffix = ".tmp";
constexpr uint64_t kMaxManifestBytes = 256 << 20;
// How often a reader reads a manifest again when segments it lists were removed meanwhile.
constexpr int kReadAttempts = 32;

struct Version {
  uint64_t generation = 0;
  uint64_t next_seq = 1;
  std::vector<std::shared_ptr<Segment>> segments;  // by seq; live (searched) segments only
  // Segments of replacement groups written but not yet published (Store::PublishGroup): listed in
  // the manifest and counted by dedup, invisible to snapshots, merges and retention.
  std::vector<std::shared_ptr<Segment>> staged;
  std::vector<SegmentDesc> broken_descs;
  std::vector<CheckProblem> broken;
  std::shared_ptr<const Snapshot> snapshot;
};

struct PartitionDedup {
  FpSet fps;
  uint64_t last_used = 0;
};

struct IndexState {
  std::string name;
  std::string dir;
  std::mutex write_mu;  // serializes manifest changes and dedup state
  mutable std::mutex mu;
  std::shared_ptr<const Version> version;   // under mu
  uint64_t next_seq = 1;                    // under write_mu
  RetentionPolicy retention;                // under write_mu
  bool deleted = false;                     // under write_mu
  std::map<int64_t, PartitionDedup> dedup;  // under write_mu
  uint64_t dedup_clock = 0;
  std::set<int64_t> merging;  // partitions with a merge in flight, under write_mu
  std::map<int64_t, int64_t>
      last_commit_ms;  // partition -> clock ms of its last commit, under write_mu
  // Identities (PendingKey of partition and fingerprint) reserved by commits whose segments are
  // being written, with how many commits hold each; under write_mu. A commit that meets one waits
  // on pending_cv until it is released (stored or abandoned), then dedups again.
  FpCounts pending;
  std::condition_variable pending_cv;

  std::shared_ptr<const Version> Current() const {
    std::lock_guard<std::mutex> lock(mu);
    return version;
  }
};

// The key of an identity in IndexState::pending: the fingerprint mixed with the partition (a
// collision only makes a commit wait for another one needlessly).
uint64_t PendingKey(int64_t partition, uint64_t fp) {
  return fp ^ (static_cast<uint64_t>(partition) * 0x9E3779B97F4A7C15ull);
}

Manifest ToManifest(const Version& v) {
  Manifest m;
  m.generation = v.generation;
  m.next_seq = v.next_seq;
  for (const auto& s : v.segments) m.segments.push_back(s->desc());
  for (const auto& s : v.staged) m.segments.push_back(s->desc());
  for (const auto& d : v.broken_descs) m.segments.push_back(d);
  std::sort(m.segments.begin(), m.segments.end(),
            [](const SegmentDesc& a, const SegmentDesc& b) { return a.seq < b.seq; });
  return m;
}

// A segment being written by a commit or a merge: built under "<file>.tmp", renamed to <file>
// once complete and fsynced (before the manifest that lists it is written), and removed again
// when the commit or merge fails. A reader never meets a partial file under a segment's name,
// and a writer that opens the folder after a crash knows both kinds of leftovers as unlisted.
class NewSegment {
 public:
  NewSegment(FileSystem* fs, const std::string& dir, SegmentDesc desc, SegmentWriterOptions options)
      : fs_(fs),
        desc_(std::move(desc)),
        path_(JoinPath(dir, desc_.file)),
        writer_(fs, path_ + std::string(kTempSuffix), desc_.partition, options) {}
  SegmentWriter& writer() { return writer_; }
  const std::string& path() const { return path_; }
  // Finishes the file, renames it to its name and opens it.
  Result<std::shared_ptr<Segment>> Publish() {
    ASSIGN_OR_RETURN(SegmentFileInfo info, writer_.Finish());
    desc_.event_count = info.event_count;
    desc_.min_time = info.min_time;
    desc_.max_time = info.max_time;
    desc_.bytes = info.file_size;
    desc_.footer_crc = info.crc;
    RETURN_IF_ERROR(fs_->Rename(info.path, path_));
    renamed_ = true;
    return Segment::Open(fs_, path_, desc_);
  }
  // Removes what exists of the file (best effort).
  void Abandon() {
    writer_.Abandon();
    if (renamed_) fs_->RemoveFile(path_).IgnoreError();
  }

 private:
  FileSystem* fs_;
  SegmentDesc desc_;
  std::string path_;
  SegmentWriter writer_;
  bool renamed_ = false;
};

// Takes the data folder's writer lock (<data>/LOCK) and writes this process's pid into it. When
// another process holds it: fails at once naming that process's pid, or logs that and waits.
Result<std::unique_ptr<FileLock>> LockDataFolder(FileSystem* fs, const StoreOptions& options) {
  const std::string path = JoinPath(options.data_dir, kLockFile);
  auto lock = fs->LockFile(path, /*wait=*/false);
  if (!lock.ok() && lock.status().code() == StatusCode::kUnavailable) {
    std::string holder = "another process";
    if (auto text = ReadFileToString(fs, path, 64); text.ok()) {
      std::string pid = text->substr(0, text->find('\n'));
      if (!pid.empty() && pid.find_first_not_of("0123456789") == std::string::npos) {
        holder = "pid " + pid;
      }
    }
    if (!options.wait_for_lock) {
      return Unavailable("data folder {} is in use by another cairn writer ({}; lock {})",
                         options.data_dir, holder, path);
    }
    log::Warn(
        "store: data folder {} is in use by another cairn writer ({}); waiting for it to finish",
        options.data_dir, holder);
    lock = fs->LockFile(path, /*wait=*/true);
  }
  if (!lock.ok()) return lock.status();
  RETURN_IF_ERROR((*lock)->WriteContents(fmt::format("{}\n", ::getpid())));
  return std::move(lock).value();
}

// Makes the data folder its user's alone (0700), as one created by an older cairn (0755) was not:
// everything below it is then private too, whatever the modes of the files in it. A folder that
// cannot be changed (owned by another user) is only warned about.
void MakeDataFolderPrivate(FileSystem* fs, const std::string& dir) {
  auto mode = fs->Permissions(dir);
  if (!mode.ok() || (*mode & 077) == 0) return;
  const uint32_t tightened = *mode & ~077u;
  if (Status s = fs->SetPermissions(dir, tightened); !s.ok()) {
    log::Warn("store: data folder {} is open to other users (mode {:04o}) and stays so: {}", dir,
              *mode, s.message());
    return;
  }
  log::Info("store: data folder {} was open to other users (mode {:04o}); now {:04o}", dir, *mode,
            tightened);
}

}  // namespace

std::vector<std::shared_ptr<const Segment>> Snapshot::SegmentsInRange(int64_t from_ms,
                                                                      int64_t to_ms) const {
  std::vector<std::shared_ptr<const Segment>> out;
  for (const auto& s : segments_) {
    if (s->max_time() >= from_ms && s->min_time() < to_ms) out.push_back(s);
  }
  return out;
}

std::vector<CheckProblem> Snapshot::BrokenInRange(int64_t from_ms, int64_t to_ms) const {
  std::vector<CheckProblem> out;
  for (size_t i = 0; i < broken_.size(); ++i) {
    const SegmentDesc& d = broken_descs_[i];
    if (d.max_time >= from_ms && d.min_time < to_ms) out.push_back(broken_[i]);
  }
  return out;
}

uint64_t Snapshot::event_count() const {
  uint64_t n = 0;
  for (const auto& s : segments_) n += s->event_count();
  return n;
}

bool Store::ValidIndexName(std::string_view name) {
  if (name.empty() || name.size() > 100) return false;
  for (char c : name) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

struct Store::Impl {
  StoreOptions opt;
  FileSystem* fs = nullptr;
  std::string indexes_dir;
  std::unique_ptr<FileLock> lock;  // the data folder's writer lock (writers only), until Close

  mutable std::mutex mu;
  std::map<std::string, std::shared_ptr<IndexState>, std::less<>> indexes;  // under mu
  Status poisoned;                                                          // under mu
  bool closed = false;                                                      // under mu
  uint64_t deleted_counter = 0;

  std::thread bg;
  std::mutex bg_mu;
  std::condition_variable bg_cv;
  bool bg_signal = false;
  bool bg_stop = false;
  int64_t last_retention_ms = 0;

  Status CheckWritable() const {
    if (opt.read_only) return Unsupported("store {} is open for reading only", opt.data_dir);
    std::lock_guard<std::mutex> lock(mu);
    if (closed) return Cancelled("store is closed");
    if (!poisoned.ok()) return IOError("store needs reopening after: {}", poisoned.message());
    return Status::Ok();
  }
  void Poison(const Status& s) {
    std::lock_guard<std::mutex> lock(mu);
    if (poisoned.ok()) poisoned = s;
    log::Error("store: {}; further writes refused until reopened", s.message());
  }

  std::shared_ptr<IndexState> Find(std::string_view name) const {
    std::lock_guard<std::mutex> lock(mu);
    auto it = indexes.find(name);
    return it == indexes.end() ? nullptr : it->second;
  }

  void Install(IndexState& ix, std::shared_ptr<Version> v) {
    v->snapshot =
        Store::MakeSnapshot(ix.name, v->generation, v->segments, v->broken, v->broken_descs);
    std::lock_guard<std::mutex> lock(ix.mu);
    ix.version = std::move(v);
  }

  // Writes the manifest of `v`: tmp file, fsync, rename, fsync folder. `renamed` tells the caller
  // whether the new manifest may be the live one.
  Status WriteManifest(IndexState& ix, const Version& v, bool* renamed) {
    *renamed = false;
    std::string path = JoinPath(ix.dir, kManifestFile);
    std::string tmp = path + ".tmp";
    std::string data = EncodeManifest(ToManifest(v));
    Status s;
    {
      auto file = fs->NewWritableFile(tmp);
      if (!file.ok()) return file.status();
      s = (*file)->Append(data);
      if (s.ok()) s = (*file)->Sync();
      Status c = (*file)->Close();
      if (s.ok()) s = c;
    }
    if (s.ok()) s = fs->Rename(tmp, path);
    if (!s.ok()) {
      fs->RemoveFile(tmp).IgnoreError();
      return s;
    }
    *renamed = true;
    return fs->SyncDir(ix.dir);
  }

  // Swaps in `v` durably. On failure before the rename nothing changed; after it, the store is
  // poisoned (the on-disk manifest may be either version after a crash) but the in-memory state
  // follows the file now in place.
  Status Swap(IndexState& ix, std::shared_ptr<Version> v) {
    bool renamed = false;
    Status s = WriteManifest(ix, *v, &renamed);
    if (s.ok()) {
      Install(ix, std::move(v));
      return s;
    }
    if (renamed) {
      Install(ix, std::move(v));
      Poison(s);
      return IOError("manifest of {} replaced but not made durable: {}", ix.name, s.message());
    }
    return s;
  }

  // Loads index `name`: its CONFIG, its MANIFEST and every segment the manifest lists (a segment
  // that cannot be opened is kept listed as broken).
  //
  // A writer (under the data folder's lock) first removes what an interrupted writer left in the
  // folder: every file the manifest does not list. A reader changes nothing; when a listed
  // segment is gone, a writer has replaced the manifest since it was read (a merge or retention
  // removed the segment), so the reader reads the manifest again and retries, up to
  // kReadAttempts times; only a segment missing from an unchanged manifest is broken. A reader
  // gets NotFound for a folder with neither MANIFEST nor CONFIG (an index whose first commit is
  // in progress) and for an index deleted meanwhile.
  Result<std::shared_ptr<IndexState>> LoadIndex(const std::string& name) {
    auto ix = std::make_shared<IndexState>();
    ix->name = name;
    ix->dir = JoinPath(indexes_dir, name);
    std::string config_path = JoinPath(ix->dir, kConfigFile);
    auto config_text = ReadFileToString(fs, config_path, 1 << 20);
    const bool has_config = config_text.ok();
    if (has_config) {
      auto cfg = DecodeConfig(*config_text, config_path);
      if (!cfg.ok()) return cfg.status();
      ix->retention = *cfg;
    } else if (config_text.status().code() != StatusCode::kNotFound) {
      return config_text.status();
    }
    const std::string manifest_path = JoinPath(ix->dir, kManifestFile);
    auto read_manifest = [&]() -> Result<std::string> {
      auto text = ReadFileToString(fs, manifest_path, kMaxManifestBytes);
      if (text.ok() || text.status().code() != StatusCode::kNotFound) return text;
      if (has_config || !opt.read_only) return std::string();  // an index without commits
      return NotFound("index {} has no manifest", name);
    };
    ASSIGN_OR_RETURN(std::string text, read_manifest());
    for (int attempt = 1;; ++attempt) {
      Manifest manifest;
      if (!text.empty()) {
        ASSIGN_OR_RETURN(manifest, DecodeManifest(text, manifest_path));
      }
      if (!opt.read_only) RETURN_IF_ERROR(RemoveUnlisted(*ix, manifest));
      auto v = std::make_shared<Version>();
      v->generation = manifest.generation;
      v->next_seq = manifest.next_seq;
      ix->next_seq = manifest.next_seq;
      bool gone = false;
      for (const auto& d : manifest.segments) {
        std::string path = JoinPath(ix->dir, d.file);
        auto seg = Segment::Open(fs, path, d);
        if (seg.ok()) {
          (d.staged ? v->staged : v->segments).push_back(std::move(seg).value());
          continue;
        }
        gone |= seg.status().code() == StatusCode::kNotFound;
        if (!opt.read_only)
          log::Error("store: segment {} is unreadable: {}", path, seg.status().message());
        v->broken_descs.push_back(d);
        v->broken.push_back(CheckProblem{path, seg.status()});
      }
      if (gone && opt.read_only) {
        ASSIGN_OR_RETURN(std::string again, read_manifest());
        if (again != text) {
          if (attempt >= kReadAttempts) {
            return Unavailable("index {} changed {} times while it was being opened; try again",
                               name, attempt);
          }
          text = std::move(again);
          continue;
        }
      }
      Install(*ix, std::move(v));
      return ix;
    }
  }

  // Removes every file in the index folder that `manifest` does not list: partial segments
  // (*.seg.tmp), MANIFEST.tmp, CONFIG.tmp, segments merged away or retired whose removal a crash
  // interrupted. Writers only: under the data folder's lock nothing else writes the folder.
  Status RemoveUnlisted(const IndexState& ix, const Manifest& manifest) {
    std::set<std::string> listed;
    for (const auto& d : manifest.segments) listed.insert(d.file);
    ASSIGN_OR_RETURN(auto entries, fs->ListDir(ix.dir));
    for (const auto& e : entries) {
      if (e.is_dir || e.name == kManifestFile || e.name == kConfigFile || listed.count(e.name)) {
        continue;
      }
      log::Info("store: removing {} (not in the manifest of {}: left by an interrupted write)",
                e.name, ix.name);
      RETURN_IF_ERROR(fs->RemoveFile(JoinPath(ix.dir, e.name)));
    }
    return Status::Ok();
  }

  Result<std::shared_ptr<IndexState>> GetOrCreate(std::string_view name) {
    std::lock_guard<std::mutex> lock(mu);
    auto it = indexes.find(name);
    if (it != indexes.end()) return it->second;
    auto ix = std::make_shared<IndexState>();
    ix->name = std::string(name);
    ix->dir = JoinPath(indexes_dir, name);
    RETURN_IF_ERROR(fs->CreateDirs(ix->dir));
    RETURN_IF_ERROR(fs->SyncDir(indexes_dir));
    auto v = std::make_shared<Version>();
    Install(*ix, std::move(v));
    indexes.emplace(std::string(name), ix);
    return ix;
  }

  // The fingerprint set of `partition` (built from its segments when not cached). write_mu held.
  Result<FpSet*> DedupFor(IndexState& ix, int64_t partition, const Version& v) {
    auto it = ix.dedup.find(partition);
    if (it == ix.dedup.end()) {
      PartitionDedup pd;
      for (const auto* list : {&v.segments, &v.staged}) {
        for (const auto& seg : *list) {
          if (seg->desc().partition != partition) continue;
          RETURN_IF_ERROR(seg->ForEachId([&](std::string_view account, std::string_view id) {
            pd.fps.Insert(IdFingerprint(account, id));
          }));
        }
      }
      it = ix.dedup.emplace(partition, std::move(pd)).first;
      // Bound memory: drop the least recently used other partitions.
      uint64_t total = 0;
      for (const auto& [p, d] : ix.dedup) total += d.fps.size();
      while (total > opt.dedup_cache_events && ix.dedup.size() > 1) {
        auto victim = ix.dedup.end();
        for (auto jt = ix.dedup.begin(); jt != ix.dedup.end(); ++jt) {
          if (jt->first == partition) continue;
          if (victim == ix.dedup.end() || jt->second.last_used < victim->second.last_used)
            victim = jt;
        }
        if (victim == ix.dedup.end()) break;
        total -= victim->second.fps.size();
        for (const auto* list : {&v.segments, &v.staged}) {
          for (const auto& seg : *list) {
            if (seg->desc().partition == victim->first) seg->DropIdCache();
          }
        }
        ix.dedup.erase(victim);
      }
    }
    it->second.last_used = ++ix.dedup_clock;
    return &it->second.fps;
  }

  Result<CommitStats> Commit(std::string_view index, std::vector<cloudtrail::Event>& events,
                             const CommitOptions& options = {});
  Result<PublishStats> Publish(std::string_view index, std::string_view group,
                               std::string_view version);
  // Picks and runs one merge under the policy: `full` is MergeNow's (everything below
  // max_segment_events), `cold` the policy for days without recent commits.
  Result<bool> MergeOne(IndexState& ix, bool full, bool cold = false);
  Status Merge(IndexState& ix, int64_t partition, std::vector<std::shared_ptr<Segment>> inputs,
               uint64_t seq);
  Result<RetentionStats> Retain(IndexState& ix);
  void BackgroundLoop();
  void Signal() {
    std::lock_guard<std::mutex> lock(bg_mu);
    bg_signal = true;
    bg_cv.notify_one();
  }
  std::vector<std::shared_ptr<IndexState>> AllIndexes() const {
    std::lock_guard<std::mutex> lock(mu);
    std::vector<std::shared_ptr<IndexState>> out;
    for (const auto& [n, ix] : indexes) out.push_back(ix);
    return out;
  }
};

Result<CommitStats> Store::Impl::Commit(std::string_view index,
                                        std::vector<cloudtrail::Event>& events,
                                        const CommitOptions& options) {
  RETURN_IF_ERROR(CheckWritable());
  if (!ValidIndexName(index)) {
    return InvalidArgument("index name \"{}\" is not [a-z0-9_-]{{1,100}}", index);
  }
  const bool staging = !options.group.empty() || !options.version.empty();
  if (staging && (!IsGroupToken(options.group) || !IsGroupToken(options.version))) {
    return InvalidArgument(
        "replacement group \"{}\" / version \"{}\" is not [A-Za-z0-9_.:/@+=-]{{1,200}}",
        options.group, options.version);
  }
  CommitStats stats;
  if (events.empty()) return stats;
  ASSIGN_OR_RETURN(auto ixp, GetOrCreate(index));
  IndexState& ix = *ixp;

  // 1. Duplicates within the batch (exact on collision); no lock needed.
  std::vector<uint64_t> fps(events.size());
  std::vector<uint64_t> pend_keys(events.size());
  std::vector<char> keep(events.size(), 1);
  {
    // fingerprint -> the first event holding it, in a flat open-addressed table (no allocation
    // per event); later distinct events under a fingerprint already taken (a 64-bit collision:
    // practically never) go to `more`.
    size_t cap = 16;
    while (cap < events.size() * 2) cap *= 2;
    std::vector<std::pair<uint64_t, uint32_t>> first(cap, {0, UINT32_MAX});
    std::unordered_multimap<uint64_t, uint32_t> more;
    auto same = [&](uint32_t a, uint32_t b) {
      return events[a].event_id == events[b].event_id && events[a].account == events[b].account;
    };
    for (uint32_t i = 0; i < events.size(); ++i) {
      fps[i] = IdFingerprint(events[i].account, events[i].event_id);
      pend_keys[i] = PendingKey(PartitionOf(events[i].time_ms), fps[i]);
      size_t at = fps[i] & (cap - 1);
      while (first[at].second != UINT32_MAX && first[at].first != fps[i]) at = (at + 1) & (cap - 1);
      if (first[at].second == UINT32_MAX) {
        first[at] = {fps[i], i};
        continue;
      }
      bool dup = same(first[at].second, i);
      auto range = more.equal_range(fps[i]);
      for (auto r = range.first; r != range.second && !dup; ++r) dup = same(r->second, i);
      if (dup) {
        keep[i] = 0;
      } else {
        more.emplace(fps[i], i);
      }
    }
  }
  std::map<int64_t, std::vector<uint32_t>> parts;
  for (uint32_t i = 0; i < events.size(); ++i) {
    if (keep[i]) parts[PartitionOf(events[i].time_ms)].push_back(i);
  }

  // 2. Under the write lock: wait until no concurrent commit holds one of our identities as
  // pending, dedup against stored events, then reserve ours as pending and take sequence numbers.
  // The segments are built and fsynced without the lock, so commits run in parallel.
  std::unique_lock<std::mutex> lock(ix.write_mu);
  while (true) {
    if (ix.deleted) return Unavailable("index {} was deleted during the commit; retry", index);
    RETURN_IF_ERROR(CheckWritable());
    bool conflict = false;
    if (!ix.pending.empty()) {
      for (uint32_t i = 0; i < events.size() && !conflict; ++i) {
        conflict = keep[i] && ix.pending.Contains(pend_keys[i]);
      }
    }
    if (!conflict) break;
    ix.pending_cv.wait(lock);
  }
  auto current = ix.Current();
  for (auto& [partition, idxs] : parts) {
    ASSIGN_OR_RETURN(FpSet * set, DedupFor(ix, partition, *current));
    std::vector<uint32_t> fresh;
    fresh.reserve(idxs.size());
    for (size_t k = 0; k < idxs.size(); ++k) {
      const uint32_t i = idxs[k];
      if (k + kPrefetchAhead < idxs.size()) set->Prefetch(fps[idxs[k + kPrefetchAhead]]);
      bool dup = false;
      if (set->Contains(fps[i])) {
        for (const auto* list : {&current->segments, &current->staged}) {
          for (const auto& seg : *list) {
            if (dup || seg->desc().partition != partition) continue;
            ASSIGN_OR_RETURN(bool has, seg->ContainsId(events[i].account, events[i].event_id));
            dup = has;
          }
        }
      }
      if (dup) {
        keep[i] = 0;
      } else {
        fresh.push_back(i);
      }
    }
    idxs.swap(fresh);
  }
  for (uint32_t i = 0; i < keep.size(); ++i) {
    if (!keep[i]) stats.skipped.push_back(i);
  }
  stats.duplicates = stats.skipped.size();
  std::vector<std::pair<int64_t, uint64_t>> seqs;  // (partition, seq) of each segment to write
  for (auto& [partition, idxs] : parts) {
    if (idxs.empty()) continue;
    seqs.emplace_back(partition, ix.next_seq++);
    for (uint32_t i : idxs) ix.pending.Add(pend_keys[i]);
  }
  if (seqs.empty()) return stats;
  // Releases our pending identities (under write_mu) and wakes commits waiting on them.
  auto release = [&]() {
    for (auto& [partition, idxs] : parts) {
      for (uint32_t i : idxs) {
        ix.pending.Release(pend_keys[i]);
      }
    }
    ix.pending_cv.notify_all();
  };
  lock.unlock();

  // 3. One segment per partition, outside the lock.
  std::vector<std::unique_ptr<NewSegment>> writers;
  auto abandon = [&]() {
    for (auto& w : writers) w->Abandon();
  };
  auto fail = [&](Status s) -> Status {
    abandon();
    std::lock_guard<std::mutex> relock(ix.write_mu);
    release();
    return s;
  };
  std::vector<std::shared_ptr<Segment>> added;
  size_t next_writer = 0;
  for (auto& [partition, idxs] : parts) {
    if (idxs.empty()) continue;
    std::stable_sort(idxs.begin(), idxs.end(),
                     [&](uint32_t a, uint32_t b) { return events[a].time_ms < events[b].time_ms; });
    uint64_t seq = seqs[next_writer++].second;
    SegmentDesc desc;
    desc.seq = seq;
    desc.file = SegmentFileName(seq, partition);
    desc.partition = partition;
    if (staging) {
      desc.group = options.group;
      desc.version = options.version;
      desc.staged = true;
    }
    SegmentWriterOptions wopt = opt.segment;
    wopt.expected_events = static_cast<uint32_t>(idxs.size());
    writers.push_back(std::make_unique<NewSegment>(fs, ix.dir, desc, wopt));
    SegmentWriter& w = writers.back()->writer();
    Status s = w.Open();
    for (size_t k = 0; s.ok() && k < idxs.size(); ++k) {
      s = w.Add(events[idxs[k]]);
      if (!s.ok() && s.code() == StatusCode::kInvalidArgument) {
        s = s.WithContext(fmt::format("batch event #{}", idxs[k]));
      }
    }
    if (!s.ok()) return fail(s);
    auto seg = writers.back()->Publish();
    if (!seg.ok()) return fail(seg.status());
    stats.added += (*seg)->event_count();
    stats.bytes_written += (*seg)->desc().bytes;
    added.push_back(std::move(seg).value());
  }

  // 4. The commit point: the manifest of the version current now plus our segments.
  lock.lock();
  if (ix.deleted) {
    abandon();
    release();
    return Unavailable("index {} was deleted during the commit; retry", index);
  }
  Status writable = CheckWritable();
  if (!writable.ok()) {
    abandon();
    release();
    return writable;
  }
  current = ix.Current();
  auto next = std::make_shared<Version>(*current);
  next->generation = current->generation + 1;
  next->next_seq = std::max(current->next_seq, ix.next_seq);
  auto& into = staging ? next->staged : next->segments;
  for (const auto& seg : added) into.push_back(seg);
  std::sort(into.begin(), into.end(),
            [](const auto& a, const auto& b) { return a->desc().seq < b->desc().seq; });
  Status s = Swap(ix, next);
  if (!s.ok() && ix.Current() != next) {
    abandon();
    release();
    return s;
  }
  // The manifest naming the new segments is in place (even if not durable): keep dedup state
  // consistent with it.
  const int64_t committed_ms = opt.clock->NowMicros() / 1000;
  for (auto& [partition, idxs] : parts) ix.last_commit_ms[partition] = committed_ms;
  for (auto& [partition, idxs] : parts) {
    auto it = ix.dedup.find(partition);
    if (it == ix.dedup.end()) continue;
    for (size_t k = 0; k < idxs.size(); ++k) {
      if (k + kPrefetchAhead < idxs.size()) it->second.fps.Prefetch(fps[idxs[k + kPrefetchAhead]]);
      it->second.fps.Insert(fps[idxs[k]]);
    }
  }
  release();
  lock.unlock();
  if (!s.ok()) return s;
  if (opt.background_merge) Signal();
  return stats;
}

Result<PublishStats> Store::Impl::Publish(std::string_view index, std::string_view group,
                                          std::string_view version) {
  RETURN_IF_ERROR(CheckWritable());
  if (!ValidIndexName(index)) {
    return InvalidArgument("index name \"{}\" is not [a-z0-9_-]{{1,100}}", index);
  }
  if (!IsGroupToken(group) || !IsGroupToken(version)) {
    return InvalidArgument(
        "replacement group \"{}\" / version \"{}\" is not [A-Za-z0-9_.:/@+=-]{{1,200}}", group,
        version);
  }
  ASSIGN_OR_RETURN(auto ixp, GetOrCreate(index));
  IndexState& ix = *ixp;
  PublishStats stats;
  std::lock_guard<std::mutex> lock(ix.write_mu);
  if (ix.deleted) return Unavailable("index {} was deleted; retry", index);
  RETURN_IF_ERROR(CheckWritable());
  auto current = ix.Current();
  auto next = std::make_shared<Version>(*current);
  next->generation = current->generation + 1;
  next->next_seq = std::max(current->next_seq, ix.next_seq);
  next->segments.clear();
  next->staged.clear();
  std::vector<std::shared_ptr<Segment>> removed;
  for (const auto& seg : current->segments) {
    const SegmentDesc& d = seg->desc();
    if (d.group == group && d.version != version) {
      removed.push_back(seg);
      stats.dropped_events += seg->event_count();
    } else {
      next->segments.push_back(seg);
    }
  }
  for (const auto& seg : current->staged) {
    const SegmentDesc& d = seg->desc();
    if (d.group != group) {
      next->staged.push_back(seg);
    } else if (d.version == version) {
      // The same file, now listed as live: a new Segment object with the changed description (a
      // Segment's description is fixed), opened on the same file.
      SegmentDesc live = d;
      live.staged = false;
      ASSIGN_OR_RETURN(auto reopened, Segment::Open(fs, seg->path(), live));
      next->segments.push_back(std::move(reopened));
      stats.published_events += seg->event_count();
      ++stats.published_segments;
    } else {
      removed.push_back(seg);
      stats.dropped_events += seg->event_count();
    }
  }
  stats.dropped_segments = removed.size();
  stats.changed = stats.published_segments > 0 || stats.dropped_segments > 0;
  if (!stats.changed) return stats;
  std::sort(next->segments.begin(), next->segments.end(),
            [](const auto& a, const auto& b) { return a->desc().seq < b->desc().seq; });
  Status s = Swap(ix, next);
  if (!s.ok() && ix.Current() != next) return s;
  // The staged Segment objects were replaced by reopened ones on the same files: let the old
  // objects go without removing the files (only removed segments are obsolete).
  std::set<int64_t> touched;
  for (const auto& seg : removed) {
    touched.insert(seg->desc().partition);
    seg->MarkObsolete();
  }
  // Dedup state of the partitions that lost events is rebuilt from the segments when needed.
  for (int64_t p : touched) ix.dedup.erase(p);
  if (!s.ok()) return s;
  log::Info("store: {} {} version {} published ({} events), {} events of other versions dropped",
            ix.name, group, version, stats.published_events, stats.dropped_events);
  if (opt.background_merge) Signal();
  return stats;
}

// Picks and runs one merge in `ix` under the policy (see the declaration). Returns whether it
// merged.
Result<bool> Store::Impl::MergeOne(IndexState& ix, bool full, bool cold) {
  int64_t partition = 0;
  std::vector<std::shared_ptr<Segment>> inputs;
  uint64_t seq = 0;
  {
    std::lock_guard<std::mutex> lock(ix.write_mu);
    if (ix.deleted) return false;
    auto v = ix.Current();
    // Segments merge only with segments of the same partition and replacement group version, so
    // a merged segment still belongs to exactly one version (PublishGroup drops it whole).
    std::map<std::tuple<int64_t, std::string, std::string>, std::vector<std::shared_ptr<Segment>>>
        small;
    const uint32_t small_below = full || cold
                                     ? opt.max_segment_events
                                     : std::min(opt.max_segment_events, opt.background_merge_below);
    const int64_t now_ms = opt.clock->NowMicros() / 1000;
    auto is_cold = [&](int64_t partition) {
      auto it = ix.last_commit_ms.find(partition);
      return it == ix.last_commit_ms.end() || now_ms - it->second >= opt.cold_partition_ms;
    };
    for (const auto& s : v->segments) {
      if (cold && !is_cold(s->desc().partition)) continue;
      if (s->event_count() < small_below && !ix.merging.count(s->desc().partition)) {
        small[{s->desc().partition, s->desc().group, s->desc().version}].push_back(s);
      }
    }
    uint32_t need = full ? 2 : std::max<uint32_t>(2, opt.merge_min_segments);
    // Size tiers (powers of 4 of the event count): the background policy merges segments of one
    // tier only, so each event is rewritten about log4(max / commit size) times, not once per
    // commit. MergeNow takes every small segment.
    auto tier = [](uint32_t n) {
      int t = 0;
      for (uint32_t x = n / 1024; x > 0; x /= 4) ++t;
      return t;
    };
    for (auto& [key, all_small] : small) {
      const int64_t p = std::get<0>(key);
      std::vector<std::shared_ptr<Segment>> segs;
      if (full) {
        segs = all_small;
      } else {
        std::map<int, std::vector<std::shared_ptr<Segment>>> tiers;
        for (const auto& s : all_small) tiers[tier(s->event_count())].push_back(s);
        for (auto& [t, group] : tiers) {
          if (group.size() >= need) {
            segs = std::move(group);
            break;
          }
        }
      }
      if (segs.size() < need) continue;
      std::sort(segs.begin(), segs.end(), [](const auto& a, const auto& b) {
        return a->event_count() != b->event_count() ? a->event_count() < b->event_count()
                                                    : a->desc().seq < b->desc().seq;
      });
      uint64_t sum = 0;
      std::vector<std::shared_ptr<Segment>> pick;
      for (const auto& s : segs) {
        if (sum + s->event_count() > opt.max_segment_events) break;
        sum += s->event_count();
        pick.push_back(s);
      }
      if (pick.size() < 2) continue;
      partition = p;
      inputs = std::move(pick);
      break;
    }
    if (inputs.empty()) return false;
    std::sort(inputs.begin(), inputs.end(),
              [](const auto& a, const auto& b) { return a->desc().seq < b->desc().seq; });
    ix.merging.insert(partition);
    seq = ix.next_seq++;
  }
  Status s = Merge(ix, partition, inputs, seq);
  {
    std::lock_guard<std::mutex> lock(ix.write_mu);
    ix.merging.erase(partition);
  }
  if (!s.ok()) return s;
  return true;
}

Status Store::Impl::Merge(IndexState& ix, int64_t partition,
                          std::vector<std::shared_ptr<Segment>> inputs, uint64_t seq) {
  RETURN_IF_ERROR(CheckWritable());
  // Merge order: (time, input in seq order, ordinal), so ties keep commit order.
  struct Item {
    int64_t time;
    uint32_t input;
    uint32_t ordinal;
  };
  std::vector<Item> order;
  for (uint32_t in = 0; in < inputs.size(); ++in) {
    ASSIGN_OR_RETURN(auto times, inputs[in]->Times());
    for (uint32_t o = 0; o < times->size(); ++o) order.push_back(Item{(*times)[o], in, o});
  }
  std::stable_sort(order.begin(), order.end(), [](const Item& a, const Item& b) {
    return a.time != b.time ? a.time < b.time : a.input < b.input;
  });
  SegmentDesc desc;
  desc.seq = seq;
  desc.file = SegmentFileName(seq, partition);
  desc.partition = partition;
  desc.group = inputs[0]->desc().group;  // all inputs share it (MergeOne)
  desc.version = inputs[0]->desc().version;
  SegmentWriterOptions wopt = opt.segment;
  wopt.expected_events = static_cast<uint32_t>(order.size());
  NewSegment out(fs, ix.dir, desc, wopt);
  SegmentWriter& w = out.writer();
  struct Cursor {
    std::vector<cloudtrail::Event> window;
    size_t pos = 0;
    uint32_t next_ordinal = 0;
  };
  std::vector<Cursor> cursors(inputs.size());
  constexpr uint32_t kWindow = 512;
  Status s = w.Open();
  for (size_t k = 0; s.ok() && k < order.size(); ++k) {
    Cursor& c = cursors[order[k].input];
    if (c.pos == c.window.size()) {
      c.window.clear();
      c.pos = 0;
      const Segment& in = *inputs[order[k].input];
      uint32_t n = std::min(kWindow, in.event_count() - c.next_ordinal);
      s = in.ReadEvents(c.next_ordinal, n, &c.window);
      c.next_ordinal += n;
      if (!s.ok()) break;
    }
    s = w.Add(c.window[c.pos]);
    c.window[c.pos] = cloudtrail::Event();
    ++c.pos;
  }
  if (!s.ok()) {
    out.Abandon();
    return s.WithContext(fmt::format("merging into {}", out.path()));
  }
  auto seg = out.Publish();
  if (!seg.ok()) {
    out.Abandon();
    return seg.status();
  }
  std::lock_guard<std::mutex> lock(ix.write_mu);
  auto current = ix.Current();
  std::set<const Segment*> gone;
  for (const auto& in : inputs) gone.insert(in.get());
  size_t present = 0;
  for (const auto& s2 : current->segments) present += gone.count(s2.get());
  if (ix.deleted || present != inputs.size()) {
    out.Abandon();  // retention or deletion removed an input meanwhile
    return Status::Ok();
  }
  if (Status writable = CheckWritable(); !writable.ok()) {
    out.Abandon();  // closed meanwhile
    return writable;
  }
  auto next = std::make_shared<Version>(*current);
  next->generation = current->generation + 1;
  next->next_seq = std::max(current->next_seq, ix.next_seq);
  next->segments.clear();
  for (const auto& s2 : current->segments) {
    if (!gone.count(s2.get())) next->segments.push_back(s2);
  }
  next->segments.push_back(*seg);
  Status swap = Swap(ix, next);
  if (!swap.ok() && ix.Current() != next) {
    out.Abandon();
    return swap;
  }
  for (const auto& in : inputs) in->MarkObsolete();
  return swap;
}

Result<RetentionStats> Store::Impl::Retain(IndexState& ix) {
  RetentionStats stats;
  std::lock_guard<std::mutex> lock(ix.write_mu);
  RETURN_IF_ERROR(CheckWritable());
  if (ix.deleted) return stats;
  const RetentionPolicy& r = ix.retention;
  if (r.max_age_ms == 0 && r.max_bytes == 0) return stats;
  auto current = ix.Current();
  int64_t now_ms = opt.clock->NowMicros() / 1000;
  std::set<const Segment*> drop;
  if (r.max_age_ms > 0) {
    for (const auto& s : current->segments) {
      if (s->max_time() < now_ms - r.max_age_ms) drop.insert(s.get());
    }
  }
  if (r.max_bytes > 0) {
    std::vector<std::shared_ptr<Segment>> rest;
    uint64_t total = 0;
    for (const auto& s : current->segments) {
      if (!drop.count(s.get())) {
        rest.push_back(s);
        total += s->desc().bytes;
      }
    }
    std::sort(rest.begin(), rest.end(), [](const auto& a, const auto& b) {
      return a->max_time() != b->max_time() ? a->max_time() < b->max_time()
                                            : a->desc().seq < b->desc().seq;
    });
    for (const auto& s : rest) {
      if (total <= r.max_bytes) break;
      drop.insert(s.get());
      total -= s->desc().bytes;
    }
  }
  if (drop.empty()) return stats;
  auto next = std::make_shared<Version>(*current);
  next->generation = current->generation + 1;
  next->next_seq = std::max(current->next_seq, ix.next_seq);
  next->segments.clear();
  std::vector<std::shared_ptr<Segment>> removed;
  for (const auto& s : current->segments) {
    if (drop.count(s.get())) {
      removed.push_back(s);
    } else {
      next->segments.push_back(s);
    }
  }
  Status s = Swap(ix, next);
  if (!s.ok() && ix.Current() != next) return s;
  for (const auto& seg : removed) {
    stats.segments_removed += 1;
    stats.events_removed += seg->event_count();
    stats.bytes_removed += seg->desc().bytes;
    ix.dedup.erase(seg->desc().partition);
    seg->MarkObsolete();
  }
  if (!s.ok()) return s;
  log::Info("store: retention removed {} segments ({} events) from {}", stats.segments_removed,
            stats.events_removed, ix.name);
  return stats;
}

void Store::Impl::BackgroundLoop() {
  while (true) {
    {
      std::unique_lock<std::mutex> lock(bg_mu);
      bg_cv.wait_for(lock, std::chrono::seconds(1), [&] { return bg_signal || bg_stop; });
      if (bg_stop) return;
      bg_signal = false;
    }
    bool again = true;
    while (again) {
      again = false;
      for (const auto& ix : AllIndexes()) {
        {
          std::lock_guard<std::mutex> lock(bg_mu);
          if (bg_stop) return;
        }
        auto r = MergeOne(*ix, false);
        if (!r.ok() && r.status().code() == StatusCode::kCancelled) return;  // closing
        if (!r.ok()) {
          log::Warn("store: background merge in {}: {}", ix->name, r.status().message());
        } else if (*r) {
          again = true;
        }
      }
    }
    // Cold days: one merge per index per round, so new commits' small merges come first.
    if (opt.cold_partition_ms > 0) {
      for (const auto& ix : AllIndexes()) {
        {
          std::lock_guard<std::mutex> lock(bg_mu);
          if (bg_stop) return;
        }
        auto r = MergeOne(*ix, false, /*cold=*/true);
        if (!r.ok()) {
          log::Warn("store: background merge of a cold day in {}: {}", ix->name,
                    r.status().message());
        } else if (*r) {
          Signal();  // look again at once
        }
      }
    }
    int64_t now_ms = opt.clock->NowMicros() / 1000;
    if (opt.retention_interval_ms > 0 && now_ms - last_retention_ms >= opt.retention_interval_ms) {
      last_retention_ms = now_ms;
      for (const auto& ix : AllIndexes()) {
        auto r = Retain(*ix);
        if (!r.ok()) log::Warn("store: retention in {}: {}", ix->name, r.status().message());
      }
    }
  }
}

// ---------------------------------------------------------------- Store

Result<std::unique_ptr<Store>> Store::Open(const StoreOptions& options) {
  if (options.data_dir.empty()) return InvalidArgument("store: data folder not set");
  std::unique_ptr<Store> store(new Store());
  store->impl_ = std::make_unique<Impl>();
  Impl& m = *store->impl_;
  m.opt = options;
  m.fs = options.fs;
  m.indexes_dir = JoinPath(options.data_dir, kIndexesDir);
  if (options.read_only) {
    if (!m.fs->Exists(options.data_dir)) {
      return NotFound(
          "data folder {} does not exist (nothing has been stored there; --data or "
          "CAIRN_DATA names another)",
          options.data_dir);
    }
    if (!m.fs->Exists(m.indexes_dir)) return store;  // a data folder without indexes yet
  } else {
    RETURN_IF_ERROR(m.fs->CreateDirs(options.data_dir));
    ASSIGN_OR_RETURN(m.lock, LockDataFolder(m.fs, options));
    MakeDataFolderPrivate(m.fs, options.data_dir);
    RETURN_IF_ERROR(m.fs->CreateDirs(m.indexes_dir));
  }
  auto entries = m.fs->ListDir(m.indexes_dir);
  if (!entries.ok()) return entries.status();
  for (const auto& e : *entries) {
    std::string dir = JoinPath(m.indexes_dir, e.name);
    if (e.is_dir && std::string_view(e.name).substr(0, kDeletedPrefix.size()) == kDeletedPrefix) {
      // A deletion interrupted by a crash (or, for a reader, in progress).
      if (!options.read_only) RETURN_IF_ERROR(m.fs->RemoveAll(dir));
      continue;
    }
    if (!e.is_dir || !ValidIndexName(e.name)) continue;
    if (!options.read_only && !m.fs->Exists(JoinPath(dir, kManifestFile)) &&
        !m.fs->Exists(JoinPath(dir, kConfigFile))) {
      // Created by a first commit that never reached its commit point.
      RETURN_IF_ERROR(m.fs->RemoveAll(dir));
      continue;
    }
    auto ix = m.LoadIndex(e.name);
    if (!ix.ok() && options.read_only && ix.status().code() == StatusCode::kNotFound) {
      continue;  // being created or deleted by a writer
    }
    if (!ix.ok()) return ix.status();
    m.indexes.emplace(e.name, std::move(ix).value());
  }
  m.last_retention_ms = m.opt.clock->NowMicros() / 1000 - m.opt.retention_interval_ms;
  if (options.background_merge && !options.read_only) {
    Impl* raw = &m;
    m.bg = std::thread([raw] { raw->BackgroundLoop(); });
  }
  return store;
}

std::shared_ptr<const Snapshot> Store::MakeSnapshot(
    const std::string& index, uint64_t generation,
    const std::vector<std::shared_ptr<Segment>>& segments, const std::vector<CheckProblem>& broken,
    const std::vector<SegmentDesc>& broken_descs) {
  auto snap = std::shared_ptr<Snapshot>(new Snapshot());
  snap->index_ = index;
  snap->generation_ = generation;
  for (const auto& s : segments) snap->segments_.push_back(s);
  std::sort(snap->segments_.begin(), snap->segments_.end(), [](const auto& a, const auto& b) {
    return a->min_time() != b->min_time() ? a->min_time() < b->min_time()
                                          : a->desc().seq < b->desc().seq;
  });
  snap->broken_ = broken;
  snap->broken_descs_ = broken_descs;
  return snap;
}

Store::~Store() { Close().IgnoreError(); }

Status Store::Close() {
  if (!impl_) return Status::Ok();
  {
    std::lock_guard<std::mutex> lock(impl_->mu);
    impl_->closed = true;
  }
  {
    std::lock_guard<std::mutex> lock(impl_->bg_mu);
    impl_->bg_stop = true;
    impl_->bg_cv.notify_all();
  }
  if (impl_->bg.joinable()) impl_->bg.join();
  // Let a manifest swap in progress on another thread finish (later ones see `closed`), then
  // give the data folder to the next writer.
  for (const auto& ix : impl_->AllIndexes()) {
    std::lock_guard<std::mutex> lock(ix->write_mu);
  }
  impl_->lock.reset();
  return Status::Ok();
}

Result<CommitStats> Store::Commit(std::string_view index, std::vector<cloudtrail::Event> events) {
  return impl_->Commit(index, events);
}

Result<CommitStats> Store::CommitInPlace(std::string_view index,
                                         std::vector<cloudtrail::Event>* events) {
  return impl_->Commit(index, *events);
}

Result<CommitStats> Store::Commit(std::string_view index, std::vector<cloudtrail::Event> events,
                                  const CommitOptions& options) {
  return impl_->Commit(index, events, options);
}

Result<PublishStats> Store::PublishGroup(std::string_view index, std::string_view group,
                                         std::string_view version) {
  return impl_->Publish(index, group, version);
}

std::map<std::string, GroupInfo> Store::Groups(std::string_view index) const {
  std::map<std::string, GroupInfo> out;
  auto ix = impl_->Find(index);
  if (!ix) return out;
  auto v = ix->Current();
  for (const auto& seg : v->segments) {
    const SegmentDesc& d = seg->desc();
    if (d.group.empty()) continue;
    GroupInfo& g = out[d.group];
    g.live_version = d.version;  // one live version per group (PublishGroup)
    g.live_events += seg->event_count();
    ++g.live_segments;
  }
  for (const auto& seg : v->staged) {
    const SegmentDesc& d = seg->desc();
    GroupInfo& g = out[d.group];
    if (std::find(g.staged_versions.begin(), g.staged_versions.end(), d.version) ==
        g.staged_versions.end()) {
      g.staged_versions.push_back(d.version);
    }
    g.staged_events += seg->event_count();
  }
  for (auto& [name, g] : out) std::sort(g.staged_versions.begin(), g.staged_versions.end());
  return out;
}

std::vector<std::string> Store::ListIndexes() const {
  std::vector<std::string> out;
  for (const auto& ix : impl_->AllIndexes()) out.push_back(ix->name);
  return out;
}

Result<IndexInfo> Store::Info(std::string_view index) const {
  auto ix = impl_->Find(index);
  if (!ix) return NotFound("index {} does not exist", index);
  auto v = ix->Current();
  IndexInfo info;
  info.name = ix->name;
  info.generation = v->generation;
  std::set<int64_t> parts;
  for (const auto& s : v->segments) {
    if (info.segments == 0 || s->min_time() < info.min_time) info.min_time = s->min_time();
    if (info.segments == 0 || s->max_time() > info.max_time) info.max_time = s->max_time();
    info.events += s->event_count();
    info.bytes += s->desc().bytes;
    ++info.segments;
    parts.insert(s->desc().partition);
  }
  info.partitions = parts.size();
  info.broken_segments = v->broken.size();
  auto msize = impl_->fs->FileSize(JoinPath(ix->dir, kManifestFile));
  if (msize.ok()) info.bytes += *msize;
  {
    std::lock_guard<std::mutex> lock(ix->write_mu);
    info.retention = ix->retention;
  }
  return info;
}

Result<CheckReport> Store::Check(std::string_view index) const {
  auto ix = impl_->Find(index);
  if (!ix) return NotFound("index {} does not exist", index);
  auto v = ix->Current();
  CheckReport report;
  for (const auto& p : v->broken) report.problems.push_back(p);
  for (const auto& s : v->segments) {
    ++report.segments_checked;
    report.events_checked += s->event_count();
    Status st = s->Verify();
    if (!st.ok()) report.problems.push_back(CheckProblem{s->path(), st});
  }
  return report;
}

Result<std::vector<CheckProblem>> Store::SetAsideCorrupt(std::string_view index, int64_t from_ms,
                                                         int64_t to_ms) {
  auto ix = impl_->Find(index);
  if (!ix) return NotFound("index {} does not exist", index);
  // Verify without the lock (it reads every byte), then rebuild from the version current then.
  std::map<const Segment*, Status> bad;
  for (const auto& seg : ix->Current()->segments) {
    if (seg->max_time() < from_ms || seg->min_time() >= to_ms) continue;
    if (Status st = seg->Verify(); !st.ok()) bad.emplace(seg.get(), st);
  }
  std::vector<CheckProblem> moved;
  if (bad.empty()) return moved;
  std::lock_guard<std::mutex> lock(ix->write_mu);
  auto current = ix->Current();
  auto next = std::make_shared<Version>(*current);  // same generation: the files did not change
  next->segments.clear();
  for (const auto& seg : current->segments) {
    auto it = bad.find(seg.get());
    if (it == bad.end()) {
      next->segments.push_back(seg);
      continue;
    }
    next->broken_descs.push_back(seg->desc());
    next->broken.push_back(CheckProblem{seg->path(), it->second});
    moved.push_back(next->broken.back());
  }
  impl_->Install(*ix, std::move(next));
  return moved;
}

Status Store::DeleteIndex(std::string_view index) {
  Impl& m = *impl_;
  RETURN_IF_ERROR(m.CheckWritable());
  std::shared_ptr<IndexState> ix;
  {
    std::lock_guard<std::mutex> lock(m.mu);
    auto it = m.indexes.find(index);
    if (it == m.indexes.end()) return NotFound("index {} does not exist", index);
    ix = it->second;
    m.indexes.erase(it);
  }
  std::lock_guard<std::mutex> lock(ix->write_mu);
  ix->deleted = true;
  // Rename first so a crash mid-removal cannot leave a half-deleted index that looks live.
  std::string tomb = JoinPath(
      m.indexes_dir, fmt::format("{}{}-{}", kDeletedPrefix, ix->name, m.opt.clock->NowMicros()));
  RETURN_IF_ERROR(m.fs->Rename(ix->dir, tomb));
  RETURN_IF_ERROR(m.fs->SyncDir(m.indexes_dir));
  RETURN_IF_ERROR(m.fs->RemoveAll(tomb));
  ix->dedup.clear();
  return Status::Ok();
}

Status Store::SetRetention(std::string_view index, const RetentionPolicy& policy) {
  RETURN_IF_ERROR(impl_->CheckWritable());
  if (!ValidIndexName(index)) return InvalidArgument("index name \"{}\" is not valid", index);
  if (policy.max_age_ms < 0) return InvalidArgument("retention max age must not be negative");
  ASSIGN_OR_RETURN(auto ix, impl_->GetOrCreate(index));
  std::lock_guard<std::mutex> lock(ix->write_mu);
  RETURN_IF_ERROR(WriteFileAtomic(impl_->fs, JoinPath(ix->dir, kConfigFile), EncodeConfig(policy)));
  ix->retention = policy;
  return Status::Ok();
}

Result<RetentionPolicy> Store::GetRetention(std::string_view index) const {
  auto ix = impl_->Find(index);
  if (!ix) return NotFound("index {} does not exist", index);
  std::lock_guard<std::mutex> lock(ix->write_mu);
  return ix->retention;
}

Result<RetentionStats> Store::ApplyRetention(std::string_view index) {
  RETURN_IF_ERROR(impl_->CheckWritable());
  auto ix = impl_->Find(index);
  if (!ix) return NotFound("index {} does not exist", index);
  return impl_->Retain(*ix);
}

Result<std::shared_ptr<const Snapshot>> Store::GetSnapshot(std::string_view index) const {
  auto ix = impl_->Find(index);
  if (!ix) return NotFound("index {} does not exist", index);
  return ix->Current()->snapshot;
}

Status Store::MergeNow(std::string_view index) {
  RETURN_IF_ERROR(impl_->CheckWritable());
  auto ix = impl_->Find(index);
  if (!ix) return NotFound("index {} does not exist", index);
  while (true) {
    ASSIGN_OR_RETURN(bool merged, impl_->MergeOne(*ix, true));
    if (merged) continue;
    // Nothing to pick: done unless a background merge of some partition is still running.
    bool busy;
    {
      std::lock_guard<std::mutex> lock(ix->write_mu);
      busy = !ix->merging.empty();
    }
    if (!busy) return Status::Ok();
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
}

Status Store::WaitForMerges() {
  RETURN_IF_ERROR(impl_->CheckWritable());
  for (const auto& ix : impl_->AllIndexes()) {
    while (true) {
      ASSIGN_OR_RETURN(bool merged, impl_->MergeOne(*ix, false));
      if (merged) continue;
      bool busy;
      {
        std::lock_guard<std::mutex> lock(ix->write_mu);
        busy = !ix->merging.empty();
      }
      if (!busy) break;
      std::this_thread::sleep_for(std::chrono::milliseconds(5));
    }
  }
  return Status::Ok();
}

}  // namespace cairn::store
