#include "node/abci/server.h"

#include <array>
#include <atomic>
#include <map>
#include <mutex>
#include <stdexcept>
#include <thread>
#include <vector>

#include <sys/stat.h>
#include <unistd.h>

#include <spdlog/spdlog.h>

#include "abci/types.pb.h"
#include "common/bytes.h"
#include "net/asio.h"

namespace node::abci {

namespace ab = tendermint::abci;
namespace asio = net::asio;
using tcp = net::tcp;
using unix_stream = asio::local::stream_protocol;
using error_code = boost::system::error_code;

std::optional<ListenAddress> parse_listen_address(const std::string& address, std::string& error) {
  ListenAddress out;
  std::string rest = address;
  if (rest.rfind("unix://", 0) == 0) {
    out.kind = ListenAddress::Kind::kUnix;
    out.path = rest.substr(7);
    if (out.path.empty()) {
      error = "unix socket address without a path (expected unix:///path/to/app.sock)";
      return std::nullopt;
    }
    return out;
  }
  if (rest.rfind("tcp://", 0) == 0) rest = rest.substr(6);
  if (rest.find("://") != std::string::npos) {
    error = "unsupported scheme (expected tcp://host:port or unix:///path)";
    return std::nullopt;
  }
  auto colon = rest.rfind(':');
  if (colon == std::string::npos || colon == 0 || colon + 1 == rest.size()) {
    error = "expected host:port";
    return std::nullopt;
  }
  out.host = rest.substr(0, colon);
  if (out.host.size() > 2 && out.host.front() == '[' && out.host.back() == ']') {
    out.host = out.host.substr(1, out.host.size() - 2);
  }
  std::string port = rest.substr(colon + 1);
  if (port.size() > 5 || port.find_first_not_of("0123456789") != std::string::npos || std::stoul(port) > 65535) {
    error = "invalid port \"" + port + "\"";
    return std::nullopt;
  }
  out.port = static_cast<uint16_t>(std::stoul(port));
  return out;
}

namespace {

const char* connection_kind(ab::Request::ValueCase c) {
  switch (c) {
    case ab::Request::kInfo:
    case ab::Request::kQuery:
      return "query";
    case ab::Request::kListSnapshots:
    case ab::Request::kOfferSnapshot:
    case ab::Request::kLoadSnapshotChunk:
    case ab::Request::kApplySnapshotChunk:
      return "snapshot";
    case ab::Request::kCheckTx:
      return "mempool";
    case ab::Request::kInitChain:
    case ab::Request::kPrepareProposal:
    case ab::Request::kProcessProposal:
    case ab::Request::kExtendVote:
    case ab::Request::kVerifyVoteExtension:
    case ab::Request::kFinalizeBlock:
    case ab::Request::kCommit:
      return "consensus";
    default:
      return nullptr;
  }
}

class ConnectionBase {
 public:
  virtual ~ConnectionBase() = default;
  virtual void close() = 0;
};

// Everything the server and its connections share.
struct Core {
  Core(RequestHandler& h, ServerOptions o) : handler(h), options(std::move(o)) {}

  RequestHandler& handler;
  ServerOptions options;
  ListenAddress listen;
  asio::io_context io;
  std::optional<asio::executor_work_guard<asio::io_context::executor_type>> work;
  std::unique_ptr<tcp::acceptor> tcp_acceptor;
  std::unique_ptr<unix_stream::acceptor> unix_acceptor;
  std::vector<std::thread> threads;
  mutable std::mutex mu;
  std::map<uint64_t, std::weak_ptr<ConnectionBase>> connections;
  uint64_t next_id = 1;
  std::atomic<bool> running{false};
  std::atomic<bool> fatal_reported{false};

