#include "api/upgrade/version_switcher.h"

#include <gtest/gtest.h>

#include <map>
#include <set>

namespace api::upgrade {
namespace {

using std::chrono::seconds;

// The MLNodes as the switcher sees them: records every call in order; a node "loads" (settles) on its new
// version once released, unless told otherwise.
class FakeFleet final : public NodeFleet {
 public:
  struct Node {
    bool held = false;
    bool busy = false;
    bool loads = true;  // settles after use_version + release
    bool failing = false;
    std::string version;
  };
  std::map<std::string, Node> nodes;
  std::vector<std::string> calls;
  bool stop_fails = false;

  std::vector<std::string> node_ids() override {
    std::vector<std::string> ids;
    for (const auto& [id, _] : nodes) ids.push_back(id);
    return ids;
  }
  void hold(const std::string& id, bool on) override {
    nodes[id].held = on;
    calls.push_back((on ? "hold " : "release ") + id);
  }
  bool busy(const std::string& id) override { return nodes[id].busy; }
  common::Status stop_version(const std::string& id, const std::string& version) override {
    calls.push_back("stop " + id + " " + version);
    if (stop_fails) return common::make_error(1, "connection refused");
    return {};
  }
  void use_version(const std::string& id, const std::string& version) override {
    nodes[id].version = version;
    calls.push_back("use " + id + " " + version);
  }
  bool settled(const std::string& id) override {
    const Node& n = nodes[id];
    return n.loads && !n.held;
  }
  bool failing(const std::string& id) override { return nodes[id].failing; }
  std::set<std::string> deployed{"v1", "v2"};  // versions answering on every node
  common::Status probe_version(const std::string& id, const std::string& version) override {
    calls.push_back("probe " + id + " " + version);
    if (!deployed.count(version)) return common::make_error(1, "HTTP 502");
    return {};
  }
};

chain::Block block(uint64_t height, std::vector<chain::Event> events = {}) {
  chain::Block b;
  b.height = height;
  b.events = std::move(events);
  return b;
}

chain::Event version_changed_event(const std::string& old_v, const std::string& new_v, uint64_t height) {
  return {"mlnode_version_changed", {{"old", old_v}, {"new", new_v}, {"height", std::to_string(height)}}};
}

class SwitcherTest : public ::testing::Test {
 protected:
  void make(const std::string& target, const std::string& last_used,
            std::vector<std::string> ids = {"a", "b"}) {
    versions = std::make_unique<NodeVersions>(target, last_used);
    for (const auto& id : ids) fleet.nodes[id].version = last_used;
    chain_answer = target;
    SwitcherDeps d;
    d.versions = versions.get();
    d.fleet = &fleet;
    d.clock = &clock;
    d.chain_version = [this]() -> common::Result<chain::MLNodeVersion> {
      ++chain_queries;
      if (during_query) during_query();
      return chain::MLNodeVersion{chain_answer, next_answer};
    };
    d.persist = [this](const std::string& current, const std::string& last_used_v) {
      persisted.emplace_back(current, last_used_v);
      return common::Status{};
    };
    d.metrics = &metrics;
    SwitcherOptions o;
    o.start_thread = false;
    o.node.drain_grace = grace;
    o.node.drain_timeout = seconds(30);
    o.node.load_timeout = seconds(600);
    o.check_interval = seconds(30);
    switcher = std::make_unique<VersionSwitcher>(std::move(d), target, last_used, o);
  }
  // Block `height` carrying the upgrade old -> new; from then on the chain answers `new_v`.
  void upgrade_block(uint64_t height, const std::string& old_v, const std::string& new_v) {
    chain_answer = new_v;
    switcher->on_block(block(height, {version_changed_event(old_v, new_v, height)}));
  }
  // Ticks until the switcher has nothing left to do (bounded).
  void settle(int max_ticks = 20) {
    for (int i = 0; i < max_ticks; ++i) switcher->tick();
  }

