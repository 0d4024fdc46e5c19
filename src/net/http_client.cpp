#include <limits>
#include <vector>

#include "net/asio.h"
#include "net/fields.h"
#include "net/http.h"

namespace net {
namespace {

using Clock = std::chrono::steady_clock;

constexpr std::uint64_t kMaxResponseBody = 64ull * 1024 * 1024;
constexpr std::size_t kStreamPieceSize = 16 * 1024;
constexpr auto kCancelPoll = std::chrono::milliseconds(50);

ClientResult failure(ClientError error) {
  return ClientResult{std::nullopt, std::move(error)};
}

template <class Body>
ClientResponse to_client_response(http::response<Body>& message) {
  return ClientResponse{static_cast<int>(message.result_int()), {}, to_headers(message)};
}

// One request on its own io_context. Each step runs the context until the step completes or its deadline
// passes; at the deadline the connection is closed, which cancels the step.
class Exchange {
 public:
  Exchange(const std::string& method, const std::string& url, std::chrono::milliseconds timeout,
           const CancelCheck& cancelled)
      : description_(method + " " + url), timeout_(timeout), cancelled_(cancelled) {}

  std::optional<ClientError> connect(const Url& url, Clock::time_point deadline) {
    tcp::resolver::results_type endpoints;
    beast::error_code ec = run(deadline, [&](auto done) {
      resolver_.async_resolve(url.host, std::to_string(url.port),
                              [&endpoints, done](beast::error_code ec, tcp::resolver::results_type results) {
                                endpoints = std::move(results);
                                done(ec);
                              });
    });
    if (ec) return error("resolve " + url.host, ec);
    ec = run(deadline, [&](auto done) {
      stream_.async_connect(endpoints, [done](beast::error_code ec, const tcp::endpoint&) { done(ec); });
    });
    if (ec) return error("connect to " + url.host + ":" + std::to_string(url.port), ec);
    return std::nullopt;
  }

  std::optional<ClientError> write(http::request<http::string_body>& request, Clock::time_point deadline) {
    beast::error_code ec = run(deadline, [&](auto done) {
      http::async_write(stream_, request, [done](beast::error_code ec, std::size_t) { done(ec); });
    });
    if (ec) return error("send " + description_, ec);
    return std::nullopt;
  }

  template <class Parser>
  std::optional<ClientError> read(Parser& parser, Clock::time_point deadline) {
    beast::error_code ec = run(deadline, [&](auto done) {
      http::async_read(stream_, buffer_, parser, [done](beast::error_code ec, std::size_t) { done(ec); });
    });
    if (ec) return error("read response to " + description_, ec);
    return std::nullopt;
  }

  template <class Parser>
  std::optional<ClientError> read_header(Parser& parser, Clock::time_point deadline) {
    beast::error_code ec = run(deadline, [&](auto done) {
      http::async_read_header(stream_, buffer_, parser,
                              [done](beast::error_code ec, std::size_t) { done(ec); });
    });
    if (ec) return error("read response to " + description_, ec);
    return std::nullopt;
  }

  // Reads what has arrived of the body into the parser's buffer_body.
  template <class Parser>
  std::optional<ClientError> read_some(Parser& parser, Clock::time_point deadline) {
    beast::error_code ec = run(deadline, [&](auto done) {
      http::async_read_some(stream_, buffer_, parser,
                            [done](beast::error_code ec, std::size_t) { done(ec); });
    });
    if (ec && ec != http::error::need_buffer) return error("read response to " + description_, ec);
    return std::nullopt;
  }

 private:
  // Starts an operation with `start(done)` and runs it; returns its error, or timed_out at the deadline.
  template <class Start>
  beast::error_code run(Clock::time_point deadline, Start start) {
    std::optional<beast::error_code> outcome;
    start([&outcome](beast::error_code ec) { outcome = ec; });
    io_.restart();
    bool cancelled = false;
    if (!cancelled_) {
      io_.run_until(deadline);
    } else {
      // In slices, so that the caller's cancellation is noticed within kCancelPoll.
      while (!outcome && Clock::now() < deadline) {
        if (cancelled_()) {
          cancelled = true;
          break;
        }
        io_.run_until(std::min(deadline, Clock::now() + kCancelPoll));
        if (io_.stopped()) io_.restart();
      }
    }
    if (outcome) return *outcome;
    resolver_.cancel();
    stream_.close();
    io_.restart();
    io_.run();  // lets the cancelled operation complete before its state goes away
    return cancelled ? asio::error::operation_aborted : asio::error::timed_out;
  }