  void report_fatal(const std::string& reason) {
    if (fatal_reported.exchange(true)) return;
    if (options.on_fatal) options.on_fatal(reason);
  }
  void forget(uint64_t id) {
    std::lock_guard lock(mu);
    connections.erase(id);
  }
  template <class Socket>
  void adopt(Socket socket, const std::string& remote);
  void accept_tcp();
  void accept_unix();
};

template <class Socket>
class Connection final : public ConnectionBase, public std::enable_shared_from_this<Connection<Socket>> {
 public:
  Connection(Core& server, Socket socket, uint64_t id)
      : server_(server), socket_(std::move(socket)), reader_(server.options.max_frame_bytes), id_(id) {}

  void start() { read(); }

  void close() override {
    asio::post(socket_.get_executor(), [self = this->shared_from_this()] { self->shutdown(); });
  }

 private:
  std::string name() const { return "connection " + std::to_string(id_) + " (" + kind_ + ")"; }

  void shutdown() {
    error_code ignored;
    socket_.shutdown(Socket::shutdown_both, ignored);
    socket_.close(ignored);
  }

  void read() {
    socket_.async_read_some(asio::buffer(buffer_), [self = this->shared_from_this()](const error_code& ec,
                                                                                      std::size_t n) {
      self->on_read(ec, n);
    });
  }

  void on_read(const error_code& ec, std::size_t n) {
    if (ec) return ended(ec);
    reader_.feed(std::string_view(buffer_.data(), n));
    std::string frame;
    for (;;) {
      auto status = reader_.next(frame);
      if (status == FrameReader::Status::kNeedMore) break;
      if (status == FrameReader::Status::kError) return protocol_error(reader_.error());
      ab::Request request;
      if (!request.ParseFromString(frame)) {
        return protocol_error("a frame of " + std::to_string(frame.size()) +
                              " bytes is not an ABCI Request (starts with " +
                              common::to_hex(std::string_view(frame).substr(0, 16)) + ")");
      }
      if (request.value_case() == ab::Request::VALUE_NOT_SET) {
        return protocol_error("request of unknown type (frame starts with " +
                              common::to_hex(std::string_view(frame).substr(0, 16)) +
                              "); this server speaks ABCI 2.0 as in CometBFT v0.38");
      }
      ++requests_;
      if (kind_ == "?") {
        if (const char* k = connection_kind(request.value_case())) {
          kind_ = k;
          spdlog::debug("abci: connection {} is CometBFT's {} connection", id_, kind_);
        }
      }
      ab::Response response;
      if (request.has_flush()) {
        response.mutable_flush();  // everything before it is already queued in out_, in order
      } else {
        try {
          server_.handler.handle(request, response);
        } catch (const std::exception& e) {
          response.mutable_exception()->set_error(e.what());
        }
      }
      append_frame(out_, response.SerializeAsString());
      if (response.has_exception()) {
        fatal_ = response.exception().error();
        return write();
      }
    }
    // Responses go out as soon as the requests of this read are handled, without waiting for a Flush:
    // CometBFT's client reads them as they come, and its mempool connection only sends a Flush every
    // ~20 ms, which would otherwise hold every CheckTx answer (and broadcast_tx_sync) back.
    if (!out_.empty()) return write();
    read();
  }

  void write() {
    writing_.swap(out_);
    out_.clear();
    asio::async_write(socket_, asio::buffer(writing_),
                      [self = this->shared_from_this()](const error_code& ec, std::size_t) { self->on_write(ec); });
  }

  void on_write(const error_code& ec) {
    writing_.clear();
    if (ec) return ended(ec);
    if (!fatal_.empty()) {
      std::string reason = "the app failed on " + name() + ": " + fatal_;
      spdlog::error("abci: {}; sent an exception to CometBFT and closed the connection", reason);
      server_.report_fatal(reason);
      // Half-close and drain: closing outright with unread requests in the socket would send a reset, which
      // can destroy the exception response before CometBFT reads it.
      error_code ignored;
      socket_.shutdown(Socket::shutdown_send, ignored);
      return drain();
    }
    read();
  }

