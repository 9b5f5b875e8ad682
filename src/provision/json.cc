#include "provision/json.h"

#include <simdjson.h>

#include <algorithm>

#include "common/json_util.h"

namespace cairn::provision {

JsonValue JsonValue::Bool(bool b) {
  JsonValue v;
  v.type_ = Type::kBool;
  v.text_ = b ? "true" : "false";
  return v;
}

JsonValue JsonValue::Number(long long n) {
  JsonValue v;
  v.type_ = Type::kNumber;
  v.text_ = std::to_string(n);
  return v;
}

JsonValue JsonValue::Str(std::string s) {
  JsonValue v;
  v.type_ = Type::kString;
  v.text_ = std::move(s);
  return v;
}

JsonValue JsonValue::Array(std::vector<JsonValue> items) {
  JsonValue v;
  v.type_ = Type::kArray;
  v.items_ = std::move(items);
  return v;
}

JsonValue JsonValue::StrArray(const std::vector<std::string>& items) {
  JsonValue v = Array();
  for (const auto& s : items) v.items_.push_back(Str(s));
  return v;
}

JsonValue JsonValue::Object(Members members) {
  JsonValue v;
  v.type_ = Type::kObject;
  v.members_ = std::move(members);
  return v;
}

const JsonValue* JsonValue::Find(std::string_view key) const {
  for (const auto& [k, v] : members_) {
    if (k == key) return &v;
  }
  return nullptr;
}

std::string JsonValue::GetText(std::string_view key) const {
  const JsonValue* v = Find(key);
  return v == nullptr ? std::string() : v->text_;
}

JsonValue& JsonValue::Add(std::string key, JsonValue value) {
  members_.emplace_back(std::move(key), std::move(value));
  return *this;
}

JsonValue& JsonValue::Push(JsonValue value) {
  items_.push_back(std::move(value));
  return *this;
}

void JsonValue::DumpTo(std::string* out) const {
  switch (type_) {
    case Type::kNull:
      out->append("null");
      break;
    case Type::kBool:
    case Type::kNumber:
      out->append(text_);
      break;
    case Type::kString:
      AppendJsonString(out, text_);
      break;
    case Type::kArray:
      out->push_back('[');
      for (size_t i = 0; i < items_.size(); ++i) {
        if (i) out->push_back(',');
        items_[i].DumpTo(out);
      }
      out->push_back(']');
      break;
    case Type::kObject:
      out->push_back('{');
      for (size_t i = 0; i < members_.size(); ++i) {
        if (i) out->push_back(',');
        AppendJsonString(out, members_[i].first);
        out->push_back(':');
        members_[i].second.DumpTo(out);
      }
      out->push_back('}');
      break;
  }
}

std::string JsonValue::Dump() const {
  std::string out;
  DumpTo(&out);
  return out;
}

JsonValue JsonValue::Canonical() const {
  switch (type_) {
    case Type::kNull:
      return Null();
    case Type::kBool:
    case Type::kNumber:
    case Type::kString:
      return Str(text_);
    case Type::kArray: {
      std::vector<JsonValue> items;
      bool all_scalar = true;
      for (const auto& item : items_) {
        items.push_back(item.Canonical());
        if (items.back().type_ != Type::kString) all_scalar = false;
      }
      if (all_scalar) {
        std::sort(items.begin(), items.end(), [](const JsonValue& a, const JsonValue& b) { return a.text_ < b.text_; });
        items.erase(std::unique(items.begin(), items.end(),
                                [](const JsonValue& a, const JsonValue& b) { return a.text_ == b.text_; }),
                    items.end());
      }
      if (items.size() == 1) return std::move(items[0]);
      return Array(std::move(items));
    }
    case Type::kObject: {
      Members members;
      for (const auto& [k, v] : members_) members.emplace_back(k, v.Canonical());
      std::stable_sort(members.begin(), members.end(),
                       [](const auto& a, const auto& b) { return a.first < b.first; });
      return Object(std::move(members));
    }
  }
  return Null();
}

namespace {

JsonValue FromDom(simdjson::dom::element e) {
  switch (e.type()) {
    case simdjson::dom::element_type::ARRAY: {
      JsonValue a = JsonValue::Array();
      simdjson::dom::array arr;
      if (e.get(arr) == simdjson::SUCCESS) {
        for (simdjson::dom::element item : arr) a.Push(FromDom(item));
      }
      return a;
    }
    case simdjson::dom::element_type::OBJECT: {
      JsonValue o = JsonValue::Object();
      simdjson::dom::object obj;
      if (e.get(obj) == simdjson::SUCCESS) {
        for (auto field : obj) o.Add(std::string(field.key), FromDom(field.value));
      }
      return o;
    }
    case simdjson::dom::element_type::STRING:
      return JsonValue::Str(std::string(e.get_string().value_unsafe()));
    case simdjson::dom::element_type::BOOL:
      return JsonValue::Bool(e.get_bool().value_unsafe());
    case simdjson::dom::element_type::INT64:
      return JsonValue::Number(e.get_int64().value_unsafe());
    case simdjson::dom::element_type::UINT64:
      return JsonValue::Number(static_cast<long long>(e.get_uint64().value_unsafe()));
    case simdjson::dom::element_type::DOUBLE: {
      // Keep the value as text; CloudTrail timestamps arrive as doubles.
      JsonValue v = JsonValue::Str(simdjson::to_string(e));
      return v;
    }
    case simdjson::dom::element_type::NULL_VALUE:
      return JsonValue::Null();
  }
  return JsonValue::Null();
}

}  // namespace

Result<JsonValue> JsonValue::Parse(std::string_view text, std::string_view what) {
  simdjson::dom::parser parser;
  simdjson::padded_string padded(text);
  simdjson::dom::element root;
  auto err = parser.parse(padded).get(root);
  if (err != simdjson::SUCCESS) {
    return Corruption("{}: not valid JSON ({})", what, simdjson::error_message(err));
  }
  return FromDom(root);
}

Result<std::string> CanonicalJson(std::string_view text) {
  ASSIGN_OR_RETURN(JsonValue v, JsonValue::Parse(text, "policy document"));
  return v.Canonical().Dump();
}

}  // namespace cairn::provision