  ClientError error(const std::string& step, beast::error_code ec) const {
    if (ec == asio::error::operation_aborted && cancelled_ && cancelled_()) {
      return ClientError{"cancelled by the caller: " + description_, false, true};
    }
    if (ec == asio::error::timed_out) {
      return ClientError{"timeout after " + std::to_string(timeout_.count()) + " ms calling " + description_,
                         true};
    }
    return ClientError{step + ": " + ec.message()};
  }

  std::string description_;
  std::chrono::milliseconds timeout_;
  CancelCheck cancelled_;
  asio::io_context io_;
  tcp::resolver resolver_{io_};
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
};

http::request<http::string_body> make_request(const std::string& method, const Url& url,
                                              const std::string& body, const Headers& headers) {
  http::request<http::string_body> request;
  request.method_string(method);
  request.target(url.target);
  request.version(11);
  std::string host = url.host.find(':') == std::string::npos ? url.host : "[" + url.host + "]";
  request.set(http::field::host, url.port == 80 ? host : host + ":" + std::to_string(url.port));
  request.set(http::field::user_agent, "inference-net");
  for (const auto& [name, value] : headers) request.set(name, value);
  request.keep_alive(false);
  request.body() = body;
  request.prepare_payload();
  return request;
}

std::optional<Url> parse_or_fail(const std::string& url, ClientResult& result) {
  std::optional<Url> parsed = Url::parse(url);
  if (!parsed)
    result = failure(ClientError{"invalid URL \"" + url + "\": expected http://host[:port][/path]"});
  return parsed;
}

}  // namespace

ClientResult Client::request(const std::string& method, const std::string& url, const std::string& body,
                             std::chrono::milliseconds timeout, const Headers& headers,
                             const CancelCheck& cancelled) {
  ClientResult result;
  std::optional<Url> parsed = parse_or_fail(url, result);
  if (!parsed) return result;
  Clock::time_point deadline = Clock::now() + timeout;
  Exchange exchange(method, url, timeout, cancelled);
  if (auto error = exchange.connect(*parsed, deadline)) return failure(std::move(*error));
  http::request<http::string_body> request = make_request(method, *parsed, body, headers);
  if (auto error = exchange.write(request, deadline)) return failure(std::move(*error));
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  if (auto error = exchange.read(parser, deadline)) return failure(std::move(*error));
  ClientResponse response = to_client_response(parser.get());
  response.body = std::move(parser.get().body());
  result.response = std::move(response);
  return result;
}

ClientResult Client::stream(const std::string& method, const std::string& url, const std::string& body,
                            std::chrono::milliseconds idle_timeout,
                            const std::function<bool(const std::string&)>& on_data, const Headers& headers,
                            const CancelCheck& cancelled) {
  ClientResult result;
  std::optional<Url> parsed = parse_or_fail(url, result);
  if (!parsed) return result;
  auto deadline = [idle_timeout] { return Clock::now() + idle_timeout; };
  Exchange exchange(method, url, idle_timeout, cancelled);
  if (auto error = exchange.connect(*parsed, deadline())) return failure(std::move(*error));
  http::request<http::string_body> request = make_request(method, *parsed, body, headers);
  if (auto error = exchange.write(request, deadline())) return failure(std::move(*error));

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // boost::none is broken in 1.74
  if (auto error = exchange.read_header(parser, deadline())) return failure(std::move(*error));
  ClientResponse response = to_client_response(parser.get());
  bool success = response.status / 100 == 2;
  std::vector<char> piece(kStreamPieceSize);
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    if (auto error = exchange.read_some(parser, deadline())) return failure(std::move(*error));
    std::size_t received = piece.size() - parser.get().body().size;
    if (received == 0) continue;
    if (!success) {
      response.body.append(piece.data(), received);
    } else if (!on_data(std::string(piece.data(), received))) {
      break;
    }
  }
  result.response = std::move(response);
  return result;
}

}  // namespace net
