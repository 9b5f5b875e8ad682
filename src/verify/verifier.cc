#include "verify/verifier.h"

#include <fmt/format.h>

#include <algorithm>
#include <set>
#include <thread>
#include <tuple>
#include <unordered_map>

#include "common/clock.h"
#include "common/json_util.h"
#include "common/thread_pool.h"
#include "common/time_util.h"
#include "generate/generator.h"
#include "verify/digest.h"

namespace cairn::verify {
namespace {

// CloudTrail delivers a log file some minutes after the time in its name, so a file named shortly
// before the newest digest's end may belong to the next digest: such files are not called unlisted.
constexpr int64_t kDeliveryMarginMs = 15 * 60 * 1000;

struct Link {
  std::string newer_key;
  std::string object;
  std::string hash;
  std::optional<std::string> signature;
};

struct ListedDigest {
  std::string key;
  generate::KeyParts parts;
};

// Prefix, organisation, account, region (and trail name and home region for chains), as one
// comparable value.
using RegionKey = std::tuple<std::string, std::string, std::string, std::string>;
// Backfill digests chain among themselves, apart from the trail's regular digests.
using ChainKey =
    std::tuple<std::string, std::string, std::string, std::string, std::string, std::string, bool>;

RegionKey RegionOf(const generate::KeyParts& k) {
  return {k.prefix, k.organization_id, k.account, k.region};
}
ChainKey ChainOf(const generate::KeyParts& k) {
  return {k.prefix,     k.organization_id, k.account, k.region,
          k.trail_name, k.home_region,     k.backfill};
}
// A backfill digest whose previous digest is a regular one of the same trail (how CloudTrail
// links the first backfill digest is not documented): the regular chain checks that digest, so
// the backfill chain just ends there.
bool CrossesIntoTheRegularChain(const generate::KeyParts& from, const generate::KeyParts& to) {
  generate::KeyParts regular = from;
  regular.backfill = false;
  return from.backfill && !to.backfill && ChainOf(regular) == ChainOf(to);
}

bool EqualsIgnoreCase(std::string_view a, std::string_view b) {
  if (a.size() != b.size()) return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z') x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z') y = static_cast<char>(y - 'A' + 'a');
    if (x != y) return false;
  }
  return true;
}

// Sets a failure outcome unless a failure is already recorded; details accumulate.
void Fail(FileReport* r, Outcome o, const std::string& detail) {
  if (r->outcome == Outcome::kValid || r->outcome == Outcome::kNotVerified) r->outcome = o;
  if (!r->detail.empty()) r->detail += "; ";
  r->detail += detail;
}

class Walker {
 public:
  Walker(ObjectSource* source, const PublicKeySet& keys, const VerifyOptions& options,
         VerifyReport* report)
      : source_(source), keys_(keys), options_(options), report_(report) {}

  Status Run() {
    ASSIGN_OR_RETURN(auto objects, ListObjects());
    std::map<ChainKey, std::vector<ListedDigest>> chains;
    for (const auto& o : objects) {
      auto k = generate::ParseCloudTrailKey(o.key);
      if (!k || k->prefix != options_.prefix) continue;
      if (!Wanted(options_.accounts, k->account) || !Wanted(options_.regions, k->region)) continue;
      if (k->kind == generate::KeyKind::kDigest) {
        if (!options_.trail.empty() && k->trail_name != options_.trail) continue;
        chains[ChainOf(*k)].push_back({o.key, *k});
      } else if (k->kind == generate::KeyKind::kLog) {
        logs_.emplace(o.key, *k);
      }
    }
    for (auto& [chain, digests] : chains) {
      std::sort(digests.begin(), digests.end(), [](const ListedDigest& a, const ListedDigest& b) {
        return std::tie(a.parts.file_time_ms, a.key) > std::tie(b.parts.file_time_ms, b.key);
      });
      std::erase_if(digests, [&](const ListedDigest& d) { return !InRange(d.parts.file_time_ms); });
      WalkChain(digests);
    }
    CheckPendingLogFiles();
    ReportUnlisted();
    std::sort(report_->log_files.begin(), report_->log_files.end(),
              [](const FileReport& a, const FileReport& b) { return a.key < b.key; });
    return Status::Ok();
  }

