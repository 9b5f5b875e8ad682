// Segment::SizeReport: every byte of the file attributed to a part (`cairn index info --sections`).

#include <algorithm>
#include <map>

#include "store/segment_internal.h"

namespace cairn::store {

Result<std::vector<PartSize>> Segment::SizeReport() const {
  Impl& m = *impl_;
  std::vector<PartSize> parts;
  uint64_t sections_total = 0;
  for (const internal::SectionInfo& s : m.sections) sections_total += s.present ? s.size : 0;
  parts.push_back({"header, footer, trailer", m.file->Size() - sections_total, 0, 0});
  static constexpr std::pair<SectionId, std::string_view> kWhole[] = {
      {SectionId::kBlocks, "blocks"},
      {SectionId::kBlockIndex, "block index"},
      {SectionId::kBlooms, "Bloom filters"},
      {SectionId::kTime, "time"},
      {SectionId::kIds, "ids"},
      {SectionId::kLanes, "lanes"},
      {SectionId::kKeyIndex, "key index"},
      {SectionId::kFieldCatalog, "field catalog"}};
  for (const auto& [id, name] : kWhole) {
    const internal::SectionInfo& s = m.section(id);
    uint64_t raw = s.raw_size;
    if (id == SectionId::kBlocks) {
      raw = 0;
      for (const internal::BlockInfo& b : m.blocks) raw += b.rsize;
    }
    parts.push_back({std::string(name), s.present ? s.size : 0, raw, 0});
  }
  // Columns: each column's two frames, then the directory (what the frames leave of the section).
  ASSIGN_OR_RETURN(auto frames, internal::ColumnFrames(m, path_));
  uint64_t frame_bytes = 0;
  for (const auto& [what, frame] : frames) {
    parts.push_back({"columns: " + what.substr(std::string_view("column ").size()), frame.csize,
                     frame.rsize, 0});
    frame_bytes += frame.csize;
  }
  for (size_t c = 0; c < m.cols.size(); ++c) {
    ASSIGN_OR_RETURN(auto dict, internal::LoadDict(m, path_, c));
    parts[parts.size() - frames.size() + 2 * c].entries = dict->size();
  }
  parts.push_back({"columns: directory", m.section(SectionId::kColumns).size - frame_bytes, 0, 0});
  // Keys: each entry's share of its block's frame, by field.
  RETURN_IF_ERROR(internal::LoadKeyIndex(m, path_));
  std::map<std::string, PartSize, std::less<>> by_field;
  uint64_t key_frames = 0;
  for (size_t b = 0; b < m.key_blocks.size(); ++b) {
    ASSIGN_OR_RETURN(auto block, internal::LoadKeyBlock(m, path_, b));
    const internal::KeyBlockInfo& info = m.key_blocks[b];
    key_frames += info.csize;
    // Each entry's bytes in the block: its key's suffix after the prefix it shares with the
    // previous key, and its posting.
    std::vector<uint64_t> raws(block->entries.size());
    uint64_t block_raw = 0;
    for (size_t i = 0; i < block->entries.size(); ++i) {
      const std::string& key = block->entries[i].key;
      size_t shared = 0;
      if (i > 0) {
        const std::string& prev = block->entries[i - 1].key;
        while (shared < std::min(prev.size(), key.size()) && prev[shared] == key[shared]) ++shared;
      }
      raws[i] = key.size() - shared + block->entries[i].posting.size();
      block_raw += raws[i];
    }
    uint64_t assigned = 0;
    for (size_t i = 0; i < block->entries.size(); ++i) {
      std::string_view key = block->entries[i].key;
      std::string_view field = key.empty() || key[0] != kFieldKeyPrefix
                                   ? std::string_view("(terms)")
                                   : key.substr(1, key.find('\0') - 1);
      auto it = by_field.find(field);
      if (it == by_field.end()) {
        it = by_field.emplace(std::string(field), PartSize{"keys: " + std::string(field), 0, 0, 0})
                 .first;
      }
      // The block's last entry takes the rounding remainder, so the parts sum to the section.
      const uint64_t share = i + 1 == block->entries.size()
                                 ? info.csize - assigned
                                 : info.csize * raws[i] / std::max<uint64_t>(block_raw, 1);
      assigned += share;
      it->second.bytes += share;
      it->second.raw_bytes += raws[i];
      ++it->second.entries;
    }
  }
  for (auto& [field, part] : by_field) parts.push_back(std::move(part));
  parts.push_back({"keys: between blocks", m.section(SectionId::kKeys).size - key_frames, 0, 0});
  return parts;
}

}  // namespace cairn::store
