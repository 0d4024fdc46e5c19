// Deterministic text for the builtin backend: the same model, prompt and seed always give the same tokens and
// log-probabilities. With `enforced_str` the output is exactly that text (how validators re-score a completion).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "mlnode/backends/chat_request.h"

namespace mlnode::backends {

struct TokenLogprob {
  std::string token;
  double logprob = 0;
};

struct GeneratedToken {
  std::string text;
  double logprob = 0;
  std::vector<TokenLogprob> top;  // sorted by logprob, descending; empty unless requested
};

struct Generation {
  int64_t prompt_tokens = 0;
  std::vector<GeneratedToken> tokens;
  std::string finish_reason;  // "stop" or "length"
  std::string content() const;
};

inline constexpr int64_t kMinCompletionTokens = 16;
inline constexpr int64_t kMaxCompletionTokens = 64;

Generation generate(const ChatRequest& request);

}  // namespace mlnode::backends
