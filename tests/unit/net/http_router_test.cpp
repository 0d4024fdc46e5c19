#include <gtest/gtest.h>

#include <stdexcept>

#include "net/http.h"

namespace net {
namespace {

Handler respond_with(int status) {
  return [status](const Request&) { return Response{status, "text/plain", "", {}}; };
}

int status_of(const Router::Match& match) {
  return (*match.handler)(Request{}).status;
}

TEST(Router, CapturesNamedSegments) {
  Router router;
  router.add("GET", "/inference/epochs/{index}/groups/{model}", respond_with(200));
  Router::Match match = router.match("GET", "/inference/epochs/42/groups/Qwen");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(match.params, (std::map<std::string, std::string>{{"index", "42"}, {"model", "Qwen"}}));
  EXPECT_EQ(router.match("GET", "/inference/epochs/42/groups").handler, nullptr);
  EXPECT_EQ(router.match("GET", "/inference/epochs/42/groups/Qwen/extra").handler, nullptr);
  EXPECT_EQ(router.match("GET", "/inference/epochs//groups/Qwen").handler, nullptr);
}

TEST(Router, RestCaptureTakesTheRemainderWithSlashes) {
  Router router;
  router.add("POST", "/{version}/api/v1/{rest...}", respond_with(200));
  Router::Match match = router.match("POST", "/v3.0.8/api/v1/inference/chat/completions/");
  ASSERT_NE(match.handler, nullptr);
  EXPECT_EQ(match.params.at("version"), "v3.0.8");
  EXPECT_EQ(match.params.at("rest"), "inference/chat/completions/");

  Router::Match empty_rest = router.match("POST", "/v1/api/v1");
  ASSERT_NE(empty_rest.handler, nullptr);
  EXPECT_EQ(empty_rest.params.at("rest"), "");
  EXPECT_EQ(router.match("POST", "/v1/api/v2/x").handler, nullptr);
}

TEST(Router, FirstMatchingRouteInRegistrationOrderWins) {
  Router router;
  router.add("GET", "/models/special", respond_with(201));
  router.add("GET", "/models/{id}", respond_with(202));
  router.add("GET", "/{rest...}", respond_with(203));
  EXPECT_EQ(status_of(router.match("GET", "/models/special")), 201);
  EXPECT_EQ(status_of(router.match("GET", "/models/other")), 202);
  EXPECT_EQ(status_of(router.match("GET", "/anything/else")), 203);
}

TEST(Router, SamePathWithSeveralMethodsPicksTheMethod) {
  Router router;
  router.add("GET", "/nodes", respond_with(200));
  router.add("POST", "/nodes", respond_with(201));
  EXPECT_EQ(status_of(router.match("GET", "/nodes")), 200);
  EXPECT_EQ(status_of(router.match("POST", "/nodes")), 201);
}

TEST(Router, KnownPathWithAnotherMethodIsReportedForA405) {
  Router router;
  router.add("POST", "/nodes/{id}", respond_with(200));
  Router::Match wrong_method = router.match("GET", "/nodes/7");
  EXPECT_EQ(wrong_method.handler, nullptr);
  EXPECT_EQ(wrong_method.stream, nullptr);
  EXPECT_TRUE(wrong_method.path_known);

  Router::Match unknown = router.match("GET", "/other");
  EXPECT_EQ(unknown.handler, nullptr);
  EXPECT_FALSE(unknown.path_known);
}

TEST(Router, StreamRoutesAreReturnedAsStreams) {
  Router router;
  router.add_stream("GET", "/events/blocks", [](const Request&, ResponseWriter&) {});
  Router::Match match = router.match("GET", "/events/blocks");
  EXPECT_EQ(match.handler, nullptr);
  EXPECT_NE(match.stream, nullptr);
}

TEST(Router, RootAndTrailingSlash) {
  Router router;
  router.add("GET", "/", respond_with(200));
  router.add("GET", "/v1/models", respond_with(201));
  EXPECT_EQ(status_of(router.match("GET", "/")), 200);
  EXPECT_EQ(status_of(router.match("GET", "/v1/models/")), 201);
}

TEST(Router, RejectsARestCaptureThatIsNotLast) {
  Router router;
  EXPECT_THROW(router.add("GET", "/{rest...}/tail", respond_with(200)), std::invalid_argument);
}

}  // namespace
}  // namespace net
