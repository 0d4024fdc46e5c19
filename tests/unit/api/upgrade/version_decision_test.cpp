#include "api/upgrade/version_decision.h"

#include <gtest/gtest.h>

namespace api::upgrade {
namespace {

using std::chrono::seconds;

chain::Event changed(const std::string& old_v, const std::string& new_v, uint64_t height) {
  return {"mlnode_version_changed", {{"old", old_v}, {"new", new_v}, {"height", std::to_string(height)}}};
}

TEST(IsSafeVersion, AcceptsChainVersionsAndRefusesPathTricks) {
  for (const char* v : {"v3.0.8", "v3.2.0-rc1", "v10.0.0-a.b"}) EXPECT_TRUE(is_safe_version(v)) << v;
  for (const char* v : {"", "v", "3.0.8", "v3.0.8/../x", "v3..0", "v3.0.8?x", "v3 0", "v3.0.8/"})
    EXPECT_FALSE(is_safe_version(v)) << v;
  EXPECT_FALSE(is_safe_version("v" + std::string(64, '1')));
}

TEST(DecideAtBlock, SwitchesOnTheUpgradeBlocksEventFromTheFollowedVersion) {
  auto d = decide_at_block("v1.0.0", std::nullopt, 50, {changed("v1.0.0", "v2.0.0", 50)});
  ASSERT_TRUE(d.switch_to);
  EXPECT_EQ(*d.switch_to, "v2.0.0");
  EXPECT_NE(d.reason.find("block 50"), std::string::npos) << d.reason;
}

TEST(DecideAtBlock, IgnoresAnEventFromAnotherVersionNeverSwitchingBack) {
  // A restart read the chain's v3 and replays the blocks of the earlier upgrades v1->v2 and v2->v3.
  EXPECT_FALSE(decide_at_block("v3.0.0", std::nullopt, 50, {changed("v1.0.0", "v2.0.0", 50)}).switch_to);
  EXPECT_FALSE(decide_at_block("v3.0.0", std::nullopt, 60, {changed("v2.0.0", "v3.0.0", 60)}).switch_to);
  // Unsafe or missing values never reach a URL.
  EXPECT_FALSE(decide_at_block("v1.0.0", std::nullopt, 50, {changed("v1.0.0", "v2/../x", 50)}).switch_to);
  EXPECT_FALSE(decide_at_block("v1.0.0", std::nullopt, 50, {{"mlnode_version_changed", {{"old", "v1.0.0"}}}})
                   .switch_to);
  EXPECT_FALSE(decide_at_block("v1.0.0", std::nullopt, 50, {{"other", {}}}).switch_to);
}

TEST(DecideAtBlock, KnownPendingUpgradeSwitchesAtExactlyItsHeight) {
  PendingUpgrade next{50, "v2.0.0"};
  EXPECT_FALSE(decide_at_block("v1.0.0", next, 49, {}).switch_to);
  EXPECT_FALSE(decide_at_block("v1.0.0", next, 49, {}).refresh_plan);
  auto at = decide_at_block("v1.0.0", next, 50, {});
  ASSERT_TRUE(at.switch_to);
  EXPECT_EQ(*at.switch_to, "v2.0.0");
  EXPECT_TRUE(at.refresh_plan);  // learn the next one
  // Past its height without a switch (the follower replays old blocks): refresh, no switch.
  auto past = decide_at_block("v1.0.0", next, 51, {});
  EXPECT_FALSE(past.switch_to);
  EXPECT_TRUE(past.refresh_plan);
  EXPECT_FALSE(decide_at_block("v2.0.0", next, 50, {}).switch_to);  // already there
}

TEST(DecideAtBlock, ThePlanIsReReadWhenABlockCreatesAnUpgrade) {
  auto d = decide_at_block("v1.0.0", std::nullopt, 30, {{"partial_upgrade_created", {{"height", "60"}}}});
  EXPECT_TRUE(d.refresh_plan);
  EXPECT_FALSE(d.switch_to);
}

TEST(DecideRepair, SwitchesOnlyToADifferentSafeVersion) {
  EXPECT_EQ(decide_repair("v1.0.0", "v2.0.0"), std::optional<std::string>("v2.0.0"));
  EXPECT_FALSE(decide_repair("v1.0.0", "v1.0.0"));
  EXPECT_FALSE(decide_repair("v1.0.0", ""));
  EXPECT_FALSE(decide_repair("v1.0.0", "v2/../../x"));
}

TEST(NextNodeToSwitch, FirstNodeNotOnTheTargetInIdOrder) {
  std::map<std::string, std::string> v{{"a", "v2"}, {"b", "v1"}, {"c", "v1"}};
  EXPECT_EQ(next_node_to_switch(v, "v2"), std::optional<std::string>("b"));
  v["b"] = "v2";
  EXPECT_EQ(next_node_to_switch(v, "v2"), std::optional<std::string>("c"));
  v["c"] = "v2";
  EXPECT_FALSE(next_node_to_switch(v, "v2"));
  EXPECT_FALSE(next_node_to_switch({}, "v2"));
}

TEST(NextSwitchStep, DrainWaitsForInFlightRequestsAndTheBrokerCallThenStopsOld) {
  SwitchOptions o;
  o.drain_timeout = seconds(30);
  TimePoint t0 = TimePoint{} + seconds(100);
  EXPECT_EQ(next_switch_step(SwitchPhase::kDrain, t0, t0, {2, false, false}, o).action, SwitchAction::kWait);
  EXPECT_EQ(next_switch_step(SwitchPhase::kDrain, t0, t0, {0, true, false}, o).action, SwitchAction::kWait);
  // Nothing in flight, but within the grace period a request admitted just before may still take its lease.
  EXPECT_EQ(next_switch_step(SwitchPhase::kDrain, t0, t0 + o.drain_grace / 2, {0, false, false}, o).action,
            SwitchAction::kWait);
  auto drained = next_switch_step(SwitchPhase::kDrain, t0, t0 + seconds(1), {0, false, false}, o);
  EXPECT_EQ(drained.action, SwitchAction::kStopOld);
  EXPECT_FALSE(drained.timed_out);
  EXPECT_EQ(next_switch_step(SwitchPhase::kDrain, t0, t0 + seconds(29), {1, false, false}, o).action,
            SwitchAction::kWait);
  auto late = next_switch_step(SwitchPhase::kDrain, t0, t0 + seconds(30), {1, false, false}, o);
  EXPECT_EQ(late.action, SwitchAction::kStopOld);
  EXPECT_TRUE(late.timed_out);
}

TEST(NextSwitchStep, LoadWaitsUntilTheNodeServesOnTheNewVersionOrTheTimeout) {
  SwitchOptions o;
  o.load_timeout = seconds(600);
  TimePoint t0 = TimePoint{} + seconds(100);
  EXPECT_EQ(next_switch_step(SwitchPhase::kLoad, t0, t0 + seconds(5), {0, true, false}, o).action,
            SwitchAction::kWait);
  auto ok = next_switch_step(SwitchPhase::kLoad, t0, t0 + seconds(5), {0, false, true}, o);
  EXPECT_EQ(ok.action, SwitchAction::kFinish);
  EXPECT_FALSE(ok.timed_out);
  auto failing = next_switch_step(SwitchPhase::kLoad, t0, t0 + seconds(5), {0, false, false, true}, o);
  EXPECT_EQ(failing.action, SwitchAction::kFinish);
  EXPECT_TRUE(failing.timed_out);
  auto late = next_switch_step(SwitchPhase::kLoad, t0, t0 + seconds(600), {0, false, false}, o);
  EXPECT_EQ(late.action, SwitchAction::kFinish);
  EXPECT_TRUE(late.timed_out);
}

}  // namespace
}  // namespace api::upgrade
