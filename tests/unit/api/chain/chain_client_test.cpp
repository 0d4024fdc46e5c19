#include "api/chain/chain_client.h"

#include <gtest/gtest.h>

#include "fake_chain_rpc.h"

namespace api::chain {
namespace {

using namespace std::chrono_literals;
using testing::FakeChainRpc;

constexpr const char* kEpoch = R"({"epoch_index": 3, "upcoming_epoch_index": null, "latest_epoch_index": 3,
  "block_height": 95, "phase": "inference",
  "stages": {"pre_poc_selection": 89, "poc_start": 90, "poc_wind_down": 94, "poc_end": 96, "poc_exchange_end": 98,
             "validation_start": 98, "validation_wind_down": 102, "validation_end": 103, "model_loading_start": 104,
             "set_new_validators": 108, "settlement": 108, "next_poc_start": 120},
  "params": {"epoch_length": 30, "epoch_shift": 0, "poc_stage_duration": 6, "poc_exchange_duration": 2,
             "poc_validation_delay": 2, "poc_validation_duration": 5, "model_loading_duration": 4,
             "wind_down_percent": 80, "default_unit_of_compute_price": 100}})";

constexpr const char* kModel =
    R"({"id": "Qwen/QwQ-32B", "proposed_by": "genesis", "units_of_compute_per_token": 1000,
  "context_window": 32768, "quantization": "fp8", "hf_repo": "Qwen/QwQ-32B", "hf_commit": "abc",
  "model_args": ["--tp", "2"], "v_ram": 80, "throughput_per_nonce": 10,
  "validation_threshold": {"value": 85, "exponent": -2}})";

std::string group_json(const std::string& member_extra) {
  return std::string(
             R"({"epoch_group": {"epoch_index": 3, "model_id": "Qwen/QwQ-32B", "poc_start_block_height": 90,
    "formed_height": 103, "effective_block_height": 108, "total_weight": 70, "sub_group_models": [],
    "validation_weights": [{"member_address": "gonka1a", "weight": 70, "url": "http://a", )") +
         member_extra + R"(}], "model_snapshot": )" + kModel + "}}";
}

TEST(ChainClient, StatusReadsChainIdHeightAndLatestHash) {
  FakeChainRpc rpc;
  rpc.set("/status", 200,
          R"({"chain_id": "t", "height": 42, "app_hash": "AA", "latest_block_hash": "BEEF"})");
  auto s = ChainClient(rpc.url()).status();
  ASSERT_TRUE(s) << s.error().message;
  EXPECT_EQ(s->chain_id, "t");
  EXPECT_EQ(s->height, 42u);
  EXPECT_EQ(s->latest_block_hash, "BEEF");
}

TEST(ChainClient, MalformedOrMissingFieldsAreNamedInTheError) {
  FakeChainRpc rpc;
  rpc.set("/status", 200, R"({"chain_id": "t", "height": "42"})");
  rpc.set("/auth/accounts/gonka1a", 200, R"({"address": "gonka1a", "account_number": "7"})");
  rpc.set("/inference/epoch", 200, "{not json");
  ChainClient client(rpc.url());

  auto s = client.status();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, kMalformedAnswer);
  EXPECT_EQ(s.error().message, "GET /status: field \"height\" must be a non-negative integer");
  auto a = client.account("gonka1a");
  ASSERT_FALSE(a);
  EXPECT_EQ(a.error().message, "GET /auth/accounts/gonka1a: field \"sequence\" is missing");
  auto e = client.epoch();
  ASSERT_FALSE(e);
  EXPECT_EQ(e.error().code, kMalformedAnswer);
  EXPECT_NE(e.error().message.find("not valid JSON"), std::string::npos);
}

TEST(ChainClient, NestedFieldErrorsGiveTheirPath) {
  FakeChainRpc rpc;
  rpc.set(
      "/inference/epoch-groups/current/Qwen/QwQ-32B", 200,
      group_json(
          R"("ml_nodes": [{"node_id": "n1", "throughput": 5, "poc_weight": 7, "timeslot_allocation": [true, 1]}])"));
  auto g = ChainClient(rpc.url()).epoch_group(GroupEpoch::kCurrent, "Qwen/QwQ-32B");
  ASSERT_FALSE(g);
  EXPECT_EQ(g.error().message,
            "GET /inference/epoch-groups/current/Qwen/QwQ-32B: field "
            "\"epoch_group.validation_weights[0].ml_nodes[0].timeslot_allocation[1]\" must be true or false");
}

TEST(ChainClient, ParsesEpochGroupModelsVersionParticipantAndNodes) {
  FakeChainRpc rpc;
  rpc.set("/inference/epoch", 200, kEpoch);
  rpc.set(
      "/inference/epoch-groups/upcoming/Qwen/QwQ-32B", 200,
      group_json(
          R"("ml_nodes": [{"node_id": "n1", "throughput": 5, "poc_weight": 7, "timeslot_allocation": [true, false]}])"));
  rpc.set("/inference/governance/models", 200, std::string(R"({"models": [)") + kModel + "]}");
  rpc.set("/inference/mlnode-version", 200,
          R"({"mlnode_version": {"current_mlnode_version": "v3.0.7"}, "next_upgrade": {"height": 500,
              "node_version": "v3.0.8", "api_binaries_json": "", "status": "pending"}})");
  rpc.set(
      "/inference/participants/gonka1a", 200,
      R"({"participant": {"address": "gonka1a", "url": "http://a", "validator_public_key": "", "status": "ACTIVE", "join_height": 3}})");
  rpc.set(
      "/inference/hardware-nodes/gonka1a", 200,
      R"({"participant": "gonka1a", "nodes": [{"local_id": "gpu-1", "status": "INFERENCE", "models": ["Qwen/QwQ-32B"],
              "hardware": [{"type": "H100", "count": 8}], "host": "10.0.0.1", "inference_port": 5000, "poc_port": 8080}]})");
  ChainClient client(rpc.url());

  auto e = client.epoch();
  ASSERT_TRUE(e) << e.error().message;
  EXPECT_EQ(e->epoch_index, 3u);
  EXPECT_FALSE(e->upcoming_epoch_index);
  EXPECT_EQ(e->phase, "inference");
  EXPECT_EQ(e->stages.next_poc_start, 120u);
  EXPECT_EQ(e->params.epoch_length, 30u);

  auto g = client.epoch_group(GroupEpoch::kUpcoming, "Qwen/QwQ-32B");
  ASSERT_TRUE(g) << g.error().message;
  EXPECT_EQ(g->model_id, "Qwen/QwQ-32B");
  ASSERT_EQ(g->validation_weights.size(), 1u);
  EXPECT_EQ(g->validation_weights[0].ml_nodes[0].timeslot_allocation, (std::vector<bool>{true, false}));
  ASSERT_TRUE(g->model_snapshot);
  EXPECT_EQ(g->model_snapshot->model_args, (std::vector<std::string>{"--tp", "2"}));

  auto models = client.governance_models();
  ASSERT_TRUE(models) << models.error().message;
  ASSERT_EQ(models->size(), 1u);
  EXPECT_EQ((*models)[0].throughput_per_nonce, 10u);

  auto v = client.mlnode_version();
  ASSERT_TRUE(v) << v.error().message;
  EXPECT_EQ(v->current_mlnode_version, "v3.0.7");
  ASSERT_TRUE(v->next_upgrade);
  EXPECT_EQ(v->next_upgrade->height, 500u);
  EXPECT_EQ(v->next_upgrade->node_version, "v3.0.8");

  auto p = client.participant("gonka1a");
  ASSERT_TRUE(p) << p.error().message;
  EXPECT_EQ(p->status, "ACTIVE");
  auto nodes = client.hardware_nodes("gonka1a");
  ASSERT_TRUE(nodes) << nodes.error().message;
  ASSERT_EQ(nodes->size(), 1u);
  EXPECT_EQ((*nodes)[0].hardware[0].count, 8u);
  EXPECT_EQ((*nodes)[0].poc_port, 8080u);
}

