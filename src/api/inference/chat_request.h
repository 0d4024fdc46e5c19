// Validation of an OpenAI chat completion request as a stranger sends it (issue 12 item 1 and "Bad input").
// Pure: no I/O. Errors are HTTP statuses with an OpenAI error code and a message naming the field.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace api::inference {

struct ChatRequest {
  nlohmann::json body;  // the parsed request, unchanged
  std::string model;
  bool stream = false;
  bool include_usage = false;          // stream_options.include_usage as the client asked
  std::optional<uint64_t> max_tokens;  // max_completion_tokens, else max_tokens (completion tokens)
};

struct RequestError {
  int status = 400;
  std::string code;  // OpenAI error code, e.g. "invalid_request_error" fields: "missing_field"
  std::string message;
};

// Limits of what a request may contain (beyond the server's body size limit).
inline constexpr uint64_t kMaxRequestTokens = 100'000'000;  // the chain's MsgStartInference bound
inline constexpr size_t kMaxMessages = 4096;

// Parses and checks `text`: a JSON object with "model" (non-empty string, at most 256 characters), "messages"
// (non-empty array of objects with a string "role" and "content" a string, an array or null), optional
// "stream" (bool), "stream_options" (object), "max_tokens"/"max_completion_tokens" (integers in
// [1, kMaxRequestTokens]). Other OpenAI fields pass through to the MLNode as they are.
std::optional<ChatRequest> parse_chat_request(const std::string& text, RequestError& error);

// True when `text` is exactly nlohmann's dump() of what it parses to (keys sorted, no whitespace, minimal
// escapes): the form the transfer agent forwards and hashes into MsgStartInference.prompt_hash. The executor
// refuses any other form, because validators re-hash the canonical prompt from its payload
// (docs/inference-validation.md): a non-canonical body with a matching hash would get an honest executor
// voted INVALID.
bool is_canonical_json(const std::string& text);

// The Bearer token of an Authorization header value; empty when absent or not a Bearer token.
std::string bearer_token(const std::string& authorization);
// Constant-time comparison against each configured key.
bool api_key_allowed(const std::string& presented, const std::vector<std::string>& keys);

}  // namespace api::inference
