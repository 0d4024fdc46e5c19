#include "mlnode/poc/model_params.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

namespace mlnode::poc {
namespace {

constexpr double kMaxWeights = 64.0 * 1024 * 1024;  // 256 MB of float32

common::Status read_int(const nlohmann::json& j, const char* name, int lo, int hi, int& out) {
  if (!j.contains(name)) return {};
  const auto& v = j.at(name);
  if (!v.is_number_integer()) return common::make_error(400, fmt::format("params.{} must be an integer", name));
  const auto x = v.get<int64_t>();
  if (x < lo || x > hi) {
    return common::make_error(400, fmt::format("params.{} = {} is out of range [{}, {}]", name, x, lo, hi));
  }
  out = static_cast<int>(x);
  return {};
}

}  // namespace

common::Result<ModelParams> parse_model_params(const nlohmann::json& j) {
  ModelParams p;
  if (j.is_null()) return p;
  if (!j.is_object()) return common::make_error(400, "params must be a JSON object");
  TRY_STATUS(read_int(j, "dim", 8, 2048, p.dim));
  TRY_STATUS(read_int(j, "n_layers", 1, 64, p.n_layers));
  TRY_STATUS(read_int(j, "n_heads", 1, 64, p.n_heads));
  TRY_STATUS(read_int(j, "ffn_dim", 8, 16384, p.ffn_dim));
  TRY_STATUS(read_int(j, "vocab_size", 16, 65536, p.vocab_size));
  TRY_STATUS(read_int(j, "seq_len", 1, 256, p.seq_len));
  if (j.contains("norm_eps")) {
    const auto& v = j.at("norm_eps");
    if (!v.is_number() || v.get<double>() <= 0 || v.get<double>() > 1) {
      return common::make_error(400, "params.norm_eps must be a number in (0, 1]");
    }
    p.norm_eps = v.get<double>();
  }
  if (p.dim % p.n_heads != 0) {
    return common::make_error(400, fmt::format("params.dim ({}) must be a multiple of params.n_heads ({})", p.dim,
                                               p.n_heads));
  }
  const double weights = static_cast<double>(p.n_layers) * (4.0 * p.dim * p.dim + 3.0 * p.dim * p.ffn_dim) +
                         static_cast<double>(p.dim) * p.vocab_size;
  if (weights > kMaxWeights) {
    return common::make_error(400, fmt::format("params describe {:.0f} weights; the CPU engine accepts at most {:.0f} "
                                               "(lower dim, n_layers, ffn_dim or vocab_size)", weights, kMaxWeights));
  }
  return p;
}

nlohmann::json to_json(const ModelParams& p) {
  return {{"dim", p.dim},           {"n_layers", p.n_layers}, {"n_heads", p.n_heads},   {"ffn_dim", p.ffn_dim},
          {"vocab_size", p.vocab_size}, {"seq_len", p.seq_len}, {"norm_eps", p.norm_eps}};
}

}  // namespace mlnode::poc
