#include "api/epoch/epoch_data.h"

#include <algorithm>
#include <set>

namespace api::epoch {

std::optional<std::string> EpochNodeData::serving_model(
    const std::vector<std::string>& declared_order) const {
  for (const auto& [model, info] : epoch_ml_nodes) {
    if (info.timeslot_allocation.size() > kPrePocSlot && info.timeslot_allocation[kPrePocSlot]) return model;
  }
  for (const auto& m : declared_order) {
    if (epoch_models.count(m) != 0) return m;
  }
  if (epoch_models.empty()) return std::nullopt;
  return epoch_models.begin()->first;
}

bool EpochNodeData::has_poc_slot() const {
  return std::any_of(epoch_ml_nodes.begin(), epoch_ml_nodes.end(), [](const auto& e) {
    return e.second.timeslot_allocation.size() > kPocSlot && e.second.timeslot_allocation[kPocSlot];
  });
}

uint64_t EpochNodeData::poc_weight() const {
  uint64_t w = 0;
  for (const auto& [model, info] : epoch_ml_nodes) w = std::max(w, info.poc_weight);
  return w;
}

common::Result<EpochData> update_node_with_epoch_data(const chain::EpochGroup& parent,
                                                      const std::vector<chain::EpochGroup>& sub_groups,
                                                      const std::string& own_address,
                                                      const std::vector<std::string>& local_node_ids) {
  if (parent.sub_group_models.empty()) {
    return common::make_error(kEpochDataNotReady,
                              "epoch " + std::to_string(parent.epoch_index) +
                                  " has no model sub-groups yet (the group is not formed)");
  }
  const std::set<std::string> local(local_node_ids.begin(), local_node_ids.end());
  EpochData out;
  for (const std::string& model : parent.sub_group_models) {
    auto it = std::find_if(sub_groups.begin(), sub_groups.end(),
                           [&](const chain::EpochGroup& g) { return g.model_id == model; });
    if (it == sub_groups.end()) {
      return common::make_error(kEpochDataMalformed, "epoch " + std::to_string(parent.epoch_index) +
                                                         ": no sub-group read for model \"" + model + "\"");
    }
    if (it->epoch_index != parent.epoch_index) {
      return common::make_error(kEpochDataMalformed, "sub-group \"" + model + "\" is of epoch " +
                                                         std::to_string(it->epoch_index) + ", expected " +
                                                         std::to_string(parent.epoch_index));
    }
    if (!it->model_snapshot) {
      return common::make_error(kEpochDataMalformed, "epoch " + std::to_string(parent.epoch_index) +
                                                         ": sub-group \"" + model +
                                                         "\" has no model_snapshot");
    }
    for (const chain::GroupMember& m : it->validation_weights) {
      if (m.member_address != own_address) continue;
      for (const chain::GroupMLNode& n : m.ml_nodes) {
        if (local.count(n.node_id) == 0) continue;
        EpochNodeData& d = out[n.node_id];
        d.epoch_index = parent.epoch_index;
        d.epoch_models[model] = *it->model_snapshot;
        d.epoch_ml_nodes[model] = n;
      }
    }
  }
  return out;
}

common::Result<EpochData> read_epoch_data(EpochGroupReader& reader, uint64_t epoch_index,
                                          const std::string& own_address,
                                          const std::vector<std::string>& local_node_ids) {
  auto parent = reader.epoch_group(epoch_index, "");
  if (!parent) return parent.error();
  if (parent->sub_group_models.empty()) {
    return update_node_with_epoch_data(*parent, {}, own_address, local_node_ids);  // kEpochDataNotReady
  }
  std::vector<chain::EpochGroup> subs;
  for (const std::string& model : parent->sub_group_models) {
    auto g = reader.epoch_group(epoch_index, model);
    if (!g) return g.error();
    subs.push_back(std::move(*g));
  }
  return update_node_with_epoch_data(*parent, subs, own_address, local_node_ids);
}

}  // namespace api::epoch
