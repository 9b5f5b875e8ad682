// Opening a segment: header, trailer, footer, section table and block index, every length and
// offset checked against the part of the file it must lie in; and the checked reads of whole
// sections and of single zstd frames that the other parts of the reader go through.

#include "common/log.h"
#include "store/encoding.h"
#include "store/segment_internal.h"

namespace cairn::store {

using internal::BlockInfo;
using internal::InRange;
using internal::SectionInfo;

Segment::~Segment() {
  if (obsolete_.load()) {
    if (impl_) impl_->file.reset();
    Status s = fs_->RemoveFile(path_);
    if (!s.ok() && s.code() != StatusCode::kNotFound) {
      log::Warn("removing obsolete segment {}: {}", path_, s.message());
    }
  }
}

uint32_t Segment::block_count() const { return static_cast<uint32_t>(impl_->blocks.size()); }

namespace {

struct Footer {
  uint32_t version = 0, count = 0, nblocks = 0, nsections = 0;
  int64_t min_time = 0, max_time = 0, partition = 0;
};

constexpr SectionId kRequiredSections[] = {
    SectionId::kBlocks, SectionId::kBlockIndex, SectionId::kBlooms,
    SectionId::kTime,   SectionId::kIds,        SectionId::kColumns,
    SectionId::kKeys,   SectionId::kKeyIndex,   SectionId::kFieldCatalog};

constexpr size_t kSectionEntrySize = 28;  // u32 id, u64 offset, u64 size, u32 crc, u32 raw size
constexpr uint32_t kMaxSections = 64;

// Reads the footer's fixed fields and its section table into `m.sections`. Sections must lie
// between the header and the footer; an id seen twice is Corruption.
Status ParseFooter(const std::string& path, std::string_view footer, uint64_t footer_off, Footer* f,
                   Segment::Impl* m) {
  Reader r(footer);
  uint64_t min_t = 0, max_t = 0, part = 0;
  r.GetFixed32(&f->version);
  r.GetFixed32(&f->count);
  r.GetFixed64(&min_t);
  r.GetFixed64(&max_t);
  r.GetFixed64(&part);
  r.GetFixed32(&f->nblocks);
  r.GetFixed32(&f->nsections);
  if (!r.ok()) return Corruption("{}: malformed footer", path);
  f->min_time = static_cast<int64_t>(min_t);
  f->max_time = static_cast<int64_t>(max_t);
  f->partition = static_cast<int64_t>(part);
  if (f->nsections > kMaxSections || r.remaining() != uint64_t{f->nsections} * kSectionEntrySize) {
    return Corruption("{}: malformed section table ({} sections in {} bytes)", path, f->nsections,
                      r.remaining());
  }
  for (uint32_t i = 0; i < f->nsections; ++i) {
    uint32_t id = 0, crc = 0, raw = 0;
    uint64_t off = 0, sz = 0;
    r.GetFixed32(&id);
    r.GetFixed64(&off);
    r.GetFixed64(&sz);
    r.GetFixed32(&crc);
    r.GetFixed32(&raw);
    if (off < kSegmentHeaderSize || !InRange(off, sz, footer_off)) {
      return Corruption("{}: section {} (offset {}, {} bytes) lies outside the sections", path, id,
                        off, sz);
    }
    if (id >= std::size(m->sections)) continue;  // a later version's section: not read
    if (m->sections[id].present) return Corruption("{}: section {} listed twice", path, id);
    m->sections[id] = SectionInfo{off, sz, crc, raw, true};
  }
  return Status::Ok();
}

// Reads the block index (section 2): entries contiguous in ordinals, each frame inside the blocks
// section, raw sizes within the format's limit and able to hold their events' lengths.
Status ParseBlockIndex(const std::string& path, const Footer& f, Segment::Impl* m) {
  const SectionInfo& bi = m->section(SectionId::kBlockIndex);
  const SectionInfo& data = m->section(SectionId::kBlocks);
  if (bi.size != uint64_t{f.nblocks} * kBlockIndexEntrySize) {
    return Corruption("{}: block index holds {} bytes for {} blocks", path, bi.size, f.nblocks);
  }
  std::string bytes(bi.size, '\0');
  RETURN_IF_ERROR(m->file->ReadExact(bi.offset, bi.size, bytes.data()));
  if (Crc32(bytes) != bi.crc) {
    return Corruption("{}: block index checksum mismatch at offset {}", path, bi.offset);
  }
  Reader br(bytes);
  std::vector<uint64_t> expect_first(kMaxLanes, 0);
  uint64_t total = 0;
  m->blocks.reserve(f.nblocks);
  for (uint32_t i = 0; i < f.nblocks; ++i) {
    BlockInfo b;
    uint64_t mn = 0, mx = 0, unused64 = 0;
    uint32_t lane = 0;
    br.GetFixed64(&b.offset);
    br.GetFixed32(&b.csize);
    br.GetFixed32(&b.rsize);
    br.GetFixed32(&b.first);
    br.GetFixed32(&b.count);
    br.GetFixed64(&mn);
    br.GetFixed64(&mx);
    br.GetFixed32(&b.crc);
    br.GetFixed32(&lane);
    br.GetFixed64(&unused64);
    b.min_time = static_cast<int64_t>(mn);
    b.max_time = static_cast<int64_t>(mx);
    // Before version 5 the lane's place held format 1's Bloom filter words: one lane.
    b.lane = m->version >= 5 ? lane : 0;
    // Each event has at least one byte (its length varint) in the block's raw content; a lane's
    // blocks follow each other in rank order.
    if (b.lane >= kMaxLanes || b.first != expect_first[b.lane] || b.count == 0 ||
        b.count > b.rsize || b.rsize > kMaxFrameRawBytes || b.offset < data.offset ||
        !InRange(b.offset - data.offset, b.csize, data.size) || b.min_time > b.max_time) {
      return Corruption("{}: block index entry {} is inconsistent", path, i);
    }
    expect_first[b.lane] += b.count;
    total += b.count;
    m->lane_count = std::max(m->lane_count, b.lane + 1);
    m->blocks.push_back(b);
  }
  if (total != f.count) {
    return Corruption("{}: blocks hold {} events, footer says {}", path, total, f.count);
  }
  m->laned = m->lane_count > 1;
  if (m->laned && !m->section(SectionId::kLanes).present) {
    return Corruption("{}: blocks of {} lanes but no lanes section", path, m->lane_count);
  }
  return Status::Ok();
}

}  // namespace

Result<std::shared_ptr<Segment>> Segment::Open(FileSystem* fs, const std::string& path,
                                               const SegmentDesc& desc) {
  std::shared_ptr<Segment> seg(new Segment());
  seg->fs_ = fs;
  seg->path_ = path;
  seg->desc_ = desc;
  seg->impl_ = std::make_unique<Impl>();
  Impl& m = *seg->impl_;
  ASSIGN_OR_RETURN(m.file, fs->NewRandomAccessFile(path));
  const uint64_t size = m.file->Size();
  if (size < kSegmentHeaderSize + kSegmentTrailerSize) {
    return Corruption("{}: too short for a segment ({} bytes)", path, size);
  }
  char header[kSegmentHeaderSize];
  RETURN_IF_ERROR(m.file->ReadExact(0, sizeof(header), header));
  if (std::string_view(header, 8) != kSegmentMagic) return Corruption("{}: bad magic", path);
  m.version = DecodeFixed32(header + 8);
  if (m.version < kOldestSegmentVersion || m.version > kSegmentVersion) {
    return Corruption("{}: unsupported segment version {}", path, m.version);
  }
  if (DecodeFixed32(header + 12) != 0) return Corruption("{}: unknown header flags", path);
  if (desc.event_count == 0 || desc.event_count > kMaxSegmentEvents) {
    return Corruption("{}: the manifest lists {} events (1 to {} allowed)", path, desc.event_count,
                      kMaxSegmentEvents);
  }
  m.event_count = desc.event_count;
  char trailer[kSegmentTrailerSize];
  RETURN_IF_ERROR(m.file->ReadExact(size - kSegmentTrailerSize, sizeof(trailer), trailer));
  if (std::string_view(trailer + 8, 8) != kSegmentEndMagic) {
    return Corruption("{}: bad end magic (incomplete file?)", path);
  }
  const uint32_t footer_len = DecodeFixed32(trailer);
  const uint32_t footer_crc = DecodeFixed32(trailer + 4);
  if (footer_len > size - kSegmentHeaderSize - kSegmentTrailerSize) {
    return Corruption("{}: footer length {} out of range", path, footer_len);
  }
  std::string footer(footer_len, '\0');
  const uint64_t footer_off = size - kSegmentTrailerSize - footer_len;
  RETURN_IF_ERROR(m.file->ReadExact(footer_off, footer_len, footer.data()));
  if (Crc32(footer) != footer_crc) {
    return Corruption("{}: footer checksum mismatch at offset {}", path, footer_off);
  }
  if (desc.footer_crc != 0 && desc.footer_crc != footer_crc) {
    return Corruption("{}: file is not the one the manifest lists (footer crc)", path);
  }
  Footer f;
  RETURN_IF_ERROR(ParseFooter(path, footer, footer_off, &f, &m));
  if (f.version != m.version) {
    return Corruption("{}: footer version {} differs from the header's {}", path, f.version,
                      m.version);
  }
  if (f.count != desc.event_count || f.min_time != desc.min_time || f.max_time != desc.max_time ||
      f.partition != desc.partition || f.min_time > f.max_time) {
    return Corruption("{}: footer summary does not match the manifest", path);
  }
  for (SectionId id : kRequiredSections) {
    if (!m.section(id).present) {
      return Corruption("{}: section {} missing", path, static_cast<uint32_t>(id));
    }
  }
  RETURN_IF_ERROR(ParseBlockIndex(path, f, &m));
  return seg;
}

namespace internal {

Status ReadSection(const RandomAccessFile& file, const SectionInfo& s, std::string* out,
                   std::string_view name, uint64_t max_raw) {
  // A compressed section is one frame: its raw size is checked before its bytes are read.
  if (s.raw_size > max_raw) {
    return Corruption("{}: {} section decompresses to {} bytes, beyond the limit of {}",
                      file.path(), name, s.raw_size, max_raw);
  }
  std::string bytes(s.size, '\0');
  RETURN_IF_ERROR(file.ReadExact(s.offset, s.size, bytes.data()));
  if (Crc32(bytes) != s.crc) {
    return Corruption("{}: {} section checksum mismatch at offset {}", file.path(), name, s.offset);
  }
  if (s.raw_size > 0) {
    return ZstdDecompress(bytes, s.raw_size, out, fmt::format("{}: {} section", file.path(), name),
                          max_raw);
  }
  *out = std::move(bytes);
  return Status::Ok();
}

namespace {

// Reads frame `f`'s stored bytes into a buffer reused by the thread and checks its CRC and sizes.
Result<std::string_view> ReadCheckedFrame(const RandomAccessFile& file, const Frame& f,
                                          std::string_view what, uint64_t max_raw) {
  if (f.rsize > max_raw || f.rsize / kMaxZstdExpansion > f.csize) {
    return Corruption("{}: {} at offset {}: {} stored bytes cannot hold {} (limit {})", file.path(),
                      what, f.offset, f.csize, f.rsize, max_raw);
  }
  thread_local std::string scratch;
  if (scratch.size() < f.csize) scratch.resize(f.csize);
  if (scratch.size() > (kMaxFrameRawBytes >> 2) && f.csize < (scratch.size() >> 4)) {
    std::string().swap(scratch);  // one huge frame should not pin its buffer for the thread's life
    scratch.resize(f.csize);
  }
  RETURN_IF_ERROR(file.ReadExact(f.offset, f.csize, scratch.data()));
  std::string_view bytes(scratch.data(), f.csize);
  if (Crc32(bytes) != f.crc) {
    return Corruption("{}: {} checksum mismatch at offset {}", file.path(), what, f.offset);
  }
  if (Status s = CheckZstdFrame(bytes, f.rsize, what, max_raw); !s.ok()) {
    return Corruption("{}: {}", file.path(), s.message());
  }
  return bytes;
}

}  // namespace

Status ReadFrame(const RandomAccessFile& file, const Frame& f, std::string* out,
                 std::string_view what, uint64_t max_raw) {
  ASSIGN_OR_RETURN(std::string_view bytes, ReadCheckedFrame(file, f, what, max_raw));
  out->resize(f.rsize);
  return ZstdDecompressTo(bytes, f.rsize, out->data(), fmt::format("{}: {}", file.path(), what));
}

Status ReadFrame(const RandomAccessFile& file, const Frame& f, std::unique_ptr<char[]>* out,
                 std::string_view what, uint64_t max_raw) {
  ASSIGN_OR_RETURN(std::string_view bytes, ReadCheckedFrame(file, f, what, max_raw));
  *out = std::make_unique_for_overwrite<char[]>(f.rsize);
  return ZstdDecompressTo(bytes, f.rsize, out->get(), fmt::format("{}: {}", file.path(), what));
}

}  // namespace internal
}  // namespace cairn::store
