#include "mlnode/inference_gate.h"

#include <gtest/gtest.h>

#include <atomic>
#include <thread>

namespace mlnode {
namespace {

using namespace std::chrono_literals;

TEST(InferenceGate, ClosedUntilOpenedAndCountsRequests) {
  InferenceGate gate;
  EXPECT_FALSE(gate.enter().has_value());
  gate.open();
  {
    auto a = gate.enter();
    auto b = gate.enter();
    ASSERT_TRUE(a && b);
    EXPECT_EQ(gate.in_flight(), 2);
    EXPECT_FALSE(a->cancelled());
  }
  EXPECT_EQ(gate.in_flight(), 0);
}

// Issue 14, fault 4: /api/v1/stop ends running requests and returns once they are gone.
TEST(InferenceGate, CloseAndCancelEndsRunningRequestsAndWaitsForThem) {
  InferenceGate gate;
  gate.open();
  std::atomic<bool> entered{false}, saw_cancel{false};
  std::thread request([&] {
    auto ticket = gate.enter();
    entered = true;
    while (!ticket->cancelled()) std::this_thread::sleep_for(1ms);
    std::this_thread::sleep_for(50ms);  // winding down
    saw_cancel = true;
  });
  while (!entered) std::this_thread::sleep_for(1ms);
  EXPECT_EQ(gate.close_and_cancel(5s), 0);
  EXPECT_TRUE(saw_cancel) << "close_and_cancel returned before the request left";
  EXPECT_FALSE(gate.enter().has_value()) << "closed for new requests";
  request.join();
  gate.open();
  auto fresh = gate.enter();
  ASSERT_TRUE(fresh);
  EXPECT_FALSE(fresh->cancelled()) << "a cancellation does not reach requests that enter after a reopen";
}

TEST(InferenceGate, DrainLetsRequestsFinishAndReportsWhatIsLeft) {
  InferenceGate gate;
  gate.open();
  auto held = gate.enter();
  EXPECT_EQ(gate.close_and_drain(20ms), 1);
  EXPECT_FALSE(held->cancelled());
  EXPECT_FALSE(gate.enter().has_value());
}

}  // namespace
}  // namespace mlnode
