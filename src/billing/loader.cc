#include "billing/loader.h"

#include <simdjson.h>

#include <algorithm>
#include <future>

#include "billing/csv.h"
#include "cloudtrail/gzip.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/time_util.h"

namespace cairn::billing {
namespace {

constexpr uint64_t kMaxManifestBytes = 64 << 20;
constexpr uint64_t kMaxDecompressed = uint64_t{64} << 30;

std::string JoinKey(const std::string& a, const std::string& b) {
  if (a.empty()) return b;
  if (a.back() == '/') return a + b;
  return a + "/" + b;
}

class LocalSource final : public ReportSource {
 public:
  LocalSource(std::string root, FileSystem* fs) : root_(std::move(root)), fs_(fs) {}
  Result<std::vector<std::string>> List(const std::string& prefix) override {
    std::vector<std::string> out;
    // The folder part of the prefix, walked recursively; keys filtered by the whole prefix.
    std::string dir =
        prefix.substr(0, prefix.rfind('/') == std::string::npos ? 0 : prefix.rfind('/'));
    RETURN_IF_ERROR(Walk(dir, &out));
    std::erase_if(out, [&](const std::string& k) { return !k.starts_with(prefix); });
    std::sort(out.begin(), out.end());
    return out;
  }
  Result<std::string> Read(const std::string& key) override {
    return ReadFileToString(fs_, JoinPath(root_, key), kMaxManifestBytes);
  }
  Result<std::unique_ptr<SequentialFile>> Open(const std::string& key) override {
    return fs_->NewSequentialFile(JoinPath(root_, key));
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandom(const std::string& key) override {
    return fs_->NewRandomAccessFile(JoinPath(root_, key));
  }
  std::string Describe(const std::string& key) const override { return JoinPath(root_, key); }

 private:
  Status Walk(const std::string& dir, std::vector<std::string>* out) {
    auto entries = fs_->ListDir(dir.empty() ? root_ : JoinPath(root_, dir));
    if (!entries.ok()) {
      if (entries.status().code() == StatusCode::kNotFound) return Status::Ok();
      return entries.status();
    }
    for (const auto& e : *entries) {
      std::string key = JoinKey(dir, e.name);
      if (e.is_dir) {
        RETURN_IF_ERROR(Walk(key, out));
      } else {
        out->push_back(key);
      }
    }
    return Status::Ok();
  }
  std::string root_;
  FileSystem* fs_;
};

class S3Source final : public ReportSource {
 public:
  S3Source(aws::S3Client* s3, std::string bucket, std::string tmp)
      : s3_(s3), bucket_(std::move(bucket)), tmp_(std::move(tmp)) {}
  Result<std::vector<std::string>> List(const std::string& prefix) override {
    std::vector<std::string> out;
    aws::ListObjectsRequest req;
    req.bucket = bucket_;
    req.prefix = prefix;
    while (true) {
      ASSIGN_OR_RETURN(auto page, s3_->ListObjectsV2(req));
      for (const auto& o : page.objects) out.push_back(o.key);
      if (!page.truncated) break;
      req.continuation_token = page.next_continuation_token;
    }
    std::sort(out.begin(), out.end());
    return out;
  }
  Result<std::string> Read(const std::string& key) override {
    return s3_->GetObjectToString(bucket_, key, kMaxManifestBytes);
  }
  Result<std::unique_ptr<SequentialFile>> Open(const std::string& key) override {
    ASSIGN_OR_RETURN(std::string path, Download(key));
    auto in = FileSystem::Default()->NewSequentialFile(path);
    // Unlinked at once: the open descriptor keeps it readable until the stream is closed.
    FileSystem::Default()->RemoveFile(path).IgnoreError();
    return in;
  }
  Result<std::unique_ptr<RandomAccessFile>> OpenRandom(const std::string& key) override {
    ASSIGN_OR_RETURN(std::string path, Download(key));
    auto in = FileSystem::Default()->NewRandomAccessFile(path);
    FileSystem::Default()->RemoveFile(path).IgnoreError();
    return in;
  }
  std::string Describe(const std::string& key) const override {
    return "s3://" + bucket_ + "/" + key;
  }

