#pragma once
// Streaming gzip decoding (RFC 1952) over ISA-L's igzip, exposed as a
// SequentialFile so any byte source — a local file, an S3 response body, bytes
// in memory — can be decoded the same way.
//
// The decoder reads every member of a multi-member stream (`cat a.gz b.gz`),
// checks each member's CRC-32 and length, and fails with a clear error:
//   - InvalidArgument naming the stream and the compressed byte offset for a
//   bad header, corrupt
//     deflate data, a CRC or length mismatch, a stream that ends inside a
//     member (truncated), or bytes after the last member that do not start
//     another member (trailing garbage);
//   - ResourceExhausted naming the cap when the decompressed total would exceed
//     `max_decompressed` (a gzip bomb or a mistaken cap).
// Errors are sticky: once Read has failed, every later Read returns the same
// error.
//
// Thread safety: one decoder is used by one thread at a time. Memory: a fixed
// input buffer (256 KiB) plus ISA-L's inflate state (~45 KiB); output is
// written straight into the caller's buffer, so nothing grows with the file
// size.

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include "common/fs.h"

namespace cairn::cloudtrail {

// True when `head` starts with the gzip magic bytes 1f 8b. File names are never
// consulted.
inline bool LooksGzipped(std::string_view head) {
  return head.size() >= 2 && static_cast<unsigned char>(head[0]) == 0x1f &&
         static_cast<unsigned char>(head[1]) == 0x8b;
}

// Wraps `compressed` (positioned at the first gzip header) in a file whose Read
// returns the decompressed bytes. `name` (a path or S3 key) prefixes every
// error message. The result owns `compressed`.
std::unique_ptr<SequentialFile> NewGunzipFile(std::unique_ptr<SequentialFile> compressed,
                                              std::string name, uint64_t max_decompressed);

}  // namespace cairn::cloudtrail