  void drain() {
    socket_.async_read_some(asio::buffer(buffer_), [self = this->shared_from_this()](const error_code& ec,
                                                                                      std::size_t) {
      if (!ec) return self->drain();
      self->shutdown();
      self->server_.forget(self->id_);
    });
  }

  // On one of CometBFT's connections (it already spoke ABCI) a broken stream is fatal: CometBFT stops when a
  // connection drops, so the node stops too and a supervisor restarts both. A connection that never sent a
  // valid request is not CometBFT (a port scan, a wrong client): it is closed and the node carries on.
  void protocol_error(const std::string& what) {
    std::string reason = "ABCI protocol error on " + name() + ": " + what;
    if (requests_ == 0) {
      spdlog::error("abci: {}; closing this connection (it never sent a valid ABCI request, so it is not "
                    "CometBFT's and the node keeps running)",
                    reason);
    } else {
      spdlog::error("abci: {}; closing the connection", reason);
      server_.report_fatal(reason);
    }
    shutdown();
    server_.forget(id_);
  }

  void ended(const error_code& ec) {
    server_.forget(id_);
    if (ec == asio::error::operation_aborted || !server_.running) return;
    if (ec == asio::error::eof || ec == asio::error::connection_reset || ec == asio::error::broken_pipe) {
      if (reader_.buffered() > 0) {
        spdlog::warn("abci: {} closed by CometBFT in the middle of a frame ({} bytes pending)", name(),
                     reader_.buffered());
      } else {
        spdlog::info("abci: {} closed by CometBFT", name());
      }
      return;
    }
    spdlog::warn("abci: {} failed: {}", name(), ec.message());
  }

  Core& server_;
  Socket socket_;
  FrameReader reader_;
  uint64_t id_;
  std::string kind_ = "?";
  uint64_t requests_ = 0;  // valid requests received
  std::array<char, 64 * 1024> buffer_{};
  std::string out_;      // responses not yet written
  std::string writing_;  // responses being written
  std::string fatal_;    // set once an exception response is queued
};

template <class Socket>
void Core::adopt(Socket socket, const std::string& remote) {
  std::shared_ptr<Connection<Socket>> conn;
  {
    std::lock_guard lock(mu);
    if (!running) return;
    uint64_t id = next_id++;
    conn = std::make_shared<Connection<Socket>>(*this, std::move(socket), id);
    connections.emplace(id, conn);
    spdlog::info("abci: connection {} opened from {}", id, remote);
  }
  conn->start();
}

void Core::accept_tcp() {
  tcp_acceptor->async_accept(asio::make_strand(io), [this](const error_code& ec, auto socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !running) return;
      spdlog::warn("abci: accept failed: {}", ec.message());
    } else {
      error_code ignored;
      socket.set_option(tcp::no_delay(true), ignored);
      auto ep = socket.remote_endpoint(ignored);
      adopt(std::move(socket), ep.address().to_string() + ":" + std::to_string(ep.port()));
    }
    accept_tcp();
  });
}

void Core::accept_unix() {
  unix_acceptor->async_accept(asio::make_strand(io), [this](const error_code& ec, auto socket) {
    if (ec) {
      if (ec == asio::error::operation_aborted || !running) return;
      spdlog::warn("abci: accept failed: {}", ec.message());
    } else {
      adopt(std::move(socket), "unix socket");
    }
    accept_unix();
  });
}

}  // namespace

struct Server::Impl : Core {
  using Core::Core;
};

Server::Server(RequestHandler& handler, ServerOptions options)
    : impl_(std::make_unique<Impl>(handler, std::move(options))) {}

Server::~Server() { stop(); }

