#include "mlnode/poc/compute.h"

#include <Eigen/Dense>
#include <cmath>
#include <limits>
#include <vector>

#include "mlnode/poc/seeded_rng.h"

namespace mlnode::poc {
namespace {

using Mat = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
using Vec = Eigen::VectorXf;
using RowVec = Eigen::Matrix<float, 1, Eigen::Dynamic>;

// Weight of shape [in, out] so that activations [seq, in] * W = [seq, out].
Mat seeded_matrix(const std::string& block_hash, const std::string& name, int in, int out) {
  SeededRng rng(block_hash + "_" + name);
  const double scale = 1.0 / std::sqrt(static_cast<double>(in));
  Mat m(in, out);
  for (int r = 0; r < in; ++r)
    for (int c = 0; c < out; ++c) m(r, c) = static_cast<float>(rng.standard_normal() * scale);
  return m;
}

RowVec seeded_norm(const std::string& block_hash, const std::string& name, int n) {
  SeededRng rng(block_hash + "_" + name);
  RowVec v(n);
  for (int i = 0; i < n; ++i) v(i) = static_cast<float>(1.0 + 0.1 * rng.standard_normal());
  return v;
}

void rms_norm_rows(Mat& x, const RowVec& weight, float eps) {
  for (Eigen::Index r = 0; r < x.rows(); ++r) {
    const float mean_sq = x.row(r).squaredNorm() / static_cast<float>(x.cols());
    x.row(r) *= 1.0f / std::sqrt(mean_sq + eps);
    x.row(r).array() *= weight.array();
  }
}

}  // namespace

struct PocCompute::Model {
  struct Layer {
    RowVec attention_norm, ffn_norm;
    Mat wq, wk, wv, wo, w1, w2, w3;
  };
  std::vector<Layer> layers;
  RowVec final_norm;
  Mat output;           // [dim, vocab]
  Eigen::VectorXd target;  // unit vector of length vocab
};

PocCompute::PocCompute(const std::string& block_hash, const ModelParams& params)
    : block_hash_(block_hash), params_(params), model_(std::make_unique<Model>()) {
  const int d = params.dim;
  for (int i = 0; i < params.n_layers; ++i) {
    const std::string p = "layers." + std::to_string(i) + ".";
    Model::Layer l;
    l.wq = seeded_matrix(block_hash, p + "attention.wq", d, d);
    l.wk = seeded_matrix(block_hash, p + "attention.wk", d, d);
    l.wv = seeded_matrix(block_hash, p + "attention.wv", d, d);
    l.wo = seeded_matrix(block_hash, p + "attention.wo", d, d);
    l.w1 = seeded_matrix(block_hash, p + "feed_forward.w1", d, params.ffn_dim);
    l.w2 = seeded_matrix(block_hash, p + "feed_forward.w2", params.ffn_dim, d);
    l.w3 = seeded_matrix(block_hash, p + "feed_forward.w3", d, params.ffn_dim);
    l.attention_norm = seeded_norm(block_hash, p + "attention_norm", d);
    l.ffn_norm = seeded_norm(block_hash, p + "ffn_norm", d);
    model_->layers.push_back(std::move(l));
  }
  model_->final_norm = seeded_norm(block_hash, "norm", d);
  model_->output = seeded_matrix(block_hash, "output", d, params.vocab_size);
  SeededRng target_rng(block_hash + "_target");
  model_->target.resize(params.vocab_size);
  for (int i = 0; i < params.vocab_size; ++i) model_->target(i) = target_rng.standard_normal();
  model_->target.normalize();
}

PocCompute::~PocCompute() = default;

double PocCompute::distance(const std::string& public_key, uint64_t nonce) const {
  const ModelParams& p = params_;
  const float eps = static_cast<float>(p.norm_eps);
  const int head_dim = p.dim / p.n_heads;
  const float inv_sqrt_hd = 1.0f / std::sqrt(static_cast<float>(head_dim));

  Mat x(p.seq_len, p.dim);
  {
    SeededRng rng(block_hash_ + "_" + public_key + "_nonce" + std::to_string(nonce));
    for (int r = 0; r < p.seq_len; ++r)
      for (int c = 0; c < p.dim; ++c) x(r, c) = static_cast<float>(rng.standard_normal());
  }

  Mat xn, q, k, v, attn(p.seq_len, p.dim), scores(p.seq_len, p.seq_len), gate, up;
  for (const auto& l : model_->layers) {
    xn = x;
    rms_norm_rows(xn, l.attention_norm, eps);
    q.noalias() = xn * l.wq;
    k.noalias() = xn * l.wk;
    v.noalias() = xn * l.wv;
    for (int h = 0; h < p.n_heads; ++h) {
      const int off = h * head_dim;
      scores.noalias() = q.middleCols(off, head_dim) * k.middleCols(off, head_dim).transpose();
      for (int r = 0; r < p.seq_len; ++r) {
        // causal softmax over positions 0..r
        float mx = -std::numeric_limits<float>::infinity();
        for (int c = 0; c <= r; ++c) mx = std::max(mx, scores(r, c) * inv_sqrt_hd);
        float sum = 0;
        for (int c = 0; c < p.seq_len; ++c) {
          const float e = c <= r ? std::exp(scores(r, c) * inv_sqrt_hd - mx) : 0.0f;
          scores(r, c) = e;
          sum += e;
        }
        scores.row(r) /= sum;
      }
      attn.middleCols(off, head_dim).noalias() = scores * v.middleCols(off, head_dim);
    }
    x.noalias() += attn * l.wo;

    xn = x;
    rms_norm_rows(xn, l.ffn_norm, eps);
    gate.noalias() = xn * l.w1;
    up.noalias() = xn * l.w3;
    gate = (gate.array() / (1.0f + (-gate.array()).exp())) * up.array();  // silu(w1 x) * w3 x
    x.noalias() += gate * l.w2;
  }

  Mat last = x.bottomRows(1);
  rms_norm_rows(last, model_->final_norm, eps);
  const RowVec logits = last * model_->output;

  // Per-nonce permutation of the output (Fisher-Yates), then unit length, then distance to the target in double.
  const int n = p.vocab_size;
  std::vector<int> perm(n);
  for (int i = 0; i < n; ++i) perm[i] = i;
  SeededRng perm_rng(block_hash_ + "_" + public_key + "_nonce_" + std::to_string(nonce) + "_permutations");
  for (int i = n - 1; i > 0; --i) std::swap(perm[i], perm[perm_rng.below(static_cast<uint64_t>(i) + 1)]);

  Eigen::VectorXd out(n);
  for (int i = 0; i < n; ++i) out(i) = static_cast<double>(logits(perm[i]));
  const double norm = out.norm();
  if (!(norm > 0) || !std::isfinite(norm)) return std::numeric_limits<double>::infinity();
  out /= norm;
  return (out - model_->target).norm();
}

}  // namespace mlnode::poc
