#pragma once
// The Splunk Add-on for AWS's search-time knowledge for sourcetype
// aws:cloudtrail, as tables that Extraction (extract.h) applies: field aliases,
// calculated fields (eval expressions run by this layer's evaluator), the
// action/status lookup; and the date_* fields and key=value extraction every
// event gets. Internal to the query layer. Thread-safe (immutable tables).

#include <string>
#include <string_view>
#include <vector>

#include "query/ast.h"
#include "query/row.h"

namespace cairn::query::cim {

// The field an alias copies into `target` (FIELDALIAS), or "" when `target` is
// no alias.
std::string_view AliasSource(std::string_view target);
// The calculated field `name`'s expression (EVAL-), or null.
const Expr* Calculation(std::string_view name);
// Every name computed for aws:cloudtrail: alias targets, calculated fields,
// action and status.
const std::vector<std::string>& ComputedNames();
// The names `name`'s computation reads (empty for a plain field).
std::vector<std::string> Dependencies(std::string_view name);
// The add-on's action for an event named `name` that succeeded or not ("" when
// none applies).
std::string ActionOf(std::string_view name, bool success);

bool IsDateField(std::string_view name);
// Sets the date_* fields of time `t` (epoch seconds, UTC) in `out`.
void DateFields(double t, FieldMap* out);
// Splunk's automatic key=value extraction for text that is not JSON (first
// occurrence wins).
void KeyValuePairs(std::string_view raw, Row* row);

}  // namespace cairn::query::cim
