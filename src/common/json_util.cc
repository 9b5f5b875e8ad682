#include "common/json_util.h"

#include <simdjson.h>

#include <cstdint>
#include <cstring>

namespace cairn {

namespace {

// Whether any of the eight bytes at `p` is below 0x20, a quote or a backslash (the bytes JSON
// escapes). Each test is the classic "has a byte less than n" bit trick, exact as a yes/no answer.
bool WordNeedsEscape(const char* p) {
  constexpr uint64_t kOnes = 0x0101010101010101ULL;
  constexpr uint64_t kHigh = 0x8080808080808080ULL;
  uint64_t x;
  std::memcpy(&x, p, sizeof(x));
  const uint64_t control = (x - kOnes * 0x20) & ~x & kHigh;
  const uint64_t q = x ^ (kOnes * '"');
  const uint64_t quote = (q - kOnes) & ~q & kHigh;
  const uint64_t b = x ^ (kOnes * '\\');
  const uint64_t backslash = (b - kOnes) & ~b & kHigh;
  return (control | quote | backslash) != 0;
}

}  // namespace

void AppendJsonString(std::string* out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  // Runs of bytes that need no escape (almost all of them) are appended whole.
  out->push_back('"');
  size_t run = 0;
  size_t i = 0;
  for (; i < s.size(); ++i) {
    // Eight bytes at a time while none needs an escape.
    while (i + 8 <= s.size() && !WordNeedsEscape(s.data() + i)) i += 8;
    if (i >= s.size()) break;
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out->append(s.data() + run, i - run);
    run = i + 1;
    switch (c) {
      case '"': out->append("\\\""); break;
      case '\\': out->append("\\\\"); break;
      case '\n': out->append("\\n"); break;
      case '\r': out->append("\\r"); break;
      case '\t': out->append("\\t"); break;
      case '\b': out->append("\\b"); break;
      case '\f': out->append("\\f"); break;
      default:
        out->append("\\u00");
        out->push_back(kHex[c >> 4]);
        out->push_back(kHex[c & 15]);
    }
  }
  out->append(s.data() + run, s.size() - run);
  out->push_back('"');
}

std::string JsonString(std::string_view s) {
  std::string out;
  out.reserve(s.size() + 2);
  AppendJsonString(&out, s);
  return out;
}

bool ValidUtf8(std::string_view s, size_t* bad_offset) {
  if (simdjson::validate_utf8(s.data(), s.size())) return true;
  if (bad_offset == nullptr) return false;
  // Slow path only on failure: find the first bad byte.
  size_t i = 0;
  const auto* p = reinterpret_cast<const unsigned char*>(s.data());
  const size_t n = s.size();
  while (i < n) {
    unsigned char c = p[i];
    size_t len;
    uint32_t cp;
    if (c < 0x80) {
      ++i;
      continue;
    }
    if ((c & 0xE0) == 0xC0) {
      len = 2;
      cp = c & 0x1F;
    } else if ((c & 0xF0) == 0xE0) {
      len = 3;
      cp = c & 0x0F;
    } else if ((c & 0xF8) == 0xF0) {
      len = 4;
      cp = c & 0x07;
    } else {
      *bad_offset = i;
      return false;
    }
    if (i + len > n) {
      *bad_offset = i;
      return false;
    }
    for (size_t k = 1; k < len; ++k) {
      if ((p[i + k] & 0xC0) != 0x80) {
        *bad_offset = i;
        return false;
      }
      cp = (cp << 6) | (p[i + k] & 0x3F);
    }
    bool overlong =
        (len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000);
    if (overlong || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      *bad_offset = i;
      return false;
    }
    i += len;
  }
  *bad_offset = n;
  return false;
}

}  // namespace cairn
