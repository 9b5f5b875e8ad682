#pragma once
// Helpers for the tests that run the real `cairn` binary: running it with its stdout and stderr
// apart, generated logs, and the segments a data folder's manifest lists.

#include <unistd.h>

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "common/testing.h"

namespace cairn::testing {

inline std::string CairnBinary() { return std::string(CAIRN_BINARY_DIR) + "/src/cli/cairn"; }

struct CairnRun {
  int status = -1;
  std::string out;  // stdout
  std::string err;  // stderr
};

inline std::string ReadWholeFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Runs `cairn ARGS` (a shell fragment) and returns its exit status, stdout and stderr.
inline CairnRun Cairn(const std::string& args) {
  static int counter = 0;
  const std::string err_path =
      "/tmp/cairn_cli_err_" + std::to_string(::getpid()) + "_" + std::to_string(counter++);
  auto r = RunCommand("{ " + CairnBinary() + " " + args + " 2>" + err_path + "; }");
  CairnRun out{r.status, r.output, ReadWholeFile(err_path)};
  std::remove(err_path.c_str());
  return out;
}

// The .json.gz files under `dir`, sorted.
inline std::vector<std::string> GzFiles(const std::string& dir) {
  std::vector<std::string> files;
  for (const auto& e : std::filesystem::recursive_directory_iterator(dir)) {
    if (e.path().extension() == ".gz") files.push_back(e.path().string());
  }
  std::sort(files.begin(), files.end());
  return files;
}

struct ListedSegment {
  std::string path;
  int64_t partition = 0;  // UTC day number
  uint64_t events = 0;
};

// The segments the MANIFEST of `index` lists.
inline std::vector<ListedSegment> ListedSegments(const std::string& data,
                                                 const std::string& index) {
  const std::string dir = data + "/indexes/" + index;
  std::istringstream in(ReadWholeFile(dir + "/MANIFEST"));
  std::vector<ListedSegment> out;
  std::string line;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string kind, seq, file;
    int64_t partition = 0;
    uint64_t events = 0;
    if (words >> kind >> seq >> file >> partition >> events && kind == "segment") {
      out.push_back(ListedSegment{dir + "/" + file, partition, events});
    }
  }
  return out;
}

}  // namespace cairn::testing
