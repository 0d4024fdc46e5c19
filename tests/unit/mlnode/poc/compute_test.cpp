#include "mlnode/poc/compute.h"

#include <gtest/gtest.h>

#include <cmath>

#include "mlnode/poc/seeded_rng.h"

namespace mlnode::poc {
namespace {

ModelParams tiny() {
  ModelParams p;
  p.dim = 32;
  p.n_layers = 2;
  p.n_heads = 4;
  p.ffn_dim = 64;
  p.vocab_size = 128;
  p.seq_len = 4;
  return p;
}

TEST(SeededRng, SameSeedSameSequenceDifferentSeedDifferent) {
  SeededRng a("seed"), b("seed"), c("seed2");
  for (int i = 0; i < 10; ++i) {
    const auto x = a.next_u64();
    EXPECT_EQ(x, b.next_u64());
    EXPECT_NE(x, c.next_u64());
  }
}

TEST(SeededRng, StandardNormalHasUnitVariance) {
  SeededRng r("normal");
  double sum = 0, sum_sq = 0;
  const int n = 20000;
  for (int i = 0; i < n; ++i) {
    const double x = r.standard_normal();
    sum += x;
    sum_sq += x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.03);
  EXPECT_NEAR(sum_sq / n, 1.0, 0.05);
}

TEST(PocCompute, SameInputsGiveBitIdenticalDistances) {
  PocCompute a("ABCDEF01", tiny());
  PocCompute b("ABCDEF01", tiny());
  for (uint64_t nonce = 0; nonce < 20; ++nonce) {
    const double d = a.distance("02aa", nonce);
    EXPECT_TRUE(std::isfinite(d));
    EXPECT_GT(d, 0.0);
    EXPECT_LT(d, 2.0);  // distance between unit vectors
    EXPECT_EQ(d, b.distance("02aa", nonce)) << "nonce " << nonce;
    EXPECT_EQ(d, a.distance("02aa", nonce)) << "recomputation of nonce " << nonce;
  }
}

TEST(PocCompute, BlockHashPublicKeyAndNonceAllChangeTheDistance) {
  PocCompute a("ABCDEF01", tiny());
  PocCompute other_hash("ABCDEF02", tiny());
  int same_hash = 0, same_key = 0, same_nonce = 0;
  for (uint64_t nonce = 0; nonce < 20; ++nonce) {
    const double d = a.distance("02aa", nonce);
    same_hash += d == other_hash.distance("02aa", nonce);
    same_key += d == a.distance("02bb", nonce);
    same_nonce += d == a.distance("02aa", nonce + 1000);
  }
  EXPECT_EQ(same_hash, 0);
  EXPECT_EQ(same_key, 0);
  EXPECT_EQ(same_nonce, 0);
}

TEST(PocCompute, DistancesSpreadAroundSqrtTwoSoATargetUnderItKeepsSomeNonces) {
  PocCompute c("hash", tiny());
  int hits = 0;
  const int n = 200;
  for (uint64_t nonce = 0; nonce < n; ++nonce) hits += c.distance("pk", nonce) < 1.4013564660458173;
  EXPECT_GT(hits, n / 10);
  EXPECT_LT(hits, n * 9 / 10);
}

}  // namespace
}  // namespace mlnode::poc
