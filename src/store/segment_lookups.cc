// The query API of a segment: postings of field values and terms, wildcards, field values and
// statistics, answered from the segment's columns, its keys table and its Bloom filters (whose
// hits are confirmed on the events). A field is a column when the segment's column directory
// lists it; otherwise it is looked up in the keys table.

#include <algorithm>
#include <map>

#include "store/encoding.h"
#include "store/segment_internal.h"

namespace cairn::store {

using internal::DecodedBlock;
using internal::Impl;

namespace {

constexpr size_t kMaxKeyValueBytes = 4096;  // values are cut to this in keys (format: section 7)

std::string_view CutValue(std::string_view v) {
  return v.substr(0, std::min(v.size(), kMaxKeyValueBytes));
}

// Whether a leaf of `field` is a JSON column of the segment (its terms live in the column's
// dictionary, not in the keys table). The column directory must be loaded.
bool IsJsonColumn(const Impl& m, std::string_view field) {
  auto it = m.col_by_name.find(field);
  return it != m.col_by_name.end() && m.cols[it->second].json;
}

// The events' indexed fields (cloudtrail::Event::fields), searched like their own leaves; null
// when no event of the segment has any.
Result<std::shared_ptr<const Column>> IndexedFields(Impl& m, const std::string& path) {
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(m, path, kIndexedFieldsColumnName));
  if (c < 0) return std::shared_ptr<const Column>();
  ASSIGN_OR_RETURN(auto col, internal::LoadColumn(m, path, static_cast<size_t>(c)));
  return col->dict.empty() ? std::shared_ptr<const Column>() : col;
}

// Adds to `out` the events of blocks `which` (not already in it) that have a leaf (of their JSON
// or their indexed fields) for which `hits` returns true. `literal`, when not empty, is text
// (lower-cased) that a matching leaf's value contains, used to skip events that cannot match
// without parsing them (EventsToParse).
Status ScanLeaves(Impl& m, const std::string& path, const std::vector<uint32_t>& which,
                  std::string_view literal, const std::function<bool(const Leaf&)>& hits,
                  Bitmap* out) {
  ASSIGN_OR_RETURN(auto indexed, IndexedFields(m, path));
  // A segment in lanes needs its lane map to name a block's events (8 bytes per event of the
  // segment, built on first use). Most blocks a Bloom filter sends here hold no hit, so without
  // indexed fields an event's ordinal is looked up only once it hits.
  std::shared_ptr<const internal::LaneMap> lanes;
  bool have_lanes = !m.laned;
  auto need_lanes = [&]() -> Status {
    if (have_lanes) return Status::Ok();
    ASSIGN_OR_RETURN(lanes, internal::LoadLanes(m));
    have_lanes = true;
    return Status::Ok();
  };
  if (indexed) RETURN_IF_ERROR(need_lanes());
  LeafWalker walker;
  for (uint32_t b : which) {
    const uint32_t count = m.blocks[b].count;
    bool block_indexed = false;
    for (uint32_t i = 0; indexed && i < count && !block_indexed; ++i) {
      block_indexed = indexed->codes[internal::OrdinalAt(m, lanes.get(), b, i)] != 0;
    }
    ASSIGN_OR_RETURN(auto block, internal::LoadBlock(m, b));
    std::vector<bool> parse;
    if (!literal.empty()) {
      parse = internal::EventsToParse(*block, count, literal);
      if (parse.empty() && !block_indexed) continue;
    }
    for (uint32_t i = 0; i < count; ++i) {
      uint32_t o = UINT32_MAX;
      if (have_lanes) {
        o = internal::OrdinalAt(m, lanes.get(), b, i);
        if (out->contains(o)) continue;
      }
      bool hit = false;
      auto visit = [&](const Leaf& leaf) { hit = hit || hits(leaf); };
      if (parse.empty() ? literal.empty() : parse[i]) {
        Status s = walker.Walk(block->Get(i), visit);
        if (!s.ok()) return Corruption("{}: stored event does not parse: {}", path, s.message());
      }
      if (!hit && block_indexed && indexed->codes[o] != 0) {  // indexed: `o` is known
        Status s = walker.Walk(indexed->Value(o), visit);
        if (!s.ok())
          return Corruption("{}: stored indexed fields do not parse: {}", path, s.message());
      }
      if (hit) {
        if (o == UINT32_MAX) {
          RETURN_IF_ERROR(need_lanes());
          o = internal::OrdinalAt(m, lanes.get(), b, i);
        }
        out->add(o);
      }
    }
  }
  return Status::Ok();
}

// The events of blocks `which` with a term satisfying `match` in a leaf that is neither a JSON
// column of the segment nor eventTime (the terms the keys table and Bloom filters hold).
Status ScanTerms(Impl& m, const std::string& path, const std::vector<uint32_t>& which,
                 const std::function<bool(std::string_view)>& match, Bitmap* out,
                 std::string_view literal = {}) {
  RETURN_IF_ERROR(internal::LoadColumnDir(m, path));
  std::string buf;
  std::vector<std::string_view> pieces;
  return ScanLeaves(
      m, path, which, literal,
      [&](const Leaf& leaf) {
        if (leaf.field == kTimeField || IsJsonColumn(m, leaf.field)) return false;
        SplitTerms(leaf.value, &buf, &pieces);
        return std::any_of(pieces.begin(), pieces.end(), match);
      },
      out);
}

// The events of blocks `which` holding a leaf of `field` whose value (cut to the keys' length)
// satisfies `pred`.
Status ScanFieldValues(Impl& m, const std::string& path, std::string_view field,
                       const std::vector<uint32_t>& which, std::string_view literal,
                       const std::function<bool(std::string_view)>& pred, Bitmap* out) {
  return ScanLeaves(
      m, path, which, literal,
      [&](const Leaf& leaf) { return leaf.field == field && pred(CutValue(leaf.value)); }, out);
}

// Text that every event holding a leaf of `field` contains, lower-cased: the last key of its path
// ("bucketname" of requestParameters.bucketName, "arn" of resources{}.ARN), which the event's
// JSON spells out unless it escapes it (an event with a backslash is parsed whatever it holds).
// The longest piece between the "{}" that arrays add; empty when the path ends in an empty key.
std::string KeyLiteral(std::string_view field) {
  const size_t dot = field.rfind('.');
  std::string_view last = dot == std::string_view::npos ? field : field.substr(dot + 1);
  std::string_view best;
  while (true) {
    const size_t braces = last.find("{}");
    std::string_view piece = last.substr(0, braces);
    if (piece.size() > best.size()) best = piece;
    if (braces == std::string_view::npos) break;
    last.remove_prefix(braces + 2);
  }
  return ToLower(best);
}

std::vector<uint32_t> AllBlocks(const Impl& m) {
  std::vector<uint32_t> all(m.blocks.size());
  for (uint32_t b = 0; b < all.size(); ++b) all[b] = b;
  return all;
}

std::string FieldKeyPrefix(std::string_view field) {
  std::string prefix;
  prefix.push_back(kFieldKeyPrefix);
  prefix.append(field);
  prefix.push_back('\0');
  return prefix;
}

// The catalog's count of `field`'s values held by one event (0 when the field is not listed).
Result<uint64_t> Singletons(Impl& m, const std::string& path, std::string_view field) {
  RETURN_IF_ERROR(internal::LoadCatalog(m, path));
  auto cat = m.catalog.find(field);
  return cat == m.catalog.end() ? uint64_t{0} : cat->second.singletons;
}

}  // namespace

