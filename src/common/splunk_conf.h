#pragma once
// Splunk's .conf files (inputs.conf, savedsearches.conf, ...): [stanza] headers, "key = value"
// settings, comments (a line starting with # or ;), a trailing backslash joining the next line.
// Settings before any stanza, and a [default] stanza, form the stanza named "default"; a repeated
// stanza header adds to the first. Keys and values keep their case; surrounding blanks are trimmed.
// What the keys mean is each reader's business (collect/conf.h, alerts/conf.h, serve's saved
// searches).

#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn {

struct ConfEntry {
  std::string key;
  std::string value;
  int line = 0;
};

struct ConfStanza {
  std::string name;  // "default" for keys before any stanza
  int line = 0;      // 0 for the implicit [default]
  std::vector<ConfEntry> entries;
};

struct ConfFile {
  std::string path;
  std::vector<ConfStanza> stanzas;  // in file order; a repeated stanza header appends to the first
};

// Parses Splunk .conf text. `path` names the file in errors. Errors: a line that is neither a
// comment, a stanza header nor "key = value" (file:line), an unterminated stanza header.
Result<ConfFile> ParseConf(std::string_view text, std::string_view path);

// The value of `key` in `stanza` (the last one given), or nullptr.
const std::string* FindConfValue(const ConfStanza& stanza, std::string_view key);

// Splunk booleans: 1/0, true/false, t/f, yes/no, y/n, on/off (case-insensitive). False when
// `text` is none of them.
bool ParseSplunkBool(std::string_view text, bool* out);

// A list setting (alert.suppress.fields, action.*.tags, ...): items separated by commas or blanks,
// empty items left out.
std::vector<std::string> SplitConfList(std::string_view value);

}  // namespace cairn
