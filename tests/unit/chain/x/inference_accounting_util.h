// Shared by inference_test.cpp and schedule_test.cpp: the epochs fixture driven until epoch 1 is effective
// (height 27) with alice a-1 [7B, 32B] + a-2 [32B], bob b-1 [7B], carol c-1 [32B], 100 nonces per node.
#pragma once

#include "chain/x/bank/bank.h"
#include "chain/x/inference/inference.h"
#include "chain/x/schedule/schedule.h"
#include "epochs_test_util.h"

namespace chain::test {

class InferenceFixture : public EpochsFixture {
 protected:
  void form_epoch_one() {
    auto r = block_at(
        11, {batch_tx(alice, "a-1", "b1", range(0, 100)), batch_tx(alice, "a-2", "b1", range(100, 200)),
             batch_tx(bob, "b-1", "b1", range(0, 100)), batch_tx(carol, "c-1", "b1", range(0, 100))});
    expect_ok(r);
    r = block_at(19, {validation_tx(val, alice), validation_tx(val, bob), validation_tx(val, carol)});
    expect_ok(r);
    run_until(27);
    ASSERT_EQ(x::epochs::effective_epoch_index(chain->state()), 1u);
  }

  std::string start_tx(TestAccount& ta, const std::string& id, const std::string& model,
                       const TestAccount& executor, const std::string& node, uint64_t max_tokens,
                       const std::string& requester = "", const std::string& signature = "",
                       const std::string& request_hash = "", uint64_t request_timestamp_ms = 0) {
    x::infer::MsgStartInference m;
    m.set_creator(ta.bech32);
    m.set_inference_id(id);
    m.set_model(model);
    m.set_requester(requester);
    m.set_executor(executor.bech32);
    m.set_executor_node(node);
    m.set_prompt_hash(std::string(32, 'p'));
    m.set_max_tokens(max_tokens);
    m.set_requester_signature(signature);
    m.set_request_hash(request_hash);
    m.set_request_timestamp_ms(request_timestamp_ms);
    return sign_tx(ta, {tx_message(x::infer::kMsgStartInferenceUrl, m)});
  }
  std::string finish_tx(TestAccount& who, const std::string& id, uint64_t prompt, uint64_t completion) {
    x::infer::MsgFinishInference m;
    m.set_creator(who.bech32);
    m.set_inference_id(id);
    m.set_prompt_tokens(prompt);
    m.set_completion_tokens(completion);
    m.set_response_hash(std::string(32, 'r'));
    return sign_tx(who, {tx_message(x::infer::kMsgFinishInferenceUrl, m)});
  }
  static bool only_ok(const app::FinalizeResult& r) {
    if (r.tx_results.size() != 1 || r.tx_results[0].code != 0) {
      ADD_FAILURE() << (r.tx_results.empty() ? "no tx" : r.tx_results[0].log);
      return false;
    }
    return true;
  }
  uint64_t balance(const TestAccount& a) { return x::bank::balance(chain->state(), a.address, "nicoin"); }
  uint64_t escrow_balance() { return x::bank::balance(chain->state(), x::infer::escrow_address(), "nicoin"); }
  uint64_t price(const std::string& model) {
    auto g = x::groups::get_group(chain->state(), 1, model);
    return g->model_snapshot().units_of_compute_per_token() * g->unit_of_compute_price();
  }
};

}  // namespace chain::test