Result<Bitmap> Segment::FieldPostings(std::string_view field, std::string_view value) const {
  Impl& m = *impl_;
  Bitmap out;
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(m, path_, field));
  if (c >= 0) {
    // The dictionary alone answers "not in this segment" without reading the codes.
    ASSIGN_OR_RETURN(auto dict, internal::LoadDict(m, path_, static_cast<size_t>(c)));
    std::string want = ToLower(value);
    std::vector<uint32_t> codes;
    for (uint32_t i = 0; i < dict->size(); ++i) {
      if ((*dict)[i].size() == want.size() && ToLower((*dict)[i]) == want) codes.push_back(i + 1);
    }
    return internal::ColumnPostings(m, path_, static_cast<size_t>(c), codes);
  }
  if (field == kTimeField) return Unsupported("{} is searched through the time column", field);
  const std::string lower = ToLower(CutValue(value));
  ASSIGN_OR_RETURN(bool found, internal::LookupKey(m, path_, FieldKeyPrefix(field) + lower, &out));
  if (found) return out;
  ASSIGN_OR_RETURN(uint64_t singletons, Singletons(m, path_, field));
  if (singletons == 0) return out;
  // A singleton: ask the Bloom filters, then confirm in the candidate blocks.
  ASSIGN_OR_RETURN(auto cands, internal::BloomBlocks(m, path_, lower));
  RETURN_IF_ERROR(ScanFieldValues(
      m, path_, field, cands, lower,
      [&](std::string_view v) { return v.size() == lower.size() && ToLower(v) == lower; }, &out));
  return out;
}

