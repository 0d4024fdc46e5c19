// update_node_with_epoch_data (seed 000 §4.5–4.8, issue 11 item 6): what each local MLNode is in an epoch
// group — its model snapshots and its MLNodeInfo (poc_weight, throughput, timeslot_allocation) per model.
// The pure part turns the groups read from the chain into per-node data; `read_epoch_data` does the reads
// through a narrow reader and fails (so the caller retries) until the epoch's group has sub-groups.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/chain/types.h"
#include "common/result.h"

namespace api::epoch {

// Index into MLNodeInfo.timeslot_allocation (ARCHITECTURE §7.4, proto TimeslotType).
inline constexpr size_t kPrePocSlot = 0;
inline constexpr size_t kPocSlot = 1;

// Error codes of update_node_with_epoch_data / read_epoch_data (common::Error::code).
inline constexpr uint32_t kEpochDataNotReady =
    2001;  // the group is not formed yet (no sub-groups): retry later
inline constexpr uint32_t kEpochDataMalformed =
    2002;  // a sub-group lacks its model snapshot or does not match

// One node in one epoch. Empty maps = the node is not in the epoch's snapshot (added after formation, or its
// participant was not accepted).
struct EpochNodeData {
  uint64_t epoch_index = 0;
  std::map<std::string, chain::GovernanceModel> epoch_models;  // model id -> model_snapshot of its sub-group
  std::map<std::string, chain::GroupMLNode> epoch_ml_nodes;    // model id -> this node's MLNodeInfo there

  bool in_epoch() const { return !epoch_models.empty(); }
  // The model the node serves in the epoch (§7.4: one model at a time, its first declared one): the model
  // whose timeslot_allocation[PRE_POC_SLOT] is set; if none is set, the first model of `declared_order` that
  // the epoch has for this node, else the smallest model id; nullopt when the node is not in the epoch.
  std::optional<std::string> serving_model(const std::vector<std::string>& declared_order = {}) const;
  // True when the chain selected this node to keep serving through the PoC (timeslot_allocation[POC_SLOT]).
  bool has_poc_slot() const;
  // Sum of the node's poc_weight as recorded in the sub-groups (they agree; the max is taken).
  uint64_t poc_weight() const;
};

// Local node id -> its epoch data. Only nodes of `own_address` listed in a sub-group appear.
using EpochData = std::map<std::string, EpochNodeData>;

// Pure. `parent` is the epoch's parent group, `sub_groups` its per-model groups (any order). Errors:
// kEpochDataNotReady when parent.sub_group_models is empty; kEpochDataMalformed when a listed model has no
// sub-group, a sub-group has no model_snapshot, or a sub-group belongs to another epoch.
common::Result<EpochData> update_node_with_epoch_data(const chain::EpochGroup& parent,
                                                      const std::vector<chain::EpochGroup>& sub_groups,
                                                      const std::string& own_address,
                                                      const std::vector<std::string>& local_node_ids);

// What read_epoch_data needs from the chain client (implemented over api::chain::ChainClient by dapi-core,
// faked in tests). model_id "" = the parent group.
class EpochGroupReader {
 public:
  virtual ~EpochGroupReader() = default;
  virtual common::Result<chain::EpochGroup> epoch_group(uint64_t epoch_index,
                                                        const std::string& model_id) = 0;
};

// Reads the parent group of `epoch_index` and each of its sub-groups, then update_node_with_epoch_data.
// A failed read returns its error; an unformed group returns kEpochDataNotReady. Never returns an empty
// success for an unformed group, so the caller retries (the dispatcher keeps its duty pending) until it
// works.
common::Result<EpochData> read_epoch_data(EpochGroupReader& reader, uint64_t epoch_index,
                                          const std::string& own_address,
                                          const std::vector<std::string>& local_node_ids);

}  // namespace api::epoch
