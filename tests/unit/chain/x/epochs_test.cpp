#include "chain/x/epochs/epochs.h"

#include <gtest/gtest.h>

#include "chain/x/gov/gov.h"
#include "epochs_test_util.h"

using namespace chain;
using test::EpochsFixture;

namespace {

using Event = types::Event;

std::vector<std::string> values(const std::vector<Event>& events, const std::string& type, const std::string& key) {
  return test::TestChain::event_values(events, type, key);
}

// A genesis-only chain with the default (localnet) epoch params.
class EpochsGenesisTest : public EpochsFixture {};

}  // namespace

TEST(EpochParamsChain, PresetsAreValidAndInvalidValuesAreRejected) {
  for (auto preset : {"localnet", "testnet", "mainnet"}) {
    auto p = x::epochs::default_params(preset);
    EXPECT_TRUE(x::epochs::validate_params(p).ok()) << preset;
    auto round = x::epochs::params_from_json(x::epochs::params_to_json(p));
    ASSERT_TRUE(round.ok());
    EXPECT_EQ(round->SerializeAsString(), p.SerializeAsString());
  }
  EXPECT_EQ(x::epochs::default_params("mainnet").epoch_length(), 17280u);
  auto p = x::epochs::default_params("localnet");
  p.set_model_loading_duration(0);
  EXPECT_NE(x::epochs::validate_params(p).error().message.find("model_loading_duration"), std::string::npos);
  p = x::epochs::default_params("localnet");
  p.set_epoch_length(10);
  p.set_epoch_shift(0);
  EXPECT_NE(x::epochs::validate_params(p).error().message.find("must exceed the PoC cycle"), std::string::npos);
  p = x::epochs::default_params("localnet");
  p.set_default_unit_of_compute_price(0);
  EXPECT_FALSE(x::epochs::validate_params(p).ok());
  EXPECT_FALSE(x::epochs::params_from_json({{"epoch_lenght", 5}}).ok());
}

TEST_F(EpochsGenesisTest, GenesisEpochZeroIsEffectiveWithTheGenesisValidatorsAndNoPoc) {
  const auto& st = chain->state();
  EXPECT_EQ(x::epochs::effective_epoch_index(st), 0u);
  auto zero = *x::epochs::get_epoch(st, 0);
  auto s = x::epochs::stages_of(zero);
  EXPECT_EQ(s.poc_start, 0u);
  EXPECT_EQ(s.validation_end, 0u);
  EXPECT_EQ(s.next_poc_start, 10u);  // localnet: 30 - 20
  auto members = x::groups::get_members(st, 0, "");
  ASSERT_EQ(members.size(), 1u);
  EXPECT_EQ(members[0].member(), val.address);
  EXPECT_EQ(members[0].weight(), 10u);
  EXPECT_EQ(x::epochs::get_validator_set(st).size(), 1u);
  auto q = chain->app.query("/inference/epoch", {});
  ASSERT_TRUE(q.ok());
  EXPECT_EQ((*q)["epoch_index"], 0);
  EXPECT_EQ((*q)["phase"], "inference");
  EXPECT_EQ((*q)["stages"]["next_poc_start"], 10);
  EXPECT_TRUE((*q)["upcoming_epoch_index"].is_null());
  // No PoC in epoch 0: batches are refused and say when the next PoC starts.
  auto r = chain->deliver(batch_tx(alice, "a-1", "b1", {1, 2, 3}));
  EXPECT_NE(r.code, 0u);
  EXPECT_NE(r.log.find("the next PoC starts at height 10"), std::string::npos) << r.log;
}

