// Whether the executor may run a request on one of its MLNodes now, from the reconciler's live view of the
// node (issue 12 item 3: "a local MLNode that serves the model"; the config only says what the node should
// serve). Pure; the executor reads the view through InferenceDeps::node_health.
#pragma once

#include <optional>
#include <string>

namespace api::inference {

// What the reconciler last observed of a node (src/api/broker: NodeView / Controller::node_state).
struct NodeHealth {
  std::string status;          // FAILED, INFERENCE, POC, STOPPED, UNKNOWN (broker::status_name)
  std::string service;         // the node's reported service: INFERENCE, POW, STOPPED, UNKNOWN
  std::string model;           // the model it serves (service inference)
  bool healthy = false;        // its /health answered healthy at the last probe
  std::string failure_reason;  // non-empty when FAILED
};

// Empty when the node may take a request for `model`; else why not. No view (the reconciler does not know
// the node yet) means not yet serving.
std::string serving_refusal(const std::optional<NodeHealth>& health, const std::string& model);

}  // namespace api::inference
