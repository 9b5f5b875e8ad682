#include "collect/backfill.h"

#include <fmt/format.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <mutex>
#include <set>
#include <thread>

#include "collect/ingest.h"
#include "collect/ledger.h"
#include "common/clock.h"
#include "common/fs.h"
#include "common/log.h"
#include "common/safe_path.h"
#include "common/thread_pool.h"
#include "common/time_util.h"
#include "store/store.h"

namespace cairn::collect {
namespace {

Result<std::vector<std::string>> ListPrefixes(aws::S3Client* s3, const std::string& bucket,
                                              const std::string& prefix) {
  std::vector<std::string> out;
  aws::ListObjectsRequest req;
  req.bucket = bucket;
  req.prefix = prefix;
  req.delimiter = "/";
  while (true) {
    ASSIGN_OR_RETURN(auto page, s3->ListObjectsV2(req));
    for (auto& p : page.common_prefixes) out.push_back(std::move(p));
    if (!page.truncated) break;
    req.continuation_token = page.next_continuation_token;
  }
  return out;
}

Result<std::vector<aws::S3Object>> ListAll(aws::S3Client* s3, const std::string& bucket,
                                           const std::string& prefix) {
  std::vector<aws::S3Object> out;
  aws::ListObjectsRequest req;
  req.bucket = bucket;
  req.prefix = prefix;
  while (true) {
    ASSIGN_OR_RETURN(auto page, s3->ListObjectsV2(req));
    for (auto& o : page.objects) out.push_back(std::move(o));
    if (!page.truncated) break;
    req.continuation_token = page.next_continuation_token;
  }
  return out;
}

// The last path element of a common prefix ("a/b/c/" -> "c").
std::string LastPart(const std::string& p) {
  std::string s = p;
  if (!s.empty() && s.back() == '/') s.pop_back();
  size_t slash = s.rfind('/');
  return slash == std::string::npos ? s : s.substr(slash + 1);
}

bool IsAccount(const std::string& s) {
  return s.size() == 12 &&
         std::all_of(s.begin(), s.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::string StripQuotes(std::string etag) {
  if (etag.size() >= 2 && etag.front() == '"' && etag.back() == '"')
    etag = etag.substr(1, etag.size() - 2);
  return etag;
}

}  // namespace

Status ParseS3Url(std::string_view url, std::string* bucket, std::string* prefix) {
  if (url.rfind("s3://", 0) != 0)
    return InvalidArgument("\"{}\" is not an s3://BUCKET[/PREFIX] URL", url);
  std::string_view rest = url.substr(5);
  size_t slash = rest.find('/');
  *bucket = std::string(rest.substr(0, slash));
  *prefix = slash == std::string_view::npos ? "" : std::string(rest.substr(slash + 1));
  while (!prefix->empty() && prefix->back() == '/') prefix->pop_back();
  if (prefix->size() >= 7 && prefix->substr(prefix->size() - 7) == "AWSLogs") {
    prefix->resize(prefix->size() - 7);
    while (!prefix->empty() && prefix->back() == '/') prefix->pop_back();
  }
  if (bucket->empty()) return InvalidArgument("\"{}\" names no bucket", url);
  return Status::Ok();
}

Result<BackfillSummary> RunBackfill(const BackfillOptions& options, aws::S3Client* s3,
                                    Metrics* metrics) {
  BackfillSummary sum;
  if (options.to_day < options.from_day) return InvalidArgument("--to is before --from");
  FileSystem* fs = options.fs;
  // The store first: its lock on the data folder covers the checkpoint, ledger and quarantine.
  store::StoreOptions so;
  so.data_dir = options.data_dir;
  so.wait_for_lock = options.wait_for_lock;
  so.fs = fs;
  ASSIGN_OR_RETURN(auto store, store::Store::Open(so));
  RETURN_IF_ERROR(fs->CreateDirs(JoinPath(options.data_dir, "backfill")));
  const std::string base = (options.prefix.empty() ? "" : options.prefix + "/") + "AWSLogs/";

  // Discover account prefixes ("AWSLogs/<acct>/" and "AWSLogs/o-xxx/<acct>/").
  std::vector<std::string> account_prefixes;
  ASSIGN_OR_RETURN(auto top, ListPrefixes(s3, options.bucket, base));
  for (const auto& p : top) {
    std::string part = LastPart(p);
    if (part.rfind("o-", 0) == 0) {
      ASSIGN_OR_RETURN(auto inner, ListPrefixes(s3, options.bucket, p));
      for (const auto& q : inner) {
        if (IsAccount(LastPart(q))) account_prefixes.push_back(q);
      }
    } else if (IsAccount(part)) {
      account_prefixes.push_back(p);
    }
  }
  if (!options.accounts.empty()) {
    std::erase_if(account_prefixes, [&](const std::string& p) {
      return std::find(options.accounts.begin(), options.accounts.end(), LastPart(p)) ==
             options.accounts.end();
    });
  }
  // Units: (account, region, day) prefixes.
  std::vector<std::string> units;
  for (const auto& ap : account_prefixes) {
    ASSIGN_OR_RETURN(auto regions, ListPrefixes(s3, options.bucket, ap + "CloudTrail/"));
    for (const auto& rp : regions) {
      std::string region = LastPart(rp);
      if (!options.regions.empty() && std::find(options.regions.begin(), options.regions.end(),
                                                region) == options.regions.end()) {
        continue;
      }
      for (int64_t d = options.from_day; d <= options.to_day; ++d) {
        int64_t y;
        unsigned m, day;
        CivilFromDays(d, &y, &m, &day);
        units.push_back(fmt::format("{}{:04}/{:02}/{:02}/", rp, y, m, day));
      }
    }
  }
  sum.units = units.size();

  // Checkpoint: units already finished by an earlier run with the same bucket, prefix and range.
  const std::string name =
      fmt::format("{}_{}_{}_{}", options.bucket, options.prefix, options.from_day, options.to_day);
  ASSIGN_OR_RETURN(const std::string checkpoint,
                   FileUnder(fs, JoinPath(options.data_dir, "backfill"), name, ".checkpoint"));
  std::set<std::string> done;
  if (auto text = ReadFileToString(fs, checkpoint); text.ok()) {
    size_t pos = 0;
    while (pos < text->size()) {
      size_t nl = text->find('\n', pos);
      if (nl == std::string::npos) break;  // torn last line: that unit is redone
      done.insert(text->substr(pos, nl - pos));
      pos = nl + 1;
    }
  }
  std::vector<std::string> todo;
  for (const auto& u : units) {
    if (done.count(u) > 0) {
      ++sum.units_resumed;
    } else {
      todo.push_back(u);
    }
  }
  ASSIGN_OR_RETURN(auto cp_out, fs->NewAppendableFile(checkpoint));
  std::mutex cp_mu;

  ASSIGN_OR_RETURN(auto ledger, Ledger::Open(fs, JoinPath(options.data_dir, "ledger.log")));
  GroupCommitter committer(store.get(), metrics);
  committer.SetRules(options.rules);
  committer.ReadStoredNeighbours();  // a stretch of the past: what earlier runs stored near it
  Quarantine quarantine(fs, JoinPath(options.data_dir, "quarantine"));
  IngestContext ctx;
  ctx.data_dir = options.data_dir;
  ctx.fs = fs;
  ctx.store = store.get();
  ctx.committer = &committer;
  ctx.ledger = ledger.get();
  ctx.metrics = metrics;
  ctx.max_file_bytes = options.max_file_bytes;
  ctx.how = "backfill";
  ObjectIngester ingester(ctx, options.input, s3);

  std::atomic<uint64_t> listed{0}, finished{0}, failed{0};
  std::atomic<uint64_t> units_done{sum.units_resumed};
  std::atomic<bool> progress_stop{false};
  const bool tty = options.progress && ::isatty(2);
  std::thread progress([&] {
    auto last_log = std::chrono::steady_clock::now();
    while (!progress_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(200));
      uint64_t l = listed.load(), f = finished.load();
      double frac = sum.units == 0 ? 1.0 : static_cast<double>(units_done.load()) / sum.units;
      int bar = static_cast<int>(frac * 30);
      std::string line =
          fmt::format("[{}{}] {}/{} days  {}/{} files  {} events", std::string(bar, '#'),
                      std::string(30 - bar, ' '), units_done.load(), sum.units, f, l,
                      metrics->events_stored.load());
      if (tty) {
        std::fprintf(stderr, "\r%s", line.c_str());
      } else if (options.progress &&
                 std::chrono::steady_clock::now() - last_log > std::chrono::seconds(10)) {
        last_log = std::chrono::steady_clock::now();
        log::Info("backfill: {}", line);
      }
    }
    if (tty) std::fprintf(stderr, "\n");
  });

  Status first_error;
  std::mutex err_mu;
  std::atomic<bool> halted{false};  // a local failure stopped the backfill
  {
    ThreadPool files(std::max(1, options.workers), options.workers * 4);
    ThreadPool listers(std::min<int>(4, std::max(1, options.workers)), 8);
    for (const auto& unit : todo) {
      listers.Submit([&, unit] {
        if ((options.stop != nullptr && options.stop->load()) || halted.load()) return;
        auto objects = ListAll(s3, options.bucket, unit);
        if (!objects.ok()) {
          std::lock_guard<std::mutex> lock(err_mu);
          if (first_error.ok()) first_error = objects.status();
          return;
        }
        listed += objects->size();
        std::mutex mu;
        std::condition_variable cv;
        size_t left = objects->size();
        bool unit_ok = true;
        for (const auto& o : *objects) {
          files.Submit([&, o] {
            if (halted.load()) {
              std::lock_guard<std::mutex> lock(mu);
              unit_ok = false;
              if (--left == 0) cv.notify_all();
              return;
            }
            ObjectRef ref{options.bucket, o.key, StripQuotes(o.etag), static_cast<int64_t>(o.size)};
            IngestResult r;
            for (int attempt = 1; attempt <= 4; ++attempt) {
              r = ingester.Ingest(ref);
              if (r.ok() || r.permanent()) break;
              std::this_thread::sleep_for(std::chrono::milliseconds(200 * attempt));
            }
            bool ok = true;
            if (!r.ok()) {
              metrics->files_failed++;
              if (r.local) {
                // This machine failed (store, ledger, disk): not the object's fault, so no
                // quarantine; stop the backfill with the error (the unit stays unfinished).
                ok = false;
                std::lock_guard<std::mutex> lock(err_mu);
                if (first_error.ok()) {
                  first_error = r.status.WithContext(fmt::format(
                      "s3://{}/{}: this machine failed to store it", ref.bucket, ref.key));
                  log::Error("backfill: stopping: {}", first_error.ToString());
                }
                halted = true;
              } else if (r.permanent() &&
                         quarantine.KeepFile(ref, r.status.ToString(), 1, nullptr).ok()) {
                metrics->files_quarantined++;
                failed++;
                log::Error("backfill: quarantined s3://{}/{}: {}", ref.bucket, ref.key,
                           r.status.ToString());
              } else {
                ok = false;
                log::Error("backfill: s3://{}/{}: {}", ref.bucket, ref.key, r.status.ToString());
              }
            }
            finished++;
            std::lock_guard<std::mutex> lock(mu);
            if (!ok) unit_ok = false;
            if (--left == 0) cv.notify_all();
          });
        }
        std::unique_lock<std::mutex> lock(mu);
        cv.wait(lock, [&] { return left == 0; });
        if (unit_ok && !halted.load() && !(options.stop != nullptr && options.stop->load())) {
          std::lock_guard<std::mutex> cl(cp_mu);
          // Best effort: a unit missing from the checkpoint is listed again by the next run,
          // whose ledger skips its objects.
          if (Status w = cp_out->Append(unit + "\n"); !w.ok()) {
            log::Warn("backfill: checkpoint: {}", w.ToString());
          }
          units_done++;
        }
      });
    }
    listers.Wait();
    files.Wait();
  }
  progress_stop = true;
  progress.join();
  if (Status f = committer.FlushCorrelations(); !f.ok() && first_error.ok()) first_error = f;
  if (Status c = cp_out->Close(); !c.ok()) log::Warn("backfill: checkpoint: {}", c.ToString());
  RETURN_IF_ERROR(store->Close());
  if (!first_error.ok()) return first_error;
  sum.objects_listed = listed.load();
  sum.files_ingested = metrics->files_ingested.load();
  sum.files_skipped = metrics->files_skipped.load();
  sum.files_failed = failed.load();
  sum.events_stored = metrics->events_stored.load();
  sum.events_duplicate = metrics->events_duplicate.load();
  return sum;
}

}  // namespace cairn::collect
