#include "cloudtrail/scan.h"

#include <gtest/gtest.h>
#include <simdjson.h>

#include <random>
#include <string>
#include <vector>

namespace cairn::cloudtrail {
namespace {

struct Outcome {
  Scan result;
  size_t offset;  // where p stopped
};

// Scans `text` (first byte '"', '{' or '['), feeding it in pieces that end at `cuts`.
template <typename Fn>
Outcome Run(const std::string& text, const std::vector<size_t>& cuts, Fn scan) {
  std::string padded = text + std::string(kScanPadding, 'x');  // junk after the end is allowed
  const char* base = padded.data();
  const char* p = base;
  ScanState st;
  st.Start(text[0]);
  std::vector<size_t> ends;
  for (size_t cut : cuts) {
    if (cut < text.size()) ends.push_back(cut);
  }
  ends.push_back(text.size());
  Scan r = Scan::kNeedMore;
  for (size_t end : ends) {
    if (base + end < p) continue;
    r = scan(p, base + end, st);
    if (r != Scan::kNeedMore) break;
  }
  return {r, static_cast<size_t>(p - base)};
}

Outcome Fast(const std::string& t, const std::vector<size_t>& cuts) {
  return Run(t, cuts,
             [](const char*& p, const char* e, ScanState& s) { return ScanValue(p, e, s); });
}
Outcome Baseline(const std::string& t, const std::vector<size_t>& cuts) {
  return Run(t, cuts,
             [](const char*& p, const char* e, ScanState& s) { return ScanValueBaseline(p, e, s); });
}
Outcome Simple(const std::string& t, const std::vector<size_t>& cuts) {
  return Run(t, cuts,
             [](const char*& p, const char* e, ScanState& s) { return ScanValueSimple(p, e, s); });
}

TEST(ScanTest, FindsTheEndOfRealisticValues) {
  struct Case {
    std::string text;
    Scan result;
    size_t offset;
  };
  std::vector<Case> cases = {
      {R"({"a":"}","b":[1,{"c":"]"}]} tail)", Scan::kDone, 27},
      {R"({"q":"say \"}\" \\","x":{}},)", Scan::kDone, 27},
      {R"("a \"quoted\" \\ string" rest)", Scan::kDone, 24},
      {R"([[], {}, [{}]])", Scan::kDone, 14},
      {R"({"a":[}])", Scan::kMismatch, 6},
      {R"({"a":"open)", Scan::kNeedMore, 10},
      {"{" + std::string(2000, '['), Scan::kTooDeep, 1 + kMaxScanDepth - 1},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.text.substr(0, 40));
    for (const std::vector<size_t>& cuts :
         {std::vector<size_t>{}, std::vector<size_t>{1, 2, 3, 5, 8, 13, 21},
          std::vector<size_t>{9}}) {
      Outcome fast = Fast(c.text, cuts);
      EXPECT_EQ(fast.result, c.result);
      EXPECT_EQ(fast.offset, c.offset);
      Outcome simple = Simple(c.text, cuts);
      EXPECT_EQ(simple.result, c.result);
      EXPECT_EQ(simple.offset, c.offset);
    }
  }
}

// Depth-only scanning (check_kinds off) agrees with the reference in the same mode, and with the
// checking scan wherever that one does not find a mismatch.
TEST(ScanTest, DepthOnlyScanAgreesWithTheReference) {
  std::mt19937 rng(7);
  const char kAlphabet[] = "{}[]{}[]\"\"\\\\aaaa  ,:";
  for (int round = 0; round < 20000; ++round) {
    size_t len = 1 + rng() % 400;
    std::string text = rng() % 2 ? "{" : "[";
    while (text.size() < len) text += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    std::vector<size_t> cuts;
    for (size_t at = 0; rng() % 3 != 0;) {
      at += 1 + rng() % 90;
      if (at >= len) break;
      cuts.push_back(at);
    }
    auto run = [&](auto scan, bool check) {
      ScanState st;
      st.Start(text[0], check);
      std::string padded = text + std::string(kScanPadding, ' ');
      const char* p = padded.data();
      const char* end = padded.data();
      Outcome o;
      for (size_t k = 0; k <= cuts.size(); ++k) {
        end = padded.data() + (k < cuts.size() ? cuts[k] : text.size());
        o.result = scan(p, end, st);
        if (o.result != Scan::kNeedMore) break;
      }
      o.offset = static_cast<size_t>(p - padded.data());
      return o;
    };
    Outcome fast = run([](const char*& p, const char* e, ScanState& s) { return ScanValue(p, e, s); }, false);
    Outcome simple = run([](const char*& p, const char* e, ScanState& s) { return ScanValueSimple(p, e, s); }, false);
    ASSERT_EQ(fast.result, simple.result) << text;
    ASSERT_EQ(fast.offset, simple.offset) << text;
    Outcome checked = run([](const char*& p, const char* e, ScanState& s) { return ScanValueSimple(p, e, s); }, true);
    if (checked.result != Scan::kMismatch) {
      ASSERT_EQ(fast.result, checked.result) << text;
      ASSERT_EQ(fast.offset, checked.offset) << text;
    }
  }
  // Deep nesting is still caught.
  std::string deep = "{" + std::string(2000, '[');
  ScanState st;
  st.Start('{', false);
  std::string padded = deep + std::string(kScanPadding, ' ');
  const char* p = padded.data();
  EXPECT_EQ(ScanValue(p, padded.data() + deep.size(), st), Scan::kTooDeep);
  EXPECT_EQ(static_cast<size_t>(p - padded.data()), size_t{kMaxScanDepth});
}

