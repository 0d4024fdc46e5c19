// A blocking ABCI client for tests, speaking like CometBFT's socket client: length-prefixed Requests, a Flush
// after each synchronous call, responses matched in order. Plain POSIX sockets; every read has a timeout.
#pragma once

#include <chrono>
#include <stdexcept>
#include <string>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "abci/types.pb.h"
#include "node/abci/frame.h"

namespace node::abci::test {

class TestClient {
 public:
  static TestClient tcp(uint16_t port) {
    int fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_port = htons(port);
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      throw std::runtime_error("connect to 127.0.0.1:" + std::to_string(port) + " failed");
    }
    int one = 1;
    ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    return TestClient(fd);
  }
  static TestClient unix_socket(const std::string& path) {
    int fd = ::socket(AF_UNIX, SOCK_STREAM, 0);
    sockaddr_un addr{};
    addr.sun_family = AF_UNIX;
    path.copy(addr.sun_path, sizeof addr.sun_path - 1);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
      ::close(fd);
      throw std::runtime_error("connect to " + path + " failed");
    }
    return TestClient(fd);
  }

  TestClient(TestClient&& o) noexcept : fd_(o.fd_), reader_(std::move(o.reader_)) { o.fd_ = -1; }
  TestClient(const TestClient&) = delete;
  ~TestClient() {
    if (fd_ >= 0) ::close(fd_);
  }

  void send_raw(const std::string& bytes) {
    std::size_t off = 0;
    while (off < bytes.size()) {
      ssize_t n = ::send(fd_, bytes.data() + off, bytes.size() - off, MSG_NOSIGNAL);
      if (n <= 0) throw std::runtime_error("send failed");
      off += static_cast<std::size_t>(n);
    }
  }
  void send(const tendermint::abci::Request& req) { send_raw(encode_frame(req.SerializeAsString())); }
  void send_flush() {
    tendermint::abci::Request f;
    f.mutable_flush();
    send(f);
  }

  // Next response frame; throws on timeout or when the server closed the connection.
  std::string read_frame(std::chrono::milliseconds timeout = std::chrono::milliseconds(10000)) {
    std::string frame;
    for (;;) {
      auto st = reader_.next(frame);
      if (st == FrameReader::Status::kFrame) return frame;
      if (st == FrameReader::Status::kError) throw std::runtime_error("bad frame from server: " + reader_.error());
      if (!fill(timeout)) throw std::runtime_error("connection closed by the server");
    }
  }
  tendermint::abci::Response read() {
    tendermint::abci::Response res;
    if (!res.ParseFromString(read_frame())) throw std::runtime_error("undecodable Response");
    return res;
  }
  // A synchronous call as CometBFT makes it: the request, a Flush, then both responses.
  tendermint::abci::Response call(const tendermint::abci::Request& req) {
    send(req);
    send_flush();
    auto res = read();
    auto flush = read();
    if (!flush.has_flush()) throw std::runtime_error("expected the Flush response after " + res.DebugString());
    return res;
  }
  // True when the server closes the connection within the timeout (any unread data is discarded).
  bool closed_by_server(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    auto deadline = std::chrono::steady_clock::now() + timeout;
    while (std::chrono::steady_clock::now() < deadline) {
      try {
        if (!fill(std::chrono::duration_cast<std::chrono::milliseconds>(deadline - std::chrono::steady_clock::now())))
          return true;
      } catch (const std::runtime_error&) {
        return false;
      }
    }
    return false;
  }

 private:
  explicit TestClient(int fd) : fd_(fd) {}
  // Reads more bytes into the frame reader; false on EOF; throws on timeout.
  bool fill(std::chrono::milliseconds timeout) {
    pollfd p{fd_, POLLIN, 0};
    int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    if (r == 0) throw std::runtime_error("timed out waiting for the server");
    char buf[65536];
    ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n <= 0) return false;
    reader_.feed(std::string_view(buf, static_cast<std::size_t>(n)));
    return true;
  }

  int fd_;
  FrameReader reader_;
};

}  // namespace node::abci::test
