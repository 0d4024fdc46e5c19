// What the executor does to an MLNode's completion on its way back (issue 12 item 3), pure:
//   - every JSON object's "id" becomes the inference id (the id of the on-chain record);
//   - the response hash is SHA-256 of the concatenated choices[].message.content (whole response) or
//     choices[].delta.content (stream), in order;
//   - the usage reported by the MLNode is what MsgFinishInference records (never a character count).
// Plus the escrow arithmetic of the transfer agent.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace api::inference {

struct Usage {
  uint64_t prompt_tokens = 0;
  uint64_t completion_tokens = 0;
};

class CompletionRelay {
 public:
  explicit CompletionRelay(std::string inference_id) : id_(std::move(inference_id)) {}
  // A whole completion: rewrites the id, records the content and usage. False if it has no valid usage.
  bool whole(nlohmann::json& body);
  // One stream chunk (the JSON of a "data:" line): rewrites the id, appends delta content, records usage.
  void chunk(nlohmann::json& chunk);
  const std::optional<Usage>& usage() const { return usage_; }
  std::string response_hash() const;  // 32 raw bytes

 private:
  void take_usage(const nlohmann::json& j);
  std::string id_;
  std::string content_;
  std::optional<Usage> usage_;
};

// escrow = (prompt_tokens + max_tokens) × per_token_price; nullopt on 64-bit overflow.
std::optional<uint64_t> escrow_amount(uint64_t prompt_tokens, uint64_t max_tokens, uint64_t per_token_price);

}  // namespace api::inference
