#pragma once
// The shapes Splunk's REST API answers in, so that unmodified clients parse ours: error bodies,
// Atom feeds and their JSON form ({"entry":[{"name":..,"content":{..}}]}), and search results
// in output_mode xml (Splunk's default), json, json_rows, json_cols and csv.

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "query/value.h"
#include "serve/http.h"

namespace cairn::serve {

// The Splunk version /services/server/info reports. Clients use the v2 search endpoints from
// 9.0.2 on (the JavaScript SDK decides by it); serve.splunk_version overrides it.
inline constexpr const char* kDefaultSplunkVersion = "9.1.0";

enum class OutputMode { kXml, kJson, kJsonRows, kJsonCols, kCsv, kRaw };
// "xml" (also when empty), "json", "json_rows", "json_cols", "csv", "raw". nullopt otherwise.
std::optional<OutputMode> ParseOutputMode(std::string_view text);
// Whether the request asked for one of the JSON modes (error and entry bodies are then JSON).
bool WantsJson(const Request& req);

// {"messages":[{"type":"ERROR","text":...}]} or <response><messages><msg type="ERROR">...
Response ErrorResponse(const Request& req, int status, std::string_view text);
// 401 "call not properly authenticated", with a WWW-Authenticate challenge for basic auth.
Response Unauthorized(const Request& req);
// A JSON or XML body with the given status.
Response JsonResponse(int status, std::string body);
Response XmlResponse(int status, std::string body);

// A value of an entry's content.
struct ContentValue {
  std::variant<std::string, int64_t, double, bool> v;
  ContentValue(std::string s) : v(std::move(s)) {}
  ContentValue(const char* s) : v(std::string(s)) {}
  ContentValue(int64_t i) : v(i) {}
  ContentValue(uint64_t i) : v(static_cast<int64_t>(i)) {}
  ContentValue(int i) : v(static_cast<int64_t>(i)) {}
  ContentValue(double d) : v(d) {}
  ContentValue(bool b) : v(b) {}
};
struct Message {
  std::string type;  // INFO, WARN, ERROR, FATAL
  std::string text;
};
struct Entry {
  std::string name;
  std::string id;       // its URL path, e.g. /services/search/jobs/<sid>
  std::string author;   // owner
  std::string updated;  // ISO-8601
  std::vector<std::pair<std::string, ContentValue>> content;
  std::vector<Message> messages;                           // the content's "messages" (jobs)
  std::vector<std::pair<std::string, std::string>> links;  // rel -> href
};
struct Feed {
  std::string title;   // the collection's name, e.g. "jobs"
  std::string origin;  // the collection's path
  std::string version = kDefaultSplunkVersion;
  std::vector<Entry> entries;
};
std::string FeedJson(const Feed& feed);
std::string FeedXml(const Feed& feed);
// One entry as its own XML document (GET of a single job answers <entry> at the root).
std::string EntryXml(const Entry& entry);

// A page of search results.
struct ResultPage {
  std::vector<std::string> fields;
  std::vector<std::vector<query::Values>> rows;  // rows[i][j]: field j of row i ({} = null)
  size_t offset = 0;                             // the first row's offset in the results
  bool preview = false;
  std::vector<Message> messages;
};
// The body and its content type in `mode`.
std::string FormatResults(const ResultPage& page, OutputMode mode, std::string* content_type);
// Export's streamed form: the start, one piece per row, and the end, for xml, json (one
// {"preview":false,"offset":N,"result":{...}} per line, "lastrow":true on the last), csv and raw.
std::string ExportHead(const std::vector<std::string>& fields, OutputMode mode);
std::string ExportRow(const std::vector<std::string>& fields, const std::vector<query::Values>& row,
                      size_t offset, bool last, OutputMode mode);
std::string ExportTail(OutputMode mode);
// Messages met after an export's answer began (a search that failed midway), where the mode has a
// place for them: json {"preview":false,"messages":[{"type":..,"text":..}]} on a line of its own,
// xml <messages><msg type="..">..</msg></messages> inside <results>; "" for csv and raw.
std::string ExportMessages(const std::vector<Message>& messages, OutputMode mode);

// A done job's results as one download (the web UI's export) in pieces, so that none holds more
// than the rows handed to it. csv (any mode but json): the header of `fields`, then one line per
// row aligned with them: the same text as FormatResults. json: the same document as FormatResults
// but for the order of its keys: the fields and the messages (those met while reading the rows
// included) come after the results, so the rows are read once:
// {"preview":false,"init_offset":0,"results":[...],"fields":[...],"messages":[...],
// "highlighted":{}}.
std::string DownloadHead(const std::vector<std::string>& fields, OutputMode mode);
// csv: rows aligned with `fields`.
std::string DownloadCsvRows(const std::vector<std::string>& fields,
                            const std::vector<std::vector<query::Values>>& rows);
// json: rows each with its own fields (names[i] names values[i]); `first`: no row before them.
std::string DownloadJsonRows(const std::vector<std::vector<std::string>>& names,
                             const std::vector<std::vector<query::Values>>& values, bool first);
std::string DownloadTail(const std::vector<std::string>& fields,
                         const std::vector<Message>& messages, OutputMode mode);

std::string IsoTime(double epoch_seconds);  // "2024-01-02T03:04:05.678+00:00"

}  // namespace cairn::serve
