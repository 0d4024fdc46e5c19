#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <stdexcept>
#include <thread>

#include <nlohmann/json.hpp>

#include "net/asio.h"
#include "net/http.h"
#include "test_server.h"

namespace net {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

constexpr auto kTimeout = 10s;

Response text(const std::string& body) {
  return Response{200, "text/plain", body, {}};
}

Router basic_routes() {
  Router router;
  router.add("GET", "/hello", [](const Request&) { return text("hello"); });
  router.add("POST", "/echo", [](const Request& request) {
    return Response{200,
                    request.header("content-type"),
                    request.body,
                    {{"x-echo-length", std::to_string(request.body.size())}}};
  });
  router.add("GET", "/files/{name}", [](const Request& request) {
    return json_response(200, json{{"path", request.path},
                                   {"name", request.path_params.at("name")},
                                   {"query", request.query},
                                   {"target", request.target},
                                   {"remote", request.remote_address},
                                   {"custom_header", request.header("x-custom")}}
                                  .dump());
  });
  router.add("GET", "/throw",
             [](const Request&) -> Response { throw std::runtime_error("boom: disk on fire"); });
  return router;
}

json error_of(const ClientResult& result) {
  return json::parse(result.response->body).at("error");
}

TEST(HttpServer, ServesGetAndEchoesPostBodies) {
  TestServer server(basic_routes());
  ClientResult get = Client::get(server.url("/hello"), kTimeout);
  ASSERT_TRUE(get.ok()) << get.error->message;
  EXPECT_EQ(get.response->status, 200);
  EXPECT_EQ(get.response->body, "hello");
  EXPECT_EQ(get.response->headers.at("content-type"), "text/plain");

  std::string body = R"({"model": "Qwen/QwQ-32B", "prompt": "é ü \u0000"})";
  ClientResult post = Client::post_json(server.url("/echo"), body, kTimeout);
  ASSERT_TRUE(post.ok()) << post.error->message;
  EXPECT_EQ(post.response->status, 200);
  EXPECT_EQ(post.response->body, body);
  EXPECT_EQ(post.response->headers.at("content-type"), "application/json");
  EXPECT_EQ(post.response->headers.at("x-echo-length"), std::to_string(body.size()));
}

TEST(HttpServer, DecodesPathQueryAndPassesHeaders) {
  TestServer server(basic_routes());
  ClientResult result = Client::request("GET", server.url("/files/my%20file?a=1&b=x%20y&c=p+q"), "", kTimeout,
                                        {{"X-Custom", "value"}});
  ASSERT_TRUE(result.ok()) << result.error->message;
  ASSERT_EQ(result.response->status, 200) << result.response->body;
  json seen = json::parse(result.response->body);
  EXPECT_EQ(seen["path"], "/files/my file");
  EXPECT_EQ(seen["name"], "my file");
  EXPECT_EQ(seen["query"], (json{{"a", "1"}, {"b", "x y"}, {"c", "p q"}}));
  EXPECT_EQ(seen["target"], "/files/my%20file?a=1&b=x%20y&c=p+q");
  EXPECT_EQ(seen["remote"], "127.0.0.1");
  EXPECT_EQ(seen["custom_header"], "value");
}

TEST(HttpServer, UnknownPathIs404AndWrongMethodIs405) {
  TestServer server(basic_routes());
  ClientResult missing = Client::get(server.url("/nope"), kTimeout);
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing.response->status, 404);
  EXPECT_EQ(error_of(missing)["code"], "not_found");
  EXPECT_EQ(error_of(missing)["message"], "no route for GET /nope");

  ClientResult wrong = Client::post_json(server.url("/hello"), "{}", kTimeout);
  ASSERT_TRUE(wrong.ok());
  EXPECT_EQ(wrong.response->status, 405);
  EXPECT_EQ(error_of(wrong)["code"], "method_not_allowed");
}

TEST(HttpServer, OversizeBodyIs413) {
  ServerOptions options;
  options.max_body_bytes = 1024;
  TestServer server(basic_routes(), options);
  ClientResult small = Client::post_json(server.url("/echo"), std::string(1024, 'a'), kTimeout);
  ASSERT_TRUE(small.ok());
  EXPECT_EQ(small.response->status, 200);

  ClientResult big = Client::post_json(server.url("/echo"), std::string(200 * 1024, 'a'), kTimeout);
  ASSERT_TRUE(big.ok()) << big.error->message;
  EXPECT_EQ(big.response->status, 413);
  EXPECT_EQ(error_of(big)["code"], "payload_too_large");
}

