#include "chain/x/schedule/schedule.h"

#include <gtest/gtest.h>

#include "inference_accounting_util.h"

using namespace chain;
using test::InferenceFixture;
using test::k32B;
using test::k7B;
using test::TestAccount;
namespace sch = x::schedule;

namespace {

sch::SelectionNode selection_node(const std::string& id, uint64_t throughput, bool pre = true) {
  return sch::SelectionNode{id, throughput, throughput, pre, false};
}

// The documented stream of docs/rng.md: draws 7597568962156702756, 9654952510284291388, ...
rng::Stream doc_stream() {
  return rng::Stream(rng::seed("schedule/pre_poc_selection", "test-chain", 39, std::string(32, '\x42')));
}

sch::SelectionModel four_participants(uint64_t expected) {
  sch::SelectionModel m{"m", 400, expected, {}};
  uint64_t w = 10;
  for (char c : {'A', 'B', 'C', 'D'}) {
    m.participants.push_back({test::byte_address(c), w, {selection_node(std::string(1, c) + "-1", 100)}});
    w += 10;
  }
  return m;
}

}  // namespace

TEST(PrePocSelection, WeightedDrawIsReproducibleFromTheDocumentedVectors) {
  auto s = doc_stream();
  auto r = sch::select_poc_slots({four_participants(1000)}, s, 5000);
  // Draw 0 mod 100 = 56 -> C (cumulative 10, 30, 60, 100); draw 1 mod 70 = 38 over A, B, D -> D. Cap 200
  // reached.
  ASSERT_EQ(r.selected.size(), 2u);
  EXPECT_EQ(r.selected[0].participant, test::byte_address('C'));
  EXPECT_EQ(r.selected[0].draw, 7597568962156702756ULL);
  EXPECT_EQ(r.selected[1].participant, test::byte_address('D'));
  EXPECT_EQ(r.selected[1].draw, 9654952510284291388ULL);
  EXPECT_EQ(r.models[0].cap, 200u);
  EXPECT_EQ(r.models[0].target, 200u);
  EXPECT_EQ(r.models[0].selected_throughput, 200u);
}

TEST(PrePocSelection, StopsOnceTheTargetIsReachedTakingNodesInTheOrderTheyWereAdded) {
  auto s = doc_stream();
  auto r = sch::select_poc_slots({four_participants(50)}, s, 5000);
  ASSERT_EQ(r.selected.size(), 1u);  // one node of 100 covers a demand of 50
  EXPECT_EQ(s.used(), 1u);
  // §7.5: the participant's first eligible node in the order it was added ("big" first), even if it crosses
  // the target; then picking stops. The cap bounds the target, not each pick.
  sch::SelectionModel m{
      "m",
      400,
      1'000'000,
      {{test::byte_address('A'), 5, {selection_node("big", 300), selection_node("small", 100)}}}};
  auto s2 = doc_stream();
  r = sch::select_poc_slots({m}, s2, 5000);
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_EQ(r.selected[0].node_id, "big");
  EXPECT_EQ(r.models[0].target, 200u);
  EXPECT_EQ(r.models[0].selected_throughput, 300u);
  // Below the target the next node in order is taken: 60 + 60 + 60 + 60 >= 200 after four picks.
  sch::SelectionModel small{"m",
                            400,
                            1'000'000,
                            {{test::byte_address('A'),
                              5,
                              {selection_node("z", 60), selection_node("y", 60), selection_node("x", 60),
                               selection_node("w", 60), selection_node("v", 60)}}}};
  auto s3 = doc_stream();
  r = sch::select_poc_slots({small}, s3, 5000);
  ASSERT_EQ(r.selected.size(), 4u);
  EXPECT_EQ(r.selected[0].node_id, "z");
  EXPECT_EQ(r.selected[3].node_id, "w");
  EXPECT_EQ(r.models[0].selected_throughput, 240u);
}

TEST(PrePocSelection, ExcludesPendingChangesZeroWeightAndNonPrePocNodes) {
  sch::SelectionModel m{"m", 1000, 1'000'000, {}};
  auto pending = selection_node("pending", 100);
  pending.pending_change = true;
  auto zero = selection_node("zero", 100);
  zero.poc_weight = 0;
  m.participants.push_back(
      {test::byte_address('A'), 10, {pending, zero, selection_node("second-model", 100, false)}});
  m.participants.push_back({test::byte_address('B'), 10, {selection_node("ok", 100)}});
  auto s = doc_stream();
  auto r = sch::select_poc_slots({m}, s, 5000);
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_EQ(r.selected[0].node_id, "ok");
}

