// Pattern: Splunk-style '*' wildcards over values, ASCII case-insensitive.

#include "store/encoding.h"
#include "store/segment.h"

namespace cairn::store {

Pattern::Pattern(std::string_view pattern) : lower_(ToLower(pattern)) {
  size_t star = lower_.find('*');
  has_wildcard_ = star != std::string::npos;
  prefix_ = has_wildcard_ ? lower_.substr(0, star) : lower_;
}

namespace {

// Glob match of lower-cased `pat` ('*' only) against `s` compared case-insensitively.
bool GlobMatch(std::string_view pat, std::string_view s) {
  size_t p = 0, i = 0, star = std::string_view::npos, mark = 0;
  while (i < s.size()) {
    if (p < pat.size() && pat[p] == '*') {
      star = p++;
      mark = i;
    } else if (p < pat.size() && pat[p] == LowerAscii(s[i])) {
      ++p;
      ++i;
    } else if (star != std::string_view::npos) {
      p = star + 1;
      i = ++mark;
    } else {
      return false;
    }
  }
  while (p < pat.size() && pat[p] == '*') ++p;
  return p == pat.size();
}

}  // namespace

bool Pattern::Matches(std::string_view value) const {
  if (!has_wildcard_) {
    if (value.size() != lower_.size()) return false;
    for (size_t i = 0; i < value.size(); ++i) {
      if (LowerAscii(value[i]) != lower_[i]) return false;
    }
    return true;
  }
  return GlobMatch(lower_, value);
}

}  // namespace cairn::store
