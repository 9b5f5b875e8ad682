// `cairn generate`: writes synthetic CloudTrail logs in the S3 layout (see docs/generator.md).

#include <fmt/format.h>

#include <chrono>
#include <cstdio>
#include <memory>

#include "billing/generator.h"
#include "cli/cli.h"
#include "common/log.h"
#include "common/time_util.h"
#include "generate/generator.h"
#include "verify/digest_writer.h"

namespace cairn::cli {

void RegisterGenerate(CLI::App* app, Globals* g) {
  struct Flags {
    generate::GenerateOptions options;
    std::string start = "2026-11-01";
    std::string regions;
    std::string profile = "default";
    bool no_scenarios = false;
    std::string digests_key_dir;
    std::string bucket = "cairn-generated-trail";
    std::string trail = "cairn-trail";
    std::string tamper;
    bool backfill_digests = false;
    bool billing = false;
    bool dbr = false;
    std::string compression = "gzip";
    uint64_t rows = 10'000;
    int assemblies = 3;
    uint64_t rows_per_file = 250'000;
    bool final_invoice = false;
  };
  auto flags = std::make_shared<Flags>();
  CLI::App* cmd = app->add_subcommand(
      "generate",
      "Write realistic synthetic CloudTrail logs (S3 layout, gzipped) for demos, tests "
      "and benchmarks; the same seed gives the same bytes");
  cmd->add_option("--out", flags->options.out_dir, "Output folder (AWSLogs/... and scenarios.json)")
      ->required();
  cmd->add_option("--events", flags->options.events,
                  "Exact number of records to write (default 100000)");
  cmd->add_option("--seed", flags->options.seed, "Random seed (default 1)");
  cmd->add_option("--start", flags->start,
                  "First day or time, UTC (default 2026-11-01; rounded down to 5 minutes)");
  cmd->add_option("--days", flags->options.days, "Days of activity (default 1)");
  cmd->add_option("--accounts", flags->options.accounts, "Number of AWS accounts (default 3)");
  cmd->add_option(
      "--regions", flags->regions,
      "Region count or comma list (default 4: us-east-1,eu-west-1,us-west-2,ap-southeast-2)");
  cmd->add_flag("--data-events", flags->options.data_events,
                "Include data events (S3 GetObject/PutObject, Lambda Invoke)");
  cmd->add_flag("--insights", flags->options.insights, "Include CloudTrail Insights events");
  cmd->add_flag("--no-scenarios", flags->no_scenarios, "Leave out the embedded attack scenarios");
  cmd->add_option(
      "--profile", flags->profile,
      "Traffic statistics: default, or wide (a new access key per call, thousands of "
      "principals, addresses and user agents, a flat event-name mix; use with --days 21)");
  cmd->add_option("--threads", flags->options.threads, "Worker threads (default: one per core)");
  cmd->add_flag("--overwrite", flags->options.overwrite, "Replace an existing OUT/AWSLogs");
  cmd->add_option("--digests", flags->digests_key_dir,
                  "Also write hourly signed, chained CloudTrail digests (CloudTrail-Digest/, "
                  "signature in <digest>.sig), signing with KEYDIR/digest-signing-key.pem (created "
                  "if absent; the public key is written beside it as <fingerprint>.der)");
  cmd->add_option("--bucket", flags->bucket,
                  "The bucket name the digests record (default cairn-generated-trail)");
  cmd->add_option("--trail", flags->trail,
                  "The trail name in digest file names (default cairn-trail)");
  cmd->add_option("--tamper", flags->tamper,
                  "With --digests, damage the output so `cairn verify` reports one failure: modify "
                  "(a log file's bytes), delete (a log file), chain (a digest removed), signature "
                  "(a digest's signature)")
      ->check(CLI::IsMember({"modify", "delete", "chain", "signature"}));
  cmd->add_flag("--backfill-digests", flags->backfill_digests,
                "With --digests, list some log files (the last of every sixth hour) in backfill "
                "digests (..._backfill.json.gz, their own chain) instead of their hour's digest");
  cmd->add_flag("--billing", flags->billing,
                "Write AWS Cost and Usage Reports instead (legacy CUR layout under OUT: one month "
                "from --start, --assemblies versions, a payer and two linked accounts, tags; "
                "--profile few|many; see docs/billing.md)");
  cmd->add_option("--rows", flags->rows,
                  "With --billing: rows of the last assembly (default 10000)");
  cmd->add_option("--assemblies", flags->assemblies,
                  "With --billing: assemblies of the month (default 3)");
  cmd->add_option("--rows-per-file", flags->rows_per_file,
                  "With --billing: rows per report file (default 250000)");
  cmd->add_flag("--final", flags->final_invoice,
                "With --billing: the last assembly is the invoiced one (bill/InvoiceId set)");
  cmd->add_option("--compression", flags->compression,
                  "With --billing: the CUR files' compression, gzip (default) or zip")
      ->check(CLI::IsMember({"gzip", "zip"}));
  cmd->add_flag("--dbr", flags->dbr,
                "With --billing: write Detailed Billing Reports instead: --assemblies versions of "
                "the month's ZIP object (OUT/v<k>/ the bucket as version k left it, OUT/ the "
                "last), --rows LineItem rows, plus OUT/csv/v<k>.csv, the plain CSV");
  cmd->callback([flags, g]() {
    g->run = [flags]() -> int {
      if ((flags->dbr || flags->compression != "gzip") && !flags->billing) {
        std::fprintf(stderr, "cairn generate: --dbr and --compression go with --billing\n");
        return kExitUsage;
      }
      if (flags->billing && flags->dbr) {
        billing::DbrGenOptions d;
        d.out_dir = flags->options.out_dir;
        d.seed = flags->options.seed;
        d.rows = flags->rows;
        d.versions = flags->assemblies;
        d.final_invoice = flags->final_invoice;
        d.plain_csv = true;
        if (auto start = ParseIso8601Millis(flags->start)) {
          int64_t y;
          unsigned m, day;
          CivilFromDays(*start / 86'400'000, &y, &m, &day);
          d.year = static_cast<int>(y);
          d.month = static_cast<int>(m);
        }
        auto r = billing::GenerateDbr(d);
        if (!r.ok()) {
          std::fprintf(stderr, "cairn generate --billing --dbr: %s\n",
                       r.status().ToString().c_str());
          return r.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
        }
        for (size_t k = 0; k < r->versions.size(); ++k) {
          const auto& v = r->versions[k];
          std::printf("%s\n",
                      fmt::format("version {}: {} LineItem rows, {} summary rows, UnBlendedCost "
                                  "total {:.9f}, bucket {}, csv {}",
                                  k + 1, v.line_items, v.summary_rows, v.statement_total,
                                  v.bucket_dir, v.csv_path)
                          .c_str());
        }
        std::printf("%s\n", fmt::format("month {}: object {} (the last version also under {})",
                                        r->month, r->key, d.out_dir)
                                .c_str());
        return kExitOk;
      }
      if (flags->billing) {
        billing::CurGenOptions b;
        b.compression = flags->compression == "zip" ? "ZIP" : "GZIP";
        b.out_dir = flags->options.out_dir;
        b.seed = flags->options.seed;
        b.rows = flags->rows;
        b.assemblies = flags->assemblies;
        b.rows_per_file = flags->rows_per_file;
        b.final_invoice = flags->final_invoice;
        b.profile = flags->profile == "default" ? "few"
                    : flags->profile == "wide"  ? "many"
                                                : flags->profile;
        if (auto start = ParseIso8601Millis(flags->start)) {
          int64_t y;
          unsigned m, d;
          CivilFromDays(*start / 86'400'000, &y, &m, &d);
          b.year = static_cast<int>(y);
          b.month = static_cast<int>(m);
        }
        const auto t0 = std::chrono::steady_clock::now();
        auto r = billing::GenerateCur(b);
        if (!r.ok()) {
          std::fprintf(stderr, "cairn generate --billing: %s\n", r.status().ToString().c_str());
          return r.status().code() == StatusCode::kInvalidArgument ? kExitUsage : kExitFailed;
        }
        const double secs =
            std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
        for (const auto& a : r->assemblies) {
          std::printf("%s\n", fmt::format("assembly {}: {} rows in {} files, "
                                          "lineItem/UnblendedCost total {:.9f}, manifest {}",
                                          a.assembly_id, a.rows, a.report_keys.size(),
                                          a.unblended_total, a.manifest_key)
                                  .c_str());
        }
        std::printf("%s\n", fmt::format("period {}: current assembly named by {} ({:.2f} s)",
                                        r->period, r->period_manifest_key, secs)
                                .c_str());
        return kExitOk;
      }
      generate::GenerateOptions o = flags->options;
      o.scenarios = !flags->no_scenarios;
      auto profile = generate::ParseProfile(flags->profile);
      if (!profile) {
        std::fprintf(stderr, "cairn generate: --profile \"%s\" is not default or wide\n",
                     flags->profile.c_str());
        return kExitUsage;
      }
      o.profile = *profile;
      auto start = ParseIso8601Millis(flags->start);
      if (!start) {
        std::fprintf(stderr, "cairn generate: --start \"%s\" is not a date or ISO 8601 UTC time\n",
                     flags->start.c_str());
        return kExitUsage;
      }
      o.start_ms = *start;
      if (!flags->regions.empty()) {
        auto regions = generate::ParseRegions(flags->regions);
        if (!regions.ok()) {
          std::fprintf(stderr, "cairn generate: %s\n", regions.status().message().c_str());
          return kExitUsage;
        }
        o.regions = *regions;
      }
      const auto t0 = std::chrono::steady_clock::now();
      auto summary = generate::Generate(o, FileSystem::Default());
      if (!summary.ok()) {
        std::fprintf(stderr, "cairn generate: %s\n", summary.status().ToString().c_str());
        return summary.status().code() == StatusCode::kInvalidArgument ||
                       summary.status().code() == StatusCode::kAlreadyExists
                   ? kExitUsage
                   : kExitFailed;
      }
      const double secs =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
      if ((!flags->tamper.empty() || flags->backfill_digests) && flags->digests_key_dir.empty()) {
        std::fprintf(stderr, "cairn generate: --tamper and --backfill-digests need --digests\n");
        return kExitUsage;
      }
      std::string digest_line;
      if (!flags->digests_key_dir.empty()) {
        FileSystem* fs = FileSystem::Default();
        auto signer = verify::LoadOrCreateSigner(fs, flags->digests_key_dir);
        if (!signer.ok()) {
          std::fprintf(stderr, "cairn generate: %s\n", signer.status().ToString().c_str());
          return kExitFailed;
        }
        auto written = verify::WriteDigestsForFolder(fs, o.out_dir, flags->bucket, flags->trail,
                                                     *signer, flags->backfill_digests);
        if (!written.ok()) {
          std::fprintf(stderr, "cairn generate: digests: %s\n",
                       written.status().ToString().c_str());
          return kExitFailed;
        }
        digest_line = fmt::format("\ndigests: {} signed by key {} ({}), listing {} log files",
                                  written->digests, signer->fingerprint, flags->digests_key_dir,
                                  written->log_files);
        if (!written->backfill_keys.empty()) {
          digest_line +=
              fmt::format(" ({} of them backfill digests)", written->backfill_keys.size());
        }
        if (!flags->tamper.empty()) {
          auto target = verify::Tamper(fs, o.out_dir, *written, flags->tamper);
          if (!target.ok()) {
            std::fprintf(stderr, "cairn generate: %s\n", target.status().ToString().c_str());
            return kExitFailed;
          }
          digest_line += fmt::format("\ntampered ({}): {}", flags->tamper, *target);
        }
      }
      const auto& s = *summary;
      std::printf(
          "%s\n",
          (fmt::format(
               "generated {} events ({} scenario, {} insight) in {} files, {:.1f} MB gzipped "
               "({:.1f} MB JSON), {} accounts, {} regions, in {:.2f} s: {:.0f} events/s, "
               "{:.0f} MB/s JSON\nmanifest: {}",
               s.events, s.scenario_events, s.insight_events, s.files, s.bytes / 1e6,
               s.uncompressed_bytes / 1e6, s.accounts.size(), s.regions.size(), secs,
               s.events / std::max(secs, 1e-9), s.uncompressed_bytes / 1e6 / std::max(secs, 1e-9),
               s.manifest_path) +
           digest_line)
              .c_str());
      return kExitOk;
    };
  });
}

}  // namespace cairn::cli
