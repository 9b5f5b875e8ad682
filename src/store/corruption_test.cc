// Damaged segments and manifests: a flipped byte anywhere, a truncated file, a crafted size. Every
// read either gives exactly the answer the undamaged segment gives or fails with kCorruption
// naming the file; nothing crashes or allocates what the format does not allow; Store::Check
// names every damaged segment.

#include <gtest/gtest.h>

#include <atomic>
#include <cstdlib>
#include <map>
#include <new>
#include <random>
#include <set>

#include "common/testing.h"
#include "store/encoding.h"
#include "store/fields.h"
#include "store/manifest.h"
#include "store/segment.h"
#include "store/segment_format.h"
#include "store/segment_reseal.h"
#include "store/segment_writer.h"
#include "store/store.h"
#include "store/test_util.h"

// The largest single allocation while `g_track` is set (operator new replaced for this binary).
namespace {
std::atomic<bool> g_track{false};
std::atomic<size_t> g_largest{0};
void* Allocate(size_t n) {
  if (g_track.load(std::memory_order_relaxed)) {
    size_t prev = g_largest.load(std::memory_order_relaxed);
    while (n > prev && !g_largest.compare_exchange_weak(prev, n)) {
    }
  }
  if (void* p = std::malloc(n == 0 ? 1 : n)) return p;
  throw std::bad_alloc();
}
}  // namespace
void* operator new(size_t n) { return Allocate(n); }
void* operator new[](size_t n) { return Allocate(n); }
void operator delete(void* p) noexcept { std::free(p); }
void operator delete[](void* p) noexcept { std::free(p); }
void operator delete(void* p, size_t) noexcept { std::free(p); }
void operator delete[](void* p, size_t) noexcept { std::free(p); }

