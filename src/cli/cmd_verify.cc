// `cairn verify`: checks CloudTrail digest files and the log files they list (docs/verify.md).

#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "aws/config.h"
#include "aws/s3.h"
#include "cli/cli.h"
#include "collect/backfill.h"
#include "collect/integrity.h"
#include "collect/ledger.h"
#include "common/json_util.h"
#include "common/time_util.h"
#include "verify/public_keys.h"
#include "verify/s3_source.h"
#include "verify/verifier.h"

extern char** environ;

namespace cairn::cli {
namespace {

// An ISO 8601 time or date, or a time relative to now: "-24h", "-7d", "-30m".
std::optional<int64_t> ParseWhen(const std::string& s) {
  if (s.size() >= 3 && s[0] == '-') {
    int64_t unit = 0;
    switch (s.back()) {
      case 'd': unit = 86'400'000; break;
      case 'h': unit = 3'600'000; break;
      case 'm': unit = 60'000; break;
      default: return std::nullopt;
    }
    int64_t n = 0;
    for (size_t i = 1; i + 1 < s.size(); ++i) {
      if (s[i] < '0' || s[i] > '9' || n > 1'000'000) return std::nullopt;
      n = n * 10 + (s[i] - '0');
    }
    const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                            std::chrono::system_clock::now().time_since_epoch())
                            .count();
    return now - n * unit;
  }
  return ParseIso8601Millis(s);
}

std::vector<std::string> SplitList(const std::vector<std::string>& values) {
  std::vector<std::string> out;
  for (const auto& v : values) {
    size_t start = 0;
    while (start <= v.size()) {
      size_t comma = v.find(',', start);
      if (comma == std::string::npos) comma = v.size();
      if (comma > start) out.push_back(v.substr(start, comma - start));
      start = comma + 1;
    }
  }
  return out;
}

// `cairn verify --collected`: the collector's integrity check (collect/integrity.h), run once by
// a reader of the data folder. Exit 0 clean, 1 findings, 2 digests whose key is unknown.
int VerifyCollected(FileSystem* fs, const std::string& data_dir, const std::string& key_dir,
                    std::optional<int64_t> earliest_ms, bool json) {
  collect::IntegrityOptions o;
  o.data_dir = data_dir;
  o.fs = fs;
  const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::system_clock::now().time_since_epoch())
                          .count();
  if (earliest_ms) o.lookback_ms = std::max<int64_t>(0, now - *earliest_ms);
  for (const std::string& dir : {key_dir, JoinPath(JoinPath(data_dir, "verify"), "public-keys")}) {
    if (dir.empty() || !fs->Exists(dir)) continue;
    auto loaded = verify::LoadPublicKeyDir(fs, dir);
    if (!loaded.ok()) {
      std::fprintf(stderr, "cairn verify: %s\n", loaded.status().ToString().c_str());
      return kExitUsage;
    }
    o.keys.merge(*loaded);
  }
  auto ledger = collect::Ledger::OpenReadOnly(fs, JoinPath(data_dir, "ledger.log"));
  if (!ledger.ok()) {
    std::fprintf(stderr, "cairn verify: %s\n", ledger.status().ToString().c_str());
    return kExitUsage;
  }
  auto report = collect::CheckCollected(o, ledger->get(), now);
  if (!report.ok()) {
    std::fprintf(stderr, "cairn verify: %s\n", report.status().ToString().c_str());
    return kExitUsage;
  }
  const collect::IntegrityReport& r = *report;
  if (json) {
    std::string out = fmt::format(
        "{{\"digests\":{},\"files_matched\":{},\"files_pending\":{},\"files_unhashed\":{},"
        "\"unverified\":{},\"findings\":[",
        r.digests, r.files_matched, r.files_pending, r.files_unhashed, r.unverified);
    for (size_t i = 0; i < r.findings.size(); ++i) {
      const auto& f = r.findings[i];
      out += fmt::format(
          "{}{{\"check\":{},\"object\":{},\"account\":{},\"region\":{},"
          "\"time\":{},\"detail\":{}}}",
          i ? "," : "", JsonString(f.check), JsonString(f.key), JsonString(f.account),
          JsonString(f.region), JsonString(FormatIso8601(f.time_ms)), JsonString(f.detail));
    }
    std::printf("%s]}\n", out.c_str());
  } else {
    std::printf(
        "%llu digests checked: %llu log files match, %llu not collected yet, %llu collected "
        "without a hash, %llu digests not verified (no public key), %zu findings\n",
        static_cast<unsigned long long>(r.digests),
        static_cast<unsigned long long>(r.files_matched),
        static_cast<unsigned long long>(r.files_pending),
        static_cast<unsigned long long>(r.files_unhashed),
        static_cast<unsigned long long>(r.unverified), r.findings.size());
    for (const auto& f : r.findings) {
      std::printf("%s %s: %s\n", f.check.c_str(), f.key.c_str(), f.detail.c_str());
    }
  }
  if (!r.findings.empty()) return 1;
  return r.unverified > 0 ? 2 : 0;
}

}  // namespace