 private:
  // Downloads the object to a file of its own under tmp_; returns its path.
  Result<std::string> Download(const std::string& key) {
    FileSystem* fs = FileSystem::Default();
    RETURN_IF_ERROR(fs->CreateDirs(tmp_));
    std::string path = JoinPath(tmp_, fmt::format("download-{}", counter_++));
    ASSIGN_OR_RETURN(auto file, fs->NewWritableFile(path));
    auto info = s3_->GetObjectToFile(bucket_, key, file.get());
    Status c = file->Close();
    if (!info.ok() || !c.ok()) {
      fs->RemoveFile(path).IgnoreError();
      return info.ok() ? c : info.status();
    }
    return path;
  }
  aws::S3Client* s3_;
  std::string bucket_;
  std::string tmp_;
  uint64_t counter_ = 0;
};

// Peeks at the first bytes to choose between gzip and plain text.
class PeekFile final : public SequentialFile {
 public:
  explicit PeekFile(std::unique_ptr<SequentialFile> in) : in_(std::move(in)) {}
  Result<std::string_view> Peek() {
    while (head_.size() < 2) {
      char b[2];
      ASSIGN_OR_RETURN(size_t n, in_->Read(b, 2 - head_.size()));
      if (n == 0) break;
      head_.append(b, n);
    }
    return std::string_view(head_);
  }
  Result<size_t> Read(char* buf, size_t n) override {
    if (pos_ < head_.size()) {
      size_t k = std::min(n, head_.size() - pos_);
      std::memcpy(buf, head_.data() + pos_, k);
      pos_ += k;
      return k;
    }
    return in_->Read(buf, n);
  }

 private:
  std::unique_ptr<SequentialFile> in_;
  std::string head_;
  size_t pos_ = 0;
};

// Commits one version of a replacement group: rows are buffered per UTC day (the store's
// partition) and committed a few days at a time, the fullest first, so segments are larger than
// one batch spread over the whole month would make them. One commit runs on a helper thread while
// the next rows are parsed; the destructor waits for it.
class GroupWriter {
 public:
  GroupWriter(store::Store* store, const std::string& index, store::CommitOptions copt,
              size_t batch_rows)
      : store_(store), index_(index), copt_(std::move(copt)), batch_rows_(batch_rows) {}
  ~GroupWriter() {
    if (inflight_.valid()) inflight_.wait();
  }
  // True when the buffer is full enough that the caller should check for a stop and Flush.
  bool Add(cloudtrail::Event&& ev) {
    const int64_t day =
        ev.time_ms >= 0 ? ev.time_ms / 86'400'000 : -((-ev.time_ms + 86'399'999) / 86'400'000);
    by_day_[day].push_back(std::move(ev));
    return ++buffered_ >= batch_rows_;
  }
  Status FlushSome() { return Flush(batch_rows_ / 2); }
  // Commits everything buffered and waits for it.
  Status Finish() {
    RETURN_IF_ERROR(Flush(0));
    return Wait();
  }
  uint64_t added() const { return added_; }