namespace cairn::store {
namespace {

constexpr int64_t kDay = 19700;

using testing::ColumnDirectorySize;
using testing::PutFixed32At;
using Layout = testing::SegmentLayout;

Layout ParseLayout(const std::string& b) {
  Layout l;
  EXPECT_TRUE(testing::ParseSegmentLayout(b, &l));
  return l;
}

uint32_t Reseal(std::string* b, SectionId changed) { return testing::ResealSection(b, changed); }

// A digest of what each read of a segment answers: the same for an undamaged copy, and for a
// damaged one either the same or Corruption naming the file.
std::map<std::string, Result<std::string>> ReadEverything(const Segment& seg,
                                                          const std::vector<std::string>& ids) {
  std::map<std::string, Result<std::string>> out;
  auto bits = [](const Result<Bitmap>& r) -> Result<std::string> {
    if (!r.ok()) return r.status();
    std::string s;
    for (uint32_t o : *r) s += std::to_string(o) + ",";
    return s;
  };
  out.emplace("times", [&]() -> Result<std::string> {
    ASSIGN_OR_RETURN(auto t, seg.Times());
    std::string s;
    for (int64_t x : *t) s += std::to_string(x) + ",";
    return s;
  }());
  out.emplace("events", [&]() -> Result<std::string> {
    std::string s;
    RETURN_IF_ERROR(seg.ForEachEvent([&](uint32_t o, cloudtrail::Event&& e) {
      s += fmt::format("{}|{}|{}|{}|{}|{}|{}\n", o, e.raw.view(), e.time_ms, e.account, e.event_id,
                       e.sourcetype, e.source.view());
      return Status::Ok();
    }));
    return s;
  }());
  for (std::string_view c : kColumnFields) {
    out.emplace("column " + std::string(c), [&]() -> Result<std::string> {
      ASSIGN_OR_RETURN(auto col, seg.GetColumn(c));
      ASSIGN_OR_RETURN(ColumnSummary sum, seg.ColumnCounts(c));
      std::string s;
      for (uint32_t o = 0; o < seg.event_count(); ++o) s += std::string(col->Value(o)) + ",";
      for (uint32_t n : *sum.counts) s += std::to_string(n) + ";";
      return s;
    }());
  }
  out.emplace("eventName", bits(seg.FieldPostings("eventName", "GetObject")));
  out.emplace("bucketName", bits(seg.FieldPostings("requestParameters.bucketName", "bucket-3")));
  out.emplace("eventID", bits(seg.FieldPostings("eventID", ids[7])));
  out.emplace("requestID", bits(seg.FieldPostings("requestID", "REQ2A")));
  out.emplace("term alice", bits(seg.TermPostings("alice")));
  out.emplace("term object-33", bits(seg.TermPostings("object-33")));
  out.emplace("match key",
              bits(seg.FieldMatch("requestParameters.key", Pattern("path/to/object-1*"))));
  out.emplace("match term", bits(seg.TermMatch(Pattern("bucket-1*"))));
  out.emplace("values", [&]() -> Result<std::string> {
    ASSIGN_OR_RETURN(auto v, seg.FieldValues("requestParameters.bucketName", Pattern("*")));
    std::string s;
    for (auto& x : v) s += x.value + "=" + std::to_string(x.count) + ",";
    return s;
  }());
  out.emplace("fields", [&]() -> Result<std::string> {
    ASSIGN_OR_RETURN(auto v, seg.Fields());
    std::string s;
    for (auto& x : v) s += fmt::format("{}={}/{},", x.name, x.events, x.distinct);
    return s;
  }());
  out.emplace("ids", [&]() -> Result<std::string> {
    std::string s;
    RETURN_IF_ERROR(seg.ForEachId([&](std::string_view a, std::string_view id) {
      s += std::string(a) + "/" + std::string(id) + ",";
    }));
    return s;
  }());
  out.emplace("verify", [&]() -> Result<std::string> {
    RETURN_IF_ERROR(seg.Verify());
    return std::string("ok");
  }());
  return out;
}

class SegmentCorruptionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = cairn::testing::MakeTempDir("cairn_corrupt");
    events_ = testing::SyntheticBatch(0, 600, kDay * kMillisPerDay, 3'600'000);
    std::stable_sort(events_.begin(), events_.end(),
                     [](const auto& a, const auto& b) { return a.time_ms < b.time_ms; });
    SegmentWriterOptions opt;
    opt.block_bytes = 16 << 10;
    const std::string path = JoinPath(dir_, "good.seg");
    SegmentWriter w(FileSystem::Default(), path, kDay, opt);
    ASSERT_TRUE(w.Open().ok());
    for (const auto& e : events_) {
      ASSERT_TRUE(w.Add(e).ok());
      ids_.push_back(e.event_id);
    }
    auto info = w.Finish();
    ASSERT_TRUE(info.ok());
    desc_ = testing::DescOf(*info, "good.seg");
    good_ = *ReadFileToString(FileSystem::Default(), path);
    auto seg = Segment::Open(FileSystem::Default(), path, desc_);
    ASSERT_TRUE(seg.ok()) << seg.status().ToString();
    expected_ = ReadEverything(**seg, ids_);
    for (const auto& [what, r] : expected_)
      ASSERT_TRUE(r.ok()) << what << ": " << r.status().ToString();
  }
  void TearDown() override { FileSystem::Default()->RemoveAll(dir_).IgnoreError(); }

