#pragma once
// The differ: desired resources against what the state readers found, as a Plan of changes, and
// the Plan's readable text form (what `cairn provision plan` prints and tests assert on):
//
//   + sqs queue cairn-cloudtrail (us-west-2)
//   ~ sns topic cairn-cloudtrail (us-east-1)
//       Policy: {...} -> {...}
//   - cloudtrail trail cairn-trail (eu-west-1)
//   = s3 bucket cairn-cloudtrail-111122223333 (us-west-2)
//   ! iam role cairn-cloudtrail-reader: kept, not tagged cairn:stack=cairn
//   Plan: 1 to create, 1 to change, 1 to delete, 1 unchanged.
//
// Thread safety: plain data and pure functions.

#include <optional>
#include <string>
#include <vector>

#include "provision/model.h"

namespace cairn::provision {

enum class Action {
  kCreate,  // +
  kUpdate,  // ~ (attrs lists what differs)
  kDelete,  // -
  kNoop,    // = exists as wanted
  kKeep,    // ! exists but is not cairn's: left alone (destroy), or a delete that is refused
};

char ActionSymbol(Action a);

struct AttrChange {
  std::string name;
  std::string from;  // "" when the attribute is not set
  std::string to;
};

struct Change {
  Action action = Action::kNoop;
  Resource desired;                 // for deletes: the observed resource
  std::optional<Resource> current;  // what the reader found
  std::vector<AttrChange> attrs;    // kUpdate: the attributes that differ
  std::string note;                 // kKeep: why
};

struct Plan {
  std::vector<Change> changes;     // creates/updates in creation order, deletes in reverse order
  std::vector<std::string> notes;  // skipped services and the like

  int Count(Action a) const;
  // True when applying would change nothing.
  bool Converged() const { return Count(Action::kCreate) + Count(Action::kUpdate) + Count(Action::kDelete) == 0; }
  // The text form above. `verbose` also lists unchanged resources.
  std::string Format(bool verbose = true) const;
};

// Plan for apply: `observed[i]` is what exists for `desired[i]` (nullopt: nothing).
Plan DiffForApply(const std::vector<Resource>& desired, const std::vector<std::optional<Resource>>& observed);
// Plan for destroy: delete every observed resource that is managed (carries the stack's tags, or
// belongs to a resource that does), in reverse creation order; keep the rest.
Plan DiffForDestroy(const std::vector<Resource>& desired, const std::vector<std::optional<Resource>>& observed);

}  // namespace cairn::provision
