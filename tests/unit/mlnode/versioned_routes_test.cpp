#include "mlnode/versioned_routes.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mlnode {
namespace {

net::Response call(const net::Router& router, const std::string& method, const std::string& path) {
  auto m = router.match(method, path);
  if (!m.handler) return net::Response{404, "application/json", "no match", {}};
  net::Request req;
  req.method = method;
  req.path = path;
  req.path_params = m.params;
  return (*m.handler)(req);
}

net::Router make_router() {
  net::Router router;
  VersionedRouter r("v3.0.8", router);
  r.add("GET", "/api/v1/state", [](const net::Request&) { return net::json_response(200, R"({"state":"STOPPED"})"); });
  r.add("POST", "/tokenize", [](const net::Request&) { return net::json_response(200, "{}"); }, ErrorShape::kOpenAi);
  r.add_fallback();
  return router;
}

TEST(VersionedRouter, ServesEveryRouteWithAndWithoutItsOwnVersion) {
  const auto router = make_router();
  EXPECT_EQ(call(router, "GET", "/api/v1/state").status, 200);
  EXPECT_EQ(call(router, "GET", "/v3.0.8/api/v1/state").status, 200);
  EXPECT_EQ(call(router, "POST", "/v3.0.8/tokenize").status, 200);
}

TEST(VersionedRouter, AnotherVersionGets404NamingBothVersions) {
  const auto router = make_router();
  const auto r = call(router, "GET", "/v3.0.6/api/v1/state");
  EXPECT_EQ(r.status, 404);
  const auto j = nlohmann::json::parse(r.body);
  const std::string message = j["error"]["message"];
  EXPECT_NE(message.find("serves version v3.0.8, not v3.0.6"), std::string::npos) << message;
  EXPECT_EQ(j["error"]["code"], "not_found");

  const auto openai = nlohmann::json::parse(call(router, "POST", "/v3.0.6/tokenize").body);
  EXPECT_EQ(openai["error"]["type"], "invalid_request_error") << "OpenAI error shape on OpenAI routes";

  const auto unknown = nlohmann::json::parse(call(router, "GET", "/v3.0.6/api/v1/nothing").body);
  EXPECT_NE(unknown["error"]["message"].get<std::string>().find("not v3.0.6"), std::string::npos);
  const auto plain = call(router, "GET", "/api/v1/nothing");
  EXPECT_EQ(plain.status, 404);
  EXPECT_NE(plain.body.find("no route GET /api/v1/nothing"), std::string::npos);
}

TEST(VersionedRouter, VersionLikeSegments) {
  EXPECT_TRUE(looks_like_version("v3.0.6"));
  EXPECT_TRUE(looks_like_version("v1"));
  EXPECT_FALSE(looks_like_version("api"));
  EXPECT_FALSE(looks_like_version("v"));
}

}  // namespace
}  // namespace mlnode
