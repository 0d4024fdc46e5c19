// Inference validation (issue 12 item 6; docs/inference-validation.md): a sampled inference's cost waits in
// escrow; another participant's vote decides who gets it; no vote by the deadline pays the executor.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>

#include "chain/store/overlay.h"
#include "chain/x/inference/inference.h"
#include "common/events.h"
#include "inference_accounting_util.h"

using namespace chain;
using test::InferenceFixture;
using test::k7B;

namespace {

// The fixture's epochs (epochs_test_util.h): epoch 2's PoC phase is [40, 57] (PoC start 40, switch 57), the
// next PoC starts at 70, so 12 inference-phase heights follow the switch.
constexpr uint64_t kWindow = 5;  // inference_expiration_blocks: a window that fits in the inference phase
constexpr uint64_t kPoc2Start = 40, kPoc2Switch = 57, kPoc3Start = 70;

class ValidationFixture : public InferenceFixture {
 protected:
  void customize(app::Genesis& g) override {
    g.app_state["schedule"]["params"]["inference_validation_rate_ppm"] = 1'000'000;  // every inference
    g.app_state["schedule"]["params"]["inference_expiration_blocks"] = kWindow;
  }
  // Changes committed state outside any block (a governance change of the epoch params, written directly).
  template <typename Fn>
  void tamper(Fn fn) {
    store::Overlay o(chain->store);
    fn(o);
    chain->store.commit(o.writes(), chain->store.last_commit(), {});
  }
  // alice starts on bob's b-1 in block `start`, bob finishes 30 + 70 tokens in block `finish`.
  void run_one_at(const std::string& id, uint64_t start, uint64_t finish) {
    ASSERT_TRUE(only_ok(block_at(start, {start_tx(alice, id, k7B, bob, "b-1", 1000)})));
    ASSERT_TRUE(only_ok(block_at(finish, {finish_tx(bob, id, 30, 70)})));
  }
  // Runs to `height` and checks that `id` stays PENDING with its cost `held` in escrow at every height (bob's
  // balance also moves by the epoch rewards at each settlement, so the escrow is what shows he is not paid).
  void expect_pending_until(const std::string& id, uint64_t height, uint64_t held) {
    while (chain->height() < height) {
      auto r = chain->block();
      EXPECT_TRUE(test::TestChain::event_values(r.events, common::events::kInferenceValidationUnchallenged,
                                                "inference_id")
                      .empty())
          << "settled at height " << chain->height();
      ASSERT_EQ(record(id).validation(), inference::inference::INFERENCE_VALIDATION_PENDING)
          << "at height " << chain->height();
      EXPECT_EQ(escrow_balance(), held) << "at height " << chain->height();
    }
  }
  // The next block (no settlement in it) with `txs`; checks that it pays bob exactly `cost` from the escrow.
  app::FinalizeResult block_paying_bob(uint64_t cost, const std::vector<std::string>& txs = {}) {
    uint64_t before = balance(bob), escrow = escrow_balance();
    auto r = chain->block(txs);
    EXPECT_EQ(balance(bob), before + cost);
    EXPECT_EQ(escrow_balance(), escrow - cost);
    return r;
  }
  std::string validate_tx(test::TestAccount& who, const std::string& id, bool valid) {
    x::infer::MsgValidateInference m;
    m.set_creator(who.bech32);
    m.set_inference_id(id);
    m.set_valid(valid);
    return test::sign_tx(who, {test::tx_message(x::infer::kMsgValidateInferenceUrl, m)});
  }
  uint32_t code(const app::FinalizeResult& r) { return r.tx_results.at(0).code; }
  // alice (transfer agent and requester) starts on bob's b-1, bob finishes 30 + 70 tokens.
  void run_one(const std::string& id) {
    ASSERT_TRUE(only_ok(chain->block({start_tx(alice, id, k7B, bob, "b-1", 1000)})));
    ASSERT_TRUE(only_ok(chain->block({finish_tx(bob, id, 30, 70)})));
  }
  x::infer::Inference record(const std::string& id) { return *x::infer::get_inference(chain->state(), id); }
};

}  // namespace

