#include "api/broker/plan.h"

#include <gtest/gtest.h>

namespace api::broker {
namespace {

using std::chrono::seconds;

const TimePoint kT0 = TimePoint{} + std::chrono::hours(1);

ObservedState observed(NodeProbe p, TimePoint at) {
  ObservedState o;
  o.probe = std::move(p);
  o.observed_at = at;
  return o;
}

NodeProbe stopped() {
  return {ServiceKind::kStopped, {}, false, PowPhase::kNone, {}, {}};
}
NodeProbe serving(std::string model, bool healthy = true) {
  return {ServiceKind::kInference, std::move(model), healthy, PowPhase::kNone, {}, {}};
}
NodeProbe pow(PowPhase phase, int64_t node, uint64_t height) {
  return {ServiceKind::kPow, {}, false, phase, node, height};
}

PocInit init(int64_t node = 0, uint64_t height = 40) {
  return {node, 2, height, "ABCD", "02aa", "http://cb/v1/poc-batches"};
}

TEST(Plan, ProbesAnUnknownNodeFirst) {
  EXPECT_EQ(plan(IntendedState::inference("m", {}), ObservedState{}, kT0).kind, ActionKind::kProbe);
  EXPECT_EQ(plan(IntendedState::none(), ObservedState{}, kT0).kind, ActionKind::kProbe);
}

TEST(Plan, StartsInferenceOnAStoppedNodeAndStopsPocFirst) {
  auto want = IntendedState::inference("m", {"--a", "1"});
  EXPECT_EQ(plan(want, observed(stopped(), kT0), kT0).kind, ActionKind::kInferenceUp);
  EXPECT_EQ(plan(want, observed(pow(PowPhase::kGenerating, 0, 40), kT0), kT0).kind, ActionKind::kStop);
  // Another model loaded: inference/up switches it without a stop.
  EXPECT_EQ(plan(want, observed(serving("other"), kT0), kT0).kind, ActionKind::kInferenceUp);
}

TEST(Plan, InferenceIsSettledOnlyWithOurArgsAndHealth) {
  auto want = IntendedState::inference("m", {"--a", "1"});
  ObservedState o = observed(serving("m"), kT0);
  EXPECT_EQ(plan(want, o, kT0).kind, ActionKind::kInferenceUp) << "args unknown (e.g. after a dapi restart)";
  o.applied = want;
  EXPECT_EQ(plan(want, o, kT0).kind, ActionKind::kNone);
  o.applied = IntendedState::inference("m", {"--a", "2"});
  EXPECT_EQ(plan(want, o, kT0).kind, ActionKind::kInferenceUp) << "new args need a reload";
  o = observed(serving("m", /*healthy=*/false), kT0);
  o.applied = want;
  EXPECT_EQ(plan(want, o, kT0).kind, ActionKind::kInferenceUp);
}

TEST(Plan, PocTransitions) {
  auto gen = IntendedState::poc_generate(init(1, 40));
  EXPECT_EQ(plan(gen, observed(serving("m"), kT0), kT0).kind, ActionKind::kStop);
  EXPECT_EQ(plan(gen, observed(stopped(), kT0), kT0).kind, ActionKind::kPowInitGenerate);
  EXPECT_EQ(plan(gen, observed(pow(PowPhase::kGenerating, 1, 40), kT0), kT0).kind, ActionKind::kNone);
  // Generating for an older epoch, or with another node index: re-initialise.
  EXPECT_EQ(plan(gen, observed(pow(PowPhase::kGenerating, 1, 10), kT0), kT0).kind,
            ActionKind::kPowInitGenerate);
  EXPECT_EQ(plan(gen, observed(pow(PowPhase::kGenerating, 0, 40), kT0), kT0).kind,
            ActionKind::kPowInitGenerate);
  auto val = IntendedState::poc_validate(init(1, 40));
  EXPECT_EQ(plan(val, observed(pow(PowPhase::kGenerating, 1, 40), kT0), kT0).kind,
            ActionKind::kPowInitValidate)
      << "generate -> validate keeps the PoC network loaded: no stop";
  EXPECT_EQ(plan(val, observed(pow(PowPhase::kValidating, 1, 40), kT0), kT0).kind, ActionKind::kNone);
  EXPECT_EQ(plan(IntendedState::stopped(), observed(pow(PowPhase::kValidating, 1, 40), kT0), kT0).kind,
            ActionKind::kStop);
}

TEST(Plan, NeverActsOnAStaleObservation) {
  auto want = IntendedState::inference("m", {});
  ObservedState o = observed(stopped(), kT0);
  EXPECT_EQ(plan(want, o, kT0 + seconds(1)).kind, ActionKind::kInferenceUp);
  Action a = plan(want, o, kT0 + seconds(3));
  EXPECT_EQ(a.kind, ActionKind::kProbe);
  EXPECT_EQ(a.reason, "observation too old to act on");
}

TEST(Plan, ReChecksASettledNodeOnATimer) {
  ObservedState o = observed(stopped(), kT0);
  Action a = plan(IntendedState::stopped(), o, kT0 + seconds(5));
  EXPECT_EQ(a.kind, ActionKind::kNone);
  EXPECT_EQ(a.not_before, kT0 + seconds(10));
  EXPECT_EQ(plan(IntendedState::stopped(), o, kT0 + seconds(10)).kind, ActionKind::kProbe);
}

TEST(Plan, WaitsOutTheBackoffOfAFailedNode) {
  ObservedState o;
  o.failure = {"probe: connection refused", 2, kT0 + seconds(2)};
  Action a = plan(IntendedState::inference("m", {}), o, kT0 + seconds(1));
  EXPECT_EQ(a.kind, ActionKind::kWait);
  EXPECT_EQ(a.not_before, kT0 + seconds(2));
  EXPECT_EQ(plan(IntendedState::inference("m", {}), o, kT0 + seconds(2)).kind, ActionKind::kProbe);
}

TEST(Backoff, DoublesUpToTheCap) {
  BackoffOptions b{seconds(1), seconds(10)};
  EXPECT_EQ(backoff_delay(0, b), Duration::zero());
  EXPECT_EQ(backoff_delay(1, b), seconds(1));
  EXPECT_EQ(backoff_delay(2, b), seconds(2));
  EXPECT_EQ(backoff_delay(4, b), seconds(8));
  EXPECT_EQ(backoff_delay(5, b), seconds(10));
  EXPECT_EQ(backoff_delay(1000, b), seconds(10));
}

}  // namespace
}  // namespace api::broker
