#include "serve/splunk_format.h"

#include <fmt/format.h>

#include <chrono>
#include <cmath>

#include "common/json_util.h"
#include "common/time_util.h"
#include "query/engine.h"

namespace cairn::serve {

std::optional<OutputMode> ParseOutputMode(std::string_view text) {
  if (text.empty() || text == "xml") return OutputMode::kXml;
  if (text == "json") return OutputMode::kJson;
  if (text == "json_rows") return OutputMode::kJsonRows;
  if (text == "json_cols") return OutputMode::kJsonCols;
  if (text == "csv") return OutputMode::kCsv;
  if (text == "raw") return OutputMode::kRaw;
  return std::nullopt;
}

bool WantsJson(const Request& req) { return req.Param("output_mode", "").rfind("json", 0) == 0; }

Response JsonResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "application/json; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response XmlResponse(int status, std::string body) {
  Response r;
  r.status = status;
  r.content_type = "text/xml; charset=utf-8";
  r.body = std::move(body);
  return r;
}

Response ErrorResponse(const Request& req, int status, std::string_view text) {
  if (WantsJson(req)) {
    std::string body = "{\"messages\":[{\"type\":\"ERROR\",\"text\":";
    AppendJsonString(&body, text);
    body += "}]}";
    return JsonResponse(status, std::move(body));
  }
  return XmlResponse(status, fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n"
                                         "  <messages>\n    <msg type=\"ERROR\">{}</msg>\n"
                                         "  </messages>\n</response>\n",
                                         XmlEscape(text)));
}

Response Unauthorized(const Request& req) {
  Response r = ErrorResponse(req, 401, "call not properly authenticated");
  r.headers.emplace_back("WWW-Authenticate", "Basic realm=\"/splunk\"");
  return r;
}

std::string IsoTime(double epoch_seconds) {
  if (!std::isfinite(epoch_seconds)) return "";
  std::string s = FormatIso8601(static_cast<int64_t>(std::llround(epoch_seconds * 1000)), true);
  if (!s.empty() && s.back() == 'Z') s.pop_back();
  return s + "+00:00";
}