void RegisterVerify(CLI::App* app, Globals* g) {
  struct Flags {
    std::string url;
    std::string local;
    std::string bucket;
    std::string prefix;
    std::vector<std::string> accounts, regions;
    std::string earliest, latest;
    std::string trail;
    std::string public_keys;
    bool json = false;
    bool verbose = false;
    int threads = 0;
    std::string home_region;
    bool no_list_public_keys = false;
    bool collected = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app->add_subcommand(
      "verify",
      "Check CloudTrail log file integrity: digest signatures, the digest chain, and every log "
      "file's SHA-256 (like `aws cloudtrail validate-logs`); exit 0 all valid, 1 integrity "
      "failure, 2 could not verify");
  cmd->add_option("url", flags->url,
                  "s3://BUCKET[/PREFIX]: the trail's bucket and key prefix (AWS credentials and "
                  "endpoints as for collect: AWS_* environment, aws.* configuration)");
  cmd->add_option("--local", flags->local,
                  "Instead of S3, a local copy of the bucket (the folder holding AWSLogs/, or the "
                  "prefix's parent); signatures in <digest>.sig files");
  cmd->add_option("--bucket", flags->bucket,
                  "With --local, the bucket's name, checked against digestS3Bucket and s3Bucket "
                  "(default: not checked)");
  cmd->add_option("--prefix", flags->prefix, "The trail's S3 key prefix, before AWSLogs/");
  cmd->add_option("--account", flags->accounts,
                  "Account id(s) to verify (repeat or comma list; default all)")
      ->allow_extra_args(false);
  cmd->add_option("--region", flags->regions,
                  "Region(s) to verify (repeat or comma list; default all)")
      ->allow_extra_args(false);
  cmd->add_option("--trail", flags->trail,
                  "Only this trail's digests (its name, as in digest file names; default: every "
                  "trail writing under the prefix)");
  cmd->add_option("--earliest", flags->earliest,
                  "Verify digests delivered at or after this time (ISO 8601, or -24h, -7d)");
  cmd->add_option("--latest", flags->latest, "Verify digests delivered at or before this time");
  cmd->add_option("--public-keys", flags->public_keys,
                  "Folder of CloudTrail public keys as DER files (*.der, PKCS#1 or "
                  "SubjectPublicKeyInfo), matched by fingerprint");
  cmd->add_option("--threads", flags->threads, "Threads hashing log files (default: one per core)")
      ->check(CLI::Range(0, 256));
  cmd->add_option("--home-region", flags->home_region,
                  "With s3://, the trail's home region, where CloudTrail ListPublicKeys is called "
                  "(default: the home region in the digest file names)");
  cmd->add_flag("--no-list-public-keys", flags->no_list_public_keys,
                "With s3://, use only --public-keys and the key cache; never call ListPublicKeys");
  cmd->add_flag("--collected", flags->collected,
                "Instead of a bucket, check what `cairn collect` collected into --data: the "
                "saved digests of the last --earliest (default -7d) against the hashes of the "
                "log files read (as the collector's continuous verification does; a reader: "
                "uses --public-keys and the key cache only, stores no alerts)");
  cmd->add_flag("--json", flags->json, "Print the full report as JSON");
  cmd->add_flag("--verbose", flags->verbose, "List valid files too in the text report");
  cmd->callback([flags, g]() {
    g->run = [flags, g]() -> int {
      verify::VerifyOptions o;
      o.prefix = flags->prefix;
      o.threads = flags->threads;
      o.trail = flags->trail;
      if (!o.prefix.empty() && o.prefix.back() != '/') o.prefix.push_back('/');
      o.accounts = SplitList(flags->accounts);
      o.regions = SplitList(flags->regions);
      if (!flags->earliest.empty()) {
        o.earliest_ms = ParseWhen(flags->earliest);
        if (!o.earliest_ms) {
          std::fprintf(stderr,
                       "cairn verify: --earliest \"%s\" is not an ISO 8601 time or -N[dhm]\n",
                       flags->earliest.c_str());
          return kExitUsage;
        }
      }
      if (!flags->latest.empty()) {
        o.latest_ms = ParseWhen(flags->latest);
        if (!o.latest_ms) {
          std::fprintf(stderr, "cairn verify: --latest \"%s\" is not an ISO 8601 time or -N[dhm]\n",
                       flags->latest.c_str());
          return kExitUsage;
        }
      }
      FileSystem* fs = FileSystem::Default();
      if (flags->collected) {
        if (!flags->url.empty() || !flags->local.empty()) {
          std::fprintf(stderr, "cairn verify: --collected takes no bucket or --local\n");
          return kExitUsage;
        }
        return VerifyCollected(fs, g->data_dir, flags->public_keys, o.earliest_ms, flags->json);
      }
      if (flags->url.empty() == flags->local.empty()) {
        std::fprintf(stderr, "cairn verify: give either s3://BUCKET[/PREFIX] or --local DIR\n");
        return kExitUsage;
      }
      if (!flags->local.empty() && !fs->Exists(flags->local)) {
        std::fprintf(stderr, "cairn verify: --local %s does not exist\n", flags->local.c_str());
        return kExitUsage;
      }
      verify::PublicKeySet keys;
      if (!flags->public_keys.empty()) {
        auto loaded = verify::LoadPublicKeyDir(fs, flags->public_keys);
        if (!loaded.ok()) {
          std::fprintf(stderr, "cairn verify: %s\n", loaded.status().ToString().c_str());
          return kExitUsage;
        }
        keys = std::move(*loaded);
      }
      std::unique_ptr<verify::ObjectSource> source;
      std::shared_ptr<aws::AwsClient> client;
      std::unique_ptr<aws::S3Client> s3;
      if (!flags->url.empty()) {
        std::string bucket, prefix;
        Status parsed = collect::ParseS3Url(flags->url, &bucket, &prefix);
        if (!parsed.ok()) {
          std::fprintf(stderr, "cairn verify: %s\n", parsed.message().c_str());
          return kExitUsage;
        }
        if (!prefix.empty()) {
          if (!o.prefix.empty() && o.prefix != prefix + "/") {
            std::fprintf(stderr, "cairn verify: --prefix and the URL's prefix differ\n");
            return kExitUsage;
          }
          o.prefix = prefix + "/";
        }
        std::vector<std::string> env;
        for (char** e = environ; e != nullptr && *e != nullptr; ++e) env.emplace_back(*e);
        Config config = g->config;
        config.LoadEnvironment(env, aws::AwsConfigKeys());
        auto made = aws::NewAwsClientFromConfig(config);
        if (!made.ok()) {
          std::fprintf(stderr, "cairn verify: %s\n", made.status().ToString().c_str());
          return kExitUsage;
        }
        client = *made;
        s3 = std::make_unique<aws::S3Client>(client.get());
        source = std::make_unique<verify::S3Source>(s3.get(), bucket);
        // Keys fetched once are kept in <data>/verify/public-keys; ListPublicKeys is called only
        // when a digest names a fingerprint neither --public-keys nor that cache holds.
        const std::string cache = JoinPath(JoinPath(g->data_dir, "verify"), "public-keys");
        if (fs->Exists(cache)) {
          auto cached = verify::LoadPublicKeyDir(fs, cache);
          if (cached.ok()) {
            keys.merge(*cached);
          } else {
            std::fprintf(stderr, "cairn verify: key cache %s: %s\n", cache.c_str(),
                         cached.status().ToString().c_str());
          }
        }
        if (!flags->no_list_public_keys) {
          const std::string region = flags->home_region;
          const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                                  std::chrono::system_clock::now().time_since_epoch())
                                  .count();
          // CloudTrail started signing digests in 2015; its keys rotate, so ask for the range.
          const int64_t start = o.earliest_ms.value_or(*ParseIso8601Millis("2015-01-01"));
          const int64_t end = o.latest_ms.value_or(now);
          aws::AwsClient* c = client.get();
          o.fetch_public_keys = [c, region, start, end, fs,
                                 cache](const std::string& home) -> Result<verify::PublicKeySet> {
            // --home-region wins; else the home region the digest's file name gives.
            const std::string& where = !region.empty() ? region
                                       : !home.empty() ? home
                                                       : c->region();
            ASSIGN_OR_RETURN(verify::PublicKeySet listed,
                             verify::ListPublicKeys(c, where, start, end));
            Status saved = verify::SavePublicKeys(fs, cache, listed);
            if (!saved.ok()) {
              std::fprintf(stderr, "cairn verify: key cache %s: %s\n", cache.c_str(),
                           saved.ToString().c_str());
            }
            return listed;
          };
        }
      } else {
        source = std::make_unique<verify::LocalFolderSource>(fs, flags->local, flags->bucket);
      }
      auto report = verify::Verify(source.get(), keys, o);
      if (!report.ok()) {
        std::fprintf(stderr, "cairn verify: %s\n", report.status().ToString().c_str());
        return kExitUsage;
      }
      const std::string out = flags->json ? verify::FormatReportJson(*report, o)
                                          : verify::FormatReportText(*report, o, flags->verbose);
      std::fwrite(out.data(), 1, out.size(), stdout);
      return report->ExitCode();
    };
  });
}

}  // namespace cairn::cli
