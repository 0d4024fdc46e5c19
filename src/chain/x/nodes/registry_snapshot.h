// The hardware registry of many participants as epoch formation needs it: each MLNode's local id and the
// models it serves, in flat arrays. Reading 10,000 participants × 4 nodes this way allocates per array, not
// per node, and frees in a few calls (the records themselves stay in state).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "chain/store/kv.h"
#include "chain/types/address.h"
#include "inference/nodes.pb.h"

namespace chain::x::nodes {

class RegistrySnapshot {
 public:
  struct Node {
    std::string local_id;
    uint32_t first_model = 0;  // its models: model_refs()[first_model, first_model + model_count)
    uint32_t model_count = 0;
  };

  // Participants come in ascending address order; each one's nodes are added right after it.
  void add_participant(const types::Address& address);
  void add_node(const inference::inference::HardwareNode& node);

  size_t size() const { return participants_.size(); }
  const types::Address& participant(size_t i) const { return participants_[i]; }
  std::span<const Node> nodes(size_t i) const;
  // Indices into model_ids() of the models `node` serves, in the order the node declared them.
  std::span<const uint32_t> models(const Node& node) const;
  // Every model id some node serves, each once, in order of first appearance.
  const std::vector<std::string>& model_ids() const { return model_ids_; }
  // The index of `address` (binary search), if it was added.
  std::optional<size_t> find(const types::Address& address) const;

 private:
  std::vector<types::Address> participants_;
  std::vector<size_t>
      first_node_;  // participant i's nodes: nodes_[first_node_[i], first_node_[i + 1] or end)
  std::vector<Node> nodes_;
  std::vector<uint32_t> model_refs_;
  std::vector<std::string> model_ids_;
  std::map<std::string, uint32_t, std::less<>> model_index_;
};

// One range scan over the registry from the first to the last address: `sorted` is ascending without
// duplicates; the snapshot has one entry per address, in that order (no nodes for an unknown participant).
RegistrySnapshot read_registry_snapshot(const store::KvReader& state, std::span<const types::Address> sorted);

}  // namespace chain::x::nodes
