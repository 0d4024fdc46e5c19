#include "mlnode/service_state.h"

#include <gtest/gtest.h>

namespace mlnode {
namespace {

TEST(ServiceStateMachine, StartsStoppedAndEntersAServiceFromStopped) {
  ServiceStateMachine sm;
  EXPECT_EQ(sm.current(), ServiceState::kStopped);
  ASSERT_TRUE(sm.begin(ServiceState::kInference).ok());
  EXPECT_EQ(sm.current(), ServiceState::kInference);
  EXPECT_TRUE(sm.begin(ServiceState::kInference).ok()) << "re-entering the running service is allowed";
}

TEST(ServiceStateMachine, AnotherServiceWhileOneRunsIsAConflictUntilStop) {
  ServiceStateMachine sm;
  ASSERT_TRUE(sm.begin(ServiceState::kInference).ok());
  auto st = sm.begin(ServiceState::kPow);
  ASSERT_FALSE(st.ok());
  EXPECT_EQ(st.error().code, 409u);
  EXPECT_NE(st.error().message.find("running INFERENCE; POST /api/v1/stop before starting POW"), std::string::npos);
  EXPECT_EQ(sm.current(), ServiceState::kInference);
  sm.stop();
  EXPECT_EQ(sm.current(), ServiceState::kStopped);
  EXPECT_TRUE(sm.begin(ServiceState::kPow).ok());
  EXPECT_EQ(sm.begin(ServiceState::kInference).error().code, 409u);
}

TEST(ServiceStateMachine, RequireAndAbort) {
  ServiceStateMachine sm;
  EXPECT_EQ(sm.require(ServiceState::kInference).error().code, 409u);
  ASSERT_TRUE(sm.begin(ServiceState::kPow).ok());
  EXPECT_TRUE(sm.require(ServiceState::kPow).ok());
  sm.abort(ServiceState::kInference);  // not in INFERENCE: no effect
  EXPECT_EQ(sm.current(), ServiceState::kPow);
  sm.abort(ServiceState::kPow);
  EXPECT_EQ(sm.current(), ServiceState::kStopped);
  EXPECT_EQ(to_string(ServiceState::kPow), "POW");
}

}  // namespace
}  // namespace mlnode
