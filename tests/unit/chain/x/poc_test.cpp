#include "chain/x/poc/poc.h"

#include <gtest/gtest.h>

#include "epochs_test_util.h"

using namespace chain;
using test::EpochsFixture;

namespace {
class PocTest : public EpochsFixture {};

std::string log_of(const app::FinalizeResult& r, size_t i = 0) {
  return r.tx_results.at(i).log;
}
}  // namespace

TEST_F(PocTest, BatchIsStoredWithItsNodeIdAndQueryableByNodeAndModel) {
  expect_ok(block_at(11, {batch_tx(alice, "a-1", "b1", {7, 3, 9}), batch_tx(alice, "a-2", "b1", {1, 2})}));
  expect_ok(chain->block({batch_tx(alice, "a-1", "b2", {9, 10})}));
  const auto& st = chain->state();
  auto a1 = x::poc::get_poc_batches_for_node(st, 1, alice.address, "a-1");
  ASSERT_EQ(a1.size(), 2u);
  EXPECT_EQ(a1[0].node_id(), "a-1");
  EXPECT_EQ(a1[0].batch_id(), "b1");
  EXPECT_EQ(a1[0].received_at_height(), 11u);
  EXPECT_EQ(a1[0].poc_start_height(), 10u);
  EXPECT_EQ(a1[1].batch_id(), "b2");
  // Duplicate nonces across batches of the same node count once: {3, 7, 9} ∪ {9, 10}.
  EXPECT_EQ(x::poc::calculate_node_weight(st, 1, alice.address, "a-1"), 4u);
  EXPECT_EQ(x::poc::calculate_node_weight(st, 1, alice.address, "a-2"), 2u);
  EXPECT_EQ(x::poc::get_poc_batches_for_model(st, 1, test::k32B).size(), 3u);  // a-1 (2) + a-2 (1)
  EXPECT_EQ(x::poc::get_poc_batches_for_model(st, 1, test::k7B).size(), 2u);   // a-1 only
  EXPECT_EQ(x::poc::calculate_model_power(st, 1, test::k32B), 6u);
  auto q = *chain->app.query("/inference/poc-batches/1/" + alice.bech32 + "/a-1", {});
  EXPECT_EQ(q["node_weight"], 4);
  EXPECT_EQ(q["batches"].size(), 2u);
  EXPECT_EQ(q["batches"][0]["node_id"], "a-1");
  auto qm = *chain->app.query("/inference/poc-batches-for-model/1/Qwen/QwQ-32B", {});
  EXPECT_EQ(qm["model_power"], "6");
  EXPECT_EQ((*chain->app.query("/inference/poc-batches/1", {}))["batches"].size(), 3u);
}

TEST_F(PocTest, BatchesOutsideTheWindowForAnotherNodeOrFromANonParticipantAreRejected) {
  // Before the window: the PoC start block (the epoch record is created in its EndBlock).
  auto r = block_at(10, {batch_tx(alice, "a-1", "early", {1})});
  EXPECT_NE(log_of(r).find("the next PoC starts at height 10"), std::string::npos) << log_of(r);
  // Someone else's node: bob has no node "a-1".
  r = chain->block({batch_tx(bob, "a-1", "steal", {1, 2, 3})});
  EXPECT_EQ(r.tx_results[0].code, codes::kUnauthorized);
  EXPECT_NE(log_of(r).find("has no node \"a-1\""), std::string::npos) << log_of(r);
  // Creator is not the signer.
  r = chain->block({batch_tx(bob, "b-1", "forged", {1}, alice.bech32)});
  EXPECT_EQ(r.tx_results[0].code, codes::kUnauthorized);
  // Not a participant at all.
  r = chain->block({batch_tx(dave, "d-1", "x", {1})});
  EXPECT_NE(log_of(r).find("is not a registered participant"), std::string::npos) << log_of(r);
  // Resubmitting a batch id.
  sync_all();
  expect_ok(chain->block({batch_tx(alice, "a-1", "b1", {1})}));
  r = chain->block({batch_tx(alice, "a-1", "b1", {2})});
  EXPECT_NE(log_of(r).find("already submitted"), std::string::npos) << log_of(r);
  // After the window.
  r = block_at(19, {batch_tx(alice, "a-1", "late", {5})});
  EXPECT_NE(log_of(r).find("is [11, 18]"), std::string::npos) << log_of(r);
  // Nothing but the one good batch was stored.
  EXPECT_EQ(x::poc::get_poc_batches_for_participant(chain->state(), 1, alice.address).size(), 1u);
  EXPECT_TRUE(x::poc::get_poc_batches_for_participant(chain->state(), 1, bob.address).empty());
}

