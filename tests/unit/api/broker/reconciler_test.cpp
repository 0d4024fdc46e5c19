#include "api/broker/reconciler.h"

#include <gtest/gtest.h>

#include <atomic>
#include <condition_variable>
#include <mutex>
#include <thread>

#include "fake_driver.h"

namespace api::broker {
namespace {

using std::chrono::milliseconds;
using std::chrono::seconds;
using testing::FakeDriver;

PocInit poc_init(int64_t node, uint64_t height) {
  return {node, 2, height, "ABCD", "02aa", "http://cb/v1/poc-batches"};
}

class ReconcilerTest : public ::testing::Test {
 protected:
  ReconcilerTest() : rec(clock, manual_options()) {
    a = std::make_shared<FakeDriver>();
    b = std::make_shared<FakeDriver>();
    rec.add_node("a", a);
    rec.add_node("b", b);
  }
  static ReconcilerOptions manual_options() {
    ReconcilerOptions o;
    o.start_threads = false;
    o.backoff = {seconds(1), seconds(8)};
    return o;
  }
  NodeView view(const std::string& id) { return *rec.node(id); }

  ManualClock clock;
  Reconciler rec;
  std::shared_ptr<FakeDriver> a, b;
};

TEST_F(ReconcilerTest, WithoutIntentNodesAreOnlyProbed) {
  EXPECT_EQ(rec.run_all_until_idle(), 2);
  EXPECT_EQ(a->calls, (std::vector<std::string>{"probe"}));
  EXPECT_EQ(view("a").status, "STOPPED");
  EXPECT_EQ(view("a").intended.intent, Intent::kNone);
}

TEST_F(ReconcilerTest, FollowsPhaseTransitionsThroughAnEpoch) {
  // Inference phase.
  rec.set_intended_all(
      {{"a", IntendedState::inference("m1", {"--x", "1"})}, {"b", IntendedState::inference("m2", {})}});
  rec.run_all_until_idle();
  EXPECT_EQ(a->calls, (std::vector<std::string>{"probe", "inference_up m1"}));
  EXPECT_EQ(a->last_args, (std::vector<std::string>{"--x", "1"}));
  EXPECT_EQ(view("a").status, "INFERENCE");
  EXPECT_EQ(view("b").status, "INFERENCE");

  // PoC start: a generates, b has a POC_SLOT and keeps serving.
  a->calls.clear();
  b->calls.clear();
  rec.set_intended("a", IntendedState::poc_generate(poc_init(0, 40)));
  rec.run_all_until_idle();
  EXPECT_EQ(a->calls, (std::vector<std::string>{"stop", "pow_init_generate"}));
  EXPECT_TRUE(b->calls.empty()) << "a POC_SLOT node is not touched";
  EXPECT_EQ(view("a").status, "POC");
  EXPECT_EQ(view("a").observed.probe.pow, PowPhase::kGenerating);

  // End of generation: validate without a stop.
  a->calls.clear();
  rec.set_intended("a", IntendedState::poc_validate(poc_init(0, 40)));
  rec.run_all_until_idle();
  EXPECT_EQ(a->calls, (std::vector<std::string>{"pow_init_validate"}));
  EXPECT_EQ(view("a").observed.probe.pow, PowPhase::kValidating);

  // Model loading for the next epoch: back to inference with the new epoch's model.
  a->calls.clear();
  rec.set_intended("a", IntendedState::inference("m2", {}));
  rec.run_all_until_idle();
  EXPECT_EQ(a->calls, (std::vector<std::string>{"stop", "inference_up m2"}));
  EXPECT_EQ(view("a").observed.probe.model, "m2");
  EXPECT_EQ(view("a").observed.failure.consecutive, 0u);
}

TEST_F(ReconcilerTest, ProbesAgainBeforeActingOnAnOldObservation) {
  rec.run_all_until_idle();  // probed at t0
  clock.advance(seconds(5));
  a->calls.clear();
  rec.set_intended("a", IntendedState::inference("m1", {}));
  rec.run_until_idle("a");
  EXPECT_EQ(a->calls, (std::vector<std::string>{"probe", "inference_up m1"}));
}

TEST_F(ReconcilerTest, SettingTheSameIntentTwiceDoesNothingMore) {
  rec.set_intended("a", IntendedState::poc_generate(poc_init(0, 40)));
  rec.run_until_idle("a");
  const uint64_t generation = view("a").generation;
  a->calls.clear();
  rec.set_intended("a", IntendedState::poc_generate(poc_init(0, 40)));  // the same block dispatched again
  rec.trigger();
  EXPECT_EQ(rec.run_until_idle("a"), 0);
  EXPECT_TRUE(a->calls.empty());
  EXPECT_EQ(view("a").generation, generation);
}

TEST_F(ReconcilerTest, DropsTheResultOfATaskWhoseIntentChangedWhileItRan) {
  rec.set_intended("a", IntendedState::inference("m1", {}));
  rec.run_until_idle("a");
  a->calls.clear();
  rec.set_intended("a", IntendedState::inference("m2", {}));
  // While inference/up m2 runs, the phase moves on to PoC.
  a->during_call = [&](const std::string& call) {
    if (call == "inference_up m2") rec.set_intended("a", IntendedState::poc_generate(poc_init(0, 40)));
  };
  StepResult r = rec.step("a");
  EXPECT_EQ(r.action, ActionKind::kInferenceUp);
  EXPECT_TRUE(r.stale);
  NodeView v = view("a");
  EXPECT_EQ(v.stale_results_dropped, 1u);
  EXPECT_EQ(v.observed.probe.kind, ServiceKind::kUnknown) << "the stale success must not be recorded";
  EXPECT_FALSE(v.observed.applied.has_value());
  a->during_call = nullptr;
  rec.run_until_idle("a");
  EXPECT_EQ(a->calls, (std::vector<std::string>{"inference_up m2", "probe", "stop", "pow_init_generate"}));
  EXPECT_EQ(view("a").observed.probe.pow, PowPhase::kGenerating);
}

TEST_F(ReconcilerTest, AStaleFailureIsDroppedToo) {
  a->fail_inference_up = "CUDA out of memory";
  rec.set_intended("a", IntendedState::inference("m1", {}));
  rec.step("a");  // probe
  a->during_call = [&](const std::string&) { rec.set_intended("a", IntendedState::stopped()); };
  StepResult r = rec.step("a");
  EXPECT_TRUE(r.stale);
  EXPECT_FALSE(view("a").observed.failure.failed());
}

TEST_F(ReconcilerTest, AFailingNodeIsMarkedFailedAndRetriedWithBackoffWhileOthersAreUnaffected) {
  a->down = true;
  rec.set_intended_all(
      {{"a", IntendedState::inference("m1", {})}, {"b", IntendedState::inference("m1", {})}});
  rec.run_all_until_idle();
  NodeView va = view("a");
  EXPECT_EQ(va.status, "FAILED");
  EXPECT_EQ(va.observed.failure.reason, "probe: probe: connection refused");
  EXPECT_EQ(va.observed.failure.consecutive, 1u);
  EXPECT_EQ(view("b").status, "INFERENCE");
  EXPECT_EQ(b->calls, (std::vector<std::string>{"probe", "inference_up m1"}));

  // Within the backoff nothing is tried.
  a->calls.clear();
  clock.advance(milliseconds(999));
  EXPECT_EQ(rec.step("a").action, ActionKind::kWait);
  EXPECT_TRUE(a->calls.empty());
  // After 1 s: tried again, fails again, next wait is 2 s.
  clock.advance(milliseconds(1));
  rec.run_until_idle("a");
  EXPECT_EQ(a->calls, (std::vector<std::string>{"probe"}));
  EXPECT_EQ(view("a").observed.failure.consecutive, 2u);
  EXPECT_EQ(view("a").observed.failure.retry_at, clock.now() + seconds(2));
  clock.advance(seconds(2));
  rec.run_until_idle("a");
  EXPECT_EQ(view("a").observed.failure.consecutive, 3u);
  EXPECT_EQ(view("a").observed.failure.retry_at, clock.now() + seconds(4));

  // The node comes back: after the backoff it is probed and brought to the intended state; FAILED clears.
  a->down = false;
  a->calls.clear();
  clock.advance(seconds(4));
  rec.run_until_idle("a");
  EXPECT_EQ(a->calls, (std::vector<std::string>{"probe", "inference_up m1"}));
  EXPECT_EQ(view("a").status, "INFERENCE");
  EXPECT_FALSE(view("a").observed.failure.failed());
  EXPECT_EQ(view("a").failures, 3u);
}

TEST_F(ReconcilerTest, ACommandErrorIsTheFailureReasonAndTheBackoffGrows) {
  a->fail_inference_up = "model weights not found";
  rec.set_intended("a", IntendedState::inference("m1", {}));
  rec.run_until_idle("a");
  EXPECT_EQ(view("a").status, "FAILED");
  EXPECT_EQ(view("a").observed.failure.reason,
            "inference_up: POST /api/v1/inference/up: HTTP 500: model weights not found");
  clock.advance(seconds(1));
  rec.run_until_idle("a");  // probe succeeds (node reachable) but inference/up fails again
  EXPECT_EQ(view("a").observed.failure.consecutive, 2u)
      << "a successful probe alone does not reset the backoff";
  EXPECT_EQ(view("a").status, "FAILED");
}

TEST_F(ReconcilerTest, ANewIntentIsTriedAtOnceDespiteTheBackoff) {
  a->fail_inference_up = "bad model";
  rec.set_intended("a", IntendedState::inference("m1", {}));
  rec.run_until_idle("a");
  ASSERT_EQ(view("a").status, "FAILED");
  a->calls.clear();
  rec.set_intended("a", IntendedState::poc_generate(poc_init(0, 40)));
  rec.run_until_idle("a");
  EXPECT_EQ(a->calls, (std::vector<std::string>{"probe", "pow_init_generate"}));
  EXPECT_EQ(view("a").status, "POC");
}

TEST_F(ReconcilerTest, TheTimerReCheckNoticesADeadNodeAndRecoversIt) {
  rec.set_intended("a", IntendedState::inference("m1", {}));
  rec.run_until_idle("a");
  ASSERT_EQ(view("a").status, "INFERENCE");
  a->down = true;  // killed
  clock.advance(seconds(9));
  EXPECT_EQ(rec.run_until_idle("a"), 0) << "not yet due for a re-check";
  clock.advance(seconds(1));
  rec.run_until_idle("a");
  EXPECT_EQ(view("a").status, "FAILED");
  // Restarted empty: brought back to the phase's intended state.
  a->down = false;
  a->state = NodeProbe{ServiceKind::kStopped, {}, false, PowPhase::kNone, {}, {}};
  clock.advance(seconds(1));
  rec.run_until_idle("a");
  EXPECT_EQ(view("a").status, "INFERENCE");
  EXPECT_EQ(a->calls.back(), "inference_up m1");
}

TEST_F(ReconcilerTest, AnUnhealthyInferenceNodeIsReloaded) {
  rec.set_intended("a", IntendedState::inference("m1", {}));
  rec.run_until_idle("a");
  a->state.healthy = false;
  a->calls.clear();
  clock.advance(seconds(10));
  rec.run_until_idle("a");
  EXPECT_EQ(a->calls, (std::vector<std::string>{"probe", "inference_up m1"}));
}

TEST_F(ReconcilerTest, ReplacingTheDriverDropsResultsOfTheOldOneAndReprobes) {
  rec.set_intended("a", IntendedState::inference("m1", {}));
  rec.run_until_idle("a");
  auto v2 = std::make_shared<FakeDriver>();
  EXPECT_TRUE(rec.set_driver("a", v2));
  rec.run_until_idle("a");
  EXPECT_EQ(v2->calls, (std::vector<std::string>{"probe", "inference_up m1"}));
}

TEST_F(ReconcilerTest, RemovedAndUnknownNodes) {
  EXPECT_FALSE(rec.add_node("a", a));
  EXPECT_TRUE(rec.remove_node("a"));
  EXPECT_FALSE(rec.node("a").has_value());
  EXPECT_FALSE(rec.set_intended("a", IntendedState::stopped()));
  EXPECT_FALSE(rec.step("a").executed);
  EXPECT_EQ(rec.nodes().size(), 1u);
}

// Worker threads: a change of intent wakes the node's worker, which reaches the state on its own.
TEST(ReconcilerThreads, WorkersReactToIntentChanges) {
  ManualClock clock;
  ReconcilerOptions o;
  o.worker_poll = milliseconds(20);
  Reconciler rec(clock, o);
  auto d = std::make_shared<FakeDriver>();
  std::atomic<int> calls{0};
  d->during_call = [&](const std::string&) { calls++; };
  rec.add_node("a", d);
  rec.set_intended("a", IntendedState::inference("m1", {}));
  auto deadline = std::chrono::steady_clock::now() + seconds(10);
  while (rec.node("a")->status != "INFERENCE" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(milliseconds(5));
  }
  EXPECT_EQ(rec.node("a")->status, "INFERENCE");
  rec.stop();
  EXPECT_EQ(calls.load(), 2);  // probe + inference/up, then settled (the clock does not move)
}

}  // namespace
}  // namespace api::broker

