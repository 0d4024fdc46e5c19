#include <list>
#include <mutex>
#include <stdexcept>
#include <thread>

#include <spdlog/spdlog.h>

#include "net/asio.h"
#include "net/http.h"
#include "net/http_session.h"
#include "net/server_context.h"

namespace net {
namespace {

// After a failed accept (e.g. out of file descriptors) wait a little instead of spinning.
constexpr auto kAcceptRetryDelay = std::chrono::milliseconds(100);

}  // namespace

struct Server::Impl {
  Impl(Router router, ServerOptions options) : context(std::move(router), std::move(options)) {}

  void accept();
  void on_accept(beast::error_code ec, tcp::socket socket);
  void run_io();

  // Declared before the io_context: destroying it destroys pending handlers, which refer to these.
  ServerContext context;
  std::mutex sessions_mutex;
  std::list<std::weak_ptr<Session>> sessions;

  asio::io_context io;
  // Keeps the I/O threads running while a handler works on a connection with no pending operation.
  asio::executor_work_guard<asio::io_context::executor_type> work{io.get_executor()};
  tcp::acceptor acceptor{asio::make_strand(io)};
  asio::steady_timer accept_retry{acceptor.get_executor()};
  std::vector<std::thread> io_threads;
  uint16_t port = 0;
  bool started = false;
};

void Server::Impl::accept() {
  acceptor.async_accept(asio::make_strand(io), [this](beast::error_code ec, tcp::socket socket) {
    on_accept(ec, std::move(socket));
  });
}

void Server::Impl::on_accept(beast::error_code ec, tcp::socket socket) {
  if (context.stopping()) return;
  if (ec) {
    spdlog::warn("{}: accept failed: {}", context.options().name, ec.message());
    accept_retry.expires_after(kAcceptRetryDelay);
    accept_retry.async_wait([this](beast::error_code ec) {
      if (!ec && !context.stopping()) accept();
    });
    return;
  }
  auto session = std::make_shared<Session>(std::move(socket), context);
  {
    std::lock_guard lock(sessions_mutex);
    sessions.remove_if([](const std::weak_ptr<Session>& weak) { return weak.expired(); });
    sessions.push_back(session);
  }
  session->start();
  accept();
}

void Server::Impl::run_io() {
  while (true) {
    try {
      io.run();
      return;
    } catch (const std::exception& e) {
      spdlog::error("{}: I/O thread caught: {}", context.options().name, e.what());
    }
  }
}

Server::Server(Router router, ServerOptions options)
    : impl_(std::make_unique<Impl>(std::move(router), std::move(options))) {}

Server::~Server() {
  stop();
}

void Server::start() {
  Impl& s = *impl_;
  if (s.started) throw std::logic_error("server " + s.context.options().name + " already started");
  const ServerOptions& options = s.context.options();
  try {
    tcp::resolver resolver(s.io);
    tcp::endpoint endpoint =
        resolver.resolve(options.address, std::to_string(options.port), tcp::resolver::passive)->endpoint();
    s.acceptor.open(endpoint.protocol());
    s.acceptor.set_option(asio::socket_base::reuse_address(true));
    s.acceptor.bind(endpoint);
    s.acceptor.listen(asio::socket_base::max_listen_connections);
    s.port = s.acceptor.local_endpoint().port();
  } catch (const boost::system::system_error& e) {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    throw std::runtime_error("cannot listen on " + options.address + ":" + std::to_string(options.port) +
                             ": " + e.code().message());
  }
  s.started = true;
  s.accept();
  for (unsigned i = 0; i < std::max(options.threads, 1u); ++i) {
    s.io_threads.emplace_back([&s] { s.run_io(); });
  }
  spdlog::info("{}: listening on {}:{}", options.name, options.address, s.port);
}

void Server::stop(std::chrono::milliseconds grace) {
  Impl& s = *impl_;
  if (!s.started || s.context.stopping()) return;
  // From here on streams see closed() and new requests are refused.
  s.context.begin_stop();
  asio::post(s.acceptor.get_executor(), [&s] {
    beast::error_code ignored;
    s.acceptor.close(ignored);
    s.accept_retry.cancel();
  });
  s.context.wait_for_requests(grace);
  {
    std::lock_guard lock(s.sessions_mutex);
    for (const std::weak_ptr<Session>& weak : s.sessions) {
      if (auto session = weak.lock()) session->close();
    }
    s.sessions.clear();
  }
  // The I/O threads keep running until the handler threads are joined, so blocked stream writes complete.
  s.context.pool().join();
  s.work.reset();
  s.io.stop();
  for (std::thread& thread : s.io_threads) thread.join();
  s.io_threads.clear();
  spdlog::info("{}: stopped", s.context.options().name);
}

uint16_t Server::port() const {
  return impl_->port;
}

}  // namespace net
