#include <gtest/gtest.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <atomic>
#include <future>
#include <thread>

#include "net/http.h"
#include "test_server.h"

namespace net {
namespace {

using namespace std::chrono_literals;

constexpr auto kStreamTimeout = 10s;

// Polls `condition` until it holds or `limit` passes.
template <class Condition>
bool eventually(Condition condition, std::chrono::milliseconds limit = kStreamTimeout) {
  auto give_up = std::chrono::steady_clock::now() + limit;
  while (!condition()) {
    if (std::chrono::steady_clock::now() > give_up) return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

TEST(HttpStream, EventsArriveInOrderThroughClientStreamAndSseParser) {
  Router router;
  router.add_stream("GET", "/events/blocks", [](const Request& request, ResponseWriter& writer) {
    ASSERT_TRUE(writer.begin(200, "text/event-stream", {{"x-stream", request.query.at("from")}}));
    for (int height = 1; height <= 5; ++height) {
      ASSERT_TRUE(writer.write(sse_event("block", "{\"height\":" + std::to_string(height) + "}")));
      std::this_thread::sleep_for(2ms);
    }
  });
  TestServer server(std::move(router));

  SseParser parser;
  std::vector<SseParser::Event> events;
  ClientResult result = Client::stream("GET", server.url("/events/blocks?from=1"), "", kStreamTimeout,
                                       [&](const std::string& data) {
                                         for (auto& event : parser.feed(data)) events.push_back(event);
                                         return true;
                                       });
  ASSERT_TRUE(result.ok()) << result.error->message;
  EXPECT_EQ(result.response->status, 200);
  EXPECT_EQ(result.response->headers.at("content-type"), "text/event-stream");
  EXPECT_EQ(result.response->headers.at("x-stream"), "1");
  EXPECT_EQ(result.response->body, "");
  ASSERT_EQ(events.size(), 5u);
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(events[i].event, "block");
    EXPECT_EQ(events[i].data, "{\"height\":" + std::to_string(i + 1) + "}");
  }
}

TEST(HttpStream, StopWhileAStreamIsOpenEndsItAndTheHandlerSeesClosed) {
  std::atomic<bool> handler_saw_closed = false;
  std::atomic<bool> write_after_close_failed = false;
  Router router;
  router.add_stream("GET", "/events", [&](const Request&, ResponseWriter& writer) {
    writer.begin(200, "text/event-stream");
    writer.write(sse_event("hello", "first"));
    while (!writer.closed()) std::this_thread::sleep_for(2ms);
    handler_saw_closed = true;
    write_after_close_failed = !writer.write(sse_event("late", "x"));
  });
  auto server = std::make_unique<TestServer>(std::move(router));

  std::atomic<bool> got_first = false;
  std::future<ClientResult> client = std::async(std::launch::async, [&] {
    return Client::stream("GET", server->url("/events"), "", kStreamTimeout, [&](const std::string&) {
      got_first = true;
      return true;
    });
  });
  ASSERT_TRUE(eventually([&] { return got_first.load(); }));

  const auto grace = std::chrono::milliseconds(60s);
  auto before = std::chrono::steady_clock::now();
  server->server().stop(grace);
  EXPECT_LT(std::chrono::steady_clock::now() - before, grace) << "stop() waited for the whole grace period";
  EXPECT_TRUE(handler_saw_closed);
  EXPECT_TRUE(write_after_close_failed);
  ClientResult result = client.get();
  ASSERT_TRUE(result.ok()) << result.error->message;
  EXPECT_EQ(result.response->status, 200);
}

TEST(HttpStream, HandlerSeesTheClientGoAway) {
  std::promise<void> saw_closed;
  Router router;
  router.add_stream("GET", "/events", [&](const Request&, ResponseWriter& writer) {
    writer.begin(200, "text/event-stream");
    writer.write(sse_event("hello", "first"));
    if (eventually([&] { return writer.closed(); })) saw_closed.set_value();
  });
  TestServer server(std::move(router));

  ClientResult result =
      Client::stream("GET", server.url("/events"), "", kStreamTimeout, [](const std::string&) {
        return false;  // hang up after the first piece
      });
  ASSERT_TRUE(result.ok()) << result.error->message;
  EXPECT_EQ(saw_closed.get_future().wait_for(kStreamTimeout), std::future_status::ready);
}

TEST(HttpStream, FailureBeforeTheFirstWriteIsAJsonError) {
  Router router;
  router.add_stream("GET", "/throws",
                    [](const Request&, ResponseWriter&) { throw std::runtime_error("no node"); });
  router.add_stream("GET", "/silent", [](const Request&, ResponseWriter&) {});
  TestServer server(std::move(router));

  bool called = false;
  auto on_data = [&](const std::string&) { return called = true; };
  ClientResult thrown = Client::stream("GET", server.url("/throws"), "", kStreamTimeout, on_data);
  ASSERT_TRUE(thrown.ok()) << thrown.error->message;
  EXPECT_EQ(thrown.response->status, 500);
  EXPECT_EQ(thrown.response->body, R"({"error":{"code":"internal","message":"no node"}})");

  ClientResult silent = Client::stream("GET", server.url("/silent"), "", kStreamTimeout, on_data);
  ASSERT_TRUE(silent.ok()) << silent.error->message;
  EXPECT_EQ(silent.response->status, 500);
  EXPECT_FALSE(called);
}

TEST(HttpStream, ClientStreamsPlainBodiesToo) {
  Router router;
  router.add("POST", "/completions", [](const Request& request) {
    return Response{200, "application/json", std::string(100000, 'x') + request.body, {}};
  });
  TestServer server(std::move(router));
  std::string received;
  ClientResult result =
      Client::stream("POST", server.url("/completions"), "end", kStreamTimeout, [&](const std::string& data) {
        received += data;
        return true;
      });
  ASSERT_TRUE(result.ok()) << result.error->message;
  EXPECT_EQ(received, std::string(100000, 'x') + "end");
}

TEST(HttpStream, IdleStreamTimesOut) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Router router;
  router.add_stream("GET", "/quiet", [released](const Request&, ResponseWriter& writer) {
    writer.begin(200, "text/event-stream");
    released.wait_for(10s);
  });
  TestServer server(std::move(router));
  ClientResult result =
      Client::stream("GET", server.url("/quiet"), "", 200ms, [](const std::string&) { return true; });
  release.set_value();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->message, "timeout after 200 ms calling GET " + server.url("/quiet"));
  EXPECT_TRUE(result.error->timed_out);
}

TEST(HttpStream, WriteTimeoutFreesTheHandlerOfAClientThatStopsReading) {
  // The client sends its request and never reads: once the socket buffers are full, a write waits for at
  // most write_timeout, then the writer reports the client gone and the handler ends.
  std::promise<std::chrono::steady_clock::duration> stalled_for;
  Router router;
  router.add_stream("GET", "/flood", [&](const Request&, ResponseWriter& writer) {
    writer.begin(200, "text/plain");
    std::string piece(64 * 1024, 'x');
    auto last_ok = std::chrono::steady_clock::now();
    for (int i = 0; i < 100000 && writer.write(piece); ++i) last_ok = std::chrono::steady_clock::now();
    stalled_for.set_value(std::chrono::steady_clock::now() - last_ok);
  });
  ServerOptions options;
  options.write_timeout = 300ms;
  TestServer server(std::move(router), options);
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  ASSERT_GE(fd, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(server.server().port());
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr), 0);
  std::string request = "GET /flood HTTP/1.1\r\nHost: x\r\n\r\n";
  ASSERT_EQ(::send(fd, request.data(), request.size(), 0), static_cast<ssize_t>(request.size()));
  auto done = stalled_for.get_future();
  ASSERT_EQ(done.wait_for(kStreamTimeout), std::future_status::ready);
  auto stalled = done.get();
  EXPECT_GE(stalled, 250ms);
  EXPECT_LT(stalled, 3s);
  ::close(fd);
}

