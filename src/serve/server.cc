#include "serve/server.h"

#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <chrono>
#include <condition_variable>
#include <cstring>
#include <list>
#include <map>
#include <mutex>
#include <thread>

#include "common/log.h"

namespace cairn::serve {

namespace net = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using tcp = net::ip::tcp;

namespace {

int64_t SteadyMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// A connection the watchdog looks after.
struct Conn {
  int fd = -1;
  std::atomic<int64_t> deadline_ms{0};  // 0: none (a handler is running)
  std::atomic<bool> idle{false};        // waiting for (the rest of) a request
  std::atomic<bool> shut{false};
};

}  // namespace

struct HttpServer::Impl {
  ServerOptions opt;
  const Router* router = nullptr;
  ServerStats stats;
  net::io_context ioc;
  std::unique_ptr<tcp::acceptor> acceptor;
  std::unique_ptr<net::ssl::context> ssl;
  int port = 0;
  std::thread accept_thread;
  std::thread watchdog;
  std::mutex mu;
  std::condition_variable cv;
  std::map<uint64_t, std::shared_ptr<Conn>> conns;
  uint64_t next_id = 0;
  std::list<std::pair<std::thread, std::shared_ptr<std::atomic<bool>>>> threads;
  std::atomic<bool> stopping{false};
  std::atomic<bool> cut_all{false};
  std::atomic<bool> watchdog_stop{false};
  bool stopped = false;

  void Shut(Conn& c) {
    if (!c.shut.exchange(true)) ::shutdown(c.fd, SHUT_RDWR);
  }

  void Watchdog() {
    while (!watchdog_stop.load()) {
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
      const int64_t now = SteadyMs();
      std::lock_guard<std::mutex> l(mu);
      for (auto& [id, c] : conns) {
        const int64_t d = c->deadline_ms.load();
        if (cut_all.load() || (stopping.load() && c->idle.load())) {
          Shut(*c);
        } else if (d > 0 && now > d) {
          stats.bad_requests++;
          Shut(*c);
        }
      }
    }
  }

  void ReapThreads() {
    for (auto it = threads.begin(); it != threads.end();) {
      if (it->second->load()) {
        it->first.join();
        it = threads.erase(it);
      } else {
        ++it;
      }
    }
  }

  void AcceptLoop() {
    const int fd = acceptor->native_handle();
    while (!stopping.load()) {
      pollfd p{fd, POLLIN, 0};
      int r = ::poll(&p, 1, 200);
      ReapThreads();
      if (r <= 0) continue;
      beast::error_code ec;
      tcp::socket sock(ioc);
      acceptor->accept(sock, ec);
      if (ec) continue;
      stats.connections++;
      size_t active;
      {
        std::lock_guard<std::mutex> l(mu);
        active = conns.size();
      }
      if (active >= static_cast<size_t>(opt.max_connections)) {
        // Over the limit: a short 503 (plain HTTP only; a TLS client just sees the close).
        stats.connections_refused++;
        if (!ssl) {
          static const std::string kBusy =
              "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain\r\nContent-Length: "
              "20\r\n"
              "Connection: close\r\n\r\ntoo many connections";
          sock.non_blocking(true, ec);
          net::write(sock, net::buffer(kBusy), ec);
        }
        sock.close(ec);
        continue;
      }
      auto conn = std::make_shared<Conn>();
      conn->fd = sock.native_handle();
      uint64_t id;
      {
        std::lock_guard<std::mutex> l(mu);
        id = next_id++;
        conns[id] = conn;
      }
      auto done = std::make_shared<std::atomic<bool>>(false);
      threads.emplace_back(std::thread([this, id, conn, done, s = std::move(sock)]() mutable {
                             Connection(std::move(s), *conn);
                             {
                               std::lock_guard<std::mutex> l(mu);
                               conns.erase(id);
                             }
                             cv.notify_all();
                             done->store(true);
                           }),
                           done);
    }
  }

