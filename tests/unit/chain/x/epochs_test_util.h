// Shared fixture of the epochs/poc/weights/groups tests: a localnet-params chain (epoch 1 PoC at 10, batch
// window [11, 18], validation window [19, 23], formation 23, ready 24, switch 27, epoch 2 PoC at 40) with a
// genesis validator `val` (power 10) and three participants: alice (a-1: [7B, 32B], a-2: [32B]), bob (b-1:
// [7B]), carol (c-1: [32B]); dave is funded but not a participant.
#pragma once

#include <gtest/gtest.h>

#include "app/test_chain.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/groups/groups.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/poc/poc.h"
#include "common/participant_key.h"

namespace chain::test {

inline constexpr const char* k7B = "Qwen/Qwen2.5-7B-Instruct";
inline constexpr const char* k32B = "Qwen/QwQ-32B";

inline x::nodes::HardwareNode hw_node(const std::string& id, std::vector<std::string> models) {
  x::nodes::HardwareNode n;
  n.set_local_id(id);
  n.set_status(inference::inference::HARDWARE_NODE_STATUS_INFERENCE);
  for (auto& m : models) n.add_models(m);
  auto* hw = n.add_hardware();
  hw->set_type("NVIDIA H100 80GB");
  hw->set_count(1);
  n.set_host("10.0.0.5");
  n.set_inference_port(8080);
  n.set_poc_port(8081);
  return n;
}

inline std::vector<uint64_t> range(uint64_t from, uint64_t to) {  // [from, to)
  std::vector<uint64_t> out;
  for (uint64_t i = from; i < to; ++i) out.push_back(i);
  return out;
}

class EpochsFixture : public ::testing::Test {
 protected:
  void SetUp() override {
    val = make_account(10);
    alice = make_account(11);
    bob = make_account(12);
    carol = make_account(13);
    dave = make_account(14);
    auto g = make_genesis({val, alice, bob, carol, dave}, 1'000'000'000);
    store::MemoryStore scratch;
    auto defaults = app::App(scratch).default_app_state("localnet");
    // The two Qwen models (every preset); localnet's extra CPU model is not used here.
    g.app_state["models"] = app::App(scratch).default_app_state("testnet")["models"];
    g.app_state["gov"] = defaults["gov"];
    customize(g);
    chain = std::make_unique<TestChain>(g);
    chain->block();
    register_participants();
  }
  virtual void customize(app::Genesis&) {}
  // The participants and their nodes (the header comment's); a fixture may register others.
  virtual void register_participants() {
    register_participant(alice, 1, {hw_node("a-1", {k7B, k32B}), hw_node("a-2", {k32B})});
    register_participant(bob, 2, {hw_node("b-1", {k7B})});
    register_participant(carol, 3, {hw_node("c-1", {k32B})});
  }

  // A real ed25519 validator key per seed: registration must prove its possession (issue 13).
  static common::ed25519::KeyPair validator_key_pair(uint8_t seed) {
    return *common::ed25519::from_seed(std::string(32, static_cast<char>(0x40 + seed)));
  }
  static std::string validator_key(uint8_t seed) { return validator_key_pair(seed).public_key; }

  void register_participant(TestAccount& who, uint8_t seed, std::vector<x::nodes::HardwareNode> nodes) {
    x::nodes::MsgSubmitNewParticipant p;
    p.set_creator(who.bech32);
    p.set_url("http://" + std::to_string(seed) + ".example:8000");
    p.set_validator_public_key(validator_key(seed));
    p.set_validator_key_signature(
        common::participant_key::sign(validator_key_pair(seed), kChainId, who.bech32));
    x::nodes::MsgSubmitHardwareDiff d;
    d.set_creator(who.bech32);
    for (auto& n : nodes) *d.add_new_or_modified() = n;
    auto out = chain->deliver(sign_tx(who, {tx_message(x::nodes::kMsgSubmitNewParticipantUrl, p),
                                            tx_message(x::nodes::kMsgSubmitHardwareDiffUrl, d)}));
    ASSERT_EQ(out.code, 0u) << out.log;
  }

  std::string hardware_diff_tx(TestAccount& who, std::vector<x::nodes::HardwareNode> nodes,
                               std::vector<std::string> removed = {}) {
    x::nodes::MsgSubmitHardwareDiff d;
    d.set_creator(who.bech32);
    for (auto& n : nodes) *d.add_new_or_modified() = n;
    for (auto& r : removed) d.add_removed(r);
    return sign_tx(who, {tx_message(x::nodes::kMsgSubmitHardwareDiffUrl, d)});
  }

  std::string batch_tx(TestAccount& who, const std::string& node, const std::string& batch_id,
                       const std::vector<uint64_t>& nonces, const std::string& creator = "") {
    x::poc::MsgSubmitPocBatch m;
    m.set_creator(creator.empty() ? who.bech32 : creator);
    m.set_node_id(node);
    m.set_batch_id(batch_id);
    for (auto n : nonces) {
      m.add_nonces(n);
      m.add_dist(0.25);
    }
    return sign_tx(who, {tx_message(x::poc::kMsgSubmitPocBatchUrl, m)});
  }

  std::string validation_tx(TestAccount& who, const TestAccount& participant, bool fraud = false) {
    x::poc::MsgSubmitPocValidation m;
    m.set_creator(who.bech32);
    m.set_participant_address(participant.bech32);
    m.set_fraud_detected(fraud);
    m.set_sample_size(200);
    m.set_n_invalid(fraud ? 50 : 0);
    return sign_tx(who, {tx_message(x::poc::kMsgSubmitPocValidationUrl, m)});
  }

  // Produces empty blocks until `height` is committed; returns their block events.
  std::vector<types::Event> run_until(uint64_t height) {
    std::vector<types::Event> events;
    while (chain->height() < height) {
      auto r = chain->block();
      events.insert(events.end(), r.events.begin(), r.events.end());
    }
    return events;
  }
  // Runs empty blocks so that the next block has `height`, then delivers `txs` in it.
  app::FinalizeResult block_at(uint64_t height, const std::vector<std::string>& txs) {
    EXPECT_LT(chain->height(), height);
    run_until(height - 1);
    return chain->block(txs);
  }
  void expect_ok(const app::FinalizeResult& r) {
    for (const auto& t : r.tx_results) EXPECT_EQ(t.code, 0u) << t.log;
  }
  void sync_all() {
    for (auto* a : {&val, &alice, &bob, &carol, &dave}) chain->sync(*a);
  }

  TestAccount val, alice, bob, carol, dave;
  std::unique_ptr<TestChain> chain;
};

}  // namespace chain::test