Result<Bitmap> Segment::TermPostings(std::string_view term) const {
  ASSIGN_OR_RETURN(Bitmap out, LeafTermPostings(term));
  std::string lower = ToLower(term.substr(0, std::min(term.size(), kMaxTermBytes)));
  if (!lower.empty()) {
    RETURN_IF_ERROR(internal::AddColumnTermMatches(*impl_, path_, nullptr, lower, &out));
  }
  return out;
}

Result<Bitmap> Segment::ColumnPhrasePostings(std::string_view term, std::string_view phrase) const {
  Bitmap out;
  std::string lower = ToLower(term.substr(0, std::min(term.size(), kMaxTermBytes)));
  std::string lower_phrase = ToLower(phrase);
  if (lower.empty() || lower_phrase.empty()) return out;
  RETURN_IF_ERROR(
      internal::AddColumnTermMatches(*impl_, path_, nullptr, lower, &out, lower_phrase));
  return out;
}

Result<Bitmap> Segment::LeafTermPostings(std::string_view term) const {
  Impl& m = *impl_;
  Bitmap out;
  std::string lower = ToLower(term.substr(0, std::min(term.size(), kMaxTermBytes)));
  if (lower.empty()) return out;
  std::string key;
  key.push_back(kTermKeyPrefix);
  key.append(lower);
  ASSIGN_OR_RETURN(bool found, internal::LookupKey(m, path_, key, &out));
  if (found) return out;
  RETURN_IF_ERROR(internal::LoadCatalog(m, path_));
  if (m.term_singletons == 0) return out;
  ASSIGN_OR_RETURN(auto cands, internal::BloomBlocks(m, path_, lower));
  RETURN_IF_ERROR(ScanTerms(
      m, path_, cands, [&](std::string_view t) { return t == lower; }, &out, lower));
  return out;
}

Result<Bitmap> Segment::FieldMatch(std::string_view field, const Pattern& pattern) const {
  if (!pattern.has_wildcard()) return FieldPostings(field, pattern.text());
  Impl& m = *impl_;
  Bitmap out;
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(m, path_, field));
  if (c >= 0) {
    ASSIGN_OR_RETURN(auto col, internal::LoadColumn(m, path_, static_cast<size_t>(c)));
    std::vector<uint32_t> codes;
    for (uint32_t i = 0; i < col->dict.size(); ++i) {
      if (pattern.Matches(col->dict[i])) codes.push_back(i + 1);
    }
    return internal::ScanColumn(*col, codes);
  }
  const std::string prefix = FieldKeyPrefix(field);
  const size_t value_at = prefix.size();
  Status inner;
  RETURN_IF_ERROR(internal::ScanKeys(m, path_, prefix + pattern.literal_prefix(),
                                     [&](std::string_view k, std::string_view posting) {
                                       if (pattern.Matches(k.substr(value_at))) {
                                         inner = internal::DecodePosting(posting, desc_.event_count,
                                                                         &out, path_);
                                         if (!inner.ok()) return false;
                                       }
                                       return true;
                                     }));
  RETURN_IF_ERROR(inner);
  ASSIGN_OR_RETURN(uint64_t singletons, Singletons(m, path_, field));
  if (singletons == 0) return out;
  // Values held once are only in Bloom filters, which cannot answer a pattern: scan, parsing only
  // the events whose text holds the field's last key.
  RETURN_IF_ERROR(ScanFieldValues(
      m, path_, field, AllBlocks(m), KeyLiteral(field),
      [&](std::string_view v) { return pattern.Matches(v); }, &out));
  return out;
}

