#include "chain/x/poc/poc.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>

#include "chain/store/memory_store.h"
#include "chain/store/overlay.h"
#include "common/bytes.h"
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
  // a-1 serves 7B (its first model): only a-2 counts toward 32B's power.
  EXPECT_EQ(x::poc::calculate_model_power(st, 1, test::k32B), 2u);
  EXPECT_EQ(x::poc::calculate_model_power(st, 1, test::k7B), 4u);
  auto q = *chain->app.query("/inference/poc-batches/1/" + alice.bech32 + "/a-1", {});
  EXPECT_EQ(q["node_weight"], 4);
  EXPECT_EQ(q["batches"].size(), 2u);
  EXPECT_EQ(q["batches"][0]["node_id"], "a-1");
  auto qm = *chain->app.query("/inference/poc-batches-for-model/1/Qwen/QwQ-32B", {});
  EXPECT_EQ(qm["model_power"], "2");
  EXPECT_EQ((*chain->app.query("/inference/poc-batches/1", {}))["batches"].size(), 3u);
}

TEST_F(PocTest, TheSameNoncesUnderTwoNodesOfOneParticipantCountOnce) {
  // Issue 13 fault 2: a-2 resubmits a-1's nonces; they count once, for a-1 (the smaller id).
  expect_ok(block_at(11, {batch_tx(alice, "a-1", "b1", {1, 2, 3}), batch_tx(alice, "a-2", "b1", {1, 2, 3, 4}),
                          batch_tx(bob, "b-1", "b1", {1, 2, 3})}));
  const auto& st = chain->state();
  EXPECT_EQ(x::poc::calculate_node_weight(st, 1, alice.address, "a-1"), 3u);
  EXPECT_EQ(x::poc::calculate_node_weight(st, 1, alice.address, "a-2"), 1u);  // only 4 is its own
  EXPECT_EQ(x::poc::calculate_node_weight(st, 1, bob.address, "b-1"), 3u);  // another participant's own work
  auto q = *chain->app.query("/inference/poc-batches/1/" + alice.bech32 + "/a-2", {});
  EXPECT_EQ(q["node_weight"], 1);
}

TEST_F(PocTest, BatchesOutsideTheWindowForAnotherNodeOrFromANonParticipantAreRejected) {
  // Before the window: the PoC start block (the epoch record is created in its EndBlock).
  auto r = block_at(10, {batch_tx(alice, "a-1", "early", {1})});
  EXPECT_EQ(r.tx_results[0].code, codes::kPocNotInProgress);
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
  EXPECT_EQ(r.tx_results[0].code, codes::kPocBatchAlreadySubmitted);
  EXPECT_EQ(common::tx::codes::codespace_of(r.tx_results[0].code), "inference");
  EXPECT_NE(log_of(r).find("already submitted"), std::string::npos) << log_of(r);
  // After the window.
  r = block_at(19, {batch_tx(alice, "a-1", "late", {5})});
  EXPECT_EQ(r.tx_results[0].code, codes::kPocBatchWindowClosed);
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
    auto out =
        chain->app.check_tx(test::sign_tx(alice, {test::tx_message(x::poc::kMsgSubmitPocBatchUrl, m)}));
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
  EXPECT_EQ(r.tx_results[0].code, codes::kPocValidationWindowClosed);
  EXPECT_NE(log_of(r).find("the validation window of epoch 1 is [19, 23]"), std::string::npos) << log_of(r);
  // Non-members of the current epoch (epoch 0 = the genesis validator only).
  r = block_at(19, {validation_tx(bob, alice), validation_tx(dave, alice)});
  EXPECT_NE(log_of(r, 0).find("is not a member of the current epoch 0"), std::string::npos) << log_of(r, 0);
  EXPECT_EQ(r.tx_results[1].code, codes::kUnauthorized);
  // A participant without batches cannot be validated.
  r = chain->block({validation_tx(val, carol)});
  EXPECT_EQ(r.tx_results[0].code, codes::kPocNoBatches);
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
  EXPECT_EQ(r.tx_results[1].code, codes::kSeedWrongEpoch);
  EXPECT_NE(log_of(r, 1).find("only for the upcoming epoch 1"), std::string::npos);
  EXPECT_EQ(r.tx_results[2].code, codes::kSeedAlreadySubmitted);
  EXPECT_NE(log_of(r, 2).find("already submitted"), std::string::npos);
  EXPECT_NE(log_of(r, 3).find("not a registered participant"), std::string::npos);
  EXPECT_EQ(x::poc::get_seed(chain->state(), 1, alice.address)->signature(), "sig");
}

// ---- spam limits and bounded state (issue 13, fault 7)

namespace {
class PocLimitsTest : public EpochsFixture {
 protected:
  void customize(app::Genesis& g) override {
    g.app_state["epochs"]["params"] = {
        {"max_nonces_per_batch", 4u}, {"max_batches_per_node", 3u}, {"max_nonces_per_node", 10u}};
  }
};
}  // namespace

