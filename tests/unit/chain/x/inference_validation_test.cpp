// Inference validation (issue 12 item 6; docs/inference-validation.md): a sampled inference's cost waits in
// escrow; another participant's vote decides who gets it; no vote by the deadline pays the executor.
#include <gtest/gtest.h>

#include "chain/x/inference/inference.h"
#include "inference_accounting_util.h"

using namespace chain;
using test::InferenceFixture;
using test::k7B;

namespace {

class ValidationFixture : public InferenceFixture {
 protected:
  void customize(app::Genesis& g) override {
    g.app_state["schedule"]["params"]["inference_validation_rate_ppm"] = 1'000'000;  // every inference
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
  EXPECT_EQ(deadline,
            record("quiet").finish_height() + x::schedule::default_params().inference_expiration_blocks());
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
