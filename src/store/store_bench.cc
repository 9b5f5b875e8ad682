// store_bench: commit throughput, merge throughput, bytes on disk against the source .json.gz
// bytes, peak RSS and needle-search latency of the store, on real CloudTrail records replicated
// with fresh eventIDs (Invictus set) or on `cairn generate` output.
//
//   store_bench --invictus ../shared/data/cloudtrail/invictus --events 1000000 [--batch 5000]
//   store_bench --gz-dir /tmp/gen/AWSLogs [--batch 5000]
//
// The source size for --invictus is the gzipped size of the Invictus files (s3_layout) times the
// replication factor; for --gz-dir it is the size of the .json.gz files read.

#include <simdjson.h>
#include <sys/resource.h>
#include <zlib.h>

#include <chrono>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <random>
#include <string>
#include <vector>

#include "common/time_util.h"
#include "store/store.h"
#include "store/test_util.h"

namespace cairn::store {
namespace {

using BenchClock = std::chrono::steady_clock;
double Seconds(BenchClock::time_point a, BenchClock::time_point b) {
  return std::chrono::duration<double>(b - a).count();
}

uint64_t DirBytes(const std::string& dir) {
  uint64_t n = 0;
  for (auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file()) n += e.file_size();
  }
  return n;
}

double CpuSeconds() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

long PeakRssMb() {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss / 1024;
}

std::string Gunzip(const std::string& path) {
  gzFile f = gzopen(path.c_str(), "rb");
  std::string out;
  if (!f) return out;
  char buf[1 << 16];
  int n;
  while ((n = gzread(f, buf, sizeof(buf))) > 0) out.append(buf, n);
  gzclose(f);
  return out;
}

// Events of one Records file.
void ParseRecords(const std::string& text, const std::string& source,
                  std::vector<cloudtrail::Event>* out) {
  simdjson::ondemand::parser parser;
  simdjson::padded_string padded(text);
  auto doc = parser.iterate(padded);
  simdjson::ondemand::array records;
  if (doc["Records"].get_array().get(records)) return;
  for (auto rec : records) {
    simdjson::ondemand::object obj;
    if (rec.get_object().get(obj)) continue;
    std::string_view raw = obj.raw_json().value();
    cloudtrail::Event e;
    e.raw = std::string(raw);
    e.source = source;
    e.sourcetype = std::string(cloudtrail::kSourcetypeEvents);
    simdjson::ondemand::parser p2;
    simdjson::padded_string one(e.raw);
    auto d2 = p2.iterate(one);
    std::string_view s;
    if (!d2["eventTime"].get_string().get(s)) e.time_ms = ParseIso8601Millis(s).value_or(0);
    if (!d2["eventID"].get_string().get(s)) e.event_id = std::string(s);
    if (!d2["recipientAccountId"].get_string().get(s)) e.account = std::string(s);
    out->push_back(std::move(e));
  }
}

}  // namespace
}  // namespace cairn::store

