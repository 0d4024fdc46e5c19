// Size of the PoC network. Small by default so a CPU computes hundreds of nonces per second per core;
// every field can be set in the `params` object of pow/init requests.
#pragma once

#include <cstdint>
#include <string>

#include <nlohmann/json_fwd.hpp>

#include "common/result.h"

namespace mlnode::poc {

struct ModelParams {
  int dim = 128;          // width of the residual stream
  int n_layers = 4;       // transformer blocks
  int n_heads = 4;        // attention heads (dim must be a multiple)
  int ffn_dim = 256;      // hidden size of the gated feed-forward
  int vocab_size = 1024;  // length of the output vector compared with the target
  int seq_len = 8;        // positions per nonce input; the last position's output is used
  double norm_eps = 1e-5;

  bool operator==(const ModelParams&) const = default;
};

// Missing fields keep their defaults; out-of-range values are rejected with a message naming the field and the range.
common::Result<ModelParams> parse_model_params(const nlohmann::json& j);
nlohmann::json to_json(const ModelParams& p);

}  // namespace mlnode::poc
