#include "api/poc/node_index.h"

#include <algorithm>

namespace api::poc {

std::optional<int64_t> PocAssignment::index(const std::string& node_id) const {
  auto it = index_of.find(node_id);
  if (it == index_of.end()) return std::nullopt;
  return it->second;
}

std::optional<std::string> PocAssignment::node_at(int64_t index) const {
  for (const auto& [id, i] : index_of) {
    if (i == index) return id;
  }
  return std::nullopt;
}

PocAssignment assign_poc_nodes(uint64_t poc_start_height, std::vector<std::string> node_ids) {
  std::sort(node_ids.begin(), node_ids.end());
  node_ids.erase(std::unique(node_ids.begin(), node_ids.end()), node_ids.end());
  PocAssignment a;
  a.poc_start_height = poc_start_height;
  a.node_count = static_cast<int64_t>(node_ids.size());
  for (size_t i = 0; i < node_ids.size(); ++i) a.index_of[node_ids[i]] = static_cast<int64_t>(i);
  return a;
}

}  // namespace api::poc
