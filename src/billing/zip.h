#pragma once
// Reading the one CSV inside a ZIP archive (the Detailed Billing Report, ZIP-compressed CUR files)
// with libzip, as a stream: zip_fread inflates a chunk at a time, so memory does not grow with the
// entry's size. The archive is read through a RandomAccessFile (its central directory is at the
// end).
//
// A report archive is untrusted input. OpenZipEntry refuses, with InvalidArgument (Unsupported for
// an encrypted entry or another compression method) naming the archive and the problem, before
// anything is read from the entry:
//   - bytes that are not a consistent ZIP archive (libzip's checks, ZIP_CHECKCONS);
//   - anything but exactly one entry;
//   - an entry name that is empty, holds a path ('/', '\\', "..") or a control character, or does
//     not end in ".csv";
//   - an encrypted entry; a compression method other than stored or deflate;
//   - a declared uncompressed size above ZipLimits::max_entry_bytes, or a deflated entry whose
//     declared size is more than ZipLimits::max_ratio times its compressed size.
// While reading, an entry that inflates to more bytes than it declared, or fails its CRC-32, is an
// error (Corruption) naming the archive.
//
// Thread safety: one stream per thread.

#include <cstdint>
#include <memory>
#include <string>

#include "common/fs.h"
#include "common/status.h"

namespace cairn::billing {

struct ZipLimits {
  uint64_t max_entry_bytes = uint64_t{64} << 30;
  // Deflate cannot exceed about 1032:1; CSV reports compress 10-60:1.
  uint64_t max_ratio = 1100;
};

struct ZipEntryInfo {
  std::string name;
  uint64_t size = 0;             // declared uncompressed size
  uint64_t compressed_size = 0;  // declared compressed size
  uint32_t crc = 0;
};

// Opens the single entry of the archive in `file`; `name` names the archive in messages.
Result<std::unique_ptr<SequentialFile>> OpenZipEntry(std::unique_ptr<RandomAccessFile> file,
                                                     const std::string& name,
                                                     const ZipLimits& limits,
                                                     ZipEntryInfo* info = nullptr);

// Writes `text` as the one entry `entry_name` (deflate, a fixed modification time, so the same
// text gives the same bytes) of a new archive at `path` (replaced atomically). For the generator
// and tests.
Status WriteZip(const std::string& path, const std::string& entry_name, std::string_view text);

}  // namespace cairn::billing
