#pragma once
// Test-only: brute-force indexes of a list of events, and the check that a
// segment's lookups agree with them (used by the segment tests on fresh and on
// stored fixture segments).

#include <gtest/gtest.h>

#include <map>
#include <random>
#include <set>
#include <string>
#include <vector>

#include "cloudtrail/event.h"
#include "store/encoding.h"
#include "store/fields.h"
#include "store/segment.h"

namespace cairn::store::testing {

using Ords = std::set<uint32_t>;

inline Ords ToSet(const Bitmap& b) {
  Ords out;
  for (uint32_t o : b) out.insert(o);
  return out;
}

// Brute-force indexes of a list of events (in ordinal order).
struct Brute {
  std::map<std::pair<std::string, std::string>, Ords> fields;  // (field, lower value)
  std::map<std::string, Ords> terms;
  std::map<std::string, std::vector<std::string>> column_values;  // field -> value per ordinal

  explicit Brute(const std::vector<cloudtrail::Event>& events) {
    LeafWalker w;
    for (uint32_t o = 0; o < events.size(); ++o) {
      std::set<std::string> seen_cols;
      EXPECT_TRUE(w.Walk(events[o].raw, [&](const Leaf& l) {
                     if (l.field == kTimeField) return;
                     std::string f(l.field), v(l.value);
                     fields[{f, ToLower(v.substr(0, 4096))}].insert(o);
                     ForEachTerm(v, [&](std::string_view t) { terms[std::string(t)].insert(o); });
                     if (ColumnIndex(f) >= 0 && seen_cols.insert(f).second) {
                       auto& vec = column_values[f];
                       vec.resize(o, "");
                       vec.push_back(v);
                     }
                   }).ok());
    }
  }
};

struct BruteCheckStats {
  size_t single_fields = 0;  // (field, value) pairs held by one event (answered by Bloom filters)
  size_t terms_checked = 0;
};

// Every (field, value) pair, the terms (all those held by two or more events
// and one in `singleton_term_sample` of the others, chosen by a fixed seed),
// and every column's values and stored counts agree with brute force over
// `events`, the segment's events in ordinal order.
inline BruteCheckStats ExpectLookupsMatchBruteForce(const Segment& seg,
                                                    const std::vector<cloudtrail::Event>& events,
                                                    const Brute& brute,
                                                    uint32_t singleton_term_sample = 1) {
  BruteCheckStats stats;
  for (const auto& [fv, ords] : brute.fields) {
    auto got = seg.FieldPostings(fv.first, fv.second);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) return stats;
    EXPECT_EQ(ToSet(*got), ords) << fv.first << "=" << fv.second;
    stats.single_fields += ords.size() == 1;
  }
  std::mt19937 rng(7);
  for (const auto& [term, ords] : brute.terms) {
    if (ords.size() == 1 && rng() % singleton_term_sample != 0) continue;
    auto got = seg.TermPostings(term);
    EXPECT_TRUE(got.ok()) << got.status().ToString();
    if (!got.ok()) return stats;
    EXPECT_EQ(ToSet(*got), ords) << "term " << term;
    ++stats.terms_checked;
  }
  for (size_t c = 0; c < kJsonColumnCount; ++c) {
    std::string field(kColumnFields[c]);
    auto col = seg.GetColumn(field);
    EXPECT_TRUE(col.ok()) << col.status().ToString();
    if (!col.ok()) return stats;
    std::vector<std::string> want;
    if (auto it = brute.column_values.find(field); it != brute.column_values.end())
      want = it->second;
    want.resize(events.size(), "");
    for (uint32_t o = 0; o < events.size(); ++o) {
      EXPECT_EQ((*col)->Value(o), want[o]) << field << " " << o;
    }
    // The stored value counts (since format 3) are the events per value; [0]
    // those without it.
    auto sum = seg.ColumnCounts(field);
    EXPECT_TRUE(sum.ok()) << sum.status().ToString();
    if (!sum.ok()) return stats;
    EXPECT_EQ(sum->counts->size(), sum->dict->size() + 1) << field;
    std::vector<uint32_t> per_code(sum->counts->size(), 0);
    for (uint32_t code : (*col)->codes) ++per_code[code];
    EXPECT_EQ(*sum->counts, per_code) << field;
    EXPECT_EQ(sum->dict.get(), (*col)->dict_holder.get()) << field;
  }
  for (std::string_view meta : {std::string_view("sourcetype"), std::string_view("source")}) {
    auto col = seg.GetColumn(meta);
    EXPECT_TRUE(col.ok()) << col.status().ToString();
    if (!col.ok()) return stats;
    for (uint32_t o = 0; o < events.size(); ++o) {
      EXPECT_EQ((*col)->Value(o), meta == "source" ? events[o].source.view()
                                                   : std::string_view(events[o].sourcetype));
    }
  }
  return stats;
}

}  // namespace cairn::store::testing