  void Connection(tcp::socket sock, Conn& c) {
    beast::error_code ec;
    std::string remote;
    auto ep = sock.remote_endpoint(ec);
    if (!ec) remote = ep.address().to_string() + ":" + std::to_string(ep.port());
    sock.set_option(tcp::no_delay(true), ec);
    if (ssl) {
      net::ssl::stream<tcp::socket> stream(std::move(sock), *ssl);
      c.idle = true;
      c.deadline_ms = SteadyMs() + opt.read_timeout_ms;
      stream.handshake(net::ssl::stream_base::server, ec);
      if (ec) {
        log::Debug("serve: TLS handshake with {} failed: {}", remote, ec.message());
        stats.bad_requests++;
        return;
      }
      Serve(stream, c, remote, true);
      c.deadline_ms = SteadyMs() + 1000;
      stream.shutdown(ec);
    } else {
      Serve(sock, c, remote, false);
      // A lingering close: the client may still be sending (a body refused as too large); reading
      // what it sends for a moment lets it see the response instead of a reset.
      sock.shutdown(tcp::socket::shutdown_send, ec);
      c.deadline_ms = SteadyMs() + 1000;
      char discard[16384];
      size_t drained = 0;
      while (!ec && drained < (8u << 20) && !c.shut.load()) {
        drained += sock.read_some(net::buffer(discard), ec);
      }
    }
  }

  template <class Stream>
  void WriteError(Stream& stream, Conn& c, int status, const std::string& text) {
    http::response<http::string_body> r{static_cast<http::status>(status), 11};
    r.set(http::field::server, "cairn");
    r.set(http::field::content_type, "text/xml; charset=utf-8");
    r.set(http::field::connection, "close");
    r.body() =
        "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n<response>\n  <messages>\n    <msg "
        "type=\"ERROR\">" +
        XmlEscape(text) + "</msg>\n  </messages>\n</response>\n";
    r.prepare_payload();
    c.deadline_ms = SteadyMs() + opt.write_timeout_ms;
    beast::error_code ec;
    http::write(stream, r, ec);
    stats.bad_requests++;
    stats.responses_4xx++;
  }

