#include "provision/plan.h"

#include <fmt/format.h>

#include "provision/json.h"

namespace cairn::provision {

char ActionSymbol(Action a) {
  switch (a) {
    case Action::kCreate: return '+';
    case Action::kUpdate: return '~';
    case Action::kDelete: return '-';
    case Action::kNoop: return '=';
    case Action::kKeep: return '!';
  }
  return '?';
}

int Plan::Count(Action a) const {
  int n = 0;
  for (const auto& c : changes) n += c.action == a ? 1 : 0;
  return n;
}

namespace {

std::string Shown(const std::string& v) { return v.empty() ? "(none)" : v; }

// JSON documents (policies) are equal when their canonical forms are: AWS reformats them.
bool SameValue(const std::string& a, const std::string& b) {
  if (a == b) return true;
  if (a.empty() || b.empty() || a[0] != '{' || b[0] != '{') return false;
  auto ca = CanonicalJson(a);
  auto cb = CanonicalJson(b);
  return ca.ok() && cb.ok() && *ca == *cb;
}

}  // namespace

std::string Plan::Format(bool verbose) const {
  std::string out;
  for (const auto& c : changes) {
    if (c.action == Action::kNoop && !verbose) continue;
    out += fmt::format("{} {}", ActionSymbol(c.action), c.desired.Describe());
    if (!c.note.empty()) out += ": " + c.note;
    out += "\n";
    if (c.action == Action::kCreate) {
      for (const auto& [k, v] : c.desired.attrs) {
        if (!v.empty()) out += fmt::format("    {}: {}\n", k, v);
      }
    }
    for (const auto& a : c.attrs) out += fmt::format("    {}: {} -> {}\n", a.name, Shown(a.from), Shown(a.to));
  }
  for (const auto& n : notes) out += "  note: " + n + "\n";
  out += fmt::format("Plan: {} to create, {} to change, {} to delete, {} unchanged", Count(Action::kCreate),
                     Count(Action::kUpdate), Count(Action::kDelete), Count(Action::kNoop));
  if (int kept = Count(Action::kKeep); kept > 0) out += fmt::format(", {} kept", kept);
  out += ".\n";
  return out;
}

Plan DiffForApply(const std::vector<Resource>& desired, const std::vector<std::optional<Resource>>& observed) {
  Plan plan;
  for (size_t i = 0; i < desired.size(); ++i) {
    Change c;
    c.desired = desired[i];
    if (i >= observed.size() || !observed[i]) {
      c.action = Action::kCreate;
      plan.changes.push_back(std::move(c));
      continue;
    }
    c.current = observed[i];
    for (const auto& [name, want] : desired[i].attrs) {
      std::string have = observed[i]->Attr(name);
      if (!SameValue(have, want)) c.attrs.push_back({name, have, want});
    }
    c.action = c.attrs.empty() ? Action::kNoop : Action::kUpdate;
    plan.changes.push_back(std::move(c));
  }
  return plan;
}

Plan DiffForDestroy(const std::vector<Resource>& desired, const std::vector<std::optional<Resource>>& observed) {
  Plan plan;
  for (size_t i = desired.size(); i-- > 0;) {
    if (i >= observed.size() || !observed[i]) continue;
    Change c;
    c.desired = *observed[i];
    c.current = observed[i];
    if (observed[i]->managed) {
      c.action = Action::kDelete;
    } else {
      c.action = Action::kKeep;
      c.note = fmt::format("kept, not tagged {}={} (cairn did not create it)", kTagStack,
                           desired[i].Attr("tags").empty() ? "?" : desired[i].Attr("tags").substr(
                                                                       desired[i].Attr("tags").rfind('=') + 1));
    }
    plan.changes.push_back(std::move(c));
  }
  return plan;
}

}  // namespace cairn::provision
