#include "chain/x/groups/groups.h"

#include <gtest/gtest.h>

#include "chain/store/overlay.h"
#include "chain/x/gov/gov.h"
#include "chain/x/weights/weights.h"
#include "epochs_test_util.h"

using namespace chain;
using test::EpochsFixture;
using test::hw_node;
using test::k32B;
using test::k7B;

namespace {

x::models::Model model(const std::string& id, uint64_t tpn) {
  x::models::Model m;
  m.set_id(id);
  m.set_throughput_per_nonce(tpn);
  return m;
}

const x::groups::ValidationWeight* find_member(const x::groups::Group& g, const types::Address& a) {
  for (const auto& m : g.members)
    if (m.member() == a) return &m;
  return nullptr;
}

class GroupsTest : public EpochsFixture {
 protected:
  void customize(app::Genesis& g) override { g.app_state["gov"]["params"]["voting_period"] = 5; }
  // PoC of epoch 1 by all three participants, validated by the genesis validator; runs to the switch (27).
  void run_epoch_one() {
    expect_ok(block_at(11, {batch_tx(alice, "a-1", "b1", test::range(0, 100)),
                            batch_tx(alice, "a-2", "b1", test::range(1000, 1040)),
                            batch_tx(bob, "b-1", "b1", test::range(0, 70)),
                            batch_tx(carol, "c-1", "b1", test::range(0, 25))}));
    // Duplicates across batches of one node count once: a-1 gains only 100..109.
    expect_ok(chain->block({batch_tx(alice, "a-1", "b2", test::range(90, 110))}));
    expect_ok(block_at(19, {validation_tx(val, alice), validation_tx(val, bob), validation_tx(val, carol)}));
    run_until(27);
  }
};

}  // namespace

TEST(BuildEpochGroups, SnapshotsNodesPerModelWithThroughputTimeslotsAndExactTotals) {
  x::groups::FormationInput in;
  in.epoch_index = 3;
  in.poc_start_height = 70;
  in.height = 83;
  in.unit_of_compute_price = 100;
  in.models = {model("m/a", 10), model("m/b", 3), model("m/c", 1)};
  x::groups::FormationMember p1{
      types::Address(20, '1'),
      0,
      {{"n1", 5}, {"n2", 7}},
      {hw_node("n1", {"m/b", "m/a"}), hw_node("n2", {"gone/model", "m/a"}), hw_node("n3", {"m/b"})},
      std::string(32, 'k'),
      "http://p1"};
  x::groups::FormationMember p2{types::Address(20, '2'), 0,          {{"x", 2}}, {hw_node("x", {"m/a"})},
                                std::string(32, 'l'),    "http://p2"};
  in.members = {p1, p2};
  auto g = x::groups::build_epoch_groups(in);

  EXPECT_EQ(g.parent.data.total_weight(), 14u);
  ASSERT_EQ(g.parent.members.size(), 2u);
  EXPECT_EQ(g.parent.members[0].weight(), 12u);  // n1 + n2 + n3 (no PoC: 0)
  EXPECT_EQ(g.parent.members[0].ml_nodes_size(), 3);
  EXPECT_EQ(std::vector<std::string>(g.parent.data.sub_group_models().begin(),
                                     g.parent.data.sub_group_models().end()),
            (std::vector<std::string>{"m/a", "m/b", "m/c"}));
  ASSERT_EQ(g.sub_groups.size(), 3u);
  const auto& a = g.sub_groups[0];
  EXPECT_EQ(a.data.model_snapshot().throughput_per_nonce(), 10u);
  // n1 serves m/b (its first model): listed in m/a but counted only in m/b (issue 13, §7.4).
  EXPECT_EQ(a.data.total_weight(), 9u);       // n2 (7) + x (2)
  EXPECT_EQ(a.data.total_throughput(), 90u);  // (7 + 2) × 10
  const auto* m1 = find_member(a, types::Address(20, '1'));
  ASSERT_NE(m1, nullptr);
  EXPECT_EQ(m1->weight(), 7u);
  ASSERT_EQ(m1->ml_nodes_size(), 2);
  EXPECT_EQ(m1->ml_nodes(0).node_id(), "n1");
  EXPECT_EQ(m1->ml_nodes(0).throughput(), 50u);
  // n1's first model is m/b: PRE_POC_SLOT false for m/a. n2's first *registered* model is m/a.
  EXPECT_EQ(m1->ml_nodes(0).timeslot_allocation(0), false);
  EXPECT_EQ(m1->ml_nodes(1).timeslot_allocation(0), true);
  EXPECT_EQ(m1->ml_nodes(1).timeslot_allocation(1), false);  // POC_SLOT
  const auto& b = g.sub_groups[1];
  EXPECT_EQ(b.data.total_weight(), 5u);
  EXPECT_EQ(b.data.total_throughput(), 15u);
  ASSERT_EQ(b.members.size(), 1u);
  EXPECT_EQ(b.members[0].ml_nodes_size(), 2);  // n1 (PRE_POC true) and n3 (weight 0)
  EXPECT_TRUE(b.members[0].ml_nodes(0).timeslot_allocation(0));
  EXPECT_EQ(b.members[0].weight(), 5u);
  EXPECT_EQ(g.sub_groups[2].members.size(), 0u);
  EXPECT_EQ(g.sub_groups[2].data.total_throughput(), 0u);
  EXPECT_EQ(g.parent.data.total_throughput(), 105u);  // each node's capacity counted once: 90 + 15
}