void Server::start() {
  auto& d = *impl_;
  if (d.running) return;
  std::string error;
  auto parsed = parse_listen_address(d.options.address, error);
  if (!parsed) throw std::runtime_error("invalid ABCI address \"" + d.options.address + "\": " + error);
  d.listen = *parsed;
  auto fail = [&](const std::string& what) {
    throw std::runtime_error("cannot listen for CometBFT on " + d.options.address + ": " + what);
  };
  error_code ec;
  if (d.listen.kind == ListenAddress::Kind::kTcp) {
    tcp::resolver resolver(d.io);
    auto endpoints = resolver.resolve(d.listen.host, std::to_string(d.listen.port), ec);
    if (ec || endpoints.empty()) fail("cannot resolve host \"" + d.listen.host + "\": " + ec.message());
    tcp::endpoint ep = *endpoints.begin();
    d.tcp_acceptor = std::make_unique<tcp::acceptor>(d.io);
    d.tcp_acceptor->open(ep.protocol(), ec);
    if (!ec) d.tcp_acceptor->set_option(tcp::acceptor::reuse_address(true), ec);
    if (!ec) d.tcp_acceptor->bind(ep, ec);
    if (!ec) d.tcp_acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail(ec.message());
    d.listen.port = d.tcp_acceptor->local_endpoint().port();
  } else {
    struct stat st {};
    if (::lstat(d.listen.path.c_str(), &st) == 0) {
      if (!S_ISSOCK(st.st_mode)) fail("the path exists and is not a socket");
      // A socket file left by a process that died: remove it unless something still listens there.
      unix_stream::socket probe(d.io);
      probe.connect(unix_stream::endpoint(d.listen.path), ec);
      if (!ec) fail("another process is listening on this socket");
      ::unlink(d.listen.path.c_str());
    }
    d.unix_acceptor = std::make_unique<unix_stream::acceptor>(d.io);
    unix_stream::endpoint ep(d.listen.path);
    d.unix_acceptor->open(ep.protocol(), ec);
    if (!ec) d.unix_acceptor->bind(ep, ec);
    if (!ec) d.unix_acceptor->listen(asio::socket_base::max_listen_connections, ec);
    if (ec) fail(ec.message());
  }
  d.running = true;
  d.work.emplace(asio::make_work_guard(d.io));
  if (d.tcp_acceptor) d.accept_tcp();
  if (d.unix_acceptor) d.accept_unix();
  unsigned n = std::max(1u, d.options.threads);
  for (unsigned i = 0; i < n; ++i) d.threads.emplace_back([&d] { d.io.run(); });
  spdlog::info("abci: listening for CometBFT on {}", address());
}

void Server::stop() {
  auto& d = *impl_;
  if (d.running.exchange(false)) {
    asio::post(d.io, [&d] {
      error_code ignored;
      if (d.tcp_acceptor) d.tcp_acceptor->close(ignored);
      if (d.unix_acceptor) d.unix_acceptor->close(ignored);
    });
    std::vector<std::shared_ptr<ConnectionBase>> open;
    {
      std::lock_guard lock(d.mu);
      for (auto& [id, weak] : d.connections) {
        if (auto c = weak.lock()) open.push_back(std::move(c));
      }
    }
    for (auto& c : open) c->close();
    open.clear();
    d.work.reset();
  }
  for (auto& t : d.threads) {
    if (t.joinable()) t.join();
  }
  d.threads.clear();
  if (d.unix_acceptor) {
    d.unix_acceptor.reset();
    ::unlink(d.listen.path.c_str());
  }
  d.tcp_acceptor.reset();
}

uint16_t Server::port() const {
  return impl_->listen.kind == ListenAddress::Kind::kTcp ? impl_->listen.port : 0;
}

std::string Server::address() const {
  const auto& l = impl_->listen;
  if (l.kind == ListenAddress::Kind::kUnix) return "unix://" + l.path;
  bool v6 = l.host.find(':') != std::string::npos;
  return "tcp://" + (v6 ? "[" + l.host + "]" : l.host) + ":" + std::to_string(l.port);
}

std::size_t Server::open_connections() const {
  std::lock_guard lock(impl_->mu);
  return impl_->connections.size();
}

}  // namespace node::abci
