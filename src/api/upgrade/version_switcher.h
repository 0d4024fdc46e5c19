// dapi's MLNode version switch (ARCHITECTURE §8): a thin loop over the pure decisions of version_decision.h.
//
// - on_block (the follower's thread, every block in order): decide_at_block; a switch sets the target at once
//   (logged with height, old and new version), so no chain query is needed at the upgrade height. The pending
//   upgrade is re-read (GET /inference/mlnode-version) only when a block created one or its height passed.
// - tick (the switcher's own thread every `poll`, or a test by hand on a ManualClock): every check_interval
//   the chain's current version is read and a missed switch repaired; then one step of the node-by-node
//   switch (version_decision.h): start the next node (held, no new requests), wait for its drain, stop the
//   old version, move it to the new one, wait until the broker has loaded it, next node. When all nodes are
//   on the target, last_used_version = target is persisted (also when a stop failed).
// - While an upgrade is pending, every check also asks each node's new version for its state
//   (NodeFleet::probe_version) and warns when it is not deployed yet: the operator must start it before the
//   height (dapi_mlnode_next_version_ready{node}).
// Metrics: dapi_mlnode_version{version} 1, dapi_mlnode_node_version{node,version} 1,
// dapi_mlnode_next_upgrade_height, dapi_mlnode_upgrade_in_progress, dapi_mlnode_version_switches_total,
// dapi_mlnode_node_switches_total{result}, dapi_mlnode_version_stop_failures_total.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "api/broker/clock.h"
#include "api/chain/types.h"
#include "api/server/metrics.h"
#include "api/upgrade/node_versions.h"
#include "api/upgrade/version_decision.h"
#include "common/result.h"

namespace api::upgrade {

// The MLNodes as the switcher drives them; implemented by the controller over the broker's reconciler and
// drivers (tests: a fake).
class NodeFleet {
 public:
  virtual ~NodeFleet() = default;
  virtual std::vector<std::string> node_ids() = 0;
  // While held the broker makes no new call on the node (a running call finishes).
  virtual void hold(const std::string& id, bool on) = 0;
  virtual bool busy(const std::string& id) = 0;  // a broker call on the node is running
  // POST /<version>/api/v1/stop on the node (bounded by the MLNode client's timeout).
  virtual common::Status stop_version(const std::string& id, const std::string& version) = 0;
  // The broker's calls on the node use `version` from now on (and re-probe it).
  virtual void use_version(const std::string& id, const std::string& version) = 0;
  // The broker reached the node's intended state (e.g. serving the epoch's model) and it is not FAILED.
  virtual bool settled(const std::string& id) = 0;
  // The broker's calls on the node failed several times in a row (the node is down or its new version
  // broken).
  virtual bool failing(const std::string& id) = 0;
  // GET /<version>/api/v1/state on the node: is that version deployed beside the running one (before an
  // upgrade height)? Read-only; never loads anything.
  virtual common::Status probe_version(const std::string& id, const std::string& version) = 0;
};

struct SwitcherDeps {
  NodeVersions* versions = nullptr;
  NodeFleet* fleet = nullptr;
  const broker::Clock* clock = nullptr;
  // GET /inference/mlnode-version (the periodic check and the plan refresh).
  std::function<common::Result<chain::MLNodeVersion>()> chain_version;
  // Persists (current, last_used) atomically in the state store.
  std::function<common::Status(const std::string& current, const std::string& last_used)> persist;
  server::Metrics* metrics = nullptr;  // optional
};

struct SwitcherOptions {
  SwitchOptions node;
  Duration check_interval = std::chrono::seconds(30);
  std::chrono::milliseconds poll{100};  // real-time sleep of the loop thread between ticks
  bool start_thread = true;
};

struct SwitcherStatus {
  std::string target;     // the chain's version as dapi follows it
  std::string last_used;  // the version every node used when the last switch completed
  std::optional<PendingUpgrade> next_upgrade;
  std::string switching_node;  // empty when none
  std::string phase;           // "drain" | "load" | ""
  uint64_t switches = 0;       // completed switches since start
  uint64_t stop_failures = 0;
  uint64_t last_switch_height = 0;  // the block whose decision set the target (0: repair or start-up)
};

class VersionSwitcher {
 public:
  // `last_used`: the persisted last_used_version (the version the nodes still run); `target`: the chain's.
  VersionSwitcher(SwitcherDeps deps, std::string target, std::string last_used, SwitcherOptions options = {});
  ~VersionSwitcher();  // stop()
  VersionSwitcher(const VersionSwitcher&) = delete;
  VersionSwitcher& operator=(const VersionSwitcher&) = delete;

  void start();
  void stop();

  // One followed block. Returns at once (the node switch runs on the switcher's thread).
  void on_block(const chain::Block& block);
  // The periodic check and one switch step; what the thread runs every `poll`.
  void tick();
  // The pending upgrade as read from the chain (start-up; tests).
  void set_next_upgrade(std::optional<PendingUpgrade> next);

  SwitcherStatus status() const;

 private:
  void set_target(const std::string& version, uint64_t height, const std::string& reason);
  void refresh_plan();
  void check_chain();
  void check_next_version_deployed();
  void step_switch();
  void update_metrics();
  void run();

  SwitcherDeps deps_;
  SwitcherOptions options_;

  mutable std::mutex mu_;  // guards the fields below (no I/O while held)
  std::string last_used_;
  std::optional<PendingUpgrade> next_;
  uint64_t switches_ = 0;
  uint64_t stop_failures_ = 0;
  uint64_t last_switch_height_ = 0;
  std::optional<TimePoint> next_check_;
  std::string shown_node_, shown_phase_;  // node_ and phase_ as status() reports them
  // The node being switched (only the tick thread reads or changes these; not guarded).
  std::string node_;
  std::string from_;
  std::string to_;
  SwitchPhase phase_ = SwitchPhase::kDrain;
  TimePoint since_{};

  std::atomic<bool> stopping_{false};
  std::mutex wake_mu_;
  std::condition_variable wake_;
  bool woken_ = false;  // guarded by wake_mu_: a block decided something, tick now
  std::thread thread_;
};

}  // namespace api::upgrade
