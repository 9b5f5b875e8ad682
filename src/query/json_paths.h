#pragma once
// Extraction of chosen JSON leaves by their Splunk field names, in one pass
// over the document.
//
// A search knows before it runs which fields it may ask of its events (the
// names its commands read). JsonPaths compiles those names into a trie of
// object keys and array steps
// ("resources{}.ARN" is the key `resources`, an array step, then the key
// `ARN`), and Extract walks one JSON document with simdjson's On-Demand parser,
// descending only into members on a wanted path and skipping the rest without
// materialising them. Values follow FlattenJson (row.h) exactly: strings
// unescaped, integers in decimal, other numbers by FormatNumber, booleans as
// true/false, nulls absent, arrays as multivalues in document order, and a key
// holding dots
// ("a.b") reaches the same name as nested keys do.
//
// Thread safety: a JsonPaths is immutable after construction and may be shared;
// Extract uses a parser per thread.

#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "query/value.h"

namespace cairn::query {

class JsonPaths {
 public:
  // `names` are field names; duplicates are ignored. Slots are numbered in the
  // order of first appearance.
  explicit JsonPaths(const std::vector<std::string>& names);
  // The same slots as JsonPaths(names), but Extract fills only those of names[i] with walk[i]
  // (the others stay empty): a walk that descends into fewer members.
  JsonPaths(const std::vector<std::string>& names, const std::vector<bool>& walk);
  ~JsonPaths();
  JsonPaths(const JsonPaths&) = delete;
  JsonPaths& operator=(const JsonPaths&) = delete;

  // The slot of `name`, or -1 when it is not one of the names.
  int Slot(std::string_view name) const;
  size_t size() const { return names_.size(); }
  const std::string& name(size_t slot) const { return names_[slot]; }

  // Walks `json` (an object) and appends each wanted leaf's value to
  // (*slots)[slot]; `slots` is resized to size() and cleared first. Returns
  // false when `json` is not well-formed JSON (the slots then hold what was
  // found before the error).
  // `well_formed`: the caller knows `json` is a well-formed object (a stored event, checked when
  // it was written): a document holding none of the wanted keys is then not parsed at all.
  bool Extract(std::string_view json, std::vector<Values>* slots, bool well_formed = false) const;

  struct Node;
  // Hashes strings and views alike (heterogeneous lookup in unordered maps).
  struct Hash {
    using is_transparent = void;
    size_t operator()(std::string_view s) const { return std::hash<std::string_view>()(s); }
  };

 private:
  std::vector<std::string> names_;
  // Per name, its last key followed by the closing quote: text a document must hold (unless it
  // spells keys with escapes) for the name to be in it.
  std::vector<std::string> key_ends_;
  std::unordered_map<std::string, int, Hash, std::equal_to<>> slots_;
  std::unique_ptr<Node> root_;
};

}  // namespace cairn::query
