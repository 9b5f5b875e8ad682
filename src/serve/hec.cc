#include "serve/hec.h"

#include <fmt/format.h>
#include <simdjson.h>
#include <toml++/toml.h>

#include <algorithm>
#include <charconv>
#include <cmath>
#include <tuple>

#include "cloudtrail/memory_file.h"
#include "cloudtrail/reader.h"
#include "common/digest.h"
#include "common/fs.h"
#include "common/log.h"
#include "detect/alert.h"
#include "detect/hunt.h"
#include "detect/rule_set.h"
#include "store/fields.h"
#include "store/store.h"

namespace cairn::serve {
namespace {

bool IsSpace(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

// The end of the JSON string starting at s[i] == '"', or npos when unterminated.
size_t SkipString(std::string_view s, size_t i) {
  for (++i; i < s.size(); ++i) {
    if (s[i] == '\\') {
      ++i;
    } else if (s[i] == '"') {
      return i + 1;
    }
  }
  return std::string_view::npos;
}

// The end of the JSON value starting at s[i] (strings and nesting respected; scalars end at a
// delimiter), or npos when it does not end.
size_t SkipValue(std::string_view s, size_t i) {
  if (i >= s.size()) return std::string_view::npos;
  if (s[i] == '"') return SkipString(s, i);
  if (s[i] == '{' || s[i] == '[') {
    int depth = 0;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '"') {
        i = SkipString(s, i);
        if (i == std::string_view::npos) return i;
        --i;
      } else if (c == '{' || c == '[') {
        ++depth;
      } else if (c == '}' || c == ']') {
        if (--depth == 0) return i + 1;
      }
    }
    return std::string_view::npos;
  }
  while (i < s.size() && !IsSpace(s[i]) && s[i] != ',' && s[i] != '}' && s[i] != ']') ++i;
  return i;
}

// The text of member `key` of the (valid) JSON object `obj`, or empty when absent.
std::string_view MemberSpan(std::string_view obj, std::string_view key) {
  size_t i = 0;
  while (i < obj.size() && obj[i] != '{') ++i;
  ++i;
  while (i < obj.size()) {
    while (i < obj.size() && (IsSpace(obj[i]) || obj[i] == ',')) ++i;
    if (i >= obj.size() || obj[i] != '"') return {};
    size_t kend = SkipString(obj, i);
    if (kend == std::string_view::npos) return {};
    std::string_view k = obj.substr(i + 1, kend - i - 2);
    i = kend;
    while (i < obj.size() && (IsSpace(obj[i]) || obj[i] == ':')) ++i;
    size_t vend = SkipValue(obj, i);
    if (vend == std::string_view::npos) return {};
    if (k == key) return obj.substr(i, vend - i);
    i = vend;
  }
  return {};
}

void JsonEscapeTo(std::string_view s, std::string* out) {
  for (unsigned char c : s) {
    switch (c) {
      case '"': *out += "\\\""; break;
      case '\\': *out += "\\\\"; break;
      case '\n': *out += "\\n"; break;
      case '\r': *out += "\\r"; break;
      case '\t': *out += "\\t"; break;
      default:
        if (c < 0x20) {
          *out += fmt::format("\\u{:04x}", c);
        } else {
          *out += static_cast<char>(c);
        }
    }
  }
}

bool ValidIndexName(std::string_view s) {
  if (s.empty() || s.size() > 100) return false;
  for (char c : s) {
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')) return false;
  }
  return true;
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// One event's metadata after defaults are applied.
struct EventMeta {
  std::string index, sourcetype, source;
  std::string host;    // "" : the store's default host
  std::string fields;  // indexed fields, minified JSON object text; "" : none
  std::optional<int64_t> time_ms;
};

// Whether an object event is a CloudTrail record or an EventBridge envelope of one.
bool LooksCloudTrail(simdjson::dom::object obj) {
  std::string_view dt;
  if (obj["detail-type"].get_string().get(dt) == simdjson::SUCCESS) {
    return EndsWith(dt, "via CloudTrail") && obj["detail"].is_object();
  }
  return obj["eventID"].is_string() && obj["eventTime"].is_string() &&
         obj["eventSource"].is_string();
}

// A CloudTrail event waiting to go through the reader with the others of its request.
struct PendingCloudTrail {
  std::string index, source, host, fields;
  std::string_view text;
  int64_t number;
};

Result<cloudtrail::FileSummary> ReadCloudTrail(std::string text, const std::string& source,
                                               std::vector<cloudtrail::Event>* dest,
                                               size_t* bytes) {
  auto file = std::make_unique<cloudtrail::StringSequentialFile>(std::move(text));
  cloudtrail::ReaderOptions ro;
  return cloudtrail::ReadEvents(std::move(file), source, ro, [&](cloudtrail::Event&& e) {
    *bytes += e.raw.size();
    dest->push_back(std::move(e));
    return Status::Ok();
  });
}

// Runs the request's CloudTrail events through the reader, one {"Records":[...]} document per
// index and source (one reader call, not one per event); when that fails, event by event to
// name the one at fault.
std::optional<HecError> FlushCloudTrail(const std::vector<PendingCloudTrail>& pending,
                                        HecBatch* out) {
  using Key = std::tuple<std::string, std::string, std::string, std::string>;
  std::map<Key, std::vector<const PendingCloudTrail*>> groups;  // by index, source, host, fields
  for (const auto& p : pending) groups[{p.index, p.source, p.host, p.fields}].push_back(&p);
  for (const auto& [key, items] : groups) {
    const auto& [index, source, host, fields] = key;
    std::vector<cloudtrail::Event>& dest = out->by_index[index];
    const size_t before = dest.size();
    const size_t bytes_before = out->bytes;
    std::string doc = "{\"Records\":[";
    for (size_t i = 0; i < items.size(); ++i) {
      if (i > 0) doc += ',';
      doc += items[i]->text;
    }
    doc += "]}";
    auto r = ReadCloudTrail(std::move(doc), source, &dest, &out->bytes);
    if (r.ok() && dest.size() - before == items.size()) {
      for (size_t i = before; i < dest.size(); ++i) {
        dest[i].host = host;
        dest[i].fields = fields;
      }
      out->events += items.size();
      continue;
    }
    dest.resize(before);
    out->bytes = bytes_before;
    for (const PendingCloudTrail* p : items) {
      std::vector<cloudtrail::Event> one;
      size_t ignored = 0;
      auto r1 = ReadCloudTrail(std::string(p->text), source, &one, &ignored);
      if (!r1.ok() || one.size() != 1) {
        return MakeHecError(kHecInvalidFormat, p->number,
                            r1.ok() ? std::string("not one CloudTrail event")
                                    : "not a CloudTrail event: " + r1.status().message());
      }
    }
    return MakeHecError(kHecInvalidFormat, items.front()->number,
                        r.ok() ? std::string("not one CloudTrail event per event")
                               : "not CloudTrail events: " + r.status().message());
  }
  return std::nullopt;
}

// Adds one event (its JSON text `value`, parsed as `elem`) to `out`; a CloudTrail event to
// `ct`, for FlushCloudTrail.
std::optional<HecError> AddEvent(std::string_view value, simdjson::dom::element elem,
                                 const EventMeta& m, const HecRequestMeta& meta, int64_t number,
                                 HecBatch* out, std::vector<PendingCloudTrail>* ct) {
  if (!meta.token->AllowsIndex(m.index) || !ValidIndexName(m.index)) {
    return MakeHecError(kHecIncorrectIndex, number, fmt::format("index \"{}\"", m.index));
  }
  std::vector<cloudtrail::Event>& dest = out->by_index[m.index];
  simdjson::dom::object obj;
  bool is_object = elem.get_object().get(obj) == simdjson::SUCCESS;
  const bool cloudtrail_sourcetype = m.sourcetype.rfind("aws:cloudtrail", 0) == 0;
  if (cloudtrail_sourcetype && !is_object) {
    return MakeHecError(kHecInvalidFormat, number,
                        "sourcetype aws:cloudtrail needs a CloudTrail event (a JSON object)");
  }
  bool cloudtrail = is_object && (cloudtrail_sourcetype || LooksCloudTrail(obj));
  if (cloudtrail) {
    ct->push_back(PendingCloudTrail{m.index, m.source, m.host, m.fields, value, number});
    return std::nullopt;
  }
  cloudtrail::Event e;
  if (is_object) {
    e.raw = std::string(value);
  } else {
    std::string raw = "{\"event\":";
    raw += value;
    raw += '}';
    e.raw = std::move(raw);
  }
  e.time_ms = m.time_ms.value_or(meta.now_ms);
  e.sourcetype = m.sourcetype;
  e.source = m.source;
  e.host = m.host;
  e.fields = m.fields;
  // The event's place in its request is part of its identity: identical lines of one request
  // are distinct events, while the same request sent again (a retry) maps onto the same ones.
  std::string identity = fmt::format("{}\n{}\n{}\n{}\n", number, e.time_ms, m.sourcetype, m.source);
  if (!m.host.empty()) identity += "host\n" + m.host + "\n";
  if (!m.fields.empty()) identity += "fields\n" + m.fields + "\n";
  identity += e.raw.view();
  e.event_id = ContentKey(identity);
  out->bytes += e.raw.size();
  ++out->events;
  dest.push_back(std::move(e));
  return std::nullopt;
}

// Checks an event's `fields` (an object whose values are strings, numbers or booleans, or arrays
// of them, as Splunk takes them) and keeps it as a minified JSON object in *out ("" for none).
std::optional<HecError> IndexedFields(simdjson::dom::element fields, int64_t number,
                                      std::string* out) {
  simdjson::dom::object obj;
  if (fields.get_object().get(obj) != simdjson::SUCCESS) {
    return MakeHecError(kHecIndexedFields, number, "fields must be an object");
  }
  auto scalar = [](simdjson::dom::element v) { return !v.is_object() && !v.is_array(); };
  for (auto [key, value] : obj) {
    bool ok = scalar(value) && !value.is_null();
    if (value.is_array()) {
      ok = true;
      for (auto item : simdjson::dom::array(value)) ok &= scalar(item) && !item.is_null();
    }
    // A name the store keeps in a column of its own (eventName, host, ...) or the time could not
    // hold a second value there: refused rather than searched one way and shown another.
    if (key.empty() || key[0] == '_' || key == "index" || key == store::kTimeField ||
        store::ColumnIndex(key) >= 0) {
      return MakeHecError(kHecIndexedFields, number,
                          fmt::format("indexed field \"{}\" has the name of a field cairn keeps "
                                      "itself",
                                      key));
    }
    if (!ok) {
      return MakeHecError(
          kHecIndexedFields, number,
          fmt::format("indexed field \"{}\" must be a string, number or boolean, or "
                      "an array of them",
                      key));
    }
  }
  // Kept as one member per value (an array's values under its name, repeated), so the store and
  // the search see a multivalue field of that name, as Splunk does (not "name{}").
  std::string text = "{";
  auto add = [&](std::string_view key, simdjson::dom::element v) {
    if (text.size() > 1) text += ',';
    text += '"';
    JsonEscapeTo(key, &text);
    text += "\":";
    text += simdjson::to_string(v);
  };
  for (auto [key, value] : obj) {
    if (value.is_array()) {
      for (auto item : simdjson::dom::array(value)) add(key, item);
    } else {
      add(key, value);
    }
  }
  *out = text.size() == 1 ? std::string() : text + '}';
  return std::nullopt;
}

EventMeta Defaults(const HecRequestMeta& meta, bool raw) {
  const HecToken& t = *meta.token;
  EventMeta m;
  m.index = !meta.index.empty() ? meta.index : t.default_index;
  m.sourcetype = !meta.sourcetype.empty()        ? meta.sourcetype
                 : !t.default_sourcetype.empty() ? t.default_sourcetype
                 : raw                           ? "http:" + t.name
                                                 : "httpevent";
  m.source = !meta.source.empty()        ? meta.source
             : !t.default_source.empty() ? t.default_source
                                         : "http:" + t.name;
  m.host = meta.host;
  m.time_ms = meta.time_ms;
  return m;
}

// Splits `body` into top-level JSON values. Returns the offset of the first byte that does not
// start or continue one (npos when all are whole).
size_t SplitJsonValues(std::string_view body, std::vector<std::pair<size_t, size_t>>* spans) {
  size_t i = 0;
  while (true) {
    while (i < body.size() && IsSpace(body[i])) ++i;
    if (i >= body.size()) return std::string_view::npos;
    if (body[i] != '{') return i;
    size_t end = SkipValue(body, i);
    if (end == std::string_view::npos) return i;
    spans->emplace_back(i, end);
    i = end;
  }
}

std::optional<HecError> ParseObject(simdjson::dom::parser& parser, std::string_view text,
                                    size_t offset, simdjson::dom::element* out, int64_t number) {
  simdjson::padded_string padded(text);
  auto err = parser.parse(padded).get(*out);
  if (err != simdjson::SUCCESS) {
    return MakeHecError(kHecInvalidFormat, number,
                        fmt::format("invalid JSON in the object at byte {}: {}", offset,
                                    simdjson::error_message(err)));
  }
  return std::nullopt;
}

}  // namespace

bool HecToken::AllowsIndex(std::string_view index) const {
  if (index == default_index) return true;
  return std::find(indexes.begin(), indexes.end(), index) != indexes.end();
}

Result<std::vector<HecToken>> ParseHecTokens(std::string_view toml_text, std::string_view path) {
  toml::table root;
  try {
    root = toml::parse(toml_text, std::string(path));
  } catch (const toml::parse_error& e) {
    return InvalidArgument("{}:{}:{}: {}", path, e.source().begin.line, e.source().begin.column,
                           e.description());
  }
  std::vector<HecToken> out;
  auto node = root["serve"]["hec_token"];
  if (!node) return out;
  const toml::array* arr = node.as_array();
  if (arr == nullptr) {
    return InvalidArgument("{}: serve.hec_token must be an array of tables ([[serve.hec_token]])",
                           path);
  }
  int n = 0;
  for (const auto& item : *arr) {
    ++n;
    const toml::table* t = item.as_table();
    const int line = item.source().begin.line;
    if (t == nullptr)
      return InvalidArgument("{}:{}: serve.hec_token #{} is not a table", path, line, n);
    HecToken tok;
    tok.name = fmt::format("hec{}", n);
    std::string token_file;
    for (const auto& kv : *t) {
      const std::string key(kv.first.str());
      const toml::node& v = kv.second;
      auto str = [&](std::string* dst) -> Status {
        if (auto s = v.value<std::string>()) {
          *dst = *s;
          return Status::Ok();
        }
        return InvalidArgument("{}:{}: serve.hec_token.{} must be a string", path,
                               v.source().begin.line, key);
      };
      if (key == "name") {
        RETURN_IF_ERROR(str(&tok.name));
      } else if (key == "token") {
        RETURN_IF_ERROR(str(&tok.value));
      } else if (key == "token_file") {
        RETURN_IF_ERROR(str(&token_file));
      } else if (key == "index") {
        RETURN_IF_ERROR(str(&tok.default_index));
      } else if (key == "sourcetype") {
        RETURN_IF_ERROR(str(&tok.default_sourcetype));
      } else if (key == "source") {
        RETURN_IF_ERROR(str(&tok.default_source));
      } else if (key == "indexes") {
        if (const toml::array* a = v.as_array()) {
          for (const auto& x : *a) {
            if (auto s = x.value<std::string>()) tok.indexes.push_back(*s);
          }
        } else if (auto s = v.value<std::string>()) {
          std::string_view rest = *s;
          while (!rest.empty()) {
            size_t c = rest.find(',');
            std::string_view part = rest.substr(0, c);
            while (!part.empty() && IsSpace(part.front())) part.remove_prefix(1);
            while (!part.empty() && IsSpace(part.back())) part.remove_suffix(1);
            if (!part.empty()) tok.indexes.emplace_back(part);
            if (c == std::string_view::npos) break;
            rest.remove_prefix(c + 1);
          }
        }
      } else if (key == "useACK" || key == "use_ack") {
        auto b = v.value<bool>();
        if (!b)
          return InvalidArgument("{}:{}: serve.hec_token.{} must be true or false", path, line,
                                 key);
        tok.use_ack = *b;
      } else if (key == "disabled") {
        auto b = v.value<bool>();
        if (!b)
          return InvalidArgument("{}:{}: serve.hec_token.disabled must be true or false", path,
                                 line);
        tok.disabled = *b;
      } else {
        return InvalidArgument("{}:{}: serve.hec_token: unknown key \"{}\"", path, line, key);
      }
    }
    if (!token_file.empty()) {
      if (!tok.value.empty()) {
        return InvalidArgument("{}:{}: serve.hec_token \"{}\": give token or token_file, not both",
                               path, line, tok.name);
      }
      ASSIGN_OR_RETURN(std::string text, ReadFileToString(FileSystem::Default(), token_file, 4096));
      while (!text.empty() && IsSpace(text.back())) text.pop_back();
      while (!text.empty() && IsSpace(text.front())) text.erase(text.begin());
      tok.value = text;
    }
    if (tok.value.size() < 16) {
      return InvalidArgument(
          "{}:{}: serve.hec_token \"{}\": the token must be at least 16 characters (use a GUID)",
          path, line, tok.name);
    }
    if (!ValidIndexName(tok.default_index)) {
      return InvalidArgument("{}:{}: serve.hec_token \"{}\": bad index name \"{}\"", path, line,
                             tok.name, tok.default_index);
    }
    for (const auto& prev : out) {
      if (prev.value == tok.value || prev.name == tok.name) {
        return InvalidArgument("{}:{}: serve.hec_token \"{}\": name or token used twice", path,
                               line, tok.name);
      }
    }
    out.push_back(std::move(tok));
  }
  return out;
}

HecError MakeHecError(int code, int64_t invalid_event, std::string detail) {
  HecError e;
  e.code = code;
  e.invalid_event = invalid_event;
  e.detail = std::move(detail);
  switch (code) {
    case kHecSuccess:
      e.http_status = 200;
      e.text = "Success";
      break;
    case kHecTokenDisabled:
      e.http_status = 403;
      e.text = "Token disabled";
      break;
    case kHecTokenRequired:
      e.http_status = 401;
      e.text = "Token is required";
      break;
    case kHecInvalidAuth:
      e.http_status = 401;
      e.text = "Invalid authorization";
      break;
    case kHecInvalidToken:
      e.http_status = 403;
      e.text = "Invalid token";
      break;
    case kHecNoData:
      e.http_status = 400;
      e.text = "No data";
      break;
    case kHecInvalidFormat:
      e.http_status = 400;
      e.text = "Invalid data format";
      break;
    case kHecIncorrectIndex:
      e.http_status = 400;
      e.text = "Incorrect index";
      break;
    case kHecInternalError:
      e.http_status = 500;
      e.text = "Internal server error";
      break;
    case kHecBusy:
      e.http_status = 503;
      e.text = "Server is busy";
      break;
    case kHecChannelMissing:
      e.http_status = 400;
      e.text = "Data channel is missing";
      break;
    case kHecInvalidChannel:
      e.http_status = 400;
      e.text = "Invalid data channel";
      break;
    case kHecEventRequired:
      e.http_status = 400;
      e.text = "Event field is required";
      break;
    case kHecEventBlank:
      e.http_status = 400;
      e.text = "Event field cannot be blank";
      break;
    case kHecAckDisabled:
      e.http_status = 400;
      e.text = "ACK is disabled";
      break;
    case kHecIndexedFields:
      e.http_status = 400;
      e.text = "Error in handling indexed fields";
      break;
    case kHecHealthy:
      e.http_status = 200;
      e.text = "HEC is healthy";
      break;
    case kHecUnhealthyQueues:
      e.http_status = 503;
      e.text = "HEC is unhealthy, queues are full";
      break;
    default:
      e.http_status = 500;
      e.text = "Internal server error";
      break;
  }
  return e;
}

std::string HecErrorJson(const HecError& e) {
  std::string out = "{\"text\":\"";
  JsonEscapeTo(e.text, &out);
  out += fmt::format("\",\"code\":{}", e.code);
  if (e.invalid_event >= 0) out += fmt::format(",\"invalid-event-number\":{}", e.invalid_event);
  if (!e.detail.empty()) {
    out += ",\"detail\":\"";
    JsonEscapeTo(e.detail, &out);
    out += '"';
  }
  out += '}';
  return out;
}

std::optional<int64_t> ParseEpochSeconds(std::string_view text) {
  while (!text.empty() && IsSpace(text.front())) text.remove_prefix(1);
  while (!text.empty() && IsSpace(text.back())) text.remove_suffix(1);
  if (text.empty()) return std::nullopt;
  double v = 0;
  auto [p, ec] = std::from_chars(text.data(), text.data() + text.size(), v);
  if (ec != std::errc() || p != text.data() + text.size() || !std::isfinite(v) || v < 0 ||
      v > 32503680000.0) {  // year 3000
    return std::nullopt;
  }
  return static_cast<int64_t>(std::llround(v * 1000.0));
}

bool ValidHecChannel(std::string_view channel) {
  if (channel.empty() || channel.size() > 128) return false;
  for (char c : channel) {
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
          c == '_')) {
      return false;
    }
  }
  return true;
}

