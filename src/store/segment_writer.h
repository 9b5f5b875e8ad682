#pragma once
// Writes one segment file from events given in time order. Streaming: raw event blocks are
// compressed and appended as they fill; columns, postings and Bloom filters are held in memory
// (proportional to the segment's event count) and written by Finish.
//
// Not thread-safe; one writer per file. On any error the file is left incomplete and the caller
// must call Abandon() (which removes it); an incomplete file is never listed in a manifest.

#include <cstdint>
#include <memory>
#include <span>
#include <string>

#include "cloudtrail/event.h"
#include "common/fs.h"
#include "common/status.h"
#include "store/fields.h"
#include "store/segment_format.h"

namespace cairn::store {

struct SegmentWriterOptions {
  int zstd_level = 1;                 // raw event blocks (level 1 is both faster and, on 256 KiB
                                      // blocks of CloudTrail JSON, smaller than level 3)
  int meta_zstd_level = 3;            // columns, keys, ids, time
  size_t block_bytes = 256 << 10;     // target uncompressed size of a raw event block
  size_t key_block_bytes = 64 << 10;  // target uncompressed size of a keys-table block
  int bloom_bits_per_key = 16;        // with kBloomProbes probes: ~0.05% false positives
  // How many events the caller expects to add (0: unknown). A hint only: it pre-sizes the
  // in-memory tables so they are not rehashed while growing.
  uint32_t expected_events = 0;
  // Lanes of raw events (format 5 and later): once a segment's first block is full, its events
  // are spread over this many lanes by event name, each block holding events of one lane, so that
  // a search for one event name decompresses about 1/raw_lanes of the blocks. 1: one lane, the
  // blocks in time order (as formats 2 to 4). At most kMaxLanes.
  uint32_t raw_lanes = 8;
  // The format written: the current one, or (for tests of older segments) version 2 or 3.
  uint32_t format_version = kSegmentVersion;
  // The columns written (format 4 and later; formats 2 and 3 hold kLegacyColumnFields exactly).
  // Tests write other sets to check that readers map columns by name.
  std::span<const ColumnSpec> columns = DefaultColumns();
  // The JSON leaves whose value hashes are kept (format 4 and later): kHashedFields, or none for
  // tests of segments written before.
  std::span<const std::string_view> hashed_fields = kHashedFields;
  // A Bloom filter of the terms of the JSON columns' values (format 4 and later), so that a
  // search term rules out the dictionaries that cannot hold it without reading them.
  bool column_term_filter = true;
  // The filter also holds each two pieces side by side in a value (kColumnTermFilterPairs);
  // false only to write the earlier form, in tests.
  bool column_term_filter_pairs = true;
};

struct SegmentFileInfo {
  std::string path;
  uint64_t file_size = 0;
  uint32_t event_count = 0;
  int64_t min_time = 0;
  int64_t max_time = 0;
  int64_t partition = 0;  // UTC day number
  uint32_t crc = 0;       // CRC-32 of the footer (identifies this exact file)
};

class SegmentWriter {
 public:
  SegmentWriter(FileSystem* fs, std::string path, int64_t partition,
                SegmentWriterOptions options = {});
  ~SegmentWriter();
  SegmentWriter(const SegmentWriter&) = delete;
  SegmentWriter& operator=(const SegmentWriter&) = delete;

  // Creates the file. Must be called first.
  Status Open();
  // Adds one event. Times must not decrease and must lie in the writer's partition (UTC day).
  // InvalidArgument when the event's JSON is not an object or the order is wrong.
  Status Add(const cloudtrail::Event& event);
  uint32_t event_count() const;
  // Writes indexes and footer, fsyncs and closes. At least one event must have been added.
  Result<SegmentFileInfo> Finish();
  // Closes and removes the file (best effort).
  void Abandon();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cairn::store
