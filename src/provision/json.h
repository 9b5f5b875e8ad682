#pragma once
// A small JSON value for the documents provisioning writes and reads back: IAM-style policies,
// SQS redrive policies, CloudTrail request and response bodies. Built in code, serialized with
// Dump(); parsed (simdjson) from AWS responses.
//
// Canonical() gives the form used to compare a policy AWS returns with the one cairn wants, so
// that AWS's reformatting is not a change: object keys sorted, every scalar written as a string
// (AWS may turn 5 into "5" or true into "true"), a one-element array equal to its element
// (AWS collapses ["x"] to "x"), arrays of scalars sorted and de-duplicated.
//
// Thread safety: a value is plain data.

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "common/status.h"

namespace cairn::provision {

class JsonValue {
 public:
  enum class Type { kNull, kBool, kNumber, kString, kArray, kObject };
  using Members = std::vector<std::pair<std::string, JsonValue>>;

  JsonValue() = default;
  static JsonValue Null() { return JsonValue(); }
  static JsonValue Bool(bool b);
  static JsonValue Number(long long n);
  static JsonValue Str(std::string s);
  static JsonValue Array(std::vector<JsonValue> items = {});
  static JsonValue StrArray(const std::vector<std::string>& items);
  static JsonValue Object(Members members = {});

  // Parses `text`; errors name `what` and the simdjson error.
  static Result<JsonValue> Parse(std::string_view text, std::string_view what);

  Type type() const { return type_; }
  bool is_object() const { return type_ == Type::kObject; }
  bool is_array() const { return type_ == Type::kArray; }
  bool is_string() const { return type_ == Type::kString; }
  // The text of a string, number or bool ("true"/"false"); "" otherwise.
  const std::string& text() const { return text_; }
  bool bool_value() const { return type_ == Type::kBool && text_ == "true"; }
  const std::vector<JsonValue>& items() const { return items_; }
  const Members& members() const { return members_; }

  // Object member `key` or nullptr.
  const JsonValue* Find(std::string_view key) const;
  // Text of member `key` (see text()), "" when absent.
  std::string GetText(std::string_view key) const;

  // Adds a member (objects) or an item (arrays); returns *this for chaining.
  JsonValue& Add(std::string key, JsonValue value);
  JsonValue& Push(JsonValue value);

  // Compact JSON text, members in insertion order.
  std::string Dump() const;
  JsonValue Canonical() const;

 private:
  void DumpTo(std::string* out) const;
  Type type_ = Type::kNull;
  std::string text_;
  std::vector<JsonValue> items_;
  Members members_;
};

// Canonical().Dump() of the parsed text: equal for documents AWS considers the same policy.
Result<std::string> CanonicalJson(std::string_view text);

}  // namespace cairn::provision
