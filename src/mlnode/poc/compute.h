// One nonce -> one distance. The network (a small decoder: RMSNorm, causal multi-head attention, gated
// feed-forward, residuals) has weights drawn from a PRNG seeded by the block hash; a nonce's input is drawn
// from a PRNG seeded by (block hash, public key, nonce). The last position's output is permuted per nonce,
// normalised to unit length and compared with a unit target vector seeded by the block hash.
// Each nonce is computed on its own, so its distance never depends on batching or the number of threads.
#pragma once

#include <cstdint>
#include <memory>
#include <string>

#include "mlnode/poc/model_params.h"

namespace mlnode::poc {

class PocCompute {
 public:
  PocCompute(const std::string& block_hash, const ModelParams& params);
  ~PocCompute();
  PocCompute(const PocCompute&) = delete;
  PocCompute& operator=(const PocCompute&) = delete;

  // Thread-safe: the model is immutable after construction.
  double distance(const std::string& public_key, uint64_t nonce) const;

  const std::string& block_hash() const { return block_hash_; }
  const ModelParams& params() const { return params_; }

 private:
  struct Model;
  std::string block_hash_;
  ModelParams params_;
  std::unique_ptr<Model> model_;
};

}  // namespace mlnode::poc
