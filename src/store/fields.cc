#include "store/fields.h"

#include <simdjson.h>

#include <algorithm>
#include <array>
#include <vector>

#include "cloudtrail/event.h"
#include "store/encoding.h"
#include "store/flat_map.h"

// simdjson's On-Demand parser takes its kernel at compile time; a build for AVX2 that ends up
// with the portable kernel (it also needs __PCLMUL__, see CMakeLists.txt) walks events several
// times slower, so that is an error, not a silent fallback.
#if defined(__AVX2__) && !SIMDJSON_CAN_ALWAYS_RUN_HASWELL
#error "built for AVX2 but simdjson's On-Demand parser would use its portable kernel: add -mpclmul"
#endif

namespace cairn::store {

int ColumnIndex(std::string_view field) {
  for (size_t i = 0; i < kColumnCount; ++i) {
    if (kColumnFields[i] == field) return static_cast<int>(i);
  }
  return -1;
}

bool IsHashedField(std::string_view field) {
  return std::find(std::begin(kHashedFields), std::end(kHashedFields), field) !=
         std::end(kHashedFields);
}

uint64_t ValueHash(std::string_view value) {
  const uint64_t h = Hash64(value, 0xdc);
  return h == 0 ? 1 : h;
}

std::span<const ColumnSpec> DefaultColumns() {
  static const auto* specs = [] {
    auto* v = new std::vector<ColumnSpec>();
    for (size_t i = 0; i < kColumnCount; ++i)
      v->push_back({kColumnFields[i], i < kJsonColumnCount});
    return v;
  }();
  return *specs;
}

namespace {

constexpr std::array<uint8_t, 256> MakeTable(std::string_view chars) {
  std::array<uint8_t, 256> t{};
  for (char c : chars) t[static_cast<uint8_t>(c)] = 1;
  return t;
}
// Major: whitespace and [ ] < > ( ) { } | ! ; , ' " * & ? +
constexpr auto kMajor = MakeTable(" \t\n\r\v\f[]<>(){}|!;,'\"*&?+");
// Minor: / : = @ . - $ # % \ _
constexpr auto kMinor = MakeTable("/:=@.-$#%\\_");

}  // namespace

bool IsMajorBreaker(char c) { return kMajor[static_cast<uint8_t>(c)] != 0; }
bool IsMinorBreaker(char c) { return kMinor[static_cast<uint8_t>(c)] != 0; }

void SplitTerms(std::string_view value, std::string* lower_buf,
                std::vector<std::string_view>* out) {
  out->clear();
  lower_buf->clear();
  AppendLower(lower_buf, value);
  std::string_view v(*lower_buf);
  size_t i = 0, n = v.size();
  while (i < n) {
    while (i < n && kMajor[static_cast<uint8_t>(v[i])]) ++i;
    size_t start = i;
    bool has_minor = false;
    while (i < n && !kMajor[static_cast<uint8_t>(v[i])]) {
      has_minor |= kMinor[static_cast<uint8_t>(v[i])] != 0;
      ++i;
    }
    if (i == start) continue;
    std::string_view seg = v.substr(start, i - start);
    // A major segment that is only minor breakers ("--") carries no term.
    if (has_minor) {
      size_t j = 0, m = seg.size();
      bool any_piece = false;
      size_t pieces_begin = out->size();
      while (j < m) {
        while (j < m && kMinor[static_cast<uint8_t>(seg[j])]) ++j;
        size_t ps = j;
        while (j < m && !kMinor[static_cast<uint8_t>(seg[j])]) ++j;
        if (j > ps) {
          out->push_back(seg.substr(ps, std::min(j - ps, kMaxTermBytes)));
          any_piece = true;
        }
      }
      if (!any_piece) continue;
      // The whole segment as well, when it has more than one piece (a single piece is the
      // segment with its edge breakers trimmed, which is the form a search names).
      if (out->size() - pieces_begin > 1) {
        out->push_back(seg.substr(0, std::min(seg.size(), kMaxTermBytes)));
      }
    } else {
      out->push_back(seg.substr(0, std::min(seg.size(), kMaxTermBytes)));
    }
  }
}

void SplitPieces(std::string_view value, std::string* lower_buf,
                 std::vector<std::string_view>* out) {
  out->clear();
  lower_buf->clear();
  AppendLower(lower_buf, value);
  std::string_view v(*lower_buf);
  size_t i = 0, n = v.size();
  while (i < n) {
    while (i < n && (kMajor[static_cast<uint8_t>(v[i])] || kMinor[static_cast<uint8_t>(v[i])])) ++i;
    size_t start = i;
    while (i < n && !kMajor[static_cast<uint8_t>(v[i])] && !kMinor[static_cast<uint8_t>(v[i])]) ++i;
    if (i > start) out->push_back(v.substr(start, std::min(i - start, kMaxTermBytes)));
  }
}

void ForEachTerm(std::string_view value, const std::function<void(std::string_view)>& fn) {
  std::string buf;
  std::vector<std::string_view> terms;
  SplitTerms(value, &buf, &terms);
  for (std::string_view t : terms) fn(t);
}

struct LeafWalker::Impl {
  simdjson::ondemand::parser parser;
  std::string padded;
  std::string path;
  std::vector<Leaf> leaves;
  // Field names, interned: name -> id, and id -> the arena copy of the name.
  FlatStringMap ids;
  std::vector<std::string_view> names;
  // The id of the path most recently interned at each depth, with the path's length: the leaves
  // of one object mostly repeat the previous event's fields in the same order, and comparing the
  // path with the name of the id last seen at the same position avoids hashing it.
  std::vector<uint32_t> last_at;