TEST_F(ValidationFixture, ValidVotePaysTheExecutor) {
  form_epoch_one();
  uint64_t p = price(k7B), alice0 = balance(alice), bob0 = balance(bob);
  run_one("v-1");
  // Finished and sampled: the remainder is back, the cost waits in escrow, bob is not paid yet.
  EXPECT_EQ(record("v-1").validation(), inference::inference::INFERENCE_VALIDATION_PENDING);
  EXPECT_EQ(balance(alice), alice0 - 100 * p);
  EXPECT_EQ(balance(bob), bob0);
  EXPECT_EQ(escrow_balance(), 100 * p);
  ASSERT_TRUE(only_ok(chain->block({validate_tx(carol, "v-1", true)})));
  EXPECT_EQ(balance(bob), bob0 + 100 * p);
  EXPECT_EQ(escrow_balance(), 0u);
  EXPECT_EQ(record("v-1").validation(), inference::inference::INFERENCE_VALIDATION_VALID);
  EXPECT_EQ(record("v-1").validated_by(), carol.address);
  auto q = chain->app.query("/inference/inferences/v-1", {});
  ASSERT_TRUE(q);
  EXPECT_EQ((*q)["inference"]["validation"], "VALID");
}

TEST_F(ValidationFixture, InvalidVoteRefundsTheRequesterAndTheExecutorIsNotPaid) {
  form_epoch_one();
  uint64_t alice0 = balance(alice), bob0 = balance(bob);
  run_one("bad-1");
  ASSERT_TRUE(only_ok(chain->block({validate_tx(carol, "bad-1", false)})));
  EXPECT_EQ(balance(bob), bob0);
  EXPECT_EQ(balance(alice), alice0);  // the whole escrow came back
  EXPECT_EQ(escrow_balance(), 0u);
  EXPECT_EQ(record("bad-1").validation(), inference::inference::INFERENCE_VALIDATION_INVALID);
  EXPECT_EQ(record("bad-1").status(), inference::inference::INFERENCE_STATUS_FINISHED);
  // Decided once: a later vote changes nothing.
  EXPECT_NE(code(chain->block({validate_tx(alice, "bad-1", true)})), 0u);
  EXPECT_EQ(balance(bob), bob0);
}

TEST_F(ValidationFixture, OnlyAnotherRegisteredParticipantVotesOnAPendingInference) {
  form_epoch_one();
  uint64_t bob0 = balance(bob);
  run_one("x-1");
  EXPECT_EQ(code(chain->block({validate_tx(bob, "x-1", true)})), codes::kUnauthorized);    // the executor
  EXPECT_EQ(code(chain->block({validate_tx(dave, "x-1", false)})), codes::kUnauthorized);  // no participant
  EXPECT_EQ(code(chain->block({validate_tx(carol, "nope", false)})), codes::kNotFound);
  EXPECT_EQ(record("x-1").validation(), inference::inference::INFERENCE_VALIDATION_PENDING);
  EXPECT_EQ(balance(bob), bob0);
  // A started (unfinished) inference is not awaiting validation.
  ASSERT_TRUE(only_ok(chain->block({start_tx(alice, "running", k7B, bob, "b-1", 10)})));
  EXPECT_EQ(code(chain->block({validate_tx(carol, "running", false)})), codes::kNotAwaitingValidation);
}

TEST_F(ValidationFixture, NoVoteByTheDeadlinePaysTheExecutor) {
  form_epoch_one();
  uint64_t p = price(k7B), bob0 = balance(bob);
  run_one("quiet");
  uint64_t deadline = record("quiet").validation_deadline();
  EXPECT_EQ(deadline, record("quiet").finish_height() + kWindow);
  ASSERT_LT(deadline, kPoc2Start);  // the window is all in the inference phase: not moved
  run_until(deadline - 1);
  EXPECT_EQ(balance(bob), bob0);
  run_until(deadline);
  EXPECT_EQ(balance(bob), bob0 + 100 * p);
  EXPECT_EQ(record("quiet").validation(), inference::inference::INFERENCE_VALIDATION_UNCHALLENGED);
  EXPECT_EQ(escrow_balance(), 0u);
  EXPECT_NE(code(chain->block({validate_tx(carol, "quiet", false)})), 0u);  // too late
  EXPECT_EQ(balance(bob), bob0 + 100 * p);
}

