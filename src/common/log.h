#pragma once
// Leveled logging to stderr, as human text or as JSON lines (one object per line with ts, level,
// msg and any fields). Thread-safe: each record is written with one write(2) under a mutex.
// Callers must never pass secrets in a message or field; AWS layers redact before logging.

#include <fmt/format.h>

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cairn::log {

enum class Level { kDebug = 0, kInfo, kWarn, kError, kOff };
enum class Format { kText, kJson };

// Parses "debug|info|warn|error|off" (case-insensitive). Returns false on anything else.
bool ParseLevel(std::string_view text, Level* out);

void SetLevel(Level level);
Level GetLevel();
void SetFormat(Format format);
// Sends records to `fd` instead of stderr (tests use a pipe or file).
void SetFd(int fd);

using Fields = std::vector<std::pair<std::string, std::string>>;

// Writes one record if `level` is enabled.
void Write(Level level, std::string_view message, const Fields& fields = {});

inline bool Enabled(Level level) { return level >= GetLevel(); }

// The last warnings and errors written, newest last: kept only after KeepRecent(n) with n > 0
// (cairn serve's status page shows them), at most n of them. Like every record, they hold no
// secrets.
struct RecentRecord {
  int64_t time_ms = 0;
  Level level = Level::kWarn;
  std::string message;
};
void KeepRecent(size_t n);
std::vector<RecentRecord> Recent();

template <typename... Args>
void Debug(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kDebug)) Write(Level::kDebug, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Info(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kInfo)) Write(Level::kInfo, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Warn(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kWarn)) Write(Level::kWarn, fmt::format(f, std::forward<Args>(args)...));
}
template <typename... Args>
void Error(fmt::format_string<Args...> f, Args&&... args) {
  if (Enabled(Level::kError)) Write(Level::kError, fmt::format(f, std::forward<Args>(args)...));
}

}  // namespace cairn::log