TEST(BuildEpochGroups, ANodeDeclaringEveryModelCountsOnlyForItsFirstModel) {
  // Issue 13 fault 3: one node declaring every model used to add its full weight and throughput to every
  // sub-group (capacity for free). Its capacity counts once, for the model it serves.
  x::groups::FormationInput in;
  in.models = {model("m/a", 10), model("m/b", 10), model("m/c", 10)};
  in.members = {
      {types::Address(20, '1'), 0, {{"all", 100}}, {hw_node("all", {"m/b", "m/a", "m/c"})}, "", ""}};
  auto g = x::groups::build_epoch_groups(in);
  ASSERT_EQ(g.sub_groups.size(), 3u);
  EXPECT_EQ(g.sub_groups[0].data.total_throughput(), 0u);
  EXPECT_EQ(g.sub_groups[0].data.total_weight(), 0u);
  EXPECT_EQ(g.sub_groups[1].data.total_throughput(), 1000u);
  EXPECT_EQ(g.sub_groups[1].data.total_weight(), 100u);
  EXPECT_EQ(g.sub_groups[2].data.total_throughput(), 0u);
  EXPECT_EQ(g.parent.data.total_throughput(), 1000u);
  EXPECT_EQ(g.parent.data.total_weight(), 100u);
  // Still listed in every sub-group (so it can be moved), with PRE_POC_SLOT only for m/b.
  for (size_t i = 0; i < 3; ++i) {
    ASSERT_EQ(g.sub_groups[i].members.size(), 1u);
    EXPECT_EQ(g.sub_groups[i].members[0].ml_nodes(0).timeslot_allocation(0), i == 1);
    EXPECT_EQ(g.sub_groups[i].members[0].weight(), i == 1 ? 100u : 0u);
  }
}

TEST(BuildEpochGroups, ThroughputSaturatesInsteadOfOverflowing) {
  x::groups::FormationInput in;
  in.models = {model("m", 1'000'000'000'000)};
  in.members = {{types::Address(20, '1'), 0, {{"n", UINT64_MAX / 2}}, {hw_node("n", {"m"})}, "", ""},
                {types::Address(20, '2'), 0, {{"n", UINT64_MAX / 2}}, {hw_node("n", {"m"})}, "", ""}};
  auto g = x::groups::build_epoch_groups(in);
  EXPECT_EQ(g.sub_groups[0].members[0].ml_nodes(0).throughput(), UINT64_MAX);
  EXPECT_EQ(g.sub_groups[0].data.total_throughput(), UINT64_MAX);
  EXPECT_EQ(g.parent.data.total_weight(), UINT64_MAX - 1);
}

