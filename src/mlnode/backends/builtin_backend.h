// The builtin backend: deterministic completions (builtin_generator.h) paced like a GPU under load —
// a time to first token, then a fixed number of tokens per second — streamed as SSE or returned whole.
// It honours what a deterministic generator can (`stop`, `n`, `seed`, `temperature`, `logprobs`,
// `enforced_str`, `max_tokens`), accepts the rest only at values that change nothing (`top_p` 1, penalties 0,
// empty `logit_bias`, `response_format` text, no `tools`; `user` is metadata) and refuses everything else
// with a 400 naming the field. Limits it advertises (/tokenize, /v1/models: max_model_len) are enforced:
// prompt + max_tokens (or the enforced text) must fit kMaxModelLen tokens, else 400 with code
// context_length_exceeded.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <mutex>

#include "mlnode/backends/backend.h"
#include "mlnode/metrics.h"

namespace mlnode::backends {

struct BuiltinOptions {
  double tokens_per_second = 0;  // 0 = no pacing
  std::chrono::milliseconds time_to_first_token{0};
  std::chrono::milliseconds load_time{0};  // how long inference/up takes
  unsigned batch_slots =
      0;  // completions generated at once (like a GPU's batch); more wait in line. 0 = no limit
};

inline constexpr int64_t kMaxModelLen = 32768;

// 400 naming the first field the builtin backend cannot honour, or naming the context limit that is exceeded.
common::Status check_builtin_request(const ChatRequest& request);

class BuiltinBackend : public InferenceBackend {
 public:
  BuiltinBackend(BuiltinOptions options, Metrics& metrics);
  std::string name() const override { return "builtin"; }
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
  std::string next_id();
  bool acquire_slot(const Cancelled& cancelled);  // false when cancelled while waiting
  void release_slot();
  const BuiltinOptions options_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  std::optional<std::string> model_;
  std::atomic<uint64_t> counter_{0};
  std::mutex slots_mu_;
  std::condition_variable slots_cv_;
  unsigned slots_used_ = 0;
};

}  // namespace mlnode::backends
