#include "chain/x/nodes/registry_snapshot.h"

#include <algorithm>
#include <stdexcept>

#include "chain/x/nodes/nodes.h"

namespace chain::x::nodes {

void RegistrySnapshot::add_participant(const types::Address& address) {
  participants_.push_back(address);
  first_node_.push_back(nodes_.size());
}

void RegistrySnapshot::add_node(const inference::inference::HardwareNode& node) {
  if (participants_.empty()) throw std::logic_error("RegistrySnapshot::add_node before any participant");
  Node n{node.local_id(), static_cast<uint32_t>(model_refs_.size()),
         static_cast<uint32_t>(node.models_size())};
  for (const auto& id : node.models()) {
    auto it = model_index_.find(id);
    if (it == model_index_.end()) {
      it = model_index_.emplace(id, static_cast<uint32_t>(model_ids_.size())).first;
      model_ids_.push_back(id);
    }
    model_refs_.push_back(it->second);
  }
  nodes_.push_back(std::move(n));
}

std::span<const RegistrySnapshot::Node> RegistrySnapshot::nodes(size_t i) const {
  size_t end = i + 1 < first_node_.size() ? first_node_[i + 1] : nodes_.size();
  return std::span<const Node>(nodes_).subspan(first_node_[i], end - first_node_[i]);
}

std::span<const uint32_t> RegistrySnapshot::models(const Node& node) const {
  return std::span<const uint32_t>(model_refs_).subspan(node.first_model, node.model_count);
}

std::optional<size_t> RegistrySnapshot::find(const types::Address& address) const {
  auto it = std::lower_bound(participants_.begin(), participants_.end(), address);
  if (it == participants_.end() || *it != address) return std::nullopt;
  return static_cast<size_t>(it - participants_.begin());
}

RegistrySnapshot read_registry_snapshot(const store::KvReader& state,
                                        std::span<const types::Address> sorted) {
  RegistrySnapshot out;
  HardwareNode record;  // reused: parsing allocates nothing once its fields have grown
  size_t added = 0;
  for_each_hardware_node(state, sorted, [&](size_t i, std::string_view bytes) {
    while (added <= i) out.add_participant(sorted[added++]);
    if (!record.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      throw std::logic_error("corrupt hardware node record in state");
    }
    out.add_node(record);
  });
  while (added < sorted.size()) out.add_participant(sorted[added++]);
  return out;
}

}  // namespace chain::x::nodes
