// A small deterministic tokenizer used by the builtin backend, so that `usage` counts and /tokenize agree.
// Pieces: an optional single leading space followed by up to 8 letters/digits, or any other single character
// (a UTF-8 sequence counts as one character).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "mlnode/backends/chat_request.h"

namespace mlnode::backends {

std::vector<std::string> tokenize_text(std::string_view text);
uint32_t token_id(std::string_view piece);  // stable id in [0, kVocabSize)
inline constexpr uint32_t kVocabSize = 32000;

// The prompt as the model sees it: one "<|role|>\n content \n" block per message, then "<|assistant|>\n".
std::string render_chat(const std::vector<ChatMessage>& messages);

}  // namespace mlnode::backends
