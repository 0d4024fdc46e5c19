// The openai backend: forwards OpenAI-compatible requests to an upstream server (vLLM, llama.cpp server),
// optionally launching it on inference/up and waiting until its readiness route answers 200 (`/health` for
// vLLM; `/v1/models`, which every OpenAI-compatible server has, for llama.cpp's server).
// With `kind` llama_cpp (llama_cpp_upstream.h) the governance model id is resolved to a local GGUF file
// through `model_files`, the epoch's vLLM args are mapped to llama_cpp.server flags, and `enforced_str` is
// answered by a grammar-constrained greedy generation with logprobs (the builtin backend's contract: content
// = the text, logprobs.content = one entry per token). The client's body goes to the upstream unchanged, so
// every field the ML node does not use itself (n, stop, top_p, logit_bias, tools, ...) reaches it; the
// upstream enforces its own limits. A client that leaves (or /api/v1/stop) closes the upstream connection
// within ~50 ms, which makes the upstream abort the generation.
#pragma once

#include <atomic>
#include <chrono>
#include <map>
#include <mutex>

#include "mlnode/backends/backend.h"
#include "mlnode/backends/llama_cpp_upstream.h"
#include "mlnode/backends/upstream_process.h"
#include "mlnode/metrics.h"

namespace mlnode::backends {

enum class UpstreamKind { kVllm, kLlamaCpp };

struct OpenAiOptions {
  UpstreamKind kind = UpstreamKind::kVllm;
  // kLlamaCpp: governance model id -> local GGUF file (nothing is downloaded at run time); an id not listed
  // is refused by inference/up with 400.
  std::map<std::string, std::string> model_files;
  std::string upstream;  // base URL, e.g. http://127.0.0.1:8000
  std::string launch;    // optional command; gets "--model <id> <args...>" appended
  std::chrono::milliseconds ready_timeout{std::chrono::minutes(20)};
  std::chrono::milliseconds request_timeout{std::chrono::minutes(15)};
  std::string pid_file;  // where the launched upstream's process group is recorded (see upstream_process.h)
  std::chrono::milliseconds cancel_grace{
      1000};  // SIGTERM -> SIGKILL for an upstream whose load was cancelled
};

class OpenAiBackend : public InferenceBackend {
 public:
  OpenAiBackend(OpenAiOptions options, Metrics& metrics);
  std::string name() const override {
    return options_.kind == UpstreamKind::kLlamaCpp ? "llama-cpp" : "openai";
  }
  common::Status up(const std::string& model, const std::vector<std::string>& args,
                    const Cancelled& cancelled) override;
  void down() override;
  bool healthy() override;
  std::optional<std::string> model() const override;
  void chat(const ChatRequest& request, const std::string& raw_body, net::ResponseWriter& out,
            const Cancelled& cancelled) override;
  net::Response tokenize(const TokenizeRequest& request, const std::string& raw_body) override;
  net::Response models() override;

 private:
  common::Result<int64_t> llama_cpp_prompt_tokens(const std::string& body, const Cancelled& cancelled);
  common::Status start_llama_cpp(const std::string& model, const std::vector<std::string>& args);
  const OpenAiOptions options_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  std::optional<std::string> model_;
  UpstreamProcess process_;
  std::atomic<int64_t> max_model_len_{kLlamaCppDefaultContext};  // llama-cpp: the n_ctx it was launched with
};

}  // namespace mlnode::backends