TEST_F(GroupsTest, FormationHoldsPerNodeWeightsPerModelThroughputAndTheRegistrySnapshot) {
  run_epoch_one();
  const auto& st = chain->state();
  ASSERT_EQ(x::epochs::effective_epoch_index(st), 1u);
  auto parent = *x::groups::get_group_with_members(st, 1, "");
  EXPECT_EQ(parent.total_weight(), 110u + 40 + 70 + 25);
  EXPECT_EQ(x::groups::member_weight(st, 1, alice.address), 150u);
  EXPECT_EQ(x::groups::member_weight(st, 1, bob.address), 70u);
  EXPECT_EQ(x::groups::member_weight(st, 1, carol.address), 25u);
  // Every participant's weight is the sum of its nodes' poc_weight.
  for (const auto& m : parent.validation_weights()) {
    uint64_t sum = 0;
    for (const auto& n : m.ml_nodes()) sum += n.poc_weight();
    EXPECT_EQ(sum, m.weight());
  }
  auto g7 = *x::groups::get_group_with_members(st, 1, k7B);
  auto g32 = *x::groups::get_group_with_members(st, 1, k32B);
  EXPECT_EQ(g7.model_snapshot().SerializeAsString(),
            x::models::get_governance_model(st, k7B)->SerializeAsString());
  EXPECT_EQ(x::groups::get_epoch_model(st, 1, k32B)->throughput_per_nonce(), 1000u);
  EXPECT_EQ(g7.total_throughput(), (110u + 70) * 10000);
  EXPECT_EQ(g32.total_throughput(), (40u + 25) * 1000);  // a-1 serves 7B: listed in 32B, not counted
  EXPECT_EQ(g7.member_count(), 2u);
  EXPECT_EQ(g32.member_count(), 2u);
  // alice's a-1 declares both models: PRE_POC_SLOT only for its first model (7B), where alone it counts.
  for (const auto& m : g32.validation_weights()) {
    if (m.member() != alice.address) continue;
    ASSERT_EQ(m.ml_nodes_size(), 2);
    EXPECT_EQ(m.ml_nodes(0).node_id(), "a-1");
    EXPECT_FALSE(m.ml_nodes(0).timeslot_allocation(0));
    EXPECT_TRUE(m.ml_nodes(1).timeslot_allocation(0));
    EXPECT_EQ(m.weight(), 40u);  // a-2 only
  }
  auto q = *chain->app.query("/inference/epoch-groups/current/Qwen/QwQ-32B", {});
  EXPECT_EQ(q["epoch_group"]["total_throughput"], 65000);
  EXPECT_EQ(q["epoch_group"]["model_snapshot"]["id"], k32B);
  EXPECT_EQ(
      (*chain->app.query("/inference/epoch-groups/1/Qwen%2FQwQ-32B", {}))["epoch_group"]["member_count"], 2);
  EXPECT_EQ(
      (*chain->app.query("/inference/epoch-groups/current", {}))["epoch_group"]["validation_weights"].size(),
      3u);
  EXPECT_FALSE(chain->app.query("/inference/epoch-groups/upcoming", {}).ok());
}