Result<Bitmap> Segment::TermMatch(const Pattern& pattern) const {
  if (!pattern.has_wildcard()) return TermPostings(pattern.text());
  Impl& m = *impl_;
  Bitmap out;
  std::string prefix(1, kTermKeyPrefix);
  prefix.append(pattern.literal_prefix());
  Status inner;
  RETURN_IF_ERROR(
      internal::ScanKeys(m, path_, prefix, [&](std::string_view k, std::string_view posting) {
        if (pattern.Matches(k.substr(1))) {
          inner = internal::DecodePosting(posting, desc_.event_count, &out, path_);
          if (!inner.ok()) return false;
        }
        return true;
      }));
  RETURN_IF_ERROR(inner);
  RETURN_IF_ERROR(internal::AddColumnTermMatches(
      m, path_, [&](std::string_view t) { return pattern.Matches(t); }, "", &out));
  RETURN_IF_ERROR(internal::LoadCatalog(m, path_));
  if (m.term_singletons == 0) return out;
  RETURN_IF_ERROR(ScanTerms(
      m, path_, AllBlocks(m), [&](std::string_view t) { return pattern.Matches(t); }, &out));
  return out;
}

Result<std::vector<ValueCount>> Segment::FieldValues(std::string_view field, const Pattern& pattern,
                                                     bool include_singletons) const {
  Impl& m = *impl_;
  std::vector<ValueCount> out;
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(m, path_, field));
  if (c >= 0) {
    ASSIGN_OR_RETURN(auto col, internal::LoadColumn(m, path_, static_cast<size_t>(c)));
    std::vector<uint64_t> counts(col->dict.size() + 1, 0);
    for (uint32_t code : col->codes) ++counts[code];
    std::map<std::string, uint64_t> lowered;
    for (uint32_t i = 0; i < col->dict.size(); ++i) {
      if (counts[i + 1] > 0 && pattern.Matches(col->dict[i])) {
        lowered[ToLower(col->dict[i])] += counts[i + 1];
      }
    }
    for (auto& [v, n] : lowered) out.push_back(ValueCount{v, n});
    return out;
  }
  const std::string prefix = FieldKeyPrefix(field);
  const size_t value_at = prefix.size();
  Status inner;
  RETURN_IF_ERROR(internal::ScanKeys(
      m, path_, prefix + pattern.literal_prefix(),
      [&](std::string_view k, std::string_view posting) {
        std::string_view v = k.substr(value_at);
        if (pattern.Matches(v)) {
          Bitmap bm;
          inner = internal::DecodePosting(posting, desc_.event_count, &bm, path_);
          if (!inner.ok()) return false;
          out.push_back(ValueCount{std::string(v), bm.cardinality()});
        }
        return true;
      }));
  RETURN_IF_ERROR(inner);
  if (!include_singletons) return out;
  ASSIGN_OR_RETURN(uint64_t singletons, Singletons(m, path_, field));
  if (singletons == 0) return out;
  std::map<std::string, uint64_t> singles;
  LeafWalker walker;
  for (uint32_t b = 0; b < m.blocks.size(); ++b) {
    ASSIGN_OR_RETURN(auto block, internal::LoadBlock(m, b));
    for (uint32_t i = 0; i < m.blocks[b].count; ++i) {
      std::string last;
      Status s = walker.Walk(block->Get(i), [&](const Leaf& leaf) {
        if (leaf.field != field) return;
        std::string v = ToLower(CutValue(leaf.value));
        if (v == last) return;
        last = v;
        if (pattern.Matches(v)) singles[v] += 1;
      });
      if (!s.ok()) return Corruption("{}: stored event does not parse: {}", path_, s.message());
    }
  }
  // Keep only values not already listed from the keys table (those with count 1 there are the
  // singletons; multi-valued repeats within one event were collapsed above).
  std::map<std::string, uint64_t> listed;
  for (auto& vc : out) listed[vc.value] = vc.count;
  for (auto& [v, n] : singles) {
    if (listed.count(v) == 0) out.push_back(ValueCount{v, n});
  }
  std::sort(out.begin(), out.end(),
            [](const ValueCount& a, const ValueCount& b) { return a.value < b.value; });
  return out;
}

