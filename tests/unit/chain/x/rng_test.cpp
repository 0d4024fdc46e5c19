// Test vectors of docs/rng.md, computed independently with Python hashlib.
#include "chain/rng/rng.h"

#include <gtest/gtest.h>

#include "common/bytes.h"

using namespace chain;

TEST(ChainRng, SeedAndDrawsMatchTheDocumentedVectors) {
  std::string s = rng::seed("schedule/pre_poc_selection", "test-chain", 39, std::string(32, '\x42'));
  EXPECT_EQ(common::to_hex(s), "35fcb5de6bc26f1f005d76b717db8391186f1f4ca4cfbb75794f575f864e2e86");
  EXPECT_EQ(rng::draw(s, 0), 7597568962156702756ULL);
  EXPECT_EQ(rng::draw(s, 1), 9654952510284291388ULL);
  EXPECT_EQ(rng::draw(s, 2), 14894785692971597785ULL);
  EXPECT_EQ(rng::draw(s, 3), 16066011623083486051ULL);
  std::string empty = rng::seed("x", "", 0, "");
  EXPECT_EQ(common::to_hex(empty), "53c6ad016b7fe6539fed528e0441f2a17ca795f1370f035e1137acf5d5a2ec81");
  EXPECT_EQ(rng::draw(empty, 0), 8517087142753890534ULL);
}

TEST(ChainRng, WeightedIndexScansCumulativeWeightsWithDrawModTotal) {
  std::vector<uint64_t> w{10, 20, 30, 40};
  EXPECT_EQ(rng::weighted_index(w, 7597568962156702756ULL), 2u);   // r = 56
  EXPECT_EQ(rng::weighted_index(w, 9654952510284291388ULL), 3u);   // r = 88
  EXPECT_EQ(rng::weighted_index(w, 16066011623083486051ULL), 2u);  // r = 51
  EXPECT_EQ(rng::weighted_index(w, 0), 0u);
  EXPECT_EQ(rng::weighted_index(w, 9), 0u);
  EXPECT_EQ(rng::weighted_index(w, 10), 1u);
  EXPECT_EQ(rng::weighted_index({0, 5, 0}, 123), 1u);  // zero weights are never chosen
  EXPECT_EQ(rng::weighted_index({0, 0}, 7), rng::kNone);
  EXPECT_EQ(rng::weighted_index({}, 7), rng::kNone);
  EXPECT_EQ(rng::weighted_index({UINT64_MAX, UINT64_MAX}, UINT64_MAX), 1u);  // 128-bit total
}

TEST(ChainRng, StreamCountsDraws) {
  rng::Stream s(rng::seed("schedule/pre_poc_selection", "test-chain", 39, std::string(32, '\x42')));
  EXPECT_EQ(s.next(), 7597568962156702756ULL);
  EXPECT_EQ(s.next(), 9654952510284291388ULL);
  EXPECT_EQ(s.used(), 2u);
}
