// OpenAI chat-completion requests: parsing and validation of the fields the ML node uses.
// Unknown fields are kept in `raw` (forwarded unchanged by the openai backend).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace mlnode::backends {

struct ChatMessage {
  std::string role;
  std::string content;  // text parts joined
};

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  bool stream = false;
  bool include_usage = false;  // stream_options.include_usage
  std::optional<int64_t> max_tokens;  // max_tokens or max_completion_tokens
  std::optional<uint64_t> seed;
  double temperature = 1.0;
  bool logprobs = false;
  int top_logprobs = 0;
  std::optional<std::string> enforced_str;  // forced output used by inference validation
  nlohmann::json raw;
};

// Errors carry HTTP status 400 and a message naming the offending field.
common::Result<ChatRequest> parse_chat_request(const std::string& body);

struct TokenizeRequest {
  std::string model;
  std::optional<std::string> prompt;
  std::optional<std::vector<ChatMessage>> messages;
};
common::Result<TokenizeRequest> parse_tokenize_request(const std::string& body);

}  // namespace mlnode::backends
