#include "api/mlnode/mlnode_client.h"

#include <gtest/gtest.h>

#include "fake_mlnode.h"

namespace api::mlnode {
namespace {

using nlohmann::json;

constexpr const char* kModel = "Qwen/Qwen2.5-7B-Instruct";

FakeReply ok(const json& body) {
  return FakeReply{200, body.dump()};
}

json pow_status_json(const char* status) {
  return {{"status", status},
          {"is_model_initialized", true},
          {"nonces_per_second", 812.5},
          {"nonces_computed", 4000},
          {"hits", 7},
          {"node_id", 1},
          {"node_count", 2},
          {"block_height", 120},
          {"threads", 2}};
}

class MlNodeClientTest : public ::testing::Test {
 protected:
  FakeMlNode node;
  MlNodeClient client{node.inference_base(), node.poc_base(), "v3.0.8"};

  RecordedRequest only_request() const {
    auto requests = node.requests();
    EXPECT_EQ(requests.size(), 1u);
    return requests.empty() ? RecordedRequest{} : requests.front();
  }
};

TEST(MlNodeClientUrls, PutTheVersionBetweenBaseAndPathOnBothPorts) {
  MlNodeClient client("http://proxy:5050/", "http://proxy:8080", "v3.0.8");
  EXPECT_EQ(client.poc_url("/api/v1/state"), "http://proxy:8080/v3.0.8/api/v1/state");
  EXPECT_EQ(client.inference_url("/v1/chat/completions"), "http://proxy:5050/v3.0.8/v1/chat/completions");
}

TEST(MlNodeClientUrls, AnEmptyVersionGivesUnversionedUrls) {
  MlNodeClient client("http://proxy:5050", "http://proxy:8080", "");
  EXPECT_EQ(client.poc_url("/api/v1/stop"), "http://proxy:8080/api/v1/stop");
}

TEST(MlNodeClientUrls, ForVersionTargetsTheNewVersionAndLeavesTheOriginalAlone) {
  MlNodeClient old_client("http://proxy:5050", "http://proxy:8080", "v3.0.8");
  MlNodeClient new_client = old_client.for_version("v3.1.0");
  EXPECT_EQ(new_client.version(), "v3.1.0");
  EXPECT_EQ(new_client.inference_url("/health"), "http://proxy:5050/v3.1.0/health");
  EXPECT_EQ(old_client.inference_url("/health"), "http://proxy:5050/v3.0.8/health");
}

TEST_F(MlNodeClientTest, StateReadsStateVersionBackendAndModelFromThePocPort) {
  node.reply("GET /api/v1/state",
             ok({{"state", "INFERENCE"}, {"version", "v3.0.8"}, {"backend", "builtin"}, {"model", kModel}}));
  auto state = client.state();
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->state, NodeState::kInference);
  EXPECT_EQ(state->version, "v3.0.8");
  EXPECT_EQ(state->backend, "builtin");
  EXPECT_EQ(state->model, kModel);
  RecordedRequest request = only_request();
  EXPECT_EQ(request.port, "poc");
  EXPECT_EQ(request.method, "GET");
  EXPECT_EQ(request.path, "/v3.0.8/api/v1/state");
}

TEST_F(MlNodeClientTest, StateWithoutAModelLeavesItEmpty) {
  node.reply("GET /api/v1/state", ok({{"state", "STOPPED"}, {"version", "v3.0.8"}, {"backend", "builtin"}}));
  auto state = client.state();
  ASSERT_TRUE(state.ok()) << state.error().message;
  EXPECT_EQ(state->state, NodeState::kStopped);
  EXPECT_FALSE(state->model.has_value());
}

TEST_F(MlNodeClientTest, StopPostsJsonAndReturnsThePreviousState) {
  node.reply("POST /api/v1/stop",
             ok({{"status", "OK"}, {"state", "STOPPED"}, {"previous_state", "POW"}, {"version", "v3.0.8"}}));
  auto stopped = client.stop();
  ASSERT_TRUE(stopped.ok()) << stopped.error().message;
  EXPECT_EQ(stopped->previous_state, NodeState::kPow);
  RecordedRequest request = only_request();
  EXPECT_EQ(request.path, "/v3.0.8/api/v1/stop");
  EXPECT_EQ(request.content_type, "application/json");
  EXPECT_EQ(request.body, "{}");
}

TEST_F(MlNodeClientTest, InferenceUpSendsModelArgsAndAdditionalArgs) {
  node.reply("POST /api/v1/inference/up", ok({{"status", "OK"}, {"model", kModel}, {"args", {"--tp", "2"}}}));
  auto up = client.inference_up({kModel, {"--tp", "2"}, {"--enforce-eager"}});
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_EQ(up->model, kModel);
  EXPECT_FALSE(up->already_loaded);
  EXPECT_EQ(json::parse(only_request().body),
            json({{"model", kModel}, {"args", {"--tp", "2"}}, {"additional_args", {"--enforce-eager"}}}));
}

TEST_F(MlNodeClientTest, InferenceUpReportsAnAlreadyLoadedModel) {
  node.reply("POST /api/v1/inference/up",
             ok({{"status", "OK"}, {"model", kModel}, {"already_loaded", true}}));
  auto up = client.inference_up({kModel, {}, {}});
  ASSERT_TRUE(up.ok()) << up.error().message;
  EXPECT_TRUE(up->already_loaded);
}

TEST_F(MlNodeClientTest, PowInitGenerateAndValidateSendTheSameInitRequest) {
  json answer = {{"status", "OK"}, {"pow_status", pow_status_json("GENERATING")}};
  node.reply("POST /api/v1/pow/init/generate", ok(answer));
  answer["pow_status"]["status"] = "VALIDATING";
  node.reply("POST /api/v1/pow/init/validate", ok(answer));
  PowInitRequest init;
  init.node_id = 1;
  init.node_count = 2;
  init.block_hash = "ab12";
  init.block_height = 120;
  init.public_key = "02ff";
  init.r_target = 1.5;
  init.params.emplace();
  init.params->dim = 64;
  init.params->n_layers = 2;
  init.url = "http://dapi:9100/v1/poc-batches";

  auto generating = client.pow_init_generate(init);
  ASSERT_TRUE(generating.ok()) << generating.error().message;
  EXPECT_EQ(generating->status, PowPhase::kGenerating);
  auto validating = client.pow_init_validate(init);
  ASSERT_TRUE(validating.ok()) << validating.error().message;
  EXPECT_EQ(validating->status, PowPhase::kValidating);

  auto requests = node.requests();
  ASSERT_EQ(requests.size(), 2u);
  EXPECT_EQ(requests[0].path, "/v3.0.8/api/v1/pow/init/generate");
  EXPECT_EQ(requests[1].path, "/v3.0.8/api/v1/pow/init/validate");
  EXPECT_EQ(requests[0].body, requests[1].body);
  EXPECT_EQ(json::parse(requests[0].body), json({{"node_id", 1},
                                                 {"node_count", 2},
                                                 {"block_hash", "ab12"},
                                                 {"block_height", 120},
                                                 {"public_key", "02ff"},
                                                 {"r_target", 1.5},
                                                 {"params", {{"dim", 64}, {"n_layers", 2}}},
                                                 {"url", "http://dapi:9100/v1/poc-batches"}}));
}

TEST_F(MlNodeClientTest, PowValidateSendsTheProofBatchAndReturnsTheQueuedCount) {
  node.reply("POST /api/v1/pow/validate", ok({{"status", "OK"}, {"queued_nonces", 3}}));
  ProofBatch batch{"02ff", "ab12", 120, {5, 9, 13}, {0.5, 1.25, 0.75}, 1};
  auto queued = client.pow_validate(batch);
  ASSERT_TRUE(queued.ok()) << queued.error().message;
  EXPECT_EQ(queued->queued_nonces, 3u);
  EXPECT_EQ(json::parse(only_request().body), json({{"public_key", "02ff"},
                                                    {"block_hash", "ab12"},
                                                    {"block_height", 120},
                                                    {"nonces", {5, 9, 13}},
                                                    {"dist", {0.5, 1.25, 0.75}},
                                                    {"node_id", 1}}));
}

TEST_F(MlNodeClientTest, PowStatusReadsPhaseAndCounters) {
  node.reply("GET /api/v1/pow/status", ok(pow_status_json("GENERATING")));
  auto status = client.pow_status();
  ASSERT_TRUE(status.ok()) << status.error().message;
  EXPECT_EQ(status->status, PowPhase::kGenerating);
  EXPECT_TRUE(status->is_model_initialized);
  EXPECT_DOUBLE_EQ(status->nonces_per_second, 812.5);
  EXPECT_EQ(status->nonces_computed, 4000u);
  EXPECT_EQ(status->hits, 7u);
  EXPECT_EQ(status->node_id, 1);
  EXPECT_EQ(status->block_height, 120);
  EXPECT_EQ(only_request().path, "/v3.0.8/api/v1/pow/status");
}

TEST_F(MlNodeClientTest, HealthIsServingOn200FromTheInferencePort) {
  node.reply("GET /health",
             ok({{"status", "ok"}, {"state", "INFERENCE"}, {"version", "v3.0.8"}, {"model", kModel}}));
  auto health = client.health();
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_TRUE(health->serving);
  EXPECT_EQ(health->model, kModel);
  RecordedRequest request = only_request();
  EXPECT_EQ(request.port, "inference");
  EXPECT_EQ(request.path, "/v3.0.8/health");
}

TEST_F(MlNodeClientTest, HealthIsAnAnswerNotAnErrorWhenTheNodeIsNotServing) {
  node.reply("GET /health", {503, json{{"status", "unavailable"},
                                       {"state", "POW"},
                                       {"version", "v3.0.8"},
                                       {"reason", "serves inference only in state INFERENCE"}}
                                      .dump()});
  auto health = client.health();
  ASSERT_TRUE(health.ok()) << health.error().message;
  EXPECT_FALSE(health->serving);
  EXPECT_EQ(health->state, "POW");
  EXPECT_EQ(health->reason, "serves inference only in state INFERENCE");
}

TEST_F(MlNodeClientTest, ModelsListsTheLoadedModel) {
  node.reply(
      "GET /v1/models",
      ok({{"object", "list"}, {"data", {{{"id", kModel}, {"object", "model"}, {"max_model_len", 4096}}}}}));
  auto models = client.models();
  ASSERT_TRUE(models.ok()) << models.error().message;
  ASSERT_EQ(models->data.size(), 1u);
  EXPECT_EQ(models->data[0].id, kModel);
  EXPECT_EQ(models->data[0].max_model_len, 4096);
  EXPECT_EQ(only_request().path, "/v3.0.8/v1/models");
}

TEST_F(MlNodeClientTest, TokenizeSendsThePromptAndReturnsCountAndTokens) {
  node.reply("POST /tokenize", ok({{"count", 3}, {"max_model_len", 4096}, {"tokens", {11, 12, 13}}}));
  auto tokens = client.tokenize({kModel, "hello there friend", std::nullopt});
  ASSERT_TRUE(tokens.ok()) << tokens.error().message;
  EXPECT_EQ(tokens->count, 3u);
  EXPECT_EQ(tokens->max_model_len, 4096);
  EXPECT_EQ(tokens->tokens, (std::vector<int64_t>{11, 12, 13}));
  RecordedRequest request = only_request();
  EXPECT_EQ(request.path, "/v3.0.8/tokenize");
  EXPECT_EQ(json::parse(request.body), json({{"model", kModel}, {"prompt", "hello there friend"}}));
}

TEST_F(MlNodeClientTest, ChatCompletionsAsksForNoStreamAndReturnsTheBodyAndUsage) {
  const json completion = {
      {"id", "chatcmpl-1"},
      {"object", "chat.completion"},
      {"choices", {{{"index", 0}, {"message", {{"role", "assistant"}, {"content", "hi"}}}}}},
      {"usage", {{"prompt_tokens", 4}, {"completion_tokens", 1}, {"total_tokens", 5}}}};
  node.reply("POST /v1/chat/completions", ok(completion));
  auto chat = client.chat_completions({{"model", kModel}, {"stream", true}, {"messages", json::array()}});
  ASSERT_TRUE(chat.ok()) << chat.error().message;
  EXPECT_EQ(chat->body, completion);
  EXPECT_EQ(chat->usage.prompt_tokens, 4u);
  EXPECT_EQ(chat->usage.total_tokens, 5u);
  RecordedRequest request = only_request();
  EXPECT_EQ(request.path, "/v3.0.8/v1/chat/completions");
  EXPECT_EQ(json::parse(request.body)["stream"], false);
}

TEST_F(MlNodeClientTest, MetricsReturnsThePrometheusText) {
  node.reply("GET /metrics", {200, "mlnode_chat_requests_total 3\n", "text/plain; version=0.0.4"});
  auto metrics = client.metrics();
  ASSERT_TRUE(metrics.ok()) << metrics.error().message;
  EXPECT_EQ(*metrics, "mlnode_chat_requests_total 3\n");
  EXPECT_EQ(only_request().path, "/v3.0.8/metrics");
}

}  // namespace
}  // namespace api::mlnode