TEST(HttpServer, HandlerExceptionIs500WithTheMessage) {
  TestServer server(basic_routes());
  ClientResult result = Client::get(server.url("/throw"), kTimeout);
  ASSERT_TRUE(result.ok());
  EXPECT_EQ(result.response->status, 500);
  EXPECT_EQ(error_of(result)["message"], "boom: disk on fire");
}

TEST(HttpServer, KeepsTheConnectionAliveAcrossRequests) {
  TestServer server(basic_routes());
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.server().port()));
  beast::flat_buffer buffer;
  for (int i = 0; i < 5; ++i) {
    http::request<http::string_body> request{http::verb::post, "/echo", 11};
    request.set(http::field::host, "127.0.0.1");
    request.body() = "request " + std::to_string(i);
    request.prepare_payload();
    http::write(stream, request);
    http::response<http::string_body> response;
    http::read(stream, buffer, response);
    EXPECT_EQ(response.result_int(), 200u);
    EXPECT_EQ(response.body(), "request " + std::to_string(i));
    EXPECT_TRUE(response.keep_alive());
  }
}

TEST(HttpServer, AnswersExpectContinueBeforeTheBodyIsSent) {
  TestServer server(basic_routes());
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.server().port()));
  http::request<http::string_body> request{http::verb::post, "/echo", 11};
  request.set(http::field::host, "127.0.0.1");
  request.set(http::field::expect, "100-continue");
  request.body() = "sent after 100";
  request.prepare_payload();
  http::request_serializer<http::string_body> serializer(request);
  http::write_header(stream, serializer);

  beast::flat_buffer buffer;
  http::response<http::empty_body> interim;
  http::read(stream, buffer, interim);
  EXPECT_EQ(interim.result(), http::status::continue_);
  http::write(stream, serializer);
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  EXPECT_EQ(response.result_int(), 200u);
  EXPECT_EQ(response.body(), "sent after 100");
}

TEST(HttpServer, MalformedRequestIs400) {
  TestServer server(basic_routes());
  asio::io_context io;
  beast::tcp_stream stream(io);
  stream.connect(tcp::endpoint(asio::ip::make_address("127.0.0.1"), server.server().port()));
  asio::write(stream, asio::buffer(std::string("GET /hello HTTP/1.1\r\nbad header line\r\n\r\n")));
  beast::flat_buffer buffer;
  http::response<http::string_body> response;
  http::read(stream, buffer, response);
  EXPECT_EQ(response.result_int(), 400u);
  EXPECT_EQ(json::parse(response.body())["error"]["code"], "bad_request");
  EXPECT_FALSE(response.keep_alive());
}

TEST(HttpServer, ServesConcurrentClients) {
  TestServer server(basic_routes());
  std::atomic<int> succeeded = 0;
  std::vector<std::thread> clients;
  for (int t = 0; t < 8; ++t) {
    clients.emplace_back([&, t] {
      for (int i = 0; i < 20; ++i) {
        std::string body = "client " + std::to_string(t) + " request " + std::to_string(i);
        ClientResult result = Client::post_json(server.url("/echo"), body, kTimeout);
        if (result.ok() && result.response->status == 200 && result.response->body == body) ++succeeded;
      }
    });
  }
  for (std::thread& client : clients) client.join();
  EXPECT_EQ(succeeded, 8 * 20);
}

TEST(HttpServer, BlockingHandlerDoesNotBlockOtherRequests) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Router router = basic_routes();
  router.add("GET", "/block", [released](const Request&) {
    released.wait();
    return text("unblocked");
  });
  ServerOptions options;
  options.threads = 1;
  TestServer server(std::move(router), options);

  std::future<ClientResult> blocked =
      std::async(std::launch::async, [&] { return Client::get(server.url("/block"), kTimeout); });
  std::future<ClientResult> blocked_too =
      std::async(std::launch::async, [&] { return Client::get(server.url("/block"), kTimeout); });
  for (int i = 0; i < 3; ++i) {
    ClientResult other = Client::get(server.url("/hello"), kTimeout);
    ASSERT_TRUE(other.ok()) << other.error->message;
    EXPECT_EQ(other.response->body, "hello");
  }
  release.set_value();
  for (auto* future : {&blocked, &blocked_too}) {
    ClientResult result = future->get();
    ASSERT_TRUE(result.ok()) << result.error->message;
    EXPECT_EQ(result.response->body, "unblocked");
  }
}