namespace {

std::string NowIso() {
  return IsoTime(
      std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count());
}

std::string NumberText(double d) {
  if (std::isfinite(d) && d == std::floor(d) && std::fabs(d) < 1e15)
    return fmt::format("{}", static_cast<int64_t>(d));
  if (!std::isfinite(d)) return "0";
  return fmt::format("{}", d);
}

void AppendJsonValue(std::string* out, const ContentValue& v) {
  if (auto s = std::get_if<std::string>(&v.v)) {
    AppendJsonString(out, *s);
  } else if (auto i = std::get_if<int64_t>(&v.v)) {
    *out += std::to_string(*i);
  } else if (auto d = std::get_if<double>(&v.v)) {
    *out += NumberText(*d);
  } else {
    *out += std::get<bool>(v.v) ? "true" : "false";
  }
}

std::string XmlValue(const ContentValue& v) {
  if (auto s = std::get_if<std::string>(&v.v)) return XmlEscape(*s);
  if (auto i = std::get_if<int64_t>(&v.v)) return std::to_string(*i);
  if (auto d = std::get_if<double>(&v.v)) return NumberText(*d);
  return std::get<bool>(v.v) ? "1" : "0";
}

void AppendEntryJson(std::string* out, const Entry& e) {
  *out += "{\"name\":";
  AppendJsonString(out, e.name);
  *out += ",\"id\":";
  AppendJsonString(out, e.id);
  *out += ",\"updated\":";
  AppendJsonString(out, e.updated.empty() ? NowIso() : e.updated);
  *out += ",\"links\":{";
  *out += "\"alternate\":";
  AppendJsonString(out, e.id);
  for (const auto& [rel, href] : e.links) {
    *out += ',';
    AppendJsonString(out, rel);
    *out += ':';
    AppendJsonString(out, href);
  }
  *out += "},\"author\":";
  AppendJsonString(out, e.author);
  *out += ",\"acl\":{\"app\":\"search\",\"owner\":";
  AppendJsonString(out, e.author);
  *out += ",\"sharing\":\"user\",\"perms\":{\"read\":[";
  AppendJsonString(out, e.author);
  *out += "],\"write\":[";
  AppendJsonString(out, e.author);
  *out += "]}},\"content\":{";
  bool first = true;
  for (const auto& [k, v] : e.content) {
    if (!first) *out += ',';
    first = false;
    AppendJsonString(out, k);
    *out += ':';
    AppendJsonValue(out, v);
  }
  if (!first) *out += ',';
  *out += "\"messages\":[";
  for (size_t i = 0; i < e.messages.size(); ++i) {
    if (i) *out += ',';
    *out += "{\"type\":";
    AppendJsonString(out, e.messages[i].type);
    *out += ",\"text\":";
    AppendJsonString(out, e.messages[i].text);
    *out += '}';
  }
  *out += "]}}";
}

std::string EntryXmlBody(const Entry& e, bool root) {
  std::string out = root ? "<entry xmlns=\"http://www.w3.org/2005/Atom\" "
                           "xmlns:s=\"http://dev.splunk.com/ns/rest\" "
                           "xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\">\n"
                         : "<entry>\n";
  out += fmt::format("  <title>{}</title>\n  <id>{}</id>\n  <updated>{}</updated>\n",
                     XmlEscape(e.name), XmlEscape(e.id),
                     XmlEscape(e.updated.empty() ? NowIso() : e.updated));
  out += fmt::format("  <link href=\"{}\" rel=\"alternate\"/>\n", XmlEscape(e.id));
  for (const auto& [rel, href] : e.links) {
    out += fmt::format("  <link href=\"{}\" rel=\"{}\"/>\n", XmlEscape(href), XmlEscape(rel));
  }
  out += fmt::format("  <author>\n    <name>{}</name>\n  </author>\n", XmlEscape(e.author));
  out += "  <content type=\"text/xml\">\n    <s:dict>\n";
  for (const auto& [k, v] : e.content) {
    out += fmt::format("      <s:key name=\"{}\">{}</s:key>\n", XmlEscape(k), XmlValue(v));
  }
  // Splunk lists a job's messages as a dict of type -> list of texts.
  out += "      <s:key name=\"messages\">\n        <s:dict>\n";
  for (const auto& m : e.messages) {
    out +=
        fmt::format("          <s:key name=\"{}\"><s:list><s:item>{}</s:item></s:list></s:key>\n",
                    XmlEscape(m.type), XmlEscape(m.text));
  }
  out += "        </s:dict>\n      </s:key>\n";
  out += "    </s:dict>\n  </content>\n</entry>\n";
  return out;
}

// Cells of a row as text: _time as ISO-8601 like `cairn search` prints it.
std::string CellText(const std::string& field, const std::string& v) {
  if (field == "_time") {
    if (auto t = query::ParseNumber(v)) return IsoTime(*t);
  }
  return v;
}

void AppendJsonCell(std::string* out, const std::string& field, const query::Values& v) {
  if (v.empty()) {
    *out += "null";
  } else if (v.size() == 1) {
    AppendJsonString(out, CellText(field, v[0]));
  } else {
    *out += '[';
    for (size_t k = 0; k < v.size(); ++k) {
      if (k) *out += ',';
      AppendJsonString(out, CellText(field, v[k]));
    }
    *out += ']';
  }
}

void AppendJsonObjectRow(std::string* out, const std::vector<std::string>& fields,
                         const std::vector<query::Values>& row) {
  *out += '{';
  bool first = true;
  for (size_t j = 0; j < fields.size() && j < row.size(); ++j) {
    if (row[j].empty()) continue;  // Splunk leaves null fields out of a result
    if (!first) *out += ',';
    first = false;
    AppendJsonString(out, fields[j]);
    *out += ':';
    AppendJsonCell(out, fields[j], row[j]);
  }
  *out += '}';
}

void AppendMessagesJson(std::string* out, const std::vector<Message>& messages) {
  *out += "\"messages\":[";
  for (size_t i = 0; i < messages.size(); ++i) {
    if (i) *out += ',';
    *out += "{\"type\":";
    AppendJsonString(out, messages[i].type);
    *out += ",\"text\":";
    AppendJsonString(out, messages[i].text);
    *out += '}';
  }
  *out += ']';
}

std::string XmlResultRow(const std::vector<std::string>& fields,
                         const std::vector<query::Values>& row, size_t offset) {
  std::string out = fmt::format("\t<result offset='{}'>\n", offset);
  for (size_t j = 0; j < fields.size() && j < row.size(); ++j) {
    if (row[j].empty()) continue;
    out += fmt::format("\t\t<field k='{}'>\n", XmlEscape(fields[j]));
    for (const auto& v : row[j]) {
      if (fields[j] == "_raw") {
        out += fmt::format("\t\t\t<v xml:space='preserve' trunc='0'>{}</v>\n", XmlEscape(v));
      } else {
        out += fmt::format("\t\t\t<value><text>{}</text></value>\n",
                           XmlEscape(CellText(fields[j], v)));
      }
    }
    out += "\t\t</field>\n";
  }
  out += "\t</result>\n";
  return out;
}

std::string CsvRow(const std::vector<std::string>& fields, const std::vector<query::Values>& row) {
  std::string out;
  for (size_t j = 0; j < fields.size(); ++j) {
    if (j) out += ',';
    std::string cell;
    if (j < row.size()) {
      for (size_t k = 0; k < row[j].size(); ++k) {
        if (k) cell += '\n';
        cell += CellText(fields[j], row[j][k]);
      }
    }
    out += query::CsvCell(cell);
  }
  out += '\n';
  return out;
}

std::string CsvHead(const std::vector<std::string>& fields) {
  std::string out;
  for (size_t j = 0; j < fields.size(); ++j) out += (j ? "," : "") + query::CsvCell(fields[j]);
  out += '\n';
  return out;
}

std::string XmlHead(const std::vector<std::string>& fields, bool preview) {
  std::string out = fmt::format(
      "<?xml version='1.0' encoding='UTF-8'?>\n<results preview='{}'>\n<meta>\n<fieldOrder>\n",
      preview ? 1 : 0);
  for (const auto& f : fields) out += fmt::format("<field>{}</field>\n", XmlEscape(f));
  out += "</fieldOrder>\n</meta>\n";
  return out;
}

}  // namespace

