#include "collect/integrity.h"

#include <fmt/format.h>
#include <simdjson.h>

#include <map>
#include <optional>
#include <set>
#include <tuple>

#include "common/hex.h"
#include "common/json_util.h"
#include "common/log.h"
#include "common/safe_path.h"
#include "common/time_util.h"
#include "generate/generator.h"
#include "verify/crypto.h"
#include "verify/digest.h"

namespace cairn::collect {
namespace {

struct SavedMeta {
  std::string signature;  // hex; empty when the object had none
  std::string sha256;     // hex of the decoded bytes; empty when unknown
};

std::optional<SavedMeta> ReadMeta(FileSystem* fs, const std::string& path) {
  auto text = ReadFileToString(fs, path + std::string(kDigestMetaSuffix));
  if (!text.ok()) return std::nullopt;
  simdjson::dom::parser parser;
  simdjson::dom::element root;
  if (parser.parse(*text).get(root) != simdjson::SUCCESS) return std::nullopt;
  SavedMeta meta;
  std::string_view s;
  if (root["signature"].get(s) == simdjson::SUCCESS) meta.signature = std::string(s);
  if (root["sha256"].get(s) == simdjson::SUCCESS) meta.sha256 = std::string(s);
  return meta;
}

// Every saved digest below `dir` (not the sidecars), as paths.
Status Walk(FileSystem* fs, const std::string& dir, std::vector<std::string>* out, int depth = 0) {
  if (depth > 16) return Status::Ok();
  ASSIGN_OR_RETURN(auto entries, fs->ListDir(dir));
  for (const auto& e : entries) {
    std::string path = JoinPath(dir, e.name);
    if (e.is_dir) {
      RETURN_IF_ERROR(Walk(fs, path, out, depth + 1));
    } else if (e.name.ends_with(".json") && e.name.find("CloudTrail-Digest") != std::string::npos) {
      out->push_back(std::move(path));
    }
  }
  return Status::Ok();
}

std::string StripGz(std::string key) {
  if (key.ends_with(".gz")) key.resize(key.size() - 3);
  return key;
}

class Checker {
 public:
  Checker(const IntegrityOptions& options, Ledger* ledger, int64_t now_ms)
      : o_(options), ledger_(ledger), now_(now_ms), keys_(options.keys) {}

  Result<IntegrityReport> Run() {
    const std::string root = JoinPath(o_.data_dir, "digests");
    // <root>/<bucket>/<key without .gz>: the key's layout names account, region and trail.
    std::vector<std::pair<std::string, std::string>> digests;  // path, key
    if (o_.fs->Exists(root)) {
      ASSIGN_OR_RETURN(auto buckets, o_.fs->ListDir(root));
      for (const auto& b : buckets) {
        if (!b.is_dir) continue;
        const std::string bucket_dir = JoinPath(root, b.name);
        std::vector<std::string> paths;
        RETURN_IF_ERROR(Walk(o_.fs, bucket_dir, &paths));
        for (auto& p : paths) {
          std::string key = p.substr(bucket_dir.size() + 1);
          digests.emplace_back(std::move(p), std::move(key));
        }
      }
    }
    // The newest digest per (account, region, trail), for digest_late.
    std::map<std::tuple<std::string, std::string, std::string>, int64_t> newest;
    for (const auto& [path, key] : digests) {
      auto parts = generate::ParseCloudTrailKey(key);
      if (!parts || parts->kind != generate::KeyKind::kDigest) continue;
      // A backfill digest is checked like any other, but it says nothing of whether the hourly
      // digests keep coming.
      if (!parts->backfill) {
        auto& n = newest[{parts->account, parts->region, parts->trail_name}];
        n = std::max(n, parts->file_time_ms);
      }
      if (parts->file_time_ms < now_ - o_.lookback_ms) continue;
      CheckDigest(path, *parts);
    }
    for (const auto& [who, time_ms] : newest) {
      const auto& [account, region, trail] = who;
      if (now_ - time_ms <= o_.late_ms) continue;
      Find("digest_late", fmt::format("{}/{}/{}@{}", account, region, trail, time_ms),
           fmt::format("no digest for trail {} in {} since {} ({} h)", trail, region,
                       FormatIso8601(time_ms), (now_ - time_ms) / 3600000),
           account, region, time_ms);
    }
    return std::move(report_);
  }