  std::chrono::milliseconds grace{0};
  broker::ManualClock clock;
  FakeFleet fleet;
  server::Metrics metrics;
  std::unique_ptr<NodeVersions> versions;
  std::unique_ptr<VersionSwitcher> switcher;
  std::string chain_answer;
  std::optional<chain::PartialUpgrade> next_answer;
  int chain_queries = 0;
  std::function<void()> during_query;
  std::vector<std::pair<std::string, std::string>> persisted;
};

TEST_F(SwitcherTest, SwitchesAtTheUpgradeBlockWithoutAChainQuery) {
  make("v1.0.0", "v1.0.0");
  switcher->tick();  // start-up check
  ASSERT_EQ(chain_queries, 1);
  switcher->set_next_upgrade(PendingUpgrade{50, "v2.0.0"});
  switcher->on_block(block(49));
  EXPECT_EQ(versions->target(), "v1.0.0");
  upgrade_block(50, "v1.0.0", "v2.0.0");
  EXPECT_EQ(versions->target(), "v2.0.0");  // decided on the follower's thread, at once
  EXPECT_EQ(chain_queries, 1);              // no query at that moment
  EXPECT_EQ(persisted.back(), std::make_pair(std::string("v2.0.0"), std::string("v1.0.0")));
  EXPECT_EQ(switcher->status().last_switch_height, 50u);
  EXPECT_EQ(versions->version("a"), "v1.0.0");  // nodes move on the switcher's thread, one at a time
  EXPECT_NE(metrics.render().find("dapi_mlnode_version{version=\"v2.0.0\"} 1"), std::string::npos);
}

TEST_F(SwitcherTest, NodesSwitchOneAtATimeDrainingThenStoppingOldBeforeLoadingNew) {
  make("v1", "v1");
  auto request = versions->use("a");  // a request running on a's old version
  upgrade_block(50, "v1", "v2");
  switcher->tick();
  EXPECT_TRUE(versions->switching("a"));  // no new request goes to a
  EXPECT_FALSE(versions->switching("b"));
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"hold a"}));
  clock.advance(seconds(5));
  switcher->tick();  // still draining
  EXPECT_EQ(fleet.calls.size(), 1u);
  request.reset();  // the request finished on v1
  switcher->tick();
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"hold a", "stop a v1", "use a v2", "release a"}));
  EXPECT_EQ(versions->version("a"), "v2");
  EXPECT_TRUE(versions->switching("a"));  // until it serves on v2
  EXPECT_EQ(versions->version("b"), "v1");
  EXPECT_EQ(switcher->status().phase, "load");
  switcher->tick();  // a settled on v2
  EXPECT_FALSE(versions->switching("a"));
  EXPECT_TRUE(persisted.back().second == "v1");  // b is not switched yet
  settle();
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"hold a", "stop a v1", "use a v2", "release a", "hold b",
                                                   "stop b v1", "use b v2", "release b"}));
  EXPECT_EQ(versions->version("b"), "v2");
  EXPECT_EQ(persisted.back(), std::make_pair(std::string("v2"), std::string("v2")));
  EXPECT_EQ(switcher->status().last_used, "v2");
  EXPECT_EQ(switcher->status().switches, 1u);
  EXPECT_EQ(versions->default_version(), "v2");  // nodes added later start on v2
  EXPECT_EQ(metrics.counter_value("dapi_mlnode_version_switches_total"), 1u);
  EXPECT_EQ(metrics.counter_value("dapi_mlnode_node_switches_total", {{"result", "ok"}}), 2u);
}

TEST_F(SwitcherTest, NextNodeWaitsUntilTheFirstServesOnTheNewVersion) {
  make("v1", "v1");
  fleet.nodes["a"].loads = false;
  upgrade_block(50, "v1", "v2");
  settle(5);
  EXPECT_EQ(fleet.calls.back(), "release a");
  EXPECT_FALSE(fleet.nodes["b"].held);  // b keeps serving while a loads
  clock.advance(seconds(599));
  switcher->tick();
  EXPECT_EQ(fleet.calls.back(), "release a");
  clock.advance(seconds(1));  // load timeout: a is given back, b goes next
  settle(3);
  EXPECT_EQ(fleet.calls.back(), "release b");
  EXPECT_EQ(metrics.counter_value("dapi_mlnode_node_switches_total", {{"result", "not_serving"}}), 1u);
}

TEST_F(SwitcherTest, ANodeWhoseNewVersionKeepsFailingDoesNotHoldUpTheOthers) {
  make("v1", "v1");
  fleet.nodes["a"].loads = false;
  upgrade_block(50, "v1", "v2");
  settle(4);
  EXPECT_EQ(fleet.calls.back(), "release a");
  fleet.nodes["a"].failing = true;  // e.g. its new mlnode was never started
  settle(3);
  EXPECT_EQ(fleet.calls.back(), "release b");
  EXPECT_FALSE(versions->switching("a"));
}

TEST_F(SwitcherTest, DrainTimeoutStopsTheOldVersionAnyway) {
  make("v1", "v1", {"a"});
  auto stuck = versions->use("a");
  upgrade_block(50, "v1", "v2");
  switcher->tick();
  clock.advance(seconds(29));
  switcher->tick();
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"hold a"}));
  clock.advance(seconds(1));
  switcher->tick();
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"hold a", "stop a v1", "use a v2", "release a"}));
}

TEST_F(SwitcherTest, DrainLastsAtLeastTheGracePeriod) {
  grace = std::chrono::milliseconds(250);
  make("v1", "v1", {"a"});
  upgrade_block(50, "v1", "v2");
  settle(3);
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"hold a"}));
  clock.advance(std::chrono::milliseconds(250));
  switcher->tick();
  EXPECT_EQ(fleet.calls.back(), "release a");
}

TEST_F(SwitcherTest, BrokerCallInFlightIsWaitedForBeforeStopping) {
  make("v1", "v1", {"a"});
  fleet.nodes["a"].busy = true;
  upgrade_block(50, "v1", "v2");
  settle(3);
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"hold a"}));
  fleet.nodes["a"].busy = false;
  switcher->tick();
  EXPECT_EQ(fleet.calls.back(), "release a");
}

