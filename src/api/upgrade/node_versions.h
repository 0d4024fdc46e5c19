// The one source of the MLNode version each local MLNode's URLs carry (ARCHITECTURE §8): the broker's
// drivers, the executor's inference calls, the tokenizer and the validator's replays all ask it, never the
// chain, so an upgrade switches every component at once and a restart resumes from the persisted versions.
//
// - `target()` is the version the chain requires (dapi's view of MLNodeVersion.current_mlnode_version).
// - `version(node)` is what that node's URLs use now. During an upgrade the nodes move one at a time
//   (VersionSwitcher), so for a while some nodes are on the old version and some on the new one.
// - `switching(node)`: the node is being moved (draining, old version stopping, new version loading); the
//   executor and the validator send it nothing new.
// - `use(node)` hands out the node's version together with an in-flight count of (node, version), held until
//   the call ends, so the switcher can wait for the old version's requests to finish before stopping it.
// Thread-safe.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace api::upgrade {

class NodeVersions;

// One call on a node at a version; the in-flight count drops when it is destroyed.
class VersionUse {
 public:
  VersionUse(NodeVersions* owner, std::string node_id, std::string version);
  ~VersionUse();
  VersionUse(const VersionUse&) = delete;
  VersionUse& operator=(const VersionUse&) = delete;
  const std::string& version() const { return version_; }

 private:
  NodeVersions* owner_;
  std::string node_id_;
  std::string version_;
};

class NodeVersions {
 public:
  // `target`: the chain's version; `in_use`: the version every node uses until told otherwise (the
  // persisted last_used_version; equal to target when no switch is pending).
  NodeVersions(std::string target, std::string in_use);

  std::string target() const;
  void set_target(std::string version);

  // The version `node_id`'s URLs use now (the default in-use version for a node never switched).
  std::string version(const std::string& node_id) const;
  void set_version(const std::string& node_id, std::string version);
  // The version a node not yet seen uses (new nodes added by the admin API): the in-use version, which
  // becomes the target once every node was switched.
  std::string default_version() const;
  void set_default_version(std::string version);
  // Forgets a removed node (it then gets the default version if it comes back).
  void forget(const std::string& node_id);

  bool switching(const std::string& node_id) const;
  void set_switching(const std::string& node_id, bool on);

  // The node's version for one call, counted in flight until the returned object is destroyed.
  std::unique_ptr<VersionUse> use(const std::string& node_id);
  uint32_t in_flight(const std::string& node_id, const std::string& version) const;

 private:
  friend class VersionUse;
  void release(const std::string& node_id, const std::string& version);

  mutable std::mutex mu_;
  std::string target_;
  std::string default_;
  std::map<std::string, std::string> versions_;
  std::map<std::string, bool> switching_;
  std::map<std::pair<std::string, std::string>, uint32_t> in_flight_;
};

}  // namespace api::upgrade
