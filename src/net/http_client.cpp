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

using Stage = ClientError::Stage;

// One request on its own io_context. Each step runs the context until the step completes or its deadline
// passes; at the deadline the connection is closed, which cancels the step. Deadlines come from the call's
// CallTimeouts: connect for resolution + connect, first_byte for writing the request and reading the headers,
// idle for each body read; all capped by total when it is set.
class Exchange {
 public:
  Exchange(const std::string& method, const std::string& url, const CallOptions& options)
      : description_(method + " " + url),
        options_(options),
        total_deadline_(options.timeouts.total.count() > 0 ? Clock::now() + options.timeouts.total
                                                           : Clock::time_point::max()) {}

  std::optional<ClientError> connect(const Url& url) {
    stage_ = Stage::kConnect;
    Clock::time_point deadline = limit(options_.timeouts.connect);
    tcp::resolver::results_type endpoints;
    beast::error_code ec = run(deadline, [&](auto done) {
      resolver_.async_resolve(url.host, std::to_string(url.port),
                              [&endpoints, done](beast::error_code ec, tcp::resolver::results_type results) {
                                endpoints = std::move(results);
                                done(ec);
                              });
    });
    if (ec) return error("resolve " + url.host, ec);
    std::vector<tcp::endpoint> allowed;
    std::string refusal;
    for (const auto& entry : endpoints) {
      std::string why;
      if (options_.check_address) why = options_.check_address(entry.endpoint().address().to_string());
      if (why.empty()) {
        allowed.push_back(entry.endpoint());
      } else if (refusal.empty()) {
        refusal = why;
      }
    }
    if (allowed.empty()) {
      ClientError e{"refused to connect to " + url.host + ": " + (refusal.empty() ? "no address" : refusal)};
      e.refused_address = true;
      return e;
    }
    ec = run(deadline, [&](auto done) {
      stream_.async_connect(allowed, [done](beast::error_code ec, const tcp::endpoint&) { done(ec); });
    });
    if (ec) return error("connect to " + url.host + ":" + std::to_string(url.port), ec);
    return std::nullopt;
  }

  // Sends the request and reads the status line and headers (the first byte's bound).
  template <class Parser>
  std::optional<ClientError> exchange_header(http::request<http::string_body>& request, Parser& parser) {
    stage_ = Stage::kFirstByte;
    Clock::time_point deadline = limit(options_.timeouts.first_byte);
    beast::error_code ec = run(deadline, [&](auto done) {
      http::async_write(stream_, request, [done](beast::error_code ec, std::size_t) { done(ec); });
    });
    if (ec) return error("send " + description_, ec);
    ec = run(deadline, [&](auto done) {
      http::async_read_header(stream_, buffer_, parser,
                              [done](beast::error_code ec, std::size_t) { done(ec); });
    });
    if (ec) return error("read response to " + description_, ec);
    return std::nullopt;
  }

  // Reads what has arrived of the body into the parser (idle bound per read).
  template <class Parser>
  std::optional<ClientError> read_some(Parser& parser) {
    stage_ = Stage::kBody;
    beast::error_code ec = run(limit(options_.timeouts.idle), [&](auto done) {
      http::async_read_some(stream_, buffer_, parser,
                            [done](beast::error_code ec, std::size_t) { done(ec); });
    });
    if (ec && ec != http::error::need_buffer) return error("read response to " + description_, ec);
    return std::nullopt;
  }

 private:
  Clock::time_point limit(std::chrono::milliseconds step) const {
    return std::min(Clock::now() + step, total_deadline_);
  }