Result<std::vector<FieldInfo>> Segment::Fields() const {
  Impl& m = *impl_;
  std::vector<FieldInfo> out;
  RETURN_IF_ERROR(internal::LoadColumnDir(m, path_));
  for (size_t c = 0; c < m.cols.size(); ++c) {
    ASSIGN_OR_RETURN(auto col, internal::LoadColumn(m, path_, c));
    if (col->dict.empty()) continue;
    FieldInfo f;
    f.name = m.cols[c].name;
    f.column = true;
    f.distinct = col->dict.size();
    for (uint32_t code : col->codes) f.events += code != 0;
    out.push_back(std::move(f));
  }
  RETURN_IF_ERROR(internal::LoadCatalog(m, path_));
  for (const auto& [name, e] : m.catalog) {
    out.push_back(FieldInfo{name, e.events, e.keys + e.singletons, false});
  }
  std::sort(out.begin(), out.end(),
            [](const FieldInfo& a, const FieldInfo& b) { return a.name < b.name; });
  return out;
}

Result<std::vector<std::string>> Segment::FieldNames() const {
  Impl& m = *impl_;
  RETURN_IF_ERROR(internal::LoadCatalog(m, path_));
  std::vector<std::string> out;
  for (const auto& [name, e] : m.catalog) out.push_back(name);
  return out;
}

// ---------------------------------------------------------------- statistics

Result<std::vector<ValueCount>> Segment::TopValues(std::string_view field, size_t k,
                                                   const Bitmap* filter) const {
  Impl& m = *impl_;
  std::vector<ValueCount> all;
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(m, path_, field));
  if (c >= 0 && !filter) {
    ASSIGN_OR_RETURN(ColumnSummary sum, ColumnCounts(field));
    for (uint32_t i = 0; i < sum.dict->size(); ++i) {
      if ((*sum.counts)[i + 1] > 0) all.push_back(ValueCount{(*sum.dict)[i], (*sum.counts)[i + 1]});
    }
  } else if (c >= 0) {
    ASSIGN_OR_RETURN(auto col, GetColumn(field));
    std::vector<uint64_t> counts(col->dict.size() + 1, 0);
    for (uint32_t o : *filter) {
      if (o < col->codes.size()) ++counts[col->codes[o]];
    }
    for (uint32_t i = 0; i < col->dict.size(); ++i) {
      if (counts[i + 1] > 0) all.push_back(ValueCount{col->dict[i], counts[i + 1]});
    }
  } else {
    const std::string prefix = FieldKeyPrefix(field);
    Status inner;
    RETURN_IF_ERROR(
        internal::ScanKeys(m, path_, prefix, [&](std::string_view key, std::string_view posting) {
          Bitmap bm;
          inner = internal::DecodePosting(posting, desc_.event_count, &bm, path_);
          if (!inner.ok()) return false;
          uint64_t n = filter ? bm.and_cardinality(*filter) : bm.cardinality();
          if (n > 0) all.push_back(ValueCount{std::string(key.substr(prefix.size())), n});
          return true;
        }));
    RETURN_IF_ERROR(inner);
    // Values held by one event each cannot outrank any listed value with a count >= 2; they
    // matter only when fewer than k values are listed.
    if (all.size() < k) {
      ASSIGN_OR_RETURN(auto values, FieldValues(field, Pattern("*"), true));
      std::map<std::string, uint64_t> have;
      for (auto& vc : all) have[vc.value] = vc.count;
      for (auto& vc : values) {
        if (have.count(vc.value)) continue;
        if (filter) {
          ASSIGN_OR_RETURN(auto bm, FieldPostings(field, vc.value));
          if (bm.and_cardinality(*filter) == 0) continue;
        }
        all.push_back(vc);
      }
    }
  }
  std::sort(all.begin(), all.end(), [](const ValueCount& a, const ValueCount& b) {
    return a.count != b.count ? a.count > b.count : a.value < b.value;
  });
  if (all.size() > k) all.resize(k);
  return all;
}

Result<uint64_t> Segment::DistinctCount(std::string_view field) const {
  Impl& m = *impl_;
  ASSIGN_OR_RETURN(int c, internal::ColumnSlotOf(m, path_, field));
  if (c >= 0) {
    ASSIGN_OR_RETURN(auto dict, internal::LoadDict(m, path_, static_cast<size_t>(c)));
    return static_cast<uint64_t>(dict->size());
  }
  RETURN_IF_ERROR(internal::LoadCatalog(m, path_));
  auto it = m.catalog.find(field);
  if (it == m.catalog.end()) return uint64_t{0};
  return it->second.keys + it->second.singletons;
}

}  // namespace cairn::store
