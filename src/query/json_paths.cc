#include "query/json_paths.h"

#include <simdjson.h>

#include <algorithm>

#include "store/encoding.h"

namespace cairn::query {

struct JsonPaths::Node {
  int slot = -1;  // the leaf's slot when this path is wanted
  std::vector<std::pair<std::string, std::unique_ptr<Node>>> keys;
  std::unique_ptr<Node> array;  // the "{}" step

  Node* Key(std::string_view k) const {
    for (const auto& [name, child] : keys) {
      if (name == k) return child.get();
    }
    return nullptr;
  }
  Node* AddKey(std::string_view k) {
    if (Node* n = Key(k)) return n;
    keys.emplace_back(std::string(k), std::make_unique<Node>());
    return keys.back().second.get();
  }
};

namespace {

using Node = JsonPaths::Node;
namespace od = simdjson::ondemand;

// Splits a field name into its steps: keys separated by '.', each followed by
// any number of "{}" array steps. False for names FlattenJson cannot produce
// from a well-formed path (empty keys).
bool Steps(std::string_view name, std::vector<std::pair<std::string_view, int>>* out) {
  out->clear();
  size_t i = 0;
  while (i <= name.size()) {
    size_t dot = name.find('.', i);
    std::string_view seg =
        name.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i);
    int arrays = 0;
    while (seg.size() >= 2 && seg.substr(seg.size() - 2) == "{}") {
      seg.remove_suffix(2);
      ++arrays;
    }
    if (seg.empty() || seg.find_first_of("{}") != std::string_view::npos) return false;
    out->emplace_back(seg, arrays);
    if (dot == std::string_view::npos) break;
    i = dot + 1;
  }
  return !out->empty();
}

// The node a member named `key` leads to from `n`: the key itself, or, for a
// key holding dots
// ("a.b"), the nodes of its pieces in turn.
const Node* Descend(const Node* n, std::string_view key) {
  if (const Node* c = n->Key(key)) return c;
  if (key.find('.') == std::string_view::npos) return nullptr;
  size_t i = 0;
  while (n) {
    size_t dot = key.find('.', i);
    n = n->Key(key.substr(i, dot == std::string_view::npos ? std::string_view::npos : dot - i));
    if (dot == std::string_view::npos) return n;
    i = dot + 1;
  }
  return nullptr;
}

class Walker {
 public:
  explicit Walker(std::vector<Values>* slots) : slots_(slots) {}

  bool Value(od::value v, const Node* n) {
    od::json_type t;
    if (v.type().get(t) != simdjson::SUCCESS) return false;
    switch (t) {
      case od::json_type::object: {
        od::object o;
        if (v.get_object().get(o) != simdjson::SUCCESS) return false;
        return Object(o, n);
      }
      case od::json_type::array: {
        if (!n->array) return true;  // skipped by the parent's iteration
        od::array a;
        if (v.get_array().get(a) != simdjson::SUCCESS) return false;
        for (auto el : a) {
          od::value ev;
          if (el.get(ev) != simdjson::SUCCESS) return false;
          if (!Value(ev, n->array.get())) return false;
        }
        return true;
      }
      case od::json_type::string: {
        if (n->slot < 0) return true;
        std::string_view s;
        if (v.get_string().get(s) != simdjson::SUCCESS) return false;
        (*slots_)[n->slot].emplace_back(s);
        return true;
      }
      case od::json_type::number: {
        if (n->slot < 0) return true;
        od::number_type nt;
        if (v.get_number_type().get(nt) != simdjson::SUCCESS) return false;
        std::string text;
        if (nt == od::number_type::signed_integer) {
          int64_t x;
          if (v.get_int64().get(x) != simdjson::SUCCESS) return false;
          text = std::to_string(x);
        } else if (nt == od::number_type::unsigned_integer) {
          uint64_t x;
          if (v.get_uint64().get(x) != simdjson::SUCCESS) return false;
          text = std::to_string(x);
        } else if (nt == od::number_type::floating_point_number) {
          double x;
          if (v.get_double().get(x) != simdjson::SUCCESS) return false;
          text = FormatNumber(x);
        } else {
          return false;  // beyond 64 bits: FlattenJson's parser refuses the
                         // document too
        }
        (*slots_)[n->slot].push_back(std::move(text));
        return true;
      }
      case od::json_type::boolean: {
        if (n->slot < 0) return true;
        bool b;
        if (v.get_bool().get(b) != simdjson::SUCCESS) return false;
        (*slots_)[n->slot].emplace_back(b ? "true" : "false");
        return true;
      }
      case od::json_type::null: return true;
    }
    return true;
  }