TEST_F(EpochsGenesisTest, StageMachineCreatesFormsAndSwitchesAtTheExactHeights) {
  auto events = run_until(9);
  EXPECT_TRUE(values(events, "poc_started", "epoch_index").empty());
  events = run_until(10);
  EXPECT_EQ(values(events, "poc_started", "epoch_index"), std::vector<std::string>{"1"});
  auto one = *x::epochs::get_epoch(chain->state(), 1);
  EXPECT_EQ(one.poc_start_height(), 10u);
  auto s = x::epochs::stages_of(one);
  EXPECT_EQ(s.poc_exchange_end, 18u);
  EXPECT_EQ(s.validation_end, 23u);
  EXPECT_EQ(s.model_loading_start, 24u);
  EXPECT_EQ(s.set_new_validators, 27u);
  EXPECT_EQ(s.next_poc_start, 40u);
  // The epoch query shows the upcoming epoch's stages while it forms, with the phase of the committed height.
  auto q = *chain->app.query("/inference/epoch", {});
  EXPECT_EQ(q["epoch_index"], 0);
  EXPECT_EQ(q["upcoming_epoch_index"], 1);
  EXPECT_EQ(q["phase"], "poc_generate");
  EXPECT_EQ(q["stages"]["poc_start"], 10);
  EXPECT_EQ(q["stages"]["poc_exchange_end"], 18);
  EXPECT_EQ(q["stages"]["validation_end"], 23);
  EXPECT_EQ(q["stages"]["set_new_validators"], 27);
  EXPECT_EQ(q["stages"]["next_poc_start"], 40);
  // Phases of later heights come from the shared stage function over these stages; the query answers only
  // committed heights (a future one is refused, never answered from today's state: issue 13 fault 9).
  EXPECT_EQ(common::epochs::phase_name(common::epochs::phase_at(s, 20)), "poc_validate");
  EXPECT_EQ(common::epochs::phase_name(common::epochs::phase_at(s, 25)), "model_loading");
  auto future = chain->app.query("/inference/epoch", {{"height", "20"}});
  ASSERT_FALSE(future.ok());
  EXPECT_EQ(future.error().code, codes::kInvalidHeight);

  events = run_until(22);
  EXPECT_TRUE(values(events, "next_epoch_formed", "epoch_index").empty());
  events = run_until(23);
  EXPECT_EQ(values(events, "next_epoch_formed", "epoch_index"), std::vector<std::string>{"1"});
  // Nobody did PoC: the previous members are carried over, so the validator set is never empty.
  EXPECT_EQ(values(events, "next_epoch_formed", "carried_over"), std::vector<std::string>{"true"});
  EXPECT_TRUE(chain->app.query("/inference/epoch-groups/upcoming", {}).ok());
  events = run_until(24);
  EXPECT_EQ(values(events, "next_epoch_ready", "epoch_index"), std::vector<std::string>{"1"});
  run_until(26);
  EXPECT_EQ(x::epochs::effective_epoch_index(chain->state()), 0u);
  auto r = chain->block();
  EXPECT_EQ(values(r.events, "epoch_switched", "epoch_index"), std::vector<std::string>{"1"});
  EXPECT_TRUE(r.validator_updates.empty());  // same members, same powers
  EXPECT_EQ(x::epochs::effective_epoch_index(chain->state()), 1u);
  EXPECT_EQ(x::groups::member_weight(chain->state(), 1, val.address), 10u);
  EXPECT_EQ(x::gov::voting_power(chain->state(), val.address), 10u);
  EXPECT_EQ((*chain->app.query("/inference/epoch", {}))["phase"], "inference");
  events = run_until(40);
  EXPECT_EQ(values(events, "poc_started", "epoch_index"), std::vector<std::string>{"2"});
  EXPECT_EQ(x::epochs::get_epoch(chain->state(), 2)->poc_start_height(), 40u);
}

TEST_F(EpochsGenesisTest, AcceptedParticipantsBecomeTheValidatorSetAndVotingPower) {
  expect_ok(block_at(12, {batch_tx(alice, "a-1", "x", test::range(0, 30)), batch_tx(bob, "b-1", "x", test::range(0, 20))}));
  expect_ok(block_at(20, {validation_tx(val, alice), validation_tx(val, bob)}));
  run_until(26);
  auto r = chain->block();  // 27: switch
  ASSERT_EQ(x::epochs::effective_epoch_index(chain->state()), 1u);
  std::map<std::string, int64_t> updates;
  for (const auto& u : r.validator_updates) updates[u.pub_key] = u.power;
  EXPECT_EQ(updates.size(), 3u);
  EXPECT_EQ(updates[validator_key(1)], 30);
  EXPECT_EQ(updates[validator_key(2)], 20);
  EXPECT_EQ(updates[chain::test::make_genesis({val}, 1).validators[0].pub_key], 0);  // the genesis validator leaves
  EXPECT_EQ(x::gov::voting_power(chain->state(), alice.address), 30u);
  EXPECT_EQ(x::gov::voting_power(chain->state(), val.address), 0u);
  EXPECT_EQ(x::gov::total_voting_power(chain->state()), 50u);
  EXPECT_EQ(x::epochs::get_validator_set(chain->state()).size(), 2u);
  auto one = *x::epochs::get_epoch(chain->state(), 1);
  EXPECT_EQ(one.effective_height(), 27u);
  EXPECT_EQ(x::groups::get_group(chain->state(), 1, "")->effective_block_height(), 27u);
}