TEST(HttpStream, AQuietGapLongerThanTheWriteTimeoutKeepsTheStream) {
  Router router;
  router.add_stream("GET", "/gap", [](const Request&, ResponseWriter& writer) {
    writer.begin(200, "text/plain");
    writer.write("a");
    std::this_thread::sleep_for(700ms);
    writer.write("b");
  });
  ServerOptions options;
  options.write_timeout = 200ms;
  TestServer server(std::move(router), options);
  std::string received;
  ClientResult result =
      Client::stream("GET", server.url("/gap"), "", kStreamTimeout, [&](const std::string& data) {
        received += data;
        return true;
      });
  ASSERT_TRUE(result.ok()) << result.error->message;
  EXPECT_EQ(received, "ab");
}

TEST(HttpStream, ErrorsTheServerAnswersItselfTakeTheConfiguredShape) {
  Router router;
  router.add("POST", "/small", [](const Request&) { return Response{}; });
  ServerOptions options;
  options.max_body_bytes = 10;
  options.error_response = [](int status, const std::string& code, const std::string& message) {
    return Response{status,
                    "application/json",
                    "{\"shape\":\"" + code + "\",\"m\":" + std::to_string(message.size() > 0) + "}",
                    {}};
  };
  TestServer server(std::move(router), options);
  ClientResult big = Client::request("POST", server.url("/small"), std::string(100, 'x'), kStreamTimeout);
  ASSERT_TRUE(big.ok()) << big.error->message;
  EXPECT_EQ(big.response->status, 413);
  EXPECT_EQ(big.response->body, R"({"shape":"payload_too_large","m":1})");
  ClientResult missing = Client::get(server.url("/nope"), kStreamTimeout);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing.response->status, 404);
  EXPECT_EQ(missing.response->body, R"({"shape":"not_found","m":1})");
}

}  // namespace
}  // namespace net
