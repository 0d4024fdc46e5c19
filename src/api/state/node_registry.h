// The participant's MLNodes as dapi manages them: config.yaml's node list with the admin API's changes laid
// over it (persisted in the state store: node/upsert, node/deleted, node/disabled), so admin changes survive
// a restart while the YAML stays untouched. Checks every change for a duplicate id or host:port; governance
// models are checked by the caller (it needs the chain). Thread-safe.
#pragma once

#include <cstdint>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "api/config/config.h"
#include "api/state/state_store.h"

namespace api::state {

struct NodeEntry {
  config::NodeConfig config;
  bool enabled = true;
};

// Error codes are HTTP statuses: 400 invalid, 404 unknown id, 409 duplicate id or host:port, 500 store
// failure.
class NodeRegistry {
 public:
  NodeRegistry(std::vector<config::NodeConfig> configured, StateStore& store);

  std::vector<NodeEntry> list() const;  // config order, then nodes added by the admin API in id order
  std::optional<NodeEntry> get(const std::string& id) const;
  uint64_t generation() const;  // changes with every accepted change

  common::Status add(const config::NodeConfig& node);
  common::Status replace(const std::string& id, const config::NodeConfig& node);
  common::Status remove(const std::string& id);
  common::Status set_enabled(const std::string& id, bool enabled);

  // Called after every accepted change (outside the registry's lock).
  void on_change(std::function<void()> callback);

 private:
  std::vector<NodeEntry> compute() const;  // from configured_ + store overlay; caller holds mu_
  common::Status check_conflicts(const config::NodeConfig& node, const std::string& ignore_id) const;
  void changed();

  std::vector<config::NodeConfig> configured_;
  StateStore& store_;
  mutable std::mutex mu_;
  std::vector<NodeEntry> nodes_;
  uint64_t generation_ = 0;
  std::function<void()> callback_;
};

}  // namespace api::state
