// OpenAI chat-completion requests: parsing and validation of every field either backend understands, the way
// OpenAI-compatible servers check them (types, ranges, logit_bias keys and values, response_format shape,
// seed within 64 bits, stream_options only with stream). Unknown fields are kept in `raw`: the openai backend
// forwards the whole body unchanged, the builtin backend refuses what it cannot honour (builtin_backend.h).
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

// Limits of the request shape (OpenAI's own): at most 4 stop sequences, n in [1, 128], top_logprobs in [0,
// 20], max_tokens in [1, 1000000], logit_bias values in [-100, 100] for token-id keys.
inline constexpr std::size_t kMaxStopSequences = 4;
inline constexpr int64_t kMaxChoices = 128;
inline constexpr int64_t kMaxTopLogprobs = 20;
inline constexpr int64_t kMaxTokensField = 1000000;

struct ChatRequest {
  std::string model;
  std::vector<ChatMessage> messages;
  bool stream = false;
  bool include_usage = false;         // stream_options.include_usage
  std::optional<int64_t> max_tokens;  // max_tokens or max_completion_tokens
  std::optional<uint64_t> seed;       // any 64-bit value; a negative int64 is kept as its two's complement
  double temperature = 1.0;
  double top_p = 1.0;
  double presence_penalty = 0;
  double frequency_penalty = 0;
  int64_t n = 1;
  std::vector<std::string> stop;  // "stop": a string or up to 4 non-empty strings
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
