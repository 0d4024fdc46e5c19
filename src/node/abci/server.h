// ABCI socket server for CometBFT v0.38 (TCP or unix socket). CometBFT opens four connections (query,
// snapshot, mempool, consensus); each is read frame by frame and every request is answered in order on its own
// connection: the responses to the requests of one read are written together, a Flush answered after them.
// A broken stream (bad length prefix, oversized frame, undecodable or unknown request) or an app exception is
// logged with the connection and reason, the connection is closed (CometBFT then stops) and on_fatal is called;
// a connection that never sent a valid request is only closed (it is not CometBFT's).
#pragma once

#include <cstddef>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "node/abci/frame.h"
#include "node/abci/request_handler.h"

namespace node::abci {

struct ListenAddress {
  enum class Kind { kTcp, kUnix };
  Kind kind = Kind::kTcp;
  std::string host;   // tcp
  uint16_t port = 0;  // tcp; 0 = any free port
  std::string path;   // unix
};

// "tcp://127.0.0.1:26658", "127.0.0.1:26658" (tcp when there is no scheme, as CometBFT reads proxy_app) or
// "unix:///run/inferenced/abci.sock". On failure returns nullopt and sets `error`.
std::optional<ListenAddress> parse_listen_address(const std::string& address, std::string& error);

struct ServerOptions {
  std::string address = "tcp://127.0.0.1:26658";
  unsigned threads = 4;  // one per CometBFT connection; app calls are serialised by the handler anyway
  std::size_t max_frame_bytes = kDefaultMaxFrameBytes;
  // Called at most once, from a server thread, on a protocol error or an app exception. It must not call
  // stop() itself (signal the thread that owns the server instead).
  std::function<void(const std::string& reason)> on_fatal;
};

class Server {
 public:
  Server(RequestHandler& handler, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts the I/O threads; throws std::runtime_error naming the address if it cannot listen.
  void start();
  // Closes the listener and every connection and joins the threads. Idempotent; not from a server thread.
  void stop();
  // The bound TCP port (useful with port 0); 0 for a unix socket.
  uint16_t port() const;
  // The address CometBFT should use as proxy_app, e.g. "tcp://127.0.0.1:40123".
  std::string address() const;
  std::size_t open_connections() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace node::abci