std::optional<HecError> ParseHecEventBody(std::string_view body, const HecRequestMeta& meta,
                                          HecBatch* out) {
  std::vector<std::pair<size_t, size_t>> spans;
  size_t bad = SplitJsonValues(body, &spans);
  if (spans.empty() && bad == std::string_view::npos) return MakeHecError(kHecNoData);
  if (bad != std::string_view::npos) {
    return MakeHecError(kHecInvalidFormat, static_cast<int64_t>(spans.size()),
                        fmt::format("expected a JSON object at byte {}", bad));
  }
  simdjson::dom::parser parser;
  HecBatch batch;
  std::vector<PendingCloudTrail> ct;
  const EventMeta defaults = Defaults(meta, false);
  for (size_t n = 0; n < spans.size(); ++n) {
    const int64_t number = static_cast<int64_t>(n);
    std::string_view text = body.substr(spans[n].first, spans[n].second - spans[n].first);
    simdjson::dom::element doc;
    if (auto e = ParseObject(parser, text, spans[n].first, &doc, number)) return e;
    simdjson::dom::object obj = doc.get_object().value_unsafe();
    simdjson::dom::element ev;
    if (obj["event"].get(ev) != simdjson::SUCCESS) return MakeHecError(kHecEventRequired, number);
    std::string_view evs;
    if (ev.is_null() || (ev.get_string().get(evs) == simdjson::SUCCESS && evs.empty())) {
      return MakeHecError(kHecEventBlank, number);
    }
    EventMeta m = defaults;
    auto str_member = [&](const char* key, std::string* dst) -> bool {
      simdjson::dom::element v;
      if (obj[key].get(v) != simdjson::SUCCESS || v.is_null()) return true;
      std::string_view s;
      if (v.get_string().get(s) != simdjson::SUCCESS) return false;
      if (!s.empty()) *dst = std::string(s);
      return true;
    };
    if (!str_member("index", &m.index) || !str_member("sourcetype", &m.sourcetype) ||
        !str_member("source", &m.source) || !str_member("host", &m.host)) {
      return MakeHecError(kHecInvalidFormat, number,
                          "index, sourcetype, source and host must be strings");
    }
    simdjson::dom::element t;
    if (obj["time"].get(t) == simdjson::SUCCESS && !t.is_null()) {
      std::optional<int64_t> ms;
      std::string_view ts;
      double d = 0;
      if (t.get_string().get(ts) == simdjson::SUCCESS) {
        ms = ParseEpochSeconds(ts);
      } else if (t.get_double().get(d) == simdjson::SUCCESS) {
        ms = ParseEpochSeconds(fmt::format("{:.6f}", d));
      }
      if (!ms) {
        return MakeHecError(kHecInvalidFormat, number,
                            "time must be epoch seconds (a number or a numeric string)");
      }
      m.time_ms = ms;
    }
    simdjson::dom::element fields;
    if (obj["fields"].get(fields) == simdjson::SUCCESS && !fields.is_null()) {
      if (auto e = IndexedFields(fields, number, &m.fields)) return e;
    }
    std::string_view value = MemberSpan(text, "event");
    if (value.empty()) return MakeHecError(kHecEventRequired, number);
    if (auto e = AddEvent(value, ev, m, meta, number, &batch, &ct)) return e;
  }
  if (auto e = FlushCloudTrail(ct, &batch)) return e;
  out->events += batch.events;
  out->bytes += batch.bytes;
  for (auto& [index, events] : batch.by_index) {
    auto& dest = out->by_index[index];
    for (auto& e : events) dest.push_back(std::move(e));
  }
  return std::nullopt;
}

