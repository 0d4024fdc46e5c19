#include "chain/x/gov/gov.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <iterator>

#include "app/test_chain.h"
#include "chain/store/overlay.h"
#include "chain/x/auth/auth.h"
#include "chain/x/bank/bank.h"
#include "chain/x/epochs/epochs.h"
#include "chain/x/inference/inference.h"
#include "chain/x/models/models.h"
#include "chain/x/nodes/nodes.h"
#include "chain/x/poc/poc.h"
#include "chain/x/schedule/schedule.h"
#include "chain/x/upgrade/upgrade.h"
#include "common/bytes.h"

using namespace chain;
using types::u128;
using x::gov::TallyCounts;
using x::gov::TallyDecision;

namespace {

x::gov::Params params(uint32_t quorum, uint32_t threshold, uint32_t veto) {
  x::gov::Params p = x::gov::default_params("localnet");
  p.set_quorum_bps(quorum);
  p.set_threshold_bps(threshold);
  p.set_veto_threshold_bps(veto);
  return p;
}

TallyCounts counts(u128 yes, u128 abstain, u128 no, u128 veto) {
  TallyCounts c;
  c.yes = yes;
  c.abstain = abstain;
  c.no = no;
  c.no_with_veto = veto;
  return c;
}

x::models::Model make_model(const std::string& id, const std::string& proposed_by) {
  x::models::Model m = x::models::genesis_models("localnet").at(0);
  m.set_id(id);
  m.set_proposed_by(proposed_by);
  m.set_units_of_compute_per_token(321);
  m.set_context_window(8192);
  m.set_quantization("bf16");
  m.set_hf_repo("Qwen/Qwen3-8B");
  m.set_hf_commit("b968826d9c46dd6066d109eabc6255188de91218");
  m.clear_model_args();
  m.add_model_args("--max-model-len");
  m.add_model_args("8192");
  m.set_v_ram(16);
  m.set_throughput_per_nonce(777);
  m.mutable_validation_threshold()->set_value(95814);
  m.mutable_validation_threshold()->set_exponent(-5);
  return m;
}

common::tx::TxMessage register_model(const x::models::Model& m,
                                     const std::string& authority = test::gov_address()) {
  inference::inference::MsgRegisterModel msg;
  msg.set_authority(authority);
  *msg.mutable_model() = m;
  return test::tx_message(x::models::kMsgRegisterModelUrl, msg);
}

common::tx::TxMessage remove_model(const std::string& id) {
  inference::inference::MsgRemoveModel msg;
  msg.set_authority(test::gov_address());
  msg.set_id(id);
  return test::tx_message(x::models::kMsgRemoveModelUrl, msg);
}

inference::gov::MsgSubmitProposal proposal_msg(const test::TestAccount& from,
                                               std::vector<common::tx::TxMessage> messages,
                                               uint64_t deposit) {
  inference::gov::MsgSubmitProposal msg;
  msg.set_proposer(from.bech32);
  msg.set_title("register a model");
  msg.set_summary("adds Qwen/Qwen3-8B");
  for (auto& m : messages) {
    auto* any = msg.add_messages();
    any->set_type_url(m.type_url);
    any->set_value(m.value);
  }
  if (deposit > 0) {
    auto* c = msg.add_deposit();
    c->set_denom("nicoin");
    c->set_amount(std::to_string(deposit));
  }
  return msg;
}

std::string submit(test::TestAccount& from, std::vector<common::tx::TxMessage> messages,
                   uint64_t deposit = 10000) {
  return test::sign_tx(
      from, {test::tx_message(x::gov::kMsgSubmitProposalUrl, proposal_msg(from, messages, deposit))});
}

std::string vote(test::TestAccount& from, uint64_t id, inference::gov::VoteOption option) {
  inference::gov::MsgVote msg;
  msg.set_proposal_id(id);
  msg.set_voter(from.bech32);
  msg.set_option(option);
  return test::sign_tx(from, {test::tx_message(x::gov::kMsgVoteUrl, msg)});
}

constexpr uint64_t kFunds = 1'000'000;
constexpr uint64_t kVotingPeriod = 5;

// Genesis validators alice (60), bob (30), carol (10); dave is funded but has no voting power.
class GovTest : public ::testing::Test {
 protected:
  static app::Genesis genesis(uint32_t quorum = 3340) {
    auto g = test::make_genesis(
        {test::make_account(1), test::make_account(2), test::make_account(3), test::make_account(4)}, kFunds);
    g.validators.clear();
    test::add_validator(g, test::make_account(1), 60);
    test::add_validator(g, test::make_account(2), 30);
    test::add_validator(g, test::make_account(3), 10);
    g.app_state["gov"] = {{"params",
                           {{"voting_period", kVotingPeriod},
                            {"quorum_bps", quorum},
                            {"threshold_bps", 5000},
                            {"veto_threshold_bps", 3340},
                            {"min_deposit", {{{"denom", "nicoin"}, {"amount", "10000"}}}}}}};
    return g;
  }
  void SetUp() override {
    alice = test::make_account(1);
    bob = test::make_account(2);
    carol = test::make_account(3);
    dave = test::make_account(4);
    chain = std::make_unique<test::TestChain>(genesis());
    chain->block();
  }
  uint64_t balance(const types::Address& a) { return x::bank::balance(chain->state(), a, "nicoin"); }
  x::gov::Proposal proposal(uint64_t id) { return *x::gov::get_proposal(chain->state(), id); }
  // Produces empty blocks until `height` is committed; returns all their begin/end-block events.
  std::vector<types::Event> run_until(uint64_t height) {
    std::vector<types::Event> events;
    while (chain->height() < height) {
      auto r = chain->block();
      events.insert(events.end(), r.events.begin(), r.events.end());
    }
    return events;
  }
  // Submits a proposal in the next block and returns its id.
  uint64_t submit_ok(std::vector<common::tx::TxMessage> messages, uint64_t deposit = 10000) {
    auto out = chain->deliver(submit(alice, std::move(messages), deposit));
    EXPECT_EQ(out.code, 0u) << out.log;
    auto ids = test::TestChain::event_values(out.events, "submit_proposal", "proposal_id");
    EXPECT_EQ(ids.size(), 1u);
    return ids.empty() ? 0 : std::stoull(ids[0]);
  }

