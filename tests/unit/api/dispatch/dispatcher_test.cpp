#include "api/dispatch/dispatcher.h"

#include <gtest/gtest.h>

namespace api::dispatch {
namespace {

using broker::Intent;
using common::epochs::Phase;

// Localnet stages for P = 40: generation [40,46), batches [41,48], validation_start 48, validation_end 53,
// model loading from 54, switch 57 (docs/epochs.md).
EpochFrame frame2() {
  return {2, common::epochs::compute_stages(common::epochs::EpochParams{}, 40)};
}

epoch::EpochNodeData dispatcher_node_data(uint64_t epoch, const std::string& model, bool poc_slot) {
  epoch::EpochNodeData d;
  d.epoch_index = epoch;
  chain::GovernanceModel m;
  m.id = model;
  m.model_args = {"--dtype", "half"};
  d.epoch_models[model] = m;
  d.epoch_ml_nodes[model] = {"x", 100, 10, {true, poc_slot}};
  return d;
}

class DispatchTest : public ::testing::Test {
 protected:
  DispatchTest() {
    in.frame = frame2();
    in.nodes = {{"n1", true, {"m1"}, {{"m1", {"--local", "1"}}}},
                {"n2", true, {"m1", "m2"}, {}},
                {"n4", false, {"m1"}, {}}};
    in.epoch_data[1] = {
        {{"n1", dispatcher_node_data(1, "m1", true)}, {"n2", dispatcher_node_data(1, "m1", false)}}, 40};
    in.poc_block_hash = "HASH40";
    in.assignment = poc::assign_poc_nodes(40, {"n1", "n2", "n4"});
    in.public_key_hex = "02ab";
    in.callback_url = "http://127.0.0.1:9100/v1/poc-batches";
  }
  DispatchOutput at(uint64_t h) {
    in.height = h;
    return dispatch(in);
  }
  static std::vector<std::string> keys(const DispatchOutput& o) {
    std::vector<std::string> k;
    for (const auto& d : o.duties) k.push_back(d.key);
    return k;
  }
  DispatchInput in;
};

TEST_F(DispatchTest, InferenceBeforePocUsesTheEpochModelAndMergedArgs) {
  auto o = at(39);
  EXPECT_EQ(o.phase, Phase::kInference);
  EXPECT_EQ(o.effective_epoch, 1u);
  EXPECT_EQ(o.nodes["n1"].intended,
            broker::IntendedState::inference("m1", {"--dtype", "half", "--local", "1"}));
  EXPECT_EQ(o.nodes["n2"].intended.model, "m1");
  EXPECT_EQ(o.nodes["n4"].intended.intent, Intent::kStopped);
  EXPECT_EQ(o.nodes["n4"].reason, "disabled by the operator");
  EXPECT_TRUE(o.duties.empty());
}

TEST_F(DispatchTest, PocGenerationThenValidationForNodesWithoutPocSlot) {
  auto o = at(40);
  EXPECT_EQ(o.phase, Phase::kPocGenerate);
  EXPECT_EQ(o.nodes["n1"].intended.intent, Intent::kInference) << "POC_SLOT keeps serving";
  const broker::IntendedState gen = o.nodes["n2"].intended;
  ASSERT_EQ(gen.intent, Intent::kPocGenerate);
  EXPECT_EQ(gen.poc, (broker::PocInit{1, 3, 40, "HASH40", "02ab", "http://127.0.0.1:9100/v1/poc-batches"}))
      << "index among all configured nodes sorted by id, count = all of them";
  EXPECT_EQ(at(45).nodes["n2"].intended, gen) << "wind-down keeps generating";
  auto v = at(46);
  EXPECT_EQ(v.nodes["n2"].intended.intent, Intent::kPocValidate);
  EXPECT_EQ(v.nodes["n2"].intended.poc, gen.poc) << "generate and validate send identical init values";
  EXPECT_EQ(at(53).nodes["n2"].intended.intent, Intent::kPocValidate);
  EXPECT_EQ(at(53).nodes["n1"].intended.intent, Intent::kInference);
}

TEST_F(DispatchTest, WaitsForThePocSlotSelectionBeforeTouchingNodes) {
  in.epoch_data[1].read_height = 35;  // read before P-1: POC_SLOT flags not chosen yet
  auto o = at(41);
  EXPECT_EQ(o.nodes["n1"].intended.intent, Intent::kNone);
  EXPECT_EQ(o.nodes["n2"].intended.intent, Intent::kNone);
  EXPECT_EQ(keys(o), (std::vector<std::string>{"read_epoch_data/1@40", "submit_seed/2"}));
}

TEST_F(DispatchTest, WaitsForTheBlockHash) {
  in.poc_block_hash.reset();
  auto o = at(40);
  EXPECT_EQ(o.nodes["n2"].intended.intent, Intent::kNone);
  EXPECT_EQ(o.nodes["n1"].intended.intent, Intent::kInference);
  EXPECT_EQ(keys(o), (std::vector<std::string>{"fetch_poc_block_hash/2", "submit_seed/2"}));
}

TEST_F(DispatchTest, ANodeAddedAfterPocStartSitsItOut) {
  in.nodes.push_back({"n3", true, {"m1"}, {}});
  EXPECT_EQ(at(42).nodes["n3"].intended.intent, Intent::kStopped);
  EXPECT_EQ(at(39).nodes["n3"].intended.intent, Intent::kStopped) << "not in epoch 1's snapshot";
}

TEST_F(DispatchTest, ModelLoadingForTheNextEpoch) {
  auto o = at(54);
  EXPECT_EQ(o.phase, Phase::kModelLoading);
  EXPECT_EQ(o.nodes["n2"].intended.intent, Intent::kNone) << "epoch 2 not read yet";
  EXPECT_EQ(keys(o), (std::vector<std::string>{"read_epoch_data/2"}));
  in.epoch_data[2] = {
      {{"n1", dispatcher_node_data(2, "m1", false)}, {"n2", dispatcher_node_data(2, "m2", false)}}, 54};
  o = at(54);
  EXPECT_EQ(o.nodes["n2"].intended, broker::IntendedState::inference("m2", {"--dtype", "half"}));
  EXPECT_EQ(o.nodes["n1"].intended.model, "m1") << "POC_SLOT node serves until the switch";
  EXPECT_TRUE(o.duties.empty());
  o = at(57);
  EXPECT_EQ(o.effective_epoch, 2u);
  EXPECT_EQ(o.phase, Phase::kInference);
  EXPECT_EQ(o.nodes["n1"].intended.intent, Intent::kInference);
  EXPECT_EQ(o.nodes["n2"].intended.model, "m2");
}

TEST_F(DispatchTest, ANodeMissingFromTheNextEpochStops) {
  in.epoch_data[2] = {{{"n1", dispatcher_node_data(2, "m1", false)}}, 54};
  EXPECT_EQ(at(55).nodes["n2"].intended.intent, Intent::kStopped);
  EXPECT_EQ(at(60).nodes["n2"].intended.intent, Intent::kStopped);
}

TEST_F(DispatchTest, DutiesAreDueOverTheirWholeRange) {
  EXPECT_TRUE(at(39).duties.empty());
  EXPECT_EQ(keys(at(40)), (std::vector<std::string>{"submit_seed/2"}));
  EXPECT_EQ(keys(at(48)), (std::vector<std::string>{"submit_seed/2", "validate_poc_batches/2"}));
  EXPECT_EQ(keys(at(52)), (std::vector<std::string>{"submit_seed/2", "validate_poc_batches/2"}));
  auto o = at(53);
  EXPECT_EQ(o.duties.size(), 2u);  // seed (last block) and reading the newly formed epoch 2
  EXPECT_EQ(keys(o), (std::vector<std::string>{"read_epoch_data/2", "submit_seed/2"}));
  EXPECT_EQ(keys(at(54)), (std::vector<std::string>{"read_epoch_data/2"}));
}

TEST_F(DispatchTest, GenesisEpochHasNoDataToRead) {
  in.frame = {1, common::epochs::compute_stages(common::epochs::EpochParams{}, 10)};
  in.epoch_data.clear();
  in.assignment = poc::assign_poc_nodes(10, {"n1", "n2", "n4"});
  in.poc_block_hash = "HASH10";
  auto o = at(5);
  EXPECT_EQ(o.nodes["n1"].intended.intent, Intent::kStopped) << "epoch 0 has no model sub-groups";
  EXPECT_TRUE(o.duties.empty());
  o = at(10);
  EXPECT_EQ(o.nodes["n1"].intended.intent, Intent::kPocGenerate) << "every node mines in the first PoC";
  EXPECT_EQ(o.nodes["n2"].intended.intent, Intent::kPocGenerate);
}

TEST(FrameFromEpochInfo, UpcomingEffectiveOrComputedNext) {
  chain::EpochInfo info;
  info.params = common::epochs::EpochParams{};
  info.epoch_index = 0;
  info.stages.next_poc_start = 10;
  EpochFrame f = frame_from_epoch_info(info);
  EXPECT_EQ(f.epoch_index, 1u);
  EXPECT_EQ(f.stages.poc_start, 10u);
  EXPECT_EQ(f.stages.set_new_validators, 27u);
  info.upcoming_epoch_index = 2;
  info.epoch_index = 1;
  info.stages = common::epochs::compute_stages(info.params, 40);
  f = frame_from_epoch_info(info);
  EXPECT_EQ(f.epoch_index, 2u);
  EXPECT_EQ(f.stages.poc_start, 40u);
  info.upcoming_epoch_index.reset();
  info.epoch_index = 2;  // after the switch, before the next PoC: still epoch 2's frame
  f = frame_from_epoch_info(info);
  EXPECT_EQ(f.epoch_index, 2u);
  EXPECT_EQ(f.stages.set_new_validators, 57u);
}

// The stateful Dispatcher filters duties through its tracker: one attempt per key at a time, never again once
// done, again after a failure.
TEST(Dispatcher, ABlockSeenTwiceOrLateLeadsToExactlyOneDuty) {
  Dispatcher d("02ab", "http://cb");
  d.set_nodes({{"n1", true, {"m1"}, {}}});
  d.set_epoch_data(1, {}, 40);
  d.set_poc_block_hash(40, 2, "H");
  const EpochFrame f = frame2();
  // dapi starts late: first block it sees is 44, the seed is still due.
  auto o = d.on_block(44, f);
  ASSERT_EQ(o.duties.size(), 1u);
  EXPECT_EQ(o.duties[0].key, "submit_seed/2");
  // Same block again while the seed tx is in flight: nothing new.
  EXPECT_TRUE(d.on_block(44, f).duties.empty());
  // The attempt failed: due again on the next block.
  d.tracker().fail("submit_seed/2");
  o = d.on_block(45, f);
  ASSERT_EQ(o.duties.size(), 1u);
  d.tracker().complete("submit_seed/2");
  EXPECT_TRUE(d.on_block(45, f).duties.empty());
  EXPECT_TRUE(d.on_block(47, f).duties.empty());
  // Validation: due from 48; seen at 50 first (48, 49 missed), once.
  o = d.on_block(50, f);
  ASSERT_EQ(o.duties.size(), 1u);
  EXPECT_EQ(o.duties[0].key, "validate_poc_batches/2");
  d.tracker().complete("validate_poc_batches/2");
  EXPECT_TRUE(d.on_block(50, f).duties.empty());
  EXPECT_TRUE(d.on_block(51, f).duties.empty());
  // Done keys survive a restart.
  Dispatcher restarted("02ab", "http://cb");
  restarted.set_nodes({{"n1", true, {"m1"}, {}}});
  restarted.set_epoch_data(1, {}, 40);
  restarted.set_poc_block_hash(40, 2, "H");
  restarted.tracker().restore(d.tracker().done_keys());
  EXPECT_TRUE(restarted.on_block(51, f).duties.empty());
}

TEST(Dispatcher, AMissedWindowIsNotActedOnLate) {
  Dispatcher d("02ab", "http://cb");
  d.set_epoch_data(1, {}, 40);
  d.set_epoch_data(2, {}, 54);
  auto o = d.on_block(60, frame2());
  EXPECT_TRUE(o.duties.empty()) << "seed and validation windows are over: the chain would reject them";
}

TEST(Dispatcher, ReadDutiesComeBackUntilTheDataArrives) {
  Dispatcher d("02ab", "http://cb");
  d.set_nodes({{"n1", true, {"m1"}, {}}});
  const EpochFrame f = frame2();
  auto o = d.on_block(30, f);
  ASSERT_EQ(o.duties.size(), 1u);
  EXPECT_EQ(o.duties[0].key, "read_epoch_data/1");
  EXPECT_TRUE(d.on_block(31, f).duties.empty()) << "in flight";
  d.tracker().fail("read_epoch_data/1");  // e.g. kEpochDataNotReady
  EXPECT_EQ(d.on_block(32, f).duties.size(), 1u);
  d.set_epoch_data(1, {}, 32);
  EXPECT_TRUE(d.on_block(33, f).duties.empty());
  // At P the flags must be re-read once.
  o = d.on_block(40, f);
  std::vector<std::string> k;
  for (auto& x : o.duties) k.push_back(x.key);
  EXPECT_EQ(k, (std::vector<std::string>{"read_epoch_data/1@40", "fetch_poc_block_hash/2", "submit_seed/2"}));
  d.set_epoch_data(1, {}, 40);
  d.set_poc_block_hash(40, 2, "H");
  EXPECT_EQ(d.tracker().size(), 1u) << "only the seed is tracked";
  ASSERT_TRUE(d.assignment().has_value());
  EXPECT_EQ(d.assignment()->poc_start_height, 40u);
}

TEST(Dispatcher, ARestoredAssignmentKeepsNodeIndicesAcrossARestart) {
  Dispatcher d("02ab", "http://cb");
  d.set_nodes({{"b", true, {"m1"}, {}}, {"c", true, {"m1"}, {}}});
  d.set_epoch_data(1, {}, 40);
  d.set_poc_block_hash(40, 2, "H");
  d.on_block(41, frame2());
  auto saved = *d.assignment();
  // Restart with a node "a" added meanwhile: it would take index 0 and shift b and c.
  Dispatcher r("02ab", "http://cb");
  r.set_nodes({{"a", true, {"m1"}, {}}, {"b", true, {"m1"}, {}}, {"c", true, {"m1"}, {}}});
  r.set_epoch_data(1, {}, 40);
  r.set_poc_block_hash(40, 2, "H");
  r.restore_assignment(saved);
  auto o = r.on_block(42, frame2());
  EXPECT_EQ(o.nodes["b"].intended.poc.node_index, 0);
  EXPECT_EQ(o.nodes["c"].intended.poc.node_index, 1);
  EXPECT_EQ(o.nodes["c"].intended.poc.node_count, 2);
  EXPECT_EQ(o.nodes["a"].intended.intent, Intent::kStopped);
}

TEST(Dispatcher, TheAssignmentIsFrozenForThePocAndRenewedForTheNext) {
  Dispatcher d("02ab", "http://cb");
  d.set_nodes({{"b", true, {"m1"}, {}}, {"c", true, {"m1"}, {}}});
  d.set_epoch_data(1, {}, 40);
  d.set_poc_block_hash(40, 2, "H");
  EXPECT_FALSE(d.on_block(39, frame2()).nodes.empty());
  EXPECT_FALSE(d.assignment().has_value()) << "made at the first block of the PoC";
  d.on_block(40, frame2());
  d.set_nodes({{"a", true, {"m1"}, {}}, {"b", true, {"m1"}, {}}, {"c", true, {"m1"}, {}}});  // added mid-PoC
  auto o = d.on_block(43, frame2());
  EXPECT_EQ(o.nodes["b"].intended.poc.node_index, 0);
  EXPECT_EQ(o.nodes["b"].intended.poc.node_count, 2);
  EXPECT_EQ(o.nodes["a"].intended.intent, Intent::kStopped);
  // Next PoC (epoch 3 at 70): all three, sorted.
  EpochFrame f3{3, common::epochs::compute_stages(common::epochs::EpochParams{}, 70)};
  d.set_epoch_data(2, {}, 70);
  d.set_poc_block_hash(70, 3, "H70");
  o = d.on_block(70, f3);
  EXPECT_EQ(d.assignment()->poc_start_height, 70u);
  EXPECT_EQ(o.nodes["a"].intended.poc.node_index, 0);
  EXPECT_EQ(o.nodes["b"].intended.poc.node_index, 1);
  EXPECT_EQ(o.nodes["c"].intended.poc.node_count, 3);
  EXPECT_EQ(o.nodes["c"].intended.poc.block_hash, "H70");
  EXPECT_EQ(d.epoch_data().count(1), 0u) << "data older than N-1 is dropped";
}

TEST(DutyTracker, PruneKeepsInFlightAndRecentKeys) {
  DutyTracker t;
  ASSERT_TRUE(t.try_begin("a/1", 1));
  ASSERT_TRUE(t.try_begin("b/1", 1));
  ASSERT_TRUE(t.try_begin("c/3", 3));
  t.complete("a/1");
  t.complete("c/3");
  t.prune(2);
  EXPECT_FALSE(t.done("a/1"));
  EXPECT_TRUE(t.in_flight("b/1"));
  EXPECT_TRUE(t.done("c/3"));
  EXPECT_FALSE(t.try_begin("c/3", 3));
  t.forget("read/1");
  ASSERT_TRUE(t.try_begin("read/1@40", 1));
  ASSERT_TRUE(t.try_begin("read/10", 10));
  t.forget("read/1");
  EXPECT_FALSE(t.in_flight("read/1@40"));
  EXPECT_TRUE(t.in_flight("read/10"));
}

}  // namespace
}  // namespace api::dispatch