 private:
  // Every key under the prefix's AWSLogs/, or with --earliest only the date folders of the range
  // (a day before it for log files delivered into its first digest, a day after it for the digest
  // of its last hour): a few listings per account, region and day instead of the whole bucket.
  Result<std::vector<ObjectInfo>> ListObjects() {
    constexpr int64_t kDayMs = 86'400'000;
    const std::string base = options_.prefix + "AWSLogs/";
    if (!options_.earliest_ms) return source_->List(base);
    const int64_t latest = options_.latest_ms.value_or(Clock::System()->NowMicros() / 1000);
    const int64_t first_day = *options_.earliest_ms / kDayMs - 1;
    const int64_t last_day = latest / kDayMs + 1;
    if (last_day - first_day > kMaxDayListings) return source_->List(base);
    std::vector<std::string> accounts;  // "AWSLogs/[o-id/]acct/"
    ASSIGN_OR_RETURN(auto top, source_->ListFolders(base));
    for (const std::string& name : top) {
      if (name.starts_with("o-")) {
        ASSIGN_OR_RETURN(auto members, source_->ListFolders(base + name + "/"));
        for (const auto& m : members) {
          if (Wanted(options_.accounts, m)) accounts.push_back(base + name + "/" + m + "/");
        }
      } else if (Wanted(options_.accounts, name)) {
        accounts.push_back(base + name + "/");
      }
    }
    std::vector<ObjectInfo> out;
    for (const std::string& account : accounts) {
      for (const char* kind : {"CloudTrail-Digest/", "CloudTrail/"}) {
        ASSIGN_OR_RETURN(auto regions, source_->ListFolders(account + kind));
        for (const std::string& region : regions) {
          if (!Wanted(options_.regions, region)) continue;
          for (int64_t day = first_day; day <= last_day; ++day) {
            int64_t y;
            unsigned m, d;
            CivilFromDays(day, &y, &m, &d);
            ASSIGN_OR_RETURN(auto objects,
                             source_->List(fmt::format("{}{}{}/{:04}/{:02}/{:02}/", account, kind,
                                                       region, y, m, d)));
            for (auto& o : objects) out.push_back(std::move(o));
          }
        }
      }
    }
    return out;
  }
  // Beyond this many days, one listing of everything is cheaper than a listing per day.
  static constexpr int64_t kMaxDayListings = 400;

  static bool Wanted(const std::vector<std::string>& filter, const std::string& v) {
    return filter.empty() || std::find(filter.begin(), filter.end(), v) != filter.end();
  }
  bool InRange(int64_t t) const {
    return (!options_.earliest_ms || t >= *options_.earliest_ms) &&
           (!options_.latest_ms || t <= *options_.latest_ms);
  }

