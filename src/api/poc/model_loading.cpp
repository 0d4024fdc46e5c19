#include "api/poc/model_loading.h"

#include "api/epoch/model_args.h"

namespace api::poc {

const char* to_string(ModelLoad kind) {
  switch (kind) {
    case ModelLoad::kLoad:
      return "LOAD";
    case ModelLoad::kKeepServing:
      return "KEEP_SERVING";
    case ModelLoad::kStop:
      return "STOP";
    case ModelLoad::kWaitForGroup:
      return "WAIT_FOR_GROUP";
  }
  return "?";
}

std::optional<ServingPlan> serving_plan(const LocalNode& node, const epoch::EpochNodeData& data) {
  auto model = data.serving_model(node.models);
  if (!model) return std::nullopt;
  const auto& snapshot = data.epoch_models.at(*model);
  auto local = node.model_args.find(*model);
  static const std::vector<std::string> kNone;
  return ServingPlan{*model, epoch::merge_model_args(snapshot.model_args,
                                                     local == node.model_args.end() ? kNone : local->second)};
}

ModelLoadDecision load_models_for_next_epoch(const LocalNode& node, const epoch::EpochNodeData* current,
                                             const epoch::EpochNodeData* next, bool next_known) {
  if (!node.enabled) return {ModelLoad::kStop, {}, "disabled by the operator"};
  if (current != nullptr && current->has_poc_slot()) {
    if (auto plan = serving_plan(node, *current)) {
      return {ModelLoad::kKeepServing, *plan, "POC_SLOT: serves until the epoch switch"};
    }
  }
  if (!next_known) return {ModelLoad::kWaitForGroup, {}, "the next epoch's group is not read yet"};
  if (next == nullptr || !next->in_epoch()) {
    return {ModelLoad::kStop, {}, "not in the next epoch's snapshot"};
  }
  auto plan = serving_plan(node, *next);
  if (!plan) return {ModelLoad::kStop, {}, "no model for the node in the next epoch"};
  return {ModelLoad::kLoad, *plan,
          "next epoch " + std::to_string(next->epoch_index) + " assigns " + plan->model};
}

}  // namespace api::poc
