#include <gtest/gtest.h>

#include "api/mlnode/mlnode_client.h"
#include "fake_mlnode.h"

namespace api::mlnode {
namespace {

using namespace std::chrono_literals;
using nlohmann::json;

std::string node_error(const std::string& code, const std::string& message) {
  return json{{"error", {{"code", code}, {"message", message}}}}.dump();
}

class MlNodeClientErrorsTest : public ::testing::Test {
 protected:
  FakeMlNode node;
  MlNodeClient client{node.inference_base(), node.poc_base(), "v3.0.8"};
};

TEST_F(MlNodeClientErrorsTest, AConflictMeansTheNodeIsBusyWithAnotherService) {
  const std::string message = "the ML node is running INFERENCE; stop it first";
  node.reply("POST /api/v1/pow/init/generate", {409, node_error("conflict", message)});
  auto init = client.pow_init_generate(PowInitRequest{});
  ASSERT_FALSE(init.ok());
  EXPECT_TRUE(init.error().busy());
  EXPECT_EQ(init.error().kind, ErrorKind::kHttpStatus);
  EXPECT_EQ(init.error().status, 409);
  EXPECT_EQ(init.error().remote_message, message);
  EXPECT_EQ(init.error().message, "POST /api/v1/pow/init/generate: HTTP 409: " + message);
}

TEST_F(MlNodeClientErrorsTest, AnotherVersionsPrefixIsA404NotBusy) {
  MlNodeClient other = client.for_version("v9.9.9");
  auto state = other.state();
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().kind, ErrorKind::kHttpStatus);
  EXPECT_EQ(state.error().status, 404);
  EXPECT_FALSE(state.error().busy());
  EXPECT_EQ(state.error().remote_message, "no route /v9.9.9/api/v1/state on version v3.0.8");
}

TEST_F(MlNodeClientErrorsTest, AServerErrorCarriesTheNodesMessage) {
  node.reply("POST /api/v1/inference/up", {500, node_error("internal_error", "vLLM exited with code 1")});
  auto up = client.inference_up({"m", {}, {}});
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.error().status, 500);
  EXPECT_EQ(up.error().remote_message, "vLLM exited with code 1");
}

TEST_F(MlNodeClientErrorsTest, AnErrorBodyThatIsNotJsonIsQuotedInTheMessage) {
  node.reply("GET /api/v1/state", {502, "Bad Gateway", "text/plain"});
  auto state = client.state();
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().remote_message, "");
  EXPECT_EQ(state.error().message, "GET /api/v1/state: HTTP 502: Bad Gateway");
}

TEST_F(MlNodeClientErrorsTest, AnOkStatusOtherThanOkInTheBodyIsABadResponse) {
  node.reply("POST /api/v1/inference/up", {200, json{{"status", "ERROR"}, {"model", "m"}}.dump()});
  auto up = client.inference_up({"m", {}, {}});
  ASSERT_FALSE(up.ok());
  EXPECT_EQ(up.error().kind, ErrorKind::kBadResponse);
  EXPECT_EQ(up.error().message, "POST /api/v1/inference/up: field \"status\" is \"ERROR\", expected \"OK\"");
}

TEST_F(MlNodeClientErrorsTest, MalformedJsonIsABadResponseNamingTheRoute) {
  node.reply("GET /api/v1/pow/status", {200, "{\"status\": "});
  auto status = client.pow_status();
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::kBadResponse);
  EXPECT_EQ(status.error().status, 200);
  EXPECT_EQ(status.error().message, "GET /api/v1/pow/status: the body is not valid JSON");
}

TEST_F(MlNodeClientErrorsTest, ABodyThatIsNotAnObjectIsABadResponse) {
  node.reply("GET /v1/models", {200, "[1, 2]"});
  auto models = client.models();
  ASSERT_FALSE(models.ok());
  EXPECT_EQ(models.error().message, "GET /v1/models: the body must be a JSON object, got array");
}

TEST_F(MlNodeClientErrorsTest, AMissingFieldIsABadResponseNamingTheField) {
  node.reply("GET /api/v1/state", {200, json{{"state", "POW"}, {"backend", "builtin"}}.dump()});
  auto state = client.state();
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().kind, ErrorKind::kBadResponse);
  EXPECT_EQ(state.error().message, "GET /api/v1/state: field \"version\" is missing");
}