  // Newest first: each digest's link names the one before it.
  void WalkChain(const std::vector<ListedDigest>& digests) {
    std::optional<Link> expected;
    size_t newer_index = 0;  // the report entry of the digest `expected` came from
    for (const ListedDigest& d : digests) {
      if (expected && expected->object != d.key) {
        auto target = generate::ParseCloudTrailKey(expected->object);
        if (target && CrossesIntoTheRegularChain(d.parts, *target)) {
          expected.reset();
        } else if (!target || ChainOf(*target) != ChainOf(d.parts)) {
          Fail(&report_->digests[newer_index], Outcome::kChainGap,
               fmt::format("previousDigestS3Object {} is not a digest of this trail's chain",
                           expected->object));
          expected.reset();
        } else if (std::tie(target->file_time_ms, expected->object) >
                   std::tie(d.parts.file_time_ms, d.key)) {
          // The digest the newer one links to is not here (it would sort before this one).
          ReportMissing(*expected, newer_index, *target);
          expected.reset();
        } else {
          // This digest lies between the newer one and the digest it links to.
          FileReport orphan = CheckDigest(d, std::nullopt).first;
          Fail(&orphan, Outcome::kChainGap,
               fmt::format("no later digest links to it ({} links to {})", expected->newer_key,
                           expected->object));
          report_->digests.push_back(std::move(orphan));
          continue;
        }
      }
      auto [r, link] = CheckDigest(d, expected);
      report_->digests.push_back(std::move(r));
      newer_index = report_->digests.size() - 1;
      expected = std::move(link);
    }
    if (expected) {
      auto target = generate::ParseCloudTrailKey(expected->object);
      if (target && !digests.empty() &&
          CrossesIntoTheRegularChain(digests.front().parts, *target)) {
        // Ends in the regular chain, which checks that digest.
      } else if (!target ||
                 (digests.size() > 0 && ChainOf(*target) != ChainOf(digests.front().parts))) {
        Fail(&report_->digests[newer_index], Outcome::kChainGap,
             fmt::format("previousDigestS3Object {} is not a digest of this trail's chain",
                         expected->object));
      } else if (InRange(target->file_time_ms)) {
        ReportMissing(*expected, newer_index, *target);
      }
    }
  }

  void ReportMissing(const Link& link, size_t newer_index, const generate::KeyParts& target) {
    Fail(&report_->digests[newer_index], Outcome::kChainGap,
         fmt::format("its previous digest {} is missing", link.object));
    FileReport m;
    m.key = link.object;
    m.account = target.account;
    m.region = target.region;
    m.trail = target.trail_name;
    m.backfill = target.backfill;
    m.time_ms = target.file_time_ms;
    m.outcome = Outcome::kMissing;
    m.detail = fmt::format("not found; {} links to it", link.newer_key);
    report_->digests.push_back(std::move(m));
  }

  // Checks one digest and its log files; returns its report and its link to the previous one.
  std::pair<FileReport, std::optional<Link>> CheckDigest(const ListedDigest& d,
                                                         const std::optional<Link>& expected) {
    FileReport r;
    r.key = d.key;
    r.account = d.parts.account;
    r.region = d.parts.region;
    r.trail = d.parts.trail_name;
    r.backfill = d.parts.backfill;
    r.time_ms = d.parts.file_time_ms;
    auto bytes = source_->Read(d.key);
    if (!bytes.ok()) {
      r.outcome = Outcome::kNotVerified;
      r.detail = bytes.status().ToString();
      return {r, std::nullopt};
    }
    auto json = GunzipOneMember(*bytes, d.key);
    if (!json.ok()) {
      Fail(&r, Outcome::kInvalidFormat, json.status().message());
      return {r, std::nullopt};
    }
    auto parsed = ParseDigest(*json, d.key);
    if (!parsed.ok()) {
      Fail(&r, Outcome::kInvalidFormat, parsed.status().message());
      return {r, std::nullopt};
    }
    const Digest& digest = *parsed;
    if (digest.digest_s3_object != d.key) {
      Fail(&r, Outcome::kInvalidFormat,
           fmt::format("digestS3Object is {}, not the key it was read from",
                       digest.digest_s3_object));
    }
    if (!source_->bucket().empty() && digest.digest_s3_bucket != source_->bucket()) {
      Fail(&r, Outcome::kInvalidFormat,
           fmt::format("digestS3Bucket is {}, not {}", digest.digest_s3_bucket, source_->bucket()));
    }
    if (digest.aws_account_id != d.parts.account) {
      Fail(&r, Outcome::kInvalidFormat,
           fmt::format("awsAccountId is {}, the key names {}", digest.aws_account_id,
                       d.parts.account));
    }
    const std::string hash = Sha256Hex(*json);
    CheckSignature(d, digest, *json, expected, &r);
    if (expected) {
      if (!EqualsIgnoreCase(expected->hash, hash)) {
        Fail(&r, Outcome::kChainGap,
             fmt::format("its SHA-256 {} is not the previousDigestHashValue {} of {}", hash,
                         expected->hash, expected->newer_key));
      }
    }
    UpdateWindow(d.parts, digest);
    CheckLogFiles(d.key, digest);
    std::optional<Link> link;
    if (digest.previous_digest_s3_object) {
      link = Link{d.key, *digest.previous_digest_s3_object, *digest.previous_digest_hash_value,
                  digest.previous_digest_signature};
    }
    return {r, link};
  }

