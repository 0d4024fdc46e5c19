// Requests and responses of the MLNode inference port (/health, /v1/models, /tokenize, /v1/chat/completions).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "api/mlnode/error.h"

namespace api::mlnode {

// GET /health: 200 when serving, 503 (with the same body) when not; both are answers, not errors.
struct Health {
  bool serving = false;  // HTTP 200
  std::string state;     // STOPPED, INFERENCE, POW
  std::string version;
  std::optional<std::string> model;
  std::optional<std::string> reason;  // why the node is not serving
};

// GET /v1/models
struct ModelInfo {
  std::string id;
  std::optional<int64_t> max_model_len;
};

struct ModelList {
  std::vector<ModelInfo> data;
};

// POST /tokenize: either a prompt or chat messages (OpenAI shape, forwarded as is).
struct TokenizeRequest {
  std::string model;
  std::optional<std::string> prompt;
  std::optional<nlohmann::json> messages;
};

struct TokenizeResponse {
  uint64_t count = 0;  // same count as the prompt_tokens of a completion
  int64_t max_model_len = 0;
  std::vector<int64_t> tokens;
};

struct Usage {
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
  uint64_t total_tokens = 0;
};

// POST /v1/chat/completions without streaming: the node's body as is, plus its usage.
struct ChatCompletion {
  nlohmann::json body;
  Usage usage;
};

nlohmann::json to_json(const TokenizeRequest& r);

Result<Health> parse_health(const nlohmann::json& j, bool serving, const std::string& route);
Result<ModelList> parse_model_list(const nlohmann::json& j, const std::string& route);
Result<TokenizeResponse> parse_tokenize_response(const nlohmann::json& j, const std::string& route);
Result<ChatCompletion> parse_chat_completion(nlohmann::json j, const std::string& route);
// The "usage" object of `j` (a completion or the last chunk of a stream).
Result<Usage> parse_usage(const nlohmann::json& j, const std::string& route);

}  // namespace api::mlnode