  // Changes committed state outside any block (as state written by an older rule, or a fault, would be).
  template <typename Fn>
  void tamper(Fn fn) {
    store::Overlay o(chain->store);
    fn(o);
    chain->store.commit(o.writes(), chain->store.last_commit(), {});
  }

  test::TestAccount alice, bob, carol, dave;
  std::unique_ptr<test::TestChain> chain;
};

}  // namespace

// ---- tally arithmetic (pure)

TEST(GovTally, QuorumIsInclusiveAtTheExactEdge) {
  auto p = params(3340, 5000, 3340);
  EXPECT_EQ(x::gov::decide(p, counts(3340, 0, 0, 0), 10000), TallyDecision::kPassed);
  EXPECT_EQ(x::gov::decide(p, counts(3339, 0, 0, 0), 10000), TallyDecision::kNoQuorum);
  // 33.4% of 100 is 33.4: 33 misses, 34 reaches.
  EXPECT_EQ(x::gov::decide(p, counts(33, 0, 0, 0), 100), TallyDecision::kNoQuorum);
  EXPECT_EQ(x::gov::decide(p, counts(34, 0, 0, 0), 100), TallyDecision::kPassed);
  // Abstain counts towards the quorum.
  EXPECT_EQ(x::gov::decide(p, counts(1, 33, 0, 0), 100), TallyDecision::kPassed);
}

TEST(GovTally, TieNeverPassesAndOneMoreYesDoes) {
  auto p = params(3340, 5000, 3340);
  EXPECT_EQ(x::gov::decide(p, counts(50, 0, 50, 0), 100), TallyDecision::kThresholdNotReached);
  EXPECT_EQ(x::gov::decide(p, counts(51, 0, 50, 0), 101), TallyDecision::kPassed);
  // Abstain is excluded from the threshold denominator: yes 30 of (30 + 10).
  EXPECT_EQ(x::gov::decide(p, counts(30, 60, 10, 0), 100), TallyDecision::kPassed);
  // Veto votes count against in the threshold: yes 40 of (40 + 10 + 30) is 50% exactly.
  EXPECT_EQ(x::gov::decide(params(3340, 5000, 9000), counts(40, 0, 10, 30), 80),
            TallyDecision::kThresholdNotReached);
  // The highest threshold: 9999 bps needs strictly more than 99.99% yes.
  EXPECT_EQ(x::gov::decide(params(1, 9999, 10000), counts(9999, 0, 1, 0), 10000),
            TallyDecision::kThresholdNotReached);
  EXPECT_EQ(x::gov::decide(params(1, 9999, 10000), counts(100000, 0, 1, 0), 100001), TallyDecision::kPassed);
}

TEST(GovTally, VetoIsStrictlyAboveItsThresholdOfVotedPower) {
  auto p = params(3340, 5000, 3340);
  // 3340 of 10000 voted is exactly the threshold: not a veto; the proposal then fails the yes threshold.
  EXPECT_EQ(x::gov::decide(p, counts(6660, 0, 0, 3340), 10000), TallyDecision::kPassed);
  EXPECT_EQ(x::gov::decide(p, counts(6659, 0, 0, 3341), 10000), TallyDecision::kVetoed);
  // The veto share is measured against all voted power, abstain included.
  EXPECT_EQ(x::gov::decide(p, counts(0, 7000, 0, 3000), 10000), TallyDecision::kThresholdNotReached);
  EXPECT_EQ(x::gov::decide(p, counts(0, 6000, 0, 4000), 10000), TallyDecision::kVetoed);
}

