// Runs the real `cairn` binary: ingests the Invictus CloudTrail files, then checks `cairn search
// --format json` answers against counts computed here by parsing the same files with simdjson,
// and that a bad search exits 2 naming the position and the unsupported function.

#include <gtest/gtest.h>
#include <simdjson.h>
#include <sys/wait.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>
#include <string>

#include "common/fs.h"
#include "common/testing.h"

namespace {

struct Proc {
  int code = -1;
  std::string out;
  std::string err;
};

std::string Quote(const std::string& s) {
  std::string q = "'";
  for (char c : s) q += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return q + "'";
}

Proc Cairn(const std::string& args) {
  std::string err_path = cairn::testing::MakeTempDir("cairn_cli_err") + "/stderr";
  std::string cmd = std::string(CAIRN_BINARY) + " " + args + " 2>" + err_path;
  Proc r;
  FILE* p = popen(cmd.c_str(), "r");
  if (!p) return r;
  char buf[65536];
  size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0) r.out.append(buf, n);
  int st = pclose(p);
  r.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  auto e = cairn::ReadFileToString(cairn::FileSystem::Default(), err_path, 1 << 20);
  if (e.ok()) r.err = *e;
  std::filesystem::remove_all(std::filesystem::path(err_path).parent_path());
  return r;
}

// The single JSON line's field `name`.
std::string Field(const std::string& json_line, const char* name) {
  simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(json_line).get(doc)) return "";
  std::string_view v;
  if (doc[name].get(v)) return "";
  return std::string(v);
}