  // Writes `bytes` as bad.seg, opens it with `desc` and reads everything: each read agrees with
  // the undamaged segment or is Corruption naming bad.seg. Returns how many reads failed (-1 when
  // Open did).
  int Check(const std::string& bytes, const SegmentDesc& desc, const std::string& what) {
    const std::string path = JoinPath(dir_, "bad.seg");
    EXPECT_TRUE(WriteFileAtomic(FileSystem::Default(), path, bytes).ok());
    auto seg = Segment::Open(FileSystem::Default(), path, desc);
    if (!seg.ok()) {
      EXPECT_EQ(seg.status().code(), StatusCode::kCorruption)
          << what << ": " << seg.status().ToString();
      EXPECT_NE(seg.status().message().find("bad.seg"), std::string::npos)
          << what << ": " << seg.status().message();
      return -1;
    }
    int failed = 0;
    for (const auto& [op, r] : ReadEverything(**seg, ids_)) {
      if (r.ok()) {
        EXPECT_EQ(*r, *expected_.at(op)) << what << ": " << op << " answered differently";
        continue;
      }
      ++failed;
      EXPECT_EQ(r.status().code(), StatusCode::kCorruption)
          << what << ": " << op << ": " << r.status().ToString();
      EXPECT_NE(r.status().message().find("bad.seg"), std::string::npos)
          << what << ": " << op << ": " << r.status().message();
    }
    return failed;
  }

  std::string dir_;
  std::vector<cloudtrail::Event> events_;
  std::vector<std::string> ids_;
  SegmentDesc desc_;
  std::string good_;
  std::map<std::string, Result<std::string>> expected_;
};

// One byte flipped at random places of each part of the file: never a wrong answer, and Verify
// (one of the reads) always notices.
TEST_F(SegmentCorruptionTest, FlippedBytesNeverGiveWrongAnswers) {
  const uint32_t seed = std::random_device{}();
  std::printf("seed %u\n", seed);
  std::mt19937 rng(seed);
  const Layout l = ParseLayout(good_);
  struct Region {
    std::string name;
    uint64_t begin, end;
  };
  std::vector<Region> regions = {
      {"header", 0, kSegmentHeaderSize},
      {"footer", l.footer_off, l.footer_off + l.footer_len},
      {"trailer", good_.size() - kSegmentTrailerSize, good_.size()},
  };
  const auto& cols = l.at(SectionId::kColumns);
  const uint64_t dir = ColumnDirectorySize(good_, l);
  regions.push_back({"column directory", cols.offset, cols.offset + dir});
  regions.push_back({"column frames", cols.offset + dir, cols.offset + cols.size});
  for (auto [id, name] : std::initializer_list<std::pair<SectionId, const char*>>{
           {SectionId::kBlocks, "blocks"},
           {SectionId::kBlockIndex, "block index"},
           {SectionId::kBlooms, "Bloom filters"},
           {SectionId::kTime, "time"},
           {SectionId::kIds, "ids"},
           {SectionId::kLanes, "lanes"},
           {SectionId::kKeys, "key blocks"},
           {SectionId::kKeyIndex, "key index"},
           {SectionId::kFieldCatalog, "field catalog"}}) {
    regions.push_back({name, l.at(id).offset, l.at(id).offset + l.at(id).size});
  }
  for (const Region& r : regions) {
    ASSERT_LT(r.begin, r.end) << r.name;
    for (int k = 0; k < 12; ++k) {
      const uint64_t at = r.begin + rng() % (r.end - r.begin);
      std::string bad = good_;
      bad[at] = static_cast<char>(bad[at] ^ (1 << (rng() % 8)));
      const int failed = Check(bad, desc_, fmt::format("seed {}: {} byte {}", seed, r.name, at));
      EXPECT_NE(failed, 0) << "seed " << seed << ": a flip in the " << r.name << " at byte " << at
                           << " went unnoticed";
    }
  }
}

TEST_F(SegmentCorruptionTest, TruncatedSegmentsAreCorruption) {
  for (size_t keep : {size_t{0}, size_t{10}, kSegmentHeaderSize + kSegmentTrailerSize,
                      good_.size() / 2, good_.size() - kSegmentTrailerSize, good_.size() - 1}) {
    EXPECT_EQ(Check(good_.substr(0, keep), desc_, fmt::format("first {} bytes", keep)), -1);
  }
  // The end kept, the middle gone.
  std::string cut = good_.substr(0, 100) + good_.substr(good_.size() / 2);
  EXPECT_EQ(Check(cut, desc_, "middle cut"), -1);
}