TEST(ValidationSample, IsDeterministicAndFollowsTheRate) {
  std::string hash(32, '\x42');
  EXPECT_FALSE(x::infer::sampled_for_validation("c", 5, hash, "id", 0));
  EXPECT_TRUE(x::infer::sampled_for_validation("c", 5, hash, "id", 1'000'000));
  int sampled = 0;
  for (int i = 0; i < 2000; ++i) {
    std::string id = "inf-" + std::to_string(i);
    bool s = x::infer::sampled_for_validation("c", 5, hash, id, 100'000);  // 10%
    EXPECT_EQ(s, x::infer::sampled_for_validation("c", 5, hash, id, 100'000));
    sampled += s;
  }
  EXPECT_GT(sampled, 140);
  EXPECT_LT(sampled, 260);
}

// ---- deadlines and PoC (docs/inference-validation.md "Deadlines and PoC")

TEST(ValidationDeadlinePastPoc, MovesOnlyAWindowThatMeetsThePocPhase) {
  using x::infer::validation_deadline_past_poc;
  const x::infer::ValidationPocPhase poc{40, 57, 70};  // 12 inference-phase heights after the switch
  // Before and after the phase: unchanged (the window is [finish, deadline]).
  EXPECT_EQ(validation_deadline_past_poc(30, 39, 9, poc), 39u);
  EXPECT_EQ(validation_deadline_past_poc(58, 63, 5, poc), 63u);
  // A deadline at P, inside, at S: the switch + the window.
  EXPECT_EQ(validation_deadline_past_poc(35, 40, 5, poc), 62u);
  EXPECT_EQ(validation_deadline_past_poc(38, 43, 5, poc), 62u);
  EXPECT_EQ(validation_deadline_past_poc(52, 57, 5, poc), 62u);
  // Finished inside: a deadline after S moves too, to a full window after S.
  EXPECT_EQ(validation_deadline_past_poc(55, 60, 5, poc), 62u);
  EXPECT_EQ(validation_deadline_past_poc(57, 62, 5, poc), 62u);
  // A window longer than the inference phase after the switch ends before the next PoC start.
  EXPECT_EQ(validation_deadline_past_poc(30, 50, 20, poc), 69u);
  EXPECT_EQ(validation_deadline_past_poc(57, 77, 20, poc), 77u);  // never earlier than it was
  // The result is a fixed point: applying the rule again changes nothing.
  EXPECT_EQ(validation_deadline_past_poc(38, 62, 5, poc), 62u);
  EXPECT_EQ(validation_deadline_past_poc(30, 69, 20, poc), 69u);
  // No overflow at the top of the height range.
  EXPECT_EQ(validation_deadline_past_poc(10, UINT64_MAX, 5, {20, UINT64_MAX - 2, UINT64_MAX}), UINT64_MAX);
}

TEST_F(ValidationFixture, DeadlineInPocStaysPendingDuringPocAndAVoteAfterItDecides) {
  form_epoch_one();
  uint64_t cost = 100 * price(k7B);
  run_one_at("in-poc", 37, 38);  // finish + window = 43, inside epoch 2's PoC [40, 57]
  EXPECT_EQ(record("in-poc").validation_deadline(), kPoc2Switch + kWindow);
  expect_pending_until("in-poc", kPoc2Switch + 1, cost);            // the PoC, and 58 (epoch 1's settlement)
  ASSERT_EQ(x::epochs::effective_epoch_index(chain->state()), 2u);  // the switch happened at 57
  auto r = block_paying_bob(cost, {validate_tx(carol, "in-poc", true)});  // at 59, after the PoC
  EXPECT_EQ(r.tx_results.at(0).code, 0u) << r.tx_results.at(0).log;
  EXPECT_EQ(record("in-poc").validation(), inference::inference::INFERENCE_VALIDATION_VALID);
  EXPECT_EQ(escrow_balance(), 0u);
}

TEST_F(ValidationFixture, DeadlineInPocWithoutVotesIsPaidAWindowAfterTheSwitch) {
  form_epoch_one();
  uint64_t cost = 100 * price(k7B);
  run_one_at("quiet-poc", 34, 35);  // finish + window = 40: the PoC start itself
  const uint64_t deadline = kPoc2Switch + kWindow;
  EXPECT_EQ(record("quiet-poc").validation_deadline(), deadline);
  expect_pending_until("quiet-poc", deadline - 1, cost);
  auto r = block_paying_bob(cost);
  EXPECT_EQ(test::TestChain::event_values(r.events, common::events::kInferenceValidationUnchallenged,
                                          "inference_id"),
            std::vector<std::string>{"quiet-poc"});
  EXPECT_EQ(record("quiet-poc").validation(), inference::inference::INFERENCE_VALIDATION_UNCHALLENGED);
}

TEST_F(ValidationFixture, DeadlineJustBeforeThePocIsNotMoved) {
  form_epoch_one();
  uint64_t cost = 100 * price(k7B);
  run_one_at("before", 33, 34);  // finish + window = 39 = P - 1
  EXPECT_EQ(record("before").validation_deadline(), kPoc2Start - 1);
  expect_pending_until("before", kPoc2Start - 2, cost);
  block_paying_bob(cost);
  EXPECT_EQ(record("before").validation(), inference::inference::INFERENCE_VALIDATION_UNCHALLENGED);
}

TEST_F(ValidationFixture, FinishedDuringPocGetsItsWindowAfterTheSwitch) {
  form_epoch_one();
  uint64_t cost = 100 * price(k7B);
  // Started before the PoC (b-1 holds no POC_SLOT), finished in it (before its expiry at 38 + 5): the running
  // PoC's stage heights are in state.
  run_one_at("late", 38, 42);
  ASSERT_TRUE(x::epochs::upcoming_epoch(chain->state()));
  EXPECT_EQ(record("late").validation_deadline(), kPoc2Switch + kWindow);
  expect_pending_until("late", kPoc2Switch + kWindow - 1, cost);
  block_paying_bob(cost);
  EXPECT_EQ(record("late").validation(), inference::inference::INFERENCE_VALIDATION_UNCHALLENGED);
  // (One finished after a switch keeps the plain window: NoVoteByTheDeadlinePaysTheExecutor, after epoch
  // 1's.)
}

TEST_F(ValidationFixture, AGovernanceChangeOfThePocLengthIsCaughtAtTheDeadline) {
  form_epoch_one();
  uint64_t cost = 100 * price(k7B);
  run_one_at("gov", 37, 38);
  ASSERT_EQ(record("gov").validation_deadline(), kPoc2Switch + kWindow);  // from the governance params then
  // Before the PoC starts governance makes model loading 8 blocks longer: epoch 2 snapshots it at 40 and
  // switches at 65, after the deadline computed at finish.
  tamper([](store::KvStore& st) {
    auto params = x::epochs::get_params(st);
    params.set_model_loading_duration(params.model_loading_duration() + 8);
    x::epochs::set_params(st, params);
  });
  const uint64_t switch2 = kPoc2Switch + 8;
  expect_pending_until("gov", kPoc2Switch + kWindow - 1, cost);
  auto r = chain->block();  // the old deadline, now inside the PoC: moved, not paid
  EXPECT_EQ(test::TestChain::event_values(r.events, common::events::kInferenceValidationDeadlineMoved,
                                          "inference_id"),
            std::vector<std::string>{"gov"});
  const uint64_t deadline = switch2 + std::min(kWindow, kPoc3Start - switch2 - 1);  // 65 + 4 = 69
  EXPECT_EQ(record("gov").validation_deadline(), deadline);
  expect_pending_until("gov", deadline - 1, cost);
  EXPECT_EQ(x::epochs::effective_epoch_index(chain->state()), 2u);
  block_paying_bob(cost);
  EXPECT_EQ(record("gov").validation(), inference::inference::INFERENCE_VALIDATION_UNCHALLENGED);
}

class LongWindowValidationFixture : public ValidationFixture {
 protected:
  void customize(app::Genesis& g) override {
    ValidationFixture::customize(g);
    g.app_state["schedule"]["params"]["inference_expiration_blocks"] = 20;  // longer than the inference phase
  }
};

TEST_F(LongWindowValidationFixture, AWindowLongerThanTheInferencePhaseEndsBeforeTheNextPoc) {
  form_epoch_one();
  uint64_t cost = 100 * price(k7B);
  run_one_at("long", 28, 29);  // 29 + 20 = 49, in the PoC
  EXPECT_EQ(record("long").validation_deadline(), kPoc3Start - 1);
  expect_pending_until("long", kPoc3Start - 2, cost);
  block_paying_bob(cost);
  EXPECT_EQ(record("long").validation(), inference::inference::INFERENCE_VALIDATION_UNCHALLENGED);
}
