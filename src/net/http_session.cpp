#include "net/http_session.h"

#include <future>

#include <spdlog/spdlog.h>

#include "common/json_text.h"
#include "net/fields.h"
#include "net/uri.h"

namespace net {
namespace {

// After a response that ends the connection, unread request bytes are drained for this long so that closing
// the socket does not reset the connection before the client has read the response.
constexpr auto kLingerTimeout = std::chrono::seconds(2);
constexpr std::size_t kDrainChunk = 4096;

const beast::error_category& http_category() {
  return http::make_error_code(http::error::end_of_stream).category();
}

// Beast rejects status codes outside 100..999 with an exception.
unsigned valid_status(int status) {
  return status >= 100 && status <= 999 ? static_cast<unsigned>(status) : 500u;
}

Request request_from_message(http::request<http::string_body>& message, const std::string& remote_address) {
  Request request;
  request.method = std::string(message.method_string());
  request.target = std::string(message.target());
  std::string_view target = request.target;
  std::size_t question = target.find('?');
  request.path = percent_decode(target.substr(0, question));
  if (question != std::string_view::npos) request.query = parse_query(target.substr(question + 1));
  request.headers = to_headers(message);
  request.body = std::move(message.body());
  request.remote_address = remote_address;
  return request;
}

// An error the server answers itself, in the shape the server's options ask for.
Response server_error(const ServerOptions& options, int status, const std::string& code,
                      const std::string& message) {
  if (options.error_response) return options.error_response(status, code, message);
  return json_error(status, code, message);
}

std::chrono::milliseconds write_timeout(const ServerOptions& options) {
  return options.write_timeout.count() > 0 ? options.write_timeout : options.read_timeout;
}

template <class Call>
std::optional<Response> failure_response(const ServerOptions& options, const Request& request, Call call) {
  try {
    call();
    return std::nullopt;
  } catch (const std::exception& e) {
    spdlog::error("{}: {} {} failed: {}", options.name, request.method, common::printable(request.path),
                  e.what());
    return server_error(options, 500, "internal", e.what());
  } catch (...) {
    spdlog::error("{}: {} {} failed with a non-standard exception", options.name, request.method,
                  common::printable(request.path));
    return server_error(options, 500, "internal", "unknown error");
  }
}

// Paths and query parameters are text: once percent-decoded they must be UTF-8. Anything else (a "%FF") is
// refused here, before any route sees it, so no handler has to echo bytes it cannot put into JSON.
std::optional<Response> refuse_undecodable(const ServerOptions& options, const Request& request) {
  if (!common::is_valid_utf8(request.path)) {
    return server_error(
        options, 400, "invalid_path",
        "the request path is not UTF-8 once percent-decoded: " + common::printable(request.path) +
            "; encode path segments as UTF-8 and percent-escape them");
  }
  for (const auto& [key, value] : request.query) {
    if (!common::is_valid_utf8(key) || !common::is_valid_utf8(value)) {
      return server_error(
          options, 400, "invalid_query",
          "query parameter " + common::printable(key) + "=" + common::printable(value) +
              " is not UTF-8 once percent-decoded; encode values as UTF-8 and percent-escape them");
    }
  }
  return std::nullopt;
}

class StreamWriter final : public ResponseWriter {
 public:
  explicit StreamWriter(Session& session) : session_(session) {}

  bool begin(int status, const std::string& content_type, const Headers& extra) override {
    if (begun_ || closed()) return false;
    begun_ = true;
    auto message = std::make_shared<http::response<http::empty_body>>();
    message->result(valid_status(status));
    message->set(http::field::content_type, content_type);
    message->set(http::field::cache_control, "no-cache");
    for (const auto& [name, value] : extra) message->set(name, value);
    message->keep_alive(false);
    message->chunked(true);
    auto serializer = std::make_shared<http::response_serializer<http::empty_body>>(*message);
    return session_.write_blocking([message, serializer](beast::tcp_stream& stream, auto done) {
      http::async_write_header(stream, *serializer,
                               [message, serializer, done](beast::error_code ec, std::size_t) { done(ec); });
    });
  }