  bool Object(od::object& o, const Node* n) {
    for (auto field : o) {
      std::string_view key;
      if (field.unescaped_key().get(key) != simdjson::SUCCESS) return false;
      const Node* child = Descend(n, key);
      if (!child) continue;  // the iteration skips the member's value
      od::value v;
      if (field.value().get(v) != simdjson::SUCCESS) return false;
      if (!Value(v, child)) return false;
    }
    return true;
  }

 private:
  std::vector<Values>* slots_;
};

}  // namespace

JsonPaths::JsonPaths(const std::vector<std::string>& names)
    : JsonPaths(names, std::vector<bool>(names.size(), true)) {}

JsonPaths::JsonPaths(const std::vector<std::string>& names, const std::vector<bool>& walk)
    : root_(std::make_unique<Node>()) {
  std::vector<std::pair<std::string_view, int>> steps;
  for (size_t i = 0; i < names.size(); ++i) {
    const std::string& name = names[i];
    if (Slot(name) >= 0 || !Steps(name, &steps)) continue;
    if (!walk[i]) {  // numbered, not walked
      slots_.emplace(name, static_cast<int>(names_.size()));
      names_.push_back(name);
      continue;
    }
    Node* n = root_.get();
    for (const auto& [key, arrays] : steps) {
      n = n->AddKey(key);
      for (int a = 0; a < arrays; ++a) {
        if (!n->array) n->array = std::make_unique<Node>();
        n = n->array.get();
      }
    }
    n->slot = static_cast<int>(names_.size());
    slots_.emplace(name, n->slot);
    names_.push_back(name);
    key_ends_.push_back(std::string(steps.back().first) + '"');
  }
}

JsonPaths::~JsonPaths() = default;

int JsonPaths::Slot(std::string_view name) const {
  auto it = slots_.find(name);
  return it == slots_.end() ? -1 : it->second;
}

bool JsonPaths::Extract(std::string_view json, std::vector<Values>* slots, bool well_formed) const {
  slots->resize(names_.size());
  for (auto& s : *slots) s.clear();
  if (names_.empty()) return true;
  // A key is in the document as its text and a closing quote, unless written with escapes (a
  // dotted key "a.b" ends with the last key too): a well-formed document without a backslash and
  // without any wanted key's ending holds none of the names, so it need not be parsed (most
  // events lack a field such as requestParameters.bucketName).
  if (well_formed && json.find('\\') == std::string_view::npos &&
      std::none_of(key_ends_.begin(), key_ends_.end(), [&](const std::string& k) {
        // Candidates where the key's first and last bytes match, 32 at a time.
        return store::FindExact(json, k, 0, k.size() - 2) != std::string_view::npos;
      })) {
    return true;
  }
  thread_local od::parser parser;
  thread_local std::string buf;
  // On-Demand reads up to SIMDJSON_PADDING bytes past the end.
  buf.assign(json);
  buf.append(simdjson::SIMDJSON_PADDING, '\0');
  od::document doc;
  if (parser.iterate(buf.data(), json.size(), buf.size()).get(doc) != simdjson::SUCCESS)
    return false;
  od::object root;
  if (doc.get_object().get(root) != simdjson::SUCCESS) return false;
  Walker w(slots);
  if (!w.Object(root, root_.get())) return false;
  // A document with trailing content is not well-formed (FlattenJson's parser
  // refuses it).
  return doc.current_location().error() == simdjson::OUT_OF_BOUNDS;
}

}  // namespace cairn::query
