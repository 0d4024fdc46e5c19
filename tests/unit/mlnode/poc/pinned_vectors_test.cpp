// Pinned PoC reference values (issue 14, fault 9). Validators of one MLNode version recompute the distances
// that provers of another version claimed; if an engine change moved these numbers, honest nodes would be
// judged fraudulent in the middle of an upgrade. Changing any value here is a consensus change for MLNode
// versions (src/mlnode/README.md): it needs a new MLNode version, switched by a partial upgrade, never a
// silent edit.
#include <gtest/gtest.h>

#include <cstdint>
#include <iomanip>
#include <string>
#include <vector>

#include "mlnode/poc/compute.h"

namespace mlnode::poc {
namespace {

struct Pinned {
  std::string block_hash;
  std::string public_key;
  uint64_t nonce;
  double distance;
};

// 1e-9 absorbs summation-order differences of vector units (SSE vs AVX builds) and is far below
// dist_tolerance (1e-4).
constexpr double kTolerance = 1e-9;

ModelParams small_params() {
  ModelParams p;
  p.dim = 32;
  p.n_layers = 2;
  p.n_heads = 4;
  p.ffn_dim = 64;
  p.vocab_size = 128;
  p.seq_len = 4;
  return p;
}

void expect_pinned(const ModelParams& params, const std::vector<Pinned>& table) {
  for (const auto& block_hash : {table.front().block_hash, table.back().block_hash}) {
    const PocCompute compute(block_hash, params);
    for (const auto& p : table) {
      if (p.block_hash != block_hash) continue;
      const double d = compute.distance(p.public_key, p.nonce);
      EXPECT_NEAR(d, p.distance, kTolerance) << std::setprecision(17) << "(" << p.block_hash << ", "
                                             << p.public_key << ", " << p.nonce << ") -> " << d;
    }
  }
}

TEST(PocPinnedVectors, DefaultParams) {
  const std::string h = "0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9";
  expect_pinned(ModelParams{}, {
                                   {h, "02pubkeyA", 0, 1.3913193471149927},
                                   {h, "02pubkeyA", 1, 1.4309446069536367},
                                   {h, "02pubkeyA", 12345678901ull, 1.4394369474532598},
                                   {h, "03pubkeyB", 1, 1.4139557883342191},
                                   {"F00DBABE", "02pubkeyA", 7, 1.379228481006447},
                                   {"F00DBABE", "02pubkeyA", 18446744073709551615ull, 1.4142320012357836},
                               });
}

TEST(PocPinnedVectors, SmallParams) {
  expect_pinned(small_params(), {
                                    {"ABC123", "02pk", 0, 1.4118786615569876},
                                    {"ABC123", "02pk", 1, 1.4671246727910361},
                                    {"ABC123", "02pk", 2, 1.3509585987464729},
                                    {"ABC123", "03other", 2, 1.3153845168846781},
                                    {"DEF456", "02pk", 99, 1.3984619157594163},
                                    {"DEF456", "02pk", 1000000, 1.4116591115180142},
                                });
}

}  // namespace
}  // namespace mlnode::poc