namespace api::broker {
namespace {

// An MLNode whose inference/up blocks (a long model load) until stop() aborts it. Thread-safe.
class SlowLoadDriver : public MlnodeDriver {
 public:
  common::Result<NodeProbe> probe() override {
    std::lock_guard lock(mu_);
    calls_.push_back("probe");
    return state_;
  }
  common::Status stop() override {
    std::lock_guard lock(mu_);
    calls_.push_back("stop");
    aborted_ = true;
    state_ = NodeProbe{ServiceKind::kStopped, {}, false, PowPhase::kNone, {}, {}};
    cv_.notify_all();
    return {};
  }
  common::Status inference_up(const std::string& model, const std::vector<std::string>&) override {
    std::unique_lock lock(mu_);
    calls_.push_back("inference_up " + model);
    loading_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return aborted_; });  // guard only; stop() ends it
    loading_ = false;
    if (aborted_) return common::make_error(499, "POST /api/v1/inference/up: cancelled by /api/v1/stop");
    state_ = NodeProbe{ServiceKind::kInference, model, true, PowPhase::kNone, {}, {}};
    return {};
  }
  common::Result<NodeProbe> pow_init_generate(const PocInit& init) override {
    std::lock_guard lock(mu_);
    calls_.push_back("pow_init_generate");
    state_ =
        NodeProbe{ServiceKind::kPow, {}, false, PowPhase::kGenerating, init.node_index, init.block_height};
    return state_;
  }
  common::Result<NodeProbe> pow_init_validate(const PocInit&) override {
    return common::make_error(500, "unexpected");
  }
  common::Status pow_validate(const PocProofBatch&) override { return common::make_error(500, "unexpected"); }