TEST(PrePocSelection, ALoneNodeWithDemandIsSelectedAndNoDemandSelectsNothing) {
  // Issue 13 fault 10: the strict cap never selected a lone node (100% > 50%), so nobody served during PoC.
  sch::SelectionModel single{
      "m", 100, 1'000'000, {{test::byte_address('A'), 10, {selection_node("only", 100)}}}};
  auto s = doc_stream();
  auto r = sch::select_poc_slots({single}, s, 5000);
  ASSERT_EQ(r.selected.size(), 1u);
  EXPECT_EQ(r.selected[0].node_id, "only");
  EXPECT_EQ(r.models[0].cap, 50u);
  EXPECT_EQ(r.models[0].target, 50u);
  auto s2 = doc_stream();
  r = sch::select_poc_slots({four_participants(0)}, s2, 5000);
  EXPECT_TRUE(r.selected.empty());
  EXPECT_EQ(s2.used(), 0u);  // no draw without demand
}

TEST(PrePocSelection, ANodeSupportingTwoModelsIsSelectedAtMostOnce) {
  // Even if both sub-groups listed the node as PRE_POC_SLOT, the second model cannot take it again.
  sch::SelectionModel a{"a",
                        200,
                        1'000'000,
                        {{test::byte_address('A'), 10, {selection_node("shared", 100)}},
                         {test::byte_address('B'), 10, {selection_node("b", 100)}}}};
  sch::SelectionModel b{"b",
                        200,
                        1'000'000,
                        {{test::byte_address('A'), 10, {selection_node("shared", 100)}},
                         {test::byte_address('C'), 10, {selection_node("c", 100)}}}};
  for (uint64_t h = 1; h < 40; ++h) {
    rng::Stream s(rng::seed("t", "c", h, ""));
    auto r = sch::select_poc_slots({a, b}, s, 5000);
    int shared = 0;
    for (const auto& sel : r.selected) shared += sel.node_id == "shared";
    EXPECT_LE(shared, 1) << "height " << h;
    EXPECT_EQ(r.selected.size(), 2u);
  }
}

TEST(ThroughputPerformance, RatioInBasisPointsCappedAtOne) {
  EXPECT_EQ(sch::validate_throughput_performance(0, 0), 10000u);
  EXPECT_EQ(sch::validate_throughput_performance(100, 50), 5000u);
  EXPECT_EQ(sch::validate_throughput_performance(100, 500), 10000u);
  EXPECT_EQ(sch::validate_throughput_performance(3, 1), 3333u);
}