TEST_F(PocTest, StatelessChecksRejectMalformedBatches) {
  x::poc::MsgSubmitPocBatch m;
  m.set_creator(alice.bech32);
  m.set_node_id("a-1");
  m.set_batch_id("b");
  m.add_nonces(1);
  auto check = [&](const std::string& want) {
    auto out = chain->app.check_tx(test::sign_tx(alice, {test::tx_message(x::poc::kMsgSubmitPocBatchUrl, m)}));
    chain->sync(alice);
    EXPECT_NE(out.code, 0u);
    EXPECT_NE(out.log.find(want), std::string::npos) << out.log;
  };
  check("one distance per nonce");
  m.add_dist(-1.0);
  check("dist[0] must be finite and non-negative");
  m.set_dist(0, std::numeric_limits<double>::quiet_NaN());
  check("dist[0] must be finite and non-negative");
  m.set_dist(0, 0.5);
  m.set_node_id("bad id");
  check("node_id");
  m.set_node_id("a-1");
  m.clear_nonces();
  m.clear_dist();
  check("at least one nonce");
}

TEST_F(PocTest, ValidationsOnlyFromCurrentMembersInTheValidationWindow) {
  expect_ok(block_at(12, {batch_tx(alice, "a-1", "b", {1, 2})}));
  // Too early (the batch window is not the validation window).
  auto r = chain->block({validation_tx(val, alice)});
  EXPECT_NE(log_of(r).find("the validation window of epoch 1 is [19, 23]"), std::string::npos) << log_of(r);
  // Non-members of the current epoch (epoch 0 = the genesis validator only).
  r = block_at(19, {validation_tx(bob, alice), validation_tx(dave, alice)});
  EXPECT_NE(log_of(r, 0).find("is not a member of the current epoch 0"), std::string::npos) << log_of(r, 0);
  EXPECT_EQ(r.tx_results[1].code, codes::kUnauthorized);
  // A participant without batches cannot be validated.
  r = chain->block({validation_tx(val, carol)});
  EXPECT_NE(log_of(r).find("submitted no PoC batch"), std::string::npos) << log_of(r);
  // A member's verdict is stored; a later one replaces it.
  expect_ok(chain->block({validation_tx(val, alice, true)}));
  expect_ok(chain->block({validation_tx(val, alice, false)}));
  auto vals = x::poc::get_validations(chain->state(), 1);
  ASSERT_EQ(vals.size(), 1u);
  EXPECT_FALSE(vals[0].fraud_detected());
  EXPECT_EQ(vals[0].validator(), val.address);
  r = block_at(24, {validation_tx(val, alice)});
  EXPECT_NE(r.tx_results[0].code, 0u);
}

TEST_F(PocTest, SeedsOnlyForTheUpcomingEpochOnce) {
  auto seed = [&](test::TestAccount& who, uint64_t epoch) {
    x::poc::MsgSubmitSeed m;
    m.set_creator(who.bech32);
    m.set_epoch_index(epoch);
    m.set_signature("sig");
    return test::sign_tx(who, {test::tx_message(x::poc::kMsgSubmitSeedUrl, m)});
  };
  auto r = block_at(5, {seed(alice, 1)});
  EXPECT_NE(log_of(r).find("no PoC is in progress"), std::string::npos) << log_of(r);
  r = block_at(11, {seed(alice, 1), seed(bob, 2), seed(alice, 1), seed(dave, 1)});
  EXPECT_EQ(r.tx_results[0].code, 0u) << log_of(r, 0);
  EXPECT_NE(log_of(r, 1).find("only for the upcoming epoch 1"), std::string::npos);
  EXPECT_NE(log_of(r, 2).find("already submitted"), std::string::npos);
  EXPECT_NE(log_of(r, 3).find("not a registered participant"), std::string::npos);
  EXPECT_EQ(x::poc::get_seed(chain->state(), 1, alice.address)->signature(), "sig");
}
