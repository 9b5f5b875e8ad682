#pragma once
// Internal to the query layer: lookup tables, the CSV files of the lookups folder that `lookup`,
// `inputlookup` and `outputlookup` read and write (RFC 4180: quoted cells may hold commas,
// quotes and line breaks). Not part of the public API.

#include <string>
#include <vector>

#include "common/status.h"

namespace cairn::query::internal {

// A lookup table's rows (the header first) from the CSV file at `path` (at most 256 MiB).
// NotFound naming `name` when there is no such file; InvalidArgument when it has no header line.
Result<std::vector<std::vector<std::string>>> LoadCsv(const std::string& path,
                                                      const std::string& name);

// One CSV line of `cells` (each quoted as CsvCell does), ending in a line break.
std::string CsvLine(const std::vector<std::string>& cells);

}  // namespace cairn::query::internal
