// OpenAI-compatible JSON shapes: chat.completion, chat.completion.chunk, usage and errors.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "mlnode/backends/builtin_generator.h"

namespace mlnode::backends {

nlohmann::json usage_object(int64_t prompt_tokens, int64_t completion_tokens);
nlohmann::json logprob_entry(const GeneratedToken& t);
// A chat.completion with one choice per generation (index = position); usage counts the prompt once.
nlohmann::json completion_object(const std::string& id, int64_t created, const std::string& model,
                                 const std::vector<Generation>& choices, bool with_logprobs);
// One streamed chunk with a single choice (`index`). `finish_reason` null unless given; `logprobs` null
// unless given.
nlohmann::json chunk_object(const std::string& id, int64_t created, const std::string& model,
                            const nlohmann::json& delta, const std::optional<std::string>& finish_reason,
                            const nlohmann::json& logprobs = nullptr, int64_t index = 0);
// The final usage chunk of a stream with stream_options.include_usage: empty choices.
nlohmann::json usage_chunk(const std::string& id, int64_t created, const std::string& model,
                           int64_t prompt_tokens, int64_t completion_tokens);
// {"error": {"message", "type", "param", "code"}} as OpenAI clients expect.
nlohmann::json openai_error(const std::string& message, const std::string& type, const std::string& code);

}  // namespace mlnode::backends