std::optional<HecError> ParseHecRawBody(std::string_view body, const HecRequestMeta& meta,
                                        HecBatch* out) {
  size_t first = 0;
  while (first < body.size() && IsSpace(body[first])) ++first;
  if (first == body.size()) return MakeHecError(kHecNoData);
  const EventMeta m = Defaults(meta, true);
  HecBatch batch;
  std::vector<PendingCloudTrail> ct;
  std::vector<std::pair<size_t, size_t>> spans;
  simdjson::dom::parser parser;
  bool as_json = body[first] == '{' && SplitJsonValues(body, &spans) == std::string_view::npos;
  if (as_json) {
    for (size_t n = 0; n < spans.size() && as_json; ++n) {
      std::string_view text = body.substr(spans[n].first, spans[n].second - spans[n].first);
      simdjson::padded_string padded(text);
      simdjson::dom::element doc;
      if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
        as_json = false;
        break;
      }
      if (auto e = AddEvent(text, doc, m, meta, static_cast<int64_t>(n), &batch, &ct)) return e;
    }
  }
  if (!as_json) {
    batch = HecBatch{};
    ct.clear();
    int64_t number = 0;
    size_t i = 0;
    while (i < body.size()) {
      size_t nl = body.find('\n', i);
      if (nl == std::string_view::npos) nl = body.size();
      std::string_view line = body.substr(i, nl - i);
      i = nl + 1;
      if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
      bool blank = std::all_of(line.begin(), line.end(), IsSpace);
      if (blank) continue;
      std::string quoted = "\"";
      JsonEscapeTo(line, &quoted);
      quoted += '"';
      simdjson::padded_string padded(quoted);
      simdjson::dom::element doc;
      if (parser.parse(padded).get(doc) != simdjson::SUCCESS) {
        return MakeHecError(kHecInvalidFormat, number, "a line is not valid UTF-8");
      }
      if (auto e = AddEvent(quoted, doc, m, meta, number, &batch, &ct)) return e;
      ++number;
    }
    if (batch.events == 0) return MakeHecError(kHecNoData);
  }
  if (auto e = FlushCloudTrail(ct, &batch)) return e;
  out->events += batch.events;
  out->bytes += batch.bytes;
  for (auto& [index, events] : batch.by_index) {
    auto& dest = out->by_index[index];
    for (auto& e : events) dest.push_back(std::move(e));
  }
  return std::nullopt;
}