 private:
  Status Wait() {
    if (!inflight_.valid()) return Status::Ok();
    auto s = inflight_.get();
    if (!s.ok()) return s.status();
    added_ += s->added;
    return Status::Ok();
  }
  // Commits the fullest days until at most `keep` rows stay buffered.
  Status Flush(size_t keep) {
    RETURN_IF_ERROR(Wait());
    std::vector<std::pair<size_t, int64_t>> sizes;
    for (const auto& [day, v] : by_day_) sizes.emplace_back(v.size(), day);
    std::sort(sizes.rbegin(), sizes.rend());
    std::vector<cloudtrail::Event> batch;
    for (const auto& [n, day] : sizes) {
      if (buffered_ <= keep) break;
      auto& v = by_day_[day];
      if (batch.empty()) {
        batch = std::move(v);
      } else {
        std::move(v.begin(), v.end(), std::back_inserter(batch));
      }
      by_day_.erase(day);
      buffered_ -= n;
    }
    if (batch.empty()) return Status::Ok();
    inflight_ = std::async(std::launch::async, [this, b = std::move(batch)]() mutable {
      return store_->Commit(index_, std::move(b), copt_);
    });
    return Status::Ok();
  }
  store::Store* store_;
  const std::string& index_;
  const store::CommitOptions copt_;
  const size_t batch_rows_;
  std::map<int64_t, std::vector<cloudtrail::Event>> by_day_;
  size_t buffered_ = 0;
  uint64_t added_ = 0;
  std::future<Result<store::CommitStats>> inflight_;
};

}  // namespace

Result<std::unique_ptr<RandomAccessFile>> ReportSource::OpenRandom(const std::string& key) {
  return Unsupported("{}: this report source cannot open objects for random access", Describe(key));
}

std::unique_ptr<ReportSource> NewLocalSource(std::string root, FileSystem* fs) {
  return std::make_unique<LocalSource>(std::move(root), fs);
}
std::unique_ptr<ReportSource> NewS3Source(aws::S3Client* s3, std::string bucket,
                                          std::string tmp_dir) {
  return std::make_unique<S3Source>(s3, std::move(bucket), std::move(tmp_dir));
}

Result<std::vector<std::string>> ListPeriods(ReportSource* source, const std::string& prefix,
                                             const std::string& report) {
  const std::string base = JoinKey(JoinKey(prefix, report), "");
  ASSIGN_OR_RETURN(auto keys, source->List(base));
  std::vector<std::string> out;
  const std::string manifest_name = report + "-Manifest.json";
  for (const auto& k : keys) {
    std::string_view rest = std::string_view(k).substr(base.size());
    size_t slash = rest.find('/');
    if (slash == std::string_view::npos || rest.substr(slash + 1) != manifest_name) continue;
    std::string_view folder = rest.substr(0, slash);
    if (folder.size() != 17 || folder[8] != '-') continue;  // YYYYMMDD-YYYYMMDD
    out.emplace_back(folder);
  }
  // CUR 2.0: <prefix>/<export>/metadata/BILLING_PERIOD=YYYY-MM/<export>-Manifest.json
  for (const auto& k : keys) {
    std::string_view rest = std::string_view(k).substr(base.size());
    constexpr std::string_view kMeta = "metadata/BILLING_PERIOD=";
    if (!rest.starts_with(kMeta)) continue;
    const size_t slash = rest.find('/', kMeta.size());
    if (slash == std::string_view::npos || rest.substr(slash + 1) != manifest_name) continue;
    if (!PeriodMonth(rest.substr(0, slash)).empty()) out.emplace_back(rest.substr(0, slash));
  }
  return out;
}

std::string PeriodMonth(std::string_view p) {
  auto digits = [](std::string_view s) {
    return !s.empty() &&
           std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
  };
  if (p.size() == 17 && p[8] == '-' && digits(p.substr(0, 6))) return std::string(p.substr(0, 6));
  constexpr std::string_view kMeta = "metadata/BILLING_PERIOD=";
  if (p.starts_with(kMeta) && p.size() == kMeta.size() + 7 && p[kMeta.size() + 4] == '-') {
    std::string_view ym = p.substr(kMeta.size());
    if (digits(ym.substr(0, 4)) && digits(ym.substr(5, 2))) {
      return std::string(ym.substr(0, 4)) + std::string(ym.substr(5, 2));
    }
  }
  return "";
}

Loader::Loader(store::Store* store, ReportSource* source, LoadOptions options)
    : store_(store), source_(source), options_(std::move(options)) {}

Result<std::vector<AssemblyResult>> Loader::LoadReport(const std::string& prefix,
                                                       const std::string& report,
                                                       const std::vector<std::string>& periods) {
  ASSIGN_OR_RETURN(auto all, ListPeriods(source_, prefix, report));
  std::vector<AssemblyResult> out;
  for (const auto& p : all) {
    if (!periods.empty() && std::find(periods.begin(), periods.end(), p) == periods.end()) continue;
    ASSIGN_OR_RETURN(auto r, LoadManifest(JoinKey(JoinKey(JoinKey(prefix, report), p),
                                                  report + "-Manifest.json")));
    out.push_back(std::move(r));
  }
  return out;
}

Result<AssemblyResult> Loader::LoadManifest(const std::string& manifest_key) {
  ASSIGN_OR_RETURN(std::string text, source_->Read(manifest_key));
  ASSIGN_OR_RETURN(CurManifest m, ParseCurManifest(text, source_->Describe(manifest_key)));
  AssemblyResult r;
  r.group = m.Group();
  r.period = m.PeriodFolder();
  r.assembly_id = m.assembly_id;
  r.manifest_key = manifest_key;
  if (!store::IsGroupToken(r.group) || !store::IsGroupToken(r.assembly_id)) {
    return InvalidArgument("{}: report name or assemblyId holds characters cairn cannot record",
                           source_->Describe(manifest_key));
  }
  auto groups = store_->Groups(options_.index);
  if (auto it = groups.find(r.group); it != groups.end() &&
                                      it->second.live_version == m.assembly_id &&
                                      it->second.staged_versions.empty()) {
    r.skipped = true;
    r.rows = it->second.live_events;
    log::Info("billing: {} assembly {} is already loaded ({} rows)", r.group, r.assembly_id,
              r.rows);
    return r;
  }
  GroupWriter writer(store_, options_.index, store::CommitOptions{r.group, r.assembly_id},
                     options_.batch_rows);
  for (size_t file_no = 0; file_no < m.report_keys.size(); ++file_no) {
    const std::string& key = m.report_keys[file_no];
    ASSIGN_OR_RETURN(auto in, OpenReportFile(key));
    CsvReader csv(std::move(in), source_->Describe(key));
    std::vector<std::string_view> fields;
    ASSIGN_OR_RETURN(bool has_header, csv.Next(&fields));
    if (!has_header) continue;
    TextArena arena;
    RowConverter conv(fields, m, source_->Describe(key), static_cast<int>(file_no + 1),
                      m.PeriodStartMs(), &arena);
    uint64_t row = 0;
    cloudtrail::Event ev;
    while (true) {
      ASSIGN_OR_RETURN(bool more, csv.Next(&fields));
      if (!more) break;
      ++row;
      if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
      RETURN_IF_ERROR(conv.Convert(fields, row, &ev));
      const bool full = writer.Add(std::move(ev));
      ev = cloudtrail::Event();
      if (full) {
        if (options_.stop != nullptr && options_.stop->load()) {
          return Cancelled("billing: load of {} assembly {} stopped; the next run resumes it",
                           r.group, r.assembly_id);
        }
        RETURN_IF_ERROR(writer.FlushSome());
      }
    }
    r.rows += row;
    r.unblended_total += conv.unblended_total();
    r.finalised |= conv.saw_invoice();
    ++r.files;
  }
  RETURN_IF_ERROR(writer.Finish());
  r.added = writer.added();
  RETURN_IF_ERROR(Publish(&r));
  log::Info(
      "billing: {} assembly {} loaded: {} rows from {} files ({} new), {} rows of the previous "
      "assembly replaced{}",
      r.group, r.assembly_id, r.rows, r.files, r.added, r.replaced_events,
      r.finalised ? "; the period is final (invoiced)" : "");
  return r;
}

Result<std::unique_ptr<SequentialFile>> Loader::OpenReportFile(const std::string& key,
                                                               ZipEntryInfo* zip_info) {
  if (key.ends_with(".zip")) {
    ASSIGN_OR_RETURN(auto file, source_->OpenRandom(key));
    return OpenZipEntry(std::move(file), source_->Describe(key), options_.zip_limits, zip_info);
  }
  ASSIGN_OR_RETURN(auto raw, source_->Open(key));
  auto peek = std::make_unique<PeekFile>(std::move(raw));
  ASSIGN_OR_RETURN(std::string_view head, peek->Peek());
  if (cloudtrail::LooksGzipped(head)) {
    return cloudtrail::NewGunzipFile(std::move(peek), source_->Describe(key), kMaxDecompressed);
  }
  return std::unique_ptr<SequentialFile>(std::move(peek));
}

Result<std::vector<AssemblyResult>> Loader::LoadDbr(const std::string& prefix,
                                                    const std::string& from_month,
                                                    const std::string& to_month) {
  // Only the top level under the prefix: a DBR is never in a folder of its own.
  const std::string base = prefix.empty() || prefix.back() == '/' ? prefix : prefix + "/";
  ASSIGN_OR_RETURN(auto keys, source_->List(base));
  std::vector<AssemblyResult> out;
  for (const DbrObject& o : ChooseDbrObjects(keys, base)) {
    const std::string month = o.month.substr(0, 4) + o.month.substr(5, 2);
    if (!from_month.empty() && month < from_month) continue;
    if (!to_month.empty() && month > to_month) continue;
    auto r = LoadDbrObject(o);
    if (!r.ok()) {
      if (r.status().code() == StatusCode::kCancelled) return r.status();
      log::Error("billing: {}: not loaded: {}", o.Group(), r.status().ToString());
      AssemblyResult failed;
      failed.group = o.Group();
      failed.period = o.month;
      failed.manifest_key = o.key;
      failed.error = r.status().ToString();
      out.push_back(std::move(failed));
      continue;
    }
    out.push_back(std::move(*r));
  }
  return out;
}

Result<AssemblyResult> Loader::LoadDbrObject(const DbrObject& o) {
  AssemblyResult r;
  r.group = o.Group();
  r.period = o.month;
  r.manifest_key = o.key;
  const std::string where = source_->Describe(o.key);
  // The archive's directory gives the version before any row is read.
  ZipEntryInfo zi;
  ASSIGN_OR_RETURN(auto in, OpenReportFile(o.key, &zi));
  r.assembly_id = fmt::format("{:08x}-{}", zi.crc, zi.size);
  auto groups = store_->Groups(options_.index);
  if (auto it = groups.find(r.group); it != groups.end() &&
                                      it->second.live_version == r.assembly_id &&
                                      it->second.staged_versions.empty()) {
    r.skipped = true;
    r.rows = it->second.live_events;
    log::Info("billing: {} version {} is already loaded ({} rows)", r.group, r.assembly_id, r.rows);
    return r;
  }
  const int64_t month_start_ms =
      DaysFromCivil(std::stoi(o.month.substr(0, 4)),
                    static_cast<unsigned>(std::stoi(o.month.substr(5, 2))), 1) *
      86'400'000;
  GroupWriter writer(store_, options_.index, store::CommitOptions{r.group, r.assembly_id},
                     options_.batch_rows);
  CsvReader csv(std::move(in), where);
  std::vector<std::string_view> fields;
  ASSIGN_OR_RETURN(bool has_header, csv.Next(&fields));
  if (!has_header) return InvalidArgument("{}: the report's CSV is empty (no header row)", where);
  TextArena arena;
  ASSIGN_OR_RETURN(DbrRowConverter conv,
                   DbrRowConverter::Make(fields, where, r.assembly_id, month_start_ms, &arena));
  uint64_t row = 0;
  cloudtrail::Event ev;
  while (true) {
    ASSIGN_OR_RETURN(bool more, csv.Next(&fields));
    if (!more) break;
    ++row;
    if (fields.size() == 1 && fields[0].empty()) continue;  // a blank line
    ASSIGN_OR_RETURN(bool charge, conv.Convert(fields, row, &ev));
    if (!charge) continue;
    ++r.rows;
    const bool full = writer.Add(std::move(ev));
    ev = cloudtrail::Event();
    if (full) {
      if (options_.stop != nullptr && options_.stop->load()) {
        return Cancelled("billing: load of {} version {} stopped; the next run resumes it", r.group,
                         r.assembly_id);
      }
      RETURN_IF_ERROR(writer.FlushSome());
    }
  }
  RETURN_IF_ERROR(writer.Finish());
  r.added = writer.added();
  r.files = 1;
  r.unblended_total = conv.unblended_total();
  r.summary_rows = conv.summary_rows();
  if (conv.statement_total()) r.statement_total = *conv.statement_total();
  r.finalised = conv.saw_invoice();
  RETURN_IF_ERROR(Publish(&r));
  log::Info(
      "billing: {} version {} loaded: {} charge rows ({} new, {} summary rows left out), {} rows "
      "of the previous version replaced{}",
      r.group, r.assembly_id, r.rows, r.added, r.summary_rows, r.replaced_events,
      r.finalised ? "; the month is final (invoiced)" : "");
  return r;
}

Status Loader::Publish(AssemblyResult* r) {
  ASSIGN_OR_RETURN(auto pub, store_->PublishGroup(options_.index, r->group, r->assembly_id));
  r->replaced_events = pub.dropped_events;
  return RecordInLedger(*r);
}

Status Loader::RecordInLedger(const AssemblyResult& r) {
  if (options_.ledger_path.empty()) return Status::Ok();
  FileSystem* fs = FileSystem::Default();
  // The ledger: one JSON object per line, the last line of a group wins.
  std::string line = "{\"group\":";
  AppendJsonString(&line, r.group);
  line += ",\"period\":";
  AppendJsonString(&line, r.period);
  line += ",\"assemblyId\":";
  AppendJsonString(&line, r.assembly_id);
  line += ",\"manifest\":";
  AppendJsonString(&line, r.manifest_key);
  line +=
      fmt::format(",\"rows\":{},\"unblendedCost\":{:.10g},\"finalised\":{},\"loadedAt\":\"{}\"}}\n",
                  r.rows, r.unblended_total, r.finalised ? "true" : "false",
                  FormatIso8601(Clock::System()->NowMicros() / 1000));
  RETURN_IF_ERROR(fs->CreateDirs(DirName(options_.ledger_path)));
  ASSIGN_OR_RETURN(auto f, fs->NewAppendableFile(options_.ledger_path));
  RETURN_IF_ERROR(f->Append(line));
  RETURN_IF_ERROR(f->Sync());
  return f->Close();
}

}  // namespace cairn::billing
