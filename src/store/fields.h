#pragma once
// How an event's JSON becomes index entries: Splunk-style field names for every leaf, the fixed
// set of column fields, and Splunk's segmentation of values into search terms.
//
// Field names follow Splunk's spath/KV_MODE=json naming: object keys joined with '.', an array
// adds "{}" to the name of the key that holds it (`resources{}.ARN`, `a{}` for an array of
// scalars). Leaf values are the JSON string's unescaped text, or the literal token for numbers,
// true, false and null. Field names are case-sensitive; values are matched case-insensitively
// (lower-cased ASCII) for lookup.

#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"

namespace cairn::store {

// The columns the writer keeps (docs/format/segment.md, section 6), in the order it writes them.
// The first kJsonColumnCount are JSON leaves; then the per-event metadata columns. Since
// format 4 segments name their columns, and the reader maps them by name: this list may change
// without breaking stored segments (a column added here is built from the events of segments
// written before it; one removed is still read from the segments that have it).
inline constexpr std::string_view kColumnFields[] = {
    "eventName",
    "eventSource",
    "awsRegion",
    "sourceIPAddress",
    "userAgent",
    "errorCode",
    "readOnly",
    "eventType",
    "eventCategory",
    "managementEvent",
    "recipientAccountId",
    "eventVersion",
    "userIdentity.type",
    "userIdentity.arn",
    "userIdentity.accountId",
    "userIdentity.userName",
    "userIdentity.principalId",
    "userIdentity.accessKeyId",
    "userIdentity.invokedBy",
    "userIdentity.sessionContext.sessionIssuer.arn",
    "userIdentity.sessionContext.sessionIssuer.userName",
    "sourcetype",
    "source",
    "host",
    "_fields",
};
inline constexpr size_t kColumnCount = std::size(kColumnFields);
inline constexpr size_t kJsonColumnCount = kColumnCount - 4;
inline constexpr size_t kSourcetypeColumn = kColumnCount - 4;
inline constexpr size_t kSourceColumn = kColumnCount - 3;
// The sender's host (HTTP Event Collector events that name one); events without one have no
// value in this column and the search's default host. Segments written before it have no such
// column: all their events have the default host.
inline constexpr size_t kHostColumn = kColumnCount - 2;
// The event's indexed fields (the HTTP Event Collector's `fields`), as a JSON object's text;
// their leaves are also indexed like the event's own. Not a field of its own (the name starts
// with '_': never pushed down or aggregated by name).
inline constexpr size_t kIndexedFieldsColumn = kColumnCount - 1;
inline constexpr std::string_view kIndexedFieldsColumnName = "_fields";

// The field holding the event time; it is stored only as the time column (int64 ms), never as
// postings or terms.
inline constexpr std::string_view kTimeField = "eventTime";

// Index of `field` in kColumnFields, or -1.
int ColumnIndex(std::string_view field);

// The JSON leaves whose values nearly never repeat and are counted distinct (`stats
// dc(requestID)`): the writer keeps, beside their keys and Bloom filters, one 64-bit hash of the
// value per event (a column of kind "value hashes", docs/format/segment.md section 6), so a
// distinct count reads 8 bytes per event instead of every event's JSON. Like kColumnFields, the
// list may change: a segment without a field's hashes is answered from its events.
inline constexpr std::string_view kHashedFields[] = {
    "requestID",
};
bool IsHashedField(std::string_view field);

// The 64-bit hash of a value that value-hash columns hold and distinct counts compare; never 0
// (0 marks an event without the field).
uint64_t ValueHash(std::string_view value);

// A column as the writer keeps it: a JSON leaf's (the value of the event's first leaf of that
// name), or an event metadata column ("sourcetype", "source" or "host", from cloudtrail::Event).
struct ColumnSpec {
  std::string_view name;
  bool json = true;
};
// kColumnFields as ColumnSpecs (static storage).
std::span<const ColumnSpec> DefaultColumns();

// Splunk's default breakers (segmenters.conf): major breakers end a segment; minor breakers split
// a major segment into smaller terms. Both lists are single bytes here.
bool IsMajorBreaker(char c);
bool IsMinorBreaker(char c);

// Calls `fn` with every search term of `value`, lower-cased: each major segment (split on major
// breakers) and, when it contains minor breakers, each of its minor pieces. Terms may repeat;
// empty pieces are skipped. Terms longer than kMaxTermBytes are cut to that length.
inline constexpr size_t kMaxTermBytes = 256;
void ForEachTerm(std::string_view value, const std::function<void(std::string_view)>& fn);

// Same, appending terms to `out` (cleared first) as views into `lower_buf`, which is overwritten.
void SplitTerms(std::string_view value, std::string* lower_buf, std::vector<std::string_view>* out);

// Every piece of `value` between breakers of either kind, lower-cased and cut at kMaxTermBytes,
// in order, as views into `lower_buf` (overwritten); `out` is cleared first. Two pieces next to
// each other here are next to each other in any value that holds the text as whole terms, which
// is what the term filter's piece pairs record.
void SplitPieces(std::string_view value, std::string* lower_buf,
                 std::vector<std::string_view>* out);

// One JSON leaf: its Splunk field name and its value text.
struct Leaf {
  std::string_view field;
  std::string_view value;
  // The walker's number for `field`: dense from 0, the same for the same name for the walker's
  // whole life (callers index their own per-field tables with it instead of hashing names).
  uint32_t field_id = 0;
};

// Walks every leaf of a JSON object. Reuses internal buffers, so one walker per thread. Returns
// InvalidArgument when `json` is not a well-formed JSON object.
class LeafWalker {
 public:
  LeafWalker();
  ~LeafWalker();
  LeafWalker(const LeafWalker&) = delete;
  LeafWalker& operator=(const LeafWalker&) = delete;

  // Parses `json` and collects its leaves in document order into leaves(). The leaves' views stay
  // valid until the next Parse or Walk (and, when `padded`, while `json` does); field names (and
  // FieldName) for the walker's lifetime. `padded`: at least cloudtrail::kJsonPadding readable
  // bytes follow `json`, so it is parsed where it is instead of copied first.
  Status Parse(std::string_view json, bool padded = false);
  const std::vector<Leaf>& leaves() const;
  // The name of field number `id` (< field_count()).
  std::string_view FieldName(uint32_t id) const;
  uint32_t field_count() const;

  // Parse, then `fn` for each leaf (views valid only during the call).
  Status Walk(std::string_view json, const std::function<void(const Leaf&)>& fn);

 private:
  struct Impl;
  Impl* impl_;
};

}  // namespace cairn::store
