#pragma once
// The manifest of an index (the list of its live segments) and the index's configuration file,
// both small text files replaced atomically. Formats: docs/format/manifest.md.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "store/segment.h"

namespace cairn::store {

inline constexpr std::string_view kManifestFile = "MANIFEST";
inline constexpr std::string_view kConfigFile = "CONFIG";
inline constexpr std::string_view kSegmentSuffix = ".seg";

struct Manifest {
  uint64_t generation = 0;  // +1 on every replacement
  uint64_t next_seq = 1;    // sequence number for the next segment file
  std::vector<SegmentDesc> segments;
};

std::string EncodeManifest(const Manifest& manifest);
// Corruption naming `path` and the line on any malformed or truncated input or checksum mismatch.
Result<Manifest> DecodeManifest(std::string_view text, const std::string& path);

// Retention of one index. Zero means "no limit".
struct RetentionPolicy {
  int64_t max_age_ms = 0;  // drop segments whose newest event is older than now - max_age
  uint64_t max_bytes = 0;  // then drop oldest segments while the index is larger than this
};

std::string EncodeConfig(const RetentionPolicy& retention);
Result<RetentionPolicy> DecodeConfig(std::string_view text, const std::string& path);

// Whether `token` may name a replacement group or version in a manifest: 1 to 200 of
// [A-Za-z0-9_.:/@+=-].
bool IsGroupToken(std::string_view token);

// The segment file name for sequence number `seq` in UTC day `partition`.
std::string SegmentFileName(uint64_t seq, int64_t partition);

}  // namespace cairn::store