  template <class Stream>
  void Serve(Stream& stream, Conn& c, const std::string& remote, bool tls) {
    beast::flat_buffer buf;
    for (;;) {
      if (stopping.load()) return;
      c.idle = true;
      c.deadline_ms = SteadyMs() + opt.read_timeout_ms;
      http::request_parser<http::string_body> parser;
      parser.header_limit(static_cast<uint32_t>(opt.max_header_bytes));
      parser.body_limit(opt.max_body_bytes);
      beast::error_code ec;
      http::read_header(stream, buf, parser, ec);
      if (!ec && !parser.is_done()) {
        // A client that waits for "100 Continue" before sending its body (curl does above 1 KiB)
        // gets it now, after the headers (and the declared length) passed the limits.
        auto expect = parser.get()[http::field::expect];
        if (beast::iequals(expect, "100-continue")) {
          http::response<http::empty_body> cont{http::status::continue_, parser.get().version()};
          http::write(stream, cont, ec);
        }
        if (!ec) http::read(stream, buf, parser, ec);
      }
      c.idle = false;
      if (ec == http::error::end_of_stream || ec == net::error::eof ||
          ec == net::error::connection_reset || ec == net::ssl::error::stream_truncated ||
          c.shut.load()) {
        return;
      }
      if (ec == http::error::header_limit) {
        WriteError(stream, c, 431, "Request headers too large");
        return;
      }
      if (ec == http::error::body_limit) {
        WriteError(stream, c, 413, "Request body too large");
        return;
      }
      if (ec) {
        WriteError(stream, c, 400, "Malformed HTTP request");
        return;
      }
      const auto t0 = std::chrono::steady_clock::now();
      stats.requests++;
      auto& m = parser.get();
      Request req;
      req.method = std::string(m.method_string());
      req.target = std::string(m.target());
      req.remote = remote;
      req.tls = tls;
      const size_t q = req.target.find('?');
      const std::string raw_path = req.target.substr(0, q);
      if (q != std::string::npos &&
          !ParseUrlEncoded(std::string_view(req.target).substr(q + 1), &req.query)) {
        WriteError(stream, c, 400, "Malformed query string");
        return;
      }
      if (!Router::NormalizePath(raw_path, &req)) {
        WriteError(stream, c, 400, "Malformed path");
        return;
      }
      for (const auto& f : m)
        req.headers[Lower(std::string(f.name_string()))] = std::string(f.value());
      req.body = std::move(m.body());
      const std::string type = Lower(req.Header("content-type"));
      // Form parameters from the body, as Splunk's REST API takes them; a body of another type
      // (JSON sent to the event collector under any content type) is left to its handler.
      if (!req.body.empty() && req.path.rfind("/services/collector", 0) != 0 &&
          (type.empty() || type.rfind("application/x-www-form-urlencoded", 0) == 0)) {
        if (!ParseUrlEncoded(req.body, &req.form)) {
          WriteError(stream, c, 400, "Malformed form body");
          return;
        }
      }
      c.deadline_ms = 0;  // the handler may take as long as it needs (a blocking search)
      Response res = router->Dispatch(req);
      const bool keep_alive = m.keep_alive() && !stopping.load();
      const unsigned version = m.version();
      if (res.stream && version < 11) {
        // HTTP/1.0 has no chunks: the whole body, then the connection closes.
        res.stream([&](std::string_view piece) {
          res.body.append(piece);
          return true;
        });
        res.stream = nullptr;
      }
      auto set_common = [&](auto& r) {
        r.set(http::field::server, "cairn");
        r.set(http::field::content_type, res.content_type);
        r.set(http::field::cache_control, "no-store");
        r.set("X-Content-Type-Options", "nosniff");
        for (const auto& [k, v] : res.headers) r.insert(k, v);
        r.keep_alive(keep_alive && (version >= 11 || !res.stream));
      };
      bool ok = true;
      if (res.stream) {
        http::response<http::empty_body> r{static_cast<http::status>(res.status), version};
        set_common(r);
        r.chunked(true);
        http::response_serializer<http::empty_body> sr{r};
        c.deadline_ms = SteadyMs() + opt.write_timeout_ms;
        http::write_header(stream, sr, ec);
        if (!ec) {
          res.stream([&](std::string_view piece) {
            if (piece.empty()) return true;
            c.deadline_ms = SteadyMs() + opt.write_timeout_ms;
            net::write(stream, http::make_chunk(net::const_buffer(piece.data(), piece.size())), ec);
            // Between pieces the producer may take as long as it needs (an export's search).
            c.deadline_ms = 0;
            return !ec;
          });
        }
        if (!ec) {
          c.deadline_ms = SteadyMs() + opt.write_timeout_ms;
          net::write(stream, http::make_chunk_last(), ec);
        }
        ok = !ec;
      } else {
        http::response<http::string_body> r{static_cast<http::status>(res.status), version};
        set_common(r);
        r.body() = std::move(res.body);
        r.prepare_payload();
        c.deadline_ms = SteadyMs() + opt.write_timeout_ms;
        http::write(stream, r, ec);
        ok = !ec;
      }
      const auto us = std::chrono::duration_cast<std::chrono::microseconds>(
          std::chrono::steady_clock::now() - t0);
      stats.latency_us_sum += static_cast<uint64_t>(us.count());
      stats.ObserveLatency(static_cast<double>(us.count()) / 1e6);
      if (res.status < 300) {
        stats.responses_2xx++;
      } else if (res.status < 500) {
        stats.responses_4xx++;
      } else {
        stats.responses_5xx++;
      }
      log::Debug("serve: {} {} {} {} {} us", remote, req.method, req.path, res.status, us.count());
      if (!ok || !keep_alive) return;
    }
  }
};

Result<std::unique_ptr<HttpServer>> HttpServer::Start(const ServerOptions& options,
                                                      const Router* router) {
  std::unique_ptr<HttpServer> server(new HttpServer());
  server->impl_ = std::make_unique<Impl>();
  Impl& impl = *server->impl_;
  impl.opt = options;
  impl.router = router;
  beast::error_code ec;
  if (!options.tls_cert.empty() || !options.tls_key.empty()) {
    if (options.tls_cert.empty() || options.tls_key.empty()) {
      return InvalidArgument("TLS needs both a certificate and a key file");
    }
    for (const std::string* f : {&options.tls_cert, &options.tls_key}) {
      if (::access(f->c_str(), R_OK) != 0) {
        return InvalidArgument("TLS file {}: {}", *f, std::strerror(errno));
      }
    }
    impl.ssl = std::make_unique<net::ssl::context>(net::ssl::context::tls_server);
    impl.ssl->set_options(net::ssl::context::default_workarounds | net::ssl::context::no_sslv2 |
                          net::ssl::context::no_sslv3 | net::ssl::context::no_tlsv1 |
                          net::ssl::context::no_tlsv1_1 | net::ssl::context::single_dh_use);
    impl.ssl->use_certificate_chain_file(options.tls_cert, ec);
    if (ec)
      return InvalidArgument("TLS certificate {}: not a PEM certificate chain ({})",
                             options.tls_cert, ec.message());
    impl.ssl->use_private_key_file(options.tls_key, net::ssl::context::pem, ec);
    if (ec)
      return InvalidArgument("TLS key {}: not a PEM private key matching the certificate ({})",
                             options.tls_key, ec.message());
  }
  auto address = net::ip::make_address(options.bind, ec);
  if (ec) return InvalidArgument("bind address \"{}\": {}", options.bind, ec.message());
  if (options.port < 0 || options.port > 65535)
    return InvalidArgument("port {} is out of range", options.port);
  tcp::endpoint ep(address, static_cast<unsigned short>(options.port));
  impl.acceptor = std::make_unique<tcp::acceptor>(impl.ioc);
  impl.acceptor->open(ep.protocol(), ec);
  if (!ec) impl.acceptor->set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) impl.acceptor->bind(ep, ec);
  if (!ec) impl.acceptor->listen(net::socket_base::max_listen_connections, ec);
  if (ec)
    return Unavailable("cannot listen on {}:{}: {}", options.bind, options.port, ec.message());
  impl.port = impl.acceptor->local_endpoint().port();
  impl.watchdog = std::thread([&impl] { impl.Watchdog(); });
  impl.accept_thread = std::thread([&impl] { impl.AcceptLoop(); });
  return server;
}

HttpServer::~HttpServer() { Stop(); }

int HttpServer::port() const { return impl_->port; }
bool HttpServer::tls() const { return impl_->ssl != nullptr; }
const ServerStats& HttpServer::stats() const { return impl_->stats; }

void HttpServer::Stop() {
  if (!impl_ || impl_->stopped) return;
  Impl& impl = *impl_;
  impl.stopped = true;
  impl.stopping = true;
  if (impl.accept_thread.joinable()) impl.accept_thread.join();
  beast::error_code ec;
  if (impl.acceptor) impl.acceptor->close(ec);
  {
    std::unique_lock<std::mutex> l(impl.mu);
    impl.cv.wait_for(l, std::chrono::milliseconds(impl.opt.drain_ms),
                     [&] { return impl.conns.empty(); });
  }
  impl.cut_all = true;
  for (auto& [t, done] : impl.threads) t.join();
  impl.threads.clear();
  impl.watchdog_stop = true;
  if (impl.watchdog.joinable()) impl.watchdog.join();
}

}  // namespace cairn::serve