  uint32_t Intern(size_t position) {
    if (position >= last_at.size()) last_at.resize(position + 1, UINT32_MAX);
    uint32_t& last = last_at[position];
    if (last != UINT32_MAX && names[last] == path) return last;
    bool inserted;
    std::string_view stored;
    uint32_t id = *ids.FindOrInsert(path, static_cast<uint32_t>(names.size()), &inserted, &stored);
    if (inserted) names.push_back(stored);
    last = id;
    return id;
  }

  void AddLeaf(std::string_view value) {
    uint32_t id = Intern(leaves.size());
    leaves.push_back(Leaf{names[id], value, id});
  }

  // Returns false on a parse error.
  bool WalkValue(simdjson::ondemand::value value, int depth) {
    if (depth > 64) return false;
    simdjson::ondemand::json_type type;
    if (value.type().get(type)) return false;
    switch (type) {
      case simdjson::ondemand::json_type::object: {
        simdjson::ondemand::object obj;
        if (value.get_object().get(obj)) return false;
        size_t base = path.size();
        for (auto field : obj) {
          std::string_view key;
          if (field.unescaped_key().get(key)) return false;
          path.resize(base);
          if (base > 0) path.push_back('.');
          path.append(key);
          if (!WalkValue(field.value(), depth + 1)) return false;
        }
        path.resize(base);
        return true;
      }
      case simdjson::ondemand::json_type::array: {
        simdjson::ondemand::array arr;
        if (value.get_array().get(arr)) return false;
        size_t base = path.size();
        path.append("{}");
        for (auto element : arr) {
          simdjson::ondemand::value v;
          if (element.get(v)) return false;
          path.resize(base + 2);
          if (!WalkValue(v, depth + 1)) return false;
        }
        path.resize(base);
        return true;
      }
      case simdjson::ondemand::json_type::string: {
        std::string_view s;
        if (value.get_string().get(s)) return false;
        AddLeaf(s);
        return true;
      }
      case simdjson::ondemand::json_type::number: {
        std::string_view raw = value.raw_json_token();
        while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\n' || raw.back() == '\t' ||
                                raw.back() == '\r')) {
          raw.remove_suffix(1);
        }
        AddLeaf(raw);
        return true;
      }
      case simdjson::ondemand::json_type::boolean: {
        bool b;
        if (value.get_bool().get(b)) return false;
        AddLeaf(b ? std::string_view("true") : std::string_view("false"));
        return true;
      }
      case simdjson::ondemand::json_type::null: {
        bool is_null;
        if (value.is_null().get(is_null) || !is_null) return false;
        AddLeaf("null");
        return true;
      }
    }
    return false;
  }
};

LeafWalker::LeafWalker() : impl_(new Impl) {}
LeafWalker::~LeafWalker() { delete impl_; }

const std::vector<Leaf>& LeafWalker::leaves() const { return impl_->leaves; }
std::string_view LeafWalker::FieldName(uint32_t id) const { return impl_->names[id]; }
uint32_t LeafWalker::field_count() const { return static_cast<uint32_t>(impl_->names.size()); }

Status LeafWalker::Parse(std::string_view json, bool padded) {
  static_assert(cloudtrail::kJsonPadding >= simdjson::SIMDJSON_PADDING);
  Impl& m = *impl_;
  m.leaves.clear();
  const char* text = json.data();
  size_t capacity = json.size() + cloudtrail::kJsonPadding;
  if (!padded) {
    m.padded.assign(json);
    m.padded.resize(json.size() + simdjson::SIMDJSON_PADDING);
    text = m.padded.data();
    capacity = m.padded.size();
  }
  m.path.clear();
  simdjson::ondemand::document doc;
  if (m.parser.iterate(text, json.size(), capacity).get(doc)) {
    return InvalidArgument("event is not valid JSON");
  }
  simdjson::ondemand::object obj;
  if (doc.get_object().get(obj)) return InvalidArgument("event is not a JSON object");
  for (auto field : obj) {
    std::string_view key;
    if (field.unescaped_key().get(key)) return InvalidArgument("event JSON: bad key");
    m.path.assign(key);
    if (!m.WalkValue(field.value(), 1)) {
      return InvalidArgument("event JSON is malformed near field {}", m.path);
    }
  }
  return Status::Ok();
}

Status LeafWalker::Walk(std::string_view json, const std::function<void(const Leaf&)>& fn) {
  RETURN_IF_ERROR(Parse(json));
  for (const Leaf& leaf : impl_->leaves) fn(leaf);
  return Status::Ok();
}

}  // namespace cairn::store
