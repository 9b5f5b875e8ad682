#include "collect/fault_proxy.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <chrono>
#include <cstring>

namespace cairn::testing {
namespace {

bool SendAll(int fd, const std::string& s) {
  size_t done = 0;
  while (done < s.size()) {
    ssize_t n = ::send(fd, s.data() + done, s.size() - done, MSG_NOSIGNAL);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

// Reads one HTTP message (headers + Content-Length body) or, when `to_eof`, until EOF.
std::string ReadMessage(int fd, bool to_eof) {
  std::string buf;
  char tmp[65536];
  size_t need = std::string::npos;
  while (true) {
    if (!to_eof && need == std::string::npos) {
      size_t end = buf.find("\r\n\r\n");
      if (end != std::string::npos) {
        size_t len = 0;
        std::string head = buf.substr(0, end);
        for (auto& c : head) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        size_t cl = head.find("content-length:");
        if (cl != std::string::npos) len = std::stoul(head.substr(cl + 15));
        need = end + 4 + len;
      }
    }
    if (need != std::string::npos && buf.size() >= need) return buf;
    ssize_t n = ::recv(fd, tmp, sizeof(tmp), 0);
    if (n <= 0) return buf;
    buf.append(tmp, static_cast<size_t>(n));
  }
}

}  // namespace

FaultProxy::FaultProxy(int upstream_port, int slow_ms) : upstream_port_(upstream_port), slow_ms_(slow_ms) {
  listen_fd_ = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  ::bind(listen_fd_, reinterpret_cast<sockaddr*>(&a), sizeof(a));
  ::listen(listen_fd_, 64);
  socklen_t len = sizeof(a);
  ::getsockname(listen_fd_, reinterpret_cast<sockaddr*>(&a), &len);
  port_ = ntohs(a.sin_port);
  thread_ = std::thread([this] { Loop(); });
}

FaultProxy::~FaultProxy() {
  stop_ = true;
  thread_.join();
  for (auto& t : handlers_) t.join();
  ::close(listen_fd_);
}

void FaultProxy::Loop() {
  while (!stop_) {
    pollfd p{listen_fd_, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0) continue;
    int c = ::accept(listen_fd_, nullptr, nullptr);
    if (c >= 0) handlers_.emplace_back([this, c] { Handle(c); });
  }
}

void FaultProxy::Handle(int fd) {
  std::string req = ReadMessage(fd, false);
  if (req.empty()) {
    ::close(fd);
    return;
  }
  // Force one request per upstream connection.
  size_t eol = req.find("\r\n");
  std::string line = req.substr(0, eol);
  size_t end = req.find("\r\n\r\n");
  std::string head = req.substr(0, end);
  std::string body = req.substr(end + 4);
  std::string out_head;
  size_t pos = 0;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    if (e == std::string::npos) e = head.size();
    std::string h = head.substr(pos, e - pos);
    std::string lower = h;
    for (auto& ch : lower) ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    if (lower.rfind("connection:", 0) != 0) out_head += h + "\r\n";
    pos = e + 2;
  }
  out_head += "Connection: close\r\n\r\n";
  const bool object_get = line.rfind("GET ", 0) == 0 && line.find("/AWSLogs/") != std::string::npos &&
                          line.find("list-type") == std::string::npos;
  int fault = object_get ? counter_++ % 7 : 6;
  if (fault < 5) faults_++;
  if (fault == 0 || fault == 1) {
    std::string xml = fault == 0 ? "<Error><Code>SlowDown</Code><Message>Please reduce your request rate.</Message></Error>"
                                 : "<Error><Code>InternalError</Code><Message>We encountered an internal error.</Message></Error>";
    SendAll(fd, std::string(fault == 0 ? "HTTP/1.1 503 Slow Down" : "HTTP/1.1 500 Internal Server Error") +
                    "\r\nContent-Type: application/xml\r\nContent-Length: " + std::to_string(xml.size()) +
                    "\r\nConnection: close\r\n\r\n" + xml);
    ::close(fd);
    return;
  }
  if (fault == 2) {  // reset
    linger l{1, 0};
    ::setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
    ::close(fd);
    return;
  }
  int up = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(upstream_port_));
  ::inet_pton(AF_INET, "127.0.0.1", &a.sin_addr);
  if (::connect(up, reinterpret_cast<sockaddr*>(&a), sizeof(a)) != 0 || !SendAll(up, out_head + body)) {
    ::close(up);
    ::close(fd);
    return;
  }
  std::string resp = ReadMessage(up, true);
  ::close(up);
  if (fault == 3) {  // truncated body: full headers, half the bytes, close
    size_t hend = resp.find("\r\n\r\n");
    if (hend != std::string::npos) resp = resp.substr(0, hend + 4 + (resp.size() - hend - 4) / 2);
  } else if (fault == 4) {  // slower than the visibility timeout
    std::this_thread::sleep_for(std::chrono::milliseconds(slow_ms_));
  }
  SendAll(fd, resp);
  ::close(fd);
}

}  // namespace cairn::testing
