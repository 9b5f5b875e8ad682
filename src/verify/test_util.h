#pragma once
// Helpers for the verify tests: base64, gzip, and a small bucket of log files with digests.

#include <openssl/evp.h>

#include <string>
#include <string_view>

#include "common/fs.h"
#include "common/safe_path.h"
#include "generate/gzip_writer.h"

namespace cairn::verify::testing {

inline std::string Base64Decode(std::string_view b64) {
  std::string out(b64.size(), '\0');
  int n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                          reinterpret_cast<const unsigned char*>(b64.data()),
                          static_cast<int>(b64.size()));
  if (n < 0) return {};
  size_t pad = 0;
  while (pad < b64.size() && b64[b64.size() - 1 - pad] == '=') ++pad;
  out.resize(static_cast<size_t>(n) - pad);
  return out;
}

inline std::string Gzip(std::string_view data) {
  generate::GzipCompressor gz;
  auto out = gz.Compress(data);
  return out.ok() ? std::string(*out) : std::string();
}

inline void WriteObject(const std::string& root, const std::string& key, std::string_view bytes) {
  FileSystem* fs = FileSystem::Default();
  auto path = PathUnder(fs, root, key);
  ASSERT_TRUE(path.ok()) << path.status().ToString();
  ASSERT_TRUE(fs->CreateDirs(DirName(*path)).ok());
  ASSERT_TRUE(WriteFileAtomic(fs, *path, bytes).ok());
}

}  // namespace cairn::verify::testing
