#include "common/log.h"

#include <unistd.h>

#include <atomic>
#include <chrono>
#include <ctime>
#include <deque>
#include <mutex>

#include "common/json_util.h"

namespace cairn::log {
namespace {

std::atomic<Level> g_level{Level::kInfo};
std::atomic<Format> g_format{Format::kText};
std::atomic<int> g_fd{2};
std::mutex g_mu;
std::mutex g_recent_mu;
size_t g_recent_max = 0;            // under g_recent_mu
std::deque<RecentRecord> g_recent;  // under g_recent_mu

std::string_view LevelName(Level level) {
  switch (level) {
    case Level::kDebug: return "debug";
    case Level::kInfo: return "info";
    case Level::kWarn: return "warn";
    case Level::kError: return "error";
    case Level::kOff: return "off";
  }
  return "info";
}

std::string Timestamp() {
  auto now = std::chrono::system_clock::now();
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(now.time_since_epoch()).count();
  std::time_t secs = ms / 1000;
  std::tm tm{};
  gmtime_r(&secs, &tm);
  return fmt::format("{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z", tm.tm_year + 1900, tm.tm_mon + 1,
                     tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, ms % 1000);
}

}  // namespace

bool ParseLevel(std::string_view text, Level* out) {
  std::string lower;
  for (char c : text)
    lower.push_back(static_cast<char>(std::tolower(static_cast<unsigned char>(c))));
  if (lower == "debug")
    *out = Level::kDebug;
  else if (lower == "info")
    *out = Level::kInfo;
  else if (lower == "warn" || lower == "warning")
    *out = Level::kWarn;
  else if (lower == "error")
    *out = Level::kError;
  else if (lower == "off")
    *out = Level::kOff;
  else
    return false;
  return true;
}

void SetLevel(Level level) { g_level = level; }
Level GetLevel() { return g_level; }
void SetFormat(Format format) { g_format = format; }
void SetFd(int fd) { g_fd = fd; }

void KeepRecent(size_t n) {
  std::lock_guard<std::mutex> lock(g_recent_mu);
  g_recent_max = n;
  while (g_recent.size() > n) g_recent.pop_front();
}

std::vector<RecentRecord> Recent() {
  std::lock_guard<std::mutex> lock(g_recent_mu);
  return std::vector<RecentRecord>(g_recent.begin(), g_recent.end());
}

void Write(Level level, std::string_view message, const Fields& fields) {
  if (!Enabled(level) || level == Level::kOff) return;
  if (level >= Level::kWarn) {
    std::lock_guard<std::mutex> lock(g_recent_mu);
    if (g_recent_max > 0) {
      const int64_t now = std::chrono::duration_cast<std::chrono::milliseconds>(
                              std::chrono::system_clock::now().time_since_epoch())
                              .count();
      g_recent.push_back(RecentRecord{now, level, std::string(message)});
      while (g_recent.size() > g_recent_max) g_recent.pop_front();
    }
  }
  std::string line;
  if (g_format == Format::kJson) {
    line = "{\"ts\":\"" + Timestamp() + "\",\"level\":\"" + std::string(LevelName(level)) +
           "\",\"msg\":";
    AppendJsonString(&line, message);
    for (const auto& [k, v] : fields) {
      line.push_back(',');
      AppendJsonString(&line, k);
      line.push_back(':');
      AppendJsonString(&line, v);
    }
    line += "}\n";
  } else {
    line = Timestamp() + " " + std::string(LevelName(level)) + " " + std::string(message);
    for (const auto& [k, v] : fields) line += " " + k + "=" + v;
    line += "\n";
  }
  std::lock_guard<std::mutex> lock(g_mu);
  size_t off = 0;
  while (off < line.size()) {
    ssize_t n = ::write(g_fd, line.data() + off, line.size() - off);
    if (n <= 0) break;
    off += static_cast<size_t>(n);
  }
}

}  // namespace cairn::log