TEST(HttpServer, StopLetsARequestInFlightFinish) {
  std::promise<void> entered;
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Router router = basic_routes();
  router.add("GET", "/slow", [&entered, released](const Request&) {
    entered.set_value();
    released.wait();
    return text("finished");
  });
  TestServer server(std::move(router));
  std::future<ClientResult> call =
      std::async(std::launch::async, [&] { return Client::get(server.url("/slow"), kTimeout); });
  entered.get_future().wait();
  std::thread stopper([&] { server.server().stop(std::chrono::milliseconds(kTimeout)); });
  // Once new connections are refused, stop() has begun and is waiting for the request in flight.
  while (Client::get(server.url("/hello"), kTimeout).ok()) std::this_thread::sleep_for(5ms);
  release.set_value();
  stopper.join();
  ClientResult result = call.get();
  ASSERT_TRUE(result.ok()) << result.error->message;
  EXPECT_EQ(result.response->body, "finished");
}

TEST(HttpServer, StartFailsClearlyWhenThePortIsTaken) {
  TestServer first(basic_routes());
  ServerOptions options;
  options.port = first.server().port();
  Server second(basic_routes(), options);
  try {
    second.start();
    FAIL() << "second server started on a taken port";
  } catch (const std::runtime_error& e) {
    EXPECT_EQ(std::string(e.what()),
              "cannot listen on 127.0.0.1:" + std::to_string(options.port) + ": Address already in use");
  }
}

TEST(HttpServer, PathsAndQueriesThatAreNotUtf8AreRefusedWith400Json) {
  // Issue 13 fault 1 (RPC part): "%FF" decoded to a byte that JSON cannot hold; a route echoing it answered
  // 500.
  Router router = basic_routes();
  router.add("GET", "/{rest...}", [](const Request& request) {
    return json_error(404, "not_found",
                      "nothing at " + request.path);  // echoes the path, as the node's RPC does
  });
  router.add("POST", "/{rest...}",
             [](const Request& request) { return json_error(404, "not_found", request.path); });
  TestServer server(std::move(router));
  struct Case {
    std::string method, target, code;
  };
  for (const Case& c : std::vector<Case>{{"GET", "/%FF", "invalid_path"},
                                         {"POST", "/%FF", "invalid_path"},
                                         {"GET", "/files/%FF%FE", "invalid_path"},
                                         {"GET", "/files/%C3", "invalid_path"},
                                         {"GET", "/files/%ED%A0%80", "invalid_path"},  // a UTF-16 surrogate
                                         {"GET", "/files/x?name=%FF", "invalid_query"},
                                         {"GET", "/files/x?%C0%80=1", "invalid_query"}}) {
    ClientResult r =
        Client::request(c.method, server.url(c.target), c.method == "POST" ? "{}" : "", kTimeout);
    ASSERT_TRUE(r.ok()) << c.target << ": " << r.error->message;
    EXPECT_EQ(r.response->status, 400) << c.target << ": " << r.response->body;
    EXPECT_EQ(error_of(r).at("code"), c.code) << c.target;
  }
  // Valid UTF-8 still reaches the route, and a handler echoing it answers normally.
  ClientResult ok = Client::get(server.url("/files/%C3%A9t%C3%A9?q=%E2%82%AC"), kTimeout);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok.response->status, 200);
  EXPECT_EQ(json::parse(ok.response->body).at("name"), "\xc3\xa9t\xc3\xa9");
}

TEST(HttpServer, JsonErrorNeverThrowsOnBytesThatAreNotUtf8) {
  Response r = json_error(400, "x", std::string("bad \xff\xfe byte"));
  EXPECT_EQ(r.status, 400);
  EXPECT_EQ(json::parse(r.body).at("error").at("message"), "bad \xef\xbf\xbd\xef\xbf\xbd byte");
}

}  // namespace
}  // namespace net