  void CheckSignature(const ListedDigest& d, const Digest& digest, const std::string& json,
                      const std::optional<Link>& expected, FileReport* r) {
    auto meta = source_->ReadSignature(d.key);
    if (!meta.ok()) {
      Fail(r, Outcome::kNotVerified, meta.status().ToString());
      return;
    }
    std::optional<std::string> signature = *meta;
    const bool recorded = expected && expected->signature;
    // Without metadata, the newer digest's record of this one's signature is the one to check.
    if (!signature && recorded) signature = expected->signature;
    if (!signature) {
      Fail(r, Outcome::kUnsigned, "no signature metadata");
      return;
    }
    auto raw = HexDecode(*signature);
    if (!raw) {
      Fail(r, Outcome::kInvalidSignature, "signature is not hex");
    } else {
      auto key = keys_.find(digest.digest_public_key_fingerprint);
      if (key == keys_.end() && options_.fetch_public_keys &&
          fetched_keys_.insert(d.parts.home_region).second) {
        auto fetched = options_.fetch_public_keys(d.parts.home_region);
        if (fetched.ok()) {
          keys_.merge(*fetched);
        } else {
          report_->notes.push_back("public keys could not be fetched: " +
                                   fetched.status().ToString());
        }
        key = keys_.find(digest.digest_public_key_fingerprint);
      }
      if (key == keys_.end()) {
        // Only "not verified" when nothing else failed: Fail keeps an earlier failure.
        Fail(
            r, Outcome::kNotVerified,
            fmt::format("no public key with fingerprint {}", digest.digest_public_key_fingerprint));
      } else if (!VerifySha256WithRsa(key->second, StringToSign(digest, json), *raw)) {
        Fail(r, Outcome::kInvalidSignature,
             fmt::format("signature does not verify under key {}",
                         digest.digest_public_key_fingerprint));
      }
    }
    if (recorded && !EqualsIgnoreCase(*signature, *expected->signature)) {
      Fail(r, Outcome::kChainGap,
           fmt::format("its signature is not the previousDigestSignature of {}",
                       expected->newer_key));
    }
  }

  void UpdateWindow(const generate::KeyParts& parts, const Digest& digest) {
    auto& w = windows_[RegionOf(parts)];
    if (!w.first || digest.digest_start_ms < *w.first) w.first = digest.digest_start_ms;
    if (!w.second || digest.digest_end_ms > *w.second) w.second = digest.digest_end_ms;
    if (!report_->first_digest_start_ms ||
        digest.digest_start_ms < *report_->first_digest_start_ms) {
      report_->first_digest_start_ms = digest.digest_start_ms;
    }
    if (!report_->last_digest_end_ms || digest.digest_end_ms > *report_->last_digest_end_ms) {
      report_->last_digest_end_ms = digest.digest_end_ms;
    }
  }

  void CheckLogFiles(const std::string& digest_key, const Digest& digest) {
    for (const DigestLogFile& lf : digest.log_files) {
      if (!checked_logs_.insert(lf.s3_object).second) continue;
      FileReport r;
      r.key = lf.s3_object;
      r.digest = digest_key;
      auto k = generate::ParseCloudTrailKey(lf.s3_object);
      if (k) {
        r.account = k->account;
        r.region = k->region;
        r.time_ms = k->file_time_ms;
      }
      if (!source_->bucket().empty() && lf.s3_bucket != source_->bucket()) {
        r.outcome = Outcome::kNotVerified;
        r.detail = fmt::format("in bucket {}, not the one verified", lf.s3_bucket);
      } else {
        pending_.emplace_back(report_->log_files.size(), lf);
      }
      report_->log_files.push_back(std::move(r));
    }
  }

