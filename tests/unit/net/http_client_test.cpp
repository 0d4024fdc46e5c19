#include <gtest/gtest.h>

#include <future>

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

}  // namespace
}  // namespace net
