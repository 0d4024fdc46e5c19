// Small HTTP/1.1 server and client on Boost.Beast. Public headers stay free of Boost so that
// users of this library compile quickly; the Beast code lives in the .cpp files.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace net {

using Headers = std::map<std::string, std::string>;  // header names lower-cased

struct Request {
  std::string method;                              // "GET", "POST", ...
  std::string target;                              // raw target: "/blocks/5?x=1"
  std::string path;                                // "/blocks/5" (percent-decoded)
  std::map<std::string, std::string> query;        // decoded query parameters
  std::map<std::string, std::string> path_params;  // {"height": "5"} for pattern "/blocks/{height}"
  Headers headers;
  std::string body;
  std::string remote_address;  // "127.0.0.1"
  std::string header(const std::string& lower_name) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  Headers headers;
};

// A response written piece by piece (chunked transfer encoding): server-sent events, streamed completions.
class ResponseWriter {
 public:
  virtual ~ResponseWriter() = default;
  // Sends the status line and headers. Must be called once before write().
  virtual bool begin(int status, const std::string& content_type, const Headers& extra = {}) = 0;
  // Sends one chunk; returns false once the client has gone away or the server is stopping.
  virtual bool write(const std::string& data) = 0;
  // True once the client disconnected or the server is stopping.
  virtual bool closed() const = 0;
};

// Handlers run on the server's worker threads and may block (they may call other services).
using Handler = std::function<Response(const Request&)>;
// A streaming handler owns the connection until it returns.
using StreamHandler = std::function<void(const Request&, ResponseWriter&)>;

class Router {
 public:
  // Pattern segments in braces capture: "/inference/epochs/{index}".
  // A trailing "{rest...}" captures the remainder. Routes are tried in registration order; the first match
  // wins (a 405 is reported only when no route matches both path and method).
  void add(const std::string& method, const std::string& pattern, Handler handler);
  void add_stream(const std::string& method, const std::string& pattern, StreamHandler handler);

  struct Match {
    const Handler* handler = nullptr;
    const StreamHandler* stream = nullptr;
    std::map<std::string, std::string> params;
    bool path_known = false;  // the path matched some route but not this method (405)
  };
  Match match(const std::string& method, const std::string& path) const;

 private:
  struct Route {
    std::string method;
    std::vector<std::string> segments;
    Handler handler;
    StreamHandler stream;
  };
  std::vector<Route> routes_;
};

struct ServerOptions {
  std::string address = "127.0.0.1";
  uint16_t port = 0;     // 0 = pick a free port; see Server::port()
  unsigned threads = 4;  // I/O threads
  // Upper bound on handlers running at once (they may block; a stream holds one for its whole duration).
  // Requests beyond it wait in a queue.
  unsigned max_handler_threads = 64;
  std::size_t max_body_bytes = 8 * 1024 * 1024;
  std::chrono::milliseconds read_timeout{30000};  // also bounds each write to a client
  // Bounds each write to a client when set (0 = read_timeout): a client that stops reading a stream frees
  // its handler thread after this long (the writer reports closed()).
  std::chrono::milliseconds write_timeout{0};
  std::string name = "http";  // used in logs
  // The body of the errors the server answers itself (413 body too large, 400 malformed request or path,
  // 404/405 no route, 500 a handler failed): json_error by default; a server speaking another API's error
  // shape (dapi's OpenAI routes) sets its own.
  std::function<Response(int status, const std::string& code, const std::string& message)> error_response;
};

class Server {
 public:
  Server(Router router, ServerOptions options);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds and starts serving; throws std::runtime_error with a clear message if the address is taken.
  void start();
  // Stops accepting, lets in-flight requests finish for up to `grace`, then closes everything. Streams see
  // closed() at once. Handlers still running after `grace` are waited for, but their responses are dropped,
  // so stop() must not be called from a handler.
  void stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));
  uint16_t port() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

// JSON error body in the project's shape: {"error": {"code": "...", "message": "..."}}.
Response json_error(int status, const std::string& code, const std::string& message);
Response json_response(int status, const std::string& json_body);

struct ClientResponse {
  int status = 0;
  std::string body;
  Headers headers;
};

