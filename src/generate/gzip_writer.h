#pragma once
// One-shot gzip compression with ISA-L (igzip, level 1): the generator's output must be produced
// at several hundred MB/s per core, which zlib cannot do. The output is a single gzip member with
// a fixed header (no name, mtime 0), so equal input gives equal bytes.
//
// A GzipCompressor keeps its buffers between calls; use one per thread.

#include <cstdint>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::generate {

class GzipCompressor {
 public:
  GzipCompressor();
  // Compresses `in`; the result stays valid until the next call. Internal on an ISA-L failure.
  Result<std::string_view> Compress(std::string_view in);

 private:
  std::vector<uint8_t> level_buf_;
  std::vector<uint8_t> out_;
};

}  // namespace cairn::generate