  // Starts an operation with `start(done)` and runs it; returns its error, or timed_out at the deadline.
  template <class Start>
  beast::error_code run(Clock::time_point deadline, Start start) {
    std::optional<beast::error_code> outcome;
    start([&outcome](beast::error_code ec) { outcome = ec; });
    io_.restart();
    bool cancelled = false;
    if (!options_.cancelled) {
      io_.run_until(deadline);
    } else {
      // In slices, so that the caller's cancellation is noticed within kCancelPoll.
      while (!outcome && Clock::now() < deadline) {
        if (options_.cancelled()) {
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
    ClientError e;
    e.stage = stage_;
    if (ec == asio::error::operation_aborted && options_.cancelled && options_.cancelled()) {
      e.message = "cancelled by the caller: " + description_;
      e.cancelled = true;
      return e;
    }
    if (ec == asio::error::timed_out) {
      const auto& t = options_.timeouts;
      bool total = t.total.count() > 0 && Clock::now() >= total_deadline_;
      auto bound = total                         ? t.total
                   : stage_ == Stage::kConnect   ? t.connect
                   : stage_ == Stage::kFirstByte ? t.first_byte
                                                 : t.idle;
      const char* what = total                         ? "the whole call"
                         : stage_ == Stage::kConnect   ? "connect"
                         : stage_ == Stage::kFirstByte ? "first byte"
                                                       : "idle between reads";
      // One bound for every stage (the single-timeout calls): no stage in the message.
      bool uniform =
          t.connect == t.first_byte && t.first_byte == t.idle && (t.total.count() == 0 || t.total == t.idle);
      e.message = "timeout after " + std::to_string(bound.count()) + " ms " +
                  (uniform ? std::string() : "(" + std::string(what) + ") ") + "calling " + description_;
      e.timed_out = true;
      return e;
    }
    e.message = step + ": " + ec.message();
    return e;
  }

  std::string description_;
  CallOptions options_;
  Clock::time_point total_deadline_;
  Stage stage_ = Stage::kConnect;
  asio::io_context io_;
  tcp::resolver resolver_{io_};
  beast::tcp_stream stream_{io_};
  beast::flat_buffer buffer_;
};

CallOptions single_deadline(std::chrono::milliseconds timeout, const Headers& headers,
                            const CancelCheck& cancelled) {
  CallOptions o;
  o.timeouts = CallTimeouts{timeout, timeout, timeout, timeout};
  o.headers = headers;
  o.cancelled = cancelled;
  return o;
}

http::request<http::string_body> outbound_request(const std::string& method, const Url& url,
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
  return request(method, url, body, single_deadline(timeout, headers, cancelled));
}

ClientResult Client::request(const std::string& method, const std::string& url, const std::string& body,
                             const CallOptions& options) {
  ClientResult result;
  std::optional<Url> parsed = parse_or_fail(url, result);
  if (!parsed) return result;
  Exchange exchange(method, url, options);
  if (auto error = exchange.connect(*parsed)) return failure(std::move(*error));
  http::request<http::string_body> request = outbound_request(method, *parsed, body, options.headers);
  http::response_parser<http::string_body> parser;
  parser.body_limit(kMaxResponseBody);
  if (auto error = exchange.exchange_header(request, parser)) return failure(std::move(*error));
  while (!parser.is_done()) {
    if (auto error = exchange.read_some(parser)) return failure(std::move(*error));
  }
  ClientResponse response = to_client_response(parser.get());
  response.body = std::move(parser.get().body());
  result.response = std::move(response);
  return result;
}

ClientResult Client::stream(const std::string& method, const std::string& url, const std::string& body,
                            std::chrono::milliseconds idle_timeout,
                            const std::function<bool(const std::string&)>& on_data, const Headers& headers,
                            const CancelCheck& cancelled) {
  CallOptions o;
  o.timeouts = CallTimeouts{idle_timeout, idle_timeout, idle_timeout, std::chrono::milliseconds(0)};
  o.headers = headers;
  o.cancelled = cancelled;
  return stream(method, url, body, o, on_data);
}

ClientResult Client::stream(const std::string& method, const std::string& url, const std::string& body,
                            const CallOptions& options,
                            const std::function<bool(const std::string&)>& on_data) {
  ClientResult result;
  std::optional<Url> parsed = parse_or_fail(url, result);
  if (!parsed) return result;
  Exchange exchange(method, url, options);
  if (auto error = exchange.connect(*parsed)) return failure(std::move(*error));
  http::request<http::string_body> request = outbound_request(method, *parsed, body, options.headers);

  http::response_parser<http::buffer_body> parser;
  parser.body_limit(std::numeric_limits<std::uint64_t>::max());  // boost::none is broken in 1.74
  if (auto error = exchange.exchange_header(request, parser)) return failure(std::move(*error));
  ClientResponse response = to_client_response(parser.get());
  bool success = response.status / 100 == 2;
  std::vector<char> piece(kStreamPieceSize);
  while (!parser.is_done()) {
    parser.get().body().data = piece.data();
    parser.get().body().size = piece.size();
    if (auto error = exchange.read_some(parser)) return failure(std::move(*error));
    std::size_t received = piece.size() - parser.get().body().size;
    if (received == 0) continue;
    if (!success) {
      if (response.body.size() < kMaxResponseBody) response.body.append(piece.data(), received);
    } else if (!on_data(std::string(piece.data(), received))) {
      break;
    }
  }
  result.response = std::move(response);
  return result;
}

}  // namespace net