struct ClientError {
  // Where the call failed: before a connection existed (URL, resolution, address check, TCP connect: nothing
  // was sent), while sending the request and waiting for the status line and headers, or reading the body.
  enum class Stage { kConnect, kFirstByte, kBody };
  std::string message;     // "connect to 127.0.0.1:9 refused", "timeout after 5000 ms", ...
  bool timed_out = false;  // the deadline passed; otherwise the connection failed or the URL was invalid
  bool cancelled = false;  // the caller's CancelCheck answered true; the connection was closed
  Stage stage = Stage::kConnect;
  bool refused_address = false;  // every resolved address was refused by CallOptions::check_address
};

// Polled about every 50 ms while a client call waits; returning true abandons the call and closes its
// connection (so the server sees the client leave, e.g. an inference server stops generating).
using CancelCheck = std::function<bool()>;

// Bounds of one call, each its own deadline (issue 12: connect, first-byte and idle timeouts per hop).
struct CallTimeouts {
  std::chrono::milliseconds connect{10000};  // DNS resolution and TCP connect
  std::chrono::milliseconds first_byte{
      60000};                             // sending the request and receiving the status line and headers
  std::chrono::milliseconds idle{60000};  // each read of the body (the longest gap between two pieces)
  std::chrono::milliseconds total{0};     // the whole call; 0 = bounded only by the others
};

// Called with every address the host resolved to ("10.0.0.5", "::1") before connecting: empty allows it,
// anything else says why not. Only allowed addresses are tried; when none is left the call fails without
// connecting (ClientError::refused_address). Checking after resolution is what stops a name that resolves to
// an internal address (SSRF); no redirect is ever followed by this client.
using AddressCheck = std::function<std::string(const std::string& ip)>;

struct CallOptions {
  CallTimeouts timeouts;
  Headers headers;
  CancelCheck cancelled;
  AddressCheck check_address;  // empty = every address allowed
};

struct ClientResult {
  std::optional<ClientResponse> response;
  std::optional<ClientError> error;
  bool ok() const { return response.has_value(); }
};

struct Url {
  std::string scheme;  // only "http"
  std::string host;
  uint16_t port = 80;
  std::string target;  // path + query, at least "/"
  static std::optional<Url> parse(const std::string& url);
};

// Blocking client; every call has a timeout covering connect, write and read.
class Client {
 public:
  static ClientResult request(const std::string& method, const std::string& url, const std::string& body,
                              std::chrono::milliseconds timeout, const Headers& headers = {},
                              const CancelCheck& cancelled = {});
  static ClientResult get(const std::string& url, std::chrono::milliseconds timeout) {
    return request("GET", url, "", timeout);
  }
  static ClientResult post_json(const std::string& url, const std::string& json,
                                std::chrono::milliseconds timeout) {
    return request("POST", url, json, timeout, {{"content-type", "application/json"}});
  }
  // The same with separate bounds per stage and an address check.
  static ClientResult request(const std::string& method, const std::string& url, const std::string& body,
                              const CallOptions& options);
  // Streams a response body chunk by chunk to `on_data` (return false to stop). The timeout applies to the
  // connection and to each read (idle timeout), not to the whole stream. Returns the status and headers;
  // response.body stays empty when the status is 2xx (the data went to on_data), else it holds the error
  // body.
  static ClientResult stream(const std::string& method, const std::string& url, const std::string& body,
                             const CallOptions& options,
                             const std::function<bool(const std::string&)>& on_data);
  static ClientResult stream(const std::string& method, const std::string& url, const std::string& body,
                             std::chrono::milliseconds idle_timeout,
                             const std::function<bool(const std::string&)>& on_data,
                             const Headers& headers = {}, const CancelCheck& cancelled = {});
};

// Incremental parser for a text/event-stream body: feed chunks, receive complete events.
class SseParser {
 public:
  struct Event {
    std::string event;  // "message" when absent
    std::string data;   // data lines joined with '\n'
    std::string id;
  };
  std::vector<Event> feed(const std::string& chunk);

 private:
  std::string buffer_;
  Event current_;
  bool has_data_ = false;
  bool skip_lf_ = false;  // the last line ended with '\r' at the end of a chunk; a leading '\n' is part of it
};

// Formats one server-sent event.
std::string sse_event(const std::string& event, const std::string& data);

}  // namespace net
