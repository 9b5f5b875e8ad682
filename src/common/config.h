#pragma once
// Configuration: one flat map of dotted keys ("store.segment_bytes", "log.level") built from, in
// rising precedence, built-in defaults, a TOML file, CAIRN_* environment variables and command-line
// flags. A TOML table [store] with key segment_bytes becomes "store.segment_bytes"; the variable
// CAIRN_STORE_SEGMENT_BYTES sets the same key (upper case, dots and dashes as underscores).
// Values are kept as text and converted on read, with errors naming the key and its source.
//
// Thread safety: build on one thread, then share read-only.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn {

class Config {
 public:
  // Reads a TOML file and merges its keys over the current ones. Errors name the file and line.
  Status LoadTomlFile(const std::string& path);
  Status LoadTomlString(std::string_view text, std::string_view origin);

  // Merges CAIRN_* variables for every key in `known_keys` (and any key already set).
  // `environ_list` is the process environment ("NAME=value" strings).
  void LoadEnvironment(const std::vector<std::string>& environ_list,
                       const std::vector<std::string>& known_keys);

  void Set(std::string key, std::string value, std::string origin);

  bool Has(std::string_view key) const;
  std::optional<std::string> GetString(std::string_view key) const;
  std::string GetString(std::string_view key, std::string_view fallback) const;
  Result<int64_t> GetInt(std::string_view key, int64_t fallback) const;
  Result<bool> GetBool(std::string_view key, bool fallback) const;
  // Sizes such as "64MiB", "1GB", "4096" (bytes).
  Result<uint64_t> GetBytes(std::string_view key, uint64_t fallback) const;
  // Durations such as "30s", "5m", "250ms", "2h", "7d"; a bare number is seconds. In milliseconds.
  Result<int64_t> GetDurationMillis(std::string_view key, int64_t fallback) const;

  // Where a key's value came from ("default", a file path, "env CAIRN_X", "flag --x").
  std::string Origin(std::string_view key) const;
  std::vector<std::string> Keys() const;

  // The environment variable that sets `key`.
  static std::string EnvName(std::string_view key);

 private:
  struct Entry {
    std::string value;
    std::string origin;
  };
  std::map<std::string, Entry, std::less<>> entries_;
};

// Parses "64MiB", "2G", "100k", "4096" into bytes.
std::optional<uint64_t> ParseBytes(std::string_view text);
// Parses "30s", "5m", "250ms", "2h", "7d", "1w" (bare number = seconds) into milliseconds.
std::optional<int64_t> ParseDurationMillis(std::string_view text);

}  // namespace cairn
