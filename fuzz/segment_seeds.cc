// Writes the seed corpora of fuzz_segment and fuzz_manifest (fuzz/run.sh runs it): small
// segments written by the real writer in every format it can write (2, 3 and 4, several block
// sizes and column sets), from synthetic events and, when ../shared/data is there, from real
// CloudTrail events; and the manifests and index configurations that would list them.
// Usage: segment_seeds SEGMENT_DIR MANIFEST_DIR [SHARED_DATA_DIR]

#include <algorithm>
#include <cstdio>
#include <string>
#include <vector>

#include "common/fs.h"
#include "store/fields.h"
#include "store/manifest.h"
#include "store/segment_writer.h"
#include "store/test_util.h"

namespace {

using namespace cairn;
using namespace cairn::store;

constexpr uint64_t kMaxSeedBytes = 256 << 10;  // run.sh's -max_len

Result<SegmentDesc> WriteOne(const std::string& dir, const std::string& name,
                             std::vector<cloudtrail::Event> events, SegmentWriterOptions opt) {
  std::stable_sort(events.begin(), events.end(),
                   [](const auto& a, const auto& b) { return a.time_ms < b.time_ms; });
  const int64_t day = PartitionOf(events.front().time_ms);
  std::erase_if(events, [&](const auto& e) { return PartitionOf(e.time_ms) != day; });
  const std::string path = JoinPath(dir, name);
  SegmentWriter w(FileSystem::Default(), path, day, opt);
  RETURN_IF_ERROR(w.Open());
  for (const auto& e : events) RETURN_IF_ERROR(w.Add(e));
  ASSIGN_OR_RETURN(auto info, w.Finish());
  if (info.file_size > kMaxSeedBytes) {
    FileSystem::Default()->RemoveFile(path).IgnoreError();
    return ResourceExhausted("{}: {} bytes is larger than a seed may be", name, info.file_size);
  }
  return testing::DescOf(info, name);
}

}  // namespace

int main(int argc, char** argv) {
  if (argc < 3) {
    std::fprintf(stderr, "usage: %s SEGMENT_DIR MANIFEST_DIR [SHARED_DATA_DIR]\n", argv[0]);
    return 2;
  }
  const std::string seg_dir = argv[1], manifest_dir = argv[2];
  FileSystem* fs = FileSystem::Default();
  if (!fs->CreateDirs(seg_dir).ok() || !fs->CreateDirs(manifest_dir).ok()) return 1;
  const int64_t t0 = int64_t{19700} * kMillisPerDay;
  std::vector<SegmentDesc> written;
  int n = 0;
  auto write = [&](std::vector<cloudtrail::Event> events, SegmentWriterOptions opt) {
    auto d = WriteOne(seg_dir, fmt::format("seed-{:03}-v{}.seg", n++, opt.format_version),
                      std::move(events), opt);
    if (d.ok()) {
      written.push_back(*d);
    } else {
      std::fprintf(stderr, "%s\n", d.status().ToString().c_str());
    }
  };
  for (uint32_t version : {2u, 3u, 4u}) {
    for (size_t events : {1, 7, 60, 250}) {
      for (size_t block : {size_t{1} << 10, size_t{8} << 10}) {
        SegmentWriterOptions opt;
        opt.format_version = version;
        opt.block_bytes = block;
        write(testing::SyntheticBatch(events * 7, events, t0, 3'600'000, 1 + version), opt);
      }
    }
  }
  // Format 4 with other column sets: without two of the columns, and with an extra one.
  std::vector<ColumnSpec> fewer, more(DefaultColumns().begin(), DefaultColumns().end());
  for (const ColumnSpec& c : DefaultColumns()) {
    if (c.name != "errorCode" && c.name != "userAgent") fewer.push_back(c);
  }
  more.push_back({"requestParameters.bucketName", true});
  for (const auto& columns : {fewer, more}) {
    SegmentWriterOptions opt;
    opt.block_bytes = 4 << 10;
    opt.columns = columns;
    write(testing::SyntheticBatch(0, 80, t0, 3'600'000, 9), opt);
  }
  // Real events, when the shared data is there.
  if (argc > 3) {
    auto real =
        testing::LoadCloudTrailDir(std::string(argv[3]) + "/cloudtrail/invictus/CloudTrail");
    for (size_t at = 0; at + 100 <= real.size() && at < 1000; at += 250) {
      SegmentWriterOptions opt;
      opt.block_bytes = 16 << 10;
      write(std::vector<cloudtrail::Event>(real.begin() + at, real.begin() + at + 100), opt);
    }
  }
  // Manifests listing them, and index configurations.
  Manifest m;
  m.generation = 7;
  for (SegmentDesc d : written) {
    d.seq = m.next_seq++;
    d.file = SegmentFileName(d.seq, d.partition);
    m.segments.push_back(d);
    if (m.segments.size() % 8 == 1) {
      auto s = WriteFileAtomic(fs, JoinPath(manifest_dir, fmt::format("manifest-{}", d.seq)),
                               EncodeManifest(m));
      if (!s.ok()) return 1;
    }
  }
  Manifest empty;
  if (!WriteFileAtomic(fs, JoinPath(manifest_dir, "manifest-empty"), EncodeManifest(empty)).ok() ||
      !WriteFileAtomic(fs, JoinPath(manifest_dir, "config"),
                       EncodeConfig(RetentionPolicy{86'400'000, 1 << 30}))
           .ok()) {
    return 1;
  }
  std::printf("%zu segments, manifests in %s\n", written.size(), manifest_dir.c_str());
  return 0;
}