 private:
  void Find(std::string check, std::string key, std::string detail, const std::string& account,
            const std::string& region, int64_t time_ms) {
    report_.findings.push_back(IntegrityFinding{std::move(check), std::move(key), std::move(detail),
                                                account, region, time_ms});
  }

  const verify::PublicKey* KeyFor(const std::string& fingerprint, const std::string& home_region) {
    auto it = keys_.find(fingerprint);
    if (it != keys_.end()) return &it->second;
    if (!o_.fetch_public_keys || !fetched_.insert(home_region).second) return nullptr;
    auto got = o_.fetch_public_keys(home_region);
    if (!got.ok()) {
      log::Warn("integrity: public keys of {} could not be fetched: {}", home_region,
                got.status().ToString());
      return nullptr;
    }
    for (auto& [fp, key] : *got) keys_.emplace(fp, std::move(key));
    it = keys_.find(fingerprint);
    return it == keys_.end() ? nullptr : &it->second;
  }

  void CheckDigest(const std::string& path, const generate::KeyParts& name) {
    ++report_.digests;
    const std::string where = path.substr(o_.data_dir.size());
    auto json = ReadFileToString(o_.fs, path);
    auto meta = ReadMeta(o_.fs, path);
    if (!json.ok()) {
      Find("digest_invalid", where, json.status().ToString(), name.account, name.region,
           name.file_time_ms);
      return;
    }
    auto digest = verify::ParseDigest(*json, where);
    if (!digest.ok()) {
      Find("digest_invalid", where, digest.status().message(), name.account, name.region,
           name.file_time_ms);
      return;
    }
    const verify::Digest& d = *digest;
    const std::string self = d.digest_s3_bucket + "/" + d.digest_s3_object;
    const bool overdue = now_ > d.digest_end_ms + o_.grace_ms;

    // Signature: over the digest's end time, its location, the hash of its bytes and the
    // previous signature.
    if (!meta || meta->signature.empty()) {
      Find("digest_unsigned", self, "the digest object carried no signature", name.account,
           name.region, d.digest_end_ms);
    } else if (const verify::PublicKey* key =
                   KeyFor(d.digest_public_key_fingerprint, name.home_region)) {
      auto raw = HexDecode(meta->signature);
      const std::string sha = !meta->sha256.empty() ? meta->sha256 : verify::Sha256Hex(*json);
      if (!raw || !verify::VerifySha256WithRsa(*key, verify::StringToSignFromHash(d, sha), *raw)) {
        Find("digest_signature", self,
             fmt::format("the signature does not verify under the public key {}",
                         d.digest_public_key_fingerprint),
             name.account, name.region, d.digest_end_ms);
      }
    } else {
      ++report_.unverified;
    }

    // The chain: the previous digest must be here, with the hash and signature this one records.
    if (d.previous_digest_s3_object && d.previous_digest_s3_bucket) {
      const std::string prev_name =
          *d.previous_digest_s3_bucket + "/" + StripGz(*d.previous_digest_s3_object);
      auto prev_path = PathUnder(o_.fs, JoinPath(o_.data_dir, "digests"), prev_name);
      auto prev_when = generate::ParseCloudTrailKey(*d.previous_digest_s3_object);
      const bool prev_in_window = !prev_when || prev_when->file_time_ms >= now_ - o_.lookback_ms;
      if (!prev_path.ok() || !o_.fs->Exists(*prev_path)) {
        if (overdue && prev_in_window) {
          Find("chain_gap", self,
               fmt::format("the previous digest {} was never collected", prev_name), name.account,
               name.region, d.digest_end_ms);
        }
      } else {
        auto prev_meta = ReadMeta(o_.fs, *prev_path);
        std::string prev_sha = prev_meta ? prev_meta->sha256 : "";
        if (prev_sha.empty()) {
          if (auto prev_json = ReadFileToString(o_.fs, *prev_path); prev_json.ok()) {
            prev_sha = verify::Sha256Hex(*prev_json);
          }
        }
        if (d.previous_digest_hash_value && prev_sha != *d.previous_digest_hash_value) {
          Find("chain_gap", self,
               fmt::format("the previous digest {} has SHA-256 {}, not the {} recorded here",
                           prev_name, prev_sha, *d.previous_digest_hash_value),
               name.account, name.region, d.digest_end_ms);
        } else if (d.previous_digest_signature && prev_meta && !prev_meta->signature.empty() &&
                   prev_meta->signature != *d.previous_digest_signature) {
          Find("chain_gap", self,
               fmt::format("the previous digest {} has another signature than recorded here",
                           prev_name),
               name.account, name.region, d.digest_end_ms);
        }
      }
    }

    // Every listed log file: collected, with the listed hash.
    for (const verify::DigestLogFile& f : d.log_files) {
      const std::string file = f.s3_bucket + "/" + f.s3_object;
      if (auto sha = ledger_->FindSha256(f.s3_bucket, f.s3_object)) {
        if (*sha == f.hash_value) {
          ++report_.files_matched;
        } else {
          Find("log_modified", file,
               fmt::format("collected with SHA-256 {}, but digest {} lists {}", *sha, self,
                           f.hash_value),
               name.account, name.region, d.digest_end_ms);
        }
      } else if (ledger_->Contains(f.s3_bucket, f.s3_object, "")) {
        ++report_.files_unhashed;
      } else if (overdue) {
        Find("log_missing", file,
             fmt::format("listed by digest {} but not collected within {} min of its end", self,
                         o_.grace_ms / 60000),
             name.account, name.region, d.digest_end_ms);
      } else {
        ++report_.files_pending;
      }
    }
  }