  bool wait_loading() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return loading_; });
  }
  std::vector<std::string> calls() {
    std::lock_guard lock(mu_);
    return calls_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  NodeProbe state_{ServiceKind::kStopped, {}, false, PowPhase::kNone, {}, {}};
  std::vector<std::string> calls_;
  bool loading_ = false;
  bool aborted_ = false;
};

TEST(ReconcilerThreads, ANewIntentCancelsARunningModelLoad) {
  ManualClock clock;
  ReconcilerOptions o;
  o.worker_poll = std::chrono::milliseconds(20);
  Reconciler rec(clock, o);
  auto d = std::make_shared<SlowLoadDriver>();
  rec.add_node("a", d);
  rec.set_intended("a", IntendedState::inference("big-model", {}));
  ASSERT_TRUE(d->wait_loading());
  // PoC starts while the model is still loading.
  rec.set_intended("a", IntendedState::poc_generate({0, 1, 40, "H", "02aa", "http://cb"}));
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(10);
  while (rec.node("a")->status != "POC" && std::chrono::steady_clock::now() < deadline) {
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  NodeView v = *rec.node("a");
  rec.stop();
  EXPECT_EQ(v.status, "POC");
  EXPECT_EQ(v.cancels, 1u);
  EXPECT_EQ(v.stale_results_dropped, 1u) << "the aborted load's error is not a FAILED node";
  EXPECT_FALSE(v.observed.failure.failed());
  EXPECT_EQ(d->calls(), (std::vector<std::string>{"probe", "inference_up big-model", "stop", "probe",
                                                  "pow_init_generate"}));
}

}  // namespace
}  // namespace api::broker

