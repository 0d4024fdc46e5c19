// llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`, package llama-cpp-python) as the openai
// backend's launched upstream: pure translations, no I/O.
//
// - Model args: the epoch model's args are written for vLLM (the seeds' inference engine). They are mapped to
//   llama_cpp.server flags where a flag means the same thing (`--max-model-len N` -> `--n_ctx N`, `--seed
//   N`), ignored where they only tune vLLM's GPU execution and do not change outputs (`--dtype`,
//   `--tensor-parallel-size`,
//   `--gpu-memory-utilization`, `--enforce-eager`, `--quantization`: the GGUF file fixes its own
//   quantization, ...), and refused otherwise (400 naming the flag), so an unknown flag never silently
//   changes what is served. llama_cpp.server's own flags `--n_ctx`, `--n_threads`, `--n_batch`, `--seed`,
//   `--chat_format` pass through.
// - `enforced_str` (inference validation: score a given output): llama.cpp has no forced-output mode, so the
//   request is rewritten to a greedy generation constrained by a GBNF grammar that accepts exactly that text
//   (then end of turn), with logprobs on. The server reports each token's log-probability from the model's
//   raw logits (before the grammar's mask), so the numbers are the model's own probabilities of the given
//   text under the same chat template as the original inference.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/result.h"

namespace mlnode::backends {

// llama_cpp.server's context size when no --n_ctx is given.
inline constexpr int64_t kLlamaCppDefaultContext = 2048;

struct LlamaCppServerArgs {
  std::vector<std::string> args;     // appended after `--model <file>`
  std::vector<std::string> ignored;  // vLLM-only flags that were dropped (logged by the caller)
};

// `model_id`: governance id, served as the model's alias (what /v1/models lists and responses name).
// `host`/`port`: where the server listens (from --upstream). Errors: 400 naming the refused or malformed arg.
common::Result<LlamaCppServerArgs> llama_cpp_server_args(const std::string& model_id, const std::string& host,
                                                         uint16_t port,
                                                         const std::vector<std::string>& model_args);

// A GBNF string literal matching exactly `text` (quotes, backslashes and control bytes escaped; UTF-8 kept).
std::string gbnf_literal(const std::string& text);

// The request body that scores `enforced_str` on llama_cpp.server: `enforced_str` removed, `grammar` added,
// temperature 0, n 1, no stop strings, logprobs on (top_logprobs kept), max_tokens = bytes of the text + 8 (a
// token is at least one byte). `raw` is the validated client body.
nlohmann::json llama_cpp_enforced_body(const nlohmann::json& raw, const std::string& enforced_str);

// Checks a non-streamed answer to that body: 200 with one choice whose content is exactly `enforced_str` and
// whose logprobs are present; otherwise a 502 error naming what differs.
common::Status check_llama_cpp_enforced_answer(const nlohmann::json& answer, const std::string& enforced_str);

// Stream usage (llama-cpp-python ignores stream_options.include_usage): counts the tokens of one streamed
// chat.completion.chunk's `data` into `tokens` — each chunk with non-empty delta text carries one token (a
// multi-byte character split over tokens arrives as one chunk and counts once) — and keeps the chunk's id,
// created and model for the usage chunk. Data that is not such a chunk changes nothing.
void count_llama_cpp_chunk(const std::string& data, int64_t& tokens, std::string& id, int64_t& created,
                           std::string& model);

}  // namespace mlnode::backends