TEST(GovTally, EdgeCasesNeverDivideAndStayExactWithHugePowers) {
  auto p = params(3340, 5000, 3340);
  EXPECT_EQ(x::gov::decide(p, counts(0, 0, 0, 0), 0), TallyDecision::kNoQuorum);
  EXPECT_EQ(x::gov::decide(p, counts(0, 0, 0, 0), 100), TallyDecision::kNoQuorum);
  EXPECT_EQ(x::gov::decide(p, counts(0, 100, 0, 0), 100), TallyDecision::kAllAbstain);
  u128 big = UINT64_MAX;
  EXPECT_EQ(x::gov::decide(p, counts(big * 3 + 1, 0, big * 3, 0), big * 6 + 1), TallyDecision::kPassed);
  EXPECT_EQ(x::gov::decide(p, counts(big * 3, 0, big * 3, 0), big * 6), TallyDecision::kThresholdNotReached);
  EXPECT_EQ(x::gov::u128_to_string(big * big), "340282366920938463426481119284349108225");
  EXPECT_EQ(x::gov::u128_to_string(0), "0");
}

// ---- params

TEST(GovParams, PresetsAreValidAndBadValuesAreRejected) {
  for (const char* preset : {"localnet", "testnet", "mainnet", ""}) {
    EXPECT_TRUE(x::gov::validate_params(x::gov::default_params(preset))) << preset;
  }
  EXPECT_LT(x::gov::default_params("localnet").voting_period(),
            x::gov::default_params("mainnet").voting_period());
  auto bad = [](auto mutate) {
    auto p = x::gov::default_params("localnet");
    mutate(p);
    auto st = x::gov::validate_params(p);
    return st ? std::string() : st.error().message;
  };
  EXPECT_NE(bad([](auto& p) { p.set_voting_period(0); }).find("voting_period"), std::string::npos);
  EXPECT_NE(bad([](auto& p) { p.set_voting_period(10'000'001); }).find("voting_period"), std::string::npos);
  EXPECT_NE(bad([](auto& p) { p.set_quorum_bps(0); }).find("quorum_bps"), std::string::npos);
  EXPECT_NE(bad([](auto& p) { p.set_quorum_bps(10001); }).find("quorum_bps"), std::string::npos);
  EXPECT_NE(bad([](auto& p) { p.set_threshold_bps(10000); }).find("threshold_bps"), std::string::npos);
  EXPECT_NE(bad([](auto& p) { p.set_threshold_bps(0); }).find("threshold_bps"), std::string::npos);
  EXPECT_NE(bad([](auto& p) { p.set_veto_threshold_bps(0); }).find("veto_threshold_bps"), std::string::npos);
  EXPECT_NE(bad([](auto& p) { p.mutable_min_deposit(0)->set_amount("0"); }).find("min_deposit"),
            std::string::npos);
  EXPECT_NE(bad([](auto& p) { p.mutable_min_deposit(0)->set_denom("X"); }).find("min_deposit"),
            std::string::npos);
  EXPECT_EQ(bad([](auto& p) { p.clear_min_deposit(); }), "");  // no deposit required is allowed
  EXPECT_EQ(bad([](auto& p) { p.set_quorum_bps(10000); }), "");
}

TEST(GovParams, JsonRoundTripsAndRejectsUnknownFields) {
  auto p = x::gov::default_params("testnet");
  auto back = x::gov::params_from_json(x::gov::params_to_json(p));
  ASSERT_TRUE(back);
  EXPECT_EQ(back->SerializeAsString(), p.SerializeAsString());
  EXPECT_FALSE(x::gov::params_from_json({{"voting_periods", 3}}));
  EXPECT_FALSE(x::gov::params_from_json({{"quorum_bps", -1}}));
  EXPECT_FALSE(x::gov::params_from_json({{"quorum_bps", "10"}}));
}

TEST(GovParams, GenesisWithInvalidParamsIsRejected) {
  auto g = test::make_genesis({test::make_account(1)}, 1);
  g.app_state["gov"] = {{"params", {{"voting_period", 0}}}};
  store::MemoryStore st;
  app::App a(st);
  auto r = a.init_chain(g);
  ASSERT_FALSE(r);
  EXPECT_NE(r.error().message.find("voting_period"), std::string::npos);
}

// ---- voting power

TEST_F(GovTest, GenesisValidatorsCarryTheirPowerAsVotingPower) {
  EXPECT_EQ(x::gov::voting_power(chain->state(), alice.address), 60u);
  EXPECT_EQ(x::gov::voting_power(chain->state(), bob.address), 30u);
  EXPECT_EQ(x::gov::voting_power(chain->state(), carol.address), 10u);
  EXPECT_EQ(x::gov::voting_power(chain->state(), dave.address), 0u);
  EXPECT_EQ(x::gov::total_voting_power(chain->state()), u128(100));
}

// ---- submit