namespace api::broker {
namespace {

// An MLNode whose inference/up never ends by itself (guard: 60 s): only cancel() ends it, like the HTTP
// driver's CancelCheck closing the connection. Records whether a call is in flight.
class BlockingDriver : public MlnodeDriver {
 public:
  common::Result<NodeProbe> probe() override {
    return NodeProbe{ServiceKind::kStopped, {}, false, PowPhase::kNone, {}, {}};
  }
  common::Status stop() override { return {}; }
  common::Status inference_up(const std::string&, const std::vector<std::string>&) override {
    std::unique_lock lock(mu_);
    in_call_ = true;
    cv_.notify_all();
    cv_.wait_for(lock, std::chrono::seconds(60), [&] { return cancelled_; });
    in_call_ = false;
    ++calls_ended_;
    return common::make_error(1, "POST /api/v1/inference/up: cancelled");
  }
  common::Result<NodeProbe> pow_init_generate(const PocInit&) override {
    return common::make_error(500, "unexpected");
  }
  common::Result<NodeProbe> pow_init_validate(const PocInit&) override {
    return common::make_error(500, "unexpected");
  }
  common::Status pow_validate(const PocProofBatch&) override { return common::make_error(500, "unexpected"); }
  void cancel() override {
    std::lock_guard lock(mu_);
    cancelled_ = true;
    cv_.notify_all();
  }