// The whole cycle on a chain: traffic -> P-1 selection -> rejected batches -> preserved weight -> vectors.
TEST_F(InferenceFixture, PrePocSelectionMarksPocSlotPreservesWeightAndRecordsThroughputVectors) {
  form_epoch_one();
  auto g7 = x::groups::get_group(chain->state(), 1, k7B);
  ASSERT_TRUE(g7);
  ASSERT_EQ(g7->expected_throughput_vector_size(), 2);
  EXPECT_EQ(g7->expected_throughput_vector(0), g7->total_throughput());  // PRE_POC_SLOT expected = capacity
  // Demand for 7B inside the measurement window [P - 13, P - 1] = [27, 39].
  ASSERT_EQ(only_ok(chain->block({start_tx(alice, "i1", k7B, bob, "b-1", 500)})), true);
  ASSERT_EQ(only_ok(chain->block({finish_tx(bob, "i1", 100, 300)})), true);
  auto events = run_until(39);
  auto selected = test::TestChain::event_values(events, "poc_slot_selected", "node_id");
  ASSERT_EQ(selected.size(), 1u);  // 7B capacity: a-1 and b-1 with equal throughput; cap = one node
  auto expected = test::TestChain::event_values(events, "throughput_expected", "expected");
  EXPECT_EQ(expected, (std::vector<std::string>{"0", "400"}));  // 32B then 7B (sorted model ids)
  auto g = x::groups::get_group_with_members(chain->state(), 1, k7B);
  EXPECT_EQ(g->expected_throughput_vector(1), 400u);
  uint64_t slot_throughput = 0;
  std::string slot_node;
  TestAccount* owner = nullptr;
  for (const auto& m : g->validation_weights()) {
    for (const auto& n : m.ml_nodes()) {
      if (n.timeslot_allocation(1)) {
        slot_throughput += n.throughput();
        slot_node = n.node_id();
        owner = m.member() == alice.address ? &alice : &bob;
      }
    }
  }
  ASSERT_EQ(slot_node, selected[0]);
  EXPECT_LE(slot_throughput * 2, g->total_throughput());
  // The executor query during PoC returns only the POC_SLOT node.
  run_until(41);
  for (int seed = 0; seed < 10; ++seed) {
    auto q = chain->app.query("/inference/executor", {{"model", k7B}, {"seed", std::to_string(seed)}});
    ASSERT_TRUE(q) << q.error().message;
    EXPECT_EQ((*q)["node_id"], slot_node);
    EXPECT_EQ((*q)["poc_slot_only"], true);
  }
  // The POC_SLOT node's batch is rejected; the others mine. Inference during PoC is real throughput.
  auto r = chain->block({batch_tx(*owner, slot_node, "b2", test::range(0, 50)),
                         batch_tx(alice, "a-2", "b2", test::range(0, 100)),
                         batch_tx(carol, "c-1", "b2", test::range(0, 100)),
                         owner == &bob ? batch_tx(alice, "a-1", "b2", test::range(0, 100))
                                       : batch_tx(bob, "b-1", "b2", test::range(0, 100))});
  EXPECT_NE(r.tx_results[0].code, 0u);
  EXPECT_NE(r.tx_results[0].log.find("POC_SLOT"), std::string::npos) << r.tx_results[0].log;
  for (size_t i = 1; i < r.tx_results.size(); ++i) EXPECT_EQ(r.tx_results[i].code, 0u) << r.tx_results[i].log;
  TestAccount& executor = *owner;
  ASSERT_TRUE(only_ok(chain->block({start_tx(carol, "i2", k7B, executor, slot_node, 100)})));
  ASSERT_TRUE(only_ok(chain->block({finish_tx(executor, "i2", 10, 20)})));
  r = block_at(50, {validation_tx(alice, alice), validation_tx(alice, bob), validation_tx(alice, carol),
                    validation_tx(bob, alice), validation_tx(bob, bob), validation_tx(bob, carol),
                    validation_tx(carol, alice), validation_tx(carol, bob), validation_tx(carol, carol)});
  events = run_until(53);  // formation of epoch 2
  auto reals = test::TestChain::event_values(events, "throughput_recorded", "real");
  EXPECT_EQ(reals, (std::vector<std::string>{"0", "30"}));
  g = x::groups::get_group(chain->state(), 1, k7B);
  EXPECT_EQ(g->real_throughput_vector(1), 30u);
  // Epoch 2: the POC_SLOT node kept its previous poc_weight (100) without mining.
  auto m2 = x::groups::get_member(chain->state(), 2, "", owner->address);
  ASSERT_TRUE(m2);
  bool found = false;
  for (const auto& n : m2->ml_nodes()) {
    if (n.node_id() == slot_node) {
      EXPECT_EQ(n.poc_weight(), 100u);
      found = true;
    }
  }
  EXPECT_TRUE(found);
  // Every participant that mined and was validated is a member of epoch 2, whatever the address order of the
  // POC_SLOT owner (who mined nothing) and the miners (weights.cpp once dropped the first miner's nonces when
  // the owner sorted first).
  for (const TestAccount* p : {&alice, &bob, &carol}) {
    auto m = x::groups::get_member(chain->state(), 2, "", p->address);
    ASSERT_TRUE(m) << "participant missing from epoch 2";
    EXPECT_GE(m->weight(), 100u);
  }
  auto q = chain->app.query("/inference/epoch-groups/1/" + std::string(k7B), {});
  ASSERT_TRUE(q);
  EXPECT_EQ((*q)["epoch_group"]["real_throughput_vector"][1], 30u);
}

