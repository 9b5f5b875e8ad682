#include "store/manifest.h"

#include <charconv>
#include <vector>

#include "common/time_util.h"
#include "store/encoding.h"

namespace cairn::store {
namespace {

constexpr std::string_view kManifestHeader = "cairn-manifest 1";
// Version 2: segment lines may carry a replacement group (written only when one does, so an
// index without groups keeps version 1 and stays readable by older cairn).
constexpr std::string_view kManifestHeader2 = "cairn-manifest 2";
constexpr std::string_view kConfigHeader = "cairn-index-config 1";

std::vector<std::string_view> SplitWords(std::string_view line) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && line[i] == ' ') ++i;
    size_t s = i;
    while (i < line.size() && line[i] != ' ') ++i;
    if (i > s) out.push_back(line.substr(s, i - s));
  }
  return out;
}

// A name the store gives segment files: [A-Za-z0-9_-], dots only before the ".seg" suffix, so
// it names a file inside the index folder and nothing else.
bool IsSegmentFileName(std::string_view name) {
  if (name.size() <= kSegmentSuffix.size() || !name.ends_with(kSegmentSuffix)) return false;
  for (char c : name.substr(0, name.size() - kSegmentSuffix.size())) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_';
    if (!ok) return false;
  }
  return true;
}

