// JSON mapping of a node entry, shared by the admin API (request and response bodies) and the state store
// (admin changes). Same field names as config.yaml:
//   {"id", "host", "inference_port", "poc_port", "models": {"<model id>": {"args": [...]}}, "max_concurrent",
//    "hardware": [{"type", "count"}]}
// "models" keeps its declared order (the first model is the one the node serves, ARCHITECTURE §7.4).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "api/config/config.h"

namespace api::config {

nlohmann::ordered_json node_to_json(const NodeConfig& node);

// The error every config and node-JSON check returns: code 1, "<field>: <what>".
common::Error field_error(const std::string& field, const std::string& what);

// Parses and validates (validate_node); unknown fields and wrong types are refused naming the field.
common::Result<NodeConfig> node_from_json_text(const std::string& text);
common::Result<NodeConfig> node_from_json(const nlohmann::ordered_json& j);

}  // namespace api::config