TEST_F(GovTest, SubmitEscrowsTheDepositAndOpensTheVotingPeriod) {
  uint64_t h = chain->height() + 1;
  uint64_t id = submit_ok({register_model(make_model("Qwen/Qwen3-8B", alice.bech32))}, 12000);
  EXPECT_EQ(id, 1u);
  EXPECT_EQ(balance(alice.address), kFunds - 12000);
  EXPECT_EQ(balance(x::gov::authority()), 12000u);
  auto p = proposal(1);
  EXPECT_EQ(p.status(), inference::gov::PROPOSAL_STATUS_VOTING_PERIOD);
  EXPECT_EQ(p.submit_height(), h);
  EXPECT_EQ(p.voting_end_height(), h + kVotingPeriod);
  EXPECT_EQ(p.proposer(), alice.address);
  EXPECT_EQ(p.messages_size(), 1);
  EXPECT_EQ(submit_ok({}), 2u);  // ids increase; a proposal without messages is a text proposal
}

TEST_F(GovTest, SubmitFailuresChangeNothing) {
  auto model = make_model("Qwen/Qwen3-8B", alice.bech32);
  auto expect_fail = [&](const std::string& tx, uint32_t code, const std::string& text) {
    auto out = chain->deliver(tx);
    EXPECT_EQ(out.code, code) << out.log;
    EXPECT_NE(out.log.find(text), std::string::npos) << out.log;
    chain->sync(alice);
  };
  expect_fail(submit(alice, {register_model(model)}, 9999), codes::kInsufficientFunds,
              "below the minimum deposit 10000nicoin");
  expect_fail(submit(alice, {register_model(model)}, 0), codes::kInsufficientFunds, "minimum deposit");
  expect_fail(submit(alice, {register_model(model)}, kFunds + 1), codes::kInsufficientFunds,
              "insufficient funds");
  // An inner message that could never execute is rejected at submission.
  expect_fail(submit(alice, {register_model(model, alice.bech32)}), codes::kUnauthorized,
              "invalid authority");
  auto broken = model;
  broken.set_hf_commit("main");
  expect_fail(submit(alice, {register_model(broken)}), codes::kInvalidRequest, "hf_commit");
  expect_fail(submit(alice, {{"/inference.nope.MsgX", ""}}), codes::kUnauthorized,
              "not allowed inside a proposal");
  expect_fail(
      submit(alice, {test::tx_message(x::gov::kMsgSubmitProposalUrl, proposal_msg(alice, {}, 10000))}),
      codes::kUnauthorized, "not allowed inside a proposal");
  inference::bank::MsgSend drain;
  drain.set_from_address(test::gov_address());
  drain.set_to_address(dave.bech32);
  auto* c = drain.add_amount();
  c->set_denom("nicoin");
  c->set_amount("1");
  expect_fail(submit(alice, {test::tx_message(x::bank::kMsgSendUrl, drain)}), codes::kUnauthorized,
              "not allowed inside a proposal");
  std::vector<common::tx::TxMessage> many(x::gov::kMaxProposalMessages + 1, remove_model("a"));
  expect_fail(submit(alice, many), codes::kInvalidRequest, "at most 16 messages");
  // Proposer must be the signer; title is required.
  auto msg = proposal_msg(bob, {}, 10000);
  expect_fail(test::sign_tx(alice, {test::tx_message(x::gov::kMsgSubmitProposalUrl, msg)}),
              codes::kUnauthorized, "is not the signer");
  msg = proposal_msg(alice, {}, 10000);
  msg.set_title("");
  expect_fail(test::sign_tx(alice, {test::tx_message(x::gov::kMsgSubmitProposalUrl, msg)}),
              codes::kInvalidRequest, "title");
  EXPECT_TRUE(x::gov::get_proposals(chain->state()).empty());
  EXPECT_EQ(balance(alice.address), kFunds);
  EXPECT_EQ(balance(x::gov::authority()), 0u);
}

TEST(GovAllowList, HoldsExactlyTheAuthorityMessagesOfTheModules) {
  // Sorted (binary search) and naming real message types (ARCHITECTURE §5).
  EXPECT_TRUE(std::is_sorted(std::begin(x::gov::kProposalMessageAllowList),
                             std::end(x::gov::kProposalMessageAllowList)));
  for (auto url : {x::gov::kMsgUpdateParamsUrl, x::models::kMsgRegisterModelUrl,
                   x::models::kMsgRemoveModelUrl, x::upgrade::kMsgCreatePartialUpgradeUrl,
                   x::epochs::kMsgUpdateEpochParamsUrl, x::schedule::kMsgUpdateScheduleParamsUrl}) {
    EXPECT_TRUE(x::gov::allowed_in_proposal(url)) << url;
  }
  EXPECT_EQ(std::size(x::gov::kProposalMessageAllowList), 6u);
  for (auto url :
       {x::bank::kMsgSendUrl, x::gov::kMsgSubmitProposalUrl, x::gov::kMsgVoteUrl,
        x::nodes::kMsgSubmitNewParticipantUrl, x::nodes::kMsgSubmitHardwareDiffUrl,
        x::infer::kMsgStartInferenceUrl, x::infer::kMsgFinishInferenceUrl, x::poc::kMsgSubmitPocBatchUrl}) {
    EXPECT_FALSE(x::gov::allowed_in_proposal(url)) << url;
  }
}