std::string FeedJson(const Feed& feed) {
  std::string out = "{\"links\":{},\"origin\":";
  AppendJsonString(&out, feed.origin);
  out += ",\"updated\":";
  AppendJsonString(&out, NowIso());
  out += ",\"generator\":{\"build\":\"cairn\",\"version\":";
  AppendJsonString(&out, feed.version);
  out += "},\"entry\":[";
  for (size_t i = 0; i < feed.entries.size(); ++i) {
    if (i) out += ',';
    AppendEntryJson(&out, feed.entries[i]);
  }
  out += fmt::format("],\"paging\":{{\"total\":{},\"perPage\":30,\"offset\":0}},\"messages\":[]}}",
                     feed.entries.size());
  return out;
}

std::string FeedXml(const Feed& feed) {
  std::string out =
      "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<feed xmlns=\"http://www.w3.org/2005/Atom\" "
      "xmlns:s=\"http://dev.splunk.com/ns/rest\" "
      "xmlns:opensearch=\"http://a9.com/-/spec/opensearch/1.1/\">\n";
  out += fmt::format("  <title>{}</title>\n  <id>{}</id>\n  <updated>{}</updated>\n",
                     XmlEscape(feed.title), XmlEscape(feed.origin), NowIso());
  out += fmt::format(
      "  <generator build=\"cairn\" version=\"{}\"/>\n  <author>\n    <name>Splunk</name>\n  "
      "</author>\n",
      XmlEscape(feed.version));
  out += fmt::format(
      "  <opensearch:totalResults>{}</opensearch:totalResults>\n"
      "  <opensearch:itemsPerPage>30</opensearch:itemsPerPage>\n"
      "  <opensearch:startIndex>0</opensearch:startIndex>\n  <s:messages/>\n",
      feed.entries.size());
  for (const auto& e : feed.entries) out += EntryXmlBody(e, false);
  out += "</feed>\n";
  return out;
}

