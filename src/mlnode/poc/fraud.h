// The statistical fraud decision of PoC validation: honest recomputation mismatches a nonce with a small
// probability (float differences between machines); many mismatches are unlikely for an honest prover.
#pragma once

#include <cstdint>

namespace mlnode::poc {

inline constexpr double kProbabilityMismatch = 5e-4;  // per-nonce mismatch rate tolerated for honest provers
inline constexpr double kDefaultFraudThreshold = 1e-7;

// P[X >= n_invalid] for X ~ Binomial(n, p): the probability an honest prover shows this many mismatches.
// 1.0 when n == 0 or n_invalid == 0.
double probability_honest(uint64_t n, uint64_t n_invalid, double p = kProbabilityMismatch);

struct FraudDecision {
  double probability_honest = 1.0;
  bool fraud_detected = false;
};
FraudDecision decide_fraud(uint64_t n, uint64_t n_invalid, double fraud_threshold = kDefaultFraudThreshold,
                           double p = kProbabilityMismatch);

}  // namespace mlnode::poc
