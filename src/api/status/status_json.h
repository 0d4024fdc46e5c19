// GET /v1/status on dapi's public server (issue 15 item 4): what the status page shows, as one JSON document
// assembled by a pure function from what dapi knows. Public: it carries no secret and no internal address —
// no admin token, keys, API keys, MLNode hosts or ports, model args or failure reasons (they may name
// internal hosts); only ids, states, models, weights, timeslots and on-chain facts.
//
// Shape (every key always present; null where unknown yet):
// {
//   "participant": "gonka1...", "denom": "nicoin", "mlnode_version": "v3.0.8",
//   "block": {"height": 57, "time_unix_ms": 1764486000000} | null,
//   "epoch": {"epoch_index", "upcoming_epoch_index" (null when none), "latest_epoch_index", "phase",
//             "epoch_length", "stages": {pre_poc_selection, poc_start, poc_wind_down, poc_end,
//             poc_exchange_end, validation_start, validation_wind_down, validation_end, model_loading_start,
//             set_new_validators, settlement, next_poc_start}} | null,
//   "nodes": [{"id", "enabled", "status" (FAILED|INFERENCE|POC|STOPPED|UNKNOWN), "intent", "model" (the model
//   it
//              is meant to serve, else the one it serves, else its first declared), "models" (declared
//              order), "mlnode_version", "healthy", "max_concurrent", "hardware": [{type, count}],
//              "epoch_index" (the epoch of the weights below, null before the dispatcher read one), "weight"
//              (sum of poc_weight), "epoch_ml_nodes": [{"model", "poc_weight", "throughput", "pre_poc_slot",
//              "poc_slot"}]}],
//   "participants": {"epoch_index", "total_weight", "members": [{"address", "weight", "url", "is_self"}]
//                    (by weight, heaviest first, then address), "error": "..." (only when the chain could
//                    not be read; the members are then the last ones read, possibly none)},
//   "inferences": [{"id", "model", "executor", "executor_node", "tokens", "cost" (decimal string, denom),
//                   "refund" (decimal string), "validation", "height", "time_unix_ms"}] (newest first)
// }
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/chain/types.h"
#include "api/config/config.h"
#include "api/status/recent_inferences.h"

namespace api::status {

struct NodeInput {
  std::string id;
  bool enabled = true;
  std::vector<std::string> models;  // declared order
  uint32_t max_concurrent = 0;
  std::vector<std::pair<std::string, uint64_t>> hardware;  // (type, count)
  // The admin API's "state" of the node (app::Controller::node_state); only its public fields are copied.
  nlohmann::json state;
};

struct StatusInputs {
  std::string participant;  // our address
  std::string denom = "nicoin";
  std::string mlnode_version;
  std::optional<uint64_t> height;  // last followed block
  int64_t block_time_unix_ms = 0;
  std::optional<chain::EpochInfo> epoch;  // as of that block
  std::vector<NodeInput> nodes;
  std::optional<chain::EpochGroup> group;    // the current epoch's parent group
  std::string group_error;                   // why it could not be read (empty when it could)
  std::vector<InferenceSummary> inferences;  // newest first
};

// A configured node and the controller's state of it, as the page's input (host, ports and args are dropped).
NodeInput node_input(const config::NodeConfig& node, bool enabled, nlohmann::json state);

nlohmann::json build_status(const StatusInputs& in);

}  // namespace api::status
