#include "api/app/controller.h"

#include <gtest/gtest.h>

namespace api::app {
namespace {

using common::epochs::compute_stages;

TEST(FrameForHeight, KeepsTheReportedFrameAtOrAfterItsPocStart) {
  auto params = *common::epochs::EpochParams::preset("localnet");
  dispatch::EpochFrame f{3, compute_stages(params, 70)};
  for (uint64_t h : {70u, 95u}) {
    auto same = frame_for_height(f, params, h);
    EXPECT_EQ(same.epoch_index, 3u);
    EXPECT_EQ(same.stages.poc_start, 70u);
  }
}

TEST(FrameForHeight, StepsBackToTheEpochOfAnOldBlockWhileCatchingUp) {
  auto params = *common::epochs::EpochParams::preset("localnet");  // epoch_length 30
  dispatch::EpochFrame f{4, compute_stages(params, 100)};
  auto back = frame_for_height(f, params, 45);  // PoC starts 40 (epoch 2), 70 (3), 100 (4)
  EXPECT_EQ(back.epoch_index, 2u);
  EXPECT_EQ(back.stages.poc_start, 40u);
  EXPECT_EQ(back.stages.set_new_validators, compute_stages(params, 40).set_new_validators);
  EXPECT_EQ(frame_for_height(f, params, 99).epoch_index, 3u);
}

TEST(FrameForHeight, NeverGoesBelowEpochOne) {
  auto params = *common::epochs::EpochParams::preset("localnet");
  dispatch::EpochFrame f{2, compute_stages(params, 40)};
  auto back = frame_for_height(f, params, 3);
  EXPECT_EQ(back.epoch_index, 1u);
  EXPECT_EQ(back.stages.poc_start, 10u);
}

}  // namespace
}  // namespace api::app
