#include "mlnode/poc/messages.h"

#include <gtest/gtest.h>

#include <nlohmann/json.hpp>

namespace mlnode::poc {
namespace {

using nlohmann::json;

json valid_init() {
  return {{"node_id", 0},           {"node_count", 2},      {"block_hash", "ABCD"}, {"block_height", 10},
          {"public_key", "02ff"},   {"batch_size", 50},     {"r_target", 1.4},      {"fraud_threshold", 1e-7},
          {"url", "http://127.0.0.1:9/v1/poc-batches/"},    {"params", {{"dim", 64}, {"n_heads", 4}}}};
}

TEST(InitRequest, ParsesAllFieldsAndStripsTrailingSlashOfTheCallback) {
  auto r = parse_init_request(valid_init());
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r->node_count, 2);
  EXPECT_EQ(r->params.dim, 64);
  EXPECT_EQ(r->params.n_layers, ModelParams{}.n_layers);
  EXPECT_EQ(r->url, "http://127.0.0.1:9/v1/poc-batches");
}

TEST(InitRequest, ErrorsNameTheField) {
  auto j = valid_init();
  j.erase("block_hash");
  EXPECT_NE(parse_init_request(j).error().message.find("block_hash"), std::string::npos);
  j = valid_init();
  j["node_id"] = "zero";
  EXPECT_NE(parse_init_request(j).error().message.find("node_id"), std::string::npos);
  j = valid_init();
  j["params"]["dim"] = 30;  // not a multiple of 4 heads
  EXPECT_NE(parse_init_request(j).error().message.find("multiple of params.n_heads"), std::string::npos);
  j = valid_init();
  j["params"]["n_layers"] = 1000;
  EXPECT_NE(parse_init_request(j).error().message.find("params.n_layers"), std::string::npos);
  j = valid_init();
  j["url"] = "ftp://x";
  EXPECT_NE(parse_init_request(j).error().message.find("url"), std::string::npos);
  EXPECT_FALSE(parse_init_request(json::array()).ok());
}

TEST(ProofBatch, RejectsMismatchedArraysAndNegativeNonces) {
  json b = {{"public_key", "pk"}, {"block_hash", "h"}, {"block_height", 1}, {"nonces", {1, 2}}, {"dist", {0.5}}};
  EXPECT_NE(parse_proof_batch(b).error().message.find("same length"), std::string::npos);
  b["nonces"] = {-1};
  b["dist"] = {0.5};
  EXPECT_NE(parse_proof_batch(b).error().message.find("nonces[0]"), std::string::npos);
  b["nonces"] = {7};
  auto ok = parse_proof_batch(b);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->nonces[0], 7u);
}

TEST(JudgeBatch, HonestBatchHasNoMismatchTamperedBatchIsFraud) {
  ProofBatch b;
  for (uint64_t i = 0; i < 200; ++i) {
    b.nonces.push_back(i);
    b.dist.push_back(1.0 + i * 1e-3);
  }
  auto honest = judge_batch(b, b.dist, 1.4, 1e-7, 1e-4);
  EXPECT_EQ(honest.n_invalid, 0u);
  EXPECT_FALSE(honest.fraud_detected);

  ProofBatch tampered = b;
  for (int i = 0; i < 5; ++i) tampered.dist[i * 10] -= 0.2;  // claims better distances than computed
  auto fraud = judge_batch(tampered, b.dist, 1.4, 1e-7, 1e-4);
  EXPECT_EQ(fraud.n_invalid, 5u);
  EXPECT_TRUE(fraud.fraud_detected);
  EXPECT_EQ(fraud.received_dist, tampered.dist);
  EXPECT_EQ(fraud.batch.dist, b.dist);
}

TEST(JudgeBatch, ClaimedDistanceOverTargetCountsAsMismatch) {
  ProofBatch b;
  b.nonces = {1};
  b.dist = {1.5};
  EXPECT_EQ(judge_batch(b, {1.5}, 1.4, 1e-7, 1e-4).n_invalid, 1u);
}

}  // namespace
}  // namespace mlnode::poc

namespace mlnode::poc {
namespace {

TEST(ModelParams, RejectsNetworksTooLargeForTheCpuEngine) {
  auto r = parse_model_params(nlohmann::json{{"dim", 2048}, {"n_layers", 64}, {"ffn_dim", 8192}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("at most"), std::string::npos);
  EXPECT_TRUE(parse_model_params(nlohmann::json(nullptr)).ok());
}

}  // namespace
}  // namespace mlnode::poc