  bool write(const std::string& data) override {
    if (!begun_ || closed()) return false;
    if (data.empty()) return true;  // an empty chunk would end the body
    auto chunk = std::make_shared<std::string>(data);
    return session_.write_blocking([chunk](beast::tcp_stream& stream, auto done) {
      asio::async_write(stream, http::make_chunk(asio::buffer(*chunk)),
                        [chunk, done](beast::error_code ec, std::size_t) { done(ec); });
    });
  }

  bool closed() const override { return session_.closed_for_stream(); }
  bool begun() const { return begun_; }

 private:
  Session& session_;
  bool begun_ = false;
};

}  // namespace

Session::Session(tcp::socket socket, ServerContext& context) : stream_(std::move(socket)), context_(context) {
  beast::error_code ec;
  tcp::endpoint remote = stream_.socket().remote_endpoint(ec);
  if (!ec) remote_address_ = remote.address().to_string();
}

void Session::start() {
  asio::dispatch(stream_.get_executor(), [self = shared_from_this()] { self->read_request(); });
}

void Session::close() {
  asio::post(stream_.get_executor(), [self = shared_from_this()] { self->close_socket(); });
}

void Session::read_request() {
  parser_.emplace();
  parser_->body_limit(context_.options().max_body_bytes);
  stream_.expires_after(context_.options().read_timeout);
  http::async_read_header(
      stream_, buffer_, *parser_,
      [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_header(ec); });
}

void Session::on_header(beast::error_code ec) {
  if (ec) return on_request(ec);
  if (!beast::iequals(parser_->get()[http::field::expect], "100-continue")) return read_body();
  auto reply = std::make_shared<http::response<http::empty_body>>(http::status::continue_, 11);
  http::async_write(stream_, *reply, [self = shared_from_this(), reply](beast::error_code ec, std::size_t) {
    if (ec) return self->close_socket();
    self->read_body();
  });
}

void Session::read_body() {
  http::async_read(stream_, buffer_, *parser_,
                   [self = shared_from_this()](beast::error_code ec, std::size_t) { self->on_request(ec); });
}

void Session::on_request(beast::error_code ec) {
  if (ec == http::error::body_limit) {
    return send(server_error(context_.options(), 413, "payload_too_large",
                             "request body is larger than the limit of " +
                                 std::to_string(context_.options().max_body_bytes) + " bytes"),
                false, nullptr);
  }
  if (ec == http::error::end_of_stream || ec == http::error::partial_message) return close_socket();
  if (ec && ec.category() == http_category()) {
    return send(
        server_error(context_.options(), 400, "bad_request", "malformed HTTP request: " + ec.message()),
        false, nullptr);
  }
  if (ec || context_.stopping()) return close_socket();
  dispatch();
}

void Session::dispatch() {
  bool keep_alive = parser_->get().keep_alive();
  Request request = request_from_message(parser_->get(), remote_address_);
  if (auto refused = refuse_undecodable(context_.options(), request))
    return send(std::move(*refused), keep_alive, nullptr);
  Router::Match match = context_.router().match(request.method, request.path);
  if (!match.handler && !match.stream) {
    Response response = match.path_known
                            ? server_error(context_.options(), 405, "method_not_allowed",
                                           "method " + request.method + " is not allowed on " + request.path)
                            : server_error(context_.options(), 404, "not_found",
                                           "no route for " + request.method + " " + request.path);
    return send(std::move(response), keep_alive, nullptr);
  }
  if (!context_.begin_request()) return close_socket();
  auto token = std::make_shared<InFlight>(context_);
  request.path_params = std::move(match.params);
  auto self = shared_from_this();
  if (match.stream) {
    watch_for_disconnect();
    context_.pool().submit([self, handler = match.stream, request = std::move(request), token] {
      self->run_stream(*handler, request, token);
    });
  } else {
    context_.pool().submit([self, handler = match.handler, request = std::move(request), keep_alive, token] {
      self->run_handler(*handler, request, keep_alive, token);
    });
  }
}

void Session::run_handler(const Handler& handler, const Request& request, bool keep_alive, Token token) {
  Response response;
  if (auto failure = failure_response(context_.options(), request, [&] { response = handler(request); })) {
    response = std::move(*failure);
  }
  asio::post(stream_.get_executor(),
             [self = shared_from_this(), response = std::move(response), keep_alive, token]() mutable {
               self->send(std::move(response), keep_alive, std::move(token));
             });
}

void Session::run_stream(const StreamHandler& handler, const Request& request, Token token) {
  StreamWriter writer(*this);
  std::optional<Response> failure =
      failure_response(context_.options(), request, [&] { handler(request, writer); });
  bool complete = writer.begun() && !failure;
  if (writer.begun()) {
    failure.reset();  // the status line is out; the client sees the stream end without its last chunk
  } else if (!failure) {
    failure = server_error(context_.options(), 500, "internal",
                           "the stream handler for " + request.path + " sent no response");
  }
  asio::post(stream_.get_executor(), [self = shared_from_this(), failure = std::move(failure), complete,
                                      token] { self->finish_stream(failure, complete, token); });
}

void Session::finish_stream(std::optional<Response> failure, bool complete, Token token) {
  if (failure) {
    return write_response(std::move(*failure), false,
                          [self = shared_from_this(), token](beast::error_code) { self->close_socket(); });
  }
  if (!complete || client_gone_) return close_socket();
  stream_.expires_after(context_.options().read_timeout);
  asio::async_write(
      stream_, http::make_chunk_last(),
      [self = shared_from_this(), token](beast::error_code, std::size_t) { self->close_socket(); });
}

bool Session::write_blocking(WriteStart start) {
  auto outcome = std::make_shared<std::promise<beast::error_code>>();
  std::future<beast::error_code> result = outcome->get_future();
  asio::post(stream_.get_executor(), [self = shared_from_this(), start = std::move(start), outcome] {
    self->stream_.expires_after(write_timeout(self->context_.options()));
    // The bound is for this write only: once it is done, the read that watches for a disconnect must not
    // inherit it (a quiet gap between two pieces is not a stalled client).
    start(self->stream_, [self, outcome](beast::error_code ec) {
      self->stream_.expires_never();
      outcome->set_value(ec);
    });
  });
  if (result.get()) {
    client_gone_ = true;
    return false;
  }
  return true;
}

void Session::write_response(Response response, bool keep_alive,
                             std::function<void(beast::error_code)> then) {
  auto message = std::make_shared<http::response<http::string_body>>();
  message->result(valid_status(response.status));
  if (!response.content_type.empty()) message->set(http::field::content_type, response.content_type);
  for (const auto& [name, value] : response.headers) message->set(name, value);
  message->body() = std::move(response.body);
  message->keep_alive(keep_alive);
  message->prepare_payload();
  stream_.expires_after(context_.options().read_timeout);
  http::async_write(stream_, *message,
                    [message, then = std::move(then)](beast::error_code ec, std::size_t) { then(ec); });
}

void Session::send(Response response, bool keep_alive, Token token) {
  keep_alive = keep_alive && !context_.stopping();
  write_response(std::move(response), keep_alive,
                 [self = shared_from_this(), keep_alive, token](beast::error_code ec) {
                   if (ec) return self->close_socket();
                   if (!keep_alive || self->context_.stopping()) return self->linger_and_close();
                   self->read_request();
                 });
}

// While a stream handler runs nothing else reads from the socket; this read notices the client going away.
void Session::watch_for_disconnect() {
  stream_.expires_never();
  stream_.async_read_some(buffer_.prepare(kDrainChunk),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) {
                              self->client_gone_ = true;
                              return;
                            }
                            self->watch_for_disconnect();
                          });
}

void Session::linger_and_close() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_send, ignored);
  stream_.expires_after(kLingerTimeout);
  drain();
}

void Session::drain() {
  stream_.async_read_some(buffer_.prepare(kDrainChunk),
                          [self = shared_from_this()](beast::error_code ec, std::size_t) {
                            if (ec) return self->close_socket();
                            self->drain();
                          });
}

void Session::close_socket() {
  beast::error_code ignored;
  stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
  stream_.close();
}

}  // namespace net