  // The listed log files' hashes, on `options_.threads` threads: most of verify's time.
  void CheckPendingLogFiles() {
    size_t threads = options_.threads > 0 ? static_cast<size_t>(options_.threads)
                                          : std::max(1u, std::thread::hardware_concurrency());
    threads = std::min(threads, std::max<size_t>(1, pending_.size()));
    if (threads <= 1) {
      for (const auto& [index, lf] : pending_) CheckLogFile(lf, &report_->log_files[index]);
      return;
    }
    ThreadPool pool(threads, threads * 2);
    for (const auto& [index, lf] : pending_) {
      FileReport* r = &report_->log_files[index];
      const DigestLogFile* file = &lf;
      pool.Submit([this, file, r] { CheckLogFile(*file, r); });
    }
    pool.Wait();
  }

  void CheckLogFile(const DigestLogFile& lf, FileReport* r) {
    auto bytes = source_->Read(lf.s3_object);
    if (!bytes.ok()) {
      if (bytes.status().code() == StatusCode::kNotFound) {
        Fail(r, Outcome::kMissing, "not found");
      } else {
        Fail(r, Outcome::kNotVerified, bytes.status().ToString());
      }
      return;
    }
    Sha256 sha;
    Status st = GunzipOneMemberTo(*bytes, lf.s3_object, [&](std::string_view chunk) {
      sha.Update(chunk);
      return Status::Ok();
    });
    if (!st.ok()) {
      Fail(r, Outcome::kInvalidFormat, st.message());
      return;
    }
    const std::string hash = sha.FinishHex();
    if (!EqualsIgnoreCase(hash, lf.hash_value)) {
      Fail(r, Outcome::kModified,
           fmt::format("SHA-256 {} is not the hashValue {} its digest records", hash,
                       lf.hash_value));
    }
  }

  void ReportUnlisted() {
    for (const auto& [key, parts] : logs_) {
      if (checked_logs_.count(key) != 0) continue;
      auto w = windows_.find(RegionOf(parts));
      if (w == windows_.end() || !w->second.first) continue;
      if (parts.file_time_ms < *w->second.first ||
          parts.file_time_ms > *w->second.second - kDeliveryMarginMs) {
        continue;
      }
      FileReport r;
      r.key = key;
      r.account = parts.account;
      r.region = parts.region;
      r.time_ms = parts.file_time_ms;
      r.outcome = Outcome::kUnlisted;
      r.detail = "present but listed in no digest";
      report_->log_files.push_back(std::move(r));
    }
  }

  ObjectSource* source_;
  PublicKeySet keys_;
  std::set<std::string> fetched_keys_;  // home regions asked already
  const VerifyOptions& options_;
  VerifyReport* report_;
  std::map<std::string, generate::KeyParts> logs_;
  std::set<std::string> checked_logs_;
  std::vector<std::pair<size_t, DigestLogFile>> pending_;  // log_files index, what to check
  std::map<RegionKey, std::pair<std::optional<int64_t>, std::optional<int64_t>>> windows_;
};

}  // namespace

const char* OutcomeName(Outcome o) {
  switch (o) {
    case Outcome::kValid: return "valid";
    case Outcome::kModified: return "modified";
    case Outcome::kMissing: return "missing";
    case Outcome::kInvalidSignature: return "invalid_signature";
    case Outcome::kUnsigned: return "unsigned";
    case Outcome::kChainGap: return "chain_gap";
    case Outcome::kInvalidFormat: return "invalid_format";
    case Outcome::kUnlisted: return "unlisted";
    case Outcome::kNotVerified: return "not_verified";
  }
  return "?";
}

bool IsIntegrityFailure(Outcome o) { return o != Outcome::kValid && o != Outcome::kNotVerified; }