// Issue 13 faults 3 and 4: a node serves only its first model, and from PoC start to the epoch switch only a
// node holding POC_SLOT for the model may execute; real POC_SLOT throughput counts only those nodes' tokens.
TEST_F(InferenceFixture, DuringPocOnlyPocSlotNodesServeAndOnlyTheirTokensAreRealThroughput) {
  form_epoch_one();
  // Outside PoC: a-1 declares [7B, 32B] and serves 7B only.
  auto r = chain->block({start_tx(bob, "x1", k32B, alice, "a-1", 100)});
  ASSERT_EQ(r.tx_results.size(), 1u);
  EXPECT_NE(r.tx_results[0].log.find("serves only its first model"), std::string::npos)
      << r.tx_results[0].log;
  ASSERT_TRUE(only_ok(chain->block({start_tx(bob, "x2", k32B, alice, "a-2", 100)})));
  // Demand for 7B before P = 40, and one inference on each 7B node left running into the PoC.
  ASSERT_TRUE(only_ok(chain->block({start_tx(carol, "d1", k7B, bob, "b-1", 500)})));
  ASSERT_TRUE(only_ok(chain->block({finish_tx(bob, "d1", 100, 300)})));
  ASSERT_TRUE(only_ok(chain->block({start_tx(carol, "early-a", k7B, alice, "a-1", 500)})));
  ASSERT_TRUE(only_ok(chain->block({start_tx(carol, "early-b", k7B, bob, "b-1", 500)})));
  auto events = run_until(39);
  auto selected = test::TestChain::event_values(events, "poc_slot_selected", "node_id");
  ASSERT_EQ(selected.size(), 1u);
  const std::string slot_node = selected[0];
  ASSERT_TRUE(slot_node == "a-1" || slot_node == "b-1");
  TestAccount& owner = slot_node == "a-1" ? alice : bob;
  TestAccount& other = slot_node == "a-1" ? bob : alice;
  const std::string other_node = slot_node == "a-1" ? "b-1" : "a-1";
  run_until(41);
  ASSERT_TRUE(x::epochs::upcoming_epoch(chain->state()).has_value());
  r = chain->block({start_tx(carol, "p1", k7B, other, other_node, 100)});
  EXPECT_NE(r.tx_results[0].log.find("must hold POC_SLOT"), std::string::npos) << r.tx_results[0].log;
  ASSERT_TRUE(only_ok(chain->block({start_tx(carol, "p2", k7B, owner, slot_node, 100)})));
  ASSERT_TRUE(only_ok(chain->block({finish_tx(owner, "p2", 10, 20)})));
  ASSERT_TRUE(only_ok(chain->block({finish_tx(owner, slot_node == "a-1" ? "early-a" : "early-b", 20, 20)})));
  ASSERT_TRUE(only_ok(chain->block({finish_tx(other, slot_node == "a-1" ? "early-b" : "early-a", 25, 25)})));
  events = run_until(53);  // validation_end of epoch 2: real POC_SLOT throughput recorded
  auto g = x::groups::get_group(chain->state(), 1, k7B);
  // 30 + 40 tokens of the POC_SLOT node; the 50 of the mining node do not count (they used to: 120).
  EXPECT_EQ(g->real_throughput_vector(1), 70u);
  EXPECT_EQ(test::TestChain::event_values(events, "throughput_recorded", "real"),
            (std::vector<std::string>{"0", "70"}));
}

// Issue 13 fault 10: §7.5 takes a participant's nodes in the order they were added, not by local id.
TEST_F(InferenceFixture, PrePocSelectionTakesNodesInTheOrderTheyWereAdded) {
  // Only dave serves 7B: "d-2" was added before "d-1".
  expect_ok(chain->block(
      {hardware_diff_tx(alice, {test::hw_node("a-1", {k32B})}), hardware_diff_tx(bob, {}, {"b-1"})}));
  register_participant(dave, 4, {test::hw_node("d-2", {k7B}), test::hw_node("d-1", {k7B})});
  expect_ok(block_at(11, {batch_tx(alice, "a-1", "b1", test::range(0, 100)),
                          batch_tx(carol, "c-1", "b1", test::range(0, 100)),
                          batch_tx(dave, "d-1", "b1", test::range(0, 100)),
                          batch_tx(dave, "d-2", "b1", test::range(100, 200))}));
  expect_ok(block_at(19, {validation_tx(val, alice), validation_tx(val, carol), validation_tx(val, dave)}));
  run_until(27);
  ASSERT_EQ(x::epochs::effective_epoch_index(chain->state()), 1u);
  // A little demand for 7B: one node covers it.
  ASSERT_TRUE(only_ok(chain->block({start_tx(alice, "i1", k7B, dave, "d-1", 100)})));
  ASSERT_TRUE(only_ok(chain->block({finish_tx(dave, "i1", 10, 10)})));
  auto events = run_until(39);
  EXPECT_EQ(test::TestChain::event_values(events, "poc_slot_selected", "node_id"),
            std::vector<std::string>{"d-2"});
}
