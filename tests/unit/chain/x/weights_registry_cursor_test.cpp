// compute_new_weights(state, epoch) reads each batch participant's nodes from a registry snapshot that also
// holds the POC_SLOT owners, who mined nothing. Its cursor once stayed at the registry's first entry for the
// first batch: when a POC_SLOT owner without batches sorted before every miner, the first miner's nodes were
// looked up in the owner's registry and all its nonces dropped (fixed in 0e5b5fa; seen in
// schedule_poc_slot_selection). Here the roles follow the address order, so the owner always sorts first.
#include <gtest/gtest.h>

#include <algorithm>

#include "chain/x/weights/weights.h"
#include "inference_accounting_util.h"

using namespace chain;
using test::k32B;
using test::k7B;
using test::TestAccount;

namespace {

class RegistryCursorFixture : public test::InferenceFixture {
 protected:
  // The participant with the smallest address owns the only 7B node (o-1), so the P-1 selection must give
  // it POC_SLOT; the two others own one 32B node each and mine.
  void register_participants() override {
    std::vector<TestAccount*> by_address{&alice, &bob, &carol};
    std::sort(by_address.begin(), by_address.end(),
              [](const TestAccount* a, const TestAccount* b) { return a->address < b->address; });
    owner = by_address[0];
    first_miner = by_address[1];
    second_miner = by_address[2];
    register_participant(*owner, 1, {test::hw_node("o-1", {k7B})});
    register_participant(*first_miner, 2, {test::hw_node("m-1", {k32B})});
    register_participant(*second_miner, 3, {test::hw_node("m-2", {k32B})});
  }
  TestAccount* owner = nullptr;
  TestAccount* first_miner = nullptr;
  TestAccount* second_miner = nullptr;
};

}  // namespace

TEST_F(RegistryCursorFixture, APocSlotOwnerSortingFirstDoesNotDropTheFirstMinersNonces) {
  ASSERT_LT(owner->address, first_miner->address);
  ASSERT_LT(first_miner->address, second_miner->address);
  // Epoch 1: all three mine and the genesis validator accepts them.
  expect_ok(block_at(11, {batch_tx(*owner, "o-1", "b1", test::range(0, 100)),
                          batch_tx(*first_miner, "m-1", "b1", test::range(0, 100)),
                          batch_tx(*second_miner, "m-2", "b1", test::range(0, 100))}));
  expect_ok(block_at(
      19, {validation_tx(val, *owner), validation_tx(val, *first_miner), validation_tx(val, *second_miner)}));
  run_until(27);
  ASSERT_EQ(x::epochs::effective_epoch_index(chain->state()), 1u);
  // 7B demand in the measurement window before epoch 2's PoC (40): the P-1 selection takes o-1.
  ASSERT_TRUE(only_ok(chain->block({start_tx(*first_miner, "demand", k7B, *owner, "o-1", 500)})));
  ASSERT_TRUE(only_ok(chain->block({finish_tx(*owner, "demand", 100, 300)})));
  auto events = run_until(39);
  ASSERT_EQ(test::TestChain::event_values(events, "poc_slot_selected", "node_id"),
            std::vector<std::string>{"o-1"});
  // Epoch 2's PoC: the owner mines nothing (its only node serves); the miners do; every member validates them.
  expect_ok(block_at(41, {batch_tx(*first_miner, "m-1", "b2", test::range(0, 100)),
                          batch_tx(*second_miner, "m-2", "b2", test::range(0, 70))}));
  std::vector<std::string> validations;
  for (TestAccount* v : {owner, first_miner, second_miner}) {
    for (TestAccount* p : {first_miner, second_miner}) validations.push_back(validation_tx(*v, *p));
  }
  expect_ok(block_at(50, validations));

  // The weights from state: the owner's preserved 100, and every nonce of both miners.
  auto w = x::weights::compute_new_weights(chain->state(), 2);
  EXPECT_TRUE(w.rejected.empty()) << w.rejected.front().reason;
  auto weight_of = [&](const TestAccount* who) -> uint64_t {
    for (const auto& p : w.accepted)
      if (p.participant == who->address) return p.weight;
    return 0;
  };
  EXPECT_EQ(weight_of(owner), 100u);
  EXPECT_EQ(weight_of(first_miner), 100u) << "the first miner's nonces were dropped";
  EXPECT_EQ(weight_of(second_miner), 70u);

  // And so epoch 2, formed at 53, has all three.
  run_until(53);
  const std::vector<std::pair<TestAccount*, uint64_t>> expected{
      {owner, 100}, {first_miner, 100}, {second_miner, 70}};
  for (const auto& [who, weight] : expected) {
    auto m = x::groups::get_member(chain->state(), 2, "", who->address);
    ASSERT_TRUE(m) << "a participant is missing from epoch 2";
    EXPECT_EQ(m->weight(), weight);
  }
}