TEST_F(EpochsGenesisTest, EpochParamsChangeOnlyByGovernanceAndOnlyFromTheNextEpoch) {
  auto p = x::epochs::default_params("localnet");
  p.set_epoch_length(40);
  p.set_poc_stage_duration(8);
  x::epochs::MsgUpdateEpochParams msg;
  msg.set_authority(types::to_bech32(test::kHrp, x::gov::authority()));
  *msg.mutable_params() = p;
  // A user cannot send it.
  auto r = chain->deliver(test::sign_tx(alice, {test::tx_message(x::epochs::kMsgUpdateEpochParamsUrl, msg)}));
  EXPECT_EQ(r.code, codes::kUnauthorized);
  EXPECT_NE(r.log.find("only a passed governance proposal"), std::string::npos) << r.log;
  chain->sync(alice);
  // Through governance (val holds all genesis voting power), passed at height 5 + 30 = 35: after epoch 1 began.
  run_until(4);
  inference::gov::MsgSubmitProposal prop;
  auto* any = prop.add_messages();
  any->set_type_url(std::string(x::epochs::kMsgUpdateEpochParamsUrl));
  any->set_value(msg.SerializeAsString());
  prop.set_proposer(val.bech32);
  prop.set_title("longer epochs");
  prop.set_summary("epoch_length 40");
  auto* c = prop.add_deposit();
  c->set_denom("nicoin");
  c->set_amount("10000");
  auto out = chain->deliver(test::sign_tx(val, {test::tx_message(x::gov::kMsgSubmitProposalUrl, prop)}));
  ASSERT_EQ(out.code, 0u) << out.log;
  inference::gov::MsgVote vote;
  vote.set_proposal_id(1);
  vote.set_voter(val.bech32);
  vote.set_option(inference::gov::VOTE_OPTION_YES);
  ASSERT_EQ(chain->deliver(test::sign_tx(val, {test::tx_message(x::gov::kMsgVoteUrl, vote)})).code, 0u);
  run_until(36);
  ASSERT_EQ(x::gov::get_proposal(chain->state(), 1)->status(), inference::gov::PROPOSAL_STATUS_PASSED);
  EXPECT_EQ(x::epochs::get_params(chain->state()).epoch_length(), 40u);
  // Epoch 1 keeps the snapshot it started with; epoch 2 starts at 10 + 30 (epoch 1's length) with the new one.
  auto one = *x::epochs::get_epoch(chain->state(), 1);
  EXPECT_EQ(one.params().epoch_length(), 30u);
  EXPECT_EQ(x::epochs::next_poc_start(one), 40u);
  run_until(40);
  auto two = *x::epochs::get_epoch(chain->state(), 2);
  EXPECT_EQ(two.params().epoch_length(), 40u);
  auto s = x::epochs::stages_of(two);
  EXPECT_EQ(s.poc_end, 48u);
  EXPECT_EQ(s.next_poc_start, 80u);
  EXPECT_EQ((*chain->app.query("/inference/epochs/2", {}))["epoch"]["params"]["epoch_length"], 40);
  EXPECT_EQ((*chain->app.query("/inference/epoch-params", {}))["params"]["poc_stage_duration"], 8);
}

TEST_F(EpochsGenesisTest, DuplicateNoncesWithinABatchCountOnceInTheFormedGroup) {
  expect_ok(block_at(12, {batch_tx(alice, "a-1", "x", test::range(0, 30)), batch_tx(carol, "c-1", "x", {5, 5, 6})}));
  expect_ok(block_at(20, {validation_tx(val, alice), validation_tx(val, carol)}));
  run_until(30);
  EXPECT_EQ(x::epochs::effective_epoch_index(chain->state()), 1u);
  EXPECT_EQ(x::groups::member_weight(chain->state(), 1, carol.address), 2u);  // nonces {5, 6}
}
