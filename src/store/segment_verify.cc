// Segment::Verify: every byte of the file read, every checksum checked, every part decoded.

#include "store/encoding.h"
#include "store/segment_internal.h"

namespace cairn::store {

Status Segment::Verify() const {
  Impl& m = *impl_;
  const RandomAccessFile& file = *m.file;
  // Every section's CRC over its stored bytes.
  for (uint32_t id = 1; id < std::size(m.sections); ++id) {
    const internal::SectionInfo& s = m.sections[id];
    if (!s.present) continue;
    uint32_t crc = 0;
    std::string buf;
    for (uint64_t off = 0; off < s.size; off += buf.size()) {
      buf.resize(static_cast<size_t>(std::min<uint64_t>(4u << 20, s.size - off)));
      RETURN_IF_ERROR(file.ReadExact(s.offset + off, buf.size(), buf.data()));
      crc = Crc32(buf, crc);
    }
    if (crc != s.crc) {
      return Corruption("{}: section {} checksum mismatch (offset {}, {} bytes)", path_, id,
                        s.offset, s.size);
    }
  }
  // Every block decodes.
  for (uint32_t b = 0; b < m.blocks.size(); ++b) {
    internal::DecodedBlock block;
    RETURN_IF_ERROR(internal::ReadBlock(m, b, &block));
  }
  // The lanes agree with the blocks.
  RETURN_IF_ERROR(internal::LoadLanes(m).status());
  // Every column frame decodes, and each column's stored value counts agree with its codes.
  ASSIGN_OR_RETURN(auto frames, internal::ColumnFrames(m, path_));
  std::string raw;
  for (const auto& [what, frame] : frames) {
    RETURN_IF_ERROR(internal::ReadFrame(file, frame, &raw, what));
  }
  for (size_t c = 0; c < m.cols.size(); ++c) {
    ASSIGN_OR_RETURN(auto col, internal::LoadColumn(m, path_, c));
    ASSIGN_OR_RETURN(auto counts, internal::LoadCounts(m, path_, c));
    if (internal::CountCodes(*col) != *counts) {
      return Corruption("{}: column {} value counts disagree with its codes", path_,
                        m.cols[c].name);
    }
  }
  for (size_t h = 0; h < m.hashed.size(); ++h) {
    RETURN_IF_ERROR(internal::LoadValueHashes(m, path_, h).status());
  }
  // Every key block and every posting.
  RETURN_IF_ERROR(internal::LoadKeyIndex(m, path_));
  for (size_t b = 0; b < m.key_blocks.size(); ++b) {
    ASSIGN_OR_RETURN(auto block, internal::LoadKeyBlock(m, path_, b));
    for (const internal::KeyEntry& e : block->entries) {
      Bitmap bm;
      RETURN_IF_ERROR(internal::DecodePosting(e.posting, desc_.event_count, &bm, path_));
    }
  }
  RETURN_IF_ERROR(internal::LoadCatalog(m, path_));
  // The time column and the ids (which also reads every event holding a derived id).
  RETURN_IF_ERROR(Times().status());
  RETURN_IF_ERROR(internal::LoadIds(m, path_).status());
  return Status::Ok();
}

}  // namespace cairn::store
