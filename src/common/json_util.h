#pragma once
// Small JSON text helpers for output we write ourselves (log lines, summaries, manifests).
// Parsing of untrusted JSON is simdjson's job, not this file's.

#include <string>
#include <string_view>

namespace cairn {

// Appends `s` to `out` as a quoted JSON string, escaping quotes, backslashes and control bytes.
// Bytes >= 0x80 are copied as they are (callers pass UTF-8).
void AppendJsonString(std::string* out, std::string_view s);
std::string JsonString(std::string_view s);

// True when `s` is well-formed UTF-8 (no overlongs, no surrogates, nothing above U+10FFFF).
// On failure and when `bad_offset` is set, stores the offset of the first bad byte.
bool ValidUtf8(std::string_view s, size_t* bad_offset = nullptr);

}  // namespace cairn
