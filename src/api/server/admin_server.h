// Admin API of dapi (issue 11 item 3; docs/dapi.md "Admin API"). Bound to a loopback address; every request
// needs `Authorization: Bearer <admin token>`. Node changes are validated against the governance model
// registry (seed 2.4) and persisted through state::NodeRegistry; they reach the chain through the hardware
// diff.
//   GET    /admin/v1/nodes                 {"nodes": [{"node": {...}, "enabled", "state": {...}}]}
//   POST   /admin/v1/nodes                 body = node JSON -> 201 {"node": {...}}
//   GET    /admin/v1/nodes/{id}            {"node", "enabled", "state"}
//   PUT    /admin/v1/nodes/{id}            body = node JSON (same id) -> 200
//   DELETE /admin/v1/nodes/{id}            -> 200 {"deleted": id}
//   POST   /admin/v1/nodes/{id}/enable|disable -> 200 {"node", "enabled", "state"}
// Errors: {"error": {"code", "message"}} with 400 (bad JSON/field; unknown models, listing unknown and
// registered ids), 401 (token), 404 (unknown id), 409 (duplicate id or host:port), 503 (governance registry
// unreadable).
#pragma once

#include <functional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/state/node_registry.h"
#include "common/result.h"
#include "net/http.h"

namespace api::server {

struct AdminDeps {
  state::NodeRegistry* nodes = nullptr;
  std::string token;  // never logged
  // Ids of the chain's governance models; an error makes node changes answer 503.
  std::function<common::Result<std::vector<std::string>>()> governance_model_ids;
  // Intended/observed state of a node for the listing (empty object when unknown).
  std::function<nlohmann::json(const std::string& node_id)> node_state;
  // Called after an accepted change (e.g. wake the hardware sync and the reconciler).
  std::function<void()> on_change;
};

net::Router admin_router(AdminDeps deps);

// "unknown model(s) A, B in node "x"; registered models: C, D" or empty when all are registered.
std::string unknown_models_message(const std::string& node_id, const std::vector<std::string>& node_models,
                                   const std::vector<std::string>& registered);

}  // namespace api::server