int main(int argc, char** argv) {
  using namespace cairn;
  using namespace cairn::store;
  std::string invictus, gz_dir, data_dir = "/tmp/cairn_store_bench";
  uint64_t target = 1'000'000;
  size_t batch = 5000;
  int level = 3;
  size_t block_kb = 256;
  for (int i = 1; i + 1 < argc; i += 2) {
    std::string k = argv[i], v = argv[i + 1];
    if (k == "--invictus")
      invictus = v;
    else if (k == "--gz-dir")
      gz_dir = v;
    else if (k == "--events")
      target = std::stoull(v);
    else if (k == "--batch")
      batch = std::stoul(v);
    else if (k == "--data")
      data_dir = v;
    else if (k == "--level")
      level = std::stoi(v);
    else if (k == "--block-kb")
      block_kb = std::stoul(v);
  }
  std::vector<cloudtrail::Event> events;
  uint64_t source_gz = 0;
  if (!invictus.empty()) {
    auto base = testing::LoadCloudTrailDir(invictus + "/CloudTrail");
    uint64_t gz = 0;
    for (auto& e : std::filesystem::recursive_directory_iterator(invictus + "/s3_layout")) {
      if (e.is_regular_file() && e.path().string().ends_with(".json.gz")) gz += e.file_size();
    }
    uint64_t reps = (target + base.size() - 1) / base.size();
    source_gz = gz * reps;
    events.reserve(reps * base.size());
    for (uint64_t r = 0; r < reps; ++r) {
      for (const auto& b : base) {
        cloudtrail::Event e = b;
        if (r > 0) {
          // A fresh eventID of the same length: replace the first 8 hex digits.
          std::string fresh = fmt::format("{:08x}", static_cast<uint32_t>(r * 2654435761u));
          std::string old_id = e.event_id;
          std::string new_id = fresh + old_id.substr(std::min<size_t>(8, old_id.size()));
          std::string& raw = e.raw.mutable_string();
          size_t at = raw.find("\"eventID\":\"" + old_id + "\"");
          if (at != std::string::npos) raw.replace(at + 11, old_id.size(), new_id);
          e.event_id = new_id;
          e.source = fmt::format("{}#{}", b.source, r);
        }
        events.push_back(std::move(e));
      }
    }
  } else if (!gz_dir.empty()) {
    for (auto& f : std::filesystem::recursive_directory_iterator(gz_dir)) {
      std::string p = f.path().string();
      if (!f.is_regular_file() || !p.ends_with(".json.gz") ||
          p.find("CloudTrail-Digest") != std::string::npos)
        continue;
      source_gz += f.file_size();
      ParseRecords(Gunzip(p), p, &events);
    }
  } else {
    std::fprintf(stderr, "usage: store_bench --invictus DIR [--events N] | --gz-dir DIR\n");
    return 2;
  }
  uint64_t raw_bytes = 0;
  for (const auto& e : events) raw_bytes += e.raw.size();
  std::printf("events %zu, raw JSON %.1f MB, source .json.gz %.1f MB, RSS after loading %ld MB\n",
              events.size(), raw_bytes / 1e6, source_gz / 1e6, PeakRssMb());

  // Needles taken from the data: one event's id and source IP.
  std::string sample_id, sample_ip;
  if (!events.empty()) {
    const auto& e = events[events.size() / 2];
    sample_id = e.event_id;
    std::string_view raw = e.raw;
    size_t at = raw.find("\"sourceIPAddress\":\"");
    if (at != std::string::npos) {
      size_t start = at + 19;
      sample_ip = raw.substr(start, raw.find('"', start) - start);
    }
  }
  std::filesystem::remove_all(data_dir);
  StoreOptions opt;
  opt.data_dir = data_dir;
  opt.background_merge = false;
  opt.segment.zstd_level = level;
  opt.segment.block_bytes = block_kb << 10;
  auto store = Store::Open(opt);
  if (!store.ok()) return 1;
  // Commit in batches, as the ingest layer would (one or a few files per batch).
  auto t0 = BenchClock::now();
  double c0 = CpuSeconds();
  uint64_t added = 0;
  for (size_t i = 0; i < events.size(); i += batch) {
    size_t n = std::min(batch, events.size() - i);
    std::vector<cloudtrail::Event> b(std::make_move_iterator(events.begin() + i),
                                     std::make_move_iterator(events.begin() + i + n));
    auto r = (*store)->Commit("aws-cloudtrail", std::move(b));
    if (!r.ok()) {
      std::fprintf(stderr, "commit: %s\n", r.status().ToString().c_str());
      return 1;
    }
    added += r->added;
  }
  auto t1 = BenchClock::now();
  double c1 = CpuSeconds();
  uint64_t before_merge = DirBytes(data_dir);
  auto info0 = (*store)->Info("aws-cloudtrail");
  std::printf(
      "commit: %llu events in %.2f s = %.0f events/s wall, %.0f events per CPU-second (one thread, "
      "batch %zu), %llu segments, %.1f MB on disk\n",
      static_cast<unsigned long long>(added), Seconds(t0, t1), added / Seconds(t0, t1),
      added / (c1 - c0), batch, static_cast<unsigned long long>(info0->segments),
      before_merge / 1e6);
  auto t2 = BenchClock::now();
  double c2 = CpuSeconds();
  Status m = (*store)->MergeNow("aws-cloudtrail");
  auto t3 = BenchClock::now();
  double c3 = CpuSeconds();
  if (!m.ok()) {
    std::fprintf(stderr, "merge: %s\n", m.ToString().c_str());
    return 1;
  }
  uint64_t after_merge = DirBytes(data_dir);
  auto info = (*store)->Info("aws-cloudtrail");
  std::printf("merge: %.2f s = %.0f events/s wall, %.0f events per CPU-second, %llu segments\n",
              Seconds(t2, t3), added / Seconds(t2, t3), added / (c3 - c2),
              static_cast<unsigned long long>(info->segments));
  std::printf(
      "size: %.1f MB after merge = %.3f x source .json.gz (%.1f bytes/event); before merge %.3f "
      "x\n",
      after_merge / 1e6, static_cast<double>(after_merge) / source_gz,
      static_cast<double>(after_merge) / added, static_cast<double>(before_merge) / source_gz);
  std::printf("peak RSS %ld MB (includes the %.0f MB of events held in memory by this benchmark)\n",
              PeakRssMb(), raw_bytes / 1e6);

  // Section sizes of the merged segments (reads footers via file sizes is not exposed; report
  // per-segment bytes and events instead).
  auto snap = *(*store)->GetSnapshot("aws-cloudtrail");
  // Needle searches: one eventName, one IP term, one eventID.
  auto needle = [&](const char* what, auto fn) {
    auto a = BenchClock::now();
    uint64_t n = 0;
    for (const auto& seg : snap->segments()) n += fn(*seg);
    auto b = BenchClock::now();
    std::printf("search %-40s %8llu hits in %7.2f ms\n", what, static_cast<unsigned long long>(n),
                Seconds(a, b) * 1000);
  };
  needle("eventName=DeleteTrail (first query)", [](const Segment& s) {
    return s.FieldPostings("eventName", "DeleteTrail")->cardinality();
  });
  needle("eventName=GetBucketAcl", [](const Segment& s) {
    return s.FieldPostings("eventName", "GetBucketAcl")->cardinality();
  });
  needle(("term " + sample_ip).c_str(),
         [&](const Segment& s) { return s.TermPostings(sample_ip)->cardinality(); });
  needle(("sourceIPAddress=" + sample_ip).c_str(), [&](const Segment& s) {
    return s.FieldPostings("sourceIPAddress", sample_ip)->cardinality();
  });
  needle("requestParameters.bucketName=...", [](const Segment& s) {
    return s.FieldPostings("requestParameters.bucketName", "stratus-red-team-vpc-flow-logs")
        ->cardinality();
  });
  std::string id = sample_id;
  needle("eventID=<one id>",
         [&](const Segment& s) { return s.FieldPostings("eventID", id)->cardinality(); });
  needle("term <one id>", [&](const Segment& s) { return s.TermPostings(id)->cardinality(); });
  needle("eventID=<absent id>", [](const Segment& s) {
    return s.FieldPostings("eventID", "00000000-0000-0000-0000-000000000000")->cardinality();
  });
  needle("eventName=DeleteTrail (warm)", [](const Segment& s) {
    return s.FieldPostings("eventName", "DeleteTrail")->cardinality();
  });
  return 0;
}
