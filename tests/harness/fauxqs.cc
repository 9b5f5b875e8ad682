#include "harness/fauxqs.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstdlib>
#include <cstring>
#include <thread>

namespace cairn::testing {

namespace {

bool FileExists(const std::string& p) { return ::access(p.c_str(), R_OK) == 0; }

std::string FindNode() {
  const char* path = std::getenv("PATH");
  std::string p = path ? path : "/usr/bin:/bin";
  size_t start = 0;
  while (start <= p.size()) {
    size_t end = p.find(':', start);
    if (end == std::string::npos) end = p.size();
    std::string candidate = p.substr(start, end - start) + "/node";
    if (::access(candidate.c_str(), X_OK) == 0) return candidate;
    start = end + 1;
  }
  return {};
}

// One HTTP GET /health on loopback; true on a 200.
bool Healthy(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return false;
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(static_cast<uint16_t>(port));
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) == 0) {
    std::string req = "GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
    if (::send(fd, req.data(), req.size(), MSG_NOSIGNAL) == static_cast<ssize_t>(req.size())) {
      char buf[256];
      pollfd p{fd, POLLIN, 0};
      if (::poll(&p, 1, 2000) > 0) {
        ssize_t n = ::recv(fd, buf, sizeof(buf) - 1, 0);
        if (n > 0) {
          buf[n] = 0;
          ok = std::strstr(buf, " 200 ") != nullptr;
        }
      }
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

std::string RepositoryRoot() {
  if (const char* env = std::getenv("CAIRN_REPO_ROOT")) return env;
#ifdef CAIRN_SOURCE_DIR
  return CAIRN_SOURCE_DIR;
#else
  return ".";
#endif
}

std::string FauxqsUnavailableReason() {
  if (FindNode().empty()) return "node is not on PATH";
  std::string pkg = RepositoryRoot() + "/node_modules/fauxqs/package.json";
  if (!FileExists(pkg)) return pkg + " is missing";
  if (!FileExists(RepositoryRoot() + "/tests/harness/fauxqs_server.mjs")) return "tests/harness/fauxqs_server.mjs is missing";
  return {};
}

Result<std::unique_ptr<FauxqsServer>> FauxqsServer::Start(const std::string& default_region) {
  std::string why = FauxqsUnavailableReason();
  if (!why.empty()) return Unavailable("cannot start fauxqs: {}", why);
  std::string node = FindNode();
  std::string root = RepositoryRoot();
  std::string script = root + "/tests/harness/fauxqs_server.mjs";
  int out_pipe[2];
  int in_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0 || ::pipe2(in_pipe, O_CLOEXEC) != 0) {
    return IOError("pipe: {}", std::strerror(errno));
  }
  pid_t parent = ::getpid();
  pid_t pid = ::fork();
  if (pid < 0) return IOError("fork: {}", std::strerror(errno));
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent) _exit(1);
    ::dup2(in_pipe[0], 0);
    ::dup2(out_pipe[1], 1);
    if (::chdir(root.c_str()) != 0) _exit(1);
    ::setenv("FAUXQS_DEFAULT_REGION", default_region.c_str(), 1);
    ::execl(node.c_str(), node.c_str(), script.c_str(), static_cast<char*>(nullptr));
    _exit(127);
  }
  ::close(out_pipe[1]);
  ::close(in_pipe[0]);
  std::unique_ptr<FauxqsServer> server(new FauxqsServer());
  server->pid_ = pid;
  server->stdin_fd_ = in_pipe[1];
  // Read "FAUXQS_LISTENING <port>" within 30 s.
  std::string line;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (line.find('\n') == std::string::npos) {
    int left = static_cast<int>(std::chrono::duration_cast<std::chrono::milliseconds>(
                                    deadline - std::chrono::steady_clock::now()).count());
    if (left <= 0) break;
    pollfd p{out_pipe[0], POLLIN, 0};
    if (::poll(&p, 1, left) <= 0) break;
    char buf[256];
    ssize_t n = ::read(out_pipe[0], buf, sizeof(buf));
    if (n <= 0) break;
    line.append(buf, static_cast<size_t>(n));
  }
  ::close(out_pipe[0]);
  const std::string marker = "FAUXQS_LISTENING ";
  size_t at = line.find(marker);
  if (at == std::string::npos) {
    return Unavailable("fauxqs did not start (output: '{}')", line.substr(0, 200));
  }
  server->port_ = std::atoi(line.c_str() + at + marker.size());
  for (int i = 0; i < 100; ++i) {
    if (Healthy(server->port_)) return server;
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  return Unavailable("fauxqs on port {} never answered /health", server->port_);
}

void FauxqsServer::Stop() {
  if (pid_ <= 0) return;
  if (stdin_fd_ >= 0) ::close(stdin_fd_);
  stdin_fd_ = -1;
  ::kill(pid_, SIGTERM);
  for (int i = 0; i < 50; ++i) {
    if (::waitpid(pid_, nullptr, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  ::kill(pid_, SIGKILL);
  ::waitpid(pid_, nullptr, 0);
  pid_ = -1;
}

FauxqsServer::~FauxqsServer() { Stop(); }

FauxqsServer* FauxqsSuite::server_ = nullptr;
std::string* FauxqsSuite::start_error_ = nullptr;

void FauxqsSuite::SetUpTestSuite() {
  if (!FauxqsUnavailableReason().empty()) return;
  auto s = FauxqsServer::Start("us-west-2");
  if (s.ok()) {
    server_ = std::move(s).value().release();
  } else {
    start_error_ = new std::string(s.status().ToString());
  }
}

void FauxqsSuite::TearDownTestSuite() {
  delete server_;
  server_ = nullptr;
  delete start_error_;
  start_error_ = nullptr;
}

void FauxqsSuite::SetUp() {
  if (start_error_ != nullptr) FAIL() << "fauxqs did not start: " << *start_error_;
}

}  // namespace cairn::testing