TEST_F(GovTest, UserMessagesInsideAProposalAreRejectedAtSubmission) {
  // Issue 13 fault 8: any message other than the authority ones could act as the gov account.
  x::infer::MsgStartInference start;
  start.set_creator(test::gov_address());
  auto out = chain->deliver(submit(alice, {test::tx_message(x::infer::kMsgStartInferenceUrl, start)}));
  EXPECT_EQ(out.code, codes::kUnauthorized) << out.log;
  EXPECT_NE(out.log.find("a proposal may only hold /inference.gov.MsgUpdateParams"), std::string::npos)
      << out.log;
  EXPECT_TRUE(x::gov::get_proposals(chain->state()).empty());
}

TEST_F(GovTest, AStoredProposalOutsideTheAllowListFailsAtExecutionAndItsDepositIsRefunded) {
  // A proposal stored under an older rule (written straight into state) holding a send from the escrow.
  uint64_t id = submit_ok({register_model(make_model("Qwen/Qwen3-8B", alice.bech32))});
  auto p = proposal(id);
  inference::bank::MsgSend drain;
  drain.set_from_address(test::gov_address());
  drain.set_to_address(dave.bech32);
  auto* c = drain.add_amount();
  c->set_denom("nicoin");
  c->set_amount("10000");
  p.clear_messages();
  auto* any = p.add_messages();
  any->set_type_url(std::string(x::bank::kMsgSendUrl));
  any->set_value(drain.SerializeAsString());
  tamper([&](store::KvStore& st) { st.set("gov/proposal/" + common::be64(id), p.SerializeAsString()); });
  chain->deliver(vote(alice, id, inference::gov::VOTE_OPTION_YES));
  run_until(proposal(id).voting_end_height());
  p = proposal(id);
  EXPECT_EQ(p.status(), inference::gov::PROPOSAL_STATUS_FAILED);
  EXPECT_NE(p.failed_reason().find("not allowed inside a proposal"), std::string::npos) << p.failed_reason();
  EXPECT_EQ(balance(dave.address), kFunds);   // nothing was sent
  EXPECT_EQ(balance(alice.address), kFunds);  // the deposit came back
  EXPECT_EQ(balance(x::gov::authority()), 0u);
}

TEST_F(GovTest, ARefundTheEscrowCannotCoverNeverHaltsTheChain) {
  uint64_t id = submit_ok({register_model(make_model("Qwen/Qwen3-8B", alice.bech32))});
  // Something took 4000 of the 10000 escrowed (simulated straight on state): the refund used to throw.
  tamper([&](store::KvStore& st) {
    std::vector<types::Event> events;
    app::BlockInfo block{test::kChainId, chain->height(), 0, std::string(32, 'h'), ""};
    std::string hrp = test::kHrp;
    app::Context ctx(st, block, hrp, events);
    ASSERT_TRUE(x::bank::send(ctx, x::gov::authority(), dave.address, {"nicoin", 4000}).ok());
  });
  chain->deliver(vote(alice, id, inference::gov::VOTE_OPTION_YES));
  std::vector<types::Event> events;
  ASSERT_NO_THROW(events = run_until(proposal(id).voting_end_height()));
  EXPECT_EQ(proposal(id).status(), inference::gov::PROPOSAL_STATUS_PASSED);
  EXPECT_EQ(balance(alice.address), kFunds - 4000);  // what was left came back
  EXPECT_EQ(balance(x::gov::authority()), 0u);
  EXPECT_EQ(test::TestChain::event_values(events, "proposal_deposit_shortfall", "missing"),
            std::vector<std::string>{"4000nicoin"});
  chain->block();  // and the chain goes on
}

// ---- vote and tally through blocks

