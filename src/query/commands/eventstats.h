#pragma once
// eventstats answered in two passes when the event source can aggregate its groups itself (from
// the store's columns): the equivalent stats runs first, then each event is annotated with its
// group's results as it streams past. Memory follows the groups, not the events.

#include <memory>
#include <optional>

#include "query/command_support.h"

namespace cairn::query::internal {

// The stats command that computes `eventstats`'s groups (same functions and by fields), or
// nothing when eventstats has options or a wildcard function.
std::optional<Command> EventStatsAsStats(const Command& eventstats);

// A streaming operator for `eventstats` whose groups are already known: `groups` are the rows
// of EventStatsAsStats(eventstats) over the same events. Each row gets its first key's group's
// results (as eventstats gives them); rows without a by-field pass unchanged.
std::unique_ptr<Operator> MakeEventStatsAnnotate(const Command& eventstats, Rows groups);

}  // namespace cairn::query::internal