std::string EntryXml(const Entry& entry) {
  return "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" + EntryXmlBody(entry, true);
}

std::string FormatResults(const ResultPage& page, OutputMode mode, std::string* content_type) {
  std::string out;
  switch (mode) {
    case OutputMode::kJson: {
      *content_type = "application/json; charset=utf-8";
      out = fmt::format("{{\"preview\":{},\"init_offset\":{},", page.preview ? "true" : "false",
                        page.offset);
      AppendMessagesJson(&out, page.messages);
      out += ",\"fields\":[";
      for (size_t j = 0; j < page.fields.size(); ++j) {
        if (j) out += ',';
        out += "{\"name\":";
        AppendJsonString(&out, page.fields[j]);
        out += '}';
      }
      out += "],\"results\":[";
      for (size_t i = 0; i < page.rows.size(); ++i) {
        if (i) out += ',';
        AppendJsonObjectRow(&out, page.fields, page.rows[i]);
      }
      out += "],\"highlighted\":{}}";
      return out;
    }
    case OutputMode::kJsonRows:
    case OutputMode::kJsonCols: {
      *content_type = "application/json; charset=utf-8";
      out = fmt::format("{{\"preview\":{},\"init_offset\":{},", page.preview ? "true" : "false",
                        page.offset);
      AppendMessagesJson(&out, page.messages);
      out += ",\"fields\":[";
      for (size_t j = 0; j < page.fields.size(); ++j) {
        if (j) out += ',';
        AppendJsonString(&out, page.fields[j]);
      }
      static const query::Values kNull;
      if (mode == OutputMode::kJsonRows) {
        out += "],\"rows\":[";
        for (size_t i = 0; i < page.rows.size(); ++i) {
          if (i) out += ',';
          out += '[';
          for (size_t j = 0; j < page.fields.size(); ++j) {
            if (j) out += ',';
            AppendJsonCell(&out, page.fields[j], j < page.rows[i].size() ? page.rows[i][j] : kNull);
          }
          out += ']';
        }
      } else {
        out += "],\"columns\":[";
        for (size_t j = 0; j < page.fields.size(); ++j) {
          if (j) out += ',';
          out += '[';
          for (size_t i = 0; i < page.rows.size(); ++i) {
            if (i) out += ',';
            AppendJsonCell(&out, page.fields[j], j < page.rows[i].size() ? page.rows[i][j] : kNull);
          }
          out += ']';
        }
      }
      out += "]}";
      return out;
    }
    case OutputMode::kCsv: {
      *content_type = "text/csv; charset=utf-8";
      if (page.fields.empty()) return "";
      out = CsvHead(page.fields);
      for (const auto& row : page.rows) out += CsvRow(page.fields, row);
      return out;
    }
    case OutputMode::kRaw: {
      *content_type = "text/plain; charset=utf-8";
      for (const auto& row : page.rows)
        out += ExportRow(page.fields, row, 0, false, OutputMode::kRaw);
      return out;
    }
    case OutputMode::kXml:
    default: {
      *content_type = "text/xml; charset=utf-8";
      if (page.fields.empty() && page.rows.empty()) {
        out = fmt::format("<?xml version='1.0' encoding='UTF-8'?>\n<results preview='{}'>\n",
                          page.preview ? 1 : 0);
      } else {
        out = XmlHead(page.fields, page.preview);
      }
      if (!page.messages.empty()) {
        out += "<messages>\n";
        for (const auto& m : page.messages) {
          out += fmt::format("  <msg type=\"{}\">{}</msg>\n", XmlEscape(m.type), XmlEscape(m.text));
        }
        out += "</messages>\n";
      }
      for (size_t i = 0; i < page.rows.size(); ++i)
        out += XmlResultRow(page.fields, page.rows[i], page.offset + i);
      out += "</results>\n";
      return out;
    }
  }
}