  bool wait_in_call() {
    std::unique_lock lock(mu_);
    return cv_.wait_for(lock, std::chrono::seconds(10), [&] { return in_call_; });
  }
  bool in_call() {
    std::lock_guard lock(mu_);
    return in_call_;
  }
  bool cancelled() {
    std::lock_guard lock(mu_);
    return cancelled_;
  }
  int calls_ended() {
    std::lock_guard lock(mu_);
    return calls_ended_;
  }

 private:
  std::mutex mu_;
  std::condition_variable cv_;
  bool in_call_ = false;
  bool cancelled_ = false;
  int calls_ended_ = 0;
};

TEST(ReconcilerThreads, StopCancelsTheCallsInFlightAndWaitsForThem) {
  ManualClock clock;
  ReconcilerOptions o;
  o.worker_poll = std::chrono::milliseconds(20);
  Reconciler rec(clock, o);
  auto blocked = std::make_shared<BlockingDriver>();
  auto idle = std::make_shared<BlockingDriver>();
  rec.add_node("a", blocked);
  rec.add_node("b", idle);
  rec.set_intended("a", IntendedState::inference("big-model", {}));
  ASSERT_TRUE(blocked->wait_in_call());
  rec.stop();  // without the cancel this waits out the 60 s guard
  EXPECT_TRUE(blocked->cancelled());
  EXPECT_FALSE(blocked->in_call()) << "stop() returned while a worker was still inside a driver call";
  EXPECT_EQ(blocked->calls_ended(), 1);
  NodeView v = *rec.node("a");
  EXPECT_FALSE(v.busy);
  EXPECT_FALSE(v.observed.failure.failed())
      << "a call cancelled by the shutdown does not mark the node FAILED";
  EXPECT_EQ(rec.step("a").executed, false) << "no driver call after stop()";
  rec.stop();  // idempotent
}

TEST_F(ReconcilerTest, HeldNodeGetsNoCallUntilReleasedThenActsOnItsNewDriver) {
  // An MLNode version switch holds a node: no probe, no inference/up, while its old version drains and stops.
  rec.set_intended_all({{"a", IntendedState::inference("m1", {})}});
  ASSERT_TRUE(rec.hold("a", true));
  EXPECT_TRUE(view("a").held);
  EXPECT_EQ(rec.run_until_idle("a"), 0);
  EXPECT_TRUE(a->calls.empty());
  auto next = std::make_shared<FakeDriver>();  // the new version's URLs
  ASSERT_TRUE(rec.set_driver("a", next));
  EXPECT_EQ(rec.run_until_idle("a"), 0);  // still held
  ASSERT_TRUE(rec.hold("a", false));
  EXPECT_FALSE(view("a").held);
  rec.run_until_idle("a");
  EXPECT_TRUE(a->calls.empty());  // the old driver saw nothing
  EXPECT_EQ(next->calls, (std::vector<std::string>{"probe", "inference_up m1"}));
  EXPECT_EQ(view("a").status, "INFERENCE");
  EXPECT_FALSE(rec.hold("nope", true));
}

TEST_F(ReconcilerTest, NewDriverIsTriedAtOnceAfterFailuresOnTheOldOne) {
  a->down = true;
  rec.set_intended_all({{"a", IntendedState::inference("m1", {})}});
  EXPECT_TRUE(rec.step("a").executed);  // the probe fails: backoff
  EXPECT_EQ(view("a").observed.failure.consecutive, 1u);
  EXPECT_FALSE(rec.step("a").executed);
  auto next = std::make_shared<FakeDriver>();  // e.g. the new MLNode version's URLs
  ASSERT_TRUE(rec.set_driver("a", next));
  EXPECT_EQ(view("a").observed.failure.consecutive, 0u);
  rec.run_until_idle("a");  // without advancing the clock
  EXPECT_EQ(next->calls, (std::vector<std::string>{"probe", "inference_up m1"}));
  EXPECT_EQ(view("a").status, "INFERENCE");
  EXPECT_EQ(view("a").observed.failure.reason, "");
}

}  // namespace
}  // namespace api::broker