// ---- HecIngest ----

class HecIngest::Ticket {
 public:
  std::mutex mu;
  std::condition_variable cv;
  bool done = false;
  Status status;
};

HecIngest::HecIngest(HecIngestOptions options) : options_(std::move(options)) {
  if (options_.rules != nullptr) {
    correlator_ = std::make_unique<detect::StreamingCorrelator>(options_.rules);
    if (options_.store != nullptr) {
      // The windows a restart left open, read back from the store (detect::WarmCorrelator).
      auto warm = detect::WarmCorrelator(options_.store, *options_.rules, correlator_.get());
      Status s = warm.status();
      if (warm.ok()) s = detect::StoreAlerts(options_.store, *warm).status();
      if (!s.ok())
        log::Warn("hec: reading the stored hits of open correlation windows: {}", s.ToString());
    }
  }
  for (int i = 0; i < std::max(1, options_.committers); ++i) {
    threads_.emplace_back([this] { Run(); });
  }
}

HecIngest::~HecIngest() { Stop(); }

Result<std::shared_ptr<HecIngest::Ticket>> HecIngest::Submit(HecBatch batch) {
  auto ticket = std::make_shared<Ticket>();
  std::lock_guard<std::mutex> lock(mu_);
  ++stats_.requests;
  if (stopping_) return Cancelled("the event collector is stopping");
  if (pending_events_ > 0 && (pending_events_ + batch.events > options_.max_pending_events ||
                              pending_bytes_ + batch.bytes > options_.max_pending_bytes)) {
    ++stats_.busy;
    return Unavailable("the event collector's queue is full");
  }
  pending_events_ += batch.events;
  pending_bytes_ += batch.bytes;
  stats_.events += batch.events;
  queue_.emplace_back(std::move(batch), ticket);
  last_submit_ = std::chrono::steady_clock::now();
  cv_.notify_all();
  return ticket;
}