  const IntegrityOptions& o_;
  Ledger* ledger_;
  int64_t now_;
  verify::PublicKeySet keys_;
  std::set<std::string> fetched_;
  IntegrityReport report_;
};

std::string_view TitleOf(std::string_view check) {
  if (check == "log_modified") return "CloudTrail log file modified after delivery";
  if (check == "log_missing") return "CloudTrail log file listed in a digest was never delivered";
  if (check == "digest_signature") return "CloudTrail digest signature does not verify";
  if (check == "digest_unsigned") return "CloudTrail digest without a signature";
  if (check == "digest_invalid") return "CloudTrail digest file is not a valid digest";
  if (check == "chain_gap") return "CloudTrail digest chain broken";
  if (check == "digest_late") return "CloudTrail digest late or missing";
  return "CloudTrail integrity";
}

}  // namespace

Result<IntegrityReport> CheckCollected(const IntegrityOptions& options, Ledger* ledger,
                                       int64_t now_ms) {
  return Checker(options, ledger, now_ms).Run();
}

std::vector<detect::Alert> IntegrityAlerts(const IntegrityReport& report) {
  std::vector<detect::Alert> alerts;
  for (const IntegrityFinding& f : report.findings) {
    detect::Alert a;
    a.kind = detect::AlertKind::kIntegrity;
    a.rule_id = "integrity:" + f.check;
    a.title = std::string(TitleOf(f.check));
    a.level = f.check == "digest_late" || f.check == "digest_unsigned" ? "high" : "critical";
    a.tags = {"attack.defense-evasion", "attack.t1070"};
    a.time_ms = f.time_ms;
    a.key = f.key;
    a.region = f.region;
    a.account = f.account;
    a.description = f.detail;
    a.extra_json = {{"object", JsonString(f.key)}, {"check", JsonString(f.check)}};
    alerts.push_back(std::move(a));
  }
  return alerts;
}

Status SaveDigestMeta(FileSystem* fs, const std::string& path, const std::string& signature,
                      const std::string& sha256) {
  std::string json = "{\"signature\":";
  AppendJsonString(&json, signature);
  json += ",\"sha256\":";
  AppendJsonString(&json, sha256);
  json += "}\n";
  return WriteFileAtomic(fs, path + std::string(kDigestMetaSuffix), json);
}

}  // namespace cairn::collect
