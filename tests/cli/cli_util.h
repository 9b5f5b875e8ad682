#pragma once
// Helpers for the tests that run the real `cairn` binary: running it with its stdout and stderr
// apart, generated logs, and the segments a data folder's manifest lists.

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <random>
#include <regex>
#include <sstream>
#include <string>
#include <thread>
#include <utility>
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
// Thread-safe.
inline CairnRun Cairn(const std::string& args) {
  static std::atomic<int> counter{0};
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

// A cairn process started in the background, with its stdout and stderr going to files.
class CairnProcess {
 public:
  CairnProcess(const std::vector<std::string>& args, const std::string& log_prefix,
               const std::vector<std::pair<std::string, std::string>>& env = {})
      : out_path_(log_prefix + ".out"), err_path_(log_prefix + ".err") {
    std::vector<std::string> argv_text = {CairnBinary()};
    argv_text.insert(argv_text.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& a : argv_text) argv.push_back(a.data());
    argv.push_back(nullptr);
    pid_ = ::fork();
    if (pid_ == 0) {
      for (const auto& [k, v] : env) ::setenv(k.c_str(), v.c_str(), 1);
      int out = ::open(out_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      int err = ::open(err_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(out, 1);
      ::dup2(err, 2);
      ::execv(argv[0], argv.data());
      ::_exit(127);
    }
  }
  ~CairnProcess() {
    if (pid_ > 0 && !waited_) {
      ::kill(pid_, SIGKILL);
      Wait();
    }
  }
  CairnProcess(const CairnProcess&) = delete;
  CairnProcess& operator=(const CairnProcess&) = delete;

  pid_t pid() const { return pid_; }
  // Waits for the exit; the exit status, or -signal when a signal ended it.
  int Wait() {
    if (waited_) return status_;
    int st = 0;
    ::waitpid(pid_, &st, 0);
    waited_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return status_;
  }
  // Whether it is still running (reaps it when not).
  bool Running() {
    if (waited_) return false;
    int st = 0;
    pid_t r = ::waitpid(pid_, &st, WNOHANG);
    if (r == 0) return true;
    waited_ = true;
    status_ = WIFEXITED(st) ? WEXITSTATUS(st) : -WTERMSIG(st);
    return false;
  }
  void Kill9() { ::kill(pid_, SIGKILL); }
  std::string out() const { return ReadWholeFile(out_path_); }
  std::string err() const { return ReadWholeFile(err_path_); }

 private:
  std::string out_path_, err_path_;
  pid_t pid_ = -1;
  bool waited_ = false;
  int status_ = -1;
};

// Runs `cairn search 'index=* | stats count, dc(eventID)'` over a data folder back to back (with
// a seeded pause of 0-20 ms between runs) on its own thread until Stop(), and checks every run
// as a reader beside a writer must behave: exit 0 with each stored event counted once (count ==
// distinct eventIDs), never more than `total`, never fewer than a run before saw; or, only
// before the first commit made the data folder, "does not exist" (exit 2).
class SearchLoop {
 public:
  SearchLoop(std::string data, uint64_t total, uint32_t seed)
      : data_(std::move(data)), total_(total), rng_(seed) {
    thread_ = std::thread([this] { Loop(); });
  }
  ~SearchLoop() { Stop(); }
  // Stops once a run has answered (for at most 20 s more), so a loop whose writer was quick still
  // checks one answer.
  void Stop() {
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    while (answered_ == 0 && thread_.joinable() && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
    stop_ = true;
    if (thread_.joinable()) thread_.join();
  }
  int runs() const { return runs_; }
  int answered() const { return answered_; }
  // Every run that broke the rules above, with what it printed.
  std::vector<std::string> problems() {
    std::lock_guard<std::mutex> lock(mu_);
    return problems_;
  }

 private:
  void Loop() {
    static const std::regex kCounts("count,dc\\(eventID\\)\n([0-9]+),([0-9]+)\n");
    uint64_t last = 0;
    while (!stop_) {
      CairnRun r =
          Cairn("--data " + data_ + " search --format csv 'index=* | stats count, dc(eventID)'");
      ++runs_;
      std::smatch m;
      std::string problem;
      if (r.status == 0 && std::regex_match(r.out, m, kCounts)) {
        uint64_t count = std::stoull(m[1].str()), distinct = std::stoull(m[2].str());
        if (count != distinct) problem = "an event counted twice";
        if (count > total_) problem = "more events than ingested";
        if (count < last) problem = "fewer events than an earlier search saw";
        last = count;
        ++answered_;
      } else if (!(r.status == 2 && answered_ == 0 &&
                   r.err.find("does not exist") != std::string::npos)) {
        problem = "search failed";
      }
      if (!problem.empty()) {
        std::lock_guard<std::mutex> lock(mu_);
        problems_.push_back(problem + " (exit " + std::to_string(r.status) + "): " + r.out + r.err);
      }
      std::this_thread::sleep_for(
          std::chrono::milliseconds(std::uniform_int_distribution<int>(0, 20)(rng_)));
    }
  }

  std::string data_;
  uint64_t total_;
  std::mt19937 rng_;
  std::atomic<bool> stop_{false};
  std::atomic<int> runs_{0}, answered_{0};
  std::mutex mu_;
  std::vector<std::string> problems_;
  std::thread thread_;
};

// `stats count, dc(eventID)` over everything in `data`, as "count,distinct" ("" on failure).
inline std::string CountAndDistinct(const std::string& data) {
  CairnRun r =
      Cairn("--data " + data + " search --format csv 'index=* | stats count, dc(eventID)'");
  if (r.status != 0 || r.out.rfind("count,dc(eventID)\n", 0) != 0) return "";
  std::string line = r.out.substr(std::string("count,dc(eventID)\n").size());
  if (!line.empty() && line.back() == '\n') line.pop_back();
  return line;
}

}  // namespace cairn::testing