TEST_F(MlNodeClientErrorsTest, AWrongTypedFieldNamesTheFieldAndTheTypes) {
  node.reply("POST /tokenize",
             {200, json{{"count", "3"}, {"max_model_len", 10}, {"tokens", json::array()}}.dump()});
  auto tokens = client.tokenize({"m", "hi", std::nullopt});
  ASSERT_FALSE(tokens.ok());
  EXPECT_EQ(tokens.error().message,
            "POST /tokenize: field \"count\" must be a non-negative integer, got string");
}

TEST_F(MlNodeClientErrorsTest, AnUnknownStateListsTheExpectedValues) {
  node.reply("GET /api/v1/state", {200, json{{"state", "TRAIN"}, {"version", "v"}, {"backend", "b"}}.dump()});
  auto state = client.state();
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().message,
            "GET /api/v1/state: field \"state\" is \"TRAIN\"; expected one of STOPPED, INFERENCE, POW");
}

TEST_F(MlNodeClientErrorsTest, ANestedFieldErrorNamesTheParentObject) {
  json status = {
      {"status", "IDLE"}, {"is_model_initialized", true}, {"nonces_per_second", 0}, {"nonces_computed", 0}};
  node.reply("POST /api/v1/pow/init/validate", {200, json{{"status", "OK"}, {"pow_status", status}}.dump()});
  auto init = client.pow_init_validate(PowInitRequest{});
  ASSERT_FALSE(init.ok());
  EXPECT_EQ(init.error().message, "POST /api/v1/pow/init/validate: field \"pow_status.hits\" is missing");
}

TEST_F(MlNodeClientErrorsTest, AChatCompletionWithoutUsageIsABadResponse) {
  node.reply("POST /v1/chat/completions", {200, json{{"choices", json::array()}}.dump()});
  auto chat = client.chat_completions({{"model", "m"}});
  ASSERT_FALSE(chat.ok());
  EXPECT_EQ(chat.error().message, "POST /v1/chat/completions: field \"usage\" is missing");
}

TEST_F(MlNodeClientErrorsTest, ASlowNodeIsATimeoutAndIsNotRetried) {
  MlNodeClientOptions options;
  options.timeouts.state = 200ms;
  MlNodeClient impatient(node.inference_base(), node.poc_base(), "v3.0.8", options);
  FakeReply slow{200, "{}"};
  slow.delay = 10s;
  node.reply("GET /api/v1/state", slow);
  auto state = impatient.state();
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().kind, ErrorKind::kTimeout);
  EXPECT_EQ(state.error().status, 0);
  EXPECT_EQ(state.error().attempts, 1);
  EXPECT_EQ(node.requests().size(), 1u);
}

class UnreachableNodeTest : public ::testing::Test {
 protected:
  UnreachableNodeTest() {
    FakeMlNode gone;
    inference_base = gone.inference_base();
    poc_base = gone.poc_base();
  }
  MlNodeClient client() const {
    MlNodeClientOptions options;
    options.retry_backoff = 1ms;
    return MlNodeClient(inference_base, poc_base, "v3.0.8", options);
  }
  std::string inference_base;
  std::string poc_base;
};

TEST_F(UnreachableNodeTest, ARefusedConnectionIsATransportErrorAndGetsAreRetried) {
  auto state = client().state();
  ASSERT_FALSE(state.ok());
  EXPECT_EQ(state.error().kind, ErrorKind::kTransport);
  EXPECT_EQ(state.error().status, 0);
  EXPECT_EQ(state.error().attempts, 3);
  EXPECT_NE(state.error().message.find("Connection refused (after 3 attempts)"), std::string::npos)
      << state.error().message;
}

TEST_F(UnreachableNodeTest, PostsAreNotRetried) {
  auto stopped = client().stop();
  ASSERT_FALSE(stopped.ok());
  EXPECT_EQ(stopped.error().kind, ErrorKind::kTransport);
  EXPECT_EQ(stopped.error().attempts, 1);
}

TEST_F(UnreachableNodeTest, AStreamToAnUnreachableNodeIsATransportError) {
  auto summary = client().chat_completions_stream({{"model", "m"}}, [](const ChatChunk&) { return true; });
  ASSERT_FALSE(summary.ok());
  EXPECT_EQ(summary.error().kind, ErrorKind::kTransport);
}

}  // namespace
}  // namespace api::mlnode
