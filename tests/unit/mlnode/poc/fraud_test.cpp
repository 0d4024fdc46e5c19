#include "mlnode/poc/fraud.h"

#include <gtest/gtest.h>

namespace mlnode::poc {
namespace {

// Reference numbers: 200 samples, per-nonce mismatch probability 5e-4, threshold 1e-7.
TEST(Fraud, BinomialTailMatchesTheReferenceNumbersFor200Samples) {
  EXPECT_DOUBLE_EQ(probability_honest(200, 0), 1.0);
  EXPECT_NEAR(probability_honest(200, 1), 0.0952, 0.0001);
  EXPECT_NEAR(probability_honest(200, 2) / 4.66e-3, 1.0, 0.01);
  EXPECT_NEAR(probability_honest(200, 3) / 1.53e-4, 1.0, 0.01);
  EXPECT_NEAR(probability_honest(200, 4) / 3.74e-6, 1.0, 0.01);
  EXPECT_NEAR(probability_honest(200, 5) / 7.31e-8, 1.0, 0.01);
}

TEST(Fraud, FraudStartsAtFiveMismatchesOf200) {
  EXPECT_FALSE(decide_fraud(200, 4).fraud_detected);
  EXPECT_TRUE(decide_fraud(200, 5).fraud_detected);
}

TEST(Fraud, ThresholdsForOtherSampleSizes) {
  // n=100: fraud at k>=5; n=50: k>=4; n=1000: k>=8.
  EXPECT_FALSE(decide_fraud(100, 4).fraud_detected);
  EXPECT_TRUE(decide_fraud(100, 5).fraud_detected);
  EXPECT_FALSE(decide_fraud(50, 3).fraud_detected);
  EXPECT_TRUE(decide_fraud(50, 4).fraud_detected);
  EXPECT_FALSE(decide_fraud(1000, 7).fraud_detected);
  EXPECT_TRUE(decide_fraud(1000, 8).fraud_detected);
}

TEST(Fraud, EmptySampleIsHonest) {
  EXPECT_DOUBLE_EQ(probability_honest(0, 0), 1.0);
  EXPECT_FALSE(decide_fraud(0, 0).fraud_detected);
}

}  // namespace
}  // namespace mlnode::poc
