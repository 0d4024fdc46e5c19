// Requests and responses of the MLNode management/PoC port (/api/v1/...), one JSON mapping each.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json_fwd.hpp>

#include "api/mlnode/error.h"

namespace api::mlnode {

enum class NodeState { kStopped, kInference, kPow };
std::string to_string(NodeState state);

// GET /api/v1/state
struct StateResponse {
  NodeState state = NodeState::kStopped;
  std::string version;
  std::string backend;
  std::optional<std::string> model;
};

// POST /api/v1/stop
struct StopResponse {
  NodeState previous_state = NodeState::kStopped;
  std::string version;
};

// POST /api/v1/inference/up
struct InferenceUpRequest {
  std::string model;
  std::vector<std::string> args;
  std::vector<std::string> additional_args;
};

struct InferenceUpResponse {
  std::string model;
  bool already_loaded = false;
};

// Size of the PoC network; omitted fields keep the node's defaults.
struct PocModelParams {
  std::optional<int64_t> dim;
  std::optional<int64_t> n_layers;
  std::optional<int64_t> n_heads;
  std::optional<int64_t> ffn_dim;
  std::optional<int64_t> vocab_size;
  std::optional<int64_t> seq_len;
  std::optional<double> norm_eps;
};

// POST /api/v1/pow/init/generate and /api/v1/pow/init/validate. Generate and validate must send identical
// requests (the node re-initialises its PoC network only when the request changes).
struct PowInitRequest {
  int64_t node_id = 0;  // 0-based, < node_count
  int64_t node_count = 1;
  std::string block_hash;
  int64_t block_height = 0;
  std::string public_key;
  std::optional<int64_t> batch_size;
  std::optional<double> r_target;
  std::optional<double> fraud_threshold;
  std::optional<double> dist_tolerance;
  std::optional<PocModelParams> params;
  std::string url;  // callback base: the node posts to {url}/generated and {url}/validated
};

enum class PowPhase { kNotLoaded, kIdle, kGenerating, kValidating };
std::string to_string(PowPhase phase);

// GET /api/v1/pow/status, and "pow_status" in the pow/init answers.
struct PowStatus {
  PowPhase status = PowPhase::kNotLoaded;
  bool is_model_initialized = false;
  double nonces_per_second = 0;
  uint64_t nonces_computed = 0;
  uint64_t hits = 0;
  std::optional<int64_t> node_id;       // present once initialised
  std::optional<int64_t> block_height;  // present once initialised
};

// POST /api/v1/pow/validate
struct ProofBatch {
  std::string public_key;
  std::string block_hash;
  int64_t block_height = 0;
  std::vector<int64_t> nonces;
  std::vector<double> dist;
  std::optional<int64_t> node_id;
};

struct PowValidateResponse {
  uint64_t queued_nonces = 0;
};

nlohmann::json to_json(const InferenceUpRequest& r);
nlohmann::json to_json(const PowInitRequest& r);
nlohmann::json to_json(const ProofBatch& b);

// `route` ("GET /api/v1/state") prefixes every error message.
Result<StateResponse> parse_state_response(const nlohmann::json& j, const std::string& route);
Result<StopResponse> parse_stop_response(const nlohmann::json& j, const std::string& route);
Result<InferenceUpResponse> parse_inference_up_response(const nlohmann::json& j, const std::string& route);
Result<PowStatus> parse_pow_status(const nlohmann::json& j, const std::string& route);
// The pow/init answers: {status: OK, pow_status: {...}}.
Result<PowStatus> parse_pow_init_response(const nlohmann::json& j, const std::string& route);
Result<PowValidateResponse> parse_pow_validate_response(const nlohmann::json& j, const std::string& route);

}  // namespace api::mlnode
