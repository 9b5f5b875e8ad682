#pragma once
// Values as SPL sees them. A field holds zero (null), one, or several (multivalue) strings; numbers
// are strings that look numeric. An eval expression produces a Value: null, number, string,
// boolean (only inside expressions) or multivalue. Pure functions; thread-safe.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cairn::query {

// A field's values. Empty means null (the field is absent).
using Values = std::vector<std::string>;

// Parses a whole string as a number the way Splunk does for comparisons (leading/trailing spaces
// allowed, decimal or exponent notation, optional sign, "0x" hex). nullopt when not numeric.
std::optional<double> ParseNumber(std::string_view s);

// Shortest round-trip text for a number; integral values print without a fraction ("3", not "3.0").
std::string FormatNumber(double d);

// Splunk's ordering for sort/min/max: numbers before strings, numbers numerically, strings
// lexicographically (case-sensitive). Returns <0, 0, >0.
int CompareMixed(std::string_view a, std::string_view b);

// Lowercase ASCII copy.
std::string Lower(std::string_view s);

class Value {
 public:
  enum class Kind { kNull, kNumber, kString, kBool, kMulti };

  Value() = default;
  static Value Null() { return Value(); }
  static Value Number(double d, std::string text = {}) {
    Value v;
    v.kind_ = Kind::kNumber;
    v.num_ = d;
    v.str_ = std::move(text);
    return v;
  }
  static Value String(std::string s) {
    Value v;
    v.kind_ = Kind::kString;
    v.str_ = std::move(s);
    return v;
  }
  static Value Bool(bool b) {
    Value v;
    v.kind_ = Kind::kBool;
    v.bool_ = b;
    return v;
  }
  // Zero values give null, one value gives a scalar (typed like a field), more a multivalue.
  static Value FromField(const Values& values);
  static Value Multi(Values values) {
    if (values.empty()) return Null();
    if (values.size() == 1) return FromFieldText(std::move(values[0]));
    Value v;
    v.kind_ = Kind::kMulti;
    v.multi_ = std::move(values);
    return v;
  }
  // A field's single text value: a number when it looks numeric (keeping its text), else a string.
  static Value FromFieldText(std::string s);

  Kind kind() const { return kind_; }
  bool is_null() const { return kind_ == Kind::kNull; }
  bool is_number() const { return kind_ == Kind::kNumber; }
  bool is_string() const { return kind_ == Kind::kString; }
  bool is_bool() const { return kind_ == Kind::kBool; }
  bool is_multi() const { return kind_ == Kind::kMulti; }
  double number() const { return num_; }
  bool boolean() const { return bool_; }
  const Values& multi() const { return multi_; }
  // A string's text (for other kinds, what was kept with them: a number's original text or "").
  const std::string& text() const { return str_; }

  // The number this value denotes, if any (numbers, numeric strings, first value of a multivalue).
  std::optional<double> AsNumber() const;
  // Text form: numbers by their original text or FormatNumber, booleans "true"/"false",
  // a multivalue's first value, null "".
  std::string AsText() const;
  // The values to store in a field: null -> {}, multivalue -> all, else one.
  Values ToField() const;
  // True for a boolean true; every other value is not true (nulls are false in where).
  bool IsTrue() const { return kind_ == Kind::kBool && bool_; }

 private:
  Kind kind_ = Kind::kNull;
  double num_ = 0;
  bool bool_ = false;
  std::string str_;
  Values multi_;
};

}  // namespace cairn::query