TEST(ScanTest, FastScannerAgreesWithTheReferenceOnRandomInput) {
  std::mt19937 rng(42);
  const char kAlphabet[] = "{}[]\"\"\\\\aaaa  ,:";
  for (int round = 0; round < 20000; ++round) {
    size_t len = 1 + rng() % 300;
    std::string text;
    const char firsts[] = "{[\"";
    text += firsts[rng() % 3];
    while (text.size() < len) text += kAlphabet[rng() % (sizeof(kAlphabet) - 1)];
    std::vector<size_t> cuts;
    size_t at = 0;
    while (rng() % 3 != 0) {
      at += 1 + rng() % 70;
      if (at >= len) break;
      cuts.push_back(at);
    }
    Outcome fast = Fast(text, cuts);
    Outcome simple = Simple(text, cuts);
    Outcome baseline = Baseline(text, cuts);
    ASSERT_EQ(baseline.result, simple.result) << text;
    ASSERT_EQ(baseline.offset, simple.offset) << text;
    ASSERT_EQ(fast.result, simple.result) << text;
    ASSERT_EQ(fast.offset, simple.offset) << text;
  }
}

// A random valid JSON value: nested objects and arrays, strings holding brackets and escapes,
// numbers and literals.
void RandomJson(std::mt19937& rng, int depth, std::string* out) {
  int kind = depth > 6 ? static_cast<int>(rng() % 3) : static_cast<int>(rng() % 5);
  switch (kind) {
    case 0: {
      static const char* kStrings[] = {"\"a\"", "\"{[}]\"", "\"x\\\"}\"", "\"\\\\\"", "\"},{\"", "\"\""};
      *out += kStrings[rng() % 6];
      return;
    }
    case 1: {
      static const char* kScalars[] = {"1", "-2.5e3", "true", "false", "null", "0"};
      *out += kScalars[rng() % 6];
      return;
    }
    case 2:
    case 3: {
      bool object = kind == 2;
      *out += object ? '{' : '[';
      int members = static_cast<int>(rng() % 5);
      for (int m = 0; m < members; ++m) {
        if (m > 0) *out += rng() % 2 ? "," : " ,\n ";
        if (object) *out += "\"k" + std::to_string(m) + "\" : ";
        RandomJson(rng, depth + 1, out);
      }
      *out += object ? '}' : ']';
      return;
    }
    default:
      *out += "[";
      RandomJson(rng, depth + 1, out);
      *out += ",{\"in\":";
      RandomJson(rng, depth + 1, out);
      *out += "}]";
  }
}

TEST(ScanTest, StructuralCloseAgreesWithTheReferenceAndTheScanner) {
  std::mt19937 rng(11);
  simdjson::dom::parser parser;
  size_t brackets = 0;
  for (int round = 0; round < 3000; ++round) {
    std::string doc = "{\"Records\":[";
    int records = 1 + static_cast<int>(rng() % 6);
    for (int r = 0; r < records; ++r) {
      if (r > 0) doc += ",";
      doc += "{\"id\":" + std::to_string(r) + ",\"v\":";
      RandomJson(rng, 0, &doc);
      doc += "}";
    }
    doc += "]}";
    simdjson::padded_string padded(doc);
    simdjson::dom::element root;
    ASSERT_EQ(parser.parse(padded).get(root), simdjson::SUCCESS) << doc;
    const uint32_t* s = parser.implementation->structural_indexes.get();
    uint32_t n = parser.implementation->n_structural_indexes;
    for (uint32_t i = 0; i < n; ++i) {
      char c = doc[s[i]];
      if (c != '{' && c != '[') continue;
      ++brackets;
      uint32_t fast = StructuralClose(padded.data(), s, n, i);
      ASSERT_EQ(fast, StructuralCloseSimple(padded.data(), s, n, i)) << doc << " at " << s[i];
      ASSERT_LT(fast, n) << doc;
      // The byte-level scanner finds the same end.
      ScanState st;
      st.Start(c);
      const char* p = padded.data() + s[i];
      ASSERT_EQ(ScanValueSimple(p, padded.data() + doc.size(), st), Scan::kDone);
      ASSERT_EQ(static_cast<size_t>(p - padded.data()), size_t{s[fast]} + 1) << doc << " at " << s[i];
    }
  }
  EXPECT_GT(brackets, 30000u);
  // An unclosed bracket (the structural index of a cut document) gives UINT32_MAX.
  const char cut[] = "{\"a\":[1,2,3,4,5,6,7,8,9,10]                                  ";
  std::vector<uint32_t> s = {0, 1, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
                             21, 22, 24, 25, 26, 27};
  EXPECT_EQ(StructuralClose(cut, s.data(), static_cast<uint32_t>(s.size()), 0), UINT32_MAX);
  EXPECT_EQ(StructuralCloseSimple(cut, s.data(), static_cast<uint32_t>(s.size()), 0), UINT32_MAX);
}

}  // namespace
}  // namespace cairn::cloudtrail
