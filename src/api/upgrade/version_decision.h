// dapi's MLNode-upgrade decisions (ARCHITECTURE §8; docs/upgrade.md "API node side"), as pure functions over
// literal values, so they are unit-tested without time, HTTP or threads. VersionSwitcher runs them.
//
// When: the chain changes MLNodeVersion in EndBlock of the upgrade height H, and block H carries the event
// `mlnode_version_changed {old, new, height}`. dapi switches on that block, from the event (or, equivalently,
// from the pending upgrade it already knows: `next_upgrade` of GET /inference/mlnode-version), so no chain
// query is made at that moment. A periodic check (30 s) compares with the chain's current version and repairs
// a missed switch; at start-up the persisted last_used_version is compared with the chain's version.
//
// How: nodes move one at a time (next_node_to_switch). For one node (next_switch_step):
//   drain    the node takes no new request (NodeVersions::switching) and the broker makes no call on it; wait
//            until the old version's in-flight requests and the broker's running call ended, or drain_timeout
//   stop     POST /<old>/api/v1/stop (a failure is logged and counted; the switch goes on)
//   load     the node's URLs move to the new version and the broker brings it to its intended state
//            (inference/up on the new version: only now, after the old one stopped); wait until it is there
//            or load_timeout
//   done     the node takes requests again; the next node starts
// When every node is on the target, last_used_version = target is persisted.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "api/broker/clock.h"
#include "api/chain/types.h"

namespace api::upgrade {

using broker::Duration;
using broker::TimePoint;

// A version dapi may put into a URL path: `v` then [0-9A-Za-z.-], at most 64 characters, no "..". The chain
// admits only v<major>.<minor>.<patch>[-suffix] (docs/upgrade.md); this guards the URL, not the format.
bool is_safe_version(std::string_view version);

struct PendingUpgrade {
  uint64_t height = 0;
  std::string node_version;
  bool operator==(const PendingUpgrade&) const = default;
};

struct BlockDecision {
  std::optional<std::string> switch_to;  // the version every node must move to, from this block on
  std::string reason;                    // for the log line
  bool refresh_plan = false;  // the block created or replaced a partial upgrade: re-read next_upgrade
};

// At followed block `height` with its block events, given the version dapi follows (`target`) and the pending
// upgrade it knows. Rules:
//  1. `mlnode_version_changed` whose `old` is `target` and whose `new` is a safe, different version: switch
//  to
//     `new`. An event whose `old` is not `target` is history dapi already passed (a restart replaying blocks
//     after reading the chain's newer version): ignored, never a switch backwards.
//  2. else a known pending upgrade at exactly this height with a different, safe version: switch to it (the
//     chain applies it in this block's EndBlock).
//  3. refresh_plan when the block has `partial_upgrade_created`, or when the known upgrade's height was
//  reached.
BlockDecision decide_at_block(const std::string& target, const std::optional<PendingUpgrade>& next,
                              uint64_t height, const std::vector<chain::Event>& events);

// The periodic check / start-up: the chain's current version differs from the one dapi follows -> switch to
// it (nullopt when equal or not safe).
std::optional<std::string> decide_repair(const std::string& target, const std::string& chain_version);

// The next node to move to `target`: the first id (map order) whose version differs; nullopt when all are on
// it.
std::optional<std::string> next_node_to_switch(const std::map<std::string, std::string>& node_versions,
                                               const std::string& target);

enum class SwitchPhase { kDrain, kLoad };
const char* to_string(SwitchPhase phase);

struct SwitchOptions {
  // The drain lasts at least this long: a request admitted just before the node was marked switching takes
  // its version lease (NodeVersions::use) within microseconds, and is then counted in flight.
  Duration drain_grace = std::chrono::milliseconds(250);
  Duration drain_timeout = std::chrono::seconds(30);  // in-flight requests on the old version may finish
  Duration load_timeout = std::chrono::minutes(10);  // the new version loads the model (real models: minutes)
};

struct NodeSwitchObservation {
  uint32_t in_flight_old = 0;  // requests still running on the node's old version
  bool broker_busy = false;    // the broker's call on the node is still running
  bool settled = false;        // kLoad: the broker reached the node's intended state on the new version
  bool failing = false;        // kLoad: the broker's calls on the new version keep failing (3 in a row)
};

enum class SwitchAction {
  kWait,     // check again shortly
  kStopOld,  // drain over: stop the old version, move the node to the new one, let the broker load it
  kFinish,   // the node serves on the new version (or load_timeout passed, or it keeps failing): take
             // requests again; the next node goes
};
const char* to_string(SwitchAction action);

struct SwitchStep {
  SwitchAction action = SwitchAction::kWait;
  bool timed_out = false;  // kStopOld after drain_timeout with requests still running; kFinish after
                           // load_timeout without the node settled, or with the node failing (a dead node
                           // must not hold up the other nodes' switch for load_timeout)
};

// One node's next step in `phase`, entered at `since`.
SwitchStep next_switch_step(SwitchPhase phase, TimePoint since, TimePoint now, const NodeSwitchObservation& o,
                            const SwitchOptions& options = {});

}  // namespace api::upgrade
