#pragma once
// Structural scanning: finds where a JSON string, object or array ends without parsing it, so a
// file can be cut into records at memory speed. It tracks strings, backslash escapes and bracket
// nesting (with the kind of each open bracket, so `{]` is caught); everything else — grammar,
// numbers, UTF-8 — is checked by simdjson when the record is parsed. Internal to the readers;
// in a header so tests and fuzz targets can compare it with the simple reference scanner.

#include <cstddef>
#include <cstdint>

namespace cairn::cloudtrail {

inline constexpr uint32_t kMaxScanDepth = 1024;

// Bytes that must be readable (any content) after `end` for ScanValue: it loads 64-byte blocks.
inline constexpr size_t kScanPadding = 64;

enum class Scan { kDone, kNeedMore, kMismatch, kTooDeep };

struct ScanState {
  uint32_t depth = 0;
  bool in_string = false;  // the next byte is inside a string
  bool escaped = false;    // the next byte is escaped by a backslash
  bool bare_string = false;
  // Whether each close bracket is checked against the kind of its open one. Off, only the depth
  // is tracked, which finds the same end for well-formed JSON at about half the cost; for values
  // that simdjson parses afterwards anyway (records), which then rejects a `{]`, and the reader
  // re-scans the rejected value with the check on to say where the mismatch is.
  bool check_kinds = true;
  uint64_t is_array[kMaxScanDepth / 64] = {};

  // Prepares a scan of the value whose first byte is `first` ('"', '{' or '[').
  void Start(char first, bool check = true) {
    depth = 0;
    in_string = false;
    escaped = false;
    bare_string = first == '"';
    check_kinds = check;
  }
};

// Advances `p` over the string, object or array that starts at the initial `p` (after
// state.Start), or continues a scan that returned kNeedMore with more bytes. Returns kDone with
// `p` just past the value, kNeedMore with `p == end`, or kMismatch / kTooDeep with `p` at the
// offending bracket (kMismatch without check_kinds only for a close bracket at depth 0).
// Requires kScanPadding readable bytes after `end`.
Scan ScanValue(const char*& p, const char* end, ScanState& st);

// ScanValue without run-time CPU dispatch (the SSE2 build on x86-64), for tests.
Scan ScanValueBaseline(const char*& p, const char* end, ScanState& st);

// The same contract, one byte at a time, without the padding requirement: the reference the fast
// scanner is tested against.
Scan ScanValueSimple(const char*& p, const char* end, ScanState& st);

inline constexpr uint32_t kNoStructural = UINT32_MAX;

// Over a parsed document's structural index (simdjson's first stage: the offset of every bracket,
// colon, comma and value start of `doc`, in order, `n` of them): the index of the structural that
// closes the bracket at structural index `open`, or kNoStructural when it is not closed. Only the
// depth is followed; the document is known to be valid. Reads up to 3 bytes past any structural
// of `doc` (inside simdjson's padding). Eight structurals per step with AVX2.
uint32_t StructuralClose(const char* doc, const uint32_t* s, uint32_t n, uint32_t open);

// The same one structural at a time: the reference it is tested against.
uint32_t StructuralCloseSimple(const char* doc, const uint32_t* s, uint32_t n, uint32_t open);

}  // namespace cairn::cloudtrail