std::string DownloadHead(const std::vector<std::string>& fields, OutputMode mode) {
  if (mode == OutputMode::kJson) return "{\"preview\":false,\"init_offset\":0,\"results\":[";
  return fields.empty() ? "" : CsvHead(fields);
}

std::string DownloadCsvRows(const std::vector<std::string>& fields,
                            const std::vector<std::vector<query::Values>>& rows) {
  std::string out;
  if (fields.empty()) return out;
  for (const auto& row : rows) out += CsvRow(fields, row);
  return out;
}

std::string DownloadJsonRows(const std::vector<std::vector<std::string>>& names,
                             const std::vector<std::vector<query::Values>>& values, bool first) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < values.size(); ++i) {
    if (!first) out += ',';
    first = false;
    AppendJsonObjectRow(&out, names[i], values[i]);
  }
  return out;
}

std::string DownloadTail(const std::vector<std::string>& fields,
                         const std::vector<Message>& messages, OutputMode mode) {
  if (mode != OutputMode::kJson) return "";
  std::string out = "],\"fields\":[";
  for (size_t j = 0; j < fields.size(); ++j) {
    if (j) out += ',';
    out += "{\"name\":";
    AppendJsonString(&out, fields[j]);
    out += '}';
  }
  out += "],";
  AppendMessagesJson(&out, messages);
  out += ",\"highlighted\":{}}";
  return out;
}

std::string ExportHead(const std::vector<std::string>& fields, OutputMode mode) {
  switch (mode) {
    case OutputMode::kXml: return "<?xml version='1.0' encoding='UTF-8'?>\n<results preview='0'>\n";
    case OutputMode::kCsv: return fields.empty() ? "" : CsvHead(fields);
    default: return "";
  }
}

std::string ExportRow(const std::vector<std::string>& fields, const std::vector<query::Values>& row,
                      size_t offset, bool last, OutputMode mode) {
  switch (mode) {
    case OutputMode::kXml: return XmlResultRow(fields, row, offset);
    case OutputMode::kCsv: return CsvRow(fields, row);
    case OutputMode::kRaw: {
      for (size_t j = 0; j < fields.size() && j < row.size(); ++j) {
        if (fields[j] == "_raw" && !row[j].empty()) return row[j][0] + "\n";
      }
      std::string out;
      AppendJsonObjectRow(&out, fields, row);
      return out + "\n";
    }
    default: {
      std::string out = fmt::format("{{\"preview\":false,\"offset\":{},{}\"result\":", offset,
                                    last ? "\"lastrow\":true," : "");
      AppendJsonObjectRow(&out, fields, row);
      out += "}\n";
      return out;
    }
  }
}

std::string ExportTail(OutputMode mode) { return mode == OutputMode::kXml ? "</results>\n" : ""; }

std::string ExportMessages(const std::vector<Message>& messages, OutputMode mode) {
  if (messages.empty()) return "";
  std::string out;
  if (mode == OutputMode::kJson) {
    out = "{\"preview\":false,\"messages\":[";
    for (size_t i = 0; i < messages.size(); ++i) {
      out += i ? ",{\"type\":" : "{\"type\":";
      AppendJsonString(&out, messages[i].type);
      out += ",\"text\":";
      AppendJsonString(&out, messages[i].text);
      out += '}';
    }
    out += "]}\n";
  } else if (mode == OutputMode::kXml) {
    out = "<messages>\n";
    for (const auto& m : messages)
      out += "  <msg type=\"" + XmlEscape(m.type) + "\">" + XmlEscape(m.text) + "</msg>\n";
    out += "</messages>\n";
  }
  return out;
}

}  // namespace cairn::serve
