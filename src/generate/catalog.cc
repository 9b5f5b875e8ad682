#include "generate/catalog.h"

#include <cstdio>
#include <cstdlib>
#include <set>

#include "generate/prng.h"

namespace cairn::generate {
namespace {

// One line per API call: service|EventName|flags|weight|requestParameters|responseElements|resources
constexpr std::string_view kTable =
#include "generate/catalog_table.inc"
    ;

constexpr std::string_view kVarNames[kVarCount] = {
    "acct",     "region",   "az",        "bucket",    "objkey",    "instance", "volume",
    "snapshot", "ami",      "vpc",       "subnet",    "sg",        "eni",      "user",
    "role",     "rolearn",  "policyarn", "policyname", "fn",       "fnarn",    "table",
    "queueurl", "queuename", "topicarn", "secret",    "secretarn", "kmskey",   "kmsarn",
    "loggroup", "logstream", "stack",    "stackid",   "cluster",   "repo",     "uuid",
    "uuid2",    "reqid",    "hex8",      "hex17",     "num",       "bytes",    "time",
    "epochms",  "trail",    "trailarn",  "detector",  "zone",      "dist",     "newkey",
    "sessname", "param",    "ip",        "callerarn", "dbinstance", "lb",      "api",
    "alarm",    "rule",     "stream",    "sfn"};

[[noreturn]] void Die(std::string_view what, std::string_view line) {
  std::fprintf(stderr, "cairn generate: built-in catalog: %.*s in line: %.*s\n",
               static_cast<int>(what.size()), what.data(), static_cast<int>(line.size()),
               line.data());
  std::abort();
}

}  // namespace

std::string_view VarName(int var) { return kVarNames[var]; }

Template CompileTemplate(std::string_view text) {
  Template t;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t at = text.find('@', pos);
    if (at == std::string_view::npos) {
      t.pieces.push_back({text.substr(pos), -1});
      break;
    }
    size_t end = text.find('@', at + 1);
    if (end == std::string_view::npos) Die("unterminated @var@", text);
    std::string_view name = text.substr(at + 1, end - at - 1);
    int var = -1;
    for (int i = 0; i < kVarCount; ++i) {
      if (kVarNames[i] == name) var = i;
    }
    if (var < 0) Die("unknown placeholder", name);
    t.pieces.push_back({text.substr(pos, at - pos), var});
    pos = end + 1;
  }
  return t;
}

Catalog::Catalog() {
  std::set<std::string_view> services;
  size_t pos = 0;
  while (pos < kTable.size()) {
    size_t eol = kTable.find('\n', pos);
    if (eol == std::string_view::npos) eol = kTable.size();
    std::string_view line = kTable.substr(pos, eol - pos);
    pos = eol + 1;
    if (line.empty() || line[0] == '#') continue;
    std::string_view fields[7];
    size_t start = 0;
    for (int i = 0; i < 7; ++i) {
      size_t bar = i < 6 ? line.find('|', start) : line.size();
      if (bar == std::string_view::npos) Die("fewer than 7 fields", line);
      fields[i] = line.substr(start, bar - start);
      start = bar + 1;
    }
    CatalogEntry e;
    e.service = fields[0];
    e.event_source = std::string(fields[0]) + ".amazonaws.com";
    e.event_name = fields[1];
    for (char c : fields[2]) {
      switch (c) {
        case 'R': e.flags |= kReadOnly; break;
        case 'G': e.flags |= kGlobal; break;
        case 'D': e.flags |= kData; break;
        case 'S': e.flags |= kServiceOnly; break;
        case 'E': e.flags |= kServiceEvent; break;
        default: Die("unknown flag", line);
      }
    }
    e.weight = static_cast<uint32_t>(std::strtoul(std::string(fields[3]).c_str(), nullptr, 10));
    // Services moved to eventVersion 1.09 at different times; pick per service, stably.
    e.event_version = (HashName(e.service) % 3 == 0) ? "1.08" : "1.09";
    if (!fields[4].empty()) e.request = CompileTemplate(fields[4]);
    if (!fields[5].empty()) e.response = CompileTemplate(fields[5]);
    if (!fields[6].empty()) e.resources = CompileTemplate(fields[6]);
    services.insert(e.service);
    entries_.push_back(std::move(e));
  }
  service_count_ = services.size();
}

int Catalog::Find(std::string_view service, std::string_view event_name) const {
  for (size_t i = 0; i < entries_.size(); ++i) {
    if (entries_[i].service == service && entries_[i].event_name == event_name) {
      return static_cast<int>(i);
    }
  }
  return -1;
}

}  // namespace cairn::generate