// A block whose raw size is 0xFFFFFF00, with every checksum made to agree (as a crafted file
// would): Corruption naming the file, and no allocation of anything near that size.
TEST_F(SegmentCorruptionTest, CraftedSizesAreRejectedBeforeAllocating) {
  const Layout l = ParseLayout(good_);
  const uint64_t bi = l.at(SectionId::kBlockIndex).offset;
  struct Craft {
    std::string name;
    std::function<SectionId(std::string*)> apply;
  };
  std::vector<Craft> crafts = {
      {"block raw size 0xFFFFFF00",
       [&](std::string* b) {
         PutFixed32At(b, bi + 12, 0xFFFFFF00u);
         return SectionId::kBlockIndex;
       }},
      {"block raw size 200 MiB",
       [&](std::string* b) {
         PutFixed32At(b, bi + 12, 200u << 20);
         return SectionId::kBlockIndex;
       }},
      {"block raw size one more than the frame's",
       [&](std::string* b) {
         PutFixed32At(b, bi + 12, DecodeFixed32(b->data() + bi + 12) + 1);
         return SectionId::kBlockIndex;
       }},
      {"block event count 0xFFFFFFF0",
       [&](std::string* b) {
         PutFixed32At(b, bi + 20, 0xFFFFFFF0u);
         return SectionId::kBlockIndex;
       }},
      {"block offset near 2^64",
       [&](std::string* b) {
         std::string x;
         PutFixed64(&x, ~uint64_t{0} - 8);
         b->replace(bi, 8, x);
         return SectionId::kBlockIndex;
       }},
  };
  for (const Craft& c : crafts) {
    std::string bad = good_;
    const SectionId changed = c.apply(&bad);
    SegmentDesc desc = desc_;
    desc.footer_crc = Reseal(&bad, changed);
    g_largest = 0;
    g_track = true;
    const int failed = Check(bad, desc, c.name);
    g_track = false;
    EXPECT_NE(failed, 0) << c.name;
    EXPECT_LT(g_largest.load(), size_t{64} << 20) << c.name << ": allocated " << g_largest.load();
  }
  // Sizes in the footer's section table: a time section claiming 0xFFFFFF00 raw bytes, a section
  // reaching past the footer, an offset that wraps.
  const size_t time_entry = l.at(SectionId::kTime).entry;
  for (auto [name, at, value] : std::initializer_list<std::tuple<const char*, size_t, uint64_t>>{
           {"time raw size", time_entry + 24, 0xFFFFFF00u},
           {"time size", time_entry + 12, good_.size()},
           {"time offset", time_entry + 4, ~uint64_t{0} - 4}}) {
    std::string bad = good_;
    std::string x;
    if (at == time_entry + 24) {
      PutFixed32(&x, static_cast<uint32_t>(value));
    } else {
      PutFixed64(&x, value);
    }
    bad.replace(at, x.size(), x);
    SegmentDesc desc = desc_;
    desc.footer_crc = Crc32(std::string_view(bad).substr(l.footer_off, l.footer_len));
    PutFixed32At(&bad, bad.size() - kSegmentTrailerSize + 4, desc.footer_crc);
    g_largest = 0;
    g_track = true;
    const int failed = Check(bad, desc, name);
    g_track = false;
    EXPECT_NE(failed, 0) << name;
    EXPECT_LT(g_largest.load(), size_t{64} << 20) << name << ": allocated " << g_largest.load();
  }
  // A manifest entry claiming four billion events.
  SegmentDesc huge = desc_;
  huge.event_count = 0xFFFFFFF0u;
  EXPECT_EQ(Check(good_, huge, "manifest event count"), -1);
}