TEST(ChainClient, HttpErrorCarriesStatusAndTheNodesMessage) {
  FakeChainRpc rpc;
  auto b = ChainClient(rpc.url()).block(9);
  ASSERT_FALSE(b);
  EXPECT_EQ(b.error().code, 404u);
  EXPECT_EQ(b.error().message, "GET /blocks/9: HTTP 404: nothing at /blocks/9");
}

TEST(ChainClient, SlowAnswerIsATimeout) {
  FakeChainRpc rpc;
  rpc.set("/status", 200, R"({"chain_id": "t", "height": 1})");
  rpc.set_delay(400ms);
  ChainClientOptions options;
  options.timeout = 100ms;
  auto s = ChainClient(rpc.url(), options).status();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, kTimeoutError);
}

TEST(ChainClient, UnreachableNodeIsATransportErrorAfterBoundedRetries) {
  std::string url;
  {
    FakeChainRpc gone;
    url = gone.url();
  }
  ChainClientOptions options;
  options.get_attempts = 3;
  options.retry_delay = 1ms;
  auto s = ChainClient(url, options).status();
  ASSERT_FALSE(s);
  EXPECT_EQ(s.error().code, kTransportError);
  EXPECT_NE(s.error().message.find("GET /status"), std::string::npos);
}

TEST(ChainClient, BroadcastPostsBase64AndReadsTheCheckTxAnswer) {
  FakeChainRpc rpc;
  std::string posted;
  rpc.on_broadcast([&](const net::Request& req) {
    posted = req.body;
    return net::json_response(200, R"({"code": 32, "log": "sequence mismatch", "txhash": "AB"})");
  });
  auto r = ChainClient(rpc.url()).broadcast("\x01\x02");
  ASSERT_TRUE(r) << r.error().message;
  EXPECT_EQ(r->code, 32u);
  EXPECT_EQ(r->txhash, "AB");
  EXPECT_EQ(posted, R"({"tx":"AQI="})");
}

}  // namespace
}  // namespace api::chain