TEST_F(GovTest, PassedProposalExecutesWithTheGovAuthorityAndRefundsTheDeposit) {
  auto model = make_model("Qwen/Qwen3-8B", alice.bech32);
  uint64_t id = submit_ok({register_model(model)});
  uint64_t end = proposal(id).voting_end_height();
  auto out = chain->deliver(vote(alice, id, inference::gov::VOTE_OPTION_YES));
  ASSERT_EQ(out.code, 0u) << out.log;
  EXPECT_EQ(test::TestChain::event_values(out.events, "proposal_vote", "power"),
            std::vector<std::string>{"60"});
  EXPECT_EQ(x::gov::get_vote(chain->state(), id, alice.address), inference::gov::VOTE_OPTION_YES);
  run_until(end - 1);
  EXPECT_FALSE(x::models::is_valid_governance_model(chain->state(), model.id()));  // not before the tally
  auto events = run_until(end);
  auto p = proposal(id);
  EXPECT_EQ(p.status(), inference::gov::PROPOSAL_STATUS_PASSED) << p.failed_reason();
  EXPECT_EQ(p.final_tally().yes(), "60");
  EXPECT_EQ(p.final_tally().total_power(), "100");
  auto stored = x::models::get_governance_model(chain->state(), model.id());
  ASSERT_TRUE(stored);
  EXPECT_EQ(stored->SerializeAsString(), model.SerializeAsString());  // every field intact
  EXPECT_EQ(balance(alice.address), kFunds);
  EXPECT_EQ(balance(x::gov::authority()), 0u);
  EXPECT_EQ(test::TestChain::event_values(events, "proposal_tally", "result"),
            std::vector<std::string>{"passed"});
  EXPECT_EQ(test::TestChain::event_values(events, "model_registered", "id"),
            std::vector<std::string>{model.id()});
  EXPECT_EQ(test::TestChain::event_values(events, "proposal_execution", "status"),
            std::vector<std::string>{"executed"});
  EXPECT_EQ(test::TestChain::event_values(events, "proposal_deposit", "action"),
            std::vector<std::string>{"refunded"});
  // Voting after the end is refused.
  out = chain->deliver(vote(bob, id, inference::gov::VOTE_OPTION_NO));
  EXPECT_EQ(out.code, codes::kProposalNotVoting);
  EXPECT_NE(out.log.find("not in its voting period"), std::string::npos);
}

TEST_F(GovTest, ProposalWithoutVotesIsRejectedForNoQuorumAndChangesNothing) {
  auto model = make_model("Qwen/Qwen3-8B", alice.bech32);
  uint64_t id = submit_ok({register_model(model)});
  run_until(proposal(id).voting_end_height());
  auto p = proposal(id);
  EXPECT_EQ(p.status(), inference::gov::PROPOSAL_STATUS_REJECTED);
  EXPECT_NE(p.failed_reason().find("no quorum"), std::string::npos);
  EXPECT_FALSE(x::models::is_valid_governance_model(chain->state(), model.id()));
  EXPECT_EQ(balance(alice.address), kFunds);  // returned: only a veto burns
  EXPECT_FALSE(p.deposit_burned());
}

TEST_F(GovTest, MajorityNoRejectsAndLastVoteOfAVoterCounts) {
  auto model = make_model("Qwen/Qwen3-8B", alice.bech32);
  uint64_t id = submit_ok({register_model(model)});
  chain->block({vote(alice, id, inference::gov::VOTE_OPTION_YES),
                vote(bob, id, inference::gov::VOTE_OPTION_YES),
                vote(carol, id, inference::gov::VOTE_OPTION_YES)});
  chain->block({vote(alice, id, inference::gov::VOTE_OPTION_NO)});  // changes its mind: 40 yes vs 60 no
  run_until(proposal(id).voting_end_height());
  auto p = proposal(id);
  EXPECT_EQ(p.status(), inference::gov::PROPOSAL_STATUS_REJECTED);
  EXPECT_EQ(p.final_tally().yes(), "40");
  EXPECT_EQ(p.final_tally().no(), "60");
  EXPECT_NE(p.failed_reason().find("threshold not reached"), std::string::npos);
  EXPECT_FALSE(x::models::is_valid_governance_model(chain->state(), model.id()));
}

TEST_F(GovTest, AbstainIsLeftOutOfTheThreshold) {
  uint64_t id = submit_ok({register_model(make_model("Qwen/Qwen3-8B", alice.bech32))});
  chain->block({vote(alice, id, inference::gov::VOTE_OPTION_ABSTAIN),
                vote(bob, id, inference::gov::VOTE_OPTION_YES),
                vote(carol, id, inference::gov::VOTE_OPTION_NO)});
  run_until(proposal(id).voting_end_height());
  EXPECT_EQ(proposal(id).status(), inference::gov::PROPOSAL_STATUS_PASSED);  // 30 yes of 40 non-abstain
}

TEST_F(GovTest, VetoRejectsAndBurnsTheDeposit) {
  uint64_t supply = x::bank::supply(chain->state(), "nicoin");
  uint64_t id = submit_ok({register_model(make_model("Qwen/Qwen3-8B", alice.bech32))});
  chain->block({vote(alice, id, inference::gov::VOTE_OPTION_NO_WITH_VETO),
                vote(bob, id, inference::gov::VOTE_OPTION_YES)});
  auto events = run_until(proposal(id).voting_end_height());
  auto p = proposal(id);
  EXPECT_EQ(p.status(), inference::gov::PROPOSAL_STATUS_REJECTED);
  EXPECT_TRUE(p.deposit_burned());
  EXPECT_NE(p.failed_reason().find("vetoed"), std::string::npos);
  EXPECT_EQ(balance(alice.address), kFunds - 10000);
  EXPECT_EQ(balance(x::gov::authority()), 0u);
  EXPECT_EQ(x::bank::supply(chain->state(), "nicoin"), supply - 10000);
  EXPECT_EQ(test::TestChain::event_values(events, "proposal_deposit", "action"),
            std::vector<std::string>{"burned"});
}

