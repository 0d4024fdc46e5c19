// What each node serves (issue 11 items 6 and 8; seed 000 §4.8 and §8.3): inference/up always uses the epoch
// snapshot's model and merge_model_args(snapshot args, local args), never the local config alone; and
// load_models_for_next_epoch decides, once the next epoch's group is formed (next_epoch_ready), which nodes
// load the next epoch's model now and which keep serving until the switch.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "api/epoch/epoch_data.h"

namespace api::poc {

// One node as configured locally (dapi config / admin API).
struct LocalNode {
  std::string id;
  bool enabled = true;
  std::vector<std::string> models;                             // declared order
  std::map<std::string, std::vector<std::string>> model_args;  // model id -> local args
};

struct ServingPlan {
  std::string model;
  std::vector<std::string> args;  // merge_model_args(epoch snapshot args, local args of the model)
  bool operator==(const ServingPlan&) const = default;
};

// The model `node` serves in the epoch described by `data` and its args; nullopt if the node is not in it.
std::optional<ServingPlan> serving_plan(const LocalNode& node, const epoch::EpochNodeData& data);

enum class ModelLoad {
  kLoad,          // load `plan` now (the node is not serving through the PoC)
  kKeepServing,   // a POC_SLOT node: keeps serving `plan` (its current model) until the epoch switch
  kStop,          // disabled, or not in the next epoch's snapshot
  kWaitForGroup,  // the next epoch's group has not been read yet: decide later
};
const char* to_string(ModelLoad kind);

struct ModelLoadDecision {
  ModelLoad kind = ModelLoad::kWaitForGroup;
  ServingPlan plan;
  std::string reason;
};

// `current`: the node's data in the effective epoch (nullptr if absent); `next`: the next epoch's data once
// read
// (`next_known`), nullptr when the node is not in it.
ModelLoadDecision load_models_for_next_epoch(const LocalNode& node, const epoch::EpochNodeData* current,
                                             const epoch::EpochNodeData* next, bool next_known);

}  // namespace api::poc