Status HecIngest::Wait(const std::shared_ptr<Ticket>& ticket) {
  std::unique_lock<std::mutex> lock(ticket->mu);
  ticket->cv.wait(lock, [&] { return ticket->done; });
  return ticket->status;
}

Result<uint64_t> HecIngest::AddAck(const std::string& channel, std::shared_ptr<Ticket> ticket) {
  std::lock_guard<std::mutex> lock(mu_);
  auto it = channels_.find(channel);
  if (it == channels_.end()) {
    if (channels_.size() >= options_.max_channels) {
      // Forget channels with nothing left to answer before refusing.
      for (auto c = channels_.begin(); c != channels_.end();) {
        c = c->second.acks.empty() ? channels_.erase(c) : std::next(c);
      }
      if (channels_.size() >= options_.max_channels) return Unavailable("too many ack channels");
    }
    it = channels_.emplace(channel, Channel{}).first;
  }
  Channel& ch = it->second;
  if (ch.acks.size() >= options_.max_acks_per_channel) {
    return Unavailable("too many unanswered acks on this channel");
  }
  uint64_t id = ch.next_id++;
  ch.acks.emplace(id, std::move(ticket));
  return id;
}

std::vector<std::pair<uint64_t, bool>> HecIngest::QueryAcks(const std::string& channel,
                                                            const std::vector<uint64_t>& ids) {
  std::vector<std::pair<uint64_t, bool>> out;
  std::lock_guard<std::mutex> lock(mu_);
  auto it = channels_.find(channel);
  for (uint64_t id : ids) {
    bool ok = false;
    if (it != channels_.end()) {
      auto a = it->second.acks.find(id);
      if (a != it->second.acks.end()) {
        std::lock_guard<std::mutex> tl(a->second->mu);
        ok = a->second->done && a->second->status.ok();
        if (ok) it->second.acks.erase(a);
      }
    }
    out.emplace_back(id, ok);
  }
  return out;
}