TEST_F(GovTest, FailedExecutionKeepsNoMessageEffectButRecordsTheFailure) {
  // The first message would register a model, the second fails: neither effect is kept.
  auto model = make_model("Qwen/Qwen3-8B", alice.bech32);
  uint64_t id = submit_ok({register_model(model), remove_model("No/SuchModel")});
  chain->deliver(vote(alice, id, inference::gov::VOTE_OPTION_YES));
  auto events = run_until(proposal(id).voting_end_height());
  auto p = proposal(id);
  EXPECT_EQ(p.status(), inference::gov::PROPOSAL_STATUS_FAILED);
  EXPECT_NE(p.failed_reason().find("message 1 (/inference.inference.MsgRemoveModel)"), std::string::npos)
      << p.failed_reason();
  EXPECT_NE(p.failed_reason().find("No/SuchModel"), std::string::npos);
  EXPECT_FALSE(x::models::is_valid_governance_model(chain->state(), model.id()));
  EXPECT_TRUE(
      test::TestChain::event_values(events, "model_registered", "id").empty());  // discarded with the branch
  EXPECT_EQ(test::TestChain::event_values(events, "proposal_execution", "status"),
            std::vector<std::string>{"failed"});
  EXPECT_EQ(balance(alice.address), kFunds);
}

TEST_F(GovTest, ProposalsEndingInTheSameBlockRunInIdOrder) {
  auto first = make_model("A/one", alice.bech32);
  auto second = first;
  second.set_units_of_compute_per_token(999);
  auto out = chain->block({submit(alice, {register_model(first)}), submit(alice, {register_model(second)})});
  ASSERT_EQ(out.tx_results[0].code, 0u);
  ASSERT_EQ(out.tx_results[1].code, 0u);
  chain->block(
      {vote(alice, 1, inference::gov::VOTE_OPTION_YES), vote(alice, 2, inference::gov::VOTE_OPTION_YES)});
  run_until(proposal(1).voting_end_height());
  EXPECT_EQ(proposal(2).status(), inference::gov::PROPOSAL_STATUS_PASSED);
  EXPECT_EQ(x::models::get_governance_model(chain->state(), "A/one")->units_of_compute_per_token(), 999u);
}

TEST_F(GovTest, VoteFailures) {
  uint64_t id = submit_ok({});
  auto fail = [&](const std::string& tx, uint32_t code, const std::string& text) {
    auto out = chain->deliver(tx);
    EXPECT_EQ(out.code, code) << out.log;
    EXPECT_NE(out.log.find(text), std::string::npos) << out.log;
    for (auto* a : {&alice, &bob, &carol, &dave}) chain->sync(*a);
  };
  fail(vote(alice, 99, inference::gov::VOTE_OPTION_YES), codes::kNotFound, "proposal 99 does not exist");
  fail(vote(dave, id, inference::gov::VOTE_OPTION_YES), codes::kUnauthorized, "has no voting power");
  fail(vote(alice, id, inference::gov::VOTE_OPTION_UNSPECIFIED), codes::kInvalidRequest, "vote option");
  inference::gov::MsgVote msg;
  msg.set_proposal_id(id);
  msg.set_voter(bob.bech32);
  msg.set_option(inference::gov::VOTE_OPTION_YES);
  fail(test::sign_tx(alice, {test::tx_message(x::gov::kMsgVoteUrl, msg)}), codes::kUnauthorized,
       "is not the signer");
  EXPECT_FALSE(x::gov::get_vote(chain->state(), id, dave.address));
  EXPECT_FALSE(x::gov::get_vote(chain->state(), id, bob.address));
}

// ---- authority-only messages

TEST_F(GovTest, AuthorityMessagesSentDirectlyAreRejected) {
  auto model = make_model("Qwen/Qwen3-8B", alice.bech32);
  // Authority set to the signer itself, and authority set to the gov account but signed by alice.
  for (const auto& authority : {alice.bech32, test::gov_address()}) {
    std::string tx = test::sign_tx(alice, {register_model(model, authority)});
    auto check = chain->app.check_tx(tx);
    EXPECT_EQ(check.code, codes::kUnauthorized) << check.log;
    auto out = chain->deliver(tx);
    EXPECT_EQ(out.code, codes::kUnauthorized);
    EXPECT_NE(out.log.find("governance proposal"), std::string::npos) << out.log;
    chain->sync(alice);
  }
  EXPECT_FALSE(x::models::is_valid_governance_model(chain->state(), model.id()));
  inference::gov::MsgUpdateParams up;
  up.set_authority(test::gov_address());
  *up.mutable_params() = x::gov::default_params("localnet");
  auto out = chain->deliver(test::sign_tx(alice, {test::tx_message(x::gov::kMsgUpdateParamsUrl, up)}));
  EXPECT_EQ(out.code, codes::kUnauthorized);
}