TEST_F(PocLimitsTest, PerBatchAndPerNodeLimitsOfTheEpochParamsAreEnforced) {
  auto r = block_at(
      11, {batch_tx(alice, "a-1", "big", {1, 2, 3, 4, 5}), batch_tx(alice, "a-1", "b1", {1, 2, 3, 4}),
           batch_tx(alice, "a-1", "b2", {5, 6, 7, 8}), batch_tx(alice, "a-1", "b3", {9, 10, 11}),
           batch_tx(alice, "a-1", "b4", {12, 13}), batch_tx(alice, "a-2", "b1", {1, 2})});
  EXPECT_EQ(r.tx_results[0].code, codes::kPocBatchTooManyNonces);
  EXPECT_NE(log_of(r, 0).find("max_nonces_per_batch = 4"), std::string::npos) << log_of(r, 0);
  EXPECT_EQ(r.tx_results[1].code, 0u) << log_of(r, 1);
  EXPECT_EQ(r.tx_results[2].code, 0u) << log_of(r, 2);
  EXPECT_EQ(r.tx_results[3].code, codes::kPocNodeNonceLimit);
  EXPECT_NE(log_of(r, 3).find("would submit 11 nonces"), std::string::npos) << log_of(r, 3);  // 8 + 3 > 10
  EXPECT_EQ(r.tx_results[4].code, 0u) << log_of(r, 4);                                        // 8 + 2 = 10
  EXPECT_EQ(r.tx_results[5].code, 0u) << log_of(r, 5);  // another node has its own budget
  r = chain->block({batch_tx(alice, "a-1", "b5", {14})});
  EXPECT_EQ(r.tx_results[0].code, codes::kPocNodeBatchLimit);
  EXPECT_NE(log_of(r).find("already submitted 3 batches"), std::string::npos) << log_of(r);
  EXPECT_EQ(x::poc::get_poc_batches_for_node(chain->state(), 1, alice.address, "a-1").size(), 3u);
}

namespace {
// Bytes (keys + values) of every PoC record of `epoch`.
uint64_t poc_bytes(const store::KvReader& st, uint64_t epoch) {
  uint64_t bytes = 0;
  for (std::string prefix : {"poc/batch/", "poc/val/", "poc/seed/", "poc/count/"}) {
    st.scan_prefix(prefix + common::be64(epoch), [&](std::string_view k, std::string_view v) {
      bytes += k.size() + v.size();
      return true;
    });
  }
  return bytes;
}
}  // namespace

TEST_F(PocTest, AfterTenEpochsOfSteadyPocTheDataOfEpochsOlderThanTheRetentionIsGone) {
  // Must-show 4 of issue 13: state grows with participants, not with time. Localnet params: epoch k's PoC
  // starts at 10 + 30 (k - 1); batches in [P+1, P+8], validations in [P+9, P+13], switch at P+17.
  const uint64_t retention = x::epochs::kDefaultPocRetentionEpochs;
  for (uint64_t k = 1; k <= 10; ++k) {
    const uint64_t P = 10 + 30 * (k - 1);
    const uint64_t base = k * 1'000'000;
    expect_ok(block_at(P + 1, {batch_tx(alice, "a-1", "b", test::range(base, base + 500)),
                               batch_tx(alice, "a-2", "b", test::range(base + 500, base + 900)),
                               batch_tx(bob, "b-1", "b", test::range(base, base + 700)),
                               batch_tx(carol, "c-1", "b", test::range(base, base + 300))}));
    std::vector<std::string> validations;
    auto validators = k == 1 ? std::vector<test::TestAccount*>{&val}
                             : std::vector<test::TestAccount*>{&alice, &bob, &carol};
    for (auto* v : validators)
      for (auto* p : {&alice, &bob, &carol}) validations.push_back(validation_tx(*v, *p));
    expect_ok(block_at(P + 9, validations));
    run_until(P + 18);
    ASSERT_EQ(x::epochs::effective_epoch_index(chain->state()), k);
  }
  run_until(chain->height() + 3);
  const auto& st = chain->state();
  const uint64_t effective = x::epochs::effective_epoch_index(st);
  uint64_t total = 0, kept_epoch_bytes = 0;
  std::printf("PoC state after %llu epochs (retention %llu):\n", static_cast<unsigned long long>(effective),
              static_cast<unsigned long long>(retention));
  for (uint64_t e = 1; e <= effective; ++e) {
    uint64_t b = poc_bytes(st, e);
    total += b;
    std::printf("  epoch %2llu: %8llu bytes\n", static_cast<unsigned long long>(e),
                static_cast<unsigned long long>(b));
    if (e + retention <= effective) {
      EXPECT_EQ(b, 0u) << "epoch " << e << " is older than the retention";
    } else {
      EXPECT_GT(b, 0u) << "epoch " << e << " is kept";
      kept_epoch_bytes = std::max(kept_epoch_bytes, b);
    }
  }
  std::printf("  total:    %8llu bytes\n", static_cast<unsigned long long>(total));
  EXPECT_LE(total, retention * kept_epoch_bytes);  // bounded by the retention, not by the 10 epochs run
  // The weights were still computed from the data while it was kept: every epoch had all three members.
  EXPECT_EQ(x::groups::member_weight(st, effective, bob.address), 700u);
}

TEST(PocPruning, IsBoundedPerBlockAndResumesWhereItStopped) {
  store::MemoryStore base;
  store::Overlay s(base);
  for (uint64_t e = 1; e <= 3; ++e) {
    for (int i = 0; i < 5; ++i)
      s.set("poc/batch/" + common::be64(e) + std::string(20, 'a') + "n\0b" + std::to_string(i), "x");
    s.set("poc/val/" + common::be64(e) + std::string(40, 'v'), "x");
  }
  EXPECT_EQ(x::poc::prune_epochs_before(s, 3, 4), 4u);    // epoch 1: 4 of 6
  EXPECT_EQ(x::poc::prune_epochs_before(s, 3, 4), 4u);    // epoch 1: the last 2, epoch 2: 2
  EXPECT_EQ(x::poc::prune_epochs_before(s, 3, 100), 4u);  // epoch 2: the rest; epoch 3 is kept
  EXPECT_EQ(x::poc::prune_epochs_before(s, 3, 100), 0u);
  size_t left = 0;
  s.scan_prefix("poc/", [&](std::string_view k, std::string_view) {
    left += k.rfind("poc/prune_floor", 0) == 0 ? 0 : 1;
    return true;
  });
  EXPECT_EQ(left, 6u);  // epoch 3 untouched
}
