// libFuzzer target: segment files through the segment reader (src/store/segment_*.cc). Each input
// is read twice: as it is, and "resealed" — every checksum recomputed, as a crafted file would
// have them — so that the checks behind the checksums (sizes, offsets, counts) are reached too.
// Invariants beyond "no crash, no sanitizer report, no allocation beyond -malloc_limit_mb": every
// failure is Corruption naming the file, and a second round of reads (from the segment's caches)
// answers exactly as the first.

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

#include "common/fs.h"
#include "store/encoding.h"
#include "store/fields.h"
#include "store/segment.h"
#include "store/segment_reseal.h"

namespace {

using cairn::Result;
using cairn::Status;
using cairn::StatusCode;
using cairn::store::Bitmap;
using cairn::store::Segment;

constexpr const char* kPath = "/fuzz/input.seg";

// A file system holding one file in memory.
class OneFileSystem final : public cairn::FileSystem {
 public:
  explicit OneFileSystem(const std::string* bytes) : bytes_(bytes) {}
  class File final : public cairn::RandomAccessFile {
   public:
    explicit File(const std::string* bytes) : bytes_(bytes) { path_ = kPath; }
    Result<size_t> Read(uint64_t offset, size_t n, char* buf) const override {
      if (offset >= bytes_->size()) return size_t{0};
      const size_t got = std::min<uint64_t>(n, bytes_->size() - offset);
      std::memcpy(buf, bytes_->data() + offset, got);
      return got;
    }
    uint64_t Size() const override { return bytes_->size(); }

   private:
    const std::string* bytes_;
  };
  Result<std::unique_ptr<cairn::RandomAccessFile>> NewRandomAccessFile(
      const std::string&) override {
    return std::unique_ptr<cairn::RandomAccessFile>(new File(bytes_));
  }
  Result<std::unique_ptr<cairn::WritableFile>> NewWritableFile(const std::string& p) override {
    return Unsupported(p);
  }
  Result<std::unique_ptr<cairn::WritableFile>> NewAppendableFile(const std::string& p) override {
    return Unsupported(p);
  }
  Result<std::unique_ptr<cairn::SequentialFile>> NewSequentialFile(const std::string& p) override {
    return Unsupported(p);
  }
  Status CreateDirs(const std::string& p) override { return Unsupported(p); }
  Status RemoveFile(const std::string& p) override { return Unsupported(p); }
  Status RemoveAll(const std::string& p) override { return Unsupported(p); }
  Status Rename(const std::string& p, const std::string&) override { return Unsupported(p); }
  Status SyncDir(const std::string& p) override { return Unsupported(p); }
  Result<std::vector<cairn::DirEntry>> ListDir(const std::string& p) override {
    return Unsupported(p);
  }
  bool Exists(const std::string&) override { return true; }
  Result<uint64_t> FileSize(const std::string&) override { return uint64_t{bytes_->size()}; }
  Result<std::unique_ptr<cairn::FileLock>> LockFile(const std::string& p, bool) override {
    return Unsupported(p);
  }

 private:
  static Status Unsupported(const std::string& p) {
    return Status(StatusCode::kUnsupported, "read-only: " + p);
  }
  const std::string* bytes_;
};

// The manifest entry the footer claims (so the reader gets past the summary check).
cairn::store::SegmentDesc DescOf(const std::string& b) {
  cairn::store::SegmentDesc d;
  d.file = "input.seg";
  cairn::store::testing::SegmentLayout l;
  if (cairn::store::testing::ParseSegmentLayout(b, &l)) {
    const char* f = b.data() + l.footer_off;
    d.event_count = cairn::store::DecodeFixed32(f + 4);
    d.min_time = static_cast<int64_t>(cairn::store::DecodeFixed64(f + 8));
    d.max_time = static_cast<int64_t>(cairn::store::DecodeFixed64(f + 16));
    d.partition = static_cast<int64_t>(cairn::store::DecodeFixed64(f + 24));
  }
  return d;
}

void Expect(const Status& s, const char* what) {
  if (s.ok() ||
      (s.code() == StatusCode::kCorruption && s.message().find("input.seg") != std::string::npos)) {
    return;
  }
  std::fprintf(stderr, "%s: %s\n", what, s.ToString().c_str());
  std::abort();
}

std::string Digest(const Result<Bitmap>& r, const char* what) {
  Expect(r.status(), what);
  if (!r.ok()) return "error";
  return std::to_string(r->cardinality()) + ":" + std::to_string(r->isEmpty() ? 0 : r->maximum());
}

// Every kind of read, each with its outcome folded into the digest.
std::string ReadAll(const Segment& seg) {
  std::string out;
  auto note = [&](const Status& s, const char* what) {
    Expect(s, what);
    out += s.ok() ? "ok;" : "error;";
  };
  auto times = seg.Times();
  note(times.status(), "Times");
  if (times.ok()) out += std::to_string((*times)->size()) + ";";
  note(seg.ForEachEvent([&](uint32_t o, cairn::cloudtrail::Event&& e) {
    out += std::to_string(o) + "/" + std::to_string(e.raw.size()) + ",";
    return Status::Ok();
  }),
       "ForEachEvent");
  for (std::string_view c : cairn::store::kColumnFields) {
    auto col = seg.GetColumn(c);
    note(col.status(), "GetColumn");
    if (col.ok()) out += std::to_string((*col)->dict.size()) + ",";
    note(seg.ColumnCounts(c).status(), "ColumnCounts");
  }
  out += Digest(seg.FieldPostings("eventName", "GetObject"), "FieldPostings column");
  out += Digest(seg.FieldPostings("requestParameters.bucketName", "bucket-3"), "FieldPostings");
  out += Digest(seg.FieldPostings("eventID", "00000007-0000-4000-8000-000000000007"), "Bloom");
  out += Digest(seg.TermPostings("alice"), "TermPostings");
  out += Digest(seg.TermPostings("10.0.0.1"), "TermPostings Bloom");
  out +=
      Digest(seg.FieldMatch("requestParameters.key", cairn::store::Pattern("path*")), "FieldMatch");
  out += Digest(seg.TermMatch(cairn::store::Pattern("bucket-1*")), "TermMatch");
  out += Digest(seg.ColumnPhrasePostings("amazonaws", "s3.amazonaws"), "ColumnPhrasePostings");
  note(seg.FieldValues("requestParameters.bucketName", cairn::store::Pattern("*")).status(),
       "FieldValues");
  note(seg.Fields().status(), "Fields");
  note(seg.TopValues("eventName", 3).status(), "TopValues");
  note(seg.TopValues("requestParameters.bucketName", 3).status(), "TopValues keys");
  note(seg.DistinctCount("eventID").status(), "DistinctCount");
  note(seg.ContainsId("111122223333", "x").status(), "ContainsId");
  if (seg.event_count() > 0) note(seg.Raw(seg.event_count() - 1).status(), "Raw");
  note(seg.Verify(), "Verify");
  return out;
}

void ReadTwice(const std::string& bytes) {
  OneFileSystem fs(&bytes);
  auto seg = Segment::Open(&fs, kPath, DescOf(bytes));
  Expect(seg.status(), "Open");
  if (!seg.ok()) return;
  const std::string first = ReadAll(**seg);
  const std::string again = ReadAll(**seg);
  if (first != again) {
    std::fprintf(stderr, "a second read answered differently:\n%s\n%s\n", first.c_str(),
                 again.c_str());
    std::abort();
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string bytes(reinterpret_cast<const char*>(data), size);
  ReadTwice(bytes);
  cairn::store::testing::ResealAll(&bytes);
  ReadTwice(bytes);
  return 0;
}