TEST_F(GovTest, ParamsChangeThroughGovernanceAndInvalidParamsCannotBeProposed) {
  inference::gov::MsgUpdateParams up;
  up.set_authority(test::gov_address());
  auto next = x::gov::default_params("localnet");
  next.set_voting_period(3);
  next.set_quorum_bps(5000);
  *up.mutable_params() = next;
  uint64_t id = submit_ok({test::tx_message(x::gov::kMsgUpdateParamsUrl, up)});
  chain->deliver(vote(alice, id, inference::gov::VOTE_OPTION_YES));
  run_until(proposal(id).voting_end_height());
  EXPECT_EQ(x::gov::get_params(chain->state()).SerializeAsString(), next.SerializeAsString());
  // The new voting period applies to the next proposal.
  uint64_t id2 = submit_ok({});
  EXPECT_EQ(proposal(id2).voting_end_height(), proposal(id2).submit_height() + 3);

  next.set_threshold_bps(10000);
  *up.mutable_params() = next;
  auto out = chain->deliver(submit(alice, {test::tx_message(x::gov::kMsgUpdateParamsUrl, up)}));
  chain->sync(alice);
  EXPECT_EQ(out.code, codes::kInvalidRequest);
  EXPECT_NE(out.log.find("threshold_bps"), std::string::npos) << out.log;
}

// ---- queries

TEST_F(GovTest, QueriesShowProposalsVotesTallyAndParams) {
  uint64_t id = submit_ok({register_model(make_model("Qwen/Qwen3-8B", alice.bech32))});
  chain->block(
      {vote(alice, id, inference::gov::VOTE_OPTION_YES), vote(carol, id, inference::gov::VOTE_OPTION_NO)});
  auto q = [&](const std::string& path, std::map<std::string, std::string> params = {}) {
    auto r = chain->app.query(path, params);
    EXPECT_TRUE(r) << path << ": " << (r ? "" : r.error().message);
    return r ? *r : nlohmann::json();
  };
  auto list = q("/gov/proposals");
  ASSERT_EQ(list["proposals"].size(), 1u);
  EXPECT_EQ(list["proposals"][0]["id"], id);
  EXPECT_EQ(list["proposals"][0]["status"], "PROPOSAL_STATUS_VOTING_PERIOD");
  EXPECT_EQ(list["proposals"][0]["proposer"], alice.bech32);
  EXPECT_EQ(list["proposals"][0]["messages"][0]["type_url"], "/inference.inference.MsgRegisterModel");
  EXPECT_EQ(list["proposals"][0]["deposit"][0]["amount"], "10000");
  EXPECT_EQ(q("/gov/proposals", {{"status", "passed"}})["proposals"].size(), 0u);
  EXPECT_EQ(q("/gov/proposals/" + std::to_string(id))["proposal"]["title"], "register a model");
  auto votes = q("/gov/proposals/1/votes")["votes"];
  ASSERT_EQ(votes.size(), 2u);
  auto tally = q("/gov/proposals/1/tally");
  EXPECT_EQ(tally["final"], false);
  EXPECT_EQ(tally["tally"]["yes"], "60");
  EXPECT_EQ(tally["tally"]["no"], "10");
  EXPECT_NE(tally["result"].get<std::string>().find("passed"), std::string::npos);
  EXPECT_EQ(q("/gov/params")["params"]["voting_period"], kVotingPeriod);
  EXPECT_EQ(q("/gov/authority")["address"], test::gov_address());
  run_until(proposal(id).voting_end_height());
  EXPECT_EQ(q("/gov/proposals/1/tally")["final"], true);
  EXPECT_EQ(q("/gov/proposals", {{"status", "PROPOSAL_STATUS_PASSED"}})["proposals"].size(), 1u);
  EXPECT_EQ(chain->app.query("/gov/proposals/7", {}).error().code, codes::kNotFound);
  EXPECT_FALSE(chain->app.query("/gov/proposals/x", {}));
  EXPECT_FALSE(chain->app.query("/gov/proposals", {{"status", "bogus"}}));
}

// ---- quorum edge through real blocks

class GovQuorumTest : public GovTest {
 protected:
  void SetUp() override {
    alice = test::make_account(1);
    bob = test::make_account(2);
    carol = test::make_account(3);
    chain = std::make_unique<test::TestChain>(genesis(3000));
    chain->block();
  }
};

// Quorum 30% of 100: bob's 30 alone reaches it exactly, carol's 10 alone does not.
TEST_F(GovQuorumTest, ExactQuorumPassesAndBelowFails) {
  uint64_t exact = submit_ok({});
  uint64_t below = submit_ok({});
  chain->block({vote(bob, exact, inference::gov::VOTE_OPTION_YES),
                vote(carol, below, inference::gov::VOTE_OPTION_YES)});
  run_until(proposal(below).voting_end_height());
  EXPECT_EQ(proposal(exact).status(), inference::gov::PROPOSAL_STATUS_PASSED);  // 30 of 100 at 3000 bps
  EXPECT_EQ(proposal(below).status(), inference::gov::PROPOSAL_STATUS_REJECTED);
  EXPECT_NE(proposal(below).failed_reason().find("no quorum"), std::string::npos);
}
