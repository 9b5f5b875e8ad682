#include "detect/text_filter.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <string>
#include <vector>

#include "cloudtrail/reader.h"
#include "common/fs.h"
#include "common/testing.h"
#include "detect/rule_set.h"
#include "generate/generator.h"

namespace cairn::detect {
namespace {

Rule OneRule(const std::string& detection) {
  LoadedRules loaded;
  ParseSigmaText(
      "title: t\nid: r1\nlevel: high\nlogsource:\n    product: aws\n    service: "
      "cloudtrail\ndetection:\n" +
          detection,
      "test.yml", &loaded);
  EXPECT_TRUE(loaded.refused.empty()) << loaded.refused[0].ToString();
  return loaded.rules.empty() ? Rule{} : loaded.rules[0];
}

std::string FilterOf(const std::string& detection) {
  return TextFilter::Of(OneRule(detection)).ToString();
}

TEST(TextFilterTest, RegexLiterals) {
  using V = std::vector<std::string>;
  EXPECT_EQ(TextFilter::RegexLiterals(".+:assumed-role/aws:.+"), (V{":assumed-role/aws:"}));
  // A byte before ? * {n} may be absent; before + it is there; short and numeric runs say nothing.
  EXPECT_EQ(TextFilter::RegexLiterals("^Stop?Logging$"), (V{"sto", "logging"}));
  EXPECT_EQ(TextFilter::RegexLiterals("abcd*efgh"), (V{"abc", "efgh"}));
  EXPECT_EQ(TextFilter::RegexLiterals("abcd{0,3}efgh"), (V{"abc", "efgh"}));
  EXPECT_EQ(TextFilter::RegexLiterals("Trail+Name"), (V{"trail", "name"}));
  EXPECT_EQ(TextFilter::RegexLiterals("ab.12345.cd"), (V{}));
  // Shapes it does not read: nothing is required.
  EXPECT_EQ(TextFilter::RegexLiterals("(?i)stoplogging"), (V{}));
  EXPECT_EQ(TextFilter::RegexLiterals("stop|delete"), (V{}));
  EXPECT_EQ(TextFilter::RegexLiterals("[a-z]+trail"), (V{}));
  EXPECT_EQ(TextFilter::RegexLiterals("stop\\.logging"), (V{}));
  EXPECT_EQ(TextFilter::RegexLiterals("abc{2"), (V{}));
}

TEST(TextFilterTest, CombinesAsTheConditionDoes) {
  EXPECT_EQ(FilterOf("    sel:\n        eventName: StopLogging\n    condition: sel\n"),
            "\"stoplogging\"");
  // A map's fields all, a field's values any, wildcards split pieces.
  EXPECT_EQ(FilterOf("    sel:\n        eventSource: cloudtrail.amazonaws.com\n"
                     "        eventName:\n            - StopLogging\n            - Delete*Trail\n"
                     "    condition: sel\n"),
            "\"cloudtrail.amazonaws.com\" and (\"stoplogging\" or (\"delete\" and \"trail\"))");
  // `not` says nothing; `or` with an unknown side says nothing; `all of` takes every selection.
  EXPECT_EQ(FilterOf("    sel:\n        eventName: StopLogging\n    filter:\n        "
                     "userAgent: console\n    condition: sel and not filter\n"),
            "\"stoplogging\"");
  EXPECT_EQ(FilterOf("    sel:\n        eventName: StopLogging\n    other:\n        "
                     "sourceIPAddress|cidr: 10.0.0.0/8\n    condition: sel or other\n"),
            "always");
  EXPECT_EQ(FilterOf("    sel_a:\n        eventName: StopLogging\n    sel_b:\n        "
                     "userAgent|contains: terraform\n    condition: all of sel_*\n"),
            "\"stoplogging\" and \"terraform\"");
  EXPECT_EQ(FilterOf("    sel_a:\n        eventName: StopLogging\n    sel_b:\n        "
                     "userAgent|contains: terraform\n    condition: 1 of sel_*\n"),
            "\"stoplogging\" or \"terraform\"");
  // |all: every value; keywords: any; numbers, exists and null say nothing.
  EXPECT_EQ(FilterOf("    sel:\n        userAgent|contains|all:\n            - aws-cli\n"
                     "            - linux\n    condition: sel\n"),
            "\"aws-cli\" and \"linux\"");
  EXPECT_EQ(FilterOf("    keywords:\n        - mimikatz\n        - '*rubeus*'\n"
                     "    condition: keywords\n"),
            "\"mimikatz\" or \"rubeus\"");
  // A value holding another of the same list, or a value twice, adds nothing.
  EXPECT_EQ(
      FilterOf("    sel:\n        errorCode:\n            - AccessDenied\n"
               "            - AccessDeniedException\n            - Client.UnauthorizedOperation\n"
               "            - UnauthorizedOperation\n            - accessdenied\n"
               "    condition: sel\n"),
      "\"accessdenied\" or \"unauthorizedoperation\"");
  EXPECT_EQ(FilterOf("    sel:\n        errorCode: 403\n    condition: sel\n"), "always");
  EXPECT_EQ(FilterOf("    sel:\n        errorCode|exists: true\n    condition: sel\n"), "always");
  EXPECT_EQ(FilterOf("    sel:\n        errorCode: null\n    condition: sel\n"), "always");
  // Case: the pieces are found in any case.
  TextFilter f = TextFilter::Of(
      OneRule("    sel:\n        userAgent|cased|contains: TruffleHog\n    condition: sel\n"));
  EXPECT_TRUE(f.MayMatch(R"({"userAgent":"trufflehog/3.0"})"));
  EXPECT_TRUE(f.MayMatch(R"({"userAgent":"TRUFFLEHOG"})"));
  EXPECT_FALSE(f.MayMatch(R"({"userAgent":"aws-cli/2"})"));
}

// Every rule, every event: the text path chooses the same rules as parsing every event.
struct Corpus {
  std::vector<std::string> events;
};

void AddFile(const std::string& path, Corpus* c) {
  cloudtrail::ReaderOptions options;
  (void)cloudtrail::ReadEventsFromPath(FileSystem::Default(), path, options,
                                       [&](cloudtrail::Event&& e) {
                                         c->events.push_back(e.raw.str());
                                         return Status::Ok();
                                       });
}

TEST(TextFilterTest, TextPathMatchesWhatParsingEveryEventMatches) {
  CAIRN_REQUIRE_SHARED_DATA();
  LoadedRules all;
  for (const std::string& dir : {testing::SharedDataDir() + "/sigma/rules",
                                 std::string(CAIRN_SOURCE_DIR) + "/rules/sigma"}) {
    auto loaded = LoadRuleDirectory(dir);
    ASSERT_TRUE(loaded.ok()) << loaded.status().ToString();
    for (auto& r : loaded->rules) all.rules.push_back(std::move(r));
    for (auto& c : loaded->correlations) all.correlations.push_back(std::move(c));
  }
  ResolveCorrelations(&all);
  LoadedRules copy = all;
  RuleSet fast(std::move(all), /*text_filters=*/true);
  RuleSet parsed(std::move(copy), /*text_filters=*/false);

  Corpus corpus;
  for (const auto& e :
       std::filesystem::recursive_directory_iterator(testing::SharedDataDir() + "/cloudtrail")) {
    if (e.is_regular_file()) AddFile(e.path().string(), &corpus);
  }
  const size_t real = corpus.events.size();
  // A generated day with every attack scenario.
  std::string dir = testing::MakeTempDir("cairn_text_filter");
  generate::GenerateOptions g;
  g.out_dir = dir;
  g.events = 20000;
  g.threads = 1;
  auto summary = generate::Generate(g, FileSystem::Default());
  ASSERT_TRUE(summary.ok()) << summary.status().ToString();
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.is_regular_file() && e.path().string().ends_with(".json.gz")) {
      AddFile(e.path().string(), &corpus);
    }
  }
  ASSERT_GT(real, 1000u);
  ASSERT_GE(corpus.events.size(), real + 20000);
  // Variants the text path must hand to the parser: a second eventName deeper down, escapes.
  for (size_t i = 0; i < real; i += 7) {
    std::string e = corpus.events[i];
    if (e.size() < 2 || e.back() != '}') continue;
    corpus.events.push_back(e.substr(0, e.size() - 1) +
                            R"(,"requestParameters2":{"eventName":"StopLogging"}})");
    corpus.events.push_back(e.substr(0, e.size() - 1) + R"(,"note":"a \"quoted\" word"})");
  }

  size_t matched = 0, decided = 0;
  std::vector<int> cands;
  for (const std::string& e : corpus.events) {
    const std::vector<int> want = parsed.Match(e);
    ASSERT_EQ(fast.Match(e), want) << e;
    matched += !want.empty();
    const bool known = fast.TextCandidates(e, &cands);
    decided += known && cands.empty();
  }
  EXPECT_GT(matched, 100u);
  // Most events no rule matches are settled by their text alone. The others hold the words of
  // some rule's values elsewhere (every AssumeRole call's response names an "assumedRoleUser",
  // the words of the AssumeRole rule), a second eventName, or escapes.
  const size_t unmatched = corpus.events.size() - matched;
  EXPECT_GT(decided, unmatched * 3 / 4) << decided << " of " << unmatched << " unmatched";
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace cairn::detect