size_t VerifyReport::Count(const std::vector<FileReport>& v, Outcome o) const {
  return static_cast<size_t>(
      std::count_if(v.begin(), v.end(), [o](const FileReport& r) { return r.outcome == o; }));
}

int VerifyReport::ExitCode() const {
  bool not_verified = digests.empty();
  for (const auto* list : {&digests, &log_files}) {
    for (const auto& r : *list) {
      if (IsIntegrityFailure(r.outcome)) return 1;
      if (r.outcome == Outcome::kNotVerified) not_verified = true;
    }
  }
  return not_verified ? 2 : 0;
}

Result<PublicKeySet> LoadPublicKeyDir(FileSystem* fs, const std::string& dir) {
  ASSIGN_OR_RETURN(auto entries, fs->ListDir(dir));
  PublicKeySet keys;
  for (const auto& e : entries) {
    if (e.is_dir || !e.name.ends_with(".der")) continue;
    const std::string path = JoinPath(dir, e.name);
    ASSIGN_OR_RETURN(std::string der, ReadFileToString(fs, path, 1 << 20));
    ASSIGN_OR_RETURN(PublicKey key, ParsePublicKeyDer(der, path));
    // Also under the file's name: a cached key is saved under the fingerprint CloudTrail reports.
    const std::string stem = e.name.substr(0, e.name.size() - 4);
    if (stem != key.fingerprint) keys.emplace(stem, key);
    keys.emplace(key.fingerprint, std::move(key));
  }
  return keys;
}

Result<VerifyReport> Verify(ObjectSource* source, const PublicKeySet& keys,
                            const VerifyOptions& options) {
  VerifyReport report;
  Walker w(source, keys, options, &report);
  RETURN_IF_ERROR(w.Run());
  if (source->bucket().empty()) {
    report.notes.push_back(
        "the bucket's name was not given: digestS3Bucket and the log files' s3Bucket were not "
        "checked");
  }
  if (keys.empty() && !options.fetch_public_keys) {
    report.notes.push_back("no public keys were given: no signature was checked");
  }
  return report;
}

namespace {

std::string CountLine(const VerifyReport& r, const std::vector<FileReport>& v, const char* what) {
  const size_t total = v.size();
  size_t valid = r.Count(v, Outcome::kValid);
  size_t not_verified = r.Count(v, Outcome::kNotVerified);
  size_t invalid = total - valid - not_verified;
  std::string line = fmt::format("{}/{} {} valid", valid, total, what);
  if (invalid > 0) line += fmt::format(", {}/{} {} INVALID", invalid, total, what);
  if (not_verified > 0) line += fmt::format(", {}/{} {} not verified", not_verified, total, what);
  line += "\n";
  for (Outcome o :
       {Outcome::kModified, Outcome::kMissing, Outcome::kInvalidSignature, Outcome::kUnsigned,
        Outcome::kChainGap, Outcome::kInvalidFormat, Outcome::kUnlisted}) {
    size_t n = r.Count(v, o);
    if (n > 0) line += fmt::format("  {} {}\n", n, OutcomeName(o));
  }
  return line;
}

std::string RangeText(const std::optional<int64_t>& t, const char* open) {
  return t ? FormatIso8601(*t) : std::string(open);
}

}  // namespace

