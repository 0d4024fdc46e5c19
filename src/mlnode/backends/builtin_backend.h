// The builtin backend: deterministic completions (builtin_generator.h) paced like a GPU under load —
// a time to first token, then a fixed number of tokens per second — streamed as SSE or returned whole.
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
  unsigned batch_slots = 0;  // completions generated at once (like a GPU's batch); more wait in line. 0 = no limit
};

class BuiltinBackend : public InferenceBackend {
 public:
  BuiltinBackend(BuiltinOptions options, Metrics& metrics);
  std::string name() const override { return "builtin"; }
  common::Status up(const std::string& model, const std::vector<std::string>& args) override;
  void down() override;
  void cancel_up() override;
  bool healthy() override;
  std::optional<std::string> model() const override;
  void chat(const ChatRequest& request, const std::string& raw_body, net::ResponseWriter& out) override;
  net::Response tokenize(const TokenizeRequest& request, const std::string& raw_body) override;
  net::Response models() override;

 private:
  std::string next_id();
  void acquire_slot();
  void release_slot();
  const BuiltinOptions options_;
  Metrics& metrics_;
  mutable std::mutex mu_;
  std::optional<std::string> model_;
  std::condition_variable load_cv_;
  bool cancel_load_ = false;
  std::atomic<uint64_t> counter_{0};
  std::mutex slots_mu_;
  std::condition_variable slots_cv_;
  unsigned slots_used_ = 0;
};

inline constexpr int64_t kMaxModelLen = 32768;

}  // namespace mlnode::backends
