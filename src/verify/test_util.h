#pragma once
// Helpers for the verify tests: base64, gzip, and a small bucket of log files with digests.

#include <string>
#include <string_view>

#include "common/fs.h"
#include "common/safe_path.h"
#include "generate/gzip_writer.h"
#include "verify/crypto.h"

namespace cairn::verify::testing {

inline std::string Base64Decode(std::string_view b64) {
  return verify::Base64Decode(b64).value_or("");
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
