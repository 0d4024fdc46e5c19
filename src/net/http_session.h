// One accepted connection: reads requests, runs their handlers on the worker pool and writes the responses
// (internal to net). All socket work happens on the connection's strand.
#pragma once

#include <atomic>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "net/asio.h"
#include "net/http.h"
#include "net/server_context.h"

namespace net {

class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, ServerContext& context);

  void start();
  // Safe to call from any thread.
  void close();

  // For streamed responses, called on a handler thread: runs `start` on the strand with a completion callback
  // and blocks until that callback reports the write's outcome.
  using WriteStart = std::function<void(beast::tcp_stream&, std::function<void(beast::error_code)>)>;
  bool write_blocking(WriteStart start);
  bool closed_for_stream() const { return client_gone_ || context_.stopping(); }

 private:
  using Token = std::shared_ptr<InFlight>;

  void read_request();
  void on_header(beast::error_code ec);
  void read_body();
  void on_request(beast::error_code ec);
  void dispatch();
  void run_handler(const Handler& handler, const Request& request, bool keep_alive, Token token);
  void run_stream(const StreamHandler& handler, const Request& request, Token token);
  void finish_stream(std::optional<Response> failure, bool complete, Token token);
  void write_response(Response response, bool keep_alive, std::function<void(beast::error_code)> then);
  void send(Response response, bool keep_alive, Token token);
  void watch_for_disconnect();
  void linger_and_close();
  void drain();
  void close_socket();

  beast::tcp_stream stream_;
  ServerContext& context_;
  beast::flat_buffer buffer_;
  std::optional<http::request_parser<http::string_body>> parser_;
  std::string remote_address_;
  std::atomic<bool> client_gone_ = false;
};

}  // namespace net