bool HecIngest::Busy() const {
  std::lock_guard<std::mutex> lock(mu_);
  return pending_events_ >= options_.max_pending_events ||
         pending_bytes_ >= options_.max_pending_bytes;
}

HecIngestStats HecIngest::stats() const {
  std::lock_guard<std::mutex> lock(mu_);
  return stats_;
}

void HecIngest::Stop() {
  std::vector<std::thread> threads;
  {
    std::lock_guard<std::mutex> lock(mu_);
    if (stopping_) return;
    stopping_ = true;
    threads.swap(threads_);
    cv_.notify_all();
  }
  for (auto& t : threads) t.join();
  if (correlator_ != nullptr && options_.store != nullptr) {
    // The correlations' windows still open are final at the stop.
    auto stored = detect::StoreAlerts(options_.store, correlator_->Flush());
    if (!stored.ok()) log::Error("hec: storing correlation alerts: {}", stored.status().ToString());
  }
}

// A committer: takes everything queued (group commit), commits it index by index, then tells
// each request's ticket. Several run at once: while one commits, the next gathers.
void HecIngest::Run() {
  while (true) {
    std::deque<std::pair<HecBatch, std::shared_ptr<Ticket>>> work;
    {
      std::unique_lock<std::mutex> lock(mu_);
      cv_.wait(lock, [&] { return stopping_ || !queue_.empty(); });
      if (queue_.empty()) return;  // stopping with nothing left
      // Acknowledged batches wait a little for more (nobody is waiting for their commit).
      auto gathered = [&] {
        size_t n = 0;
        for (const auto& [batch, ticket] : queue_) {
          if (batch.sender_waits) return true;
          n += batch.events;
        }
        return n >= options_.ack_gather_events;
      };
      // Until enough are queued, the time is up, or the senders pause (nothing new for
      // ack_gather_idle: the stream's end, or a sender that waits for its acks).
      const auto deadline = std::chrono::steady_clock::now() + options_.ack_gather;
      while (options_.ack_gather.count() > 0 && !stopping_ && !gathered()) {
        const auto wake = std::min(deadline, last_submit_ + options_.ack_gather_idle);
        if (std::chrono::steady_clock::now() >= wake) break;
        cv_.wait_until(lock, wake);
      }
      work.swap(queue_);
    }
    if (work.empty()) continue;  // another committer took what was queued
    std::map<std::string, std::vector<cloudtrail::Event>> by_index;
    std::map<std::string, std::vector<size_t>> users;  // index -> positions in work
    size_t events = 0, bytes = 0;
    for (size_t i = 0; i < work.size(); ++i) {
      events += work[i].first.events;
      bytes += work[i].first.bytes;
      for (auto& [index, evs] : work[i].first.by_index) {
        auto& dest = by_index[index];
        if (dest.empty()) dest.reserve(evs.size());
        for (auto& e : evs) dest.push_back(std::move(e));
        users[index].push_back(i);
      }
    }
    if (options_.before_commit) options_.before_commit();
    std::vector<Status> result(work.size());
    uint64_t stored = 0, duplicates = 0, commits = 0, errors = 0, alerts_stored = 0;
    for (auto& [index, evs] : by_index) {
      detect::BatchAlerts alerts(options_.rules, index, evs, correlator_.get());
      auto r = options_.store->CommitInPlace(index, &evs);
      ++commits;
      if (r.ok() && alerts.any()) {
        // After the events, like the collectors: an alert never points at an event not stored.
        auto a = alerts.Store(options_.store, r->skipped);
        if (a.ok()) {
          alerts_stored += *a;
        } else {
          log::Error("hec: storing {} Sigma alerts: {}", alerts.matches(), a.status().ToString());
          r = a.status();
        }
      }
      if (!r.ok()) {
        ++errors;
        log::Error("hec: committing {} events to index {}: {}", evs.size(), index,
                   r.status().ToString());
        for (size_t i : users[index]) result[i] = r.status();
      } else {
        stored += r->added;
        duplicates += r->duplicates;
      }
    }
    {
      std::lock_guard<std::mutex> lock(mu_);
      pending_events_ -= events;
      pending_bytes_ -= bytes;
      stats_.commits += commits;
      stats_.commit_errors += errors;
      stats_.stored += stored;
      stats_.duplicates += duplicates;
      stats_.alerts += alerts_stored;
    }
    for (size_t i = 0; i < work.size(); ++i) {
      auto& t = work[i].second;
      std::lock_guard<std::mutex> tl(t->mu);
      t->status = result[i];
      t->done = true;
      t->cv.notify_all();
    }
  }
}

}  // namespace cairn::serve
