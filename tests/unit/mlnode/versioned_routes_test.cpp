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
  r.add("GET", "/api/v1/state",
        [](const net::Request&) { return net::json_response(200, R"({"state":"STOPPED"})"); });
  r.add(
      "POST", "/tokenize", [](const net::Request&) { return net::json_response(200, "{}"); },
      ErrorShape::kOpenAi);
  r.add_fallback(ErrorShape::kApi);
  return router;
}

// The inference port's router: OpenAI error shape everywhere.
net::Router make_inference_router() {
  net::Router router;
  VersionedRouter r("v3.0.8", router);
  r.add(
      "POST", "/v1/chat/completions", [](const net::Request&) { return net::json_response(200, "{}"); },
      ErrorShape::kOpenAi);
  r.add(
      "GET", "/v1/models", [](const net::Request&) { return net::json_response(200, "{}"); },
      ErrorShape::kOpenAi);
  r.add(
      "GET", "/v1/models/{id...}",
      [](const net::Request& q) {
        return net::json_response(200, nlohmann::json{{"id", q.path_params.at("id")}}.dump());
      },
      ErrorShape::kOpenAi);
  r.add_fallback(ErrorShape::kOpenAi);
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

// Issue 14, fault 10: unknown paths were read as a version prefix ("serves version v3.0.8, not v1").
TEST(VersionedRouter, UnknownRoutes404AndWrongMethods405InTheOpenAiShape) {
  const auto router = make_inference_router();
  const auto model = call(router, "GET", "/v1/models/Qwen/Qwen2.5-7B-Instruct");
  EXPECT_EQ(model.status, 200);
  EXPECT_EQ(nlohmann::json::parse(model.body)["id"], "Qwen/Qwen2.5-7B-Instruct");
  EXPECT_EQ(call(router, "GET", "/v3.0.8/v1/models/m").status, 200);

  const auto completions = call(router, "POST", "/v1/completions");
  EXPECT_EQ(completions.status, 404);
  const auto j = nlohmann::json::parse(completions.body);
  EXPECT_EQ(j["error"]["type"], "invalid_request_error");
  EXPECT_EQ(j["error"]["message"].get<std::string>().find("not v1"), std::string::npos) << completions.body;

  const auto get_chat = call(router, "GET", "/v1/chat/completions");
  EXPECT_EQ(get_chat.status, 405);
  EXPECT_EQ(get_chat.headers.at("allow"), "POST");
  EXPECT_EQ(nlohmann::json::parse(get_chat.body)["error"]["type"], "invalid_request_error");
  EXPECT_EQ(call(router, "DELETE", "/v3.0.8/v1/models").status, 405);
  EXPECT_EQ(call(router, "PATCH", "/nothing").status, 404);

  // Another version's prefix of a known route is still named as such.
  const auto other = call(router, "POST", "/v3.0.6/v1/chat/completions");
  EXPECT_EQ(other.status, 404);
  EXPECT_NE(other.body.find("not v3.0.6"), std::string::npos);
}

// Issue 14, fault 6 (repros/undecodable_path.sh): a path that is not UTF-8 made the JSON error throw (500).
TEST(VersionedRouter, UndecodablePathsGetAJsonError) {
  for (const auto& router : {make_router(), make_inference_router()}) {
    for (const std::string path :
         {"/\xff", "/v3.0.8/\xff", "/v1/chat/\xff", "/api/v1/\xc3", "/\xff/v1/models"}) {
      for (const std::string method : {"GET", "POST", "PATCH"}) {
        const auto r = call(router, method, path);
        EXPECT_TRUE(r.status == 404 || r.status == 400 || r.status == 405) << method << " " << path;
        EXPECT_FALSE(nlohmann::json::parse(r.body, nullptr, false).is_discarded()) << r.body;
      }
    }
  }
}

TEST(VersionedRouter, VersionLikeSegments) {
  EXPECT_TRUE(looks_like_version("v3.0.6"));
  EXPECT_TRUE(looks_like_version("v1"));
  EXPECT_FALSE(looks_like_version("api"));
  EXPECT_FALSE(looks_like_version("v"));
}

}  // namespace
}  // namespace mlnode
