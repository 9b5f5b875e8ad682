#pragma once
// The names SPL knows, for tools that help a person write a search (the web UI's SPL editor
// highlights and completes them). Each list comes from where the parser itself looks names up, so
// it cannot drift from what a search accepts: the commands from the command registry, the eval
// functions from the set the expression parser checks, the stats functions from the set the
// aggregation parser checks. Each call returns a new sorted list; thread-safe.

#include <string>
#include <vector>

namespace cairn::query {

// Every name a command may be written with: each command's name and its aliases (bucket for bin).
std::vector<std::string> SplCommandNames();

// The functions eval, where and fieldformat expressions may call (if, coalesce, strftime, ...).
std::vector<std::string> SplEvalFunctionNames();

// The aggregation functions of stats, chart, timechart, eventstats and streamstats (count, dc,
// values, ...). Percentiles are written perc<N>, p<N>, exactperc<N> or upperperc<N> and are not
// listed.
std::vector<std::string> SplStatsFunctionNames();

}  // namespace cairn::query
