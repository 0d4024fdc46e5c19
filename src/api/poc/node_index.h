// Node index and count for pow/init (issue 11 item 7; api-node-facts §7 fragile point 2). The MLNode computes
// nonces node_index, node_index + node_count, ... (src/mlnode/poc/nonce_split.h), so the ranges of one
// participant's nodes never overlap exactly when every node gets a distinct index < node_count and all use
// the same node_count. Here: the participant's configured nodes (all of them — mining, POC_SLOT, disabled)
// sorted by id get 0..n-1, and node_count = n. The assignment is made once per PoC (at its start height) and
// kept for that PoC, so enabling, disabling or adding a node mid-PoC never shifts another node's range.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace api::poc {

struct PocAssignment {
  uint64_t poc_start_height = 0;  // the PoC this assignment belongs to
  int64_t node_count = 0;
  std::map<std::string, int64_t> index_of;  // node id -> index in [0, node_count)

  std::optional<int64_t> index(const std::string& node_id) const;
  // The node id with `index` (MLNode callbacks name nodes by index), nullopt if none.
  std::optional<std::string> node_at(int64_t index) const;
};

// Duplicate ids count once; an empty list gives node_count 0.
PocAssignment assign_poc_nodes(uint64_t poc_start_height, std::vector<std::string> node_ids);

}  // namespace api::poc
