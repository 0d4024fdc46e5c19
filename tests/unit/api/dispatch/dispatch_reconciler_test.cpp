// Issue 11 must-show 5: the reconciler driven by the phase dispatcher, block by block, with a fake clock and
// fake MLNodes — phase transitions through an epoch, blocks seen late or twice, and no extra MLNode calls.
#include <gtest/gtest.h>

#include <algorithm>

#include "../broker/fake_driver.h"
#include "api/broker/reconciler.h"
#include "api/dispatch/dispatcher.h"

namespace api::dispatch {
namespace {

using broker::testing::FakeDriver;
using std::chrono::milliseconds;

epoch::EpochNodeData reconciler_node_data(uint64_t epoch, const std::string& model, bool poc_slot) {
  epoch::EpochNodeData d;
  d.epoch_index = epoch;
  chain::GovernanceModel m;
  m.id = model;
  d.epoch_models[model] = m;
  d.epoch_ml_nodes[model] = {"x", 100, 10, {true, poc_slot}};
  return d;
}

long count(const std::vector<std::string>& calls, const std::string& call) {
  return std::count(calls.begin(), calls.end(), call);
}

class EpochRun : public ::testing::Test {
 protected:
  EpochRun() : dispatcher("02ab", "http://127.0.0.1:9100/v1/poc-batches"), rec(clock, options()) {
    slot = std::make_shared<FakeDriver>();
    miner = std::make_shared<FakeDriver>();
    rec.add_node("slot", slot);
    rec.add_node("miner", miner);
    dispatcher.set_nodes({{"miner", true, {"m1"}, {}}, {"slot", true, {"m1"}, {}}});
    dispatcher.set_epoch_data(
        1, {{"slot", reconciler_node_data(1, "m1", true)}, {"miner", reconciler_node_data(1, "m1", false)}},
        30);
  }
  static broker::ReconcilerOptions options() {
    broker::ReconcilerOptions o;
    o.start_threads = false;
    return o;
  }
  // What dapi does per block: dispatch, run the due duties, hand the intents to the reconciler, let the
  // workers act, and let some time pass.
  void block(uint64_t h) {
    DispatchOutput out = dispatcher.on_block(h, frame);
    // The reads change the inputs: dispatch this height again after they completed, as dapi does.
    for (int pass = 0; pass < 3 && !out.duties.empty(); ++pass) {
      for (const Duty& d : out.duties) run(d, h);
      out = dispatcher.on_block(h, frame);
    }
    for (const auto& [id, decision] : out.nodes) rec.set_intended(id, decision.intended);
    rec.run_all_until_idle();
    clock.advance(milliseconds(500));
  }
  void run(const Duty& d, uint64_t h) {
    if (d.kind == DutyKind::kReadEpochData && d.epoch_index == 1) {
      dispatcher.set_epoch_data(
          1, {{"slot", reconciler_node_data(1, "m1", true)}, {"miner", reconciler_node_data(1, "m1", false)}},
          h);
    } else if (d.kind == DutyKind::kReadEpochData && d.epoch_index == 2) {
      dispatcher.set_epoch_data(
          2,
          {{"slot", reconciler_node_data(2, "m2", false)}, {"miner", reconciler_node_data(2, "m2", false)}},
          h);
    } else if (d.kind == DutyKind::kFetchPocBlockHash) {
      dispatcher.set_poc_block_hash(frame.stages.poc_start, d.epoch_index, "HASH40");
    } else {
      duties_run.push_back(d.key);
      dispatcher.tracker().complete(d.key);
    }
  }

  EpochFrame frame{2, common::epochs::compute_stages(common::epochs::EpochParams{}, 40)};
  broker::ManualClock clock;
  Dispatcher dispatcher;
  broker::Reconciler rec;
  std::shared_ptr<FakeDriver> slot, miner;
  std::vector<std::string> duties_run;
};

TEST_F(EpochRun, EveryBlockOnceThroughAWholeEpoch) {
  for (uint64_t h = 36; h <= 60; ++h) block(h);
  EXPECT_EQ(count(miner->calls, "pow_init_generate"), 1);
  EXPECT_EQ(count(miner->calls, "pow_init_validate"), 1);
  EXPECT_EQ(count(miner->calls, "inference_up m1"), 1);
  EXPECT_EQ(count(miner->calls, "inference_up m2"), 1) << "loaded during model loading, before the switch";
  EXPECT_EQ(count(slot->calls, "inference_up m1"), 1);
  EXPECT_EQ(count(slot->calls, "stop"), 0) << "the POC_SLOT node served through the PoC";
  EXPECT_EQ(count(slot->calls, "inference_up m2"), 1) << "switches to the new epoch's model at the switch";
  EXPECT_EQ(duties_run, (std::vector<std::string>{"submit_seed/2", "validate_poc_batches/2"}));
  EXPECT_EQ(rec.node("miner")->observed.probe.model, "m2");
  EXPECT_EQ(rec.node("slot")->observed.probe.model, "m2");
}

TEST_F(EpochRun, BlocksSeenTwiceChangeNothing) {
  for (uint64_t h = 36; h <= 60; ++h) {
    block(h);
    block(h);  // the follower re-delivers every block after a reconnect
  }
  EXPECT_EQ(count(miner->calls, "pow_init_generate"), 1);
  EXPECT_EQ(count(miner->calls, "pow_init_validate"), 1);
  EXPECT_EQ(count(miner->calls, "inference_up m2"), 1);
  EXPECT_EQ(count(slot->calls, "stop"), 0);
  EXPECT_EQ(duties_run, (std::vector<std::string>{"submit_seed/2", "validate_poc_batches/2"}));
}

TEST_F(EpochRun, BlocksSeenLateStillLeadToTheRightStateOnce) {
  // dapi was down over the PoC start and the first validation blocks: it sees 38, then 50, then 55, 58.
  for (uint64_t h : {38, 50, 55, 58}) block(h);
  EXPECT_EQ(count(miner->calls, "pow_init_generate"), 0) << "generation is over at 50";
  EXPECT_EQ(count(miner->calls, "pow_init_validate"), 1) << "validation window entered late: joined once";
  EXPECT_EQ(count(miner->calls, "inference_up m2"), 1);
  EXPECT_EQ(duties_run, (std::vector<std::string>{"submit_seed/2", "validate_poc_batches/2"}))
      << "seed and validation ranges were still open at 50";
}

TEST_F(EpochRun, AFailingNodeDoesNotHoldTheOtherBack) {
  miner->down = true;
  for (uint64_t h = 38; h <= 44; ++h) block(h);
  EXPECT_EQ(rec.node("miner")->status, "FAILED");
  EXPECT_NE(rec.node("miner")->observed.failure.reason.find("connection refused"), std::string::npos);
  EXPECT_EQ(rec.node("slot")->status, "INFERENCE");
  // Restarted mid-generation: brought to the phase's intended state after its backoff.
  miner->down = false;
  miner->state = broker::NodeProbe{broker::ServiceKind::kStopped, {}, false, broker::PowPhase::kNone, {}, {}};
  clock.advance(std::chrono::seconds(60));
  block(45);
  EXPECT_EQ(rec.node("miner")->status, "POC");
  EXPECT_EQ(rec.node("miner")->observed.probe.pow, broker::PowPhase::kGenerating);
  EXPECT_EQ(rec.node("miner")->observed.probe.pow_node_id, 0);
}

}  // namespace
}  // namespace api::dispatch
