#include "query/lookup_files.h"

#include "common/fs.h"
#include "query/engine.h"
#include "query/exec_internal.h"

namespace cairn::query {

std::string CsvCell(const std::string& s) {
  if (s.find_first_of(",\"\n\r") == std::string::npos) return s;
  std::string out = "\"";
  for (char c : s) {
    if (c == '"') out += '"';
    out += c;
  }
  return out + "\"";
}

}  // namespace cairn::query

namespace cairn::query::internal {
namespace {

// The rows of CSV text (`path` names it in errors); blank lines are skipped.
Result<std::vector<std::vector<std::string>>> ParseCsv(const std::string& text,
                                                       const std::string& path) {
  std::vector<std::vector<std::string>> rows;
  std::vector<std::string> row;
  std::string cell;
  bool quoted = false, any = false;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (quoted) {
      if (c == '"') {
        if (i + 1 < text.size() && text[i + 1] == '"') {
          cell += '"';
          ++i;
        } else {
          quoted = false;
        }
      } else {
        cell += c;
      }
      continue;
    }
    if (c == '"') {
      quoted = true;
      any = true;
    } else if (c == ',') {
      row.push_back(std::move(cell));
      cell.clear();
      any = true;
    } else if (c == '\n' || c == '\r') {
      if (c == '\r' && i + 1 < text.size() && text[i + 1] == '\n') ++i;
      if (any || !cell.empty()) {
        row.push_back(std::move(cell));
        rows.push_back(std::move(row));
      }
      row.clear();
      cell.clear();
      any = false;
    } else {
      cell += c;
      any = true;
    }
  }
  if (quoted) return InvalidArgument("{}: unterminated quoted cell", path);
  if (any || !cell.empty()) {
    row.push_back(std::move(cell));
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace

Result<std::vector<std::vector<std::string>>> LoadCsv(const std::string& path,
                                                      const std::string& name) {
  FileSystem* fs = FileSystem::Default();
  if (!fs->Exists(path)) return NotFound("lookup table '{}' not found ({})", name, path);
  ASSIGN_OR_RETURN(std::string text, ReadFileToString(fs, path, 256u << 20));
  ASSIGN_OR_RETURN(auto rows, ParseCsv(text, path));
  if (rows.empty()) return InvalidArgument("lookup table {} has no header line", path);
  return rows;
}

std::string CsvLine(const std::vector<std::string>& cells) {
  std::string out;
  for (size_t i = 0; i < cells.size(); ++i) out += (i ? "," : "") + CsvCell(cells[i]);
  return out + "\n";
}

Result<std::string> Executor::LookupPath(const std::string& name) const {
  if (options_.lookups_dir.empty()) {
    return NotFound("lookup table '{}' not found: no lookups folder is configured", name);
  }
  if (name.find('/') != std::string::npos || name.find("..") != std::string::npos) {
    return InvalidArgument("bad lookup name '{}'", name);
  }
  std::string file = name;
  if (file.size() < 4 || file.compare(file.size() - 4, 4, ".csv") != 0) file += ".csv";
  return JoinPath(options_.lookups_dir, file);
}

}  // namespace cairn::query::internal
