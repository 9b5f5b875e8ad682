// The AWS overview's panels as saved searches (rest_ui.h: OverviewPanels).

#include <algorithm>

#include "common/log.h"
#include "serve/rest_ui.h"

namespace cairn::serve {
namespace {

constexpr char kOverviewConf[] =
#include "aws_overview_savedsearches.inc"
    ;

const std::vector<SavedSearch>& BuiltinPanels() {
  static const std::vector<SavedSearch> panels = [] {
    auto parsed = ParseSavedSearches(kOverviewConf, "aws_overview_savedsearches.conf");
    // Compiled in and checked by a test: a failure here is a build's bug.
    if (!parsed.ok()) {
      log::Error("serve: the built-in overview panels: {}", parsed.status().message());
      return std::vector<SavedSearch>{};
    }
    for (auto& p : *parsed) p.builtin = true;
    return std::move(*parsed);
  }();
  return panels;
}

}  // namespace

std::vector<SavedSearch> OverviewPanels(const std::vector<SavedSearch>& saved) {
  auto find = [&](const std::string& name) {
    return std::find_if(saved.begin(), saved.end(), [&](const auto& s) { return s.name == name; });
  };
  std::vector<SavedSearch> out;
  for (const SavedSearch& b : BuiltinPanels()) {
    auto it = find(b.name);
    if (it == saved.end()) {
      out.push_back(b);
      continue;
    }
    SavedSearch mine = *it;
    if (mine.visualization.empty()) mine.visualization = b.visualization;
    out.push_back(std::move(mine));
  }
  for (const SavedSearch& s : saved) {
    if (!s.name.starts_with(kOverviewPrefix)) continue;
    const bool builtin = std::any_of(BuiltinPanels().begin(), BuiltinPanels().end(),
                                     [&](const auto& b) { return b.name == s.name; });
    if (!builtin) out.push_back(s);
  }
  return out;
}

std::vector<SavedSearch> WithBuiltinSearches(const std::vector<SavedSearch>& saved) {
  std::vector<SavedSearch> out = saved;
  for (const SavedSearch& b : BuiltinPanels()) {
    if (std::none_of(saved.begin(), saved.end(), [&](const auto& s) { return s.name == b.name; }))
      out.push_back(b);
  }
  return out;
}

}  // namespace cairn::serve
