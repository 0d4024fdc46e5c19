#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <thread>
#include <vector>

#include "net/http.h"
#include "test_server.h"

namespace net {
namespace {

using namespace std::chrono_literals;

TEST(HttpClient, ReportsATimeoutWhenTheHandlerIsSlower) {
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  Router router;
  router.add("GET", "/slow", [released](const Request&) {
    released.wait_for(10s);
    return Response{};
  });
  TestServer server(std::move(router));
  ClientResult result = Client::get(server.url("/slow"), 200ms);
  release.set_value();
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->message, "timeout after 200 ms calling GET " + server.url("/slow"));
  EXPECT_TRUE(result.error->timed_out);
}

TEST(HttpClient, ReportsConnectionRefused) {
  uint16_t closed_port = 0;
  {
    TestServer server{Router{}};
    closed_port = server.server().port();
  }
  ClientResult result = Client::get("http://127.0.0.1:" + std::to_string(closed_port) + "/x", 5s);
  ASSERT_FALSE(result.ok());
  EXPECT_EQ(result.error->message,
            "connect to 127.0.0.1:" + std::to_string(closed_port) + ": Connection refused");
  EXPECT_FALSE(result.error->timed_out);
}

TEST(HttpClient, RejectsUnsupportedUrls) {
  ClientResult result = Client::get("https://example.org/", 1s);
  ASSERT_FALSE(result.ok());
  EXPECT_NE(result.error->message.find("invalid URL \"https://example.org/\""), std::string::npos);
}

TEST(HttpClient, ResolvesLocalhostAndReturnsErrorStatusesAsIs) {
  Router router;
  router.add("GET", "/conflict", [](const Request&) { return json_error(409, "conflict", "already there"); });
  TestServer server(std::move(router));
  ClientResult result =
      Client::get("http://localhost:" + std::to_string(server.server().port()) + "/conflict", 5s);
  ASSERT_TRUE(result.ok()) << result.error->message;
  EXPECT_EQ(result.response->status, 409);
  EXPECT_EQ(result.response->body, R"({"error":{"code":"conflict","message":"already there"}})");
}

TEST(HttpClient, AnAddressCheckRefusingEveryResolvedAddressStopsTheCallBeforeConnecting) {
  std::atomic<int> hits = 0;
  Router router;
  router.add("GET", "/x", [&hits](const Request&) {
    ++hits;
    return Response{};
  });
  TestServer server(std::move(router));
  CallOptions o;
  std::vector<std::string> seen;
  o.check_address = [&seen](const std::string& ip) {
    seen.push_back(ip);
    return std::string("not here");
  };
  ClientResult result =
      Client::request("GET", "http://localhost:" + std::to_string(server.server().port()) + "/x", "", o);
  ASSERT_FALSE(result.ok());
  EXPECT_TRUE(result.error->refused_address);
  EXPECT_EQ(result.error->stage, ClientError::Stage::kConnect);
  EXPECT_NE(result.error->message.find("not here"), std::string::npos);
  EXPECT_FALSE(seen.empty());  // the resolved addresses, not the name
  EXPECT_EQ(hits, 0);
  o.check_address = [](const std::string&) { return std::string(); };
  result = Client::request("GET", server.url("/x"), "", o);
  ASSERT_TRUE(result.ok()) << result.error->message;
  EXPECT_EQ(hits, 1);
}

TEST(HttpClient, FirstByteAndIdleBoundsAreSeparate) {
  // Headers after 300 ms, then a body piece every 300 ms: a first-byte bound of 150 ms fails at the first
  // byte; a first-byte bound of 2 s with an idle bound of 150 ms fails while reading the body; 2 s each pass.
  Router router;
  router.add_stream("GET", "/slow", [](const Request&, ResponseWriter& w) {
    std::this_thread::sleep_for(300ms);
    w.begin(200, "text/plain");
    for (int i = 0; i < 2; ++i) {
      std::this_thread::sleep_for(300ms);
      if (!w.write("piece")) return;
    }
  });
  TestServer server(std::move(router));
  auto call = [&](std::chrono::milliseconds first_byte, std::chrono::milliseconds idle) {
    CallOptions o;
    o.timeouts = CallTimeouts{2s, first_byte, idle, 0ms};
    return Client::stream("GET", server.url("/slow"), "", o, [](const std::string&) { return true; });
  };
  ClientResult r = call(150ms, 2s);
  ASSERT_FALSE(r.ok());
  EXPECT_TRUE(r.error->timed_out);
  EXPECT_EQ(r.error->stage, ClientError::Stage::kFirstByte);
  EXPECT_NE(r.error->message.find("(first byte)"), std::string::npos) << r.error->message;
  r = call(2s, 150ms);
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error->stage, ClientError::Stage::kBody);
  EXPECT_NE(r.error->message.find("(idle between reads)"), std::string::npos) << r.error->message;
  r = call(2s, 2s);
  ASSERT_TRUE(r.ok()) << r.error->message;
  // A whole-call bound caps everything.
  CallOptions o;
  o.timeouts = CallTimeouts{2s, 2s, 2s, 450ms};
  r = Client::request("GET", server.url("/slow"), "", o);
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error->message.find("(the whole call)"), std::string::npos) << r.error->message;
}

}  // namespace
}  // namespace net
