#include "api/upgrade/node_versions.h"

#include <gtest/gtest.h>

namespace api::upgrade {
namespace {

TEST(NodeVersions, NodesUseTheInUseVersionUntilMovedAndCountCallsPerVersion) {
  NodeVersions v("v2", "v1");
  EXPECT_EQ(v.target(), "v2");
  EXPECT_EQ(v.version("a"), "v1");
  auto call_a = v.use("a");
  EXPECT_EQ(call_a->version(), "v1");
  EXPECT_EQ(v.in_flight("a", "v1"), 1u);
  v.set_version("a", "v2");  // the call in flight stays counted on v1 (the drain waits for it)
  auto call_a2 = v.use("a");
  EXPECT_EQ(call_a2->version(), "v2");
  EXPECT_EQ(v.in_flight("a", "v1"), 1u);
  EXPECT_EQ(v.in_flight("a", "v2"), 1u);
  call_a.reset();
  EXPECT_EQ(v.in_flight("a", "v1"), 0u);
  EXPECT_EQ(v.in_flight("b", "v1"), 0u);
  EXPECT_EQ(v.version("b"), "v1");
  v.set_default_version("v2");
  EXPECT_EQ(v.version("b"), "v2");
}

TEST(NodeVersions, SwitchingFlagAndForget) {
  NodeVersions v("v1", "v1");
  EXPECT_FALSE(v.switching("a"));
  v.set_switching("a", true);
  EXPECT_TRUE(v.switching("a"));
  v.set_version("a", "v9");
  v.forget("a");
  EXPECT_FALSE(v.switching("a"));
  EXPECT_EQ(v.version("a"), "v1");
}

}  // namespace
}  // namespace api::upgrade