TEST_F(GroupsTest, MidEpochModelAndHardwareChangesOnlyShowInTheNextEpoch) {
  run_epoch_one();
  // Mid epoch 1: 32B's throughput_per_nonce changes in the registry and carol moves c-1 to 7B.
  auto m = *x::models::get_governance_model(chain->state(), k32B);
  m.set_throughput_per_nonce(5000);
  m.set_proposed_by(alice.bech32);
  inference::inference::MsgRegisterModel reg;
  reg.set_authority(types::to_bech32(test::kHrp, x::gov::authority()));
  *reg.mutable_model() = m;
  inference::gov::MsgSubmitProposal prop;
  auto* any = prop.add_messages();
  any->set_type_url(std::string(x::models::kMsgRegisterModelUrl));
  any->set_value(reg.SerializeAsString());
  prop.set_proposer(alice.bech32);
  prop.set_title("32B throughput");
  prop.set_summary("throughput_per_nonce 5000");
  auto* c = prop.add_deposit();
  c->set_denom("nicoin");
  c->set_amount("10000");
  expect_ok(chain->block({test::sign_tx(alice, {test::tx_message(x::gov::kMsgSubmitProposalUrl, prop)})}));
  std::vector<std::string> votes;
  for (auto* voter : {&alice, &bob, &carol}) {
    inference::gov::MsgVote v;
    v.set_proposal_id(1);
    v.set_voter(voter->bech32);
    v.set_option(inference::gov::VOTE_OPTION_YES);
    votes.push_back(test::sign_tx(*voter, {test::tx_message(x::gov::kMsgVoteUrl, v)}));
  }
  expect_ok(chain->block(votes));
  ASSERT_TRUE(x::gov::get_proposal(chain->state(), 1).has_value());
  run_until(x::gov::get_proposal(chain->state(), 1)->voting_end_height());
  ASSERT_EQ(x::gov::get_proposal(chain->state(), 1)->status(), inference::gov::PROPOSAL_STATUS_PASSED);
  EXPECT_EQ(x::models::get_governance_model(chain->state(), k32B)->throughput_per_nonce(), 5000u);
  expect_ok(chain->block({hardware_diff_tx(carol, {hw_node("c-1", {k7B})})}));
  const auto& st = chain->state();
  EXPECT_EQ(x::groups::get_epoch_model(st, 1, k32B)->throughput_per_nonce(), 1000u);
  EXPECT_EQ(x::groups::get_group(st, 1, k32B)->total_throughput(), 65000u);
  EXPECT_FALSE(x::groups::get_member(st, 1, k7B, carol.address).has_value());
  // Epoch 2: everyone re-does PoC (members of epoch 1 validate each other).
  expect_ok(block_at(
      41,
      {batch_tx(alice, "a-1", "e2", test::range(0, 10)), batch_tx(alice, "a-2", "e2", test::range(100, 110)),
       batch_tx(bob, "b-1", "e2", test::range(0, 10)), batch_tx(carol, "c-1", "e2", test::range(0, 10))}));
  // Each member validates everyone, itself included (alice alone holds 150 of 245).
  std::vector<std::string> validations;
  for (auto* v : {&alice, &bob, &carol})
    for (auto* p : {&alice, &bob, &carol}) validations.push_back(validation_tx(*v, *p));
  expect_ok(block_at(49, validations));
  run_until(57);
  ASSERT_EQ(x::epochs::effective_epoch_index(st), 2u);
  EXPECT_EQ(x::groups::get_epoch_model(st, 2, k32B)->throughput_per_nonce(), 5000u);
  EXPECT_EQ(x::groups::get_group(st, 2, k32B)->total_throughput(), 10u * 5000);  // a-2 (a-1 serves 7B)
  EXPECT_EQ(x::groups::get_group(st, 2, k7B)->total_throughput(), 30u * 10000);  // a-1 + b-1 + c-1
  EXPECT_TRUE(x::groups::get_member(st, 2, k7B, carol.address).has_value());
  // Epoch 1's records are untouched.
  EXPECT_EQ(x::groups::get_epoch_model(st, 1, k32B)->throughput_per_nonce(), 1000u);
}

TEST_F(GroupsTest, ParticipantJudgedInvalidByMajorityGetsNoWeight) {
  expect_ok(block_at(
      11, {batch_tx(alice, "a-1", "b1", test::range(0, 10)), batch_tx(bob, "b-1", "b1", test::range(0, 10)),
           batch_tx(carol, "c-1", "b1", test::range(0, 10))}));
  expect_ok(block_at(19, {validation_tx(val, alice), validation_tx(val, bob), validation_tx(val, carol)}));
  run_until(27);
  // Epoch 2: bob is judged fraudulent by alice and carol (20 of 30), valid only by himself.
  expect_ok(block_at(
      41, {batch_tx(alice, "a-1", "b1", test::range(0, 10)), batch_tx(bob, "b-1", "b1", test::range(0, 50)),
           batch_tx(carol, "c-1", "b1", test::range(0, 10))}));
  expect_ok(block_at(49, {validation_tx(alice, bob, true), validation_tx(carol, bob, true),
                          validation_tx(bob, bob), validation_tx(alice, carol), validation_tx(carol, alice),
                          validation_tx(bob, alice), validation_tx(bob, carol)}));
  auto events = run_until(57);
  const auto& st = chain->state();
  EXPECT_EQ(x::groups::member_weight(st, 2, bob.address), 0u);
  EXPECT_FALSE(x::groups::get_member(st, 2, k7B, bob.address).has_value());
  EXPECT_EQ(x::groups::total_weight(st, 2), 20u);
  EXPECT_EQ(test::TestChain::event_values(events, "poc_participant_rejected", "participant"),
            std::vector<std::string>{bob.bech32});
  EXPECT_EQ(x::gov::voting_power(st, bob.address), 0u);
}

