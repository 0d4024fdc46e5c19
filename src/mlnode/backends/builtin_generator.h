// Deterministic text for the builtin backend: the same model, prompt, seed, temperature and choice index
// always give the same tokens and log-probabilities. The draw depends on `seed` and `temperature`;
// temperature 0 is greedy (one answer whatever the seed, so all `n` choices are equal); choice i > 0 of `n`
// draws from its own stream. `stop` sequences end the text before their first occurrence (finish_reason
// "stop"). With `enforced_str` the output is exactly that text (how validators re-score a completion); `stop`
// does not apply to it.
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

Generation generate(const ChatRequest& request, int64_t choice_index = 0);
// Cuts `g` before the first occurrence of any of `stop` in its text (a token straddling the cut is
// shortened); finish_reason becomes "stop" when something was cut.
void apply_stop(Generation& g, const std::vector<std::string>& stop);

}  // namespace mlnode::backends