TEST(SearchCli, AnswersMatchAnIndependentCount) {
  CAIRN_REQUIRE_SHARED_DATA();
  std::string src = cairn::testing::SharedDataDir() + "/cloudtrail/invictus/CloudTrail";
  // Independent counts, deduplicated as the store does: (account, eventID).
  std::set<std::pair<std::string, std::string>> seen;
  uint64_t total = 0, console = 0, denied = 0;
  std::map<std::string, uint64_t> by_source;
  std::set<std::string> console_ids;
  simdjson::dom::parser parser;
  for (const auto& e : std::filesystem::directory_iterator(src)) {
    if (e.path().extension() != ".json") continue;
    simdjson::dom::element doc;
    ASSERT_FALSE(parser.load(e.path().string()).get(doc));
    simdjson::dom::array records;
    ASSERT_FALSE(doc["Records"].get(records));
    for (auto rec : records) {
      std::string_view id, acct, name, source, code;
      if (rec["eventID"].get(id)) id = "";
      if (rec["recipientAccountId"].get(acct) && rec["userIdentity"]["accountId"].get(acct))
        acct = "";
      if (!seen.insert({std::string(acct), std::string(id)}).second) continue;
      ++total;
      if (!rec["eventName"].get(name) && name == "ConsoleLogin") {
        ++console;
        console_ids.insert(std::string(id));
      }
      if (!rec["errorCode"].get(code) && code == "AccessDenied") ++denied;
      if (!rec["eventSource"].get(source)) ++by_source[std::string(source)];
    }
  }
  ASSERT_GT(total, 1000u);

  std::string data = cairn::testing::MakeTempDir("cairn_search_cli");
  Proc ing = Cairn("--data " + data + " ingest --no-progress " + Quote(src));
  ASSERT_EQ(ing.code, 0) << ing.out << ing.err;

  auto search = [&](const std::string& spl) {
    Proc r = Cairn("search --data " + data + " --format json " + Quote(spl));
    EXPECT_EQ(r.code, 0) << spl << ": " << r.err;
    return r.out;
  };
  EXPECT_EQ(Field(search("* | stats count"), "count"), std::to_string(total));
  EXPECT_EQ(Field(search("eventName=ConsoleLogin | stats count"), "count"),
            std::to_string(console));
  EXPECT_EQ(Field(search("errorCode=AccessDenied | stats count"), "count"), std::to_string(denied));
  EXPECT_EQ(Field(search("index=* | stats dc(eventSource) as n"), "n"),
            std::to_string(by_source.size()));
  // Grouped counts: one JSON line per eventSource.
  std::string lines = search("* | stats count by eventSource");
  std::map<std::string, uint64_t> got;
  size_t p = 0;
  while (p < lines.size()) {
    size_t q = lines.find('\n', p);
    std::string line = lines.substr(p, q - p);
    got[Field(line, "eventSource")] = std::stoull(Field(line, "count"));
    p = q + 1;
  }
  EXPECT_EQ(got, by_source);
  // The events themselves, newest first.
  std::string events = search("eventName=ConsoleLogin | table _time eventID");
  std::set<std::string> ids;
  std::string last_time = "9999";
  p = 0;
  while (p < events.size()) {
    size_t q = events.find('\n', p);
    std::string line = events.substr(p, q - p);
    ids.insert(Field(line, "eventID"));
    std::string t = Field(line, "_time");
    EXPECT_LE(t, last_time);
    last_time = t;
    p = q + 1;
  }
  EXPECT_EQ(ids, console_ids);

  // CSV output has a header and one line per row.
  Proc csv =
      Cairn("search --data " + data + " --format csv " + Quote("* | stats count by eventSource"));
  EXPECT_EQ(csv.code, 0);
  EXPECT_EQ(csv.out.rfind("eventSource,count\n", 0), 0u) << csv.out;
  EXPECT_EQ(std::count(csv.out.begin(), csv.out.end(), '\n'),
            static_cast<long>(by_source.size() + 1));

  // --explain shows the push-down.
  Proc ex = Cairn("search --data " + data + " --explain " +
                  Quote("eventName=ConsoleLogin | stats count"));
  EXPECT_EQ(ex.code, 0);
  EXPECT_NE(ex.out.find("postings(eventName=\"ConsoleLogin\")"), std::string::npos) << ex.out;

  // --format raw: each event's stored JSON on a line, in the search's order (here oldest first).
  Proc raw = Cairn("search --data " + data + " --format raw " +
                   Quote("eventName=ConsoleLogin | sort 0 _time"));
  EXPECT_EQ(raw.code, 0) << raw.err;
  EXPECT_EQ(std::count(raw.out.begin(), raw.out.end(), '\n'), static_cast<long>(console));
  std::string prev_time;
  for (size_t at = 0; at < raw.out.size();) {
    size_t end = raw.out.find('\n', at);
    std::string line = raw.out.substr(at, end - at);
    EXPECT_EQ(Field(line, "eventName"), "ConsoleLogin") << line;
    EXPECT_GE(Field(line, "eventTime"), prev_time);
    prev_time = Field(line, "eventTime");
    at = end + 1;
  }

  // --timing: one line per command with the rows it took and passed on (here: every console
  // login through sort, two out of head), its class and memory; --explain --timing the same
  // after the plan's command classes, without the results.
  const std::string timed = "eventName=ConsoleLogin | sort 0 _time | head 2";
  Proc t = Cairn("search --data " + data + " --format json --timing " + Quote(timed));
  EXPECT_EQ(t.code, 0) << t.err;
  EXPECT_EQ(std::count(t.out.begin(), t.out.end(), '\n'), 2) << t.out;
  auto line_of = [](const std::string& text, const std::string& start) {
    size_t at = text.find("\n  " + start);
    return at == std::string::npos ? std::string()
                                   : text.substr(at + 3, text.find('\n', at + 1) - at - 3);
  };
  const std::string n = std::to_string(console);
  std::string sort_line = line_of(t.err, "sort 0 +_time");
  EXPECT_NE(sort_line.find(" " + n + " -> " + n + " "), std::string::npos) << t.err;
  EXPECT_NE(sort_line.find("blocking"), std::string::npos) << sort_line;
  EXPECT_NE(sort_line.find(" MB"), std::string::npos) << sort_line;
  std::string head_line = line_of(t.err, "head 2");
  EXPECT_NE(head_line.find(" " + n + " -> 2 "), std::string::npos) << t.err;
  EXPECT_NE(t.err.find("search peak"), std::string::npos) << t.err;
  Proc et = Cairn("search --data " + data + " --explain --timing " + Quote(timed));
  EXPECT_EQ(et.code, 0) << et.err;
  EXPECT_NE(et.out.find("command 1: sort 0 +_time (blocking"), std::string::npos) << et.out;
  EXPECT_NE(et.out.find("command 2: head 2 (streaming"), std::string::npos) << et.out;
  EXPECT_EQ(et.out.find("\"eventID\""), std::string::npos) << et.out;  // no results
  EXPECT_NE(line_of(et.err, "head 2").find(" -> 2 "), std::string::npos) << et.err;

  // A bad search: exit 2, the message names the function and the position.
  Proc bad =
      Cairn("search --data " + data + " " + Quote("eventName=ConsoleLogin | stats nosuch(x)"));
  EXPECT_EQ(bad.code, 2);
  EXPECT_NE(bad.err.find("unsupported function: nosuch at offset 31"), std::string::npos)
      << bad.err;
  EXPECT_NE(bad.err.find("^ position 31"), std::string::npos) << bad.err;
  Proc cmd = Cairn("search --data " + data + " " + Quote("* | frobnicate"));
  EXPECT_EQ(cmd.code, 2);
  EXPECT_NE(cmd.err.find("unsupported command: frobnicate at offset 4"), std::string::npos)
      << cmd.err;
  std::filesystem::remove_all(data);
}

}  // namespace