template <typename T>
bool ParseNum(std::string_view s, T* out, int base = 10) {
  auto r = std::from_chars(s.data(), s.data() + s.size(), *out, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

// Splits `text` into lines, checks the final "end <crc>" line against the bytes before it, and
// returns the lines between the header and the end line.
Result<std::vector<std::string_view>> CheckedLines(std::string_view text, std::string_view header,
                                                   const std::string& path,
                                                   std::string_view alt_header = {},
                                                   bool* is_alt = nullptr) {
  if (text.empty() || text.back() != '\n')
    return Corruption("{}: truncated (no final newline)", path);
  size_t end_at = text.rfind('\n', text.size() - 2);
  end_at = end_at == std::string_view::npos ? 0 : end_at + 1;
  std::string_view end_line = text.substr(end_at, text.size() - 1 - end_at);
  auto words = SplitWords(end_line);
  uint32_t crc;
  if (words.size() != 2 || words[0] != "end" || !ParseNum(words[1], &crc, 16)) {
    return Corruption("{}: truncated (no end line)", path);
  }
  if (Crc32(text.substr(0, end_at)) != crc) return Corruption("{}: checksum mismatch", path);
  std::vector<std::string_view> lines;
  size_t pos = 0;
  while (pos < end_at) {
    size_t nl = text.find('\n', pos);
    lines.push_back(text.substr(pos, nl - pos));
    pos = nl + 1;
  }
  if (!lines.empty() && !alt_header.empty() && lines[0] == alt_header) {
    *is_alt = true;
  } else if (lines.empty() || lines[0] != header) {
    return Corruption("{}: unknown header (expected \"{}\")", path, header);
  }
  lines.erase(lines.begin());
  return lines;
}

std::string Finish(std::string body) {
  body += fmt::format("end {:08x}\n", Crc32(body));
  return body;
}

}  // namespace

std::string SegmentFileName(uint64_t seq, int64_t partition) {
  int64_t y;
  unsigned m, d;
  CivilFromDays(partition, &y, &m, &d);
  return fmt::format("{:04}{:02}{:02}-{:010}{}", y, m, d, seq, kSegmentSuffix);
}

bool IsGroupToken(std::string_view t) {
  if (t.empty() || t.size() > 200) return false;
  for (char c : t) {
    const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') ||
                    c == '-' || c == '_' || c == '.' || c == ':' || c == '/' || c == '@' ||
                    c == '+' || c == '=';
    if (!ok) return false;
  }
  return true;
}

std::string EncodeManifest(const Manifest& manifest) {
  bool grouped = false;
  for (const SegmentDesc& s : manifest.segments) grouped |= !s.group.empty();
  std::string out(grouped ? kManifestHeader2 : kManifestHeader);
  out += '\n';
  out += fmt::format("generation {}\nnext-seq {}\n", manifest.generation, manifest.next_seq);
  for (const SegmentDesc& s : manifest.segments) {
    out += fmt::format("segment {} {} {} {} {} {} {} {:08x}", s.seq, s.file, s.partition,
                       s.event_count, s.min_time, s.max_time, s.bytes, s.footer_crc);
    if (!s.group.empty()) {
      out += fmt::format(" {} {} {}", s.group, s.version, s.staged ? "staged" : "live");
    }
    out += '\n';
  }
  return Finish(std::move(out));
}

Result<Manifest> DecodeManifest(std::string_view text, const std::string& path) {
  bool v2 = false;
  ASSIGN_OR_RETURN(auto lines, CheckedLines(text, kManifestHeader, path, kManifestHeader2, &v2));
  Manifest m;
  bool have_gen = false, have_seq = false;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto w = SplitWords(lines[i]);
    size_t line_no = i + 2;
    // generation and next-seq once each, before the segments (which are checked against
    // next-seq); segments in increasing seq order.
    if (w.size() == 2 && w[0] == "generation" && !have_gen && m.segments.empty() &&
        ParseNum(w[1], &m.generation)) {
      have_gen = true;
    } else if (w.size() == 2 && w[0] == "next-seq" && !have_seq && m.segments.empty() &&
               ParseNum(w[1], &m.next_seq)) {
      have_seq = true;
    } else if ((w.size() == 9 || (v2 && w.size() == 12)) && w[0] == "segment" && have_seq) {
      SegmentDesc s;
      if (w.size() == 12) {
        if (!IsGroupToken(w[9]) || !IsGroupToken(w[10]) || (w[11] != "live" && w[11] != "staged")) {
          return Corruption("{}: line {}: malformed segment group", path, line_no);
        }
        s.group = std::string(w[9]);
        s.version = std::string(w[10]);
        s.staged = w[11] == "staged";
      }
      s.file = std::string(w[2]);
      if (!ParseNum(w[1], &s.seq) || !ParseNum(w[3], &s.partition) ||
          !ParseNum(w[4], &s.event_count) || !ParseNum(w[5], &s.min_time) ||
          !ParseNum(w[6], &s.max_time) || !ParseNum(w[7], &s.bytes) ||
          !ParseNum(w[8], &s.footer_crc, 16) || !IsSegmentFileName(s.file) || s.seq >= m.next_seq ||
          (!m.segments.empty() && s.seq <= m.segments.back().seq)) {
        return Corruption("{}: line {}: malformed segment entry", path, line_no);
      }
      m.segments.push_back(std::move(s));
    } else {
      return Corruption("{}: line {}: unexpected \"{}\"", path, line_no, lines[i]);
    }
  }
  if (!have_gen || !have_seq) return Corruption("{}: generation or next-seq missing", path);
  return m;
}

std::string EncodeConfig(const RetentionPolicy& r) {
  std::string out(kConfigHeader);
  out += '\n';
  out += fmt::format("max-age-ms {}\nmax-bytes {}\n", r.max_age_ms, r.max_bytes);
  return Finish(std::move(out));
}

Result<RetentionPolicy> DecodeConfig(std::string_view text, const std::string& path) {
  ASSIGN_OR_RETURN(auto lines, CheckedLines(text, kConfigHeader, path));
  RetentionPolicy r;
  for (size_t i = 0; i < lines.size(); ++i) {
    auto w = SplitWords(lines[i]);
    if (w.size() == 2 && w[0] == "max-age-ms" && ParseNum(w[1], &r.max_age_ms) &&
        r.max_age_ms >= 0) {
    } else if (w.size() == 2 && w[0] == "max-bytes" && ParseNum(w[1], &r.max_bytes)) {
    } else {
      return Corruption("{}: line {}: unexpected \"{}\"", path, i + 2, lines[i]);
    }
  }
  return r;
}

}  // namespace cairn::store
