#include "query/row.h"

#include <simdjson.h>

#include <cmath>

#include "query/time_format.h"

namespace cairn::query {

Row Row::FromEvent(std::shared_ptr<const EventRecord> event, const FieldExtractor* extractor) {
  Row r;
  r.fields_["_time"] = {FormatNumber(event->time)};
  r.fields_["_raw"] = {event->raw};
  r.fields_["index"] = {event->index};
  r.fields_["sourcetype"] = {event->sourcetype};
  r.fields_["source"] = {event->source};
  r.fields_["host"] = {event->host};
  r.extractor_ = extractor;
  r.extracted_ = extractor == nullptr;
  r.event_ = std::move(event);
  return r;
}

void Row::Materialize() {
  if (extracted_) return;
  extracted_ = true;
  // Builtins already set win over extracted fields of the same name.
  FieldMap builtins;
  builtins.swap(fields_);
  extractor_->Extract(*event_, this);
  for (auto& [k, v] : builtins) fields_[k] = std::move(v);
}

const Values* Row::Get(std::string_view name) {
  auto it = fields_.find(name);
  if (it != fields_.end()) return it->second.empty() ? nullptr : &it->second;
  if (extracted_) return nullptr;
  Materialize();
  it = fields_.find(name);
  if (it == fields_.end() || it->second.empty()) return nullptr;
  return &it->second;
}

std::string Row::GetFirst(std::string_view name) {
  const Values* v = Get(name);
  return v ? v->front() : std::string();
}

void Row::Set(const std::string& name, Values v) {
  Materialize();
  if (v.empty()) {
    fields_.erase(name);
  } else {
    fields_[name] = std::move(v);
  }
}

void Row::Remove(std::string_view name) {
  Materialize();
  auto it = fields_.find(name);
  if (it != fields_.end()) fields_.erase(it);
}

FieldMap& Row::fields() {
  Materialize();
  return fields_;
}

double Row::time() {
  const Values* v = Get("_time");
  if (!v) return 0;
  auto n = ParseNumber(v->front());
  return n ? *n : 0;
}

namespace {

void FlattenElement(simdjson::dom::element el, const std::string& path, Row* row) {
  using simdjson::dom::element_type;
  switch (el.type()) {
    case element_type::OBJECT:
      for (auto [key, child] : simdjson::dom::object(el)) {
        std::string p = path.empty() ? std::string(key) : path + "." + std::string(key);
        FlattenElement(child, p, row);
      }
      break;
    case element_type::ARRAY: {
      std::string p = path + "{}";
      for (auto child : simdjson::dom::array(el)) FlattenElement(child, p, row);
      break;
    }
    case element_type::STRING:
      row->AppendRaw(path, std::string(std::string_view(el)));
      break;
    case element_type::INT64:
      row->AppendRaw(path, std::to_string(int64_t(el)));
      break;
    case element_type::UINT64:
      row->AppendRaw(path, std::to_string(uint64_t(el)));
      break;
    case element_type::DOUBLE:
      row->AppendRaw(path, FormatNumber(double(el)));
      break;
    case element_type::BOOL:
      row->AppendRaw(path, bool(el) ? "true" : "false");
      break;
    case element_type::NULL_VALUE:
      break;
  }
}

}  // namespace

bool FlattenJson(std::string_view json, const std::string& prefix, Row* row) {
  thread_local simdjson::dom::parser parser;
  simdjson::padded_string padded(json);
  simdjson::dom::element root;
  if (parser.parse(padded).get(root) != simdjson::SUCCESS) return false;
  FlattenElement(root, prefix, row);
  return true;
}

}  // namespace cairn::query
