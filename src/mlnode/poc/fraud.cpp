#include "mlnode/poc/fraud.h"

#include <algorithm>
#include <cmath>

namespace mlnode::poc {

double probability_honest(uint64_t n, uint64_t n_invalid, double p) {
  if (n == 0 || n_invalid == 0) return 1.0;
  if (n_invalid > n) return 0.0;
  // Sum the upper tail directly (in log space per term) so tiny p-values keep their precision.
  const double nd = static_cast<double>(n);
  const double log_p = std::log(p), log_q = std::log1p(-p);
  double tail = 0.0;
  for (uint64_t i = n_invalid; i <= n; ++i) {
    const double id = static_cast<double>(i);
    const double log_term =
        std::lgamma(nd + 1) - std::lgamma(id + 1) - std::lgamma(nd - id + 1) + id * log_p + (nd - id) * log_q;
    const double term = std::exp(log_term);
    tail += term;
    if (i > n_invalid && term < tail * 1e-17) break;  // terms decrease fast beyond the mean
  }
  return std::min(1.0, tail);
}

FraudDecision decide_fraud(uint64_t n, uint64_t n_invalid, double fraud_threshold, double p) {
  FraudDecision d;
  d.probability_honest = probability_honest(n, n_invalid, p);
  d.fraud_detected = d.probability_honest < fraud_threshold;
  return d;
}

}  // namespace mlnode::poc