std::string FormatReportText(const VerifyReport& r, const VerifyOptions& options, bool all) {
  // The bucket is not part of the report; the keys say where each file is.
  std::string out;
  auto line = [&](const char* kind, const FileReport& f) {
    if (!all && f.outcome == Outcome::kValid) return;
    if (f.outcome == Outcome::kValid) {
      out += fmt::format("{}\t{}\tvalid\n", kind, f.key);
    } else if (f.outcome == Outcome::kNotVerified) {
      out += fmt::format("{}\t{}\tNOT VERIFIED: {}\n", kind, f.key, f.detail);
    } else {
      out +=
          fmt::format("{}\t{}\tINVALID ({}): {}\n", kind, f.key, OutcomeName(f.outcome), f.detail);
    }
  };
  for (const auto& d : r.digests) line(d.backfill ? "(backfill) Digest file" : "Digest file", d);
  for (const auto& l : r.log_files) line("Log file", l);
  if (!out.empty()) out += "\n";
  out += fmt::format("Results requested for {} to {}\n",
                     RangeText(options.earliest_ms, "the first digest"),
                     RangeText(options.latest_ms, "the last digest"));
  if (r.first_digest_start_ms) {
    out += fmt::format("Results found for {} to {}:\n", FormatIso8601(*r.first_digest_start_ms),
                       FormatIso8601(*r.last_digest_end_ms));
  } else {
    out += "No digest files were found\n";
  }
  out += "\n";
  // Backfill digests counted apart, as validate-logs does.
  std::vector<FileReport> regular, backfill;
  for (const auto& d : r.digests) (d.backfill ? backfill : regular).push_back(d);
  out += CountLine(r, regular, "digest files");
  if (!backfill.empty()) out += CountLine(r, backfill, "backfill digest files");
  out += CountLine(r, r.log_files, "log files");
  for (const auto& n : r.notes) out += "note: " + n + "\n";
  return out;
}

std::string FormatReportJson(const VerifyReport& r, const VerifyOptions& options) {
  std::string out = "{\"requested\":{\"earliest\":";
  auto time = [&](const std::optional<int64_t>& t) {
    if (t) {
      AppendJsonString(&out, FormatIso8601(*t));
    } else {
      out += "null";
    }
  };
  time(options.earliest_ms);
  out += ",\"latest\":";
  time(options.latest_ms);
  out += "},\"found\":{\"earliest\":";
  time(r.first_digest_start_ms);
  out += ",\"latest\":";
  time(r.last_digest_end_ms);
  out += "},\"summary\":{";
  auto counts = [&](const char* name, const std::vector<FileReport>& v) {
    out += fmt::format("\"{}\":{{\"total\":{}", name, v.size());
    for (Outcome o : {Outcome::kValid, Outcome::kModified, Outcome::kMissing,
                      Outcome::kInvalidSignature, Outcome::kUnsigned, Outcome::kChainGap,
                      Outcome::kInvalidFormat, Outcome::kUnlisted, Outcome::kNotVerified}) {
      out += fmt::format(",\"{}\":{}", OutcomeName(o), r.Count(v, o));
    }
    out += "}";
  };
  counts("digests", r.digests);
  out += ",";
  counts("log_files", r.log_files);
  out += fmt::format("}},\"exit_code\":{}", r.ExitCode());
  auto files = [&](const char* name, const std::vector<FileReport>& v, bool digest) {
    out += fmt::format(",\"{}\":[", name);
    for (size_t i = 0; i < v.size(); ++i) {
      const FileReport& f = v[i];
      if (i > 0) out += ",";
      out += "{\"key\":";
      AppendJsonString(&out, f.key);
      out += ",\"account\":";
      AppendJsonString(&out, f.account);
      out += ",\"region\":";
      AppendJsonString(&out, f.region);
      if (digest) {
        out += ",\"trail\":";
        AppendJsonString(&out, f.trail);
        if (f.backfill) out += ",\"backfill\":true";
      } else {
        out += ",\"digest\":";
        AppendJsonString(&out, f.digest);
      }
      out += ",\"outcome\":";
      AppendJsonString(&out, OutcomeName(f.outcome));
      out += ",\"detail\":";
      AppendJsonString(&out, f.detail);
      out += "}";
    }
    out += "]";
  };
  files("digests", r.digests, true);
  files("log_files", r.log_files, false);
  out += ",\"notes\":[";
  for (size_t i = 0; i < r.notes.size(); ++i) {
    if (i > 0) out += ",";
    AppendJsonString(&out, r.notes[i]);
  }
  out += "]}\n";
  return out;
}

}  // namespace cairn::verify