// form_epoch_groups reads the registry in bulk and writes serialized records in sorted batches; its writes
// must be byte for byte those of build_epoch_groups + store_epoch_groups over the same inputs (the app hash
// depends on them). A node removed after submitting batches earns nothing.
TEST_F(GroupsTest, FormationInStateWritesExactlyTheRecordsOfBuildAndStore) {
  expect_ok(block_at(
      11,
      {batch_tx(alice, "a-1", "b1", test::range(0, 100)), batch_tx(alice, "a-2", "b1", test::range(0, 40)),
       batch_tx(bob, "b-1", "b1", test::range(0, 70)), batch_tx(carol, "c-1", "b1", test::range(0, 25))}));
  expect_ok(chain->block({hardware_diff_tx(alice, {}, {"a-2"})}));
  expect_ok(block_at(19, {validation_tx(val, alice), validation_tx(val, bob), validation_tx(val, carol)}));
  run_until(22);  // formation happens in the EndBlock of 23: run it here on branches of the state of 22
  const auto& st = chain->state();
  auto epoch = *x::epochs::get_epoch(st, 1);
  auto w = x::weights::compute_new_weights(st, 1);
  ASSERT_EQ(w.accepted.size(), 3u);

  store::Overlay formed(st);
  std::vector<types::Event> events;
  app::BlockInfo block{"test", 23, 0, std::string(32, 'h'), ""};
  std::string hrp = test::kHrp;
  app::Context ctx(formed, block, hrp, events);
  bool carried_over = true;
  x::groups::form_epoch_groups(ctx, 1, epoch.poc_start_height(),
                               epoch.params().default_unit_of_compute_price(), w, 0, carried_over);
  EXPECT_FALSE(carried_over);

  x::groups::FormationInput in{1,
                               epoch.poc_start_height(),
                               23,
                               epoch.params().default_unit_of_compute_price(),
                               x::models::get_governance_models(st),
                               {}};
  for (const auto& pw : w.accepted) {
    auto p = *x::nodes::get_participant(st, pw.participant);
    in.members.push_back({pw.participant, pw.weight, pw.nodes,
                          x::nodes::get_hardware_nodes(st, pw.participant), p.validator_public_key(),
                          p.url()});
  }
  store::Overlay built(st);
  x::groups::store_epoch_groups(built, x::groups::build_epoch_groups(in));

  EXPECT_EQ(formed.writes(), built.writes());
  // A weights result without the registry snapshot (not computed from state): formation reads it itself.
  auto without_registry = w;
  without_registry.registry = {};
  store::Overlay formed_reading(st);
  app::Context reading_ctx(formed_reading, block, hrp, events);
  x::groups::form_epoch_groups(reading_ctx, 1, epoch.poc_start_height(),
                               epoch.params().default_unit_of_compute_price(), without_registry, 0,
                               carried_over);
  EXPECT_EQ(formed_reading.writes(), built.writes());
  EXPECT_EQ(formed.writes().size(),
            1u + 2 + 3 + 2 + 2);  // headers: parent + 2 models; members: 3 + 7B: 2 + 32B: 2
  auto alice_record = x::groups::get_member(formed, 1, "", alice.address);
  ASSERT_TRUE(alice_record.has_value());
  EXPECT_EQ(alice_record->weight(), 100u);
  ASSERT_EQ(alice_record->ml_nodes_size(), 1);
  EXPECT_EQ(alice_record->ml_nodes(0).node_id(), "a-1");
}