TEST_F(SwitcherTest, FailedStopStillSwitchesAndPersistsLastUsed) {
  make("v1", "v1", {"a"});
  fleet.stop_fails = true;
  upgrade_block(50, "v1", "v2");
  settle();
  EXPECT_EQ(versions->version("a"), "v2");
  EXPECT_EQ(switcher->status().stop_failures, 1u);
  EXPECT_EQ(persisted.back(), std::make_pair(std::string("v2"), std::string("v2")));
  EXPECT_EQ(metrics.counter_value("dapi_mlnode_version_stop_failures_total"), 1u);
}

TEST_F(SwitcherTest, RestartAfterTheHeightSwitchesAtStartAndStopsTheOldVersion) {
  // Persisted last_used v1, the chain already at v2: no block needed.
  make("v2", "v1");
  EXPECT_EQ(versions->version("a"), "v1");
  settle();
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"hold a", "stop a v1", "use a v2", "release a", "hold b",
                                                   "stop b v1", "use b v2", "release b"}));
  EXPECT_EQ(persisted.back(), std::make_pair(std::string("v2"), std::string("v2")));
}

TEST_F(SwitcherTest, PendingUpgradeChecksTheNewVersionIsDeployedOnEveryNode) {
  make("v1", "v1");
  next_answer = chain::PartialUpgrade{50, "v3", ""};
  fleet.deployed = {"v1"};
  switcher->tick();
  EXPECT_EQ(fleet.calls, (std::vector<std::string>{"probe a v3", "probe b v3"}));
  EXPECT_NE(metrics.render().find("dapi_mlnode_next_version_ready{node=\"a\",version=\"v3\"} 0"),
            std::string::npos);
  fleet.deployed.insert("v3");  // the operator started it
  clock.advance(seconds(30));
  switcher->tick();
  EXPECT_NE(metrics.render().find("dapi_mlnode_next_version_ready{node=\"b\",version=\"v3\"} 1"),
            std::string::npos);
  EXPECT_EQ(switcher->status().next_upgrade, (PendingUpgrade{50, "v3"}));
  next_answer.reset();  // applied: nothing more to check
  clock.advance(seconds(30));
  fleet.calls.clear();
  switcher->tick();
  EXPECT_TRUE(fleet.calls.empty());
  EXPECT_EQ(metrics.render().find("dapi_mlnode_next_version_ready{"), std::string::npos);
}

TEST_F(SwitcherTest, PeriodicCheckRepairsAMissedSwitchEveryInterval) {
  make("v1", "v1", {"a"});
  switcher->tick();
  EXPECT_EQ(chain_queries, 1);
  chain_answer = "v2";  // the upgrade block was missed
  clock.advance(seconds(29));
  switcher->tick();
  EXPECT_EQ(chain_queries, 1);
  EXPECT_EQ(versions->target(), "v1");
  clock.advance(seconds(1));
  switcher->tick();
  EXPECT_EQ(chain_queries, 2);
  EXPECT_EQ(versions->target(), "v2");
  EXPECT_EQ(switcher->status().last_switch_height, 0u);
  settle();
  EXPECT_EQ(versions->version("a"), "v2");
  EXPECT_EQ(switcher->status().last_used, "v2");
}

TEST_F(SwitcherTest, AnAnswerReadBeforeTheUpgradeBlockNeverSwitchesBack) {
  make("v1", "v1", {"a"});
  // The check's query was answered with v1 while the follower delivered block 50 (v1 -> v2).
  during_query = [this] { switcher->on_block(block(50, {version_changed_event("v1", "v2", 50)})); };
  switcher->tick();
  EXPECT_EQ(versions->target(), "v2");
}

TEST_F(SwitcherTest, ABlockCreatingAnUpgradeTriggersAPlanRefreshOnTheTickThread) {
  make("v1", "v1", {"a"});
  switcher->tick();
  EXPECT_EQ(chain_queries, 1);
  switcher->on_block(block(20, {{"partial_upgrade_created", {{"height", "50"}}}}));
  EXPECT_EQ(chain_queries, 1);  // not on the follower's thread
  switcher->tick();
  EXPECT_EQ(chain_queries, 2);
}

TEST_F(SwitcherTest, NodeRemovedDuringItsSwitchIsDropped) {
  make("v1", "v1");
  auto busy = versions->use("a");
  upgrade_block(50, "v1", "v2");
  switcher->tick();
  EXPECT_TRUE(versions->switching("a"));
  fleet.nodes.erase("a");
  switcher->tick();
  EXPECT_FALSE(versions->switching("a"));
  settle();
  EXPECT_EQ(versions->version("b"), "v2");
  EXPECT_EQ(switcher->status().last_used, "v2");
}

}  // namespace
}  // namespace api::upgrade