// Store::Check names every damaged segment of an index (and only those); a damaged manifest
// makes Open fail naming it.
TEST(StoreCorruptionTest, CheckNamesEveryDamagedSegment) {
  const std::string dir = cairn::testing::MakeTempDir("cairn_store_corrupt");
  StoreOptions opt;
  opt.data_dir = dir;
  opt.background_merge = false;
  opt.segment.block_bytes = 16 << 10;
  std::vector<std::string> paths;
  {
    auto store = Store::Open(opt);
    ASSERT_TRUE(store.ok());
    for (int d = 0; d < 7; ++d) {
      auto batch =
          testing::SyntheticBatch(d * 1000, 400, (kDay + d) * kMillisPerDay, kMillisPerDay);
      ASSERT_TRUE((*store)->Commit("idx", batch).ok());
    }
    auto snap = (*store)->GetSnapshot("idx");
    ASSERT_TRUE(snap.ok());
    for (const auto& s : (*snap)->segments()) paths.push_back(s->path());
    ASSERT_TRUE((*store)->Close().ok());
  }
  ASSERT_EQ(paths.size(), 7u);
  FileSystem* fs = FileSystem::Default();
  auto damage = [&](const std::string& path,
                    const std::function<void(std::string*, const Layout&)>& fn) {
    std::string b = *ReadFileToString(fs, path);
    fn(&b, ParseLayout(b));
    ASSERT_TRUE(WriteFileAtomic(fs, path, b).ok());
  };
  damage(paths[0], [](std::string* b, const Layout& l) { (*b)[l.footer_off + 3] ^= 0x10; });
  damage(paths[1], [](std::string* b, const Layout& l) {
    (*b)[l.at(SectionId::kColumns).offset + 30] ^= 0x01;
  });
  damage(paths[2], [](std::string* b, const Layout& l) {
    (*b)[l.at(SectionId::kBlocks).offset + 100] ^= 0x04;
  });
  damage(paths[3], [](std::string* b, const Layout& l) {
    (*b)[l.at(SectionId::kKeyIndex).offset + 5] ^= 0x20;
  });
  damage(paths[4], [](std::string* b, const Layout&) { b->resize(b->size() * 2 / 3); });
  ASSERT_TRUE(fs->RemoveFile(paths[5]).ok());
  {
    auto store = Store::Open(opt);
    ASSERT_TRUE(store.ok()) << store.status().ToString();
    auto report = (*store)->Check("idx");
    ASSERT_TRUE(report.ok());
    std::set<std::string> named;
    for (const auto& p : report->problems) {
      named.insert(p.path);
      EXPECT_NE(p.status.message().find(BaseName(p.path)), std::string::npos) << p.status.message();
    }
    EXPECT_EQ(named,
              (std::set<std::string>{paths[0], paths[1], paths[2], paths[3], paths[4], paths[5]}));
    EXPECT_EQ(report->problems.size(), 6u);
    ASSERT_TRUE((*store)->Close().ok());
  }
  // A flipped byte in the manifest.
  const std::string manifest = JoinPath(JoinPath(JoinPath(dir, "indexes"), "idx"), kManifestFile);
  std::string text = *ReadFileToString(fs, manifest);
  text[text.size() / 2] ^= 0x02;
  ASSERT_TRUE(WriteFileAtomic(fs, manifest, text).ok());
  // A reader's open fails naming the file, as a writer's does below.
  StoreOptions reading = opt;
  reading.read_only = true;
  auto read = Store::Open(reading);
  ASSERT_FALSE(read.ok());
  EXPECT_EQ(read.status().code(), StatusCode::kCorruption) << read.status().ToString();
  EXPECT_NE(read.status().message().find(manifest), std::string::npos) << read.status().message();
  auto reopened = Store::Open(opt);
  ASSERT_FALSE(reopened.ok());
  EXPECT_EQ(reopened.status().code(), StatusCode::kCorruption) << reopened.status().ToString();
  EXPECT_NE(reopened.status().message().find(manifest), std::string::npos)
      << reopened.status().message();
  EXPECT_EQ(*ReadFileToString(fs, manifest), text)
      << "the writer left the damaged manifest as it was";
  fs->RemoveAll(dir).IgnoreError();
}

}  // namespace
}  // namespace cairn::store
