#include "common/epoch_stages.h"

#include <gtest/gtest.h>

using namespace common::epochs;

TEST(EpochStages, PresetsAreValid) {
  for (const char* name : {"localnet", "testnet", "mainnet"}) {
    auto p = EpochParams::preset(name);
    ASSERT_TRUE(p) << name;
    EXPECT_EQ(p->validate(), "") << name;
  }
  EXPECT_FALSE(EpochParams::preset("devnet"));
}

TEST(EpochStages, MainnetBoundariesMatchTheReferenceNumbers) {
  auto p = *EpochParams::preset("mainnet");
  EXPECT_EQ(first_poc_start(p), 300u);
  auto s = compute_stages(p, 300);
  EXPECT_EQ(s.pre_poc_selection, 299u);
  EXPECT_EQ(s.poc_wind_down, 348u);
  EXPECT_EQ(s.poc_end, 360u);
  EXPECT_EQ(s.poc_exchange_end, 365u);
  EXPECT_EQ(s.validation_start, 365u);
  EXPECT_EQ(s.validation_wind_down, 381u);
  EXPECT_EQ(s.validation_end, 385u);
  EXPECT_EQ(s.model_loading_start, 386u);
  EXPECT_EQ(s.set_new_validators, 505u);
  EXPECT_EQ(s.settlement, 506u);
  EXPECT_EQ(s.next_poc_start, 300u + 17280u);
}

TEST(EpochStages, PhaseAtEveryBoundaryOfLocalnet) {
  auto p = *EpochParams::preset("localnet");
  uint64_t P = first_poc_start(p);
  EXPECT_EQ(P, 10u);
  auto s = compute_stages(p, P);
  EXPECT_EQ(phase_at(s, P - 1), Phase::kInference);
  EXPECT_EQ(phase_at(s, P), Phase::kPocGenerate);
  EXPECT_EQ(phase_at(s, s.poc_wind_down - 1), Phase::kPocGenerate);
  EXPECT_EQ(phase_at(s, s.poc_wind_down), Phase::kPocGenerateWindDown);
  EXPECT_EQ(phase_at(s, s.validation_start), Phase::kPocValidate);
  EXPECT_EQ(phase_at(s, s.validation_end), Phase::kPocValidateWindDown);
  EXPECT_EQ(phase_at(s, s.model_loading_start), Phase::kModelLoading);
  EXPECT_EQ(phase_at(s, s.set_new_validators - 1), Phase::kModelLoading);
  EXPECT_EQ(phase_at(s, s.set_new_validators), Phase::kInference);
  EXPECT_EQ(phase_at(s, s.next_poc_start - 1), Phase::kInference);
  // Windows are inclusive of their last height and exclude their start height.
  EXPECT_FALSE(in_poc_batch_window(s, P));
  EXPECT_TRUE(in_poc_batch_window(s, P + 1));
  EXPECT_TRUE(in_poc_batch_window(s, s.poc_exchange_end));
  EXPECT_FALSE(in_poc_batch_window(s, s.poc_exchange_end + 1));
  EXPECT_FALSE(in_validation_window(s, s.validation_start));
  EXPECT_TRUE(in_validation_window(s, s.validation_end));
  EXPECT_FALSE(in_validation_window(s, s.validation_end + 1));
  EXPECT_LT(s.settlement, s.next_poc_start);
}

TEST(EpochStages, ValidationNamesTheBadField) {
  EpochParams p;
  p.epoch_length = 10;
  EXPECT_NE(p.validate().find("epoch_length (10) must exceed the PoC cycle"), std::string::npos);
  p = EpochParams{};
  p.model_loading_duration = 0;
  EXPECT_NE(p.validate().find("model_loading_duration"), std::string::npos);
  p = EpochParams{};
  p.epoch_shift = p.epoch_length;
  EXPECT_NE(p.validate().find("epoch_shift"), std::string::npos);
  p = EpochParams{};
  p.poc_validation_delay = 1;
  EXPECT_NE(p.validate().find("poc_validation_delay"), std::string::npos);
}

TEST(EpochStages, StagesOfConsecutiveEpochsTile) {
  auto p = *EpochParams::preset("testnet");
  uint64_t P = first_poc_start(p);
  for (int e = 0; e < 100; ++e) {
    auto s = compute_stages(p, P);
    auto next = compute_stages(p, s.next_poc_start);
    EXPECT_LT(s.settlement, next.pre_poc_selection + 1);
    P = s.next_poc_start;
  }
  EXPECT_EQ(P, first_poc_start(p) + 100 * p.epoch_length);
}
